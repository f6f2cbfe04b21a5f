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
    pub fn new(inner: R) -> Self {
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
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += got;
        if got < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// The next `n` bytes: the data of the entry just returned. The reader is not
    /// meant to be used for further entries afterwards.
    pub fn data(&mut self, n: u64) -> io::Take<&mut R> {
        self.pos += n;
        (&mut self.inner).take(n)
    }

    /// The next entry header (after the previous entry's data was skipped).
    pub fn next(&mut self) -> Result<Entry, CpioError> {
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
