//! The BTF string table: NUL-terminated names, offset 0 is the empty string.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A string table that hands out stable offsets and stores each distinct string once.
///
/// The index holds only offsets; lookups hash the bytes and compare them in place, so
/// adding a string allocates nothing beyond the table's own growth.
#[derive(Clone, Debug)]
pub struct Strings {
    /// Offset of this table's first byte in the combined (base + split) string space.
    start: u32,
    data: Vec<u8>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// The index covers `data[..indexed]`; tables read from files are indexed lazily.
    indexed: usize,
}

impl Default for Strings {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Strings {
    /// An empty table whose offsets begin at `start` (0 for base BTF, the base table's
    /// length for split BTF). A base table starts with the empty string at offset 0.
    pub fn new(start: u32) -> Self {
        Strings::from_raw(start, if start == 0 { vec![0] } else { Vec::new() })
    }

    /// Wraps an existing string section (as read from a file); it is indexed on the
    /// first [`Strings::add`].
    pub(crate) fn from_raw(start: u32, data: Vec<u8>) -> Self {
        Strings {
            start,
            data,
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            indexed: 0,
        }
    }

    /// Makes room for `count` more strings (to be added; 0 for pushed ones) of `bytes`
    /// bytes in all.
    pub fn reserve(&mut self, count: usize, bytes: usize) {
        self.data.reserve(bytes);
        if count == 0 {
            return;
        }
        if self.indexed < self.data.len() {
            self.reindex();
        }
        let (hasher, data) = (&self.hasher, &self.data);
        self.index
            .reserve(count, |&r| hasher.hash_one(Self::at(data, r)));
    }

    /// Offset of the first byte of this table.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// The raw section bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the table holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The string at `off` (an offset in this table's range), without its NUL.
    pub fn get(&self, off: u32) -> Option<&[u8]> {
        let rel = off.checked_sub(self.start)? as usize;
        let tail = self.data.get(rel..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(&tail[..end])
    }

    fn at(data: &[u8], rel: u32) -> &[u8] {
        let tail = &data[rel as usize..];
        &tail[..tail.iter().position(|&b| b == 0).unwrap_or(tail.len())]
    }

    /// Adds `s` (which must not contain NUL) and returns its offset; an existing copy is reused.
    pub fn add(&mut self, s: &[u8]) -> u32 {
        if self.indexed < self.data.len() {
            self.reindex();
        }
        let hash = self.hasher.hash_one(s);
        let data = &self.data;
        if let Some(&rel) = self.index.find(hash, |&rel| Self::at(data, rel) == s) {
            return self.start + rel;
        }
        let rel = self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.indexed = self.data.len();
        let (hasher, data) = (&self.hasher, &self.data);
        self.index
            .insert_unique(hash, rel, |&r| hasher.hash_one(Self::at(data, r)));
        self.start + rel
    }

    /// Appends `s` (which must not contain NUL) without looking for an existing copy
    /// and returns its offset: for builders whose tables are deduplicated later, where
    /// hashing every string twice would be wasted. A later [`Strings::add`] indexes
    /// the pushed strings first.
    pub fn push(&mut self, s: &[u8]) -> u32 {
        let rel = self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.start + rel
    }

    /// Adds a UTF-8 string; see [`Strings::add`].
    pub fn add_str(&mut self, s: &str) -> u32 {
        self.add(s.as_bytes())
    }

    fn reindex(&mut self) {
        for (pos, s) in entries(&self.data, self.indexed) {
            let hash = self.hasher.hash_one(s);
            let data = &self.data;
            if self.index.find(hash, |&r| Self::at(data, r) == s).is_none() {
                let hasher = &self.hasher;
                self.index
                    .insert_unique(hash, pos as u32, |&r| hasher.hash_one(Self::at(data, r)));
            }
        }
        self.indexed = self.data.len();
    }

    /// The table's strings with their offsets (base offsets included), the empty
    /// string at the table's start among them.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        entries(&self.data, 0).map(|(pos, s)| (self.start + pos as u32, s))
    }
}

/// The NUL-terminated strings of the raw table `raw` from byte `pos` on, each with its
/// offset in `raw` (a last one without its NUL included).
fn entries(raw: &[u8], pos: usize) -> Entries<'_> {
    Entries { raw, pos }
}

/// The iterator of [`entries`].
struct Entries<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.pos;
        let rest = self.raw.get(pos..).filter(|r| !r.is_empty())?;
        let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        self.pos = pos + len + 1;
        Some((pos, &rest[..len]))
    }
}

#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;
