//! The type space the passes work on, and resolution of the canonical `map`.

use std::sync::Arc;

use super::{MAX_ID, RESOLVE_LIMIT};
use crate::btf::types::*;
use crate::btf::Btf;

/// The type space: base types (immutable) followed by own types (output, then the
/// fragment being processed).
pub(super) struct Store {
    /// The base BTF of split output.
    pub(super) base: Option<Arc<Btf>>,
    /// First own id (1 for base BTF).
    pub(super) base_end: u32,
    /// Own types: the output, then the fragment being processed.
    pub(super) types: Vec<Type>,
}

impl Store {
    #[inline]
    /// The type `id` (base or own), `None` for void and ids out of range.
    pub(super) fn ty(&self, id: u32) -> Option<&Type> {
        if id >= self.base_end {
            self.types.get((id - self.base_end) as usize)
        } else if id == 0 {
            None
        } else {
            self.base.as_ref()?.get(id)
        }
    }

    #[inline]
    /// The `BTF_KIND_*` of `id`, 0 for void and ids out of range.
    pub(super) fn code(&self, id: u32) -> u8 {
        self.ty(id).map_or(0, |t| t.kind.code())
    }

    #[inline]
    /// One past the last own id.
    pub(super) fn end(&self) -> u32 {
        self.base_end + self.types.len() as u32
    }
}

/// Follows `map` from `id` to its canonical representative (libbpf `resolve_type_id`).
#[inline]
pub(super) fn resolve_in(map: &[u32], mut id: u32) -> u32 {
    for _ in 0..RESOLVE_LIMIT {
        match map.get(id as usize) {
            Some(&m) if m <= MAX_ID && m != id => id = m,
            _ => return id,
        }
    }
    id
}
