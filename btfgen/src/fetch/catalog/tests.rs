//! Unit tests of the catalog: validation messages, the built-in entries, merging,
//! lookups and near names, arch names, URL templates.

use super::*;

/// A one-entry catalog: a yum entry `test-1` on x86_64, with `over`'s keys set to
/// their (TOML) values instead, `-` removing a key, new keys appended.
fn entry_toml(over: &[(&str, &str)]) -> String {
    let mut keys = vec![
        ("name", "\"test-1\""),
        ("arch", "\"x86_64\""),
        ("repo_type", "\"yum\""),
        ("repos", "[\"https://unused.invalid/\"]"),
        ("packages", "[\"kernel-debuginfo\"]"),
        ("uname", "\"{version}-{release}.{arch}\""),
        ("vmlinux", "\"usr/lib/debug/lib/modules/{uname}/vmlinux\""),
    ];
    for &(k, v) in over {
        match keys.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => keys.push((k, v)),
        }
    }
    let mut s = String::from("[[kernel]]\n");
    for (k, v) in keys.into_iter().filter(|(_, v)| *v != "-") {
        s += &format!("{k} = {v}\n");
    }
    s
}

/// An apt entry `test-1` on x86_64 (Ubuntu's layout).
fn apt_toml(over: &[(&str, &str)]) -> String {
    let mut all = vec![
        ("repo_type", "\"apt\""),
        ("dists", "[\"focal/main\", \"focal-updates/main\"]"),
        (
            "packages",
            "[\"linux-image-unsigned-*-dbgsym\", \"linux-image-*-dbgsym\"]",
        ),
        ("uname", "\"{1}\""),
        ("vmlinux", "\"usr/lib/debug/boot/vmlinux-{uname}\""),
    ];
    all.extend_from_slice(over);
    entry_toml(&all)
}

#[test]
fn test_entries_parse() {
    let cat = Catalog::parse(
        &format!(
            "{}\n{}",
            entry_toml(&[]),
            apt_toml(&[("arch", "\"arm64\"")])
        ),
        "t",
    )
    .unwrap();
    assert_eq!(cat.entries.len(), 2);
    let (yum, apt) = (&cat.entries[0], &cat.entries[1]);
    assert_eq!((yum.arch, yum.repo_type), (Arch::X86_64, RepoType::Yum));
    assert_eq!((apt.arch, apt.repo_type), (Arch::Arm64, RepoType::Apt));
    assert_eq!(apt.dists, ["focal/main", "focal-updates/main"]);
    // Defaults of the optional keys.
    assert!(yum.flavors.is_empty() && yum.skip_flavors.is_empty() && yum.dists.is_empty());
    assert_eq!((yum.min_version.as_deref(), yum.min_size), (None, None));
    assert!(!yum.subscription && yum.btfhub_dir.is_none());
}

#[test]
fn catalog_validation_names_the_entry_and_the_fault() {
    // (changed keys, the whole error; the messages are validate()'s, the prefix
    // `ORIGIN: entry NAME (ARCH): ` is CatalogError::Invalid's display)
    let yum: &[(&[(&str, &str)], &str)] = &[
        (
            &[("uname", "\"{version}-{rel}\"")],
            "uname: unknown placeholder {rel} (known: {1} {name} {version} {release} {release_base} {arch})",
        ),
        (
            &[("uname", "\"{version\"")],
            "uname: unclosed { in \"{version\"",
        ),
        (&[("uname", "\"version}\"")], "uname: stray } in \"version}\""),
        (
            &[("uname", "\"{1}\"")],
            "uname uses {1} but a package pattern has no *",
        ),
        (
            &[("dists", "[\"focal/main\"]")],
            "dists is for repo_type apt only",
        ),
        (
            &[("repos", "[]")],
            "repos is empty (only subscription entries may leave it empty)",
        ),
        (
            &[("repos", "[\"ftp://h/\"]")],
            "repo \"ftp://h/\" is not an http(s) URL",
        ),
        (
            &[("repos", "[\"https://h/{release}\"]")],
            "repo \"https://h/{release}\": unknown placeholder {release} (known: {arch} {debarch})",
        ),
        (&[("packages", "[]")], "packages is empty"),
        (
            &[("vmlinux", "\"/../{uname}\"")],
            "vmlinux must be a relative path without ..",
        ),
        (
            &[("vmlinux", "\"usr/../../{uname}\"")],
            "vmlinux must be a relative path without ..",
        ),
        (
            &[("vmlinux", "\"boot/{name}\"")],
            "vmlinux: unknown placeholder {name} (known: {uname})",
        ),
        (
            &[("min_version", "\"v3.10\"")],
            "min_version \"v3.10\" does not start with a digit",
        ),
    ];
    for (over, message) in yum {
        let e = Catalog::parse(&entry_toml(over), "bad.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("bad.toml: entry test-1 (x86_64): {message}"),
            "{over:?}"
        );
    }
    let e = Catalog::parse(&apt_toml(&[("dists", "-")]), "x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "x: entry test-1 (x86_64): repo_type apt needs dists (or URL SUITE COMPONENT... repos)"
    );
}

#[test]
fn entry_names_are_id_dash_version_id() {
    let short = "name must be <os-release ID>-<VERSION_ID>";
    let long =
        "name must be <os-release ID>-<VERSION_ID> (ID lower case, VERSION_ID digits and dots)";
    let cases = [
        ("Test", short),
        ("Centos-7", long),
        ("centos-", long),
        ("-7", long),
        ("centos-7/x", long),
    ];
    for (name, message) in cases {
        let e = Catalog::parse(&entry_toml(&[("name", &format!("{name:?}"))]), "x").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("x: entry {name} (x86_64): {message}"),
            "{name}"
        );
    }
    for good in [
        "opensuse_leap-15.3",
        "ubuntu-20.04",
        "debian-11",
        "sles-15sp3",
    ] {
        let cat = Catalog::parse(&entry_toml(&[("name", &format!("{good:?}"))]), "x");
        assert!(cat.is_ok(), "{good}: {:?}", cat.err());
    }
}

#[test]
fn subscription_entries_may_leave_repos_empty() {
    let cat = Catalog::parse(
        &entry_toml(&[("repos", "[]"), ("subscription", "true")]),
        "x",
    )
    .unwrap();
    assert!(cat.entries[0].subscription && cat.entries[0].repos.is_empty());
}

#[test]
fn catalog_syntax_and_schema_errors_are_one_line() {
    let cases = [
        (entry_toml(&[("colour", "1")]), "colour"),
        (entry_toml(&[("arch", "\"mips\"")]), "mips"),
        (entry_toml(&[("repo_type", "\"zypper\"")]), "zypper"),
        ("[[kernel]\nname = 1\n".to_string(), "line 1"),
    ];
    for (text, needle) in cases {
        let e = Catalog::parse(&text, "my.toml").unwrap_err();
        assert!(matches!(e, CatalogError::Parse { .. }), "{e}");
        let e = e.to_string();
        assert!(e.starts_with("my.toml: ") && e.contains(needle), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn an_entry_defined_twice_is_refused() {
    let twice = format!("{}\n{}", entry_toml(&[]), entry_toml(&[]));
    let e = Catalog::parse(&twice, "x").unwrap_err();
    assert_eq!(e.to_string(), "x: entry test-1 (x86_64): defined twice");
    // The same name on another arch is another entry.
    let two = format!(
        "{}\n{}",
        entry_toml(&[]),
        entry_toml(&[("arch", "\"aarch64\"")])
    );
    assert!(
        Catalog::parse(&two, "x").is_err(),
        "aarch64 is not a catalog arch name"
    );
    let two = format!(
        "{}\n{}",
        entry_toml(&[]),
        entry_toml(&[("arch", "\"arm64\"")])
    );
    assert_eq!(Catalog::parse(&two, "x").unwrap().names(), ["test-1"]);
}

#[test]
fn catalog_files_load_and_name_themselves_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, entry_toml(&[])).unwrap();
    let cat = Catalog::load(&path).unwrap();
    assert_eq!(cat.names(), ["test-1"]);
    let missing = dir.path().join("missing.toml");
    let e = Catalog::load(&missing).unwrap_err();
    assert!(matches!(e, CatalogError::Io(..)), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}: ", missing.display())),
        "{e}"
    );
}

#[test]
fn builtin_catalog_covers_the_issue_distros_on_x86_64() {
    let cat = Catalog::builtin().expect("kernels.toml parses and validates");
    let mut want: Vec<String> = [
        "centos-7",
        "centos-8",
        "ubuntu-16.04",
        "ubuntu-18.04",
        "ubuntu-20.04",
        "debian-9",
        "debian-10",
        "ol-7",
        "ol-8",
        "amzn-1",
        "amzn-2",
        "rhel-7",
        "rhel-8",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.extend((24..=31).map(|v| format!("fedora-{v}")));
    for v in ["12.3", "12.5", "15.1", "15.2", "15.3", "15.4"] {
        want.push(format!("sles-{v}"));
    }
    for name in &want {
        let e = cat
            .get(name, Arch::X86_64)
            .unwrap_or_else(|e| panic!("{e}"));
        // RHEL and SLES need a subscription, so they list no public repository.
        let sub = name.starts_with("rhel-") || name.starts_with("sles-");
        assert_eq!(e.subscription, sub, "{name}: subscription");
        assert_eq!(e.repos.is_empty(), sub, "{name}: repos");
    }
}

#[test]
fn builtin_catalog_arm64_entries() {
    let cat = Catalog::builtin().unwrap();
    for name in [
        "centos-7",
        "centos-8",
        "ubuntu-20.04",
        "debian-10",
        "fedora-28",
        "ol-8",
        "amzn-2",
        "sles-15.3",
    ] {
        cat.get(name, Arch::Arm64).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(cat.get("fedora-24", Arch::Arm64).is_err());
}

#[test]
fn builtin_debian_entries_use_third_party_mirrors() {
    let cat = Catalog::builtin().unwrap();
    let debian: Vec<&Entry> = cat
        .entries
        .iter()
        .filter(|e| e.name.starts_with("debian-"))
        .collect();
    assert!(!debian.is_empty());
    for e in debian {
        for r in &e.repos {
            let host = r.split('/').nth(2).unwrap();
            assert!(!host.ends_with("debian.org"), "{}: {r}", e.name);
        }
    }
}

#[test]
fn builtin_ubuntu_entries_keep_every_btfhub_flavor() {
    let cat = Catalog::builtin().unwrap();
    let u = cat.get("ubuntu-18.04", Arch::X86_64).unwrap();
    for f in ["generic", "aws", "azure", "gcp", "gke", "gkeop"] {
        assert!(u.flavors.iter().any(|x| x == f), "ubuntu flavor {f}");
    }
}

#[test]
fn catalog_merge_adds_and_overrides() {
    let mut cat = Catalog::builtin().unwrap();
    let n = cat.entries.len();
    let at = cat
        .entries
        .iter()
        .position(|e| e.name == "centos-7" && e.arch == Arch::X86_64)
        .unwrap();
    let over = Catalog::parse(
        &format!(
            "{}\n{}",
            entry_toml(&[("name", "\"centos-7\"")]),
            apt_toml(&[])
        ),
        "mine.toml",
    )
    .unwrap();
    cat.merge(over);
    assert_eq!(cat.entries.len(), n + 1);
    let c7 = cat.get("centos-7", Arch::X86_64).unwrap();
    assert_eq!(c7.repo_type, RepoType::Yum);
    assert_eq!(c7.repos, ["https://unused.invalid/"]);
    // The override keeps the place of the entry it replaces.
    assert_eq!(cat.entries[at].repos, ["https://unused.invalid/"]);
    // The other arch keeps the built-in entry.
    assert_eq!(
        cat.get("centos-7", Arch::Arm64).unwrap().repo_type,
        RepoType::Dir
    );
    assert_eq!(
        cat.get("test-1", Arch::X86_64).unwrap().repo_type,
        RepoType::Apt
    );
    assert_eq!(cat.names().last(), Some(&"test-1"));
}

#[test]
fn unknown_distro_is_one_line_naming_it_and_near_names() {
    let cat = Catalog::builtin().unwrap();
    let e = cat.get("centos-9", Arch::X86_64).unwrap_err().to_string();
    assert!(
        e.contains("centos-9") && e.contains("centos-7") && e.contains("centos-8"),
        "{e}"
    );
    let e = cat.get("fedroa-30", Arch::X86_64).unwrap_err().to_string();
    assert!(e.contains("fedora-30"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn a_distro_without_the_arch_lists_the_arches_it_has() {
    let cat = Catalog::builtin().unwrap();
    let e = cat.get("amzn-1", Arch::Arm64).unwrap_err();
    assert!(matches!(e, CatalogError::NoArch { .. }), "{e}");
    // kernels.toml has amzn-1 for x86_64 only.
    assert_eq!(e.to_string(), "amzn-1 has no arm64 entry (arches: x86_64)");
}

#[test]
fn near_names_prefer_the_same_distro_then_few_edits() {
    let names = [
        "centos-7",
        "centos-8",
        "fedora-30",
        "ubuntu-20.04",
        "amzn-2",
        "ol-8",
    ];
    // Expected lists worked out with an independent Levenshtein distance (Python)
    // and the rule: same ID (or a prefix) first, else 1 + distance at most
    // 1 + max(longer length / 2, 2).
    let cases: &[(&str, &[&str])] = &[
        ("centos-9", &["centos-7", "centos-8"]),
        ("fedroa-30", &["fedora-30"]),
        ("centso-7", &["centos-7", "centos-8"]),
        ("ubuntu-22.04", &["ubuntu-20.04"]),
        ("amzn", &["amzn-2"]),
        ("zzzzzzzzzz", &[]),
    ];
    for &(name, want) in cases {
        assert_eq!(near_names(name, &names), want, "{name}");
    }
    // At most five.
    let many: Vec<String> = (1..=8).map(|v| format!("fedora-{v}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(near_names("fedora-9", &many).len(), 5);
    let e = CatalogError::Unknown {
        name: "x-1".into(),
        near: Vec::new(),
    };
    assert_eq!(e.to_string(), "unknown distro x-1");
    let e = CatalogError::Unknown {
        name: "centos-9".into(),
        near: vec!["centos-7".into(), "centos-8".into()],
    };
    assert_eq!(
        e.to_string(),
        "unknown distro centos-9; did you mean centos-7, centos-8?"
    );
}

#[test]
fn arch_names_per_ecosystem() {
    // (arch, catalog/BTFHub name, rpm, deb)
    let cases = [
        (Arch::X86_64, "x86_64", "x86_64", "amd64"),
        (Arch::Arm64, "arm64", "aarch64", "arm64"),
    ];
    for (arch, name, rpm, deb) in cases {
        assert_eq!(arch.name(), name);
        assert_eq!(arch.to_string(), name);
        assert_eq!(arch.rpm(), rpm);
        assert_eq!(arch.deb(), deb);
        assert_eq!(Arch::parse(rpm), Some(arch));
        assert_eq!(Arch::parse(deb), Some(arch));
    }
    for bad in ["", "X86_64", "i386", "armhf", "riscv64"] {
        assert_eq!(Arch::parse(bad), None, "{bad}");
    }
}

fn bases(srcs: &[Source]) -> Vec<&str> {
    srcs.iter().map(|s| s.base.as_str()).collect()
}

fn mirrors(m: &[&str]) -> Vec<Mirror> {
    m.iter().map(|m| m.parse().unwrap()).collect()
}

#[test]
fn sources_substitute_the_arch_and_honour_mirrors() {
    let mut e = Catalog::parse(
        &entry_toml(&[
            ("arch", "\"arm64\""),
            (
                "repos",
                "[\"https://h/{arch}/os/\", \"https://h/dists/binary-{debarch}\"]",
            ),
        ]),
        "x",
    )
    .unwrap()
    .entries
    .remove(0);
    assert_eq!(
        bases(&e.sources(&[])),
        ["https://h/aarch64/os/", "https://h/dists/binary-arm64"]
    );
    // A plain mirror replaces every repository (read once); its placeholders are
    // substituted too, unknown ones kept as written.
    assert_eq!(
        bases(&e.sources(&mirrors(&["http://m/{arch}"]))),
        ["http://m/aarch64"]
    );
    assert_eq!(
        bases(&e.sources(&mirrors(&["http://m/{x}/"]))),
        ["http://m/{x}/"]
    );
    // FROM=TO rewrites the URLs that start with FROM, the first rule that matches.
    assert_eq!(
        bases(&e.sources(&mirrors(&[
            "https://h/dists=http://lo/d",
            "https://h/=http://lo/all/",
            "https://h/dists=http://never/"
        ]))),
        ["http://lo/all/aarch64/os/", "http://lo/d/binary-arm64"]
    );
    e.arch = Arch::X86_64;
    assert_eq!(
        bases(&e.sources(&[])),
        ["https://h/x86_64/os/", "https://h/dists/binary-amd64"]
    );
}

#[test]
fn mirror_arguments_parse() {
    assert_eq!(
        "http://m/x".parse::<Mirror>(),
        Ok(Mirror::Replace("http://m/x".into()))
    );
    assert_eq!(
        "https://a/b=http://c/d".parse::<Mirror>(),
        Ok(Mirror::Prefix("https://a/b".into(), "http://c/d".into()))
    );
    // An = in a query string is part of a plain URL.
    assert_eq!(
        "http://m/x?a=b".parse::<Mirror>(),
        Ok(Mirror::Replace("http://m/x?a=b".into()))
    );
    for bad in ["m/x", "", "https://a/b=c/d", "ftp://x"] {
        let e = bad.parse::<Mirror>().unwrap_err();
        assert!(e.starts_with(&format!("mirror {bad:?}")), "{e}");
    }
}

#[test]
fn apt_repositories_may_name_their_suites() {
    // sources.list style: URL SUITE COMPONENT...; the suite may have a slash
    // (Debian's old security suites, `buster/updates`).
    let e = Catalog::parse(
        &apt_toml(&[
            ("dists", "-"),
            (
                "repos",
                "[\"http://a/debian buster main contrib\", \"http://s/debian-security buster/updates main\"]",
            ),
        ]),
        "x",
    )
    .unwrap()
    .entries
    .remove(0);
    let srcs = e.sources(&[]);
    assert_eq!(
        srcs,
        [
            Source {
                base: "http://a/debian".into(),
                dists: vec!["buster/main".into(), "buster/contrib".into()],
            },
            Source {
                base: "http://s/debian-security".into(),
                dists: vec!["buster/updates/main".into()],
            },
        ]
    );
    // A plain mirror keeps each repository's suites under the one base URL.
    let srcs = e.sources(&mirrors(&["http://m/"]));
    assert_eq!(bases(&srcs), ["http://m/", "http://m/"]);
    assert_eq!(srcs[1].dists, ["buster/updates/main"]);
    // Repositories without suites take `dists`.
    let e = Catalog::parse(&apt_toml(&[]), "x")
        .unwrap()
        .entries
        .remove(0);
    assert_eq!(
        e.sources(&[])[0].dists,
        ["focal/main", "focal-updates/main"]
    );

    for (over, want) in [
        (
            vec![("dists", "-")],
            "repo_type apt needs dists (or URL SUITE COMPONENT... repos)",
        ),
        (
            vec![("dists", "-"), ("repos", "[\"http://a/ buster\"]")],
            "repo \"http://a/ buster\": a suite needs components (URL SUITE COMPONENT...)",
        ),
    ] {
        let err = Catalog::parse(&apt_toml(&over), "x")
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("x: entry test-1 (x86_64): {want}"));
    }
    let err = Catalog::parse(
        &entry_toml(&[("repos", "[\"http://a/ buster main\"]")]),
        "x",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with("only apt repositories name suites (URL SUITE COMPONENT...)"),
        "{err}"
    );
}

#[test]
fn launchpad_fallbacks_are_validated() {
    let lp = |images: &str, series: &str| {
        format!("{{ images = [{images}], image_packages = [\"linux-image-*\"], archive = \"https://lp/1.0/ubuntu/+archive/primary\", series = \"{series}\", dbgsym = \"linux-image-unsigned-{{uname}}-dbgsym\" }}")
    };
    let ok = lp("\"http://i/ubuntu\"", "focal");
    let e = Catalog::parse(&apt_toml(&[("launchpad", &ok)]), "x")
        .unwrap()
        .entries
        .remove(0);
    let l = e.launchpad.as_ref().unwrap();
    assert_eq!(
        l.distro_arch_series(&l.archive, Arch::Arm64),
        "https://lp/1.0/ubuntu/focal/arm64"
    );
    for (toml, want) in [
        (
            lp("", "focal"),
            "launchpad: images and image_packages (each with a *) are needed",
        ),
        (
            lp("\"ftp://i/\"", "focal"),
            "launchpad: \"ftp://i/\" is not an http(s) URL",
        ),
        (
            lp("\"http://i/\"", "a/b"),
            "launchpad: series \"a/b\" is not a series name",
        ),
    ] {
        let err = Catalog::parse(&apt_toml(&[("launchpad", &toml)]), "x")
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("x: entry test-1 (x86_64): {want}"));
    }
    let err = Catalog::parse(&entry_toml(&[("launchpad", &ok)]), "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("launchpad needs repo_type apt and dists (the images' suites)"),
        "{err}"
    );
}

#[test]
fn builtin_entries_read_the_repositories_btfhub_reads() {
    let cat = Catalog::builtin().unwrap();
    let dists = |name: &str, arch| -> Vec<String> {
        cat.get(name, arch)
            .unwrap()
            .sources(&[])
            .iter()
            .flat_map(|s| s.dists.iter().map(move |d| format!("{} {d}", s.base)))
            .collect()
    };
    // pkg/repo/debian.go: oldRepos (main, -updates, SUITE/updates security) for
    // stretch and buster, newRepos (-security) for bullseye.
    let archive = "http://ftp.halifax.rwth-aachen.de/debian-archive";
    assert_eq!(
        dists("debian-10", Arch::Arm64),
        [
            format!("{archive}/debian buster/main"),
            format!("{archive}/debian buster-updates/main"),
            format!("{archive}/debian-security buster/updates/main"),
        ]
    );
    assert_eq!(
        dists("debian-11", Arch::X86_64),
        [
            "https://mirrors.kernel.org/debian bullseye/main",
            "https://mirrors.kernel.org/debian bullseye-updates/main",
            "http://ftp.halifax.rwth-aachen.de/debian-security bullseye-security/main",
        ]
    );
    // pkg/repo/fedora.go: the release's own tree and its updates.
    for n in 24..=31 {
        let e = cat.get(&format!("fedora-{n}"), Arch::X86_64).unwrap();
        let b = bases(&e.sources(&[])).join(" ");
        assert!(
            b.contains(&format!(
                "/releases/{n}/Everything/x86_64/debug/tree/Packages/k/"
            )),
            "{b}"
        );
        assert!(b.contains(&format!("/updates/{n}/")), "{b}");
    }
    // pkg/repo/ubuntu.go: archive.ubuntu.com / ports.ubuntu.com images, Launchpad for
    // the dbgsyms ddebs.ubuntu.com lacks.
    for (arch, images) in [
        (Arch::X86_64, "http://archive.ubuntu.com/ubuntu"),
        (Arch::Arm64, "http://ports.ubuntu.com/ubuntu-ports"),
    ] {
        let e = cat.get("ubuntu-18.04", arch).unwrap();
        let l = e.launchpad.as_ref().unwrap();
        assert_eq!(l.images, [images]);
        assert_eq!(l.series, "bionic");
        assert_eq!(l.dbgsym, "linux-image-unsigned-{uname}-dbgsym");
    }
    // The archive's directories: debian/9, debian/10, debian/11 (no btfhub_dir).
    assert!(cat.entries.iter().all(|e| e.btfhub_dir.is_none()));
}

#[test]
fn templates_expand() {
    let f = |k: &str| format!("<{k}>");
    let cases = [
        ("", ""),
        ("plain", "plain"),
        ("{a}", "<a>"),
        ("x{a}y{bc}z", "x<a>y<bc>z"),
        ("{}", "<>"),
        // An unclosed brace is kept as written.
        ("x{a", "x{a"),
        ("{a}{b", "<a>{b"),
    ];
    for (t, want) in cases {
        assert_eq!(expand(t, f), want, "{t}");
    }
}

#[test]
fn entry_names_split_into_id_and_version() {
    let mut e = Catalog::parse(&entry_toml(&[]), "x")
        .unwrap()
        .entries
        .remove(0);
    for (name, id, version) in [
        ("ubuntu-20.04", "ubuntu", "20.04"),
        ("sles-15.3", "sles", "15.3"),
        ("opensuse_leap-15.3", "opensuse_leap", "15.3"),
        ("nodash", "nodash", ""),
    ] {
        e.name = name.into();
        assert_eq!(e.id_version(), (id, version), "{name}");
    }
}
