//! Table-driven tests of every relocation kind through [`Engine::resolve`], on a
//! local (object) BTF and a target (kernel) BTF built here, where fields moved,
//! shrank, were renamed with a flavor or are missing. Expected values come from the C
//! layout rules (byte offset = bit offset / 8, sizes of the member types) and
//! libbpf's documented formulas for bitfields on little-endian:
//!
//! - the load covers the field with the field type's size, doubled until the bits
//!   fit (at most 8 bytes), at a multiple of that size;
//! - `LSHIFT_U64 = 64 - (bit offset + bit size - load offset * 8)`;
//! - `RSHIFT_U64 = 64 - bit size`.
//!
//! ```c
//! // local                                 // target
//! struct task_struct {                     struct task_struct {
//!     int pid;            // byte 0            long state;         // byte 0
//!     int tgid;           // byte 4            int pid;            // byte 8
//!     char comm[16];      // byte 8            int tgid;           // byte 12
//!     long flags;         // byte 24           unsigned int flags; // byte 16
//!     int missing;        // byte 32           char comm[16];      // byte 20
//! };                      // 36 bytes      };                      // 40 bytes
//! ```

use super::*;
use crate::btf::test_util::Builder;

/// The `bits` struct's bitfields: `(name, type, bit offset, bits)`.
type Bitfields<'a> = [(&'a str, TypeId, u32, u8)];

fn local() -> Btf {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let uint = b.uint("unsigned int", 4);
    let long = b.int("long", 8);
    let chr = b.int("char", 1);
    let comm = b.array(chr, int, 16);
    b.strukt(
        "task_struct",
        36,
        &[
            ("pid", int, 0),
            ("tgid", int, 32),
            ("comm", comm, 64),
            ("flags", long, 192),
            ("missing", int, 256),
        ],
    );
    b.strukt("task_struct___old", 4, &[("pid", int, 0)]);
    let bits: &Bitfields = &[
        ("a", uint, 0, 3),
        ("b", int, 3, 5),
        ("c", uint, 8, 20),
        ("d", uint, 28, 10),
        ("e", uint, 38, 10),
    ];
    b.strukt_bits("bits", 8, bits);
    b.enm("state", &[("RUNNING", 0), ("STOPPED", 4), ("GONE", 9)]);
    b.enm("sx", &[("NEG", 0), ("POS", 0)]);
    b.enm("wide", &[("HUGE", 1)]);
    b.strukt("match_me", 4, &[("a", int, 0)]);
    b.strukt("nomatch", 4, &[("a", int, 0)]);
    b.strukt("amb", 4, &[("x", int, 0)]);
    b.strukt("dec", 4, &[("x", int, 0)]);
    b.strukt("thing", 8, &[("a", int, 0), ("b", int, 32)]);
    b.strukt("absent", 4, &[("a", int, 0)]);
    b.strukt("modonly", 4, &[("a", int, 0)]);
    b.build()
}

/// The target's types, added to `b` (a base or a split BTF).
fn add_target(b: &mut Builder) {
    let int = b.int("int", 4);
    let uint = b.uint("unsigned int", 4);
    let long = b.int("long", 8);
    let ulong = b.uint("unsigned long long", 8);
    let chr = b.int("char", 1);
    let comm = b.array(chr, int, 16);
    b.strukt(
        "task_struct",
        40,
        &[
            ("state", long, 0),
            ("pid", int, 64),
            ("tgid", int, 96),
            ("flags", uint, 128),
            ("comm", comm, 160),
        ],
    );
    let bits: &Bitfields = &[
        ("pad", ulong, 0, 0),
        ("a", uint, 64, 3),
        ("b", int, 67, 5),
        ("c", uint, 72, 20),
        ("d", uint, 92, 10),
        ("e", uint, 124, 10),
    ];
    b.strukt_bits("bits", 24, bits);
    b.enm("state", &[("RUNNING", 0), ("STOPPED", 8)]);
    b.enm("sx", &[("NEG", 0xffff_ffff), ("POS", 0x7fff_ffff)]);
    b.enum64("wide", false, &[("HUGE", 1 << 40)]);
    b.strukt("match_me", 12, &[("x", long, 0), ("a", int, 64)]);
    b.strukt("nomatch", 8, &[("a", long, 0)]);
    b.strukt("amb", 4, &[("x", int, 0)]);
    b.strukt("amb___v2", 8, &[("y", int, 0), ("x", int, 32)]);
    b.strukt("dec", 4, &[("x", int, 0)]);
    b.strukt("dec___v2", 8, &[("x", long, 0)]);
    b.strukt("thing", 4, &[("a", int, 0)]);
    b.strukt("thing___v2", 8, &[("a", int, 0), ("b", int, 32)]);
}

fn target() -> Btf {
    let mut b = Builder::new();
    add_target(&mut b);
    b.build()
}

/// The id of the first type named `name`.
fn id(btf: &Btf, name: &str) -> TypeId {
    btf.find_by_name(name)
        .next()
        .unwrap_or_else(|| panic!("no type {name}"))
}

/// What a relocation must give.
#[derive(Debug)]
enum Want {
    /// Not poisoned: the local value and the patched one.
    Value(u64, u64),
    /// Poisoned (no candidate has it), with the local value.
    Poison(u64),
    /// libbpf refuses the relocation.
    Fails(CoreError),
}
use Want::{Fails, Poison, Value};

/// Resolves every `(root name, accessor, kind, want)` row with a fresh engine.
fn check(local: &Btf, target: &Btf, rows: &[(&str, &str, RelocKind, Want)]) {
    for (root, access, kind, want) in rows {
        let what = format!("{root} {access} {}", kind.name());
        let got = Engine::new(local, target).resolve(id(local, root), access, *kind);
        match want {
            Value(orig, new) => {
                let r = got.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!r.poison, "{what}: poisoned");
                assert_eq!((r.orig_val, r.new_val), (*orig, *new), "{what}");
            }
            Poison(orig) => {
                let r = got.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(r.poison, "{what}: not poisoned");
                assert_eq!((r.orig_val, r.new_val), (*orig, 0), "{what}");
            }
            Fails(e) => assert_eq!(got.as_ref().err(), Some(e), "{what}"),
        }
    }
}

#[test]
fn field_byte_offset_follows_the_moved_fields() {
    let k = RelocKind::FieldByteOffset;
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0:0", k, Value(0, 8)),
            ("task_struct", "0:1", k, Value(4, 12)),
            ("task_struct", "0:2", k, Value(8, 20)),
            // comm[3]: the array's offset plus 3 one-byte elements.
            ("task_struct", "0:2:3", k, Value(11, 23)),
            ("task_struct", "0:3", k, Value(24, 16)),
            // task_struct[1].pid: one local struct (36) / one target struct (40) on.
            ("task_struct", "1:0", k, Value(36, 48)),
            ("task_struct", "0:4", k, Poison(32)),
        ],
    );
}

#[test]
fn field_byte_size_is_the_member_types_size() {
    let k = RelocKind::FieldByteSize;
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0:0", k, Value(4, 4)),
            // long in the object, unsigned int in the kernel.
            ("task_struct", "0:3", k, Value(8, 4)),
            ("task_struct", "0:2", k, Value(16, 16)),
            // An array element: the element's size.
            ("task_struct", "0:2:3", k, Value(1, 1)),
            ("task_struct", "0:4", k, Poison(4)),
        ],
    );
}

#[test]
fn field_exists_is_never_poisoned() {
    let k = RelocKind::FieldExists;
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0:0", k, Value(1, 1)),
            ("task_struct", "0:2:3", k, Value(1, 1)),
            ("task_struct", "0:4", k, Value(1, 0)),
            ("absent", "0:0", k, Value(1, 0)),
        ],
    );
}

#[test]
fn field_signed_follows_the_target_type() {
    let k = RelocKind::FieldSigned;
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0:0", k, Value(1, 1)),
            // long -> unsigned int.
            ("task_struct", "0:3", k, Value(1, 0)),
            // An array is neither signed nor unsigned.
            ("task_struct", "0:2", k, Value(0, 0)),
            ("bits", "0:1", k, Value(1, 1)),
            ("bits", "0:2", k, Value(0, 0)),
        ],
    );
}

#[test]
fn field_shifts_of_whole_members() {
    // A whole member is a bitfield of its full size at its own offset:
    // lshift = 64 - size * 8, rshift = 64 - size * 8.
    let (l, r) = (RelocKind::FieldLshiftU64, RelocKind::FieldRshiftU64);
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0:0", l, Value(32, 32)),
            ("task_struct", "0:0", r, Value(32, 32)),
            ("task_struct", "0:3", l, Value(0, 32)),
            ("task_struct", "0:3", r, Value(0, 32)),
        ],
    );
}

#[test]
fn bitfield_relocations_little_endian() {
    use RelocKind::{FieldByteOffset as Off, FieldByteSize as Size};
    use RelocKind::{FieldLshiftU64 as L, FieldRshiftU64 as R};
    // Local: a:3@0 b:5@3 c:20@8 d:10@28; target: the same 64 bits further, except d
    // at 92. In both, d straddles a 4-byte boundary and needs an 8-byte load:
    // local 28 + 10 = 38 > 32 bits; target 92 + 10 - 64 = 38 > 32.
    check(
        &local(),
        &target(),
        &[
            ("bits", "0:0", Off, Value(0, 8)),
            ("bits", "0:0", Size, Value(4, 4)),
            ("bits", "0:0", L, Value(61, 61)),
            ("bits", "0:0", R, Value(61, 61)),
            // b: 3 + 5 = 8 bits used of the load: lshift 56, rshift 64 - 5.
            ("bits", "0:1", L, Value(56, 56)),
            ("bits", "0:1", R, Value(59, 59)),
            ("bits", "0:2", Off, Value(0, 8)),
            ("bits", "0:2", L, Value(36, 36)),
            ("bits", "0:2", R, Value(44, 44)),
            ("bits", "0:3", Off, Value(0, 8)),
            ("bits", "0:3", Size, Value(8, 8)),
            ("bits", "0:3", L, Value(26, 26)),
            ("bits", "0:3", R, Value(54, 54)),
        ],
    );
}

#[test]
fn bitfield_beyond_a_64_bit_load_fails() {
    // Target e: 10 bits at 124. 4 bytes at 12 hold bits 96..128, 8 bytes at 8 hold
    // 64..128: bit 134 is out of both.
    check(
        &local(),
        &target(),
        &[(
            "bits",
            "0:4",
            RelocKind::FieldByteOffset,
            Fails(CoreError::Bitfield),
        )],
    );
}

#[test]
fn shifts_and_signedness_refuse_array_elements() {
    let rows: Vec<_> = [
        RelocKind::FieldSigned,
        RelocKind::FieldLshiftU64,
        RelocKind::FieldRshiftU64,
    ]
    .into_iter()
    .map(|k| {
        (
            "task_struct",
            "0:2:3",
            k,
            Fails(CoreError::ArrayAccess(k.name())),
        )
    })
    .collect();
    check(&local(), &target(), &rows);
}

#[test]
fn type_id_local_and_target() {
    let (l, t) = (local(), target());
    let task_l = id(&l, "task_struct") as u64;
    let old_l = id(&l, "task_struct___old") as u64;
    let task_t = id(&t, "task_struct") as u64;
    check(
        &l,
        &t,
        &[
            (
                "task_struct",
                "0",
                RelocKind::TypeIdLocal,
                Value(task_l, task_l),
            ),
            (
                "task_struct",
                "0",
                RelocKind::TypeIdTarget,
                Value(task_l, task_t),
            ),
            // The flavor is dropped when looking for candidates.
            (
                "task_struct___old",
                "0",
                RelocKind::TypeIdTarget,
                Value(old_l, task_t),
            ),
            (
                "absent",
                "0",
                RelocKind::TypeIdTarget,
                Value(id(&l, "absent") as u64, 0),
            ),
        ],
    );
    // TYPE_ID_LOCAL looks at no candidate at all.
    let r = Engine::new(&l, &t)
        .resolve(task_l as TypeId, "0", RelocKind::TypeIdLocal)
        .unwrap();
    assert_eq!((r.candidates, r.target), (0, None));
}

#[test]
fn type_exists_and_size() {
    check(
        &local(),
        &target(),
        &[
            ("task_struct", "0", RelocKind::TypeExists, Value(1, 1)),
            ("absent", "0", RelocKind::TypeExists, Value(1, 0)),
            ("task_struct", "0", RelocKind::TypeSize, Value(36, 40)),
            ("task_struct___old", "0", RelocKind::TypeSize, Value(4, 40)),
            ("absent", "0", RelocKind::TypeSize, Value(4, 0)),
            ("state", "0", RelocKind::TypeSize, Value(4, 4)),
            // ENUM and ENUM64 are one kind for candidates.
            ("wide", "0", RelocKind::TypeSize, Value(4, 8)),
        ],
    );
}

#[test]
fn type_matches_compares_members() {
    let k = RelocKind::TypeMatches;
    check(
        &local(),
        &target(),
        &[
            // The target has `a` among more members.
            ("match_me", "0", k, Value(1, 1)),
            // `a` is a long in the target: a candidate, but no match.
            ("nomatch", "0", k, Value(1, 0)),
            ("absent", "0", k, Value(1, 0)),
            // enum state's GONE is missing from the target.
            ("state", "0", k, Value(1, 0)),
        ],
    );
}

#[test]
fn enumval_exists_and_value() {
    let (e, v) = (RelocKind::EnumvalExists, RelocKind::EnumvalValue);
    check(
        &local(),
        &target(),
        &[
            ("state", "0", e, Value(1, 1)),
            ("state", "1", e, Value(1, 1)),
            ("state", "2", e, Value(1, 0)),
            ("state", "0", v, Value(0, 0)),
            ("state", "1", v, Value(4, 8)),
            ("state", "2", v, Poison(9)),
            // A 32-bit local enum relocated against an ENUM64.
            ("wide", "0", v, Value(1, 1 << 40)),
        ],
    );
}

#[test]
fn enumval_value_sign_extends_32_bit_enumerators() {
    // libbpf keeps a 32-bit enumerator in an `__s32`: 0xffffffff reads back as -1.
    let v = RelocKind::EnumvalValue;
    check(
        &local(),
        &target(),
        &[
            ("sx", "0", v, Value(0, u64::MAX)),
            ("sx", "1", v, Value(0, 0x7fff_ffff)),
        ],
    );
}

#[test]
fn missing_field_poisons_and_reports_the_prefix_found() {
    let (l, t) = (local(), target());
    let r = Engine::new(&l, &t)
        .resolve(id(&l, "task_struct"), "0:4", RelocKind::FieldByteOffset)
        .unwrap();
    assert!(r.poison);
    assert_eq!(r.target, None);
    assert_eq!(r.candidates, 1);
    // The root access matched, `missing` did not.
    assert_eq!(r.matched_prefix, Some(1));
    let r = Engine::new(&l, &t)
        .resolve(id(&l, "absent"), "0:0", RelocKind::FieldByteOffset)
        .unwrap();
    assert!(r.poison);
    assert_eq!((r.candidates, r.matched_prefix), (0, None));
}

#[test]
fn matched_target_spec_names_the_target_path() {
    let (l, t) = (local(), target());
    let r = Engine::new(&l, &t)
        .resolve(id(&l, "task_struct"), "0:2:3", RelocKind::FieldByteOffset)
        .unwrap();
    let s = r.target.expect("a target spec");
    assert_eq!(s.root, id(&t, "task_struct"));
    // comm is the target's member 4; element 3 of it.
    assert_eq!(s.raw, vec![0, 4, 3]);
    assert_eq!(s.bit_offset, 160 + 3 * 8);
    assert_eq!(
        s.c_path(&t, RelocKind::FieldByteOffset),
        "task_struct->comm[3]"
    );
}

#[test]
fn ambiguous_candidates_fail() {
    check(
        &local(),
        &target(),
        &[
            // amb.x at byte 0, amb___v2.x at byte 4.
            (
                "amb",
                "0:0",
                RelocKind::FieldByteOffset,
                Fails(CoreError::OffsetAmbiguity(0, 4)),
            ),
            // dec.x and dec___v2.x both at 0: the offset agrees, the size does not.
            ("dec", "0:0", RelocKind::FieldByteOffset, Value(0, 0)),
            (
                "dec",
                "0:0",
                RelocKind::FieldByteSize,
                Fails(CoreError::DecisionAmbiguity(4, 8)),
            ),
        ],
    );
}

#[test]
fn anonymous_roots_and_bad_ids_fail() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let anon = b.strukt("", 4, &[("a", int, 0)]);
    let l = b.build();
    let t = target();
    let mut e = Engine::new(&l, &t);
    assert_eq!(
        e.resolve(anon, "0:0", RelocKind::FieldByteOffset),
        Err(CoreError::Anonymous)
    );
    assert_eq!(
        e.resolve(anon, "0", RelocKind::TypeIdLocal)
            .map(|r| r.new_val),
        Ok(anon as u64)
    );
    assert_eq!(
        e.resolve(99, "0:0", RelocKind::FieldByteOffset),
        Err(CoreError::BadTypeId(99))
    );
    assert_eq!(
        e.resolve(anon, "0:7", RelocKind::FieldByteOffset),
        Err(CoreError::Parse("member index out of range".into()))
    );
}

#[test]
fn candidates_are_pruned_to_those_that_matched() {
    let (l, t) = (local(), target());
    let thing = id(&l, "thing");
    let mut e = Engine::new(&l, &t);
    // Only thing___v2 has `b` (at byte 4); both targets are candidates.
    let r = e.resolve(thing, "0:1", RelocKind::FieldByteOffset).unwrap();
    assert_eq!((r.candidates, r.new_val), (2, 4));
    // The next relocation of the same type only sees thing___v2.
    let r = e.resolve(thing, "0:0", RelocKind::FieldByteOffset).unwrap();
    assert_eq!(r.candidates, 1);
    assert_eq!(r.target.map(|s| s.root), Some(id(&t, "thing___v2")));
    // A fresh engine sees both again.
    let r = Engine::new(&l, &t)
        .resolve(thing, "0:0", RelocKind::FieldByteOffset)
        .unwrap();
    assert_eq!(r.candidates, 2);
}

#[test]
fn candidates_come_from_the_base_before_modules() {
    let mut base = Builder::new();
    add_target(&mut base);
    let base = std::sync::Arc::new(base.build());
    let mut split = Builder::split(base.clone());
    let int = split.int("int", 4);
    split.strukt("task_struct", 4, &[("pid", int, 0)]);
    let modonly = split.strukt("modonly", 4, &[("a", int, 0)]);
    let t = split.build();
    let l = local();
    let cases = [
        // The base has a task_struct: the module's is not looked at.
        ("task_struct", vec![id(&base, "task_struct")]),
        ("modonly", vec![modonly]),
        ("absent", vec![]),
    ];
    for (name, want) in cases {
        assert_eq!(find_candidates(&l, id(&l, name), &t), want, "{name}");
    }
}

/// Several modules (joined on their vmlinux): when the vmlinux has no candidate, every
/// module's are searched together, as libbpf's `bpf_core_find_cands` accumulates them
/// over the loaded modules; two that disagree are an ambiguity, two that agree are not.
#[test]
fn candidates_come_from_every_module_together() {
    let mut base = Builder::new();
    add_target(&mut base);
    let base = std::sync::Arc::new(base.build());
    let module = |bit: u32| {
        let mut m = Builder::split(base.clone());
        let int = m.int("int", 4);
        m.strukt("modonly", 8, &[("a", int, bit)]);
        m.build()
    };
    let l = local();
    let lid = id(&l, "modonly");
    let joined = crate::btf::join_modules(base.clone(), &[module(0), module(32)]).unwrap();
    let first = base.type_count() + 1;
    assert_eq!(find_candidates(&l, lid, &joined), [first, first + 2]);
    let r = Engine::new(&l, &joined).resolve(lid, "0:0", RelocKind::FieldByteOffset);
    assert_eq!(r, Err(CoreError::OffsetAmbiguity(0, 4)));
    let agree = crate::btf::join_modules(base.clone(), &[module(32), module(32)]).unwrap();
    let r = Engine::new(&l, &agree)
        .resolve(lid, "0:0", RelocKind::FieldByteOffset)
        .unwrap();
    assert_eq!((r.candidates, r.new_val), (2, 4));
}

/// Load sizes (libbpf's `orig_sz`, `new_sz`, `fail_memsz_adjust`):
///
/// ```c
/// // local                                // target
/// struct ev {                             struct ev {
///     unsigned short protocol;  // 0          unsigned char protocol;   // 0
///     short sproto;             // 2          signed char sproto;       // 1
///     int *p;                   // 8          char *p;                  // 8
///     unsigned int arr[4];      // 16         unsigned char arr[4];     // 16
///     unsigned short same;      // 32         unsigned short same;      // 32
///     unsigned int grows;       // 40         long grows;               // 40
/// };                                      };
/// ```
fn mem_size_pair() -> (Btf, Btf, TypeId) {
    let mut l = Builder::new();
    let int = l.int("int", 4);
    let u16_ = l.uint("unsigned short", 2);
    let s16 = l.int("short", 2);
    let u32_ = l.uint("unsigned int", 4);
    let pint = l.ptr(int);
    let arr = l.array(u32_, int, 4);
    let ev = l.strukt(
        "ev",
        48,
        &[
            ("protocol", u16_, 0),
            ("sproto", s16, 16),
            ("p", pint, 64),
            ("arr", arr, 128),
            ("same", u16_, 256),
            ("grows", u32_, 320),
        ],
    );
    let mut t = Builder::new();
    let int = t.int("int", 4);
    let u8_ = t.uint("unsigned char", 1);
    let s8 = t.int("signed char", 1);
    let chr = t.int("char", 1);
    let u16_ = t.uint("unsigned short", 2);
    let long = t.int("long", 8);
    let pchr = t.ptr(chr);
    let arr = t.array(u8_, int, 4);
    t.strukt(
        "ev",
        48,
        &[
            ("protocol", u8_, 0),
            ("sproto", s8, 8),
            ("p", pchr, 64),
            ("arr", arr, 128),
            ("same", u16_, 256),
            ("grows", long, 320),
        ],
    );
    (l.build(), t.build(), ev)
}

#[test]
fn load_sizes_follow_the_target_field() {
    let (local, target, ev) = mem_size_pair();
    let mut e = Engine::new(&local, &target);
    let off = RelocKind::FieldByteOffset;
    // (access, kind, orig_sz, new_sz, fail_memsz_adjust)
    let cases = [
        ("0:0", off, 2, 1, false),
        ("0:1", off, 2, 1, true),
        ("0:2", off, 8, 8, false),
        // The member is an array: sizes of its elements, but the array type decides.
        ("0:3", off, 4, 1, true),
        // One element: its integer type decides.
        ("0:3:2", off, 4, 1, false),
        ("0:4", off, 2, 2, false),
        // A signed target: poisoned even though it grows.
        ("0:5", off, 4, 8, true),
        ("0:0", RelocKind::FieldByteSize, 0, 0, false),
        ("0:0", RelocKind::FieldExists, 0, 0, false),
    ];
    for (access, kind, orig, new, fail) in cases {
        let r = e.resolve(ev, access, kind).unwrap();
        assert_eq!(
            (r.orig_sz, r.new_sz, r.fail_memsz_adjust),
            (orig, new, fail),
            "{access} {kind:?}"
        );
    }
}

#[test]
fn loads_and_stores_change_size_or_are_poisoned() {
    let (local, target, ev) = mem_size_pair();
    let mut e = Engine::new(&local, &target);
    let mut res = |access| e.resolve(ev, access, RelocKind::FieldByteOffset).unwrap();
    // Opcodes: LDX|MEM|H, LDX|MEM|W, STX|MEM|H, ST|MEM|H, ALU64|ADD|K.
    let (ldxh, ldxw, stxh, sth, add) = (0x69, 0x61, 0x6b, 0x6a, 0x07);
    // (access, opcode, poisoned, mem_sz, error)
    type Case<'a> = (&'a str, u8, bool, Option<(u32, u32)>, Option<&'a str>);
    let cases: [Case; 8] = [
        ("0:0", ldxh, false, Some((2, 1)), None),
        ("0:0", stxh, false, Some((2, 1)), None),
        ("0:0", sth, false, Some((2, 1)), None),
        ("0:0", add, false, None, None),
        ("0:1", ldxh, true, None, None),
        // Not a load or store: patched as it is, size change or not.
        ("0:1", add, false, None, None),
        ("0:4", ldxh, false, None, None),
        (
            "0:0",
            ldxw,
            false,
            None,
            Some("insn #7 (LDX/ST/STX) unexpected mem size: got 4, exp 2"),
        ),
    ];
    for (access, op, poisoned, want_sz, err) in cases {
        let mut mem_sz = None;
        let got = object::load_store(res(access), Some(op), 7, &mut mem_sz);
        match err {
            Some(want) => assert_eq!(got.unwrap_err().to_string(), want, "{access} {op:#x}"),
            None => assert_eq!(got.unwrap().poison, poisoned, "{access} {op:#x}"),
        }
        assert_eq!(mem_sz, want_sz, "{access} {op:#x}");
    }
    let mut odd = res("0:0");
    odd.new_sz = 3;
    let got = object::load_store(odd, Some(ldxh), 1, &mut None);
    assert_eq!(
        got.unwrap_err().to_string(),
        "insn #1 (LDX/ST/STX) invalid new mem size: 3"
    );
}
