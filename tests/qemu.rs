//! `corepack trace` on real other kernels: scripts/qemu-e2e.sh boots Debian 12's own
//! 6.1 cloud-amd64 and rt-amd64 kernels (their task_struct layouts differ) in
//! `qemu-system-x86_64 -accel tcg` with an initramfs holding the tracer and a bundle
//! built by btfgen and `corepack build --tracer` from their -dbg packages. In each
//! guest the tracer (with that bundle built into it), forced to the bundle, must pick
//! that kernel's entry and report a known exec with the pid, ppid, uid, comm and
//! filename the guest started it with. The control boots each kernel again with a
//! bundle (given with --bundle) holding the other kernel's BTF under its name: the
//! tracer must then report wrong values. See docs/qemu-e2e.md.
//!
//! Downloads (cached in ~/.cache/btfgen) the -dbg and -unsigned packages of both
//! kernels with `apt-get download`: about 1.2 GB the first time (the script then takes
//! about 115 s); warm, about 40 s.

use std::process::Command;

use btfgen_tests::{btfgen_bin, corepack_bin, require_tool, require_tool_from, workspace_root};

#[test]
fn tracer_picks_the_booted_kernels_bundle_entry_in_qemu() {
    require_tool_from("qemu-system-x86_64", "qemu-system-x86");
    require_tool_from("busybox", "busybox-static");
    require_tool_from("cpio", "cpio");
    require_tool("gcc");
    require_tool_from("apt-get", "apt");
    require_tool_from("dpkg-deb", "dpkg");
    let script = workspace_root().join("scripts/qemu-e2e.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .env("BTFGEN_BIN", btfgen_bin())
        .env("COREPACK_BIN", corepack_bin())
        .env("FLAVORS", "cloud-amd64 rt-amd64")
        .env_remove("QEMU_E2E_STUB")
        .env_remove("CONTROL")
        .env_remove("KEEP_WORK")
        .env_remove("EMBED");
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let shown = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    eprintln!("{stdout}");
    assert!(
        o.status.success(),
        "{} failed ({})\n{shown}",
        script.display(),
        o.status
    );
    for flavor in ["cloud-amd64", "rt-amd64"] {
        // "PASS <uname -r>: qemu … s (…); corepack: btf: … bundle entry x86_64 <uname -r>
        // debian 12 …; event pid=… ppid=… uid=0 comm=… filename=…"
        let pass = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("PASS "))
            .find(|l| l.split(':').next().is_some_and(|u| u.ends_with(flavor)))
            .unwrap_or_else(|| panic!("no PASS line for the {flavor} kernel\n{shown}"));
        let uname = pass.split(':').next().unwrap();
        assert!(uname.starts_with("6.1."), "{pass}");
        assert!(
            pass.contains(&format!(
                "bundle entry x86_64 {uname} debian 12 of the embedded bundle"
            )),
            "the tracer did not report {uname}'s entry of its embedded bundle: {pass}"
        );
        assert!(pass.contains("; event pid="), "{pass}");
    }
    // The control: each kernel under the other's BTF gives wrong values.
    let controls = stdout.lines().filter(|l| l.starts_with("CONTROL ")).count();
    assert_eq!(controls, 2, "expected a CONTROL line per kernel\n{shown}");
    assert!(!stdout.contains("FAIL"), "{shown}");
}
