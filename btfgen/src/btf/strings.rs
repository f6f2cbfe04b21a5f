//! The BTF string table: NUL-terminated names, offset 0 is the empty string.

use std::collections::HashMap;

/// A string table that hands out stable offsets and stores each distinct string once.
#[derive(Clone, Debug)]
pub struct Strings {
    /// Offset of this table's first byte in the combined (base + split) string space.
    start: u32,
    data: Vec<u8>,
    index: HashMap<Box<[u8]>, u32>,
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
        let mut s = Strings {
            start,
            data: Vec::new(),
            index: HashMap::new(),
        };
        if start == 0 {
            s.data.push(0);
            s.index.insert(Box::from(&b""[..]), 0);
        }
        s
    }

    /// Wraps an existing string section (as read from a file) without re-indexing it;
    /// [`Strings::add`] indexes lazily on first use.
    pub(crate) fn from_raw(start: u32, data: Vec<u8>) -> Self {
        Strings {
            start,
            data,
            index: HashMap::new(),
        }
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

    /// Adds `s` (which must not contain NUL) and returns its offset; an existing copy is reused.
    pub fn add(&mut self, s: &[u8]) -> u32 {
        if self.index.is_empty() && !self.data.is_empty() {
            self.reindex();
        }
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.start + self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.index.insert(Box::from(s), off);
        off
    }

    /// Adds a UTF-8 string; see [`Strings::add`].
    pub fn add_str(&mut self, s: &str) -> u32 {
        self.add(s.as_bytes())
    }

    fn reindex(&mut self) {
        let mut pos = 0;
        while pos < self.data.len() {
            let end = self.data[pos..]
                .iter()
                .position(|&b| b == 0)
                .map_or(self.data.len(), |e| pos + e);
            let off = self.start + pos as u32;
            self.index
                .entry(Box::from(&self.data[pos..end]))
                .or_insert(off);
            pos = end + 1;
        }
    }
}
