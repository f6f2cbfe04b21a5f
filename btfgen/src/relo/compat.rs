//! Type helpers and the three compatibility relations of libbpf's CO-RE:
//! fields-are-compatible, types-are-compatible and types-match.

use super::CoreError;
use crate::btf::query::{self, Overflow, Skip, MAX_RESOLVE_DEPTH};
use crate::btf::{Btf, Enum, Kind, Type, TypeId, INT_SIGNED};

/// The type `id`: `Ok(None)` for void, an error for an id out of range.
pub(crate) fn ty(btf: &Btf, id: TypeId) -> Result<Option<&Type>, CoreError> {
    if id == 0 {
        return Ok(None);
    }
    btf.get(id).map(Some).ok_or(CoreError::BadTypeId(id))
}

/// Skips modifiers (`const`, `volatile`, `restrict`, type tags) and typedefs; returns
/// the id reached and its type (`None` for void). Only a loop stops the walk early
/// (an error), as libbpf's `skip_mods_and_typedefs` has no depth limit.
pub(crate) fn skip_mods(btf: &Btf, id: TypeId) -> Result<(TypeId, Option<&Type>), CoreError> {
    // An acyclic chain cannot visit more types than there are.
    let max = btf.type_count() as usize + 1;
    let id = query::skip(btf, id, Skip::ModifiersAndTypedefs, max)
        .map_err(|id| CoreError::Invalid(format!("type [{id}] has a modifier loop")))?;
    Ok((id, ty(btf, id)?))
}

/// The numeric BTF kind (0 for void).
pub(crate) fn kind_code(t: Option<&Type>) -> u8 {
    t.map_or(0, |t| t.kind.code())
}

fn is_enum(t: Option<&Type>) -> Option<&Enum> {
    match t.map(|t| &t.kind) {
        Some(Kind::Enum(e) | Kind::Enum64(e)) => Some(e),
        _ => None,
    }
}

fn is_composite(t: Option<&Type>) -> bool {
    matches!(t.map(|t| &t.kind), Some(Kind::Struct(_) | Kind::Union(_)))
}

/// Same kind, counting ENUM and ENUM64 as one (`btf_kind_core_compat`).
pub(crate) fn kinds_compat(a: Option<&Type>, b: Option<&Type>) -> bool {
    kind_code(a) == kind_code(b) || (is_enum(a).is_some() && is_enum(b).is_some())
}

/// `btf__resolve_size` as the CO-RE engine computes it: 8-byte pointers, element
/// counts multiplied in 64 bits ([`Overflow::Total`]); an error for a type without a
/// size.
pub(crate) fn size_of(btf: &Btf, id: TypeId) -> Result<u64, CoreError> {
    query::size_of(btf, id, query::KERNEL_PTR_SIZE, Overflow::Total)
        .ok_or_else(|| CoreError::Invalid(format!("type [{id}] has no size")))
}

/// Length of `name` without its `___flavor` suffix (`bpf_core_essential_name_len`).
pub(crate) fn essential_len(name: &[u8]) -> usize {
    let n = name.len();
    for i in (0..n.saturating_sub(4)).rev() {
        let s = &name[i..i + 5];
        if s[0] != b'_' && s[1] == b'_' && s[2] == b'_' && s[3] == b'_' && s[4] != b'_' {
            return i + 1;
        }
    }
    n
}

/// `name` without its flavor suffix.
pub(crate) fn essential(name: &[u8]) -> &[u8] {
    &name[..essential_len(name)]
}

fn name_of<'a>(btf: &'a Btf, t: Option<&Type>) -> &'a [u8] {
    t.and_then(|t| btf.name_bytes(t.name)).unwrap_or_default()
}

/// `bpf_core_fields_are_compat`: can a local field of type `lid` be read from a
/// target field of type `tid`.
pub(crate) fn fields_compat(
    lb: &Btf,
    lid: TypeId,
    tb: &Btf,
    tid: TypeId,
) -> Result<bool, CoreError> {
    let (mut lid, mut tid) = (lid, tid);
    // Each round descends one array level; a longer chain than the type count is a loop.
    for _ in 0..=lb.type_count() {
        let (_, l) = skip_mods(lb, lid)?;
        let (_, t) = skip_mods(tb, tid)?;
        if is_composite(l) && is_composite(t) {
            return Ok(true);
        }
        if !kinds_compat(l, t) {
            return Ok(false);
        }
        match (l.map(|t| &t.kind), t.map(|t| &t.kind)) {
            (Some(Kind::Ptr(_) | Kind::Float { .. }), _) => return Ok(true),
            (Some(Kind::Fwd { .. } | Kind::Enum(_) | Kind::Enum64(_)), _) => {
                let ln = essential(name_of(lb, l));
                let tn = essential(name_of(tb, t));
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            (Some(Kind::Int(a)), Some(Kind::Int(b))) => return Ok(a.offset == 0 && b.offset == 0),
            (Some(Kind::Array(a)), Some(Kind::Array(b))) => (lid, tid) = (a.elem, b.elem),
            _ => return Ok(false),
        }
    }
    Err(CoreError::Invalid("array type loop".into()))
}

/// `bpf_core_types_are_compat`: the relation behind TYPE_ID_TARGET, TYPE_EXISTS and
/// TYPE_SIZE.
pub(crate) fn types_compat(
    lb: &Btf,
    lid: TypeId,
    tb: &Btf,
    tid: TypeId,
) -> Result<bool, CoreError> {
    types_compat_at(lb, lid, tb, tid, MAX_RESOLVE_DEPTH as i32)
}

fn types_compat_at(
    lb: &Btf,
    lid: TypeId,
    tb: &Btf,
    tid: TypeId,
    level: i32,
) -> Result<bool, CoreError> {
    if !kinds_compat(ty(lb, lid)?, ty(tb, tid)?) {
        return Ok(false);
    }
    let (mut lid, mut tid) = (lid, tid);
    for _ in 0..MAX_RESOLVE_DEPTH {
        let (_, l) = skip_mods(lb, lid)?;
        let (_, t) = skip_mods(tb, tid)?;
        if !kinds_compat(l, t) {
            return Ok(false);
        }
        let (Some(l), Some(t)) = (l, t) else {
            return Ok(true);
        };
        match (&l.kind, &t.kind) {
            (
                Kind::Struct(_)
                | Kind::Union(_)
                | Kind::Enum(_)
                | Kind::Enum64(_)
                | Kind::Fwd { .. },
                _,
            ) => return Ok(true),
            (Kind::Int(a), Kind::Int(b)) => return Ok(a.offset == 0 && b.offset == 0),
            (Kind::Ptr(a), Kind::Ptr(b)) => (lid, tid) = (*a, *b),
            (Kind::Array(a), Kind::Array(b)) => (lid, tid) = (a.elem, b.elem),
            (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                if a.params.len() != b.params.len() {
                    return Ok(false);
                }
                for (lp, tp) in a.params.iter().zip(&b.params) {
                    if level <= 0 {
                        return Err(CoreError::Invalid("type nesting too deep".into()));
                    }
                    let (lp, _) = skip_mods(lb, lp.ty)?;
                    let (tp, _) = skip_mods(tb, tp.ty)?;
                    if !types_compat_at(lb, lp, tb, tp, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = skip_mods(lb, a.ret)?.0;
                tid = skip_mods(tb, b.ret)?.0;
            }
            _ => return Ok(false),
        }
    }
    Err(CoreError::Invalid("type nesting too deep".into()))
}

/// `bpf_core_names_match`: equal essential names; an anonymous target only matches
/// an anonymous local.
fn names_match(lb: &Btf, lname: u32, tb: &Btf, tname: u32) -> bool {
    let l = lb.name_bytes(lname).unwrap_or_default();
    let t = tb.name_bytes(tname).unwrap_or_default();
    if t.is_empty() {
        return l.is_empty();
    }
    essential(l) == essential(t)
}

/// `bpf_core_types_match`: the relation behind TYPE_MATCHES.
pub(crate) fn types_match(lb: &Btf, lid: TypeId, tb: &Btf, tid: TypeId) -> Result<bool, CoreError> {
    types_match_at(lb, lid, tb, tid, false, MAX_RESOLVE_DEPTH as i32)
}

fn types_match_at(
    lb: &Btf,
    lid: TypeId,
    tb: &Btf,
    tid: TypeId,
    mut behind_ptr: bool,
    level: i32,
) -> Result<bool, CoreError> {
    if level <= 0 {
        return Err(CoreError::Invalid("type nesting too deep".into()));
    }
    let (mut lid, mut tid) = (lid, tid);
    for _ in 0..MAX_RESOLVE_DEPTH {
        let (_, l) = skip_mods(lb, lid)?;
        let (_, t) = skip_mods(tb, tid)?;
        let lname = l.map_or(0, |l| l.name);
        let tname = t.map_or(0, |t| t.name);
        if !names_match(lb, lname, tb, tname) {
            return Ok(false);
        }
        let Some(l) = l else {
            return Ok(t.is_none());
        };
        let Some(t) = t else { return Ok(false) };
        match (&l.kind, &t.kind) {
            (Kind::Fwd { union: lu }, tk) => {
                return Ok(match tk {
                    Kind::Fwd { union: tu } => lu == tu,
                    Kind::Struct(_) if behind_ptr => !lu,
                    Kind::Union(_) if behind_ptr => *lu,
                    _ => false,
                })
            }
            (Kind::Enum(a) | Kind::Enum64(a), Kind::Enum(b) | Kind::Enum64(b)) => {
                return Ok(enums_match(lb, a, tb, b))
            }
            (Kind::Struct(a), tk) | (Kind::Union(a), tk) => {
                let lu = matches!(l.kind, Kind::Union(_));
                return match tk {
                    Kind::Fwd { union } if behind_ptr => Ok(*union == lu),
                    Kind::Struct(_) if lu => Ok(false),
                    Kind::Union(_) if !lu => Ok(false),
                    Kind::Struct(b) | Kind::Union(b) => {
                        if behind_ptr {
                            return Ok(true);
                        }
                        composites_match(lb, a, tb, b, level)
                    }
                    _ => Ok(false),
                };
            }
            (Kind::Int(a), Kind::Int(b)) => {
                return Ok(
                    a.size == b.size && (a.encoding & INT_SIGNED) == (b.encoding & INT_SIGNED)
                )
            }
            (Kind::Ptr(a), Kind::Ptr(b)) => {
                behind_ptr = true;
                (lid, tid) = (*a, *b);
            }
            (Kind::Array(a), Kind::Array(b)) => {
                if a.nelems != b.nelems {
                    return Ok(false);
                }
                (lid, tid) = (a.elem, b.elem);
            }
            (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                if a.params.len() != b.params.len() {
                    return Ok(false);
                }
                for (lp, tp) in a.params.iter().zip(&b.params) {
                    if !types_match_at(lb, lp.ty, tb, tp.ty, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                (lid, tid) = (a.ret, b.ret);
            }
            _ => return Ok(false),
        }
    }
    Err(CoreError::Invalid("type nesting too deep".into()))
}

fn enums_match(lb: &Btf, a: &Enum, tb: &Btf, b: &Enum) -> bool {
    a.size == b.size
        && a.values.len() <= b.values.len()
        && a.values.iter().all(|lv| {
            b.values
                .iter()
                .any(|tv| names_match(lb, lv.name, tb, tv.name))
        })
}

fn composites_match(
    lb: &Btf,
    a: &crate::btf::Composite,
    tb: &Btf,
    b: &crate::btf::Composite,
    level: i32,
) -> Result<bool, CoreError> {
    if a.members.len() > b.members.len() {
        return Ok(false);
    }
    for lm in &a.members {
        let mut matched = false;
        for tm in &b.members {
            if names_match(lb, lm.name, tb, tm.name)
                && types_match_at(lb, lm.ty, tb, tm.ty, false, level - 1)?
            {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
#[path = "compat_tests.rs"]
mod tests;
