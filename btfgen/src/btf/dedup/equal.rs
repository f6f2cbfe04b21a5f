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
