//! Resolving every CO-RE relocation of a BPF object, in libbpf's order.

use super::{CoreError, Engine, Resolution};
use crate::bpf::{BpfObject, CoreRelo, RelocKind};
use crate::btf::Btf;

/// One relocation of an object and its outcome on one target.
#[derive(Clone, Debug)]
pub struct Outcome<'o> {
    /// The ELF section.
    pub section: &'o str,
    /// The program (function symbol) holding the instruction.
    pub program: &'o str,
    /// Index in the section's record list: libbpf's `relo #N`.
    pub index: usize,
    /// Instruction index within the program.
    pub insn: u64,
    /// The record.
    pub relo: &'o CoreRelo,
    /// What libbpf computes, or why it refuses.
    pub result: Result<Resolution, CoreError>,
}

impl Outcome<'_> {
    /// The relocation's access in C terms, from the local spec when it parses.
    pub fn c_path(&self, local: &Btf) -> String {
        match &self.result {
            Ok(r) => r.local.c_path(local, self.relo.kind),
            Err(_) => local.type_name(self.relo.type_id).into_owned(),
        }
    }

    /// Why the relocation fails on this target, or `None` when libbpf patches a value.
    pub fn failure(&self, local: &Btf) -> Option<String> {
        let r = match &self.result {
            Ok(r) if !r.poison => return None,
            Ok(r) => r,
            Err(e) => return Some(e.to_string()),
        };
        let root = local
            .get(self.relo.type_id)
            .map(|t| local.name(t.name))
            .unwrap_or_default();
        Some(if r.candidates == 0 {
            format!(
                "type missing: the target has no type named {}",
                super::compat_name(&root)
            )
        } else if self.relo.kind == RelocKind::EnumvalValue {
            format!("enumerator missing in {} candidate(s)", r.candidates)
        } else {
            let k = r.matched_prefix.unwrap_or(0).max(1);
            let mut have = r.local.clone();
            have.access.truncate(k);
            let path = have.c_path(local, self.relo.kind);
            let path = match path.strip_prefix(root.as_ref()) {
                Some(rest) => format!("{}{rest}", super::compat_name(&root)),
                None => path,
            };
            let what = match r.local.access.get(k) {
                Some(a) => match a.name {
                    Some(n) => format!("member {}", local.name(n)),
                    None => format!("element [{}]", a.idx),
                },
                None => "such field".to_string(),
            };
            format!(
                "field missing: {path} has no {what} ({} candidate(s))",
                r.candidates
            )
        })
    }
}

/// Resolves all relocations of `obj` against `target`, in `.BTF.ext` order and with
/// one candidate cache for the whole object, as `bpf_object__relocate_core` does.
/// Records whose instruction belongs to no program are skipped, as libbpf skips them.
pub fn resolve_object<'o>(obj: &'o BpfObject, target: &Btf) -> Vec<Outcome<'o>> {
    let mut engine = Engine::new(&obj.btf, target);
    let mut out = Vec::new();
    for sec in &obj.ext.core_relos {
        for (index, relo) in sec.records.iter().enumerate() {
            let Some(prog) = obj.program_at(&sec.name, relo.insn_off) else {
                continue;
            };
            let result = if relo.insn_off % 8 != 0 {
                Err(CoreError::Invalid(format!(
                    "instruction offset {} is not a multiple of 8",
                    relo.insn_off
                )))
            } else {
                engine.resolve(relo.type_id, &relo.access, relo.kind)
            };
            out.push(Outcome {
                section: &sec.name,
                program: &prog.name,
                index,
                insn: (relo.insn_off as u64 - prog.offset) / 8,
                relo,
                result,
            });
        }
    }
    out
}
