//! Reading a bundle: [`Bundle::open`] validates everything but the blobs' contents
//! without decoding any blob (versions 5 and 6: after checking and decompressing the one frame
//! that holds the manifest and the blobs); [`Bundle::blob`] checks (versions 3 and 4) and
//! decodes one blob (and the earlier blobs it is stored against).

use std::borrow::Cow;
use std::collections::HashSet;

use super::codec::{lzma_decompress, patch, zstd_decompress, Codec};
use super::columns::{self, Layout};
use super::wire::{self, Reader};
use super::*;
use crate::notes::MAX_BUILD_ID;

/// A validated bundle, borrowing its bytes.
#[derive(Debug, Clone)]
pub struct Bundle<'a> {
    /// The program the bundle was built for.
    pub program: String,
    /// Its version.
    pub program_version: String,
    objects: Vec<ObjectInfo>,
    blobs: Vec<BlobInfo>,
    entries: Vec<Entry>,
    /// The stored blobs: the file's data section, or in versions 5 and 6 the decompressed
    /// frame's bytes after the manifest.
    data: Cow<'a, [u8]>,
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

fn le_u32(b: &[u8]) -> u64 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64
}

impl<'a> Bundle<'a> {
    /// Parses and validates a bundle: magic, version, flags, the manifest's check, its
    /// structure, every blob's bounds and base, entry indices, and that the blobs end
    /// exactly where the file (versions 5 and 6: the frame) does. Decodes no blob; in versions 5 and 6
    /// the check covers the blobs too, and the frame holding them is decompressed.
    ///
    /// ```
    /// use corepack::{Bundle, BundleBuilder, BundleError, KernelId};
    ///
    /// let mut builder = BundleBuilder::new("execsnoop", "1.0");
    /// builder.add_kernel(KernelId::new("x86_64", "6.1.0-18-amd64", "debian", "12"), b"btf")?;
    /// let (bytes, _) = builder.finish()?;
    ///
    /// let bundle = Bundle::open(&bytes)?;
    /// assert_eq!(bundle.program, "execsnoop");
    /// assert_eq!(bundle.entries()[0].kernel.uname, "6.1.0-18-amd64");
    /// // Any byte missing from the end is noticed before a blob is read.
    /// assert!(matches!(
    ///     Bundle::open(&bytes[..bytes.len() - 1]),
    ///     Err(BundleError::Truncated { .. })
    /// ));
    /// # Ok::<(), BundleError>(())
    /// ```
    pub fn open(bytes: &'a [u8]) -> Result<Self, BundleError> {
        need(bytes, 0, MAGIC.len() as u64, "magic")?;
        let mut magic = [0; 8];
        magic.copy_from_slice(&bytes[..8]);
        if magic != MAGIC {
            return Err(BundleError::BadMagic(magic));
        }
        need(bytes, 0, HEADER_LEN as u64, "header")?;
        let h = &bytes[..HEADER_LEN];
        let version = u16::from_le_bytes([h[8], h[9]]);
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(BundleError::UnsupportedVersion { found: version });
        }
        if h[10..12] != [0, 0] {
            return Err(BundleError::Flags);
        }
        let manifest_len = le_u32(&h[12..16]);
        let manifest_raw_len = le_u32(&h[16..20]);
        let solid = version >= 5;
        let limit = if solid {
            MAX_RAW_FRAME
        } else {
            MAX_RAW_MANIFEST
        };
        if manifest_raw_len > limit {
            return Err(BundleError::Manifest(format!(
                "claims {manifest_raw_len} decompressed bytes (limit {limit})"
            )));
        }
        let mut expected = [0; CHECK_LEN];
        expected.copy_from_slice(&h[20..20 + CHECK_LEN]);
        need(bytes, HEADER_LEN as u64, manifest_len, "manifest")?;
        let data_start = HEADER_LEN + manifest_len as usize;
        let stored_manifest = &bytes[HEADER_LEN..data_start];
        let computed = check(stored_manifest);
        if computed != expected {
            return Err(BundleError::ManifestChecksum {
                expected: hex(&expected),
                computed: hex(&computed),
            });
        }
        let manifest = if solid {
            lzma_decompress(stored_manifest, manifest_raw_len)
        } else {
            zstd_decompress(stored_manifest, None, manifest_raw_len)
        }
        .map_err(BundleError::ManifestDecompress)?;
        if manifest.len() as u64 != manifest_raw_len {
            return Err(BundleError::Manifest(format!(
                "decompressed to {} bytes, the header says {manifest_raw_len}",
                manifest.len()
            )));
        }
        if solid && bytes.len() > data_start {
            return Err(BundleError::TrailingBytes(
                (bytes.len() - data_start) as u64,
            ));
        }
        let mut r = Reader::new(&manifest);
        let program = r.str("program name")?;
        let program_version = r.str("program version")?;

        let n = r.count("object count", 1 + CHECK_LEN)?;
        let mut objects = Vec::with_capacity(n);
        if solid {
            // Versions 5 and 6: the names, then the digests; version 6's names are
            // NUL-ended and share a suffix stored once.
            let suffix = if version >= 6 {
                r.str("object name suffix")?
            } else {
                String::new()
            };
            let names = (0..n)
                .map(|_| {
                    if version >= 6 {
                        r.cstr("object name").map(|stem| stem + &suffix)
                    } else {
                        r.str("object name")
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            for name in names {
                let digest = r.array("object digest")?;
                objects.push(ObjectInfo { name, digest });
            }
        } else {
            for _ in 0..n {
                objects.push(ObjectInfo {
                    name: r.str("object name")?,
                    digest: r.array("object digest")?,
                });
            }
        }

        let min_blob = match version {
            6.. => 2,
            5 => 3,
            _ => 3 + CHECK_LEN,
        };
        let n = r.count("blob count", min_blob)?;
        let mut blobs: Vec<BlobInfo> = Vec::with_capacity(n);
        let mut depth: Vec<usize> = Vec::with_capacity(n);
        let mut offset = 0u64;
        for index in 0..n {
            let tag = r.u8("blob codec")?;
            let codec = Codec::read(tag, &mut r, index, version)?;
            let stored_len = r.uint("blob stored length")?;
            // Version 6 leaves out the lengths the codec implies: a patch's is its
            // base's, a plain blob's its stored length.
            let raw_len = match (version, codec) {
                (6.., Codec::Patch { base }) => blobs[base as usize].raw_len,
                (6.., Codec::Plain) => stored_len,
                _ => r.uint("blob length")?,
            };
            let b = BlobInfo {
                offset,
                stored_len,
                raw_len,
                codec,
                check: if solid {
                    None
                } else {
                    Some(r.array("blob check")?)
                },
            };
            if b.codec == Codec::Plain && b.raw_len != b.stored_len {
                return Err(BundleError::Manifest(format!(
                    "blob {index} is stored plain but its lengths differ"
                )));
            }
            if b.raw_len > MAX_RAW_BLOB {
                return Err(BundleError::Manifest(format!(
                    "blob {index} claims {} decoded bytes (limit {MAX_RAW_BLOB})",
                    b.raw_len
                )));
            }
            let d = match codec.base() {
                None => 1,
                Some(base) => {
                    let base = base as usize;
                    if depth[base] >= MAX_CHAIN {
                        return Err(BundleError::Manifest(format!(
                            "blob {index} is stored against blob {base}, whose chain is already {MAX_CHAIN} long"
                        )));
                    }
                    if matches!(codec, Codec::Patch { .. }) && blobs[base].raw_len != b.raw_len {
                        return Err(BundleError::Manifest(format!(
                            "blob {index} patches blob {base}, which has another length"
                        )));
                    }
                    depth[base] + 1
                }
            };
            offset = offset.checked_add(b.stored_len).ok_or_else(|| {
                BundleError::Manifest(format!("blob {index}: stored length overflows"))
            })?;
            blobs.push(b);
            depth.push(d);
        }

        let n = r.count("distro count", 3)?;
        let mut groups = Vec::with_capacity(n);
        for _ in 0..n {
            groups.push((
                r.str("distro arch")?,
                r.str("distro os id")?,
                r.str("distro version id")?,
            ));
        }
        let n = r.count("entry count", if version >= 4 { 5 } else { 4 })?;
        let mut entries: Vec<Entry> = Vec::with_capacity(n);
        let mut seen = HashSet::with_capacity(n);
        for entry in 0..n {
            let (arch, os_id, version_id) = groups[r.index("entry distro", groups.len())?].clone();
            // Front-coded: a prefix of the previous entry's name, then the rest.
            let prev = entries.last().map_or("", |e| e.kernel.uname.as_str());
            let shared = r.index("entry uname prefix", prev.len() + 1)?;
            let prefix = prev.get(..shared).ok_or_else(|| {
                BundleError::Manifest(format!("entry {entry}: uname prefix splits a character"))
            })?;
            let rest = if version >= 6 {
                r.cstr("entry uname")?
            } else {
                r.str("entry uname")?
            };
            let uname = format!("{prefix}{rest}");
            let blob = if version >= 6 {
                // The difference from the previous entry's blob + 1, zigzag (wrapping in
                // 32 bits).
                let z = r.uint("entry blob")?;
                let d = wire::unzigzag(z).ok_or_else(|| {
                    BundleError::Manifest(format!("entry {entry}: blob delta {z} over 32 bits"))
                })?;
                let prev = entries.last().map_or(u32::MAX, |e| e.blob);
                prev.wrapping_add(1).wrapping_add(d as u32) as u64
            } else {
                r.uint("entry blob")?
            };
            let build_id = if version >= 4 {
                let at = r.uint("entry build-id length")?;
                if at as usize > MAX_BUILD_ID {
                    return Err(BundleError::Manifest(format!(
                        "entry {entry}: build-id of {at} bytes (at most {MAX_BUILD_ID})"
                    )));
                }
                r.take(at as usize, "entry build-id")?.to_vec()
            } else {
                Vec::new()
            };
            if blob >= blobs.len() as u64 {
                return Err(BundleError::BlobIndex {
                    entry,
                    blob,
                    count: blobs.len(),
                });
            }
            let kernel = KernelId {
                arch,
                uname,
                os_id,
                version_id,
            };
            if !seen.insert((kernel.clone(), build_id.clone())) {
                return Err(BundleError::Manifest(format!(
                    "entry {entry} repeats kernel {kernel}{}",
                    build_id_suffix(&build_id)
                )));
            }
            entries.push(Entry {
                kernel,
                blob: blob as u32,
                build_id,
            });
        }
        // The blobs: after the manifest in a version 5 or 6 frame, else the rest of the file.
        let data: Cow<'a, [u8]> = if solid {
            let rest = r.rest();
            if offset != rest.len() as u64 {
                return Err(BundleError::Manifest(format!(
                    "the blobs' stored lengths add up to {offset} bytes, the frame has {} after the manifest",
                    rest.len()
                )));
            }
            Cow::Owned(rest.to_vec())
        } else {
            r.finish()?;
            let data = &bytes[data_start..];
            for b in &blobs {
                need(data, b.offset, b.stored_len, "blob")
                    .map_err(|e| shift(e, data_start as u64))?;
            }
            if offset < data.len() as u64 {
                return Err(BundleError::TrailingBytes(data.len() as u64 - offset));
            }
            Cow::Borrowed(data)
        };
        Ok(Bundle {
            program,
            program_version,
            objects,
            blobs,
            entries,
            data,
        })
    }

    /// The kernel entries, in the order they were added.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The BPF objects the bundle was minimized for.
    pub fn objects(&self) -> &[ObjectInfo] {
        &self.objects
    }

    /// The distinct blobs.
    pub fn blobs(&self) -> &[BlobInfo] {
        &self.blobs
    }

    /// Reads one blob: checks its stored bytes (versions 3 and 4; in versions 5 and 6
    /// [`Bundle::open`] checked them), decodes the blob it is stored against (a chain of
    /// at most [`MAX_CHAIN`]), then decodes it into at most its manifest length. Other
    /// blobs are not touched.
    pub fn blob(&self, index: usize) -> Result<Vec<u8>, BundleError> {
        let b = self.blobs.get(index).ok_or_else(|| {
            BundleError::Manifest(format!("no blob {index} (bundle has {})", self.blobs.len()))
        })?;
        let stored = &self.data[b.offset as usize..(b.offset + b.stored_len) as usize];
        if let Some(expected) = &b.check {
            let computed = check(stored);
            if computed != *expected {
                return Err(BundleError::BlobChecksum {
                    index,
                    expected: hex(expected),
                    computed: hex(&computed),
                });
            }
        }
        let base = match b.codec.base() {
            Some(i) => Some(self.blob(i as usize)?),
            None => None,
        };
        let decode = |reason: String| BundleError::Decode { index, reason };
        let raw = match b.codec {
            Codec::Zstd | Codec::ZstdDict { .. } => {
                zstd_decompress(stored, base.as_deref(), b.raw_len)
                    .map_err(|e| decode(e.to_string()))?
            }
            Codec::Patch { .. } => {
                patch::apply(base.as_deref().unwrap_or_default(), stored).map_err(decode)?
            }
            Codec::Columns | Codec::ColumnsDict { .. } => {
                let dict = match &base {
                    Some(b) => Some(columns::encode(b, Layout::Ordinals).ok_or_else(|| {
                        decode("its base blob is not BTF that re-encodes as columns".into())
                    })?),
                    None => None,
                };
                let c = zstd_decompress(stored, dict.as_deref(), b.raw_len)
                    .map_err(|e| decode(e.to_string()))?;
                columns::decode(&c, b.raw_len as usize, Layout::Ordinals).map_err(decode)?
            }
            Codec::Plain => stored.to_vec(),
            Codec::PlainColumns => {
                columns::decode(stored, b.raw_len as usize, Layout::Ordinals).map_err(decode)?
            }
            Codec::PlainColumns2 => {
                columns::decode(stored, b.raw_len as usize, Layout::FirstUse).map_err(decode)?
            }
        };
        if raw.len() as u64 != b.raw_len {
            return Err(BundleError::BlobLength {
                index,
                expected: b.raw_len,
                found: raw.len() as u64,
            });
        }
        Ok(raw)
    }

    /// The entries whose kernel has this GNU build-id (none for an empty one).
    pub fn find_build_id(&self, build_id: &[u8]) -> impl Iterator<Item = (usize, &Entry)> + '_ {
        let want = build_id.to_vec();
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| !want.is_empty() && e.build_id == want)
    }

    /// The entry for exactly this kernel, if the bundle has one.
    pub fn find(&self, arch: &str, uname: &str, os_id: &str, version_id: &str) -> Option<&Entry> {
        let k = KernelId::new(arch, uname, os_id, version_id);
        self.entries.iter().find(|e| e.kernel == k)
    }

    /// The BTF of exactly this kernel (arch normalized), or `Ok(None)` if the bundle has
    /// no such entry. Decodes that one blob (and its chain) only.
    ///
    /// ```
    /// use corepack::{Bundle, BundleBuilder, KernelId};
    ///
    /// let mut builder = BundleBuilder::new("execsnoop", "1.0");
    /// let jammy = KernelId::new("aarch64", "5.15.0-91-generic", "ubuntu", "22.04");
    /// builder.add_kernel(jammy, b"btf")?;
    /// let (bytes, _) = builder.finish()?;
    /// let bundle = Bundle::open(&bytes)?;
    ///
    /// // Debian's and BTFHub's `arm64` is `uname -m`'s `aarch64`.
    /// let btf = bundle.blob_for("arm64", "5.15.0-91-generic", "ubuntu", "22.04")?;
    /// assert_eq!(btf.as_deref(), Some(&b"btf"[..]));
    /// // Every field must match: another VERSION_ID is no entry (not an error).
    /// assert_eq!(bundle.blob_for("aarch64", "5.15.0-91-generic", "ubuntu", "20.04")?, None);
    /// # Ok::<(), corepack::BundleError>(())
    /// ```
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

    /// Checks and decodes every blob. With [`Bundle::open`] (the manifest's check, and
    /// that the blobs exactly fill the rest of the file) this covers every byte.
    pub fn verify(&self) -> Result<(), BundleError> {
        (0..self.blobs.len()).try_for_each(|i| self.blob(i).map(drop))
    }

    /// Sum of decoded sizes over entries (what the kernels would take undeduplicated
    /// and uncompressed).
    pub fn entries_raw_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| self.blobs[e.blob as usize].raw_len)
            .sum()
    }
}

/// A truncation found in the data section, with its offset in the file.
fn shift(e: BundleError, by: u64) -> BundleError {
    match e {
        BundleError::Truncated {
            what,
            offset,
            needed,
            available,
        } => BundleError::Truncated {
            what,
            offset: offset + by,
            needed,
            available,
        },
        other => other,
    }
}
