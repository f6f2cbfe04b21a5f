//! Archives built here with the tar, xz, gzip and zstd crates' writers (independent of
//! the reader under test), read back as BTF or refused.

use std::io::Write;

use super::*;
use crate::btf::test_util::Builder;
use crate::btf::Btf;

fn small_btf() -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    b.strukt("task", 8, &[("pid", int, 0), ("tgid", int, 32)]);
    b.build().to_bytes()
}

/// One tar member: name, entry type and bytes.
type Member<'a> = (&'a str, tar::EntryType, &'a [u8]);

fn tar_of(members: &[Member]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, kind, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(*kind);
        // set_path refuses `..`; the raw name field takes anything, as a hostile tar can.
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    tar.into_inner().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

const REG: tar::EntryType = tar::EntryType::Regular;

#[test]
fn every_packing_reads_as_the_plain_btf() {
    let raw = small_btf();
    let elf = Btf::from_bytes(&raw)
        .unwrap()
        .to_elf(object::Architecture::X86_64)
        .unwrap();
    let one = |d: &[u8]| tar_of(&[("5.4.0-91-generic.btf", REG, d)]);
    let cases: &[(&str, Vec<u8>)] = &[
        ("tar.xz", xz(&one(&raw))),
        ("tar.gz", gz(&one(&raw))),
        ("tar.zst", zst(&one(&raw))),
        ("tar", one(&raw)),
        ("xz", xz(&raw)),
        ("gz", gz(&raw)),
        ("zst", zst(&raw)),
        ("tar.xz of ELF", xz(&one(&elf))),
        // Two xz streams back to back, as parallel xz writes.
        ("xz, two streams", {
            let t = one(&raw);
            let (a, b) = t.split_at(700);
            [xz(a), xz(b)].concat()
        }),
    ];
    let want = Btf::from_bytes(&raw).unwrap().to_bytes();
    for (what, data) in cases {
        let got = Btf::from_any_bytes(data, None).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got.to_bytes(), want, "{what}");
    }
}

#[test]
fn raw_btf_and_elf_are_not_archives() {
    let raw = small_btf();
    assert!(unpack(&raw).unwrap().is_none());
    let elf = Btf::from_bytes(&raw)
        .unwrap()
        .to_elf(object::Architecture::X86_64)
        .unwrap();
    assert!(unpack(&elf).unwrap().is_none());
}

#[test]
fn bad_archives_are_refused_with_one_line() {
    let raw = small_btf();
    let big = vec![0u8; 2 << 20];
    let cases: &[(&str, Vec<u8>, &str)] = &[
        (
            "two members",
            xz(&tar_of(&[("a.btf", REG, &raw), ("b.btf", REG, &raw)])),
            "holds more than one member (a.btf, b.btf)",
        ),
        (
            "a directory path",
            xz(&tar_of(&[("boot/a.btf", REG, &raw)])),
            "member boot/a.btf has a directory path",
        ),
        (
            "dot-dot",
            xz(&tar_of(&[("../a.btf", REG, &raw)])),
            "member ../a.btf has a directory path",
        ),
        (
            "absolute",
            xz(&tar_of(&[("/a.btf", REG, &raw)])),
            "member /a.btf has a directory path",
        ),
        (
            "a symlink",
            xz(&tar_of(&[("a.btf", tar::EntryType::Symlink, b"")])),
            "member a.btf is not a regular file",
        ),
        (
            "a text member",
            xz(&tar_of(&[("a.btf", REG, b"not btf at all")])),
            "tar.xz archive: member a.btf is not BTF",
        ),
        (
            "an archive in the archive",
            xz(&tar_of(&[("a.btf", REG, &xz(&raw))])),
            "member a.btf is not BTF",
        ),
        (
            "empty tar",
            xz(&[0u8; 1024]),
            "xz-compressed input is not BTF",
        ),
        (
            "corrupt xz",
            {
                let mut d = xz(&raw);
                let n = d.len();
                d[n / 2] ^= 0xff;
                d
            },
            "xz-compressed input: ",
        ),
        (
            "truncated gzip",
            gz(&raw)[..20].to_vec(),
            "gzip-compressed input",
        ),
        (
            "past the budget",
            xz(&big),
            "xz-compressed input unpacks to more than 1048576 bytes",
        ),
        (
            "a tar member past the budget",
            xz(&tar_of(&[("a.btf", REG, &big)])),
            "member a.btf has 2097152 bytes, more than 1048576",
        ),
    ];
    for (what, data, want) in cases {
        let e = Btf::from_any_bytes(data, None).err().map(|e| e.to_string());
        let e = e.unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(e.contains(want), "{what}: {e}");
        assert!(!e.contains('\n'), "{what}: {e}");
    }
}

#[test]
fn budget_is_a_ratio_within_floor_and_cap() {
    for (len, want) in [
        (0, UNPACK_FLOOR),
        (100, UNPACK_FLOOR),
        (1 << 20, 64 << 20),
        (4 << 20, UNPACK_CAP),
        (usize::MAX, UNPACK_CAP),
    ] {
        assert_eq!(unpack_budget(len), want, "{len}");
    }
}

#[test]
fn kernel_names_follow_the_archive() {
    for (file, want) in [
        ("5.4.0-91-generic.btf.tar.xz", Some("5.4.0-91-generic")),
        ("5.4.0-91-generic.btf", Some("5.4.0-91-generic")),
        (
            "4.18.0-348.el8.x86_64.btf.tar.gz",
            Some("4.18.0-348.el8.x86_64"),
        ),
        ("5.10.0-9-amd64.btf.xz", Some("5.10.0-9-amd64")),
        ("5.10.0-9-amd64.btf.zst", Some("5.10.0-9-amd64")),
        ("x.btf.tar", Some("x")),
        (".btf", None),
        (".btf.tar.xz", None),
        ("vmlinux", None),
        ("5.4.0.tar.xz", None),
    ] {
        assert_eq!(kernel_name(file), want, "{file}");
    }
}
