//! RPM: lead, signature header, header, then the compressed cpio payload.
//!
//! The header is parsed here (it is simple) rather than with the `rpm` crate, whose
//! minimum Rust version is above this workspace's and which pulls in much more than
//! the four tags needed: payload format and compressor, and, for the "stripped" cpio
//! of packages with files over 4 GiB, the file names, sizes, modes and link targets.

use std::io::{BufRead, BufReader, Read};

use super::cpio::{self, Entry};
use super::{decoder, drain, relative, Counting, Cx, Member, PackageError, PackageFormat, Vmlinux};
use crate::digest::{self, Algorithm, Checksum, DigestError, Hasher};

const LEAD_LEN: usize = 96;
const HEADER_MAGIC: [u8; 3] = [0x8e, 0xad, 0xe8];
/// rpm's own bounds on a header (lib/header.c `hdrchkTags`, `hdrchkData`).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;

/// Signature tags: header + payload size, 32 and 64 bits.
const SIGTAG_SIZE: u32 = 1000;
const SIGTAG_LONGSIZE: u32 = 270;
/// Signature tags: SHA-1 and SHA-256 of the header (hex).
const SIGTAG_SHA1: u32 = 269;
const SIGTAG_SHA256: u32 = 273;

const TAG_OLDFILENAMES: u32 = 1027;
const TAG_FILESIZES: u32 = 1028;
const TAG_FILEMODES: u32 = 1030;
const TAG_FILEDIGESTS: u32 = 1035;
const TAG_FILELINKTOS: u32 = 1036;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_PAYLOADFORMAT: u32 = 1124;
const TAG_PAYLOADCOMPRESSOR: u32 = 1125;
const TAG_LONGFILESIZES: u32 = 5008;
const TAG_FILEDIGESTALGO: u32 = 5011;
/// Digest of the compressed payload (rpm >= 4.14) and its algorithm.
const TAG_PAYLOADDIGEST: u32 = 5092;
const TAG_PAYLOADDIGESTALGO: u32 = 5093;

const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

pub(super) fn extract<R: Read>(reader: R, cx: &Cx) -> Result<Vmlinux, PackageError> {
    let (reader, count) = Counting::new(reader);
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut lead = [0u8; LEAD_LEN];
    r.read_exact(&mut lead)
        .map_err(|e| cx.read_error("RPM lead", e))?;
    if lead[..4] != [0xed, 0xab, 0xee, 0xdb] {
        return Err(cx.corrupt("RPM lead", "bad magic"));
    }
    // signature_type 5: a header-structured signature follows.
    if u16::from_be_bytes([lead[78], lead[79]]) != 5 {
        return Err(cx.unsupported(
            "RPM signature type",
            u16::from_be_bytes([lead[78], lead[79]]),
        ));
    }
    let sig = read_header(&mut r, cx, "RPM signature")?;
    let sig_len = sig.len;
    // Header and payload bytes, if the signature says.
    let expected = sig
        .ints(SIGTAG_LONGSIZE)
        .or_else(|| sig.ints(SIGTAG_SIZE))
        .and_then(|v| v.first().copied());
    // The signature header is padded to a multiple of 8 bytes.
    let pad = (8 - sig_len % 8) % 8;
    skip(&mut r, pad as u64).map_err(|e| cx.read_error("RPM signature", e))?;
    let header = read_header(&mut r, cx, "RPM header")?;
    // The header's digests in the signature: the strongest is checked.
    let recorded = [
        (SIGTAG_SHA1, Algorithm::Sha1),
        (SIGTAG_SHA256, Algorithm::Sha256),
    ]
    .into_iter()
    .filter_map(|(tag, a)| sig.string(tag).map(|hex| Checksum::new(a, hex)))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| cx.corrupt("RPM signature", e))?;
    if let Some(want) = digest::strongest(recorded) {
        want.check(&header.digest(want.algorithm))
            .map_err(|e| cx.corrupt("RPM header", format!("{e} (the signature's digest)")))?;
    }

    let format = header.string(TAG_PAYLOADFORMAT).unwrap_or("cpio");
    if format != "cpio" {
        return Err(cx.unsupported("RPM payload format", format));
    }
    // Without the tag, rpm's historic default: gzip.
    let compressor = header.string(TAG_PAYLOADCOMPRESSOR).unwrap_or("gzip");
    let header_start = LEAD_LEN as u64 + sig_len as u64 + pad as u64;
    // The compressed payload is hashed as it goes by, when the header has its digest.
    let digest = payload_digest(&header).map_err(|e| cx.corrupt("RPM header", e))?;
    let mut hashing = Hashing {
        inner: &mut r,
        hasher: digest.as_ref().map(|d| d.algorithm.hasher()),
    };
    let v = payload(&mut hashing, cx, &header, compressor);
    // Truncation explains a missing vmlinux or a damaged payload.
    let rest = drain(&mut hashing);
    let got_digest = hashing.hasher.take();
    drop(r);
    if let Some(expected) = expected {
        let got = count.get() - header_start;
        if got < expected {
            return Err(cx.corrupt(
                "RPM package",
                format!("truncated: header and payload end after {got} of their {expected} bytes"),
            ));
        }
    }
    let v = v?;
    rest.map_err(|e| cx.read_error("RPM package", e))?;
    if let (Some(want), Some(got)) = (digest, got_digest) {
        want.check_hasher(got)
            .map_err(|e| cx.corrupt("RPM payload", format!("{e} (the header's digest)")))?;
    }
    Ok(v)
}

/// The compressed payload's digest the header records (rpm >= 4.14), if it does; its
/// algorithm is sha256 (rpm's `%_payload_digest_algo`) when the header does not name one.
fn payload_digest(header: &Header) -> Result<Option<Checksum>, DigestError> {
    let Some(hex) = header
        .strings(TAG_PAYLOADDIGEST)
        .and_then(|d| d.into_iter().next())
        .filter(|d| !d.is_empty())
    else {
        return Ok(None);
    };
    let algorithm = Algorithm::from_pgp(header.first_int(TAG_PAYLOADDIGESTALGO).unwrap_or(8))?;
    Checksum::new(algorithm, &hex).map(Some)
}

/// A reader hashing what goes through it.
struct Hashing<'r, R> {
    inner: &'r mut R,
    hasher: Option<Hasher>,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

fn payload<R: Read>(
    r: &mut R,
    cx: &Cx,
    header: &Header,
    compressor: &str,
) -> Result<Vmlinux, PackageError> {
    let (dec, compression) = decoder(compressor, r)
        .ok_or_else(|| cx.unsupported("RPM payload compressor", compressor))?;
    let mut payload = cpio::Reader::new(cx.limit(dec));
    let mut files: Option<FileList> = None;
    let mut vmlinux = None;
    let mut modules = Vec::new();
    const WHAT: &str = "RPM payload";
    loop {
        let entry = payload.next().map_err(|e| match e {
            cpio::CpioError::Io(e) => cx.read_error(WHAT, e),
            cpio::CpioError::Format(d) => cx.corrupt(WHAT, d),
        })?;
        let (name, mode, size) = match entry {
            Entry::Trailer => break,
            Entry::File { name, mode, size } => (name, mode, size),
            Entry::Stripped { index } => {
                let (name, mode, size) = file_list(&mut files, header, cx)?
                    .get(index as usize)
                    .ok_or_else(|| cx.corrupt(WHAT, format!("file index {index} out of range")))?;
                // Header paths are absolute by construction; cpio's are `./`-relative.
                (format!(".{name}"), mode, size)
            }
        };
        let member = cx.check_member(&name)?;
        // Regular files only; hard-link entries other than the last carry no data.
        if mode & 0o170000 != 0o100000 || size == 0 {
            payload.skip(size).map_err(|e| cx.read_error(WHAT, e))?;
            continue;
        }
        // A header without file lists only goes unchecked; a digest of an unknown
        // algorithm does not.
        let mut digest = || -> Result<Result<Checksum, String>, PackageError> {
            let recorded = match file_list(&mut files, header, cx) {
                Ok(f) => f
                    .digest(relative(&name))
                    .map_err(|e| cx.corrupt("RPM header", format!("{name}: {e}")))?,
                Err(_) => None,
            };
            Ok(recorded.ok_or_else(|| format!("the RPM header records no digest of {name}")))
        };
        match member {
            Member::Vmlinux(release) if vmlinux.is_none() => {
                let digest = digest()?;
                let v = cx.write_vmlinux(
                    &mut payload.data(size),
                    size,
                    &name,
                    release,
                    PackageFormat::Rpm,
                    compression,
                    WHAT,
                    digest,
                )?;
                if cx.opts.modules.is_empty() {
                    return Ok(v);
                }
                vmlinux = Some(v);
            }
            Member::Module(release, module, c) if cx.wants_module(&module) => {
                let digest = digest()?;
                let m = cx.write_module(
                    &mut payload.data(size),
                    (size, c),
                    (&name, module),
                    WHAT,
                    digest,
                )?;
                modules.push((release, m));
            }
            _ => payload.skip(size).map_err(|e| cx.read_error(WHAT, e))?,
        }
    }
    let mut v = vmlinux.ok_or_else(|| cx.no_vmlinux())?;
    cx.attach_modules(&mut v, modules)?;
    Ok(v)
}

fn file_list<'f>(
    files: &'f mut Option<FileList>,
    header: &Header,
    cx: &Cx,
) -> Result<&'f FileList, PackageError> {
    match files {
        Some(f) => Ok(f),
        None => Ok(files.insert(FileList::new(header).map_err(|d| cx.corrupt("RPM header", d))?)),
    }
}

fn skip<R: Read>(r: &mut R, n: u64) -> std::io::Result<()> {
    let got = std::io::copy(&mut r.take(n), &mut std::io::sink())?;
    if got < n {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// A header structure: the index entries and the data store.
struct Header {
    /// (tag, type, offset, count)
    index: Vec<(u32, u32, u32, u32)>,
    store: Vec<u8>,
    /// Bytes on disk (16 + 16 × entries + store).
    len: usize,
    /// The 16 bytes before the index, and the index as on disk (for its digests).
    intro: [u8; 16],
    raw_index: Vec<u8>,
}

fn read_header<R: BufRead>(r: &mut R, cx: &Cx, what: &'static str) -> Result<Header, PackageError> {
    let mut intro = [0u8; 16];
    r.read_exact(&mut intro)
        .map_err(|e| cx.read_error(what, e))?;
    if intro[..3] != HEADER_MAGIC || intro[3] != 1 {
        return Err(cx.corrupt(what, "bad magic"));
    }
    let tags = u32::from_be_bytes(intro[8..12].try_into().unwrap());
    let data = u32::from_be_bytes(intro[12..16].try_into().unwrap());
    if tags == 0 || tags > MAX_TAGS || data > MAX_DATA {
        return Err(cx.corrupt(
            what,
            format!("implausible size ({tags} tags, {data} bytes)"),
        ));
    }
    // Read as the bytes arrive: the sizes come from the input, and a short input must
    // not first cost the 256 MiB they may claim.
    let mut exact = |n: u64| {
        let mut buf = Vec::new();
        match r.by_ref().take(n).read_to_end(&mut buf) {
            Ok(got) if got as u64 == n => Ok(buf),
            Ok(_) => Err(cx.read_error(what, std::io::ErrorKind::UnexpectedEof.into())),
            Err(e) => Err(cx.read_error(what, e)),
        }
    };
    let raw = exact(tags as u64 * 16)?;
    let store = exact(data as u64)?;
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    let index = raw
        .chunks_exact(16)
        .map(|e| (be(&e[0..4]), be(&e[4..8]), be(&e[8..12]), be(&e[12..16])))
        .collect();
    Ok(Header {
        index,
        store,
        len: 16 + raw.len() + data as usize,
        intro,
        raw_index: raw,
    })
}

impl Header {
    /// The digest of the header's bytes as on disk, hex.
    fn digest(&self, algorithm: Algorithm) -> String {
        let mut h = algorithm.hasher();
        for part in [&self.intro[..], &self.raw_index, &self.store] {
            h.update(part);
        }
        h.finish()
    }

    /// The first integer of `tag`.
    fn first_int(&self, tag: u32) -> Option<u64> {
        self.ints(tag).and_then(|v| v.first().copied())
    }

    fn entry(&self, tag: u32) -> Option<(u32, &[u8], usize)> {
        let &(_, ty, off, count) = self.index.iter().find(|e| e.0 == tag)?;
        Some((ty, self.store.get(off as usize..)?, count as usize))
    }

    fn string(&self, tag: u32) -> Option<&str> {
        match self.entry(tag)? {
            (TYPE_STRING | TYPE_I18NSTRING, data, _) => {
                let end = data.iter().position(|&b| b == 0)?;
                std::str::from_utf8(&data[..end]).ok()
            }
            _ => None,
        }
    }

    fn strings(&self, tag: u32) -> Option<Vec<String>> {
        let (ty, mut data, count) = self.entry(tag)?;
        if ty != TYPE_STRING_ARRAY && ty != TYPE_I18NSTRING {
            return None;
        }
        let mut out = Vec::with_capacity(count.min(data.len()));
        for _ in 0..count {
            let end = data.iter().position(|&b| b == 0)?;
            out.push(String::from_utf8_lossy(&data[..end]).into_owned());
            data = &data[end + 1..];
        }
        Some(out)
    }

    fn ints(&self, tag: u32) -> Option<Vec<u64>> {
        let (ty, data, count) = self.entry(tag)?;
        let width = match ty {
            TYPE_INT16 => 2,
            TYPE_INT32 => 4,
            TYPE_INT64 => 8,
            _ => return None,
        };
        let data = data.get(..count.checked_mul(width)?)?;
        Some(
            data.chunks_exact(width)
                .map(|c| c.iter().fold(0u64, |v, &b| v << 8 | b as u64))
                .collect(),
        )
    }
}

/// The header's file list, for stripped cpio entries (which carry only an index).
struct FileList {
    names: Vec<String>,
    modes: Vec<u64>,
    sizes: Vec<u64>,
    links: Vec<String>,
    digests: Vec<String>,
    /// `FILEDIGESTALGO` (a PGPHASHALGO number), when the header has it.
    algo: Option<u64>,
}

impl FileList {
    fn new(h: &Header) -> Result<FileList, String> {
        let names = match (
            h.strings(TAG_DIRNAMES),
            h.strings(TAG_BASENAMES),
            h.ints(TAG_DIRINDEXES),
        ) {
            (Some(dirs), Some(bases), Some(idx)) if bases.len() == idx.len() => bases
                .iter()
                .zip(&idx)
                .map(|(b, &i)| {
                    dirs.get(i as usize)
                        .map(|d| format!("{d}{b}"))
                        .ok_or("directory index out of range")
                })
                .collect::<Result<_, _>>()?,
            _ => h
                .strings(TAG_OLDFILENAMES)
                .ok_or("no file names in the header")?,
        };
        let sizes = h
            .ints(TAG_LONGFILESIZES)
            .or_else(|| h.ints(TAG_FILESIZES))
            .ok_or("no file sizes in the header")?;
        let modes = h.ints(TAG_FILEMODES).ok_or("no file modes in the header")?;
        let links = h.strings(TAG_FILELINKTOS).unwrap_or_default();
        let digests = h.strings(TAG_FILEDIGESTS).unwrap_or_default();
        let algo = h.first_int(TAG_FILEDIGESTALGO);
        if sizes.len() != names.len() || modes.len() != names.len() {
            return Err("file lists of different lengths".into());
        }
        Ok(FileList {
            names,
            modes,
            sizes,
            links,
            digests,
            algo,
        })
    }

    /// The recorded digest of the file at `path` (relative, as in the payload), if
    /// any: of the algorithm `FILEDIGESTALGO` names, md5 without it (rpm's default).
    fn digest(&self, path: &str) -> Result<Option<Checksum>, DigestError> {
        let Some(i) = self
            .names
            .iter()
            .position(|n| n.strip_prefix('/') == Some(path))
        else {
            return Ok(None);
        };
        let Some(hex) = self.digests.get(i).filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        Checksum::new(Algorithm::from_pgp(self.algo.unwrap_or(1))?, hex).map(Some)
    }

    /// Name, mode and payload size of file `i`: a symbolic link's data is its target,
    /// anything but a regular file or a link has none.
    fn get(&self, i: usize) -> Option<(String, u32, u64)> {
        let mode = *self.modes.get(i)? as u32;
        let size = match mode & 0o170000 {
            0o100000 => self.sizes[i],
            0o120000 => self.links.get(i).map_or(0, |l| l.len() as u64),
            _ => 0,
        };
        Some((self.names[i].clone(), mode, size))
    }
}

#[cfg(test)]
mod tests;
