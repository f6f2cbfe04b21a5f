//! Unit tests of [`super`]: sizes, skipping and the depth limits, on BTF built with
//! the test builder. Expected sizes follow from the C rules (an array is its element
//! count times its element's size; modifiers, typedefs, variables and tags have the
//! size of what they refer to).

use super::*;
use crate::btf::test_util::Builder;

/// `size_of` with 8-byte pointers and the CO-RE engine's overflow rule.
fn size8(btf: &Btf, id: TypeId) -> Option<u64> {
    size_of(btf, id, 8, Overflow::Total)
}

#[test]
fn size_of_every_kind() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let uchar = b.uint("unsigned char", 1);
    let long = b.int("long", 8);
    let boolean = b.bool();
    let s = b.strukt("pair", 16, &[("a", long, 0), ("b", long, 64)]);
    let u = b.union("either", 8, &[("a", int, 0), ("b", long, 0)]);
    let e = b.enm("state", &[("A", 0)]);
    let e1 = b.enum_sized("small", 1, false, &[("B", 1)]);
    let e64 = b.enum64("big", false, &[("C", 1 << 40)]);
    let f = b.float("double", 8);
    let ld = b.float("long double", 16);
    let p = b.ptr(s);
    let td = b.typedef("pair_t", s);
    let c = b.konst(int);
    let v = b.volatile(long);
    let r = b.restrict(p);
    let tag = b.type_tag("user", uchar);
    let var = b.var("counter", long, 1);
    let dtag = b.decl_tag("tagged", int, -1);
    let ds = b.datasec(".data", 24, &[(var, 0, 8)]);
    let fwd = b.fwd("opaque", false);
    let proto = b.func_proto(int, &[("x", int)]);
    let func = b.func("f", proto);
    let btf = b.build();
    let cases: &[(&str, TypeId, Option<u64>)] = &[
        ("int", int, Some(4)),
        ("unsigned char", uchar, Some(1)),
        ("_Bool", boolean, Some(1)),
        ("struct", s, Some(16)),
        ("union", u, Some(8)),
        ("enum", e, Some(4)),
        ("1-byte enum", e1, Some(1)),
        ("enum64", e64, Some(8)),
        ("float", f, Some(8)),
        ("long double", ld, Some(16)),
        ("pointer", p, Some(8)),
        ("typedef of struct", td, Some(16)),
        ("const int", c, Some(4)),
        ("volatile long", v, Some(8)),
        ("restrict pointer", r, Some(8)),
        ("type tag", tag, Some(1)),
        ("var: its type's size", var, Some(8)),
        ("decl tag: its type's size", dtag, Some(4)),
        ("datasec: its own size", ds, Some(24)),
        ("void", 0, None),
        ("forward declaration", fwd, None),
        ("func proto", proto, None),
        ("func", func, None),
        ("id out of range", 999, None),
    ];
    for &(what, id, want) in cases {
        assert_eq!(size8(&btf, id), want, "{what}");
        // Both overflow rules agree on everything that does not overflow.
        assert_eq!(size_of(&btf, id, 8, Overflow::EachArray), want, "{what}");
    }
}

#[test]
fn size_of_arrays_multiplies_every_dimension() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let short = b.int("short", 2);
    let a16 = b.array(int, int, 16);
    let inner = b.array(short, int, 5);
    let a3x5 = b.array(inner, int, 3);
    let cinner = b.konst(inner);
    let a2c = b.array(cinner, int, 2);
    let td = b.typedef("row_t", a16);
    let a4td = b.array(td, int, 4);
    let empty = b.array(int, int, 0);
    let s = b.strukt("s", 12, &[("a", int, 0), ("b", int, 32), ("c", int, 64)]);
    let sarr = b.array(s, int, 10);
    let btf = b.build();
    let cases: &[(&str, TypeId, u64)] = &[
        ("int[16]", a16, 64),
        ("short[3][5]: 3*5*2", a3x5, 30),
        ("const short[2][5] through the modifier: 2*5*2", a2c, 20),
        ("row_t[4] with row_t = int[16]: 4*16*4", a4td, 256),
        ("int[0]", empty, 0),
        ("struct s[10]: 10*12", sarr, 120),
    ];
    for &(what, id, want) in cases {
        assert_eq!(size8(&btf, id), Some(want), "{what}");
    }
}

#[test]
fn size_of_uses_the_given_pointer_size() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let p = b.ptr(int);
    let pp = b.ptr(p);
    let arr = b.array(p, int, 3);
    let s = b.strukt("s", 16, &[("p", p, 0)]);
    let btf = b.build();
    for (id, at4, at8) in [(p, 4, 8), (pp, 4, 8), (arr, 12, 24), (s, 16, 16)] {
        assert_eq!(
            size_of(&btf, id, 4, Overflow::EachArray),
            Some(at4),
            "type {id}"
        );
        assert_eq!(
            size_of(&btf, id, 8, Overflow::EachArray),
            Some(at8),
            "type {id}"
        );
    }
}

#[test]
fn size_of_rejects_sizes_past_u32() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let ch = b.uint("char", 1);
    let short = b.int("short", 2);
    let max_chars = b.array(ch, int, u32::MAX);
    let max_shorts = b.array(short, int, u32::MAX);
    let half = b.array(short, int, u32::MAX / 2);
    let big = b.array(max_chars, int, u32::MAX);
    let huge = b.array(big, int, u32::MAX);
    let btf = b.build();
    // (u32::MAX / 2) * 2 = u32::MAX - 1 still fits; 2 * u32::MAX does not.
    let cases: &[(&str, TypeId, Option<u64>)] = &[
        ("char[u32::MAX]", max_chars, Some(u32::MAX as u64)),
        ("short[u32::MAX]", max_shorts, None),
        ("short[u32::MAX / 2]", half, Some(u32::MAX as u64 - 1)),
        ("char[u32::MAX][u32::MAX]", big, None),
        ("a count past u64 as well", huge, None),
    ];
    for rule in [Overflow::EachArray, Overflow::Total] {
        for &(what, id, want) in cases {
            assert_eq!(size_of(&btf, id, 8, rule), want, "{what} {rule:?}");
        }
    }
}

#[test]
fn overflow_rules_differ_only_when_a_zero_follows_a_huge_count() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let empty = b.strukt("empty", 0, &[]);
    let none = b.array(int, int, 0);
    let mid = b.array(none, int, 1 << 16);
    // [65536][65536][0]: the count reaches 2^32 before the zero.
    let zero_last = b.array(mid, int, 1 << 16);
    let e16 = b.array(empty, int, 1 << 16);
    // struct empty[65536][65536]: 2^32 elements of size 0.
    let zero_size = b.array(e16, int, 1 << 16);
    let btf = b.build();
    for id in [zero_last, zero_size] {
        // libbpf stops at the count (E2BIG); the 64-bit product is 0.
        assert_eq!(size_of(&btf, id, 8, Overflow::EachArray), None, "type {id}");
        assert_eq!(size_of(&btf, id, 8, Overflow::Total), Some(0), "type {id}");
    }
}

/// A chain of `n` typedefs ending in an int; returns the chain's head.
fn typedef_chain(b: &mut Builder, n: usize) -> TypeId {
    let mut id = b.int("int", 4);
    for i in 0..n {
        id = b.typedef(&format!("t{i}"), id);
    }
    id
}

#[test]
fn size_of_gives_up_after_max_resolve_depth_types() {
    // 31 typedefs and the int are 32 types: the last one libbpf still reaches.
    let cases = [
        (0, Some(4)),
        (1, Some(4)),
        (31, Some(4)),
        (32, None),
        (40, None),
    ];
    for (n, want) in cases {
        let mut b = Builder::new();
        let head = typedef_chain(&mut b, n);
        let btf = b.build();
        assert_eq!(size8(&btf, head), want, "{n} typedefs");
    }
}

#[test]
fn size_of_a_loop_is_none() {
    let mut b = Builder::new();
    // const -> itself; typedef a -> typedef b -> a; an array of itself.
    let next = b.btf().type_count();
    let c = b.konst(next);
    let next = b.btf().type_count();
    let ta = b.typedef("a", next + 1);
    b.typedef("b", ta);
    let int = b.int("int", 4);
    let next = b.btf().type_count();
    let arr = b.array(next, int, 2);
    let btf = b.build();
    for id in [c, ta, arr] {
        assert_eq!(size8(&btf, id), None, "type {id}");
    }
}

#[test]
fn skip_stops_at_the_first_kind_it_does_not_skip() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let td = b.typedef("u32_t", int);
    let cv = b.volatile(td);
    let ccv = b.konst(cv);
    let tag = b.type_tag("rcu", ccv);
    let r = b.restrict(tag);
    let p = b.ptr(r);
    let cp = b.konst(p);
    let cvoid = b.konst(0);
    let bad = b.konst(500);
    let next = b.btf().type_count();
    let looped = b.volatile(next);
    let btf = b.build();
    use Skip::{Modifiers as M, ModifiersAndTypedefs as MT};
    /// `(what, start, kinds skipped, most types looked at, result)`.
    type Row = (&'static str, TypeId, Skip, usize, Result<TypeId, TypeId>);
    let cases: &[Row] = &[
        ("modifiers stop at the typedef", r, M, 32, Ok(td)),
        ("and typedefs go through it", r, MT, 32, Ok(int)),
        ("a non-modifier is returned as is", int, MT, 32, Ok(int)),
        ("typedef, modifiers only", td, M, 32, Ok(td)),
        ("pointers are not skipped", cp, MT, 32, Ok(p)),
        ("const void", cvoid, MT, 32, Ok(0)),
        ("void", 0, M, 32, Ok(0)),
        ("an id out of range stops the walk", bad, MT, 32, Ok(500)),
        // r, tag, ccv, cv, td: five types to skip before the int.
        ("five types looked at, all skipped", r, MT, 5, Err(int)),
        ("six types looked at", r, MT, 6, Ok(int)),
        ("no type looked at", r, MT, 0, Err(r)),
        ("a loop hits the limit", looped, M, 32, Err(looped)),
    ];
    for &(what, id, skip_what, max, want) in cases {
        assert_eq!(skip(&btf, id, skip_what, max), want, "{what}");
    }
}

#[test]
#[cfg(feature = "dwarf")]
fn skip_mods_and_typedefs_returns_where_it_stopped() {
    let mut b = Builder::new();
    let head = typedef_chain(&mut b, 40);
    let int = head - 40;
    let short = typedef_chain(&mut b, 3);
    let next = b.btf().type_count();
    let looped = b.typedef("self", next);
    let btf = b.build();
    // 32 typedefs are followed; the 33rd (counting down from the head) is where it
    // stops: id head - 32.
    assert_eq!(skip_mods_and_typedefs(&btf, head), head - 32);
    assert_eq!(skip_mods_and_typedefs(&btf, head - 8), int);
    assert_eq!(skip_mods_and_typedefs(&btf, short), short - 3);
    assert_eq!(skip_mods_and_typedefs(&btf, looped), looped);
    assert_eq!(skip_mods_and_typedefs(&btf, 0), 0);
}

#[test]
fn modifiers_are_const_volatile_restrict_and_type_tags() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let ids = [
        (b.konst(int), true),
        (b.volatile(int), true),
        (b.restrict(int), true),
        (b.type_tag("user", int), true),
        (b.typedef("t", int), false),
        (b.ptr(int), false),
        (b.array(int, int, 1), false),
        (b.decl_tag("d", int, -1), false),
        (int, false),
    ];
    let btf = b.build();
    for (id, want) in ids {
        let kind = &btf.get(id).unwrap().kind;
        assert_eq!(is_modifier(kind), want, "{}", kind.label());
    }
}

#[test]
fn pointer_size_comes_from_long() {
    /// `(integer types as (name, size), pointer size)`.
    type Row = (&'static [(&'static str, u32)], Option<u64>);
    let cases: &[Row] = &[
        (&[("int", 4), ("long", 8)], Some(8)),
        (&[("long int", 4)], Some(4)),
        (&[("long unsigned int", 8)], Some(8)),
        (&[("int long unsigned", 4)], Some(4)),
        // `long long` is not a `long`, and neither is a 2-byte one.
        (&[("long long", 8), ("int", 4)], None),
        (&[("long", 2)], None),
        // The first `long` found decides.
        (&[("unsigned long", 4), ("long", 8)], Some(4)),
        (&[], None),
    ];
    for &(ints, want) in cases {
        let mut b = Builder::new();
        for &(name, size) in ints {
            b.int(name, size);
        }
        assert_eq!(guess_ptr_size(&b.build()), want, "{ints:?}");
    }
}
