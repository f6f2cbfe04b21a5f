//! The `.corepack` file format, version 2. The normative description is `FORMAT.md`.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! header    magic "COREPACK" (8) | version u16 | flags u16 (0) | reserved u32 (0)
//!           manifest_len u32 | manifest_raw_len u32 | data_len u64 | manifest_sha256 [32]
//! manifest  manifest_len bytes: one zstd frame of manifest_raw_len bytes (see FORMAT.md)
//! data      data_len bytes: the blobs' zstd frames, back to back in blob order
//! ```

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"COREPACK";
/// The format version this library reads and writes.
pub const FORMAT_VERSION: u16 = 2;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 64;
/// Upper bound of one decompressed blob (a minimized BTF is kilobytes; a full vmlinux BTF
/// is a few megabytes).
pub const MAX_RAW_BLOB: u64 = 64 << 20;
/// Upper bound of the decompressed manifest (about 50 bytes per kernel entry).
pub const MAX_RAW_MANIFEST: u64 = 64 << 20;
/// Longest chain of dictionary references (blob → its dictionary blob → ...): reading one
/// blob decompresses at most this many frames.
pub const MAX_DICT_CHAIN: usize = 8;

/// Errors of reading (and writing) a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a corepack bundle: bad magic {0:02x?}")]
    BadMagic([u8; 8]),
    #[error("unsupported corepack format version {found} (this reader supports {FORMAT_VERSION})")]
    UnsupportedVersion { found: u16 },
    #[error("truncated bundle: {what} needs {needed} bytes at offset {offset}, only {available} present")]
    Truncated {
        what: &'static str,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("bundle has {0} trailing bytes after the data section")]
    TrailingBytes(u64),
    #[error("nonzero reserved header field or flags ({0})")]
    Reserved(&'static str),
    #[error("manifest checksum mismatch (expected {expected}, computed {computed})")]
    ManifestChecksum { expected: String, computed: String },
    #[error("data section checksum mismatch (expected sha256 {expected}, computed {computed})")]
    DataChecksum { expected: String, computed: String },
    #[error("manifest: zstd decompression failed: {0}")]
    ManifestDecompress(std::io::Error),
    #[error("invalid manifest: {0}")]
    Manifest(String),
    #[error(
        "the blobs' stored lengths add up to {stored} bytes, but the data section has {data_len}"
    )]
    BlobBounds { stored: u64, data_len: u64 },
    #[error("blob {index}: checksum mismatch (expected sha256 {expected}, computed {computed})")]
    BlobChecksum {
        index: usize,
        expected: String,
        computed: String,
    },
    #[error("blob {index}: zstd decompression failed: {source}")]
    Decompress {
        index: usize,
        source: std::io::Error,
    },
    #[error("blob {index}: decompressed to {found} bytes, manifest says {expected}")]
    BlobLength {
        index: usize,
        expected: u64,
        found: u64,
    },
    #[error("entry {entry} refers to blob {blob}, but the bundle has {count} blobs")]
    BlobIndex {
        entry: usize,
        blob: u32,
        count: usize,
    },
    #[error("zstd compression failed: {0}")]
    Compress(std::io::Error),
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

impl KernelId {
    pub fn new(arch: &str, uname: &str, os_id: &str, version_id: &str) -> Self {
        KernelId {
            arch: normalize_arch(arch),
            uname: uname.into(),
            os_id: os_id.into(),
            version_id: version_id.into(),
        }
    }
}

/// One kernel entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kernel: KernelId,
    /// Index into [`Bundle::blobs`].
    pub blob: u32,
}

/// A BPF object the bundle was minimized for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub name: String,
    pub sha256: [u8; 32],
}

/// Where a blob is stored and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Offset of the zstd frame in the data section (the sum of the earlier blobs'
    /// stored lengths; not stored in the file).
    pub offset: u64,
    /// Length of the zstd frame.
    pub stored_len: u64,
    /// Length of the decompressed BTF.
    pub raw_len: u64,
    /// sha256 of the decompressed BTF.
    pub raw_sha256: [u8; 32],
    /// An earlier blob whose decompressed bytes are this frame's raw-content zstd
    /// dictionary ([`NO_DICT`]: none). Chains are at most [`MAX_DICT_CHAIN`] long.
    pub dict: u32,
}

/// [`BlobInfo::dict`] of a blob compressed without a dictionary.
pub const NO_DICT: u32 = u32::MAX;

/// A validated bundle, borrowing its bytes. Opening checks the header, the manifest checksum
/// and every bound; blob checksums are checked when a blob is read and by [`Bundle::verify`].
#[derive(Debug, Clone)]
pub struct Bundle<'a> {
    pub program: String,
    pub program_version: String,
    objects: Vec<ObjectInfo>,
    blobs: Vec<BlobInfo>,
    entries: Vec<Entry>,
    data: &'a [u8],
    data_sha256: [u8; 32],
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BundleError> {
        if self.buf.len() - self.pos < n {
            return Err(BundleError::Manifest(format!(
                "{what} at manifest offset {} runs past its end",
                self.pos
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u16(&mut self, what: &str) -> Result<u16, BundleError> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().unwrap()))
    }
    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn hash(&mut self, what: &str) -> Result<[u8; 32], BundleError> {
        Ok(self.take(32, what)?.try_into().unwrap())
    }
    fn str(&mut self, what: &str) -> Result<String, BundleError> {
        let n = self.u16(what)? as usize;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| BundleError::Manifest(format!("{what} is not UTF-8")))
    }
    /// A count of records at least `min_size` bytes each, checked against what remains so a
    /// corrupt count cannot make the reader allocate.
    fn count(&mut self, what: &str, min_size: usize) -> Result<usize, BundleError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_size) > self.buf.len() - self.pos {
            return Err(BundleError::Manifest(format!(
                "{what} {n} exceeds the manifest"
            )));
        }
        Ok(n)
    }
}

fn need(bytes: &[u8], offset: u64, needed: u64, what: &'static str) -> Result<(), BundleError> {
    let available = (bytes.len() as u64).saturating_sub(offset);
    if available < needed {
        return Err(BundleError::Truncated {
            what,
            offset,
            needed,
            available,
        });
    }
    Ok(())
}

/// Decompresses one zstd frame, with an optional raw-content dictionary, into at most
/// `raw_len` bytes. The output grows with what the frame really produces, so a header
/// that claims a large `raw_len` for a small frame allocates nothing up front, and a frame
/// that inflates past `raw_len` is cut off there (the caller then sees a length or
/// checksum mismatch).
fn decompress_exact(stored: &[u8], dict: Option<&[u8]>, raw_len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
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

impl<'a> Bundle<'a> {
    /// Parses and validates a bundle: magic, version, reserved fields, exact length, manifest
    /// checksum, manifest structure, blob bounds and entry indices. Does not decompress
    /// anything.
    pub fn open(bytes: &'a [u8]) -> Result<Self, BundleError> {
        need(bytes, 0, MAGIC.len() as u64, "magic")?;
        let magic: [u8; 8] = bytes[..8].try_into().unwrap();
        if magic != MAGIC {
            return Err(BundleError::BadMagic(magic));
        }
        need(bytes, 0, HEADER_LEN as u64, "header")?;
        let h = &bytes[..HEADER_LEN];
        let version = u16::from_le_bytes(h[8..10].try_into().unwrap());
        if version != FORMAT_VERSION {
            return Err(BundleError::UnsupportedVersion { found: version });
        }
        if h[10..12] != [0, 0] {
            return Err(BundleError::Reserved("flags"));
        }
        if h[12..16] != [0; 4] {
            return Err(BundleError::Reserved("header reserved"));
        }
        let manifest_len = u32::from_le_bytes(h[16..20].try_into().unwrap()) as u64;
        let manifest_raw_len = u32::from_le_bytes(h[20..24].try_into().unwrap()) as u64;
        if manifest_raw_len > MAX_RAW_MANIFEST {
            return Err(BundleError::Manifest(format!(
                "claims {manifest_raw_len} decompressed bytes (limit {MAX_RAW_MANIFEST})"
            )));
        }
        let data_len = u64::from_le_bytes(h[24..32].try_into().unwrap());
        let expected: [u8; 32] = h[32..64].try_into().unwrap();
        need(bytes, HEADER_LEN as u64, manifest_len, "manifest")?;
        let data_start = HEADER_LEN as u64 + manifest_len;
        need(bytes, data_start, data_len, "data section")?;
        let end = data_start + data_len;
        if (bytes.len() as u64) > end {
            return Err(BundleError::TrailingBytes(bytes.len() as u64 - end));
        }
        let stored_manifest = &bytes[HEADER_LEN..data_start as usize];
        let computed = sha256(stored_manifest);
        if computed != expected {
            return Err(BundleError::ManifestChecksum {
                expected: hex(&expected),
                computed: hex(&computed),
            });
        }
        let manifest = decompress_exact(stored_manifest, None, manifest_raw_len)
            .map_err(BundleError::ManifestDecompress)?;
        if manifest.len() as u64 != manifest_raw_len {
            return Err(BundleError::Manifest(format!(
                "decompressed to {} bytes, the header says {manifest_raw_len}",
                manifest.len()
            )));
        }
        let manifest = &manifest[..];
        let data = &bytes[data_start as usize..];
        let mut c = Cursor {
            buf: manifest,
            pos: 0,
        };
        let program = c.str("program name")?;
        let program_version = c.str("program version")?;
        let data_sha256 = c.hash("data sha256")?;
        let n = c.count("object count", 34)?;
        let mut objects = Vec::with_capacity(n);
        for _ in 0..n {
            objects.push(ObjectInfo {
                name: c.str("object name")?,
                sha256: c.hash("object sha256")?,
            });
        }
        let n = c.count("blob count", 44)?;
        let mut blobs: Vec<BlobInfo> = Vec::with_capacity(n);
        let mut depth: Vec<usize> = Vec::with_capacity(n);
        let mut offset = 0u64;
        for index in 0..n {
            let b = BlobInfo {
                offset,
                stored_len: c.u32("blob stored length")?.into(),
                raw_len: c.u32("blob raw length")?.into(),
                raw_sha256: c.hash("blob sha256")?,
                dict: c.u32("blob dictionary")?,
            };
            let d = if b.dict == NO_DICT {
                1
            } else if (b.dict as usize) < index && depth[b.dict as usize] < MAX_DICT_CHAIN {
                depth[b.dict as usize] + 1
            } else {
                return Err(BundleError::Manifest(format!(
                    "blob {index} has dictionary {}, which is not an earlier blob with a chain shorter than {MAX_DICT_CHAIN}",
                    b.dict
                )));
            };
            offset += b.stored_len;
            if offset > data_len {
                return Err(BundleError::BlobBounds {
                    stored: offset,
                    data_len,
                });
            }
            if b.raw_len > MAX_RAW_BLOB {
                return Err(BundleError::Manifest(format!(
                    "blob {index} claims {} decompressed bytes (limit {MAX_RAW_BLOB})",
                    b.raw_len
                )));
            }
            blobs.push(b);
            depth.push(d);
        }
        if offset != data_len {
            return Err(BundleError::BlobBounds {
                stored: offset,
                data_len,
            });
        }
        let n = c.count("entry count", 12)?;
        let mut entries = Vec::with_capacity(n);
        let mut seen = HashMap::new();
        for entry in 0..n {
            let kernel = KernelId {
                arch: c.str("entry arch")?,
                uname: c.str("entry uname")?,
                os_id: c.str("entry os id")?,
                version_id: c.str("entry version id")?,
            };
            let blob = c.u32("entry blob")?;
            if blob as usize >= blobs.len() {
                return Err(BundleError::BlobIndex {
                    entry,
                    blob,
                    count: blobs.len(),
                });
            }
            if let Some(prev) = seen.insert(kernel.clone(), entry) {
                return Err(BundleError::Manifest(format!(
                    "entries {prev} and {entry} are both {kernel:?}"
                )));
            }
            entries.push(Entry { kernel, blob });
        }
        if c.pos != manifest.len() {
            return Err(BundleError::Manifest(format!(
                "{} unparsed bytes at the end of the manifest",
                manifest.len() - c.pos
            )));
        }
        Ok(Bundle {
            program,
            program_version,
            objects,
            blobs,
            entries,
            data,
            data_sha256,
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    pub fn objects(&self) -> &[ObjectInfo] {
        &self.objects
    }
    pub fn blobs(&self) -> &[BlobInfo] {
        &self.blobs
    }

    /// Reads one blob: decompresses only that zstd frame (into a buffer of the manifest's
    /// raw length, no more) and checks the result's length and sha256. A blob compressed
    /// with a dictionary reads its dictionary blob first (a chain of at most
    /// [`MAX_DICT_CHAIN`] frames).
    pub fn blob(&self, index: usize) -> Result<Vec<u8>, BundleError> {
        let b = self.blobs.get(index).ok_or_else(|| {
            BundleError::Manifest(format!("no blob {index} (bundle has {})", self.blobs.len()))
        })?;
        let dict = if b.dict == NO_DICT {
            None
        } else {
            Some(self.blob(b.dict as usize)?)
        };
        let stored = &self.data[b.offset as usize..(b.offset + b.stored_len) as usize];
        let raw = decompress_exact(stored, dict.as_deref(), b.raw_len)
            .map_err(|source| BundleError::Decompress { index, source })?;
        if raw.len() as u64 != b.raw_len {
            return Err(BundleError::BlobLength {
                index,
                expected: b.raw_len,
                found: raw.len() as u64,
            });
        }
        let computed = sha256(&raw);
        if computed != b.raw_sha256 {
            return Err(BundleError::BlobChecksum {
                index,
                expected: hex(&b.raw_sha256),
                computed: hex(&computed),
            });
        }
        Ok(raw)
    }

    /// The entry for exactly this kernel, if the bundle has one.
    pub fn find(&self, arch: &str, uname: &str, os_id: &str, version_id: &str) -> Option<&Entry> {
        let k = KernelId::new(arch, uname, os_id, version_id);
        self.entries.iter().find(|e| e.kernel == k)
    }

    /// The BTF of exactly this kernel (arch normalized), or `Ok(None)` if the bundle has no
    /// such entry. Decompresses that one blob only.
    pub fn blob_for(
        &self,
        arch: &str,
        uname: &str,
        os_id: &str,
        version_id: &str,
    ) -> Result<Option<Vec<u8>>, BundleError> {
        match self.find(arch, uname, os_id, version_id) {
            Some(e) => self.blob(e.blob as usize).map(Some),
            None => Ok(None),
        }
    }

    /// Checks the sha256 of the whole data section (the compressed blobs), without
    /// decompressing anything: a few milliseconds for a bundle of megabytes.
    pub fn check_data(&self) -> Result<(), BundleError> {
        let computed = sha256(self.data);
        if computed != self.data_sha256 {
            return Err(BundleError::DataChecksum {
                expected: hex(&self.data_sha256),
                computed: hex(&computed),
            });
        }
        Ok(())
    }

    /// Checks the data section's checksum and every blob (lengths and checksums).
    /// Together with [`Bundle::open`] (the manifest's checksum, and that the blobs exactly
    /// fill the data section) this covers every byte of the file.
    pub fn verify(&self) -> Result<(), BundleError> {
        self.check_data()?;
        for i in 0..self.blobs.len() {
            self.blob(i)?;
        }
        Ok(())
    }

    /// Sum of decompressed sizes over entries (what the kernels would take undeduplicated and
    /// uncompressed).
    pub fn entries_raw_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| self.blobs[e.blob as usize].raw_len)
            .sum()
    }
}

/// What a build produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildStats {
    pub entries: usize,
    /// Distinct blobs after deduplication.
    pub blobs: usize,
    /// Entries whose BTF was identical to an earlier entry's.
    pub deduplicated: usize,
    /// Sum of raw sizes over all entries.
    pub raw_bytes: u64,
    /// Sum of raw sizes of distinct blobs.
    pub unique_raw_bytes: u64,
    /// Size of the data section (compressed distinct blobs).
    pub stored_bytes: u64,
    /// Size of the whole bundle.
    pub bundle_bytes: u64,
}

/// How many earlier blobs [`BundleBuilder`] tries as a blob's dictionary.
pub const DICT_CANDIDATES: usize = 4;

/// Writes a bundle. Blobs are deduplicated by the sha256 of their bytes and each stored as
/// its own zstd frame, with the most similar earlier blob as dictionary where that helps.
#[derive(Debug, Clone)]
pub struct BundleBuilder {
    program: String,
    program_version: String,
    objects: Vec<ObjectInfo>,
    raw: Vec<Vec<u8>>,
    by_hash: HashMap<[u8; 32], u32>,
    entries: Vec<Entry>,
    level: i32,
    dictionary: bool,
}

impl BundleBuilder {
    pub fn new(program: &str, program_version: &str) -> Self {
        BundleBuilder {
            program: program.into(),
            program_version: program_version.into(),
            objects: Vec::new(),
            raw: Vec::new(),
            by_hash: HashMap::new(),
            entries: Vec::new(),
            level: 19,
            dictionary: true,
        }
    }

    /// zstd level (default 19).
    pub fn level(mut self, level: i32) -> Self {
        self.level = level;
        self
    }

    /// Whether blobs may use earlier blobs as raw-content dictionaries (default true).
    pub fn dictionary(mut self, on: bool) -> Self {
        self.dictionary = on;
        self
    }

    /// Records a BPF object the bundle was minimized for (its name and sha256).
    pub fn add_object(&mut self, name: &str, bytes: &[u8]) {
        self.objects.push(ObjectInfo {
            name: name.into(),
            sha256: sha256(bytes),
        });
    }

    /// Adds one kernel's BTF. Returns the blob index (shared with earlier identical BTF).
    /// A kernel given twice keeps the first BTF and is an error.
    pub fn add_kernel(&mut self, kernel: KernelId, btf: &[u8]) -> Result<u32, BundleError> {
        let kernel = KernelId {
            arch: normalize_arch(&kernel.arch),
            ..kernel
        };
        if self.entries.iter().any(|e| e.kernel == kernel) {
            return Err(BundleError::Manifest(format!(
                "kernel {kernel:?} added twice"
            )));
        }
        let h = sha256(btf);
        let blob = match self.by_hash.get(&h) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.raw.len())
                    .map_err(|_| BundleError::TooLarge("blob count"))?;
                self.raw.push(btf.to_vec());
                self.by_hash.insert(h, i);
                i
            }
        };
        self.entries.push(Entry { kernel, blob });
        Ok(blob)
    }

    /// Compresses blob `i`: plain, or with an earlier blob as raw-content dictionary when
    /// that is smaller. Candidates are the [`DICT_CANDIDATES`] earlier blobs (whose chains
    /// have room) with the fewest differing bytes: minimized BTFs of related kernels differ
    /// in a few member offsets. Returns the frame and the dictionary index.
    fn compress_blob(&self, i: usize, depth: &[usize]) -> Result<(Vec<u8>, u32), BundleError> {
        let raw = &self.raw[i];
        let mut best = (
            zstd::bulk::compress(raw, self.level).map_err(BundleError::Compress)?,
            NO_DICT,
        );
        if !self.dictionary {
            return Ok(best);
        }
        let distance = |other: &[u8]| {
            let same = raw.iter().zip(other).filter(|(a, b)| a == b).count();
            raw.len().max(other.len()) - same
        };
        let mut candidates: Vec<(usize, usize)> = (0..i)
            .filter(|&j| depth[j] < MAX_DICT_CHAIN)
            .map(|j| (distance(&self.raw[j]), j))
            .collect();
        candidates.sort_unstable();
        for &(_, j) in candidates.iter().take(DICT_CANDIDATES) {
            let z = zstd::bulk::Compressor::with_dictionary(self.level, &self.raw[j])
                .and_then(|mut c| c.compress(raw))
                .map_err(BundleError::Compress)?;
            if z.len() < best.0.len() {
                best = (z, j as u32);
            }
        }
        Ok(best)
    }

    /// Serializes the bundle.
    pub fn finish(&self) -> Result<(Vec<u8>, BuildStats), BundleError> {
        let mut data = Vec::new();
        let mut infos = Vec::with_capacity(self.raw.len());
        let mut depth = Vec::with_capacity(self.raw.len());
        for (i, raw) in self.raw.iter().enumerate() {
            if raw.len() as u64 > MAX_RAW_BLOB {
                return Err(BundleError::TooLarge("blob"));
            }
            let (z, dict) = self.compress_blob(i, &depth)?;
            depth.push(if dict == NO_DICT {
                1
            } else {
                depth[dict as usize] + 1
            });
            infos.push(BlobInfo {
                offset: data.len() as u64,
                stored_len: z.len() as u64,
                raw_len: raw.len() as u64,
                raw_sha256: sha256(raw),
                dict,
            });
            data.extend_from_slice(&z);
        }
        let mut m = Vec::new();
        let put_str = |m: &mut Vec<u8>, s: &str| -> Result<(), BundleError> {
            let n = u16::try_from(s.len()).map_err(|_| BundleError::TooLarge("string"))?;
            m.extend_from_slice(&n.to_le_bytes());
            m.extend_from_slice(s.as_bytes());
            Ok(())
        };
        let count = |n: usize, what| u32::try_from(n).map_err(|_| BundleError::TooLarge(what));
        put_str(&mut m, &self.program)?;
        put_str(&mut m, &self.program_version)?;
        m.extend_from_slice(&sha256(&data));
        m.extend_from_slice(&count(self.objects.len(), "object count")?.to_le_bytes());
        for o in &self.objects {
            put_str(&mut m, &o.name)?;
            m.extend_from_slice(&o.sha256);
        }
        m.extend_from_slice(&count(infos.len(), "blob count")?.to_le_bytes());
        for b in &infos {
            // Both fit: raw_len <= MAX_RAW_BLOB, and zstd's bound for that is below 4 GiB.
            m.extend_from_slice(&(b.stored_len as u32).to_le_bytes());
            m.extend_from_slice(&(b.raw_len as u32).to_le_bytes());
            m.extend_from_slice(&b.raw_sha256);
            m.extend_from_slice(&b.dict.to_le_bytes());
        }
        m.extend_from_slice(&count(self.entries.len(), "entry count")?.to_le_bytes());
        for e in &self.entries {
            put_str(&mut m, &e.kernel.arch)?;
            put_str(&mut m, &e.kernel.uname)?;
            put_str(&mut m, &e.kernel.os_id)?;
            put_str(&mut m, &e.kernel.version_id)?;
            m.extend_from_slice(&e.blob.to_le_bytes());
        }
        if m.len() as u64 > MAX_RAW_MANIFEST {
            return Err(BundleError::TooLarge("manifest"));
        }
        let manifest_raw_len = m.len() as u32;
        let m = zstd::bulk::compress(&m, self.level).map_err(BundleError::Compress)?;
        let manifest_len = u32::try_from(m.len()).map_err(|_| BundleError::TooLarge("manifest"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + m.len() + data.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&manifest_len.to_le_bytes());
        out.extend_from_slice(&manifest_raw_len.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(&sha256(&m));
        debug_assert_eq!(out.len(), HEADER_LEN);
        out.extend_from_slice(&m);
        out.extend_from_slice(&data);
        let stats = BuildStats {
            entries: self.entries.len(),
            blobs: self.raw.len(),
            deduplicated: self.entries.len() - self.raw.len(),
            raw_bytes: self
                .entries
                .iter()
                .map(|e| self.raw[e.blob as usize].len() as u64)
                .sum(),
            unique_raw_bytes: self.raw.iter().map(|r| r.len() as u64).sum(),
            stored_bytes: data.len() as u64,
            bundle_bytes: out.len() as u64,
        };
        Ok((out, stats))
    }
}
