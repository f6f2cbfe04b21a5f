//! Dumping BTF for people and programs: compilable C (a `vmlinux.h`, as
//! `bpftool btf dump file F format c` prints it), bpftool's raw text listing, and JSON.
//!
//! The C emitter follows libbpf's `btf_dump.c` (v1.1, what bpftool 7.1 uses): types
//! are ordered so that everything embedded by value is defined first (`order`),
//! layouts are inferred from offsets (`layout`) and declarations are printed in
//! C syntax (`c`).

mod c;
mod json;
mod layout;
mod order;
mod text;

use std::collections::BTreeSet;

use crate::btf::{Btf, Kind, TypeId};

pub use c::dump_c;
pub use json::dump_json;
pub use text::dump_text;

/// Why a dump failed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// `--type NAME` named no type that has a definition.
    #[error("no type named `{0}`")]
    NoSuchType(String),
    /// Types that embed each other by value: no C ordering exists.
    #[error("unsatisfiable type cycle through type {0}")]
    Cycle(TypeId),
    /// A chain of types nests deeper than any C declaration would (a malformed loop).
    #[error("type {0} nests too deeply (a reference loop?)")]
    TooDeep(TypeId),
    /// Struct sizes and member offsets that leave gaps no real header has.
    #[error("type {0} leaves more padding than a C header can hold (a corrupt size or offset?)")]
    TooMuchPadding(TypeId),
    /// A name the C dump would have to print is not a C identifier (nor, for a type
    /// tag, a plain string): refused rather than printed (module `c`).
    #[error("type {id}: {what} `{}` is not a C identifier; a C header cannot declare it (--format text or json shows it)", crate::text::escape(.name))]
    NotCName {
        /// The type that has the name.
        id: TypeId,
        /// Which of its names: `name`, `member`, `enumerator`, `parameter`, ...
        what: &'static str,
        /// The name, as read.
        name: String,
    },
    /// The output sink failed.
    #[error("cannot format output")]
    Fmt(#[from] std::fmt::Error),
}

/// Ids (base included) of the types that `names` name, in order and without
/// repeats. A name matches struct, union, enum, typedef, forward declaration, int
/// and float types; `struct NAME`, `union NAME` and `enum NAME` match only that kind.
pub fn find_types(btf: &Btf, names: &[String]) -> Result<Vec<TypeId>, DumpError> {
    let mut ids = Vec::new();
    for name in names {
        let (want, bare) = match name.split_once(' ') {
            Some((k @ ("struct" | "union" | "enum"), rest)) => (Some(k), rest.trim()),
            _ => (None, name.as_str()),
        };
        let mut found = false;
        for id in btf.find_by_name(bare) {
            let Some(t) = btf.get(id) else { continue };
            let ok = match (&t.kind, want) {
                (Kind::Struct(_), None | Some("struct")) => true,
                (Kind::Union(_), None | Some("union")) => true,
                (Kind::Enum(_) | Kind::Enum64(_), None | Some("enum")) => true,
                (Kind::Fwd { union }, _) => match want {
                    None => true,
                    Some("union") => *union,
                    Some("struct") => !*union,
                    _ => false,
                },
                (Kind::Typedef(_) | Kind::Int(_) | Kind::Float { .. }, None) => true,
                _ => false,
            };
            found |= ok;
            if ok && !ids.contains(&id) {
                ids.push(id);
            }
        }
        if !found {
            return Err(DumpError::NoSuchType(name.clone()));
        }
    }
    Ok(ids)
}

/// `roots` and every type they refer to, directly or not, in id order.
pub fn with_dependencies(btf: &Btf, roots: &[TypeId]) -> Vec<TypeId> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<TypeId> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if id == 0 || !seen.insert(id) {
            continue;
        }
        if let Some(t) = btf.get(id) {
            t.kind.for_each_ref(|r| stack.push(r));
        }
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests;
