//! How one blob is stored.
//!
//! Minimized BTFs of related kernels are the same type graph with a few member offsets
//! or sizes changed, so most blobs are stored as a [`Codec::Patch`] of an earlier blob:
//! the 32-bit words that differ, as small signed deltas (a few bytes per blob). In a
//! version 5 or 6 bundle, whose manifest and blobs are one LZMA2 stream, other blobs are the
//! BTF or its columns (`columns.rs`) as they are. In versions 3 and 4, where every blob
//! is stored on its own, they are zstd frames of the BTF or of its columns, plain or with
//! an earlier blob as raw-content dictionary. Frames carry no checksum, dictionary id or
//! content size: the manifest has the length of every blob and the header or manifest a
//! check of its bytes.

use std::io::Read;

use super::wire::{unzigzag, zigzag, Reader, Writer};
use super::BundleError;

/// How a blob's stored bytes decode (`FORMAT.md` specifies each). `base` is always the
/// index of an earlier blob: chains only point backwards and are at most [`MAX_CHAIN`]
/// long. Version 6 bundles use [`Codec::Plain`], [`Codec::PlainColumns2`] and
/// [`Codec::Patch`], version 5 [`Codec::Plain`], [`Codec::PlainColumns`] and
/// [`Codec::Patch`]; versions 3 and 4 the others and [`Codec::Patch`].
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
    /// The BTF as it is (versions 5 and 6: inside the bundle's one LZMA2 stream).
    Plain,
    /// The BTF re-encoded as columns, not compressed on its own (version 5: inside the
    /// bundle's one LZMA2 stream).
    PlainColumns,
    /// The BTF re-encoded as columns in their second layout (names and type references
    /// coded by first use and recency), not compressed on its own (version 6: inside
    /// the bundle's one LZMA2 stream).
    PlainColumns2,
}

impl Codec {
    /// The earlier blob this one decodes against.
    pub fn base(&self) -> Option<u32> {
        match *self {
            Codec::Zstd
            | Codec::Columns
            | Codec::Plain
            | Codec::PlainColumns
            | Codec::PlainColumns2 => None,
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
            Codec::Plain => 5,
            Codec::PlainColumns => 6,
            Codec::PlainColumns2 => 7,
        }
    }

    /// The codec of manifest tag `tag` of blob `index` in a bundle of format `version`,
    /// reading the base when it has one (version 6: as the distance back from the blob
    /// before, else its index). Versions 3 and 4 have patches and zstd frames, 5 and 6
    /// patches and blobs stored as they are (6 with the second columns layout).
    pub(crate) fn read(
        tag: u8,
        r: &mut Reader<'_>,
        index: usize,
        version: u16,
    ) -> Result<Self, BundleError> {
        let base = |r: &mut Reader<'_>| {
            let what = format!("blob {index}: base");
            r.index(&what, index).map(|b| match version {
                6.. => (index - 1 - b) as u32,
                _ => b as u32,
            })
        };
        let solid = version >= 5;
        match (tag, solid) {
            (0, false) => Ok(Codec::Zstd),
            (1, false) => Ok(Codec::ZstdDict { base: base(r)? }),
            (2, _) => Ok(Codec::Patch { base: base(r)? }),
            (3, false) => Ok(Codec::Columns),
            (4, false) => Ok(Codec::ColumnsDict { base: base(r)? }),
            (5, true) => Ok(Codec::Plain),
            (6, true) if version == 5 => Ok(Codec::PlainColumns),
            (7, true) if version >= 6 => Ok(Codec::PlainColumns2),
            (t, _) => Err(BundleError::Manifest(format!(
                "blob {index}: codec {t} is not one of this format version's"
            ))),
        }
    }

    /// Writes the tag and the base of blob `index` in a bundle of format `version`.
    pub(crate) fn write(&self, w: &mut Writer, index: usize, version: u16) {
        w.bytes(&[self.tag()]);
        if let Some(b) = self.base() {
            w.uint(match version {
                6.. => (index - 1 - b as usize) as u64,
                _ => b as u64,
            });
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
            Codec::Plain => "plain",
            Codec::PlainColumns => "plain columns",
            Codec::PlainColumns2 => "plain columns 2",
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

/// Dictionary sizes of a version 5 or 6 frame's LZMA2 stream: its decompressed length rounded
/// up to a power of two, within these bounds.
const LZMA_DICT: (u64, u64) = (4 << 10, 8 << 20);

/// The filter of a version 5 or 6 frame of `raw_len` decompressed bytes: LZMA2 at preset
/// `9e` with lc 1, lp 0, pb 0 (BTF and the manifest are byte-oriented with little
/// 4-byte alignment to model; measured smaller than the defaults lc 3, pb 2) and a
/// dictionary of `raw_len` rounded up to a power of two within [`LZMA_DICT`].
fn lzma2_filters(raw_len: u64) -> std::io::Result<liblzma::stream::Filters> {
    use liblzma::stream::{Filters, LzmaOptions, PRESET_EXTREME};
    let dict = raw_len
        .clamp(LZMA_DICT.0, LZMA_DICT.1)
        .next_power_of_two()
        .min(LZMA_DICT.1) as u32;
    let mut o = LzmaOptions::new_preset(9 | PRESET_EXTREME)?;
    o.dict_size(dict)
        .literal_context_bits(1)
        .literal_position_bits(0)
        .position_bits(0);
    let mut f = Filters::new();
    f.lzma2(&o);
    Ok(f)
}

/// One raw LZMA2 stream of `raw` (a version 5 or 6 frame).
pub(crate) fn lzma_compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let s = liblzma::stream::Stream::new_raw_encoder(&lzma2_filters(raw.len() as u64)?)?;
    let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), s);
    e.write_all(raw)?;
    e.finish()
}

/// Decompresses one raw LZMA2 stream of `raw_len` bytes into at most `raw_len + 1`
/// bytes, grown as output is produced; the stream must end exactly at the end of
/// `stored`.
pub(crate) fn lzma_decompress(stored: &[u8], raw_len: u64) -> std::io::Result<Vec<u8>> {
    let s = liblzma::stream::Stream::new_raw_decoder(&lzma2_filters(raw_len)?)?;
    let mut d = liblzma::read::XzDecoder::new_stream(stored, s);
    let mut out = Vec::with_capacity(stored.len().saturating_mul(4).min(raw_len as usize));
    (&mut d).take(raw_len + 1).read_to_end(&mut out)?;
    if out.len() as u64 <= raw_len && d.total_in() != stored.len() as u64 {
        return Err(std::io::Error::other(format!(
            "{} bytes after the end of the LZMA2 stream",
            stored.len() as u64 - d.total_in()
        )));
    }
    Ok(out)
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
    fn lzma_frames_round_trip_and_damage_is_an_error() {
        let raw: Vec<u8> = (0..5000u32).map(|i| (i * i % 251) as u8).collect();
        let c = lzma_compress(&raw).unwrap();
        assert_eq!(lzma_decompress(&c, raw.len() as u64).unwrap(), raw);
        // Cut short, or with a byte after the end marker: errors.
        assert!(lzma_decompress(&c[..c.len() - 1], raw.len() as u64).is_err());
        let mut long = c.clone();
        long.push(0);
        assert!(lzma_decompress(&long, raw.len() as u64).is_err());
        // A longer stream than announced stops one byte past the announced length.
        assert_eq!(lzma_decompress(&c, 4999).unwrap().len(), 5000);
    }

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
