//! A table of type graphs with the verdict of [`check_reference_loops`]: the cycles C
//! allows (through a pointer and a struct or union) pass; a type holding itself by
//! value, or referring to itself without a struct or union, fails on the first type
//! of its cycle.

use std::sync::Arc;

use crate::btf::loops::check_reference_loops;
use crate::btf::test_util::Builder;
use crate::btf::{Array, Btf, Kind};

/// What the check must say: pass, or fail naming `id` with one of the two reasons.
enum Verdict {
    Pass,
    ByValue(u32),
    Untagged(u32),
}

/// A struct whose members are the given (possibly later) type ids.
fn strukt(b: &mut Builder, name: &str, members: &[u32]) -> u32 {
    let m: Vec<(&str, u32, u32)> = members.iter().map(|&t| ("m", t, 0)).collect();
    b.strukt(name, 8, &m)
}

fn array_of(elem: u32) -> Kind {
    Kind::Array(Array {
        elem,
        index: 0,
        nelems: 2,
    })
}

#[test]
fn graphs_and_their_verdicts() {
    use Verdict::*;
    type Make = fn(&mut Builder);
    let table: &[(&str, Make, Verdict)] = &[
        (
            "struct s { struct s *next; }",
            |b| {
                strukt(b, "s", &[2]);
                b.add("", Kind::Ptr(1));
            },
            Pass,
        ),
        (
            "typedef struct s *sp; struct s { sp next; }",
            |b| {
                strukt(b, "s", &[2]);
                b.add("sp", Kind::Typedef(3));
                b.add("", Kind::Ptr(1));
            },
            Pass,
        ),
        (
            "struct a { struct b *b; }; struct b { struct a *a; }",
            |b| {
                strukt(b, "a", &[3]);
                strukt(b, "b", &[4]);
                b.add("", Kind::Ptr(2));
                b.add("", Kind::Ptr(1));
            },
            Pass,
        ),
        (
            "struct a { struct b x; }; struct b { struct a *p; }",
            |b| {
                strukt(b, "a", &[2]);
                strukt(b, "b", &[3]);
                b.add("", Kind::Ptr(1));
            },
            Pass,
        ),
        (
            "union u { const union u *p; }",
            |b| {
                b.union("u", 8, &[("p", 2, 0)]);
                b.add("", Kind::Ptr(3));
                b.add("", Kind::Const(1));
            },
            Pass,
        ),
        (
            "struct s { void (*cb)(struct s *); }",
            |b| {
                strukt(b, "s", &[2]);
                b.ptr(3);
                b.func_proto(0, &[("s", 4)]);
                b.ptr(1);
            },
            Pass,
        ),
        (
            "struct s { struct s self; }",
            |b| {
                strukt(b, "s", &[1]);
            },
            ByValue(1),
        ),
        (
            "struct a { struct b x; }; struct b { struct a y; }",
            |b| {
                strukt(b, "a", &[2]);
                strukt(b, "b", &[1]);
            },
            ByValue(1),
        ),
        (
            "struct s { struct s arr[2]; }",
            |b| {
                strukt(b, "s", &[2]);
                b.add("", array_of(1));
            },
            ByValue(1),
        ),
        (
            "typedef t t",
            |b| {
                b.add("t", Kind::Typedef(1));
            },
            ByValue(1),
        ),
        (
            "typedef a b; typedef b a",
            |b| {
                b.add("b", Kind::Typedef(2));
                b.add("a", Kind::Typedef(1));
            },
            ByValue(1),
        ),
        (
            "const of a volatile of the const",
            |b| {
                b.int("int", 4);
                b.add("", Kind::Const(3));
                b.add("", Kind::Volatile(2));
            },
            ByValue(2),
        ),
        (
            "an array of itself",
            |b| {
                b.add("", array_of(1));
            },
            ByValue(1),
        ),
        (
            "a pointer to itself",
            |b| {
                b.add("", Kind::Ptr(1));
            },
            Untagged(1),
        ),
        (
            "ptr -> typedef -> ptr, no struct on the way",
            |b| {
                b.int("int", 4);
                b.add("", Kind::Ptr(3));
                b.add("t", Kind::Typedef(2));
            },
            Untagged(2),
        ),
        (
            "a prototype taking a pointer to itself",
            |b| {
                b.func_proto(0, &[("f", 2)]);
                b.ptr(1);
            },
            Untagged(1),
        ),
    ];
    for (what, make, verdict) in table {
        let mut b = Builder::new();
        make(&mut b);
        let got = check_reference_loops(&b.build()).map_err(|e| e.to_string());
        let want = match verdict {
            Pass => Ok(()),
            ByValue(id) => Err(format!(
                "invalid BTF type {id}: reference loop: holds itself without a pointer (no C type can)"
            )),
            Untagged(id) => Err(format!(
                "invalid BTF type {id}: reference loop: refers to itself without a struct or union (no C type can)"
            )),
        };
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn split_btf_is_checked_on_its_own_types_with_split_ids() {
    let mut b = Builder::new();
    b.int("int", 4);
    strukt(&mut b, "s", &[1]);
    let base = Arc::new(b.build());
    // Types on the base, no loop: pass.
    let mut ok = Builder::split(base.clone());
    let p = ok.ptr(2);
    strukt(&mut ok, "t", &[p, 1]);
    assert!(check_reference_loops(&ok.build()).is_ok());
    // A typedef of itself at id 3 (the split's first).
    let mut bad = Builder::split(base);
    bad.add("t", Kind::Typedef(3));
    let err = check_reference_loops(&bad.build()).expect_err("loop");
    assert!(err.to_string().starts_with("invalid BTF type 3: "), "{err}");
}

#[test]
fn an_empty_btf_has_no_loop() {
    assert!(check_reference_loops(&Btf::new()).is_ok());
}
