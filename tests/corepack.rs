//! The .corepack format (round trip, deduplication, one-blob reads, corruption and
//! truncation) and BTF selection with injected environments.

use std::path::PathBuf;

use corepack::{
    select_btf, BtfSource, Bundle, BundleBuilder, BundleError, Codec, Environment, KernelId,
    SelectError, FORMAT_VERSION,
};

/// Fake "BTF" blobs: mostly shared bytes (as minimized BTFs of different kernels are),
/// with a seed-dependent tail, so later blobs compress with the first as dictionary.
fn blob(seed: u8, len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_u32;
    let mut v: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    for (i, b) in v.iter_mut().enumerate().skip(len / 2).step_by(5) {
        *b = (i as u8).wrapping_mul(seed).wrapping_add(seed);
    }
    v
}

const UBUNTU_2004: &str = "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\n";
const UBUNTU_2204: &str = "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n";
const DEBIAN_12: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";

/// Six entries, four distinct blobs: two Ubuntu releases share one kernel name with
/// different BTF, two kernels share identical BTF, and an arm64 kernel (BTFHub spelling).
/// Version 6, the default.
fn sample() -> (Vec<u8>, corepack::BuildStats) {
    sample_version(FORMAT_VERSION)
}

/// [`sample`] as format `version`: 6 or 5 (one LZMA2 stream under one check) or 4
/// (written as 3: every blob stored and checked on its own).
fn sample_version(version: u16) -> (Vec<u8>, corepack::BuildStats) {
    let mut b = BundleBuilder::new("execsnoop", "1.2.3").version(version);
    b.add_object("execsnoop.bpf.o", b"\x7fELF fake object");
    let k = KernelId::new;
    b.add_kernel(
        k("x86_64", "5.4.0-42-generic", "ubuntu", "20.04"),
        &blob(1, 4000),
    )
    .unwrap();
    b.add_kernel(
        k("x86_64", "5.4.0-42-generic", "ubuntu", "18.04"),
        &blob(2, 4000),
    )
    .unwrap();
    // Same BTF as the first: deduplicated.
    b.add_kernel(
        k("x86_64", "5.4.0-48-generic", "ubuntu", "20.04"),
        &blob(1, 4000),
    )
    .unwrap();
    b.add_kernel(
        k("x86_64", "5.15.0-91-generic", "ubuntu", "22.04"),
        &blob(3, 5000),
    )
    .unwrap();
    b.add_kernel(
        k("amd64", "6.1.0-18-cloud-amd64", "debian", "12"),
        &blob(1, 4000),
    )
    .unwrap();
    b.add_kernel(
        k("arm64", "5.15.0-91-generic", "ubuntu", "22.04"),
        &blob(4, 3000),
    )
    .unwrap();
    b.finish().unwrap()
}

#[test]
fn round_trip_with_dedup() {
    for version in [6, 5, 4] {
        round_trip_with_dedup_as(version);
    }
}

fn round_trip_with_dedup_as(version: u16) {
    let solid = version >= 5;
    let (bytes, stats) = sample_version(version);
    let written = if solid { version } else { 3 };
    assert_eq!(&bytes[8..10], &written.to_le_bytes());
    assert_eq!(stats.entries, 6);
    assert_eq!(stats.blobs, 4);
    assert_eq!(stats.deduplicated, 2);
    assert_eq!(stats.raw_bytes, 4000 * 4 + 5000 + 3000);
    assert_eq!(stats.unique_raw_bytes, 4000 * 2 + 5000 + 3000);
    assert_eq!(stats.bundle_bytes, bytes.len() as u64);
    // Versions 5 and 6 store blobs uncompressed in their one compressed stream.
    if solid {
        assert!(stats.bundle_bytes < stats.unique_raw_bytes);
    } else {
        assert!(stats.stored_bytes < stats.unique_raw_bytes);
    }

    let bundle = Bundle::open(&bytes).unwrap();
    bundle.verify().unwrap();
    assert_eq!(bundle.program, "execsnoop");
    assert_eq!(bundle.program_version, "1.2.3");
    assert_eq!(bundle.objects().len(), 1);
    assert_eq!(bundle.objects()[0].name, "execsnoop.bpf.o");
    assert_eq!(bundle.blobs().len(), 4);
    assert_eq!(bundle.entries().len(), 6);
    assert_eq!(bundle.entries()[0].blob, bundle.entries()[2].blob);
    assert_eq!(bundle.entries()[0].blob, bundle.entries()[4].blob);
    // Arch names are normalized to uname -m spelling.
    assert_eq!(bundle.entries()[4].kernel.arch, "x86_64");
    assert_eq!(bundle.entries()[5].kernel.arch, "aarch64");
    assert_eq!(bundle.entries_raw_bytes(), stats.raw_bytes);
    // Later blobs are stored against an earlier blob (as a patch, or in version 3 with it
    // as zstd dictionary) when that is smaller. (The fake blobs are not BTF: no columns.)
    let first = if solid { Codec::Plain } else { Codec::Zstd };
    assert_eq!(bundle.blobs()[0].codec, first);
    assert!(bundle
        .blobs()
        .iter()
        .enumerate()
        .all(|(i, b)| b.codec.base().is_none_or(|base| (base as usize) < i)));
    // (Versions 5 and 6 may store them plain: the stream's matches take earlier blobs in.)
    assert!(solid || bundle.blobs().iter().any(|b| b.codec.base().is_some()));
    let (plain, plain_stats) = {
        let mut b = BundleBuilder::new("execsnoop", "1.2.3")
            .references(false)
            .version(version);
        for e in bundle.entries() {
            b.add_kernel(e.kernel.clone(), &bundle.blob(e.blob as usize).unwrap())
                .unwrap();
        }
        b.finish().unwrap()
    };
    // (In versions 5 and 6 the stream's matches make a patch of these fake blobs no smaller.)
    if !solid {
        assert!(plain_stats.stored_bytes > stats.stored_bytes);
    }
    let plain = Bundle::open(&plain).unwrap();
    plain.verify().unwrap();
    assert!(plain.blobs().iter().all(|b| b.codec == first));
    assert_eq!(
        plain
            .blob_for("x86_64", "5.4.0-42-generic", "ubuntu", "18.04")
            .unwrap(),
        Some(blob(2, 4000))
    );

    let get = |a, u, i, v| bundle.blob_for(a, u, i, v).unwrap();
    assert_eq!(
        get("x86_64", "5.4.0-42-generic", "ubuntu", "20.04"),
        Some(blob(1, 4000))
    );
    assert_eq!(
        get("x86_64", "5.4.0-42-generic", "ubuntu", "18.04"),
        Some(blob(2, 4000))
    );
    assert_eq!(
        get("amd64", "5.15.0-91-generic", "ubuntu", "22.04"),
        Some(blob(3, 5000))
    );
    assert_eq!(
        get("aarch64", "5.15.0-91-generic", "ubuntu", "22.04"),
        Some(blob(4, 3000))
    );
    assert_eq!(
        get("arm64", "5.15.0-91-generic", "ubuntu", "22.04"),
        Some(blob(4, 3000))
    );
    assert_eq!(
        get("x86_64", "6.1.0-18-cloud-amd64", "debian", "12"),
        Some(blob(1, 4000))
    );
    assert_eq!(get("x86_64", "5.4.0-42-generic", "ubuntu", "22.04"), None);
}

/// Real BTF (the fuzz corpus's: every kind, gcc and clang, big-endian s390x) bundled in
/// every version a writer writes: each version stores some as columns (its layout), and
/// every blob reads back; another version's columns codec in a manifest is refused.
#[test]
fn real_btf_round_trips_in_every_version() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/btf");
    let mut btfs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "btf"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    btfs.sort();
    assert!(btfs.len() >= 6, "{btfs:?}");
    for (version, columns) in [
        (6, Codec::PlainColumns2),
        (5, Codec::PlainColumns),
        (4, Codec::Columns),
    ] {
        let mut b = BundleBuilder::new("p", "1").version(version);
        b.add_object("p.bpf.o", b"object");
        for (name, btf) in &btfs {
            b.add_kernel(KernelId::new("x86_64", name, "debian", "12"), btf)
                .unwrap();
        }
        let (bytes, _) = b.finish().unwrap();
        let bundle = Bundle::open(&bytes).unwrap();
        assert!(
            bundle.blobs().iter().any(|b| b.codec == columns),
            "version {version}: {:?}",
            bundle.blobs()
        );
        for (name, btf) in &btfs {
            assert_eq!(
                bundle
                    .blob_for("x86_64", name, "debian", "12")
                    .unwrap()
                    .as_ref(),
                Some(btf),
                "version {version}: {name}"
            );
        }
    }
    assert!(matches!(
        BundleBuilder::new("p", "1").version(7).finish(),
        Err(BundleError::UnsupportedVersion { found: 7 })
    ));
}

/// Blob `i` and the earlier blobs reading it decodes.
fn dict_chain(b: &Bundle<'_>, mut i: usize) -> Vec<usize> {
    let mut chain = vec![i];
    while let Some(base) = b.blobs()[i].codec.base() {
        i = base as usize;
        chain.push(i);
    }
    chain
}

/// Version 3: every blob is checked on its own (versions 5 and 6: one check fails the open).
#[test]
fn one_blob_read_ignores_other_blobs() {
    let (mut bytes, _) = sample_version(4);
    let (idx, range) = {
        let b = Bundle::open(&bytes).unwrap();
        let e = b
            .find("x86_64", "5.15.0-91-generic", "ubuntu", "22.04")
            .unwrap()
            .clone();
        let chain = dict_chain(&b, e.blob as usize);
        let other = (0..b.blobs().len()).find(|i| !chain.contains(i)).unwrap();
        let info = &b.blobs()[other];
        let data_start = bytes.len() - b.blobs().iter().map(|b| b.stored_len).sum::<u64>() as usize;
        let s = data_start + info.offset as usize;
        (other, s..s + info.stored_len as usize)
    };
    // Corrupt a blob outside this kernel's chain: reading this kernel's blob neither
    // decodes nor checks it, so still succeeds; reading that blob, and the whole-bundle
    // verify, catch it (its check, before anything is decoded).
    for b in &mut bytes[range] {
        *b = 0;
    }
    let bundle = Bundle::open(&bytes).unwrap();
    assert_eq!(
        bundle
            .blob_for("x86_64", "5.15.0-91-generic", "ubuntu", "22.04")
            .unwrap(),
        Some(blob(3, 5000))
    );
    match bundle.blob(idx) {
        Err(BundleError::BlobChecksum { index, .. }) => assert_eq!(index, idx),
        other => panic!("expected a checksum error on blob {idx}, got {other:?}"),
    }
    assert!(matches!(
        bundle.verify(),
        Err(BundleError::BlobChecksum { index, .. }) if index == idx
    ));
}

#[test]
fn every_flipped_byte_is_detected() {
    // Versions 6 and 5 without their per-blob checks: opening alone notices every
    // change.
    for version in [6, 5] {
        let (bytes, _) = sample_version(version);
        let bundle = Bundle::open(&bytes).unwrap();
        assert!(bundle.blobs().iter().all(|b| b.check.is_none()));
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= mask;
                assert!(
                    Bundle::open(&b).is_err(),
                    "version {version}: flipping bit {mask:#x} of byte {i} went unnoticed"
                );
            }
        }
    }
    // Version 3: opening, then reading every blob.
    let (bytes, _) = sample_version(4);
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            let result = Bundle::open(&b).and_then(|bundle| bundle.verify());
            assert!(
                result.is_err(),
                "version 3: flipping bit {mask:#x} of byte {i} went unnoticed"
            );
        }
    }
}

#[test]
fn truncation_and_trailing_bytes_are_errors() {
    for version in [6, 5, 4] {
        truncation_and_trailing_bytes_are_errors_as(version);
    }
}

fn truncation_and_trailing_bytes_are_errors_as(version: u16) {
    let (bytes, _) = sample_version(version);
    for len in 0..bytes.len() {
        let err = Bundle::open(&bytes[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                BundleError::Truncated { .. } | BundleError::BadMagic(_)
            ),
            "length {len}: {err}"
        );
    }
    assert!(matches!(
        Bundle::open(&bytes[..3]).unwrap_err(),
        BundleError::Truncated { .. }
    ));
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Bundle::open(&long).unwrap_err(),
        BundleError::TrailingBytes(1)
    ));
}

#[test]
fn header_errors_are_specific() {
    let (bytes, _) = sample();
    let mut b = bytes.clone();
    b[0] = b'X';
    let e = Bundle::open(&b).unwrap_err();
    assert!(matches!(e, BundleError::BadMagic(_)), "{e}");
    assert!(e.to_string().contains("not a corepack bundle"));
    let mut b = bytes.clone();
    b[8] = 1;
    assert!(matches!(
        Bundle::open(&b).unwrap_err(),
        BundleError::UnsupportedVersion { found: 1 }
    ));
    let mut b = bytes.clone();
    b[corepack::HEADER_LEN + 2] ^= 1; // inside the manifest
    assert!(matches!(
        Bundle::open(&b).unwrap_err(),
        BundleError::ManifestChecksum { .. }
    ));
}

#[test]
fn duplicate_kernel_is_rejected_by_the_builder() {
    let mut b = BundleBuilder::new("p", "0");
    b.add_kernel(KernelId::new("x86_64", "6.1.0", "debian", "12"), b"a")
        .unwrap();
    assert!(b
        .add_kernel(KernelId::new("amd64", "6.1.0", "debian", "12"), b"b")
        .is_err());
}

#[test]
fn empty_bundle_round_trips() {
    let (bytes, stats) = BundleBuilder::new("p", "0").finish().unwrap();
    assert_eq!(stats.blobs, 0);
    let b = Bundle::open(&bytes).unwrap();
    b.verify().unwrap();
    assert!(b.entries().is_empty());
}

fn env(uname: &str, arch: &str, os_release: Option<&str>) -> Environment {
    Environment {
        explicit: None,
        kernel_btf: None,
        uname: uname.into(),
        arch: arch.into(),
        os_release: os_release.map(str::to_string),
        build_id: Vec::new(),
    }
}

#[test]
fn select_explicit_wins() {
    let (bytes, _) = sample();
    let bundle = Bundle::open(&bytes).unwrap();
    let mut e = env("5.4.0-42-generic", "x86_64", Some(UBUNTU_2004));
    e.explicit = Some(PathBuf::from("/opt/my.btf"));
    e.kernel_btf = Some(PathBuf::from("/sys/kernel/btf/vmlinux"));
    let s = select_btf(&e, Some(&bundle)).unwrap();
    assert_eq!(s.source, BtfSource::Explicit(PathBuf::from("/opt/my.btf")));
    assert!(s.reason.contains("explicit"));
}

#[test]
fn select_kernel_btf_over_bundle() {
    let (bytes, _) = sample();
    let bundle = Bundle::open(&bytes).unwrap();
    let mut e = env("5.4.0-42-generic", "x86_64", Some(UBUNTU_2004));
    e.kernel_btf = Some(PathBuf::from("/sys/kernel/btf/vmlinux"));
    let s = select_btf(&e, Some(&bundle)).unwrap();
    assert_eq!(
        s.source,
        BtfSource::Kernel(PathBuf::from("/sys/kernel/btf/vmlinux"))
    );
    // Even with no bundle at all.
    assert!(select_btf(&e, None).is_ok());
}

fn bundle_pick(e: &Environment, bundle: &Bundle<'_>) -> (KernelId, Vec<u8>, String) {
    match select_btf(e, Some(bundle)).unwrap() {
        corepack::Selection {
            source: BtfSource::Bundle { kernel, btf, .. },
            reason,
        } => (kernel, btf, reason),
        other => panic!("expected a bundle entry, got {other:?}"),
    }
}

#[test]
fn select_bundle_match() {
    let (bytes, _) = sample();
    let bundle = Bundle::open(&bytes).unwrap();
    let (k, btf, _) = bundle_pick(
        &env("6.1.0-18-cloud-amd64", "x86_64", Some(DEBIAN_12)),
        &bundle,
    );
    assert_eq!(
        k,
        KernelId::new("x86_64", "6.1.0-18-cloud-amd64", "debian", "12")
    );
    assert_eq!(btf, blob(1, 4000));
    // arm64 machine: the arch spelling of BTFHub and uname -m compare equal.
    let (k, btf, _) = bundle_pick(
        &env("5.15.0-91-generic", "aarch64", Some(UBUNTU_2204)),
        &bundle,
    );
    assert_eq!(k.arch, "aarch64");
    assert_eq!(btf, blob(4, 3000));
    // A single entry for the kernel name, os-release unreadable: still that entry.
    let (_, btf, reason) = bundle_pick(&env("5.15.0-91-generic", "x86_64", None), &bundle);
    assert_eq!(btf, blob(3, 5000));
    assert!(reason.contains("share one BTF"), "{reason}");
}

#[test]
fn select_refines_by_os_release() {
    let (bytes, _) = sample();
    let bundle = Bundle::open(&bytes).unwrap();
    // Same kernel name on two Ubuntu releases, different BTF.
    let (k, btf, reason) = bundle_pick(
        &env("5.4.0-42-generic", "x86_64", Some(UBUNTU_2004)),
        &bundle,
    );
    assert_eq!(k.version_id, "20.04");
    assert_eq!(btf, blob(1, 4000));
    assert!(reason.contains("exact"), "{reason}");
    let bionic = "ID=ubuntu\nVERSION_ID=\"18.04\"\n";
    let (k, btf, _) = bundle_pick(&env("5.4.0-42-generic", "x86_64", Some(bionic)), &bundle);
    assert_eq!(k.version_id, "18.04");
    assert_eq!(btf, blob(2, 4000));
    // Neither release matches and the BTF differs: ambiguous, never a guess.
    let err = select_btf(
        &env("5.4.0-42-generic", "x86_64", Some(UBUNTU_2204)),
        Some(&bundle),
    )
    .unwrap_err();
    match &err {
        SelectError::Ambiguous { candidates, .. } => assert_eq!(candidates.len(), 2),
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(err.to_string().contains("5.4.0-42-generic"));
}

#[test]
fn select_no_match_names_kernel_and_nearest() {
    let (bytes, _) = sample();
    let bundle = Bundle::open(&bytes).unwrap();
    let err = select_btf(
        &env("5.4.0-47-generic", "x86_64", Some(UBUNTU_2004)),
        Some(&bundle),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("5.4.0-47-generic"), "{msg}");
    match &err {
        SelectError::NoMatch { nearest, .. } => {
            assert_eq!(nearest[0], "5.4.0-48-generic");
            assert_eq!(nearest[1], "5.4.0-42-generic");
            assert!(msg.contains("5.4.0-48-generic"), "{msg}");
        }
        other => panic!("expected NoMatch, got {other:?}"),
    }
    // An arch the bundle lacks names the arches it has.
    let err = select_btf(&env("6.1.0", "riscv64", None), Some(&bundle)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("riscv64") && msg.contains("aarch64") && msg.contains("x86_64"),
        "{msg}"
    );
    // No bundle, no kernel BTF.
    let msg = select_btf(&env("6.1.0", "x86_64", None), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("6.1.0") && msg.contains("no bundle"), "{msg}");
}

#[test]
fn os_release_parsing() {
    use corepack::os_release_field;
    assert_eq!(os_release_field(DEBIAN_12, "ID"), "debian");
    assert_eq!(os_release_field(DEBIAN_12, "VERSION_ID"), "12");
    assert_eq!(
        os_release_field("ID='fedora'\nVERSION_ID=39", "ID"),
        "fedora"
    );
    assert_eq!(os_release_field("ID_LIKE=debian\n", "ID"), "");
}

/// The running kernel's BTF, which the tests below put into BTF directories.
const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// fixtures/bpf/fields.bpf.c compiled in `w` against this kernel's vmlinux.h (bpftool).
fn fields_object(w: &btfgen_tests::Work) -> PathBuf {
    use btfgen_tests::{fixtures_dir, require_tool, run_ok};
    let h = run_ok(
        std::process::Command::new(require_tool("bpftool"))
            .args(["btf", "dump", "file", VMLINUX, "format", "c"]),
    );
    std::fs::write(w.path("vmlinux.h"), &h.stdout).unwrap();
    let obj = w.path("fields.bpf.o");
    btfgen_tests::bpf_object(&fixtures_dir().join("bpf/fields.bpf.c"), w.dir(), &obj);
    obj
}

/// The builder on real data: this kernel's BTF under three distro directories (BTFHub
/// layout), minimized for fields.bpf.c, deduplicates to one blob that equals
/// `btfgen::min::minimize`'s output, resolves every relocation, and is what selection picks.
#[test]
fn build_from_kernel_btf_dir() {
    let w = btfgen_tests::Work::new();
    let obj = fields_object(&w);
    let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_string();
    let dir = w.path("btf");
    for (id, v) in [("ubuntu", "20.04"), ("ubuntu", "22.04"), ("debian", "12")] {
        let d = dir.join(id).join(v).join("x86_64");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(VMLINUX, d.join(format!("{uname}.btf"))).unwrap();
    }
    // The running kernel's build-id beside the Debian 12 copy only.
    let notes = std::fs::read("/sys/kernel/notes").unwrap();
    let build_id = corepack::notes::gnu_build_id(&notes).unwrap().unwrap();
    let hex = corepack::notes::to_hex(&build_id);
    let debian = dir.join("debian/12/x86_64");
    std::fs::write(debian.join(format!("{uname}.buildid")), format!("{hex}\n")).unwrap();
    let kernels = corepack::build::scan_btf_dir(&dir).unwrap();
    assert_eq!(kernels.len(), 3);
    let ids: Vec<(&str, &[u8])> = kernels
        .iter()
        .map(|k| (k.kernel.os_id.as_str(), k.build_id.as_slice()))
        .collect();
    assert_eq!(
        ids,
        [
            ("debian", &build_id[..]),
            ("ubuntu", &[][..]),
            ("ubuntu", &[][..])
        ]
    );
    let objects = corepack::build::read_objects(std::slice::from_ref(&obj)).unwrap();
    let (bytes, stats) = corepack::build::build_bundle("fields", "1", &objects, &kernels).unwrap();
    assert_eq!((stats.entries, stats.blobs, stats.deduplicated), (3, 1, 2));
    // Real BTF re-encoded as columns compresses better than the raw blob.
    assert_eq!(
        Bundle::open(&bytes).unwrap().blobs()[0].codec,
        Codec::PlainColumns2
    );

    let bundle = Bundle::open(&bytes).unwrap();
    bundle.verify().unwrap();
    let report = corepack::build::verify_relocations(&bundle, &objects).unwrap();
    assert!(report.checked > 0);
    let full = btfgen::btf::Btf::from_file(VMLINUX).unwrap();
    let want = btfgen::min::minimize(&full, &[objects[0].parsed.clone()])
        .unwrap()
        .to_bytes();
    assert_eq!(
        bundle.blob_for("x86_64", &uname, "debian", "12").unwrap(),
        Some(want.clone())
    );

    let e = env(&uname, "x86_64", Some(DEBIAN_12));
    let (k, btf, _) = bundle_pick(&e, &bundle);
    assert_eq!((k.os_id.as_str(), k.version_id.as_str()), ("debian", "12"));
    assert_eq!(btf, want);

    // `corepack select` on this machine, its build-id read from /sys/kernel/notes, in an
    // "Alpine container" and as if the kernel had no BTF of its own: the Debian entry by
    // build-id.
    let path = w.path("fields.corepack");
    std::fs::write(&path, &bytes).unwrap();
    let out = w.path("chosen.btf");
    let (code, stdout, stderr) =
        outcome(select_cmd(&w, &path, ALPINE, &["--json", "-o"]).arg(&out));
    assert_eq!(code, Some(0), "{stderr}");
    let kernel = format!(
        "\"kernel\":{{\"arch\":\"x86_64\",\"uname\":\"{uname}\",\"id\":\"debian\",\"version_id\":\"12\"}},\"build_id\":\"{hex}\""
    );
    assert!(stdout.contains(&kernel), "{stdout}");
    assert!(
        stdout.contains(&format!("\"reason\":\"build-id {hex} matches\"")),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), want);
}

/// A blob compressed with a dictionary blob fails to read when the dictionary is corrupt.
#[test]
fn corrupt_dictionary_blob_fails_dependent_read() {
    // Version 3, whose blobs are checked one by one.
    let (mut bytes, _) = sample_version(4);
    let (dict, range) = {
        let b = Bundle::open(&bytes).unwrap();
        let e = b
            .find("x86_64", "5.15.0-91-generic", "ubuntu", "22.04")
            .unwrap();
        let chain = dict_chain(&b, e.blob as usize);
        assert!(chain.len() > 1, "the sample's blob has no dictionary");
        let dict = chain[1];
        let data_start = bytes.len() - b.blobs().iter().map(|b| b.stored_len).sum::<u64>() as usize;
        let d = &b.blobs()[dict];
        (
            dict,
            data_start + d.offset as usize..data_start + (d.offset + d.stored_len) as usize,
        )
    };
    bytes[range.start + range.len() / 2] ^= 0x40;
    let b = Bundle::open(&bytes).unwrap();
    let err = b
        .blob_for("x86_64", "5.15.0-91-generic", "ubuntu", "22.04")
        .unwrap_err();
    assert!(
        matches!(err, BundleError::BlobChecksum { index, .. } if index == dict),
        "{err}"
    );
}

/// Two builds of one kernel name (a vendor's rebuild) and another kernel, with
/// build-ids; written to `dir/fleet.corepack`. Returns the path and the entries' BTF.
fn build_id_bundle(dir: &std::path::Path) -> (PathBuf, [Vec<u8>; 3]) {
    let btf = [blob(7, 3000), blob(8, 3000), blob(9, 3000)];
    let mut b = BundleBuilder::new("fleet", "1");
    let cloud = KernelId::new("amd64", CLOUD, "debian", "12");
    b.add_kernel_with_build_id(cloud.clone(), &[0xaa; 20], &btf[0])
        .unwrap();
    b.add_kernel_with_build_id(cloud, &[0xbb; 20], &btf[1])
        .unwrap();
    b.add_kernel(
        KernelId::new("x86_64", "5.4.0-42-generic", "ubuntu", "20.04"),
        &btf[2],
    )
    .unwrap();
    let path = dir.join("fleet.corepack");
    std::fs::write(&path, b.finish().unwrap().0).unwrap();
    (path, btf)
}

const CLOUD: &str = "6.1.0-57-cloud-amd64";
const ALPINE: &str = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n";

/// `corepack select --bundle BUNDLE` for a machine without kernel BTF whose os-release
/// is `os_release`, then `args`.
fn select_cmd(
    w: &btfgen_tests::Work,
    bundle: &std::path::Path,
    os_release: &str,
    args: &[&str],
) -> std::process::Command {
    let os = w.path("os-release");
    std::fs::write(&os, os_release).unwrap();
    let mut c = std::process::Command::new(btfgen_tests::corepack_bin());
    c.env_remove("COREPACK_BTF")
        .arg("select")
        .arg("--bundle")
        .arg(bundle)
        .arg("--os-release")
        .arg(&os)
        .args(["--sys-btf", "none", "--arch", "x86_64"])
        .args(args);
    c
}

/// Exit status, stdout and stderr.
fn outcome(c: &mut std::process::Command) -> (Option<i32>, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `corepack select`: a build-id match wins over os-release (a container's), each of two
/// builds of one kernel name gets its own entry, and the exit statuses (0 written, 1 no
/// BTF, 2 error, 3 the kernel's own BTF) with -o and --json.
#[test]
fn select_command_statuses_build_ids_and_json() {
    let w = btfgen_tests::Work::new();
    let (bundle, btf) = build_id_bundle(w.dir());
    let out = w.path("chosen.btf");
    let aa = "aa".repeat(20);
    let bb = "bb".repeat(20);
    // Each build of 6.1.0-57-cloud-amd64 gets its own BTF, in an Alpine container.
    for (id, want) in [(&aa, &btf[0]), (&bb, &btf[1])] {
        let (code, stdout, stderr) = outcome(
            select_cmd(
                &w,
                &bundle,
                ALPINE,
                &["--uname", CLOUD, "--build-id", id, "-o"],
            )
            .arg(&out),
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "corepack: bundle entry x86_64 {CLOUD} (debian 12) build-id {id}: build-id {id} \
                 matches; written to {}\n",
                out.display()
            )
        );
        assert_eq!(&std::fs::read(&out).unwrap(), want);
    }
    // -o - writes the BTF to standard output; a machine without build-id goes by name.
    let o = select_cmd(
        &w,
        &bundle,
        UBUNTU_2004,
        &[
            "--uname",
            "5.4.0-42-generic",
            "--build-id",
            "none",
            "-o",
            "-",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, btf[2]);

    // --json: what was chosen, why, and what the machine looked like.
    std::fs::remove_file(&out).unwrap();
    let (code, stdout, stderr) = outcome(
        select_cmd(
            &w,
            &bundle,
            ALPINE,
            &["--uname", CLOUD, "--build-id", &bb, "--json", "-o"],
        )
        .arg(&out),
    );
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_eq!(
        stdout,
        format!(
            "{{\"status\":0,\"source\":\"bundle\",\"path\":null,\"output\":\"{}\",\
             \"kernel\":{{\"arch\":\"x86_64\",\"uname\":\"{CLOUD}\",\"id\":\"debian\",\"version_id\":\"12\"}},\
             \"build_id\":\"{bb}\",\"machine\":{{\"arch\":\"x86_64\",\"uname\":\"{CLOUD}\",\"id\":\"alpine\",\
             \"version_id\":\"3.19.1\",\"build_id\":\"{bb}\",\"kernel_btf\":null}},\
             \"reason\":\"build-id {bb} matches\"}}\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read(&out).unwrap(), btf[1]);

    // 1: an unknown build of a listed name is no BTF, and nothing is written.
    std::fs::remove_file(&out).unwrap();
    let cc = "cc".repeat(20);
    let (code, stdout, stderr) = outcome(
        select_cmd(
            &w,
            &bundle,
            DEBIAN_12,
            &["--uname", CLOUD, "--build-id", &cc, "-o"],
        )
        .arg(&out),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "corepack: no BTF: no BTF for kernel {CLOUD} (x86_64, debian 12): \
             /sys/kernel/btf/vmlinux is absent and the bundle's entries for it are other builds \
             (this kernel's build-id is {cc})\n"
        )
    );
    assert!(!out.exists());
    let (code, stdout, _) = outcome(&mut select_cmd(
        &w,
        &bundle,
        DEBIAN_12,
        &["--uname", "4.19.0-1-amd64", "--build-id", "none", "--json"],
    ));
    assert_eq!(code, Some(1));
    assert!(
        stdout.starts_with("{\"status\":1,\"source\":null,"),
        "{stdout}"
    );

    // 3: the kernel's own BTF (a regular file here) suffices; nothing is written.
    let sys_btf = w.path("vmlinux");
    std::fs::write(&sys_btf, b"kernel BTF").unwrap();
    let (code, _, stderr) = outcome(
        select_cmd(&w, &bundle, DEBIAN_12, &["--uname", CLOUD, "-o"])
            .arg(&out)
            .arg("--sys-btf")
            .arg(&sys_btf),
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "corepack: kernel {0}: the kernel's own BTF at {0}; nothing written\n",
            sys_btf.display()
        )
    );
    assert!(!out.exists());

    // 2: a corrupt bundle, a bad build-id, and -o naming the bundle itself.
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[corepack::HEADER_LEN] ^= 1;
    let bad = w.path("bad.corepack");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, _, stderr) = outcome(
        select_cmd(
            &w,
            &bad,
            DEBIAN_12,
            &["--uname", CLOUD, "--build-id", &aa, "-o"],
        )
        .arg(&out),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "corepack: error: {}: manifest checksum mismatch",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!out.exists());
    let (code, _, stderr) = outcome(&mut select_cmd(
        &w,
        &bundle,
        DEBIAN_12,
        &["--build-id", "xyz"],
    ));
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "corepack: error: --build-id: not a build-id (2 to 128 hex digits): xyz\n"
    );
    let (code, _, stderr) = outcome(
        select_cmd(
            &w,
            &bundle,
            DEBIAN_12,
            &["--uname", CLOUD, "--build-id", &aa, "-o"],
        )
        .arg(&bundle),
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("refusing to overwrite it"), "{stderr}");
    assert_eq!(
        Bundle::open(&std::fs::read(&bundle).unwrap())
            .unwrap()
            .entries()
            .len(),
        3
    );
}

/// Two builds of one kernel (the same arch, `uname -r` and os-release, two build-ids)
/// from two BTF directories, as `corepack build --btf-dir A --btf-dir B` takes them: one
/// build-id from a `<uname -r>.buildid` file, the other from the build-id note of an ELF
/// BTF file (what `btfgen --format elf` writes). Each build selects its own entry; the
/// same build twice, or a copy without a build-id, is refused.
#[test]
fn two_builds_of_one_kernel_from_two_directories() {
    let w = btfgen_tests::Work::new();
    let obj = fields_object(&w);
    let uname = "6.1.0-99-cloud-amd64";
    let leaf = |root: &str| {
        let d = w.path(root).join("debian/12/x86_64");
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let (id_a, id_b) = ([0xaa_u8; 20], [0xbb_u8; 20]);
    // Build A: raw BTF and a .buildid file.
    std::fs::copy(VMLINUX, leaf("a").join(format!("{uname}.btf"))).unwrap();
    std::fs::write(
        leaf("a").join(format!("{uname}.buildid")),
        corepack::notes::to_hex(&id_a),
    )
    .unwrap();
    // Build B: ELF BTF with the build-id note, no .buildid file.
    let elf = btfgen::btf::Btf::from_file(VMLINUX)
        .unwrap()
        .to_elf_with_build_id(object::Architecture::X86_64, Some(&id_b))
        .unwrap();
    std::fs::write(leaf("b").join(format!("{uname}.btf")), elf).unwrap();

    let kernels = corepack::build::scan_btf_dirs(&[w.path("a"), w.path("b")]).unwrap();
    let ids: Vec<&[u8]> = kernels.iter().map(|k| k.build_id.as_slice()).collect();
    assert_eq!(ids, [&id_a[..], &id_b[..]]);
    let objects = corepack::build::read_objects(std::slice::from_ref(&obj)).unwrap();
    let (bytes, stats) = corepack::build::build_bundle("fields", "1", &objects, &kernels).unwrap();
    assert_eq!(stats.entries, 2);
    let bundle = Bundle::open(&bytes).unwrap();
    for id in [id_a, id_b] {
        let mut e = env(uname, "x86_64", Some(DEBIAN_12));
        e.build_id = id.to_vec();
        let (k, _, reason) = bundle_pick(&e, &bundle);
        assert_eq!(k, KernelId::new("x86_64", uname, "debian", "12"));
        let hex = corepack::notes::to_hex(&id);
        assert!(
            reason.contains(&format!("build-id {hex} matches")),
            "{reason}"
        );
    }
    // The two builds' BTF is the same here (stored once), so a machine that cannot
    // read its build-id still gets it by name.
    assert_eq!(stats.blobs, 1);
    let (_, btf, _) = bundle_pick(&env(uname, "x86_64", Some(DEBIAN_12)), &bundle);
    assert_eq!(
        Some(btf),
        bundle.blob_for("x86_64", uname, "debian", "12").unwrap()
    );

    // The same build twice, and a copy with no build-id, are refused.
    std::fs::copy(
        leaf("a").join(format!("{uname}.btf")),
        leaf("c").join(format!("{uname}.btf")),
    )
    .unwrap();
    for dirs in [[w.path("a"), w.path("a")], [w.path("b"), w.path("c")]] {
        let err = corepack::build::scan_btf_dirs(&dirs).unwrap_err();
        assert!(err.to_string().contains("the same kernel twice"), "{err}");
    }
}
