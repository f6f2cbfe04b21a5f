//! BTFHub's archive files as input: `<uname -r>.btf.tar.xz` made exactly as the archive
//! makes them (`tar -cJf` of `<uname -r>.btf`, with the tar and xz tools), and the other
//! packings (tar.gz, tar.zst, .xz, .gz, .zst, made with their tools). Every command that
//! reads BTF gives on them what it gives on the plain `.btf` (the oracle): check,
//! min, dump, diff, encode/dump/check --base, corepack build --btf-dir.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btfgen_tests::{btfgen, compile, corepack_bin, fixtures_dir, require_tool, run_ok, Cc, Work};

/// The kernel name of the archive files, as BTFHub names them.
const KERNEL: &str = "5.4.0-91-generic";

/// `btfgen fixtures/demo.o` as `<KERNEL>.btf` in `w`, and its packings beside it.
struct Packed {
    plain: PathBuf,
    /// (label, file) for every packing of `plain`.
    packed: Vec<(&'static str, PathBuf)>,
}

fn pack(w: &Work) -> Packed {
    let dir = w.path("packed");
    fs::create_dir_all(&dir).unwrap();
    let name = format!("{KERNEL}.btf");
    let plain = dir.join(&name);
    ok(btfgen([
        fixtures_dir().join("demo.o").as_os_str(),
        OsStr::new("-o"),
        plain.as_os_str(),
    ]));
    let tool = |args: &[&str], stdout_to: Option<&Path>| {
        let o = run_ok(
            Command::new(require_tool(args[0]))
                .args(&args[1..])
                .current_dir(&dir),
        );
        if let Some(p) = stdout_to {
            fs::write(p, o.stdout).unwrap();
        }
    };
    let mut packed = Vec::new();
    for (label, flag, ext) in [("tar.xz", "-cJf", "tar.xz"), ("tar.gz", "-czf", "tar.gz")] {
        let f = format!("{name}.{ext}");
        tool(&["tar", flag, &f, &name], None);
        packed.push((label, dir.join(f)));
    }
    let f = format!("{name}.tar.zst");
    tool(&["tar", "--zstd", "-cf", &f, &name], None);
    packed.push(("tar.zst", dir.join(f)));
    for (label, t) in [("xz", "xz"), ("gz", "gzip"), ("zst", "zstd")] {
        let out = dir.join(format!("{name}.{label}"));
        tool(&[t, "-c", &name], Some(&out));
        packed.push((label, out));
    }
    Packed { plain, packed }
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn run(args: &[&OsStr]) -> Output {
    btfgen(args)
}

/// `check --json` output with the kernel file's path taken out.
fn check_json(btf: &Path, extra: &[&OsStr]) -> String {
    let obj = fixtures_dir().join("demo.bpf.o");
    let mut args = vec![OsStr::new("check"), obj.as_os_str(), OsStr::new("--json")];
    args.extend_from_slice(extra);
    args.extend([OsStr::new("--btf"), btf.as_os_str()]);
    let o = ok(run(&args));
    String::from_utf8(o.stdout)
        .unwrap()
        .replace(&btf.display().to_string(), "KERNEL")
}

#[test]
fn check_min_dump_diff_read_every_packing_as_the_plain_btf() {
    let w = Work::new();
    let p = pack(&w);
    let obj = fixtures_dir().join("demo.bpf.o");
    let want_check = check_json(&p.plain, &[]);
    assert!(
        want_check.contains("\"status\":\"resolved\""),
        "{want_check}"
    );
    let min = |btf: &Path, out: &Path| {
        ok(run(&[
            OsStr::new("min"),
            OsStr::new("--btf"),
            btf.as_os_str(),
            obj.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ]));
        fs::read(out).unwrap()
    };
    let want_min = min(&p.plain, &w.path("plain.min.btf"));
    let dump = |btf: &Path, format: &str| {
        ok(run(&[
            OsStr::new("dump"),
            btf.as_os_str(),
            OsStr::new("--format"),
            OsStr::new(format),
        ]))
        .stdout
    };
    let formats = ["c", "text", "json"];
    let want_dump: Vec<Vec<u8>> = formats.iter().map(|f| dump(&p.plain, f)).collect();
    for (label, f) in &p.packed {
        assert_eq!(check_json(f, &[]), want_check, "check {label}");
        assert_eq!(
            min(f, &w.path(&format!("{label}.min.btf"))),
            want_min,
            "min {label}"
        );
        for (format, want) in formats.iter().zip(&want_dump) {
            assert_eq!(&dump(f, format), want, "dump --format {format} {label}");
        }
        let d = run(&[
            OsStr::new("diff"),
            p.plain.as_os_str(),
            f.as_os_str(),
            OsStr::new("--json"),
        ]);
        assert_eq!(d.status.code(), Some(0), "diff plain {label}: {d:?}");
    }
}

/// `--base` takes an archive: a split BTF encoded on the archive equals the one encoded
/// on the plain base, and dump/check read it on either.
#[test]
fn base_may_be_an_archive() {
    let w = Work::new();
    let p = pack(&w);
    let (_, archive) = &p.packed[0];
    let module = compile(Cc::Gcc, 5, &["scalars.c"]);
    let encode = |base: &Path, out: &Path| {
        ok(run(&[
            module.obj.as_os_str(),
            OsStr::new("--base"),
            base.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ]));
        fs::read(out).unwrap()
    };
    let split = w.path("split-plain.btf");
    let want = encode(&p.plain, &split);
    assert_eq!(encode(archive, &w.path("split-archive.btf")), want);
    let dump = |base: &Path| {
        ok(run(&[
            OsStr::new("dump"),
            split.as_os_str(),
            OsStr::new("--base"),
            base.as_os_str(),
        ]))
        .stdout
    };
    assert_eq!(dump(archive), dump(&p.plain));
    let base = |b: &Path| [OsStr::new("--base").to_owned(), b.as_os_str().to_owned()];
    let [a, b] = base(archive);
    let [c, d] = base(&p.plain);
    assert_eq!(check_json(&split, &[&a, &b]), check_json(&split, &[&c, &d]));
}

/// Directory walks take `.btf.tar.xz` beside `.btf`: `min` over a directory writes
/// `<uname -r>.btf` for the archive, `corepack build --btf-dir` names the kernel from the
/// file as the archive does and bundles the same BTF.
#[test]
fn directory_walks_take_archives() {
    let w = Work::new();
    let p = pack(&w);
    let obj = fixtures_dir().join("demo.bpf.o");
    let (_, archive) = &p.packed[0];
    // BTFHub's layout: ID/VERSION_ID/ARCH/<uname -r>.btf[.tar.xz].
    let tree = |name: &str, file: &Path| {
        let root = w.path(name);
        let d = root.join("ubuntu/20.04/x86_64");
        fs::create_dir_all(&d).unwrap();
        fs::copy(file, d.join(file.file_name().unwrap())).unwrap();
        root
    };
    let plain_dir = tree("plain", &p.plain);
    let archive_dir = tree("archive", archive);

    let min_dir = |dir: &Path, out: &Path| {
        ok(run(&[
            OsStr::new("min"),
            OsStr::new("--btf"),
            dir.as_os_str(),
            obj.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ]));
        fs::read(out.join(format!("ubuntu/20.04/x86_64/{KERNEL}.btf"))).unwrap()
    };
    assert_eq!(
        min_dir(&archive_dir, &w.path("min-archive")),
        min_dir(&plain_dir, &w.path("min-plain"))
    );
    assert!(!w
        .path(&format!(
            "min-archive/ubuntu/20.04/x86_64/{KERNEL}.btf.tar.xz"
        ))
        .exists());

    let build = |dir: &Path, out: &Path| {
        run_ok(
            Command::new(corepack_bin())
                .args(["build", "--object"])
                .arg(&obj)
                .arg("--btf-dir")
                .arg(dir)
                .arg("-o")
                .arg(out),
        );
        fs::read(out).unwrap()
    };
    let want = build(&plain_dir, &w.path("plain.corepack"));
    let got = build(&archive_dir, &w.path("archive.corepack"));
    assert_eq!(got, want, "bundle from the archive");
    let b = corepack::Bundle::open(&got).unwrap();
    assert!(b
        .blob_for("x86_64", KERNEL, "ubuntu", "20.04")
        .unwrap()
        .is_some());

    // Both files of one kernel side by side: refused, naming both.
    fs::copy(
        &p.plain,
        archive_dir.join(format!("ubuntu/20.04/x86_64/{KERNEL}.btf")),
    )
    .unwrap();
    let out = w.path("twice.corepack");
    let o = Command::new(corepack_bin())
        .args(["build", "--object"])
        .arg(&obj)
        .arg("--btf-dir")
        .arg(&archive_dir)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("the same kernel twice"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Tars that are not one BTF file: one line, non-zero exit, no output.
#[test]
fn bad_archives_are_refused() {
    let w = Work::new();
    let p = pack(&w);
    let dir = p.plain.parent().unwrap();
    let name = format!("{KERNEL}.btf");
    fs::write(dir.join("notes.txt"), "not BTF\n").unwrap();
    fs::create_dir_all(dir.join("boot")).unwrap();
    fs::copy(&p.plain, dir.join("boot").join(&name)).unwrap();
    let obj = fixtures_dir().join("demo.bpf.o");
    for (label, members, want) in [
        (
            "two members",
            vec![name.as_str(), "notes.txt"],
            "holds more than one member",
        ),
        (
            "a text member",
            vec!["notes.txt"],
            "member notes.txt is not BTF",
        ),
        (
            "a path member",
            vec!["boot/5.4.0-91-generic.btf"],
            "has a directory path",
        ),
    ] {
        let file = format!("bad-{}.btf.tar.xz", label.replace(' ', "-"));
        let mut args = vec!["-cJf", &file];
        args.extend(&members);
        run_ok(
            Command::new(require_tool("tar"))
                .args(&args)
                .current_dir(dir),
        );
        let f = dir.join(&file);
        let out = w.path("out.btf");
        for cmd in [
            vec![OsStr::new("dump"), f.as_os_str()],
            vec![
                OsStr::new("min"),
                OsStr::new("--btf"),
                f.as_os_str(),
                obj.as_os_str(),
                OsStr::new("-o"),
                out.as_os_str(),
            ],
        ] {
            let o = run(&cmd);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{label}: {cmd:?} succeeded");
            assert!(err.contains(want), "{label}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{label}: {err}");
            assert!(o.stdout.is_empty(), "{label}");
            assert!(!out.exists(), "{label}: wrote {}", out.display());
        }
    }
}
