//! A diff limited to what the CO-RE relocations of BPF objects touch, and how each
//! relocation fares on both BTFs (through the relocation engine).

use std::collections::{BTreeMap, BTreeSet};

use super::{diff, diff_filtered, parse_filter, wanted, DiffError, Report};
use crate::bpf::BpfObject;
use crate::btf::{Btf, Kind, TypeId};
use crate::relo::compat::{essential, skip_mods};
use crate::relo::{resolve_object, spec, Outcome};

/// One relocation's result on A and on B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocDiff {
    /// The object's name, as given.
    pub object: String,
    /// The ELF section.
    pub section: String,
    /// The program holding the instruction.
    pub program: String,
    /// libbpf's `relo #N`.
    pub index: usize,
    /// The relocation kind (`byte_off`, `field_exists`, ...).
    pub kind: &'static str,
    /// The access in C terms.
    pub access: String,
    /// The value libbpf patches on A, or why it fails there.
    pub old: Result<u64, String>,
    /// The value libbpf patches on B, or why it fails there.
    pub new: Result<u64, String>,
}

impl RelocDiff {
    /// The relocation gives another value, or fails differently, on B.
    pub fn differs(&self) -> bool {
        self.old != self.new
    }

    /// The relocation resolves on A and fails on B: the program no longer loads.
    pub fn breaks(&self) -> bool {
        self.old.is_ok() && self.new.is_err()
    }
}

/// The diff of what BPF objects use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectDiff {
    /// Differences in the types, members and enumerators the relocations touch.
    pub report: Report,
    /// Every relocation, in each object's `.BTF.ext` order.
    pub relocs: Vec<RelocDiff>,
}

impl ObjectDiff {
    /// True when nothing the objects use differs.
    pub fn is_empty(&self) -> bool {
        self.report.is_empty() && !self.relocs.iter().any(RelocDiff::differs)
    }
}

/// Compares `a` with `b` as far as the CO-RE relocations of `objects` (name, object)
/// reach: their local root types and the members and enumerators they access.
/// `types`, when not empty, narrows further as in [`diff`].
pub fn diff_object(
    a: &Btf,
    b: &Btf,
    objects: &[(String, BpfObject)],
    types: &[String],
) -> Result<ObjectDiff, DiffError> {
    let mut touched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut relocs = Vec::new();
    for (name, obj) in objects {
        let on_a = resolve_object(obj, a);
        let on_b = resolve_object(obj, b);
        for (oa, ob) in on_a.iter().zip(&on_b) {
            touch(&obj.btf, oa, &mut touched);
            relocs.push(RelocDiff {
                object: name.clone(),
                section: oa.section.to_string(),
                program: oa.program.to_string(),
                index: oa.index,
                kind: oa.relo.kind.name(),
                access: oa.c_path(&obj.btf),
                old: value(&obj.btf, oa),
                new: value(&obj.btf, ob),
            });
        }
    }
    let user = parse_filter(types);
    if !types.is_empty() {
        diff(a, b, types)?;
    }
    let roots = Some(touched.keys().map(|n| (None, n.clone())).collect());
    let mut report = diff_filtered(a, b, &roots);
    let keep = |kind, name: &str| wanted(&user, kind, name);
    report.removed.retain(|n| keep(n.kind, &n.name));
    report.added.retain(|n| keep(n.kind, &n.name));
    report.changed.retain_mut(|c| {
        let used = touched.get(&c.name);
        c.changes.retain(|ch| match (ch.subject(), used) {
            (None, _) => true,
            (Some(s), Some(used)) => used
                .iter()
                .any(|u| u == s || u.strip_prefix(s).is_some_and(|r| r.starts_with('.'))),
            (Some(_), None) => false,
        });
        keep(c.kind, &c.name) && !c.changes.is_empty()
    });
    Ok(ObjectDiff { report, relocs })
}

/// What libbpf patches, or why the relocation fails.
fn value(local: &Btf, o: &Outcome<'_>) -> Result<u64, String> {
    match o.failure(local) {
        Some(why) => Err(why),
        None => Ok(o.result.as_ref().map_or(0, |r| r.new_val)),
    }
}

/// The essential (flavor-less) name of `id` when it is named.
fn owner(btf: &Btf, id: TypeId) -> Option<String> {
    let t = btf.get(id).filter(|t| t.name != 0)?;
    let n = btf.name_bytes(t.name)?;
    Some(String::from_utf8_lossy(essential(n)).into_owned())
}

/// Records the root type of a relocation and the member or enumerator paths it
/// accesses, each under its nearest named container.
fn touch(local: &Btf, o: &Outcome<'_>, out: &mut BTreeMap<String, BTreeSet<String>>) {
    let r = o.relo;
    let Some(root) = owner(local, r.type_id) else {
        return;
    };
    out.entry(root).or_default();
    let Ok(s) = spec::parse(local, r.type_id, &r.access, r.kind) else {
        return;
    };
    let Ok((mut id, t)) = skip_mods(local, s.root) else {
        return;
    };
    if r.kind.is_enumval() {
        if let (Some(Kind::Enum(e) | Kind::Enum64(e)), Some(name)) =
            (t.map(|t| &t.kind), owner(local, id))
        {
            if let Some(v) = s.raw.first().and_then(|&i| e.values.get(i as usize)) {
                out.entry(name)
                    .or_default()
                    .insert(local.name(v.name).into_owned());
            }
        }
        return;
    }
    let mut container = owner(local, id);
    let mut prefix = String::new();
    for &idx in s.raw.iter().skip(1) {
        let Ok((_, t)) = skip_mods(local, id) else {
            return;
        };
        match t.map(|t| &t.kind) {
            Some(Kind::Struct(c) | Kind::Union(c)) => {
                let Some(m) = c.members.get(idx as usize) else {
                    return;
                };
                if m.name != 0 {
                    let path = format!("{prefix}{}", local.name(m.name));
                    if let Some(c) = &container {
                        out.entry(c.clone()).or_default().insert(path.clone());
                    }
                    prefix = format!("{path}.");
                }
                id = m.ty;
            }
            Some(Kind::Array(a)) => id = a.elem,
            _ => return,
        }
        if let Ok((next, Some(t))) = skip_mods(local, id) {
            if matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) && t.name != 0 {
                container = owner(local, next);
                prefix.clear();
            }
        }
    }
}
