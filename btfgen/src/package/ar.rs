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
    pub fn new(mut inner: R) -> io::Result<Self> {
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
    pub fn next(&mut self) -> io::Result<Option<Header>> {
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
    pub fn skip_rest(&mut self) -> io::Result<()> {
        let left = self.left;
        io::copy(&mut self.by_ref().take(left), &mut io::sink())?;
        Ok(())
    }

    /// The underlying reader (positioned after the current member's data, if read).
    pub fn into_inner(self) -> R {
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
