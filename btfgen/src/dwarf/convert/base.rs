//! Base types (`DW_TAG_base_type`): INT, FLOAT, and pahole's stand-in for odd sizes.

use gimli::constants as dw;

use super::attrs::Die;
use super::{Converter, Ctx};
use crate::btf::*;
use crate::dwarf::error::EncodeError;

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_base_type`.
    #[inline(always)]
    pub(super) fn base(&mut self, key: u32, die: &Die<'a>) -> Result<Ctx, EncodeError> {
        let (name, kind) = self.base_type(die)?;
        self.push(key, Type { name, kind });
        Ok(Ctx::Other)
    }

    /// INT or FLOAT for a `DW_TAG_base_type`, with pahole's rules.
    fn base_type(&mut self, die: &Die<'a>) -> Result<(StrOff, Kind), EncodeError> {
        let bytes = die.byte_size.unwrap_or(0);
        let enc = die.encoding.unwrap_or(0);
        if self.opts.features.float {
            if enc == dw::DW_ATE_float.0 {
                if !matches!(bytes, 2 | 4 | 8 | 12 | 16) {
                    return Err(EncodeError::Unsupported(format!(
                        "{bytes}-byte floating-point type"
                    )));
                }
                return Ok((self.name(die), Kind::Float { size: bytes as u32 }));
            }
            if enc == dw::DW_ATE_complex_float.0 || enc == dw::DW_ATE_imaginary_float.0 {
                return Err(EncodeError::Unsupported(
                    "complex or imaginary floating-point type (BTF has no such kind)".into(),
                ));
            }
        }
        let encoding = if enc == dw::DW_ATE_signed.0 || enc == dw::DW_ATE_signed_char.0 {
            INT_SIGNED
        } else if enc == dw::DW_ATE_boolean.0 {
            INT_BOOL
        } else {
            0
        };
        if bytes == 0 || !bytes.is_power_of_two() || bytes > 16 {
            // pahole's stand-in for DW_ATE_unsigned_24 and other odd sizes.
            let name = self.frag.push_bytes(b"__SANITIZED_FAKE_INT__");
            let int = Int {
                size: 4,
                encoding,
                offset: 0,
                bits: 32,
            };
            return Ok((name, Kind::Int(int)));
        }
        let int = Int {
            size: bytes as u32,
            encoding,
            offset: 0,
            bits: (bytes * 8) as u8,
        };
        Ok((self.name(die), Kind::Int(int)))
    }
}
