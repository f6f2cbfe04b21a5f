//! The state of a dedup run: the canonical `map`, the hypothetical map of the
//! equivalence check, the candidate tables, and the stacks the passes reuse.

use super::hash::kind_hash;
use super::store::{resolve_in, Store};
use super::table::Table;
use super::{MAX_ID, UNPROCESSED};
use crate::btf::types::*;

/// The state of one run of the passes over a range of types.
#[derive(Default)]
pub(super) struct State {
    /// Canonical id of every id (or `UNPROCESSED` / `IN_PROGRESS`); len = store end.
    pub(super) map: Vec<u32>,
    /// Hypothetical canon → candidate mapping of the current equivalence check.
    pub(super) hypot: Vec<u32>,
    /// The canonical ids set in `hypot`, to reset it.
    pub(super) hypot_list: Vec<u32>,
    /// The equivalence would need to resolve an (immutable) base FWD.
    pub(super) adjust_canon: bool,
    /// Base types (split mode) and output types of earlier fragments, in libbpf order.
    pub(super) global: Table,
    /// Types of the range being processed.
    pub(super) local: Table,
    /// First id of the range being processed.
    pub(super) lo: u32,
    /// Per type of the range: added to `local` (was canonical when processed).
    pub(super) in_table: Vec<bool>,
    /// Ids below `lo` that were canonical and got mapped during this range.
    pub(super) dirty: Vec<u32>,
    /// A full pass over all own types: one table, like libbpf's.
    pub(super) full: bool,
    /// Per base id: see [`base_taint`](super::passes::base_taint).
    pub(super) base_taint: Vec<bool>,
    /// The canonical side of the current equivalence check starts in the base.
    pub(super) root_in_base: bool,
    /// Reused stack of the equivalence check.
    pub(super) equiv_stack: Vec<(u32, u32)>,
    /// Reused stack of the reference pass.
    pub(super) ref_stack: Vec<u32>,
    /// Reused candidate list (see [`State::collect`]).
    pub(super) cands: Vec<u32>,
}

impl State {
    #[inline]
    /// The canonical representative of `id` so far.
    pub(super) fn resolve(&self, id: u32) -> u32 {
        resolve_in(&self.map, id)
    }

    #[inline]
    /// Whether `id` has been given a representative (itself included).
    pub(super) fn is_mapped(&self, id: u32) -> bool {
        self.map.get(id as usize).is_some_and(|&m| m <= MAX_ID)
    }

    /// Sets `map[id]`, remembering the types below the current range that change.
    pub(super) fn set_map(&mut self, id: u32, to: u32) {
        let Some(m) = self.map.get_mut(id as usize) else {
            return;
        };
        if id < self.lo {
            self.dirty.push(id);
        }
        *m = to;
    }

    /// Prepares `map`, `hypot` and the per-range tables for processing `[lo, end)`.
    pub(super) fn begin(&mut self, s: &Store, lo: u32, reset_below: bool) {
        let hi = s.end();
        if reset_below {
            self.map.clear();
            self.map.extend(0..lo);
        }
        self.map.truncate(lo as usize);
        self.map.resize(hi as usize, UNPROCESSED);
        for id in lo..hi {
            if matches!(
                s.ty(id).map(|t| &t.kind),
                Some(Kind::Var { .. } | Kind::Datasec(_))
            ) {
                self.map[id as usize] = id;
            }
        }
        self.hypot.truncate(lo as usize);
        self.hypot.resize(hi as usize, UNPROCESSED);
        self.in_table.clear();
        self.in_table.resize((hi - lo) as usize, false);
        self.local.clear();
        self.lo = lo;
        self.dirty.clear();
        self.full = reset_below;
        self.local.libbpf = self.full;
        if self.full {
            // libbpf btf_dedup_prep: base types are the first candidates.
            for id in 1..lo {
                let Some(t) = s.ty(id) else { continue };
                if !matches!(t.kind, Kind::Var { .. } | Kind::Datasec(_)) {
                    self.local.add(kind_hash(t), id);
                }
            }
        }
    }

    /// Candidates for hash `h`, in libbpf's order: in a full pass everything, base
    /// types included, is in `local`; incrementally the types of the current range
    /// come first, newest first (as they would in libbpf unless the table grows in
    /// between), then the rest in libbpf's order of `global`.
    pub(super) fn collect(&mut self, h: u64) -> Vec<u32> {
        let mut out = std::mem::take(&mut self.cands);
        out.clear();
        self.local.collect(h, &mut out);
        if !self.full {
            out.reverse();
            self.global.collect(h, &mut out);
        }
        out
    }

    /// Adds canonical `id` of the current range to the local table.
    pub(super) fn add_local(&mut self, h: u64, id: u32) {
        self.local.add(h, id);
        if let Some(f) = self.in_table.get_mut(id.wrapping_sub(self.lo) as usize) {
            *f = true;
        }
    }
}
