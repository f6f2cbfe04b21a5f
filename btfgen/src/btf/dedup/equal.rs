//! Shallow comparisons of two types (libbpf `btf_equal_*` / `btf_compat_*`): everything
//! but the ids they refer to, which the passes compare (or have made canonical) first.

use crate::btf::types::*;

/// Whether `t` is an ENUM or an ENUM64.
fn is_any_enum(t: &Type) -> bool {
    matches!(t.kind, Kind::Enum(_) | Kind::Enum64(_))
}

/// Whether `t` is an enum forward declaration (an ENUM or ENUM64 without values).
pub(super) fn is_enum_fwd(t: &Type) -> bool {
    matches!(&t.kind, Kind::Enum(e) | Kind::Enum64(e) if e.values.is_empty())
}

/// Whether `t` is a struct/union FWD.
pub(super) fn is_fwd(t: Option<&Type>) -> bool {
    matches!(
        t,
        Some(Type {
            kind: Kind::Fwd { .. },
            ..
        })
    )
}

/// Exact equality of two ENUMs or two ENUM64s (ENUM values compare as 32-bit words).
pub(super) fn enum_equal(a: &Type, b: &Type) -> bool {
    if a.name != b.name {
        return false;
    }
    let (x, y, wide) = match (&a.kind, &b.kind) {
        (Kind::Enum(x), Kind::Enum(y)) => (x, y, false),
        (Kind::Enum64(x), Kind::Enum64(y)) => (x, y, true),
        _ => return false,
    };
    x.size == y.size
        && x.signed == y.signed
        && x.values.len() == y.values.len()
        && x.values.iter().zip(&y.values).all(|(p, q)| {
            p.name == q.name
                && if wide {
                    p.value == q.value
                } else {
                    p.value as u32 == q.value as u32
                }
        })
}

/// libbpf `btf_compat_enum`: equal, or one is a forward declaration of the other
/// (any size, ENUM vs ENUM64 allowed).
pub(super) fn enum_compat(a: &Type, b: &Type) -> bool {
    if !is_enum_fwd(a) && !is_enum_fwd(b) {
        return enum_equal(a, b);
    }
    a.name == b.name && is_any_enum(a) && is_any_enum(b)
}

/// libbpf `btf_shallow_equal_struct`: everything but the member types.
pub(super) fn shallow_struct_eq(a: &Type, b: &Type) -> bool {
    if a.name != b.name {
        return false;
    }
    let (x, y) = match (&a.kind, &b.kind) {
        (Kind::Struct(x), Kind::Struct(y)) | (Kind::Union(x), Kind::Union(y)) => (x, y),
        _ => return false,
    };
    x.size == y.size
        && x.members.len() == y.members.len()
        && x.members.iter().zip(&y.members).all(|(p, q)| {
            p.name == q.name && p.bit_offset == q.bit_offset && p.bitfield_size == q.bitfield_size
        })
}

/// Two TYPEDEFs of one name (the target is compared by the equivalence check).
pub(super) fn typedef_eq(a: &Type, b: &Type) -> bool {
    a.name == b.name && matches!((&a.kind, &b.kind), (Kind::Typedef(_), Kind::Typedef(_)))
}

/// libbpf `btf_compat_array`: everything but the element and index types.
pub(super) fn compat_array(a: &Type, b: &Type) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Array(x), Kind::Array(y)) => a.name == b.name && x.nelems == y.nelems,
        _ => false,
    }
}

/// libbpf `btf_compat_fnproto`: everything but the return and parameter types.
pub(super) fn compat_fnproto(a: &Type, b: &Type) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::FuncProto(x), Kind::FuncProto(y)) => {
            a.name == b.name
                && x.params.len() == y.params.len()
                && x.params
                    .iter()
                    .zip(&y.params)
                    .all(|(p, q)| p.name == q.name)
        }
        _ => false,
    }
}

/// The single-reference kinds whose `info` word carries more than the kind.
pub(super) fn modifier_info_eq(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Func { linkage: x, .. }, Kind::Func { linkage: y, .. }) => x == y,
        (Kind::TypeTag { attr: x, .. }, Kind::TypeTag { attr: y, .. }) => x == y,
        _ => true,
    }
}

/// Kinds handled by the reference pass (TYPEDEF is done in the struct pass, as in
/// libbpf ≥ 1.7).
pub(super) fn is_ref_kind(k: &Kind) -> bool {
    matches!(
        k,
        Kind::Ptr(_)
            | Kind::Const(_)
            | Kind::Volatile(_)
            | Kind::Restrict(_)
            | Kind::Func { .. }
            | Kind::TypeTag { .. }
            | Kind::DeclTag { .. }
            | Kind::Array(_)
            | Kind::FuncProto(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::test_util::Builder;
    use crate::btf::Btf;

    /// Runs `pred` over `(a, b, verdict)` rows of ids of `btf`, both ways round (every
    /// predicate here is symmetric, as libbpf's are).
    fn check(btf: &Btf, pred: fn(&Type, &Type) -> bool, rows: &[(&str, TypeId, TypeId, bool)]) {
        for &(what, a, b, want) in rows {
            let (x, y) = (btf.get(a).unwrap(), btf.get(b).unwrap());
            assert_eq!(pred(x, y), want, "{what}");
            assert_eq!(pred(y, x), want, "{what} (swapped)");
        }
    }

    #[test]
    fn enum_equal_and_compat() {
        let mut b = Builder::new();
        let e = b.enm("e", &[("A", 1), ("B", 2)]);
        let same = b.enm("e", &[("A", 1), ("B", 2)]);
        let other_value = b.enm("e", &[("A", 1), ("B", 3)]);
        let other_name = b.enm("e", &[("A", 1), ("C", 2)]);
        let fewer = b.enm("e", &[("A", 1)]);
        let decl = b.enm("e", &[]);
        let decl8 = b.enum_sized("e", 8, true, &[]);
        let wide = b.enum64("e", false, &[("A", 1), ("B", 2)]);
        let f = b.enm("f", &[("A", 1), ("B", 2)]);
        let signed = b.enum_sized("e", 4, true, &[("A", 1), ("B", 2)]);
        // ENUM values are 32-bit words: 1 and 1 + 2^32 are the same value.
        let hi = b.enm("e", &[("A", 1 + (1 << 32)), ("B", 2)]);
        let w1 = b.enum64("w", false, &[("A", 1)]);
        let w2 = b.enum64("w", false, &[("A", 1 + (1 << 32))]);
        let btf = b.build();
        check(
            &btf,
            enum_equal,
            &[
                ("identical", e, same, true),
                ("a value differs", e, other_value, false),
                ("an enumerator name differs", e, other_name, false),
                ("fewer enumerators", e, fewer, false),
                ("the type name differs", e, f, false),
                ("signedness differs", e, signed, false),
                ("ENUM vs ENUM64", e, wide, false),
                ("ENUM values compare as 32 bits", e, hi, true),
                ("ENUM64 values compare as 64 bits", w1, w2, false),
                (
                    "a declaration is not equal to the definition",
                    e,
                    decl,
                    false,
                ),
            ],
        );
        check(
            &btf,
            enum_compat,
            &[
                ("equal enums", e, same, true),
                ("a value differs", e, other_value, false),
                ("declaration of the definition", e, decl, true),
                ("declaration of another size", e, decl8, true),
                ("declaration vs ENUM64 definition", wide, decl, true),
                ("two declarations", decl, decl8, true),
                ("declaration of another name", f, decl, false),
            ],
        );
    }

    #[test]
    fn shallow_struct_eq_ignores_member_types_only() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let long = b.int("long", 8);
        let s = b.strukt("s", 8, &[("a", int, 0), ("b", int, 32)]);
        let types = b.strukt("s", 8, &[("a", long, 0), ("b", long, 32)]);
        let offset = b.strukt("s", 8, &[("a", int, 0), ("b", int, 16)]);
        let names = b.strukt("s", 8, &[("a", int, 0), ("c", int, 32)]);
        let size = b.strukt("s", 12, &[("a", int, 0), ("b", int, 32)]);
        let count = b.strukt("s", 8, &[("a", int, 0)]);
        let bits = b.strukt_bits("s", 8, &[("a", int, 0, 0), ("b", int, 32, 3)]);
        let union = b.union("s", 8, &[("a", int, 0), ("b", int, 32)]);
        let u2 = b.union("s", 8, &[("a", long, 0), ("b", int, 32)]);
        let t = b.strukt("t", 8, &[("a", int, 0), ("b", int, 32)]);
        let fwd = b.fwd("s", false);
        let btf = b.build();
        check(
            &btf,
            shallow_struct_eq,
            &[
                ("member types differ", s, types, true),
                ("a member offset differs", s, offset, false),
                ("a member name differs", s, names, false),
                ("the size differs", s, size, false),
                ("a member is missing", s, count, false),
                ("a bitfield size differs", s, bits, false),
                ("struct vs union", s, union, false),
                ("two unions, member types differ", union, u2, true),
                ("the name differs", s, t, false),
                ("a FWD of the name", s, fwd, false),
            ],
        );
    }

    #[test]
    fn typedef_array_and_fnproto_compat() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let long = b.int("long", 8);
        let ta = b.typedef("t", int);
        let tb = b.typedef("t", long);
        let tc = b.typedef("u", int);
        let tint = b.typedef("int", int);
        let a4 = b.array(int, int, 4);
        let a4l = b.array(long, long, 4);
        let a5 = b.array(int, int, 5);
        let p = b.func_proto(int, &[("x", int), ("y", int)]);
        let p_types = b.func_proto(long, &[("x", long), ("y", long)]);
        let p_names = b.func_proto(int, &[("x", int), ("z", int)]);
        let p_arity = b.func_proto(int, &[("x", int)]);
        let btf = b.build();
        check(
            &btf,
            typedef_eq,
            &[
                ("target differs", ta, tb, true),
                ("name differs", ta, tc, false),
                ("typedef vs INT of the same name", tint, int, false),
            ],
        );
        check(
            &btf,
            compat_array,
            &[
                ("element and index types differ", a4, a4l, true),
                ("length differs", a4, a5, false),
                ("array vs typedef", a4, ta, false),
            ],
        );
        check(
            &btf,
            compat_fnproto,
            &[
                ("return and parameter types differ", p, p_types, true),
                ("a parameter name differs", p, p_names, false),
                ("parameter count differs", p, p_arity, false),
                ("proto vs array", p, a4, false),
            ],
        );
    }

    #[test]
    fn modifier_info_eq_compares_linkage_and_attr_only() {
        let func = |linkage| Kind::Func { proto: 1, linkage };
        let tag = |attr| Kind::TypeTag { ty: 1, attr };
        let cases = [
            ("FUNCs of one linkage", func(0), func(0), true),
            ("static vs global FUNC", func(0), func(1), false),
            ("type tag vs attribute tag", tag(false), tag(true), false),
            ("equal type tags", tag(false), tag(false), true),
            ("PTRs (nothing in info)", Kind::Ptr(1), Kind::Ptr(2), true),
            (
                "CONSTs (nothing in info)",
                Kind::Const(1),
                Kind::Const(1),
                true,
            ),
        ];
        for (what, a, b, want) in cases {
            assert_eq!(modifier_info_eq(&a, &b), want, "{what}");
        }
    }

    /// Which kinds the reference pass handles: everything but the ones the prim and
    /// struct passes own (INT, FWD, FLOAT, enums; STRUCT, UNION, TYPEDEF) and VAR and
    /// DATASEC, which are never deduplicated.
    #[test]
    fn ref_kinds_are_those_of_libbpf_ref_pass() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let float = b.float("double", 8);
        let e = b.enm("e", &[("A", 0)]);
        let e64 = b.enum64("e", false, &[("A", 0)]);
        let fwd = b.fwd("s", false);
        let s = b.strukt("s", 4, &[("a", int, 0)]);
        let u = b.union("u", 4, &[("a", int, 0)]);
        let t = b.typedef("t", int);
        let v = b.var("v", int, 0);
        let ds = b.datasec(".data", 4, &[(v, 0, 4)]);
        let refs = [
            b.ptr(int),
            b.konst(int),
            b.volatile(int),
            b.restrict(int),
            b.type_tag("tag", int),
            b.decl_tag("tag", s, -1),
            b.array(int, int, 2),
        ];
        let proto = b.func_proto(int, &[]);
        let func = b.func("f", proto);
        let btf = b.build();
        let kind = |id| &btf.get(id).unwrap().kind;
        for id in [int, float, e, e64, fwd, s, u, t, v, ds] {
            assert!(!is_ref_kind(kind(id)), "{}", kind(id).label());
        }
        for id in refs.into_iter().chain([proto, func]) {
            assert!(is_ref_kind(kind(id)), "{}", kind(id).label());
        }
    }

    #[test]
    fn declarations_are_recognized() {
        let mut b = Builder::new();
        let decl = b.enm("e", &[]);
        let full = b.enm("e", &[("A", 0)]);
        let decl64 = b.enum64("e", false, &[]);
        let fwd = b.fwd("s", true);
        let int = b.int("int", 4);
        let btf = b.build();
        let t = |id| btf.get(id).unwrap();
        assert!(is_enum_fwd(t(decl)) && is_enum_fwd(t(decl64)));
        assert!(!is_enum_fwd(t(full)) && !is_enum_fwd(t(fwd)));
        assert!(is_fwd(Some(t(fwd))));
        assert!(!is_fwd(Some(t(decl))) && !is_fwd(Some(t(int))) && !is_fwd(None));
        assert!(is_any_enum(t(decl64)) && is_any_enum(t(full)) && !is_any_enum(t(int)));
    }
}
