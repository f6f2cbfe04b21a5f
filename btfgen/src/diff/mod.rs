//! What changed between two BTFs: types added, removed and changed, matched by kind
//! and name, and, for a BPF object, how its CO-RE relocations fare on each.
//!
//! Named structs, unions, enums, typedefs, functions, ints and floats are compared;
//! anonymous types are compared through the named types that contain them (a member
//! of an embedded anonymous union appears as a member of the named struct). When
//! several types share a kind and a name (vmlinux has such duplicates), identical
//! ones are paired first, then each remaining one with the candidate it differs
//! least from; the rest are added or removed.

mod desc;
mod object;
mod print;

use std::collections::{BTreeMap, BTreeSet};

use crate::btf::{Btf, Kind, TypeId};
use desc::Desc;
pub use desc::Field;
pub use object::{diff_object, ObjectDiff, RelocDiff};
pub use print::{json, text};

/// Why a diff failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// `--type NAME` named no compared type in either BTF.
    #[error("no type named `{0}` in either BTF")]
    NoSuchType(String),
}

/// The kinds of type that are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeKind {
    /// `struct`.
    Struct,
    /// `union`.
    Union,
    /// `enum` (ENUM and ENUM64).
    Enum,
    /// `typedef`.
    Typedef,
    /// A function (FUNC).
    Func,
    /// An integer type.
    Int,
    /// A floating-point type.
    Float,
}

impl TypeKind {
    /// The kind of `k`, when it is one that is compared.
    fn of(k: &Kind) -> Option<TypeKind> {
        Some(match k {
            Kind::Struct(_) => TypeKind::Struct,
            Kind::Union(_) => TypeKind::Union,
            Kind::Enum(_) | Kind::Enum64(_) => TypeKind::Enum,
            Kind::Typedef(_) => TypeKind::Typedef,
            Kind::Func { .. } => TypeKind::Func,
            Kind::Int(_) => TypeKind::Int,
            Kind::Float { .. } => TypeKind::Float,
            _ => return None,
        })
    }

    /// The kind as written before a name: `struct`, `func`, ...
    pub fn label(self) -> &'static str {
        match self {
            TypeKind::Struct => "struct",
            TypeKind::Union => "union",
            TypeKind::Enum => "enum",
            TypeKind::Typedef => "typedef",
            TypeKind::Func => "func",
            TypeKind::Int => "int",
            TypeKind::Float => "float",
        }
    }
}

/// A type present on one side only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// Its kind.
    pub kind: TypeKind,
    /// Its name.
    pub name: String,
    /// Its id in the BTF that has it.
    pub id: TypeId,
}

/// One difference inside a type present on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The type's size in bytes changed.
    Size {
        /// Size in A.
        old: u64,
        /// Size in B.
        new: u64,
    },
    /// A member only B has.
    MemberAdded(Field),
    /// A member only A has.
    MemberRemoved(Field),
    /// A member is at another bit offset.
    MemberMoved {
        /// The member's path.
        path: String,
        /// Bit offset in A.
        old: u64,
        /// Bit offset in B.
        new: u64,
    },
    /// A member is wider or narrower (type size or bitfield size), in bits.
    MemberResized {
        /// The member's path.
        path: String,
        /// Width in A, bits.
        old: u64,
        /// Width in B, bits.
        new: u64,
    },
    /// A member's type is spelled differently.
    MemberRetyped {
        /// The member's path.
        path: String,
        /// Type in A.
        old: String,
        /// Type in B.
        new: String,
    },
    /// An enumerator only B has.
    ValueAdded {
        /// Enumerator name.
        name: String,
        /// Its value.
        value: i64,
    },
    /// An enumerator only A has.
    ValueRemoved {
        /// Enumerator name.
        name: String,
        /// Its value.
        value: i64,
    },
    /// An enumerator with another value.
    ValueChanged {
        /// Enumerator name.
        name: String,
        /// Value in A.
        old: i64,
        /// Value in B.
        new: i64,
    },
    /// A typedef names another type.
    Retargeted {
        /// Target in A.
        old: String,
        /// Target in B.
        new: String,
    },
    /// A function has a new prototype.
    Prototype {
        /// Prototype in A.
        old: String,
        /// Prototype in B.
        new: String,
    },
    /// An int or float changed encoding (`signed`, `unsigned`, `float`, ...).
    Encoding {
        /// Encoding in A.
        old: &'static str,
        /// Encoding in B.
        new: &'static str,
    },
}

impl Change {
    /// The struct member or enumerator the change is about, if any.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Change::MemberAdded(f) | Change::MemberRemoved(f) => Some(&f.path),
            Change::MemberMoved { path, .. }
            | Change::MemberResized { path, .. }
            | Change::MemberRetyped { path, .. } => Some(path),
            Change::ValueAdded { name, .. }
            | Change::ValueRemoved { name, .. }
            | Change::ValueChanged { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A type present on both sides that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// Its kind.
    pub kind: TypeKind,
    /// Its name.
    pub name: String,
    /// Its id in A.
    pub old_id: TypeId,
    /// Its id in B.
    pub new_id: TypeId,
    /// What differs, members in A's order then added ones in B's order.
    pub changes: Vec<Change>,
}

/// Everything that differs between two BTFs, each list sorted by kind and name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Types only A has.
    pub removed: Vec<Named>,
    /// Types only B has.
    pub added: Vec<Named>,
    /// Types both have, with differences.
    pub changed: Vec<Changed>,
}

impl Report {
    /// True when the two BTFs do not differ.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty() && self.changed.is_empty()
    }
}

/// Which types to compare: `None` for all, else names, each `NAME` or `KIND NAME`
/// (`struct task_struct`, `func do_exit`).
type Filter = Option<BTreeSet<(Option<String>, String)>>;

fn parse_filter(names: &[String]) -> Filter {
    if names.is_empty() {
        return None;
    }
    Some(
        names
            .iter()
            .map(|n| match n.trim().split_once(' ') {
                Some((k, rest)) => (Some(k.to_string()), rest.trim().to_string()),
                None => (None, n.trim().to_string()),
            })
            .collect(),
    )
}

fn wanted(filter: &Filter, kind: TypeKind, name: &str) -> bool {
    filter.as_ref().is_none_or(|f| {
        f.contains(&(None, name.to_string()))
            || f.contains(&(Some(kind.label().to_string()), name.to_string()))
    })
}

/// The compared types of `btf` (base included) by kind and name.
fn index(btf: &Btf, filter: &Filter) -> Index {
    let mut out = Index::new();
    for id in 1..btf.type_count() {
        let Some(t) = btf.get(id) else { continue };
        if t.name == 0 {
            continue;
        }
        let Some(kind) = TypeKind::of(&t.kind) else {
            continue;
        };
        let name = btf.name(t.name);
        if wanted(filter, kind, &name) {
            out.entry((kind, name.into_owned())).or_default().push(id);
        }
    }
    out
}

/// Compares `a` with `b`; `types` limits the comparison to those names (each `NAME`
/// or `KIND NAME`, KIND one of struct, union, enum, typedef, func, int, float).
pub fn diff(a: &Btf, b: &Btf, types: &[String]) -> Result<Report, DiffError> {
    let filter = parse_filter(types);
    let ia = index(a, &filter);
    let ib = index(b, &filter);
    if let Some(f) = &filter {
        for (k, n) in f {
            let found = ia
                .keys()
                .chain(ib.keys())
                .any(|(kind, name)| name == n && k.as_deref().is_none_or(|k| k == kind.label()));
            if !found {
                let full = k.as_ref().map_or(n.clone(), |k| format!("{k} {n}"));
                return Err(DiffError::NoSuchType(full));
            }
        }
    }
    Ok(compare_indexes(a, b, &ia, &ib))
}

/// Compares the types of `a` and `b` that `filter` lets through.
fn diff_filtered(a: &Btf, b: &Btf, filter: &Filter) -> Report {
    compare_indexes(a, b, &index(a, filter), &index(b, filter))
}

/// Type ids by kind and name.
type Index = BTreeMap<(TypeKind, String), Vec<TypeId>>;

fn compare_indexes(a: &Btf, b: &Btf, ia: &Index, ib: &Index) -> Report {
    let mut report = Report::default();
    let keys: BTreeSet<&(TypeKind, String)> = ia.keys().chain(ib.keys()).collect();
    for key in keys {
        let da: Vec<(TypeId, Desc)> = describe_all(a, ia.get(key));
        let db: Vec<(TypeId, Desc)> = describe_all(b, ib.get(key));
        pair(key, da, db, &mut report);
    }
    report
}

fn describe_all(btf: &Btf, ids: Option<&Vec<TypeId>>) -> Vec<(TypeId, Desc)> {
    ids.into_iter()
        .flatten()
        .filter_map(|&id| desc::describe(btf, id).map(|d| (id, d)))
        .collect()
}

/// Pairs the same-named types of the two sides and records what differs.
fn pair(
    (kind, name): &(TypeKind, String),
    mut da: Vec<(TypeId, Desc)>,
    mut db: Vec<(TypeId, Desc)>,
    report: &mut Report,
) {
    // Identical ones first.
    da.retain(|(_, d)| match db.iter().position(|(_, e)| e == d) {
        Some(j) => {
            db.remove(j);
            false
        }
        None => true,
    });
    for (old_id, d) in da {
        let best = db
            .iter()
            .enumerate()
            .map(|(j, (_, e))| (compare(&d, e), j))
            .min_by_key(|(c, _)| c.len());
        match best {
            Some((changes, j)) => {
                let (new_id, _) = db.remove(j);
                report.changed.push(Changed {
                    kind: *kind,
                    name: name.clone(),
                    old_id,
                    new_id,
                    changes,
                });
            }
            None => report.removed.push(Named {
                kind: *kind,
                name: name.clone(),
                id: old_id,
            }),
        }
    }
    for (id, _) in db {
        report.added.push(Named {
            kind: *kind,
            name: name.clone(),
            id,
        });
    }
}

/// What differs between two descriptions of the same kind.
fn compare(a: &Desc, b: &Desc) -> Vec<Change> {
    let mut out = Vec::new();
    match (a, b) {
        (
            Desc::Composite {
                size: sa,
                fields: fa,
            },
            Desc::Composite {
                size: sb,
                fields: fb,
            },
        ) => {
            if sa != sb {
                out.push(Change::Size { old: *sa, new: *sb });
            }
            let by_path: BTreeMap<&str, &Field> = fb.iter().map(|f| (f.path.as_str(), f)).collect();
            for f in fa {
                let Some(g) = by_path.get(f.path.as_str()) else {
                    out.push(Change::MemberRemoved(f.clone()));
                    continue;
                };
                if f.bit_offset != g.bit_offset {
                    out.push(Change::MemberMoved {
                        path: f.path.clone(),
                        old: f.bit_offset,
                        new: g.bit_offset,
                    });
                }
                if f.bits != g.bits {
                    out.push(Change::MemberResized {
                        path: f.path.clone(),
                        old: f.bits,
                        new: g.bits,
                    });
                }
                if f.shape != g.shape {
                    out.push(Change::MemberRetyped {
                        path: f.path.clone(),
                        old: f.shape.clone(),
                        new: g.shape.clone(),
                    });
                }
            }
            let in_a: BTreeSet<&str> = fa.iter().map(|f| f.path.as_str()).collect();
            out.extend(
                fb.iter()
                    .filter(|g| !in_a.contains(g.path.as_str()))
                    .map(|g| Change::MemberAdded(g.clone())),
            );
        }
        (
            Desc::Enum {
                size: sa,
                values: va,
            },
            Desc::Enum {
                size: sb,
                values: vb,
            },
        ) => {
            if sa != sb {
                out.push(Change::Size { old: *sa, new: *sb });
            }
            let by_name: BTreeMap<&str, i64> = vb.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            for (n, v) in va {
                match by_name.get(n.as_str()) {
                    None => out.push(Change::ValueRemoved {
                        name: n.clone(),
                        value: *v,
                    }),
                    Some(w) if w != v => out.push(Change::ValueChanged {
                        name: n.clone(),
                        old: *v,
                        new: *w,
                    }),
                    Some(_) => {}
                }
            }
            let in_a: BTreeSet<&str> = va.iter().map(|(n, _)| n.as_str()).collect();
            out.extend(
                vb.iter()
                    .filter(|(n, _)| !in_a.contains(n.as_str()))
                    .map(|(n, v)| Change::ValueAdded {
                        name: n.clone(),
                        value: *v,
                    }),
            );
        }
        (Desc::Typedef(x), Desc::Typedef(y)) if x != y => out.push(Change::Retargeted {
            old: x.clone(),
            new: y.clone(),
        }),
        (Desc::Func(x), Desc::Func(y)) if x != y => out.push(Change::Prototype {
            old: x.clone(),
            new: y.clone(),
        }),
        (
            Desc::Scalar {
                size: sa,
                encoding: ea,
            },
            Desc::Scalar {
                size: sb,
                encoding: eb,
            },
        ) => {
            if sa != sb {
                out.push(Change::Size { old: *sa, new: *sb });
            }
            if ea != eb {
                out.push(Change::Encoding { old: ea, new: eb });
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests;
