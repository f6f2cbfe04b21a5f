//! Repository metadata the fetch tests share: the btfgen library's unit tests of the
//! parsers (`btfgen/src/fetch/meta/tests.rs` includes this file) and the loopback
//! repositories of `tests/fetch.rs`.

pub const SUM_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const SUM_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/// (name, ver, rel, arch, size, sha256)
pub type Rpm<'a> = (&'a str, &'a str, &'a str, &'a str, u64, &'a str);

/// A CentOS 7 debuginfo repository: six kernel-debuginfo (one for aarch64), and
/// two other packages.
pub const CENTOS_RPMS: &[Rpm] = &[
    (
        "kernel-debuginfo",
        "3.10.0",
        "1160.119.1.el7",
        "x86_64",
        500_000_000,
        SUM_A,
    ),
    (
        "kernel-debuginfo",
        "3.10.0",
        "693.el7",
        "x86_64",
        400_000_000,
        SUM_A,
    ),
    (
        "kernel-debuginfo-common-x86_64",
        "3.10.0",
        "1160.el7",
        "x86_64",
        60_000_000,
        SUM_A,
    ),
    (
        "kernel-debuginfo",
        "3.10.0",
        "957.el7",
        "x86_64",
        450_000_000,
        SUM_B,
    ),
    (
        "kernel-debuginfo",
        "3.10.0",
        "1160.el7",
        "x86_64",
        480_000_000,
        SUM_A,
    ),
    (
        "kernel-debuginfo",
        "3.10.0",
        "957.27.2.el7",
        "x86_64",
        451_000_000,
        SUM_A,
    ),
    (
        "kernel-debuginfo",
        "3.10.0",
        "1062.el7",
        "aarch64",
        1,
        SUM_A,
    ),
    ("kernel-headers", "3.10.0", "1160.el7", "x86_64", 1, SUM_A),
];

/// primary.xml as createrepo writes it (namespaces, `<format>`, entities).
pub fn primary_xml(pkgs: &[Rpm]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"N\">\n",
    );
    for (name, ver, rel, arch, size, sum) in pkgs {
        s += &format!(
            "<package type=\"rpm\">\n  <name>{name}</name>\n  <arch>{arch}</arch>\n  <version epoch=\"0\" ver=\"{ver}\" rel=\"{rel}\"/>\n  <checksum type=\"sha256\" pkgid=\"YES\">{sum}</checksum>\n  <summary>Debug information for package kernel &amp; co</summary>\n  <size package=\"{size}\" installed=\"1\" archive=\"2\"/>\n  <location href=\"Packages/{name}-{ver}-{rel}.{arch}.rpm\"/>\n  <format><rpm:license>GPLv2</rpm:license></format>\n</package>\n"
        );
    }
    s + "</metadata>\n"
}

/// One apt Packages stanza (with a multi-line Description).
pub fn stanza(name: &str, ver: &str, size: u64, sum: &str) -> String {
    format!(
        "Package: {name}\nSource: linux\nVersion: {ver}\nArchitecture: amd64\nMaintainer: Ubuntu Kernel Team\nInstalled-Size: 1\nSection: devel\nPriority: optional\nFilename: pool/main/l/linux/{name}_{ver}_amd64.ddeb\nSize: {size}\nSHA256: {sum}\nDescription: Linux kernel debug image\n continuation line\n .\n more\n\n"
    )
}

/// An Ubuntu focal Packages index: eight linux-image-* stanzas and linux-libc-dev.
pub fn ubuntu_packages() -> String {
    let big = 900_000_000;
    [
        stanza(
            "linux-image-unsigned-5.4.0-42-generic-dbgsym",
            "5.4.0-42.46",
            big,
            SUM_A,
        ),
        stanza(
            "linux-image-5.4.0-42-generic-dbgsym",
            "5.4.0-42.46",
            1000,
            SUM_A,
        ),
        stanza(
            "linux-image-unsigned-5.4.0-100-generic-dbgsym",
            "5.4.0-100.113",
            big,
            SUM_A,
        ),
        stanza(
            "linux-image-unsigned-5.4.0-9-generic-dbgsym",
            "5.4.0-9.12",
            big,
            SUM_A,
        ),
        stanza(
            "linux-image-unsigned-5.4.0-1020-aws-dbgsym",
            "5.4.0-1020.20",
            big,
            SUM_A,
        ),
        stanza(
            "linux-image-unsigned-5.4.0-26-lowlatency-dbgsym",
            "5.4.0-26.30",
            big,
            SUM_A,
        ),
        stanza(
            "linux-image-5.8.0-1041-azure-dbgsym",
            "5.8.0-1041.44",
            big,
            SUM_A,
        ),
        stanza("linux-image-generic-dbgsym", "5.4.0.100.104", big, SUM_A),
        stanza("linux-libc-dev", "5.4.0-100.113", 10, SUM_A),
    ]
    .concat()
}

/// An Apache directory listing of a CentOS debuginfo directory, with the link
/// spellings real servers use (quoted, single-quoted, bare, upper case, a query string).
pub const LISTING: &str = r#"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /centos-debuginfo/7/x86_64</title></head><body>
<h1>Index of /centos-debuginfo/7/x86_64</h1><table>
<tr><th><a href="?C=N;O=D">Name</a></th></tr>
<tr><td><a href="/centos-debuginfo/7/">Parent Directory</a></td></tr>
<tr><td><a href="kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm">kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm</a></td></tr>
<tr><td><a href='kernel-debuginfo-3.10.0-957.el7.x86_64.rpm'>x</a></td></tr>
<tr><td><A HREF=kernel-debuginfo-3.10.0-514.el7.x86_64.rpm>x</A></td></tr>
<tr><td><a href="kernel-debuginfo-common-x86_64-3.10.0-1160.el7.x86_64.rpm">x</a></td></tr>
<tr><td><a href="kernel-debuginfo-3.10.0-1062.1.1.el7.x86_64.rpm">x</a></td></tr>
<tr><td><a href="kernel-debuginfo-3.10.0-1062.el7.src.rpm">x</a></td></tr>
<tr><td><a href="repodata/">repodata/</a></td></tr>
<tr><td><a href="kernel-debuginfo-3.10.0-1127.el7.x86_64.rpm?x=1&amp;y=2">x</a></td></tr>
</table></body></html>
"#;
