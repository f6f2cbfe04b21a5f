//! The ELF side of encoding: DWARF sections (decompressed, and relocated for ET_REL
//! objects such as kernel modules), function symbols and per-CPU variable symbols.

use hashbrown::{HashMap, HashSet};
use std::borrow::Cow;

use object::elf;
use object::read::elf::{ElfFile, FileHeader, SectionHeader};
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget, SectionIndex, SymbolKind,
};

use super::error::EncodeError;
use crate::btf::sections_data;

/// The DWARF sections the converter reads (`.debug_line` only for its unit headers,
/// which gimli parses with each unit; `.debug_loc`/`.debug_loclists` for where
/// function parameters live).
pub(crate) const DWARF_SECTIONS: [gimli::SectionId; 9] = [
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugLoc,
    gimli::SectionId::DebugLocLists,
];

/// The name of the per-CPU data section whose variables become `VAR`s.
pub(crate) const PERCPU_SECTION: &str = ".data..percpu";

/// A per-CPU variable symbol: its offset in the section and its size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PercpuSym<'data> {
    pub name: &'data [u8],
    pub size: u64,
}

/// Everything the encoder needs from the ELF container, borrowed from the file bytes
/// except for sections that had to be decompressed or relocated.
pub(crate) struct ElfInput<'data> {
    pub endian: gimli::RunTimeEndian,
    pub arch: object::Architecture,
    /// The file already carries a `.BTF` section.
    pub has_btf: bool,
    /// Its GNU build-id (the `NT_GNU_BUILD_ID` note), when it has a readable one of 1 to
    /// [`crate::btf::MAX_BUILD_ID`] bytes.
    pub build_id: Option<Vec<u8>>,
    sections: HashMap<gimli::SectionId, Cow<'data, [u8]>>,
    /// Names of `STT_FUNC` symbols.
    pub functions: HashSet<&'data [u8]>,
    /// The same names in symbol-table order, repeats included.
    pub function_order: Vec<&'data [u8]>,
    /// Address range of the per-CPU section, in the address space DWARF uses.
    pub percpu: Option<(u64, u64)>,
    /// Per-CPU variable symbols keyed by offset in the section (non-zero size only).
    pub percpu_syms: HashMap<u64, PercpuSym<'data>>,
}

impl<'data> ElfInput<'data> {
    /// Parses the ELF file, loads its DWARF sections and collects its symbols.
    pub(super) fn parse(data: &'data [u8]) -> Result<Self, EncodeError> {
        if !data.starts_with(b"\x7fELF") {
            return Err(match crate::btf::detect_endian(data) {
                Ok(_) => EncodeError::RawBtf,
                Err(_) => EncodeError::NotElf,
            });
        }
        let file = object::File::parse(data).map_err(|e| EncodeError::BadElf(e.to_string()))?;
        let relocatable = file.kind() == object::ObjectKind::Relocatable;
        let bases = if relocatable {
            section_bases(&file)
        } else {
            HashMap::new()
        };
        let base_of = |idx: SectionIndex| bases.get(&idx).copied().unwrap_or(0);

        let (ids, found): (Vec<_>, Vec<_>) = DWARF_SECTIONS
            .iter()
            .filter_map(|&id| Some((id, file.section_by_name(id.name())?)))
            .unzip();
        if relocatable {
            let dwarf: Vec<(SectionIndex, &str)> = found
                .iter()
                .map(|s| (s.index(), s.name().unwrap_or("")))
                .collect();
            match &file {
                object::File::Elf32(f) => check_relocation_sections(f, &dwarf)?,
                object::File::Elf64(f) => check_relocation_sections(f, &dwarf)?,
                _ => {}
            }
        }
        let data_of = sections_data(data.len(), &found)
            .map_err(|(i, e)| EncodeError::BadElf(format!("section {}: {e}", ids[i].name())))?;
        let mut sections = HashMap::new();
        for ((id, section), bytes) in ids.into_iter().zip(&found).zip(data_of) {
            let bytes = if relocatable {
                Cow::Owned(relocate(&file, section, bytes.into_owned(), &base_of)?)
            } else {
                bytes
            };
            sections.insert(id, bytes);
        }
        if !sections.contains_key(&gimli::SectionId::DebugInfo) {
            return Err(match file.section_by_name(".BTF") {
                Some(_) => EncodeError::BtfWithoutDwarf,
                None => EncodeError::NoDwarf,
            });
        }

        let mut functions = HashSet::new();
        let mut function_order = Vec::new();
        let percpu_section = file.section_by_name(PERCPU_SECTION);
        let percpu_index = percpu_section.as_ref().map(|s| s.index());
        let percpu = percpu_section.as_ref().map(|s| {
            let start = if relocatable {
                base_of(s.index())
            } else {
                s.address()
            };
            (start, start.saturating_add(s.size()))
        });
        let mut percpu_syms = HashMap::new();
        for sym in file.symbols() {
            let Ok(name) = sym.name_bytes() else { continue };
            match sym.kind() {
                SymbolKind::Text => {
                    functions.insert(name);
                    function_order.push(name);
                }
                SymbolKind::Data if sym.size() > 0 && sym.section_index() == percpu_index => {
                    let section_start = percpu_section.as_ref().map_or(0, |s| s.address());
                    let offset = if relocatable {
                        sym.address()
                    } else {
                        sym.address().wrapping_sub(section_start)
                    };
                    percpu_syms.entry(offset).or_insert(PercpuSym {
                        name,
                        size: sym.size(),
                    });
                }
                _ => {}
            }
        }

        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        Ok(ElfInput {
            endian,
            arch: file.architecture(),
            has_btf: file.section_by_name(".BTF").is_some(),
            // An unreadable note is no build-id, not a reason to refuse the DWARF.
            build_id: file
                .build_id()
                .ok()
                .flatten()
                .filter(|id| (1..=crate::btf::MAX_BUILD_ID).contains(&id.len()))
                .map(<[u8]>::to_vec),
            sections,
            functions,
            function_order,
            percpu,
            percpu_syms,
        })
    }

    /// The bytes of a DWARF section (empty when the file lacks it).
    pub(super) fn section(&self, id: gimli::SectionId) -> &[u8] {
        self.sections.get(&id).map_or(&[], |c| c.as_ref())
    }
}

/// Gives every allocated section of a relocatable object a distinct address, as libdwfl
/// does, so that addresses in DWARF (a per-CPU variable's location) identify the section.
fn section_bases(file: &object::File<'_>) -> HashMap<SectionIndex, u64> {
    let mut next = 0x1000u64;
    let mut bases = HashMap::new();
    for s in file.sections() {
        let alloc = matches!(s.flags(), object::SectionFlags::Elf { sh_flags, .. }
            if sh_flags.contains(object::elf::SHF_ALLOC));
        if !alloc || s.address() != 0 || s.size() == 0 {
            continue;
        }
        // Sizes and alignments come from the file: past 2^64, later sections keep 0.
        let Some(start) = next.checked_next_multiple_of(s.align().max(1)) else {
            break;
        };
        bases.insert(s.index(), start);
        next = start.saturating_add(s.size());
    }
    bases
}

/// Refuses the relocation sections of a relocatable object that are about its DWARF
/// sections (`dwarf`: index and name) but could not be applied as they should: one
/// whose `sh_link` is not the symbol table (its symbol indices mean nothing; the
/// `object` crate passes over such a section, which left every `DW_FORM_strp`
/// unrelocated and every name wrong), or one named for a DWARF section
/// (`.rela.debug_info`) whose `sh_info` points elsewhere. libdwfl, which pahole uses,
/// takes the file's one symbol table whatever `sh_link` says; a file that disagrees
/// with itself is refused here rather than guessed at.
fn check_relocation_sections<Elf: FileHeader>(
    file: &ElfFile<'_, Elf>,
    dwarf: &[(SectionIndex, &str)],
) -> Result<(), EncodeError> {
    let endian = file.endian();
    let table = file.elf_section_table();
    let symtab = file.elf_symbol_table().section();
    for (index, header) in table.enumerate() {
        let kind = header.sh_type(endian);
        if ![elf::SHT_REL, elf::SHT_RELA, elf::SHT_CREL].contains(&kind) {
            continue;
        }
        let name = table.section_name(endian, header).unwrap_or(b"");
        let name = String::from_utf8_lossy(name);
        let target = header.info_link(endian);
        let named_for = [".rela", ".rel", ".crel"]
            .iter()
            .filter_map(|p| name.strip_prefix(p))
            .find_map(|rest| dwarf.iter().find(|(_, n)| *n == rest));
        let about_dwarf = dwarf.iter().any(|(i, _)| *i == target);
        if !about_dwarf && named_for.is_none() {
            continue;
        }
        let shown = if name.is_empty() {
            format!("section {}", index.0)
        } else {
            name.to_string()
        };
        if let Some((i, n)) = named_for.filter(|(i, _)| *i != target) {
            return Err(EncodeError::BadElf(format!(
                "{shown}: sh_info is section {}, not {n} (section {}); its relocations cannot be applied",
                target.0, i.0
            )));
        }
        let link = header.link(endian);
        if link != symtab {
            return Err(EncodeError::BadElf(format!(
                "{shown}: sh_link is section {}, not the symbol table (section {}); its relocations cannot be applied",
                link.0, symtab.0
            )));
        }
    }
    Ok(())
}

/// Applies a relocatable object's relocations against one DWARF section.
fn relocate(
    file: &object::File<'_>,
    section: &object::Section<'_, '_>,
    mut data: Vec<u8>,
    base_of: &dyn Fn(SectionIndex) -> u64,
) -> Result<Vec<u8>, EncodeError> {
    let little = file.is_little_endian();
    for (offset, reloc) in section.relocations() {
        let value = match reloc.target() {
            RelocationTarget::Symbol(idx) => {
                let sym = file
                    .symbol_by_index(idx)
                    .map_err(|e| EncodeError::BadElf(format!("relocation symbol: {e}")))?;
                let base = sym.section_index().map_or(0, base_of);
                base.wrapping_add(sym.address())
            }
            RelocationTarget::Section(idx) => base_of(idx),
            RelocationTarget::Absolute => 0,
            _ => {
                return Err(EncodeError::BadElf(format!(
                    "relocation at {offset:#x} in {}: unsupported target",
                    section.name().unwrap_or("?")
                )))
            }
        };
        if reloc.kind() != RelocationKind::Absolute {
            // DWARF sections only carry absolute relocations on the targets we support;
            // anything else (e.g. RISC-V ADD/SUB pairs in line tables) does not affect
            // the attributes the encoder reads.
            continue;
        }
        let size = usize::from(reloc.size() / 8);
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let Some(slot) = start
            .checked_add(size)
            .and_then(|end| data.get_mut(start..end))
        else {
            return Err(EncodeError::BadElf(format!(
                "relocation at {offset:#x} outside section {}",
                section.name().unwrap_or("?")
            )));
        };
        let addend = if reloc.has_implicit_addend() {
            read_uint(slot, little) as i64
        } else {
            reloc.addend()
        };
        let v = value.wrapping_add(addend as u64);
        match size {
            4 => write_uint(slot, v & 0xffff_ffff, little),
            8 => write_uint(slot, v, little),
            _ => {
                return Err(EncodeError::BadElf(format!(
                    "unsupported {}-bit relocation in {}",
                    reloc.size(),
                    section.name().unwrap_or("?")
                )))
            }
        }
    }
    Ok(data)
}

fn read_uint(slot: &[u8], little: bool) -> u64 {
    let mut v = 0u64;
    for (i, &b) in slot.iter().enumerate() {
        let shift = if little { i } else { slot.len() - 1 - i };
        v |= (b as u64) << (8 * shift);
    }
    v
}

fn write_uint(slot: &mut [u8], v: u64, little: bool) {
    let n = slot.len();
    for (i, b) in slot.iter_mut().enumerate() {
        let shift = if little { i } else { n - 1 - i };
        *b = (v >> (8 * shift)) as u8;
    }
}
