//! Unit tests of the RPM reader: headers, payloads, digests, damaged packages.

use sha2::Digest as _;

use super::*;
use crate::package::test_build::{compress, cpio_entry, cpio_trailer};
use crate::package::{extract_vmlinux, Options, PackageError};

/// A header structure from (tag, type, count, data) entries.
fn header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, ty, count, data) in entries {
        let align = match *ty {
            TYPE_INT16 => 2,
            TYPE_INT32 => 4,
            TYPE_INT64 => 8,
            _ => 1,
        };
        while store.len() % align != 0 {
            store.push(0);
        }
        for v in [*tag, *ty, store.len() as u32, *count] {
            index.extend_from_slice(&v.to_be_bytes());
        }
        store.extend_from_slice(data);
    }
    let mut h = vec![0x8e, 0xad, 0xe8, 1, 0, 0, 0, 0];
    h.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    h.extend_from_slice(&(store.len() as u32).to_be_bytes());
    h.extend(index);
    h.extend(store);
    h
}

fn strings(v: &[&str]) -> Vec<u8> {
    v.iter()
        .flat_map(|s| [s.as_bytes(), b"\0"].concat())
        .collect()
}

/// An RPM with a "stripped" cpio payload (`07070X` entries, as rpm writes for
/// packages with files over 4 GiB), uncompressed: a symlink, a file, the vmlinux.
#[test]
fn stripped_cpio() {
    let vmlinux: Vec<u8> = (0..1001u32).map(|i| i as u8).collect();
    let modes: Vec<u8> = [0o120777u16, 0o100644, 0o100644]
        .iter()
        .flat_map(|m| m.to_be_bytes())
        .collect();
    let sizes: Vec<u8> = [6u64, 3, vmlinux.len() as u64]
        .iter()
        .flat_map(|s| s.to_be_bytes())
        .collect();
    let idx: Vec<u8> = [0u32, 1, 2].iter().flat_map(|s| s.to_be_bytes()).collect();
    let main = header(&[
        (TAG_FILEMODES, TYPE_INT16, 3, modes),
        (
            TAG_FILELINKTOS,
            TYPE_STRING_ARRAY,
            3,
            strings(&["target", "", ""]),
        ),
        (TAG_DIRINDEXES, TYPE_INT32, 3, idx),
        (
            TAG_BASENAMES,
            TYPE_STRING_ARRAY,
            3,
            strings(&["vmlinux-link", "README", "vmlinux"]),
        ),
        (
            TAG_DIRNAMES,
            TYPE_STRING_ARRAY,
            3,
            strings(&[
                "/usr/lib/debug/boot/",
                "/usr/share/doc/k/",
                "/usr/lib/debug/lib/modules/9.9.9-big/",
            ]),
        ),
        (TAG_PAYLOADFORMAT, TYPE_STRING, 1, strings(&["cpio"])),
        (TAG_PAYLOADCOMPRESSOR, TYPE_STRING, 1, strings(&["none"])),
        (TAG_LONGFILESIZES, TYPE_INT64, 3, sizes),
    ]);
    let mut payload = Vec::new();
    let pad = |p: &mut Vec<u8>| p.resize(p.len().div_ceil(4) * 4, 0);
    for (i, data) in [&b"target"[..], b"hi\n", &vmlinux].iter().enumerate() {
        pad(&mut payload);
        payload.extend_from_slice(format!("07070X{i:08x}").as_bytes());
        pad(&mut payload);
        payload.extend_from_slice(data);
    }
    pad(&mut payload);
    let trailer = "TRAILER!!!\0";
    payload.extend_from_slice(b"070701");
    for i in 0..13 {
        let v = if i == 11 { trailer.len() } else { 0 };
        payload.extend_from_slice(format!("{v:08x}").as_bytes());
    }
    payload.extend_from_slice(trailer.as_bytes());
    pad(&mut payload);
    let size = ((main.len() + payload.len()) as u32).to_be_bytes().to_vec();
    let sig = header(&[(SIGTAG_SIZE, TYPE_INT32, 1, size)]);
    let mut rpm = vec![0u8; LEAD_LEN];
    rpm[..4].copy_from_slice(&[0xed, 0xab, 0xee, 0xdb]);
    rpm[78..80].copy_from_slice(&5u16.to_be_bytes());
    rpm.extend_from_slice(&sig);
    pad8(&mut rpm);
    rpm.extend_from_slice(&main);
    rpm.extend_from_slice(&payload);

    let v = extract_vmlinux(
        &rpm[..],
        PackageFormat::Rpm,
        "test.rpm",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(v.bytes(), &vmlinux[..]);
    assert_eq!(v.release, "9.9.9-big");
    assert_eq!(v.member, "./usr/lib/debug/lib/modules/9.9.9-big/vmlinux");

    // Truncated by one byte: the signature's size says so.
    let e = extract_vmlinux(
        &rpm[..rpm.len() - 1],
        PackageFormat::Rpm,
        "t.rpm",
        &Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}

fn pad8(v: &mut Vec<u8>) {
    v.resize(v.len().div_ceil(8) * 8, 0);
}

/// sha256("abc"), from FIPS 180-2's examples.
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
/// sha1("abc"), from FIPS 180-2's examples.
const SHA1_ABC: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
/// md5("abc"), from RFC 1321's test suite.
const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";
const REL: &str = "5.14.0-1.el9.x86_64";

fn be32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The main header of a one-file package (the vmlinux, 3 bytes) with `extra` entries.
fn main_header(extra: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let dir = format!("/usr/lib/debug/lib/modules/{REL}/");
    let mut entries = vec![
        (TAG_FILESIZES, TYPE_INT32, 1, be32(&[3])),
        (
            TAG_FILEMODES,
            TYPE_INT16,
            1,
            0o100644u16.to_be_bytes().to_vec(),
        ),
        (TAG_DIRINDEXES, TYPE_INT32, 1, be32(&[0])),
        (TAG_BASENAMES, TYPE_STRING_ARRAY, 1, strings(&["vmlinux"])),
        (TAG_DIRNAMES, TYPE_STRING_ARRAY, 1, strings(&[&dir])),
    ];
    entries.extend_from_slice(extra);
    if !extra.iter().any(|e| e.0 == TAG_PAYLOADCOMPRESSOR) {
        entries.push((TAG_PAYLOADCOMPRESSOR, TYPE_STRING, 1, strings(&["gzip"])));
    }
    header(&entries)
}

/// The gzip-compressed newc payload holding the vmlinux, `abc`.
fn payload_of_abc() -> Vec<u8> {
    let name = format!("./usr/lib/debug/lib/modules/{REL}/vmlinux");
    let cpio = [
        cpio_entry("070701", &name, 0o100644, b"abc"),
        cpio_trailer(),
    ]
    .concat();
    compress("gzip", &cpio)
}

/// Lead, signature (the size tag and `sig_extra`), `main`, `payload`.
fn rpm_file(main: &[u8], payload: &[u8], sig_extra: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let size = be32(&[(main.len() + payload.len()) as u32]);
    let mut sig_entries = vec![(SIGTAG_SIZE, TYPE_INT32, 1, size)];
    sig_entries.extend_from_slice(sig_extra);
    let mut rpm = vec![0u8; LEAD_LEN];
    rpm[..4].copy_from_slice(&[0xed, 0xab, 0xee, 0xdb]);
    rpm[78..80].copy_from_slice(&5u16.to_be_bytes());
    rpm.extend_from_slice(&header(&sig_entries));
    pad8(&mut rpm);
    rpm.extend_from_slice(main);
    rpm.extend_from_slice(payload);
    rpm
}

fn extract(rpm: &[u8]) -> Result<Vmlinux, PackageError> {
    extract_vmlinux(rpm, PackageFormat::Rpm, "k.rpm", &Options::default())
}

#[test]
fn newc_payload_checked_against_the_file_digest() {
    // (FILEDIGESTALGO, digest recorded, the algorithm the vmlinux is checked with):
    // rpm's PGPHASHALGO numbers, md5 when the tag is absent.
    let sha512_abc = hex(&sha2::Sha512::digest(b"abc"));
    let sha384_abc = hex(&sha2::Sha384::digest(b"abc"));
    let sha224_abc = hex(&sha2::Sha224::digest(b"abc"));
    let cases: [(Option<u32>, &str, Algorithm); 7] = [
        (None, MD5_ABC, Algorithm::Md5),
        (Some(1), MD5_ABC, Algorithm::Md5),
        (Some(2), SHA1_ABC, Algorithm::Sha1),
        (Some(8), SHA256_ABC, Algorithm::Sha256),
        (Some(9), &sha384_abc, Algorithm::Sha384),
        (Some(10), &sha512_abc, Algorithm::Sha512),
        (Some(11), &sha224_abc, Algorithm::Sha224),
    ];
    for (algo, digest, verified) in cases {
        let mut extra = vec![(TAG_FILEDIGESTS, TYPE_STRING_ARRAY, 1, strings(&[digest]))];
        if let Some(a) = algo {
            extra.push((TAG_FILEDIGESTALGO, TYPE_INT32, 1, be32(&[a])));
        }
        let v = extract(&rpm_file(&main_header(&extra), &payload_of_abc(), &[]))
            .unwrap_or_else(|e| panic!("{algo:?}: {e}"));
        assert_eq!(v.bytes(), b"abc");
        assert_eq!(
            (v.release.as_str(), v.format, v.compression, v.verified),
            (REL, PackageFormat::Rpm, "gzip", Some(verified)),
            "{algo:?}"
        );
    }
}

#[test]
fn file_digests_of_an_unknown_algorithm_refuse_the_package() {
    // 3 is RIPEMD-160: a digest that cannot be checked is not passed over.
    let extra = [
        (
            TAG_FILEDIGESTS,
            TYPE_STRING_ARRAY,
            1,
            strings(&[&"0".repeat(40)]),
        ),
        (TAG_FILEDIGESTALGO, TYPE_INT32, 1, be32(&[3])),
    ];
    let e = extract(&rpm_file(&main_header(&extra), &payload_of_abc(), &[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "k.rpm: corrupt RPM header: ./usr/lib/debug/lib/modules/{REL}/vmlinux: unknown digest algorithm number 3 (rpm's PGPHASHALGO)"
        )
    );
}

#[test]
fn file_digest_mismatch_is_corrupt() {
    let wrong = "0".repeat(64);
    let extra = [
        (TAG_FILEDIGESTS, TYPE_STRING_ARRAY, 1, strings(&[&wrong])),
        (TAG_FILEDIGESTALGO, TYPE_INT32, 1, be32(&[8])),
    ];
    let e = extract(&rpm_file(&main_header(&extra), &payload_of_abc(), &[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "k.rpm: corrupt RPM payload: ./usr/lib/debug/lib/modules/{REL}/vmlinux: sha256 {SHA256_ABC}, expected {wrong} (the package's digest)"
        )
    );
}

#[test]
fn header_digest_in_the_signature_is_checked() {
    let main = main_header(&[]);
    let right = hex(&sha2::Sha256::digest(&main));
    let sig = |hex: &str| vec![(SIGTAG_SHA256, TYPE_STRING, 1, strings(&[hex]))];
    assert!(extract(&rpm_file(&main, &payload_of_abc(), &sig(&right))).is_ok());
    let wrong = "1".repeat(64);
    let e = extract(&rpm_file(&main, &payload_of_abc(), &sig(&wrong))).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "k.rpm: corrupt RPM header: sha256 {right}, expected {wrong} (the signature's digest)"
        )
    );
    // RPM v4 packages (RHEL 7) record only sha1: checked too.
    let sha1 = hex(&sha1::Sha1::digest(&main));
    let sig1 = |hex: &str| vec![(SIGTAG_SHA1, TYPE_STRING, 1, strings(&[hex]))];
    assert!(extract(&rpm_file(&main, &payload_of_abc(), &sig1(&sha1))).is_ok());
    let wrong1 = "1".repeat(40);
    let e = extract(&rpm_file(&main, &payload_of_abc(), &sig1(&wrong1))).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "k.rpm: corrupt RPM header: sha1 {sha1}, expected {wrong1} (the signature's digest)"
        )
    );
    // Both: the stronger (sha256) is the one checked, so a wrong sha1 beside a right
    // sha256 goes by, and a right sha1 does not save a wrong sha256.
    let both = |s1: &str, s256: &str| [sig1(s1), sig(s256)].concat();
    assert!(extract(&rpm_file(&main, &payload_of_abc(), &both(&wrong1, &right))).is_ok());
    assert!(extract(&rpm_file(&main, &payload_of_abc(), &both(&sha1, &wrong))).is_err());
    // A digest that is not one is the signature's fault.
    let e = extract(&rpm_file(&main, &payload_of_abc(), &sig("abc"))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.rpm: corrupt RPM signature: sha256 digest \"abc\" is not 64 hex digits"
    );
}

#[test]
fn payload_digest_in_the_header_is_checked() {
    let payload = payload_of_abc();
    let right = hex(&sha2::Sha256::digest(&payload));
    let main = |hex: &str| {
        main_header(&[
            (TAG_PAYLOADDIGEST, TYPE_STRING_ARRAY, 1, strings(&[hex])),
            (TAG_PAYLOADDIGESTALGO, TYPE_INT32, 1, be32(&[8])),
        ])
    };
    assert!(extract(&rpm_file(&main(&right), &payload, &[])).is_ok());
    let wrong = "2".repeat(64);
    let e = extract(&rpm_file(&main(&wrong), &payload, &[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "k.rpm: corrupt RPM payload: sha256 {right}, expected {wrong} (the header's digest)"
        )
    );
}

#[test]
fn damaged_rpms_say_what_is_wrong() {
    let good = rpm_file(&main_header(&[]), &payload_of_abc(), &[]);
    let with = |at: usize, bytes: &[u8]| {
        let mut r = good.clone();
        r[at..at + bytes.len()].copy_from_slice(bytes);
        r
    };
    let main_with =
        |extra: &[(u32, u32, u32, Vec<u8>)]| rpm_file(&main_header(extra), &payload_of_abc(), &[]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "lead magic",
            with(0, b"RPM!"),
            "k.rpm: corrupt RPM lead: bad magic",
        ),
        (
            "signature type",
            with(78, &[0, 1]),
            "k.rpm: unsupported RPM signature type `1`",
        ),
        (
            "short lead",
            good[..50].to_vec(),
            "k.rpm: corrupt RPM lead: truncated (unexpected end of data)",
        ),
        (
            "signature magic",
            with(LEAD_LEN, &[0x8e, 0xad, 0xe9]),
            "k.rpm: corrupt RPM signature: bad magic",
        ),
        (
            "no tags",
            with(LEAD_LEN + 8, &[0, 0, 0, 0]),
            "k.rpm: corrupt RPM signature: implausible size (0 tags, 4 bytes)",
        ),
        (
            "payload format",
            main_with(&[(TAG_PAYLOADFORMAT, TYPE_STRING, 1, strings(&["drpm"]))]),
            "k.rpm: unsupported RPM payload format `drpm`",
        ),
        (
            "compressor",
            main_with(&[(TAG_PAYLOADCOMPRESSOR, TYPE_STRING, 1, strings(&["lz4"]))]),
            "k.rpm: unsupported RPM payload compressor `lz4`",
        ),
    ];
    for (what, rpm, want) in cases {
        assert_eq!(extract(&rpm).unwrap_err().to_string(), want, "{what}");
    }
}

#[test]
fn header_values_by_type() {
    let bytes = header(&[
        (1, TYPE_INT16, 2, vec![0, 1, 0xff, 0xff]),
        (2, TYPE_INT32, 1, be32(&[70000])),
        (3, TYPE_INT64, 1, (1u64 << 40).to_be_bytes().to_vec()),
        (4, TYPE_STRING, 1, strings(&["xz"])),
        (5, TYPE_STRING_ARRAY, 2, strings(&["a", "bc"])),
        // Claims 4 values where the store holds 1.
        (6, TYPE_INT32, 4, be32(&[1])),
    ]);
    let cx = Cx {
        package: "t",
        opts: &Options::default(),
        exceeded: Default::default(),
        inflate_left: Default::default(),
    };
    let Ok(h) = read_header(&mut &bytes[..], &cx, "RPM header") else {
        panic!("header does not parse");
    };
    assert_eq!(h.len, bytes.len());
    assert_eq!(
        h.digest(Algorithm::Sha256),
        hex(&sha2::Sha256::digest(&bytes))
    );
    assert_eq!(h.ints(1), Some(vec![1, 0xffff]));
    assert_eq!(h.ints(2), Some(vec![70000]));
    assert_eq!(h.ints(3), Some(vec![1 << 40]));
    assert_eq!(h.string(4), Some("xz"));
    assert_eq!(h.strings(5), Some(vec!["a".to_string(), "bc".to_string()]));
    // Wrong type, absent tag, values past the store: none.
    assert_eq!(h.ints(4), None);
    assert_eq!(h.string(2), None);
    assert_eq!(h.strings(4), None);
    assert_eq!(h.ints(99), None);
    assert_eq!(h.ints(6), None);
}

/// An RPM holding `files` (path, stored bytes) in a gzip newc payload, in that order,
/// the header listing each with its sha256 (FILEDIGESTALGO 8) but for those whose
/// digest is given as `Some`.
fn rpm_of(files: &[(&str, &[u8], Option<&str>)]) -> Vec<u8> {
    let n = files.len() as u32;
    let paths: Vec<&str> = files.iter().map(|f| f.0).collect();
    let sizes: Vec<u32> = files.iter().map(|f| f.1.len() as u32).collect();
    let digests: Vec<String> = files
        .iter()
        .map(|f| {
            f.2.map_or_else(|| hex(&sha2::Sha256::digest(f.1)), str::to_string)
        })
        .collect();
    let digests: Vec<&str> = digests.iter().map(String::as_str).collect();
    let main = header(&[
        (TAG_FILESIZES, TYPE_INT32, n, be32(&sizes)),
        (
            TAG_FILEMODES,
            TYPE_INT16,
            n,
            files
                .iter()
                .flat_map(|_| 0o100644u16.to_be_bytes())
                .collect(),
        ),
        (TAG_OLDFILENAMES, TYPE_STRING_ARRAY, n, strings(&paths)),
        (TAG_FILEDIGESTS, TYPE_STRING_ARRAY, n, strings(&digests)),
        (TAG_FILEDIGESTALGO, TYPE_INT32, 1, be32(&[8])),
        (TAG_PAYLOADCOMPRESSOR, TYPE_STRING, 1, strings(&["gzip"])),
    ]);
    let mut cpio: Vec<u8> = files
        .iter()
        .flat_map(|(p, data, _)| cpio_entry("070701", &format!(".{p}"), 0o100644, data))
        .collect();
    cpio.extend(cpio_trailer());
    rpm_file(&main, &compress("gzip", &cpio), &[])
}

fn with_modules(patterns: &[&str]) -> Options {
    Options {
        modules: patterns.iter().map(|p| p.to_string()).collect(),
        ..Options::default()
    }
}

/// A module path of the package's kernel.
fn module_path(file: &str) -> String {
    format!("/usr/lib/debug/lib/modules/{REL}/kernel/net/{file}")
}

#[test]
fn debug_only_and_compressed_modules_come_out_checked() {
    let vmlinux = format!("/usr/lib/debug/lib/modules/{REL}/vmlinux");
    let xz = compress("xz", b"overlay");
    let zst = compress("zstd", b"nf_nat");
    let gz = compress("gzip", b"xfs");
    let (ct, ov, nat, xfs) = (
        module_path("nf_conntrack.ko.debug"),
        module_path("overlay.ko.xz"),
        module_path("nf-nat.ko.zst"),
        module_path("xfs.ko.gz"),
    );
    let rpm = rpm_of(&[
        (&ct, b"conntrack", None),
        (&vmlinux, b"abc", None),
        (&ov, &xz, None),
        (&nat, &zst, None),
        (&xfs, &gz, None),
        (&module_path("other.ko.debug"), b"other", None),
    ]);
    let opts = with_modules(&["nf_*", "overlay", "xfs"]);
    let v = extract_vmlinux(&rpm[..], PackageFormat::Rpm, "k.rpm", &opts).unwrap();
    assert_eq!(v.bytes(), b"abc");
    let got: Vec<_> = v
        .modules
        .iter()
        .map(|m| (m.name.as_str(), m.bytes(), m.size, m.verified))
        .collect();
    let sha = Some(Algorithm::Sha256);
    assert_eq!(
        got,
        [
            ("nf_conntrack", &b"conntrack"[..], 9, sha),
            ("nf_nat", &b"nf_nat"[..], 6, sha),
            ("overlay", &b"overlay"[..], 7, sha),
            ("xfs", &b"xfs"[..], 3, sha),
        ]
    );
    // Without modules asked for, the vmlinux alone, as before.
    let v = extract(&rpm).unwrap();
    assert!(v.modules.is_empty());
    let e = extract_vmlinux(
        &rpm[..],
        PackageFormat::Rpm,
        "k.rpm",
        &with_modules(&["ext4"]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("k.rpm: no module matching `ext4`"),
        "{e}"
    );
}

#[test]
fn a_compressed_module_is_checked_as_stored_and_bounded_as_decompressed() {
    let vmlinux = format!("/usr/lib/debug/lib/modules/{REL}/vmlinux");
    let ov = module_path("overlay.ko.xz");
    let xz = compress("xz", b"overlay");
    // The package's digest is of the compressed file: one of its bytes, decompressed,
    // is no match.
    let wrong = hex(&sha2::Sha256::digest(b"overlay"));
    // The error of extracting overlay from an RPM of the vmlinux and `ov` as `bytes`.
    let overlay_error = |bytes: &[u8], digest: Option<&str>| {
        let rpm = rpm_of(&[(&vmlinux, b"abc", None), (&ov, bytes, digest)]);
        let opts = with_modules(&["overlay"]);
        extract_vmlinux(&rpm[..], PackageFormat::Rpm, "k.rpm", &opts)
            .unwrap_err()
            .to_string()
    };
    let e = overlay_error(&xz, Some(&wrong));
    let corrupt = format!("k.rpm: corrupt RPM payload: .{ov}: ");
    assert!(e.starts_with(&format!("{corrupt}sha256 ")), "{e}");
    // Not xz at all.
    let e = overlay_error(b"not xz", None);
    assert!(e.starts_with(&corrupt), "{e}");
    // A small stream that unpacks past the bound.
    let bomb = compress("xz", &vec![0u8; 1 << 20]);
    let rpm = rpm_of(&[(&vmlinux, b"abc", None), (&ov, &bomb, None)]);
    let opts = Options {
        max_bytes: 1 << 19,
        ..with_modules(&["overlay"])
    };
    let e = extract_vmlinux(&rpm[..], PackageFormat::Rpm, "k.rpm", &opts).unwrap_err();
    assert!(matches!(e, PackageError::TooLarge { .. }), "{e}");
    // Two that each unpack within the bound, and together past it.
    let half = compress("xz", &vec![0u8; 3 << 17]);
    let xfs = module_path("xfs.ko.xz");
    let rpm = rpm_of(&[
        (&vmlinux, b"abc", None),
        (&ov, &half, None),
        (&xfs, &half, None),
    ]);
    let one = Options {
        max_bytes: 1 << 19,
        ..with_modules(&["overlay"])
    };
    assert!(extract_vmlinux(&rpm[..], PackageFormat::Rpm, "k.rpm", &one).is_ok());
    let both = Options {
        max_bytes: 1 << 19,
        ..with_modules(&["overlay", "xfs"])
    };
    let e = extract_vmlinux(&rpm[..], PackageFormat::Rpm, "k.rpm", &both).unwrap_err();
    assert!(matches!(e, PackageError::TooLarge { .. }), "{e}");
}
