//! Access specs: a relocation's accessor string turned into a path through a type
//! (`bpf_core_parse_spec`), and the same path found in a target type
//! (`bpf_core_spec_match`).

use super::compat::{essential, fields_compat, size_of, skip_mods, ty, types_compat, types_match};
use super::CoreError;
use crate::bpf::RelocKind;
use crate::btf::{Btf, Kind, StrOff, TypeId};

/// libbpf's `BPF_CORE_SPEC_MAX_LEN`.
const MAX_LEN: usize = 64;

/// One high-level access: a named member, an array element or an enumerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The struct/union/enum holding the member, or the array element type.
    pub type_id: TypeId,
    /// Member, element or enumerator index.
    pub idx: u32,
    /// Member or enumerator name; `None` for an array element.
    pub name: Option<StrOff>,
}

/// A path through one BTF: the `bpf_core_spec` of libbpf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The root type.
    pub root: TypeId,
    /// Every index along the path, anonymous members included.
    pub raw: Vec<u32>,
    /// Named members and array elements only.
    pub access: Vec<Access>,
    /// Bit offset of the field from the start of the root.
    pub bit_offset: u64,
}

impl Spec {
    fn new(root: TypeId) -> Spec {
        Spec {
            root,
            raw: Vec::new(),
            access: Vec::new(),
            bit_offset: 0,
        }
    }
}

fn members(t: Option<&crate::btf::Type>) -> Option<&[crate::btf::Member]> {
    match t.map(|t| &t.kind) {
        Some(Kind::Struct(c) | Kind::Union(c)) => Some(&c.members),
        _ => None,
    }
}

/// Whether `arr` (of `nelems`) is a flexible array member: the last named member of
/// the struct accessed by `prev`.
fn is_flex(btf: &Btf, prev: Option<&Access>, nelems: u32) -> bool {
    let Some(prev) = prev.filter(|a| a.name.is_some()) else {
        return false;
    };
    nelems == 0 && members(btf.get(prev.type_id)).is_some_and(|m| prev.idx as usize + 1 == m.len())
}

/// `bpf_core_parse_spec`: the local spec of a relocation.
pub(crate) fn parse(
    btf: &Btf,
    root: TypeId,
    access: &str,
    kind: RelocKind,
) -> Result<Spec, CoreError> {
    let bad = |why: &str| CoreError::Parse(why.to_string());
    if access.is_empty() || access.starts_with(':') {
        return Err(bad("empty accessor"));
    }
    let mut spec = Spec::new(root);
    if kind.is_type() {
        return if access == "0" {
            Ok(spec)
        } else {
            Err(bad("type relocation accessor is not \"0\""))
        };
    }
    for part in access.split(':') {
        let idx: u32 = part
            .parse()
            .map_err(|_| bad("accessor is not a list of indices"))?;
        if spec.raw.len() == MAX_LEN {
            return Err(bad("accessor too long"));
        }
        spec.raw.push(idx);
    }
    let (mut id, t) = skip_mods(btf, root)?;
    if t.is_none() {
        return Err(bad("root is void"));
    }
    let first = spec.raw[0];
    spec.access.push(Access {
        type_id: id,
        idx: first,
        name: None,
    });
    if kind.is_enumval() {
        let values = match t.map(|t| &t.kind) {
            Some(Kind::Enum(e) | Kind::Enum64(e)) => &e.values,
            _ => return Err(bad("enumerator relocation on a non-enum")),
        };
        let v = values
            .get(first as usize)
            .filter(|_| spec.raw.len() == 1)
            .ok_or_else(|| bad("enumerator index out of range"))?;
        spec.access[0].name = Some(v.name);
        return Ok(spec);
    }
    spec.bit_offset = first as u64 * size_of(btf, id)? * 8;
    for i in 1..spec.raw.len() {
        let idx = spec.raw[i];
        let (tid, t) = skip_mods(btf, id)?;
        match t.map(|t| &t.kind) {
            Some(Kind::Struct(c) | Kind::Union(c)) => {
                let m = c
                    .members
                    .get(idx as usize)
                    .ok_or_else(|| bad("member index out of range"))?;
                spec.bit_offset += m.bit_offset as u64;
                if m.name != 0 {
                    spec.access.push(Access {
                        type_id: tid,
                        idx,
                        name: Some(m.name),
                    });
                }
                id = m.ty;
            }
            Some(Kind::Array(a)) => {
                let (elem, _) = skip_mods(btf, a.elem)?;
                if !is_flex(btf, spec.access.last(), a.nelems) && idx >= a.nelems {
                    return Err(bad("array index out of range"));
                }
                spec.access.push(Access {
                    type_id: elem,
                    idx,
                    name: None,
                });
                spec.bit_offset += idx as u64 * size_of(btf, elem)? * 8;
                id = elem;
            }
            _ => {
                return Err(bad(
                    "accessor goes through a type that is neither struct, union nor array",
                ))
            }
        }
    }
    Ok(spec)
}

/// `bpf_core_spec_match`: the spec of `local` in target candidate `cand`, or `None`
/// when the candidate does not have it.
pub(crate) fn matches(
    lb: &Btf,
    local: &Spec,
    kind: RelocKind,
    tb: &Btf,
    cand: TypeId,
) -> Result<Option<Spec>, CoreError> {
    let mut targ = Spec::new(cand);
    if kind.is_type() {
        let ok = if kind == RelocKind::TypeMatches {
            types_match(lb, local.root, tb, cand)?
        } else {
            types_compat(lb, local.root, tb, cand)?
        };
        return Ok(ok.then_some(targ));
    }
    if kind.is_enumval() {
        let (tid, t) = skip_mods(tb, cand)?;
        let values = match t.map(|t| &t.kind) {
            Some(Kind::Enum(e) | Kind::Enum64(e)) => &e.values,
            _ => return Ok(None),
        };
        let lname = essential(
            lb.name_bytes(local.access[0].name.unwrap_or(0))
                .unwrap_or_default(),
        );
        for (i, v) in values.iter().enumerate() {
            if essential(tb.name_bytes(v.name).unwrap_or_default()) == lname {
                targ.access.push(Access {
                    type_id: tid,
                    idx: i as u32,
                    name: Some(v.name),
                });
                targ.raw.push(i as u32);
                return Ok(Some(targ));
            }
        }
        return Ok(None);
    }
    let mut tid = cand;
    for (i, acc) in local.access.iter().enumerate() {
        let (id, t) = skip_mods(tb, tid)?;
        tid = id;
        if acc.name.is_some() {
            match match_member(lb, acc, tb, tid, &mut targ)? {
                Some(next) => tid = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                let Some(Kind::Array(a)) = t.map(|t| &t.kind) else {
                    return Ok(None);
                };
                if !is_flex(tb, targ.access.last(), a.nelems) && acc.idx >= a.nelems {
                    return Ok(None);
                }
                tid = skip_mods(tb, a.elem)?.0;
            }
            if targ.raw.len() == MAX_LEN {
                return Err(CoreError::Invalid("target nesting too deep".into()));
            }
            targ.access.push(Access {
                type_id: tid,
                idx: acc.idx,
                name: None,
            });
            targ.raw.push(acc.idx);
            targ.bit_offset += acc.idx as u64 * size_of(tb, tid)? * 8;
        }
    }
    Ok(Some(targ))
}

/// `bpf_core_match_member`: finds the member named like `acc` in the composite `tid`,
/// looking into anonymous members; returns the member's type.
fn match_member(
    lb: &Btf,
    acc: &Access,
    tb: &Btf,
    tid: TypeId,
    targ: &mut Spec,
) -> Result<Option<TypeId>, CoreError> {
    let local_m = members(ty(lb, acc.type_id)?)
        .and_then(|m| m.get(acc.idx as usize))
        .ok_or(CoreError::BadTypeId(acc.type_id))?;
    let lname = lb.name_bytes(local_m.name).unwrap_or_default();
    let (tid, t) = skip_mods(tb, tid)?;
    let Some(tm) = members(t) else {
        return Ok(None);
    };
    for (i, m) in tm.iter().enumerate() {
        if targ.raw.len() == MAX_LEN {
            return Err(CoreError::Invalid("target nesting too deep".into()));
        }
        targ.bit_offset += m.bit_offset as u64;
        targ.raw.push(i as u32);
        let tname = tb.name_bytes(m.name).unwrap_or_default();
        if tname.is_empty() {
            if let Some(found) = match_member(lb, acc, tb, m.ty, targ)? {
                return Ok(Some(found));
            }
        } else if tname == lname {
            if !fields_compat(lb, local_m.ty, tb, m.ty)? {
                return Ok(None);
            }
            targ.access.push(Access {
                type_id: tid,
                idx: i as u32,
                name: Some(m.name),
            });
            return Ok(Some(m.ty));
        }
        targ.bit_offset -= m.bit_offset as u64;
        targ.raw.pop();
    }
    Ok(None)
}

impl Spec {
    /// The access in C terms: `task_struct->comm[3]`, `struct task_struct`,
    /// `enum bpf_func_id::BPF_FUNC_map_lookup_elem`.
    pub fn c_path(&self, btf: &Btf, kind: RelocKind) -> String {
        let root = btf.get(self.root);
        let name = root.map_or(std::borrow::Cow::Borrowed("void"), |t| btf.name(t.name));
        let tag = match root.map(|t| &t.kind) {
            Some(Kind::Struct(_)) => "struct ",
            Some(Kind::Union(_)) => "union ",
            Some(Kind::Enum(_) | Kind::Enum64(_)) => "enum ",
            _ => "",
        };
        if kind.is_type() || self.access.is_empty() {
            return format!("{tag}{name}");
        }
        if kind.is_enumval() {
            let v = btf.name(self.access[0].name.unwrap_or(0));
            return format!("{tag}{name}::{v}");
        }
        let mut out = name.into_owned();
        let mut sep = "->";
        if self.access[0].idx != 0 {
            out.push_str(&format!("[{}]", self.access[0].idx));
            sep = ".";
        }
        for a in &self.access[1..] {
            match a.name {
                Some(n) => {
                    out.push_str(sep);
                    out.push_str(&btf.name(n));
                    sep = ".";
                }
                None => out.push_str(&format!("[{}]", a.idx)),
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
