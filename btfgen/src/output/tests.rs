//! The output target chosen for each kind of path, the refusal of inputs, and the
//! writes. Devices and FIFOs need mknod/mkfifo (tests/hostile.rs makes them); here
//! their kind is given to [`OutputTarget::for_kind`] directly.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::{prepare, FileKind, Inputs, OutputError, OutputTarget};

/// A scratch directory: `file` (regular, "old"), `other` (regular, same bytes), `dir/`,
/// `dir/inner` (regular).
fn scratch() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("file"), b"old").unwrap();
    fs::write(t.path().join("other"), b"old").unwrap();
    fs::create_dir(t.path().join("dir")).unwrap();
    fs::write(t.path().join("dir/inner"), b"inner").unwrap();
    t
}

/// What [`OutputTarget::choose`] should give, paths relative to the scratch dir.
#[derive(Debug)]
enum Want {
    Stdout,
    Atomic(&'static str),
    NotWritable(&'static str),
    Inspect,
}

#[test]
fn choose_by_what_is_there() {
    let t = scratch();
    let d = t.path();
    // The canonical scratch dir: a resolved link names its target through it
    // (tempdir may itself lie under a link, e.g. /tmp on some systems).
    let real = fs::canonicalize(d).unwrap();
    symlink(d.join("file"), d.join("abs-link")).unwrap();
    symlink("dir/inner", d.join("rel-link")).unwrap();
    symlink("rel-link", d.join("chain")).unwrap();
    symlink("dir/new", d.join("dangling")).unwrap();
    symlink("dangling", d.join("dangling-chain")).unwrap();
    symlink("loop-b", d.join("loop-a")).unwrap();
    symlink("loop-a", d.join("loop-b")).unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
    let cases: &[(&str, Want)] = &[
        ("-", Want::Stdout),
        ("new", Want::Atomic("new")),
        ("file", Want::Atomic("file")),
        ("abs-link", Want::Atomic("file")),
        ("rel-link", Want::Atomic("dir/inner")),
        ("chain", Want::Atomic("dir/inner")),
        // A dangling link creates its target; the path is the link's directory
        // joined with the link's text, not canonicalized (the target is absent).
        ("dangling", Want::Atomic("dir/new")),
        ("dangling-chain", Want::Atomic("dir/new")),
        ("dir", Want::NotWritable("a directory")),
        ("sock", Want::NotWritable("a socket")),
        // The kernel refuses a loop with ELOOP, not ENOENT.
        ("loop-a", Want::Inspect),
    ];
    for (name, want) in cases {
        let path = if *name == "-" {
            PathBuf::from("-")
        } else {
            d.join(name)
        };
        let got = OutputTarget::choose(&path);
        match (want, &got) {
            (Want::Stdout, Ok(OutputTarget::Stdout)) => {}
            (Want::Atomic(to), Ok(OutputTarget::Atomic(p))) => {
                let linked = *to != *name && !to.ends_with("new");
                let base = if linked { &real } else { d };
                assert_eq!(p, &base.join(to), "{name}");
            }
            (Want::NotWritable(w), Err(OutputError::NotWritable { what, .. })) => {
                assert_eq!(what, w, "{name}")
            }
            (Want::Inspect, Err(OutputError::Inspect { .. })) => {}
            _ => panic!("{name}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn devices_and_fifos_are_written_through_by_the_name_given() {
    // /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]": only the name given can be opened.
    let p = Path::new("/some/dir/stdout");
    for kind in [FileKind::Device, FileKind::Fifo] {
        assert_eq!(
            OutputTarget::for_kind(p, kind).unwrap(),
            OutputTarget::WriteThrough(p.to_path_buf()),
            "{kind:?}"
        );
    }
}

#[test]
fn inputs_are_refused_by_inode() {
    let t = scratch();
    let d = t.path();
    symlink(d.join("file"), d.join("link")).unwrap();
    fs::hard_link(d.join("file"), d.join("hard")).unwrap();
    let inputs = Inputs::new([d.join("dir/inner"), d.join("file"), d.join("absent")]);
    // (output, the input it is)
    let cases: &[(&str, Option<&str>)] = &[
        ("file", Some("file")),
        ("link", Some("file")),
        ("hard", Some("file")),
        ("dir/../dir/inner", Some("dir/inner")),
        // Same bytes, another inode.
        ("other", None),
        ("new", None),
        ("-", None),
    ];
    for (name, want) in cases {
        let out = if *name == "-" {
            PathBuf::from("-")
        } else {
            d.join(name)
        };
        match (inputs.refuse(&out), want) {
            (Ok(()), None) => {}
            (Err(OutputError::IsInput { input, .. }), Some(w)) => {
                assert_eq!(input, d.join(w).display().to_string(), "{name}")
            }
            (got, _) => panic!("{name}: want {want:?}, got {got:?}"),
        }
    }
    // prepare refuses before choosing: the input is untouched.
    let err = prepare(&d.join("link"), &inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: is the input {}; refusing to overwrite it",
            d.join("link").display(),
            d.join("file").display()
        )
    );
    assert_eq!(fs::read(d.join("file")).unwrap(), b"old");
}

#[test]
fn a_link_stays_a_link_and_its_target_gets_the_bytes() {
    let t = scratch();
    let d = t.path();
    symlink("dir/inner", d.join("link")).unwrap();
    prepare(&d.join("link"), &Inputs::default())
        .unwrap()
        .write(b"new")
        .unwrap();
    assert!(fs::symlink_metadata(d.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(d.join("dir/inner")).unwrap(), b"new");
    // No temporary file left beside the target or the link.
    let mut names: Vec<_> = fs::read_dir(d.join("dir"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["inner"]);
}

#[test]
fn write_errors_name_the_path_and_step_once() {
    let t = scratch();
    let d = t.path();
    let cases = [
        (
            OutputTarget::Atomic(d.join("missing/out")),
            "cannot create a temporary file next to it",
        ),
        // Opening a directory for writing fails (EISDIR).
        (
            OutputTarget::WriteThrough(d.join("dir")),
            "cannot open it for writing",
        ),
    ];
    for (target, step) in cases {
        let e = target.write(b"x").unwrap_err();
        let path = target.path().unwrap().display().to_string();
        // The I/O error is the source, not repeated in the message.
        assert_eq!(e.to_string(), format!("{path}: {step}"));
        assert!(std::error::Error::source(&e).is_some(), "{path}");
    }
}
