//! `.BTF.ext`: per-section func_info, line_info and CO-RE relocation records.

use super::{BpfError, RelocKind};
use crate::btf::{Btf, Endian, TypeId};

/// One `struct bpf_func_info`: a function's first instruction and its `FUNC` type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its section.
    pub insn_off: u32,
    /// The `FUNC` type in the object's BTF.
    pub type_id: TypeId,
}

/// One `struct bpf_line_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Byte offset of the instruction in its section.
    pub insn_off: u32,
    /// Source file name offset in the BTF string table.
    pub file_name_off: u32,
    /// Source line text offset in the BTF string table.
    pub line_off: u32,
    /// Line number (high 22 bits) and column (low 10 bits).
    pub line_col: u32,
}

/// One `struct bpf_core_relo`, with its access string resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the relocated instruction in its section.
    pub insn_off: u32,
    /// The local root type in the object's BTF.
    pub type_id: TypeId,
    /// The accessor string (`"0:1:2"`).
    pub access: String,
    /// What the relocation computes.
    pub kind: RelocKind,
}

/// The records of one kind for one ELF section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtSection<T> {
    /// The ELF section name (`tracepoint/...`, `.text`).
    pub name: String,
    /// Records in file order; the index is what libbpf prints as `relo #N`.
    pub records: Vec<T>,
}

/// Everything `.BTF.ext` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExt {
    /// Function records per section.
    pub func_info: Vec<ExtSection<FuncInfo>>,
    /// Line records per section.
    pub line_info: Vec<ExtSection<LineInfo>>,
    /// CO-RE relocation records per section.
    pub core_relos: Vec<ExtSection<CoreRelo>>,
}

struct Reader<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl Reader<'_> {
    fn u32(&self, pos: usize, what: &'static str) -> Result<u32, BpfError> {
        let b = pos
            .checked_add(4)
            .and_then(|end| self.data.get(pos..end))
            .ok_or(BpfError::Truncated(what))?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
}

/// Parses `.BTF.ext`; names and access strings are looked up in `btf`.
pub(super) fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BpfError> {
    let endian = btf.endian();
    let r = Reader { data, endian };
    let magic = data
        .get(..2)
        .ok_or(BpfError::Truncated(".BTF.ext header"))?;
    let magic = match endian {
        Endian::Little => u16::from_le_bytes([magic[0], magic[1]]),
        Endian::Big => u16::from_be_bytes([magic[0], magic[1]]),
    };
    if magic != crate::btf::MAGIC {
        return Err(BpfError::Ext(format!("bad magic {magic:#06x}")));
    }
    let hdr_len = r.u32(4, ".BTF.ext header")? as usize;
    if hdr_len < 24 || hdr_len > data.len() {
        return Err(BpfError::Ext(format!("bad header length {hdr_len}")));
    }
    let body = &data[hdr_len..];
    let sub = |off_pos: usize| -> Result<&[u8], BpfError> {
        let off = r.u32(off_pos, ".BTF.ext header")? as usize;
        let len = r.u32(off_pos + 4, ".BTF.ext header")? as usize;
        off.checked_add(len)
            .and_then(|end| body.get(off..end))
            .ok_or(BpfError::Truncated(".BTF.ext info section"))
    };
    let mut ext = BtfExt {
        func_info: info(sub(8)?, endian, btf, 8, "func_info", |r, p| {
            Ok(FuncInfo {
                insn_off: r.u32(p, "func_info")?,
                type_id: r.u32(p + 4, "func_info")?,
            })
        })?,
        line_info: info(sub(16)?, endian, btf, 16, "line_info", |r, p| {
            Ok(LineInfo {
                insn_off: r.u32(p, "line_info")?,
                file_name_off: r.u32(p + 4, "line_info")?,
                line_off: r.u32(p + 8, "line_info")?,
                line_col: r.u32(p + 12, "line_info")?,
            })
        })?,
        core_relos: Vec::new(),
    };
    if hdr_len >= 32 {
        ext.core_relos = info(sub(24)?, endian, btf, 16, "core_relo", |r, p| {
            let access_off = r.u32(p + 8, "core_relo")?;
            let access = btf.name_bytes(access_off).ok_or_else(|| {
                BpfError::Ext(format!("access string offset {access_off} out of range"))
            })?;
            let raw = r.u32(p + 12, "core_relo")?;
            Ok(CoreRelo {
                insn_off: r.u32(p, "core_relo")?,
                type_id: r.u32(p + 4, "core_relo")?,
                access: String::from_utf8_lossy(access).into_owned(),
                kind: RelocKind::from_raw(raw).ok_or(BpfError::UnknownKind(raw))?,
            })
        })?;
    }
    Ok(ext)
}

/// Parses one info section: a record size, then per ELF section its name, record
/// count and records.
fn info<T>(
    data: &[u8],
    endian: Endian,
    btf: &Btf,
    min_rec: usize,
    what: &'static str,
    rec: impl Fn(&Reader<'_>, usize) -> Result<T, BpfError>,
) -> Result<Vec<ExtSection<T>>, BpfError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let r = Reader { data, endian };
    let rec_size = r.u32(0, what)? as usize;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return Err(BpfError::Ext(format!("{what} record size {rec_size}")));
    }
    let mut pos = 4;
    let mut out = Vec::new();
    while pos < data.len() {
        let name_off = r.u32(pos, what)?;
        let count = r.u32(pos + 4, what)? as usize;
        pos += 8;
        let name = btf
            .name_bytes(name_off)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| BpfError::Ext(format!("{what}: bad section name offset {name_off}")))?;
        if count
            .checked_mul(rec_size)
            .is_none_or(|n| n > data.len() - pos)
        {
            return Err(BpfError::Truncated(what));
        }
        let mut records = Vec::with_capacity(count);
        for _ in 0..count {
            records.push(rec(&r, pos)?);
            pos += rec_size;
        }
        out.push(ExtSection {
            name: String::from_utf8_lossy(name).into_owned(),
            records,
        });
    }
    Ok(out)
}
