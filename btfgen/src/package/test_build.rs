//! Test-only builders of package parts: ar archives, tar archives, cpio entries,
//! compressed streams. Written from the formats' descriptions (ar(5), POSIX ustar/GNU tar via the
//! `tar` crate's header type), independent of the readers under test.

use std::io::Write;

/// One ar member: the 60-byte header (name, mtime, uid, gid, mode, size, "`\n"),
/// the data, and a `\n` when the size is odd.
pub(super) fn ar_member(name: &str, data: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
        0,
        0,
        0,
        "100644",
        data.len()
    )
    .into_bytes();
    assert_eq!(m.len(), 60, "ar header of {name}");
    m.extend_from_slice(data);
    if data.len() % 2 == 1 {
        m.push(b'\n');
    }
    m
}

/// An ar archive of `members`.
pub(super) fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut a = b"!<arch>\n".to_vec();
    for (name, data) in members {
        a.extend(ar_member(name, data));
    }
    a
}

/// A tar entry: path as stored (unchecked, so hostile paths can be written), and a
/// regular file's data or a symbolic link's target.
pub(super) enum TarEntry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
}

/// A GNU tar archive of `entries`.
pub(super) fn tar(entries: &[TarEntry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (path, data): (&str, &[u8]) = match e {
            TarEntry::File(path, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                (path, data)
            }
            TarEntry::Symlink(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name(target).unwrap();
                (path, &[])
            }
        };
        let name = &mut h.as_gnu_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// `data` compressed as `compression` names it (`none`, `xz`, `lzma`, `zstd`, `gzip`,
/// `bzip2`).
pub(super) fn compress(compression: &str, data: &[u8]) -> Vec<u8> {
    match compression {
        "none" => data.to_vec(),
        "xz" => {
            let mut w = liblzma::write::XzEncoder::new(Vec::new(), 6);
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "lzma" => {
            let opts = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
            let stream = liblzma::stream::Stream::new_lzma_encoder(&opts).unwrap();
            let mut w = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "zstd" => zstd::encode_all(data, 3).unwrap(),
        "gzip" => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        "bzip2" => {
            let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            w.write_all(data).unwrap();
            w.finish().unwrap()
        }
        other => panic!("no compressor {other}"),
    }
}

/// A cpio entry of `magic` (`070701` newc, `070702` crc): 13 eight-digit hex fields
/// (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
/// rdevminor, namesize, check), the NUL-terminated name padded to 4 bytes, then the
/// data padded to 4 bytes.
pub(super) fn cpio_entry(magic: &str, name: &str, mode: u32, data: &[u8]) -> Vec<u8> {
    let namesize = name.len() as u32 + 1;
    let fields = [
        0,
        mode,
        0,
        0,
        1,
        0,
        data.len() as u32,
        0,
        0,
        0,
        0,
        namesize,
        0,
    ];
    let mut e = magic.as_bytes().to_vec();
    for f in fields {
        e.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    e.extend_from_slice(name.as_bytes());
    e.push(0);
    pad4(&mut e);
    e.extend_from_slice(data);
    pad4(&mut e);
    e
}

/// The newc entry that ends a cpio archive.
pub(super) fn cpio_trailer() -> Vec<u8> {
    cpio_entry("070701", "TRAILER!!!", 0, b"")
}

/// Zeros up to a multiple of 4 bytes.
pub(super) fn pad4(v: &mut Vec<u8>) {
    v.resize(v.len().div_ceil(4) * 4, 0);
}
