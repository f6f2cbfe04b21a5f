//! The text side of selection, without a bundle: os-release fields, kernel release
//! tokens and the nearest-name ranking, `--btf-source` parsing, and how a source prints.

use std::path::PathBuf;

use super::*;

#[test]
fn policies_parse_from_the_command_line() {
    let path = |p: &str| SourcePolicy::Path(PathBuf::from(p));
    for (arg, want) in [
        ("auto", SourcePolicy::Auto),
        ("kernel", SourcePolicy::Kernel),
        ("bundle", SourcePolicy::Bundle),
        ("/tmp/x.btf", path("/tmp/x.btf")),
        // Case-sensitive: a file that happens to be called `Kernel`.
        ("Kernel", path("Kernel")),
        ("./bundle", path("./bundle")),
    ] {
        assert_eq!(arg.parse::<SourcePolicy>(), Ok(want), "{arg}");
    }
}

#[test]
fn nearest_ranks_by_common_tokens_then_numeric_distance() {
    let names = [
        "5.4.0-42-generic",
        "5.4.0-48-generic",
        "5.10.0-1-amd64",
        "5.15.0-91-generic",
        "4.19.0-25-amd64",
        // Listed twice (two distros): named once.
        "5.4.0-42-generic",
    ];
    let cases: [(&str, usize, &[&str]); 6] = [
        (
            "5.4.0-47-generic",
            5,
            &[
                "5.4.0-48-generic",
                "5.4.0-42-generic",
                "5.10.0-1-amd64",
                "5.15.0-91-generic",
                "4.19.0-25-amd64",
            ],
        ),
        (
            "5.4.0-47-generic",
            2,
            &["5.4.0-48-generic", "5.4.0-42-generic"],
        ),
        // Five tokens in common beat any distance (the name itself has no next token).
        (
            "5.4.0-42-generic",
            3,
            &["5.4.0-42-generic", "5.4.0-48-generic", "5.10.0-1-amd64"],
        ),
        // Numeric, not by text: 5.4 is 2 from 5.6, 5.10 is 4 (as text, 5.10 < 5.4).
        (
            "5.6.0-1-amd64",
            3,
            &["5.4.0-42-generic", "5.4.0-48-generic", "5.10.0-1-amd64"],
        ),
        // `rc1` against `42`/`48` has no numeric distance: the two tie, by name.
        ("5.4.0-rc1", 2, &["5.4.0-42-generic", "5.4.0-48-generic"]),
        // Majors 1 and 2 away: every 5.x before 4.19, the 5.x by name.
        (
            "6.1.0-13-amd64",
            5,
            &[
                "5.10.0-1-amd64",
                "5.15.0-91-generic",
                "5.4.0-42-generic",
                "5.4.0-48-generic",
                "4.19.0-25-amd64",
            ],
        ),
    ];
    for (uname, n, want) in cases {
        assert_eq!(nearest(uname, names.into_iter(), n), want, "{uname} {n}");
    }
    assert!(nearest("5.4.0", std::iter::empty(), 5).is_empty());
}

#[test]
fn kernel_releases_split_into_tokens() {
    let cases: [(&str, &[&str]); 6] = [
        ("5.15.0-91-generic", &["5", "15", "0", "91", "generic"]),
        // RHEL: dots, dashes and underscores all separate.
        (
            "4.18.0-513.5.1.el8_9.x86_64",
            &["4", "18", "0", "513", "5", "1", "el8", "9", "x86", "64"],
        ),
        ("6.6.31+rpt-rpi-v8", &["6", "6", "31", "rpt", "rpi", "v8"]),
        ("5.4.0~rc1", &["5", "4", "0", "rc1"]),
        // Empty tokens between adjacent separators are dropped.
        ("6.1..0--x", &["6", "1", "0", "x"]),
        ("", &[]),
    ];
    for (release, want) in cases {
        assert_eq!(tokens(release), want, "{release}");
    }
}

#[test]
fn os_release_fields_are_unquoted() {
    let cases = [
        ("ID=ubuntu", "ID", "ubuntu"),
        ("ID=\"ubuntu\"", "ID", "ubuntu"),
        ("ID='ubuntu'", "ID", "ubuntu"),
        ("ID=\"\"", "ID", ""),
        // Quotes that do not pair stay.
        ("ID=\"ubuntu", "ID", "\"ubuntu"),
        ("ID='fedora\"", "ID", "'fedora\""),
        // Space around the line, the key and the value is trimmed; inside quotes kept.
        ("  ID = fedora  ", "ID", "fedora"),
        (
            "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"",
            "PRETTY_NAME",
            "Ubuntu 22.04.3 LTS",
        ),
        // Only the first `=` separates.
        ("X=a=b", "X", "a=b"),
        // A key that starts with ours is another key; a comment is not a field.
        ("ID_LIKE=debian", "ID", ""),
        ("#ID=ubuntu", "ID", ""),
        // The first occurrence wins.
        ("ID=centos\nID=rocky", "ID", "centos"),
        ("NAME=x\n\nVERSION_ID=9\n", "VERSION_ID", "9"),
        ("", "ID", ""),
    ];
    for (text, key, want) in cases {
        assert_eq!(os_release_field(text, key), want, "{text:?} {key}");
    }
}

#[test]
fn os_ids_are_empty_when_absent() {
    let cases = [
        (None, ("", "")),
        // Arch Linux has no VERSION_ID.
        (
            Some("NAME=\"Arch Linux\"\nID=arch\nID_LIKE=\n"),
            ("arch", ""),
        ),
        (
            Some("ID_LIKE=\"rhel centos\"\nVERSION_ID=\"9.3\"\nID=\"rocky\"\n"),
            ("rocky", "9.3"),
        ),
    ];
    for (os_release, (id, version_id)) in cases {
        let env = Environment {
            os_release: os_release.map(str::to_string),
            ..Environment::default()
        };
        assert_eq!(
            env.os_ids(),
            (id.to_string(), version_id.to_string()),
            "{os_release:?}"
        );
    }
}

#[test]
fn sources_display_for_humans() {
    let cases = [
        (
            BtfSource::Explicit(PathBuf::from("/opt/app.btf")),
            "explicit /opt/app.btf",
        ),
        (
            BtfSource::Kernel(PathBuf::from(KERNEL_BTF)),
            "kernel /sys/kernel/btf/vmlinux",
        ),
        (
            BtfSource::Bundle {
                entry: 8,
                kernel: KernelId::new("arm64", "5.15.0-91-generic", "ubuntu", "22.04"),
                btf: b"BTF".to_vec(),
            },
            "bundle aarch64 5.15.0-91-generic (ubuntu 22.04)",
        ),
    ];
    for (source, want) in cases {
        assert_eq!(source.to_string(), want);
    }
}
