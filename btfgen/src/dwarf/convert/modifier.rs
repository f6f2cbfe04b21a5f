//! Types that modify another: pointers and references, `const`/`volatile`/`restrict`,
//! `_Atomic` (dropped), and typedefs.

use super::attrs::Die;
use super::{Converter, Ctx};
use crate::btf::*;

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_pointer_type`, `reference_type` or `rvalue_reference_type`: PTR (to void
    /// without `DW_AT_type`). Its `btf_type_tag` children go between it and its target.
    #[inline(always)]
    pub(super) fn pointer(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        Ctx::Pointer(self.push(
            key,
            Type {
                name: 0,
                kind: Kind::Ptr(die.ty_or_void()),
            },
        ))
    }

    /// A `DW_TAG_const_type`, `volatile_type` or `restrict_type`, as `kind`.
    #[inline(always)]
    pub(super) fn qualifier(&mut self, key: u32, kind: Kind) -> Ctx {
        self.push(key, Type { name: 0, kind });
        Ctx::Other
    }

    /// A `DW_TAG_atomic_type`: references to it resolve to its type.
    #[inline(always)]
    pub(super) fn atomic(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        // BTF has no _Atomic: like LLVM's BPF backend, encode the plain type.
        self.aliases.push((key, die.ty_or_void()));
        Ctx::Other
    }

    /// A `DW_TAG_typedef`.
    #[inline(always)]
    pub(super) fn typedef(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        let name = self.name(die);
        Ctx::Typedef(self.push(
            key,
            Type {
                name,
                kind: Kind::Typedef(die.ty_or_void()),
            },
        ))
    }
}
