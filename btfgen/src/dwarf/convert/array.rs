//! Arrays: one ARRAY per `DW_TAG_array_type`, its dimensions (`DW_TAG_subrange_type`)
//! flattened into one element count, indexed by a synthesized `int`.

use super::attrs::{const_int, is_const, Die};
use super::{Converter, Ctx};
use crate::btf::*;
use crate::dwarf::refs::INDEX_INT_KEY;

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_array_type`; the first array of the group also adds the index `int`.
    #[inline(always)]
    pub(super) fn array(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        let index = INDEX_INT_KEY;
        if self.index_int.is_none() {
            let name = self.frag.push_bytes(b"int");
            let int = Int {
                size: 4,
                encoding: INT_SIGNED,
                offset: 0,
                bits: 32,
            };
            let idx = self.push(
                0,
                Type {
                    name,
                    kind: Kind::Int(int),
                },
            );
            self.index_int = Some(idx as TypeId + 1);
        }
        let kind = Kind::Array(Array {
            elem: die.ty_or_void(),
            index,
            nelems: u32::MAX,
        });
        Ctx::Array(self.push(key, Type { name: 0, kind }))
    }

    /// A `DW_TAG_subrange_type`: multiplies its array's element count by its length.
    #[inline(always)]
    pub(super) fn subrange(&mut self, parent: Ctx, die: &Die<'a>) -> Ctx {
        if let Ctx::Array(idx) = parent {
            let n = subrange_len(die);
            if let Kind::Array(a) = self.ty_mut(idx) {
                a.nelems = if a.nelems == u32::MAX {
                    n
                } else {
                    a.nelems.wrapping_mul(n)
                };
            }
        }
        Ctx::Other
    }
}

/// Elements of one array dimension, as pahole counts them (truncated to 32 bits;
/// 0 for flexible arrays and variable-length bounds).
fn subrange_len(die: &Die<'_>) -> u32 {
    match (&die.upper_bound, &die.count) {
        (Some(ub), _) if is_const(ub) => (const_int(ub) as u64).wrapping_add(1) as u32,
        (Some(_), _) => 0,
        (None, Some(c)) if is_const(c) => const_int(c) as u32,
        _ => 0,
    }
}
