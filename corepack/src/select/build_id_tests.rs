//! Selection by GNU build-id: a build-id match wins over the name and os-release (a
//! container's os-release is the container's), two builds of one kernel name each get
//! their own entry, an entry of another known build is never chosen by name, and a
//! bundle without build-ids selects by name as before.

use super::*;
use crate::format::BundleBuilder;

const A: &[u8] = &[0xaa; 20];
const B: &[u8] = &[0xbb; 20];
const C: &[u8] = &[0xcc; 20];
const D: &[u8] = &[0xdd; 20];
/// A build-id no entry has.
const E: &[u8] = &[0xee; 20];

/// One kernel of [`FLEET`].
type Kernel = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [u8],
    &'static [u8],
);

/// (arch, `uname -r`, ID, VERSION_ID, build-id, BTF): entries 0 and 1 are two builds of
/// one kernel name (a vendor's rebuild); entry 3 shares entry 2's name without a build-id.
const FLEET: [Kernel; 5] = [
    (
        "x86_64",
        "6.1.0-57-cloud-amd64",
        "debian",
        "12",
        A,
        b"cloud A",
    ),
    (
        "x86_64",
        "6.1.0-57-cloud-amd64",
        "debian",
        "12",
        B,
        b"cloud B",
    ),
    ("x86_64", "5.4.0-42-generic", "ubuntu", "20.04", C, b"focal"),
    (
        "x86_64",
        "5.4.0-42-generic",
        "ubuntu",
        "18.04",
        &[],
        b"bionic",
    ),
    (
        "aarch64",
        "6.1.0-57-cloud-arm64",
        "debian",
        "12",
        D,
        b"arm64",
    ),
];

fn bundle_bytes(with_build_ids: bool) -> Vec<u8> {
    bundle_bytes_solid(with_build_ids, true)
}

/// [`bundle_bytes`], as version 6 (`solid`) or as version 3 or 4.
fn bundle_bytes_solid(with_build_ids: bool, solid: bool) -> Vec<u8> {
    let mut b =
        BundleBuilder::new("fleet", "1").version(if solid { crate::FORMAT_VERSION } else { 4 });
    for (arch, uname, id, version_id, build_id, btf) in FLEET {
        let kernel = KernelId::new(arch, uname, id, version_id);
        if with_build_ids {
            b.add_kernel_with_build_id(kernel, build_id, btf).unwrap();
        } else if build_id != B {
            // Without build-ids entries 0 and 1 would be the same kernel twice.
            b.add_kernel(kernel, btf).unwrap();
        }
    }
    b.finish().unwrap().0
}

fn machine(uname: &str, arch: &str, os: (&str, &str), build_id: &[u8]) -> Environment {
    Environment {
        uname: uname.into(),
        arch: arch.into(),
        os_release: Some(format!("ID={}\nVERSION_ID=\"{}\"\n", os.0, os.1)),
        build_id: build_id.to_vec(),
        ..Environment::default()
    }
}

/// A selection's outcome: (entry index, BTF, reason), or the error's message.
type Outcome = Result<(usize, Vec<u8>, String), String>;

/// The outcome of selecting for `env` from `bundle`.
fn outcome(env: &Environment, bundle: &Bundle<'_>) -> Outcome {
    match select_btf(env, Some(bundle)) {
        Ok(Selection {
            source: BtfSource::Bundle { entry, btf, .. },
            reason,
        }) => Ok((entry, btf, reason)),
        Ok(other) => Err(format!("not a bundle entry: {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

const CLOUD: &str = "6.1.0-57-cloud-amd64";
const FOCAL: &str = "5.4.0-42-generic";

#[test]
fn build_id_beats_name_and_os_release() {
    let bytes = bundle_bytes(true);
    let bundle = Bundle::open(&bytes).unwrap();
    let hex = |id: &[u8]| crate::notes::to_hex(id);
    let matched = |i: usize, id: &[u8]| -> Outcome {
        Ok((
            i,
            FLEET[i].5.to_vec(),
            format!("build-id {} matches", hex(id)),
        ))
    };
    let exact = |i: usize| -> Outcome {
        Ok((
            i,
            FLEET[i].5.to_vec(),
            "exact match of arch, uname -r and os-release".into(),
        ))
    };
    let cases: Vec<(&str, Environment, Outcome)> = vec![
        ("first build", machine(CLOUD, "x86_64", ("debian", "12"), A), matched(0, A)),
        ("second build of the same name", machine(CLOUD, "x86_64", ("debian", "12"), B), matched(1, B)),
        (
            "in a container: os-release names another distro",
            machine(CLOUD, "x86_64", ("alpine", "3.19"), B),
            matched(1, B),
        ),
        ("whatever uname -r says", machine("6.1.0-custom", "amd64", ("debian", "12"), C), matched(2, C)),
        (
            "a build-id of another arch is not this kernel",
            machine("6.1.0-57-cloud-arm64", "x86_64", ("debian", "12"), D),
            Err("no BTF for kernel 6.1.0-57-cloud-arm64 (x86_64, debian 12): /sys/kernel/btf/vmlinux \
                 is absent and the bundle has no entry for it; nearest: 6.1.0-57-cloud-amd64, 5.4.0-42-generic"
                .into()),
        ),
        (
            "an unknown build: the entries of its name are other builds",
            machine(CLOUD, "x86_64", ("debian", "12"), E),
            Err(format!(
                "no BTF for kernel {CLOUD} (x86_64, debian 12): /sys/kernel/btf/vmlinux is absent and \
                 the bundle's entries for it are other builds (this kernel's build-id is {})",
                hex(E)
            )),
        ),
        (
            "no build-id known: two builds of one name are ambiguous",
            machine(CLOUD, "x86_64", ("debian", "12"), &[]),
            Err(format!(
                "kernel {CLOUD} (x86_64) matches several bundle entries with different BTF and \
                 os-release (debian 12) does not decide: x86_64 {CLOUD} (debian 12) build-id {}; \
                 x86_64 {CLOUD} (debian 12) build-id {}",
                hex(A),
                hex(B)
            )),
        ),
        (
            "an unknown build falls back to the entry of unknown build-id",
            machine(FOCAL, "x86_64", ("ubuntu", "18.04"), E),
            exact(3),
        ),
        ("no build-id known: by name as before", machine(FOCAL, "x86_64", ("ubuntu", "20.04"), &[]), exact(2)),
    ];
    for (case, env, want) in cases {
        assert_eq!(outcome(&env, &bundle), want, "{case}");
    }
}

#[test]
fn bundles_without_build_ids_select_by_name_and_stay_version_3() {
    let bytes = bundle_bytes_solid(false, false);
    assert_eq!(&bytes[8..10], &3u16.to_le_bytes(), "no build-id: version 3");
    assert_eq!(&bundle_bytes_solid(true, false)[8..10], &4u16.to_le_bytes());
    // Version 6 (the default) with and without build-ids.
    assert_eq!(&bundle_bytes(false)[8..10], &6u16.to_le_bytes());
    assert_eq!(&bundle_bytes(true)[8..10], &6u16.to_le_bytes());
    for bytes in [bytes, bundle_bytes(false)] {
        let bundle = Bundle::open(&bytes).unwrap();
        assert!(bundle.entries().iter().all(|e| e.build_id.is_empty()));
        // The machine's build-id matches nothing; the name and os-release decide.
        let env = machine(CLOUD, "x86_64", ("debian", "12"), A);
        let (entry, btf, reason) = outcome(&env, &bundle).unwrap();
        assert_eq!((entry, btf.as_slice()), (0, &b"cloud A"[..]));
        assert_eq!(reason, "exact match of arch, uname -r and os-release");
    }
}

#[test]
fn build_ids_round_trip_and_repeats_are_refused() {
    let bytes = bundle_bytes(true);
    let bundle = Bundle::open(&bytes).unwrap();
    let ids: Vec<&[u8]> = bundle
        .entries()
        .iter()
        .map(|e| e.build_id.as_slice())
        .collect();
    let want: Vec<&[u8]> = FLEET.iter().map(|f| f.4).collect();
    assert_eq!(ids, want);
    let mut b = BundleBuilder::new("p", "1");
    let k = KernelId::new("x86_64", CLOUD, "debian", "12");
    b.add_kernel_with_build_id(k.clone(), A, b"x").unwrap();
    b.add_kernel_with_build_id(k.clone(), B, b"y").unwrap();
    assert_eq!(
        b.add_kernel_with_build_id(k.clone(), A, b"z")
            .unwrap_err()
            .to_string(),
        format!(
            "invalid manifest: kernel x86_64 {CLOUD} (debian 12) build-id {} added twice",
            crate::notes::to_hex(A)
        )
    );
    assert_eq!(
        b.add_kernel_with_build_id(k, &[1; 65], b"z")
            .unwrap_err()
            .to_string(),
        "build-id too large for the format"
    );
}
