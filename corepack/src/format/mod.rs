//! The `.corepack` file format, version 6 (versions 3 to 5 read and, on request, written
//! too). The normative description is `FORMAT.md`.
//!
//! Layout (integers in the header little-endian; the manifest is LEB128, see [`wire`]):
//!
//! ```text
//! header    magic "COREPACK" (8) | version u16 | flags u16 (0)
//!           frame_len u32 | frame_raw_len u32 | frame check [8]
//! frame     frame_len bytes: frame_raw_len bytes compressed: the manifest in a zstd frame,
//!           or in versions 5 and 6 the manifest and the blobs after it in a raw LZMA2
//!           stream
//! data      versions 3 and 4: the blobs, back to back in blob order, to the end of the file
//! ```
//!
//! - `wire`: the manifest's integers and strings.
//! - `codec`: how one blob is stored ([`Codec`]).
//! - `read`: [`Bundle`], which validates a bundle and reads one kernel's BTF.
//! - `write`: [`BundleBuilder`].

mod codec;
mod columns;
mod first_use;
mod read;
mod wire;
mod write;

use std::fmt;

use sha2::{Digest, Sha256};

pub use codec::Codec;
pub use read::Bundle;
pub use write::{BuildStats, BundleBuilder};

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"COREPACK";
/// The newest format version this library reads and writes (6: the manifest and the
/// blobs in one LZMA2 stream under one check, the manifest and the blobs' columns coded
/// to share more with what came before). [`BundleBuilder::version`] writes version 5
/// (the same stream, the first columns layout), or 4 (entries may carry a GNU build-id;
/// every blob its own frame and check), written as 3 when no entry has a build-id.
pub const FORMAT_VERSION: u16 = 6;
/// The oldest format version this library reads (3: no build-ids).
pub const OLDEST_FORMAT_VERSION: u16 = 3;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 28;
/// Bytes of a check: the first bytes of a SHA-256.
pub const CHECK_LEN: usize = 8;
/// Upper bound of one decoded blob (a minimized BTF is kilobytes; a full vmlinux BTF is a
/// few megabytes).
pub const MAX_RAW_BLOB: u64 = 64 << 20;
/// Upper bound of the decompressed manifest.
pub const MAX_RAW_MANIFEST: u64 = 64 << 20;
/// Upper bound of a version 5 or 6 bundle's decompressed frame (the manifest and the blobs).
pub const MAX_RAW_FRAME: u64 = 1 << 30;
/// Longest chain of blobs stored against an earlier blob (blob → its base → ...): reading
/// one blob decodes at most this many.
pub const MAX_CHAIN: usize = 16;

/// A check value: the first [`CHECK_LEN`] bytes of the SHA-256 of `bytes`.
pub type Check = [u8; CHECK_LEN];

pub(crate) fn check(bytes: &[u8]) -> Check {
    let h = Sha256::digest(bytes);
    let mut c = [0; CHECK_LEN];
    c.copy_from_slice(&h[..CHECK_LEN]);
    c
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Errors of reading (and writing) a bundle.
///
/// [`Bundle::open`] returns the header and manifest errors, [`Bundle::blob`] (and so
/// [`Bundle::verify`] and [`crate::select_btf`]) the per-blob ones, and
/// [`BundleBuilder`] the writer's: [`BundleError::Compress`], [`BundleError::RoundTrip`],
/// [`BundleError::TooLarge`], and [`BundleError::Manifest`] for a kernel added twice.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The first eight bytes are not [`MAGIC`]; holds the eight bytes found.
    #[error("not a corepack bundle: bad magic {}", hex(.0))]
    BadMagic([u8; 8]),
    /// The header's version is not [`OLDEST_FORMAT_VERSION`] to [`FORMAT_VERSION`]
    /// (older and newer bundles alike).
    #[error("unsupported corepack format version {found} (this reader supports {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// The version the header states.
        found: u16,
    },
    /// The file ends before a part the header or manifest says is there.
    #[error("truncated bundle: {what} needs {needed} bytes at offset {offset}, only {available} present")]
    Truncated {
        /// Which part: `magic`, `header`, `manifest` or `blob`.
        what: &'static str,
        /// Where that part starts, in bytes from the start of the file.
        offset: u64,
        /// The part's length.
        needed: u64,
        /// How many bytes the file has from `offset` on.
        available: u64,
    },
    /// The file goes on after the last blob; holds the number of extra bytes.
    #[error("bundle has {0} trailing bytes after the last blob")]
    TrailingBytes(u64),
    /// The header's flags field is not zero (versions 3 to 5 define no flags).
    #[error("nonzero flags in the header")]
    Flags,
    /// The stored (compressed) manifest frame does not hash to the header's check (in
    /// version 5 the frame holds the blobs too).
    #[error("manifest checksum mismatch (expected {expected}, computed {computed})")]
    ManifestChecksum {
        /// The header's check, in hex.
        expected: String,
        /// The check of the manifest bytes present, in hex.
        computed: String,
    },
    /// The manifest frame passed its check but does not decompress (a zstd frame; in
    /// versions 5 and 6 a raw LZMA2 stream); holds the decompressor's error.
    #[error("manifest: decompression failed: {0}")]
    ManifestDecompress(std::io::Error),
    /// The decompressed manifest is malformed (a field runs past its end, an index is out
    /// of range, a limit is exceeded, an entry repeats, ...), or a blob index that does
    /// not exist was asked for, or a builder was given the same kernel twice. Holds what
    /// is wrong, naming the field and its manifest offset where there is one.
    #[error("invalid manifest: {0}")]
    Manifest(String),
    /// A blob's stored bytes do not hash to the manifest's check for it (versions 3 and
    /// 4).
    #[error("blob {index}: checksum mismatch (expected {expected}, computed {computed})")]
    BlobChecksum {
        /// The blob's index.
        index: usize,
        /// The manifest's check, in hex.
        expected: String,
        /// The check of the stored bytes present, in hex.
        computed: String,
    },
    /// A blob passed its check but its codec cannot decode it (a bad zstd frame, patch
    /// or column encoding).
    #[error("blob {index}: cannot decode: {reason}")]
    Decode {
        /// The blob's index.
        index: usize,
        /// The decoder's complaint.
        reason: String,
    },
    /// A blob decoded to another length than the manifest states for it.
    #[error("blob {index}: decoded to {found} bytes, manifest says {expected}")]
    BlobLength {
        /// The blob's index.
        index: usize,
        /// The manifest's length.
        expected: u64,
        /// The decoded length.
        found: u64,
    },
    /// A kernel entry names a blob the manifest does not have.
    #[error("entry {entry} refers to blob {blob}, but the bundle has {count} blobs")]
    BlobIndex {
        /// The entry's index.
        entry: usize,
        /// The blob index it names.
        blob: u64,
        /// How many blobs the manifest has.
        count: usize,
    },
    /// zstd or LZMA2 failed while the builder compressed a blob or the manifest; holds
    /// its error.
    #[error("compression failed: {0}")]
    Compress(std::io::Error),
    /// The builder's final check found that blob `.0` of the bundle it wrote does not
    /// decode to the BTF it was given: a bug in the writer, reported instead of writing a
    /// bad bundle.
    #[error("blob {0} does not decode to what was added (a writer bug; nothing was written)")]
    RoundTrip(usize),
    /// The builder was given more than the format holds; names what (`blob` over
    /// [`MAX_RAW_BLOB`], `blob count` over `u32`, `build-id` over
    /// [`crate::notes::MAX_BUILD_ID`], `manifest` over [`MAX_RAW_MANIFEST`]
    /// or `u32` compressed, `frame` over [`MAX_RAW_FRAME`] or `u32` compressed).
    #[error("{0} too large for the format")]
    TooLarge(&'static str),
}

/// The arch name a bundle stores: `uname -m` spelling, so BTFHub's `arm64` and Debian's
/// `amd64` compare equal to `aarch64` and `x86_64`.
pub fn normalize_arch(arch: &str) -> String {
    match arch {
        "amd64" | "x86-64" | "x64" => "x86_64".into(),
        "arm64" => "aarch64".into(),
        "ppc64el" => "ppc64le".into(),
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86".into(),
        other => other.to_string(),
    }
}

/// What identifies one kernel in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelId {
    /// Normalized (see [`normalize_arch`]).
    pub arch: String,
    /// `uname -r`.
    pub uname: String,
    /// os-release `ID` (e.g. `ubuntu`).
    pub os_id: String,
    /// os-release `VERSION_ID` (e.g. `20.04`).
    pub version_id: String,
}

/// `ARCH UNAME (ID VERSION_ID)`, as messages and listings name a kernel.
impl fmt::Display for KernelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let KernelId {
            arch,
            uname,
            os_id,
            version_id,
        } = self;
        write!(f, "{arch} {uname} ({os_id} {version_id})")
    }
}

impl KernelId {
    /// A kernel id with the arch normalized.
    pub fn new(arch: &str, uname: &str, os_id: &str, version_id: &str) -> Self {
        KernelId {
            arch: normalize_arch(arch),
            uname: uname.into(),
            os_id: os_id.into(),
            version_id: version_id.into(),
        }
    }
}

/// ` build-id HEX` for a known build-id, nothing for an unknown (empty) one.
pub(crate) fn build_id_suffix(build_id: &[u8]) -> String {
    if build_id.is_empty() {
        String::new()
    } else {
        format!(" build-id {}", hex(build_id))
    }
}

/// One kernel entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The kernel (arch normalized, `uname -r`, os-release `ID` and `VERSION_ID`).
    pub kernel: KernelId,
    /// Index into [`Bundle::blobs`].
    pub blob: u32,
    /// The kernel's GNU build-id (its vmlinux's `NT_GNU_BUILD_ID` note, as
    /// `/sys/kernel/notes` shows it on that kernel); empty when unknown (always in a
    /// version 3 bundle).
    pub build_id: Vec<u8>,
}

/// A BPF object the bundle was minimized for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's file name.
    pub name: String,
    /// The first [`CHECK_LEN`] bytes of the object file's SHA-256.
    pub digest: Check,
}

impl ObjectInfo {
    /// Whether `bytes` is this object.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        check(bytes) == self.digest
    }
}

/// Where a blob is stored, how, and what its stored bytes hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Offset in the data section, or in versions 5 and 6 from the end of the manifest in the
    /// decompressed frame (the sum of the earlier blobs' stored lengths; not stored in
    /// the file).
    pub offset: u64,
    /// Length of the stored bytes (versions 5 and 6: in the decompressed frame).
    pub stored_len: u64,
    /// Length of the decoded BTF.
    pub raw_len: u64,
    /// How the stored bytes decode (chains through earlier blobs are at most
    /// [`MAX_CHAIN`] long).
    pub codec: Codec,
    /// Check of the stored bytes (versions 3 and 4; in versions 5 and 6 the header's check of
    /// the one frame covers every blob).
    pub check: Option<Check>,
}
