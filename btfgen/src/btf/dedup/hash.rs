//! Hashing: a small Fx-style hasher, the dedup-table key of a type ([`kind_hash`]) and
//! the key of a string ([`str_hash`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::btf::types::*;

/// A small Fx-style hasher (the rustc one): fast, good enough for our keys.
#[derive(Default, Clone, Copy)]
pub(super) struct Fx(u64);

/// The multiplier of [`Fx`] (rustc's `FxHasher` constant).
const FX_K: u64 = 0xf135_7aea_2e62_a9c5;

impl Fx {
    /// Mixes one word in.
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

/// Builds [`Fx`] hashers.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::test_util::Builder;

    /// Pairs of types built in one BTF (so equal names have equal offsets) and whether
    /// their `kind_hash` must be equal. "Equal" rows follow from what libbpf's
    /// `btf_hash_*` of the kind leaves out; "differ" rows change a hashed field, where a
    /// collision of a decent 64-bit hash has odds of 2^-64.
    #[test]
    fn kind_hash_covers_what_libbpf_hashes() {
        let mut b = Builder::new();
        let int = b.int("int", 4); // 1
        let int2 = b.int("int", 4); // 2
        let long = b.int("long", 8); // 3
        let uint = b.uint("int", 4); // 4: same name and size, unsigned
        let sa = b.strukt("s", 8, &[("a", int, 0)]); // 5
        let sb = b.strukt("s", 8, &[("a", long, 0)]); // 6: member type differs
        let sc = b.strukt("s", 16, &[("a", int, 0)]); // 7: size differs
        let sd = b.strukt("t", 8, &[("a", int, 0)]); // 8: name differs
        let se = b.strukt("s", 8, &[("a", int, 32)]); // 9: offset differs
        let ua = b.union("s", 8, &[("a", int, 0)]); // 10: union of struct sa's shape
        let ta = b.typedef("t", int); // 11
        let tb = b.typedef("t", long); // 12: target differs
        let tc = b.typedef("u", int); // 13
        let ea = b.enm("e", &[("A", 1)]); // 14
        let eb = b.enm("e", &[]); // 15: its forward declaration
        let ec = b.enum64("e", false, &[("A", 1)]); // 16: the 64-bit flavour
        let ed = b.enm("f", &[("A", 1)]); // 17
        let pa = b.ptr(int); // 18
        let pb = b.ptr(int2); // 19: a pointer to another id
        let pc = b.ptr(int); // 20
        let btf = b.build();
        let h = |id| kind_hash(btf.get(id).unwrap());
        let cases = [
            ("two equal INTs", int, int2, true),
            ("INT size", int, long, false),
            ("INT encoding", int, uint, false),
            ("struct member types are not hashed", sa, sb, true),
            ("struct size", sa, sc, false),
            ("struct name", sa, sd, false),
            ("member offset", sa, se, false),
            ("struct vs union", sa, ua, false),
            ("typedef target is not hashed", ta, tb, true),
            ("typedef name", ta, tc, false),
            (
                "enum: name only, declaration meets definition",
                ea,
                eb,
                true,
            ),
            ("ENUM and ENUM64 meet", ea, ec, true),
            ("enum name", ea, ed, false),
            ("pointer target is hashed", pa, pb, false),
            ("equal pointers", pa, pc, true),
        ];
        for (what, a, b, equal) in cases {
            assert_eq!(h(a) == h(b), equal, "{what}");
        }
    }

    #[test]
    fn str_hash_tells_strings_apart() {
        assert_eq!(str_hash(b"task_struct"), str_hash(b"task_struct"));
        // Same bytes in another order, a prefix, and strings of 8+ bytes (one full
        // chunk) that differ only in the tail chunk.
        let pairs: [(&[u8], &[u8]); 4] = [
            (b"ab", b"ba"),
            (b"abc", b"ab"),
            (b"abcdefgh1", b"abcdefgh2"),
            (b"", b"\0"),
        ];
        for (a, b) in pairs {
            assert_ne!(str_hash(a), str_hash(b), "{a:?} vs {b:?}");
        }
    }

    /// `write` takes 8 bytes at a time as a little-endian word, so hashing a word's
    /// bytes and hashing the word agree; a shorter tail is tagged with its length.
    #[test]
    fn fx_reads_bytes_as_little_endian_words() {
        let v = 0x0123_4567_89ab_cdefu64;
        let mut a = Fx::default();
        a.write(&v.to_le_bytes());
        let mut b = Fx::default();
        b.write_u64(v);
        assert_eq!(a.finish(), b.finish());
        let mut c = Fx::default();
        c.write(&[1]);
        let mut d = Fx::default();
        d.write(&[1, 0]);
        assert_ne!(
            c.finish(),
            d.finish(),
            "the tail length is part of the hash"
        );
    }
}
