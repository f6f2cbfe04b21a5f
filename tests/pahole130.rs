//! pahole 1.30 as the oracle: what a kernel build writes today. Debian 13's kernels
//! carry the `.BTF` pahole 1.30 `--btf_features=default` writes (checked here byte for
//! byte), and trixie's pahole 1.30 runs on this machine through trixie's own loader
//! (scripts/trixie.sh fetches both). btfgen's default output must equal them with no
//! difference at all in the canonical comparison: types, FUNCs with their prototypes,
//! DECL_TAGs on FUNCs (the kfunc tags), VARs and DATASECs; on Debian 13's 6.12 kernel,
//! on Debian 12's 6.1 kernel and on one of its modules encoded with `--base`.
//!
//! They need the release binary for speed (run with `cargo test --release`).

use std::path::Path;
use std::process::Command;

use btfgen_tests::compare::Comparison;
use btfgen_tests::{btfgen_ok, read_btf, read_canon, run_ok, trixie, Work};

/// Runs trixie's pahole 1.30 with its default features (what kernel builds ask for
/// since 6.11: `--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,
/// optimized_func,consistent_func,decl_tag_kfuncs` is that list), writing raw BTF.
fn pahole(input: &Path, out: &Path, base: Option<&Path>) {
    let mut cmd = Command::new(trixie().join("pahole"));
    cmd.arg("--btf_features=default");
    if let Some(b) = base {
        cmd.arg("--btf_base").arg(b);
    }
    cmd.arg(format!("--btf_encode_detached={}", out.display()))
        .arg(input)
        .arg("-j2");
    run_ok(&mut cmd);
}

/// Compares, prints, and asserts that nothing differs; returns the comparison.
fn assert_identical(
    label: &str,
    expected: (&Path, Option<&Path>),
    actual: (&Path, Option<&Path>),
) -> Comparison {
    let e = read_canon(expected.0, expected.1).expect("reference BTF");
    let a = read_canon(actual.0, actual.1).expect("our BTF");
    let c = Comparison::new(label, &e, "btfgen", &a);
    eprintln!("{label}:\n{c}");
    assert!(c.identical(), "{label}: differences\n{c}");
    // Not vacuous: kernels and modules have FUNCs.
    assert!(!c.funcs.0.is_empty(), "{label}: no FUNCs");
    c
}

/// `module` encoded by btfgen on our vmlinux BTF and by pahole 1.30 on its own
/// (`bases`: ours, pahole's) have no difference.
fn module_equals_pahole(work: &Work, module: &Path, bases: (&Path, &Path), label: &str) {
    let (ours, theirs) = bases;
    let ours_m = work.path("module.btf");
    btfgen_ok(
        module,
        &ours_m,
        &["--base", ours.to_str().expect("utf-8 path")],
    );
    let theirs_m = work.path("module.pahole.btf");
    pahole(module, &theirs_m, Some(theirs));
    assert_identical(
        &format!("pahole 1.30 --btf_base ({label})"),
        (&theirs_m, Some(theirs)),
        (&ours_m, Some(ours)),
    );
}

#[test]
fn debian_13_kernel_equals_its_btf_and_pahole_1_30() {
    let work = Work::new();
    let vmlinux = trixie().join("vmlinux");
    let ours = work.path("vmlinux.btf");
    btfgen_ok(&vmlinux, &ours, &["-j2"]);
    let j1 = work.path("vmlinux-j1.btf");
    btfgen_ok(&vmlinux, &j1, &["-j1"]);
    assert!(
        std::fs::read(&ours).expect("read -j2 output") == std::fs::read(&j1).expect("read -j1"),
        "-j1 and -j2 outputs differ"
    );

    let theirs = work.path("pahole.btf");
    pahole(&vmlinux, &theirs, None);
    // The premise: Debian's build wrote exactly what pahole 1.30 writes.
    assert!(
        read_btf(&vmlinux).expect("Debian's .BTF") == read_btf(&theirs).expect("pahole's BTF"),
        "pahole 1.30 no longer writes Debian 13's .BTF"
    );
    assert_identical("Debian 13 .BTF", (&vmlinux, None), (&ours, None));
    let c = assert_identical("pahole 1.30", (&theirs, None), (&ours, None));
    // The kfunc tags are there (Debian 13's 6.12.117 has 132 `bpf_kfunc` tags; any
    // 6.12 has more than 100).
    let kfuncs = c
        .func_tags
        .1
        .iter()
        .filter(|l| l.contains("'bpf_kfunc'"))
        .count();
    assert!(kfuncs > 100, "{kfuncs} bpf_kfunc tags");

    let module = trixie().join("nf_conntrack.ko");
    module_equals_pahole(&work, &module, (&ours, &theirs), "nf_conntrack, 6.12");
}

#[test]
fn debian_12_kernel_and_module_equal_pahole_1_30() {
    let work = Work::new();
    let dir = btfgen_tests::debian_kernel("cloud-amd64");
    let vmlinux = dir.join("vmlinux");
    let ours = work.path("vmlinux.btf");
    btfgen_ok(&vmlinux, &ours, &["-j2"]);
    let theirs = work.path("pahole.btf");
    pahole(&vmlinux, &theirs, None);
    assert_identical("pahole 1.30 (6.1)", (&theirs, None), (&ours, None));

    let module = dir.join("nf_conntrack.ko");
    module_equals_pahole(&work, &module, (&ours, &theirs), "nf_conntrack, 6.1");
}
