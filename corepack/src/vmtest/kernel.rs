//! The kernels to boot: a bzImage file, or a Debian kernel image package
//! (`linux-image-*-unsigned` and the like) whose `/boot/vmlinuz-*` is extracted with
//! `dpkg-deb --fsys-tarfile` into the work directory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::VmtestError;

/// Bytes read from the start of a kernel image: the header's version string lies
/// at most 0xffff + 0x200 bytes in, plus its length.
const HEAD_LEN: usize = 0x10400;

/// A kernel image ready to boot.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    /// The bzImage to boot.
    pub image: PathBuf,
    /// Its release (`uname -r`) from the bzImage header, when it has one.
    pub release: Option<String>,
}

/// The kernel release in a bzImage's header: the boot protocol's `kernel_version`
/// field (at 0x20e, valid with the "HdrS" magic at 0x202) points 0x200 bytes short of
/// a string `<release> (<builder>) #<n> ...`.
pub(crate) fn bzimage_release(head: &[u8]) -> Option<String> {
    if head.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let off = u16::from_le_bytes([*head.get(0x20e)?, *head.get(0x20f)?]) as usize;
    let s = head.get(off.checked_add(0x200)?..)?;
    let end = s.iter().position(|&b| b == 0 || b == b' ')?;
    let release = std::str::from_utf8(&s[..end]).ok()?;
    btfgen::text::is_kernel_release(release).then(|| release.to_string())
}

/// Resolves `path`: a Debian package (ar archive) has its vmlinuz extracted into
/// `work`; anything else must be a bzImage.
pub(crate) fn resolve(path: &Path, work: &Path, n: usize) -> Result<Kernel, VmtestError> {
    let bad = |detail: String| VmtestError::Kernel {
        path: path.to_path_buf(),
        detail,
    };
    let mut head = vec![0u8; HEAD_LEN];
    let mut f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let len = read_up_to(&mut f, &mut head).map_err(|e| bad(e.to_string()))?;
    head.truncate(len);
    let image = if head.starts_with(b"!<arch>\n") {
        let out = work.join(format!("vmlinuz.{n}"));
        extract_vmlinuz(path, &out).map_err(bad)?;
        let mut f = std::fs::File::open(&out).map_err(|e| bad(e.to_string()))?;
        head.resize(HEAD_LEN, 0);
        let len = read_up_to(&mut f, &mut head).map_err(|e| bad(e.to_string()))?;
        head.truncate(len);
        out
    } else {
        path.to_path_buf()
    };
    let release = bzimage_release(&head);
    if release.is_none() && head.get(0x202..0x206) != Some(b"HdrS".as_slice()) {
        return Err(bad(
            "neither a bzImage kernel nor a Debian kernel image package".into(),
        ));
    }
    Ok(Kernel { image, release })
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Writes the package's `/boot/vmlinuz-*` to `out`, stopping the unpacking there.
fn extract_vmlinuz(deb: &Path, out: &Path) -> Result<(), String> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb (install the Debian package dpkg): {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let found = (|| -> Result<bool, String> {
        let mut tar = tar::Archive::new(stdout);
        for entry in tar.entries().map_err(|e| e.to_string())? {
            let mut entry = entry.map_err(|e| e.to_string())?;
            let path = entry.path().map_err(|e| e.to_string())?.into_owned();
            let name = path.to_string_lossy();
            let name = name.trim_start_matches("./");
            if name.starts_with("boot/vmlinuz-") && entry.header().entry_type().is_file() {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
                std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))?;
                return Ok(true);
            }
        }
        Ok(false)
    })();
    // Found: the rest of the package is not needed.
    let _ = child.kill();
    let status = child.wait().map_err(|e| e.to_string())?;
    match found {
        Ok(true) => Ok(()),
        Ok(false) if !status.success() => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            Err(format!(
                "dpkg-deb --fsys-tarfile failed: {}",
                err.lines().next().unwrap_or("").trim()
            ))
        }
        Ok(false) => Err("the package holds no /boot/vmlinuz-*".into()),
        Err(e) => Err(format!("reading the package's data: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 0x1000];
        h[0x202..0x206].copy_from_slice(b"HdrS");
        h[0x20e..0x210].copy_from_slice(&0x300u16.to_le_bytes());
        h[0x500..0x500 + version.len()].copy_from_slice(version);
        h
    }

    #[test]
    fn release_from_the_bzimage_header() {
        let h = header(b"6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0");
        assert_eq!(bzimage_release(&h).as_deref(), Some("6.1.0-57-cloud-amd64"));
    }

    #[test]
    fn no_release_without_magic_or_with_a_bad_string() {
        let mut h = header(b"6.1.0 x\0");
        h[0x202] = b'X';
        assert_eq!(bzimage_release(&h), None);
        assert_eq!(bzimage_release(&header(b"\x1b[31m x\0")), None);
        assert_eq!(bzimage_release(&[0u8; 16]), None);
    }
}
