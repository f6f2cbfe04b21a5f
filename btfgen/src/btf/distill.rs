//! Distilled base BTF: what pahole's `distilled_base` feature writes into a module's
//! `.BTF.base` (libbpf 1.5's `btf__distill_base`, reimplemented from its description).
//!
//! A module's split BTF refers to base (vmlinux) types by id, so it is only valid on the
//! exact vmlinux it was encoded against. Distilling keeps, of the base, only what is
//! needed to find the same types again in another build of that kernel
//! ([`super::relocate()`]): the named INT, FLOAT and FWD types the split BTF refers to,
//! and named STRUCT/UNION and ENUM/ENUM64 types reduced to their name and size (a
//! memberless STRUCT/UNION, a valueless unsigned ENUM). The other base types it refers to
//! (pointers, arrays, typedefs, modifiers, prototypes, type tags, and anonymous
//! aggregates and enums, kept whole) are copied into the split BTF after its own types,
//! in base id order; named aggregates are not looked into. The split BTF's ids are then
//! renumbered onto the smaller base.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Btf, Composite, Enum, Kind, Type, TypeId};

/// Why a BTF could not be distilled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DistillError {
    /// The BTF has no base to distill.
    #[error("distilling needs split BTF (a module encoded with a base)")]
    NotSplit,
    /// The split BTF refers to a base type of a kind a distilled base cannot describe
    /// (a FUNC, VAR, DATASEC or DECL_TAG).
    #[error(
        "split BTF refers to base type {id} of kind {kind}, which a distilled base cannot hold"
    )]
    UnexpectedRef {
        /// The base type's id.
        id: TypeId,
        /// Its kind, as bpftool names it.
        kind: &'static str,
    },
}

/// Where a needed base type goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Into the distilled base (reduced to name and size for aggregates and enums).
    Base,
    /// Into the split BTF, whole.
    Split,
}

fn place(t: &Type) -> Place {
    match t.kind {
        Kind::Int(_) | Kind::Float { .. } | Kind::Fwd { .. } => Place::Base,
        Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Enum64(_) if t.name != 0 => {
            Place::Base
        }
        _ => Place::Split,
    }
}

/// The kinds a split BTF may refer to in its base.
fn referable(k: &Kind) -> bool {
    !matches!(
        k,
        Kind::Func { .. } | Kind::Var { .. } | Kind::Datasec(_) | Kind::DeclTag { .. }
    )
}

/// Base ids the split BTF needs, by id (index 0 is void and never set).
fn needed_base_ids(split: &Btf, base: &Btf) -> Result<Vec<bool>, DistillError> {
    let n_base = split.start_id();
    let mut needed = vec![false; n_base as usize];
    let mut work: Vec<TypeId> = Vec::new();
    let mut visit = |kind: &Kind, work: &mut Vec<TypeId>| {
        kind.for_each_ref(|id| {
            if id != 0 && id < n_base && !needed[id as usize] {
                needed[id as usize] = true;
                work.push(id);
            }
        })
    };
    for t in split.types() {
        visit(&t.kind, &mut work);
    }
    while let Some(id) = work.pop() {
        let t = base
            .get(id)
            .expect("a base id below start_id is in the base");
        if !referable(&t.kind) {
            return Err(DistillError::UnexpectedRef {
                id,
                kind: t.kind.label(),
            });
        }
        // A named aggregate becomes memberless: what its members refer to is not needed.
        let named_aggregate = t.name != 0 && matches!(t.kind, Kind::Struct(_) | Kind::Union(_));
        if !named_aggregate {
            visit(&t.kind, &mut work);
        }
    }
    Ok(needed)
}

/// A distilled base and the split BTF renumbered onto it.
#[derive(Debug)]
pub struct Distilled {
    /// The distilled base (`.BTF.base`).
    pub base: Arc<Btf>,
    /// The split BTF on [`Distilled::base`] (`.BTF`).
    pub split: Btf,
}

/// Distills `split`'s base: see the module documentation.
pub fn distill(split: &Btf) -> Result<Distilled, DistillError> {
    let old_base = split.base().ok_or(DistillError::NotSplit)?;
    let n_base = split.start_id();
    let needed = needed_base_ids(split, old_base)?;
    // Old base id -> new id (0: not needed).
    let mut map = vec![0 as TypeId; n_base as usize];

    let mut base = Btf::new();
    base.set_endian(split.endian());
    let mut base_names: HashMap<Vec<u8>, u32> = HashMap::new();
    for id in 1..n_base {
        if !needed[id as usize] {
            continue;
        }
        let t = old_base.get(id).expect("base id");
        if place(t) != Place::Base {
            continue;
        }
        let bytes = old_base.name_bytes(t.name).unwrap_or_default();
        let name = base.add_bytes(bytes);
        if name != 0 {
            base_names.insert(bytes.to_vec(), name);
        }
        let kind = match &t.kind {
            Kind::Struct(c) => Kind::Struct(Composite {
                size: c.size,
                members: Vec::new(),
            }),
            Kind::Union(c) => Kind::Union(Composite {
                size: c.size,
                members: Vec::new(),
            }),
            Kind::Enum(e) | Kind::Enum64(e) => Kind::Enum(Enum {
                size: e.size,
                signed: false,
                values: Vec::new(),
            }),
            other => other.clone(),
        };
        map[id as usize] = base.add(Type { name, kind });
    }

    let base = Arc::new(base);
    let mut out = Btf::new_split(base.clone());
    let copy = |out: &mut Btf, from: &Btf, t: &Type| {
        let mut t = t.clone();
        t.for_each_name_mut(|off| {
            let bytes = from.name_bytes(*off).unwrap_or_default();
            *off = match base_names.get(bytes) {
                Some(&b) => b,
                None => out.add_bytes(bytes),
            };
        });
        out.add(t)
    };
    for t in split.types() {
        copy(&mut out, split, t);
    }
    for id in 1..n_base {
        if !needed[id as usize] {
            continue;
        }
        let t = old_base.get(id).expect("base id");
        if place(t) == Place::Split {
            map[id as usize] = copy(&mut out, old_base, t);
        }
    }

    let shift = n_base - base.type_count();
    for t in out.types_mut() {
        t.kind.for_each_ref_mut(|id| {
            if *id >= n_base {
                *id -= shift;
            } else {
                *id = map[*id as usize];
            }
        });
    }
    Ok(Distilled { base, split: out })
}

#[cfg(test)]
#[path = "distill_tests.rs"]
mod tests;
