//! The `.corepack` reader through its public API: open, every blob, verify.
//!
//! Each input is read three ways: as it is; with the header's manifest check made to
//! match (FORMAT.md: manifest length at bytes 12..16, its check at 20..28), so that
//! mutations reach the manifest and blob readers behind the check; and as a 2-byte
//! length, an uncompressed manifest and the blobs, wrapped into a bundle here (as the
//! versions whose manifest is a zstd frame: 3, and 4 with build-ids) and as a decompressed
//! stream of the manifest and the blobs, wrapped into a bundle of versions 5 and 6 (one
//! raw LZMA2 stream), so that mutations of the manifest's fields and the blob codecs are
//! not lost in the compression.
#![no_main]

use corepack::Bundle;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn read(data: &[u8]) {
    let Ok(bundle) = Bundle::open(data) else {
        return;
    };
    for i in 0..bundle.blobs().len() {
        let _ = bundle.blob(i);
    }
    let _ = bundle.verify();
}

fn check(manifest: &[u8]) -> [u8; 8] {
    Sha256::digest(manifest)[..8].try_into().unwrap()
}

/// `data` with its manifest check recomputed, when it has a whole manifest.
fn fix_check(data: &[u8]) -> Option<Vec<u8>> {
    let len = u32::from_le_bytes(data.get(12..16)?.try_into().ok()?) as usize;
    let manifest = data.get(28..28usize.checked_add(len)?)?;
    let mut fixed = data.to_vec();
    fixed[20..28].copy_from_slice(&check(manifest));
    Some(fixed)
}

/// A bundle of format `version` around the uncompressed manifest and blobs `data` holds.
fn wrap(data: &[u8], version: u16) -> Option<Vec<u8>> {
    let len = u16::from_le_bytes(data.get(..2)?.try_into().ok()?) as usize;
    let raw = data.get(2..2 + len)?;
    let blobs = &data[2 + len..];
    let manifest = zstd::bulk::compress(raw, 1).ok()?;
    let mut b = corepack::MAGIC.to_vec();
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    b.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    b.extend_from_slice(&check(&manifest));
    b.extend_from_slice(&manifest);
    b.extend_from_slice(blobs);
    Some(b)
}

/// A bundle of format `version` (5 or 6) whose one LZMA2 stream holds `data` (the
/// manifest and the blobs): lc 1, lp 0, pb 0 as FORMAT.md says, at a fast preset with the
/// smallest dictionary a reader uses.
fn wrap_stream(data: &[u8], version: u16) -> Option<Vec<u8>> {
    use liblzma::stream::{Filters, LzmaOptions, Stream};
    let mut o = LzmaOptions::new_preset(1).ok()?;
    o.dict_size(4 << 10)
        .literal_context_bits(1)
        .literal_position_bits(0)
        .position_bits(0);
    let mut f = Filters::new();
    f.lzma2(&o);
    let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), Stream::new_raw_encoder(&f).ok()?);
    std::io::Write::write_all(&mut e, data).ok()?;
    let stream = e.finish().ok()?;
    let mut b = corepack::MAGIC.to_vec();
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(stream.len() as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&check(&stream));
    b.extend_from_slice(&stream);
    Some(b)
}

fuzz_target!(|data: &[u8]| {
    read(data);
    if let Some(fixed) = fix_check(data) {
        read(&fixed);
    }
    for version in corepack::OLDEST_FORMAT_VERSION..=4 {
        if let Some(wrapped) = wrap(data, version) {
            read(&wrapped);
        }
    }
    for version in 5..=corepack::FORMAT_VERSION {
        if let Some(wrapped) = wrap_stream(data, version) {
            read(&wrapped);
        }
    }
});
