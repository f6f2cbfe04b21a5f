//! The output string table, deduplicated as strings are added.

use std::sync::Arc;

use super::hash::{str_hash, FxMap};
use super::NONE;
use crate::btf::types::*;
use crate::btf::Btf;

/// The output string space: base offsets below `start`, own strings after.
///
/// The index is an open-addressing table of (content hash, offset): much faster here
/// than a map of boxed strings, whose lookups miss the cache twice.
pub(super) struct Interner {
    base: Option<Arc<Btf>>,
    /// First own offset (0 for base output, whose table starts with the empty string).
    pub(super) start: u32,
    /// Own strings, NUL-terminated, from offset `start`.
    pub(super) data: Vec<u8>,
    /// (hash, offset); offset `NONE` = empty slot. Power-of-two length, ≤ 1/2 full.
    slots: Vec<(u64, u32)>,
    /// Number of strings in `slots`.
    len: usize,
    /// Caller keys of strings already interned (see [`Dedup::add_keyed`](super::Dedup::add_keyed)).
    pub(super) keyed: FxMap<u64, StrOff>,
}

impl Interner {
    /// An empty string space after `base`'s strings (all levels), which it finds.
    pub(super) fn new(base: Option<Arc<Btf>>) -> Self {
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
    /// The first slot probed for hash `h`.
    fn home(&self, h: u64) -> usize {
        h as usize & (self.slots.len() - 1)
    }

    /// The offset of `s` (hash `h`) if interned or in the base.
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

    /// Indexes the string at `off` (hash `h`).
    fn insert(&mut self, h: u64, off: StrOff) {
        self.reserve(1);
        self.place(h, off);
        self.len += 1;
    }

    /// Grows the index so that `n` more strings keep it at most half full.
    pub(super) fn reserve(&mut self, n: usize) {
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

    /// Puts `(h, off)` in the first free slot from its home (no growth).
    fn place(&mut self, h: u64, off: StrOff) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        while self.slots[i].1 != NONE {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h, off);
    }

    /// The offset of `s` (non-empty, without NUL) with hash `h`, adding it if new.
    pub(super) fn intern_hashed(&mut self, s: &[u8], h: u64) -> StrOff {
        if let Some(off) = self.find(s, h) {
            return off;
        }
        let off = self.start + self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.insert(h, off);
        off
    }

    /// The offset of `s` up to its first NUL (0 for the empty string), adding it if new.
    pub(super) fn intern(&mut self, s: &[u8]) -> StrOff {
        let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
        if s.is_empty() {
            return 0;
        }
        self.intern_hashed(s, str_hash(s))
    }

    /// The string at `off` (without its NUL).
    pub(super) fn bytes(&self, off: StrOff) -> Option<&[u8]> {
        if off < self.start {
            return self.base.as_ref()?.name_bytes(off);
        }
        let tail = self.data.get((off - self.start) as usize..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(&tail[..end])
    }
}
