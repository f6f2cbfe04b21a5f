//! CO-RE oracle tests: `btfgen check` and `btfgen min` against libbpf (the
//! relocation log of `bpf_object__load` with `btf_custom_path`), bpftool's
//! `gen min_core_btf` and the running kernel's BPF_BTF_LOAD.
//!
//! Fixtures (fixtures/bpf/*.bpf.c) are compiled with clang -target bpf against
//! a vmlinux.h that bpftool dumps from /sys/kernel/btf/vmlinux. BPF_CORE_TYPE_MATCHES
//! is not covered: clang 14 cannot emit it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use btfgen_tests::{btfgen, elf_section, fixtures_dir, require_tool, run_ok, try_load_btf, Load};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const FIXTURES: &[&str] = &["fields", "types", "paths", "subprogs"];

/// Compiled fixtures and the oracle, built once per test process.
struct Built {
    dir: PathBuf,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        // Under cargo's per-target scratch directory, emptied at each run: statics
        // are never dropped, so a temporary directory would be left behind.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("core");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let bpftool = require_tool("bpftool");
        let h =
            run_ok(Command::new(&bpftool).args(["btf", "dump", "file", VMLINUX, "format", "c"]));
        fs::write(dir.join("vmlinux.h"), &h.stdout).unwrap();
        for f in FIXTURES.iter().chain(&["synthetic", "module", "memsz"]) {
            btfgen_tests::bpf_object(
                &fixtures_dir().join(format!("bpf/{f}.bpf.c")),
                &dir,
                &dir.join(format!("{f}.o")),
            );
        }
        run_ok(
            Command::new(require_tool("cc"))
                .args(["-O2", "-o"])
                .arg(dir.join("oracle"))
                .arg(fixtures_dir().join("bpf/relo_oracle.c"))
                .arg("-lbpf"),
        );
        Built { dir }
    })
}

fn obj(name: &str) -> PathBuf {
    built().dir.join(format!("{name}.o"))
}

/// What libbpf did with one relocation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Libbpf {
    /// `patched insn #INSN ... -> VALUE`, and `mem_sz FROM -> TO` when libbpf also
    /// changed the load/store size.
    Patched {
        insn: u64,
        value: u64,
        mem_sz: Option<(u32, u32)>,
    },
    Poisoned,
}

/// libbpf's relocation results for `obj` on `btf`, by (program, relo index).
fn libbpf(obj: &Path, btf: &Path) -> BTreeMap<(String, u64), Libbpf> {
    let out = run_ok(Command::new(built().dir.join("oracle")).arg(obj).arg(btf));
    let log = String::from_utf8_lossy(&out.stdout);
    let mut res = BTreeMap::new();
    for line in log.lines() {
        assert!(!line.contains("failed to relocate"), "libbpf: {line}");
        let Some(rest) = line.split_once("prog '").map(|x| x.1) else {
            continue;
        };
        let Some((prog, rest)) = rest.split_once("': relo #") else {
            continue;
        };
        let Some((idx, what)) = rest.split_once(": ") else {
            continue;
        };
        let key = (prog.to_string(), idx.parse::<u64>().unwrap());
        if what.starts_with("substituting insn") {
            res.insert(key, Libbpf::Poisoned);
        } else if let Some(p) = what.strip_prefix("patched insn #") {
            let insn = p.split(' ').next().unwrap().parse().unwrap();
            let value = p.rsplit("-> ").next().unwrap().trim().parse().unwrap();
            if let Some(sz) = p.split_once(" mem_sz ").map(|x| x.1) {
                let (from, to) = sz.split_once(" -> ").unwrap();
                let sz = Some((from.parse().unwrap(), to.trim().parse().unwrap()));
                match res.get_mut(&key) {
                    Some(Libbpf::Patched { mem_sz, .. }) => *mem_sz = sz,
                    other => panic!("libbpf: mem_sz before the offset: {line} ({other:?})"),
                }
                continue;
            }
            res.entry(key).or_insert(Libbpf::Patched {
                insn,
                value,
                mem_sz: None,
            });
        }
    }
    assert!(!res.is_empty(), "no relocations in libbpf's log:\n{log}");
    res
}

/// One relocation of `btfgen check --json`.
#[derive(Debug, Clone)]
struct Checked {
    kind: String,
    access: String,
    insn: u64,
    value: Option<u64>,
    /// `"mem_sz":{"from":F,"to":T}`.
    mem_sz: Option<(u32, u32)>,
    why: Option<String>,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let rest = &line[line.find(&pat)? + pat.len()..];
    Some(match rest.strip_prefix('"') {
        Some(s) => &s[..s.find('"').unwrap()],
        None => &rest[..rest.find([',', '}']).unwrap()],
    })
}

/// `btfgen check --json OBJ --btf BTF`, by (program, relo index), and the exit status
/// (0: every relocation resolves, 1: some fail, 2: an error).
fn check(obj: &Path, btf: &Path) -> (BTreeMap<(String, u64), Checked>, Option<i32>) {
    let o = btfgen([
        "check".as_ref(),
        obj.as_os_str(),
        "--btf".as_ref(),
        btf.as_os_str(),
        "--json".as_ref(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("{\"kernels\""),
        "btfgen check failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut res = BTreeMap::new();
    for line in stdout.lines().filter(|l| l.starts_with("{\"object\"")) {
        let key = (
            field(line, "program").unwrap().to_string(),
            field(line, "relo").unwrap().parse().unwrap(),
        );
        res.insert(
            key,
            Checked {
                kind: field(line, "kind").unwrap().to_string(),
                access: field(line, "access").unwrap().to_string(),
                insn: field(line, "insn").unwrap().parse().unwrap(),
                value: field(line, "value").map(|v| v.parse().unwrap()),
                mem_sz: line.split_once("\"mem_sz\":{\"from\":").map(|(_, r)| {
                    let (from, r) = r.split_once(",\"to\":").unwrap();
                    (
                        from.parse().unwrap(),
                        r[..r.find('}').unwrap()].parse().unwrap(),
                    )
                }),
                why: field(line, "why").map(str::to_string),
            },
        );
    }
    (res, o.status.code())
}

/// Asserts that btfgen check and libbpf agree on every relocation of `obj` on `btf`.
fn assert_agree(obj: &Path, btf: &Path) -> BTreeMap<(String, u64), Checked> {
    let lib = libbpf(obj, btf);
    let (ours, _) = check(obj, btf);
    assert_eq!(
        lib.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "{}: libbpf and btfgen see different relocations",
        obj.display()
    );
    for (key, l) in &lib {
        let c = &ours[key];
        match l {
            Libbpf::Patched {
                insn,
                value,
                mem_sz,
            } => {
                assert_eq!(
                    (Some(*value), *insn, *mem_sz),
                    (c.value, c.insn, c.mem_sz),
                    "{} on {}: prog '{}' relo #{} ({} {}): libbpf patched {value} at insn {insn} (mem_sz {mem_sz:?}), btfgen says {c:?}",
                    obj.display(),
                    btf.display(),
                    key.0,
                    key.1,
                    c.kind,
                    c.access
                );
                assert!(
                    c.why.is_none(),
                    "{key:?}: btfgen reports a failure libbpf does not have: {c:?}"
                );
            }
            Libbpf::Poisoned => assert!(
                c.value.is_none() && c.why.is_some(),
                "{key:?}: libbpf poisons, btfgen says {c:?}"
            ),
        }
    }
    ours
}

#[test]
fn check_agrees_with_libbpf_on_running_kernel() {
    let mut kinds = std::collections::BTreeSet::new();
    for f in FIXTURES {
        for c in assert_agree(&obj(f), Path::new(VMLINUX)).values() {
            kinds.insert(c.kind.clone());
        }
    }
    for k in [
        "byte_off",
        "byte_sz",
        "field_exists",
        "signed",
        "lshift_u64",
        "rshift_u64",
        "local_type_id",
        "target_type_id",
        "type_exists",
        "type_size",
        "enumval_exists",
        "enumval_value",
    ] {
        assert!(
            kinds.contains(k),
            "no fixture relocation of kind {k}: {kinds:?}"
        );
    }
}

/// libbpf's load-size changes: fixtures/bpf/memsz.bpf.c (tcpstates' read of
/// `trace_event_raw_inet_sock_set_state->protocol`, a __u16 in the object) on a target
/// BTF that btfgen encodes from fixtures/bpf/memsz_target.c (4.18/4.19's __u8
/// `protocol`): `check --json` reports the `mem_sz FROM -> TO` libbpf's log prints for
/// each relocation, and poisons where libbpf does (a signed field that shrinks).
#[test]
fn load_size_changes_agree_with_libbpf() {
    let target = btfgen_tests::compile(btfgen_tests::Cc::Gcc, 5, &["bpf/memsz_target.c"]);
    let btf = target.path("target.btf");
    btfgen_tests::btfgen_ok(&target.obj, &btf, &[]);
    let o = obj("memsz");
    let lib = libbpf(&o, &btf);
    let ours = assert_agree(&o, &btf);
    let changed: Vec<_> = lib
        .iter()
        .filter_map(|(k, l)| match l {
            Libbpf::Patched {
                mem_sz: Some(sz), ..
            } => Some((ours[k].access.as_str(), *sz)),
            _ => None,
        })
        .collect();
    assert!(
        changed
            .iter()
            .any(|(a, _)| *a == "trace_event_raw_inet_sock_set_state->protocol"),
        "libbpf changed no load size of ->protocol: {lib:?}"
    );
    assert!(
        lib.values().any(|l| *l == Libbpf::Poisoned),
        "libbpf poisoned nothing: {lib:?}"
    );
    // The table lists the same changes.
    let table = btfgen([
        "check".as_ref(),
        o.as_os_str(),
        "--btf".as_ref(),
        btf.as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&table.stdout);
    for (access, (from, to)) in &changed {
        assert!(
            table.contains(&format!("{access}: mem_sz {from} -> {to}")),
            "{table}"
        );
    }
}

#[test]
fn check_reports_failures_in_c_terms() {
    let fields = obj("fields");
    let o = btfgen([
        "check".as_ref(),
        fields.as_os_str(),
        "--btf".as_ref(),
        VMLINUX.as_ref(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a poisoned relocation must fail check with 1 (2 is for errors):\n{out}"
    );
    assert!(
        out.contains(
            "prog 'task_fields': relo #9 (byte_off) task_struct___old->state: field missing"
        ),
        "{out}"
    );
    let (all, code) = check(&obj("fields"), Path::new(VMLINUX));
    assert_eq!(code, Some(1), "relocations fail: exit 1");
    let c = &all[&("skb_fields".to_string(), 0)];
    assert_eq!(
        c.access, "sk_buff->dev",
        "anonymous members are left out of the C path"
    );
}

/// `btfgen min` of all fixtures on `btf`, written to `out`.
fn min(btf: &Path, out: &Path, objs: &[PathBuf]) {
    let mut args = vec![
        "min".into(),
        "--btf".into(),
        btf.as_os_str().to_owned(),
        "-o".into(),
        out.as_os_str().to_owned(),
    ];
    args.extend(objs.iter().map(|o| o.as_os_str().to_owned()));
    let o = btfgen(&args);
    assert!(
        o.status.success(),
        "btfgen min failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn bpftool_min(btf: &Path, out: &Path, objs: &[PathBuf]) -> u64 {
    run_ok(
        Command::new(require_tool("bpftool"))
            .args(["gen", "min_core_btf"])
            .arg(btf)
            .arg(out)
            .args(objs),
    );
    fs::metadata(out).unwrap().len()
}

/// `btfgen min` of each fixture and of all together on `kernel`: libbpf patches the
/// same values as with the full BTF, btfgen check agrees with libbpf on the output,
/// the kernel loads it, and it is no larger than bpftool's.
fn min_roundtrip(label: &str, kernel: &Path) {
    let dir = &built().dir;
    let all: Vec<PathBuf> = FIXTURES.iter().map(|f| obj(f)).collect();
    let mut sets: Vec<(String, Vec<PathBuf>)> = FIXTURES
        .iter()
        .map(|f| (f.to_string(), vec![obj(f)]))
        .collect();
    sets.push(("all".into(), all));
    for (name, objs) in &sets {
        let ours = dir.join(format!("{label}-{name}.min.btf"));
        let theirs = dir.join(format!("{label}-{name}.bpftool.btf"));
        min(kernel, &ours, objs);
        let ours_len = fs::metadata(&ours).unwrap().len();
        let theirs_len = bpftool_min(kernel, &theirs, objs);
        eprintln!("{label} {name}: btfgen {ours_len} bytes, bpftool {theirs_len} bytes");
        assert!(
            ours_len <= theirs_len,
            "{label} {name}: btfgen {ours_len} > bpftool {theirs_len}"
        );
        match try_load_btf(&fs::read(&ours).unwrap()) {
            Load::Loaded | Load::Skip(_) => {}
            Load::Rejected(why) => {
                panic!("{label} {name}: the kernel rejects the minimized BTF: {why}")
            }
        }
        for o in objs {
            let full = libbpf(o, kernel);
            let small = libbpf(o, &ours);
            let (checked, _) = check(o, kernel);
            for (key, want) in &full {
                let got = &small[key];
                if checked[key].kind == "target_type_id" {
                    // Ids are renumbered: only "found or not" must agree.
                    let nz = |l: &Libbpf| matches!(l, Libbpf::Patched { value, .. } if *value != 0);
                    assert_eq!(nz(want), nz(got), "{label} {name}: {key:?}");
                } else {
                    assert_eq!(
                        want,
                        got,
                        "{label} {name}: {} {key:?} differs on the minimized BTF",
                        o.display()
                    );
                }
            }
            assert_agree(o, &ours);
        }
    }
}

#[test]
fn min_on_running_kernel() {
    min_roundtrip("running", Path::new(VMLINUX));
}

/// The raw `.BTF` of Debian 12's 6.1 kernel.
fn debian_6_1() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let btf = elf_section(
            &btfgen_tests::debian_kernel("cloud-amd64").join("vmlinux"),
            ".BTF",
        )
        .unwrap();
        let out = built().dir.join("debian-6.1.btf");
        fs::write(&out, btf).unwrap();
        out
    })
    .clone()
}

#[test]
fn check_agrees_with_libbpf_on_debian_6_1() {
    let deb = debian_6_1();
    for f in FIXTURES {
        assert_agree(&obj(f), &deb);
    }
}

#[test]
fn min_on_debian_6_1() {
    min_roundtrip("debian-6.1", &debian_6_1());
}

/// Offsets (in the file) of the `kind` field of every CO-RE record of `path`.
fn core_kind_offsets(path: &Path) -> Vec<usize> {
    use object::{Object, ObjectSection};
    let data = fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let sec = file.section_by_name(".BTF.ext").unwrap();
    let (start, _) = sec.file_range().unwrap();
    let ext = sec.data().unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(ext[o..o + 4].try_into().unwrap()) as usize;
    let hdr = u32_at(4);
    let (off, len) = (hdr + u32_at(24), u32_at(28));
    let rec = u32_at(off);
    let mut pos = off + 4;
    let mut out = Vec::new();
    while pos < off + len {
        let n = u32_at(pos + 4);
        pos += 8;
        for _ in 0..n {
            out.push(start as usize + pos + 12);
            pos += rec;
        }
    }
    out
}

/// types.o with every TYPE_EXISTS relocation turned into TYPE_MATCHES: clang 14
/// cannot emit TYPE_MATCHES, libbpf 1.1 resolves it, and the emitted value (1) is
/// what both kinds expect locally.
fn type_matches_object() -> PathBuf {
    let src = obj("types");
    let dst = built().dir.join("type-matches.o");
    let mut data = fs::read(&src).unwrap();
    let mut patched = 0;
    for at in core_kind_offsets(&src) {
        if data[at..at + 4] == 8u32.to_le_bytes() {
            data[at..at + 4].copy_from_slice(&12u32.to_le_bytes());
            patched += 1;
        }
    }
    assert!(
        patched >= 3,
        "types.o has {patched} TYPE_EXISTS relocations"
    );
    fs::write(&dst, data).unwrap();
    dst
}

#[test]
fn type_matches_agrees_with_libbpf() {
    let o = type_matches_object();
    for kernel in [PathBuf::from(VMLINUX), debian_6_1()] {
        let ours = assert_agree(&o, &kernel);
        let matched: Vec<_> = ours
            .values()
            .filter(|c| c.kind == "type_matches")
            .map(|c| (c.access.as_str(), c.value))
            .collect();
        assert!(
            matched.contains(&("struct list_head", Some(1))),
            "{matched:?}"
        );
        assert!(
            matched.contains(&("struct no_such_struct___x", Some(0))),
            "{matched:?}"
        );
        let small = built().dir.join("type-matches.min.btf");
        min(&kernel, &small, std::slice::from_ref(&o));
        let full = libbpf(&o, &kernel);
        let got = libbpf(&o, &small);
        for (key, want) in &full {
            if ours[key].kind != "target_type_id" {
                assert_eq!(
                    want,
                    &got[key],
                    "{key:?} on the minimized {}",
                    kernel.display()
                );
            }
        }
        let theirs = bpftool_min(
            &kernel,
            &built().dir.join("type-matches.bpftool.btf"),
            std::slice::from_ref(&o),
        );
        assert!(fs::metadata(&small).unwrap().len() <= theirs);
    }
}

#[test]
fn min_directory_to_directory() {
    let dir = built().dir.join("kernels");
    fs::create_dir_all(dir.join("distro/6.x")).unwrap();
    fs::copy(VMLINUX, dir.join("a.btf")).unwrap();
    fs::copy(VMLINUX, dir.join("distro/6.x/b.btf")).unwrap();
    let out = built().dir.join("kernels.min");
    min(&dir, &out, &[obj("fields"), obj("types")]);
    let a = fs::read(out.join("a.btf")).unwrap();
    let b = fs::read(out.join("distro/6.x/b.btf")).unwrap();
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

/// Rewrites the u32 at `off` within section `name` of the ELF file `src`.
fn patch_section(src: &Path, dst: &Path, name: &str, off: usize, value: u32) {
    use object::{Object, ObjectSection};
    let mut data = fs::read(src).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let (start, _) = file.section_by_name(name).unwrap().file_range().unwrap();
    let at = start as usize + off;
    drop(file);
    data[at..at + 4].copy_from_slice(&value.to_le_bytes());
    fs::write(dst, data).unwrap();
}

fn check_error(path: &Path) -> String {
    let o = btfgen([
        "check".as_ref(),
        path.as_os_str(),
        "--btf".as_ref(),
        VMLINUX.as_ref(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unreadable object is an error: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one-line error expected: {err}");
    err
}

#[test]
fn bad_objects_get_clear_errors() {
    let dir = &built().dir;
    let text = dir.join("not-elf.o");
    fs::write(&text, "hello").unwrap();
    assert!(check_error(&text).contains("not a BPF ELF object"));

    let src = dir.join("plain.c");
    fs::write(&src, "int x;\n").unwrap();
    let host = dir.join("host.o");
    run_ok(
        Command::new(require_tool("cc"))
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&host),
    );
    assert!(check_error(&host).contains("not a BPF object"));

    let nodebug = dir.join("nodebug.o");
    run_ok(
        Command::new(require_tool("clang"))
            .args(["-target", "bpf", "-O2", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&nodebug),
    );
    assert!(check_error(&nodebug).contains("no .BTF section"));

    // .BTF.ext header: core_relo_len (offset 28) far beyond the section.
    let trunc = dir.join("truncated.o");
    patch_section(&obj("fields"), &trunc, ".BTF.ext", 28, 1 << 30);
    assert!(check_error(&trunc).contains("truncated .BTF.ext"));

    // The kind of the first CO-RE record: header (32) + record size (4) +
    // section name and count (8) + insn_off, type_id, access_str_off (12).
    let core_off = {
        use object::{Object, ObjectSection};
        let data = fs::read(obj("fields")).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let ext = file
            .section_by_name(".BTF.ext")
            .unwrap()
            .data()
            .unwrap()
            .to_vec();
        u32::from_le_bytes(ext[24..28].try_into().unwrap()) as usize
    };
    let unknown = dir.join("unknown-kind.o");
    patch_section(
        &obj("fields"),
        &unknown,
        ".BTF.ext",
        32 + core_off + 4 + 8 + 12,
        99,
    );
    assert!(check_error(&unknown).contains("unknown CO-RE relocation kind 99"));
}

mod synthetic {
    //! Target BTFs built here: ambiguous candidates, and split (module) BTF.

    use std::sync::Arc;

    use btfgen::btf::{Btf, Composite, Int, Kind, Member, Type, INT_SIGNED};

    use super::*;

    fn int(btf: &mut Btf, name: &str, size: u32) -> u32 {
        let name = btf.add_str(name);
        btf.add(Type {
            name,
            kind: Kind::Int(Int {
                size,
                encoding: INT_SIGNED,
                offset: 0,
                bits: (size * 8) as u8,
            }),
        })
    }

    fn strukt(btf: &mut Btf, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let members = members
            .iter()
            .map(|&(n, ty, bit_offset)| Member {
                name: btf.add_str(n),
                ty,
                bit_offset,
                bitfield_size: 0,
            })
            .collect();
        let name = btf.add_str(name);
        btf.add(Type {
            name,
            kind: Kind::Struct(Composite { size, members }),
        })
    }

    /// Base: int, long and `struct foo { int a; int b; }`.
    fn base() -> Btf {
        let mut b = Btf::new();
        let i = int(&mut b, "int", 4);
        int(&mut b, "long", 8);
        strukt(&mut b, "foo", 8, &[("a", i, 0), ("b", i, 32)]);
        b
    }

    #[test]
    fn ambiguous_candidates_fail_as_in_libbpf() {
        let dir = &built().dir;
        let mut b = base();
        // A second `foo` with `b` elsewhere.
        strukt(&mut b, "foo", 4, &[("b", 1, 0)]);
        let path = dir.join("ambiguous.btf");
        fs::write(&path, b.to_bytes()).unwrap();
        let o = obj("synthetic");
        let log = String::from_utf8_lossy(
            &run_ok(Command::new(dir.join("oracle")).arg(&o).arg(&path)).stdout,
        )
        .into_owned();
        assert!(
            log.contains("prog 'synthetic': relo #0: field offset ambiguity"),
            "{log}"
        );
        let (ours, code) = check(&o, &path);
        assert_eq!(code, Some(1), "a relocation fails: exit 1");
        let why = ours[&("synthetic".to_string(), 0)]
            .why
            .clone()
            .unwrap_or_default();
        assert!(
            why.starts_with("ambiguous: candidates put the field at byte offsets 4 and 0"),
            "{why}"
        );
        let min = btfgen([
            "min".as_ref(),
            "--btf".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            dir.join("amb.min").as_os_str(),
            o.as_os_str(),
        ]);
        assert!(
            !min.status.success(),
            "min must refuse a kernel on which a relocation fails"
        );
    }

    #[test]
    fn split_target_finds_module_types() {
        let dir = &built().dir;
        let b = Arc::new(base());
        let mut m = Btf::new_split(b.clone());
        strukt(&mut m, "modonly", 16, &[("x", 2, 0), ("y", 1, 64)]);
        let (bp, mp) = (dir.join("base.btf"), dir.join("module.btf"));
        fs::write(&bp, b.to_bytes()).unwrap();
        fs::write(&mp, m.to_bytes()).unwrap();
        let o = obj("synthetic");
        let out = btfgen([
            "check".as_ref(),
            o.as_os_str(),
            "--btf".as_ref(),
            mp.as_os_str(),
            "--base".as_ref(),
            bp.as_os_str(),
            "--json".as_ref(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let vals: Vec<_> = text.lines().filter_map(|l| field(l, "value")).collect();
        assert_eq!(vals, ["4", "8"], "{text}");
        // The minimized split BTF is a standalone BTF that libbpf resolves the same way.
        let small = dir.join("module.min.btf");
        let o2 = btfgen([
            "min".as_ref(),
            "--btf".as_ref(),
            mp.as_os_str(),
            "--base".as_ref(),
            bp.as_os_str(),
            "-o".as_ref(),
            small.as_os_str(),
            o.as_os_str(),
        ]);
        assert!(
            o2.status.success(),
            "{}",
            String::from_utf8_lossy(&o2.stderr)
        );
        let lib = libbpf(&o, &small);
        assert_eq!(
            lib[&("synthetic".to_string(), 0)],
            Libbpf::Patched {
                insn: 0,
                value: 4,
                mem_sz: None
            },
            "{lib:?}"
        );
        assert!(
            matches!(
                lib[&("synthetic".to_string(), 1)],
                Libbpf::Patched { value: 8, .. }
            ),
            "{lib:?}"
        );
    }
}

/// Split BTF: nf_conntrack.ko's types on Debian's vmlinux. Candidates are searched in
/// vmlinux first and in the module only when vmlinux has none, as libbpf does.
#[test]
fn split_module_btf_on_debian_6_1() {
    let deb = btfgen_tests::debian_kernel("cloud-amd64");
    let (vmlinux, ko) = (deb.join("vmlinux"), deb.join("nf_conntrack.ko"));
    let o = obj("module");
    let out = btfgen([
        "check".as_ref(),
        o.as_os_str(),
        "--btf".as_ref(),
        ko.as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "--json".as_ref(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    let values: Vec<u64> = text
        .lines()
        .filter_map(|l| field(l, "value"))
        .map(|v| v.parse().unwrap())
        .collect();
    // bpftool's listing of the module gives the layout independently.
    let dump = run_ok(
        Command::new(require_tool("bpftool"))
            .args(["btf", "dump", "-B"])
            .arg(&vmlinux)
            .arg("file")
            .arg(&ko),
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    let helper = dump.split("STRUCT 'nf_conntrack_helper' ").nth(1).unwrap();
    let bits: u64 = helper
        .split("'data_len' ")
        .nth(1)
        .and_then(|s| s.split("bits_offset=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(values[0], bits / 8, "nf_conntrack_helper->data_len: {text}");
    assert!(dump.contains("STRUCT 'nf_conn_tstamp' size=16 "));
    assert_eq!(&values[2..5], [8, 16, 1], "{text}");
    // nf_conn is vmlinux's (found there first), where the local one differs.
    let vdump = run_ok(
        Command::new(require_tool("bpftool"))
            .args(["btf", "dump", "file"])
            .arg(&vmlinux),
    );
    let vdump = String::from_utf8_lossy(&vdump.stdout);
    let conn = vdump.split("STRUCT 'nf_conn' ").nth(1).unwrap();
    let at = |m: &str| -> u64 {
        let bits: u64 = conn
            .split(&format!("'{m}' "))
            .nth(1)
            .and_then(|s| s.split("bits_offset=").nth(1))
            .and_then(|s| s.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        bits / 8
    };
    let size: u64 = conn
        .strip_prefix("size=")
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(&values[5..], [at("status"), at("mark"), size], "{text}");
    assert_ne!(
        values[5], 0,
        "the local nf_conn puts status at 0: the test must move it"
    );
    // libbpf on the minimized (standalone) BTF patches the same values.
    let small = built().dir.join("module.min.btf");
    let m = btfgen([
        "min".as_ref(),
        "--btf".as_ref(),
        ko.as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "-o".as_ref(),
        small.as_os_str(),
        o.as_os_str(),
    ]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let lib: Vec<u64> = libbpf(&o, &small)
        .values()
        .map(|l| match l {
            Libbpf::Patched { value, .. } => *value,
            Libbpf::Poisoned => panic!("poisoned on the minimized module BTF"),
        })
        .collect();
    assert_eq!(lib, values);
    // Without the module, the types are missing.
    let (alone, code) = check(&o, &debian_6_1());
    assert_eq!(code, Some(1), "relocations fail: exit 1");
    let why = alone[&("module_types".to_string(), 0)]
        .why
        .clone()
        .unwrap_or_default();
    assert!(why.starts_with("type missing"), "{why}");
    assert_eq!(alone[&("module_types".to_string(), 4)].value, Some(0));
}
