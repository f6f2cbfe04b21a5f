//! Writing a bundle: [`BundleBuilder`] deduplicates blobs by content, stores each in the
//! smallest of its codecs, and checks that every blob decodes to what was added before it
//! returns the bytes. Version 6 (the default; 5 on request) compresses the manifest and
//! every blob as one LZMA2 stream; versions 3 and 4 ([`BundleBuilder::version`]`(4)`)
//! compress each blob on its own.

use std::collections::HashMap;

use sha2::Digest;

use super::codec::{lzma_compress, patch, zstd_compress, Codec};
use super::columns::{self, Layout};
use super::wire::{zigzag, Writer};
use super::*;

/// What a build produced (returned by [`BundleBuilder::finish`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Kernel entries (one per [`BundleBuilder::add_kernel`]).
    pub entries: usize,
    /// Distinct blobs after deduplication.
    pub blobs: usize,
    /// Entries whose BTF was identical to an earlier entry's.
    pub deduplicated: usize,
    /// Sum of raw sizes over all entries.
    pub raw_bytes: u64,
    /// Sum of raw sizes of distinct blobs.
    pub unique_raw_bytes: u64,
    /// Size of the stored blobs (versions 5 and 6: before the frame's compression).
    pub stored_bytes: u64,
    /// Size of the whole bundle.
    pub bundle_bytes: u64,
}

/// How many earlier blobs, fewest differing bytes first, are tried as a blob's zstd
/// dictionary.
pub(super) const DICT_CANDIDATES: usize = 4;
/// How many earlier blobs of the same length, most recent first, are tried as the base of
/// a patch.
pub(super) const PATCH_CANDIDATES: usize = 1024;
/// How many bytes of the blobs before it a version 5 or 6 blob's candidates are measured
/// against.
pub(super) const SOLID_WINDOW: usize = 256 << 10;

/// Writes a bundle.
///
/// Identical BTF added for several kernels is stored once:
///
/// ```
/// use corepack::{Bundle, BundleBuilder, KernelId};
///
/// let mut builder = BundleBuilder::new("execsnoop", "1.0");
/// builder.add_object("execsnoop.bpf.o", b"the BPF object's bytes");
/// let focal = KernelId::new("x86_64", "5.4.0-42-generic", "ubuntu", "20.04");
/// let bionic = KernelId::new("x86_64", "5.4.0-42-generic", "ubuntu", "18.04");
/// assert_eq!(builder.add_kernel(focal, b"one BTF")?, 0);
/// assert_eq!(builder.add_kernel(bionic, b"one BTF")?, 0);
/// let (bytes, stats) = builder.finish()?;
/// assert_eq!((stats.entries, stats.blobs, stats.deduplicated), (2, 1, 1));
///
/// let bundle = Bundle::open(&bytes)?;
/// assert_eq!(bundle.blobs().len(), 1);
/// assert!(bundle.objects()[0].matches(b"the BPF object's bytes"));
/// # Ok::<(), corepack::BundleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BundleBuilder {
    program: String,
    program_version: String,
    objects: Vec<ObjectInfo>,
    raw: Vec<Vec<u8>>,
    /// Distinct blobs by the SHA-256 of their bytes.
    by_hash: HashMap<[u8; 32], u32>,
    entries: Vec<Entry>,
    level: i32,
    references: bool,
    version: u16,
}

impl BundleBuilder {
    /// A builder for `program` at `program_version`.
    pub fn new(program: &str, program_version: &str) -> Self {
        BundleBuilder {
            program: program.into(),
            program_version: program_version.into(),
            objects: Vec::new(),
            raw: Vec::new(),
            by_hash: HashMap::new(),
            entries: Vec::new(),
            level: 19,
            references: true,
            version: FORMAT_VERSION,
        }
    }

    /// zstd level (default 19).
    pub fn level(mut self, level: i32) -> Self {
        self.level = level;
        self
    }

    /// Whether blobs may be stored against earlier blobs, as patches or with them as zstd
    /// dictionary (default true). Without, every blob is its own zstd frame.
    pub fn references(mut self, on: bool) -> Self {
        self.references = on;
        self
    }

    /// The format version to write (default [`FORMAT_VERSION`], the smallest): 6 or 5,
    /// the manifest and every blob in one LZMA2 stream under one check; 4 (written as 3
    /// when no entry has a build-id), every blob its own zstd frame (or patch) with its
    /// own check, so that a reader decodes and checks only the blobs of the kernel it
    /// wants (for bundles of many megabytes). [`BundleBuilder::finish`] refuses other
    /// versions with [`BundleError::UnsupportedVersion`].
    pub fn version(mut self, version: u16) -> Self {
        self.version = version;
        self
    }

    /// Records a BPF object the bundle was minimized for (its name and digest).
    pub fn add_object(&mut self, name: &str, bytes: &[u8]) {
        self.objects.push(ObjectInfo {
            name: name.into(),
            digest: check(bytes),
        });
    }

    /// Adds one kernel's BTF. Returns the blob index (shared with earlier identical BTF).
    /// A kernel given twice is an error.
    pub fn add_kernel(&mut self, kernel: KernelId, btf: &[u8]) -> Result<u32, BundleError> {
        self.add_kernel_with_build_id(kernel, &[], btf)
    }

    /// Adds one kernel's BTF with its GNU build-id (empty: unknown). Two entries may
    /// share a kernel id if their build-ids differ (a kernel rebuilt under the same
    /// name); the same kernel id and build-id twice is an error, as is a build-id longer
    /// than [`crate::notes::MAX_BUILD_ID`].
    pub fn add_kernel_with_build_id(
        &mut self,
        kernel: KernelId,
        build_id: &[u8],
        btf: &[u8],
    ) -> Result<u32, BundleError> {
        let kernel = KernelId {
            arch: normalize_arch(&kernel.arch),
            ..kernel
        };
        if self
            .entries
            .iter()
            .any(|e| e.kernel == kernel && e.build_id == build_id)
        {
            return Err(BundleError::Manifest(format!(
                "kernel {kernel}{} added twice",
                build_id_suffix(build_id)
            )));
        }
        if build_id.len() > crate::notes::MAX_BUILD_ID {
            return Err(BundleError::TooLarge("build-id"));
        }
        if btf.len() as u64 > MAX_RAW_BLOB {
            return Err(BundleError::TooLarge("blob"));
        }
        let hash: [u8; 32] = sha2::Sha256::digest(btf).into();
        let blob = match self.by_hash.get(&hash) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.raw.len())
                    .map_err(|_| BundleError::TooLarge("blob count"))?;
                self.raw.push(btf.to_vec());
                self.by_hash.insert(hash, i);
                i
            }
        };
        self.entries.push(Entry {
            kernel,
            blob,
            build_id: build_id.to_vec(),
        });
        Ok(blob)
    }

    /// Stores blob `i` in the smallest way: a patch of the earlier same-length blob that
    /// gives the shortest one, a zstd frame of the BTF or of its columns (`cols[i]`),
    /// plain or against one of the [`DICT_CANDIDATES`] earlier blobs with the fewest
    /// differing bytes. Only blobs whose chains have room are bases.
    fn store(
        &self,
        i: usize,
        depth: &[usize],
        cols: &[Option<Vec<u8>>],
    ) -> Result<(Vec<u8>, Codec), BundleError> {
        let raw = &self.raw[i];
        let zstd = |data: &[u8], dict: Option<&[u8]>| {
            zstd_compress(data, dict, self.level).map_err(BundleError::Compress)
        };
        let mut best = (zstd(raw, None)?, Codec::Zstd);
        let mut consider = |stored: Vec<u8>, codec: Codec| {
            if stored.len() < best.0.len() {
                best = (stored, codec);
            }
        };
        if let Some(c) = &cols[i] {
            consider(zstd(c, None)?, Codec::Columns);
        }
        if self.references {
            let open = |j: &usize| depth[*j] < MAX_CHAIN;
            for j in (0..i)
                .rev()
                .filter(open)
                .filter(|&j| self.raw[j].len() == raw.len())
                .take(PATCH_CANDIDATES)
            {
                if let Some(p) = patch::encode(&self.raw[j], raw) {
                    consider(p, Codec::Patch { base: j as u32 });
                }
            }
            let distance = |other: &[u8]| {
                let same = raw.iter().zip(other).filter(|(a, b)| a == b).count();
                raw.len().max(other.len()) - same
            };
            let mut near: Vec<(usize, usize)> = (0..i)
                .filter(open)
                .map(|j| (distance(&self.raw[j]), j))
                .collect();
            near.sort_unstable();
            for &(_, j) in near.iter().take(DICT_CANDIDATES) {
                let base = j as u32;
                consider(zstd(raw, Some(&self.raw[j]))?, Codec::ZstdDict { base });
                if let (Some(c), Some(dict)) = (&cols[i], &cols[j]) {
                    consider(zstd(c, Some(dict))?, Codec::ColumnsDict { base });
                }
            }
        }
        Ok(best)
    }

    /// Stores blob `i` of a version 5 or 6 bundle, whose blobs follow each other in one
    /// LZMA2 stream: as it is, as its columns (`cols[i]`, stored as `columns_codec`), or as the shortest patch of an earlier blob of
    /// the same length whose chain has room, whichever gives the shortest LZMA2 stream
    /// after the last [`SOLID_WINDOW`] bytes of the blobs before it (`data`).
    fn store_solid(
        &self,
        i: usize,
        depth: &[usize],
        cols: &[Option<Vec<u8>>],
        columns_codec: Codec,
        data: &[u8],
    ) -> Result<(Vec<u8>, Codec), BundleError> {
        let raw = &self.raw[i];
        let mut candidates = vec![(raw.clone(), Codec::Plain)];
        if let Some(c) = &cols[i] {
            candidates.push((c.clone(), columns_codec));
        }
        if self.references {
            let patch = (0..i)
                .rev()
                .filter(|&j| depth[j] < MAX_CHAIN && self.raw[j].len() == raw.len())
                .take(PATCH_CANDIDATES)
                .filter_map(|j| Some((patch::encode(&self.raw[j], raw)?, j)))
                .min_by_key(|(p, _)| p.len());
            if let Some((p, j)) = patch {
                candidates.push((p, Codec::Patch { base: j as u32 }));
            }
        }
        let history = &data[data.len().saturating_sub(SOLID_WINDOW)..];
        let mut best: Option<(usize, Vec<u8>, Codec)> = None;
        for (stored, codec) in candidates {
            let cost = lzma_compress(&[history, &stored].concat())
                .map_err(BundleError::Compress)?
                .len();
            if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                best = Some((cost, stored, codec));
            }
        }
        let (_, stored, codec) = best.expect("a blob always has its plain candidate");
        Ok((stored, codec))
    }

    /// The format version [`BundleBuilder::finish`] writes: the one asked for, except
    /// that 3 and 4 are 4 only when some entry has a build-id (other bundles stay
    /// readable by version 3 readers).
    fn written_version(&self) -> Result<u16, BundleError> {
        match self.version {
            3 | 4 if self.entries.iter().any(|e| !e.build_id.is_empty()) => Ok(4),
            3 | 4 => Ok(OLDEST_FORMAT_VERSION),
            5..=FORMAT_VERSION => Ok(self.version),
            found => Err(BundleError::UnsupportedVersion { found }),
        }
    }

    /// Serializes the bundle, after checking that every blob decodes to what was added.
    pub fn finish(&self) -> Result<(Vec<u8>, BuildStats), BundleError> {
        let version = self.written_version()?;
        let solid = version >= 5;
        let mut data = Vec::new();
        let mut infos = Vec::with_capacity(self.raw.len());
        let mut depth = Vec::with_capacity(self.raw.len());
        // Version 6 stores columns in their second layout, versions 3 to 5 in the first.
        let (layout, columns_codec) = match version {
            6.. => (Layout::FirstUse, Codec::PlainColumns2),
            _ => (Layout::Ordinals, Codec::PlainColumns),
        };
        let cols: Vec<Option<Vec<u8>>> = self
            .raw
            .iter()
            .map(|r| columns::encode(r, layout))
            .collect();
        for (i, raw) in self.raw.iter().enumerate() {
            let (stored, codec) = if solid {
                self.store_solid(i, &depth, &cols, columns_codec, &data)?
            } else {
                self.store(i, &depth, &cols)?
            };
            depth.push(codec.base().map_or(1, |b| depth[b as usize] + 1));
            infos.push(BlobInfo {
                offset: data.len() as u64,
                stored_len: stored.len() as u64,
                raw_len: raw.len() as u64,
                codec,
                check: (!solid).then(|| check(&stored)),
            });
            data.extend_from_slice(&stored);
        }

        let m = self.manifest(&infos, version)?;
        let mut m = m;
        if m.len() as u64 > MAX_RAW_MANIFEST {
            return Err(BundleError::TooLarge("manifest"));
        }
        // Version 5: the blobs follow the manifest in its frame.
        let (what, limit) = if solid {
            m.append(&mut data);
            ("frame", MAX_RAW_FRAME)
        } else {
            ("manifest", MAX_RAW_MANIFEST)
        };
        if m.len() as u64 > limit {
            return Err(BundleError::TooLarge(what));
        }
        let manifest_raw_len = m.len() as u32;
        let m = if solid {
            lzma_compress(&m)
        } else {
            zstd_compress(&m, None, self.level)
        }
        .map_err(BundleError::Compress)?;
        let manifest_len = u32::try_from(m.len()).map_err(|_| BundleError::TooLarge(what))?;
        let mut out = Vec::with_capacity(HEADER_LEN + m.len() + data.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&manifest_len.to_le_bytes());
        out.extend_from_slice(&manifest_raw_len.to_le_bytes());
        out.extend_from_slice(&check(&m));
        debug_assert_eq!(out.len(), HEADER_LEN);
        out.extend_from_slice(&m);
        out.extend_from_slice(&data);

        let bundle = Bundle::open(&out)?;
        for (i, raw) in self.raw.iter().enumerate() {
            if bundle.blob(i)? != *raw {
                return Err(BundleError::RoundTrip(i));
            }
        }
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
            stored_bytes: infos.iter().map(|b| b.stored_len).sum(),
            bundle_bytes: out.len() as u64,
        };
        Ok((out, stats))
    }
    /// The manifest of format `version` for blobs `infos`.
    fn manifest(&self, infos: &[BlobInfo], version: u16) -> Result<Vec<u8>, BundleError> {
        let mut m = Writer::default();
        m.str(&self.program);
        m.str(&self.program_version);
        m.uint(self.objects.len() as u64);
        match version {
            6.. => {
                // The names (NUL-ended, without the suffix they all share, stored once),
                // then the digests (like with like compresses better).
                let suffix = self
                    .objects
                    .iter()
                    .map(|o| o.name.as_str())
                    .reduce(|a, b| &a[a.len() - common_suffix(a, b)..])
                    .unwrap_or("");
                m.str(suffix);
                for o in &self.objects {
                    no_nul("object name", &o.name)?;
                    m.cstr(&o.name[..o.name.len() - suffix.len()]);
                }
                self.objects.iter().for_each(|o| m.bytes(&o.digest));
            }
            5 => {
                self.objects.iter().for_each(|o| m.str(&o.name));
                self.objects.iter().for_each(|o| m.bytes(&o.digest));
            }
            _ => {
                for o in &self.objects {
                    m.str(&o.name);
                    m.bytes(&o.digest);
                }
            }
        }
        m.uint(infos.len() as u64);
        for (i, b) in infos.iter().enumerate() {
            b.codec.write(&mut m, i, version);
            m.uint(b.stored_len);
            // Version 6 leaves out a patch's length (its base's) and a plain blob's (its
            // stored length).
            if version < 6 || !matches!(b.codec, Codec::Patch { .. } | Codec::Plain) {
                m.uint(b.raw_len);
            }
            if let Some(c) = &b.check {
                m.bytes(c);
            }
        }
        // Distros (arch, os-release ID and VERSION_ID) once each, in order of first use;
        // each entry names its distro by index.
        let mut groups: Vec<(&str, &str, &str)> = Vec::new();
        let mut group_of = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let k = &e.kernel;
            let g = (k.arch.as_str(), k.os_id.as_str(), k.version_id.as_str());
            let i = groups.iter().position(|x| *x == g).unwrap_or_else(|| {
                groups.push(g);
                groups.len() - 1
            });
            group_of.push(i);
        }
        m.uint(groups.len() as u64);
        for (arch, os_id, version_id) in &groups {
            m.str(arch);
            m.str(os_id);
            m.str(version_id);
        }
        // Kernel names front-coded: the bytes shared with the previous entry's name, then
        // the rest (consecutive names share most of theirs). Version 6: the rest
        // NUL-ended, the blob as the difference from the previous entry's blob + 1.
        m.uint(self.entries.len() as u64);
        let mut prev = "";
        let mut prev_blob = u32::MAX;
        for (e, g) in self.entries.iter().zip(group_of) {
            let name = e.kernel.uname.as_str();
            let shared = common_prefix(prev, name);
            m.uint(g as u64);
            m.uint(shared as u64);
            if version >= 6 {
                no_nul("kernel name", name)?;
                m.cstr(&name[shared..]);
                m.uint(zigzag(e.blob.wrapping_sub(prev_blob.wrapping_add(1)) as i32));
            } else {
                m.str(&name[shared..]);
                m.uint(e.blob as u64);
            }
            if version >= 4 {
                m.uint(e.build_id.len() as u64);
                m.bytes(&e.build_id);
            }
            prev = name;
            prev_blob = e.blob;
        }
        Ok(m.0)
    }
}

/// Refuses a NUL byte in a string version 6 stores NUL-ended.
fn no_nul(what: &str, s: &str) -> Result<(), BundleError> {
    match s.contains('\0') {
        true => Err(BundleError::Manifest(format!(
            "{what} {:?} has a NUL byte",
            s
        ))),
        false => Ok(()),
    }
}

/// Length of the longest common suffix of `a` and `b` that starts on a character
/// boundary.
fn common_suffix(a: &str, b: &str) -> usize {
    a.char_indices()
        .rev()
        .zip(b.chars().rev())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((i, _), _)| a.len() - i)
}

/// Length of the longest common prefix of `a` and `b` that ends on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}
