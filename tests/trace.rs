//! `corepack trace` on this machine's kernel: the tracer forced to a bundle built from
//! this kernel's BTF (minimized) reports a known exec with the right pid, ppid, uid,
//! comm and filename, exactly as the run on the kernel's own BTF does. Also: the shipped
//! binary links neither gimli nor reqwest, a bundle without this kernel is a clear
//! error, and a blob whose checksum fails is refused.
//!
//! Needs root (bpf(), perf events) and tracefs, which the tests mount at
//! /sys/kernel/tracing when it is not mounted. Where bpf() is refused the tracer tests
//! print `skipping:` and pass.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use btfgen_tests::kernel::tracer_unavailable;
use btfgen_tests::links::linked_forbidden;
use btfgen_tests::{corepack_bin, os_ids, run_ok, Work};

const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

fn uname_r() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_string()
}

/// A bundle for the tracer built from this kernel's BTF listed as `uname` (in BTFHub's
/// layout under this machine's os-release names).
fn bundle_for(work: &Work, uname: &str) -> PathBuf {
    let (id, v) = os_ids();
    let dir = work
        .path("btf")
        .join(&id)
        .join(&v)
        .join(std::env::consts::ARCH);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(KERNEL_BTF, dir.join(format!("{uname}.btf"))).unwrap();
    let out = work.path(&format!("{uname}.corepack"));
    run_ok(
        Command::new(corepack_bin())
            .args(["build", "--tracer", "--btf-dir"])
            .arg(work.path("btf"))
            .arg("-o")
            .arg(&out),
    );
    out
}

/// A running tracer and the lines it prints.
struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: Vec<String>,
}

/// Starts `corepack trace -v --json ARGS` and waits for its ready line.
fn start(args: &[&str]) -> Running {
    let mut child = Command::new(corepack_bin())
        .args(["trace", "-v", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, stdout) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut stderr = Vec::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("tracer {args:?} exited ({status}) before attaching:\n{stderr:#?}");
        }
        let line = line.trim_end().to_string();
        let ready = line.starts_with("corepack: tracing sched_process_exec");
        stderr.push(line);
        if ready {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
    });
    Running {
        child,
        stdout,
        stderr,
    }
}

impl Running {
    /// Stops the tracer with SIGINT (Ctrl-C) and returns its exit status and events.
    fn stop(mut self) -> Vec<String> {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "tracer exited with {status} on SIGINT");
        self.stdout.try_iter().collect()
    }
}

/// The field `key` of a flat JSON object line (numbers and simple strings).
fn field(line: &str, key: &str) -> String {
    let pat = format!("\"{key}\":");
    let at = line
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + pat.len();
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix('"') {
        s[..s.find('"').unwrap()].to_string()
    } else {
        rest[..rest.find([',', '}']).unwrap()].to_string()
    }
}

/// A known program: a copy of /bin/true under a unique name, run as `uid`.
struct Probe {
    path: PathBuf,
    comm: String,
}

impl Probe {
    fn new(work: &Work) -> Probe {
        let comm = format!("cpk-{}", std::process::id());
        let path = work.path(&comm);
        std::fs::copy("/bin/true", &path).unwrap();
        // Readable and executable by the unprivileged uid it runs as.
        run_ok(Command::new("chmod").arg("755").arg(work.dir()).arg(&path));
        Probe { path, comm }
    }

    /// Runs it as `uid`; returns its pid.
    fn run(&self, uid: u32) -> u32 {
        let mut child = Command::new(&self.path).uid(uid).spawn().unwrap();
        let pid = child.id();
        assert!(child.wait().unwrap().success());
        pid
    }
}

/// Waits until the tracer has printed the probe's event; returns it.
fn event_of(r: &Running, probe: &Probe) -> String {
    let want = format!(
        "\"filename\":{}",
        btfgen::json::quote(&probe.path.to_string_lossy())
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(line) = r.stdout.recv_timeout(Duration::from_millis(200)) {
            if line.contains(&want) {
                return line;
            }
        }
    }
    panic!("no event for {} within 20 s", probe.path.display());
}

#[test]
fn bundle_and_kernel_btf_report_the_same_exec() {
    if let Some(why) = tracer_unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    let work = Work::new();
    let uname = uname_r();
    let bundle = bundle_for(&work, &uname);
    let bundle_arg = bundle.to_str().unwrap();

    let from_bundle = start(&["--bundle", bundle_arg, "--btf-source", "bundle"]);
    let from_kernel = start(&["--btf-source", "kernel"]);
    let chosen = &from_bundle.stderr[0];
    let (id, v) = os_ids();
    assert!(
        chosen.starts_with(&format!(
            "corepack: btf: bundle entry {} {uname} {id} {v} of {bundle_arg}",
            std::env::consts::ARCH
        )) && chosen.contains("forced by --btf-source bundle"),
        "{chosen}"
    );
    assert_eq!(
        from_kernel.stderr[0],
        format!("corepack: btf: kernel {KERNEL_BTF}: forced by --btf-source kernel")
    );

    let probe = Probe::new(&work);
    let uid = 65534;
    let pid = probe.run(uid);
    let a = event_of(&from_bundle, &probe);
    let b = event_of(&from_kernel, &probe);
    from_bundle.stop();
    from_kernel.stop();

    assert_eq!(a, b, "bundle BTF and kernel BTF disagree");
    assert_eq!(field(&a, "pid"), pid.to_string(), "{a}");
    assert_eq!(field(&a, "ppid"), std::process::id().to_string(), "{a}");
    assert_eq!(field(&a, "uid"), uid.to_string(), "{a}");
    assert_eq!(field(&a, "comm"), probe.comm, "{a}");
}

#[test]
fn count_ends_the_trace() {
    if let Some(why) = tracer_unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    let work = Work::new();
    let bundle = bundle_for(&work, &uname_r());
    let mut r = start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--btf-source",
        "bundle",
        "--count",
        "2",
    ]);
    let probe = Probe::new(&work);
    probe.run(0);
    probe.run(0);
    let status = r.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(r.stdout.iter().count(), 2);
}

/// `corepack trace --btf-source bundle --bundle BUNDLE`, which must fail: its stderr.
fn trace_refuses(bundle: &Path) -> String {
    let out = Command::new(corepack_bin())
        .args(["trace", "--btf-source", "bundle", "--bundle"])
        .arg(bundle)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn bundle_without_this_kernel_names_the_nearest() {
    let work = Work::new();
    let err = trace_refuses(&bundle_for(&work, "5.4.0-1-fleet"));
    assert!(
        err.contains(&format!("no BTF for kernel {}", uname_r()))
            && err.contains("nearest: 5.4.0-1-fleet"),
        "{err}"
    );
}

#[test]
fn tampered_blob_is_refused() {
    let work = Work::new();
    let uname = uname_r();
    let bundle = bundle_for(&work, &uname);
    let mut bytes = std::fs::read(&bundle).unwrap();
    // The last byte belongs to the last blob; the manifest is intact.
    *bytes.last_mut().unwrap() ^= 0x40;
    std::fs::write(&bundle, &bytes).unwrap();
    let err = trace_refuses(&bundle);
    assert!(err.contains("checksum mismatch"), "{err}");
}

#[test]
fn shipped_binary_links_neither_gimli_nor_reqwest() {
    let hits = linked_forbidden(&corepack_bin(), "3aya");
    assert!(
        hits.is_empty(),
        "corepack links {:?}",
        &hits[..hits.len().min(5)]
    );
    // The check sees them where they are: the btfgen binary links both.
    let btfgen = linked_forbidden(&btfgen_tests::btfgen_bin(), "6btfgen");
    assert!(btfgen.iter().any(|n| n.contains("7reqwest")));
    assert!(btfgen.iter().any(|n| n.contains("6btfgen5dwarf")));
    assert!(btfgen.iter().any(|n| n.starts_with("_ZN5gimli")));
}
