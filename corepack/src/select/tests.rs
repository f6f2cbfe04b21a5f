//! Selection against injected environments and a bundle built here (`parse_tests.rs`
//! has the parts that need no bundle). What tests/corepack.rs already covers (explicit
//! path first, kernel BTF before the bundle, an exact os-release match, the first nearest
//! names) is not repeated; these tables add the source policies, arch spellings on the
//! machine's side, the shared-BTF fallbacks, the exact error texts and a tampered blob.

use std::path::PathBuf;

use super::*;
use crate::format::BundleBuilder;

/// The fleet every table selects from: (arch as given to the builder, `uname -r`, ID,
/// VERSION_ID, BTF). Entry 4 has entry 3's BTF and entry 6 entry 5's, so the builder
/// stores 7 blobs; the last entry is given in BTFHub's `arm64` spelling.
const FLEET: [(&str, &str, &str, &str, &[u8]); 9] = [
    (
        "x86_64",
        "5.4.0-42-generic",
        "ubuntu",
        "20.04",
        b"focal 5.4.0-42",
    ),
    (
        "x86_64",
        "5.4.0-42-generic",
        "ubuntu",
        "18.04",
        b"bionic 5.4.0-42",
    ),
    (
        "x86_64",
        "5.4.0-48-generic",
        "ubuntu",
        "20.04",
        b"focal 5.4.0-48",
    ),
    (
        "x86_64",
        "5.10.0-1-amd64",
        "debian",
        "11",
        b"debian 5.10.0-1",
    ),
    (
        "x86_64",
        "5.10.0-1-amd64",
        "debian",
        "12",
        b"debian 5.10.0-1",
    ),
    (
        "x86_64",
        "5.15.0-91-generic",
        "ubuntu",
        "22.04",
        b"ubuntu 5.15.0-91",
    ),
    (
        "x86_64",
        "5.15.0-91-generic",
        "ubuntu",
        "20.04",
        b"ubuntu 5.15.0-91",
    ),
    (
        "x86_64",
        "5.15.0-91-generic",
        "centos",
        "8",
        b"centos 5.15.0-91",
    ),
    (
        "arm64",
        "5.15.0-91-generic",
        "ubuntu",
        "22.04",
        b"arm64 jammy 5.15.0-91",
    ),
];

/// The bytes of a bundle of [`FLEET`], entries in table order.
fn fleet() -> Vec<u8> {
    let mut b = BundleBuilder::new("fleet", "1");
    for (arch, uname, id, version_id, btf) in FLEET {
        b.add_kernel(KernelId::new(arch, uname, id, version_id), btf)
            .unwrap();
    }
    let (bytes, stats) = b.finish().unwrap();
    assert_eq!((stats.entries, stats.blobs), (9, 7));
    bytes
}

/// What selecting entry `i` of [`FLEET`] yields: its index, kernel (arch normalized)
/// and the very bytes it was built from.
fn entry(i: usize) -> BtfSource {
    let (arch, uname, id, version_id, btf) = FLEET[i];
    BtfSource::Bundle {
        entry: i,
        kernel: KernelId::new(arch, uname, id, version_id),
        btf: btf.to_vec(),
    }
}

/// A machine's os-release `ID` and `VERSION_ID`, or `None` for no os-release.
type Os<'a> = Option<(&'a str, &'a str)>;

/// os-release text as distributions write it (VERSION_ID quoted); `None` for none.
fn os(id_version: Os<'_>) -> Option<String> {
    id_version.map(|(id, v)| format!("NAME=\"Some Linux\"\nID={id}\nVERSION_ID=\"{v}\"\n"))
}

/// A machine without an explicit path or kernel BTF.
fn machine(arch: &str, uname: &str, id_version: Os<'_>) -> Environment {
    Environment {
        uname: uname.into(),
        arch: arch.into(),
        os_release: os(id_version),
        ..Environment::default()
    }
}

/// The expected outcome: the source and reason, or the error's message.
type Want = Result<(BtfSource, String), String>;

fn ok(source: BtfSource, reason: &str) -> Want {
    Ok((source, reason.to_string()))
}

fn err(message: &str) -> Want {
    Err(message.to_string())
}

/// Compares one outcome with `want`; `case` names the row.
fn assert_outcome(case: &str, got: Result<Selection, SelectError>, want: &Want) {
    match (got, want) {
        (Ok(s), Ok((source, reason))) => {
            assert_eq!(&s.source, source, "{case}");
            assert_eq!(&s.reason, reason, "{case}");
        }
        (Err(e), Err(message)) => assert_eq!(&e.to_string(), message, "{case}"),
        (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
    }
}

const EXACT: &str = "exact match of arch, uname -r and os-release";

#[test]
fn each_policy_uses_only_its_sources() {
    let bytes = fleet();
    let bundle = Bundle::open(&bytes).unwrap();
    let bare = machine("x86_64", "5.4.0-48-generic", Some(("ubuntu", "20.04")));
    let with_kernel = Environment {
        kernel_btf: Some(PathBuf::from(KERNEL_BTF)),
        ..bare.clone()
    };
    let full = Environment {
        explicit: Some(PathBuf::from("/opt/app.btf")),
        ..with_kernel.clone()
    };
    // A kernel the bundle lacks, on a machine with every other source.
    let unlisted = Environment {
        uname: "5.4.0-49-generic".into(),
        ..full.clone()
    };
    let explicit = || BtfSource::Explicit(PathBuf::from("/opt/app.btf"));
    let kernel = || BtfSource::Kernel(PathBuf::from(KERNEL_BTF));
    let forced = || BtfSource::Explicit(PathBuf::from("/tmp/other.btf"));
    let path = || SourcePolicy::Path(PathBuf::from("/tmp/other.btf"));
    let no_bundle = "no BTF for kernel 5.4.0-48-generic (x86_64, ubuntu 20.04): \
                     /sys/kernel/btf/vmlinux is absent and no bundle was given";
    let cases: Vec<(&str, SourcePolicy, &Environment, bool, Want)> = vec![
        (
            "auto: explicit first",
            SourcePolicy::Auto,
            &full,
            true,
            ok(
                explicit(),
                "explicit path /opt/app.btf (flag or COREPACK_BTF)",
            ),
        ),
        (
            "auto: then the kernel's",
            SourcePolicy::Auto,
            &with_kernel,
            true,
            ok(kernel(), "the kernel's own BTF at /sys/kernel/btf/vmlinux"),
        ),
        (
            "auto: then the bundle",
            SourcePolicy::Auto,
            &bare,
            true,
            ok(entry(2), EXACT),
        ),
        (
            "auto: nothing",
            SourcePolicy::Auto,
            &bare,
            false,
            err(no_bundle),
        ),
        (
            "kernel: ignores the explicit path",
            SourcePolicy::Kernel,
            &full,
            true,
            ok(kernel(), "forced by --btf-source kernel"),
        ),
        (
            "kernel: needs no bundle",
            SourcePolicy::Kernel,
            &with_kernel,
            false,
            ok(kernel(), "forced by --btf-source kernel"),
        ),
        (
            "kernel: never falls back to the bundle",
            SourcePolicy::Kernel,
            &bare,
            true,
            err(
                "--btf-source kernel: this kernel (5.4.0-48-generic) has no \
                 /sys/kernel/btf/vmlinux",
            ),
        ),
        (
            "bundle: ignores the explicit path and the kernel's",
            SourcePolicy::Bundle,
            &full,
            true,
            ok(entry(2), &format!("{EXACT}, forced by --btf-source bundle")),
        ),
        (
            "bundle: without one",
            SourcePolicy::Bundle,
            &full,
            false,
            // Says what was asked for, not that the kernel's BTF (present) is absent.
            err(
                "no BTF for kernel 5.4.0-48-generic (x86_64, ubuntu 20.04): \
                 --btf-source bundle excludes the kernel's own BTF and no bundle was given",
            ),
        ),
        (
            "bundle: none for this kernel",
            SourcePolicy::Bundle,
            &unlisted,
            true,
            err(
                "no BTF for kernel 5.4.0-49-generic (x86_64, ubuntu 20.04): \
                 --btf-source bundle excludes the kernel's own BTF and the bundle has no \
                 entry for it; nearest: 5.4.0-48-generic, 5.4.0-42-generic, 5.10.0-1-amd64, \
                 5.15.0-91-generic",
            ),
        ),
        (
            "path: over the explicit path",
            path(),
            &full,
            true,
            ok(forced(), "forced by --btf-source /tmp/other.btf"),
        ),
        (
            "path: needs nothing else",
            path(),
            &bare,
            false,
            ok(forced(), "forced by --btf-source /tmp/other.btf"),
        ),
    ];
    for (case, policy, env, with_bundle, want) in &cases {
        let got = select_with(policy, env, with_bundle.then_some(&bundle));
        assert_outcome(case, got, want);
    }
}

#[test]
fn the_machine_arch_is_compared_normalized() {
    let bytes = fleet();
    let bundle = Bundle::open(&bytes).unwrap();
    let focal = Some(("ubuntu", "20.04"));
    let jammy = Some(("ubuntu", "22.04"));
    let cases: Vec<(&str, &str, Os<'_>, Want)> = vec![
        // Debian's and Go's spellings of x86_64.
        ("amd64", "5.4.0-48-generic", focal, ok(entry(2), EXACT)),
        ("x86-64", "5.4.0-48-generic", focal, ok(entry(2), EXACT)),
        ("x64", "5.4.0-48-generic", focal, ok(entry(2), EXACT)),
        // The builder stored `arm64` as `aarch64`; either spelling finds it, and the
        // x86_64 entries of the same name and os-release are not candidates.
        ("arm64", "5.15.0-91-generic", jammy, ok(entry(8), EXACT)),
        ("aarch64", "5.15.0-91-generic", jammy, ok(entry(8), EXACT)),
        // An arch the fleet lacks: the error names the normalized arch and the ones
        // the bundle has, sorted.
        (
            "i686",
            "5.4.0-48-generic",
            focal,
            err("no BTF for kernel 5.4.0-48-generic (x86, ubuntu 20.04): \
                 /sys/kernel/btf/vmlinux is absent and the bundle has no x86 kernels \
                 (it has: aarch64, x86_64)"),
        ),
        // A name only x86_64 has: the nearest names are aarch64's only.
        (
            "arm64",
            "5.4.0-48-generic",
            focal,
            err(
                "no BTF for kernel 5.4.0-48-generic (aarch64, ubuntu 20.04): \
                 /sys/kernel/btf/vmlinux is absent and the bundle has no entry for it; \
                 nearest: 5.15.0-91-generic",
            ),
        ),
    ];
    for (arch, uname, id_version, want) in &cases {
        let got = select_btf(&machine(arch, uname, *id_version), Some(&bundle));
        assert_outcome(&format!("{arch} {uname}"), got, want);
    }
}

#[test]
fn os_release_decides_between_entries_sharing_a_uname() {
    let bytes = fleet();
    let bundle = Bundle::open(&bytes).unwrap();
    let shared = |id_version: &str| {
        format!(
            "os-release ({id_version}) matches no entry exactly, but all 2 entries for \
             5.10.0-1-amd64 share one BTF"
        )
    };
    let same_id = |version: &str, id: &str| {
        format!(
            "VERSION_ID {version} matches no entry, but all {id} entries for \
             5.15.0-91-generic share one BTF"
        )
    };
    let cases: Vec<(&str, Os<'_>, Want)> = vec![
        (
            "5.4.0-42-generic",
            Some(("ubuntu", "18.04")),
            ok(entry(1), EXACT),
        ),
        (
            "5.10.0-1-amd64",
            Some(("debian", "12")),
            ok(entry(4), EXACT),
        ),
        // No exact match, but every entry of the name has one BTF: the first entry.
        (
            "5.10.0-1-amd64",
            Some(("debian", "13")),
            ok(entry(3), &shared("debian 13")),
        ),
        (
            "5.10.0-1-amd64",
            Some(("ubuntu", "22.04")),
            ok(entry(3), &shared("ubuntu 22.04")),
        ),
        ("5.10.0-1-amd64", None, ok(entry(3), &shared(" "))),
        // Three entries, two BTFs: the ID's entries share one, so the ID decides.
        (
            "5.15.0-91-generic",
            Some(("ubuntu", "21.10")),
            ok(entry(5), &same_id("21.10", "ubuntu")),
        ),
        (
            "5.15.0-91-generic",
            Some(("centos", "9")),
            ok(entry(7), &same_id("9", "centos")),
        ),
        (
            "5.15.0-91-generic",
            Some(("centos", "8")),
            ok(entry(7), EXACT),
        ),
    ];
    for (uname, id_version, want) in &cases {
        let got = select_btf(&machine("x86_64", uname, *id_version), Some(&bundle));
        assert_outcome(&format!("{uname} {id_version:?}"), got, want);
    }
}

#[test]
fn ambiguity_names_every_candidate_and_never_guesses() {
    let bytes = fleet();
    let bundle = Bundle::open(&bytes).unwrap();
    let cases: Vec<(&str, Os<'_>, &str)> = vec![
        // An ID none of the three entries has, and they hold two BTFs.
        (
            "5.15.0-91-generic",
            Some(("fedora", "39")),
            "kernel 5.15.0-91-generic (x86_64) matches several bundle entries with \
             different BTF and os-release (fedora 39) does not decide: \
             x86_64 5.15.0-91-generic (ubuntu 22.04); \
             x86_64 5.15.0-91-generic (ubuntu 20.04); \
             x86_64 5.15.0-91-generic (centos 8)",
        ),
        // The ID matches both entries, but their BTF differs and the version neither.
        (
            "5.4.0-42-generic",
            Some(("ubuntu", "22.04")),
            "kernel 5.4.0-42-generic (x86_64) matches several bundle entries with \
             different BTF and os-release (ubuntu 22.04) does not decide: \
             x86_64 5.4.0-42-generic (ubuntu 20.04); \
             x86_64 5.4.0-42-generic (ubuntu 18.04)",
        ),
        // No os-release at all: ID and VERSION_ID are empty.
        (
            "5.4.0-42-generic",
            None,
            "kernel 5.4.0-42-generic (x86_64) matches several bundle entries with \
             different BTF and os-release ( ) does not decide: \
             x86_64 5.4.0-42-generic (ubuntu 20.04); \
             x86_64 5.4.0-42-generic (ubuntu 18.04)",
        ),
    ];
    for (uname, id_version, message) in cases {
        let e = select_btf(&machine("x86_64", uname, id_version), Some(&bundle)).unwrap_err();
        assert!(matches!(e, SelectError::Ambiguous { .. }), "{e:?}");
        assert_eq!(e.to_string(), message, "{uname} {id_version:?}");
    }
}

#[test]
fn no_match_lists_the_nearest_names_of_this_arch() {
    let bytes = fleet();
    let bundle = Bundle::open(&bytes).unwrap();
    // The fleet's x86_64 names, as `nearest` ranks them for each kernel (see
    // parse_tests.rs for the rule).
    let cases: [(&str, &[&str]); 3] = [
        // 5.4.0 in common with two (47 is 1 from 48, 5 from 42), then `5` with the
        // others (4 is 6 from 10, 11 from 15).
        (
            "5.4.0-47-generic",
            &[
                "5.4.0-48-generic",
                "5.4.0-42-generic",
                "5.10.0-1-amd64",
                "5.15.0-91-generic",
            ],
        ),
        // Minor 12: 2 from 10, 3 from 15, 8 from 4 (the two 5.4s tie, by name).
        (
            "5.12.0-1-amd64",
            &[
                "5.10.0-1-amd64",
                "5.15.0-91-generic",
                "5.4.0-42-generic",
                "5.4.0-48-generic",
            ],
        ),
        // Nothing in common: every major is 1 away, so by name.
        (
            "6.1.0-13-amd64",
            &[
                "5.10.0-1-amd64",
                "5.15.0-91-generic",
                "5.4.0-42-generic",
                "5.4.0-48-generic",
            ],
        ),
    ];
    for (uname, want) in cases {
        let e = select_btf(&machine("x86_64", uname, None), Some(&bundle)).unwrap_err();
        let SelectError::NoMatch {
            uname: got_uname,
            arch,
            os,
            detail,
            nearest,
            ..
        } = &e
        else {
            panic!("{uname}: expected NoMatch, got {e:?}");
        };
        assert_eq!(
            (got_uname.as_str(), arch.as_str(), os.as_str()),
            (uname, "x86_64", ""),
            "{uname}"
        );
        assert_eq!(nearest, want, "{uname}");
        assert_eq!(
            detail,
            &format!(
                "the bundle has no entry for it; nearest: {}",
                want.join(", ")
            )
        );
        // Without an os-release ID the message has no `, ID VERSION_ID`.
        assert_eq!(
            e.to_string(),
            format!(
                "no BTF for kernel {uname} (x86_64): /sys/kernel/btf/vmlinux is absent and \
                 {detail}"
            )
        );
    }
}

#[test]
fn a_tampered_blob_fails_only_the_kernels_that_use_it() {
    // Version 3: blobs stored on their own, so each kernel's blob is exactly one stored
    // range and the last byte of the file belongs to the last blob.
    let build = |solid| {
        let mut b = BundleBuilder::new("t", "1")
            .references(false)
            .version(if solid { crate::FORMAT_VERSION } else { 4 });
        let first = KernelId::new("x86_64", "6.1.0-1-amd64", "debian", "12");
        let second = KernelId::new("x86_64", "6.1.0-2-amd64", "debian", "12");
        b.add_kernel(first, b"first BTF").unwrap();
        b.add_kernel(second, b"second BTF").unwrap();
        let (mut bytes, _) = b.finish().unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        bytes
    };
    // Version 6: one check covers every blob, so opening fails.
    assert!(matches!(
        Bundle::open(&build(true)),
        Err(BundleError::ManifestChecksum { .. })
    ));
    let bytes = build(false);
    // Opening checks the manifest only, so it still succeeds.
    let bundle = Bundle::open(&bytes).unwrap();
    let debian = Some(("debian", "12"));
    let e = select_btf(&machine("x86_64", "6.1.0-2-amd64", debian), Some(&bundle)).unwrap_err();
    assert!(
        matches!(
            e,
            SelectError::Bundle(BundleError::BlobChecksum { index: 1, .. })
        ),
        "{e:?}"
    );
    let s = select_btf(&machine("x86_64", "6.1.0-1-amd64", debian), Some(&bundle)).unwrap();
    assert!(
        matches!(&s.source, BtfSource::Bundle { entry: 0, btf, .. } if btf == b"first BTF"),
        "{s:?}"
    );
}
