//! After the passes: renumbering a range to its canonical types (compaction), dropping
//! resolved declarations (flatten), the final pass over the whole output, and building
//! the output BTF with a fresh string table.

use super::equal::is_ref_kind;
use super::hash::kind_hash;
use super::store::resolve_in;
use super::{Dedup, INVALID, NONE, UNPROCESSED};
use crate::btf::{Btf, Strings};

impl Dedup {
    /// Runs prim/struct/ref over `[lo, end)` against everything before it, compacts
    /// the range (keeping canonical types and former canonicals still in the tables)
    /// and translates `ids` (ids in the range or below) into final output ids.
    pub(super) fn process_incremental(&mut self, lo: u32, ids: &mut [u32]) {
        let hi = self.store.end();
        self.st.begin(&self.store, lo, false);
        self.st.prim_pass(&self.store, lo, hi);
        self.st.struct_pass(&self.store, lo, hi);
        self.st.ref_pass(&mut self.store, lo, hi);
        let _ = self.compact(lo, true, ids);
        // New canonicals become candidates for later fragments, hashed with their
        // final ids.
        let newid = std::mem::take(&mut self.newid);
        let local = std::mem::take(&mut self.st.local);
        for &(id, _) in &local.nodes {
            let Some(&nid) = newid.get(id.wrapping_sub(lo) as usize) else {
                continue;
            };
            if let Some(t) = self.store.ty(nid) {
                self.st.global.add(kind_hash(t), nid);
            }
        }
        self.st.local = local;
        self.st.local.clear();
        self.newid = newid;
    }

    /// Drops non-canonical types of `[lo, end)` (keeping those still in the local
    /// table when `keep_in_table`), renumbers the survivors contiguously and remaps
    /// every ref of theirs, the `dead` entries and `ids` to final ids. Returns whether
    /// any type was dropped or any ref changed.
    fn compact(&mut self, lo: u32, keep_in_table: bool, ids: &mut [u32]) -> bool {
        let Dedup {
            store,
            st,
            dead,
            newid,
            ..
        } = self;
        let hi = store.end();
        let n = (hi - lo) as usize;
        newid.clear();
        newid.resize(n, NONE);
        let mut next = lo;
        for (i, slot) in newid.iter_mut().enumerate() {
            let id = lo + i as u32;
            if st.map[id as usize] == id || (keep_in_table && st.in_table[i]) {
                *slot = next;
                next += 1;
            }
        }
        // Dead entries only need new targets when something below the range changed
        // (otherwise they all resolve below it already).
        let refresh = !st.dirty.is_empty();
        dead.append(&mut st.dirty);
        let map = &st.map;
        let newid = &*newid;
        let fin = |r: u32| -> u32 {
            let c = resolve_in(map, r);
            if c >= lo && c < hi {
                match newid[(c - lo) as usize] {
                    NONE => INVALID,
                    x => x,
                }
            } else {
                c
            }
        };
        let dead_vals: Vec<u32> = if refresh {
            dead.iter().map(|&d| fin(d)).collect()
        } else {
            Vec::new()
        };
        for x in ids.iter_mut() {
            *x = fin(*x);
        }
        let mut new_map = Vec::with_capacity((next - lo) as usize);
        let mut new_dead = Vec::new();
        for (i, &nid) in newid.iter().enumerate() {
            if nid == NONE {
                continue;
            }
            let id = lo + i as u32;
            if map[id as usize] == id {
                new_map.push(nid);
            } else {
                new_map.push(fin(id));
                new_dead.push(nid);
            }
        }
        let mut changed = next - lo != hi - lo;
        let tail = store.types.split_off((lo - store.base_end) as usize);
        for (i, mut t) in tail.into_iter().enumerate() {
            if newid[i] != NONE {
                t.kind.for_each_ref_mut(|r| {
                    let x = fin(*r);
                    changed |= x != *r;
                    *r = x;
                });
                store.types.push(t);
            }
        }
        st.map.truncate(lo as usize);
        st.map.extend(new_map);
        for (&d, &v) in dead.iter().zip(&dead_vals) {
            if d < lo {
                st.map[d as usize] = v;
            }
        }
        if refresh || !new_dead.is_empty() {
            dead.retain(|&d| d < lo);
            dead.extend(new_dead);
            // Keep `dead` free of duplicates and of entries canonical again.
            dead.sort_unstable();
            dead.dedup();
            dead.retain(|&d| st.map.get(d as usize).is_some_and(|&m| m != d));
        }
        st.hypot.truncate(lo as usize);
        st.hypot.resize(next as usize, UNPROCESSED);
        changed
    }

    /// Removes resolved (dead) types and points every ref at its representative.
    pub(super) fn flatten(&mut self) {
        let lo = self.store.base_end;
        self.st.lo = lo;
        self.st.dirty.clear();
        let hi = self.store.end();
        self.st.in_table.clear();
        self.st.in_table.resize((hi - lo) as usize, false);
        let _ = self.compact(lo, false, &mut []);
        self.dead.clear();
        for (id, m) in self.st.map.iter_mut().enumerate() {
            *m = id as u32;
        }
    }

    /// One libbpf dedup over all own types: all passes, or (`structs` false) only
    /// `resolve_fwds` and the reference pass, other types being taken as canonical.
    /// Returns whether anything changed.
    pub(super) fn full_pass(&mut self, structs: bool) -> bool {
        let lo = self.store.base_end;
        let hi = self.store.end();
        self.st.global.clear();
        self.dead.clear();
        self.st.begin(&self.store, lo, true);
        if structs {
            self.st.prim_pass(&self.store, lo, hi);
            self.st.struct_pass(&self.store, lo, hi);
        } else {
            for id in lo..hi {
                if self.store.ty(id).is_some_and(|t| !is_ref_kind(&t.kind)) {
                    self.st.map[id as usize] = id;
                }
            }
        }
        self.st.resolve_fwds(&self.store, lo, hi);
        self.st.ref_pass(&mut self.store, lo, hi);
        self.st.local.clear();
        let mut changed = false;
        if self
            .st
            .map
            .iter()
            .enumerate()
            .any(|(id, &m)| m != id as u32)
        {
            self.st.dirty.clear();
            changed = self.compact(lo, false, &mut []);
            self.dead.clear();
        }
        for (id, m) in self.st.map.iter_mut().enumerate() {
            *m = id as u32;
        }
        changed
    }

    /// Builds the output BTF with a fresh string table.
    pub(super) fn build(self) -> Btf {
        let Dedup {
            store,
            strs,
            endian,
            ..
        } = self;
        let start = strs.start;
        let mut data: Vec<u8> = if start == 0 { vec![0] } else { Vec::new() };
        let mut remap = vec![NONE; strs.data.len()];
        let mut types = store.types;
        for t in &mut types {
            t.for_each_name_mut(|n| {
                if *n < start {
                    return;
                }
                let Some(slot) = remap.get_mut((*n - start) as usize) else {
                    *n = 0;
                    return;
                };
                if *slot == NONE {
                    *slot = match strs.bytes(*n) {
                        Some(b) if !b.is_empty() => {
                            let off = start + data.len() as u32;
                            data.extend_from_slice(b);
                            data.push(0);
                            off
                        }
                        _ => 0,
                    };
                }
                *n = *slot;
            });
        }
        Btf::from_parts(store.base, types, Strings::from_raw(start, data), endian)
    }
}
