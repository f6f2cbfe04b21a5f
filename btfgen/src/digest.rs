//! Digests that repository metadata and packages record, and their verification: the
//! one place that names algorithms, hashes and compares (fetch's metadata and
//! downloads, the packages' own digests of the vmlinux, RPM headers and payloads).
//!
//! An algorithm this module does not know is an error wherever a digest names it,
//! never a digest passed over. Where metadata gives several digests of one file (apt's
//! `MD5Sum`, `SHA1`, `SHA256`, `SHA512`), the strongest is checked ([`strongest`]):
//! one hash of every byte, and the one hardest to forge.

use std::fmt;

use sha2::Digest as _;

/// A digest algorithm, weakest first (the order [`strongest`] goes by).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// MD5 (RFC 1321): Debian's `md5sums`, RPM's default file digests.
    Md5,
    /// SHA-1 (FIPS 180-4): older yum repositories (`type="sha"`), RPM v4 headers.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// Why a digest could not be checked, or did not match.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// Metadata names an algorithm this module does not know.
    #[error("unknown digest algorithm \"{}\"", .0.escape_debug())]
    UnknownAlgorithm(String),
    /// An RPM header gives a `PGPHASHALGO` number this module does not know.
    #[error("unknown digest algorithm number {0} (rpm's PGPHASHALGO)")]
    UnknownPgpAlgorithm(u64),
    /// The expected digest is not as many hex digits as the algorithm gives.
    #[error("{algorithm} digest \"{}\" is not {} hex digits", .hex.escape_debug(), .algorithm.hex_len())]
    Malformed {
        /// The algorithm named.
        algorithm: Algorithm,
        /// The digest as given.
        hex: String,
    },
    /// The data's digest is not the expected one.
    #[error("{algorithm} {got}, expected {expected}")]
    Mismatch {
        /// The algorithm.
        algorithm: Algorithm,
        /// The data's digest, lower-case hex.
        got: String,
        /// The expected digest, lower-case hex.
        expected: String,
    },
}

impl Algorithm {
    /// Every algorithm, weakest first.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    /// The algorithm a metadata name stands for, in any case: `md5` (Debian's
    /// `MD5Sum`/`MD5sum` too), `sha1` (yum's `sha`), `sha224`, `sha256`, `sha384`,
    /// `sha512`. Anything else is [`DigestError::UnknownAlgorithm`].
    pub fn from_name(name: &str) -> Result<Algorithm, DigestError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "md5" | "md5sum" => Algorithm::Md5,
            "sha" | "sha1" => Algorithm::Sha1,
            "sha224" => Algorithm::Sha224,
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return Err(DigestError::UnknownAlgorithm(name.to_string())),
        })
    }

    /// The algorithm of an RPM `PGPHASHALGO` number (RFC 4880, 9.4: 1 MD5, 2 SHA-1,
    /// 8 SHA-256, 9 SHA-384, 10 SHA-512, 11 SHA-224). Others (RIPEMD-160, MD2, ...)
    /// are [`DigestError::UnknownPgpAlgorithm`].
    pub fn from_pgp(number: u64) -> Result<Algorithm, DigestError> {
        Ok(match number {
            1 => Algorithm::Md5,
            2 => Algorithm::Sha1,
            8 => Algorithm::Sha256,
            9 => Algorithm::Sha384,
            10 => Algorithm::Sha512,
            11 => Algorithm::Sha224,
            _ => return Err(DigestError::UnknownPgpAlgorithm(number)),
        })
    }

    /// Its name in messages and JSON: `md5`, `sha1`, `sha224`, `sha256`, ...
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Hex digits of a digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// A streaming hasher.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            Algorithm::Md5 => State::Md5(md5::Md5::new()),
            Algorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            Algorithm::Sha224 => State::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => State::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        })
    }

    /// The digest of `data`, lower-case hex.
    pub fn hex_digest(self, data: &[u8]) -> String {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A digest computed as data goes by ([`Algorithm::hasher`]).
pub struct Hasher(State);

enum State {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Hashes `data` after what came before.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha224(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything hashed, lower-case hex.
    pub fn finish(self) -> String {
        let bytes: Vec<u8> = match self.0 {
            State::Md5(h) => h.finalize().to_vec(),
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha224(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        };
        hex(&bytes)
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An expected digest: what metadata or a package records for a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checksum {
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The digest, lower-case hex of the algorithm's length.
    pub hex: String,
}

impl Checksum {
    /// A checksum of `algorithm`; `hex` in either case, of the algorithm's length.
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Checksum, DigestError> {
        let hex = hex.trim();
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DigestError::Malformed {
                algorithm,
                hex: hex.to_string(),
            });
        }
        Ok(Checksum {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// A checksum whose algorithm metadata names ([`Algorithm::from_name`]).
    pub fn named(name: &str, hex: &str) -> Result<Checksum, DigestError> {
        Checksum::new(Algorithm::from_name(name)?, hex)
    }

    /// Checks a digest, lower- or upper-case hex, against this one.
    pub fn check(&self, got: &str) -> Result<(), DigestError> {
        if got.eq_ignore_ascii_case(&self.hex) {
            Ok(())
        } else {
            Err(DigestError::Mismatch {
                algorithm: self.algorithm,
                got: got.to_ascii_lowercase(),
                expected: self.hex.clone(),
            })
        }
    }

    /// Checks what `hasher` (of this checksum's algorithm) hashed.
    pub fn check_hasher(&self, hasher: Hasher) -> Result<(), DigestError> {
        self.check(&hasher.finish())
    }

    /// Checks `data`.
    pub fn verify(&self, data: &[u8]) -> Result<(), DigestError> {
        self.check(&self.algorithm.hex_digest(data))
    }
}

/// The strongest of several digests of one file (the one to check), if any.
pub fn strongest(checksums: impl IntoIterator<Item = Checksum>) -> Option<Checksum> {
    checksums.into_iter().max_by_key(|c| c.algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digests of "" and of "abc": RFC 1321 (md5), FIPS 180-2 and its change notice
    /// (sha1, sha224, sha256, sha384, sha512), RFC 6234's test vectors.
    const VECTORS: [(Algorithm, &str, &str); 6] = [
        (
            Algorithm::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
            "900150983cd24fb0d6963f7d28e17f72",
        ),
        (
            Algorithm::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        (
            Algorithm::Sha224,
            "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            Algorithm::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Algorithm::Sha384,
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Algorithm::Sha512,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];

    #[test]
    fn known_vectors_whole_and_streamed() {
        for (algorithm, empty, abc) in VECTORS {
            assert_eq!(algorithm.hex_digest(b""), empty, "{algorithm} of \"\"");
            assert_eq!(algorithm.hex_digest(b"abc"), abc, "{algorithm} of abc");
            assert_eq!(abc.len(), algorithm.hex_len(), "{algorithm}");
            // In pieces, as a download passes them.
            let mut h = algorithm.hasher();
            for piece in [&b"a"[..], b"", b"bc"] {
                h.update(piece);
            }
            assert_eq!(h.finish(), abc, "{algorithm} streamed");
        }
    }

    #[test]
    fn metadata_names_in_any_case() {
        let cases = [
            ("md5", Algorithm::Md5),
            ("MD5Sum", Algorithm::Md5),
            ("MD5sum", Algorithm::Md5),
            ("sha", Algorithm::Sha1),
            ("SHA1", Algorithm::Sha1),
            ("sha224", Algorithm::Sha224),
            ("SHA256", Algorithm::Sha256),
            ("sha384", Algorithm::Sha384),
            ("Sha512", Algorithm::Sha512),
        ];
        for (name, want) in cases {
            assert_eq!(Algorithm::from_name(name).unwrap(), want, "{name}");
        }
        for (name, message) in [
            ("crc32", "unknown digest algorithm \"crc32\""),
            ("", "unknown digest algorithm \"\""),
            ("sha3-256", "unknown digest algorithm \"sha3-256\""),
            ("\x1b[2J", "unknown digest algorithm \"\\u{1b}[2J\""),
        ] {
            let e = Algorithm::from_name(name).unwrap_err();
            assert_eq!(e.to_string(), message, "{name:?}");
        }
        // Every algorithm's own name reads back as itself.
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()).unwrap(), a);
        }
    }

    #[test]
    fn rpm_pgphashalgo_numbers() {
        for (n, want) in [
            (1, Algorithm::Md5),
            (2, Algorithm::Sha1),
            (8, Algorithm::Sha256),
            (9, Algorithm::Sha384),
            (10, Algorithm::Sha512),
            (11, Algorithm::Sha224),
        ] {
            assert_eq!(Algorithm::from_pgp(n).unwrap(), want, "{n}");
        }
        // RIPEMD-160 (3), MD2 (5), TIGER-192 (6), HAVAL (7): not supported.
        for n in [0, 3, 5, 6, 7, 12] {
            assert_eq!(
                Algorithm::from_pgp(n).unwrap_err().to_string(),
                format!("unknown digest algorithm number {n} (rpm's PGPHASHALGO)")
            );
        }
    }

    #[test]
    fn checksums_compare_hex_in_any_case() {
        let abc = VECTORS[3].2;
        let upper = Checksum::named("sha256", &abc.to_ascii_uppercase()).unwrap();
        assert_eq!(upper.hex, abc);
        upper.verify(b"abc").unwrap();
        upper.check(&abc.to_ascii_uppercase()).unwrap();
        let e = upper.verify(b"abd").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "sha256 {}, expected {abc}",
                Algorithm::Sha256.hex_digest(b"abd")
            )
        );
        let mut h = Algorithm::Sha256.hasher();
        h.update(b"abc");
        upper.check_hasher(h).unwrap();
    }

    #[test]
    fn malformed_digests_are_refused() {
        for (name, hex) in [
            ("md5", "900150983cd24fb0d6963f7d28e17f7"),
            ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89dz"),
            ("sha256", ""),
            ("sha256", "wrong"),
        ] {
            let e = Checksum::named(name, hex).unwrap_err();
            let a = Algorithm::from_name(name).unwrap();
            assert_eq!(
                e.to_string(),
                format!("{name} digest \"{hex}\" is not {} hex digits", a.hex_len())
            );
        }
    }

    #[test]
    fn the_strongest_digest_is_the_one_checked() {
        let ck = |i: usize| Checksum::new(VECTORS[i].0, VECTORS[i].2).unwrap();
        assert_eq!(strongest([ck(0), ck(5), ck(3)]), Some(ck(5)));
        assert_eq!(strongest([ck(1), ck(0)]), Some(ck(1)));
        assert_eq!(strongest(Vec::new()), None);
    }
}
