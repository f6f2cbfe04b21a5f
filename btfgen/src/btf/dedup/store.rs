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

#[cfg(test)]
mod tests {
    use super::super::{INVALID, UNPROCESSED};
    use super::*;
    use crate::btf::test_util::Builder;

    #[test]
    fn resolve_in_follows_chains_and_stops_at_markers() {
        // map[i] for ids 0..=7: 1 → 2 → 3 (canonical); 4 unprocessed; 5 → 4;
        // 6 in a 2-cycle with 7.
        let map = [0, 2, 3, 3, UNPROCESSED, 4, 7, 6];
        let cases = [
            (0, 0),
            (1, 3),
            (2, 3),
            (3, 3),
            (4, 4),
            (5, 4),
            // Past the end of `map`: itself.
            (100, 100),
            (INVALID, INVALID),
            // RESOLVE_LIMIT steps (an even number) around the cycle end where they began.
            (6, 6),
            (7, 7),
        ];
        for (id, want) in cases {
            assert_eq!(resolve_in(&map, id), want, "resolve({id})");
        }
        assert_eq!(RESOLVE_LIMIT % 2, 0);
    }

    #[test]
    fn store_looks_ids_up_in_base_then_own_types() {
        let mut b = Builder::new();
        b.int("int", 4);
        b.int("long", 8);
        let base = Arc::new(b.build());
        let mut own = Builder::new();
        let p = own.ptr(1);
        let s = Store {
            base: Some(base),
            base_end: 3,
            types: own.build().types().to_vec(),
        };
        assert_eq!(p, 1, "built as a base BTF: the one type gets id 1");
        assert_eq!(s.end(), 4);
        assert!(s.ty(0).is_none(), "void");
        assert_eq!(s.code(0), 0);
        assert_eq!(s.code(1), kind::INT);
        assert_eq!(s.ty(2).unwrap().kind.size(), Some(8));
        assert_eq!(
            s.ty(3).unwrap().kind,
            Kind::Ptr(1),
            "first own id is base_end"
        );
        assert!(s.ty(4).is_none());
        assert_eq!(s.code(4), 0);
        // Without a base, own ids start at 1.
        let s = Store {
            base: None,
            base_end: 1,
            types: s.types,
        };
        assert_eq!(s.code(1), kind::PTR);
        assert!(s.ty(0).is_none() && s.ty(2).is_none());
    }
}
