//! `corepack trace`, the C example loader and `corepack select` on real other kernels:
//! scripts/qemu-e2e.sh boots Debian 12's own 6.1 cloud-amd64 and rt-amd64 kernels (their
//! task_struct layouts differ) in `qemu-system-x86_64 -accel tcg` with an initramfs
//! holding the tracer, the loader (examples/c-loader, linked statically with
//! libcorepack) and a bundle built by btfgen and `corepack build --tracer` from their
//! -dbg packages, each kernel's build-id recorded from btfgen's ELF output. The guests
//! claim to be Ubuntu 22.04 (/etc/os-release), and the bundle holds a decoy: an entry of
//! the cloud kernel's name under ubuntu 22.04 with another build-id and the rt kernel's
//! BTF. In each guest the tracer (with that bundle built into it), forced to the bundle,
//! must pick that kernel's entry by build-id and report a known exec with the pid, ppid,
//! uid, comm and filename the guest started it with; the loader must pick the same entry
//! by build-id and report for its own exec what the tracer reports; `corepack select`
//! must pick it too and write the same BTF as the loader and as `corepack select` on the
//! host; the guest's /sys/kernel/notes must hold the build-id btfgen recorded. The
//! control boots each kernel again with a bundle (given with --bundle) holding the other
//! kernel's BTF under its name: the tracer must then report wrong values. See
//! docs/qemu-e2e.md.
//!
//! Downloads (cached in ~/.cache/btfgen) the -dbg and -unsigned packages of both
//! kernels with `apt-get download`: about 1.2 GB the first time (the script then takes
//! about 115 s); warm, about a minute (docs/qemu-e2e.md has the figures).

use std::process::Command;

use btfgen_tests::{
    btfgen_bin, corepack_bin, require_tool, require_tool_from, workspace_lib, workspace_root,
};

#[test]
fn tracer_picks_the_booted_kernels_bundle_entry_in_qemu() {
    require_tool_from("qemu-system-x86_64", "qemu-system-x86");
    require_tool_from("busybox", "busybox-static");
    require_tool_from("cpio", "cpio");
    require_tool("gcc");
    require_tool_from("apt-get", "apt");
    require_tool_from("dpkg-deb", "dpkg");
    require_tool_from("readelf", "binutils");
    require_tool_from("clang", "clang");
    let script = workspace_root().join("scripts/qemu-e2e.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .env("BTFGEN_BIN", btfgen_bin())
        .env("COREPACK_BIN", corepack_bin())
        .env("LIBCOREPACK", workspace_lib("corepack-c", "libcorepack.a"))
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
        // "BUILD-ID <uname -r>: <hex> in the guest's /sys/kernel/notes = …"
        let line = |tag: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{tag} {uname}: ")))
                .unwrap_or_else(|| panic!("no {tag} line for {uname}\n{shown}"))
        };
        let id = line("BUILD-ID").split(' ').next().unwrap();
        assert!(
            id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{uname}: build-id {id}"
        );
        let matches = format!("build-id {id} matches");
        assert!(pass.contains(&matches), "the tracer: {pass}");
        let loader = line("LOADER");
        assert!(
            loader.starts_with(&format!("reason={matches}"))
                && loader.ends_with(" = the tracer's for that exec"),
            "the loader: {loader}"
        );
        let select = line("SELECT");
        assert!(
            select.starts_with(&format!(
                "corepack: bundle entry x86_64 {uname} (debian 12) build-id {id}: {matches}"
            )) && select.ends_with(" = the loader's = the host's"),
            "corepack select: {select}"
        );
        if flavor == "cloud-amd64" {
            // The decoy: the same arch and name, another build-id; the name and the
            // guest's os-release alone would choose it.
            let decoy = line("DECOY");
            assert!(
                decoy.contains(&format!(
                    "select --build-id none: corepack: bundle entry x86_64 {uname} (ubuntu 22.04) build-id "
                )) && !decoy.contains(id),
                "the decoy: {decoy}"
            );
        }
    }
    // The control: each kernel under the other's BTF gives wrong values.
    let controls = stdout.lines().filter(|l| l.starts_with("CONTROL ")).count();
    assert_eq!(controls, 2, "expected a CONTROL line per kernel\n{shown}");
    assert!(!stdout.contains("FAIL"), "{shown}");
}
