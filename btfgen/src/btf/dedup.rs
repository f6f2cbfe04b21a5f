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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use super::types::*;
use super::{Btf, Endian, Strings};

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

// ---------------------------------------------------------------------------------
// Hashing

/// A small Fx-style hasher (the rustc one): fast, good enough for our keys.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

const FX_K: u64 = 0xf135_7aea_2e62_a9c5;

impl Fx {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = self.0.wrapping_add(v).wrapping_mul(FX_K);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ (rest.len() as u64) << 59);
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

type FxBuild = BuildHasherDefault<Fx>;
type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// The dedup-table key of a type: what libbpf's `btf_hash_*` function for its kind
/// covers. Struct/union hashes skip member types, typedef hashes skip the target,
/// enum hashes are the name only (so enum forward declarations meet full enums);
/// every other kind hashes everything (its referenced ids are canonical by then).
fn kind_hash(t: &Type) -> u64 {
    let mut h = Fx::default();
    match &t.kind {
        Kind::Struct(c) | Kind::Union(c) => {
            h.write_u8(t.kind.code());
            h.write_u32(t.name);
            h.write_u32(c.size);
            h.write_usize(c.members.len());
            for m in &c.members {
                h.write_u32(m.name);
                h.write_u32(m.bit_offset);
                h.write_u8(m.bitfield_size);
            }
        }
        Kind::Typedef(_) => {
            h.write_u8(kind::TYPEDEF);
            h.write_u32(t.name);
        }
        Kind::Enum(_) | Kind::Enum64(_) => {
            h.write_u8(kind::ENUM);
            h.write_u32(t.name);
        }
        _ => t.hash(&mut h),
    }
    h.finish()
}

// ---------------------------------------------------------------------------------
// Structural comparisons (libbpf btf_equal_* / btf_compat_*)

fn is_any_enum(t: &Type) -> bool {
    matches!(t.kind, Kind::Enum(_) | Kind::Enum64(_))
}

fn is_enum_fwd(t: &Type) -> bool {
    matches!(&t.kind, Kind::Enum(e) | Kind::Enum64(e) if e.values.is_empty())
}

fn is_fwd(t: Option<&Type>) -> bool {
    matches!(
        t,
        Some(Type {
            kind: Kind::Fwd { .. },
            ..
        })
    )
}

/// Exact equality of two ENUMs or two ENUM64s (ENUM values compare as 32-bit words).
fn enum_equal(a: &Type, b: &Type) -> bool {
    if a.name != b.name {
        return false;
    }
    let (x, y, wide) = match (&a.kind, &b.kind) {
        (Kind::Enum(x), Kind::Enum(y)) => (x, y, false),
        (Kind::Enum64(x), Kind::Enum64(y)) => (x, y, true),
        _ => return false,
    };
    x.size == y.size
        && x.signed == y.signed
        && x.values.len() == y.values.len()
        && x.values.iter().zip(&y.values).all(|(p, q)| {
            p.name == q.name
                && if wide {
                    p.value == q.value
                } else {
                    p.value as u32 == q.value as u32
                }
        })
}

/// libbpf `btf_compat_enum`: equal, or one is a forward declaration of the other
/// (any size, ENUM vs ENUM64 allowed).
fn enum_compat(a: &Type, b: &Type) -> bool {
    if !is_enum_fwd(a) && !is_enum_fwd(b) {
        return enum_equal(a, b);
    }
    a.name == b.name && is_any_enum(a) && is_any_enum(b)
}

/// libbpf `btf_shallow_equal_struct`: everything but the member types.
fn shallow_struct_eq(a: &Type, b: &Type) -> bool {
    if a.name != b.name {
        return false;
    }
    let (x, y) = match (&a.kind, &b.kind) {
        (Kind::Struct(x), Kind::Struct(y)) | (Kind::Union(x), Kind::Union(y)) => (x, y),
        _ => return false,
    };
    x.size == y.size
        && x.members.len() == y.members.len()
        && x.members.iter().zip(&y.members).all(|(p, q)| {
            p.name == q.name && p.bit_offset == q.bit_offset && p.bitfield_size == q.bitfield_size
        })
}

fn typedef_eq(a: &Type, b: &Type) -> bool {
    a.name == b.name && matches!((&a.kind, &b.kind), (Kind::Typedef(_), Kind::Typedef(_)))
}

/// libbpf `btf_compat_array`: everything but the element and index types.
fn compat_array(a: &Type, b: &Type) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Array(x), Kind::Array(y)) => a.name == b.name && x.nelems == y.nelems,
        _ => false,
    }
}

/// libbpf `btf_compat_fnproto`: everything but the return and parameter types.
fn compat_fnproto(a: &Type, b: &Type) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::FuncProto(x), Kind::FuncProto(y)) => {
            a.name == b.name
                && x.params.len() == y.params.len()
                && x.params
                    .iter()
                    .zip(&y.params)
                    .all(|(p, q)| p.name == q.name)
        }
        _ => false,
    }
}

/// The single-reference kinds whose `info` word carries more than the kind.
fn modifier_info_eq(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Func { linkage: x, .. }, Kind::Func { linkage: y, .. }) => x == y,
        (Kind::TypeTag { attr: x, .. }, Kind::TypeTag { attr: y, .. }) => x == y,
        _ => true,
    }
}

/// Kinds handled by the reference pass (TYPEDEF is done in the struct pass, as in
/// libbpf ≥ 1.7).
fn is_ref_kind(k: &Kind) -> bool {
    matches!(
        k,
        Kind::Ptr(_)
            | Kind::Const(_)
            | Kind::Volatile(_)
            | Kind::Restrict(_)
            | Kind::Func { .. }
            | Kind::TypeTag { .. }
            | Kind::DeclTag { .. }
            | Kind::Array(_)
            | Kind::FuncProto(_)
    )
}

/// Calls `f` on every string offset of `t` (its name first, then member, enumerator
/// and parameter names in order).
fn for_each_name_mut(t: &mut Type, mut f: impl FnMut(&mut StrOff)) {
    f(&mut t.name);
    match &mut t.kind {
        Kind::Struct(c) | Kind::Union(c) => c.members.iter_mut().for_each(|m| f(&mut m.name)),
        Kind::Enum(e) | Kind::Enum64(e) => e.values.iter_mut().for_each(|v| f(&mut v.name)),
        Kind::FuncProto(p) => p.params.iter_mut().for_each(|p| f(&mut p.name)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------
// Storage

/// The type space: base types (immutable) followed by own types (output, then the
/// fragment being processed).
struct Store {
    base: Option<Arc<Btf>>,
    /// First own id (1 for base BTF).
    base_end: u32,
    types: Vec<Type>,
}

impl Store {
    #[inline]
    fn ty(&self, id: u32) -> Option<&Type> {
        if id >= self.base_end {
            self.types.get((id - self.base_end) as usize)
        } else if id == 0 {
            None
        } else {
            self.base.as_ref()?.get(id)
        }
    }

    #[inline]
    fn code(&self, id: u32) -> u8 {
        self.ty(id).map_or(0, |t| t.kind.code())
    }

    #[inline]
    fn end(&self) -> u32 {
        self.base_end + self.types.len() as u32
    }
}

/// The output string space: base offsets below `start`, own strings after.
///
/// The index is an open-addressing table of (content hash, offset): much faster here
/// than a map of boxed strings, whose lookups miss the cache twice.
struct Interner {
    base: Option<Arc<Btf>>,
    start: u32,
    data: Vec<u8>,
    /// (hash, offset); offset `NONE` = empty slot. Power-of-two length, ≤ 1/2 full.
    slots: Vec<(u64, u32)>,
    len: usize,
    /// Caller keys of strings already interned (see [`Dedup::add_keyed`]).
    keyed: FxMap<u64, StrOff>,
}

fn str_hash(s: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(s);
    h.write_usize(s.len());
    h.finish()
}

impl Interner {
    fn new(base: Option<Arc<Btf>>) -> Self {
        let (start, data) = match &base {
            None => (0, vec![0]),
            Some(b) => (b.strings_end(), Vec::new()),
        };
        let mut me = Interner {
            base: base.clone(),
            start,
            data,
            slots: vec![(0, NONE); 1 << 12],
            len: 0,
            keyed: FxMap::default(),
        };
        if let Some(b) = &base {
            // Strings of the base (all levels) keep their offsets, lowest first.
            let mut levels = Vec::new();
            let mut cur = Some(b);
            while let Some(l) = cur {
                levels.push(l);
                cur = l.base();
            }
            for l in levels.iter().rev() {
                let s = l.strings();
                let raw = s.as_bytes();
                let mut pos = 0;
                while pos < raw.len() {
                    let end = raw[pos..]
                        .iter()
                        .position(|&c| c == 0)
                        .map_or(raw.len(), |e| pos + e);
                    if end > pos {
                        let bytes = &raw[pos..end];
                        let h = str_hash(bytes);
                        if me.find(bytes, h).is_none() {
                            me.insert(h, s.start() + pos as u32);
                        }
                    }
                    pos = end + 1;
                }
            }
        }
        me
    }

    /// Whether the string at `off` is `s`.
    #[inline]
    fn is_at(&self, off: StrOff, s: &[u8]) -> bool {
        if off < self.start {
            return self
                .base
                .as_ref()
                .and_then(|b| b.name_bytes(off))
                .is_some_and(|b| b == s);
        }
        let r = (off - self.start) as usize;
        self.data.get(r..r + s.len()) == Some(s) && self.data.get(r + s.len()) == Some(&0)
    }

    #[inline]
    fn home(&self, h: u64) -> usize {
        h as usize & (self.slots.len() - 1)
    }

    fn find(&self, s: &[u8], h: u64) -> Option<StrOff> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let (sh, off) = self.slots[i];
            if off == NONE {
                return None;
            }
            if sh == h && self.is_at(off, s) {
                return Some(off);
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, h: u64, off: StrOff) {
        self.reserve(1);
        self.place(h, off);
        self.len += 1;
    }

    /// Grows the index so that `n` more strings keep it at most half full.
    fn reserve(&mut self, n: usize) {
        let need = (self.len + n) * 2;
        if need <= self.slots.len() {
            return;
        }
        let bigger = vec![(0, NONE); need.next_power_of_two()];
        let old = std::mem::replace(&mut self.slots, bigger);
        for (sh, o) in old {
            if o != NONE {
                self.place(sh, o);
            }
        }
    }

    fn place(&mut self, h: u64, off: StrOff) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        while self.slots[i].1 != NONE {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h, off);
    }

    /// The offset of `s` (non-empty, without NUL) with hash `h`, adding it if new.
    fn intern_hashed(&mut self, s: &[u8], h: u64) -> StrOff {
        if let Some(off) = self.find(s, h) {
            return off;
        }
        let off = self.start + self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.insert(h, off);
        off
    }

    fn intern(&mut self, s: &[u8]) -> StrOff {
        let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
        if s.is_empty() {
            return 0;
        }
        self.intern_hashed(s, str_hash(s))
    }

    fn bytes(&self, off: StrOff) -> Option<&[u8]> {
        if off < self.start {
            return self.base.as_ref()?.name_bytes(off);
        }
        let tail = self.data.get((off - self.start) as usize..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(&tail[..end])
    }
}

/// Hash → candidate ids (collisions allowed: every use re-checks).
///
/// With `libbpf` set, candidates come in the order libbpf's `hashmap` yields them: an
/// entry is prepended to its bucket, and every growth of the table (when
/// `(size + 1) * 4 / 3 > capacity`, capacity doubling from 4) re-inserts the entries
/// of each bucket from its head, which reverses entries of equal key. That order
/// depends only on the sequence of insertions, not on the hash values, so it is
/// reproduced exactly: entries added while `rev` is false and while it is true are
/// kept in two lists, newest first; the list of the current `rev` is read first, then
/// the other one backwards. Otherwise candidates come oldest first (one list, slots
/// holding its head and tail).
#[derive(Default)]
struct Table {
    libbpf: bool,
    /// Per key: first nodes of the two lists (libbpf order), or head and tail.
    heads: FxMap<u64, [u32; 2]>,
    /// (type id, next node)
    nodes: Vec<(u32, u32)>,
    rev: bool,
    cap: usize,
    len: usize,
}

impl Table {
    fn add(&mut self, h: u64, id: u32) {
        let n = self.nodes.len() as u32;
        if !self.libbpf {
            self.nodes.push((id, NONE));
            let ends = self.heads.entry(h).or_insert([NONE; 2]);
            if ends[0] == NONE {
                *ends = [n, n];
            } else {
                let tail = std::mem::replace(&mut ends[1], n);
                self.nodes[tail as usize].1 = n;
            }
            return;
        }
        if self.cap == 0 || (self.len + 1) * 4 / 3 > self.cap {
            self.cap = (self.cap * 2).max(4);
            self.rev = !self.rev;
        }
        self.len += 1;
        let head = &mut self.heads.entry(h).or_insert([NONE; 2])[self.rev as usize];
        self.nodes.push((id, *head));
        *head = n;
    }

    fn collect(&self, h: u64, out: &mut Vec<u32>) {
        let Some(lists) = self.heads.get(&h) else {
            return;
        };
        if !self.libbpf {
            self.walk(lists[0], out);
            return;
        }
        self.walk(lists[self.rev as usize], out);
        let start = out.len();
        self.walk(lists[!self.rev as usize], out);
        out[start..].reverse();
    }

    fn walk(&self, mut n: u32, out: &mut Vec<u32>) {
        while let Some(&(id, next)) = self.nodes.get(n as usize) {
            out.push(id);
            n = next;
        }
    }

    fn clear(&mut self) {
        self.heads.clear();
        self.nodes.clear();
        self.rev = false;
        self.cap = 0;
        self.len = 0;
    }
}

/// Follows `map` from `id` to its canonical representative (libbpf `resolve_type_id`).
#[inline]
fn resolve_in(map: &[u32], mut id: u32) -> u32 {
    for _ in 0..RESOLVE_LIMIT {
        match map.get(id as usize) {
            Some(&m) if m <= MAX_ID && m != id => id = m,
            _ => return id,
        }
    }
    id
}

// ---------------------------------------------------------------------------------
// Algorithm state

#[derive(Default)]
struct State {
    /// Canonical id of every id (or `UNPROCESSED` / `IN_PROGRESS`); len = store end.
    map: Vec<u32>,
    /// Hypothetical canon → candidate mapping of the current equivalence check.
    hypot: Vec<u32>,
    hypot_list: Vec<u32>,
    /// The equivalence would need to resolve an (immutable) base FWD.
    adjust_canon: bool,
    /// Base types (split mode) and output types of earlier fragments, in libbpf order.
    global: Table,
    /// Types of the range being processed.
    local: Table,
    /// First id of the range being processed.
    lo: u32,
    /// Per type of the range: added to `local` (was canonical when processed).
    in_table: Vec<bool>,
    /// Ids below `lo` that were canonical and got mapped during this range.
    dirty: Vec<u32>,
    /// A full pass over all own types: one table, like libbpf's.
    full: bool,
    /// Per base id: see [`base_taint`].
    base_taint: Vec<bool>,
    /// The canonical side of the current equivalence check starts in the base.
    root_in_base: bool,
    equiv_stack: Vec<(u32, u32)>,
    ref_stack: Vec<u32>,
    cands: Vec<u32>,
}

impl State {
    #[inline]
    fn resolve(&self, id: u32) -> u32 {
        resolve_in(&self.map, id)
    }

    #[inline]
    fn is_mapped(&self, id: u32) -> bool {
        self.map.get(id as usize).is_some_and(|&m| m <= MAX_ID)
    }

    /// Sets `map[id]`, remembering the types below the current range that change.
    fn set_map(&mut self, id: u32, to: u32) {
        let Some(m) = self.map.get_mut(id as usize) else {
            return;
        };
        if id < self.lo {
            self.dirty.push(id);
        }
        *m = to;
    }

    /// Prepares `map`, `hypot` and the per-range tables for processing `[lo, end)`.
    fn begin(&mut self, s: &Store, lo: u32, reset_below: bool) {
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
    fn collect(&mut self, h: u64) -> Vec<u32> {
        let mut out = std::mem::take(&mut self.cands);
        out.clear();
        self.local.collect(h, &mut out);
        if !self.full {
            out.reverse();
            self.global.collect(h, &mut out);
        }
        out
    }

    fn add_local(&mut self, h: u64, id: u32) {
        self.local.add(h, id);
        if let Some(f) = self.in_table.get_mut(id.wrapping_sub(self.lo) as usize) {
            *f = true;
        }
    }

    // --- primitive types -------------------------------------------------------

    fn prim_pass(&mut self, s: &Store, lo: u32, hi: u32) {
        for id in lo..hi {
            self.prim_type(s, id);
        }
    }

    fn prim_type(&mut self, s: &Store, id: u32) {
        let Some(t) = s.ty(id) else { return };
        let mut new_id = id;
        if !matches!(
            t.kind,
            Kind::Int(_) | Kind::Fwd { .. } | Kind::Float { .. } | Kind::Enum(_) | Kind::Enum64(_)
        ) {
            return;
        }
        let h = kind_hash(t);
        match &t.kind {
            Kind::Int(_) | Kind::Fwd { .. } | Kind::Float { .. } => {
                let cands = self.collect(h);
                if let Some(&c) = cands.iter().find(|&&c| s.ty(c) == Some(t)) {
                    new_id = c;
                }
                self.cands = cands;
            }
            Kind::Enum(_) | Kind::Enum64(_) => {
                let cands = self.collect(h);
                for &c in &cands {
                    let Some(ct) = s.ty(c) else { continue };
                    if enum_equal(t, ct) {
                        new_id = c;
                        break;
                    }
                    if enum_compat(t, ct) {
                        if is_enum_fwd(t) {
                            // Forward declaration resolves to the full enum.
                            new_id = c;
                            break;
                        }
                        // A canonical forward declaration resolves to this full enum.
                        self.set_map(c, id);
                    }
                }
                self.cands = cands;
            }
            _ => return,
        }
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }

    // --- structs, unions and typedefs -----------------------------------------

    fn struct_pass(&mut self, s: &Store, lo: u32, hi: u32) {
        for id in lo..hi {
            self.struct_type(s, id);
        }
        self.clear_hypot();
    }

    fn struct_type(&mut self, s: &Store, id: u32) {
        if self.is_mapped(id) {
            return;
        }
        let Some(t) = s.ty(id) else { return };
        if !matches!(t.kind, Kind::Struct(_) | Kind::Union(_) | Kind::Typedef(_)) {
            return;
        }
        let typedef = matches!(t.kind, Kind::Typedef(_));
        let h = kind_hash(t);
        let cands = self.collect(h);
        let mut new_id = id;
        for &c in &cands {
            let Some(ct) = s.ty(c) else { continue };
            // Guards against a colliding FWD, which is_equiv would accept.
            let same = if typedef {
                typedef_eq(t, ct)
            } else {
                shallow_struct_eq(t, ct)
            };
            if !same || !self.may_be_equiv(s, t, ct) {
                continue;
            }
            self.clear_hypot();
            self.root_in_base = c < s.base_end;
            if !self.is_equiv(s, id, c) {
                continue;
            }
            self.merge_hypot(s);
            if self.adjust_canon {
                continue;
            }
            new_id = c;
            break;
        }
        self.cands = cands;
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }

    /// A cheap, exact shortcut for a common failure of [`State::is_equiv`] on two
    /// shallow-equal structs/unions (typedefs): `false` when a pair of direct member
    /// (target) types certainly fails the check. Those pairs are always visited by the
    /// DFS, and a pair whose types resolve differently passes only if both have the
    /// same name and compatible kinds (directly, through a hypothetical mapping made by
    /// an earlier visit that compared name and kind, or through the identical-types
    /// fallback, which compares both too); INTs and FLOATs pass only when they resolve
    /// to the same type. Skipping a doomed DFS changes no state that outlives it.
    fn may_be_equiv(&self, s: &Store, cand: &Type, canon: &Type) -> bool {
        match (&cand.kind, &canon.kind) {
            (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => a
                .members
                .iter()
                .zip(&b.members)
                .all(|(m, n)| self.pair_may_match(s, m.ty, n.ty)),
            (Kind::Typedef(a), Kind::Typedef(b)) => self.pair_may_match(s, *a, *b),
            _ => true,
        }
    }

    fn pair_may_match(&self, s: &Store, cand: u32, canon: u32) -> bool {
        if self.resolve(cand) == self.resolve(canon) {
            return true;
        }
        let canon = self.resolve_fwd(s, canon);
        let (Some(ct), Some(kt)) = (s.ty(cand), s.ty(canon)) else {
            return false;
        };
        if ct.name != kt.name {
            return false;
        }
        let (a, b) = (ct.kind.code(), kt.kind.code());
        let agg = |k| k == kind::STRUCT || k == kind::UNION;
        if a != b {
            return (a == kind::FWD && agg(b)) || (b == kind::FWD && agg(a));
        }
        !matches!(ct.kind, Kind::Int(_) | Kind::Float { .. })
    }

    fn clear_hypot(&mut self) {
        for &id in &self.hypot_list {
            self.hypot[id as usize] = UNPROCESSED;
        }
        self.hypot_list.clear();
        self.adjust_canon = false;
    }

    /// libbpf `resolve_fwd_id`: a FWD already resolved to a struct/union is replaced
    /// by it.
    fn resolve_fwd(&self, s: &Store, id: u32) -> u32 {
        if !is_fwd(s.ty(id)) {
            return id;
        }
        let r = self.resolve(id);
        if is_fwd(s.ty(r)) {
            id
        } else {
            r
        }
    }

    /// libbpf `btf_dedup_is_equiv`: side-by-side DFS of the candidate graph (`cand`)
    /// and the canonical graph (`canon`), recording canon → cand in `hypot`. Same
    /// preorder as libbpf's recursion, with an explicit stack.
    fn is_equiv(&mut self, s: &Store, cand: u32, canon: u32) -> bool {
        let mut stack = std::mem::take(&mut self.equiv_stack);
        stack.clear();
        stack.push((cand, canon));
        let eq = self.equiv_loop(s, &mut stack);
        self.equiv_stack = stack;
        eq
    }

    fn equiv_loop(&mut self, s: &Store, stack: &mut Vec<(u32, u32)>) -> bool {
        while let Some((cand, canon)) = stack.pop() {
            if self.resolve(cand) == self.resolve(canon) {
                continue;
            }
            let canon = self.resolve_fwd(s, canon);
            let hyp = self
                .hypot
                .get(canon as usize)
                .copied()
                .unwrap_or(UNPROCESSED);
            if hyp <= MAX_ID {
                if hyp == cand {
                    continue;
                }
                // Compilers sometimes emit identical duplicates of a type inside one
                // CU: accept them if they are structurally identical.
                let mut budget = IDENT_BUDGET;
                if self.identical(s, hyp, cand, IDENT_DEPTH, &mut budget) {
                    continue;
                }
                return false;
            }
            let Some(slot) = self.hypot.get_mut(canon as usize) else {
                return false;
            };
            *slot = cand;
            self.hypot_list.push(canon);

            let (Some(ct), Some(kt)) = (s.ty(cand), s.ty(canon)) else {
                return false;
            };
            if ct.name != kt.name {
                return false;
            }
            let (ck, kk) = (ct.kind.code(), kt.kind.code());
            if (ck == kind::FWD || kk == kind::FWD) && ck != kk {
                let (real, fwd) = match (&ct.kind, &kt.kind) {
                    (Kind::Fwd { union }, _) => (kk, *union),
                    (_, Kind::Fwd { union }) => (ck, *union),
                    _ => return false,
                };
                let fwd = if fwd { kind::UNION } else { kind::STRUCT };
                if ck != kind::FWD
                    && fwd == real
                    && canon < s.base_end
                    && s.base.is_some()
                    && (self.full || self.root_in_base)
                {
                    // We would have to resolve an immutable base FWD. (Incrementally,
                    // only in the graph of a base candidate: the graph of an own
                    // candidate is a fragment's own types to libbpf, whose FWDs merely
                    // map to base FWDs; ours refers to the base FWDs themselves.)
                    self.adjust_canon = true;
                }
                if fwd != real {
                    return false;
                }
                continue;
            }
            if ck != kk {
                return false;
            }
            match (&ct.kind, &kt.kind) {
                (Kind::Int(_), _) | (Kind::Fwd { .. }, _) | (Kind::Float { .. }, _) => {
                    if ct != kt {
                        return false;
                    }
                }
                (Kind::Enum(_), _) | (Kind::Enum64(_), _) => {
                    if !enum_compat(ct, kt) {
                        return false;
                    }
                }
                (
                    Kind::Const(a)
                    | Kind::Volatile(a)
                    | Kind::Restrict(a)
                    | Kind::Ptr(a)
                    | Kind::Typedef(a)
                    | Kind::Func { proto: a, .. }
                    | Kind::TypeTag { ty: a, .. },
                    Kind::Const(b)
                    | Kind::Volatile(b)
                    | Kind::Restrict(b)
                    | Kind::Ptr(b)
                    | Kind::Typedef(b)
                    | Kind::Func { proto: b, .. }
                    | Kind::TypeTag { ty: b, .. },
                ) => {
                    if !modifier_info_eq(&ct.kind, &kt.kind) {
                        return false;
                    }
                    stack.push((*a, *b));
                }
                (Kind::Array(a), Kind::Array(b)) => {
                    if !compat_array(ct, kt) {
                        return false;
                    }
                    // Index type first, then element type.
                    stack.push((a.elem, b.elem));
                    stack.push((a.index, b.index));
                }
                (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => {
                    if !shallow_struct_eq(ct, kt) {
                        return false;
                    }
                    for (m, n) in a.members.iter().zip(&b.members).rev() {
                        stack.push((m.ty, n.ty));
                    }
                }
                (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                    if !compat_fnproto(ct, kt) {
                        return false;
                    }
                    for (p, q) in a.params.iter().zip(&b.params).rev() {
                        stack.push((p.ty, q.ty));
                    }
                    stack.push((a.ret, b.ret));
                }
                // VAR, DATASEC, DECL_TAG cannot be part of a struct graph (libbpf: -EINVAL).
                _ => return false,
            }
        }
        true
    }

    /// libbpf `btf_dedup_identical_types`, including its ARRAY quirk (element and index
    /// types are not compared, `a2 = btf_array(t1)` in libbpf ≤ 1.7/master), plus a
    /// visit budget.
    fn identical(
        &self,
        s: &Store,
        mut id1: u32,
        mut id2: u32,
        depth: i32,
        budget: &mut u32,
    ) -> bool {
        loop {
            if depth <= 0 || *budget == 0 {
                return false;
            }
            *budget -= 1;
            let (t1, t2) = match (s.ty(id1), s.ty(id2)) {
                (Some(a), Some(b)) => (a, b),
                (None, None) => return id1 == 0 && id2 == 0,
                _ => return false,
            };
            if t1.kind.code() != t2.kind.code() {
                return false;
            }
            match (&t1.kind, &t2.kind) {
                (Kind::Int(_), _) | (Kind::Fwd { .. }, _) | (Kind::Float { .. }, _) => {
                    return t1 == t2
                }
                (Kind::Enum(_), _) | (Kind::Enum64(_), _) => return enum_compat(t1, t2),
                (
                    Kind::Const(a)
                    | Kind::Volatile(a)
                    | Kind::Restrict(a)
                    | Kind::Ptr(a)
                    | Kind::Typedef(a)
                    | Kind::Func { proto: a, .. }
                    | Kind::TypeTag { ty: a, .. },
                    Kind::Const(b)
                    | Kind::Volatile(b)
                    | Kind::Restrict(b)
                    | Kind::Ptr(b)
                    | Kind::Typedef(b)
                    | Kind::Func { proto: b, .. }
                    | Kind::TypeTag { ty: b, .. },
                ) => {
                    if t1.name != t2.name || !modifier_info_eq(&t1.kind, &t2.kind) {
                        return false;
                    }
                    id1 = *a;
                    id2 = *b;
                }
                (Kind::Array(_), _) => return compat_array(t1, t2),
                (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => {
                    if !shallow_struct_eq(t1, t2) {
                        return false;
                    }
                    return a.members.iter().zip(&b.members).all(|(m, n)| {
                        m.ty == n.ty || self.identical(s, m.ty, n.ty, depth - 1, budget)
                    });
                }
                (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                    if !compat_fnproto(t1, t2) {
                        return false;
                    }
                    if a.ret != b.ret && !self.identical(s, a.ret, b.ret, depth - 1, budget) {
                        return false;
                    }
                    return a.params.iter().zip(&b.params).all(|(p, q)| {
                        p.ty == q.ty || self.identical(s, p.ty, q.ty, depth - 1, budget)
                    });
                }
                _ => return false,
            }
        }
    }

    /// libbpf `btf_dedup_merge_hypot_map`: records FWD → STRUCT/UNION resolutions and
    /// (as an optimization) struct → struct mappings found by a successful check.
    fn merge_hypot(&mut self, s: &Store) {
        for i in 0..self.hypot_list.len() {
            let canon = self.hypot_list[i];
            let targ = self.hypot[canon as usize];
            let t_id = self.resolve(targ);
            let c_id = self.resolve(canon);
            let tk = s.code(t_id);
            let ck = s.code(c_id);
            if tk != kind::FWD && ck == kind::FWD {
                self.set_map(c_id, t_id);
            }
            if self.adjust_canon {
                continue;
            }
            if tk == kind::FWD && ck != kind::FWD {
                self.set_map(t_id, c_id);
            }
            if (tk == kind::STRUCT || tk == kind::UNION)
                && ck != kind::FWD
                && self.is_mapped(c_id)
                && !self.is_mapped(t_id)
            {
                self.set_map(t_id, c_id);
            }
        }
    }

    // --- FWD resolution by unique name ------------------------------------------

    /// libbpf `btf_dedup_resolve_fwds`: a FWD still canonical maps to the only
    /// canonical struct/union of its name and kind (base types included).
    fn resolve_fwds(&mut self, s: &Store, lo: u32, hi: u32) {
        let mut names: FxMap<u32, u32> = FxMap::default();
        for id in 1..hi {
            let Some(t) = s.ty(id) else { continue };
            if matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) && self.map[id as usize] == id {
                names.entry(t.name).and_modify(|v| *v = 0).or_insert(id);
            }
        }
        for id in lo..hi {
            let Some(Type {
                name,
                kind: Kind::Fwd { union },
            }) = s.ty(id)
            else {
                continue;
            };
            if self.map[id as usize] != id {
                continue;
            }
            let Some(&c) = names.get(name) else { continue };
            if c == 0 {
                continue;
            }
            let want = if *union { kind::UNION } else { kind::STRUCT };
            if s.code(c) == want {
                self.map[id as usize] = c;
            }
        }
    }

    // --- reference types --------------------------------------------------------

    fn ref_pass(&mut self, s: &mut Store, lo: u32, hi: u32) {
        for id in lo..hi {
            if self.map[id as usize] == UNPROCESSED {
                self.ref_type(s, id);
            }
        }
    }

    /// libbpf `btf_dedup_ref_type` with an explicit stack: referents first (in
    /// order), then the type itself. A cycle made only of reference types (libbpf:
    /// `-ELOOP`) leaves the types on it canonical and unmerged.
    fn ref_type(&mut self, s: &mut Store, root: u32) {
        let mut stack = std::mem::take(&mut self.ref_stack);
        stack.clear();
        stack.push(root);
        while let Some(&id) = stack.last() {
            let m = self.map[id as usize];
            if m == UNPROCESSED {
                match s.ty(id) {
                    Some(t) if is_ref_kind(&t.kind) => {
                        self.map[id as usize] = IN_PROGRESS;
                        let first = stack.len();
                        let map = &self.map;
                        t.kind.for_each_ref(|r| {
                            if map.get(r as usize) == Some(&UNPROCESSED) {
                                stack.push(r);
                            }
                        });
                        stack[first..].reverse();
                    }
                    _ => {
                        // Not a reference kind and not handled by earlier passes.
                        self.map[id as usize] = id;
                        stack.pop();
                    }
                }
            } else if m == IN_PROGRESS {
                stack.pop();
                self.finish_ref(s, id);
            } else {
                stack.pop();
            }
        }
        self.ref_stack = stack;
    }

    fn finish_ref(&mut self, s: &mut Store, id: u32) {
        let idx = (id - s.base_end) as usize;
        let mut looped = false;
        {
            let map = &self.map;
            let Some(t) = s.types.get_mut(idx) else {
                return;
            };
            t.kind.for_each_ref_mut(|r| {
                if map.get(*r as usize) == Some(&IN_PROGRESS) {
                    looped = true;
                } else {
                    *r = resolve_in(map, *r);
                }
            });
        }
        if looped {
            self.map[id as usize] = id;
            return;
        }
        let t = &s.types[idx];
        let h = kind_hash(t);
        let cands = self.collect(h);
        // While fragments come in, a base type that depends on a base forward
        // declaration is no candidate: the declaration may still be resolved to a
        // later split type, and libbpf (all structs before any reference type) would
        // then resolve this type differently. The final pass decides.
        let frozen = |c: u32| !self.full && self.base_taint.get(c as usize) == Some(&true);
        let new_id = cands
            .iter()
            .copied()
            .find(|&c| !frozen(c) && s.ty(c) == Some(t))
            .unwrap_or(id);
        self.cands = cands;
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }
}

/// Per base id: whether the type is a forward declaration (struct/union FWD or enum
/// without values) or a reference type reaching one through reference types only.
/// Such a declaration may get resolved to a type of the split part, which changes
/// what split reference types through it resolve to.
fn base_taint(s: &Store) -> Vec<bool> {
    const CLEAN: u8 = 2;
    const TAINTED: u8 = 3;
    let n = s.base_end as usize;
    // 0 = not visited, 1 = in progress, CLEAN, TAINTED
    let mut state = vec![0u8; n];
    let mut stack: Vec<(u32, bool)> = Vec::new();
    for root in 1..s.base_end {
        stack.push((root, false));
        while let Some((id, expanded)) = stack.pop() {
            let i = id as usize;
            let Some(t) = s.ty(id) else {
                state[i] = CLEAN;
                continue;
            };
            if expanded {
                let mut tainted = false;
                t.kind
                    .for_each_ref(|r| tainted |= state.get(r as usize) == Some(&TAINTED));
                state[i] = if tainted { TAINTED } else { CLEAN };
                continue;
            }
            if state[i] != 0 {
                continue;
            }
            if matches!(t.kind, Kind::Fwd { .. }) || is_enum_fwd(t) {
                state[i] = TAINTED;
            } else if !is_ref_kind(&t.kind) {
                state[i] = CLEAN;
            } else {
                state[i] = 1;
                stack.push((id, true));
                t.kind.for_each_ref(|r| {
                    if state.get(r as usize) == Some(&0) {
                        stack.push((r, false));
                    }
                });
            }
        }
    }
    state.into_iter().map(|x| x == TAINTED).collect()
}

// ---------------------------------------------------------------------------------
// Public API

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

    fn with_base(base: Option<Arc<Btf>>) -> Self {
        let base_end = base.as_ref().map_or(1, |b| b.type_count());
        let endian = base.as_ref().map_or(Endian::native(), |b| b.endian());
        let store = Store {
            base: base.clone(),
            base_end,
            types: Vec::new(),
        };
        let mut st = State {
            global: Table {
                libbpf: true,
                ..Table::default()
            },
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
    /// their bytes.
    pub fn add_keyed(&mut self, frag: &mut Btf, keys: &[(StrOff, u64)]) -> Vec<TypeId> {
        self.fit_name_cache(frag);
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
                    let v = frag.name_bytes(off).map_or(0, |b| strs.intern(b));
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

    // --- internals --------------------------------------------------------------

    /// Appends `frag`'s types, translated into the output id and string space; returns
    /// the id of the first one.
    fn push_fragment(&mut self, frag: &Btf, types: impl ExactSizeIterator<Item = Type>) -> u32 {
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
            for_each_name_mut(&mut t, |n| {
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
    fn fit_name_cache(&mut self, frag: &Btf) {
        let need = frag.strings_end() as usize;
        if self.name_cache.len() < need {
            self.name_cache.resize(need, NONE);
        }
    }

    /// Interns every string of `frag`'s own string table and records the output
    /// offsets in `name_cache`.
    fn intern_table(&mut self, frag: &Btf) {
        let table = frag.strings();
        let raw = table.as_bytes();
        let base = table.start() as usize;
        let mut pos = 0usize;
        while pos < raw.len() {
            let end = raw[pos..]
                .iter()
                .position(|&c| c == 0)
                .map_or(raw.len(), |e| pos + e);
            if end > pos {
                if let Some(slot) = self.name_cache.get_mut(base + pos) {
                    if *slot == NONE {
                        let bytes = &raw[pos..end];
                        *slot = self.strs.intern_hashed(bytes, str_hash(bytes));
                        self.name_touched.push((base + pos) as u32);
                    }
                }
            }
            pos = end + 1;
        }
    }

    /// Runs prim/struct/ref over `[lo, end)` against everything before it, compacts
    /// the range (keeping canonical types and former canonicals still in the tables)
    /// and translates `ids` (ids in the range or below) into final output ids.
    fn process_incremental(&mut self, lo: u32, ids: &mut [u32]) {
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
    fn flatten(&mut self) {
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
    fn full_pass(&mut self, structs: bool) -> bool {
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
    fn build(self) -> Btf {
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
            for_each_name_mut(t, |n| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn int(b: &mut Btf, name: &str, size: u32) -> TypeId {
        let name = b.add_str(name);
        b.add(Type {
            name,
            kind: Kind::Int(Int {
                size,
                encoding: INT_SIGNED,
                offset: 0,
                bits: (size * 8) as u8,
            }),
        })
    }

    fn ptr(b: &mut Btf, to: TypeId) -> TypeId {
        b.add(Type {
            name: 0,
            kind: Kind::Ptr(to),
        })
    }

    fn fwd(b: &mut Btf, name: &str) -> TypeId {
        let name = b.add_str(name);
        b.add(Type {
            name,
            kind: Kind::Fwd { union: false },
        })
    }

    fn comp(b: &mut Btf, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> Type {
        let members = members
            .iter()
            .map(|&(n, ty, bit_offset)| Member {
                name: b.add_str(n),
                ty,
                bit_offset,
                bitfield_size: 0,
            })
            .collect();
        Type {
            name: b.add_str(name),
            kind: Kind::Struct(Composite { size, members }),
        }
    }

    fn strukt(b: &mut Btf, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> TypeId {
        let t = comp(b, name, size, members);
        b.add(t)
    }

    fn enm(b: &mut Btf, name: &str, values: &[(&str, i64)]) -> TypeId {
        let values = values
            .iter()
            .map(|&(n, value)| Enumerator {
                name: b.add_str(n),
                value,
            })
            .collect();
        let name = b.add_str(name);
        b.add(Type {
            name,
            kind: Kind::Enum(Enum {
                size: 4,
                signed: false,
                values,
            }),
        })
    }

    /// One line per own type, with names spelled out (comparable across BTFs).
    fn dump(b: &Btf) -> Vec<String> {
        b.iter()
            .map(|(id, t)| {
                let mut t = t.clone();
                let mut names = Vec::new();
                for_each_name_mut(&mut t, |n| names.push(b.name(*n).into_owned()));
                format!("[{id}] {} {names:?} {:?}", t.kind.label(), {
                    for_each_name_mut(&mut t, |n| *n = 0);
                    t.kind
                })
            })
            .collect()
    }

    fn count(b: &Btf, code: u8) -> usize {
        b.types().iter().filter(|t| t.kind.code() == code).count()
    }

    fn roundtrip(b: &Btf) {
        let bytes = b.to_bytes();
        let back = Btf::from_bytes(&bytes).expect("output parses back");
        assert_eq!(back.types(), b.types());
        assert_eq!(dump(&back), dump(b));
    }

    /// int, struct foo { int a; int b; }, foo *
    fn foo_frag() -> Btf {
        let mut b = Btf::new();
        let i = int(&mut b, "int", 4);
        let s = strukt(&mut b, "foo", 8, &[("a", i, 0), ("b", i, 32)]);
        ptr(&mut b, s);
        b
    }

    #[test]
    fn identical_ints_merged() {
        let mut d = Dedup::new();
        let mut f = Btf::new();
        int(&mut f, "int", 4);
        int(&mut f, "int", 4);
        int(&mut f, "long", 8);
        let a = d.add(&mut f.clone());
        let b = d.add(&mut f.clone());
        assert_eq!(a, vec![0, 1, 1, 2]);
        assert_eq!(b, vec![0, 1, 1, 2]);
        let out = d.finish();
        assert_eq!(out.types().len(), 2);
        assert_eq!(out.type_name(1), "int");
        assert_eq!(out.type_name(2), "long");
        roundtrip(&out);
    }

    #[test]
    fn identical_structs_across_fragments() {
        let mut d = Dedup::new();
        let a = d.add(&mut foo_frag().clone());
        let b = d.add(&mut foo_frag().clone());
        assert_eq!(a, b);
        let out = d.finish();
        assert_eq!(out.types().len(), 3);
        assert_eq!(count(&out, kind::STRUCT), 1);
        roundtrip(&out);
    }

    #[test]
    fn self_referencing_struct() {
        // struct node { struct node *next; int v; }
        let frag = || {
            let mut b = Btf::new();
            let s = b.add(Type {
                name: 0,
                kind: Kind::Int(Int {
                    size: 0,
                    encoding: 0,
                    offset: 0,
                    bits: 0,
                }),
            }); // placeholder, replaced below
            let i = int(&mut b, "int", 4);
            let p = ptr(&mut b, s);
            let node = comp(&mut b, "node", 16, &[("next", p, 0), ("v", i, 64)]);
            b.types_mut()[0] = node;
            b
        };
        let mut d = Dedup::new();
        let a = d.add(&mut frag().clone());
        let b = d.add(&mut frag().clone());
        assert_eq!(a, b);
        let out = d.finish();
        assert_eq!(out.types().len(), 3);
        let Kind::Struct(c) = &out.get(1).unwrap().kind else {
            panic!("not a struct")
        };
        assert_eq!(out.get(c.members[0].ty).unwrap().kind, Kind::Ptr(1));
        roundtrip(&out);
    }

    #[test]
    fn fwd_resolved_to_later_struct() {
        let mut f1 = Btf::new();
        let fw = fwd(&mut f1, "foo");
        ptr(&mut f1, fw);
        let mut d = Dedup::new();
        d.add(&mut f1.clone());
        d.add(&mut foo_frag().clone());
        let out = d.finish();
        assert_eq!(count(&out, kind::FWD), 0);
        assert_eq!(count(&out, kind::PTR), 1);
        assert_eq!(out.types().len(), 3);
        // The pointer of fragment 1 comes first and now targets the struct.
        let foo = out.find_by_name("foo").next().unwrap();
        assert_eq!(out.get(1).unwrap().kind, Kind::Ptr(foo));
        roundtrip(&out);
    }

    #[test]
    fn struct_with_fwd_member_merges_with_full() {
        // struct bar { struct foo *p; } with foo a FWD, then with foo defined.
        let mut f1 = Btf::new();
        let fw = fwd(&mut f1, "foo");
        let p = ptr(&mut f1, fw);
        strukt(&mut f1, "bar", 8, &[("p", p, 0)]);
        let mut f2 = Btf::new();
        let i = int(&mut f2, "int", 4);
        let foo = strukt(&mut f2, "foo", 4, &[("x", i, 0)]);
        let p = ptr(&mut f2, foo);
        strukt(&mut f2, "bar", 8, &[("p", p, 0)]);

        for order in [[&f1, &f2], [&f2, &f1]] {
            let mut d = Dedup::new();
            let a = d.add(&mut order[0].clone());
            let b = d.add(&mut order[1].clone());
            // Both bars map to the same output struct.
            assert_eq!(a[a.len() - 1], b[b.len() - 1]);
            let out = d.finish();
            assert_eq!(count(&out, kind::FWD), 0, "{:#?}", dump(&out));
            assert_eq!(count(&out, kind::STRUCT), 2);
            assert_eq!(count(&out, kind::PTR), 1);
            assert_eq!(out.types().len(), 4);
            roundtrip(&out);
        }
    }

    #[test]
    fn same_name_different_layout_kept_apart() {
        let mut f1 = Btf::new();
        let i = int(&mut f1, "int", 4);
        strukt(&mut f1, "foo", 4, &[("a", i, 0)]);
        let mut f2 = Btf::new();
        let l = int(&mut f2, "long", 8);
        strukt(&mut f2, "foo", 8, &[("b", l, 0)]);
        // Same layout and member names, different member type: also distinct.
        let mut f3 = Btf::new();
        let c = int(&mut f3, "char", 1);
        strukt(&mut f3, "foo", 4, &[("a", c, 0)]);
        let mut d = Dedup::new();
        d.add(&mut f1.clone());
        d.add(&mut f2.clone());
        d.add(&mut f3.clone());
        d.add(&mut f1.clone());
        let out = d.finish();
        assert_eq!(count(&out, kind::STRUCT), 3);
        assert_eq!(count(&out, kind::INT), 3);
        roundtrip(&out);
    }

    #[test]
    fn enum_fwd_resolves_to_full_enum() {
        let fwd_frag = || {
            let mut b = Btf::new();
            let e = enm(&mut b, "e", &[]);
            ptr(&mut b, e);
            b
        };
        let full_frag = || {
            let mut b = Btf::new();
            let e = enm(&mut b, "e", &[("A", 1), ("B", 2)]);
            ptr(&mut b, e);
            b
        };
        for fwd_first in [true, false] {
            let mut d = Dedup::new();
            if fwd_first {
                d.add(&mut fwd_frag().clone());
                d.add(&mut full_frag().clone());
            } else {
                d.add(&mut full_frag().clone());
                d.add(&mut fwd_frag().clone());
            }
            let out = d.finish();
            assert_eq!(out.types().len(), 2, "{:#?}", dump(&out));
            let e = out.find_by_name("e").next().unwrap();
            let Kind::Enum(en) = &out.get(e).unwrap().kind else {
                panic!()
            };
            assert_eq!(en.values.len(), 2);
            roundtrip(&out);
        }
        // Two different full enums of one name stay apart.
        let mut other = Btf::new();
        enm(&mut other, "e", &[("A", 1)]);
        let mut d = Dedup::new();
        d.add(&mut full_frag().clone());
        d.add(&mut other.clone());
        assert_eq!(count(&d.finish(), kind::ENUM), 2);
    }

    #[test]
    fn func_proto_and_func_via_add_resolved() {
        let mut d = Dedup::new();
        let ids = d.add(&mut foo_frag().clone());
        let (int_id, foo_ptr) = (ids[1], ids[3]);
        let x = d.add_str(b"x");
        let proto = |ret| Type {
            name: 0,
            kind: Kind::FuncProto(FuncProto {
                ret,
                params: vec![Param {
                    name: x,
                    ty: foo_ptr,
                }],
            }),
        };
        let p1 = d.add_resolved(proto(int_id));
        let p2 = d.add_resolved(proto(int_id));
        let p3 = d.add_resolved(proto(0));
        assert_eq!(p1, p2);
        assert_ne!(p1, p3);
        let f = d.add_str(b"f");
        let g = d.add_str(b"g");
        let func = |name, proto| Type {
            name,
            kind: Kind::Func {
                proto,
                linkage: linkage::STATIC,
            },
        };
        let f1 = d.add_resolved(func(f, p1));
        let f2 = d.add_resolved(func(f, p2));
        let g1 = d.add_resolved(func(g, p1));
        assert_eq!(f1, f2);
        assert_ne!(f1, g1);
        // The same proto arriving in a later fragment maps to the existing one.
        let mut fr = foo_frag();
        let xn = fr.add_str("x");
        fr.add(Type {
            name: 0,
            kind: Kind::FuncProto(FuncProto {
                ret: 1,
                params: vec![Param { name: xn, ty: 3 }],
            }),
        });
        let ids = d.add(&mut fr.clone());
        assert_eq!(ids[4], p1);
        let out = d.finish();
        assert_eq!(count(&out, kind::FUNC_PROTO), 2);
        assert_eq!(count(&out, kind::FUNC), 2);
        assert_eq!(out.types().len(), 3 + 2 + 2);
        roundtrip(&out);
    }

    #[test]
    fn var_and_datasec_kept() {
        let mut d = Dedup::new();
        let ids = d.add(&mut foo_frag().clone());
        let v = d.add_str(b"v");
        let var = Type {
            name: v,
            kind: Kind::Var {
                ty: ids[1],
                linkage: linkage::VAR_GLOBAL_ALLOCATED,
            },
        };
        let v1 = d.add_resolved(var.clone());
        let v2 = d.add_resolved(var);
        assert_ne!(v1, v2);
        let sec = d.add_str(b".data");
        let ds = Type {
            name: sec,
            kind: Kind::Datasec(Datasec {
                size: 8,
                vars: vec![
                    VarSecInfo {
                        ty: v1,
                        offset: 0,
                        size: 4,
                    },
                    VarSecInfo {
                        ty: v2,
                        offset: 4,
                        size: 4,
                    },
                ],
            }),
        };
        let s1 = d.add_resolved(ds.clone());
        let s2 = d.add_resolved(ds);
        assert_ne!(s1, s2);
        let out = d.finish();
        assert_eq!(count(&out, kind::VAR), 2);
        assert_eq!(count(&out, kind::DATASEC), 2);
        let Kind::Datasec(sec) = &out.get(s1).unwrap().kind else {
            panic!()
        };
        assert_eq!(sec.vars[0].ty, v1);
        assert_eq!(out.type_name(sec.vars[1].ty), "v");
        roundtrip(&out);
    }

    #[test]
    fn split_against_base() {
        let base = Arc::new(dedup(&foo_frag()));
        assert_eq!(base.types().len(), 3);
        // Types equal to base types vanish; new ones refer into the base.
        let mut f1 = foo_frag();
        let l = int(&mut f1, "long", 8);
        strukt(&mut f1, "bar", 16, &[("p", 3, 0), ("l", l, 64)]);
        // A FWD of a base struct resolves to it.
        let mut f2 = Btf::new();
        let fw = fwd(&mut f2, "foo");
        let p = ptr(&mut f2, fw);
        strukt(&mut f2, "baz", 8, &[("p", p, 0)]);

        let mut d = Dedup::new_split(base.clone());
        let a = d.add(&mut f1.clone());
        assert_eq!(&a[..4], &[0, 1, 2, 3]);
        d.add(&mut f2.clone());
        let out = d.finish();
        assert_eq!(out.start_id(), 4);
        assert_eq!(dump(&out).len(), 3, "{:#?}", dump(&out));
        for (_, t) in out.iter() {
            if let Kind::Struct(c) = &t.kind {
                assert_eq!(c.members[0].ty, 3, "pointer refers to the base's");
            }
        }
        assert_eq!(out.type_name(4), "long");
        // Own strings only hold what the base lacks.
        assert!(out.strings().get(out.strings().start()).is_some());
        let bytes = out.to_bytes();
        let back = Btf::from_split_bytes(&bytes, base.clone()).unwrap();
        assert_eq!(back.types(), out.types());
        assert_eq!(dump(&back), dump(&out));
        // One-shot split dedup gives the same.
        let mut raw = Btf::new_split(base.clone());
        for f in [&f1, &f2] {
            let off = raw.type_count() - 1;
            for t in f.types() {
                let mut t = t.clone();
                t.kind.for_each_ref_mut(|r| {
                    if *r != 0 {
                        *r += off
                    }
                });
                for_each_name_mut(&mut t, |n| *n = raw.add_bytes(f.name_bytes(*n).unwrap()));
                raw.add(t);
            }
        }
        assert_eq!(dump(&dedup(&raw)), dump(&out));
    }

    /// A messy BTF: a few fragments' worth of duplicates concatenated.
    fn messy() -> Btf {
        let mut b = Btf::new();
        for i in 0..3 {
            let off = b.type_count() - 1;
            let mut f = foo_frag();
            let fw = fwd(&mut f, "node");
            let p = ptr(&mut f, fw);
            strukt(&mut f, "holder", 8, &[("n", p, 0)]);
            if i == 2 {
                let int = 1;
                let node = f.types().len() as u32 + 3;
                let np = ptr(&mut f, node);
                let cnp = f.add(Type {
                    name: 0,
                    kind: Kind::Const(np),
                });
                strukt(&mut f, "node", 16, &[("next", cnp, 0), ("v", int, 64)]);
                let e = enm(&mut f, "e", &[]);
                f.add(Type {
                    name: 0,
                    kind: Kind::Volatile(e),
                });
            }
            for t in f.types() {
                let mut t = t.clone();
                t.kind.for_each_ref_mut(|r| {
                    if *r != 0 {
                        *r += off
                    }
                });
                for_each_name_mut(&mut t, |n| *n = b.add_bytes(f.name_bytes(*n).unwrap()));
                b.add(t);
            }
        }
        b
    }

    #[test]
    fn one_shot_is_idempotent_and_matches_incremental() {
        let raw = messy();
        let once = dedup(&raw);
        let twice = dedup(&once);
        assert_eq!(dump(&once), dump(&twice));
        assert!(once.types().len() < raw.types().len());
        assert_eq!(count(&once, kind::FWD), 0, "{:#?}", dump(&once));
        let mut d = Dedup::new();
        d.add(&mut raw.clone());
        assert_eq!(dump(&d.finish()), dump(&once));
        roundtrip(&once);
    }

    #[test]
    fn duplicate_structs_inside_one_fragment() {
        // struct a { int x; } emitted twice in one CU, used by two members of s.
        let mut f1 = Btf::new();
        let i = int(&mut f1, "int", 4);
        let a = strukt(&mut f1, "a", 4, &[("x", i, 0)]);
        strukt(&mut f1, "s", 8, &[("p", a, 0), ("q", a, 32)]);
        let mut f2 = Btf::new();
        let i = int(&mut f2, "int", 4);
        let a1 = strukt(&mut f2, "a", 4, &[("x", i, 0)]);
        let a2 = strukt(&mut f2, "a", 4, &[("x", i, 0)]);
        strukt(&mut f2, "s", 8, &[("p", a1, 0), ("q", a2, 32)]);
        let mut d = Dedup::new();
        d.add(&mut f1.clone());
        d.add(&mut f2.clone());
        let out = d.finish();
        assert_eq!(out.types().len(), 3, "{:#?}", dump(&out));
    }

    #[test]
    fn hostile_cycles_and_bad_refs_do_not_hang() {
        let mut b = Btf::new();
        // [1] PTR -> [2] CONST -> [1]
        b.add(Type {
            name: 0,
            kind: Kind::Ptr(2),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Const(1),
        });
        // [3] typedef t -> [3]
        let t = b.add_str("t");
        b.add(Type {
            name: t,
            kind: Kind::Typedef(3),
        });
        // [4] struct with a member pointing nowhere, [5] array of itself
        let s = comp(&mut b, "s", 4, &[("x", 999, 0)]);
        b.add(s);
        b.add(Type {
            name: 0,
            kind: Kind::Array(Array {
                elem: 5,
                index: 5,
                nelems: 1,
            }),
        });
        // A long chain of pointers (deep recursion in a naive implementation).
        let mut prev = 0;
        for _ in 0..200_000 {
            prev = ptr(&mut b, prev);
        }
        let once = dedup(&b);
        assert!(once.types().len() >= 5);
        let mut d = Dedup::new();
        d.add(&mut b.clone());
        d.add(&mut b.clone());
        let bad = d.add_resolved(Type {
            name: 12345,
            kind: Kind::Ptr(u32::MAX - 7),
        });
        let out = d.finish();
        assert!(out.get(bad).is_some());
        // Reference-type cycles are never merged (libbpf fails with -ELOOP on them);
        // everything else of the second copy is.
        assert!(out.types().len() < once.types().len() + 10);
        dedup(&out);
    }

    /// Random small graphs (cycles everywhere, bad ids): never panics or hangs, and
    /// valid input gives valid output.
    #[test]
    fn random_graphs_do_not_panic() {
        struct Gen {
            state: u64,
            n: u32,
            bad: bool,
        }
        impl Gen {
            fn next(&mut self, n: u64) -> u64 {
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                self.state % n.max(1)
            }
            fn id(&mut self) -> u32 {
                if self.bad && self.next(10) == 0 {
                    1000 + self.next(5) as u32
                } else {
                    self.next(self.n as u64 + 1) as u32
                }
            }
            fn members(&mut self, names: &[u32]) -> Vec<Member> {
                (0..self.next(3))
                    .map(|i| Member {
                        name: names[i as usize],
                        ty: self.id(),
                        bit_offset: i as u32 * 32,
                        bitfield_size: 0,
                    })
                    .collect()
            }
        }
        let mut g = Gen {
            state: 0x2545_f491_4f6c_dd1d,
            n: 0,
            bad: false,
        };
        for round in 0..300 {
            let mut b = Btf::new();
            let names: Vec<u32> = ["a", "b", "s", "u", "e"]
                .iter()
                .map(|n| b.add_str(n))
                .collect();
            g.n = 1 + g.next(40) as u32;
            g.bad = round % 7 == 0;
            for _ in 0..g.n {
                let name = names[g.next(names.len() as u64) as usize];
                let kind = match g.next(12) {
                    0 => Kind::Int(Int {
                        size: 4,
                        encoding: 0,
                        offset: 0,
                        bits: 32,
                    }),
                    1 => Kind::Ptr(g.id()),
                    2 => Kind::Const(g.id()),
                    3 => Kind::Typedef(g.id()),
                    4 => Kind::Fwd {
                        union: g.next(2) == 0,
                    },
                    5 => Kind::Struct(Composite {
                        size: 8,
                        members: g.members(&names),
                    }),
                    6 => Kind::Union(Composite {
                        size: 8,
                        members: g.members(&names),
                    }),
                    7 => Kind::Array(Array {
                        elem: g.id(),
                        index: g.id(),
                        nelems: g.next(3) as u32,
                    }),
                    8 => Kind::FuncProto(FuncProto {
                        ret: g.id(),
                        params: vec![Param {
                            name: 0,
                            ty: g.id(),
                        }],
                    }),
                    9 => Kind::Func {
                        proto: g.id(),
                        linkage: 0,
                    },
                    10 => Kind::Enum(Enum {
                        size: 4,
                        signed: false,
                        values: (0..g.next(2))
                            .map(|v| Enumerator {
                                name: names[0],
                                value: v as i64,
                            })
                            .collect(),
                    }),
                    _ => Kind::Var {
                        ty: g.id(),
                        linkage: 0,
                    },
                };
                b.add(Type { name, kind });
            }
            let once = dedup(&b);
            let mut d = Dedup::new();
            d.add(&mut b.clone());
            let ids = d.add(&mut b.clone());
            d.add_resolved(Type {
                name: 0,
                kind: Kind::Ptr(*ids.last().unwrap()),
            });
            let inc = d.finish();
            if !g.bad {
                roundtrip(&once);
                roundtrip(&inc);
            }
            let base = Arc::new(once);
            let mut d = Dedup::new_split(base.clone());
            d.add(&mut b.clone());
            d.finish();
        }
    }

    // --- kernel-based checks (ignored: need /sys/kernel/btf/vmlinux; run with
    // `cargo test -p btfgen --release --lib btf::dedup -- --ignored --nocapture`) ---

    const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

    /// Appends `frags` into one BTF (what a non-incremental encoder would dedup).
    fn concat(frags: &[Btf]) -> Btf {
        let mut b = Btf::new();
        for f in frags {
            let off = b.type_count() - 1;
            for t in f.types() {
                let mut t = t.clone();
                t.kind.for_each_ref_mut(|r| {
                    if *r != 0 {
                        *r += off
                    }
                });
                for_each_name_mut(&mut t, |n| {
                    *n = b.add_bytes(f.name_bytes(*n).unwrap_or_default())
                });
                b.add(t);
            }
        }
        b
    }

    /// Pseudo compilation units cut out of kernel BTF: the closure of a few random
    /// roots, where a struct/union only ever reached through pointers is a FWD with
    /// probability 1/4, or always once the fragment holds `max_types` types (a CU
    /// never holds both a declaration and the definition of one struct).
    fn kernel_fragments(k: &Btf, n: usize, max_types: usize, seed: u64) -> Vec<Btf> {
        // DEDUP_MIXED: also make some pointers of a CU target a separate FWD of a
        // struct the CU defines (unusual C; exercises the contradiction paths).
        let mixed = std::env::var_os("DEDUP_MIXED").is_some();
        let mut rng = seed | 1;
        let mut rand = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let count = k.type_count();
        let mut frags = Vec::with_capacity(n);
        for _ in 0..n {
            // kernel id -> fragment id; `full` holds the types whose body is kept;
            // `extra` are explicit FWD nodes (mixed mode).
            let mut local: HashMap<u32, u32> = HashMap::new();
            let mut extra: HashMap<u32, u32> = HashMap::new();
            let mut order: Vec<(u32, bool)> = Vec::new();
            let mut full: std::collections::HashSet<u32> = Default::default();
            let mut work: Vec<u32> = Vec::new();
            let mut edges: HashMap<u32, Vec<u32>> = HashMap::new();
            let mut visit = |id: u32, via_ptr: bool, r: u64, work: &mut Vec<u32>| -> u32 {
                if id == 0 {
                    return 0;
                }
                let t = k.get(id).unwrap();
                let agg = matches!(t.kind, Kind::Struct(_) | Kind::Union(_));
                if mixed && agg && via_ptr && r % 4 == 1 {
                    return *extra.entry(id).or_insert_with(|| {
                        order.push((id, true));
                        order.len() as u32
                    });
                }
                if let Some(&x) = local.get(&id) {
                    if (full.contains(&id) || !via_ptr) && full.insert(id) {
                        // Now needed as a definition.
                        work.push(id);
                    }
                    return x;
                }
                order.push((id, false));
                let x = order.len() as u32;
                local.insert(id, x);
                let decl = agg && via_ptr && (order.len() > max_types || r % 4 == 0);
                if !decl {
                    full.insert(id);
                    work.push(id);
                }
                x
            };
            let mut roots = 0;
            while roots < 40 {
                let id = 1 + (rand() % (count as u64 - 1)) as u32;
                if matches!(k.get(id).unwrap().kind, Kind::Var { .. } | Kind::Datasec(_)) {
                    continue;
                }
                roots += 1;
                visit(id, false, 2, &mut work);
            }
            while let Some(id) = work.pop() {
                let t = k.get(id).unwrap();
                let via_ptr = matches!(t.kind, Kind::Ptr(_));
                let mut ids = Vec::new();
                t.kind.for_each_ref(|r| ids.push(r));
                let targets = ids
                    .into_iter()
                    .map(|r| {
                        let x = rand();
                        visit(r, via_ptr, x, &mut work)
                    })
                    .collect();
                edges.insert(id, targets);
            }
            let mut f = Btf::new();
            for &(id, fwd) in &order {
                let t = k.get(id).unwrap();
                let mut t = if !fwd && full.contains(&id) {
                    let mut t = t.clone();
                    let mut it = edges[&id].iter();
                    t.kind.for_each_ref_mut(|r| *r = *it.next().unwrap());
                    t
                } else {
                    Type {
                        name: t.name,
                        kind: Kind::Fwd {
                            union: matches!(t.kind, Kind::Union(_)),
                        },
                    }
                };
                for_each_name_mut(&mut t, |n| {
                    *n = f.add_bytes(k.name_bytes(*n).unwrap_or_default())
                });
                f.add(t);
            }
            frags.push(f);
        }
        frags
    }

    fn kind_counts(b: &Btf) -> Vec<(&'static str, usize)> {
        let mut m: HashMap<&'static str, usize> = HashMap::new();
        for t in b.types() {
            *m.entry(t.kind.label()).or_default() += 1;
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort();
        v
    }

    fn peak_rss_mb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .map_or(0, |kb| kb / 1024)
    }

    #[test]
    #[ignore]
    fn kernel_btf_is_a_fixpoint() {
        let k = Btf::from_file(VMLINUX).unwrap();
        let t = std::time::Instant::now();
        let out = dedup(&k);
        eprintln!(
            "dedup of {} kernel types: {:?}",
            k.types().len(),
            t.elapsed()
        );
        assert_eq!(dump(&out), dump(&k));
        // Split: kernel BTF on itself dedups to nothing.
        let base = Arc::new(k);
        let t = std::time::Instant::now();
        let mut d = Dedup::new_split(base.clone());
        d.add(&mut Btf::clone(&base));
        let out = d.finish();
        eprintln!("split dedup of kernel on kernel: {:?}", t.elapsed());
        // Only VAR and DATASEC, which are never deduplicated, remain.
        assert_eq!(
            out.types().len(),
            count(&base, kind::VAR) + count(&base, kind::DATASEC),
            "{:?}",
            kind_counts(&out)
        );
    }

    /// Memory use: fragments made one at a time and fed at once, like an encoder.
    #[test]
    #[ignore]
    fn kernel_fragments_streaming_rss() {
        let n: u64 = std::env::var("DEDUP_FRAGS").map_or(2000, |v| v.parse().unwrap());
        let k = Btf::from_file(VMLINUX).unwrap();
        let rss0 = peak_rss_mb();
        let mut d = Dedup::new();
        let mut total = 0;
        for i in 0..n {
            let f = kernel_fragments(&k, 1, 3000, 0x1234_5678 + i * 0x9e37_79b9)
                .pop()
                .unwrap();
            total += f.types().len();
            d.add(&mut f.clone());
        }
        // Then functions, the way an encoder adds them at the end.
        let t = std::time::Instant::now();
        let end = d.store.end();
        let mut x = 7u64;
        for i in 0..60_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let name = d.add_str(format!("f{}", i % 50_000).as_bytes());
            let params = (0..(x >> 60) % 4)
                .map(|j| Param {
                    name: 0,
                    ty: 1 + ((x >> (8 * j)) % 64) as u32 % (end - 1),
                })
                .collect();
            let proto = d.add_resolved(Type {
                name: 0,
                kind: Kind::FuncProto(FuncProto { ret: 0, params }),
            });
            d.add_resolved(Type {
                name,
                kind: Kind::Func { proto, linkage: 0 },
            });
        }
        let t_funcs = t.elapsed();
        let t = std::time::Instant::now();
        let out = d.finish();
        eprintln!(
            "{n} fragments, {total} types -> {} types; 120k add_resolved {t_funcs:?}, finish {:?}; peak rss {} MB (kernel BTF loaded: {rss0} MB)",
            out.types().len(),
            t.elapsed(),
            peak_rss_mb()
        );
    }

    #[test]
    #[ignore]
    fn kernel_fragments_bench() {
        let n = std::env::var("DEDUP_FRAGS").map_or(2000, |v| v.parse().unwrap());
        let k = Btf::from_file(VMLINUX).unwrap();
        let t = std::time::Instant::now();
        let frags = kernel_fragments(&k, n, 3000, 0x1234_5678);
        let total: usize = frags.iter().map(|f| f.types().len()).sum();
        eprintln!(
            "{n} fragments, {total} types, made in {:?}, rss {} MB",
            t.elapsed(),
            peak_rss_mb()
        );
        let repeat = std::env::var("DEDUP_REPEAT").map_or(1, |v| v.parse().unwrap());
        for _ in 1..repeat {
            let t = std::time::Instant::now();
            let mut d = Dedup::new();
            for f in &frags {
                d.add(&mut f.clone());
            }
            let n = d.finish().types().len();
            eprintln!("run: {:?}, {n} types", t.elapsed());
        }
        let t = std::time::Instant::now();
        let mut d = Dedup::new();
        for f in &frags {
            d.add(&mut f.clone());
        }
        let t_add = t.elapsed();
        eprintln!("output before finish: {} types", d.store.types.len());
        let out = d.finish();
        eprintln!(
            "incremental: add {:?}, total {:?}, {} types, rss {} MB",
            t_add,
            t.elapsed(),
            out.types().len(),
            peak_rss_mb()
        );
        eprintln!("kernel: {:?}", kind_counts(&k));
        eprintln!("output: {:?}", kind_counts(&out));
        roundtrip(&out);
        // With declarations and definitions mixed in one CU, libbpf's result is no
        // fixpoint of libbpf either.
        if std::env::var_os("DEDUP_MIXED").is_none() {
            assert_eq!(dump(&dedup(&out)), dump(&out));
        }
        if std::env::var_os("DEDUP_LIBBPF").is_some() {
            let all = concat(&frags);
            let t = std::time::Instant::now();
            let one = dedup(&all);
            eprintln!(
                "one-shot over the concatenation: {:?}, {} types",
                t.elapsed(),
                one.types().len()
            );
            let t = std::time::Instant::now();
            let theirs = libbpf_dedup(&all).unwrap();
            eprintln!(
                "libbpf: {:?}, {} types; incremental identical: {}; one-shot identical: {}",
                t.elapsed(),
                theirs.types().len(),
                dump(&out) == dump(&theirs),
                dump(&one) == dump(&theirs)
            );
            assert_eq!(dump(&one), dump(&theirs));
        }
    }

    /// Runs a libbpf oracle program (`DEDUP_LIBBPF=path`; usage `prog in out [base]`,
    /// calling `btf__dedup` on raw BTF) on `input`.
    fn libbpf_dedup(input: &Btf) -> Option<Btf> {
        let prog = std::env::var("DEDUP_LIBBPF").ok()?;
        let dir = tempfile::tempdir().unwrap();
        let (i, o, b) = (
            dir.path().join("in"),
            dir.path().join("out"),
            dir.path().join("base"),
        );
        std::fs::write(&i, input.to_bytes()).unwrap();
        let mut cmd = std::process::Command::new(prog);
        cmd.arg(&i).arg(&o);
        if let Some(base) = input.base() {
            std::fs::write(&b, base.to_bytes()).unwrap();
            cmd.arg(&b);
        }
        let st = cmd.stdout(std::process::Stdio::null()).status().unwrap();
        assert!(st.success());
        let bytes = std::fs::read(&o).unwrap();
        Some(match input.base() {
            Some(base) => Btf::from_split_bytes(&bytes, base.clone()).unwrap(),
            None => Btf::from_bytes(&bytes).unwrap(),
        })
    }

    /// Split dedup (module-like) against libbpf: the base is the dedup of half the
    /// fragments, the split part the other half.
    #[test]
    #[ignore]
    fn kernel_split_vs_libbpf() {
        let n = std::env::var("DEDUP_FRAGS").map_or(200, |v| v.parse().unwrap());
        let k = Btf::from_file(VMLINUX).unwrap();
        let frags = kernel_fragments(&k, n, 3000, 0x9e37_79b9);
        let base = Arc::new(dedup(&concat(&frags[..n / 2])));
        let mut raw = Btf::new_split(base.clone());
        for f in &frags[n / 2..] {
            let off = raw.type_count() - 1;
            for t in f.types() {
                let mut t = t.clone();
                t.kind.for_each_ref_mut(|r| {
                    if *r != 0 {
                        *r += off
                    }
                });
                for_each_name_mut(&mut t, |x| {
                    *x = raw.add_bytes(f.name_bytes(*x).unwrap_or_default())
                });
                raw.add(t);
            }
        }
        let t = std::time::Instant::now();
        let mut d = Dedup::new_split(base.clone());
        for f in &frags[n / 2..] {
            d.add(&mut f.clone());
        }
        let inc = d.finish();
        eprintln!(
            "split incremental: {:?}, {} types",
            t.elapsed(),
            inc.types().len()
        );
        let one = dedup(&raw);
        eprintln!("split one-shot: {} types", one.types().len());
        let back = Btf::from_split_bytes(&inc.to_bytes(), base.clone()).unwrap();
        assert_eq!(dump(&back), dump(&inc));
        if let Some(theirs) = libbpf_dedup(&raw) {
            eprintln!(
                "libbpf: {} types; incremental identical: {}; one-shot identical: {}",
                theirs.types().len(),
                dump(&inc) == dump(&theirs),
                dump(&one) == dump(&theirs)
            );
            assert_eq!(dump(&one), dump(&theirs));
        }
    }
}
