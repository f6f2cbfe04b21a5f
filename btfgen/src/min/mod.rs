//! Minimization: the smallest kernel BTF that gives every CO-RE relocation of a set
//! of BPF objects the same result as the full kernel BTF.
//!
//! Marking follows `bpftool gen min_core_btf`: for each relocation, the types and
//! members on the path of the chosen target spec; whole types for type relocations;
//! every member for TYPE_MATCHES. Enumerator relocations keep only the enumerators
//! they name (bpftool keeps whole enums). Unmarked members are dropped and references
//! to unmarked types become `void`. The result is then checked by resolving every
//! relocation against it again.

use std::collections::{HashMap, HashSet};

use crate::bpf::{BpfObject, RelocKind};
use crate::btf::{Btf, Enum, Kind, Type, TypeId};
use crate::relo::{compat, resolve_object, CoreError, Resolution, Spec};

/// Why a kernel BTF could not be minimized. Each names the object by its index in
/// the slice given to [`minimize`] ([`MinError::object`]): the caller knows its name,
/// and a malformed object must not read as a fault of the kernel BTF.
#[derive(Debug, thiserror::Error)]
pub enum MinError {
    /// A relocation libbpf refuses on this kernel (ambiguity, bad accessor, ...).
    #[error("prog '{program}': relo #{index}: {error}")]
    Relocation {
        /// The object's index in the slice given to [`minimize`].
        object: usize,
        /// The program.
        program: String,
        /// libbpf's relocation index within its section.
        index: usize,
        /// Why it fails.
        error: CoreError,
    },
    /// The minimized BTF resolves a relocation differently (a bug in this tool).
    #[error("prog '{program}': relo #{index}: minimized BTF gives {got}, full BTF {want}")]
    Mismatch {
        /// The object's index in the slice given to [`minimize`].
        object: usize,
        /// The program.
        program: String,
        /// libbpf's relocation index within its section.
        index: usize,
        /// Result with the full BTF.
        want: String,
        /// Result with the minimized BTF.
        got: String,
    },
}

impl MinError {
    /// The index of the object whose relocation failed, in the slice given to
    /// [`minimize`].
    pub fn object(&self) -> usize {
        match self {
            MinError::Relocation { object, .. } | MinError::Mismatch { object, .. } => *object,
        }
    }
}

/// What is kept: whole types (without members) and members or enumerators by index.
#[derive(Default)]
struct Marks {
    types: Kept,
    members: HashSet<(TypeId, u32)>,
}

/// Kept types in the order they were first marked, which is the output's order: it
/// follows the objects' relocations, not the kernel's type ids, so the minimized BTFs of
/// two kernels that keep the same types list them in the same order (and differ only
/// in offsets and sizes, which a bundle stores as a few bytes).
#[derive(Default)]
struct Kept {
    order: Vec<TypeId>,
    set: HashSet<TypeId>,
}

impl Kept {
    /// Adds `id`; false if it was kept already.
    fn insert(&mut self, id: TypeId) -> bool {
        let new = self.set.insert(id);
        if new {
            self.order.push(id);
        }
        new
    }
}

impl Marks {
    /// `btfgen_mark_type`: `id` and what it needs to keep its size and shape;
    /// pointers are followed only when `follow_ptr`. Members are never added.
    fn mark_type(&mut self, btf: &Btf, id: TypeId, follow_ptr: bool) {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            let Some(t) = btf.get(id) else { continue };
            if !self.types.insert(id) {
                continue;
            }
            match &t.kind {
                Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Enum64(_) => {}
                Kind::Ptr(r) => {
                    if follow_ptr {
                        stack.push(*r);
                    }
                }
                k => k.for_each_ref(|r| stack.push(r)),
            }
        }
    }

    /// `btfgen_mark_type_match`: every member, recursively, stopping behind pointers.
    fn mark_match(&mut self, btf: &Btf, id: TypeId, behind_ptr: bool) {
        let mut stack = vec![(id, behind_ptr)];
        let mut seen = HashSet::new();
        while let Some((id, behind)) = stack.pop() {
            let Some(t) = btf.get(id) else { continue };
            if !seen.insert((id, behind)) {
                continue;
            }
            self.types.insert(id);
            match &t.kind {
                Kind::Struct(c) | Kind::Union(c) => {
                    if !behind {
                        for (i, m) in c.members.iter().enumerate() {
                            self.members.insert((id, i as u32));
                            stack.push((m.ty, false));
                        }
                    }
                }
                Kind::Enum(e) | Kind::Enum64(e) => {
                    for i in 0..e.values.len() {
                        self.members.insert((id, i as u32));
                    }
                }
                Kind::Ptr(r) => stack.push((*r, true)),
                Kind::Array(a) => {
                    stack.push((a.elem, false));
                    stack.push((a.index, false));
                }
                Kind::FuncProto(p) => {
                    stack.push((p.ret, false));
                    stack.extend(p.params.iter().map(|p| (p.ty, false)));
                }
                k => k.for_each_ref(|r| stack.push((r, behind))),
            }
        }
    }

    /// `btfgen_record_field_relo`: the root and every member along the target path.
    fn mark_field(&mut self, btf: &Btf, spec: &Spec) {
        let mut id = spec.root;
        self.mark_type(btf, id, false);
        for &idx in spec.raw.iter().skip(1) {
            let Ok((tid, t)) = compat::skip_mods(btf, id) else {
                return;
            };
            match t.map(|t| &t.kind) {
                Some(Kind::Struct(c) | Kind::Union(c)) => {
                    let Some(m) = c.members.get(idx as usize) else {
                        return;
                    };
                    self.members.insert((tid, idx));
                    id = m.ty;
                    self.mark_type(btf, id, false);
                }
                Some(Kind::Array(a)) => id = a.elem,
                _ => return,
            }
        }
    }

    fn record(&mut self, btf: &Btf, kind: RelocKind, spec: &Spec) {
        match kind {
            RelocKind::TypeIdLocal => {}
            RelocKind::TypeMatches => self.mark_match(btf, spec.root, false),
            k if k.is_type() => self.mark_type(btf, spec.root, true),
            k if k.is_enumval() => {
                let acc = &spec.access[0];
                self.types.insert(acc.type_id);
                self.members.insert((acc.type_id, acc.idx));
                self.mark_type(btf, spec.root, false);
            }
            _ => self.mark_field(btf, spec),
        }
    }
}

/// The minimized BTF of `target` for `objects`.
pub fn minimize(target: &Btf, objects: &[BpfObject]) -> Result<Btf, MinError> {
    let mut marks = Marks::default();
    let mut full = Vec::new();
    for (object, obj) in objects.iter().enumerate() {
        let outcomes = resolve_object(obj, target);
        let mut results = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let r = o.result.map_err(|error| MinError::Relocation {
                object,
                program: o.program.to_string(),
                index: o.index,
                error,
            })?;
            if let Some(spec) = &r.target {
                marks.record(target, o.relo.kind, spec);
            }
            results.push(r);
        }
        full.push(results);
    }
    let out = build(target, &marks);
    for (object, (obj, want)) in objects.iter().zip(&full).enumerate() {
        for (o, want) in resolve_object(obj, &out).into_iter().zip(want) {
            let got = o.result;
            if !same(o.relo.kind, want, &got) {
                return Err(MinError::Mismatch {
                    object,
                    program: o.program.to_string(),
                    index: o.index,
                    want: describe(&Ok(want.clone())),
                    got: describe(&got),
                });
            }
        }
    }
    Ok(out)
}

/// Equal results; target type ids only need to agree on being zero, since ids
/// are renumbered.
fn same(kind: RelocKind, want: &Resolution, got: &Result<Resolution, CoreError>) -> bool {
    let Ok(got) = got else { return false };
    if want.poison || got.poison {
        return want.poison == got.poison;
    }
    match kind {
        RelocKind::TypeIdTarget => (want.new_val == 0) == (got.new_val == 0),
        _ => want.new_val == got.new_val,
    }
}

fn describe(r: &Result<Resolution, CoreError>) -> String {
    match r {
        Ok(r) if r.poison => "a poisoned instruction".into(),
        Ok(r) => format!("value {}", r.new_val),
        Err(e) => format!("error ({e})"),
    }
}

/// Builds a base BTF of the marked types in marking order, keeping marked members only.
fn build(src: &Btf, marks: &Marks) -> Btf {
    let ids: HashMap<TypeId, TypeId> = marks
        .types
        .order
        .iter()
        .enumerate()
        .map(|(i, &old)| (old, i as TypeId + 1))
        .collect();
    let mut out = Btf::new();
    out.set_endian(src.endian());
    let kept = |id: TypeId, i: usize| marks.members.contains(&(id, i as u32));
    for &old in &marks.types.order {
        let Some(t) = src.get(old) else { continue };
        let mut kind = t.kind.clone();
        match &mut kind {
            Kind::Struct(c) | Kind::Union(c) => {
                let mut i = 0;
                c.members.retain(|_| {
                    i += 1;
                    kept(old, i - 1)
                });
                for m in &mut c.members {
                    m.name = out.add_bytes(src.name_bytes(m.name).unwrap_or_default());
                }
            }
            Kind::Enum(Enum { values, .. }) | Kind::Enum64(Enum { values, .. }) => {
                let mut i = 0;
                values.retain(|_| {
                    i += 1;
                    kept(old, i - 1)
                });
                for v in values.iter_mut() {
                    v.name = out.add_bytes(src.name_bytes(v.name).unwrap_or_default());
                }
            }
            Kind::FuncProto(p) => {
                for p in &mut p.params {
                    p.name = out.add_bytes(src.name_bytes(p.name).unwrap_or_default());
                }
            }
            _ => {}
        }
        kind.for_each_ref_mut(|r| *r = ids.get(r).copied().unwrap_or(0));
        let name = out.add_bytes(src.name_bytes(t.name).unwrap_or_default());
        out.add(Type { name, kind });
    }
    out
}
