//! Hostile input: broken, truncated, oversized and escaping inputs to every command
//! that reads what others produce. Each must be refused with one line on stderr, a
//! non-zero exit status that is not a panic's (101) or a signal, and no output file.
//! Cyclic types are read (as bpftool reads them): the C dump refuses them that way,
//! and every other walk of them ends.
//!
//! Inputs are made here from valid ones (fixtures/demo.o, its BTF, a BPF object
//! compiled from fixtures/bpf/synthetic.bpf.c, hand-built packages and bundles) so
//! that they stay small; tests/corpus/ holds only the crashers the fuzzers found
//! (docs/fuzzing.md).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use btfgen_tests::{btfgen, fixtures_dir, workspace_root, Work};
use object::{Object, ObjectSection};

// Output paths: devices, FIFOs, links, `-` and inputs given to -o.
#[path = "hostile/outputs.rs"]
mod outputs;
// Untrusted text: escaped on terminals, exact in JSON, never a C name or a file name
// unless it can be one.
#[path = "hostile/terminal.rs"]
mod terminal;

// Error messages that mislead: doubled causes, the wrong input blamed, Debug output.
#[path = "hostile/messages.rs"]
mod messages;
// Resource limits: threads, decompression, non-regular inputs.
#[path = "hostile/limits.rs"]
mod limits;
// Silently wrong output: relocations that cannot be applied, packages without digests.
#[path = "hostile/wrong.rs"]
mod wrong;
// Integrity checks: repository digests, corepack verify and trace, BTF section layout.
#[path = "hostile/integrity.rs"]
mod integrity;

/// Asserts that a command refused its input cleanly: failure, no panic, one line on
/// stderr (`btfgen check` too: its report on stdout holds no errors), no `out` file.
#[track_caller]
fn refused(what: &str, o: &Output, out: Option<&Path>) {
    let err = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{what}: accepted\n{stdout}");
    assert!(
        o.status.code().is_some_and(|c| c != 101),
        "{what}: exit {:?}\n{err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{what}: panicked:\n{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{what}: not one line of error:\n{err}"
    );
    assert!(
        !stdout.contains("error: "),
        "{what}: an error on standard output:\n{stdout}"
    );
    if let Some(out) = out {
        assert!(!out.exists(), "{what}: wrote {}", out.display());
    }
    eprintln!("{what}: {}", err.trim());
}

/// Runs btfgen with `args` and asserts [`refused`].
#[track_caller]
fn btfgen_refuses<S: AsRef<OsStr>>(what: &str, args: &[S], out: Option<&Path>) {
    refused(what, &btfgen(args), out);
}

/// `len` prefixes of `data`: every length up to 64 (headers), then a stride.
fn cuts(len: usize) -> impl Iterator<Item = usize> {
    (0..len.min(64)).chain((64..len).step_by(len / 40 + 1))
}

/// A scratch directory with fixtures/demo.o's BTF (raw and ELF) and its split BTF on
/// a one-type base.
struct Inputs {
    work: Work,
}

impl Inputs {
    fn new() -> Inputs {
        let work = Work::new();
        let demo = fixtures_dir().join("demo.o");
        let raw = work.path("demo.btf");
        let elf = work.path("demo.btf.o");
        let base = work.path("base.btf");
        let split = work.path("split.btf");
        fs::write(&base, Blob::new().int().build()).unwrap();
        for (out, extra) in [
            (&raw, vec![]),
            (&elf, vec!["--format", "elf"]),
            (&split, vec!["--base", base.to_str().unwrap()]),
        ] {
            let mut args = vec![demo.as_os_str(), OsStr::new("-o"), out.as_os_str()];
            args.extend(extra.iter().map(OsStr::new));
            let o = btfgen(&args);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        Inputs { work }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap()
    }

    /// Writes `data` as `name` and returns its path and a fresh output path.
    fn put(&self, name: &str, data: &[u8]) -> (PathBuf, PathBuf) {
        let p = self.path(name);
        fs::write(&p, data).unwrap();
        let out = self.path(&format!("{name}.out"));
        let _ = fs::remove_file(&out);
        (p, out)
    }
}

/// A little-endian BTF blob built type by type. Names: the string table is
/// [`STRINGS`]; members are named `a`, `b`, ... in order.
struct Blob {
    types: Vec<u8>,
    hdr: [Option<u32>; 5],
}

const STRINGS: &[u8] = b"\0foo\0a\0b\0c\0";
const FOO: u32 = 1;
const MEMBER_NAMES: [u32; 3] = [5, 7, 9];

const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const TYPEDEF: u32 = 8;
const CONST: u32 = 10;

impl Blob {
    fn new() -> Blob {
        Blob {
            types: Vec::new(),
            hdr: [None; 5],
        }
    }

    fn words(mut self, w: &[u32]) -> Blob {
        w.iter()
            .for_each(|x| self.types.extend_from_slice(&x.to_le_bytes()));
        self
    }

    fn head(self, kind: u32, vlen: u32, kflag: bool, size_or_type: u32) -> Blob {
        let info = (kflag as u32) << 31 | kind << 24 | vlen;
        self.words(&[0, info, size_or_type])
    }

    fn int(self) -> Blob {
        self.words(&[MEMBER_NAMES[0], INT << 24, 4, 32])
    }

    fn refer(self, kind: u32, to: u32) -> Blob {
        self.head(kind, 0, false, to)
    }

    /// `struct foo` of `size` bytes with members (type, bit offset).
    fn strukt(self, size: u32, kflag: bool, members: &[(u32, u32)]) -> Blob {
        let info = (kflag as u32) << 31 | STRUCT << 24 | members.len() as u32;
        let mut b = self.words(&[FOO, info, size]);
        for (&(ty, off), name) in members.iter().zip(MEMBER_NAMES) {
            b = b.words(&[name, ty, off]);
        }
        b
    }

    /// Overrides a header field (0: hdr_len, 1: type_off, 2: type_len, 3: str_off,
    /// 4: str_len) instead of the computed one.
    fn header(mut self, field: usize, value: u32) -> Blob {
        self.hdr[field] = Some(value);
        self
    }

    fn build(&self) -> Vec<u8> {
        let strs = STRINGS;
        let computed = [
            24,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            strs.len() as u32,
        ];
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for (field, computed) in self.hdr.iter().zip(computed) {
            out.extend_from_slice(&field.unwrap_or(computed).to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(strs);
        out
    }
}

#[test]
fn btf_truncated_and_bad_magic() {
    let inp = Inputs::new();
    for name in ["demo.btf", "demo.btf.o"] {
        let data = inp.read(name);
        for len in cuts(data.len()) {
            let (p, out) = inp.put("cut.btf", &data[..len]);
            btfgen_refuses(
                &format!("dump {name} cut at {len}"),
                &[
                    OsStr::new("dump"),
                    p.as_os_str(),
                    "-o".as_ref(),
                    out.as_os_str(),
                ],
                Some(&out),
            );
        }
        let mut bad = data.clone();
        bad[1] ^= 0xff;
        let (p, out) = inp.put("magic.btf", &bad);
        btfgen_refuses(
            &format!("{name} with a bad magic"),
            &[
                OsStr::new("dump"),
                p.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            Some(&out),
        );
    }
    // Split BTF, cut, on its base.
    let data = inp.read("split.btf");
    let base = inp.path("base.btf");
    for len in cuts(data.len()) {
        let (p, out) = inp.put("cut-split.btf", &data[..len]);
        btfgen_refuses(
            &format!("split BTF cut at {len}"),
            &[
                OsStr::new("dump"),
                "--base".as_ref(),
                base.as_os_str(),
                p.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            Some(&out),
        );
    }
}

/// Headers and counts past the data, references past the last type, and layouts
/// the writer cannot hold: refused by the reader, so by every command.
fn malformed_btfs() -> Vec<(&'static str, Vec<u8>)> {
    let b = Blob::new;
    vec![
        ("huge-vlen", b().head(STRUCT, 0xffff, false, 4).build()),
        ("huge-type-len", b().int().header(2, u32::MAX - 64).build()),
        ("huge-str-len", b().int().header(4, u32::MAX).build()),
        ("huge-hdr-len", b().int().header(0, u32::MAX).build()),
        ("str-off-past-end", b().int().header(3, 1 << 30).build()),
        ("ref-past-last-type", b().refer(PTR, 1 << 20).build()),
        // A bitfield struct whose other member lies past what kind_flag encodes.
        (
            "kflag-offset",
            b().int().strukt(8, false, &[(1, 3), (1, 1 << 30)]).build(),
        ),
    ]
}

/// Reference loops that no C type has, each reachable from `struct foo` (which the
/// CO-RE relocations of fixtures/bpf/synthetic.bpf.c look up).
fn cyclic_btfs() -> Vec<(&'static str, Vec<u8>)> {
    let b = Blob::new;
    vec![
        (
            "ptr-ptr-cycle",
            b().refer(PTR, 2)
                .refer(PTR, 1)
                .strukt(16, false, &[(1, 0), (2, 64)])
                .build(),
        ),
        (
            "struct-holds-itself",
            b().strukt(8, false, &[(1, 0), (1, 32)]).build(),
        ),
        (
            "typedef-loop",
            b().refer(TYPEDEF, 2)
                .refer(TYPEDEF, 1)
                .strukt(8, false, &[(1, 0), (2, 32)])
                .build(),
        ),
        (
            "const-self",
            b().refer(CONST, 1)
                .strukt(8, false, &[(1, 0), (1, 32)])
                .build(),
        ),
        (
            "array-of-itself",
            b().int()
                .head(ARRAY, 0, false, 0)
                .words(&[2, 1, 4])
                .strukt(8, false, &[(1, 0), (2, 32)])
                .build(),
        ),
    ]
}

/// `btfgen dump --format FORMAT FILE -o OUT`.
fn dump_args<'a>(format: &'a str, p: &'a Path, out: &'a Path) -> Vec<&'a OsStr> {
    vec![
        OsStr::new("dump"),
        "--format".as_ref(),
        format.as_ref(),
        p.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]
}

#[test]
fn btf_malformed() {
    let inp = Inputs::new();
    let demo = inp.path("demo.btf");
    for (name, data) in malformed_btfs() {
        let (p, out) = inp.put(&format!("{name}.btf"), &data);
        for format in ["text", "c", "json"] {
            btfgen_refuses(
                &format!("dump --format {format} {name}"),
                &dump_args(format, &p, &out),
                Some(&out),
            );
        }
        // As the base of a split BTF, and as the new side of a diff.
        btfgen_refuses(
            &format!("{name} as a base"),
            &[
                OsStr::new("dump"),
                "--base".as_ref(),
                p.as_os_str(),
                demo.as_os_str(),
            ],
            None,
        );
        btfgen_refuses(
            &format!("diff against {name}"),
            &[OsStr::new("diff"), demo.as_os_str(), p.as_os_str()],
            None,
        );
    }
}

/// Loops: a C header cannot be written (and is not), the listings that do not follow
/// references still work (as bpftool's do), and the commands that compute with types
/// (min, check, diff) refuse such BTF, as the kernel does.
#[test]
fn btf_cycles() {
    let inp = Inputs::new();
    let demo = inp.path("demo.btf");
    let obj = bpf_object(&inp.work);
    for (name, data) in cyclic_btfs() {
        let (p, out) = inp.put(&format!("{name}.btf"), &data);
        btfgen_refuses(
            &format!("dump --format c {name}"),
            &dump_args("c", &p, &out),
            Some(&out),
        );
        for format in ["text", "json"] {
            let o = btfgen(dump_args(format, &p, &out));
            assert!(o.status.success(), "dump --format {format} {name}");
        }
        let min = [
            OsStr::new("min"),
            "--btf".as_ref(),
            p.as_os_str(),
            obj.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        let check = [
            OsStr::new("check"),
            obj.as_os_str(),
            "--btf".as_ref(),
            p.as_os_str(),
        ];
        let diff = [OsStr::new("diff"), demo.as_os_str(), p.as_os_str()];
        // The listings above wrote `out`; min must not.
        std::fs::remove_file(&out).unwrap();
        btfgen_refuses(&format!("min {name}"), &min, Some(&out));
        btfgen_refuses(&format!("check {name}"), &check, None);
        btfgen_refuses(&format!("diff {name}"), &diff, None);
    }
}

/// A struct of 4 GiB with no members: padding lines without end.
#[test]
fn btf_padding_bomb() {
    let inp = Inputs::new();
    let data = Blob::new().strukt(u32::MAX, false, &[]).build();
    let (p, out) = inp.put("padding.btf", &data);
    btfgen_refuses(
        "dump --format c of a 4 GiB struct",
        &[
            OsStr::new("dump"),
            "--format".as_ref(),
            "c".as_ref(),
            p.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
        Some(&out),
    );
}

/// fixtures/bpf/synthetic.bpf.c compiled (clang -target bpf -g), in `work`.
fn bpf_object(work: &Work) -> PathBuf {
    let out = work.path("synthetic.o");
    btfgen_tests::bpf_object(
        &fixtures_dir().join("bpf/synthetic.bpf.c"),
        &fixtures_dir(),
        &out,
    );
    out
}

/// The file range of an ELF section.
fn section_range(data: &[u8], name: &str) -> std::ops::Range<usize> {
    let file = object::File::parse(data).unwrap();
    let s = file.section_by_name(name).unwrap();
    let (off, len) = s.file_range().unwrap();
    off as usize..(off + len) as usize
}

#[test]
fn bpf_objects_broken() {
    let inp = Inputs::new();
    let obj = fs::read(bpf_object(&inp.work)).unwrap();
    let btf = inp.path("demo.btf");
    let mut cases: Vec<(String, Vec<u8>)> = cuts(obj.len())
        .map(|len| (format!("object cut at {len}"), obj[..len].to_vec()))
        .collect();
    let mut magic = obj.clone();
    magic[0] = b'X';
    cases.push(("bad magic".into(), magic));
    // .BTF.ext: header length, then the CO-RE relocation section's length, huge.
    let ext = section_range(&obj, ".BTF.ext");
    for (field, what) in [(4, "hdr_len"), (28, "core_relo_len")] {
        let mut bad = obj.clone();
        bad[ext.start + field..ext.start + field + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        cases.push((format!(".BTF.ext {what} huge"), bad));
    }
    // The object's own .BTF with a header length past the section.
    let own = section_range(&obj, ".BTF");
    let mut bad = obj.clone();
    bad[own.start + 4..own.start + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push((".BTF hdr_len huge".into(), bad));
    // Crashers: a program symbol whose offset + size overflows.
    for entry in fs::read_dir(workspace_root().join("tests/corpus")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension() == Some(OsStr::new("bpf")) {
            cases.push((p.display().to_string(), fs::read(&p).unwrap()));
        }
    }
    for (what, data) in cases {
        let (p, out) = inp.put("obj.o", &data);
        btfgen_refuses(
            &format!("min: {what}"),
            &[
                OsStr::new("min"),
                "--btf".as_ref(),
                btf.as_os_str(),
                p.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            Some(&out),
        );
        btfgen_refuses(
            &format!("check: {what}"),
            &[
                OsStr::new("check"),
                p.as_os_str(),
                "--btf".as_ref(),
                btf.as_os_str(),
            ],
            None,
        );
    }
    // A good object against every malformed kernel BTF.
    let good = bpf_object(&inp.work);
    for (name, data) in malformed_btfs() {
        let (p, out) = inp.put(&format!("{name}.btf"), &data);
        btfgen_refuses(
            &format!("min --btf {name}"),
            &[
                OsStr::new("min"),
                "--btf".as_ref(),
                p.as_os_str(),
                good.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            Some(&out),
        );
        btfgen_refuses(
            &format!("check --btf {name}"),
            &[
                OsStr::new("check"),
                good.as_os_str(),
                "--btf".as_ref(),
                p.as_os_str(),
            ],
            None,
        );
    }
}

#[test]
fn dwarf_objects_broken() {
    let inp = Inputs::new();
    let demo = fs::read(fixtures_dir().join("demo.o")).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = cuts(demo.len())
        .map(|len| (format!("demo.o cut at {len}"), demo[..len].to_vec()))
        .collect();
    let mut magic = demo.clone();
    magic[1] = b'X';
    cases.push(("bad magic".into(), magic));
    // .debug_info's first unit claims more bytes than the section has.
    let info = section_range(&demo, ".debug_info");
    let mut bad = demo.clone();
    bad[info.start..info.start + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    cases.push(("unit length huge".into(), bad));
    for entry in fs::read_dir(workspace_root().join("tests/corpus")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension() == Some(OsStr::new("o")) {
            cases.push((p.display().to_string(), fs::read(&p).unwrap()));
        }
    }
    for (what, data) in cases {
        let (p, out) = inp.put("dwarf.o", &data);
        btfgen_refuses(
            &format!("encode {what}"),
            &[
                p.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
                "-j".as_ref(),
                "1".as_ref(),
            ],
            Some(&out),
        );
    }
}

/// A ustar archive of (path, type flag, data) members.
fn tar(members: &[(&str, u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, ty, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        for (off, len, v) in [
            (100, 8, 0o644),
            (108, 8, 0),
            (116, 8, 0),
            (124, 12, data.len() as u64),
            (136, 12, 0),
        ] {
            let s = format!("{v:0w$o}\0", w = len - 1);
            h[off..off + len].copy_from_slice(s.as_bytes());
        }
        h[156] = *ty;
        h[257..265].copy_from_slice(b"ustar\x0000");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A .deb whose (uncompressed) data.tar holds `members`; no md5sums.
fn deb(members: &[(&str, u8, &[u8])]) -> Vec<u8> {
    deb_with_control(&[], members)
}

/// A .deb whose control.tar holds `control` besides `./control`, and whose data.tar
/// holds `members` (both uncompressed).
fn deb_with_control(control: &[(&str, u8, &[u8])], members: &[(&str, u8, &[u8])]) -> Vec<u8> {
    let mut control_members = vec![("./control", b'0', &b"Package: x\n"[..])];
    control_members.extend_from_slice(control);
    let mut ar = b"!<arch>\n".to_vec();
    for (name, data) in [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar", tar(&control_members)),
        ("data.tar", tar(members)),
    ] {
        let h = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            0,
            0,
            0,
            "100644",
            data.len()
        );
        ar.extend_from_slice(h.as_bytes());
        ar.extend_from_slice(&data);
        if ar.len() % 2 == 1 {
            ar.push(b'\n');
        }
    }
    ar
}

/// An RPM header structure of (tag, type, data, count) entries.
fn rpm_header(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let (mut index, mut store) = (Vec::new(), Vec::new());
    for (tag, ty, data, count) in entries {
        for v in [*tag, *ty, store.len() as u32, *count] {
            index.extend_from_slice(&v.to_be_bytes());
        }
        store.extend_from_slice(data);
    }
    let mut h = vec![0x8e, 0xad, 0xe8, 1, 0, 0, 0, 0];
    h.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    h.extend_from_slice(&(store.len() as u32).to_be_bytes());
    h.extend_from_slice(&index);
    h.extend_from_slice(&store);
    h
}

/// An RPM with an uncompressed cpio (newc) payload of (path, data) regular files.
fn rpm(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cpio = Vec::new();
    let trailer = [("TRAILER!!!", &b""[..])];
    for (i, (name, data)) in files.iter().chain(&trailer).enumerate() {
        let mode = if name.starts_with("TRAILER") {
            0
        } else {
            0o100644
        };
        let fields = [
            i as u32 + 1,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        cpio.extend_from_slice(b"070701");
        fields
            .iter()
            .for_each(|f| cpio.extend_from_slice(format!("{f:08X}").as_bytes()));
        cpio.extend_from_slice(name.as_bytes());
        cpio.push(0);
        cpio.resize(cpio.len().div_ceil(4) * 4, 0);
        cpio.extend_from_slice(data);
        cpio.resize(cpio.len().div_ceil(4) * 4, 0);
    }
    let s = |v: &str| [v.as_bytes(), b"\0"].concat();
    let header = rpm_header(&[
        (1000, 6, s("kernel-debuginfo"), 1),
        (1124, 6, s("cpio"), 1),
        (1125, 6, s("none"), 1),
    ]);
    let size = ((header.len() + cpio.len()) as u32).to_be_bytes().to_vec();
    let sig = rpm_header(&[(1000, 4, size, 1)]);
    let mut lead = vec![0u8; 96];
    lead[..4].copy_from_slice(&[0xed, 0xab, 0xee, 0xdb]);
    lead[78..80].copy_from_slice(&5u16.to_be_bytes());
    let pad = vec![0u8; (8 - sig.len() % 8) % 8];
    [lead, sig, pad, header, cpio].concat()
}

#[test]
fn packages_broken_and_escaping() {
    let inp = Inputs::new();
    let elf = fs::read(fixtures_dir().join("demo.o")).unwrap();
    let vmlinux = "./usr/lib/debug/boot/vmlinux-6.1.0-1-amd64";
    let good_deb = deb(&[(vmlinux, b'0', &elf)]);
    let good_rpm = rpm(&[(vmlinux, &elf)]);
    // The hand-made packages are good ones.
    for (name, data) in [("good.deb", &good_deb), ("good.rpm", &good_rpm)] {
        let (p, out) = inp.put(name, data);
        let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (kind, good) in [("deb", &good_deb), ("rpm", &good_rpm)] {
        for len in cuts(good.len()) {
            cases.push((format!("{kind} cut at {len}"), good[..len].to_vec()));
        }
        let mut magic = good.to_vec();
        magic[3] ^= 0x20;
        cases.push((format!("{kind} with a bad magic"), magic));
    }
    for name in [
        "../x",
        "/usr/lib/debug/boot/vmlinux-6.1.0-1-amd64",
        "./usr/lib/debug/boot/../../../../../tmp/vmlinux-6.1.0-1-amd64",
    ] {
        let deb = deb(&[("./usr/share/doc/README", b'0', b"x"), (name, b'0', &elf)]);
        cases.push((format!("deb member {name}"), deb));
        cases.push((format!("rpm member {name}"), rpm(&[(name, &elf)])));
    }
    // An RPM header claiming 64k tags and 256 MiB of data, in a 200-byte file.
    let mut huge = good_rpm[..96].to_vec();
    huge.extend_from_slice(&[
        0x8e, 0xad, 0xe8, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff,
    ]);
    huge.resize(200, 0);
    cases.push(("rpm header with huge counts".into(), huge));
    for entry in fs::read_dir(workspace_root().join("tests/corpus")).unwrap() {
        let p = entry.unwrap().path();
        if matches!(p.extension().and_then(OsStr::to_str), Some("deb" | "rpm")) {
            cases.push((p.display().to_string(), fs::read(&p).unwrap()));
        }
    }
    for (what, data) in cases {
        let ext = if what.starts_with("rpm") {
            "rpm"
        } else {
            "deb"
        };
        let (p, out) = inp.put(&format!("pkg.{ext}"), &data);
        btfgen_refuses(
            &what,
            &[p.as_os_str(), "-o".as_ref(), out.as_os_str()],
            Some(&out),
        );
    }
    assert!(!Path::new("/tmp/vmlinux-6.1.0-1-amd64").exists());
}

/// The corepack binary, built like btfgen's (see `btfgen_tests::btfgen_bin`).
fn corepack_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let btfgen = btfgen_tests::btfgen_bin();
        let dir = btfgen.parent().unwrap();
        if let Some(cargo) = std::env::var_os("CARGO") {
            let mut cmd = Command::new(cargo);
            cmd.args([
                "build",
                "-p",
                "corepack",
                "--bin",
                "corepack",
                "--manifest-path",
            ])
            .arg(workspace_root().join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", dir.parent().unwrap());
            if !cfg!(debug_assertions) {
                cmd.arg("--release");
            }
            let o = cmd.output().expect("run cargo build");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        dir.join("corepack")
    })
    .clone()
}

#[test]
fn corepack_bundles_broken() {
    let inp = Inputs::new();
    let mut b = corepack::BundleBuilder::new("hostile", "1");
    b.add_object("x.bpf.o", b"\x7fELF");
    let btf = inp.read("demo.btf");
    b.add_kernel(
        corepack::KernelId::new("x86_64", "6.1.0-1-amd64", "debian", "12"),
        &btf,
    )
    .unwrap();
    let (bundle, _) = b.finish().unwrap();
    let (p, _) = inp.put("good.corepack", &bundle);
    let o = Command::new(corepack_bin())
        .arg("verify")
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut cases: Vec<(String, Vec<u8>, bool)> = cuts(bundle.len())
        .map(|len| (format!("bundle cut at {len}"), bundle[..len].to_vec(), true))
        .collect();
    let mut magic = bundle.clone();
    magic[0] = b'X';
    cases.push(("bad magic".into(), magic, true));
    // A flipped byte anywhere: `verify` refuses it (inspect reads only the header and
    // manifest).
    for at in (0..bundle.len())
        .step_by(bundle.len() / 50 + 1)
        .chain([bundle.len() - 1])
    {
        let mut bad = bundle.clone();
        bad[at] ^= 0x01;
        cases.push((format!("byte {at} flipped"), bad, false));
    }
    for (what, data, inspect) in cases {
        let (p, out) = inp.put("bad.corepack", &data);
        let cmds: &[&str] = if inspect {
            &["verify", "inspect"]
        } else {
            &["verify"]
        };
        for cmd in cmds {
            let o = Command::new(corepack_bin())
                .arg(cmd)
                .arg(&p)
                .output()
                .unwrap();
            refused(&format!("corepack {cmd}: {what}"), &o, None);
        }
        // `select` reads the one blob its kernel needs: here the only one, so every
        // change is refused, with status 2, and nothing written.
        let o = Command::new(corepack_bin())
            .env_remove("COREPACK_BTF")
            .args(["select", "--uname", "6.1.0-1-amd64", "--arch", "x86_64"])
            .args(["--build-id", "none", "--sys-btf", "none", "--bundle"])
            .arg(&p)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        refused(&format!("corepack select: {what}"), &o, Some(&out));
        assert_eq!(o.status.code(), Some(2), "corepack select: {what}");
    }
}
