//! Hashing: a small Fx-style hasher, the dedup-table key of a type ([`kind_hash`]) and
//! the key of a string ([`str_hash`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::btf::types::*;

/// A small Fx-style hasher (the rustc one): fast, good enough for our keys.
#[derive(Default, Clone, Copy)]
pub(super) struct Fx(u64);

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
/// A `HashMap` hashed with [`Fx`].
pub(super) type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// The dedup-table key of a type: what libbpf's `btf_hash_*` function for its kind
/// covers. Struct/union hashes skip member types, typedef hashes skip the target,
/// enum hashes are the name only (so enum forward declarations meet full enums);
/// every other kind hashes everything (its referenced ids are canonical by then).
pub(super) fn kind_hash(t: &Type) -> u64 {
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

/// The hash of a string's bytes (without its NUL), as the interner's index keys it.
pub(super) fn str_hash(s: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(s);
    h.write_usize(s.len());
    h.finish()
}
