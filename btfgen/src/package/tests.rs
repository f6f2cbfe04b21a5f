//! Unit tests of what the formats share: member paths, format detection, the
//! decompression bound.

use super::*;

#[test]
fn paths() {
    let v = |s: &str| Member::Vmlinux(s.to_string());
    assert_eq!(
        classify("./usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64"),
        v("6.1.0-56-cloud-amd64")
    );
    assert_eq!(
        classify("./usr/lib/debug/lib/modules/4.18.0-80.el8.x86_64/vmlinux"),
        v("4.18.0-80.el8.x86_64")
    );
    assert_eq!(
        classify("./usr/lib/debug/boot/vmlinux-5.3.18-59.10-default.debug"),
        v("5.3.18-59.10-default")
    );
    assert_eq!(
        classify("usr/lib/debug/usr/lib/modules/6.5.6-300.fc39.x86_64/vmlinux"),
        v("6.5.6-300.fc39.x86_64")
    );
    assert_eq!(classify("./usr/lib/debug/boot/"), Member::Other);
    assert_eq!(
        classify("./usr/lib/debug/boot/System.map-6.1"),
        Member::Other
    );
    assert_eq!(classify("./usr/share/doc/x"), Member::Other);
    assert_eq!(classify("."), Member::Other);
    assert_eq!(classify("/usr/lib/debug/boot/vmlinux-1"), Member::Unsafe);
    assert_eq!(classify("./usr/../etc/passwd"), Member::Unsafe);
    assert_eq!(classify(".."), Member::Unsafe);
}

#[test]
fn module_paths_and_patterns() {
    let m = |r: &str, n: &str, c| Member::Module(r.to_string(), n.to_string(), c);
    assert_eq!(
        classify("./usr/lib/debug/lib/modules/6.1.0-9-amd64/kernel/net/netfilter/nf_conntrack.ko"),
        m("6.1.0-9-amd64", "nf_conntrack", None)
    );
    assert_eq!(
        classify("usr/lib/debug/usr/lib/modules/6.5.6-300.fc39.x86_64/extra/nf-nat.ko"),
        m("6.5.6-300.fc39.x86_64", "nf_nat", None)
    );
    // An RPM's debug-only files, and compressed modules.
    let rel = "4.18.0-553.el8_10.x86_64";
    let at = |file: &str| format!("./usr/lib/debug/lib/modules/{rel}/kernel/net/{file}");
    for (file, c) in [
        ("nf_conntrack.ko.debug", None),
        ("nf_conntrack.ko.xz", Some("xz")),
        ("nf_conntrack.ko.zst", Some("zstd")),
        ("nf_conntrack.ko.gz", Some("gzip")),
    ] {
        assert_eq!(classify(&at(file)), m(rel, "nf_conntrack", c), "{file}");
    }
    // Misplaced files, other suffixes and odd names are not modules.
    for other in [
        "./usr/lib/debug/lib/modules/6.1/kernel/x.ko.bz2",
        "./usr/lib/debug/lib/modules/6.1/kernel/x.debug",
        "./usr/lib/debug/lib/modules/6.1/kernel/x.ko.debug.xz",
        "./usr/lib/debug/lib/modules/6.1/.ko",
        "./usr/lib/debug/lib/modules/6.1/.ko.debug",
        "./usr/lib/debug/lib/modules/6.1/kernel/a\x1bb.ko",
        "./lib/modules/6.1/kernel/x.ko",
        "./lib/modules/6.1/kernel/x.ko.xz",
        "./usr/lib/debug/lib/modules/x.ko",
    ] {
        assert_eq!(classify(other), Member::Other, "{other}");
    }
    for (pattern, name, want) in [
        ("nf_conntrack", "nf_conntrack", true),
        ("nf-conntrack", "nf_conntrack", true),
        ("nf_*", "nf_conntrack", true),
        ("*conn*", "nf_conntrack", true),
        ("nf_?at", "nf_nat", true),
        ("*", "overlay", true),
        ("nf_", "nf_nat", false),
        ("overlay", "overlayfs", false),
        ("*x", "overlay", false),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "aXbYcZ", false),
    ] {
        assert_eq!(module_matches(pattern, name), want, "{pattern} {name}");
    }
}

#[test]
fn sniff() {
    assert_eq!(
        PackageFormat::sniff(b"!<arch>\ndebian"),
        Some(PackageFormat::Deb)
    );
    assert_eq!(
        PackageFormat::sniff(&[0xed, 0xab, 0xee, 0xdb, 3, 0]),
        Some(PackageFormat::Rpm)
    );
    assert_eq!(PackageFormat::sniff(b"\x7fELF"), None);
    assert_eq!(PackageFormat::sniff(b""), None);
}

#[test]
fn formats_are_detected_by_magic_not_name() {
    let dir = tempfile::tempdir().unwrap();
    // (file name, content, format)
    let cases: [(&str, &[u8], Option<PackageFormat>); 5] = [
        ("k.rpm", b"!<arch>\ndebian-binary", Some(PackageFormat::Deb)),
        (
            "k.deb",
            &[0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 1, 9],
            Some(PackageFormat::Rpm),
        ),
        ("short.deb", b"!<arch", None),
        ("empty.rpm", b"", None),
        ("k.tar.xz", b"\xfd7zXZ\0\0\x04", None),
    ];
    for (name, content, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        assert_eq!(PackageFormat::detect(&path).unwrap(), want, "{name}");
    }
    assert_eq!(PackageFormat::Deb.name(), "deb");
    assert_eq!(PackageFormat::Rpm.name(), "rpm");
}

#[test]
fn a_file_that_is_no_package_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello").unwrap();
    let e = extract_vmlinux_file(&path, &Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: unsupported package format `not an ar (.deb/.ddeb) nor an RPM file`",
            path.display()
        )
    );
    let missing = dir.path().join("missing.deb");
    let e = extract_vmlinux_file(&missing, &Options::default()).unwrap_err();
    assert!(
        matches!(
            e,
            PackageError::Corrupt {
                what: "package",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{}: corrupt package: ", missing.display())),
        "{e}"
    );
}

#[test]
fn the_bound_fails_the_read_that_passes_it() {
    let exceeded = Rc::new(Cell::new(false));
    let mut r = Limited {
        inner: &[1u8; 10][..],
        left: 6,
        exceeded: exceeded.clone(),
    };
    let mut buf = [0u8; 4];
    assert_eq!(r.read(&mut buf).unwrap(), 4);
    assert!(!exceeded.get());
    // 4 more would make 8 > 6.
    let e = r.read(&mut buf).unwrap_err();
    assert_eq!(e.to_string(), "decompressed size bound exceeded");
    assert!(exceeded.get());
}

#[test]
fn relative_strips_every_leading_dot_slash() {
    for (name, want) in [
        ("././a/b", "a/b"),
        ("a/./b", "a/./b"),
        ("./", ""),
        ("/a", "/a"),
    ] {
        assert_eq!(relative(name), want, "{name}");
    }
}
