//! `--btf-features` and the `--no-*` / `--skip_encoding_btf_*` switches against pahole
//! 1.30 run with the same features on the same input: with each feature of pahole's
//! default set turned off in turn, btfgen's output and pahole's have no difference in
//! the canonical comparison (types, FUNCs with prototypes, tags on FUNCs, VARs,
//! DATASECs). Each case also checks that its fixture shows the feature: turning it
//! off changes btfgen's output. trixie's pahole 1.30 comes from scripts/trixie.sh.
//!
//! The kernel case (enum64, optimized_func, consistent_func and decl_tag_kfuncs off on
//! Debian 13's 6.12 kernel) needs the release binary for speed (`cargo test --release`).

use std::path::Path;
use std::process::Command;

use btfgen_tests::compare::Comparison;
use btfgen_tests::{
    btfgen, btfgen_ok, compile, pahole_default_without, read_canon, run_ok, trixie, Cc, Work,
};

/// trixie's pahole 1.30 with `--btf_features=LIST` (and `extra`), writing raw BTF.
fn pahole(input: &Path, out: &Path, list: &str, extra: &[&str]) {
    let mut cmd = Command::new(trixie().join("pahole"));
    cmd.arg(format!("--btf_features={list}"))
        .args(extra)
        .arg(format!("--btf_encode_detached={}", out.display()))
        .arg(input);
    run_ok(&mut cmd);
}

fn compare(expected: &Path, actual: &Path, label: &str) -> Comparison {
    let e = read_canon(expected, None).expect("expected BTF");
    let a = read_canon(actual, None).expect("actual BTF");
    Comparison::new(label, &e, "btfgen", &a)
}

/// One feature switched off: btfgen with `--btf-features LIST` equals pahole 1.30 with
/// `--btf_features=LIST`, where LIST is the default set less `off` (and less
/// `also_off`, for a feature another one hides); btfgen's `switch` (if any) writes
/// the same bytes as its list; and the output differs from the one with `off` on.
struct Case {
    off: &'static str,
    also_off: &'static [&'static str],
    switch: Option<&'static str>,
    cc: Cc,
    sources: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        off: "var",
        also_off: &[],
        switch: Some("--skip_encoding_btf_vars"),
        cc: Cc::Gcc,
        sources: &["percpu.c"],
    },
    Case {
        off: "float",
        also_off: &[],
        switch: Some("--no-float"),
        cc: Cc::Gcc,
        sources: &["scalars.c"],
    },
    Case {
        off: "enum64",
        also_off: &[],
        switch: Some("--skip_encoding_btf_enum64"),
        cc: Cc::Gcc,
        sources: &["enums.c"],
    },
    Case {
        off: "decl_tag",
        also_off: &[],
        switch: Some("--skip_encoding_btf_decl_tag"),
        cc: Cc::Clang,
        sources: &["tags.c"],
    },
    Case {
        off: "type_tag",
        also_off: &[],
        switch: Some("--no-type-tag"),
        cc: Cc::Clang,
        sources: &["tags.c"],
    },
    Case {
        off: "consistent_func",
        also_off: &[],
        switch: None,
        cc: Cc::Gcc,
        sources: &["funcs.c"],
    },
    // func_isra_candidate has only a clone's symbol, and consistent_func leaves it
    // out: optimized_func shows with consistent_func off.
    Case {
        off: "optimized_func",
        also_off: &["consistent_func"],
        switch: None,
        cc: Cc::Gcc,
        sources: &["funcs.c"],
    },
];

fn check(case: &Case) {
    let label = format!("{} off ({})", case.off, case.sources.join(" "));
    let w = compile(case.cc, 5, case.sources);
    let obj = w.obj.clone();
    let work = Work::new();
    let mut off = vec![case.off];
    off.extend(case.also_off);
    let list = pahole_default_without(&off);
    let on = pahole_default_without(case.also_off);

    let theirs = work.path("pahole.btf");
    pahole(&obj, &theirs, &list, &[]);
    let ours = work.path("btfgen.btf");
    let bytes = btfgen_ok(&obj, &ours, &["--btf-features", &list]);
    let c = compare(&theirs, &ours, &format!("pahole 1.30 {label}"));
    eprintln!("{label}:\n{c}");
    assert!(
        c.identical(),
        "{label}: btfgen differs from pahole 1.30\n{c}"
    );

    if let Some(switch) = case.switch {
        let via_switch = work.path("switch.btf");
        let mut args = vec![switch];
        if !case.also_off.is_empty() {
            args.extend(["--btf-features", &on]);
        }
        let b = btfgen_ok(&obj, &via_switch, &args);
        assert!(
            b == bytes,
            "{label}: {switch} writes other bytes than the list"
        );
    }

    let with = work.path("with.btf");
    btfgen_ok(&obj, &with, &["--btf-features", &on]);
    let shows = compare(&with, &ours, &label);
    assert!(
        !shows.identical(),
        "{label}: the fixture does not show the feature"
    );
}

#[test]
fn each_feature_off_equals_pahole_1_30() {
    for case in CASES {
        check(case);
    }
}

#[test]
fn default_list_and_no_list_are_pahole_1_30_default() {
    // The default set, asked for in three ways, is the output with no switch, and
    // pahole's `--btf_features=default` on a fixture where every feature but the
    // kernel's (var, kfuncs) shows.
    let w = compile(Cc::Clang, 5, &["tags.c", "enums.c", "scalars.c"]);
    let work = Work::new();
    let plain = btfgen_ok(&w.obj, &work.path("plain.btf"), &[]);
    for list in ["default", "+", &pahole_default_without(&[])] {
        let b = btfgen_ok(&w.obj, &work.path("list.btf"), &["--btf-features", list]);
        assert!(b == plain, "--btf-features {list:?} is not the default");
    }
    let theirs = work.path("pahole.btf");
    pahole(&w.obj, &theirs, "default", &[]);
    let c = compare(&theirs, &work.path("plain.btf"), "pahole 1.30 default");
    assert!(c.identical(), "default: differs from pahole 1.30\n{c}");
}

#[test]
fn unknown_features_are_refused_in_one_line() {
    let w = compile(Cc::Gcc, 5, &["enums.c"]);
    let work = Work::new();
    let out = work.path("out.btf");
    for (list, want) in [
        ("default,flaot", "unknown BTF feature 'flaot'"),
        ("+global_var", "'global_var' is not implemented by btfgen"),
        ("var,\x1b[2Jx", "unknown BTF feature 'x'"),
    ] {
        let o = btfgen([
            w.obj.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--btf-features".as_ref(),
            list.as_ref(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{list:?} accepted");
        assert_eq!(err.lines().count(), 1, "{list:?}: {err}");
        assert!(
            !err.contains('\x1b'),
            "{list:?}: raw control character: {err}"
        );
        assert!(err.contains("known: default,all,encode_force"), "{err}");
        if !list.contains('\x1b') {
            assert!(err.contains(want), "{list:?}: {err}");
        }
        assert!(!out.exists(), "{list:?}: an output was written");
    }
}

#[test]
fn kernel_without_enum64_kfunc_tags_and_function_rules_equals_pahole_1_30() {
    // What an older consumer of a 6.12 kernel's BTF gets: no kfunc tags, no ENUM64,
    // no clones and no consistency rule. Without optimized_func pahole 1.30 misses
    // 551 functions that have an exact symbol and a clone's (docs/encoding.md).
    let work = Work::new();
    let vmlinux = trixie().join("vmlinux");
    let list = pahole_default_without(&[
        "enum64",
        "optimized_func",
        "consistent_func",
        "decl_tag_kfuncs",
    ]);
    let theirs = work.path("pahole.btf");
    pahole(&vmlinux, &theirs, &list, &["-j2"]);
    let ours = work.path("btfgen.btf");
    btfgen_ok(&vmlinux, &ours, &["-j2", "--btf-features", &list]);
    let c = compare(
        &theirs,
        &ours,
        &format!("pahole 1.30 --btf_features={list}"),
    );
    eprintln!("6.12 {list}:\n{c}");
    assert!(c.identical(), "6.12 {list}: differs from pahole 1.30\n{c}");
    assert!(
        c.func_tags.1.is_empty(),
        "kfunc tags with decl_tag_kfuncs off"
    );
    assert!(c.func_entries.1 > 40_000, "{} FUNCs", c.func_entries.1);
    let canon = read_canon(&ours, None).expect("our BTF");
    let lines = canon.without_funcs();
    assert!(
        !lines.iter().any(|l| l.starts_with("ENUM64 ")),
        "ENUM64 with enum64 off"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ENUM ") && l.contains("size=8")),
        "no 8-byte ENUM with enum64 off"
    );
}
