//! Distilled base BTF (`btfgen --base VMLINUX --distill --format elf`, pahole's
//! `--btf_features=distilled_base`) against its oracles:
//! - pahole 1.30 with `--btf_features=default,distilled_base --btf_base VMLINUX -J` on the
//!   same module writes the same `.BTF.base`, byte for byte, and the same `.BTF`
//!   (canonically, each on its own distilled base);
//! - libbpf 1.5 (trixie's, through trixie's loader) relocates our module onto the BTF
//!   of a different build of the same kernel and gets the same types as from
//!   pahole's module; and btfgen's own relocation (`btfgen dump MODULE --base OTHER`)
//!   gives what libbpf's does, id for id.
//!
//! The module is Debian 13's 6.12.117 `nf_conntrack.ko` on its vmlinux; the other build
//! is Debian 12's 6.12.118 backport: same series and config, another build, whose
//! aggregates embedded in the module have the same sizes. Onto another series (6.1)
//! libbpf refuses ("distilled base BTF type 'char' [2] is not mapped"), and so it does
//! onto another config of one build (6.1 cloud onto rt: the last test).
//!
//! They need the release binary for speed (run with `cargo test --release`).

use std::path::{Path, PathBuf};
use std::process::Command;

use btfgen_tests::compare::Comparison;
use btfgen_tests::{
    btfgen, btfgen_ok, elf_section, read_canon, require_tool, run_ok, trixie, workspace_root, Work,
};

/// Runs `bin` of trixie's prefix (or built against it) through trixie's loader.
fn trixie_command(bin: &Path) -> Command {
    let prefix = trixie().join("prefix");
    let mut cmd = Command::new(prefix.join("usr/lib64/ld-linux-x86-64.so.2"));
    cmd.arg("--library-path")
        .arg(prefix.join("usr/lib/x86_64-linux-gnu"))
        .arg(bin);
    cmd
}

/// tests/c/btf_relocate.c built against trixie's libbpf 1.5 headers and library.
fn libbpf_relocate_helper(work: &Work) -> PathBuf {
    let prefix = trixie().join("prefix");
    let lib = prefix.join("usr/lib/x86_64-linux-gnu");
    let out = work.path("btf_relocate");
    run_ok(
        Command::new(require_tool("gcc"))
            .arg("-I")
            .arg(prefix.join("usr/include"))
            .arg(workspace_root().join("tests/c/btf_relocate.c"))
            .arg("-o")
            .arg(&out)
            .arg(lib.join("libbpf.so.1"))
            // Trixie's libbpf wants a newer glibc than the system's; it runs on trixie's.
            .arg("-Wl,--allow-shlib-undefined")
            .arg(format!("-Wl,-rpath-link={}", lib.display())),
    );
    out
}

/// Writes `section` of the ELF file `elf` to `out`.
fn extract(elf: &Path, section: &str, out: &Path) -> Vec<u8> {
    let bytes = elf_section(elf, section).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
    std::fs::write(out, &bytes).expect("write section");
    bytes
}

fn assert_identical(label: &str, e: (&Path, Option<&Path>), a: (&Path, Option<&Path>)) {
    let e = read_canon(e.0, e.1).expect("reference BTF");
    let a = read_canon(a.0, a.1).expect("our BTF");
    let c = Comparison::new(label, &e, "btfgen", &a);
    eprintln!("{label}:\n{c}");
    assert!(c.identical(), "{label}: differences\n{c}");
    assert!(!c.funcs.0.is_empty(), "{label}: no FUNCs");
}

#[test]
fn module_distilled_as_pahole_1_30_and_relocated_as_libbpf_1_5() {
    let work = Work::new();
    let vmlinux = trixie().join("vmlinux");
    let module = trixie().join("nf_conntrack.ko");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_string();

    let ours = work.path("ours.ko");
    btfgen_ok(
        &module,
        &ours,
        &["--base", &path(&vmlinux), "--distill", "--format", "elf"],
    );
    // pahole's spelling of the same request gives the same file.
    let spelled = work.path("spelled.ko");
    let features = "--btf_features=default,distilled_base";
    btfgen_ok(
        &module,
        &spelled,
        &["--base", &path(&vmlinux), features, "--format", "elf"],
    );
    assert!(
        std::fs::read(&spelled).expect("read") == std::fs::read(&ours).expect("read"),
        "{features} differs from --distill"
    );
    let theirs = work.path("theirs.ko");
    std::fs::copy(&module, &theirs).expect("copy the module");
    run_ok(
        Command::new(trixie().join("pahole"))
            .arg("--btf_features=default,distilled_base")
            .arg("--btf_base")
            .arg(&vmlinux)
            .arg("-J")
            .arg(&theirs)
            .arg("-j2"),
    );

    // The distilled bases: the same bytes.
    let (ours_base, theirs_base) = (work.path("ours.base"), work.path("theirs.base"));
    let ob = extract(&ours, ".BTF.base", &ours_base);
    let tb = extract(&theirs, ".BTF.base", &theirs_base);
    assert!(ob == tb, ".BTF.base differs from pahole 1.30's");
    let (ours_split, theirs_split) = (work.path("ours.split"), work.path("theirs.split"));
    let os = extract(&ours, ".BTF", &ours_split);
    let ts = extract(&theirs, ".BTF", &theirs_split);
    assert_identical(
        "pahole 1.30 distilled_base .BTF (nf_conntrack, 6.12)",
        (&theirs_split, Some(&theirs_base)),
        (&ours_split, Some(&ours_base)),
    );
    // The same read straight from the two modules (each on its own .BTF.base).
    assert_identical(
        "pahole 1.30 distilled_base module (nf_conntrack, 6.12)",
        (&theirs, None),
        (&ours, None),
    );

    // The module's own types are encoded as pahole encodes them, in its order; so the
    // renumbered split BTF is pahole's byte for byte as well.
    assert!(os == ts, ".BTF differs from pahole 1.30's (in bytes only)");

    // libbpf 1.5 relocates both onto another build's BTF, with the same result.
    let other = btfgen_tests::debian_kernel_series("6.12", "cloud-amd64").join("vmlinux");
    let helper = libbpf_relocate_helper(&work);
    let relocated = |m: &Path, name: &str| {
        let out = work.path(name);
        run_ok(trixie_command(&helper).arg(&other).arg(m).arg(&out));
        out
    };
    let (ours_moved, theirs_moved) = (
        relocated(&ours, "ours.relocated"),
        relocated(&theirs, "theirs.relocated"),
    );
    assert_identical(
        "libbpf 1.5 relocation onto 6.12.118+deb12 (pahole's module vs ours)",
        (&theirs_moved, Some(&other)),
        (&ours_moved, Some(&other)),
    );
    assert!(
        std::fs::read(&ours_moved).expect("read") == std::fs::read(&theirs_moved).expect("read"),
        "libbpf's relocations of pahole's module and ours differ in bytes"
    );

    // btfgen's relocation is libbpf's, id for id; and the module reads without a base.
    let dump = |file: &Path| {
        let o = btfgen([
            "dump".as_ref(),
            file.as_os_str(),
            "--base".as_ref(),
            other.as_os_str(),
        ]);
        assert!(
            o.status.success(),
            "btfgen dump {}: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    };
    let ours_listing = dump(&ours);
    assert!(
        ours_listing == dump(&ours_moved),
        "btfgen's relocation differs from libbpf's"
    );
    assert!(ours_listing.len() > 10_000, "a real module's listing");
    let alone = btfgen(["dump".as_ref(), ours.as_os_str()]);
    assert!(
        alone.status.success(),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
}

#[test]
fn distill_refuses_raw_output_and_a_missing_base() {
    let work = Work::new();
    let module = trixie().join("nf_conntrack.ko");
    let vmlinux = trixie().join("vmlinux");
    let out = work.path("m.btf");
    let o = btfgen([
        module.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "--distill".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--format elf"), "{err}");
    assert!(!out.exists(), "no output written");
    let o = btfgen([
        module.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--distill".as_ref(),
    ]);
    assert!(!o.status.success(), "--distill without --base");
    assert!(!out.exists(), "no output written");
}

/// A harder move: Debian 12's 6.1 cloud module onto the rt build of the same source,
/// whose locks are larger. libbpf 1.5 refuses, naming the embedded `spinlock` whose
/// size changed; btfgen refuses the same way, naming the same type.
#[test]
fn relocation_onto_another_config_is_refused_as_libbpf_refuses() {
    let work = Work::new();
    let cloud = btfgen_tests::debian_kernel("cloud-amd64");
    let rt = btfgen_tests::debian_kernel("rt-amd64").join("vmlinux");
    let ours = work.path("ours.ko");
    let vmlinux = cloud.join("vmlinux");
    btfgen_ok(
        &cloud.join("nf_conntrack.ko"),
        &ours,
        &[
            "--base",
            vmlinux.to_str().expect("utf-8 path"),
            "--distill",
            "--format",
            "elf",
        ],
    );
    let helper = libbpf_relocate_helper(&work);
    let libbpf = trixie_command(&helper)
        .arg(&rt)
        .arg(&ours)
        .arg(work.path("moved"))
        .output()
        .expect("run the libbpf helper");
    let libbpf_err = String::from_utf8_lossy(&libbpf.stderr);
    assert!(
        !libbpf.status.success(),
        "libbpf relocated onto rt: {libbpf_err}"
    );
    assert!(
        libbpf_err.contains("distilled base BTF type 'spinlock'"),
        "{libbpf_err}"
    );
    let o = btfgen([
        "dump".as_ref(),
        ours.as_os_str(),
        "--base".as_ref(),
        rt.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "btfgen relocated onto rt");
    assert!(
        err.contains("distilled base type 'spinlock'") && err.lines().count() == 1,
        "{err}"
    );
}
