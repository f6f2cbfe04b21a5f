//! Debian .deb and Ubuntu .ddeb: ar → `control.tar[.COMP]` (its `md5sums` gives the
//! vmlinux's digest), then `data.tar[.xz|.zst|.gz|.bz2|.lzma]` → tar.

use std::collections::HashMap;
use std::io::Read;

use crate::digest::{Algorithm, Checksum};

use super::{
    ar, classify, decoder, drain, relative, Counting, Cx, Member, PackageError, PackageFormat,
    Vmlinux,
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
    let mut md5sums = None;
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
            from_tar(cx.limit(dec), compression, md5sums.as_ref(), cx).map(Some)
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

/// The md5sums lines of vmlinux paths in control.tar: relative path → digest; `None`
/// when control.tar has no md5sums. A vmlinux line whose digest is not 32 hex digits is
/// an error, and so is an md5sums longer than [`MAX_MD5SUMS`] (cut short, it could lose
/// the vmlinux's line).
fn control_md5sums<R: Read>(
    r: R,
    cx: &Cx,
) -> Result<Option<HashMap<String, Checksum>>, PackageError> {
    const WHAT: &str = "control.tar";
    let mut found = None;
    let mut tar = tar::Archive::new(r);
    let entries = tar.entries().map_err(|e| cx.read_error(WHAT, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| cx.read_error(WHAT, e))?;
        if relative(&String::from_utf8_lossy(&entry.path_bytes())) != "md5sums" {
            continue;
        }
        let mut text = String::new();
        entry
            .take(MAX_MD5SUMS + 1)
            .read_to_string(&mut text)
            .map_err(|e| cx.read_error(WHAT, e))?;
        if text.len() as u64 > MAX_MD5SUMS {
            return Err(cx.corrupt(WHAT, format!("md5sums is longer than {MAX_MD5SUMS} bytes")));
        }
        let sums = found.get_or_insert_with(HashMap::new);
        for line in text.lines() {
            let Some((hex, path)) = line.split_once("  ") else {
                continue;
            };
            if let Member::Vmlinux(_) | Member::Module(..) = classify(path) {
                let sum = Checksum::new(Algorithm::Md5, hex)
                    .map_err(|e| cx.corrupt(WHAT, format!("md5sums: {path}: {e}")))?;
                sums.insert(relative(path).to_string(), sum);
            }
        }
    }
    Ok(found)
}

/// The vmlinux of the data.tar `r`, with the modules [`Cx::wants_module`] asks for
/// (then the whole tar is read: they may come after the vmlinux).
fn from_tar<R: Read>(
    r: R,
    compression: &'static str,
    md5sums: Option<&HashMap<String, Checksum>>,
    cx: &Cx,
) -> Result<Vmlinux, PackageError> {
    const WHAT: &str = "data.tar";
    let mut tar = tar::Archive::new(r);
    let entries = tar.entries().map_err(|e| cx.read_error(WHAT, e))?;
    let mut vmlinux = None;
    let mut modules = Vec::new();
    // `what` is "the vmlinux" or "the module".
    let digest = |name: &str, what: &str| match md5sums {
        None => Err(format!("control.tar has no md5sums: {what} is not checked")),
        Some(sums) => sums.get(relative(name)).cloned().ok_or_else(|| {
            format!(
                "md5sums lists no digest of {}: {what} is not checked",
                relative(name)
            )
        }),
    };
    for entry in entries {
        let mut entry = entry.map_err(|e| cx.read_error(WHAT, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member = cx.check_member(&name)?;
        // Symbolic and hard links name the vmlinux but hold no data.
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        match member {
            Member::Vmlinux(release) if vmlinux.is_none() => {
                let v = cx.write_vmlinux(
                    &mut entry,
                    size,
                    &name,
                    release,
                    PackageFormat::Deb,
                    compression,
                    WHAT,
                    digest(&name, "the vmlinux"),
                )?;
                if cx.opts.modules.is_empty() {
                    return Ok(v);
                }
                vmlinux = Some(v);
            }
            Member::Module(release, module, compression) if cx.wants_module(&module) => {
                let m = cx.write_module(
                    &mut entry,
                    (size, compression),
                    (&name, module),
                    WHAT,
                    digest(&name, "the module"),
                )?;
                modules.push((release, m));
            }
            _ => {}
        }
    }
    let mut v = vmlinux.ok_or_else(|| cx.no_vmlinux())?;
    cx.attach_modules(&mut v, modules)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::test_build::{ar, compress, tar, TarEntry};
    use crate::package::{extract_vmlinux, Options};

    const REL: &str = "6.1.0-9-amd64";
    const BOOT: &str = "./usr/lib/debug/boot/vmlinux-6.1.0-9-amd64";
    /// md5("abc"), from RFC 1321's test suite.
    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";

    /// A control.tar.gz holding `md5sums` (when given).
    fn control(md5sums: Option<&str>) -> Vec<u8> {
        let mut entries = vec![TarEntry::File("./control", b"Package: k\n")];
        if let Some(m) = md5sums {
            entries.push(TarEntry::File("./md5sums", m.as_bytes()));
        }
        compress("gzip", &tar(&entries))
    }

    /// A .deb: debian-binary, control.tar.gz, then `data_member` holding `data`.
    fn deb(data_member: &str, data: &[u8], md5sums: Option<&str>) -> Vec<u8> {
        ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", &control(md5sums)),
            (data_member, data),
        ])
    }

    fn md5sums_of_abc() -> String {
        format!("{MD5_ABC}  {}\n", &BOOT[2..])
    }

    fn extract(pkg: &[u8], opts: &Options) -> Result<Vmlinux, PackageError> {
        extract_vmlinux(pkg, PackageFormat::Deb, "k.deb", opts)
    }

    #[test]
    fn deb_with_each_data_tar_compression() {
        let data = tar(&[
            TarEntry::File("./usr/share/doc/k/copyright", b"GPL"),
            TarEntry::File(BOOT, b"abc"),
        ]);
        // (data.tar member suffix, compression it names)
        let cases = [
            ("", "none"),
            (".xz", "xz"),
            (".zst", "zstd"),
            (".gz", "gzip"),
            (".bz2", "bzip2"),
            (".lzma", "lzma"),
        ];
        for (ext, compression) in cases {
            let pkg = deb(
                &format!("data.tar{ext}"),
                &compress(compression, &data),
                Some(&md5sums_of_abc()),
            );
            let v = extract(&pkg, &Options::default()).unwrap_or_else(|e| panic!("{ext}: {e}"));
            assert_eq!(v.bytes(), b"abc", "{ext}");
            assert_eq!(
                (v.release.as_str(), v.member.as_str(), v.size),
                (REL, BOOT, 3),
                "{ext}"
            );
            assert_eq!(
                (v.format, v.compression, v.verified),
                (PackageFormat::Deb, compression, Some(Algorithm::Md5)),
                "{ext}"
            );
        }
    }

    const MODS: &str = "./usr/lib/debug/lib/modules/6.1.0-9-amd64/kernel";

    /// A .deb whose data.tar holds `nf_conntrack.ko` before the vmlinux ("abc") and
    /// `overlay.ko` and `nf-nat.ko` after it; md5sums lists all but nf-nat.
    fn deb_with_modules() -> Vec<u8> {
        let ct = format!("{MODS}/net/netfilter/nf_conntrack.ko");
        let ov = format!("{MODS}/fs/overlayfs/overlay.ko");
        let nat = format!("{MODS}/net/netfilter/nf-nat.ko");
        let data = tar(&[
            TarEntry::File(&ct, b"abc"),
            TarEntry::File(BOOT, b"abc"),
            TarEntry::File(&ov, b"abc"),
            TarEntry::File(&nat, b"nat"),
        ]);
        let sums = format!(
            "{}{MD5_ABC}  {}\n{MD5_ABC}  {}\n",
            md5sums_of_abc(),
            &ct[2..],
            &ov[2..]
        );
        deb("data.tar.xz", &compress("xz", &data), Some(&sums))
    }

    fn with_modules(patterns: &[&str]) -> Options {
        Options {
            modules: patterns.iter().map(|p| p.to_string()).collect(),
            ..Options::default()
        }
    }

    #[test]
    fn modules_come_from_the_same_pass_before_and_after_the_vmlinux() {
        let pkg = deb_with_modules();
        let v = extract(&pkg, &with_modules(&["nf_*", "overlay"])).unwrap();
        assert_eq!(v.bytes(), b"abc");
        let got: Vec<_> = v
            .modules
            .iter()
            .map(|m| (m.name.as_str(), m.bytes(), m.verified))
            .collect();
        assert_eq!(
            got,
            [
                ("nf_conntrack", &b"abc"[..], Some(Algorithm::Md5)),
                ("nf_nat", &b"nat"[..], None),
                ("overlay", &b"abc"[..], Some(Algorithm::Md5)),
            ]
        );
        assert_eq!(
            v.modules[1].unverified.as_deref(),
            Some("md5sums lists no digest of usr/lib/debug/lib/modules/6.1.0-9-amd64/kernel/net/netfilter/nf-nat.ko: the module is not checked")
        );
        // No modules asked for: none extracted.
        assert!(extract(&pkg, &Options::default())
            .unwrap()
            .modules
            .is_empty());
    }

    #[test]
    fn a_module_pattern_that_matches_nothing_is_an_error() {
        let e = extract(&deb_with_modules(), &with_modules(&["overlay", "xfs*"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "k.deb: no module matching `xfs*` (modules are usr/lib/debug/lib/modules/REL/.../NAME.ko[.debug|.xz|.zst|.gz])"
        );
    }

    #[test]
    fn a_module_of_another_kernel_or_twice_is_an_error() {
        let other = "./usr/lib/debug/lib/modules/6.1.0-8-amd64/kernel/overlay.ko";
        let data = tar(&[TarEntry::File(BOOT, b"abc"), TarEntry::File(other, b"x")]);
        let e = extract(&deb("data.tar", &data, None), &with_modules(&["overlay"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("k.deb: module `{other}`: of kernel 6.1.0-8-amd64, not the vmlinux's {REL}")
        );
        let a = format!("{MODS}/a/overlay.ko");
        let b = format!("{MODS}/b/overlay.ko");
        let data = tar(&[
            TarEntry::File(BOOT, b"abc"),
            TarEntry::File(&a, b"x"),
            TarEntry::File(&b, b"y"),
        ]);
        let e = extract(&deb("data.tar", &data, None), &with_modules(&["overlay"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("k.deb: module `{b}`: a second copy (the first is {a})")
        );
    }

    #[test]
    fn a_module_whose_digest_differs_is_corrupt() {
        let ov = format!("{MODS}/fs/overlayfs/overlay.ko");
        let data = tar(&[TarEntry::File(BOOT, b"abc"), TarEntry::File(&ov, b"abd")]);
        let sums = format!("{}{MD5_ABC}  {}\n", md5sums_of_abc(), &ov[2..]);
        let e = extract(
            &deb("data.tar", &data, Some(&sums)),
            &with_modules(&["overlay"]),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("k.deb: corrupt data.tar: {ov}: md5 ")),
            "{e}"
        );
    }

    #[test]
    fn md5sums_mismatch_is_corrupt() {
        let data = tar(&[TarEntry::File(BOOT, b"abc")]);
        let wrong = format!("{}  {}\n", "0".repeat(32), &BOOT[2..]);
        let e = extract(&deb("data.tar", &data, Some(&wrong)), &Options::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "k.deb: corrupt data.tar: {BOOT}: md5 {MD5_ABC}, expected {} (the package's digest)",
                "0".repeat(32)
            )
        );
    }

    #[test]
    fn a_malformed_md5sums_line_of_the_vmlinux_is_corrupt() {
        let data = tar(&[TarEntry::File(BOOT, b"abc")]);
        // One digit short: not a digest to check against, nor one to pass over.
        let short = format!("{}  {}\n", &MD5_ABC[1..], &BOOT[2..]);
        let e = extract(&deb("data.tar", &data, Some(&short)), &Options::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "k.deb: corrupt control.tar: md5sums: {}: md5 digest \"{}\" is not 32 hex digits",
                &BOOT[2..],
                &MD5_ABC[1..]
            )
        );
    }

    #[test]
    fn without_an_md5sums_line_the_vmlinux_goes_unverified() {
        let data = tar(&[TarEntry::File(BOOT, b"abc")]);
        let other = format!("{MD5_ABC}  usr/share/doc/k/copyright\n");
        for (md5sums, why) in [
            (None, "control.tar has no md5sums: the vmlinux is not checked"),
            (
                Some(other.as_str()),
                "md5sums lists no digest of usr/lib/debug/boot/vmlinux-6.1.0-9-amd64: the vmlinux is not checked",
            ),
        ] {
            let v = extract(&deb("data.tar", &data, md5sums), &Options::default()).unwrap();
            assert_eq!(v.verified, None, "{md5sums:?}");
            assert_eq!(v.unverified.as_deref(), Some(why));
            assert_eq!(v.bytes(), b"abc");
        }
        let v = extract(
            &deb("data.tar", &data, Some(&md5sums_of_abc())),
            &Options::default(),
        )
        .unwrap();
        assert_eq!((v.verified, v.unverified), (Some(Algorithm::Md5), None));
    }

    #[test]
    fn md5sums_past_its_bound_is_refused_not_cut_short() {
        // The vmlinux's line comes after MAX_MD5SUMS bytes of other lines: read cut
        // short, the package would go unchecked.
        let filler = "0".repeat(32) + "  usr/share/doc/k/x\n";
        let mut sums = filler.repeat(MAX_MD5SUMS as usize / filler.len() + 1);
        sums += &md5sums_of_abc();
        let data = tar(&[TarEntry::File(BOOT, b"abc")]);
        let e = extract(&deb("data.tar", &data, Some(&sums)), &Options::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("k.deb: corrupt control.tar: md5sums is longer than {MAX_MD5SUMS} bytes")
        );
    }

    #[test]
    fn links_at_vmlinux_paths_are_passed_over() {
        // Debian's -dbg packages: a symlink at the modules path, the file at /boot.
        let modules = format!("./usr/lib/debug/lib/modules/{REL}/vmlinux");
        let data = tar(&[
            TarEntry::Symlink(&modules, "../../../boot/vmlinux-6.1.0-9-amd64"),
            TarEntry::File(BOOT, b"abc"),
        ]);
        // GNU ar's trailing `/` on the member name.
        let v = extract(
            &deb("data.tar.xz/", &compress("xz", &data), None),
            &Options::default(),
        )
        .unwrap();
        assert_eq!((v.member.as_str(), v.compression), (BOOT, "xz"));
    }

    #[test]
    fn damaged_debs_say_what_is_wrong() {
        let data = tar(&[TarEntry::File(BOOT, b"abc")]);
        let good = deb("data.tar", &data, None);
        let ctl = control(None);
        let cases: Vec<(&str, Vec<u8>, String)> = vec![
            (
                "not ar",
                b"hello, world".to_vec(),
                "k.deb: corrupt Debian package: not an ar archive (bad magic)".into(),
            ),
            (
                "empty",
                b"!<arch>\n".to_vec(),
                "k.deb: corrupt Debian package: empty ar archive".into(),
            ),
            (
                "first member",
                ar(&[("data.tar", &data)]),
                "k.deb: corrupt Debian package: first ar member is `data.tar`, not debian-binary"
                    .into(),
            ),
            (
                "no data.tar",
                ar(&[("debian-binary", b"2.0\n"), ("control.tar.gz", &ctl)]),
                "k.deb: corrupt Debian package: no data.tar member".into(),
            ),
            (
                "compression",
                deb("data.tar.lz4", &data, None),
                "k.deb: unsupported ar member `data.tar.lz4`".into(),
            ),
            (
                "no vmlinux",
                deb(
                    "data.tar",
                    &tar(&[TarEntry::File("./usr/share/doc/k/x", b"1")]),
                    None,
                ),
                "no vmlinux in k.deb".into(),
            ),
            (
                "unsafe path",
                deb(
                    "data.tar",
                    &tar(&[TarEntry::File("./usr/../etc/passwd", b"1")]),
                    None,
                ),
                "k.deb: member `./usr/../etc/passwd` has an absolute path or a `..` component; refusing the package".into(),
            ),
            (
                // The vmlinux comes out whole, but the tar's end is missing.
                "truncated",
                good[..good.len() - 10].to_vec(),
                format!(
                    "k.deb: corrupt Debian package: truncated: data.tar ends after {} of its {} bytes",
                    data.len() - 10,
                    data.len()
                ),
            ),
        ];
        for (what, pkg, want) in cases {
            let e = extract(&pkg, &Options::default()).unwrap_err();
            assert_eq!(e.to_string(), want, "{what}");
        }
    }

    #[test]
    fn decompressed_bytes_are_bounded() {
        let data = tar(&[TarEntry::File(BOOT, &[7u8; 4096])]);
        let pkg = deb("data.tar.zst", &compress("zstd", &data), None);
        let opts = Options {
            max_bytes: 1000,
            ..Options::default()
        };
        let e = extract(&pkg, &opts).unwrap_err();
        assert!(
            matches!(e, PackageError::TooLarge { limit: 1000, .. }),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "k.deb: more than 1000 bytes decompressed; refusing the package (a decompression bomb?)"
        );
        // With room enough, the same package extracts.
        let opts = Options {
            max_bytes: data.len() as u64,
            ..Options::default()
        };
        assert_eq!(extract(&pkg, &opts).unwrap().size, 4096);
    }
}
