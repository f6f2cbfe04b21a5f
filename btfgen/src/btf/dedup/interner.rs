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
                for (off, bytes) in l.strings().entries().filter(|(_, s)| !s.is_empty()) {
                    let h = str_hash(bytes);
                    if me.find(bytes, h).is_none() {
                        me.insert(h, off);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::test_util::Builder;

    #[test]
    fn equal_strings_share_one_offset() {
        let mut i = Interner::new(None);
        // A base table starts with the empty string at 0: "\0foo\0bar\0".
        let foo = i.intern(b"foo");
        let bar = i.intern(b"bar");
        assert_eq!((foo, bar), (1, 5));
        assert_eq!(i.intern(b"foo"), foo);
        assert_eq!(
            i.intern(b"foo\0ignored"),
            foo,
            "bytes after a NUL are not part of it"
        );
        assert_eq!(i.intern(b""), 0);
        assert_eq!(i.intern(b"\0x"), 0);
        assert_eq!(i.data, b"\0foo\0bar\0");
        assert_eq!(i.bytes(bar), Some(&b"bar"[..]));
        assert_eq!(i.bytes(0), Some(&b""[..]));
        assert_eq!(i.bytes(100), None);
    }

    #[test]
    fn base_strings_keep_their_offsets() {
        // Two levels: a base and a split BTF on it, each with its own strings.
        let mut b = Builder::new();
        b.int("int", 4);
        b.int("long", 8);
        let base = Arc::new(b.build());
        let mut s = Builder::split(base.clone());
        s.int("char", 1);
        let split = Arc::new(s.build());
        let int_off = base.get(1).unwrap().name;
        let char_off = split.get(3).unwrap().name;
        assert!(char_off >= base.strings_end());

        let mut i = Interner::new(Some(split.clone()));
        assert_eq!(i.start, split.strings_end());
        assert_eq!(i.intern(b"int"), int_off);
        assert_eq!(i.intern(b"char"), char_off);
        assert!(i.data.is_empty(), "nothing new was added");
        let new = i.intern(b"short");
        assert_eq!(new, split.strings_end());
        assert_eq!(i.bytes(int_off), Some(&b"int"[..]));
        assert_eq!(i.bytes(new), Some(&b"short"[..]));
    }

    #[test]
    fn index_grows_and_stays_at_most_half_full() {
        let mut i = Interner::new(None);
        assert_eq!(i.slots.len(), 4096);
        // 3,000 more strings need 6,000 slots: the next power of two is 8,192.
        i.reserve(3000);
        assert_eq!(i.slots.len(), 8192);
        i.reserve(10);
        assert_eq!(i.slots.len(), 8192, "room already reserved");
        let offs: Vec<StrOff> = (0..10_000)
            .map(|n| i.intern(format!("s{n}").as_bytes()))
            .collect();
        assert_eq!(i.len, 10_000);
        assert!(i.slots.len().is_power_of_two() && i.slots.len() >= 2 * i.len);
        // Every string is still found at its first offset after the growths.
        for (n, &off) in offs.iter().enumerate() {
            assert_eq!(i.intern(format!("s{n}").as_bytes()), off);
        }
        assert_eq!(i.len, 10_000);
    }
}
