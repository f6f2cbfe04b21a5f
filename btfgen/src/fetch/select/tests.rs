//! Unit tests of kernel selection: version order, globs, URL joins, `uname -r`
//! derivation and filters, shards and choices.

use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::collections::HashSet;

use super::*;
use crate::fetch::catalog::{Arch, RepoType};

/// Asserts that `sorted` is strictly increasing under [`compare_versions`], every
/// pair both ways.
fn assert_sorted(sorted: &[&str]) {
    for (i, a) in sorted.iter().enumerate() {
        for (j, b) in sorted.iter().enumerate() {
            assert_eq!(compare_versions(a, b), i.cmp(&j), "{a} vs {b}");
        }
    }
}

#[test]
fn version_order_across_distros() {
    // Kernel releases as each distro family names them, oldest first.
    assert_sorted(&[
        "3.10.0-514.el7.x86_64",
        "3.10.0-957.el7.x86_64",
        "3.10.0-957.1.3.el7.x86_64",
        "3.10.0-957.27.2.el7.x86_64",
        "3.10.0-1062.el7.x86_64",
        "3.10.0-1160.el7.x86_64",
        "3.10.0-1160.119.1.el7.x86_64",
        "4.14.35-1902.0.10.el7uek.aarch64",
        "4.18.0-80.el8.x86_64",
        "5.4.0-9-generic",
        "5.4.0-42-generic",
        "5.4.0-100-generic",
        "5.4.0-1020-aws",
        "5.10.0~rc1",
        "5.10.0",
        "5.10.0-0.deb10.17-cloud-arm64",
    ]);
}

#[test]
fn version_order_per_distro_family() {
    let families: &[(&str, &[&str])] = &[
        (
            "centos/rhel",
            &[
                "3.10.0-514.el7.x86_64",
                "3.10.0-693.el7.x86_64",
                // A letter run (`el7`) is older than a digit run (`27`).
                "3.10.0-957.el7.x86_64",
                "3.10.0-957.27.2.el7.x86_64",
                "3.10.0-1160.el7.x86_64",
            ],
        ),
        (
            "ubuntu",
            &[
                "4.15.0-20-generic",
                "4.15.0-112-generic",
                "5.4.0-26-generic",
                "5.4.0-1020-aws",
            ],
        ),
        (
            "debian",
            &[
                "4.9.0-13-amd64",
                "4.19.0-16-amd64",
                "4.19.0-17-cloud-amd64",
                "5.10.0-0.deb10.17-amd64",
            ],
        ),
        (
            "fedora",
            &[
                // 8 < 10 as numbers, though "8" > "1" as text.
                "5.8.15-301.fc33.x86_64",
                "5.10.12-200.fc33.x86_64",
                "5.10.12-200.fc34.x86_64",
            ],
        ),
        (
            "sles",
            &[
                "5.3.18-57-default",
                "5.3.18-59.10-default",
                "5.3.18-59.34-default",
                "5.3.18-150300.59.43-default",
            ],
        ),
        (
            "oracle uek",
            &[
                "4.14.35-1902.0.10.el7uek.x86_64",
                "4.14.35-2025.400.8.el7uek.x86_64",
                "5.4.17-2011.0.7.el8uek.x86_64",
            ],
        ),
        (
            "amazon",
            &[
                "4.14.252-195.483.amzn2.x86_64",
                "5.10.75-79.358.amzn2.x86_64",
            ],
        ),
    ];
    for (family, sorted) in families {
        eprintln!("{family}");
        assert_sorted(sorted);
    }
}

#[test]
fn version_comparison_edge_cases() {
    // (a, b, a vs b), worked out from rpmvercmp's rules plus `~`/`^` as the doc
    // comment of compare_versions states them.
    let cases: &[(&str, &str, Ordering)] = &[
        // Segments left over make the newer version.
        ("3.10.0-957", "3.10.0-957.el7.x86_64", Less),
        ("1a", "1", Greater),
        ("", "", Equal),
        ("", "0", Less),
        // Numbers compare as numbers: leading zeros do not count, length does.
        ("1.02", "1.2", Equal),
        ("010", "10", Equal),
        ("0", "00", Equal),
        ("1.001", "1.1", Equal),
        ("99999999999999999999", "9999999999999999999", Greater),
        // A digit run is newer than a letter run in the same place.
        ("1.0a", "1.0.1", Less),
        ("1.0.1", "1.0a", Greater),
        ("a", "1", Less),
        // Letter runs compare as bytes (upper case first).
        ("1.0a", "1.0b", Less),
        ("1.0B", "1.0a", Less),
        ("abc", "abd", Less),
        // Separators only split; how many and which does not matter.
        ("1.0", "1-0", Equal),
        ("1.0", "1_0", Equal),
        ("1..0", "1.0", Equal),
        ("1.0", "1.0.", Equal),
        // `~` sorts before anything, the end included.
        ("1.0~rc1", "1.0", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~~", "1.0~", Less),
        ("1.0~", "1.0", Less),
        ("1.0~rc1", "1.0a", Less),
        // `^` sorts after the end, before any other segment.
        ("1.0^", "1.0", Greater),
        ("1.0^git1", "1.0", Greater),
        ("1.0^git1", "1.0.1", Less),
        ("1.0^git1", "1.0~rc1", Greater),
        ("1.0^a", "1.0^b", Less),
        // No epochs: `:` is a separator, so an epoch is one more numeric segment
        // (kernel releases, what is compared here, never carry one).
        ("1:1.0", "2.0", Less),
        ("2:1.0", "1:9.9", Greater),
        // A Debian revision with a distro suffix is newer than without.
        ("5.4.0-42.46ubuntu1", "5.4.0-42.46", Greater),
    ];
    for &(a, b, want) in cases {
        assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
    }
}

#[test]
fn globs_capture_the_first_star() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "linux-image-unsigned-*-dbgsym",
            "linux-image-unsigned-5.4.0-42-generic-dbgsym",
            Some("5.4.0-42-generic"),
        ),
        (
            "kernel-*-debuginfo",
            "kernel-default-debuginfo",
            Some("default"),
        ),
        ("kernel-debuginfo", "kernel-debuginfo", Some("")),
        ("kernel-debuginfo", "kernel-debuginfo-common-x86_64", None),
        ("a*b*c", "axxbyyc", Some("xx")),
        // The first star takes as much as lets the rest match.
        ("a*b", "abab", Some("ba")),
        ("*", "", Some("")),
        ("*-dbg", "linux-dbg", Some("linux")),
        ("*-dbg", "linux-dbgsym", None),
        ("x*", "y", None),
    ];
    for &(pattern, name, want) in cases {
        assert_eq!(glob_match(pattern, name), want, "{pattern} on {name}");
    }
}

#[test]
fn urls_join_to_the_repository_base() {
    let cases = [
        (
            "https://h/repo",
            "Packages/k.rpm",
            "https://h/repo/Packages/k.rpm",
        ),
        (
            "https://h/repo/",
            "./Packages/k.rpm",
            "https://h/repo/Packages/k.rpm",
        ),
        ("https://h/repo", "http://o/k.rpm", "http://o/k.rpm"),
        ("https://h/repo", "https://o/k.rpm", "https://o/k.rpm"),
        // Host-absolute: the base's scheme and host, not its path.
        (
            "https://h:8080/a/b",
            "/pool/k.deb",
            "https://h:8080/pool/k.deb",
        ),
        ("https://h", "/pool/k.deb", "https://h/pool/k.deb"),
    ];
    for (base, location, want) in cases {
        assert_eq!(join_url(base, location), want, "{base} + {location}");
    }
}

fn fake_kernels(n: usize) -> Vec<Kernel> {
    (0..n)
        .map(|i| Kernel {
            uname: format!("5.4.0-{i}-generic"),
            package: "p".into(),
            url: format!("http://x/{i}"),
            size: None,
            checksum: None,
            vmlinux: String::new(),
            stream: "generic".into(),
            launchpad: false,
        })
        .collect()
}

fn unames(ks: &[Kernel]) -> Vec<&str> {
    ks.iter().map(|k| k.uname.as_str()).collect()
}

#[test]
fn shards_partition_the_kernels() {
    let all = fake_kernels(200);
    for n in [1u32, 2, 3, 7] {
        let mut seen = HashSet::new();
        for i in 1..=n {
            let s: Shard = format!("{i}/{n}").parse().unwrap();
            let part = choose(all.clone(), &Choice::All, Some(s)).unwrap();
            if n > 1 {
                assert!(
                    !part.is_empty() && part.len() < all.len(),
                    "{i}/{n}: {}",
                    part.len()
                );
            }
            for k in part {
                assert!(seen.insert(k.uname), "overlap in {i}/{n}");
            }
            // Stable: a kernel's shard does not depend on the others listed.
            let few = choose(all[..10].to_vec(), &Choice::All, Some(s)).unwrap();
            for k in few {
                assert!(s.contains(&k.uname));
            }
        }
        assert_eq!(seen.len(), all.len(), "n = {n}");
    }
}

#[test]
fn shard_parses_i_of_n() {
    let ok = [
        ("1/1", 1, 1),
        ("2/3", 2, 3),
        (" 3 / 3 ", 3, 3),
        ("7/10", 7, 10),
    ];
    for (s, index, count) in ok {
        assert_eq!(s.parse::<Shard>(), Ok(Shard { index, count }), "{s}");
    }
    for bad in ["0/3", "4/3", "1/0", "x", "1/2/3", "1", "/2", "-1/2", ""] {
        let e = bad.parse::<Shard>().unwrap_err();
        assert_eq!(
            e,
            format!("shard {bad:?}: expected I/N with 1 <= I <= N"),
            "{bad}"
        );
    }
}

#[test]
fn shard_of_a_release_is_fnv1a_modulo_n() {
    // FNV-1a (64 bits) of "a" is 0xaf63dc4c8601ec8c (the published test vector):
    // 0 mod 2, 1 mod 3, 5 mod 7. Of "" it is the offset basis 0xcbf29ce484222325:
    // 1 mod 2, 2 mod 3 (remainders computed with Python).
    let cases = [
        ("a", 2, 1),
        ("a", 3, 2),
        ("a", 7, 6),
        ("", 2, 2),
        ("", 3, 3),
        ("anything", 1, 1),
    ];
    for (uname, count, index) in cases {
        for i in 1..=count {
            let s = Shard { index: i, count };
            assert_eq!(s.contains(uname), i == index, "{uname:?} in {i}/{count}");
        }
    }
}

#[test]
fn choice_latest_takes_the_newest() {
    let all = fake_kernels(5);
    let l = choose(all.clone(), &Choice::Latest(2), None).unwrap();
    assert_eq!(unames(&l), ["5.4.0-3-generic", "5.4.0-4-generic"]);
    let l = choose(all.clone(), &Choice::Latest(10), None).unwrap();
    assert_eq!(l.len(), 5);
    let l = choose(all.clone(), &Choice::Latest(0), None).unwrap();
    assert!(l.is_empty());
    assert_eq!(choose(all, &Choice::All, None).unwrap().len(), 5);
}

#[test]
fn choice_releases_takes_exactly_those() {
    let all = fake_kernels(5);
    let want = Choice::Releases(vec!["5.4.0-3-generic".into(), "5.4.0-1-generic".into()]);
    let r = choose(all, &want, None).unwrap();
    // In the kernels' order, not the order asked.
    assert_eq!(unames(&r), ["5.4.0-1-generic", "5.4.0-3-generic"]);
}

#[test]
fn choice_of_a_missing_release_names_the_nearest() {
    let mut all = fake_kernels(5);
    all.push(Kernel {
        uname: "4.19.0-1-amd64".into(),
        ..all[0].clone()
    });
    let e = choose(all, &Choice::Releases(vec!["5.4.0-9-generic".into()]), None)
        .unwrap_err()
        .to_string();
    // The three sharing the longest prefix ("5.4.0-"), first listed first.
    assert_eq!(
        e,
        "kernel 5.4.0-9-generic not found (nearest: 5.4.0-0-generic, 5.4.0-1-generic, 5.4.0-2-generic)"
    );
    let e = choose(Vec::new(), &Choice::Releases(vec!["1".into()]), None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "kernel 1 not found");
}

/// A yum entry for x86_64 kernels, `kernel-debuginfo` packages.
fn yum_entry() -> Entry {
    Entry {
        name: "centos-7".into(),
        arch: Arch::X86_64,
        repo_type: RepoType::Yum,
        repos: vec!["https://r/".into()],
        dists: Vec::new(),
        packages: vec!["kernel-debuginfo".into()],
        flavors: Vec::new(),
        skip_flavors: Vec::new(),
        uname: "{version}-{release}.{arch}".into(),
        vmlinux: "usr/lib/debug/lib/modules/{uname}/vmlinux".into(),
        min_version: None,
        min_size: None,
        subscription: false,
        btfhub_dir: None,
        launchpad: None,
    }
}

fn pkg(name: &str, version: &str, release: &str, arch: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        release: release.into(),
        arch: arch.into(),
        location: format!("Packages/{name}-{version}-{release}.{arch}.rpm"),
        size: Some(1000),
        checksum: Some(Checksum::named("sha256", &"ab".repeat(32)).unwrap()),
    }
}

#[test]
fn kernel_of_a_yum_package() {
    let p = pkg("kernel-debuginfo", "3.10.0", "1160.el7", "x86_64");
    let k = kernel_of(&yum_entry(), "https://r/base", &p).unwrap();
    assert_eq!(
        k,
        Kernel {
            uname: "3.10.0-1160.el7.x86_64".into(),
            package: "kernel-debuginfo".into(),
            url: "https://r/base/Packages/kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm".into(),
            size: Some(1000),
            checksum: p.checksum.clone(),
            vmlinux: "usr/lib/debug/lib/modules/3.10.0-1160.el7.x86_64/vmlinux".into(),
            stream: "kernel-debuginfo".into(),
            launchpad: false,
        }
    );
}

#[test]
fn kernel_of_derives_uname_from_the_templates() {
    /// (package pattern, uname template, package name, version, release, arch, uname)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
    );
    let cases: &[Case] = &[
        // Ubuntu: the first `*` of the pattern.
        (
            "linux-image-unsigned-*-dbgsym",
            "{1}",
            "linux-image-unsigned-5.4.0-42-generic-dbgsym",
            "5.4.0-42.46",
            "",
            "amd64",
            Some("5.4.0-42-generic"),
        ),
        // A meta-package: the derived release does not start with a digit.
        (
            "linux-image-*-dbgsym",
            "{1}",
            "linux-image-generic-dbgsym",
            "5.4.0.100.104",
            "",
            "amd64",
            None,
        ),
        // SUSE: the release without its build counter, then the flavor.
        (
            "kernel-*-debuginfo",
            "{version}-{release_base}-{1}",
            "kernel-default-debuginfo",
            "5.3.18",
            "59.10.1",
            "x86_64",
            Some("5.3.18-59.10-default"),
        ),
        // No `.` in the release: release_base is the whole release.
        (
            "kernel-*-debuginfo",
            "{version}-{release_base}-{1}",
            "kernel-default-debuginfo",
            "4.12.14",
            "94",
            "x86_64",
            Some("4.12.14-94-default"),
        ),
        (
            "kernel-debuginfo",
            "{name}",
            "kernel-debuginfo",
            "1",
            "1",
            "x86_64",
            None,
        ),
        // Not a file name: a `/` or white space in the result.
        (
            "kernel-debuginfo",
            "{version}-{release}",
            "kernel-debuginfo",
            "5.1",
            "1/2",
            "x86_64",
            None,
        ),
        (
            "kernel-debuginfo",
            "{version}-{release}",
            "kernel-debuginfo",
            "5.1",
            "1 2",
            "x86_64",
            None,
        ),
        // Another architecture than the entry's, by either spelling.
        (
            "kernel-debuginfo",
            "{version}",
            "kernel-debuginfo",
            "5.1",
            "1",
            "aarch64",
            None,
        ),
        (
            "kernel-debuginfo",
            "{version}",
            "kernel-debuginfo",
            "5.1",
            "1",
            "arm64",
            None,
        ),
        // No pattern matches.
        (
            "kernel-debuginfo",
            "{version}",
            "kernel-headers",
            "5.1",
            "1",
            "x86_64",
            None,
        ),
    ];
    for &(pattern, uname, name, version, release, arch, want) in cases {
        let mut e = yum_entry();
        e.packages = vec![pattern.into()];
        e.uname = uname.into();
        let got = kernel_of(&e, "https://r", &pkg(name, version, release, arch));
        assert_eq!(got.map(|k| k.uname).as_deref(), want, "{name} {uname}");
    }
}

#[test]
fn kernel_of_filters_flavors_size_and_age() {
    let ubuntu = |flavors: &[&str], skip: &[&str]| {
        let mut e = yum_entry();
        e.packages = vec!["linux-image-*-dbgsym".into()];
        e.uname = "{1}".into();
        e.flavors = flavors.iter().map(|s| s.to_string()).collect();
        e.skip_flavors = skip.iter().map(|s| s.to_string()).collect();
        e
    };
    let p = |uname: &str| pkg(&format!("linux-image-{uname}-dbgsym"), "1", "", "amd64");
    let kept = |e: &Entry, p: &Package| kernel_of(e, "https://r", p).is_some();
    // flavors keeps only the releases ending in -FLAVOR.
    let e = ubuntu(&["generic", "aws"], &[]);
    assert!(kept(&e, &p("5.4.0-42-generic")));
    assert!(kept(&e, &p("5.4.0-1020-aws")));
    assert!(!kept(&e, &p("5.4.0-26-lowlatency")));
    // "-generic" must be the whole last component.
    assert!(!kept(&e, &p("5.4.0-26-notgeneric")));
    // skip_flavors drops them.
    let e = ubuntu(&[], &["preempt"]);
    assert!(kept(&e, &p("5.3.18-59-default")));
    assert!(!kept(&e, &p("5.3.18-59-preempt")));
    // min_size: smaller packages go; an unknown size stays.
    let mut e = ubuntu(&[], &[]);
    e.min_size = Some(1001);
    assert!(!kept(&e, &p("5.4.0-42-generic")));
    let mut unsized_ = p("5.4.0-42-generic");
    unsized_.size = None;
    assert!(kept(&e, &unsized_));
    e.min_size = Some(1000);
    assert!(kept(&e, &p("5.4.0-42-generic")));
    // min_version: older releases go, the same one stays.
    let mut e = yum_entry();
    e.min_version = Some("3.10.0-957".into());
    let rpm = |rel: &str| pkg("kernel-debuginfo", "3.10.0", rel, "x86_64");
    assert!(!kept(&e, &rpm("693.el7")));
    assert!(kept(&e, &rpm("957.el7")));
    assert!(kept(&e, &rpm("1160.el7")));
}

#[test]
fn kernels_are_unique_and_oldest_first() {
    let e = yum_entry();
    let new = pkg("kernel-debuginfo", "3.10.0", "1160.el7", "x86_64");
    let old = pkg("kernel-debuginfo", "3.10.0", "957.el7", "x86_64");
    let other = pkg("kernel-headers", "3.10.0", "1.el7", "x86_64");
    let ks = kernels(
        &e,
        [
            ("https://first", &new),
            ("https://first", &other),
            ("https://second", &old),
            ("https://second", &new),
        ],
    );
    assert_eq!(
        unames(&ks),
        ["3.10.0-957.el7.x86_64", "3.10.0-1160.el7.x86_64"]
    );
    // The first repository listing a release wins.
    assert!(ks[1].url.starts_with("https://first/"), "{}", ks[1].url);
    assert!(ks[0].url.starts_with("https://second/"), "{}", ks[0].url);
}

#[test]
fn streams_are_flavors_else_package_names() {
    for (uname, package, want) in [
        (
            "5.4.0-42-generic",
            "linux-image-unsigned-5.4.0-42-generic-dbgsym",
            "generic",
        ),
        (
            "5.10.0-9-cloud-amd64",
            "linux-image-5.10.0-9-cloud-amd64-dbg",
            "cloud-amd64",
        ),
        (
            "5.10.0-0.deb10.17-rt-arm64",
            "linux-image-5.10.0-0.deb10.17-rt-arm64-dbg",
            "rt-arm64",
        ),
        (
            "5.3.18-59.10-default",
            "kernel-default-debuginfo",
            "default",
        ),
        (
            "3.10.0-1160.el7.x86_64",
            "kernel-debuginfo",
            "kernel-debuginfo",
        ),
        (
            "4.14.35-1902.0.10.el7uek.aarch64",
            "kernel-uek-debuginfo",
            "kernel-uek-debuginfo",
        ),
    ] {
        assert_eq!(stream_of(uname, package), want, "{uname}");
    }
}

#[test]
fn launchpad_kernels_are_the_images_the_dbgsyms_lack() {
    let e = Entry {
        repo_type: RepoType::Apt,
        dists: vec!["focal/main".into()],
        packages: vec!["linux-image-unsigned-*-dbgsym".into()],
        flavors: vec!["generic".into(), "aws".into()],
        uname: "{1}".into(),
        vmlinux: "usr/lib/debug/boot/vmlinux-{uname}".into(),
        min_size: Some(10_000_000),
        launchpad: Some(crate::fetch::catalog::Launchpad {
            images: vec!["http://i/ubuntu".into()],
            image_packages: vec!["linux-image-unsigned-*".into(), "linux-image-*".into()],
            archive: "https://lp/1.0/ubuntu/+archive/primary".into(),
            series: "focal".into(),
            dbgsym: "linux-image-unsigned-{uname}-dbgsym".into(),
        }),
        ..yum_entry()
    };
    let deb = |name: &str| Package {
        arch: "amd64".into(),
        size: Some(1000),
        ..pkg(name, "1", "", "amd64")
    };
    let found = kernels(
        &e,
        [(
            "http://d",
            &Package {
                size: Some(900_000_000),
                ..deb("linux-image-unsigned-5.4.0-42-generic-dbgsym")
            },
        )],
    );
    let images = [
        deb("linux-image-5.4.0-42-generic"),
        deb("linux-image-unsigned-5.4.0-9-generic"),
        deb("linux-image-5.4.0-9-generic"),
        deb("linux-image-5.4.0-26-lowlatency"),
        deb("linux-image-generic"),
        deb("linux-image-5.4.0-1020-aws"),
    ];
    let lp = launchpad_kernels(
        &e,
        images.iter().map(|p| ("http://i/ubuntu", p)),
        &found,
        |d| format!("q:{d}"),
    );
    let got: Vec<(&str, &str, &str)> = lp
        .iter()
        .map(|k| (k.uname.as_str(), k.url.as_str(), k.stream.as_str()))
        .collect();
    // 5.4.0-42 has its dbgsym; lowlatency is not a wanted flavor; linux-image-generic
    // is a meta-package; 5.4.0-9 is looked up once.
    assert_eq!(
        got,
        [
            (
                "5.4.0-9-generic",
                "q:linux-image-unsigned-5.4.0-9-generic-dbgsym",
                "generic"
            ),
            (
                "5.4.0-1020-aws",
                "q:linux-image-unsigned-5.4.0-1020-aws-dbgsym",
                "aws"
            ),
        ]
    );
    assert!(lp.iter().all(|k| k.launchpad && k.size.is_none()));
    assert_eq!(lp[0].vmlinux, "usr/lib/debug/boot/vmlinux-5.4.0-9-generic");
    assert_eq!(lp[0].package, "linux-image-unsigned-5.4.0-9-generic-dbgsym");
}
