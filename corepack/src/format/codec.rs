//! How one blob is stored.
//!
//! Minimized BTFs of related kernels are the same type graph with a few member offsets
//! or sizes changed, so most blobs are stored as a [`Codec::Patch`] of an earlier blob:
//! the 32-bit words that differ, as small signed deltas (a few bytes per blob). Blobs
//! with a different shape are zstd frames of the BTF or of its columns (`columns.rs`),
//! plain or with an earlier blob as raw-content dictionary. Frames carry no checksum,
//! dictionary id or content size: the manifest has the length and a check of every
//! blob.

use std::io::Read;

use super::wire::{unzigzag, zigzag, Reader, Writer};
use super::BundleError;

/// How a blob's stored bytes decode (`FORMAT.md` specifies each). `base` is always the
/// index of an earlier blob: chains only point backwards and are at most [`MAX_CHAIN`]
/// long.
///
/// [`MAX_CHAIN`]: crate::MAX_CHAIN
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// One zstd frame.
    Zstd,
    /// One zstd frame whose raw-content dictionary is blob `base`, decoded.
    ZstdDict {
        /// The index of the dictionary blob.
        base: u32,
    },
    /// Blob `base`, decoded, with some of its little-endian 32-bit words changed (runs of
    /// unchanged and changed words, the changes as zigzag deltas); the same length as
    /// `base`.
    Patch {
        /// The index of the blob patched.
        base: u32,
    },
    /// One zstd frame of the BTF re-encoded as columns (type records split into streams
    /// of like fields).
    Columns,
    /// One zstd frame of the BTF re-encoded as columns, whose raw-content dictionary is
    /// blob `base`, decoded and re-encoded as columns.
    ColumnsDict {
        /// The index of the blob whose columns are the dictionary.
        base: u32,
    },
}

impl Codec {
    /// The earlier blob this one decodes against.
    pub fn base(&self) -> Option<u32> {
        match *self {
            Codec::Zstd | Codec::Columns => None,
            Codec::ZstdDict { base } | Codec::Patch { base } | Codec::ColumnsDict { base } => {
                Some(base)
            }
        }
    }

    /// Its manifest tag.
    pub(crate) fn tag(&self) -> u8 {
        match self {
            Codec::Zstd => 0,
            Codec::ZstdDict { .. } => 1,
            Codec::Patch { .. } => 2,
            Codec::Columns => 3,
            Codec::ColumnsDict { .. } => 4,
        }
    }

    /// The codec of manifest tag `tag`, reading the base index when it has one.
    pub(crate) fn read(tag: u8, r: &mut Reader<'_>, index: usize) -> Result<Self, BundleError> {
        let base = |r: &mut Reader<'_>| {
            r.index(&format!("blob {index}: base"), index)
                .map(|b| b as u32)
        };
        match tag {
            0 => Ok(Codec::Zstd),
            1 => Ok(Codec::ZstdDict { base: base(r)? }),
            2 => Ok(Codec::Patch { base: base(r)? }),
            3 => Ok(Codec::Columns),
            4 => Ok(Codec::ColumnsDict { base: base(r)? }),
            t => Err(BundleError::Manifest(format!(
                "blob {index}: unknown codec {t}"
            ))),
        }
    }

    /// Writes the tag and the base index.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.bytes(&[self.tag()]);
        if let Some(b) = self.base() {
            w.uint(b as u64);
        }
    }

    /// A short name for listings.
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Zstd => "zstd",
            Codec::ZstdDict { .. } => "zstd+dict",
            Codec::Patch { .. } => "patch",
            Codec::Columns => "columns",
            Codec::ColumnsDict { .. } => "columns+dict",
        }
    }
}

/// One zstd frame of `raw`, against `dict` when given.
pub(crate) fn zstd_compress(
    raw: &[u8],
    dict: Option<&[u8]>,
    level: i32,
) -> std::io::Result<Vec<u8>> {
    let mut c = match dict {
        None => zstd::bulk::Compressor::new(level)?,
        Some(d) => zstd::bulk::Compressor::with_dictionary(level, d)?,
    };
    c.include_checksum(false)?;
    c.include_contentsize(false)?;
    c.include_dictid(false)?;
    c.compress(raw)
}

/// Decompresses one zstd frame into at most `raw_len + 1` bytes. The output grows with
/// what the frame really produces, so a false `raw_len` allocates nothing up front.
pub(crate) fn zstd_decompress(
    stored: &[u8],
    dict: Option<&[u8]>,
    raw_len: u64,
) -> std::io::Result<Vec<u8>> {
    let decoder = match dict {
        None => zstd::stream::read::Decoder::with_buffer(stored)?,
        Some(d) => zstd::stream::read::Decoder::with_dictionary(stored, d)?,
    };
    let mut out = Vec::with_capacity(stored.len().saturating_mul(4).min(raw_len as usize));
    decoder
        .single_frame()
        .take(raw_len + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// The patch encoding: runs of `skip` (unchanged words), `count` (changed words, at least
/// one) and `count` deltas, each the new word minus the old as a zigzag-coded LEB128 of
/// a wrapping 32-bit difference. Words are the blob's bytes in little-endian 4-byte
/// groups, the last one zero-padded.
pub(crate) mod patch {
    use super::{unzigzag, zigzag, Reader, Writer};

    fn word(b: &[u8], i: usize) -> u32 {
        let mut w = [0u8; 4];
        let s = &b[(4 * i).min(b.len())..(4 * i + 4).min(b.len())];
        w[..s.len()].copy_from_slice(s);
        u32::from_le_bytes(w)
    }

    fn set_word(b: &mut [u8], i: usize, v: u32) {
        let end = (4 * i + 4).min(b.len());
        let n = end - 4 * i;
        b[4 * i..end].copy_from_slice(&v.to_le_bytes()[..n]);
    }

    fn words(b: &[u8]) -> usize {
        b.len().div_ceil(4)
    }

    /// The patch turning `base` into `raw`, when both have the same length.
    pub(crate) fn encode(base: &[u8], raw: &[u8]) -> Option<Vec<u8>> {
        if base.len() != raw.len() {
            return None;
        }
        let n = words(raw);
        let mut w = Writer::default();
        let mut i = 0;
        let mut last = 0;
        while i < n {
            if word(base, i) == word(raw, i) {
                i += 1;
                continue;
            }
            // A run: changed words, bridging single unchanged ones (a zero delta is one
            // byte, a new run at least two).
            let start = i;
            let mut end = i + 1;
            while end < n {
                if word(base, end) != word(raw, end) {
                    end += 1;
                } else if end + 1 < n && word(base, end + 1) != word(raw, end + 1) {
                    end += 2;
                } else {
                    break;
                }
            }
            w.uint((start - last) as u64);
            w.uint((end - start) as u64);
            for k in start..end {
                w.uint(zigzag(word(raw, k).wrapping_sub(word(base, k)) as i32));
            }
            last = end;
            i = end;
        }
        Some(w.0)
    }

    /// Applies `patch` to `base`.
    pub(crate) fn apply(base: &[u8], patch: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = base.to_vec();
        let n = words(&out);
        let mut r = Reader::new(patch);
        let mut pos = 0usize;
        while !r.is_empty() {
            let skip = r.uint("patch skip").map_err(|e| e.to_string())?;
            let count = r.uint("patch count").map_err(|e| e.to_string())?;
            let start = usize::try_from(skip)
                .ok()
                .and_then(|s| pos.checked_add(s))
                .filter(|&s| s <= n);
            let end =
                start.and_then(|s| usize::try_from(count).ok().and_then(|c| s.checked_add(c)));
            let (Some(start), Some(end)) = (start, end) else {
                return Err("patch run outside the blob".into());
            };
            if count == 0 || end > n {
                return Err("patch run outside the blob".into());
            }
            for k in start..end {
                let z = r.uint("patch delta").map_err(|e| e.to_string())?;
                let d = unzigzag(z).ok_or("patch delta over 32 bits")?;
                let w = word(&out, k).wrapping_add(d as u32);
                set_word(&mut out, k, w);
            }
            pos = end;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_round_trip() {
        let base: Vec<u8> = (0..203u32).map(|i| (i * 7) as u8).collect();
        for changes in [
            vec![],
            vec![0],
            vec![5, 6, 8, 40],
            vec![200, 202],
            vec![1, 50, 51, 52, 53, 150],
        ] {
            let mut raw = base.clone();
            for &c in &changes {
                raw[c] = raw[c].wrapping_add(64);
            }
            let p = patch::encode(&base, &raw).unwrap();
            assert_eq!(patch::apply(&base, &p).unwrap(), raw, "{changes:?}");
            // A run header, then at most a five-byte delta per changed word.
            assert!(
                p.len() <= 7 * changes.len(),
                "{changes:?}: {} bytes",
                p.len()
            );
        }
        assert!(patch::encode(&base, &base[1..]).is_none());
    }

    #[test]
    fn bad_patches_are_errors() {
        let base = vec![0u8; 16];
        for p in [
            &[0u8, 0][..],
            &[4, 1, 2],
            &[3, 2, 2, 2],
            &[0, 1],
            &[0, 1, 0x80],
            &[0xff; 12],
        ] {
            assert!(patch::apply(&base, p).is_err(), "{p:x?}");
        }
    }
}
