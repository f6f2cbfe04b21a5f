//! Debian .deb and Ubuntu .ddeb: ar → `control.tar[.COMP]` (its `md5sums` gives the
//! vmlinux's digest), then `data.tar[.xz|.zst|.gz|.bz2|.lzma]` → tar.

use std::collections::HashMap;
use std::io::Read;

use super::{
    ar, classify, decoder, drain, relative, Algo, Counting, Cx, Digest, Member, PackageError,
    PackageFormat, Vmlinux,
};

const WHAT: &str = "Debian package";
/// Longest `md5sums` read (a kernel -dbg package's is about 500 KB).
const MAX_MD5SUMS: u64 = 64 << 20;

/// The compression of an ar member `control.tar<ext>` or `data.tar<ext>`.
fn compression(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "" => "none",
        ".xz" => "xz",
        ".zst" => "zstd",
        ".gz" => "gzip",
        ".bz2" => "bzip2",
        ".lzma" => "lzma",
        _ => return None,
    })
}

pub(super) fn extract<R: Read>(reader: R, cx: &Cx) -> Result<Vmlinux, PackageError> {
    let (reader, count) = Counting::new(reader);
    let mut ar = ar::Reader::new(reader).map_err(|e| cx.read_error(WHAT, e))?;
    let mut first = true;
    let mut found = None;
    let mut md5sums = HashMap::new();
    while let Some(header) = ar.next().map_err(|e| cx.read_error(WHAT, e))? {
        // GNU ar spells names with a trailing '/'.
        let id = header.name.trim_end_matches('/').to_string();
        if first && id != "debian-binary" {
            return Err(cx.corrupt(
                WHAT,
                format!("first ar member is `{id}`, not debian-binary"),
            ));
        }
        first = false;
        let (is_data, ext) = if let Some(ext) = id.strip_prefix("control.tar") {
            (false, ext)
        } else if let Some(ext) = id.strip_prefix("data.tar") {
            (true, ext)
        } else {
            continue;
        };
        let (size, start) = (header.size, count.get());
        let (dec, compression) = compression(ext)
            .and_then(|c| decoder(c, &mut ar))
            .ok_or_else(|| cx.unsupported("ar member", &id))?;
        let v = if is_data {
            from_tar(cx.limit(dec), compression, &md5sums, cx).map(Some)
        } else {
            control_md5sums(cx.limit(dec), cx).map(|m| {
                md5sums = m;
                None
            })
        };
        // The rest of the member (after the tar's end), as far as the input goes.
        ar.skip_rest().map_err(|e| cx.read_error(WHAT, e))?;
        let got = count.get() - start;
        // Truncation explains a missing vmlinux or a damaged tar.
        if got < size {
            return Err(cx.corrupt(
                WHAT,
                format!("truncated: {id} ends after {got} of its {size} bytes"),
            ));
        }
        if let Some(v) = v? {
            found = Some(v);
            break;
        }
    }
    match found {
        Some(v) => {
            let mut rest = ar.into_inner();
            drain(&mut rest).map_err(|e| cx.read_error(WHAT, e))?;
            Ok(v)
        }
        None if first => Err(cx.corrupt(WHAT, "empty ar archive")),
        None => Err(cx.corrupt(WHAT, "no data.tar member")),
    }
}

/// The md5sums lines of vmlinux paths in control.tar: relative path → hex digest.
fn control_md5sums<R: Read>(r: R, cx: &Cx) -> Result<HashMap<String, String>, PackageError> {
    const WHAT: &str = "control.tar";
    let mut sums = HashMap::new();
    let mut tar = tar::Archive::new(r);
    let entries = tar.entries().map_err(|e| cx.read_error(WHAT, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| cx.read_error(WHAT, e))?;
        if relative(&String::from_utf8_lossy(&entry.path_bytes())) != "md5sums" {
            continue;
        }
        let mut text = String::new();
        entry
            .take(MAX_MD5SUMS)
            .read_to_string(&mut text)
            .map_err(|e| cx.read_error(WHAT, e))?;
        for line in text.lines() {
            let Some((hex, path)) = line.split_once("  ") else {
                continue;
            };
            if let Member::Vmlinux(_) = classify(path) {
                sums.insert(relative(path).to_string(), hex.to_string());
            }
        }
    }
    Ok(sums)
}

fn from_tar<R: Read>(
    r: R,
    compression: &'static str,
    md5sums: &HashMap<String, String>,
    cx: &Cx,
) -> Result<Vmlinux, PackageError> {
    const WHAT: &str = "data.tar";
    let mut tar = tar::Archive::new(r);
    let entries = tar.entries().map_err(|e| cx.read_error(WHAT, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| cx.read_error(WHAT, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(release) = cx.check_member(&name)? else {
            continue;
        };
        // Symbolic and hard links name the vmlinux but hold no data.
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        let digest = md5sums.get(relative(&name)).map(|hex| Digest {
            algo: Algo::Md5,
            hex: hex.clone(),
        });
        return cx.write_vmlinux(
            &mut entry,
            size,
            &name,
            release,
            PackageFormat::Deb,
            compression,
            WHAT,
            digest,
        );
    }
    Err(cx.no_vmlinux())
}
