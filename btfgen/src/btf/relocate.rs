//! Relocating split BTF from its distilled base onto a full base: libbpf 1.5's
//! `btf__relocate` (what libbpf and bpftool do to a module whose ELF has `.BTF.base`
//! when they are given the running kernel's BTF), reimplemented from its rules.
//!
//! Every type of the distilled base ([`super::distill()`]) is looked up by name in the
//! full base:
//! - INT, FLOAT, ENUM and ENUM64 base types match on name and size; an INT also on its
//!   encoding, and a distilled ENUM matches an ENUM or an ENUM64;
//! - a base STRUCT or UNION matches on name alone, or on name and size when the base has
//!   more than one aggregate of that name; a distilled aggregate that a split aggregate
//!   embeds (a member of it, through typedefs, modifiers and arrays, not pointers) must
//!   have the same size whatever the base holds; a distilled FWD matches a base FWD of
//!   the same flavour, and (libbpf's rule, kept as it is) a base STRUCT whose `kind_flag`
//!   is clear or a base UNION whose `kind_flag` is set;
//! - two base types matching one distilled type is an error, and so is a distilled
//!   type that nothing matches.
//!
//! The split BTF keeps its types in order: its ids move by the difference of the two
//! bases' type counts, its string offsets by that of their string tables, and its
//! references to distilled types and their names become the base's.
//!
//! One difference from libbpf 1.5.0: it looks for embedded aggregates in only part of the
//! split BTF (fixed in libbpf 1.6, commit "Fix incorrect traversal end type ID when
//! marking BTF_IS_EMBEDDED"); this looks in all of it, as 1.6 does.

use std::collections::HashMap;
use std::sync::Arc;

use super::query::MAX_RESOLVE_DEPTH;
use super::{Btf, Kind, Strings, Type, TypeId};

/// Why split BTF could not be relocated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelocateError {
    /// The BTF is not split BTF, so has no distilled base to relocate from.
    #[error("relocating needs split BTF on a distilled base")]
    NotSplit,
    /// The distilled base holds a type a distilled base cannot have.
    #[error("distilled base type {id} is {what}")]
    BadDistilledType {
        /// The type's id.
        id: TypeId,
        /// What is wrong: anonymous, or of which kind.
        what: String,
    },
    /// Two base types match one distilled type.
    #[error("distilled base type '{name}' [{id}] matches base types {first} and {second}")]
    Ambiguous {
        /// The distilled type's name.
        name: String,
        /// Its id.
        id: TypeId,
        /// The base type matched first.
        first: TypeId,
        /// The other one.
        second: TypeId,
    },
    /// No base type matches a distilled type.
    #[error("distilled base type '{name}' [{id}] has no match in the base BTF")]
    Unmatched {
        /// The distilled type's name.
        name: String,
        /// Its id.
        id: TypeId,
    },
    /// A split name points into the distilled base's strings at no distilled type's
    /// name.
    #[error("split BTF name at offset {0} is in the distilled base and names no distilled type")]
    UnmappedString(u32),
}

/// Checks that `dist` holds only named INT, FLOAT, ENUM, STRUCT, UNION and FWD types.
fn validate(dist: &Btf) -> Result<(), RelocateError> {
    for (id, t) in dist.iter() {
        let allowed = matches!(
            t.kind,
            Kind::Int(_)
                | Kind::Float { .. }
                | Kind::Enum(_)
                | Kind::Struct(_)
                | Kind::Union(_)
                | Kind::Fwd { .. }
        );
        let what = if !allowed {
            format!("of kind {}", t.kind.label())
        } else if t.name == 0 {
            format!("an anonymous {}", t.kind.label())
        } else {
            continue;
        };
        return Err(RelocateError::BadDistilledType { id, what });
    }
    Ok(())
}

/// Distilled aggregates (ids below `n_dist`) that a split aggregate holds by value.
fn embedded(split: &Btf, n_dist: TypeId) -> Vec<bool> {
    let mut out = vec![false; n_dist as usize];
    for t in split.types() {
        let (Kind::Struct(c) | Kind::Union(c)) = &t.kind else {
            continue;
        };
        for m in &c.members {
            let mut id = m.ty;
            for _ in 0..MAX_RESOLVE_DEPTH {
                match split.get(id).map(|t| &t.kind) {
                    Some(
                        Kind::Const(n)
                        | Kind::Restrict(n)
                        | Kind::Volatile(n)
                        | Kind::Typedef(n)
                        | Kind::TypeTag { ty: n, .. },
                    ) => id = *n,
                    Some(Kind::Array(a)) => id = a.elem,
                    Some(Kind::Struct(_) | Kind::Union(_)) => {
                        if id < n_dist {
                            out[id as usize] = true;
                        }
                        break;
                    }
                    _ => break,
                }
            }
        }
    }
    out
}

/// Whether distilled type `d` may stand for base type `b` (names already equal).
fn compatible(d: &Kind, b: &Kind, size_must_match: bool) -> bool {
    match (d, b) {
        (Kind::Fwd { union }, Kind::Fwd { union: u }) => union == u,
        // libbpf compares the base aggregate's kind_flag (its bitfield flag) here.
        (Kind::Fwd { .. }, Kind::Struct(c)) => !c.has_bitfields(),
        (Kind::Fwd { .. }, Kind::Union(c)) => c.has_bitfields(),
        (Kind::Int(x), Kind::Int(y)) => x.encoding == y.encoding,
        (Kind::Float { .. }, Kind::Float { .. }) => true,
        (Kind::Enum(_), Kind::Enum(_) | Kind::Enum64(_)) => true,
        (Kind::Struct(_) | Kind::Union(_), _) => {
            !size_must_match || d.size().unwrap_or(0) == b.size().unwrap_or(0)
        }
        _ => false,
    }
}

/// Distilled id -> base id for every distilled type.
fn match_distilled(split: &Btf, dist: &Btf, base: &Btf) -> Result<Vec<TypeId>, RelocateError> {
    let n_dist = dist.type_count();
    let embedded = embedded(split, n_dist);
    let mut by_name: HashMap<&[u8], Vec<TypeId>> = HashMap::new();
    for (id, t) in dist.iter() {
        let name = dist.name_bytes(t.name).unwrap_or_default();
        by_name.entry(name).or_default().push(id);
    }
    let mut aggregates: HashMap<&[u8], u32> = HashMap::new();
    for (_, t) in base.iter() {
        if t.name != 0 && matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) {
            *aggregates
                .entry(base.name_bytes(t.name).unwrap_or_default())
                .or_default() += 1;
        }
    }
    let mut map = vec![0 as TypeId; n_dist as usize];
    for (bid, b) in base.iter() {
        if b.name == 0 {
            continue;
        }
        let name = base.name_bytes(b.name).unwrap_or_default();
        // The base type's size when the match needs one.
        let size = match &b.kind {
            Kind::Int(_) | Kind::Float { .. } | Kind::Enum(_) | Kind::Enum64(_) => b.kind.size(),
            Kind::Fwd { .. } => None,
            Kind::Struct(_) | Kind::Union(_) if aggregates.get(name) > Some(&1) => b.kind.size(),
            Kind::Struct(_) | Kind::Union(_) => None,
            _ => continue,
        };
        for &did in by_name.get(name).map_or(&[][..], Vec::as_slice) {
            let d = dist.get(did).expect("distilled id");
            // A FWD's size field is 0.
            if size.is_some_and(|s| s != d.kind.size().unwrap_or(0)) {
                continue;
            }
            let slot = &mut map[did as usize];
            if !compatible(&d.kind, &b.kind, embedded[did as usize] && *slot == 0) {
                continue;
            }
            if *slot != 0 {
                return Err(RelocateError::Ambiguous {
                    name: String::from_utf8_lossy(name).into_owned(),
                    id: did,
                    first: *slot,
                    second: bid,
                });
            }
            *slot = bid;
        }
    }
    if let Some((id, t)) = dist.iter().find(|(id, _)| map[*id as usize] == 0) {
        return Err(RelocateError::Unmatched {
            name: dist.name(t.name).into_owned(),
            id,
        });
    }
    Ok(map)
}

/// Relocates `split` (on its distilled base) onto `base`: see the module documentation.
pub fn relocate(split: &Btf, base: Arc<Btf>) -> Result<Btf, RelocateError> {
    let dist = split.base().ok_or(RelocateError::NotSplit)?;
    validate(dist)?;
    let map = match_distilled(split, dist, &base)?;
    let (n_dist, n_base) = (dist.type_count(), base.type_count());
    let (dist_end, base_end) = (dist.strings_end(), base.strings_end());
    let names: HashMap<u32, u32> = dist
        .iter()
        .map(|(id, t)| (t.name, base.get(map[id as usize]).expect("matched").name))
        .collect();
    let mut types: Vec<Type> = split.types().to_vec();
    for t in &mut types {
        t.kind.for_each_ref_mut(|id| {
            *id = if *id >= n_dist {
                *id - n_dist + n_base
            } else {
                map[*id as usize]
            }
        });
    }
    for t in &mut types {
        let mut bad = None;
        t.for_each_name_mut(|off| {
            if *off >= dist_end {
                *off = *off - dist_end + base_end;
            } else if *off != 0 {
                match names.get(off) {
                    Some(&b) => *off = b,
                    None => bad = Some(*off),
                }
            }
        });
        if let Some(off) = bad {
            return Err(RelocateError::UnmappedString(off));
        }
    }
    let strings = Strings::from_raw(base_end, split.strings().as_bytes().to_vec());
    Ok(Btf::from_parts(
        Some(base.clone()),
        types,
        strings,
        split.endian(),
    ))
}

#[cfg(test)]
#[path = "relocate_tests.rs"]
mod tests;
