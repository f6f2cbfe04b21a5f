//! Oracle tests for `btfgen dump`: bpftool (`btf dump file F [format c]`, `-j`)
//! on the running kernel's BTF (/sys/kernel/btf/vmlinux), on pahole's BTF for the
//! fixtures and on clang's BPF objects; clang judges that the C output compiles.
//!
//! The C comparison splits both headers into top-level definitions and compares
//! them as sets, after one normalization for libbpf versions: libbpf ≥ 1.2 (what
//! btfgen follows) writes `__attribute__((mode(byte)))` / `mode(word)` on 1- and
//! 8-byte enums so that their size is right, and `(void)` for empty parameter
//! lists; older bpftool builds write neither. Both are removed from both sides.
//!
//! JSON: bpftool sign-extends unsigned 32-bit ENUM values (`4294967295` comes out
//! as `18446744073709551615`); btfgen prints the value, so bpftool's is masked back
//! to 32 bits before comparing.
//!
//! Every tool is required; a missing one fails the test naming its Debian package.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btfgen_tests::*;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// `btfgen dump ARGS...`, required to succeed; returns stdout.
fn dump(args: &[&str]) -> String {
    let o = btfgen(args);
    if !o.status.success() {
        panic!(
            "btfgen {} failed ({}):\n{}",
            args.join(" "),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    String::from_utf8(o.stdout).expect("btfgen dump writes UTF-8")
}

/// `btfgen dump PATH EXTRA...`.
fn dump_file(path: &Path, extra: &[&str]) -> String {
    let p = path.to_str().expect("UTF-8 path");
    let mut args = vec!["dump", p];
    args.extend_from_slice(extra);
    dump(&args)
}

/// `bpftool ARGS...`, required to succeed; returns stdout.
fn bpftool(args: &[&str]) -> String {
    let o = run_ok(Command::new(require_tool("bpftool")).args(args));
    String::from_utf8(o.stdout).expect("bpftool writes UTF-8")
}

/// Removes the spellings that differ between libbpf versions (see the module doc).
fn normalize_c(s: &str) -> String {
    s.replace(" __attribute__((mode(byte)))", "")
        .replace(" __attribute__((mode(word)))", "")
        .replace("(void)", "()")
}

/// The top-level definitions and declarations of a header: the chunks between
/// blank lines (btf_dump never puts a blank line inside a definition).
fn definitions(header: &str) -> Vec<String> {
    header
        .split("\n\n")
        .map(|d| d.trim_matches('\n').to_owned())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Panics with the definitions that only one side has.
fn assert_same_definitions(expected_label: &str, expected: &str, actual_label: &str, actual: &str) {
    let e = definitions(&normalize_c(expected));
    let a = definitions(&normalize_c(actual));
    let es: BTreeSet<&String> = e.iter().collect();
    let as_: BTreeSet<&String> = a.iter().collect();
    let missing: Vec<_> = es.difference(&as_).take(20).collect();
    let extra: Vec<_> = as_.difference(&es).take(20).collect();
    if !missing.is_empty() || !extra.is_empty() {
        panic!(
            "definitions differ ({expected_label}: {}, {actual_label}: {})\n\
             --- only in {expected_label} (first 20) ---\n{}\n\
             --- only in {actual_label} (first 20) ---\n{}",
            es.len(),
            as_.len(),
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
        );
    }
    assert_eq!(
        e.len(),
        a.len(),
        "{expected_label} and {actual_label} repeat definitions differently"
    );
}

/// Byte comparison with the first differing line shown.
fn assert_same_text(expected_label: &str, expected: &str, actual_label: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let (el, al): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    let i = el
        .iter()
        .zip(&al)
        .position(|(a, b)| a != b)
        .unwrap_or(el.len().min(al.len()));
    let ctx = |l: &[&str]| l[i.saturating_sub(3)..(i + 3).min(l.len())].join("\n");
    panic!(
        "{actual_label} differs from {expected_label} at line {} ({} vs {} lines)\n\
         --- {expected_label} ---\n{}\n--- {actual_label} ---\n{}",
        i + 1,
        el.len(),
        al.len(),
        ctx(&el),
        ctx(&al)
    );
}

/// Compiles a BPF program that includes `header` (as vmlinux.h) with
/// `clang -target bpf -O2 -c`; `body` is C after the include.
fn assert_compiles(header: &str, body: &str, w: &Work) {
    fs::write(w.path("vmlinux.h"), header).unwrap();
    let src = w.path("prog.bpf.c");
    fs::write(&src, format!("#include \"vmlinux.h\"\n\n{body}\n")).unwrap();
    let o = Command::new(require_tool("clang"))
        .args(["-target", "bpf", "-O2", "-g", "-Wall", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(w.path("prog.bpf.o"))
        .output()
        .expect("run clang");
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        panic!(
            "clang rejected the header: {}",
            err.lines().take(30).collect::<Vec<_>>().join("\n")
        );
    }
}

/// Uses `struct task_struct` the way a CO-RE program does.
const TASK_PROG: &str = "\
int get_pid(struct task_struct *t)
{
	return t->pid + t->tgid + (int)sizeof(*t);
}";

/// The fixture BTFs: pahole on gcc's and clang's objects (raw BTF), and clang's
/// own BTF in BPF objects (ELF `.BTF`, with FUNC, VAR, DATASEC and tags).
fn fixture_btfs(w: &Work) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (name, cc) in [
        ("combined", Cc::Gcc),
        ("combined", Cc::Clang),
        ("tags", Cc::Clang),
    ] {
        let obj = compile_fixture(cc, 4, &fixture(name));
        let path = w.path(&format!("{name}-{}.btf", cc.name()));
        pahole(&obj.obj, &path, PAHOLE_DEFAULT);
        out.push(path);
    }
    for src in ["bitfields.c", "enums.c", "percpu.c", "tags.c", "demo.c"] {
        let obj = w.path(&format!("bpf-{src}.o"));
        run_ok(
            Command::new(require_tool("clang"))
                .args(["-target", "bpf", "-O2", "-g", "-c"])
                .arg(fixtures_dir().join(src))
                .arg("-o")
                .arg(&obj),
        );
        out.push(obj);
    }
    out
}

/// bpftool's `-j` output as btfgen prints it: the `types` array, one object per
/// line, unsigned 32-bit enum values masked back to 32 bits.
fn bpftool_json(path: &Path) -> String {
    let raw = bpftool(&["-j", "btf", "dump", "file", path.to_str().unwrap()]);
    let body = raw
        .trim_end()
        .strip_prefix("{\"types\":[")
        .and_then(|s| s.strip_suffix("]}"))
        .expect("bpftool -j output shape");
    if body.is_empty() {
        return "[]\n".into();
    }
    let pieces: Vec<&str> = body.split("},{\"id\":").collect();
    let last = pieces.len() - 1;
    let objects: Vec<String> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut o = if i > 0 {
                format!("{{\"id\":{piece}")
            } else {
                piece.to_string()
            };
            if i < last {
                o.push('}');
            }
            if o.contains("\"kind\":\"ENUM\"") && o.contains("\"encoding\":\"UNSIGNED\"") {
                o = mask_enum_values(&o);
            }
            o
        })
        .collect();
    format!("[\n{}\n]\n", objects.join(",\n"))
}

fn mask_enum_values(o: &str) -> String {
    let mut out = String::new();
    let mut rest = o;
    while let Some(i) = rest.find("\"val\":") {
        let (head, tail) = rest.split_at(i + 6);
        out.push_str(head);
        let n = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let v: u64 = tail[..n].parse().expect("enum value");
        out.push_str(&(v as u32).to_string());
        rest = &tail[n..];
    }
    out.push_str(rest);
    out
}

mod vmlinux {
    use super::*;

    #[test]
    fn c_compiles_with_clang() {
        let w = Work::new();
        let header = dump(&["dump", "--format", "c", VMLINUX]);
        assert_compiles(&header, TASK_PROG, &w);
    }

    #[test]
    fn c_definitions_equal_bpftool() {
        let expected = bpftool(&["btf", "dump", "file", VMLINUX, "format", "c"]);
        let actual = dump(&["dump", "--format", "c", VMLINUX]);
        assert!(actual.contains("struct task_struct {\n"));
        assert!(
            definitions(&actual).len() > 1000,
            "too few definitions to mean anything"
        );
        assert_same_definitions("bpftool", &expected, "btfgen", &actual);
        // Stronger: the same order too, so byte-equal once normalized.
        assert_same_text(
            "bpftool (normalized)",
            &normalize_c(&expected),
            "btfgen (normalized)",
            &normalize_c(&actual),
        );
    }

    #[test]
    fn text_equals_bpftool() {
        let expected = bpftool_dump(Path::new(VMLINUX)).unwrap();
        let actual = dump(&["dump", "--format", "text", VMLINUX]);
        assert_same_text("bpftool", &expected, "btfgen", &actual);
    }

    #[test]
    fn json_equals_bpftool() {
        let expected = bpftool_json(Path::new(VMLINUX));
        let actual = dump(&["dump", "--format", "json", VMLINUX]);
        assert_same_text("bpftool -j", &expected, "btfgen", &actual);
    }

    #[test]
    fn one_type_compiles() {
        let w = Work::new();
        let header = dump(&["dump", "--format", "c", "--type", "task_struct", VMLINUX]);
        assert!(header.contains("struct task_struct {\n"), "{header}");
        assert!(header.starts_with("#ifndef __VMLINUX_H__\n"));
        assert!(header.ends_with("#endif /* __VMLINUX_H__ */\n"));
        let full = dump(&["dump", "--format", "c", VMLINUX]);
        assert!(
            header.len() * 2 < full.len(),
            "--type task_struct is not smaller than the whole dump"
        );
        assert_compiles(&header, TASK_PROG, &w);
        // Only what task_struct needs: a type it only points to is declared, not
        // defined.
        assert!(!header.contains("struct inode {\n"));
    }

    #[test]
    fn one_type_text_and_json() {
        let text = dump(&["dump", "--type", "struct list_head", VMLINUX]);
        let lines: Vec<_> = text.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains(" STRUCT 'list_head' size=16 vlen=2"),
            "{text}"
        );
        assert!(lines[1].contains(" PTR '(anon)' type_id="), "{text}");
        let json = dump(&[
            "dump",
            "--format",
            "json",
            "--type",
            "struct list_head",
            VMLINUX,
        ]);
        assert!(json.starts_with("[\n{\"id\":"), "{json}");
        assert!(
            json.contains("\"kind\":\"STRUCT\",\"name\":\"list_head\""),
            "{json}"
        );
    }

    #[test]
    fn output_file() {
        let w = Work::new();
        let out = w.path("vmlinux.h");
        let stdout = dump(&[
            "dump",
            "--format",
            "c",
            VMLINUX,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(stdout.is_empty());
        let written = fs::read_to_string(&out).unwrap();
        assert_eq!(written, dump(&["dump", "--format", "c", VMLINUX]));
    }
}

mod fixtures {
    use super::*;

    #[test]
    fn text_json_and_c_equal_bpftool() {
        let w = Work::new();
        for path in fixture_btfs(&w) {
            let label = path.file_name().unwrap().to_string_lossy().into_owned();
            let p = path.to_str().unwrap();
            let expected = bpftool_dump(&path).unwrap();
            let actual = dump_file(&path, &["--format", "text"]);
            assert_same_text(
                &format!("bpftool {label}"),
                &expected,
                &format!("btfgen {label}"),
                &actual,
            );

            let expected = bpftool_json(&path);
            let actual = dump_file(&path, &["--format", "json"]);
            assert_same_text(
                &format!("bpftool -j {label}"),
                &expected,
                &format!("btfgen {label}"),
                &actual,
            );

            let expected = bpftool(&["btf", "dump", "file", p, "format", "c"]);
            let actual = dump_file(&path, &["--format", "c"]);
            assert_same_definitions(
                &format!("bpftool {label}"),
                &expected,
                &format!("btfgen {label}"),
                &actual,
            );
            assert_compiles(&actual, "", &w);
        }
    }

    /// Split BTF (a fixture encoded by pahole on the kernel's BTF) with `--base`.
    #[test]
    fn split_on_vmlinux() {
        let obj = compile_fixture(Cc::Gcc, 4, &fixture("demo"));
        let split = obj.path("split.btf");
        let mut args = vec![format!("--btf_base={VMLINUX}")];
        args.extend(PAHOLE_DEFAULT.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pahole(&obj.obj, &split, &args);
        let s = split.to_str().unwrap();
        let expected = bpftool(&["-B", VMLINUX, "btf", "dump", "file", s]);
        let actual = dump(&["dump", "--base", VMLINUX, s]);
        assert!(expected.lines().count() > 3);
        assert_same_text("bpftool -B", &expected, "btfgen --base", &actual);
        let expected = bpftool(&["-B", VMLINUX, "btf", "dump", "file", s, "format", "c"]);
        let actual = dump(&["dump", "--base", VMLINUX, "--format", "c", s]);
        assert_same_definitions("bpftool -B", &expected, "btfgen --base", &actual);
        let one = dump(&[
            "dump", "--base", VMLINUX, "--format", "c", "--type", "task", s,
        ]);
        assert!(one.contains("struct task {\n"), "{one}");
        assert_compiles(&one, "int f(struct task *t) { return t->pid; }", &obj);
    }
}

/// Bad input: one line on stderr naming the file, non-zero exit, no panic.
mod bad_input {
    use super::*;

    fn assert_fails(args: &[&str], needle: &str) -> Output {
        let o = btfgen(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "btfgen {args:?} succeeded");
        assert_eq!(
            err.lines().count(),
            1,
            "btfgen {args:?}: not one line:\n{err}"
        );
        assert!(err.starts_with("btfgen: error: "), "{err}");
        assert!(
            err.contains(needle),
            "btfgen {args:?}: {err:?} lacks {needle:?}"
        );
        assert!(!err.contains("panicked"), "{err}");
        o
    }

    /// A raw BTF blob with the given type records and string table.
    fn raw_btf(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let tlen = (types.len() * 4) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9fu16.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [24, 0, tlen, tlen, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        types
            .iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b.extend_from_slice(strings);
        b
    }

    #[test]
    fn not_btf_truncated_missing() {
        let w = Work::new();
        let text = w.path("text");
        fs::write(&text, "not BTF at all\n").unwrap();
        let t = text.to_str().unwrap();
        for fmt in ["c", "text", "json"] {
            assert_fails(
                &["dump", "--format", fmt, t],
                "neither raw BTF nor an ELF file",
            );
        }
        let empty = w.path("empty");
        fs::write(&empty, "").unwrap();
        assert_fails(&["dump", empty.to_str().unwrap()], "empty");
        let vmlinux = fs::read(VMLINUX).unwrap();
        for len in [3, 20, 1000, vmlinux.len() / 2, vmlinux.len() - 1] {
            let p = w.path(&format!("trunc{len}"));
            fs::write(&p, &vmlinux[..len]).unwrap();
            let o = assert_fails(
                &["dump", "--format", "c", p.to_str().unwrap()],
                &format!("trunc{len}"),
            );
            assert!(o.stdout.is_empty(), "output despite the error");
        }
        assert_fails(
            &["dump", "/nonexistent/btf"],
            "/nonexistent/btf: No such file",
        );
        assert_fails(
            &["dump", "--base", "/nonexistent/base", VMLINUX],
            "base BTF /nonexistent/base",
        );
        assert_fails(
            &["dump", "--type", "no_such_type_anywhere", VMLINUX],
            "no type named",
        );
    }

    #[test]
    fn loops_are_errors_not_crashes() {
        let w = Work::new();
        let info = |kind: u32, vlen: u32| (kind << 24) | vlen;
        let cases: [(&str, Vec<u32>); 3] = [
            // [1] CONST -> [1]
            ("const-loop", vec![0, info(10, 0), 1]),
            // [1] TYPEDEF 'a' -> [2] PTR -> [1]
            ("typedef-loop", vec![1, info(8, 0), 2, 0, info(2, 0), 1]),
            // [1] STRUCT 'a' { [2] m; } where [2] is ARRAY of [1]
            (
                "embed-loop",
                vec![
                    1,
                    info(4, 1),
                    8,
                    1,
                    2,
                    0,
                    0,
                    info(3, 0),
                    0,
                    1,
                    3,
                    1,
                    3,
                    info(1, 0),
                    4,
                    32,
                ],
            ),
        ];
        for (name, types) in cases {
            let p = w.path(name);
            fs::write(&p, raw_btf(&types, b"\0a\0int\0")).unwrap();
            assert_fails(&["dump", "--format", "c", p.to_str().unwrap()], name);
            // The listings do not follow references: they still work.
            dump_file(&p, &["--format", "text"]);
            dump_file(&p, &["--format", "json"]);
            if name != "const-loop" {
                dump_file(&p, &["--format", "json", "--type", "a"]);
            }
        }
    }
}

/// Debian 12's 6.1 cloud-amd64 kernel (scripts/debian-kernel.sh, cached): the
/// header btfgen dumps from its BTF has bpftool's definitions, compiles, and CO-RE
/// programs built against it relocate against that kernel and load on this one.
mod debian_6_1 {
    use super::*;

    /// The raw `.BTF` of Debian's vmlinux, written into `w`.
    fn debian_btf(w: &Work) -> PathBuf {
        let vmlinux = btfgen_tests::debian_kernel("cloud-amd64").join("vmlinux");
        let out = w.path("debian-6.1.btf");
        fs::write(&out, elf_section(&vmlinux, ".BTF").unwrap()).unwrap();
        out
    }

    #[test]
    fn c_compiles_and_core_programs_load() {
        let w = Work::new();
        let btf = debian_btf(&w);
        let b = btf.to_str().unwrap();
        let header = dump_file(&btf, &["--format", "c"]);
        assert!(header.contains("struct task_struct {\n"));
        let expected = bpftool(&["btf", "dump", "file", b, "format", "c"]);
        assert_same_definitions("bpftool", &expected, "btfgen", &header);
        // Leaves the header in w as vmlinux.h for the programs below.
        assert_compiles(&header, TASK_PROG, &w);
        let oracle = w.path("oracle");
        run_ok(
            Command::new(require_tool("cc"))
                .args(["-O2", "-o"])
                .arg(&oracle)
                .arg(fixtures_dir().join("bpf/relo_oracle.c"))
                .arg("-lbpf"),
        );
        for f in ["fields", "types", "paths"] {
            let obj = w.path(&format!("{f}.o"));
            btfgen_tests::bpf_object(
                &fixtures_dir().join(format!("bpf/{f}.bpf.c")),
                w.dir(),
                &obj,
            );
            // libbpf relocates it against Debian's BTF...
            let log = run_ok(Command::new(&oracle).arg(&obj).arg(&btf));
            let log = String::from_utf8_lossy(&log.stdout);
            assert!(log.contains("patched insn"), "{f}: no relocation:\n{log}");
            assert!(!log.contains("failed to relocate"), "{f}:\n{log}");
            // ... and against this machine's, where the kernel loads it.
            let log = run_ok(Command::new(&oracle).arg(&obj).arg(VMLINUX));
            let log = String::from_utf8_lossy(&log.stdout);
            assert!(
                log.contains("oracle: load 0\n"),
                "{f} does not load:\n{log}"
            );
        }
    }
}
