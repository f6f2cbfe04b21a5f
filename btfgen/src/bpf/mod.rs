//! BPF ELF objects as clang `-target bpf -g` writes them: the local BTF (`.BTF`), its
//! extension (`.BTF.ext`) and the programs of every executable section.

mod ext;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

use crate::btf::sections_data;
use crate::btf::{Btf, BtfError};
pub use ext::{BtfExt, CoreRelo, ExtSection, FuncInfo, LineInfo};

/// `enum bpf_core_relo_kind`: what a CO-RE relocation computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelocKind {
    /// `BPF_CORE_FIELD_BYTE_OFFSET`.
    FieldByteOffset,
    /// `BPF_CORE_FIELD_BYTE_SIZE`.
    FieldByteSize,
    /// `BPF_CORE_FIELD_EXISTS`.
    FieldExists,
    /// `BPF_CORE_FIELD_SIGNED`.
    FieldSigned,
    /// `BPF_CORE_FIELD_LSHIFT_U64`.
    FieldLshiftU64,
    /// `BPF_CORE_FIELD_RSHIFT_U64`.
    FieldRshiftU64,
    /// `BPF_CORE_TYPE_ID_LOCAL`.
    TypeIdLocal,
    /// `BPF_CORE_TYPE_ID_TARGET`.
    TypeIdTarget,
    /// `BPF_CORE_TYPE_EXISTS`.
    TypeExists,
    /// `BPF_CORE_TYPE_SIZE`.
    TypeSize,
    /// `BPF_CORE_ENUMVAL_EXISTS`.
    EnumvalExists,
    /// `BPF_CORE_ENUMVAL_VALUE`.
    EnumvalValue,
    /// `BPF_CORE_TYPE_MATCHES`.
    TypeMatches,
}

impl RelocKind {
    const ALL: [RelocKind; 13] = [
        RelocKind::FieldByteOffset,
        RelocKind::FieldByteSize,
        RelocKind::FieldExists,
        RelocKind::FieldSigned,
        RelocKind::FieldLshiftU64,
        RelocKind::FieldRshiftU64,
        RelocKind::TypeIdLocal,
        RelocKind::TypeIdTarget,
        RelocKind::TypeExists,
        RelocKind::TypeSize,
        RelocKind::EnumvalExists,
        RelocKind::EnumvalValue,
        RelocKind::TypeMatches,
    ];

    /// The kind with uapi value `raw`, if known.
    pub fn from_raw(raw: u32) -> Option<RelocKind> {
        Self::ALL.get(raw as usize).copied()
    }

    /// The name libbpf prints (`byte_off`, `local_type_id`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RelocKind::FieldByteOffset => "byte_off",
            RelocKind::FieldByteSize => "byte_sz",
            RelocKind::FieldExists => "field_exists",
            RelocKind::FieldSigned => "signed",
            RelocKind::FieldLshiftU64 => "lshift_u64",
            RelocKind::FieldRshiftU64 => "rshift_u64",
            RelocKind::TypeIdLocal => "local_type_id",
            RelocKind::TypeIdTarget => "target_type_id",
            RelocKind::TypeExists => "type_exists",
            RelocKind::TypeSize => "type_size",
            RelocKind::EnumvalExists => "enumval_exists",
            RelocKind::EnumvalValue => "enumval_value",
            RelocKind::TypeMatches => "type_matches",
        }
    }

    /// A field relocation (the access string walks members and array elements).
    pub fn is_field(self) -> bool {
        (self as u32) <= RelocKind::FieldRshiftU64 as u32
    }

    /// A type relocation (the access string is `"0"`).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            RelocKind::TypeIdLocal
                | RelocKind::TypeIdTarget
                | RelocKind::TypeExists
                | RelocKind::TypeSize
                | RelocKind::TypeMatches
        )
    }

    /// An enumerator relocation.
    pub fn is_enumval(self) -> bool {
        matches!(self, RelocKind::EnumvalExists | RelocKind::EnumvalValue)
    }
}

/// Why a BPF object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    /// Not an ELF file, or a broken one.
    #[error("not a BPF ELF object: {0}")]
    Elf(String),
    /// An ELF file for another machine.
    #[error("not a BPF object: built for {0} (compile with clang -target bpf)")]
    NotBpf(String),
    /// The object has no `.BTF` section.
    #[error("no .BTF section (compile with clang -g)")]
    NoBtf,
    /// The object has no `.BTF.ext` section.
    #[error("no .BTF.ext section (compile with clang -g)")]
    NoBtfExt,
    /// `.BTF` is invalid.
    #[error(".BTF: {0}")]
    Btf(BtfError),
    /// `.BTF.ext` ends before a structure it declares.
    #[error("truncated .BTF.ext: {0}")]
    Truncated(&'static str),
    /// `.BTF.ext` is otherwise invalid.
    #[error("invalid .BTF.ext: {0}")]
    Ext(String),
    /// A CO-RE relocation of a kind this tool does not know.
    #[error("invalid .BTF.ext: unknown CO-RE relocation kind {0}")]
    UnknownKind(u32),
}

// Not `#[from]`, which would make the BTF error the source too and print it twice.
impl From<BtfError> for BpfError {
    fn from(e: BtfError) -> Self {
        BpfError::Btf(e)
    }
}

/// A BPF program or subprogram: a function symbol in an executable section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The symbol name (what libbpf calls the program).
    pub name: String,
    /// The ELF section name.
    pub section: String,
    /// Byte offset of the first instruction in the section.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// Its instructions as the object holds them (8 bytes each; the CO-RE engine reads
    /// the opcode of a relocated instruction, as libbpf patches it).
    pub code: Vec<u8>,
}

impl Program {
    /// The opcode byte of the instruction at byte `off` of the program, if it has one.
    pub fn opcode_at(&self, off: u64) -> Option<u8> {
        usize::try_from(off)
            .ok()
            .and_then(|o| self.code.get(o))
            .copied()
    }
}

/// A parsed BPF object.
#[derive(Clone, Debug)]
pub struct BpfObject {
    /// The object's own BTF.
    pub btf: Btf,
    /// `.BTF.ext`.
    pub ext: BtfExt,
    /// Programs and subprograms, by section then offset.
    pub programs: Vec<Program>,
}

/// The name of an ELF file's machine for messages (`uname -m` spelling where there is
/// one).
fn machine_name(arch: object::Architecture) -> String {
    use object::Architecture as A;
    let name = match arch {
        A::X86_64 | A::X86_64_X32 => "x86_64",
        A::I386 => "x86",
        A::Aarch64 | A::Aarch64_Ilp32 => "aarch64",
        A::Arm => "arm",
        A::Riscv64 => "riscv64",
        A::Riscv32 => "riscv32",
        A::PowerPc64 => "ppc64",
        A::PowerPc => "ppc",
        A::S390x => "s390x",
        A::Mips64 => "mips64",
        A::Mips => "mips",
        A::LoongArch64 => "loongarch64",
        A::Sparc64 => "sparc64",
        _ => "another architecture",
    };
    name.to_string()
}

impl BpfObject {
    /// Parses a BPF ELF object.
    pub fn parse(data: &[u8]) -> Result<BpfObject, BpfError> {
        let file = object::File::parse(data).map_err(|e| BpfError::Elf(e.to_string()))?;
        if file.format() != object::BinaryFormat::Elf {
            return Err(BpfError::Elf("not an ELF file".into()));
        }
        if file.architecture() != object::Architecture::Bpf {
            return Err(BpfError::NotBpf(machine_name(file.architecture())));
        }
        let names = [".BTF", ".BTF.ext"];
        let btf = file.section_by_name(names[0]).ok_or(BpfError::NoBtf)?;
        let ext = file.section_by_name(names[1]).ok_or(BpfError::NoBtfExt)?;
        let bytes = sections_data(data.len(), &[btf, ext])
            .map_err(|(i, e)| BpfError::Elf(format!("{}: {e}", names[i])))?;
        let btf = Btf::from_bytes(&bytes[0])?;
        let ext = ext::parse(&bytes[1], &btf)?;
        let mut programs = Vec::new();
        for sym in file.symbols() {
            if sym.kind() != SymbolKind::Text {
                continue;
            }
            let Some(idx) = sym.section_index() else {
                continue;
            };
            let Ok(sec) = file.section_by_index(idx) else {
                continue;
            };
            let (Ok(name), Ok(sec_name)) = (sym.name(), sec.name()) else {
                continue;
            };
            if sym
                .address()
                .checked_add(sym.size())
                .is_none_or(|end| end > sec.size())
            {
                return Err(BpfError::Elf(format!(
                    "program {name}: bytes {}..+{} lie outside its section {sec_name} ({} bytes)",
                    sym.address(),
                    sym.size(),
                    sec.size()
                )));
            }
            // Executable sections are never compressed; a section without file bytes
            // (NOBITS) gives a program without code.
            let code = sec
                .data()
                .ok()
                .and_then(|d| d.get(sym.address() as usize..(sym.address() + sym.size()) as usize))
                .unwrap_or_default()
                .to_vec();
            programs.push(Program {
                name: name.to_string(),
                section: sec_name.to_string(),
                offset: sym.address(),
                size: sym.size(),
                code,
            });
        }
        programs.sort_by(|a, b| (&a.section, a.offset).cmp(&(&b.section, b.offset)));
        Ok(BpfObject { btf, ext, programs })
    }

    /// The program of section `section` holding the instruction at byte `insn_off`.
    pub fn program_at(&self, section: &str, insn_off: u32) -> Option<&Program> {
        let off = insn_off as u64;
        self.programs
            .iter()
            .find(|p| p.section == section && p.offset <= off && off - p.offset < p.size)
    }
}
