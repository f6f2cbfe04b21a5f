//! A table of distilled bases, split BTFs on them and full bases to relocate onto, with
//! the relocated split BTF (as bpftool lists it) or the error libbpf's rules give.

use std::sync::Arc;

use super::{relocate, RelocateError};
use crate::btf::test_util::Builder;
use crate::btf::{distill, Btf};
use crate::dump::dump_text;

fn listing(btf: &Btf) -> String {
    let mut s = String::new();
    dump_text(btf, None, &mut s).expect("dump");
    s
}

/// The distilled base of every case: `[1] STRUCT 'task' size=16`, `[2] INT 'int'`,
/// `[3] ENUM 'e' size=8`, `[4] FWD 'sock'`.
fn distilled() -> Arc<Btf> {
    let mut b = Builder::new();
    b.strukt("task", 16, &[]);
    b.int("int", 4);
    b.enum_sized("e", 8, false, &[]);
    b.fwd("sock", false);
    Arc::new(b.build())
}

/// A split BTF on [`distilled`]: `[5] STRUCT 'm'` holding a `task` by value when
/// `embed`, else through a pointer, plus an int, an enum and a pointer to the FWD.
fn split(embed: bool) -> Btf {
    let mut b = Builder::split(distilled());
    let ptr = b.ptr(1); // 6
    let task = if embed { 1 } else { ptr };
    let psock = b.ptr(4); // 7
    b.strukt(
        "m",
        32,
        &[("t", task, 0), ("i", 2, 0), ("e", 3, 0), ("s", psock, 0)],
    ); // 8
    b.build()
}

type Base = fn(&mut Builder);

#[test]
fn relocate_table() {
    let ok = |s: &str| Ok::<String, RelocateError>(s.to_string());
    let cases: &[(&str, bool, Base, Result<String, RelocateError>)] = &[
        (
            "types found by name in another order; ids move by the count difference",
            true,
            |b| {
                b.int("char", 1);
                b.fwd("sock", false);
                b.enum64("e", false, &[("E", 1)]);
                b.strukt("task", 16, &[]);
                b.int("int", 4);
            },
            ok("[6] PTR '(anon)' type_id=4\n[7] PTR '(anon)' type_id=2\n\
                [8] STRUCT 'm' size=32 vlen=4\n\t't' type_id=4 bits_offset=0\n\
                \t'i' type_id=5 bits_offset=0\n\t'e' type_id=3 bits_offset=0\n\
                \t's' type_id=7 bits_offset=0\n"),
        ),
        (
            "an embedded struct must keep its size",
            true,
            |b| {
                b.strukt("task", 24, &[]);
                b.int("int", 4);
                b.enm("e", &[]);
                b.fwd("sock", false);
            },
            Err(RelocateError::Unmatched {
                name: "task".into(),
                id: 1,
            }),
        ),
        (
            "one only pointed to may change size (and ENUM64 is found as an 8-byte ENUM)",
            false,
            |b| {
                b.strukt("task", 24, &[]);
                b.int("int", 4);
                b.enum64("e", true, &[]);
                b.strukt("sock", 8, &[]);
            },
            ok("[5] PTR '(anon)' type_id=1\n[6] PTR '(anon)' type_id=4\n\
                [7] STRUCT 'm' size=32 vlen=4\n\t't' type_id=5 bits_offset=0\n\
                \t'i' type_id=2 bits_offset=0\n\t'e' type_id=3 bits_offset=0\n\
                \t's' type_id=6 bits_offset=0\n"),
        ),
        (
            "two aggregates of one name: the size picks",
            false,
            |b| {
                b.strukt("task", 8, &[]);
                b.strukt("task", 16, &[]);
                b.int("int", 4);
                b.enm("e", &[]);
                b.fwd("sock", false);
                b.enum64("e", false, &[]);
            },
            ok("[7] PTR '(anon)' type_id=2\n[8] PTR '(anon)' type_id=5\n\
                [9] STRUCT 'm' size=32 vlen=4\n\t't' type_id=7 bits_offset=0\n\
                \t'i' type_id=3 bits_offset=0\n\t'e' type_id=6 bits_offset=0\n\
                \t's' type_id=8 bits_offset=0\n"),
        ),
        (
            "two matches of one size are ambiguous",
            false,
            |b| {
                b.strukt("task", 16, &[]);
                b.union("task", 16, &[]);
            },
            Err(RelocateError::Ambiguous {
                name: "task".into(),
                id: 1,
                first: 1,
                second: 2,
            }),
        ),
        (
            "an INT must keep its encoding",
            false,
            |b| {
                b.strukt("task", 16, &[]);
                b.uint("int", 4);
                b.enum64("e", false, &[]);
                b.fwd("sock", false);
            },
            Err(RelocateError::Unmatched {
                name: "int".into(),
                id: 2,
            }),
        ),
        (
            "a FWD of a struct does not match a union FWD",
            false,
            |b| {
                b.strukt("task", 16, &[]);
                b.int("int", 4);
                b.enum64("e", false, &[]);
                b.fwd("sock", true);
            },
            Err(RelocateError::Unmatched {
                name: "sock".into(),
                id: 4,
            }),
        ),
    ];
    for (label, embed, build, want) in cases {
        let mut b = Builder::new();
        build(&mut b);
        let got = relocate(&split(*embed), Arc::new(b.build())).map(|r| listing(&r));
        assert_eq!(&got, want, "{label}");
    }
}

#[test]
fn split_names_move_onto_the_base_strings() {
    let mut b = Builder::new();
    b.int("char", 1);
    b.strukt("task", 16, &[]);
    b.int("int", 4);
    b.enum64("e", false, &[]);
    b.fwd("sock", false);
    let base = Arc::new(b.build());
    let r = relocate(&split(true), base.clone()).expect("relocate");
    assert_eq!(r.start_id(), base.type_count());
    assert!(r.strings().start() == base.strings_end());
    let m = r.types().last().expect("m");
    assert_eq!(r.name(m.name), "m");
}

#[test]
fn distilled_then_relocated_onto_its_own_base_is_the_original() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let task = b.strukt("task", 8, &[("pid", int, 0)]);
    let anon = b.union("", 4, &[("i", int, 0)]);
    let base = Arc::new(b.build());
    let mut s = Builder::split(base.clone());
    let p = s.ptr(task);
    s.strukt("m", 16, &[("t", task, 0), ("p", p, 64), ("u", anon, 96)]);
    let original = s.build();
    let d = distill(&original).expect("distill");
    let back = relocate(&d.split, base).expect("relocate");
    // The original's types in order, on the same base ids; the anonymous union it
    // held, copied into the split BTF, last.
    assert_eq!(
        listing(&original),
        "[4] PTR '(anon)' type_id=2\n[5] STRUCT 'm' size=16 vlen=3\n\
         \t't' type_id=2 bits_offset=0\n\t'p' type_id=4 bits_offset=64\n\
         \t'u' type_id=3 bits_offset=96\n"
    );
    assert_eq!(
        listing(&back),
        "[4] PTR '(anon)' type_id=2\n[5] STRUCT 'm' size=16 vlen=3\n\
         \t't' type_id=2 bits_offset=0\n\t'p' type_id=4 bits_offset=64\n\
         \t'u' type_id=6 bits_offset=96\n\
         [6] UNION '(anon)' size=4 vlen=1\n\t'i' type_id=1 bits_offset=0\n"
    );
}

#[test]
fn refusals() {
    assert_eq!(
        relocate(&Builder::new().build(), distilled()).unwrap_err(),
        RelocateError::NotSplit
    );
    let mut d = Builder::new();
    let int = d.int("int", 4);
    d.ptr(int);
    let s = Builder::split(Arc::new(d.build())).build();
    assert!(matches!(
        relocate(&s, distilled()),
        Err(RelocateError::BadDistilledType { id: 2, .. })
    ));
}
