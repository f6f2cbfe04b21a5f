//! Type graph deduplication: libbpf's `btf__dedup()` algorithm, run incrementally.
//!
//! The algorithm is the one of libbpf `src/btf.c` (passes `prim` → `struct` (structs,
//! unions and typedefs, compared as graphs with a hypothetical mapping) → `resolve_fwds`
//! → `ref` → compact → remap), reimplemented over [`Type`] values:
//!
//! * [`Dedup`] keeps one growing array of output types. Each fragment handed to
//!   [`Dedup::add`] is appended behind it (ids and names translated into the output
//!   space), the passes run over just the new range against hash tables that persist
//!   across fragments, and the new range is compacted right away, so only the output
//!   and the current fragment are ever in memory.
//! * Output types stay canonical except FWDs (and enum forward declarations), which may
//!   later be resolved to a struct (enum) of a later fragment. Such resolved types are
//!   kept in place as "dead" entries (they are still candidates in the hash tables, as
//!   in libbpf) until [`Dedup::finish`], which drops them, resolves the remaining FWDs
//!   by name and deduplicates reference types once more over the whole output.
//! * Everything is iterative (explicit stacks) or depth/budget limited, so hostile
//!   input (cycles through reference types, absurd depths, out-of-range ids) can
//!   neither hang nor overflow the stack. Reference-type cycles are left unmerged where
//!   libbpf would fail with `-ELOOP`.
//!
//! One concern per file:
//!
//! | file | what |
//! |------|------|
//! | `hash.rs` | the Fx hasher, `kind_hash` (the table key of a type) and the string hash |
//! | `equal.rs` | shallow equality and compatibility of two types (libbpf `btf_equal_*`, `btf_compat_*`) |
//! | `store.rs` | the type space (base, output, current fragment) and `map` resolution |
//! | `interner.rs` | the output string table |
//! | `table.rs` | hash → candidate ids, in libbpf's candidate order |
//! | `state.rs` | the per-run state: canonical `map`, hypothetical map, tables |
//! | `passes.rs` | the passes: prim, struct, `resolve_fwds`, ref, and the base taint |
//! | `equiv.rs` | the struct-graph equivalence check and its hypothetical map |
//! | `fragment.rs` | a fragment's ids and names translated into the output space |
//! | `compact.rs` | renumbering after a run, the final full pass, building the output |

mod compact;
mod equal;
mod equiv;
mod fragment;
mod hash;
mod interner;
mod passes;
mod state;
mod store;
mod table;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use super::types::*;
use super::{Btf, Endian};
use hash::kind_hash;
use interner::Interner;
use passes::base_taint;
use state::State;
use store::Store;
use table::Table;

/// `map` value of a type no pass has looked at yet (libbpf `BTF_UNPROCESSED_ID`).
const UNPROCESSED: u32 = u32::MAX;
/// `map` value of a reference type whose referents are being deduplicated.
const IN_PROGRESS: u32 = u32::MAX - 1;
/// What a reference to a non-existent type becomes: it never resolves to anything.
const INVALID: u32 = u32::MAX - 2;
/// Largest real type id (libbpf `BTF_MAX_NR_TYPES`); larger `map` values are markers.
const MAX_ID: u32 = 0x7fff_ffff;
/// End of a candidate chain / "no new id".
const NONE: u32 = u32::MAX;
/// Depth limit of the identical-types fallback (libbpf uses 16).
const IDENT_DEPTH: i32 = 16;
/// Node visits allowed to one identical-types comparison (guards against blow-ups on
/// pathological graphs; real types need a handful).
const IDENT_BUDGET: u32 = 1 << 14;
/// Longest `map` chain followed when resolving an id (guards against map cycles).
const RESOLVE_LIMIT: u32 = 1 << 12;

/// Incremental deduplicator (libbpf's `btf__dedup` algorithm), fed fragments in order.
pub struct Dedup {
    store: Store,
    st: State,
    strs: Interner,
    endian: Endian,
    /// Ids below the output end that are no longer canonical (resolved FWDs and enum
    /// forward declarations); their `map` is kept pointing at the final representative.
    dead: Vec<u32>,
    /// Fragment string offset → output offset (`NONE` when not looked up yet).
    name_cache: Vec<u32>,
    name_touched: Vec<u32>,
    newid: Vec<u32>,
}

impl Default for Dedup {
    fn default() -> Self {
        Self::new()
    }
}

impl Dedup {
    /// Output is a base BTF.
    pub fn new() -> Self {
        Self::with_base(None)
    }

    /// Output is split BTF on `base`: base types are canonical and never change;
    /// fragment types equal to base types map to base ids; FWDs may resolve to base
    /// structs (as libbpf does for split BTF).
    pub fn new_split(base: Arc<Btf>) -> Self {
        Self::with_base(Some(base))
    }

    /// A deduplicator whose output is split on `base` (or is a base BTF).
    fn with_base(base: Option<Arc<Btf>>) -> Self {
        let base_end = base.as_ref().map_or(1, |b| b.type_count());
        let endian = base.as_ref().map_or(Endian::native(), |b| b.endian());
        let store = Store {
            base: base.clone(),
            base_end,
            types: Vec::new(),
        };
        let mut st = State {
            global: Table::libbpf_order(),
            map: (0..base_end).collect(),
            hypot: vec![UNPROCESSED; base_end as usize],
            lo: base_end,
            ..State::default()
        };
        st.base_taint = base_taint(&store);
        // libbpf btf_dedup_prep: base types are canonical candidates.
        for id in 1..base_end {
            let Some(t) = store.ty(id) else { continue };
            if !matches!(t.kind, Kind::Var { .. } | Kind::Datasec(_)) {
                st.global.add(kind_hash(t), id);
            }
        }
        Dedup {
            store,
            st,
            strs: Interner::new(base),
            endian,
            dead: Vec::new(),
            name_cache: Vec::new(),
            name_touched: Vec::new(),
            newid: Vec::new(),
        }
    }

    /// Sets the byte order of the output (default native, or the base's for split).
    pub fn set_endian(&mut self, e: Endian) {
        self.endian = e;
    }

    /// Interns a name into the output string table.
    pub fn add_str(&mut self, s: &[u8]) -> StrOff {
        self.strs.intern(s)
    }

    /// Makes room for `n` more names, so that adding them grows no table (a vmlinux adds
    /// some 40,000 function names at the very end, when nothing else runs in parallel;
    /// [`Dedup::add_resolved_all`] reserves for its types itself).
    pub fn reserve_strings(&mut self, n: usize) {
        self.strs.reserve(n);
    }

    /// Appends and deduplicates `frag`, a base-style BTF (ids from 1, its own string
    /// table, refs only to its own ids or 0). Returns, for every fragment id (index 0 =
    /// void → 0), the output id it maps to; such ids stay valid inputs to
    /// [`Dedup::add_resolved`] and are final-remapped by [`Dedup::finish`].
    ///
    /// A fragment split on the same base as this deduplicator may also refer to base ids.
    ///
    /// The fragment's types are moved out (no copy); its strings stay for the caller.
    pub fn add(&mut self, frag: &mut Btf) -> Vec<TypeId> {
        self.fit_name_cache(frag);
        self.intern_table(frag);
        self.add_interned(frag)
    }

    /// [`Dedup::add`] for a fragment whose string table may hold duplicates and whose
    /// names (all or some) come with a key each, `(fragment offset, key)`: strings with
    /// equal keys, in this call and every other, must be equal (such as offsets into
    /// the `.debug_str` a fragment was read from). A name seen before under its key is
    /// found without reading or hashing its bytes; names without a key are looked up by
    /// their bytes. A keyed offset past the end of `frag`'s string table names a string
    /// the fragment does not hold: its bytes are `key_bytes(key)`, asked for only when
    /// the key is new (`None`: no name).
    pub fn add_keyed<'k>(
        &mut self,
        frag: &mut Btf,
        keys: &[(StrOff, u64)],
        key_bytes: impl Fn(u64) -> Option<&'k [u8]>,
    ) -> Vec<TypeId> {
        self.fit_name_cache(frag);
        let past = keys.iter().map(|&(off, _)| off as usize + 1).max();
        if let Some(need) = past.filter(|&n| n > self.name_cache.len()) {
            self.name_cache.resize(need, NONE);
        }
        for &(off, key) in keys {
            let Some(slot) = self.name_cache.get_mut(off as usize) else {
                continue;
            };
            if *slot != NONE {
                continue;
            }
            let strs = &mut self.strs;
            let v = match strs.keyed.get(&key) {
                Some(&v) => v,
                None => {
                    let bytes = match off < frag.strings_end() {
                        true => frag.name_bytes(off),
                        false => key_bytes(key),
                    };
                    let v = bytes.map_or(0, |b| strs.intern(b));
                    strs.keyed.insert(key, v);
                    v
                }
            };
            *slot = v;
            self.name_touched.push(off);
        }
        self.add_interned(frag)
    }

    /// Appends and deduplicates `frag`, whose strings are interned into `name_cache`
    /// (those that are not are looked up on the way).
    fn add_interned(&mut self, frag: &mut Btf) -> Vec<TypeId> {
        let types = std::mem::take(frag.types_mut());
        let lo = self.push_fragment(frag, types.into_iter());
        let hi = self.store.end();
        let mut ids: Vec<u32> = std::iter::once(0).chain(lo..hi).collect();
        self.process_incremental(lo, &mut ids);
        ids
    }

    /// Adds one type whose refs are output ids (from [`Dedup::add`] or
    /// [`Dedup::add_resolved`]) and whose names are output offsets (from
    /// [`Dedup::add_str`]), deduplicated against existing equal types; VAR and DATASEC
    /// are always appended. Returns its id.
    pub fn add_resolved(&mut self, t: Type) -> TypeId {
        self.add_resolved_all(vec![t])[0]
    }

    /// [`Dedup::add_resolved`] for many types in one deduplication run: a ref below
    /// [`Dedup::next_id`] is an output id, and `next_id() + i` is the `i`-th type of
    /// `types`. Returns the output id of each.
    pub fn add_resolved_all(&mut self, types: Vec<Type>) -> Vec<TypeId> {
        let lo = self.store.end();
        let hi = lo + types.len() as u32;
        self.store.types.reserve(types.len());
        for mut t in types {
            t.kind.for_each_ref_mut(|r| {
                if *r >= hi {
                    *r = INVALID;
                }
            });
            self.store.types.push(t);
        }
        let mut ids: Vec<u32> = (lo..hi).collect();
        self.process_incremental(lo, &mut ids);
        ids
    }

    /// The id the next added type has before deduplication (see
    /// [`Dedup::add_resolved_all`]).
    pub fn next_id(&self) -> TypeId {
        self.store.end()
    }

    /// Finishes: drops resolved FWDs, resolves remaining FWDs to the unique
    /// struct/union of that name (libbpf `resolve_fwds`), deduplicates reference types
    /// again over the whole output (those that became equal through FWD resolution),
    /// compacts (first-occurrence order), remaps all refs, and rebuilds the string
    /// table with only the strings surviving types use (in type order).
    ///
    /// Structs, unions and typedefs are not compared again: each was compared once,
    /// against every earlier canonical type, as libbpf's single struct pass does
    /// (repeating it would merge more than libbpf in split mode).
    pub fn finish(mut self) -> Btf {
        if !self.dead.is_empty() {
            self.flatten();
        }
        self.full_pass(false);
        self.build()
    }
}

/// One-shot dedup of a whole BTF (base, or split on its base): libbpf `btf__dedup`.
pub fn dedup(btf: &Btf) -> Btf {
    let mut d = match btf.base() {
        Some(b) => Dedup::new_split(b.clone()),
        None => Dedup::new(),
    };
    d.set_endian(btf.endian());
    d.fit_name_cache(btf);
    d.intern_table(btf);
    d.push_fragment(btf, btf.types().iter().cloned());
    d.full_pass(true);
    d.build()
}
