//! A reader of one unit's raw DIE stream, specialized for the converter's walk.
//!
//! gimli's `EntriesRaw` decides the size of every attribute from its form, one attribute
//! at a time. A vmlinux has some 14 million DIEs; the converter reads a few attributes
//! of most of them (name, type, size, offset) and skips the rest (decl_file, decl_line,
//! decl_column, sibling, ...) or, for inlined copies and call sites, the whole DIE. Here
//! each abbreviation of the unit is compiled once, on first use, into a plan: the used
//! attributes to decode, and runs of unused fixed-size ones to skip in one step (a DIE
//! whose forms all have fixed sizes is skipped whole with one addition). Attributes are
//! decoded into gimli's raw [`AttributeValue`]s, the common forms in line, so everything
//! past the walk (strings, addresses, expressions) still goes through gimli.

use gimli::{constants as dw, AttributeValue, DwAt, DwForm, Encoding, Reader, RunTimeEndian};

use super::error::EncodeError;
use super::refs::R;

/// One compiled abbreviation.
pub(crate) struct Abbrev {
    /// The DIE's tag.
    pub tag: gimli::DwTag,
    /// Whether the DIE has children.
    pub children: bool,
    /// Total size of the attributes when every form has a fixed size.
    fixed: Option<usize>,
    /// How to read the attributes: the used ones decoded, runs of unused fixed-size
    /// ones (decl_file, decl_line, decl_column, ...) skipped in one step.
    plan: Box<[Step]>,
}

#[derive(Clone, Copy)]
enum Step {
    /// Skip this many bytes.
    Skip(usize),
    /// Skip one value of this variable-size form.
    SkipForm(DwForm),
    /// Decode an attribute the converter uses.
    Read {
        name: DwAt,
        form: DwForm,
        implicit: i64,
    },
}

/// The abbreviations of one unit, compiled as the walk meets their codes.
pub(crate) struct Abbrevs<'u> {
    source: &'u gimli::Abbreviations,
    encoding: Encoding,
    used: fn(DwAt) -> bool,
    /// Indexed by code (DWARF producers number abbreviations 1, 2, 3, ...).
    table: Vec<Option<Abbrev>>,
}

impl<'u> Abbrevs<'u> {
    /// An empty table over `source`; `used` names the attributes the walk decodes.
    pub(super) fn new(
        source: &'u gimli::Abbreviations,
        encoding: Encoding,
        used: fn(DwAt) -> bool,
    ) -> Self {
        Abbrevs {
            source,
            encoding,
            used,
            table: Vec::new(),
        }
    }

    /// The abbreviation with this code, compiled on first use.
    pub(super) fn get(&mut self, code: u64) -> Result<&Abbrev, EncodeError> {
        let unknown = || EncodeError::Dwarf(gimli::Error::InvalidAbbreviationCode(code));
        let i = usize::try_from(code).map_err(|_| unknown())?;
        if self.table.get(i).is_none_or(Option::is_none) {
            let source = self.source.get(code).ok_or_else(unknown)?;
            let compiled = self.compile(source);
            if i >= self.table.len() {
                // Codes are small and dense in practice; a sparse one costs table slots.
                self.table.resize_with(i + 1, || None);
            }
            self.table[i] = Some(compiled);
        }
        self.table[i].as_ref().ok_or_else(unknown)
    }

    fn compile(&self, source: &gimli::Abbreviation) -> Abbrev {
        let mut plan = Vec::new();
        let mut fixed = Some(0usize);
        for spec in source.attributes() {
            let (name, form) = (spec.name(), spec.form());
            let size = fixed_size(form, self.encoding);
            fixed = fixed.zip(size).map(|(sum, n)| sum + n as usize);
            if (self.used)(name) {
                let implicit = spec.implicit_const_value().unwrap_or(0);
                plan.push(Step::Read {
                    name,
                    form,
                    implicit,
                });
                continue;
            }
            match (size, plan.last_mut()) {
                (Some(0), _) => {}
                (Some(n), Some(Step::Skip(sum))) => *sum += n as usize,
                (Some(n), _) => plan.push(Step::Skip(n as usize)),
                (None, _) => plan.push(Step::SkipForm(form)),
            }
        }
        Abbrev {
            tag: source.tag(),
            children: source.has_children(),
            fixed,
            plan: plan.into(),
        }
    }
}

/// The size of a form's value when it does not depend on the value.
fn fixed_size(form: DwForm, enc: Encoding) -> Option<u8> {
    Some(match form {
        dw::DW_FORM_flag_present | dw::DW_FORM_implicit_const => 0,
        dw::DW_FORM_data1 | dw::DW_FORM_ref1 | dw::DW_FORM_flag | dw::DW_FORM_strx1 => 1,
        dw::DW_FORM_addrx1 => 1,
        dw::DW_FORM_data2 | dw::DW_FORM_ref2 | dw::DW_FORM_strx2 | dw::DW_FORM_addrx2 => 2,
        dw::DW_FORM_strx3 | dw::DW_FORM_addrx3 => 3,
        dw::DW_FORM_data4 | dw::DW_FORM_ref4 | dw::DW_FORM_ref_sup4 => 4,
        dw::DW_FORM_strx4 | dw::DW_FORM_addrx4 => 4,
        dw::DW_FORM_data8 | dw::DW_FORM_ref8 | dw::DW_FORM_ref_sig8 | dw::DW_FORM_ref_sup8 => 8,
        dw::DW_FORM_data16 => 16,
        dw::DW_FORM_addr => enc.address_size,
        dw::DW_FORM_strp
        | dw::DW_FORM_line_strp
        | dw::DW_FORM_sec_offset
        | dw::DW_FORM_strp_sup
        | dw::DW_FORM_GNU_ref_alt
        | dw::DW_FORM_GNU_strp_alt => enc.format.word_size(),
        // DWARF 2 sized DW_FORM_ref_addr like an address, later versions like an offset.
        dw::DW_FORM_ref_addr if enc.version == 2 => enc.address_size,
        dw::DW_FORM_ref_addr => enc.format.word_size(),
        _ => return None,
    })
}

/// A position in one unit's DIEs.
pub(crate) struct Cursor<'a> {
    /// The unit's bytes from its first DIE to its end.
    data: &'a [u8],
    pos: usize,
    /// Unit-relative offset of `data[0]`.
    start: usize,
    encoding: Encoding,
    endian: RunTimeEndian,
}

fn eof(pos: usize) -> EncodeError {
    EncodeError::Dwarf(gimli::Error::UnexpectedEof(gimli::ReaderOffsetId(
        pos as u64,
    )))
}

impl<'a> Cursor<'a> {
    /// A cursor at the first DIE of `unit`.
    pub(super) fn new(unit: &gimli::Unit<R<'a>>) -> Result<Self, EncodeError> {
        let raw = unit.entries_raw(None)?;
        let start = raw.next_offset().0;
        let data = unit.header.range_from(gimli::UnitOffset(start)..)?;
        Ok(Cursor {
            data: data.slice(),
            pos: 0,
            start,
            encoding: unit.encoding(),
            endian: data.endian(),
        })
    }

    /// Whether every DIE has been read.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Unit-relative offset of the next DIE.
    #[inline]
    pub(super) fn offset(&self) -> usize {
        self.start + self.pos
    }

    /// The next DIE's abbreviation code (0: the null entry that ends a list of children).
    #[inline]
    pub(super) fn code(&mut self) -> Result<u64, EncodeError> {
        self.uleb()
    }

    /// Skips the attributes of a DIE whose code has just been read.
    #[inline]
    pub(super) fn skip(&mut self, abbrev: &Abbrev) -> Result<(), EncodeError> {
        if let Some(n) = abbrev.fixed {
            return self.advance(n);
        }
        for step in abbrev.plan.iter() {
            match *step {
                Step::Skip(n) => self.advance(n)?,
                Step::SkipForm(form) | Step::Read { form, .. } => {
                    match fixed_size(form, self.encoding) {
                        Some(n) => self.advance(n as usize)?,
                        None => drop(self.value(form, 0)?),
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads the attributes of a DIE whose code has just been read, handing each used
    /// one to `f` and skipping the others.
    #[inline]
    pub(super) fn read(
        &mut self,
        abbrev: &Abbrev,
        mut f: impl FnMut(DwAt, AttributeValue<R<'a>>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        for step in abbrev.plan.iter() {
            match *step {
                Step::Skip(n) => self.advance(n)?,
                Step::SkipForm(form) => drop(self.value(form, 0)?),
                Step::Read {
                    name,
                    form,
                    implicit,
                } => f(name, self.value_inline(form, implicit)?)?,
            }
        }
        Ok(())
    }

    /// [`Cursor::value`] with the forms producers use for the converter's attributes
    /// most (type references, string offsets, small constants) decoded in line.
    #[inline(always)]
    fn value_inline(
        &mut self,
        form: DwForm,
        implicit: i64,
    ) -> Result<AttributeValue<R<'a>>, EncodeError> {
        use AttributeValue as V;
        let word4 = self.encoding.format == gimli::Format::Dwarf32;
        Ok(match form {
            dw::DW_FORM_ref4 => V::UnitRef(gimli::UnitOffset(self.u32()? as usize)),
            dw::DW_FORM_strp if word4 => {
                V::DebugStrRef(gimli::DebugStrOffset(self.u32()? as usize))
            }
            dw::DW_FORM_data1 => V::Data1(self.u8()?),
            dw::DW_FORM_data2 => V::Data2(self.uint(2)? as u16),
            dw::DW_FORM_implicit_const => V::Sdata(implicit),
            dw::DW_FORM_flag_present => V::Flag(true),
            _ => return self.value(form, implicit),
        })
    }

    /// A 4-byte unsigned integer in the unit's byte order.
    #[inline(always)]
    fn u32(&mut self) -> Result<u32, EncodeError> {
        let b: [u8; 4] = self.bytes(4)?.try_into().map_err(|_| eof(self.offset()))?;
        Ok(if self.endian == RunTimeEndian::Big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    #[inline]
    fn advance(&mut self, n: usize) -> Result<(), EncodeError> {
        if n > self.data.len() - self.pos {
            return Err(eof(self.offset()));
        }
        self.pos += n;
        Ok(())
    }

    #[inline]
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], EncodeError> {
        let b = self
            .data
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or_else(|| eof(self.offset()))?;
        self.pos += n;
        Ok(b)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, EncodeError> {
        let b = *self.data.get(self.pos).ok_or_else(|| eof(self.offset()))?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned integer of `n` (1–8) bytes in the unit's byte order.
    #[inline]
    fn uint(&mut self, n: usize) -> Result<u64, EncodeError> {
        let b = self.bytes(n)?;
        let mut v = 0u64;
        if self.endian == RunTimeEndian::Big {
            for &x in b {
                v = v << 8 | x as u64;
            }
        } else {
            for &x in b.iter().rev() {
                v = v << 8 | x as u64;
            }
        }
        Ok(v)
    }

    #[inline]
    fn uleb(&mut self) -> Result<u64, EncodeError> {
        let first = self.u8()?;
        if first < 0x80 {
            return Ok(first as u64);
        }
        let mut v = (first & 0x7f) as u64;
        let mut shift = 7;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= ((b & 0x7f) as u64) << shift;
            }
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    fn sleb(&mut self) -> Result<i64, EncodeError> {
        let mut v = 0i64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= ((b & 0x7f) as i64) << shift;
            }
            shift += 7;
            if b < 0x80 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1 << shift;
                }
                return Ok(v);
            }
        }
    }

    /// The next `n` bytes, as a reader.
    fn block(&mut self, n: usize) -> Result<R<'a>, EncodeError> {
        let b = self.bytes(n)?;
        Ok(gimli::EndianSlice::new(b, self.endian))
    }

    /// A NUL-terminated string, without its NUL.
    fn cstr(&mut self) -> Result<R<'a>, EncodeError> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let len = memchr::memchr(0, rest).ok_or_else(|| eof(self.start + self.data.len()))?;
        self.pos += len + 1;
        Ok(gimli::EndianSlice::new(&rest[..len], self.endian))
    }

    /// Decodes one attribute value of `form`, as gimli's `raw_value` gives it.
    fn value(&mut self, form: DwForm, implicit: i64) -> Result<AttributeValue<R<'a>>, EncodeError> {
        use AttributeValue as V;
        let word = self.encoding.format.word_size() as usize;
        let addr = self.encoding.address_size as usize;
        Ok(match form {
            dw::DW_FORM_data1 => V::Data1(self.u8()?),
            dw::DW_FORM_data2 => V::Data2(self.uint(2)? as u16),
            dw::DW_FORM_data4 => V::Data4(self.uint(4)? as u32),
            dw::DW_FORM_data8 => V::Data8(self.uint(8)?),
            dw::DW_FORM_data16 => {
                let (hi, lo) = (self.uint(8)?, self.uint(8)?);
                V::Data16(if self.endian == RunTimeEndian::Big {
                    (hi as u128) << 64 | lo as u128
                } else {
                    (lo as u128) << 64 | hi as u128
                })
            }
            dw::DW_FORM_sdata => V::Sdata(self.sleb()?),
            dw::DW_FORM_udata => V::Udata(self.uleb()?),
            dw::DW_FORM_implicit_const => V::Sdata(implicit),
            dw::DW_FORM_flag => V::Flag(self.u8()? != 0),
            dw::DW_FORM_flag_present => V::Flag(true),
            dw::DW_FORM_ref1 => V::UnitRef(gimli::UnitOffset(self.u8()? as usize)),
            dw::DW_FORM_ref2 => V::UnitRef(gimli::UnitOffset(self.uint(2)? as usize)),
            dw::DW_FORM_ref4 => V::UnitRef(gimli::UnitOffset(self.uint(4)? as usize)),
            dw::DW_FORM_ref8 => V::UnitRef(gimli::UnitOffset(self.uint(8)? as usize)),
            dw::DW_FORM_ref_udata => V::UnitRef(gimli::UnitOffset(self.uleb()? as usize)),
            dw::DW_FORM_ref_addr => {
                let n = if self.encoding.version == 2 {
                    addr
                } else {
                    word
                };
                V::DebugInfoRef(gimli::DebugInfoOffset(self.uint(n)? as usize))
            }
            dw::DW_FORM_ref_sig8 => V::DebugTypesRef(gimli::DebugTypeSignature(self.uint(8)?)),
            dw::DW_FORM_ref_sup4 => {
                V::DebugInfoRefSup(gimli::DebugInfoOffset(self.uint(4)? as usize))
            }
            dw::DW_FORM_ref_sup8 => {
                V::DebugInfoRefSup(gimli::DebugInfoOffset(self.uint(8)? as usize))
            }
            dw::DW_FORM_GNU_ref_alt => {
                V::DebugInfoRefSup(gimli::DebugInfoOffset(self.uint(word)? as usize))
            }
            dw::DW_FORM_string => V::String(self.cstr()?),
            dw::DW_FORM_strp => V::DebugStrRef(gimli::DebugStrOffset(self.uint(word)? as usize)),
            dw::DW_FORM_line_strp => {
                V::DebugLineStrRef(gimli::DebugLineStrOffset(self.uint(word)? as usize))
            }
            dw::DW_FORM_strp_sup | dw::DW_FORM_GNU_strp_alt => {
                V::DebugStrRefSup(gimli::DebugStrOffset(self.uint(word)? as usize))
            }
            dw::DW_FORM_strx | dw::DW_FORM_GNU_str_index => {
                V::DebugStrOffsetsIndex(gimli::DebugStrOffsetsIndex(self.uleb()? as usize))
            }
            dw::DW_FORM_strx1 | dw::DW_FORM_strx2 | dw::DW_FORM_strx3 | dw::DW_FORM_strx4 => {
                let n = (form.0 - dw::DW_FORM_strx1.0 + 1) as usize;
                V::DebugStrOffsetsIndex(gimli::DebugStrOffsetsIndex(self.uint(n)? as usize))
            }
            dw::DW_FORM_addr => V::Addr(self.uint(addr)?),
            dw::DW_FORM_addrx | dw::DW_FORM_GNU_addr_index => {
                V::DebugAddrIndex(gimli::DebugAddrIndex(self.uleb()? as usize))
            }
            dw::DW_FORM_addrx1 | dw::DW_FORM_addrx2 | dw::DW_FORM_addrx3 | dw::DW_FORM_addrx4 => {
                let n = (form.0 - dw::DW_FORM_addrx1.0 + 1) as usize;
                V::DebugAddrIndex(gimli::DebugAddrIndex(self.uint(n)? as usize))
            }
            dw::DW_FORM_sec_offset => V::SecOffset(self.uint(word)? as usize),
            dw::DW_FORM_loclistx => {
                V::DebugLocListsIndex(gimli::DebugLocListsIndex(self.uleb()? as usize))
            }
            dw::DW_FORM_rnglistx => {
                V::DebugRngListsIndex(gimli::DebugRngListsIndex(self.uleb()? as usize))
            }
            dw::DW_FORM_block1 => {
                let n = self.u8()? as usize;
                V::Block(self.block(n)?)
            }
            dw::DW_FORM_block2 => {
                let n = self.uint(2)? as usize;
                V::Block(self.block(n)?)
            }
            dw::DW_FORM_block4 => {
                let n = self.uint(4)? as usize;
                V::Block(self.block(n)?)
            }
            dw::DW_FORM_block => {
                let n = usize::try_from(self.uleb()?).map_err(|_| eof(self.offset()))?;
                V::Block(self.block(n)?)
            }
            dw::DW_FORM_exprloc => {
                let n = usize::try_from(self.uleb()?).map_err(|_| eof(self.offset()))?;
                V::Exprloc(gimli::Expression(self.block(n)?))
            }
            dw::DW_FORM_indirect => {
                let inner = self.uleb()?;
                let inner = DwForm(u16::try_from(inner).map_err(|_| unknown_form(form))?);
                if inner == dw::DW_FORM_indirect || inner == dw::DW_FORM_implicit_const {
                    return Err(unknown_form(inner));
                }
                return self.value(inner, 0);
            }
            other => return Err(unknown_form(other)),
        })
    }
}

fn unknown_form(form: DwForm) -> EncodeError {
    EncodeError::Dwarf(gimli::Error::UnknownForm(form))
}

#[cfg(test)]
mod tests;
