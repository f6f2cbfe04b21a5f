//! Sizes and alignments inferred from BTF the way libbpf does it
//! (`btf__pointer_size`, `btf__resolve_size`, `btf__align_of`), which decide padding
//! and `__attribute__((packed))` in the C output.

use crate::btf::{Btf, Composite, Kind, TypeId};

/// How many modifiers, typedefs and arrays `resolve_size` follows (libbpf's
/// `MAX_RESOLVE_DEPTH`).
const MAX_RESOLVE_DEPTH: usize = 32;

/// Deepest nesting `align_of` follows before giving up on a (malformed) loop.
const MAX_ALIGN_DEPTH: usize = 256;

/// Layout queries on one BTF.
pub(super) struct Layout<'a> {
    btf: &'a Btf,
    ptr_size: i64,
}

impl<'a> Layout<'a> {
    /// Guesses the pointer size from the size of `long` as libbpf does, falling back
    /// to this machine's.
    pub(super) fn new(btf: &'a Btf) -> Self {
        const LONGS: &[&str] = &[
            "long",
            "long int",
            "int long",
            "unsigned long",
            "long unsigned",
            "unsigned long int",
            "unsigned int long",
            "long unsigned int",
            "long int unsigned",
            "int unsigned long",
            "int long unsigned",
        ];
        let guessed = (1..btf.type_count()).find_map(|id| {
            let t = btf.get(id)?;
            match &t.kind {
                Kind::Int(i)
                    if (i.size == 4 || i.size == 8) && LONGS.contains(&&*btf.name(t.name)) =>
                {
                    Some(i.size as i64)
                }
                _ => None,
            }
        });
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
    /// forward declarations, functions, loops, overflow).
    pub(super) fn size_of(&self, mut id: TypeId) -> Option<i64> {
        let mut nelems: u32 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.btf.get(id)?;
            let size = match &t.kind {
                Kind::Int(_)
                | Kind::Struct(_)
                | Kind::Union(_)
                | Kind::Enum(_)
                | Kind::Enum64(_)
                | Kind::Datasec(_)
                | Kind::Float { .. } => t.kind.size()? as i64,
                Kind::Ptr(_) => self.ptr_size,
                Kind::Fwd { .. } => return None,
                Kind::Typedef(r)
                | Kind::Volatile(r)
                | Kind::Const(r)
                | Kind::Restrict(r)
                | Kind::Var { ty: r, .. }
                | Kind::DeclTag { ty: r, .. }
                | Kind::TypeTag { ty: r, .. } => {
                    id = *r;
                    continue;
                }
                Kind::Array(a) => {
                    if nelems != 0 && a.nelems > u32::MAX / nelems {
                        return None;
                    }
                    nelems *= a.nelems;
                    id = a.elem;
                    continue;
                }
                Kind::Func { .. } | Kind::FuncProto(_) => return None,
            };
            if nelems != 0 && size > (u32::MAX / nelems) as i64 {
                return None;
            }
            return Some(nelems as i64 * size);
        }
        None
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
