//! Enumerations: ENUM up to 4 bytes, ENUM64 above, and their enumerators; without
//! the `enum64` feature, as pahole's `--skip_encoding_btf_enum64`: every enum an
//! unsigned ENUM of its own size, values cut to 32 bits.

use super::attrs::{const_int, Die};
use super::{Converter, Ctx};
use crate::btf::query::skip_mods_and_typedefs;
use crate::btf::*;
use crate::dwarf::error::EncodeError;
use crate::dwarf::refs::Lookup;

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_enumeration_type`: ENUM, or ENUM64 above 4 bytes with `enum64` (a
    /// declaration, with no `DW_AT_byte_size`, is an ENUM of 4 bytes).
    #[inline(always)]
    pub(super) fn enumeration(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        let name = self.name(die);
        let size = die.byte_size.unwrap_or(4) as u32;
        let body = Enum {
            size,
            signed: false,
            values: Vec::new(),
        };
        let enum64 = size > 4 && self.opts.features.enum64;
        let kind = if enum64 {
            Kind::Enum64(body)
        } else {
            Kind::Enum(body)
        };
        let idx = self.push(key, Type { name, kind });
        if enum64 {
            if let Some(t) = die.ty {
                self.enum64_base.push((idx, t));
            }
        }
        Ctx::Enum(idx)
    }

    /// A `DW_TAG_enumerator`: a value of the enumeration it is a child of.
    #[inline(always)]
    pub(super) fn enumerator(&mut self, parent: Ctx, die: &Die<'a>) -> Ctx {
        if let Ctx::Enum(idx) = parent {
            let name = self.lazy_name(die);
            let value = die.const_value.as_ref().map_or(0, const_int);
            let enum64 = self.opts.features.enum64;
            match self.ty_mut(idx) {
                Kind::Enum(e) => {
                    // libbpf's btf__add_enum_value: a negative value makes the enum
                    // signed; without enum64 pahole passes values as u32, never negative.
                    e.signed |= value < 0 && enum64;
                    e.values.push(Enumerator {
                        name,
                        value: value as i32 as i64,
                    });
                }
                Kind::Enum64(e) => e.values.push(Enumerator { name, value }),
                _ => {}
            }
        }
        Ctx::Other
    }
}

/// Marks each ENUM64 of `enum64_base` (type index, key of its `DW_AT_type`) signed
/// when its underlying type is a signed INT.
pub(super) fn resolve_enum64_signs(
    frag: &mut Btf,
    enum64_base: &[(usize, u32)],
    lookup: &Lookup<'_>,
) -> Result<(), EncodeError> {
    for &(idx, base) in enum64_base {
        let base = lookup.resolve(base)?;
        let signed = matches!(
            frag.get(skip_mods_and_typedefs(frag, base)).map(|t| &t.kind),
            Some(Kind::Int(i)) if i.encoding & INT_SIGNED != 0
        );
        if let Kind::Enum64(e) = &mut frag.types_mut()[idx].kind {
            e.signed = signed;
        }
    }
    Ok(())
}
