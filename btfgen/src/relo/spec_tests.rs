//! Table-driven tests of [`parse`] and [`Spec::c_path`]: accessor strings on a local
//! type, the spec they give (ids, indices, names, bit offsets) or the error.
//!
//! The local type is
//!
//! ```c
//! struct inner { int x; int y; };                 // 8 bytes
//! struct task {
//!     int pid;                                    // bit   0
//!     char comm[16];                              // bit  32
//!     struct inner in;                            // bit 160 (byte 20)
//!     union { int a; int b; };                    // bit 224 (byte 28)
//!     int flex[];                                 // bit 256 (byte 32)
//! };                                              // 32 bytes
//! ```

use super::*;
use crate::btf::test_util::Builder;

/// Ids of the types in the module's doc.
struct Ids {
    int: TypeId,
    chr: TypeId,
    inner: TypeId,
    anon: TypeId,
    task: TypeId,
    task_t: TypeId,
    state: TypeId,
    zero_mid: TypeId,
}

fn local() -> (Btf, Ids) {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let chr = b.int("char", 1);
    let comm = b.array(chr, int, 16);
    let inner = b.strukt("inner", 8, &[("x", int, 0), ("y", int, 32)]);
    let anon = b.union("", 4, &[("a", int, 0), ("b", int, 0)]);
    let flex = b.array(int, int, 0);
    let task = b.strukt(
        "task",
        32,
        &[
            ("pid", int, 0),
            ("comm", comm, 32),
            ("in", inner, 160),
            ("", anon, 224),
            ("flex", flex, 256),
        ],
    );
    let ctask = b.konst(task);
    let task_t = b.typedef("task_t", ctask);
    let state = b.enm("state", &[("RUNNING", 0), ("STOPPED", 4)]);
    // A zero-length array that is not the last member: not flexible.
    let zero_mid = b.strukt("zero_mid", 8, &[("z", flex, 0), ("after", int, 0)]);
    let btf = b.build();
    let ids = Ids {
        int,
        chr,
        inner,
        anon,
        task,
        task_t,
        state,
        zero_mid,
    };
    (btf, ids)
}

/// A spec's accesses with names spelled out.
fn accesses(btf: &Btf, s: &Spec) -> Vec<(TypeId, u32, Option<String>)> {
    s.access
        .iter()
        .map(|a| (a.type_id, a.idx, a.name.map(|n| btf.name(n).into_owned())))
        .collect()
}

/// `(type id, index, name)` of a named access.
fn named(ty: TypeId, idx: u32, name: &str) -> (TypeId, u32, Option<String>) {
    (ty, idx, Some(name.to_string()))
}

/// `(type id, index, None)` of an array element access.
fn elem(ty: TypeId, idx: u32) -> (TypeId, u32, Option<String>) {
    (ty, idx, None)
}

/// One valid accessor and the spec it must give.
struct Valid {
    what: &'static str,
    root: TypeId,
    access: &'static str,
    kind: RelocKind,
    raw: Vec<u32>,
    accesses: Vec<(TypeId, u32, Option<String>)>,
    bit_offset: u64,
}

fn check_valid(btf: &Btf, cases: Vec<Valid>) {
    for c in cases {
        let s = parse(btf, c.root, c.access, c.kind).unwrap_or_else(|e| panic!("{}: {e}", c.what));
        assert_eq!(s.root, c.root, "{}: root", c.what);
        assert_eq!(s.raw, c.raw, "{}: raw", c.what);
        assert_eq!(accesses(btf, &s), c.accesses, "{}: access", c.what);
        assert_eq!(s.bit_offset, c.bit_offset, "{}: bit offset", c.what);
    }
}

#[test]
fn parse_member_paths() {
    let (btf, i) = local();
    let f = RelocKind::FieldByteOffset;
    check_valid(
        &btf,
        vec![
            Valid {
                what: "the root itself",
                root: i.task,
                access: "0",
                kind: f,
                raw: vec![0],
                accesses: vec![elem(i.task, 0)],
                bit_offset: 0,
            },
            Valid {
                what: "task->pid",
                root: i.task,
                access: "0:0",
                kind: f,
                raw: vec![0, 0],
                accesses: vec![elem(i.task, 0), named(i.task, 0, "pid")],
                bit_offset: 0,
            },
            Valid {
                what: "task->in.y: 160 + 32",
                root: i.task,
                access: "0:2:1",
                kind: f,
                raw: vec![0, 2, 1],
                accesses: vec![
                    elem(i.task, 0),
                    named(i.task, 2, "in"),
                    named(i.inner, 1, "y"),
                ],
                bit_offset: 192,
            },
            Valid {
                what: "through a typedef of const: the access is on the struct",
                root: i.task_t,
                access: "0:2",
                kind: f,
                raw: vec![0, 2],
                accesses: vec![elem(i.task, 0), named(i.task, 2, "in")],
                bit_offset: 160,
            },
        ],
    );
}

#[test]
fn parse_array_elements_and_flexible_arrays() {
    let (btf, i) = local();
    let f = RelocKind::FieldByteOffset;
    check_valid(
        &btf,
        vec![
            Valid {
                what: "task[1]: one struct of 32 bytes further",
                root: i.task,
                access: "1",
                kind: f,
                raw: vec![1],
                accesses: vec![elem(i.task, 1)],
                bit_offset: 256,
            },
            Valid {
                what: "task[2].pid",
                root: i.task,
                access: "2:0",
                kind: f,
                raw: vec![2, 0],
                accesses: vec![elem(i.task, 2), named(i.task, 0, "pid")],
                bit_offset: 512,
            },
            Valid {
                what: "task->comm[3]: 32 + 3 * 8",
                root: i.task,
                access: "0:1:3",
                kind: f,
                raw: vec![0, 1, 3],
                accesses: vec![elem(i.task, 0), named(i.task, 1, "comm"), elem(i.chr, 3)],
                bit_offset: 56,
            },
            Valid {
                what: "task->comm[15], the last element",
                root: i.task,
                access: "0:1:15",
                kind: f,
                raw: vec![0, 1, 15],
                accesses: vec![elem(i.task, 0), named(i.task, 1, "comm"), elem(i.chr, 15)],
                bit_offset: 32 + 15 * 8,
            },
            Valid {
                what: "task->flex[5]: flexible, any index; 256 + 5 * 32",
                root: i.task,
                access: "0:4:5",
                kind: f,
                raw: vec![0, 4, 5],
                accesses: vec![elem(i.task, 0), named(i.task, 4, "flex"), elem(i.int, 5)],
                bit_offset: 416,
            },
        ],
    );
}

#[test]
fn parse_anonymous_members_leave_no_access() {
    let (btf, i) = local();
    check_valid(
        &btf,
        vec![
            Valid {
                what: "task->b through the anonymous union: 224 + 0",
                root: i.task,
                access: "0:3:1",
                kind: RelocKind::FieldByteOffset,
                raw: vec![0, 3, 1],
                accesses: vec![elem(i.task, 0), named(i.anon, 1, "b")],
                bit_offset: 224,
            },
            Valid {
                what: "the anonymous union itself",
                root: i.task,
                access: "0:3",
                kind: RelocKind::FieldExists,
                raw: vec![0, 3],
                accesses: vec![elem(i.task, 0)],
                bit_offset: 224,
            },
        ],
    );
}

#[test]
fn parse_type_and_enumerator_relocations() {
    let (btf, i) = local();
    for kind in [
        RelocKind::TypeIdLocal,
        RelocKind::TypeIdTarget,
        RelocKind::TypeExists,
        RelocKind::TypeSize,
        RelocKind::TypeMatches,
    ] {
        // A type relocation's spec is its root alone, whatever the root is.
        check_valid(
            &btf,
            vec![Valid {
                what: kind.name(),
                root: i.task_t,
                access: "0",
                kind,
                raw: vec![],
                accesses: vec![],
                bit_offset: 0,
            }],
        );
    }
    for kind in [RelocKind::EnumvalExists, RelocKind::EnumvalValue] {
        check_valid(
            &btf,
            vec![Valid {
                what: kind.name(),
                root: i.state,
                access: "1",
                kind,
                raw: vec![1],
                accesses: vec![named(i.state, 1, "STOPPED")],
                bit_offset: 0,
            }],
        );
    }
}

#[test]
fn parse_rejects_bad_accessors() {
    let (btf, i) = local();
    let long: String = vec!["0"; 65].join(":");
    let max: String = vec!["0"; 64].join(":");
    let f = RelocKind::FieldByteOffset;
    let cases: &[(&str, TypeId, &str, RelocKind, &str)] = &[
        ("empty", i.task, "", f, "empty accessor"),
        ("leading colon", i.task, ":0", f, "empty accessor"),
        (
            "not a number",
            i.task,
            "0:x",
            f,
            "accessor is not a list of indices",
        ),
        (
            "negative",
            i.task,
            "0:-1",
            f,
            "accessor is not a list of indices",
        ),
        (
            "trailing colon",
            i.task,
            "0:",
            f,
            "accessor is not a list of indices",
        ),
        ("65 indices", i.task, &long, f, "accessor too long"),
        ("void root", 0, "0", f, "root is void"),
        (
            "member 5 of 5",
            i.task,
            "0:5",
            f,
            "member index out of range",
        ),
        ("comm[16]", i.task, "0:1:16", f, "array index out of range"),
        (
            "a zero-length array not last",
            i.zero_mid,
            "0:0:0",
            f,
            "array index out of range",
        ),
        (
            "into an int",
            i.task,
            "0:0:0",
            f,
            "accessor goes through a type that is neither struct, union nor array",
        ),
        (
            "type relocation not \"0\"",
            i.task,
            "1",
            RelocKind::TypeSize,
            "type relocation accessor is not \"0\"",
        ),
        (
            "enumerator 2 of 2",
            i.state,
            "2",
            RelocKind::EnumvalValue,
            "enumerator index out of range",
        ),
        (
            "enumerator with a path",
            i.state,
            "0:0",
            RelocKind::EnumvalExists,
            "enumerator index out of range",
        ),
        (
            "enumerator of a struct",
            i.task,
            "0",
            RelocKind::EnumvalValue,
            "enumerator relocation on a non-enum",
        ),
    ];
    for &(what, root, access, kind, want) in cases {
        assert_eq!(
            parse(&btf, root, access, kind),
            Err(CoreError::Parse(want.to_string())),
            "{what}"
        );
    }
    // 64 indices is the most libbpf takes (it then fails on `int` having no member).
    assert!(!matches!(
        parse(&btf, i.task, &max, f),
        Err(CoreError::Parse(e)) if e == "accessor too long"
    ));
    assert_eq!(
        parse(&btf, 999, "0", f),
        Err(CoreError::BadTypeId(999)),
        "a root out of range"
    );
}

#[test]
fn c_path_spells_the_access_in_c() {
    let (btf, i) = local();
    let f = RelocKind::FieldByteOffset;
    let cases: &[(TypeId, &str, RelocKind, &str)] = &[
        (i.task, "0:0", f, "task->pid"),
        (i.task, "0:1:3", f, "task->comm[3]"),
        (i.task, "0:2:1", f, "task->in.y"),
        (i.task, "0:3:1", f, "task->b"),
        (i.task, "1:0", f, "task[1].pid"),
        (i.task, "0", RelocKind::TypeSize, "struct task"),
        (i.task_t, "0", RelocKind::TypeExists, "task_t"),
        (i.state, "1", RelocKind::EnumvalValue, "enum state::STOPPED"),
    ];
    for &(root, access, kind, want) in cases {
        let s = parse(&btf, root, access, kind).unwrap();
        assert_eq!(s.c_path(&btf, kind), want, "{access}");
    }
}
