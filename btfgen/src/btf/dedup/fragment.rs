//! A fragment's types moved into the output: ids and string offsets translated into
//! the output space.

use super::hash::str_hash;
use super::{Dedup, INVALID, NONE};
use crate::btf::types::*;
use crate::btf::Btf;

impl Dedup {
    /// Appends `frag`'s types, translated into the output id and string space; returns
    /// the id of the first one.
    pub(super) fn push_fragment(
        &mut self,
        frag: &Btf,
        types: impl ExactSizeIterator<Item = Type>,
    ) -> u32 {
        let lo = self.store.end();
        let fstart = frag.start_id();
        let fend = fstart + types.len() as u32;
        let base_ok = frag.base().is_some();
        let base_end = self.store.base_end;
        let xid = |r: u32| -> u32 {
            if r >= fstart {
                if r < fend {
                    lo + (r - fstart)
                } else {
                    INVALID
                }
            } else if r == 0 {
                0
            } else if base_ok && r < base_end {
                r
            } else {
                INVALID
            }
        };
        self.fit_name_cache(frag);
        self.store.types.reserve(types.len());
        let Dedup {
            store,
            strs,
            name_cache,
            name_touched,
            ..
        } = self;
        for mut t in types {
            t.kind.for_each_ref_mut(|r| *r = xid(*r));
            t.for_each_name_mut(|n| {
                if *n == 0 {
                    return;
                }
                match name_cache.get_mut(*n as usize) {
                    Some(c) if *c != NONE => *n = *c,
                    Some(c) => {
                        // Not the start of a string of the fragment's own table.
                        let v = frag.name_bytes(*n).map_or(0, |b| strs.intern(b));
                        *c = v;
                        name_touched.push(*n);
                        *n = v;
                    }
                    None => *n = 0,
                }
            });
            store.types.push(t);
        }
        for &o in name_touched.iter() {
            name_cache[o as usize] = NONE;
        }
        name_touched.clear();
        lo
    }

    /// Makes `name_cache` cover every offset of `frag`'s string table.
    pub(super) fn fit_name_cache(&mut self, frag: &Btf) {
        let need = frag.strings_end() as usize;
        if self.name_cache.len() < need {
            self.name_cache.resize(need, NONE);
        }
    }

    /// Interns every string of `frag`'s own string table and records the output
    /// offsets in `name_cache`.
    pub(super) fn intern_table(&mut self, frag: &Btf) {
        for (off, bytes) in frag.strings().entries().filter(|(_, s)| !s.is_empty()) {
            if let Some(slot) = self.name_cache.get_mut(off as usize) {
                if *slot == NONE {
                    *slot = self.strs.intern_hashed(bytes, str_hash(bytes));
                    self.name_touched.push(off);
                }
            }
        }
    }
}
