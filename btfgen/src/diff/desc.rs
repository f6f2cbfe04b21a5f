//! What a named type looks like, for comparison: its members flattened through
//! anonymous structs and unions, its enumerators, its target or its prototype, with
//! every referenced type rendered as a short C-like spelling (its "shape").

use std::collections::HashSet;

use crate::btf::query::{self, Overflow, Skip, KERNEL_PTR_SIZE, MAX_RESOLVE_DEPTH};
use crate::btf::{Btf, Kind, TypeId};

/// One member of a struct or union, as C code reaches it from the named type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// `a`, or `a.b` for member `b` of the anonymous-typed member `a`; members of
    /// anonymous (embedded) structs and unions appear under their own name.
    pub path: String,
    /// Offset from the start of the named type, in bits.
    pub bit_offset: u64,
    /// Width in bits: the bitfield size, or the type's size (0 when it has none).
    pub bits: u64,
    /// The member's type spelled in C terms.
    pub shape: String,
}

/// The comparable description of one named type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Desc {
    /// A struct or union: its size in bytes and flattened members.
    Composite {
        /// Size in bytes.
        size: u64,
        /// Members in declaration order.
        fields: Vec<Field>,
    },
    /// An enum: size in bytes and enumerators (name, value).
    Enum {
        /// Size in bytes.
        size: u64,
        /// Enumerators in declaration order.
        values: Vec<(String, i64)>,
    },
    /// A typedef: what it names.
    Typedef(String),
    /// A function: its prototype as C.
    Func(String),
    /// An int or float: its size in bytes and encoding.
    Scalar {
        /// Size in bytes.
        size: u64,
        /// `signed`, `unsigned`, `char`, `bool` or `float`.
        encoding: &'static str,
    },
}

/// The description of the named type `id`; `None` for kinds that are not compared.
pub(super) fn describe(btf: &Btf, id: TypeId) -> Option<Desc> {
    let t = btf.get(id)?;
    Some(match &t.kind {
        Kind::Struct(c) | Kind::Union(c) => {
            let mut fields = Vec::new();
            let mut seen = HashSet::new();
            flatten(btf, id, "", 0, &mut fields, &mut seen, 0);
            Desc::Composite {
                size: c.size as u64,
                fields,
            }
        }
        Kind::Enum(e) | Kind::Enum64(e) => Desc::Enum {
            size: e.size as u64,
            values: e
                .values
                .iter()
                .map(|v| (btf.name(v.name).into_owned(), v.value))
                .collect(),
        },
        Kind::Typedef(r) => Desc::Typedef(shape(btf, *r, 0)),
        Kind::Func { proto, .. } => Desc::Func(prototype(btf, &btf.name(t.name), *proto)),
        Kind::Int(i) => Desc::Scalar {
            size: i.size as u64,
            encoding: match i.encoding {
                crate::btf::INT_SIGNED => "signed",
                crate::btf::INT_CHAR => "char",
                crate::btf::INT_BOOL => "bool",
                _ => "unsigned",
            },
        },
        Kind::Float { size } => Desc::Scalar {
            size: *size as u64,
            encoding: "float",
        },
        _ => return None,
    })
}

/// Appends the members of composite `id` (at `base` bits) to `out`, descending into
/// anonymous member types; `seen` keeps the first of repeated paths.
fn flatten(
    btf: &Btf,
    id: TypeId,
    prefix: &str,
    base: u64,
    out: &mut Vec<Field>,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    let Some(Kind::Struct(c) | Kind::Union(c)) = btf.get(id).map(|t| &t.kind) else {
        return;
    };
    if depth > MAX_RESOLVE_DEPTH {
        return;
    }
    for m in &c.members {
        let off = base + m.bit_offset as u64;
        let inner = anonymous_composite(btf, m.ty);
        if m.name == 0 {
            if let Some(inner) = inner {
                flatten(btf, inner, prefix, off, out, seen, depth + 1);
            }
            continue;
        }
        let path = format!("{prefix}{}", btf.name(m.name));
        if !seen.insert(path.clone()) {
            continue;
        }
        let bits = if m.bitfield_size > 0 {
            m.bitfield_size as u64
        } else {
            query::size_of(btf, m.ty, KERNEL_PTR_SIZE, Overflow::Total).unwrap_or(0) * 8
        };
        out.push(Field {
            path: path.clone(),
            bit_offset: off,
            bits,
            shape: shape(btf, m.ty, 0),
        });
        if let Some(inner) = inner {
            flatten(btf, inner, &format!("{path}."), off, out, seen, depth + 1);
        }
    }
}

/// The anonymous struct or union `id` is (through modifiers only), if it is one.
fn anonymous_composite(btf: &Btf, id: TypeId) -> Option<TypeId> {
    let id = query::skip(btf, id, Skip::Modifiers, MAX_RESOLVE_DEPTH).ok()?;
    let t = btf.get(id)?;
    (matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) && t.name == 0).then_some(id)
}

/// `id` spelled in C terms without following named types: `struct file *`,
/// `u32[16]`, `int (*)(void *)`, `struct {...}` for anonymous aggregates.
pub(super) fn shape(btf: &Btf, id: TypeId, depth: usize) -> String {
    if id == 0 {
        return "void".into();
    }
    if depth > MAX_RESOLVE_DEPTH {
        return "...".into();
    }
    let Some(t) = btf.get(id) else {
        return format!("<bad type {id}>");
    };
    let name = btf.name(t.name);
    let tagged = |tag: &str| {
        if name.is_empty() {
            format!("{tag} {{...}}")
        } else {
            format!("{tag} {name}")
        }
    };
    match &t.kind {
        Kind::Int(_) | Kind::Float { .. } | Kind::Typedef(_) => name.into_owned(),
        Kind::Struct(_) => tagged("struct"),
        Kind::Union(_) => tagged("union"),
        Kind::Enum(_) | Kind::Enum64(_) => tagged("enum"),
        Kind::Fwd { union } => tagged(if *union { "union" } else { "struct" }),
        Kind::Ptr(r) => match btf.get(*r).map(|t| &t.kind) {
            Some(Kind::FuncProto(_)) => prototype(btf, "(*)", *r),
            _ => format!("{} *", shape(btf, *r, depth + 1)),
        },
        Kind::Const(r) => format!("const {}", shape(btf, *r, depth + 1)),
        Kind::Volatile(r) => format!("volatile {}", shape(btf, *r, depth + 1)),
        Kind::Restrict(r) => format!("{} restrict", shape(btf, *r, depth + 1)),
        Kind::TypeTag { ty, .. } => shape(btf, *ty, depth + 1),
        Kind::Array(a) => format!("{}[{}]", shape(btf, a.elem, depth + 1), a.nelems),
        Kind::FuncProto(_) => prototype(btf, "", id),
        _ => format!("{} {name}", t.kind.label()),
    }
}

/// The prototype `proto` as C with `name` in the declarator place:
/// `int name(struct file *f, int)`.
fn prototype(btf: &Btf, name: &str, proto: TypeId) -> String {
    let Some(Kind::FuncProto(p)) = btf.get(proto).map(|t| &t.kind) else {
        return format!("{name}: <not a prototype>");
    };
    let params: Vec<String> = p
        .params
        .iter()
        .map(|a| match (a.ty, btf.name(a.name)) {
            (0, _) => "...".to_string(),
            (ty, n) if n.is_empty() => shape(btf, ty, 1),
            (ty, n) => {
                let t = shape(btf, ty, 1);
                let sep = if t.ends_with('*') { "" } else { " " };
                format!("{t}{sep}{n}")
            }
        })
        .collect();
    let params = if params.is_empty() {
        "void".to_string()
    } else {
        params.join(", ")
    };
    format!("{} {name}({params})", shape(btf, p.ret, 1))
}
