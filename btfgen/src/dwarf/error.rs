//! Why a file could not be encoded: the one error type of every `dwarf` module.

/// Why a file could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The input does not start with the ELF magic.
    #[error("not an ELF file")]
    NotElf,
    /// The input is raw BTF (such as /sys/kernel/btf/vmlinux), not ELF with DWARF.
    #[error("is BTF already (raw BTF, not an ELF file with DWARF): nothing to encode; read it with `btfgen dump`")]
    RawBtf,
    /// An ELF file with a `.BTF` section but no DWARF (a kernel module built with BTF
    /// and without debug info).
    #[error("has BTF already (a .BTF section) but no DWARF: nothing to encode; read it with `btfgen dump`")]
    BtfWithoutDwarf,
    /// The ELF container is malformed.
    #[error("bad ELF file: {0}")]
    BadElf(String),
    /// The ELF file has no `.debug_info`.
    #[error("no DWARF debug info (no .debug_info section); was it built with -g, or stripped?")]
    NoDwarf,
    /// gimli rejected the DWARF.
    #[error("bad DWARF: {0}")]
    Dwarf(gimli::Error),
    /// The DWARF of one unit is bad.
    #[error("in the unit at .debug_info+{offset:#x}: {error}")]
    InUnit {
        /// Offset of the unit header.
        offset: u64,
        /// What is wrong.
        error: Box<EncodeError>,
    },
    /// A DIE refers to an offset outside every unit.
    #[error("reference to .debug_info+{0:#x}, outside every unit")]
    BadReference(u64),
    /// DWARF 4 type units.
    #[error("DWARF type units (DW_FORM_ref_sig8) are not supported")]
    TypeUnits,
    /// Split DWARF skeleton units.
    #[error(
        "split DWARF (skeleton units) is not supported: encode the linked binary with its DWARF"
    )]
    SplitDwarf,
    /// DWARF that has no BTF equivalent.
    #[error("unsupported DWARF: {0}")]
    Unsupported(String),
    /// `.debug_info` beyond what 32-bit offsets address.
    #[error(".debug_info is larger than 4 GiB")]
    TooLarge,
    /// A debug-only file (`objcopy --only-keep-debug`, `eu-strip -f`) whose `.BTF_ids`
    /// has `BTF_SET8` sets but no bytes: which are kfunc sets cannot be told.
    #[error("has {sets} BTF_SET8 set(s) in .BTF_ids but not its bytes (a debug-only file, as objcopy --only-keep-debug or eu-strip -f make): its kfuncs cannot be told; encode the file with its code, or without the decl_tag_kfuncs feature")]
    DebugOnlyKfuncs {
        /// How many sets the symbols name.
        sets: usize,
    },
    /// The worker pool could not be started.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

impl From<gimli::Error> for EncodeError {
    fn from(e: gimli::Error) -> Self {
        EncodeError::Dwarf(e)
    }
}
