//! Questions every consumer of a BTF graph asks, answered in one place: how big a
//! type is ([`size_of`]), what a chain of modifiers and typedefs leads to ([`skip`],
//! [`skip_mods_and_typedefs`]), what pointer size a BTF was built for
//! ([`guess_ptr_size`]), and how deep any walk may go before it is taken for a loop
//! (the depth policy below).
//!
//! # Depth policy
//!
//! Valid BTF has no reference loops except through pointers to named structs and
//! unions, but a malformed blob can have any, so every walk is bounded:
//!
//! - [`MAX_RESOLVE_DEPTH`] (32) bounds walks *along one chain* of modifiers,
//!   typedefs, arrays and pointers: sizes, the CO-RE compatibility relations (and
//!   their recursion into prototypes and members) and the shapes `btfgen diff`
//!   prints, as well as that command's descent into anonymous members. It is
//!   libbpf's own `MAX_RESOLVE_DEPTH`, so that a chain libbpf gives up on is given up
//!   on here too.
//! - [`MAX_NESTING_DEPTH`] (512) bounds *recursion through members and parameters*
//!   in C emission and its definition ordering (`dump::c`, `dump::order`). libbpf's
//!   `btf_dump` recurses without a bound; this one only keeps a malformed blob from
//!   overflowing the stack, and is far above the nesting of real C types.
//! - [`MAX_ALIGN_DEPTH`] (256) bounds the same kind of recursion in the C dump's
//!   alignment computation (libbpf's `btf__align_of`, unbounded there). It is a
//!   separate, smaller number only because that is what the dump has always used:
//!   changing it would change the output for nestings between 257 and 512 levels.
//!
//! Walks that must only ever stop on a loop (the CO-RE engine's modifier skipping)
//! bound themselves by the number of types instead: an acyclic chain cannot be
//! longer than that.

use super::{Btf, Kind, TypeId};

/// Longest chain of modifiers, typedefs and arrays a walk follows (libbpf's
/// `MAX_RESOLVE_DEPTH`); see the module's depth policy.
pub(crate) const MAX_RESOLVE_DEPTH: usize = 32;

/// Deepest recursion through members and parameters in C emission and ordering;
/// see the module's depth policy.
pub(crate) const MAX_NESTING_DEPTH: usize = 512;

/// Deepest recursion of the C dump's alignment computation; see the module's depth
/// policy.
pub(crate) const MAX_ALIGN_DEPTH: usize = 256;

/// Size of a pointer on the 64-bit kernels the CO-RE engine relocates against.
pub(crate) const KERNEL_PTR_SIZE: u64 = 8;

/// Whether a type is a modifier: `const`, `volatile`, `restrict` or a type tag.
pub(crate) fn is_modifier(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Const(_) | Kind::Volatile(_) | Kind::Restrict(_) | Kind::TypeTag { .. }
    )
}

/// Which kinds [`skip`] walks through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// `const`, `volatile`, `restrict` and type tags ([`is_modifier`]).
    Modifiers,
    /// Modifiers and typedefs.
    ModifiersAndTypedefs,
}

/// Follows the kinds `what` names from `id`, looking at `max` types at most.
///
/// `Ok` is the first id that is none of them: another kind, void, or an id out of
/// range. `Err` is the id reached after `max` types in a row were all to be skipped
/// (a loop, or a chain longer than `max`); that id itself was not looked at.
pub(crate) fn skip(btf: &Btf, mut id: TypeId, what: Skip, max: usize) -> Result<TypeId, TypeId> {
    for _ in 0..max {
        match btf.get(id).map(|t| &t.kind) {
            Some(Kind::Typedef(next)) if what == Skip::ModifiersAndTypedefs => id = *next,
            Some(k) if is_modifier(k) => id = k.referenced().unwrap_or(0),
            _ => return Ok(id),
        }
    }
    Err(id)
}

/// Skips modifiers and typedefs from `id` for at most [`MAX_RESOLVE_DEPTH`] types and
/// returns where it stopped, whether on a type of another kind, void, an id out of
/// range, or the limit. The DWARF converter uses it for the storage type of bitfields
/// and enums.
#[cfg(feature = "dwarf")]
pub(crate) fn skip_mods_and_typedefs(btf: &Btf, id: TypeId) -> TypeId {
    skip(btf, id, Skip::ModifiersAndTypedefs, MAX_RESOLVE_DEPTH).unwrap_or_else(|id| id)
}

/// When the count of array elements must fit in 32 bits, in [`size_of`].
///
/// The two only differ for nested arrays whose element counts multiply past
/// `u32::MAX` while a later factor (a zero-length dimension or a zero-size element)
/// brings the size back to 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// After each array, as `btf__resolve_size` does (`-E2BIG`): the C dump.
    EachArray,
    /// Only the final size: element counts multiply in 64 bits. The CO-RE engine and
    /// `btfgen diff` have always computed it so.
    Total,
}

/// Size in bytes of type `id` (libbpf's `btf__resolve_size`): modifiers, typedefs,
/// variables and tags are followed, arrays multiply, pointers are `ptr_size` bytes.
///
/// `None` where libbpf reports an error: void, an id out of range, forward
/// declarations, functions and prototypes, a chain longer than
/// [`MAX_RESOLVE_DEPTH`], or a size past `u32::MAX` (checked as `overflow` says).
pub(crate) fn size_of(btf: &Btf, mut id: TypeId, ptr_size: u64, overflow: Overflow) -> Option<u64> {
    let mut count: u64 = 1;
    for _ in 0..MAX_RESOLVE_DEPTH {
        let t = btf.get(id)?;
        let size = match &t.kind {
            Kind::Int(_)
            | Kind::Struct(_)
            | Kind::Union(_)
            | Kind::Enum(_)
            | Kind::Enum64(_)
            | Kind::Datasec(_)
            | Kind::Float { .. } => t.kind.size()? as u64,
            Kind::Ptr(_) => ptr_size,
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
                count = count.checked_mul(a.nelems as u64)?;
                if overflow == Overflow::EachArray && count > u32::MAX as u64 {
                    return None;
                }
                id = a.elem;
                continue;
            }
            Kind::Fwd { .. } | Kind::Func { .. } | Kind::FuncProto(_) => return None,
        };
        return count
            .checked_mul(size)
            .filter(|&total| total <= u32::MAX as u64);
    }
    None
}

/// The pointer size `btf` was built for, from the size of its `long` (libbpf's
/// `btf__pointer_size`); `None` when it has no 4- or 8-byte `long` under any of its C
/// spellings.
pub(crate) fn guess_ptr_size(btf: &Btf) -> Option<u64> {
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
    (1..btf.type_count()).find_map(|id| {
        let t = btf.get(id)?;
        match &t.kind {
            Kind::Int(i) if (i.size == 4 || i.size == 8) && LONGS.contains(&&*btf.name(t.name)) => {
                Some(i.size as u64)
            }
            _ => None,
        }
    })
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
