//! A table of split BTFs on one base, with the distilled base and the renumbered split
//! BTF each must give (as bpftool lists them), after libbpf's `btf__distill_base` rules.

use std::sync::Arc;

use super::{distill, DistillError};
use crate::btf::linkage::VAR_STATIC;
use crate::btf::test_util::Builder;
use crate::btf::{Btf, TypeId};
use crate::dump::dump_text;

/// The base every case splits on: ids in the comments.
fn base() -> Arc<Btf> {
    let mut b = Builder::new();
    let int = b.int("int", 4); // 1
    let long = b.int("long", 8); // 2
    let task = b.strukt("task_struct", 16, &[("pid", int, 0), ("l", long, 64)]); // 3
    let ptr = b.ptr(task); // 4
    let anon = b.strukt("", 8, &[("x", long, 0)]); // 5
    b.typedef("pid_t", int); // 6
    b.enum64("big", false, &[("B", 1 << 40)]); // 7
    b.fwd("sock", false); // 8
    let proto = b.func_proto(int, &[("t", ptr)]); // 9
    b.func("f", proto); // 10
    b.enm("", &[("A", 1)]); // 11
    let _ = anon;
    Arc::new(b.build())
}

fn listing(btf: &Btf) -> String {
    let mut s = String::new();
    dump_text(btf, None, &mut s).expect("dump");
    s
}

type Split = fn(&mut Builder);

#[test]
fn distill_table() {
    let cases: &[(&str, Split, &str, &str)] = &[
        (
            "a pointer to a named struct: the struct memberless in the base, the pointer in the split",
            |b| {
                b.strukt("m", 8, &[("t", 4, 0)]);
            },
            "[1] STRUCT 'task_struct' size=16 vlen=0\n",
            "[2] STRUCT 'm' size=8 vlen=1\n\t't' type_id=3 bits_offset=0\n\
             [3] PTR '(anon)' type_id=1\n",
        ),
        (
            "an anonymous struct is copied whole, with what it refers to",
            |b| {
                b.strukt("m", 8, &[("a", 5, 0)]);
            },
            "[1] INT 'long' size=8 bits_offset=0 nr_bits=64 encoding=SIGNED\n",
            "[2] STRUCT 'm' size=8 vlen=1\n\t'a' type_id=3 bits_offset=0\n\
             [3] STRUCT '(anon)' size=8 vlen=1\n\t'x' type_id=1 bits_offset=0\n",
        ),
        (
            "typedef, enum64 (a sized ENUM), fwd, anonymous enum; split ids move down",
            |b| {
                let m = b.strukt("m", 8, &[("p", 6, 0), ("e", 7, 32), ("n", 11, 64)]);
                let p = b.ptr(m);
                b.strukt("n", 8, &[("s", 8, 0), ("self", p, 0)]);
            },
            "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
             [2] ENUM 'big' encoding=UNSIGNED size=8 vlen=0\n\
             [3] FWD 'sock' fwd_kind=struct\n",
            "[4] STRUCT 'm' size=8 vlen=3\n\t'p' type_id=7 bits_offset=0\n\
             \t'e' type_id=2 bits_offset=32\n\t'n' type_id=8 bits_offset=64\n\
             [5] PTR '(anon)' type_id=4\n\
             [6] STRUCT 'n' size=8 vlen=2\n\t's' type_id=3 bits_offset=0\n\
             \t'self' type_id=5 bits_offset=0\n\
             [7] TYPEDEF 'pid_t' type_id=1\n\
             [8] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=1\n\t'A' val=1\n",
        ),
        (
            "a prototype in the base is copied, its parameters followed",
            |b| {
                let p = b.ptr(9);
                b.var("v", p, VAR_STATIC);
            },
            "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
             [2] STRUCT 'task_struct' size=16 vlen=0\n",
            "[3] PTR '(anon)' type_id=6\n\
             [4] VAR 'v' type_id=3, linkage=static\n\
             [5] PTR '(anon)' type_id=2\n\
             [6] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1\n\t't' type_id=5\n",
        ),
    ];
    for (label, build, want_base, want_split) in cases {
        let mut b = Builder::split(base());
        build(&mut b);
        let d = distill(&b.build()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(listing(&d.base), *want_base, "{label}: base");
        assert_eq!(listing(&d.split), *want_split, "{label}: split");
    }
}

#[test]
fn refusals() {
    let mut b = Builder::split(base());
    b.decl_tag("tag", 10, -1);
    assert_eq!(
        distill(&b.build()).unwrap_err(),
        DistillError::UnexpectedRef {
            id: 10,
            kind: "FUNC"
        }
    );
    assert_eq!(distill(&base()).unwrap_err(), DistillError::NotSplit);
}

#[test]
fn split_names_reuse_the_distilled_base_strings() {
    let mut b = Builder::split(base());
    b.strukt("task_struct", 8, &[("t", 4 as TypeId, 0)]);
    let d = distill(&b.build()).expect("distill");
    let own = d.split.types()[0].name;
    assert!(
        own < d.split.strings().start(),
        "name in the base's strings"
    );
    assert_eq!(d.split.name(own), "task_struct");
}
