//! Output paths (issue #13, class 1): `-o` never destroys what is there. A device node
//! or FIFO is written through and stays what it was; a symbolic link stays a link and
//! its target gets the bytes; `-o -` is standard output; an output that is one of the
//! inputs is refused before anything is written. For encode, dump, min and `corepack
//! build` alike.
//!
//! Device nodes are made with mknod in the test's own temporary directory (c 1 3 is
//! the null device, c 1 7 the full one: Documentation/admin-guide/devices.txt), never
//! the real /dev nodes.

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btfgen_tests::{btfgen_bin, fixtures_dir};

use super::{corepack_bin, refused, Inputs};

/// The kernel's name in the BTF directory `corepack build` and `min` read.
const KERNEL: &str = "kd/debian/12/x86_64/6.1.0-1-amd64.btf";

/// One command that writes a file with `-o`.
struct Cmd {
    name: &'static str,
    bin: PathBuf,
    /// Its arguments but `-o OUT`.
    args: Vec<OsString>,
    /// The files it reads, each of which `-o` must not be.
    inputs: Vec<PathBuf>,
    /// What it writes to a new regular file.
    reference: Vec<u8>,
}

impl Cmd {
    fn run(&self, out: &Path) -> Output {
        Command::new(&self.bin)
            .args(&self.args)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    }

    /// Runs with `-o out` and requires success.
    #[track_caller]
    fn ok(&self, out: &Path) -> Output {
        let o = self.run(out);
        assert!(
            o.status.success(),
            "{} -o {}: {}",
            self.name,
            out.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }
}

/// The scratch inputs (copies: a broken refusal must not clobber fixtures/) and the
/// four commands, each run once to a regular file for its reference output.
fn commands() -> (Inputs, Vec<Cmd>) {
    let inp = Inputs::new();
    let copy = |from: PathBuf, name: &str| {
        let to = inp.path(name);
        fs::copy(from, &to).unwrap();
        to
    };
    let demo = copy(fixtures_dir().join("demo.o"), "demo.o");
    let bpf = copy(fixtures_dir().join("demo.bpf.o"), "demo.bpf.o");
    let kernel = inp.path(KERNEL);
    fs::create_dir_all(kernel.parent().unwrap()).unwrap();
    fs::copy(inp.path("demo.btf"), &kernel).unwrap();
    let (btf, base, split) = (
        inp.path("demo.btf"),
        inp.path("base.btf"),
        inp.path("split.btf"),
    );
    let os = |a: &[&OsStr]| a.iter().map(|s| s.to_os_string()).collect::<Vec<_>>();
    let table = [
        (
            "encode --base",
            btfgen_bin(),
            os(&[demo.as_ref(), "--base".as_ref(), base.as_ref()]),
            vec![demo.clone(), base.clone()],
        ),
        (
            "dump --format c",
            btfgen_bin(),
            os(&[
                "dump".as_ref(),
                split.as_ref(),
                "--base".as_ref(),
                base.as_ref(),
                "--format".as_ref(),
                "c".as_ref(),
            ]),
            vec![split.clone(), base.clone()],
        ),
        (
            "min",
            btfgen_bin(),
            os(&["min".as_ref(), "--btf".as_ref(), btf.as_ref(), bpf.as_ref()]),
            vec![btf.clone(), bpf.clone()],
        ),
        (
            "corepack build",
            corepack_bin(),
            os(&[
                "build".as_ref(),
                "--object".as_ref(),
                bpf.as_ref(),
                "--btf-dir".as_ref(),
                inp.path("kd").as_ref(),
            ]),
            vec![bpf.clone(), kernel.clone()],
        ),
    ];
    let cmds = table
        .into_iter()
        .map(|(name, bin, args, inputs)| {
            let mut c = Cmd {
                name,
                bin,
                args,
                inputs,
                reference: Vec::new(),
            };
            let out = inp.path("reference.out");
            c.ok(&out);
            c.reference = fs::read(&out).unwrap();
            assert!(!c.reference.is_empty(), "{name}: empty output");
            fs::remove_file(out).unwrap();
            c
        })
        .collect();
    (inp, cmds)
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Makes the character device `major:minor` at `path`; `Err` when not allowed.
fn mknod(path: &Path, major: u32, minor: u32) -> std::io::Result<()> {
    let dev = libc::makedev(major, minor);
    // SAFETY: a NUL-terminated path; mknod reads nothing else.
    let r = unsafe { libc::mknod(cstr(path).as_ptr(), libc::S_IFCHR | 0o666, dev) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Asserts `path` is still the character device `major:minor`.
#[track_caller]
fn still_device(what: &str, path: &Path, major: u32, minor: u32) {
    let m = fs::symlink_metadata(path).unwrap();
    assert!(m.file_type().is_char_device(), "{what}: replaced");
    assert_eq!(
        m.rdev(),
        libc::makedev(major, minor),
        "{what}: another node"
    );
}

#[test]
fn output_devices_are_written_through() {
    let (inp, cmds) = commands();
    let (null, full) = (inp.path("null"), inp.path("full"));
    if let Err(e) = mknod(&null, 1, 3).and_then(|()| mknod(&full, 1, 7)) {
        eprintln!("skipping: mknod (needs root or CAP_MKNOD): {e}");
        return;
    }
    for c in &cmds {
        c.ok(&null);
        still_device(&format!("{}: null", c.name), &null, 1, 3);
        let what = format!("{}: -o full", c.name);
        let o = c.run(&full);
        refused(&what, &o, None);
        // Writing the full device fails with ENOSPC (drivers/char/mem.c write_full).
        let err = String::from_utf8_lossy(&o.stderr);
        let want = format!("{}: write failed: No space left on device", full.display());
        assert!(err.contains(&want), "{what}: {err}");
        still_device(&what, &full, 1, 7);
    }
}

#[test]
fn output_fifo_is_written_through() {
    let (inp, cmds) = commands();
    let fifo = inp.path("fifo");
    // SAFETY: a NUL-terminated path.
    let r = unsafe { libc::mkfifo(cstr(&fifo).as_ptr(), 0o600) };
    assert_eq!(r, 0, "mkfifo: {}", std::io::Error::last_os_error());
    for c in &cmds {
        // The test holds a write end of its own while the command runs, so that the
        // reader's EOF comes when the test closes it: a command that replaced the FIFO
        // instead of opening it fails the comparison below rather than hanging.
        let read_end = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let keeper = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // SAFETY: an open descriptor; clears O_NONBLOCK so that reads wait.
        assert_eq!(
            unsafe { libc::fcntl(read_end.as_raw_fd(), libc::F_SETFL, 0) },
            0
        );
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut r = read_end;
            r.read_to_end(&mut got).unwrap();
            got
        });
        let o = c.run(&fifo);
        drop(keeper);
        let got = reader.join().unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            c.name,
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(got == c.reference, "{}: the reader got other bytes", c.name);
        let t = fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(t.is_fifo(), "{}: the FIFO was replaced", c.name);
    }
}

#[test]
fn output_symlink_stays_a_link() {
    let (inp, cmds) = commands();
    fs::create_dir(inp.path("real")).unwrap();
    let target = inp.path("real/target");
    let link = inp.path("link");
    std::os::unix::fs::symlink("real/target", &link).unwrap();
    for c in &cmds {
        // An existing target, then none (a dangling link creates its target).
        for existing in [true, false] {
            let what = format!("{}: existing target {existing}", c.name);
            if existing {
                fs::write(&target, b"old").unwrap();
            } else {
                let _ = fs::remove_file(&target);
            }
            c.ok(&link);
            assert_eq!(
                fs::read_link(&link).unwrap(),
                Path::new("real/target"),
                "{what}: the link changed"
            );
            assert!(fs::read(&target).unwrap() == c.reference, "{what}: content");
            // The temporary file was renamed in the target's directory, nothing left.
            let n = fs::read_dir(inp.path("real")).unwrap().count();
            assert_eq!(n, 1, "{what}: files left beside the target");
        }
    }
}

#[test]
fn output_dash_is_standard_output() {
    let (inp, cmds) = commands();
    for c in &cmds {
        let o = c.ok(Path::new("-"));
        assert!(o.stdout == c.reference, "{}: other bytes on stdout", c.name);
        assert!(!inp.path("-").exists(), "{}: wrote a file named -", c.name);
    }
    // With a directory of kernels min writes a directory: `-` cannot be one.
    let o = Command::new(btfgen_bin())
        .args(["min", "--btf"])
        .arg(inp.path("kd"))
        .arg(inp.path("demo.bpf.o"))
        .args(["-o", "-"])
        .output()
        .unwrap();
    refused("min --btf DIR -o -", &o, None);
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not standard output"), "{err}");
}

#[test]
fn output_that_is_an_input_is_refused() {
    let (inp, cmds) = commands();
    let link = inp.path("to-input");
    for c in &cmds {
        for input in &c.inputs {
            let before = fs::read(input).unwrap();
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink(input, &link).unwrap();
            for out in [input, &link] {
                let what = format!("{}: -o {}", c.name, out.display());
                let o = c.run(out);
                refused(&what, &o, None);
                let err = String::from_utf8_lossy(&o.stderr);
                let want = format!(
                    "{}: is the input {}; refusing to overwrite it",
                    out.display(),
                    input.display()
                );
                assert!(err.contains(&want), "{what}: {err}");
                assert!(fs::read(input).unwrap() == before, "{what}: input changed");
            }
        }
    }
    // min with a directory of kernels into that same directory.
    let kd = inp.path("kd");
    let before = fs::read(inp.path(KERNEL)).unwrap();
    let o = Command::new(btfgen_bin())
        .args(["min", "--btf"])
        .arg(&kd)
        .arg(inp.path("demo.bpf.o"))
        .arg("-o")
        .arg(&kd)
        .output()
        .unwrap();
    refused("min --btf DIR -o DIR", &o, None);
    assert!(fs::read(inp.path(KERNEL)).unwrap() == before);
}
