//! The kernel's GNU build-id: the `NT_GNU_BUILD_ID` note among the ELF notes the running
//! kernel exposes in `/sys/kernel/notes` (a vmlinux carries the same note in its
//! `.notes` section), and its hex spelling.
//!
//! A note is a header of three 32-bit words in the kernel's byte order (`namesz`,
//! `descsz`, `type`), the name (`namesz` bytes, NUL included) and the descriptor
//! (`descsz` bytes), each padded to 4 bytes. The parser is bounded: it reads at most
//! [`MAX_NOTES`] bytes, never allocates from a length it was given, and refuses a note
//! that runs past the end, trailing bytes, a build-id outside 1..=[`MAX_BUILD_ID`]
//! bytes, and two build-ids.

use std::io::Read;
use std::path::Path;

/// Where the running kernel exposes its notes.
pub const KERNEL_NOTES: &str = "/sys/kernel/notes";
/// The most bytes of notes read (the kernel's are a few hundred).
pub const MAX_NOTES: usize = 64 << 10;
/// The longest build-id accepted (GNU ld writes 20 bytes for SHA-1, 16 for MD5/UUID).
pub const MAX_BUILD_ID: usize = 64;
/// The note type of a GNU build-id (`NT_GNU_BUILD_ID`).
const NT_GNU_BUILD_ID: u32 = 3;

/// Why notes or a build-id could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    /// A note's header, name or descriptor runs past the end of the notes.
    #[error("note at offset {offset} runs past the end of the notes ({len} bytes)")]
    Truncated {
        /// Where the note starts.
        offset: usize,
        /// The notes' length.
        len: usize,
    },
    /// More than [`MAX_NOTES`] bytes.
    #[error("notes larger than {MAX_NOTES} bytes")]
    TooLarge,
    /// A GNU build-id note whose descriptor is empty or longer than [`MAX_BUILD_ID`].
    #[error("GNU build-id note at offset {offset} has {len} bytes (1 to {MAX_BUILD_ID} allowed)")]
    BadLength {
        /// Where the note starts.
        offset: usize,
        /// Its descriptor's length.
        len: u32,
    },
    /// Two GNU build-id notes.
    #[error("two GNU build-id notes (offsets {first} and {second})")]
    Duplicate {
        /// The first one's offset.
        first: usize,
        /// The second one's.
        second: usize,
    },
    /// A build-id given as text is not an even number of hex digits of 1 to
    /// [`MAX_BUILD_ID`] bytes.
    #[error("not a build-id (2 to {} hex digits): {}", 2 * MAX_BUILD_ID, .0)]
    BadHex(String),
    /// Reading the notes failed.
    #[error("{path}: {message}")]
    Io {
        /// The file read.
        path: String,
        /// The I/O error.
        message: String,
    },
}

/// Round `n` up to a multiple of 4, or `None` on overflow.
fn pad4(n: u32) -> Option<usize> {
    (n as usize).checked_add(3).map(|n| n & !3)
}

/// The GNU build-id among `notes` (a sequence of ELF notes in this machine's byte order,
/// as in `/sys/kernel/notes`), or `None` when there is no such note.
pub fn gnu_build_id(notes: &[u8]) -> Result<Option<Vec<u8>>, NoteError> {
    if notes.len() > MAX_NOTES {
        return Err(NoteError::TooLarge);
    }
    let word =
        |at: usize| u32::from_ne_bytes([notes[at], notes[at + 1], notes[at + 2], notes[at + 3]]);
    let mut found: Option<(usize, Vec<u8>)> = None;
    let mut at = 0;
    while at < notes.len() {
        let truncated = NoteError::Truncated {
            offset: at,
            len: notes.len(),
        };
        if notes.len() - at < 12 {
            return Err(truncated);
        }
        let (namesz, descsz, kind) = (word(at), word(at + 4), word(at + 8));
        let name_at = at + 12;
        let desc_at = pad4(namesz)
            .and_then(|n| name_at.checked_add(n))
            .ok_or(truncated.clone())?;
        let end = pad4(descsz)
            .and_then(|n| desc_at.checked_add(n))
            .filter(|&end| end <= notes.len())
            .ok_or(truncated)?;
        let name = &notes[name_at..name_at + namesz as usize];
        if name == b"GNU\0" && kind == NT_GNU_BUILD_ID {
            if descsz == 0 || descsz as usize > MAX_BUILD_ID {
                return Err(NoteError::BadLength {
                    offset: at,
                    len: descsz,
                });
            }
            if let Some((first, _)) = found {
                return Err(NoteError::Duplicate { first, second: at });
            }
            found = Some((at, notes[desc_at..desc_at + descsz as usize].to_vec()));
        }
        at = end;
    }
    Ok(found.map(|(_, id)| id))
}

/// The build-id of the kernel whose notes are at `path` (normally [`KERNEL_NOTES`]),
/// reading at most [`MAX_NOTES`] bytes (and one more, to notice a larger file).
pub fn read_build_id(path: &Path) -> Result<Option<Vec<u8>>, NoteError> {
    let io = |e: std::io::Error| NoteError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut notes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_NOTES as u64 + 1)
        .read_to_end(&mut notes)
        .map_err(io)?;
    gnu_build_id(&notes)
}

/// A build-id in lowercase hex, as `readelf -n` and `file` print it.
pub fn to_hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// A build-id from hex (either case; surrounding whitespace ignored).
pub fn from_hex(text: &str) -> Result<Vec<u8>, NoteError> {
    let t = text.trim();
    let bad = || NoteError::BadHex(escape(t));
    if t.is_empty() || t.len() % 2 != 0 || t.len() > 2 * MAX_BUILD_ID {
        return Err(bad());
    }
    t.as_bytes()
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .filter(|_| p.iter().all(u8::is_ascii_hexdigit))
                .ok_or_else(bad)
        })
        .collect()
}

/// `text` at most 40 characters long with control characters escaped, for a message.
fn escape(text: &str) -> String {
    text.chars()
        .take(40)
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests;
