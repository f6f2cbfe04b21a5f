//! How an output path is written, chosen from what is there: standard output for `-`,
//! a temporary file renamed into place for a regular file or a new path (the target of a
//! symbolic link, so that the link stays one), and a plain open-and-write for a
//! character or block device or a FIFO, which must never be replaced. An output that is
//! one of the inputs is refused before anything is written.

use std::collections::HashMap;
use std::fs::{FileType, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::atomic::{write_atomic, AtomicWriteError};

/// The most symbolic links followed when resolving a dangling link, as the kernel's
/// own limit (`MAXSYMLINKS`, 40).
const MAX_LINKS: usize = 40;

/// Why an output cannot be written. The I/O error, where there is one, is the
/// [`std::error::Error::source`], not part of the message (`{:#}` prints both).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output is one of the inputs (the same device and inode).
    #[error("{path}: is the input {input}; refusing to overwrite it")]
    IsInput {
        /// The output path.
        path: String,
        /// The input it is.
        input: String,
    },
    /// The output is a directory, a socket or some other file that cannot be written.
    #[error("{path}: is {what}, not a file to write")]
    NotWritable {
        /// The output path.
        path: String,
        /// What it is ("a directory", "a socket").
        what: &'static str,
    },
    /// Reading the output's metadata or its symbolic links failed.
    #[error("{path}: cannot inspect it")]
    Inspect {
        /// The output path.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// Opening or writing a device or FIFO failed (`/dev/full`: no space).
    #[error("{path}: {step}")]
    WriteThrough {
        /// The output path.
        path: String,
        /// What failed: opening or writing.
        step: &'static str,
        /// The I/O error.
        source: io::Error,
    },
    /// Writing standard output failed.
    #[error("standard output")]
    Stdout(#[source] io::Error),
    /// The atomic write of a regular file failed.
    #[error(transparent)]
    Atomic(#[from] AtomicWriteError),
}

/// Where the bytes of an output go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    /// Standard output (`-o -`).
    Stdout,
    /// A regular file or a new path, written to a temporary file in its directory and
    /// renamed over it. A symbolic link's resolved target is named here.
    Atomic(PathBuf),
    /// A character or block device or a FIFO: opened for writing and written, never
    /// replaced or unlinked.
    WriteThrough(PathBuf),
}

/// What kind of file an existing output path (symbolic links followed) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Regular,
    Device,
    Fifo,
    Directory,
    Socket,
}

impl FileKind {
    fn of(t: FileType) -> FileKind {
        if t.is_dir() {
            FileKind::Directory
        } else if t.is_char_device() || t.is_block_device() {
            FileKind::Device
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Regular
        }
    }
}

impl OutputTarget {
    /// Chooses how to write `path` from what is there now: `-` is standard output; a
    /// path that does not exist or is a regular file is written atomically; a
    /// symbolic link is resolved and its target written atomically in the target's
    /// directory (a dangling link creates its target); a device or FIFO is written
    /// through. A directory or socket is an error.
    pub fn choose(path: &Path) -> Result<OutputTarget, OutputError> {
        if path.as_os_str() == "-" {
            return Ok(OutputTarget::Stdout);
        }
        let inspect = |source| OutputError::Inspect {
            path: path.display().to_string(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(m) => Self::for_kind(path, FileKind::of(m.file_type())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A new path, or a symbolic link to one.
                Ok(OutputTarget::Atomic(resolve_dangling(path)?))
            }
            Err(e) => Err(inspect(e)),
        }
    }

    /// The target for an existing `path` of kind `kind` (links followed).
    fn for_kind(path: &Path, kind: FileKind) -> Result<OutputTarget, OutputError> {
        let not = |what| OutputError::NotWritable {
            path: path.display().to_string(),
            what,
        };
        match kind {
            // Opened by the path given: /dev/stdout's link through /proc names no
            // file that could be opened by its resolved name ("pipe:[123]").
            FileKind::Device | FileKind::Fifo => Ok(OutputTarget::WriteThrough(path.to_path_buf())),
            FileKind::Regular => {
                let real = if is_symlink(path) {
                    std::fs::canonicalize(path).map_err(|source| OutputError::Inspect {
                        path: path.display().to_string(),
                        source,
                    })?
                } else {
                    path.to_path_buf()
                };
                Ok(OutputTarget::Atomic(real))
            }
            FileKind::Directory => Err(not("a directory")),
            FileKind::Socket => Err(not("a socket")),
        }
    }

    /// The path written, `None` for standard output.
    pub fn path(&self) -> Option<&Path> {
        match self {
            OutputTarget::Stdout => None,
            OutputTarget::Atomic(p) | OutputTarget::WriteThrough(p) => Some(p),
        }
    }

    /// Writes `bytes` to the target. On standard output a reader that stopped early
    /// (`| head`) is not an error.
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        match self {
            OutputTarget::Stdout => {
                let mut out = io::stdout().lock();
                match out.write_all(bytes).and_then(|()| out.flush()) {
                    Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(OutputError::Stdout(e)),
                    _ => Ok(()),
                }
            }
            OutputTarget::Atomic(p) => Ok(write_atomic(p, bytes)?),
            OutputTarget::WriteThrough(p) => {
                let fail = |step| {
                    move |source| OutputError::WriteThrough {
                        path: p.display().to_string(),
                        step,
                        source,
                    }
                };
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .map_err(fail("cannot open it for writing"))?;
                f.write_all(bytes)
                    .and_then(|()| f.flush())
                    .map_err(fail("write failed"))
            }
        }
    }
}

/// Whether `path` itself is a symbolic link.
fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// `path` with its symbolic links followed to the first name that does not exist
/// (`path` itself when it is no link).
fn resolve_dangling(path: &Path) -> Result<PathBuf, OutputError> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p).map_err(|source| OutputError::Inspect {
                    path: p.display().to_string(),
                    source,
                })?;
                // A relative link is relative to the link's directory.
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    // Only when the links changed under us: the kernel follows as many (ELOOP).
    Err(OutputError::Inspect {
        path: path.display().to_string(),
        source: io::Error::other("too many levels of symbolic links"),
    })
}

/// The device and inode of `path` (links followed), if it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path)
        .ok()
        .map(|m: Metadata| (m.dev(), m.ino()))
}

/// A command's input files by device and inode (symbolic links followed), stated once:
/// what an output must not be.
#[derive(Debug, Default)]
pub struct Inputs {
    ids: HashMap<(u64, u64), PathBuf>,
}

impl Inputs {
    /// The inputs at `paths`; one that cannot be read now is left out (reading it
    /// fails later with its own error).
    pub fn new<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Inputs {
        let mut ids = HashMap::new();
        for p in paths {
            if let Some(id) = identity(p.as_ref()) {
                ids.entry(id).or_insert_with(|| p.as_ref().to_path_buf());
            }
        }
        Inputs { ids }
    }

    /// Refuses an `output` that is one of the inputs: the same device and inode, so a
    /// symbolic link to an input, or a hard link, is the input too. Standard output
    /// (`-`) and a new path are none.
    pub fn refuse(&self, output: &Path) -> Result<(), OutputError> {
        if output.as_os_str() == "-" {
            return Ok(());
        }
        match identity(output).and_then(|id| self.ids.get(&id)) {
            Some(input) => Err(OutputError::IsInput {
                path: output.display().to_string(),
                input: input.display().to_string(),
            }),
            None => Ok(()),
        }
    }
}

/// [`Inputs::refuse`], then [`OutputTarget::choose`]: called before the work that
/// makes the output, so that a refusal costs nothing and writes nothing.
pub fn prepare(output: &Path, inputs: &Inputs) -> Result<OutputTarget, OutputError> {
    inputs.refuse(output)?;
    OutputTarget::choose(output)
}

#[cfg(test)]
mod tests;
