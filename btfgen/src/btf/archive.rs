//! BTF in archives: BTFHub's `<uname -r>.btf.tar.xz` (a tar holding the one file
//! `<uname -r>.btf`, compressed with xz, as `tar -cJf` writes it and `btfgen fetch
//! --tar-xz` too), the same tar compressed with gzip or zstd or not at all, and
//! compressed raw BTF (`.btf.xz`, `.btf.gz`, `.btf.zst`).
//!
//! The format is told by content (the compression's magic, then the tar header's
//! `ustar`), never by name; the name only gives the kernel ([`kernel_name`]). The
//! archive is decompressed as a stream, to at most [`unpack_budget`] bytes, and a tar
//! must hold exactly one regular file with a plain name whose bytes are BTF (raw or an
//! ELF file with `.BTF`). Reading archives needs the crate feature `archive`; without
//! it an archive is refused with one line.

use super::read::BtfError;

/// File name endings of kernel BTF files, longest first: raw BTF and the archives
/// [`Btf::from_any_bytes`](super::Btf::from_any_bytes) reads. The kernel is the name without them ([`kernel_name`]).
pub const BTF_FILE_SUFFIXES: &[&str] = &[
    ".btf.tar.xz",
    ".btf.tar.gz",
    ".btf.tar.zst",
    ".btf.tgz",
    ".btf.tar",
    ".btf.xz",
    ".btf.gz",
    ".btf.zst",
    ".btf",
];

/// The kernel (`uname -r`) a BTF file's name stands for, as BTFHub's archive names its
/// files: `5.4.0-91-generic.btf.tar.xz` and `5.4.0-91-generic.btf` are both
/// `5.4.0-91-generic`. `None` when the name has none of [`BTF_FILE_SUFFIXES`] or is
/// only the suffix.
pub fn kernel_name(file_name: &str) -> Option<&str> {
    BTF_FILE_SUFFIXES
        .iter()
        .find_map(|s| file_name.strip_suffix(s))
        .filter(|k| !k.is_empty())
}

/// A compression told by its magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    Xz,
    Gzip,
    Zstd,
}

impl Compression {
    fn detect(data: &[u8]) -> Option<Compression> {
        if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else if data.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Xz => "xz",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Where a POSIX (ustar) or GNU tar header has its magic.
const TAR_MAGIC_AT: usize = 257;

/// Whether `block` starts with a tar header (`ustar` magic, POSIX or GNU).
fn is_tar(block: &[u8]) -> bool {
    block.get(TAR_MAGIC_AT..TAR_MAGIC_AT + 5) == Some(b"ustar")
}

/// Unpacked bytes an archive of `len` bytes may give, per byte of it: raw kernel BTF
/// compresses about 5:1 with xz.
pub const UNPACK_RATIO: u64 = 64;
/// The smallest unpack budget (a small BTF's archive is a few hundred bytes).
pub const UNPACK_FLOOR: u64 = 1 << 20;
/// The largest unpack budget: 256 MiB, beyond any kernel's BTF (tens of MiB).
pub const UNPACK_CAP: u64 = 256 << 20;

/// How many bytes an archive of `len` bytes may unpack to: [`UNPACK_RATIO`] times
/// `len`, within [`UNPACK_FLOOR`]..=[`UNPACK_CAP`].
pub fn unpack_budget(len: usize) -> u64 {
    (len as u64)
        .saturating_mul(UNPACK_RATIO)
        .clamp(UNPACK_FLOOR, UNPACK_CAP)
}

/// The BTF inside `data` when it is an archive (compressed, a tar, or both), or `None`
/// when it is not one (raw BTF or ELF, read as they are).
pub(crate) fn unpack(data: &[u8]) -> Result<Option<Vec<u8>>, BtfError> {
    let compression = Compression::detect(data);
    if compression.is_none() && !is_tar(data) {
        return Ok(None);
    }
    imp::unpack(data, compression).map(Some)
}

#[cfg(feature = "archive")]
mod imp {
    use std::io::{self, Read};
    use std::path::Component;

    use super::{is_tar, unpack_budget, BtfError, Compression, TAR_MAGIC_AT};

    /// Memory the xz decoder may use (its dictionary): `xz -9` needs 65 MiB.
    const XZ_MEMLIMIT: u64 = 256 << 20;

    fn err(msg: impl Into<String>) -> BtfError {
        BtfError::Archive(msg.into())
    }

    fn decoder<'d>(c: Compression, data: &'d [u8]) -> io::Result<Box<dyn Read + 'd>> {
        Ok(match c {
            // Concatenated streams: parallel xz (pixz, xz -T) writes several.
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_stream(
                data,
                liblzma::stream::Stream::new_stream_decoder(
                    XZ_MEMLIMIT,
                    liblzma::stream::CONCATENATED,
                )
                .map_err(io::Error::other)?,
            )),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(data)?),
        })
    }

    /// Reads `r` to its end, refusing it past `budget` bytes.
    fn read_bounded(r: impl Read, budget: u64, what: &str) -> Result<Vec<u8>, BtfError> {
        let mut out = Vec::new();
        r.take(budget + 1)
            .read_to_end(&mut out)
            .map_err(|e| err(format!("{what}: {e}")))?;
        if out.len() as u64 > budget {
            return Err(err(format!(
                "{what} unpacks to more than {budget} bytes (64 times the archive, at most 256 MiB); refusing it"
            )));
        }
        Ok(out)
    }

    pub(super) fn unpack(data: &[u8], c: Option<Compression>) -> Result<Vec<u8>, BtfError> {
        let budget = unpack_budget(data.len());
        let what = match c {
            Some(c) => format!("{}-compressed input", c.name()),
            None => "tar input".to_string(),
        };
        let mut r: Box<dyn Read + '_> = match c {
            Some(c) => decoder(c, data).map_err(|e| err(format!("{what}: {e}")))?,
            None => Box::new(data),
        };
        // The first block tells a tar from compressed raw BTF.
        let mut head = Vec::with_capacity(512);
        (&mut r)
            .take(512)
            .read_to_end(&mut head)
            .map_err(|e| err(format!("{what}: {e}")))?;
        let rest = io::Cursor::new(head.clone()).chain(r);
        if !(head.len() > TAR_MAGIC_AT && is_tar(&head)) {
            let bytes = read_bounded(rest, budget, &what)?;
            return checked(bytes, &what);
        }
        let what = match c {
            Some(c) => format!("tar.{} archive", c.name()),
            None => what,
        };
        let mut tar = tar::Archive::new(rest.take(budget + 1));
        let mut entries = tar.entries().map_err(|e| err(format!("{what}: {e}")))?;
        let mut entry = match entries.next() {
            Some(e) => e.map_err(|e| err(format!("{what}: {e}")))?,
            None => return Err(err(format!("{what} is empty"))),
        };
        let path = entry
            .path()
            .map_err(|e| err(format!("{what}: {e}")))?
            .into_owned();
        let shown = path.display().to_string();
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            return Err(err(format!(
                "{what}: member {shown} is not a regular file; it must hold one file <uname -r>.btf"
            )));
        }
        let mut parts = path.components();
        if !matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(err(format!(
                "{what}: member {shown} has a directory path; it must hold one file <uname -r>.btf"
            )));
        }
        if entry.size() > budget {
            return Err(err(format!(
                "{what}: member {shown} has {} bytes, more than {budget} (64 times the archive, at most 256 MiB)",
                entry.size()
            )));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| err(format!("{what}: {shown}: {e}")))?;
        drop(entry);
        if let Some(next) = entries.next() {
            let next = next
                .ok()
                .and_then(|e| e.path().ok().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "another".into());
            return Err(err(format!(
                "{what} holds more than one member ({shown}, {next}); it must hold one file <uname -r>.btf"
            )));
        }
        checked(bytes, &format!("{what}: member {shown}"))
    }

    /// `bytes` when they are raw BTF or ELF (not another archive).
    fn checked(bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, BtfError> {
        if bytes.starts_with(b"\x7fELF") || super::super::read::detect_endian(&bytes).is_ok() {
            Ok(bytes)
        } else {
            Err(err(format!("{what} is not BTF (neither raw BTF nor ELF)")))
        }
    }
}

#[cfg(not(feature = "archive"))]
mod imp {
    use super::{BtfError, Compression};

    pub(super) fn unpack(_: &[u8], c: Option<Compression>) -> Result<Vec<u8>, BtfError> {
        let what = c.map_or("a tar archive".to_string(), |c| {
            format!("{}-compressed", c.name())
        });
        Err(BtfError::Archive(format!(
            "input is {what}; this build reads no archives (btfgen feature `archive`)"
        )))
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
