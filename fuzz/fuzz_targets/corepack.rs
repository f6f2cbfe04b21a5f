//! The `.corepack` reader through its public API: open, every blob, verify.
//!
//! Each input is read twice: as it is, and with the header's manifest checksum made
//! to match (the header layout of FORMAT.md: manifest length at bytes 16..20, its
//! SHA-256 at 32..64), so that mutations reach the manifest and blob readers behind
//! the checksum.
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

/// `data` with its manifest checksum recomputed, when it has a whole manifest.
fn fix_checksum(data: &[u8]) -> Option<Vec<u8>> {
    let len = u32::from_le_bytes(data.get(16..20)?.try_into().ok()?) as usize;
    let manifest = data.get(64..64usize.checked_add(len)?)?;
    let mut fixed = data.to_vec();
    fixed[32..64].copy_from_slice(&Sha256::digest(manifest));
    Some(fixed)
}

fuzz_target!(|data: &[u8]| {
    read(data);
    if let Some(fixed) = fix_checksum(data) {
        read(&fixed);
    }
});
