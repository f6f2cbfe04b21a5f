//! A streaming reader of RPM payloads: cpio "newc" (`070701`), "crc" (`070702`) and
//! rpm's "stripped" entries (`07070X`, in packages with files over 4 GiB: only the
//! file's index in the RPM header, which holds its name and size).
//!
//! Hand-written rather than the `cpio` crate, which does not know `07070X`.

use std::io::{self, Read};

/// Longest member name accepted (Linux's PATH_MAX is 4096).
const MAX_NAME: u64 = 64 << 10;

pub(super) enum CpioError {
    Io(io::Error),
    Format(String),
}

impl From<io::Error> for CpioError {
    fn from(e: io::Error) -> Self {
        CpioError::Io(e)
    }
}

pub(super) enum Entry {
    File { name: String, mode: u32, size: u64 },
    Stripped { index: u32 },
    Trailer,
}

pub(super) struct Reader<R> {
    inner: R,
    /// Bytes consumed so far (entries are aligned on 4 bytes from the start).
    pos: u64,
}

impl<R: Read> Reader<R> {
    pub(super) fn new(inner: R) -> Self {
        Reader { inner, pos: 0 }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn align(&mut self) -> io::Result<()> {
        let pad = (4 - self.pos % 4) % 4;
        self.skip(pad)
    }

    /// Skips `n` bytes (an entry's data the caller does not want).
    pub(super) fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += got;
        if got < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// The next `n` bytes: the data of the entry just returned. The reader is not
    /// meant to be used for further entries afterwards.
    pub(super) fn data(&mut self, n: u64) -> io::Take<&mut R> {
        self.pos += n;
        (&mut self.inner).take(n)
    }

    /// The next entry header (after the previous entry's data was skipped).
    pub(super) fn next(&mut self) -> Result<Entry, CpioError> {
        self.align()?;
        let mut magic = [0u8; 6];
        self.read_exact(&mut magic)?;
        match &magic {
            b"070701" | b"070702" => {}
            b"07070X" => {
                let mut index = [0u8; 8];
                self.read_exact(&mut index)?;
                let index = hex(&index)?;
                self.align()?;
                return Ok(Entry::Stripped { index });
            }
            _ => {
                return Err(CpioError::Format(format!(
                    "bad cpio magic {:?} at offset {}",
                    String::from_utf8_lossy(&magic),
                    self.pos - 6
                )))
            }
        }
        let mut fields = [0u8; 13 * 8];
        self.read_exact(&mut fields)?;
        let field = |i: usize| hex(&fields[i * 8..i * 8 + 8]);
        let mode = field(1)?;
        let size = field(6)? as u64;
        let namesize = field(11)? as u64;
        if namesize == 0 || namesize > MAX_NAME {
            return Err(CpioError::Format(format!(
                "implausible cpio name size {namesize}"
            )));
        }
        let mut name = vec![0u8; namesize as usize];
        self.read_exact(&mut name)?;
        if name.pop() != Some(0) {
            return Err(CpioError::Format("cpio name without its NUL".into()));
        }
        self.align()?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "TRAILER!!!" {
            return Ok(Entry::Trailer);
        }
        Ok(Entry::File { name, mode, size })
    }
}

fn hex(b: &[u8]) -> Result<u32, CpioError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or_else(|| {
            CpioError::Format(format!(
                "bad cpio header field {:?}",
                String::from_utf8_lossy(b)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::test_build::{cpio_entry as entry, cpio_trailer as trailer, pad4};

    /// An entry as read: name (or `#INDEX`), mode, size, data.
    type Got = (String, u32, u64, Vec<u8>);

    /// The entries up to the trailer, as (name or `#index`, mode, size, data).
    fn read_all(archive: &[u8]) -> Result<Vec<Got>, String> {
        let mut r = Reader::new(archive);
        let mut out = Vec::new();
        loop {
            match r.next() {
                Ok(Entry::Trailer) => return Ok(out),
                Ok(Entry::File { name, mode, size }) => {
                    // Copied from the input, so that skip() is what reads past it.
                    let start = archive.len() - remaining(&r);
                    let data = archive
                        .get(start..start + size as usize)
                        .unwrap_or_default()
                        .to_vec();
                    r.skip(size).map_err(|e| format!("io: {e}"))?;
                    out.push((name, mode, size, data));
                }
                Ok(Entry::Stripped { index }) => out.push((format!("#{index}"), 0, 0, Vec::new())),
                Err(CpioError::Io(e)) => return Err(format!("io: {e}")),
                Err(CpioError::Format(m)) => return Err(m),
            }
        }
    }

    /// Bytes of the input not consumed yet.
    fn remaining(r: &Reader<&[u8]>) -> usize {
        r.inner.len()
    }

    #[test]
    fn newc_and_crc_entries() {
        let archive = [
            entry(
                "070701",
                "./usr/lib/debug/boot/vmlinux-1",
                0o100644,
                b"hello",
            ),
            entry("070702", "./usr", 0o040755, b""),
            entry("070701", "x", 0o120777, b"target"),
            trailer(),
        ]
        .concat();
        let got = read_all(&archive).unwrap();
        let want: Vec<Got> = vec![
            (
                "./usr/lib/debug/boot/vmlinux-1".into(),
                0o100644,
                5,
                b"hello".to_vec(),
            ),
            ("./usr".into(), 0o040755, 0, Vec::new()),
            ("x".into(), 0o120777, 6, b"target".to_vec()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn names_and_data_are_aligned_on_four_bytes() {
        // 110-byte header + "ab\0" = 113, padded to 116; 1 data byte padded to 120.
        let e = entry("070701", "ab", 0o100644, b"z");
        assert_eq!(e.len(), 120);
        for name in ["a", "ab", "abc", "abcd"] {
            let archive = [entry("070701", name, 0o100644, b"123"), trailer()].concat();
            let got = read_all(&archive).unwrap();
            assert_eq!(got[0].0, name);
            assert_eq!(got[0].3, b"123");
        }
    }

    #[test]
    fn data_reads_exactly_the_entry() {
        let archive = [entry("070701", "f", 0o100644, b"12345"), trailer()].concat();
        let mut r = Reader::new(&archive[..]);
        let Ok(Entry::File { size, .. }) = r.next() else {
            panic!("not a file entry");
        };
        let mut data = Vec::new();
        r.data(size).read_to_end(&mut data).unwrap();
        assert_eq!(data, b"12345");
    }

    #[test]
    fn stripped_entries_carry_only_an_index() {
        // rpm's `07070X`: magic, the file's index in the header as 8 hex digits, then
        // the data at the next 4-byte boundary.
        let mut archive = b"07070X0000002a".to_vec();
        pad4(&mut archive);
        archive.extend([b"07070X000000ff".to_vec(), vec![0, 0]].concat());
        archive.extend(trailer());
        let got = read_all(&archive).unwrap();
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["#42", "#255"]);
    }

    #[test]
    fn malformed_headers_are_format_errors() {
        let good = entry("070701", "f", 0o100644, b"1234");
        let field = |i: usize, v: &[u8]| {
            let mut e = good.clone();
            e[6 + 8 * i..6 + 8 * i + 8].copy_from_slice(v);
            e
        };
        let mut no_nul = good.clone();
        no_nul[110 + 1] = b'x';
        let cases: Vec<(&str, Vec<u8>, String)> = vec![
            (
                "magic",
                b"070707".iter().copied().chain([0u8; 104]).collect(),
                "bad cpio magic \"070707\" at offset 0".into(),
            ),
            (
                "magic of the second entry",
                [good.clone(), b"garbage!".to_vec()].concat(),
                format!("bad cpio magic \"garbag\" at offset {}", good.len()),
            ),
            (
                "hex",
                field(1, b"0000000g"),
                "bad cpio header field \"0000000g\"".into(),
            ),
            (
                "name size 0",
                field(11, b"00000000"),
                "implausible cpio name size 0".into(),
            ),
            (
                "name size over 64 KiB",
                field(11, b"00010001"),
                "implausible cpio name size 65537".into(),
            ),
            (
                "name without NUL",
                no_nul,
                "cpio name without its NUL".into(),
            ),
            (
                "stripped index",
                b"07070Xzzzzzzzz".to_vec(),
                "bad cpio header field \"zzzzzzzz\"".into(),
            ),
            (
                "truncated stripped index",
                b"07070Xzz".to_vec(),
                "io: failed to fill whole buffer".into(),
            ),
            (
                "truncated header",
                good[..50].to_vec(),
                "io: failed to fill whole buffer".into(),
            ),
            (
                "truncated data",
                good[..good.len() - 2].to_vec(),
                "io: unexpected end of file".into(),
            ),
        ];
        for (what, archive, want) in cases {
            assert_eq!(read_all(&archive).unwrap_err(), want, "{what}");
        }
    }
}
