//! Opening and reading the files a command is given: the one place inputs are read.
//!
//! A regular file is read (or, by the encoder, mapped) whole: its size is known. Anything
//! else — a character device such as a zero device, a FIFO, a socket, or a regular file
//! that reports size 0 as /proc files do — is a stream of unknown length, read to at most
//! a bound set by the kind of input, the largest legitimate input of that kind
//! ([`MAX_BTF_STREAM`], [`MAX_ELF_STREAM`], [`MAX_TEXT_STREAM`]), and refused with one
//! line beyond it.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Most bytes read from a non-regular file holding BTF (raw BTF, an ELF file with a
/// `.BTF` section, a BPF object, a corepack bundle): 256 MiB. The largest kernel BTF is tens of MiB; an
/// ELF file larger than this (a vmlinux with DWARF) is read from a regular file.
pub const MAX_BTF_STREAM: u64 = 256 << 20;

/// Most bytes read from a non-regular text file (a `fetch --catalog` file): 64 MiB,
/// thousands of times the built-in catalog.
pub const MAX_TEXT_STREAM: u64 = 64 << 20;

/// Most bytes read from a non-regular file the encoder reads (an ELF file with DWARF or
/// a debuginfo package): 4 GiB, above the largest kernel debuginfo vmlinux (~1.5 GB).
pub const MAX_ELF_STREAM: u64 = 4 << 30;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Opening or reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A non-regular file gave more than its bound.
    #[error(
        "{kind} gave more than {} without ending; refusing it (copy it to a regular file if it is real)",
        human_bytes(*limit)
    )]
    TooLarge {
        /// What the file is (`character device`, `FIFO`, ...).
        kind: &'static str,
        /// The bound passed.
        limit: u64,
    },
    /// Memory for a regular file's bytes could not be had.
    #[error("cannot allocate {} to read it", human_bytes(*size))]
    NoMemory {
        /// The file's size.
        size: u64,
    },
}

/// An opened input: a regular file, or a stream read to a bound.
pub struct Input {
    file: File,
    /// `None` for a regular file of known size, else what kind of stream it is.
    stream: Option<&'static str>,
    /// Bytes already read from a stream by [`Input::head`].
    head: Vec<u8>,
}

impl Input {
    /// Opens `path` and tells a regular file from a stream.
    pub fn open(path: &Path) -> io::Result<Input> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let stream = stream_kind(&meta);
        Ok(Input {
            file,
            stream,
            head: Vec::new(),
        })
    }

    /// The file, when it is a regular file of known size (to map it); `None` for a stream.
    pub fn regular(&self) -> Option<&File> {
        self.stream.is_none().then_some(&self.file)
    }

    /// The first `n` bytes (fewer when the input is shorter), to tell its format before
    /// reading the rest; [`Input::read_all`] still returns them.
    pub fn head(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.head.len() < n {
            let want = (n - self.head.len()) as u64;
            (&mut self.file).take(want).read_to_end(&mut self.head)?;
        }
        Ok(&self.head[..n.min(self.head.len())])
    }

    /// A reader of all the bytes, [`Input::head`]'s included, for a consumer that
    /// streams them and bounds what it keeps (package extraction).
    pub fn into_reader(self) -> impl Read {
        io::Cursor::new(self.head).chain(self.file)
    }

    /// All the bytes; a stream is refused once it passes `max_stream` bytes.
    pub fn read_all(mut self, max_stream: u64) -> Result<Vec<u8>, InputError> {
        let mut bytes = std::mem::take(&mut self.head);
        match self.stream {
            None => {
                let size = self.file.metadata()?.len();
                let extra = usize::try_from(size)
                    .ok()
                    .and_then(|s| s.checked_sub(bytes.len()));
                if let Some(extra) = extra {
                    bytes
                        .try_reserve_exact(extra)
                        .map_err(|_| InputError::NoMemory { size })?;
                } else {
                    return Err(InputError::NoMemory { size });
                }
                self.file.read_to_end(&mut bytes)?;
            }
            Some(kind) => {
                let left = (max_stream + 1).saturating_sub(bytes.len() as u64);
                (&mut self.file).take(left).read_to_end(&mut bytes)?;
                if bytes.len() as u64 > max_stream {
                    return Err(InputError::TooLarge {
                        kind,
                        limit: max_stream,
                    });
                }
            }
        }
        Ok(bytes)
    }
}

/// Reads the file at `path` whole; a non-regular one to at most `max_stream` bytes.
pub fn read(path: &Path, max_stream: u64) -> Result<Vec<u8>, InputError> {
    Input::open(path)?.read_all(max_stream)
}

/// `None` for a regular file whose size is known; else what kind of stream it is.
fn stream_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        // /proc and some sysfs files say 0 and yet have (possibly endless) contents.
        (meta.len() == 0).then_some("file of unknown size")
    } else if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_fifo() {
        Some("FIFO")
    } else if t.is_socket() {
        Some("socket")
    } else {
        Some("file that is not a regular file")
    }
}

/// `n` bytes as `N GiB`, `N MiB`, `N KiB` when exact, else `N bytes`.
fn human_bytes(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n % (1 << shift) == 0 {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_fifo_is_read_to_its_bound_and_refused_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                // Writes until the reader closes its end (EPIPE), i.e. "forever".
                while f.write_all(&[7u8; 4096]).is_ok() {}
            })
        };
        let err = read(&fifo, 10_000).unwrap_err();
        writer.join().unwrap();
        assert_eq!(
            err.to_string(),
            "FIFO gave more than 10000 bytes without ending; refusing it (copy it to a regular file if it is real)"
        );
    }

    #[test]
    fn a_stream_at_its_bound_is_read_whole_head_included() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                f.write_all(&(0..=255u8).cycle().take(1024).collect::<Vec<_>>())
                    .unwrap();
            })
        };
        let mut input = Input::open(&fifo).unwrap();
        assert!(input.regular().is_none());
        assert_eq!(input.head(4).unwrap(), [0, 1, 2, 3]);
        let bytes = input.read_all(1024).unwrap();
        writer.join().unwrap();
        assert_eq!(bytes.len(), 1024);
        assert_eq!(&bytes[..6], [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_regular_file_is_read_whole_whatever_the_stream_bound() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        std::fs::write(&p, [1u8; 5000]).unwrap();
        let mut input = Input::open(&p).unwrap();
        assert!(input.regular().is_some());
        assert_eq!(input.head(2).unwrap(), [1, 1]);
        assert_eq!(input.read_all(10).unwrap(), vec![1u8; 5000]);
    }

    #[test]
    fn sizes_are_named_in_binary_units_when_exact() {
        assert_eq!(human_bytes(MAX_BTF_STREAM), "256 MiB");
        assert_eq!(human_bytes(MAX_ELF_STREAM), "4 GiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
