//! [`diff`] on pairs of small BTFs: each case is (BTF A, BTF B, what must be found),
//! worked out by hand from the C each BTF spells; then the text and JSON renderings
//! of one report.

use crate::btf::test_util::Builder;
use crate::btf::{Btf, INT_SIGNED};

use super::{diff, json, text, Change, Changed, DiffError, Field, Named, Report, TypeKind};

type Make = fn(&mut Builder);

/// The types every side starts with: `int` (1), `unsigned int` (2), `long` (3).
fn side(make: Make) -> Btf {
    let mut b = Builder::new();
    b.int("int", 4);
    b.uint("unsigned int", 4);
    b.int("long", 8);
    make(&mut b);
    b.build()
}

const INT: u32 = 1;
const UINT: u32 = 2;
const LONG: u32 = 3;

fn field(path: &str, bit_offset: u64, bits: u64, shape: &str) -> Field {
    Field {
        path: path.into(),
        bit_offset,
        bits,
        shape: shape.into(),
    }
}

/// A report as `kind name` labels and the changes of each changed type, ids left out.
type Findings = (Vec<String>, Vec<String>, Vec<(String, Vec<Change>)>);

fn findings(r: &Report) -> Findings {
    let label = |k: TypeKind, n: &str| format!("{} {n}", k.label());
    (
        r.removed.iter().map(|n| label(n.kind, &n.name)).collect(),
        r.added.iter().map(|n| label(n.kind, &n.name)).collect(),
        r.changed
            .iter()
            .map(|c| (label(c.kind, &c.name), c.changes.clone()))
            .collect(),
    )
}

/// Changes of a single changed type.
fn only(label: &str, changes: Vec<Change>) -> Findings {
    (vec![], vec![], vec![(label.into(), changes)])
}

#[test]
fn findings_for_each_kind_of_change() {
    let table: Vec<(&str, Make, Make, Findings)> = vec![
        (
            "no change",
            |b| {
                b.strukt("s", 4, &[("a", INT, 0)]);
            },
            |b| {
                b.strukt("s", 4, &[("a", INT, 0)]);
            },
            (vec![], vec![], vec![]),
        ),
        (
            "member added (and the struct grows)",
            |b| {
                b.strukt("s", 4, &[("a", INT, 0)]);
            },
            |b| {
                b.strukt("s", 8, &[("a", INT, 0), ("b", INT, 32)]);
            },
            only(
                "struct s",
                vec![
                    Change::Size { old: 4, new: 8 },
                    Change::MemberAdded(field("b", 32, 32, "int")),
                ],
            ),
        ),
        (
            "member removed",
            |b| {
                b.strukt("s", 16, &[("a", INT, 0), ("p", LONG, 64)]);
            },
            |b| {
                b.strukt("s", 16, &[("a", INT, 0)]);
            },
            only(
                "struct s",
                vec![Change::MemberRemoved(field("p", 64, 64, "long"))],
            ),
        ),
        (
            "member moved",
            |b| {
                b.strukt("s", 16, &[("a", INT, 0), ("b", INT, 32)]);
            },
            |b| {
                b.strukt("s", 16, &[("a", INT, 0), ("b", INT, 64)]);
            },
            only(
                "struct s",
                vec![Change::MemberMoved {
                    path: "b".into(),
                    old: 32,
                    new: 64,
                }],
            ),
        ),
        (
            "bitfield resized",
            |b| {
                b.strukt_bits("s", 4, &[("f", UINT, 0, 3)]);
            },
            |b| {
                b.strukt_bits("s", 4, &[("f", UINT, 0, 5)]);
            },
            only(
                "struct s",
                vec![Change::MemberResized {
                    path: "f".into(),
                    old: 3,
                    new: 5,
                }],
            ),
        ),
        (
            "member resized through a retargeted typedef",
            |b| {
                let t = b.typedef("word_t", INT); // 4
                b.strukt("s", 8, &[("w", t, 0)]);
            },
            |b| {
                let t = b.typedef("word_t", LONG);
                b.strukt("s", 8, &[("w", t, 0)]);
            },
            (
                vec![],
                vec![],
                vec![
                    (
                        "struct s".into(),
                        vec![Change::MemberResized {
                            path: "w".into(),
                            old: 32,
                            new: 64,
                        }],
                    ),
                    (
                        "typedef word_t".into(),
                        vec![Change::Retargeted {
                            old: "int".into(),
                            new: "long".into(),
                        }],
                    ),
                ],
            ),
        ),
        (
            "member retyped, same size",
            |b| {
                b.strukt("s", 4, &[("x", INT, 0)]);
            },
            |b| {
                b.strukt("s", 4, &[("x", UINT, 0)]);
            },
            only(
                "struct s",
                vec![Change::MemberRetyped {
                    path: "x".into(),
                    old: "int".into(),
                    new: "unsigned int".into(),
                }],
            ),
        ),
        (
            "member retyped to a pointer, which also resizes it",
            |b| {
                b.strukt("s", 8, &[("x", INT, 0)]);
            },
            |b| {
                let p = b.ptr(INT);
                b.strukt("s", 8, &[("x", p, 0)]);
            },
            only(
                "struct s",
                vec![
                    Change::MemberResized {
                        path: "x".into(),
                        old: 32,
                        new: 64,
                    },
                    Change::MemberRetyped {
                        path: "x".into(),
                        old: "int".into(),
                        new: "int *".into(),
                    },
                ],
            ),
        ),
        (
            "enumerators changed, removed and added",
            |b| {
                b.enm("e", &[("A", 0), ("B", 1), ("C", 2)]);
            },
            |b| {
                b.enm("e", &[("A", 0), ("B", 5), ("D", 3)]);
            },
            only(
                "enum e",
                vec![
                    Change::ValueChanged {
                        name: "B".into(),
                        old: 1,
                        new: 5,
                    },
                    Change::ValueRemoved {
                        name: "C".into(),
                        value: 2,
                    },
                    Change::ValueAdded {
                        name: "D".into(),
                        value: 3,
                    },
                ],
            ),
        ),
        (
            "an enum that becomes 64-bit",
            |b| {
                b.enm("e", &[("A", 1)]);
            },
            |b| {
                b.enum64("e", false, &[("A", 1)]);
            },
            only("enum e", vec![Change::Size { old: 4, new: 8 }]),
        ),
        (
            "typedef retargeted to a pointer",
            |b| {
                b.typedef("t", INT);
            },
            |b| {
                let s = b.strukt("file", 4, &[("f", INT, 0)]);
                let p = b.ptr(s);
                b.typedef("t", p);
            },
            (
                vec![],
                vec!["struct file".into()],
                vec![(
                    "typedef t".into(),
                    vec![Change::Retargeted {
                        old: "int".into(),
                        new: "struct file *".into(),
                    }],
                )],
            ),
        ),
        (
            "function prototype changed",
            |b| {
                let p = b.func_proto(INT, &[("a", INT)]);
                b.func("f", p);
            },
            |b| {
                let vp = b.ptr(0);
                let p = b.func_proto(INT, &[("a", LONG), ("", vp), ("", 0)]);
                b.func("f", p);
            },
            only(
                "func f",
                vec![Change::Prototype {
                    old: "int f(int a)".into(),
                    new: "int f(long a, void *, ...)".into(),
                }],
            ),
        ),
        (
            "a member of an anonymous union is found through its named parent",
            |b| {
                let u = b.union("", 8, &[("i", INT, 0)]);
                b.strukt("s", 8, &[("", u, 0)]);
            },
            |b| {
                let u = b.union("", 8, &[("i", INT, 0), ("l", LONG, 0)]);
                b.strukt("s", 8, &[("", u, 0)]);
            },
            only(
                "struct s",
                vec![Change::MemberAdded(field("l", 0, 64, "long"))],
            ),
        ),
        (
            "a member of a named member of anonymous type has a dotted path",
            |b| {
                let a = b.strukt("", 8, &[("x", INT, 0)]);
                b.strukt("s", 16, &[("n", INT, 0), ("inner", a, 64)]);
            },
            |b| {
                let a = b.strukt("", 8, &[("x", INT, 32)]);
                b.strukt("s", 16, &[("n", INT, 0), ("inner", a, 64)]);
            },
            only(
                "struct s",
                vec![Change::MemberMoved {
                    path: "inner.x".into(),
                    old: 64,
                    new: 96,
                }],
            ),
        ),
        (
            "types only one side has",
            |b| {
                b.strukt("old", 4, &[("a", INT, 0)]);
                b.fwd("ignored", false);
            },
            |b| {
                b.union("new", 4, &[("a", INT, 0)]);
                b.float("double", 8);
            },
            (
                vec!["struct old".into()],
                vec!["union new".into(), "float double".into()],
                vec![],
            ),
        ),
        (
            "an int that changes signedness",
            |b| {
                b.int_enc("char", 1, INT_SIGNED);
            },
            |b| {
                b.int_enc("char", 1, 0);
            },
            only(
                "int char",
                vec![Change::Encoding {
                    old: "signed",
                    new: "unsigned",
                }],
            ),
        ),
        (
            "same-named duplicates pair with their identical twin",
            |b| {
                b.strukt("dup", 4, &[("a", INT, 0)]);
                b.strukt("dup", 8, &[("b", LONG, 0)]);
            },
            |b| {
                b.strukt("dup", 8, &[("b", LONG, 0)]);
                b.strukt("dup", 4, &[("a", INT, 0)]);
            },
            (vec![], vec![], vec![]),
        ),
    ];
    for (what, a, b, want) in table {
        let report = diff(&side(a), &side(b), &[]).expect(what);
        assert_eq!(findings(&report), want, "{what}");
        assert_eq!(
            report.is_empty(),
            want == (vec![], vec![], vec![]),
            "{what}"
        );
    }
}

#[test]
fn ids_are_those_of_each_side() {
    let a = side(|b| {
        b.strukt("s", 4, &[("a", INT, 0)]); // 4
    });
    let b = side(|b| {
        b.strukt("pad", 4, &[("a", INT, 0)]); // 4
        b.strukt("s", 8, &[("a", INT, 0)]); // 5
    });
    let r = diff(&a, &b, &[]).expect("diff");
    assert_eq!(
        r.added,
        [Named {
            kind: TypeKind::Struct,
            name: "pad".into(),
            id: 4
        }]
    );
    assert_eq!(
        r.changed,
        [Changed {
            kind: TypeKind::Struct,
            name: "s".into(),
            old_id: 4,
            new_id: 5,
            changes: vec![Change::Size { old: 4, new: 8 }],
        }]
    );
}

#[test]
fn type_filters_limit_the_comparison() {
    let a = side(|b| {
        b.strukt("s", 4, &[("a", INT, 0)]);
        b.typedef("s", INT);
        b.enm("e", &[("A", 0)]);
    });
    let b = side(|b| {
        b.strukt("s", 8, &[("a", INT, 0)]);
        b.typedef("s", LONG);
        b.enm("e", &[("A", 1)]);
    });
    let names = |r: &Report| -> Vec<String> {
        r.changed
            .iter()
            .map(|c| format!("{} {}", c.kind.label(), c.name))
            .collect()
    };
    let all = diff(&a, &b, &[]).expect("diff");
    assert_eq!(names(&all), ["struct s", "enum e", "typedef s"]);
    let by_name = diff(&a, &b, &["s".into()]).expect("diff");
    assert_eq!(names(&by_name), ["struct s", "typedef s"]);
    let by_kind = diff(&a, &b, &["typedef s".into()]).expect("diff");
    assert_eq!(names(&by_kind), ["typedef s"]);
    match diff(&a, &b, &["struct nope".into()]) {
        Err(e @ DiffError::NoSuchType(_)) => {
            assert_eq!(e.to_string(), "no type named `struct nope` in either BTF")
        }
        other => panic!("{other:?}"),
    }
    assert!(diff(&a, &b, &["union s".into()]).is_err(), "s is no union");
}

/// A report with one of each section.
fn sample() -> Report {
    let a = side(|b| {
        b.strukt("gone", 4, &[("a", INT, 0)]);
        b.strukt("s", 8, &[("a", INT, 0), ("b", INT, 32)]);
        b.enm("e", &[("A", 0)]);
    });
    let b = side(|b| {
        b.strukt("s", 12, &[("a", INT, 0), ("b", INT, 36), ("c", INT, 64)]);
        b.enm("e", &[("A", 7)]);
    });
    diff(&a, &b, &[]).expect("diff")
}

#[test]
fn text_groups_removed_added_and_changed() {
    // Byte offsets are added where both bit offsets are whole bytes (36 is not).
    assert_eq!(
        text(&sample(), None),
        "removed (1):\n  struct gone\n\
         changed (2):\n  struct s\n    size: 8 -> 12 bytes\n    moved b: bit 32 -> 36\n    \
         added c: int, bit 64, 32 bits\n  enum e\n    changed A: 0 -> 7\n"
    );
    assert_eq!(text(&Report::default(), None), "");
}

#[test]
fn json_has_one_array_per_section() {
    assert_eq!(
        json(&sample(), None),
        "{\"removed\":[\n{\"kind\":\"struct\",\"name\":\"gone\",\"id\":4}\n],\n\
         \"added\":[],\n\
         \"changed\":[\n\
         {\"kind\":\"struct\",\"name\":\"s\",\"old_id\":5,\"new_id\":4,\"changes\":[\
         {\"change\":\"size\",\"old\":8,\"new\":12},\
         {\"change\":\"member_moved\",\"member\":\"b\",\"old\":32,\"new\":36},\
         {\"change\":\"member_added\",\"member\":\"c\",\"type\":\"int\",\"bit_offset\":64,\"bits\":32}]},\n\
         {\"kind\":\"enum\",\"name\":\"e\",\"old_id\":6,\"new_id\":5,\"changes\":[\
         {\"change\":\"value_changed\",\"name\":\"A\",\"old\":0,\"new\":7}]}\n]}\n"
    );
    assert_eq!(
        json(&Report::default(), None),
        "{\"removed\":[],\n\"added\":[],\n\"changed\":[]}\n"
    );
}
