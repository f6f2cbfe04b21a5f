//! Reading BTF: raw blobs (either byte order), the `.BTF` section of an ELF file,
//! `/sys/kernel/btf/vmlinux`, and split BTF on a base.

use std::path::Path;
use std::sync::Arc;

use object::{Object, ObjectSection};

use super::types::*;
use super::{Btf, Endian, Strings, DISTILLED_BASE_SECTION, MAGIC};
use crate::input::{self, MAX_BTF_STREAM};

/// Why a BTF blob could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    /// The blob does not start with the BTF magic in either byte order.
    #[error("not BTF: bad magic {0:#06x}")]
    BadMagic(u16),
    /// The blob ends before a structure it declares.
    #[error("truncated BTF: {0}")]
    Truncated(&'static str),
    /// The header is inconsistent.
    #[error("invalid BTF header: {0}")]
    Header(String),
    /// A type record is invalid.
    #[error("invalid BTF type {id}: {what}")]
    Type {
        /// The offending type's id.
        id: TypeId,
        /// What is wrong with it.
        what: String,
    },
    /// An ELF file without a `.BTF` section.
    #[error("ELF file has no .BTF section")]
    NoBtfSection,
    /// A module's `.BTF` could not be relocated from its `.BTF.base` onto the base given.
    #[error("cannot relocate onto the base BTF: {0}")]
    Relocate(super::RelocateError),
    /// BTF read without a base that looks like split BTF: its string section does not
    /// start with NUL, or a type refers past its last type. Holds which.
    #[error("looks like split BTF ({0}), which needs its base BTF")]
    LooksSplit(String),
    /// The input is neither raw BTF nor ELF.
    #[error("neither raw BTF nor an ELF file")]
    UnknownFormat,
    /// The ELF container could not be parsed.
    #[error("bad ELF file: {0}")]
    Elf(object::Error),
    /// The `.BTF` section could not be read or decompressed.
    #[error("bad ELF file: .BTF: {0}")]
    Section(String),
    /// A module's `.BTF.base` (its distilled base) could not be read.
    #[error("bad ELF file: {DISTILLED_BASE_SECTION}: {0}")]
    DistilledBase(String),
    /// An archive (`.btf.tar.xz` and the like) could not be unpacked, or does not
    /// hold exactly one BTF file.
    #[error("{0}")]
    Archive(String),
    /// Reading the file failed, or it is a stream longer than any BTF
    /// ([`crate::input::MAX_BTF_STREAM`]).
    #[error("{0}")]
    Io(crate::input::InputError),
}

impl From<super::RelocateError> for BtfError {
    fn from(e: super::RelocateError) -> Self {
        BtfError::Relocate(e)
    }
}

impl From<object::Error> for BtfError {
    fn from(e: object::Error) -> Self {
        BtfError::Elf(e)
    }
}

impl From<crate::input::InputError> for BtfError {
    fn from(e: crate::input::InputError) -> Self {
        BtfError::Io(e)
    }
}

/// Most bytes a compressed ELF section may claim per byte stored: zlib cannot expand
/// past 1032:1 and debug info compresses far less; a header claiming more would only
/// make the reader allocate what the input cannot fill.
const MAX_COMPRESSION_RATIO: u64 = 1032;

/// Decompressed bytes all the compressed sections of one ELF file may claim together,
/// per byte of the file: DWARF and BTF compress 3:1 to 10:1 with zlib or zstd, and the
/// whole file is larger than its compressed sections.
pub(crate) const BUDGET_RATIO: u64 = 64;
/// The smallest budget (a 4 KiB object may decompress to 1 MiB).
pub(crate) const BUDGET_FLOOR: u64 = 1 << 20;
/// The largest budget, above the DWARF of the largest kernels (a few GB).
pub(crate) const BUDGET_CAP: u64 = 8 << 30;

/// How many bytes the compressed sections of a file of `len` bytes may decompress to in
/// all: [`BUDGET_RATIO`] times `len`, within [`BUDGET_FLOOR`]..=[`BUDGET_CAP`].
pub(crate) fn decompress_budget(len: usize) -> u64 {
    (len as u64)
        .saturating_mul(BUDGET_RATIO)
        .clamp(BUDGET_FLOOR, BUDGET_CAP)
}

/// The bytes of some sections of one ELF file of `file_len` bytes, decompressed
/// (`SHF_COMPRESSED`, `.zdebug_*`) when they are. Before anything is decompressed,
/// each section's claimed size is checked against [`MAX_COMPRESSION_RATIO`] and all
/// of them together against [`decompress_budget`], so that a small file with several
/// sections each just under the ratio cannot make the reader allocate gigabytes. An
/// error gives the index of the section it is about.
pub(crate) fn sections_data<'d, S: ObjectSection<'d>>(
    file_len: usize,
    sections: &[S],
) -> Result<Vec<std::borrow::Cow<'d, [u8]>>, (usize, String)> {
    let budget = decompress_budget(file_len);
    let mut claimed = 0u64;
    for (i, section) in sections.iter().enumerate() {
        let range = section
            .compressed_file_range()
            .map_err(|e| (i, e.to_string()))?;
        if range.format == object::CompressionFormat::None {
            continue;
        }
        let bound = range
            .compressed_size
            .saturating_mul(MAX_COMPRESSION_RATIO)
            .max(1 << 16);
        if range.uncompressed_size > bound {
            return Err((
                i,
                format!(
                    "compressed section claims {} bytes from {} (more than {MAX_COMPRESSION_RATIO}:1)",
                    range.uncompressed_size, range.compressed_size
                ),
            ));
        }
        claimed = claimed.saturating_add(range.uncompressed_size);
        if claimed > budget {
            return Err((
                i,
                format!(
                    "compressed sections claim more than {budget} bytes in all ({BUDGET_RATIO} times the file's size, at most {} GiB); refusing the file",
                    BUDGET_CAP >> 30
                ),
            ));
        }
    }
    sections
        .iter()
        .enumerate()
        .map(|(i, s)| s.uncompressed_data().map_err(|e| (i, e.to_string())))
        .collect()
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    endian: Endian,
}

impl Cursor<'_> {
    fn u32(&mut self, what: &'static str) -> Result<u32, BtfError> {
        let b = self
            .data
            .get(self.pos..self.pos + 4)
            .ok_or(BtfError::Truncated(what))?;
        self.pos += 4;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
}

/// Detects the byte order of a raw BTF blob from its magic.
pub fn detect_endian(data: &[u8]) -> Result<Endian, BtfError> {
    let m = data.get(..2).ok_or(BtfError::Truncated("header"))?;
    if u16::from_le_bytes([m[0], m[1]]) == MAGIC {
        Ok(Endian::Little)
    } else if u16::from_be_bytes([m[0], m[1]]) == MAGIC {
        Ok(Endian::Big)
    } else {
        Err(BtfError::BadMagic(u16::from_le_bytes([m[0], m[1]])))
    }
}

impl Btf {
    /// Parses a raw base BTF blob.
    pub fn from_bytes(data: &[u8]) -> Result<Btf, BtfError> {
        parse(data, None)
    }

    /// Parses a raw base BTF blob as the commands that compute with its types need it:
    /// [`Btf::from_bytes`], then [`check_reference_loops`](super::check_reference_loops).
    /// What `btfgen min` refuses as a kernel's BTF, this refuses (corepack's `verify`
    /// and its tracer read bundle blobs with it).
    pub fn from_bytes_checked(data: &[u8]) -> Result<Btf, BtfError> {
        let btf = parse(data, None)?;
        super::check_reference_loops(&btf)?;
        Ok(btf)
    }

    /// Parses a raw split BTF blob whose ids and strings continue `base`'s.
    pub fn from_split_bytes(data: &[u8], base: Arc<Btf>) -> Result<Btf, BtfError> {
        parse(data, Some(base))
    }

    /// Parses raw BTF, the `.BTF` section when `data` is an ELF file, or either inside
    /// an archive, told by content: BTFHub's `.btf.tar.xz`, the same tar with gzip,
    /// zstd or none, and raw BTF compressed with xz, gzip or zstd. An ELF file that
    /// also has `.BTF.base` (a module with a distilled base) gives its split BTF on
    /// that distilled base, or, with `base`, [relocated](super::relocate()) onto `base`.
    pub fn from_any_bytes(data: &[u8], base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        if let Some(unpacked) = super::archive::unpack(data)? {
            return Btf::from_any_bytes(&unpacked, base);
        }
        if data.starts_with(b"\x7fELF") {
            let file = object::File::parse(data)?;
            let section = file.section_by_name(".BTF").ok_or(BtfError::NoBtfSection)?;
            let Some(distilled) = file.section_by_name(DISTILLED_BASE_SECTION) else {
                let mut bytes =
                    sections_data(data.len(), &[section]).map_err(|(_, e)| BtfError::Section(e))?;
                return parse(&bytes.swap_remove(0), base);
            };
            // A module with a distilled base: split on it, moved onto `base` if given.
            let bytes =
                sections_data(data.len(), &[section, distilled]).map_err(|(i, e)| match i {
                    0 => BtfError::Section(e),
                    _ => BtfError::DistilledBase(e),
                })?;
            let dist = Arc::new(
                parse(&bytes[1], None).map_err(|e| BtfError::DistilledBase(e.to_string()))?,
            );
            let split = parse(&bytes[0], Some(dist))?;
            match base {
                Some(base) => Ok(super::relocate(&split, base)?),
                None => Ok(split),
            }
        } else if detect_endian(data).is_ok() {
            parse(data, base)
        } else {
            Err(BtfError::UnknownFormat)
        }
    }

    /// Whether `data` is an ELF file with a `.BTF.base` section: a module whose BTF is
    /// split on its distilled base, which names the base types it uses but holds none
    /// of their members. Read alone it lists the module's types; relocations, minimized
    /// BTF and diffs need the kernel's own BTF as its base.
    pub fn has_distilled_base(data: &[u8]) -> bool {
        data.starts_with(b"\x7fELF")
            && object::File::parse(data)
                .is_ok_and(|f| f.section_by_name(DISTILLED_BASE_SECTION).is_some())
    }

    /// Reads a file holding raw BTF or an ELF file with a `.BTF` section
    /// (`/sys/kernel/btf/vmlinux` is raw BTF), or an archive of one
    /// (`<uname -r>.btf.tar.xz`, see [`Btf::from_any_bytes`]); one that is not a regular
    /// file to at most [`MAX_BTF_STREAM`] bytes.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Btf, BtfError> {
        Btf::from_any_bytes(&input::read(path.as_ref(), MAX_BTF_STREAM)?, None)
    }

    /// Reads split BTF (raw or ELF `.BTF`, or an archive of one) on `base`.
    pub fn from_split_file(path: impl AsRef<Path>, base: Arc<Btf>) -> Result<Btf, BtfError> {
        Btf::from_any_bytes(&input::read(path.as_ref(), MAX_BTF_STREAM)?, Some(base))
    }
}

fn parse(data: &[u8], base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
    let endian = detect_endian(data)?;
    if data.len() < 24 {
        return Err(BtfError::Truncated("header"));
    }
    let mut c = Cursor {
        data,
        pos: 4,
        endian,
    };
    if data[2] != 1 {
        return Err(BtfError::Header(format!("unsupported version {}", data[2])));
    }
    let hdr_len = c.u32("header")? as usize;
    let type_off = c.u32("header")? as usize;
    let type_len = c.u32("header")? as usize;
    let str_off = c.u32("header")? as usize;
    let str_len = c.u32("header")? as usize;
    if hdr_len < 24 || hdr_len > data.len() {
        return Err(BtfError::Header(format!("header length {hdr_len}")));
    }
    let body = &data[hdr_len..];
    let section = |off: usize, len: usize, what: &'static str| {
        off.checked_add(len)
            .and_then(|end| body.get(off..end))
            .ok_or(BtfError::Truncated(what))
    };
    let type_data = section(type_off, type_len, "type section")?;
    let str_data = section(str_off, str_len, "string section")?;
    if type_off % 4 != 0 {
        return Err(BtfError::Header(format!(
            "type section offset {type_off} not aligned"
        )));
    }
    check_layout(body.len(), (type_off, type_len), (str_off, str_len))?;
    let (start_id, str_start) = match &base {
        Some(b) => (b.type_count(), b.strings_end()),
        None => (1, 0),
    };
    if base.is_none() && str_data.first().is_some_and(|&b| b != 0) {
        return Err(BtfError::LooksSplit(
            "its string section does not start with NUL".into(),
        ));
    }
    if str_data.last().is_some_and(|&b| b != 0) {
        return Err(BtfError::Header(
            "string section does not end with NUL".into(),
        ));
    }
    let strings_end = str_start + str_data.len() as u32;

    let mut c = Cursor {
        data: type_data,
        pos: 0,
        endian,
    };
    let mut types = Vec::new();
    while c.pos < type_data.len() {
        let id = start_id + types.len() as u32;
        let t = read_type(&mut c, id)?;
        if t.name >= strings_end.max(1) {
            return Err(BtfError::Type {
                id,
                what: format!("name offset {} out of range", t.name),
            });
        }
        types.push(t);
    }
    let btf = Btf::from_parts(
        base,
        types,
        Strings::from_raw(str_start, str_data.to_vec()),
        endian,
    );
    validate_refs(&btf)?;
    Ok(btf)
}

/// The kernel's rule for the sections after the header (`btf_check_sec_info`): in
/// offset order, each starts where the one before ends, and together they fill the
/// rest of the blob exactly: no overlap, no gap, nothing after. (libbpf only refuses
/// overlap and a string section first; the kernel is what loads.) Both sections are
/// known to lie within the blob.
fn check_layout(
    body_len: usize,
    types: (usize, usize),
    strings: (usize, usize),
) -> Result<(), BtfError> {
    let mut secs = [("type", types), ("string", strings)];
    secs.sort_by_key(|&(_, (off, _))| off);
    let [(first, (first_off, first_len)), (second, (second_off, second_len))] = secs;
    let describe = || {
        format!(
            "type section at {}+{}, string section at {}+{}, {body_len} bytes after the header",
            types.0, types.1, strings.0, strings.1
        )
    };
    let problem = if first_off != 0 {
        Some(format!("data before the {first} section"))
    } else if second_off < first_len {
        Some(format!("the {first} and {second} sections overlap"))
    } else if second_off > first_len {
        Some(format!("data between the {first} and {second} sections"))
    } else if second_off + second_len != body_len {
        Some(format!("data after the {second} section"))
    } else {
        None
    };
    match problem {
        Some(p) => Err(BtfError::Header(format!("{p} ({})", describe()))),
        None => Ok(()),
    }
}

fn validate_refs(btf: &Btf) -> Result<(), BtfError> {
    let count = btf.type_count();
    let end = btf.strings_end().max(1);
    for (id, t) in btf.iter() {
        let mut bad = None;
        let mut past = None;
        t.kind.for_each_ref(|r| {
            if r >= count {
                past = Some(r);
                bad = Some(format!(
                    "refers to type {r}, beyond the last type {}",
                    count - 1
                ));
            }
        });
        let mut check_name = |n: StrOff| {
            if n >= end {
                bad = Some(format!("name offset {n} out of range"));
            }
        };
        match &t.kind {
            Kind::Struct(c) | Kind::Union(c) => c.members.iter().for_each(|m| check_name(m.name)),
            Kind::Enum(e) | Kind::Enum64(e) => e.values.iter().for_each(|v| check_name(v.name)),
            Kind::FuncProto(p) => p.params.iter().for_each(|p| check_name(p.name)),
            _ => {}
        }
        if let Some(what) = bad {
            return Err(match past {
                Some(r) if btf.base().is_none() => BtfError::LooksSplit(format!(
                    "type {id} refers to type {r}, past its last type {}",
                    count - 1
                )),
                _ => BtfError::Type { id, what },
            });
        }
    }
    Ok(())
}

fn read_type(c: &mut Cursor<'_>, id: TypeId) -> Result<Type, BtfError> {
    let name = c.u32("type record")?;
    let info = c.u32("type record")?;
    let size_or_type = c.u32("type record")?;
    let vlen = (info & 0xffff) as usize;
    let code = ((info >> 24) & 0x1f) as u8;
    let kflag = info >> 31 != 0;
    let what = "type record";
    let bad = |what: String| BtfError::Type { id, what };
    // Every vlen entry takes at least 8 bytes: refuse counts the data cannot hold
    // (a FUNC's vlen is its linkage, not a count).
    if code != kind::FUNC && vlen * 8 > c.data.len() - c.pos {
        return Err(BtfError::Truncated(what));
    }
    let kind = match code {
        kind::INT => {
            let v = c.u32(what)?;
            Kind::Int(Int {
                size: size_or_type,
                encoding: (v >> 24) as u8 & 0x0f,
                offset: (v >> 16) as u8,
                bits: v as u8,
            })
        }
        kind::PTR => Kind::Ptr(size_or_type),
        kind::ARRAY => Kind::Array(Array {
            elem: c.u32(what)?,
            index: c.u32(what)?,
            nelems: c.u32(what)?,
        }),
        kind::STRUCT | kind::UNION => {
            let mut members = Vec::with_capacity(vlen);
            for _ in 0..vlen {
                let name = c.u32(what)?;
                let ty = c.u32(what)?;
                let off = c.u32(what)?;
                let (bit_offset, bitfield_size) = if kflag {
                    (off & 0x00ff_ffff, (off >> 24) as u8)
                } else {
                    (off, 0)
                };
                members.push(Member {
                    name,
                    ty,
                    bit_offset,
                    bitfield_size,
                });
            }
            let comp = Composite {
                size: size_or_type,
                members,
            };
            // The writer uses the kind_flag layout (24-bit offsets) for any struct with
            // bitfields or unaligned members: refuse what it could not write back.
            if let Some(m) = comp
                .members
                .iter()
                .find(|m| m.bit_offset > 0x00ff_ffff && comp.has_bitfields())
            {
                return Err(bad(format!(
                    "member bit offset {} beyond 2^24 in a struct with bitfields",
                    m.bit_offset
                )));
            }
            if code == kind::STRUCT {
                Kind::Struct(comp)
            } else {
                Kind::Union(comp)
            }
        }
        kind::ENUM => {
            let mut values = Vec::with_capacity(vlen);
            for _ in 0..vlen {
                let name = c.u32(what)?;
                let raw = c.u32(what)?;
                let value = if kflag { raw as i32 as i64 } else { raw as i64 };
                values.push(Enumerator { name, value });
            }
            Kind::Enum(Enum {
                size: size_or_type,
                signed: kflag,
                values,
            })
        }
        kind::ENUM64 => {
            let mut values = Vec::with_capacity(vlen);
            for _ in 0..vlen {
                let name = c.u32(what)?;
                let lo = c.u32(what)? as u64;
                let hi = c.u32(what)? as u64;
                values.push(Enumerator {
                    name,
                    value: (hi << 32 | lo) as i64,
                });
            }
            Kind::Enum64(Enum {
                size: size_or_type,
                signed: kflag,
                values,
            })
        }
        kind::FWD => Kind::Fwd { union: kflag },
        kind::TYPEDEF => Kind::Typedef(size_or_type),
        kind::VOLATILE => Kind::Volatile(size_or_type),
        kind::CONST => Kind::Const(size_or_type),
        kind::RESTRICT => Kind::Restrict(size_or_type),
        kind::FUNC => Kind::Func {
            proto: size_or_type,
            linkage: vlen as u16,
        },
        kind::FUNC_PROTO => {
            let mut params = Vec::with_capacity(vlen);
            for _ in 0..vlen {
                params.push(Param {
                    name: c.u32(what)?,
                    ty: c.u32(what)?,
                });
            }
            Kind::FuncProto(FuncProto {
                ret: size_or_type,
                params,
            })
        }
        kind::VAR => Kind::Var {
            ty: size_or_type,
            linkage: c.u32(what)?,
        },
        kind::DATASEC => {
            let mut vars = Vec::with_capacity(vlen);
            for _ in 0..vlen {
                vars.push(VarSecInfo {
                    ty: c.u32(what)?,
                    offset: c.u32(what)?,
                    size: c.u32(what)?,
                });
            }
            Kind::Datasec(Datasec {
                size: size_or_type,
                vars,
            })
        }
        kind::FLOAT => Kind::Float { size: size_or_type },
        kind::DECL_TAG => Kind::DeclTag {
            ty: size_or_type,
            component: c.u32(what)? as i32,
        },
        kind::TYPE_TAG => Kind::TypeTag {
            ty: size_or_type,
            attr: kflag,
        },
        other => return Err(bad(format!("unknown kind {other}"))),
    };
    Ok(Type { name, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One type of every kind, written and read back in both byte orders.
    fn every_kind() -> Btf {
        let mut b = Btf::new();
        let n = b.add_str("int");
        let int = b.add(Type {
            name: n,
            kind: Kind::Int(Int {
                size: 4,
                encoding: INT_SIGNED,
                offset: 0,
                bits: 32,
            }),
        });
        let m = b.add_str("m");
        let s = b.add_str("s");
        let st = b.add(Type {
            name: s,
            kind: Kind::Struct(Composite {
                size: 8,
                members: vec![
                    Member {
                        name: m,
                        ty: int,
                        bit_offset: 0,
                        bitfield_size: 3,
                    },
                    Member {
                        name: 0,
                        ty: int,
                        bit_offset: 32,
                        bitfield_size: 0,
                    },
                ],
            }),
        });
        let e = b.add_str("e");
        b.add(Type {
            name: e,
            kind: Kind::Enum(Enum {
                size: 4,
                signed: true,
                values: vec![Enumerator { name: m, value: -1 }],
            }),
        });
        b.add(Type {
            name: e,
            kind: Kind::Enum64(Enum {
                size: 8,
                signed: false,
                values: vec![Enumerator {
                    name: m,
                    value: 1 << 40,
                }],
            }),
        });
        let ptr = b.add(Type {
            name: 0,
            kind: Kind::Ptr(st),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Array(Array {
                elem: ptr,
                index: int,
                nelems: 3,
            }),
        });
        b.add(Type {
            name: s,
            kind: Kind::Fwd { union: true },
        });
        b.add(Type {
            name: s,
            kind: Kind::Typedef(st),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Volatile(int),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Const(int),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Restrict(ptr),
        });
        let proto = b.add(Type {
            name: 0,
            kind: Kind::FuncProto(FuncProto {
                ret: int,
                params: vec![Param { name: m, ty: ptr }, Param { name: 0, ty: 0 }],
            }),
        });
        b.add(Type {
            name: n,
            kind: Kind::Float { size: 8 },
        });
        b.add(Type {
            name: e,
            kind: Kind::TypeTag {
                ty: ptr,
                attr: false,
            },
        });
        let var = b.add(Type {
            name: m,
            kind: Kind::Var {
                ty: int,
                linkage: 1,
            },
        });
        b.add(Type {
            name: e,
            kind: Kind::Datasec(Datasec {
                size: 4,
                vars: vec![VarSecInfo {
                    ty: var,
                    offset: 0,
                    size: 4,
                }],
            }),
        });
        b.add(Type {
            name: e,
            kind: Kind::DeclTag {
                ty: st,
                component: 0,
            },
        });
        // A global FUNC last: its vlen is the linkage, not a record count.
        b.add(Type {
            name: n,
            kind: Kind::Func {
                proto,
                linkage: linkage::GLOBAL,
            },
        });
        b
    }

    #[test]
    fn every_kind_round_trips_in_both_byte_orders() {
        for endian in [Endian::Little, Endian::Big] {
            let mut b = every_kind();
            b.set_endian(endian);
            let bytes = b.to_bytes();
            let back = Btf::from_bytes(&bytes).expect("parse");
            assert_eq!(back.endian(), endian);
            assert_eq!(back.types(), b.types());
            assert_eq!(back.to_bytes(), bytes);
        }
    }

    #[test]
    fn truncations_are_errors() {
        let bytes = every_kind().to_bytes();
        for len in 0..bytes.len() {
            assert!(Btf::from_bytes(&bytes[..len]).is_err(), "length {len}");
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod wire_tests;
