//! Table-driven tests of the three CO-RE compatibility relations, in the style of
//! cilium/ebpf's `btf/core_test.go`: one BTF holds every type, a table lists
//! `(local, target, verdict)` by the labels below, one loop checks them. Verdicts
//! follow libbpf's documented rules (`bpf_core_fields_are_compat`,
//! `bpf_core_types_are_compat`, `bpf_core_types_match`).

use std::collections::HashMap;

use super::*;
use crate::btf::test_util::Builder;

/// Every type of the tables, by label.
fn types() -> (Btf, HashMap<&'static str, TypeId>) {
    let mut b = Builder::new();
    let mut t = HashMap::new();
    let int = b.int("int", 4);
    t.insert("int", int);
    t.insert("uint", b.uint("unsigned int", 4));
    t.insert("long", b.int("long", 8));
    t.insert("int as unsigned", b.uint("int", 4));
    t.insert("int of 8 bytes", b.int("int", 8));
    t.insert(
        "int at bit 1",
        b.add(
            "int",
            Kind::Int(crate::btf::Int {
                size: 4,
                encoding: INT_SIGNED,
                offset: 1,
                bits: 31,
            }),
        ),
    );
    t.insert("float", b.float("float", 4));
    t.insert("double", b.float("double", 8));
    t.insert("enum e", b.enm("e", &[("A", 0), ("B", 1)]));
    t.insert(
        "enum e___v1",
        b.enm("e___v1", &[("B", 7), ("A", 0), ("C", 2)]),
    );
    t.insert("enum e missing B", b.enm("e", &[("A", 0), ("C", 1)]));
    t.insert(
        "enum64 e",
        b.enum64("e", false, &[("A", 0), ("B", 1 << 40)]),
    );
    t.insert(
        "enum e 8 bytes",
        b.enum_sized("e", 8, false, &[("A", 0), ("B", 1)]),
    );
    t.insert("enum other", b.enm("other", &[("A", 0)]));
    t.insert("anon enum", b.enm("", &[("A", 0)]));
    let s = b.strukt("s", 4, &[("a", int, 0)]);
    t.insert("struct s", s);
    let long = t["long"];
    let s_long = b.strukt("s", 8, &[("a", long, 0)]);
    t.insert("struct s {long a}", s_long);
    t.insert(
        "struct s___v2 {long x; int a}",
        b.strukt("s___v2", 12, &[("x", long, 0), ("a", int, 64)]),
    );
    t.insert("struct s {int b}", b.strukt("s", 4, &[("b", int, 0)]));
    t.insert("struct other", b.strukt("other", 4, &[("a", int, 0)]));
    t.insert("anon struct", b.strukt("", 4, &[("a", int, 0)]));
    t.insert("union s", b.union("s", 4, &[("a", int, 0)]));
    t.insert("union u", b.union("u", 4, &[("a", int, 0)]));
    t.insert("fwd struct s", b.fwd("s", false));
    t.insert("fwd union s", b.fwd("s", true));
    for (label, to) in [
        ("*int", "int"),
        ("*uint", "uint"),
        ("*long", "long"),
        ("*struct s", "struct s"),
        ("*struct s {long a}", "struct s {long a}"),
        ("*fwd struct s", "fwd struct s"),
        ("*fwd union s", "fwd union s"),
        ("*union s", "union s"),
        ("*void", ""),
    ] {
        let p = b.ptr(t.get(to).copied().unwrap_or(0));
        t.insert(label, p);
    }
    for (label, elem, n) in [
        ("int[4]", "int", 4),
        ("int[8]", "int", 8),
        ("long[4]", "long", 4),
        ("struct s[4]", "struct s", 4),
        ("*int[4]", "*int", 4),
    ] {
        let a = b.array(t[elem], int, n);
        t.insert(label, a);
    }
    let i4 = t["int[4]"];
    t.insert("int[2][4]", b.array(i4, int, 2));
    t.insert("int[3][4]", b.array(i4, int, 3));
    t.insert("typedef int", b.typedef("myint", int));
    t.insert("typedef long", b.typedef("mylong", long));
    let uint = t["uint"];
    let cu = b.konst(uint);
    t.insert("const uint", cu);
    t.insert("volatile typedef int", {
        let td = t["typedef int"];
        b.volatile(td)
    });
    let protos: &[(&str, &str, &[&str])] = &[
        ("int(int)", "int", &["int"]),
        ("long(int)", "long", &["int"]),
        ("void(int)", "", &["int"]),
        ("int(int, int)", "int", &["int", "int"]),
        ("int(struct s)", "int", &["struct s"]),
        ("int(typedef int)", "int", &["typedef int"]),
        ("int(*struct s)", "int", &["*struct s"]),
        ("int(*struct s {long a})", "int", &["*struct s {long a}"]),
    ];
    for &(label, ret, params) in protos {
        let params: Vec<(&str, TypeId)> = params.iter().map(|p| ("", t[p])).collect();
        let ret = t.get(ret).copied().unwrap_or(0);
        let p = b.func_proto(ret, &params);
        t.insert(label, p);
    }
    // Loops a valid BTF cannot have: an array of itself, a pointer to itself, a
    // const of itself.
    let next = b.btf().type_count();
    t.insert("array loop", b.array(next, int, 1));
    let next = b.btf().type_count();
    t.insert("pointer loop", b.ptr(next));
    let next = b.btf().type_count();
    t.insert("const loop", b.konst(next));
    (b.build(), t)
}

/// Runs `rel` on every `(local, target, want)` row; `want` is `None` for an error.
fn check(
    name: &str,
    rel: fn(&Btf, TypeId, &Btf, TypeId) -> Result<bool, CoreError>,
    rows: &[(&str, &str, Option<bool>)],
) {
    let (btf, t) = types();
    let id = |label: &str| {
        if label == "void" {
            0
        } else {
            *t.get(label).unwrap_or_else(|| panic!("no type {label}"))
        }
    };
    for &(l, r, want) in rows {
        let got = rel(&btf, id(l), &btf, id(r));
        assert_eq!(
            got.as_ref().ok().copied(),
            want,
            "{name}({l}, {r}) = {got:?}"
        );
    }
}

#[test]
fn essential_names_drop_the_flavor() {
    let cases: &[(&str, &str)] = &[
        ("task_struct", "task_struct"),
        ("task_struct___v1", "task_struct"),
        ("task_struct___", "task_struct___"),
        ("a___b___c", "a___b"),
        ("____x", "____x"),
        ("x____y", "x____y"),
        ("s___1", "s"),
        ("___v1", "___v1"),
        ("", ""),
    ];
    for &(name, want) in cases {
        assert_eq!(essential(name.as_bytes()), want.as_bytes(), "{name}");
    }
}

#[test]
fn kinds_compat_counts_enum_and_enum64_as_one() {
    let (btf, t) = types();
    let ty = |l: &str| btf.get(t[l]);
    let rows: &[(&str, &str, bool)] = &[
        ("enum e", "enum64 e", true),
        ("enum64 e", "enum e", true),
        ("int", "uint", true),
        ("int", "enum e", false),
        ("struct s", "union s", false),
        ("fwd struct s", "struct s", false),
        ("typedef int", "int", false),
    ];
    for &(a, b, want) in rows {
        assert_eq!(kinds_compat(ty(a), ty(b)), want, "{a} / {b}");
    }
    assert!(kinds_compat(None, None), "void / void");
    assert!(!kinds_compat(None, ty("int")), "void / int");
}

#[test]
fn fields_compat_scalars_and_enums() {
    check(
        "fields_compat",
        fields_compat,
        &[
            ("int", "uint", Some(true)),
            ("int", "long", Some(true)),
            ("int", "int at bit 1", Some(false)),
            ("int", "float", Some(false)),
            ("float", "double", Some(true)),
            ("int", "enum e", Some(false)),
            ("enum e", "enum64 e", Some(true)),
            ("enum e", "enum e___v1", Some(true)),
            ("enum e", "enum other", Some(false)),
            ("anon enum", "enum other", Some(true)),
            ("enum other", "anon enum", Some(true)),
            ("typedef int", "const uint", Some(true)),
            ("volatile typedef int", "long", Some(true)),
            ("void", "void", Some(false)),
            ("int", "void", Some(false)),
        ],
    );
}

#[test]
fn fields_compat_composites_pointers_arrays() {
    check(
        "fields_compat",
        fields_compat,
        &[
            // Any two structs or unions: the member path decides, not the type.
            ("struct s", "union u", Some(true)),
            ("struct s", "struct other", Some(true)),
            ("struct s", "int", Some(false)),
            ("fwd struct s", "fwd struct s", Some(true)),
            ("fwd struct s", "struct s", Some(false)),
            // Any two pointers.
            ("*int", "*struct s", Some(true)),
            ("*int", "long", Some(false)),
            ("int[4]", "long[4]", Some(true)),
            ("int[4]", "int[8]", Some(true)),
            ("int[4]", "struct s[4]", Some(false)),
            ("int[2][4]", "int[3][4]", Some(true)),
            ("*int[4]", "*int[4]", Some(true)),
            ("int(int)", "int(int)", Some(false)),
        ],
    );
}

#[test]
fn fields_compat_loops_are_errors() {
    check(
        "fields_compat",
        fields_compat,
        &[
            ("array loop", "array loop", None),
            ("const loop", "int", None),
            ("int", "const loop", None),
        ],
    );
}

#[test]
fn types_compat_scalars_enums_composites() {
    check(
        "types_compat",
        types_compat,
        &[
            // Sizes and signedness do not matter, bit offsets do.
            ("int", "uint", Some(true)),
            ("int", "long", Some(true)),
            ("int", "int at bit 1", Some(false)),
            ("enum e", "enum64 e", Some(true)),
            ("enum e", "enum other", Some(true)),
            ("struct s", "struct other", Some(true)),
            ("struct s", "union s", Some(false)),
            ("fwd struct s", "struct s", Some(false)),
            ("fwd struct s", "fwd union s", Some(true)),
            ("float", "double", Some(false)),
            ("void", "void", Some(true)),
        ],
    );
}

#[test]
fn types_compat_pointers_arrays_and_typedefs() {
    check(
        "types_compat",
        types_compat,
        &[
            ("*int", "*uint", Some(true)),
            ("*int", "*struct s", Some(false)),
            ("*void", "*void", Some(true)),
            ("*void", "*int", Some(false)),
            ("int[4]", "int[8]", Some(true)),
            ("int[4]", "struct s[4]", Some(false)),
            ("int[2][4]", "int[3][4]", Some(true)),
            // The kinds are compared before modifiers and typedefs are skipped.
            ("typedef int", "int", Some(false)),
            ("typedef int", "typedef long", Some(true)),
            ("const uint", "volatile typedef int", Some(false)),
        ],
    );
}

#[test]
fn types_compat_function_prototypes() {
    check(
        "types_compat",
        types_compat,
        &[
            ("int(int)", "long(int)", Some(true)),
            ("int(int)", "int(int, int)", Some(false)),
            ("int(int)", "int(struct s)", Some(false)),
            ("int(int)", "void(int)", Some(false)),
            ("void(int)", "void(int)", Some(true)),
            ("int(int)", "int(typedef int)", Some(true)),
        ],
    );
}

#[test]
fn types_compat_depth_and_loops() {
    check(
        "types_compat",
        types_compat,
        &[
            ("pointer loop", "pointer loop", None),
            ("const loop", "const loop", None),
        ],
    );
    // A chain of n pointers to int: n + 1 rounds of the loop, at most 32 allowed.
    for (n, want) in [(30, Some(true)), (31, Some(true)), (32, None), (40, None)] {
        let mut b = Builder::new();
        let mut id = b.int("int", 4);
        for _ in 0..n {
            id = b.ptr(id);
        }
        let btf = b.build();
        let got = types_compat(&btf, id, &btf, id);
        assert_eq!(got.as_ref().ok().copied(), want, "{n} pointers: {got:?}");
    }
}

#[test]
fn types_match_ints_and_enums() {
    check(
        "types_match",
        types_match,
        &[
            ("int", "int", Some(true)),
            // Names first, then size and signedness.
            ("int", "uint", Some(false)),
            ("int", "int as unsigned", Some(false)),
            ("int", "int of 8 bytes", Some(false)),
            ("enum e", "enum e___v1", Some(true)),
            ("enum e", "enum e missing B", Some(false)),
            ("enum e___v1", "enum e", Some(false)),
            ("enum e", "enum64 e", Some(false)),
            ("enum e 8 bytes", "enum64 e", Some(true)),
            ("enum e", "enum other", Some(false)),
        ],
    );
}

#[test]
fn types_match_composites() {
    check(
        "types_match",
        types_match,
        &[
            ("struct s", "struct s", Some(true)),
            // Members are found by name, in any order, among more.
            ("struct s", "struct s___v2 {long x; int a}", Some(true)),
            ("struct s", "struct s {long a}", Some(false)),
            ("struct s", "struct s {int b}", Some(false)),
            ("struct s___v2 {long x; int a}", "struct s", Some(false)),
            ("struct s", "union s", Some(false)),
            ("union s", "struct s", Some(false)),
            ("struct s", "struct other", Some(false)),
            // An anonymous target only matches an anonymous local.
            ("anon struct", "anon struct", Some(true)),
            ("struct s", "anon struct", Some(false)),
            ("anon struct", "struct s", Some(false)),
        ],
    );
}

#[test]
fn types_match_forward_declarations_behind_pointers() {
    check(
        "types_match",
        types_match,
        &[
            ("fwd struct s", "struct s", Some(false)),
            ("fwd struct s", "fwd struct s", Some(true)),
            ("fwd struct s", "fwd union s", Some(false)),
            ("*fwd struct s", "*struct s", Some(true)),
            ("*struct s", "*fwd struct s", Some(true)),
            ("*fwd union s", "*struct s", Some(false)),
            ("*fwd union s", "*union s", Some(true)),
            // Behind a pointer, members are not compared.
            ("*struct s", "*struct s {long a}", Some(true)),
            ("*int", "*uint", Some(false)),
        ],
    );
}

#[test]
fn types_match_arrays_and_prototypes() {
    check(
        "types_match",
        types_match,
        &[
            ("int[4]", "int[4]", Some(true)),
            ("int[4]", "int[8]", Some(false)),
            ("int[2][4]", "int[3][4]", Some(false)),
            ("int(int)", "int(int)", Some(true)),
            ("int(int)", "int(int, int)", Some(false)),
            ("int(int)", "long(int)", Some(false)),
            // Typedefs are skipped in parameters as everywhere.
            ("int(int)", "int(typedef int)", Some(true)),
            ("int(*struct s)", "int(*struct s {long a})", Some(true)),
        ],
    );
}

#[test]
fn types_match_depth_limit() {
    check(
        "types_match",
        types_match,
        &[("pointer loop", "pointer loop", None)],
    );
    // s0 { s1 m; }, s1 { s2 m; }, ...: each nesting is one level of the 32.
    for (n, want) in [(20, Some(true)), (31, Some(true)), (32, None), (40, None)] {
        let mut b = Builder::new();
        let mut id = b.int("int", 4);
        for i in 0..n {
            id = b.strukt(&format!("s{i}"), 4, &[("m", id, 0)]);
        }
        let btf = b.build();
        let got = types_match(&btf, id, &btf, id);
        assert_eq!(
            got.as_ref().ok().copied(),
            want,
            "{n} nested structs: {got:?}"
        );
    }
}

#[test]
fn skip_mods_errors_on_loops_and_bad_ids_only() {
    let mut b = Builder::new();
    let mut id = b.int("int", 4);
    let int = id;
    // 100 typedefs: far past MAX_RESOLVE_DEPTH, still no loop.
    for i in 0..100 {
        id = b.typedef(&format!("t{i}"), id);
    }
    let bad = b.konst(777);
    let next = b.btf().type_count();
    let looped = b.typedef("self", next);
    let btf = b.build();
    assert_eq!(skip_mods(&btf, id).map(|(id, _)| id), Ok(int));
    assert_eq!(
        skip_mods(&btf, 0).map(|(id, t)| (id, t.is_none())),
        Ok((0, true))
    );
    assert_eq!(
        skip_mods(&btf, bad).map(|(id, _)| id),
        Err(CoreError::BadTypeId(777))
    );
    assert_eq!(
        skip_mods(&btf, looped).map(|(id, _)| id),
        Err(CoreError::Invalid(format!(
            "type [{looped}] has a modifier loop"
        )))
    );
}

#[test]
fn core_size_is_the_kernel_pointer_size_and_an_error_without_size() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let p = b.ptr(int);
    let arr = b.array(p, int, 4);
    let fwd = b.fwd("opaque", false);
    let btf = b.build();
    assert_eq!(size_of(&btf, arr), Ok(32));
    assert_eq!(
        size_of(&btf, fwd),
        Err(CoreError::Invalid(format!("type [{fwd}] has no size")))
    );
}
