//! Function candidates (`DW_TAG_subprogram`) and which of them become FUNC + FUNC_PROTO.
//!
//! Rules (pahole's, as the kernel build configures it since pahole 1.25):
//! - a candidate is a subprogram that is not a declaration, whose every parameter has a
//!   name, and whose name is the name of an `STT_FUNC` ELF symbol;
//! - all instances with the same name across compilation units must have the same
//!   prototype under pahole's loose comparison (structs, unions, enums and typedefs by
//!   name, `const` ignored); when they disagree the function is left out
//!   (`--skip_encoding_btf_inconsistent_proto`), since a FUNC whose prototype does not
//!   match the code would make fentry programs read the wrong arguments;
//! - the first instance in compilation-unit order is emitted, as `BTF_FUNC_STATIC`.

use hashbrown::{HashMap, HashSet};
use std::fmt::Write;

use super::error::EncodeError;
use super::refs::{DeclInfo, Lookup};
use crate::btf::*;

/// A subprogram DIE as found in one compilation unit.
pub(crate) struct FuncRecord<'a> {
    key: u32,
    params: Vec<u32>,
    /// `btf_decl_tag`s: value (fragment string) and parameter index or -1.
    pub tags: Vec<(StrOff, i32)>,
    /// Function name (empty when the DIE and its origins have none).
    pub name: &'a [u8],
    /// Prototype in fragment ids and fragment strings.
    pub proto: FuncProto,
    /// Every parameter has a name.
    pub named: bool,
    /// The loose signature used to compare instances across units.
    pub signature: String,
}

/// Follows `DW_AT_abstract_origin`/`DW_AT_specification` links until `pick` finds a value.
fn chase<'a, T>(
    decls: &HashMap<u32, DeclInfo<'a>>,
    key: u32,
    pick: impl Fn(&DeclInfo<'a>) -> Option<T>,
) -> Option<T> {
    let mut cur = decls.get(&key)?;
    for _ in 0..8 {
        if let Some(v) = pick(cur) {
            return Some(v);
        }
        cur = decls.get(&cur.origin?)?;
    }
    None
}

impl<'a> FuncRecord<'a> {
    /// A record for the subprogram DIE at `key`; parameters are added as they are seen.
    pub(super) fn new(key: u32) -> Self {
        FuncRecord {
            key,
            params: Vec::new(),
            tags: Vec::new(),
            name: b"",
            proto: FuncProto {
                ret: 0,
                params: Vec::new(),
            },
            named: true,
            signature: String::new(),
        }
    }

    /// Records a parameter DIE (`vararg` for `DW_TAG_unspecified_parameters`); returns
    /// its index.
    pub(super) fn add_param(&mut self, key: u32, vararg: bool) -> u32 {
        self.params.push(if vararg { 0 } else { key });
        self.params.len() as u32 - 1
    }

    /// Fills in name, prototype and signature once the whole unit has been read;
    /// `false` (and nothing more resolved) when the name is not in `functions`, the
    /// names of `STT_FUNC` symbols (most subprograms of a kernel unit are inline-only
    /// copies of header functions).
    pub(super) fn resolve(
        &mut self,
        decls: &HashMap<u32, DeclInfo<'a>>,
        lookup: &Lookup<'_>,
        frag: &mut Btf,
        functions: &HashSet<&'a [u8]>,
    ) -> Result<bool, EncodeError> {
        self.name = chase(decls, self.key, |d| d.name).unwrap_or(b"");
        if !functions.contains(self.name) {
            return Ok(false);
        }
        let ret = chase(decls, self.key, |d| d.ty).unwrap_or(0);
        self.proto.ret = lookup.resolve(ret)?;
        for &p in &self.params {
            if p == 0 {
                self.proto.params.push(Param { name: 0, ty: 0 });
                continue;
            }
            let name = chase(decls, p, |d| d.name);
            self.named &= name.is_some_and(|n| !n.is_empty());
            let ty = lookup.resolve(chase(decls, p, |d| d.ty).unwrap_or(0))?;
            let name = name.map_or(0, |n| frag.push_bytes(n));
            self.proto.params.push(Param { name, ty });
        }
        if self.named && !self.name.is_empty() {
            self.signature = signature(frag, &self.proto);
        }
        Ok(true)
    }
}

/// pahole's loose prototype comparison, as a string: equal strings, consistent protos.
fn signature(btf: &Btf, proto: &FuncProto) -> String {
    let mut s = String::new();
    shape(btf, proto.ret, &mut s, 0);
    s.push('(');
    for p in &proto.params {
        if p.ty == 0 && p.name == 0 {
            s.push_str("...");
        } else {
            shape(btf, p.ty, &mut s, 0);
        }
        s.push(',');
    }
    s.push(')');
    s
}

fn shape(btf: &Btf, id: TypeId, s: &mut String, depth: u32) {
    if depth > 16 {
        s.push('?');
        return;
    }
    let Some(t) = btf.get(id) else {
        s.push_str("void");
        return;
    };
    let name = btf.name(t.name);
    let _ = match &t.kind {
        Kind::Int(i) => write!(s, "int:{}:{}:{name}", i.size, i.encoding),
        Kind::Float { size } => write!(s, "float:{size}:{name}"),
        Kind::Struct(_) | Kind::Fwd { union: false } => write!(s, "struct {name}"),
        Kind::Union(_) | Kind::Fwd { union: true } => write!(s, "union {name}"),
        Kind::Enum(_) | Kind::Enum64(_) => write!(s, "enum {name}"),
        Kind::Typedef(_) => write!(s, "typedef {name}"),
        Kind::Const(r) => return shape(btf, *r, s, depth + 1),
        Kind::Volatile(r) | Kind::Restrict(r) | Kind::TypeTag { ty: r, .. } => {
            s.push_str(t.kind.label());
            s.push(' ');
            return shape(btf, *r, s, depth + 1);
        }
        Kind::Ptr(r) => {
            s.push('*');
            return shape(btf, *r, s, depth + 1);
        }
        Kind::Array(a) => {
            let _ = write!(s, "[{}]", a.nelems);
            return shape(btf, a.elem, s, depth + 1);
        }
        Kind::FuncProto(p) => {
            s.push_str("fn ");
            shape(btf, p.ret, s, depth + 1);
            s.push('(');
            for p in &p.params {
                shape(btf, p.ty, s, depth + 1);
                s.push(',');
            }
            s.push(')');
            Ok(())
        }
        other => write!(s, "{}", other.label()),
    };
}
