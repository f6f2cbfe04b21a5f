//! A streaming reader of the `ar` container of Debian packages: the global header,
//! then members of a 60-byte header and data padded to an even length.
//!
//! Hand-written rather than the `ar` crate, which indexes GNU name tables with
//! offsets from the input unchecked and sizes its name table buffer by the header
//! alone; a .deb's members (`debian-binary`, `control.tar*`, `data.tar*`) need neither.

use std::io::{self, Read};

const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER_LEN: usize = 60;

/// One member's header.
pub(super) struct Header {
    /// The name, without trailing spaces (GNU ar's trailing `/` is kept).
    pub name: String,
    /// Data bytes.
    pub size: u64,
}

/// Reads members one after the other from `R`.
pub(super) struct Reader<R> {
    inner: R,
    /// Data bytes of the current member not read yet.
    left: u64,
    /// The current member has an odd size: one padding byte follows its data.
    pad: bool,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<R: Read> Reader<R> {
    /// Checks the global header.
    pub(super) fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 8];
        inner.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("not an ar archive (bad magic)".into()));
        }
        Ok(Reader {
            inner,
            left: 0,
            pad: false,
        })
    }

    /// The next member's header (after skipping what is left of the current one), or
    /// `None` at the end of the archive.
    pub(super) fn next(&mut self) -> io::Result<Option<Header>> {
        self.skip_rest()?;
        if self.left > 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut h = [0u8; HEADER_LEN];
        if self.pad {
            self.pad = false;
            if self.inner.read(&mut h[..1])? == 0 {
                return Ok(None);
            }
            if h[0] != b'\n' {
                return Err(invalid(format!("bad padding byte {:#04x}", h[0])));
            }
        }
        let first = self.inner.read(&mut h[..1])?;
        if first == 0 {
            return Ok(None);
        }
        self.inner.read_exact(&mut h[1..])?;
        if &h[58..60] != b"`\n" {
            return Err(invalid("bad member header terminator".into()));
        }
        let name = String::from_utf8_lossy(&h[..16]).trim_end().to_string();
        let size = std::str::from_utf8(&h[48..58])
            .ok()
            .map(str::trim_end)
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| invalid(format!("member `{name}`: bad size field")))?;
        self.left = size;
        self.pad = size % 2 == 1;
        Ok(Some(Header { name, size }))
    }

    /// Reads what is left of the current member's data, as far as the input goes.
    pub(super) fn skip_rest(&mut self) -> io::Result<()> {
        let left = self.left;
        io::copy(&mut self.by_ref().take(left), &mut io::sink())?;
        Ok(())
    }

    /// The underlying reader (positioned after the current member's data, if read).
    pub(super) fn into_inner(self) -> R {
        self.inner
    }
}

/// The current member's data.
impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if max == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::test_build::{ar, ar_member};

    /// Every member's (name, size, data), reading the data of each.
    fn members(archive: &[u8]) -> io::Result<Vec<(String, u64, Vec<u8>)>> {
        let mut r = Reader::new(archive)?;
        let mut out = Vec::new();
        while let Some(h) = r.next()? {
            let mut data = Vec::new();
            r.read_to_end(&mut data)?;
            out.push((h.name, h.size, data));
        }
        Ok(out)
    }

    #[test]
    fn members_in_order_with_odd_sizes_padded() {
        let a = ar(&[
            ("debian-binary", b"2.0\n"),
            ("odd", b"abc"),
            ("control.tar.gz/", b"x"),
            ("data.tar.xz", b""),
        ]);
        // 8 + (60 + 4) + (60 + 3 + 1) + (60 + 1 + 1) + 60
        assert_eq!(a.len(), 258);
        let got = members(&a).unwrap();
        let want: Vec<(String, u64, Vec<u8>)> = vec![
            ("debian-binary".into(), 4, b"2.0\n".to_vec()),
            ("odd".into(), 3, b"abc".to_vec()),
            // GNU ar's trailing `/` is kept; deb.rs trims it.
            ("control.tar.gz/".into(), 1, b"x".to_vec()),
            ("data.tar.xz".into(), 0, Vec::new()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn unread_data_is_skipped() {
        let a = ar(&[("one", b"12345"), ("two", b"67")]);
        let mut r = Reader::new(&a[..]).unwrap();
        assert_eq!(r.next().unwrap().unwrap().name, "one");
        let mut two = [0u8; 1];
        r.read_exact(&mut two).unwrap();
        let h = r.next().unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.size), ("two", 2));
        let mut data = Vec::new();
        r.read_to_end(&mut data).unwrap();
        assert_eq!(data, b"67");
        assert!(r.next().unwrap().is_none());
    }

    #[test]
    fn gnu_name_index_members_are_passed_through() {
        // GNU ar keeps names over 15 bytes in a `//` member and refers to them as
        // `/OFFSET`; a .deb has none, so the reader returns them as they are.
        let table = b"a-very-long-member-name.tar/\n";
        let a = ar(&[("//", table), ("/0", b"data")]);
        let got = members(&a).unwrap();
        assert_eq!(got[0], ("//".into(), table.len() as u64, table.to_vec()));
        assert_eq!(got[1], ("/0".into(), 4, b"data".to_vec()));
    }

    #[test]
    fn an_archive_of_no_members() {
        assert!(members(b"!<arch>\n").unwrap().is_empty());
    }

    #[test]
    fn malformed_archives_are_errors() {
        let good = ar(&[("odd", b"abc"), ("b", b"x")]);
        let mut bad_size = ar_member("m", b"ab");
        bad_size[48..58].copy_from_slice(b"1x        ");
        let mut empty_size = ar_member("m", b"ab");
        empty_size[48..58].copy_from_slice(b"          ");
        let mut bad_end = ar_member("m", b"ab");
        bad_end[58] = b'\'';
        let mut bad_pad = good.clone();
        bad_pad[8 + 63] = b'X';
        let cases: Vec<(&str, Vec<u8>, io::ErrorKind, &str)> = vec![
            (
                "magic",
                b"!<arch>X".to_vec(),
                io::ErrorKind::InvalidData,
                "not an ar archive (bad magic)",
            ),
            (
                "size",
                [&b"!<arch>\n"[..], &bad_size].concat(),
                io::ErrorKind::InvalidData,
                "member `m`: bad size field",
            ),
            (
                "empty size",
                [&b"!<arch>\n"[..], &empty_size].concat(),
                io::ErrorKind::InvalidData,
                "member `m`: bad size field",
            ),
            (
                "terminator",
                [&b"!<arch>\n"[..], &bad_end].concat(),
                io::ErrorKind::InvalidData,
                "bad member header terminator",
            ),
            (
                "padding",
                bad_pad,
                io::ErrorKind::InvalidData,
                "bad padding byte 0x58",
            ),
            (
                "short magic",
                b"!<ar".to_vec(),
                io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ),
            (
                "short header",
                good[..8 + 30].to_vec(),
                io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ),
            (
                "short data",
                good[..8 + 61].to_vec(),
                io::ErrorKind::UnexpectedEof,
                "unexpected end of file",
            ),
        ];
        for (what, archive, kind, message) in cases {
            let e = members(&archive).unwrap_err();
            assert_eq!(
                (e.kind(), e.to_string().as_str()),
                (kind, message),
                "{what}"
            );
        }
    }
}
