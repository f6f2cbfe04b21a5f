//! Unit tests of the metadata parsers: primary.xml, repomd.xml, apt Packages and
//! Release, directory listings, decompression.

use std::io::Write;

use super::*;
use crate::digest::Algorithm;
use crate::fetch::http::error_chain;

// The repositories the fetch integration tests serve, shared with them (its items are
// `pub` for the tests crate).
#[allow(unreachable_pub)]
#[path = "../../../../tests/support/repo_fixtures.rs"]
mod repo_fixtures;
use repo_fixtures::*;

fn all(_: &str) -> bool {
    true
}

// -----------------------------------------------------------------------
// primary.xml

#[test]
fn primary_parses_and_filters() {
    let xml = primary_xml(CENTOS_RPMS);
    let pkgs = parse_primary(xml.as_bytes(), "primary.xml", |n| n == "kernel-debuginfo").unwrap();
    assert_eq!(pkgs.len(), 6);
    let p = &pkgs[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.version.as_str(),
            p.release.as_str(),
            p.arch.as_str()
        ),
        ("kernel-debuginfo", "3.10.0", "1160.119.1.el7", "x86_64")
    );
    assert_eq!(
        p.location,
        "Packages/kernel-debuginfo-3.10.0-1160.119.1.el7.x86_64.rpm"
    );
    assert_eq!(p.size, Some(500_000_000));
    assert_eq!(p.checksum.as_ref().unwrap().algorithm, Algorithm::Sha256);
    assert_eq!(
        pkgs[2].checksum.as_ref().unwrap().hex,
        SUM_B.to_ascii_lowercase()
    );
}

#[test]
fn primary_keeps_every_arch_it_lists() {
    // Oracle's debuginfo directory lists several architectures in one primary;
    // the parser keeps them all (select::kernel_of picks the entry's).
    let pkgs: &[Rpm] = &[
        (
            "kernel-debuginfo",
            "5.4.17",
            "2011.el8uek",
            "x86_64",
            3,
            SUM_A,
        ),
        (
            "kernel-debuginfo",
            "5.4.17",
            "2011.el8uek",
            "aarch64",
            2,
            SUM_A,
        ),
        (
            "kernel-debuginfo",
            "5.4.17",
            "2011.el8uek",
            "noarch",
            1,
            SUM_A,
        ),
        ("kernel-debuginfo", "5.4.17", "2011.el8uek", "src", 1, SUM_A),
    ];
    let got = parse_primary(primary_xml(pkgs).as_bytes(), "p", all).unwrap();
    let arches: Vec<(&str, Option<u64>)> = got.iter().map(|p| (p.arch.as_str(), p.size)).collect();
    assert_eq!(
        arches,
        [
            ("x86_64", Some(3)),
            ("aarch64", Some(2)),
            ("noarch", Some(1)),
            ("src", Some(1))
        ]
    );
    assert_eq!(
        got[1].location,
        "Packages/kernel-debuginfo-5.4.17-2011.el8uek.aarch64.rpm"
    );
}

#[test]
fn primary_locations_with_xml_base_and_checksum_types() {
    let xml = r#"<metadata>
<package type="rpm"><name>k</name><arch>x86_64</arch><version ver="1" rel="2"/>
<checksum type="sha">A9993E364706816ABA3E25717850C26C9CD0D89D</checksum><location xml:base="https://other/repo/" href="P/k.rpm"/></package>
<package type="rpm"><name>k2</name><arch>x86_64</arch><version ver="1" rel="2"/>
<checksum type="SHA512">{SUM_A}{SUM_A}</checksum><location href="P/k2.rpm"/></package>
</metadata>"#
        .replace("{SUM_A}", SUM_A);
    let got = parse_primary(xml.as_bytes(), "p", all).unwrap();
    assert_eq!(got[0].location, "https://other/repo/P/k.rpm");
    // yum's `sha` is sha1; digests are lower-cased.
    let ck = |i: usize| got[i].checksum.clone().unwrap();
    assert_eq!(
        (ck(0).algorithm, ck(0).hex.as_str()),
        (Algorithm::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(ck(1).algorithm, Algorithm::Sha512);
    // No <size>: unknown.
    assert_eq!(got[1].size, None);
    assert_eq!(got[1].location, "P/k2.rpm");
}

#[test]
fn primary_checksums_of_unknown_types_are_errors_when_kept() {
    // Not passed over: a package whose digest cannot be checked is not downloaded.
    let xml = format!(
        "<metadata><package><name>k</name><arch>x86_64</arch><version ver=\"1\" rel=\"1\"/><checksum type=\"crc32\">{SUM_A}</checksum><location href=\"k.rpm\"/></package>\n<package><name>j</name><version ver=\"1\" rel=\"1\"/><checksum type=\"sha256\">abc</checksum><location href=\"j.rpm\"/></package></metadata>"
    );
    let e = parse_primary(xml.as_bytes(), "p", |n| n == "k").unwrap_err();
    assert_eq!(
        error_chain(&e),
        "p: package #1 (k): unknown digest algorithm \"crc32\""
    );
    let e = parse_primary(xml.as_bytes(), "p", |n| n == "j").unwrap_err();
    assert_eq!(
        error_chain(&e),
        "p: package #2 (j): sha256 digest \"abc\" is not 64 hex digits"
    );
    // Packages not kept are not looked at.
    assert_eq!(parse_primary(xml.as_bytes(), "p", |_| false).unwrap(), []);
}

#[test]
fn primary_package_lacking_fields_is_an_error_only_when_kept() {
    let xml =
        "<metadata><package><name>k</name><version ver=\"1\" rel=\"1\"/></package></metadata>";
    let e = parse_primary(xml.as_bytes(), "p", all).unwrap_err();
    assert_eq!(
        e.to_string(),
        "p: package #1 (k) lacks name, version or location"
    );
    assert_eq!(parse_primary(xml.as_bytes(), "p", |_| false).unwrap(), []);
}

#[test]
fn truncated_primary_is_an_error_naming_the_file() {
    let xml = primary_xml(CENTOS_RPMS);
    let cut = &xml[..xml.len() / 2];
    let e = parse_primary(cut.as_bytes(), "primary.xml", all).unwrap_err();
    assert!(e.to_string().starts_with("primary.xml: "), "{e}");
    // Cut between elements: well-formed so far, but a <package> is open.
    let cut = "<metadata><package type=\"rpm\"><name>a</name>\n";
    let e = parse_primary(cut.as_bytes(), "p", all).unwrap_err();
    assert_eq!(e.to_string(), "p: truncated: unclosed <package>");
}

#[test]
fn malformed_primary_is_an_xml_or_format_error() {
    let e = parse_primary(&b"<metadata><package><name>a</b></metadata>"[..], "p", all).unwrap_err();
    assert!(matches!(e, MetadataError::Xml { .. }), "{e}");
    assert!(
        e.to_string().starts_with("p: malformed XML at byte "),
        "{e}"
    );

    let xml = primary_xml(CENTOS_RPMS);
    let bad_size = xml.replace("package=\"500000000\"", "package=\"lots\"");
    let e = parse_primary(bad_size.as_bytes(), "p", all).unwrap_err();
    assert_eq!(e.to_string(), "p: size package \"lots\" is not a number");

    let e = parse_primary(&b"<html>oops</html>"[..], "p", all).unwrap_err();
    assert_eq!(e.to_string(), "p: no <metadata> element");
}

// -----------------------------------------------------------------------
// repomd.xml

#[test]
fn repomd_records_with_their_checksum_types() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1</revision>
  <data type="primary">
<checksum type="sha256">{SUM_B}</checksum>
<open-checksum type="sha256">00</open-checksum>
<location href="repodata/abc-primary.xml.gz"/>
<size>1234</size>
<open-size>99999</open-size>
  </data>
  <data type="filelists">
<checksum type="sha">{SHA1}</checksum>
<location href="repodata/filelists.xml.gz"/>
  </data>
  <data type="other"><location href="repodata/other.xml.zst"/></data>
</repomd>"#
        .replace("{SUM_B}", SUM_B)
        .replace("{SHA1}", &SUM_B[..40]);
    let got = parse_repomd(xml.as_bytes(), "repomd.xml").unwrap();
    let ck = |kind: &str, hex: &str| Some(Checksum::named(kind, hex).unwrap());
    assert_eq!(
        got,
        [
            RepomdData {
                kind: "primary".into(),
                location: "repodata/abc-primary.xml.gz".into(),
                checksum: ck("sha256", &SUM_B.to_ascii_lowercase()),
                size: Some(1234),
            },
            RepomdData {
                kind: "filelists".into(),
                location: "repodata/filelists.xml.gz".into(),
                checksum: ck("sha1", &SUM_B[..40].to_ascii_lowercase()),
                size: None,
            },
            RepomdData {
                kind: "other".into(),
                location: "repodata/other.xml.zst".into(),
                checksum: None,
                size: None,
            },
        ]
    );
}

#[test]
fn repomd_without_a_primary_is_refused() {
    let cases = [
        (
            "<repomd><data type=\"other\"/></repomd>",
            "repomd.xml: no primary data record with a location",
        ),
        (
            "<repomd><data type=\"primary\"><size>1</size></data></repomd>",
            "repomd.xml: no primary data record with a location",
        ),
        ("<html>oops</html>", "repomd.xml: no <repomd> element"),
        (
            "<repomd><data type=\"primary\"><location href=\"p\"/><size>x</size></data></repomd>",
            "repomd.xml: size \"x\" is not a number",
        ),
        // A checksum that cannot be checked is an error, not a record left unchecked.
        (
            "<repomd><data type=\"primary\"><location href=\"p\"/><checksum type=\"sha3-256\">00</checksum></data></repomd>",
            "repomd.xml: primary record: unknown digest algorithm \"sha3-256\"",
        ),
        (
            "<repomd><data type=\"primary\"><location href=\"p\"/><checksum type=\"sha\">00</checksum></data></repomd>",
            "repomd.xml: primary record: sha1 digest \"00\" is not 40 hex digits",
        ),
    ];
    for (xml, want) in cases {
        let e = parse_repomd(xml.as_bytes(), "repomd.xml").unwrap_err();
        assert_eq!(error_chain(&e), want, "{xml}");
    }
}

// -----------------------------------------------------------------------
// apt Packages and Release

#[test]
fn packages_parse() {
    let pkgs = parse_packages(ubuntu_packages().as_bytes(), "Packages", |n| {
        n.starts_with("linux-image-")
    })
    .unwrap();
    assert_eq!(pkgs.len(), 8);
    assert_eq!(pkgs[0].name, "linux-image-unsigned-5.4.0-42-generic-dbgsym");
    assert_eq!(pkgs[0].version, "5.4.0-42.46");
    assert_eq!(pkgs[0].arch, "amd64");
    assert_eq!(
        pkgs[0].location,
        "pool/main/l/linux/linux-image-unsigned-5.4.0-42-generic-dbgsym_5.4.0-42.46_amd64.ddeb"
    );
    assert_eq!(pkgs[0].size, Some(900_000_000));
    assert_eq!(pkgs[0].release, "");
    assert_eq!(
        pkgs[1].checksum,
        Some(Checksum::new(Algorithm::Sha256, SUM_A).unwrap())
    );
}

#[test]
fn packages_multi_line_fields_crlf_and_field_case() {
    // Continuation lines (space or tab) belong to the field above and are skipped;
    // field names are case-insensitive; CRLF line ends and runs of blank lines
    // separate stanzas just as LF does.
    let text = format!(
        "package: a\r\nversion: 1\r\nArchitecture: all\r\nFilename: p/a.deb\r\nSize: 5\r\nSha256: {SUM_B}\r\nDescription: x\r\n\tmore\r\n  .\r\n\r\n\r\n{}",
        stanza("b", "2", 7, SUM_A)
    );
    let got = parse_packages(text.as_bytes(), "P", all).unwrap();
    let summary: Vec<(&str, &str, &str, Option<u64>)> = got
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.arch.as_str(), p.size))
        .collect();
    assert_eq!(
        summary,
        [("a", "1", "all", Some(5)), ("b", "2", "amd64", Some(7))]
    );
    assert_eq!(
        got[0].checksum.as_ref().unwrap().hex,
        SUM_B.to_ascii_lowercase()
    );
}

#[test]
fn packages_not_kept_are_not_checked() {
    // The stanza lacks Size and SHA256, but nobody asked for it.
    let text = format!(
        "Package: other\nVersion: 1\n\n{}",
        stanza("k", "1", 1, SUM_A)
    );
    let got = parse_packages(text.as_bytes(), "P", |n| n == "k").unwrap();
    assert_eq!(got.len(), 1);
    assert!(parse_packages(text.as_bytes(), "P", all).is_err());
}

#[test]
fn malformed_packages_name_the_stanza_and_field() {
    let ubuntu = ubuntu_packages();
    let cases: Vec<(String, String)> = vec![
        (
            ubuntu.replace(
                "Filename: pool/main/l/linux/linux-image-unsigned-5.4.0-100",
                "Filenam: x",
            ),
            // The third stanza starts at line 1 + 2 × 16 (15 lines and a blank one each).
            "Packages: package linux-image-unsigned-5.4.0-100-generic-dbgsym (line 33) has no Filename field".into(),
        ),
        (
            ubuntu.replacen("Size: 1000", "Size: big", 1),
            "Packages: package linux-image-5.4.0-42-generic-dbgsym: Size \"big\" is not a number".into(),
        ),
        (
            "garbage without colon\n".into(),
            "Packages: line 1: not a \"Field: value\" line: \"garbage without colon\"".into(),
        ),
        (
            ubuntu.replacen(SUM_A, "zz", 1),
            "Packages: package linux-image-unsigned-5.4.0-42-generic-dbgsym (line 1): sha256 digest \"zz\" is not 64 hex digits".into(),
        ),
        (
            " leading continuation\n".into(),
            "Packages: line 1: continuation line outside a field".into(),
        ),
        (
            "Version: 1\nSize: 1\n".into(),
            "Packages: stanza at line 1 has no Package field".into(),
        ),
        (
            // Two blank lines, a stanza on lines 3 to 17, a blank line.
            format!("\n\n{}Version: 1\n", stanza("k", "1", 1, SUM_A)),
            "Packages: stanza at line 19 has no Package field".into(),
        ),
    ];
    for (text, want) in cases {
        let e = parse_packages(text.as_bytes(), "Packages", all).unwrap_err();
        assert!(
            matches!(
                e,
                MetadataError::Format { .. } | MetadataError::Checksum { .. }
            ),
            "{e}"
        );
        assert_eq!(error_chain(&e), want);
    }
}

#[test]
fn packages_give_their_strongest_digest() {
    // Ubuntu's stanzas: MD5sum, SHA1, SHA256, SHA512; Debian's: MD5sum and SHA256.
    let md5 = &SUM_B[..32];
    let sha1 = &SUM_B[..40];
    let sha512 = SUM_B.repeat(2);
    let head = "Package: k\nVersion: 1\nArchitecture: amd64\nFilename: k.deb\nSize: 1\n";
    let cases = [
        (
            format!("{head}MD5sum: {md5}\nSHA1: {sha1}\nSHA256: {SUM_A}\nSHA512: {sha512}\n"),
            Checksum::new(Algorithm::Sha512, &sha512),
        ),
        (
            format!("{head}MD5sum: {md5}\nSHA256: {SUM_A}\n"),
            Checksum::new(Algorithm::Sha256, SUM_A),
        ),
        (
            format!("{head}MD5sum: {md5}\nSHA1: {sha1}\n"),
            Checksum::new(Algorithm::Sha1, sha1),
        ),
        (
            format!("{head}MD5sum: {md5}\n"),
            Checksum::new(Algorithm::Md5, md5),
        ),
    ];
    for (text, want) in cases {
        let got = parse_packages(text.as_bytes(), "P", all).unwrap();
        assert_eq!(got[0].checksum, Some(want.unwrap()), "{text}");
    }
    // None at all, or a weaker one malformed beside a good stronger one: errors.
    let e = parse_packages(head.as_bytes(), "P", all).unwrap_err();
    assert_eq!(
        error_chain(&e),
        "P: package k (line 1) has no MD5Sum, SHA1, SHA256, SHA512 field"
    );
    let text = format!("{head}MD5sum: 00\nSHA256: {SUM_A}\n");
    let e = parse_packages(text.as_bytes(), "P", all).unwrap_err();
    assert_eq!(
        error_chain(&e),
        "P: package k (line 1): md5 digest \"00\" is not 32 hex digits"
    );
}

#[test]
fn release_files_parse() {
    let text = format!(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Ubuntu\nMD5Sum:\n {} 10 main/binary-amd64/Packages\nSHA256:\n {SUM_A}   1234 main/binary-amd64/Packages.xz\n {SUM_B} 99 universe/binary-arm64/Packages.gz\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n",
        &SUM_A[..32]
    );
    let files = parse_release(&text, "InRelease").unwrap();
    // Every file any section lists, the one only MD5Sum lists with its md5.
    assert_eq!(files.len(), 3);
    assert_eq!(files[0].path, "main/binary-amd64/Packages");
    assert_eq!(files[0].checksum.algorithm, Algorithm::Md5);
    assert_eq!(files[1].path, "main/binary-amd64/Packages.xz");
    assert_eq!(files[1].size, 1234);
    assert_eq!(files[2].checksum.hex, SUM_B.to_ascii_lowercase());
    let e = parse_release("Origin: x\n", "Release")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Release: no MD5Sum, SHA1, SHA256, SHA512 section");
}

#[test]
fn release_with_by_hash_and_other_digests() {
    // Ubuntu's Release: Acquire-By-Hash, then MD5Sum, SHA1, SHA256 and SHA512
    // sections; each file gets its strongest digest (by-hash paths are derived from
    // them, not listed).
    let text = format!(
        "Origin: Ubuntu\nAcquire-By-Hash: yes\nMD5Sum:\n {md5} 10 main/binary-amd64/Packages\nSHA1:\n {sha1} 10 main/binary-amd64/Packages\nSHA256:\n {SUM_A} 10 main/binary-amd64/Packages\n {SUM_B} 4 main/binary-amd64/Packages.xz\nSHA512:\n {sha512} 10 main/binary-amd64/Packages\n",
        md5 = &SUM_A[..32],
        sha1 = &SUM_A[..40],
        sha512 = SUM_A.repeat(2)
    );
    let files = parse_release(&text, "Release").unwrap();
    assert_eq!(
        files,
        [
            ReleaseFile {
                path: "main/binary-amd64/Packages".into(),
                size: 10,
                checksum: Checksum::new(Algorithm::Sha512, &SUM_A.repeat(2)).unwrap()
            },
            ReleaseFile {
                path: "main/binary-amd64/Packages.xz".into(),
                size: 4,
                checksum: Checksum::new(Algorithm::Sha256, SUM_B).unwrap()
            },
        ]
    );
}

#[test]
fn malformed_release_lines_name_the_line() {
    let cases = [
        format!("SHA256:\n {SUM_A} 10\n"),
        format!("SHA256:\n {SUM_A} ten main/Packages\n"),
        format!("SHA256:\n {SUM_A} 10 main/Packages extra\n"),
    ];
    for text in cases {
        let e = parse_release(&text, "R").unwrap_err().to_string();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(e, format!("R: line 2: not \"DIGEST SIZE PATH\": {line:?}"));
    }
    // Digests not of their section's length, or not hex.
    let short = &SUM_A[..63];
    for (text, digest) in [
        (
            format!("SHA256:\n {short} 10 main/Packages\n"),
            short.to_string(),
        ),
        (
            format!("SHA256:\n {short}g 10 main/Packages\n"),
            format!("{short}g"),
        ),
    ] {
        let e = error_chain(&parse_release(&text, "R").unwrap_err());
        assert_eq!(
            e,
            format!("R: line 2: sha256 digest \"{digest}\" is not 64 hex digits")
        );
    }
}

// -----------------------------------------------------------------------
// Directory listings

#[test]
fn html_links() {
    let links = parse_links(LISTING);
    assert!(links.contains(&"kernel-debuginfo-3.10.0-957.el7.x86_64.rpm".to_string()));
    assert!(links.contains(&"kernel-debuginfo-3.10.0-514.el7.x86_64.rpm".to_string()));
    assert!(links.contains(&"kernel-debuginfo-3.10.0-1127.el7.x86_64.rpm?x=1&y=2".to_string()));
    let rpms: Vec<_> = links.iter().filter_map(|l| rpm_from_file_name(l)).collect();
    let p = rpms.iter().find(|p| p.release == "1062.1.1.el7").unwrap();
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.arch.as_str()),
        ("kernel-debuginfo", "3.10.0", "x86_64")
    );
    assert!(!rpms.iter().any(|p| p.arch == "src"));
}

#[test]
fn links_in_every_quoting() {
    let cases: &[(&str, &[&str])] = &[
        ("<a href=\"x\">", &["x"]),
        ("<a href='x y'>", &["x y"]),
        ("<a href=x>", &["x"]),
        ("<a href=x title=t>", &["x"]),
        ("<A HREF = \"X\">", &["X"]),
        (
            "<a href=\"a&amp;b&quot;c&#39;d&lt;e&gt;\">",
            &["a&b\"c'd<e>"],
        ),
        ("<a href=\"1\"><a href=\"2\">", &["1", "2"]),
        // `href` as text, not an attribute.
        ("the href attribute", &[]),
        // Unclosed quote: nothing from there on.
        ("<a href=\"1\"><a href=\"2>", &["1"]),
        ("<a href=", &[]),
    ];
    for &(html, want) in cases {
        assert_eq!(parse_links(html), want, "{html}");
    }
}

#[test]
fn rpm_file_names_split_into_nvra() {
    // (href, name, version, release, arch)
    let ok = [
        (
            "kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm",
            "kernel-debuginfo",
            "3.10.0",
            "1160.el7",
            "x86_64",
        ),
        (
            "Packages/k/kernel-uek-debuginfo-5.4.17-2011.0.7.el8uek.aarch64.rpm?a=b#c",
            "kernel-uek-debuginfo",
            "5.4.17",
            "2011.0.7.el8uek",
            "aarch64",
        ),
        (
            "libstdc%2B%2B-8-1.noarch.rpm",
            "libstdc++",
            "8",
            "1",
            "noarch",
        ),
    ];
    for (href, name, version, release, arch) in ok {
        let p = rpm_from_file_name(href).unwrap_or_else(|| panic!("{href}"));
        assert_eq!(
            (
                p.name.as_str(),
                p.version.as_str(),
                p.release.as_str(),
                p.arch.as_str()
            ),
            (name, version, release, arch)
        );
        // The location is the link as given (it is joined to the base later).
        assert_eq!(p.location, href);
        assert_eq!((p.size, p.checksum), (None, None));
    }
    for bad in [
        "kernel-debuginfo-3.10.0-1062.el7.src.rpm",
        "kernel-3.10.0.x86_64.rpm",
        "-1-2.x86_64.rpm",
        "repodata/",
        "kernel-1-2.x86_64.deb",
        "?C=N;O=D",
    ] {
        assert_eq!(rpm_from_file_name(bad), None, "{bad}");
    }
}

// -----------------------------------------------------------------------
// Decompression

#[test]
fn decompress_by_suffix() {
    let text = b"Package: k\n".repeat(100);
    let gz = {
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        w.write_all(&text).unwrap();
        w.finish().unwrap()
    };
    let xz = {
        let mut w = liblzma::write::XzEncoder::new(Vec::new(), 6);
        w.write_all(&text).unwrap();
        w.finish().unwrap()
    };
    let zst = zstd::encode_all(&text[..], 3).unwrap();
    let bz2 = {
        let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        w.write_all(&text).unwrap();
        w.finish().unwrap()
    };
    let cases: [(&str, &[u8]); 6] = [
        ("Packages.gz", &gz),
        ("repodata/abc-primary.xml.xz", &xz),
        ("primary.xml.zst", &zst),
        ("Packages.bz2", &bz2),
        ("Packages", &text),
        // The suffix of the path, before a query or fragment.
        ("Packages.gz?sig=1#x", &gz),
    ];
    for (name, data) in cases {
        let mut out = Vec::new();
        decompress(name, data)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, text, "{name}");
    }
    // Concatenated gzip members read as one stream.
    let mut out = Vec::new();
    decompress("P.gz", &[gz.clone(), gz].concat()[..])
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, [text.clone(), text].concat());
}

#[test]
fn corrupt_compressed_metadata_is_an_io_error() {
    let r = decompress("Packages.xz", &b"not xz at all"[..]).unwrap();
    let e = parse_packages(r, "Packages.xz", all).unwrap_err();
    assert!(matches!(e, MetadataError::Io { .. }), "{e}");
    // The file is the message; the decompressor's complaint is the source, shown once.
    assert_eq!(e.to_string(), "Packages.xz");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn percent_escapes_next_to_multibyte_characters() {
    assert_eq!(percent_decode("a%2Bb%zz%"), "a+b%zz%");
    assert_eq!(percent_decode("%é%+1€"), "%é%+1€");
    let p = rpm_from_file_name("k-1-2.x86_64%€.rpm").unwrap();
    assert_eq!(p.arch, "x86_64%€");
}
