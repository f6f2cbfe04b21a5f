//! Tests for `btfgen diff`: an exact report for two versions of a small C file
//! (compiled with gcc -g, encoded by btfgen), Debian 12's cloud-amd64 and rt-amd64
//! 6.1 kernels with task_struct's moved members checked against bpftool's dump of
//! each BTF, and `--object` with the CO-RE relocations of BPF programs.
//!
//! Every tool is required; a missing one fails the test naming its Debian package.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use btfgen_tests::*;

/// Runs `btfgen diff ARGS...`; returns stdout and the exit code.
fn diff(args: &[&str]) -> (String, i32) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let o: Output = btfgen(&all);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "btfgen {all:?}: {err}");
    let code = o.status.code().expect("btfgen exited normally");
    assert!(
        code == 0 || code == 1,
        "btfgen {all:?} failed ({code}): {err}"
    );
    (String::from_utf8(o.stdout).expect("UTF-8 output"), code)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The first version of the fixture.
const V1: &str = r#"
struct point { int x; int y; };

struct rec {
	int id;
	short flags;
	long removed_field;
	struct point where;
	unsigned int small : 4;
	unsigned int big : 8;
	union {
		int u_a;
		long u_b;
	};
	char name[8];
};

enum color { RED, GREEN = 5, BLUE };

typedef int handle_t;

struct gone { int g; };

int use_rec(struct rec *r, int n) { return r->id + n; }
long helper(int a) { return a; }
int use_handle(handle_t h, enum color c) { return h + c; }
int use_gone(struct gone *g) { return g->g; }
"#;

/// The second version: in `rec`, `flags` widened, `removed_field` removed (so
/// `where` moved), `big` and `name` resized, `added_field` added; in `color`, a
/// value changed (and so the next one) and one added; `handle_t` retargeted;
/// `use_rec` has a new prototype; `gone` and `use_gone` removed, `fresh` and
/// `use_fresh` added.
const V2: &str = r#"
struct point { int x; int y; };

struct rec {
	int id;
	int flags;
	struct point where;
	unsigned int small : 4;
	unsigned int big : 12;
	union {
		int u_a;
		long u_b;
	};
	char name[16];
	int added_field;
};

enum color { RED, GREEN = 6, BLUE, YELLOW };

typedef long handle_t;

struct fresh { int f; };

int use_rec(struct rec *r, long n, int m) { return r->id + n + m; }
long helper(int a) { return a; }
int use_handle(handle_t h, enum color c) { return h + c; }
int use_fresh(struct fresh *f) { return f->f; }
"#;

/// What `btfgen diff v1 v2` prints.
const EXPECTED: &str = "\
removed (3):
  struct gone
  func use_gone
  int short int
added (2):
  struct fresh
  func use_fresh
changed (4):
  struct rec
    size: 48 -> 56 bytes
    resized flags: 16 -> 32 bits
    retyped flags: short int -> int
    removed removed_field: long int, bit 64, 64 bits
    moved where: bit 128 -> 64 (byte 16 -> 8)
    moved small: bit 192 -> 128 (byte 24 -> 16)
    moved big: bit 196 -> 132
    resized big: 8 -> 12 bits
    moved u_a: bit 256 -> 192 (byte 32 -> 24)
    moved u_b: bit 256 -> 192 (byte 32 -> 24)
    moved name: bit 320 -> 256 (byte 40 -> 32)
    resized name: 64 -> 128 bits
    retyped name: char[8] -> char[16]
    added added_field: int, bit 384, 32 bits
  enum color
    changed GREEN: 5 -> 6
    changed BLUE: 6 -> 7
    added YELLOW = 8
  typedef handle_t
    target: int -> long int
  func use_rec
    prototype: int use_rec(struct rec *r, int n) -> int use_rec(struct rec *r, long int n, int m)
";

/// The fixture pair: (work directory, v1 BTF, v2 BTF).
fn fixture_pair() -> (Work, PathBuf, PathBuf) {
    let w = Work::new();
    let mut out = Vec::new();
    for (name, src) in [("v1", V1), ("v2", V2)] {
        let c = w.path(&format!("{name}.c"));
        fs::write(&c, src).unwrap();
        let obj = compile(Cc::Gcc, 5, &[s(&c)]);
        let btf = w.path(&format!("{name}.btf"));
        btfgen_ok(&obj.obj, &btf, &[]);
        out.push(btf);
    }
    let b = out.pop().unwrap();
    let a = out.pop().unwrap();
    (w, a, b)
}

/// A BPF program whose local `struct rec` reads a member that v2 removed and one
/// that v2 added. (The license variable also keeps the global FUNC from being the
/// last BTF type: btfgen's reader takes its linkage for a count of trailing
/// records and refuses such BTF as truncated.)
const REC_PROG: &str = r#"
struct rec {
	int id;
	long removed_field;
	int added_field;
} __attribute__((preserve_access_index));

char LICENSE[] __attribute__((section("license"), used)) = "GPL";

__attribute__((section("socket"), used))
int prog(struct rec *r)
{
	return r->id + (int)r->removed_field + r->added_field;
}
"#;

mod fixture {
    use super::*;

    #[test]
    fn exact_report() {
        let (_w, a, b) = fixture_pair();
        let (out, code) = diff(&[s(&a), s(&b)]);
        assert_eq!(out, EXPECTED);
        assert_eq!(code, 1);
        // The other way round, additions and removals swap.
        let (back, code) = diff(&[s(&b), s(&a)]);
        assert_eq!(code, 1);
        assert!(
            back.contains("removed (2):\n  struct fresh\n  func use_fresh\n"),
            "{back}"
        );
        assert!(
            back.contains("    moved where: bit 64 -> 128 (byte 8 -> 16)\n"),
            "{back}"
        );
    }

    #[test]
    fn same_file_is_empty() {
        let (_w, a, _) = fixture_pair();
        assert_eq!(diff(&[s(&a), s(&a)]), (String::new(), 0));
        let (json, code) = diff(&["--json", s(&a), s(&a)]);
        assert_eq!(code, 0);
        assert_eq!(json, "{\"removed\":[],\n\"added\":[],\n\"changed\":[]}\n");
    }

    #[test]
    fn type_filter_and_json() {
        let (_w, a, b) = fixture_pair();
        let (out, code) = diff(&["--type", "enum color", "--type", "use_rec", s(&a), s(&b)]);
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "changed (2):\n  enum color\n    changed GREEN: 5 -> 6\n    changed BLUE: 6 -> 7\n    \
             added YELLOW = 8\n  func use_rec\n    prototype: int use_rec(struct rec *r, int n) \
             -> int use_rec(struct rec *r, long int n, int m)\n"
        );
        // An unchanged type: nothing to report.
        assert_eq!(
            diff(&["--type", "struct point", s(&a), s(&b)]),
            (String::new(), 0)
        );
        let (json, code) = diff(&["--json", "--type", "rec", s(&a), s(&b)]);
        assert_eq!(code, 1);
        for needle in [
            "\"kind\":\"struct\",\"name\":\"rec\"",
            "{\"change\":\"size\",\"old\":48,\"new\":56}",
            "{\"change\":\"member_moved\",\"member\":\"where\",\"old\":128,\"new\":64}",
            "{\"change\":\"member_resized\",\"member\":\"big\",\"old\":8,\"new\":12}",
            "{\"change\":\"member_retyped\",\"member\":\"flags\",\"old\":\"short int\",\"new\":\"int\"}",
            "{\"change\":\"member_removed\",\"member\":\"removed_field\",\"type\":\"long int\",\"bit_offset\":64,\"bits\":64}",
            "{\"change\":\"member_added\",\"member\":\"added_field\",\"type\":\"int\",\"bit_offset\":384,\"bits\":32}",
        ] {
            assert!(json.contains(needle), "{needle} not in\n{json}");
        }
    }

    /// `--object`: only what the program touches, and the relocation that breaks.
    #[test]
    fn object_breaks() {
        let (w, a, b) = fixture_pair();
        let src = w.path("rec.bpf.c");
        fs::write(&src, REC_PROG).unwrap();
        let obj = w.path("rec.bpf.o");
        bpf_object(&src, w.dir(), &obj);
        let (out, code) = diff(&["--object", s(&obj), s(&a), s(&b)]);
        assert_eq!(code, 1);
        let o = s(&obj);
        let (report, relocs) = out
            .split_once("relocations")
            .expect("a relocations section");
        assert_eq!(
            report,
            "changed (1):\n  struct rec\n    size: 48 -> 56 bytes\n    \
             removed removed_field: long int, bit 64, 64 bits\n    \
             added added_field: int, bit 384, 32 bits\n"
        );
        // clang decides the order of the relocations: compare them by access.
        let mut lines: Vec<&str> = relocs.lines().skip(1).collect();
        lines.sort_by_key(|l| l.rsplit_once(") rec->").map(|x| x.1));
        let lines: Vec<String> = lines
            .iter()
            .map(|l| {
                let (head, tail) = l.split_once(" relo #").unwrap();
                format!("{head} {}", tail.split_once(' ').unwrap().1)
            })
            .collect();
        assert_eq!(relocs.lines().next(), Some(" (3, 2 differ, 1 break):"));
        assert_eq!(
            lines,
            [
                format!("  differs {o}: prog 'prog' (byte_off) rec->added_field: fails (field missing: rec has no member added_field (1 candidate(s))) -> 48"),
                format!("  same    {o}: prog 'prog' (byte_off) rec->id: 0 -> 0"),
                format!("  BREAKS  {o}: prog 'prog' (byte_off) rec->removed_field: 8 -> fails (field missing: rec has no member removed_field (1 candidate(s)))"),
            ]
        );
        let (json, _) = diff(&["--json", "--object", o, s(&a), s(&b)]);
        assert!(
            json.contains("\"kind\":\"byte_off\",\"access\":\"rec->removed_field\",\"old\":{\"value\":8},\"new\":{\"error\":"),
            "{json}"
        );
        assert!(json.contains("\"differs\":true,\"breaks\":true}"), "{json}");
        // Against itself nothing differs.
        let (_, code) = diff(&["--object", o, s(&a), s(&a)]);
        assert_eq!(code, 0);
    }

    /// Errors: one line, exit status 2, no panic.
    #[test]
    fn errors() {
        let (w, a, _) = fixture_pair();
        let junk = w.path("junk");
        fs::write(&junk, "not BTF").unwrap();
        for (args, needle) in [
            (
                vec![s(&a), "/nonexistent/b"],
                "/nonexistent/b: No such file",
            ),
            (vec![s(&junk), s(&a)], "junk"),
            (
                vec!["--type", "no_such_type", s(&a), s(&a)],
                "no type named `no_such_type`",
            ),
            (vec!["--object", s(&junk), s(&a), s(&a)], "junk"),
            (
                vec!["--base-a", "/nonexistent/base", s(&a), s(&a)],
                "base BTF /nonexistent/base",
            ),
        ] {
            let mut all = vec!["diff"];
            all.extend_from_slice(&args);
            let o = btfgen(&all);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.starts_with("btfgen: error: ") && err.contains(needle),
                "{args:?}: {err}"
            );
            assert!(o.stdout.is_empty());
        }
    }
}

/// Debian 12's 6.1 kernel of `flavor` (scripts/debian-kernel.sh, cached): its
/// vmlinux (ELF with Debian's .BTF) and the raw .BTF extracted next to the tests.
fn debian(flavor: &str) -> (PathBuf, PathBuf) {
    static DIRS: OnceLock<std::sync::Mutex<BTreeMap<String, (PathBuf, PathBuf)>>> = OnceLock::new();
    let mut dirs = DIRS.get_or_init(Default::default).lock().unwrap();
    dirs.entry(flavor.to_string())
        .or_insert_with(|| {
            let vmlinux = btfgen_tests::debian_kernel(flavor).join("vmlinux");
            let raw = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-{flavor}.btf"));
            fs::write(&raw, elf_section(&vmlinux, ".BTF").unwrap()).unwrap();
            (vmlinux, raw)
        })
        .clone()
}

/// From bpftool's raw dump of `btf`: the size of struct `name` and the bit offset
/// of each of its named members.
fn bpftool_struct(btf: &Path, name: &str) -> (u64, BTreeMap<String, u64>) {
    let dump = bpftool_dump(btf).unwrap();
    let head = format!("] STRUCT '{name}' size=");
    let mut lines = dump.lines();
    let first = lines
        .by_ref()
        .find(|l| l.contains(&head))
        .unwrap_or_else(|| panic!("bpftool: no struct {name} in {}", btf.display()));
    let size = first.split_once("size=").unwrap().1;
    let size = size.split(' ').next().unwrap().parse().unwrap();
    let mut members = BTreeMap::new();
    for l in lines.take_while(|l| l.starts_with('\t')) {
        let l = l.trim_start();
        let (member, rest) = l[1..].split_once('\'').unwrap();
        let off = rest.split_once("bits_offset=").unwrap().1;
        let off = off.split(' ').next().unwrap().parse().unwrap();
        if member != "(anon)" {
            members.insert(member.to_string(), off);
        }
    }
    (size, members)
}

/// The `moved NAME: bit A -> B` lines of a report, by member.
fn moved(out: &str) -> BTreeMap<String, (u64, u64)> {
    out.lines()
        .filter_map(|l| l.trim_start().strip_prefix("moved "))
        .map(|l| {
            let (name, rest) = l.split_once(": bit ").unwrap();
            let (a, b) = rest.split_once(" -> ").unwrap();
            let b = b.split(' ').next().unwrap();
            (name.to_string(), (a.parse().unwrap(), b.parse().unwrap()))
        })
        .collect()
}

mod debian_6_1 {
    use super::*;

    /// task_struct between cloud-amd64 and rt-amd64: every member bpftool shows at
    /// another offset is reported as moved, with bpftool's offsets.
    #[test]
    fn task_struct_cloud_vs_rt() {
        let (cloud, cloud_raw) = debian("cloud-amd64");
        let (rt, rt_raw) = debian("rt-amd64");
        let (out, code) = diff(&["--type", "struct task_struct", s(&cloud), s(&rt)]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.starts_with("changed (1):\n  struct task_struct\n"),
            "{out}"
        );
        let (size_a, a) = bpftool_struct(&cloud_raw, "task_struct");
        let (size_b, b) = bpftool_struct(&rt_raw, "task_struct");
        assert!(out.contains(&format!("    size: {size_a} -> {size_b} bytes\n")));
        let reported = moved(&out);
        // Top-level members (bpftool shows those; the report also has members of
        // embedded anonymous unions under their own names).
        let expected: BTreeMap<String, (u64, u64)> = a
            .iter()
            .filter_map(|(n, &oa)| {
                b.get(n)
                    .filter(|&&ob| ob != oa)
                    .map(|&ob| (n.clone(), (oa, ob)))
            })
            .collect();
        let top: BTreeMap<String, (u64, u64)> = reported
            .iter()
            .filter(|(n, _)| a.contains_key(*n) || b.contains_key(*n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        assert_eq!(top, expected, "moved members differ from bpftool's offsets");
        assert!(expected.len() > 100, "only {} moved", expected.len());
        for m in [
            "pid",
            "tgid",
            "comm",
            "mm",
            "real_parent",
            "cred",
            "__state",
            "se",
        ] {
            let (oa, ob) = reported[m];
            eprintln!(
                "task_struct.{m}: bit {oa} -> {ob} (bpftool: {} / {})",
                a[m], b[m]
            );
            assert_eq!((oa, ob), (a[m], b[m]), "{m}");
        }
        // Members only one kernel has.
        for n in b.keys().filter(|n| !a.contains_key(*n)) {
            assert!(
                out.contains(&format!("    added {n}: ")),
                "{n} not added:\n{out}"
            );
        }
        for n in a.keys().filter(|n| !b.contains_key(*n)) {
            assert!(
                out.contains(&format!("    removed {n}: ")),
                "{n} not removed:\n{out}"
            );
        }
        // The whole diff has the same task_struct section, among many others.
        let (all, code) = diff(&[s(&cloud_raw), s(&rt_raw)]);
        assert_eq!(code, 1);
        let section = out.split_once("\n").unwrap().1;
        assert!(
            all.contains(section),
            "task_struct differs in the full diff"
        );
        assert!(all.lines().filter(|l| l.starts_with("  struct ")).count() > 100);
    }

    #[test]
    fn same_btf_is_empty() {
        let (cloud, cloud_raw) = debian("cloud-amd64");
        assert_eq!(diff(&[s(&cloud), s(&cloud_raw)]), (String::new(), 0));
        assert_eq!(
            diff(&["--json", s(&cloud_raw), s(&cloud_raw)]),
            (
                "{\"removed\":[],\n\"added\":[],\n\"changed\":[]}\n".to_string(),
                0
            )
        );
    }

    /// fields.bpf.c (built against btfgen's vmlinux.h of the cloud kernel): only
    /// the task_struct members it reads are reported, and each relocation's values
    /// agree with bpftool's offsets; nothing breaks between the two kernels.
    #[test]
    fn object_cloud_vs_rt() {
        let (cloud, cloud_raw) = debian("cloud-amd64");
        let (rt, rt_raw) = debian("rt-amd64");
        let w = Work::new();
        let h = btfgen(["dump", "--format", "c", s(&cloud_raw)]);
        assert!(h.status.success());
        fs::write(w.path("vmlinux.h"), &h.stdout).unwrap();
        let obj = w.path("fields.o");
        bpf_object(&fixtures_dir().join("bpf/fields.bpf.c"), w.dir(), &obj);
        let (out, code) = diff(&["--object", s(&obj), s(&cloud), s(&rt)]);
        assert_eq!(code, 1, "{out}");
        let (_, a) = bpftool_struct(&cloud_raw, "task_struct");
        let (_, b) = bpftool_struct(&rt_raw, "task_struct");
        let reported = moved(&out);
        let names: BTreeSet<&str> = reported.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            BTreeSet::from([
                "__state",
                "comm",
                "in_execve",
                "pid",
                "real_parent",
                "sched_reset_on_fork",
                "se",
                "tgid"
            ]),
            "{out}"
        );
        for (m, (oa, ob)) in &reported {
            assert_eq!((*oa, *ob), (a[m], b[m]), "{m}");
        }
        assert!(
            !out.contains("added ") && !out.contains("removed "),
            "{out}"
        );
        assert!(out.contains(" 0 break):\n"), "{out}");
        assert!(!out.contains("BREAKS"), "{out}");
        // byte_off relocations patch bpftool's offsets.
        let o = s(&obj);
        for m in ["pid", "tgid", "comm", "real_parent"] {
            let needle = format!(
                "(byte_off) task_struct->{m}: {} -> {}\n",
                a[m] / 8,
                b[m] / 8
            );
            assert!(
                out.lines().any(|l| l
                    .starts_with(&format!("  differs {o}: prog 'task_fields' relo #"))
                    && format!("{l}\n").ends_with(&needle)),
                "{needle} not in\n{out}"
            );
        }
        // A field no 6.1 kernel has fails on both: not a break, not a difference.
        assert!(out.contains("(byte_off) task_struct___old->state: fails (field missing"));
        // The same object against one kernel: nothing differs.
        assert_eq!(diff(&["--object", o, s(&cloud), s(&cloud_raw)]).1, 0);
    }
}
