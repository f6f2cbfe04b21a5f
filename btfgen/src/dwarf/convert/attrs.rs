//! The attributes of one DIE that the converter uses ([`Die`]), and how they are
//! decoded from gimli's raw attribute values.

use gimli::{constants as dw, AttributeValue};

use super::Converter;
use crate::dwarf::error::EncodeError;
use crate::dwarf::refs::{DeclInfo, R};

/// The attributes the converter uses, decoded from one DIE.
#[derive(Default)]
pub(super) struct Die<'a> {
    /// `DW_AT_name` in any form but a `.debug_str` offset (see `name_str`).
    pub(super) name: Option<&'a [u8]>,
    /// `DW_AT_name` as an offset into `.debug_str` where a NUL ends it: its bytes are
    /// read only when they are needed ([`Converter::die_name`]).
    pub(super) name_str: Option<usize>,
    /// Where the name lives in `.debug_str`/`.debug_line_str` (see [`name_key`]).
    pub(super) name_key: Option<u64>,
    /// `DW_AT_type`, as a DIE key.
    pub(super) ty: Option<u32>,
    /// `DW_AT_byte_size`.
    pub(super) byte_size: Option<u64>,
    /// `DW_AT_bit_size`.
    pub(super) bit_size: Option<u64>,
    /// `DW_AT_bit_offset` (DWARF 2–4 bitfields).
    pub(super) bit_offset: Option<i64>,
    /// `DW_AT_data_bit_offset` (DWARF 4–5 bitfields).
    pub(super) data_bit_offset: Option<u64>,
    /// `DW_AT_data_member_location`.
    pub(super) member_location: Option<AttributeValue<R<'a>>>,
    /// `DW_AT_encoding` (`DW_ATE_*`).
    pub(super) encoding: Option<u8>,
    /// `DW_AT_upper_bound`.
    pub(super) upper_bound: Option<AttributeValue<R<'a>>>,
    /// `DW_AT_count`.
    pub(super) count: Option<AttributeValue<R<'a>>>,
    /// `DW_AT_const_value`.
    pub(super) const_value: Option<AttributeValue<R<'a>>>,
    /// `DW_AT_location`.
    pub(super) location: Option<AttributeValue<R<'a>>>,
    /// `DW_AT_declaration`.
    pub(super) declaration: bool,
    /// `DW_AT_external`.
    pub(super) external: bool,
    /// `DW_AT_abstract_origin` or `DW_AT_specification`, as a DIE key.
    pub(super) origin: Option<u32>,
    /// `DW_AT_language` (`DW_LANG_*`).
    pub(super) language: Option<u16>,
}

impl<'a> Die<'a> {
    /// `DW_AT_type`, or 0 (void) without one.
    #[inline]
    pub(super) fn ty_or_void(&self) -> u32 {
        self.ty.unwrap_or(0)
    }
}

impl<'a> Converter<'a, '_> {
    /// Records one used attribute of the DIE being read.
    #[inline]
    pub(super) fn read_attr(
        &self,
        unit: &gimli::Unit<R<'a>>,
        base: u64,
        die: &mut Die<'a>,
        name: gimli::DwAt,
        value: AttributeValue<R<'a>>,
    ) -> Result<(), EncodeError> {
        match name {
            dw::DW_AT_name => {
                die.name_key = name_key(&value);
                match value {
                    // Most names: not read now (a vmlinux has ten million, most of them
                    // member names of types the dedup already has).
                    AttributeValue::DebugStrRef(o) if o.0 < self.str_terminated => {
                        die.name_str = Some(o.0)
                    }
                    _ => die.name = Some(self.dwarf.attr_string(unit, value)?.slice()),
                }
            }
            dw::DW_AT_type => die.ty = Some(reference(value, base)?),
            dw::DW_AT_abstract_origin | dw::DW_AT_specification => {
                die.origin = Some(reference(value, base)?)
            }
            dw::DW_AT_byte_size => die.byte_size = value.udata_value(),
            dw::DW_AT_bit_size => die.bit_size = value.udata_value(),
            dw::DW_AT_bit_offset => die.bit_offset = Some(const_int(&value)),
            dw::DW_AT_data_bit_offset => die.data_bit_offset = value.udata_value(),
            dw::DW_AT_data_member_location => die.member_location = Some(value),
            dw::DW_AT_encoding => die.encoding = value.udata_value().map(|v| v as u8),
            dw::DW_AT_upper_bound => die.upper_bound = Some(value),
            dw::DW_AT_count => die.count = Some(value),
            dw::DW_AT_const_value => die.const_value = Some(value),
            dw::DW_AT_location => die.location = Some(value),
            dw::DW_AT_declaration => die.declaration = flag(&value),
            dw::DW_AT_external => die.external = flag(&value),
            dw::DW_AT_language => die.language = value.udata_value().map(|v| v as u16),
            _ => {}
        }
        Ok(())
    }
}

/// The attributes [`Converter::read_attr`] looks at.
pub(super) fn used_attr(name: gimli::DwAt) -> bool {
    matches!(
        name,
        dw::DW_AT_name
            | dw::DW_AT_type
            | dw::DW_AT_abstract_origin
            | dw::DW_AT_specification
            | dw::DW_AT_byte_size
            | dw::DW_AT_bit_size
            | dw::DW_AT_bit_offset
            | dw::DW_AT_data_bit_offset
            | dw::DW_AT_data_member_location
            | dw::DW_AT_encoding
            | dw::DW_AT_upper_bound
            | dw::DW_AT_count
            | dw::DW_AT_const_value
            | dw::DW_AT_location
            | dw::DW_AT_declaration
            | dw::DW_AT_external
            | dw::DW_AT_language
    )
}

/// Offset of the unit's header in `.debug_info`: DIE keys count from there.
pub(super) fn unit_base(unit: &gimli::Unit<R<'_>>) -> u64 {
    unit.header.offset().0 as u64
}

/// Length of the unit, header included.
pub(super) fn header_len(unit: &gimli::Unit<R<'_>>) -> u64 {
    unit.header.length_including_self() as u64
}

/// A reference attribute as a DIE key (its `.debug_info` offset).
#[inline]
fn reference(value: AttributeValue<R<'_>>, base: u64) -> Result<u32, EncodeError> {
    let off = match value {
        AttributeValue::UnitRef(o) => base + o.0 as u64,
        AttributeValue::DebugInfoRef(o) => o.0 as u64,
        AttributeValue::DebugTypesRef(_) => return Err(EncodeError::TypeUnits),
        _ => {
            return Err(EncodeError::Unsupported(
                "a type attribute that is not a reference (DW_FORM_ref*)".into(),
            ))
        }
    };
    u32::try_from(off).map_err(|_| EncodeError::TooLarge)
}

/// Where a string attribute's bytes live, as a key that is the same for every DIE of
/// the file naming the same place: the `.debug_str` offset, or the `.debug_line_str`
/// offset with bit 63 set. Inline strings and indexed forms have none.
#[inline]
fn name_key(value: &AttributeValue<R<'_>>) -> Option<u64> {
    match *value {
        AttributeValue::DebugStrRef(o) => Some(o.0 as u64 & !(1 << 63)),
        AttributeValue::DebugLineStrRef(o) => Some(o.0 as u64 | 1 << 63),
        _ => None,
    }
}

/// The NUL-terminated string at `offset` of a string section (`None`: out of bounds
/// or unterminated).
#[inline]
pub(super) fn c_str(section: &[u8], offset: usize) -> Option<&[u8]> {
    let tail = section.get(offset..)?;
    Some(&tail[..memchr::memchr(0, tail)?])
}

/// The string a name key (see [`name_key`]) stands for, in the file's `.debug_str` and
/// `.debug_line_str`.
pub(in crate::dwarf) fn keyed_str<'a>(
    debug_str: &'a [u8],
    line_str: &'a [u8],
    key: u64,
) -> Option<&'a [u8]> {
    match key & 1 << 63 {
        0 => c_str(debug_str, key as usize),
        _ => c_str(line_str, (key & !(1 << 63)) as usize),
    }
}

/// A flag attribute's value.
#[inline]
fn flag(value: &AttributeValue<R<'_>>) -> bool {
    matches!(value, AttributeValue::Flag(true))
}

/// A constant attribute as elfutils' `dwarf_formudata` reads it: `sdata` sign-extended,
/// fixed-size data zero-extended.
#[inline]
pub(super) fn const_int(value: &AttributeValue<R<'_>>) -> i64 {
    match *value {
        AttributeValue::Sdata(v) => v,
        AttributeValue::Udata(v) => v as i64,
        AttributeValue::Data1(v) => v as i64,
        AttributeValue::Data2(v) => v as i64,
        AttributeValue::Data4(v) => v as i64,
        AttributeValue::Data8(v) => v as i64,
        _ => 0,
    }
}

/// Whether the attribute is a constant [`const_int`] reads.
#[inline]
pub(super) fn is_const(value: &AttributeValue<R<'_>>) -> bool {
    matches!(
        value,
        AttributeValue::Sdata(_)
            | AttributeValue::Udata(_)
            | AttributeValue::Data1(_)
            | AttributeValue::Data2(_)
            | AttributeValue::Data4(_)
            | AttributeValue::Data8(_)
    )
}

/// `DW_AT_data_member_location`: a constant, or a `DW_OP_plus_uconst`/`DW_OP_constu`
/// expression (DWARF 2).
#[inline]
pub(super) fn member_location(value: &AttributeValue<R<'_>>) -> u64 {
    let bytes = match value {
        v if is_const(v) => return const_int(v) as u64,
        AttributeValue::Exprloc(e) => e.0.slice(),
        AttributeValue::Block(b) => b.slice(),
        _ => return 0,
    };
    match bytes.split_first() {
        Some((&(0x23 | 0x10), rest)) => uleb(rest),
        _ => 0,
    }
}

/// An unsigned LEB128 number (at most 10 bytes read).
fn uleb(bytes: &[u8]) -> u64 {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

/// What a subprogram, parameter or variable DIE named `name` declares.
#[inline]
pub(super) fn decl_info<'a>(die: &Die<'a>, name: Option<&'a [u8]>) -> DeclInfo<'a> {
    DeclInfo {
        name,
        ty: die.ty,
        external: die.external,
        origin: die.origin,
    }
}
