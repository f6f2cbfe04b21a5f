//! Structs, unions and their members, bitfields included.

use super::attrs::{member_location, Die};
use super::{storage_size, Converter, Ctx};
use crate::btf::*;

/// A DWARF 2–4 bitfield whose bit offset needs the size of its storage type.
pub(super) struct PendingBitfield {
    /// Type index of the struct or union.
    pub(super) composite: usize,
    /// Index of the member in it.
    pub(super) member: usize,
    /// `DW_AT_data_member_location`: where the storage unit starts.
    pub(super) byte_offset: u64,
    /// `DW_AT_bit_offset`: counted from the storage unit's most significant bit.
    pub(super) dw_bit_offset: i64,
    /// The member's `DW_AT_byte_size`: the storage unit's size, when given.
    pub(super) storage_bytes: Option<u64>,
}

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_structure_type`, `class_type` or `union_type`: STRUCT or UNION, or a
    /// FWD for a named declaration (an anonymous one becomes nothing, i.e. void).
    #[inline(always)]
    pub(super) fn composite(&mut self, key: u32, die: &Die<'a>, union: bool) -> Ctx {
        let name = self.name(die);
        if die.declaration {
            if name != 0 {
                self.push(
                    key,
                    Type {
                        name,
                        kind: Kind::Fwd { union },
                    },
                );
            }
            Ctx::Other
        } else {
            let body = Composite {
                size: die.byte_size.unwrap_or(0) as u32,
                members: Vec::new(),
            };
            let kind = if union {
                Kind::Union(body)
            } else {
                Kind::Struct(body)
            };
            let idx = self.push(key, Type { name, kind });
            if self.open_key != 0 {
                self.open_composites.push((idx, self.members.len()));
            }
            Ctx::Composite(idx)
        }
    }

    /// A `DW_TAG_member`: appended to the struct or union it is a child of.
    pub(super) fn member(&mut self, parent: Ctx, die: &Die<'a>) -> Ctx {
        let Ctx::Composite(idx) = parent else {
            return Ctx::Other;
        };
        let name = self.lazy_name(die);
        let bitfield_size = die.bit_size.unwrap_or(0).min(255) as u8;
        let byte_offset = die.member_location.as_ref().map_or(0, member_location);
        let mut bit_offset = byte_offset.wrapping_mul(8);
        if let Some(dbo) = die.data_bit_offset {
            bit_offset = dbo;
        }
        let Some(&(open, start)) = self.open_composites.last() else {
            return Ctx::Other;
        };
        if open != idx {
            return Ctx::Other;
        }
        let member = self.members.len() - start;
        self.members.push(Member {
            name,
            ty: die.ty.unwrap_or(0),
            bit_offset: bit_offset as u32,
            bitfield_size,
        });
        if die.data_bit_offset.is_none() && bitfield_size != 0 {
            if let Some(dw_bit_offset) = die.bit_offset {
                self.bitfields.push(PendingBitfield {
                    composite: idx,
                    member,
                    byte_offset,
                    dw_bit_offset,
                    storage_bytes: die.byte_size,
                });
            }
        }
        Ctx::Member(idx, member as u32)
    }

    /// Moves the members of the struct or union at `idx`, collected in `members`, into
    /// it: one allocation of the exact size instead of regrowing its vector member by
    /// member. (Kept out of line: the walk's loop is faster without it.)
    #[inline(never)]
    pub(super) fn close_composite(&mut self, idx: usize) {
        let Some(&(open, start)) = self.open_composites.last() else {
            return;
        };
        if open != idx {
            return;
        }
        self.open_composites.pop();
        let members = self.members[start..].to_vec();
        self.members.truncate(start);
        if let Kind::Struct(c) | Kind::Union(c) = self.ty_mut(idx) {
            c.members = members;
        }
    }
}

/// Sets the bit offsets of the DWARF 2–4 bitfields in `frag` (whose references are
/// resolved), from their storage unit's size and the file's byte order.
pub(super) fn resolve_bitfields(frag: &mut Btf, bitfields: Vec<PendingBitfield>, big_endian: bool) {
    for b in bitfields {
        let (ty, bits) = match &frag.types()[b.composite].kind {
            Kind::Struct(c) | Kind::Union(c) => (
                c.members[b.member].ty,
                c.members[b.member].bitfield_size as u64,
            ),
            _ => continue,
        };
        let storage = b
            .storage_bytes
            .unwrap_or_else(|| storage_size(frag, ty) as u64)
            * 8;
        // DW_AT_bit_offset counts from the storage unit's most significant bit, and
        // gcc writes it negative for fields that spill past the unit (packed structs).
        let within = if big_endian {
            b.dw_bit_offset as u64
        } else {
            storage
                .wrapping_sub(b.dw_bit_offset as u64)
                .wrapping_sub(bits)
        };
        let off = b.byte_offset.wrapping_mul(8).wrapping_add(within);
        if let Kind::Struct(c) | Kind::Union(c) = &mut frag.types_mut()[b.composite].kind {
            c.members[b.member].bit_offset = off as u32;
        }
    }
}
