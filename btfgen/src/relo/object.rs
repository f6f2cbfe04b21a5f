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
    /// The memory access size libbpf changes on this load or store (LDX/ST/STX), from
    /// the instruction's to the target field's, in bytes: its `mem_sz FROM -> TO`.
    pub mem_sz: Option<(u32, u32)>,
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
            Ok(r) if r.fail_memsz_adjust => {
                return Some(format!(
                    "accesses field incorrectly: a {}-byte load/store of a field of {} bytes on the target, not both pointers or unsigned integers",
                    r.orig_sz, r.new_sz
                ))
            }
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
            let insn = (relo.insn_off as u64 - prog.offset) / 8;
            let mut mem_sz = None;
            let result = if relo.insn_off % 8 != 0 {
                Err(CoreError::Invalid(format!(
                    "instruction offset {} is not a multiple of 8",
                    relo.insn_off
                )))
            } else {
                let opcode = prog.opcode_at(relo.insn_off as u64 - prog.offset);
                engine
                    .resolve(relo.type_id, &relo.access, relo.kind)
                    .and_then(|r| load_store(r, opcode, insn, &mut mem_sz))
            };
            out.push(Outcome {
                section: &sec.name,
                program: &prog.name,
                index,
                insn,
                relo,
                result,
                mem_sz,
            });
        }
    }
    out
}

/// The instruction classes whose memory access size libbpf adjusts.
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;

/// Bytes a load or store of `opcode` accesses (its size field: W, H, B, DW).
fn access_bytes(opcode: u8) -> u32 {
    match opcode & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

/// What `bpf_core_patch_insn` does to a load or store (LDX/ST/STX) whose field has a
/// different size on the target: poisons it when the size may not change
/// ([`Resolution::fail_memsz_adjust`]), refuses it when the instruction's size is not
/// the local field's or the target's is not 1, 2, 4 or 8 bytes, else changes the size
/// (`mem_sz`). Other instructions are patched as they are.
pub(super) fn load_store(
    mut r: Resolution,
    opcode: Option<u8>,
    insn: u64,
    mem_sz: &mut Option<(u32, u32)>,
) -> Result<Resolution, CoreError> {
    let Some(op) = opcode.filter(|op| matches!(op & 0x07, BPF_LDX | BPF_ST | BPF_STX)) else {
        return Ok(r);
    };
    if r.poison {
        return Ok(r);
    }
    if r.fail_memsz_adjust {
        r.poison = true;
        return Ok(r);
    }
    if r.new_sz != r.orig_sz {
        let got = access_bytes(op);
        if got != r.orig_sz {
            return Err(CoreError::Invalid(format!(
                "insn #{insn} (LDX/ST/STX) unexpected mem size: got {got}, exp {}",
                r.orig_sz
            )));
        }
        if !matches!(r.new_sz, 1 | 2 | 4 | 8) {
            return Err(CoreError::Invalid(format!(
                "insn #{insn} (LDX/ST/STX) invalid new mem size: {}",
                r.new_sz
            )));
        }
        *mem_sz = Some((r.orig_sz, r.new_sz));
    }
    Ok(r)
}
