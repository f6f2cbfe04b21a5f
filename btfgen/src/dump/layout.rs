//! Sizes and alignments inferred from BTF the way libbpf does it
//! (`btf__pointer_size`, `btf__resolve_size`, `btf__align_of`), which decide padding
//! and `__attribute__((packed))` in the C output.

use crate::btf::query::{self, Overflow, MAX_ALIGN_DEPTH};
use crate::btf::{Btf, Composite, Kind, TypeId};

/// Layout queries on one BTF.
pub(super) struct Layout<'a> {
    btf: &'a Btf,
    ptr_size: i64,
}

impl<'a> Layout<'a> {
    /// Guesses the pointer size from the size of `long` as libbpf does, falling back
    /// to this machine's.
    pub(super) fn new(btf: &'a Btf) -> Self {
        let guessed = query::guess_ptr_size(btf).map(|s| s as i64);
        Layout {
            btf,
            ptr_size: guessed.unwrap_or(std::mem::size_of::<usize>() as i64),
        }
    }

    /// Pointer size in bytes.
    pub(super) fn ptr_size(&self) -> i64 {
        self.ptr_size
    }

    /// Size in bytes of type `id`, or `None` where libbpf reports an error (void,
    /// forward declarations, functions, loops, overflow): [`query::size_of`] with
    /// this BTF's pointer size and libbpf's overflow check.
    pub(super) fn size_of(&self, id: TypeId) -> Option<i64> {
        // At most u32::MAX: the conversion is exact.
        query::size_of(self.btf, id, self.ptr_size as u64, Overflow::EachArray).map(|s| s as i64)
    }

    /// Alignment in bytes of type `id`; 0 where libbpf cannot tell (void, forward
    /// declarations, functions).
    pub(super) fn align_of(&self, id: TypeId) -> i64 {
        self.align_at(id, 0)
    }

    fn align_at(&self, id: TypeId, depth: usize) -> i64 {
        if depth > MAX_ALIGN_DEPTH {
            return 0;
        }
        let Some(t) = self.btf.get(id) else { return 0 };
        match &t.kind {
            Kind::Int(_) | Kind::Enum(_) | Kind::Enum64(_) | Kind::Float { .. } => {
                self.ptr_size.min(t.kind.size().unwrap_or(0) as i64)
            }
            Kind::Ptr(_) => self.ptr_size,
            Kind::Typedef(r)
            | Kind::Volatile(r)
            | Kind::Const(r)
            | Kind::Restrict(r)
            | Kind::TypeTag { ty: r, .. } => self.align_at(*r, depth + 1),
            Kind::Array(a) => self.align_at(a.elem, depth + 1),
            Kind::Struct(c) | Kind::Union(c) => {
                let mut max_align = 1;
                for m in &c.members {
                    let align = self.align_at(m.ty, depth + 1);
                    if align <= 0 {
                        return align;
                    }
                    max_align = max_align.max(align);
                    if m.bitfield_size == 0 && m.bit_offset as i64 % (8 * align) != 0 {
                        return 1;
                    }
                }
                if c.size as i64 % max_align != 0 {
                    return 1;
                }
                max_align
            }
            _ => 0,
        }
    }

    /// Whether a struct's layout needs `__attribute__((packed))`: a non-bitfield
    /// member off its natural alignment, or a size that is not a multiple of the
    /// largest alignment.
    pub(super) fn is_packed(&self, c: &Composite) -> bool {
        let mut max_align = 1;
        for m in &c.members {
            let align = self.align_of(m.ty);
            if align != 0 && m.bitfield_size == 0 && m.bit_offset as i64 % (8 * align) != 0 {
                return true;
            }
            max_align = max_align.max(align);
        }
        c.size as i64 % max_align != 0
    }
}
