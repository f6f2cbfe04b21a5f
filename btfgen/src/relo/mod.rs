//! The CO-RE relocation engine: for a relocation of a BPF object and a target BTF,
//! what libbpf computes at load time (`bpf_core_calc_relo_insn`).
//!
//! Candidates are the target types of a compatible kind whose name equals the local
//! root's once `___flavor` suffixes are stripped, searched in the base BTF first and
//! in split (module) types only when the base has none, as libbpf does with modules.
//! Several modules are one split BTF ([`crate::btf::join_modules`]): their candidates
//! are searched together, as libbpf accumulates them over every loaded module.

pub(crate) mod compat;
mod object;
pub(crate) mod spec;

use std::collections::HashMap;

use crate::bpf::RelocKind;
use crate::btf::{Btf, Kind, TypeId, INT_SIGNED};
pub use object::{resolve_object, Outcome};
pub use spec::{Access, Spec};

/// Why libbpf would refuse a relocation (the program fails to load).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// The accessor string does not fit the local type.
    #[error("bad accessor: {0}")]
    Parse(String),
    /// A type id out of range.
    #[error("type id {0} out of range")]
    BadTypeId(TypeId),
    /// libbpf does not search candidates for anonymous root types.
    #[error("relocation doesn't support anonymous types")]
    Anonymous,
    /// Matching candidates put the field at different offsets.
    #[error("ambiguous: candidates put the field at byte offsets {0} and {1}")]
    OffsetAmbiguity(u64, u64),
    /// Matching candidates give different values.
    #[error("ambiguous: candidates give values {0} and {1}")]
    DecisionAmbiguity(u64, u64),
    /// The relocation kind cannot be applied to an array element.
    #[error("{0} can't be applied to an array element")]
    ArrayAccess(&'static str),
    /// A bitfield that no 64-bit load covers.
    #[error("bitfield can't be read with a 64-bit load")]
    Bitfield,
    /// Anything else libbpf rejects with -EINVAL.
    #[error("{0}")]
    Invalid(String),
}

/// The outcome of one relocation on one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The local spec.
    pub local: Spec,
    /// The chosen (first matching) target spec; `None` when no candidate matched.
    pub target: Option<Spec>,
    /// How many candidates were considered (after earlier relocations pruned them).
    pub candidates: usize,
    /// libbpf poisons the instruction (no candidate had the field or enumerator).
    pub poison: bool,
    /// The value the compiler emitted (the local one).
    pub orig_val: u64,
    /// The value libbpf patches in (meaningless when `poison`).
    pub new_val: u64,
    /// For a field no candidate has: how many leading accessors of the local spec
    /// some candidate does have (the next one is what is missing).
    pub matched_prefix: Option<usize>,
    /// For a field's byte offset (not a bitfield's) on a matched target: the size a
    /// load or store of the field accesses locally, libbpf's `orig_sz` (of the field's
    /// type, an array's element for an array); 0 otherwise.
    pub orig_sz: u32,
    /// The same on the target, libbpf's `new_sz`. When it differs from
    /// [`Resolution::orig_sz`], libbpf rewrites the size of an LDX/ST/STX instruction
    /// (`mem_sz ORIG -> NEW`).
    pub new_sz: u32,
    /// The sizes differ and the two types are neither both pointers nor both
    /// integers that are not signed: libbpf poisons an LDX/ST/STX instruction rather
    /// than change its size (`fail_memsz_adjust`).
    pub fail_memsz_adjust: bool,
}

/// Resolves relocations of one object against one target, keeping libbpf's
/// per-object candidate cache (pruned to the candidates that matched).
pub struct Engine<'a> {
    local: &'a Btf,
    target: &'a Btf,
    cands: HashMap<TypeId, Vec<TypeId>>,
}

impl<'a> Engine<'a> {
    /// An engine for the object BTF `local` and the kernel BTF `target`.
    pub fn new(local: &'a Btf, target: &'a Btf) -> Self {
        Engine {
            local,
            target,
            cands: HashMap::new(),
        }
    }

    /// The target BTF.
    pub fn target(&self) -> &'a Btf {
        self.target
    }

    /// Resolves the relocation of `kind` on local type `type_id` with `access`.
    pub fn resolve(
        &mut self,
        type_id: TypeId,
        access: &str,
        kind: RelocKind,
    ) -> Result<Resolution, CoreError> {
        let local = spec::parse(self.local, type_id, access, kind)?;
        let lname = compat::ty(self.local, type_id)?
            .map(|t| t.name)
            .and_then(|n| self.local.name_bytes(n))
            .unwrap_or_default();
        if kind == RelocKind::TypeIdLocal {
            return Ok(Resolution {
                local,
                target: None,
                candidates: 0,
                poison: false,
                orig_val: type_id as u64,
                new_val: type_id as u64,
                matched_prefix: None,
                orig_sz: 0,
                new_sz: 0,
                fail_memsz_adjust: false,
            });
        }
        if lname.is_empty() {
            return Err(CoreError::Anonymous);
        }
        let target = self.target;
        let cands = self
            .cands
            .entry(type_id)
            .or_insert_with(|| find_candidates(self.local, type_id, target))
            .clone();
        let (orig_val, _) = calc(self.local, kind, Some(&local))?;
        let mut chosen: Option<(Spec, u64, bool)> = None;
        let mut kept = Vec::new();
        for &cand in &cands {
            let Some(ts) = spec::matches(self.local, &local, kind, target, cand)? else {
                continue;
            };
            let (val, poison) = calc(target, kind, Some(&ts))?;
            match &chosen {
                None => chosen = Some((ts, val, poison)),
                Some((first, v, p)) => {
                    if first.bit_offset != ts.bit_offset {
                        return Err(CoreError::OffsetAmbiguity(
                            first.bit_offset / 8,
                            ts.bit_offset / 8,
                        ));
                    }
                    if *p != poison || *v != val {
                        return Err(CoreError::DecisionAmbiguity(*v, val));
                    }
                }
            }
            kept.push(cand);
        }
        if !kept.is_empty() {
            self.cands.insert(type_id, kept);
        }
        let (target_spec, new_val, poison) = match chosen {
            Some((s, v, p)) => (Some(s), v, p),
            None => {
                let (v, p) = calc(target, kind, None)?;
                (None, v, p)
            }
        };
        let matched_prefix = (target_spec.is_none() && kind.is_field() && !cands.is_empty())
            .then(|| self.matched_prefix(&local, kind, &cands));
        let (mut orig_sz, mut new_sz, mut fail_memsz_adjust) = (0, 0, false);
        if let (Some(ts), RelocKind::FieldByteOffset) = (&target_spec, kind) {
            let l = mem_size(self.local, &local)?;
            let t = mem_size(target, ts)?;
            if let (Some((lsz, lid)), Some((tsz, tid))) = (l, t) {
                (orig_sz, new_sz) = (lsz, tsz);
                fail_memsz_adjust = lsz != tsz && !size_change_safe(self.local, lid, target, tid);
            }
        }
        Ok(Resolution {
            local,
            target: target_spec,
            candidates: cands.len(),
            poison,
            orig_val,
            new_val,
            matched_prefix,
            orig_sz,
            new_sz,
            fail_memsz_adjust,
        })
    }

    /// The longest prefix of `local`'s accessors that some candidate has.
    fn matched_prefix(&self, local: &Spec, kind: RelocKind, cands: &[TypeId]) -> usize {
        let mut best = 0;
        for &cand in cands {
            for k in (best + 1)..=local.access.len() {
                let mut prefix = local.clone();
                prefix.access.truncate(k);
                match spec::matches(self.local, &prefix, kind, self.target, cand) {
                    Ok(Some(_)) => best = k,
                    _ => break,
                }
            }
        }
        best
    }
}

/// Candidate target types for local type `id` (`bpf_core_find_cands`).
pub fn find_candidates(local: &Btf, id: TypeId, target: &Btf) -> Vec<TypeId> {
    let Some(lt) = local.get(id) else {
        return Vec::new();
    };
    let lname = compat::essential(local.name_bytes(lt.name).unwrap_or_default());
    if lname.is_empty() {
        return Vec::new();
    }
    let search = |btf: &Btf, all: &Btf| -> Vec<TypeId> {
        btf.iter()
            .filter(|(_, t)| {
                compat::kinds_compat(Some(t), Some(lt))
                    && compat::essential(all.name_bytes(t.name).unwrap_or_default()) == lname
                    && t.name != 0
            })
            .map(|(i, _)| i)
            .collect()
    };
    let mut found = Vec::new();
    if let Some(base) = target.base() {
        found = search(base, base);
    }
    if found.is_empty() {
        found = search(target, target);
    }
    found
}

/// `bpf_core_calc_relo` for one side: the value and whether libbpf poisons.
/// `spec` is `None` when no candidate matched.
fn calc(btf: &Btf, kind: RelocKind, spec: Option<&Spec>) -> Result<(u64, bool), CoreError> {
    if kind.is_field() {
        if kind == RelocKind::FieldExists {
            return Ok((spec.is_some() as u64, false));
        }
        return match spec {
            Some(s) => field_value(btf, s, kind).map(|v| (v, false)),
            None => Ok((0, true)),
        };
    }
    if kind.is_type() {
        let Some(s) = spec else { return Ok((0, false)) };
        let v = match kind {
            RelocKind::TypeIdLocal | RelocKind::TypeIdTarget => s.root as u64,
            RelocKind::TypeSize => compat::size_of(btf, s.root)?,
            _ => 1,
        };
        return Ok((v, false));
    }
    match (kind, spec) {
        (RelocKind::EnumvalExists, s) => Ok((s.is_some() as u64, false)),
        (_, None) => Ok((0, true)),
        (_, Some(s)) => {
            let acc = &s.access[0];
            let v = match btf.get(acc.type_id).map(|t| &t.kind) {
                // 32-bit enumerators are sign-extended, as libbpf's `__s32 val`.
                Some(Kind::Enum(e)) => e.values[acc.idx as usize].value as u32 as i32 as i64 as u64,
                Some(Kind::Enum64(e)) => e.values[acc.idx as usize].value as u64,
                _ => return Err(CoreError::BadTypeId(acc.type_id)),
            };
            Ok((v, false))
        }
    }
}

/// `bpf_core_calc_field_relo` for a matched spec.
fn field_value(btf: &Btf, s: &Spec, kind: RelocKind) -> Result<u64, CoreError> {
    let acc = s
        .access
        .last()
        .ok_or_else(|| CoreError::Invalid("empty spec".into()))?;
    let size = |id| compat::size_of(btf, id);
    let Some(_) = acc.name else {
        return match kind {
            RelocKind::FieldByteOffset => Ok(s.bit_offset / 8),
            RelocKind::FieldByteSize => size(acc.type_id),
            _ => Err(CoreError::ArrayAccess(kind.name())),
        };
    };
    let m = match btf.get(acc.type_id).map(|t| &t.kind) {
        Some(Kind::Struct(c) | Kind::Union(c)) => c.members.get(acc.idx as usize),
        _ => None,
    }
    .ok_or(CoreError::BadTypeId(acc.type_id))?;
    let (mid, mt) = compat::skip_mods(btf, m.ty)?;
    let bit_off = s.bit_offset;
    let mut bit_sz = m.bitfield_size as u64;
    let (byte_off, byte_sz) = if bit_sz > 0 {
        let mut byte_sz = mt.and_then(|t| t.kind.size()).unwrap_or(0) as u64;
        if byte_sz == 0 {
            return Err(CoreError::Invalid("bitfield of a type without size".into()));
        }
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return Err(CoreError::Bitfield);
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_off, byte_sz)
    } else {
        let byte_sz = size(mid)?;
        bit_sz = byte_sz * 8;
        (bit_off / 8, byte_sz)
    };
    Ok(match kind {
        RelocKind::FieldByteOffset => byte_off,
        RelocKind::FieldByteSize => byte_sz,
        RelocKind::FieldSigned => match mt.map(|t| &t.kind) {
            Some(Kind::Enum(e) | Kind::Enum64(e)) => e.signed as u64,
            Some(Kind::Int(i)) => (i.encoding & INT_SIGNED != 0) as u64,
            _ => 0,
        },
        // libbpf computes the shifts in 32 bits.
        RelocKind::FieldLshiftU64 => {
            64u32.wrapping_sub((bit_off + bit_sz - byte_off * 8) as u32) as u64
        }
        _ => 64u32.wrapping_sub(bit_sz as u32) as u64,
    })
}

/// The size a load or store of the field `s` reaches accesses, and the type whose kind
/// decides whether that size may change (`bpf_core_calc_field_relo`'s `field_sz` and
/// `type_id` for a byte offset): for a member, its type under modifiers and typedefs
/// and the size of that type's innermost array element; for an array element, the
/// accessor's own type id (as it is) and its innermost element's size. `None` for a
/// bitfield, whose load the compiler sizes.
fn mem_size(btf: &Btf, s: &Spec) -> Result<Option<(u32, TypeId)>, CoreError> {
    let acc = s
        .access
        .last()
        .ok_or_else(|| CoreError::Invalid("empty spec".into()))?;
    let decider = match acc.name {
        None => acc.type_id,
        Some(_) => {
            let m = match btf.get(acc.type_id).map(|t| &t.kind) {
                Some(Kind::Struct(c) | Kind::Union(c)) => c.members.get(acc.idx as usize),
                _ => None,
            }
            .ok_or(CoreError::BadTypeId(acc.type_id))?;
            if m.bitfield_size > 0 {
                return Ok(None);
            }
            compat::skip_mods(btf, m.ty)?.0
        }
    };
    // Arrays of arrays down to the element; an acyclic chain is no longer than the BTF.
    let (mut elem, mut t) = compat::skip_mods(btf, decider)?;
    for _ in 0..=btf.type_count() {
        match t.map(|t| &t.kind) {
            Some(Kind::Array(a)) => (elem, t) = compat::skip_mods(btf, a.elem)?,
            _ => return Ok(Some((compat::size_of(btf, elem)? as u32, decider))),
        }
    }
    Err(CoreError::Invalid(format!(
        "type [{decider}] has an array loop"
    )))
}

/// Whether libbpf changes a load or store's size from local type `lid` to target type
/// `tid` rather than poison it: both pointers (a 32-bit kernel's pointer read as an
/// integer), or both integers whose encoding is not signed (zero extension keeps the
/// value).
fn size_change_safe(local: &Btf, lid: TypeId, target: &Btf, tid: TypeId) -> bool {
    match (
        local.get(lid).map(|t| &t.kind),
        target.get(tid).map(|t| &t.kind),
    ) {
        (Some(Kind::Ptr(_)), Some(Kind::Ptr(_))) => true,
        (Some(Kind::Int(a)), Some(Kind::Int(b))) => {
            a.encoding != INT_SIGNED && b.encoding != INT_SIGNED
        }
        _ => false,
    }
}

/// `name` with its flavor suffix stripped, as candidate search sees it.
fn compat_name(name: &str) -> &str {
    &name[..compat::essential_len(name.as_bytes())]
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
