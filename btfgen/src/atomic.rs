//! Writing output files atomically: a temporary file in the target directory, renamed
//! over the target only once complete, so a failure never leaves a partial file.

use std::io::{self, Write};
use std::path::Path;

/// Why an atomic write failed: the step, and the I/O error (the
/// [`std::error::Error::source`], not repeated in the message: `{:#}` prints both).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {step}")]
pub struct AtomicWriteError {
    /// The target path.
    pub path: String,
    /// What failed: creating the temporary file, writing it, or renaming it.
    pub step: &'static str,
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` so that `path` either keeps its old content or has all of
/// the new one. The file gets mode 0644 (temporary files are created private).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let fail = |step, source| AtomicWriteError {
        path: path.display().to_string(),
        step,
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".btfgen-")
        .tempfile_in(dir)
        .map_err(|e| fail("cannot create a temporary file next to it", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| fail("cannot set permissions", e))?;
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| fail("write failed", e))?;
    tmp.persist(path)
        .map_err(|e| fail("cannot rename into place", e.error))?;
    Ok(())
}
