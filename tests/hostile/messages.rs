//! Error messages that mislead (issue #13, class 6): each refusal is one line that
//! names the input at fault and says what is wrong with it, once, in words (no Rust
//! Debug output), with the exit status its command documents; nothing is written.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btfgen_tests::{btfgen, btfgen_bin, fixtures_dir};

use super::{corepack_bin, refused, section_range, Inputs};

/// Asserts [`refused`], the exit status `code` and that the line is exactly `want`.
#[track_caller]
fn says(what: &str, o: &Output, code: i32, out: Option<&Path>, want: &str) {
    refused(what, o, out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{what}: {err}");
    assert_eq!(err.trim_end(), want, "{what}");
}

fn run<S: AsRef<OsStr>>(bin: PathBuf, args: &[S]) -> Output {
    Command::new(bin).args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A cause is printed once: a variant that shows its source does not also chain it.
#[test]
fn causes_are_not_doubled() {
    let inp = Inputs::new();
    let dir = inp.path("objects");
    fs::create_dir(&dir).unwrap();
    let kd = inp.path("kd/debian/12/x86_64");
    fs::create_dir_all(&kd).unwrap();
    fs::copy(inp.path("demo.btf"), kd.join("6.1.0-1-amd64.btf")).unwrap();
    let out = inp.path("bundle.out");
    let build = |object: &Path| {
        run(
            corepack_bin(),
            &[
                "build",
                "--object",
                s(object),
                "--btf-dir",
                s(&inp.path("kd")),
                "-o",
                s(&out),
            ],
        )
    };
    // EISDIR's text comes from the OS; once is what matters.
    let o = build(&dir);
    refused("corepack build --object DIR", &o, Some(&out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with(&format!("corepack: error: {}: ", dir.display())));
    assert_eq!(err.matches("os error 21").count(), 1, "{err}");
    // A file that is not ELF: the object parser's complaint, once.
    let c = fixtures_dir().join("demo.c");
    let o = build(&c);
    refused("corepack build --object demo.c", &o, Some(&out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("not a BPF ELF object").count(), 1, "{err}");
}

/// fixtures/demo.bpf.o with its first CO-RE relocation on local type id 99999.
fn object_with_bad_type_id(inp: &Inputs) -> PathBuf {
    let mut data = fs::read(fixtures_dir().join("demo.bpf.o")).unwrap();
    let ext = section_range(&data, ".BTF.ext").start;
    let word = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
    // .BTF.ext header: hdr_len at 4, core_relo_off at 24; the CO-RE part is the record
    // size, then a section's name and record count, then records of (insn_off,
    // type_id, access_str_off, kind).
    let records = ext + word(ext + 4) + word(ext + 24) + 12;
    data[records + 4..records + 8].copy_from_slice(&99999u32.to_le_bytes());
    let p = inp.path("bad-type.bpf.o");
    fs::write(&p, data).unwrap();
    p
}

/// `min` names the object whose relocation is broken, not only the kernel BTF.
#[test]
fn min_names_the_broken_object() {
    let inp = Inputs::new();
    let obj = object_with_bad_type_id(&inp);
    let btf = inp.path("demo.btf");
    let out = inp.path("min.out");
    let o = btfgen(["min", "--btf", s(&btf), s(&obj), "-o", s(&out)]);
    says(
        "min of a broken object",
        &o,
        1,
        Some(&out),
        &format!(
            "btfgen: error: {} on kernel BTF {}: prog 'demo_read': relo #0: type id 99999 \
             out of range",
            obj.display(),
            btf.display()
        ),
    );
}

/// `--btf-source bundle` with no usable bundle says what was asked, never that the
/// kernel's BTF is absent (whether or not this machine has it).
#[test]
fn forced_bundle_source_says_what_was_asked() {
    let inp = Inputs::new();
    let o = run(corepack_bin(), &["trace", "--btf-source", "bundle"]);
    refused("trace --btf-source bundle, no bundle", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("corepack: error: no BTF for kernel ")
            && err.trim_end().ends_with(
                "--btf-source bundle excludes the kernel's own BTF and no bundle was given"
            ),
        "{err}"
    );
    // A bundle of one kernel of this machine's arch that this machine does not run.
    let mut b = corepack::BundleBuilder::new("hostile", "1");
    b.add_object("x.bpf.o", b"\x7fELF");
    let arch = std::env::consts::ARCH;
    b.add_kernel(
        corepack::KernelId::new(arch, "0.0.0-hostile", "debian", "12"),
        &inp.read("demo.btf"),
    )
    .unwrap();
    let (bundle, _) = b.finish().unwrap();
    let (p, _) = inp.put("one.corepack", &bundle);
    let o = run(
        corepack_bin(),
        &["trace", "--bundle", s(&p), "--btf-source", "bundle"],
    );
    refused("trace --btf-source bundle, no entry", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim_end().ends_with(
            "--btf-source bundle excludes the kernel's own BTF and the bundle has no entry \
             for it; nearest: 0.0.0-hostile"
        ),
        "{err}"
    );
    assert!(!err.contains("is absent"), "{err}");
}

/// Raw BTF (what /sys/kernel/btf/vmlinux holds) and an ELF with only .BTF are BTF
/// already: nothing to encode, said as such (not "Permission denied" or "not ELF").
#[test]
fn encoding_btf_says_it_is_btf_already() {
    let inp = Inputs::new();
    for (name, want) in [
        (
            "demo.btf",
            "is BTF already (raw BTF, not an ELF file with DWARF): nothing to encode; read \
             it with `btfgen dump`",
        ),
        (
            "demo.btf.o",
            "has BTF already (a .BTF section) but no DWARF: nothing to encode; read it \
             with `btfgen dump`",
        ),
    ] {
        let p = inp.path(name);
        let out = inp.path("encode.out");
        let o = btfgen([s(&p), "-o", s(&out)]);
        says(
            &format!("encode {name}"),
            &o,
            1,
            Some(&out),
            &format!("btfgen: error: {}: {want}", p.display()),
        );
    }
}

/// Messages carry no Rust Debug output: a kernel is `ARCH UNAME (ID VERSION_ID)`, an
/// architecture its `uname -m` name, a bad magic hex digits.
#[test]
fn no_debug_output_in_messages() {
    let inp = Inputs::new();
    let mut b = corepack::BundleBuilder::new("hostile", "1");
    let k = corepack::KernelId::new("amd64", "6.1.0-1-amd64", "debian", "12");
    let btf = inp.read("demo.btf");
    b.add_kernel(k.clone(), &btf).unwrap();
    let e = b.add_kernel(k, &btf).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid manifest: kernel x86_64 6.1.0-1-amd64 (debian 12) added twice"
    );
    // An x86_64 object given as a BPF one: exit 2, check's status for errors.
    let host = fixtures_dir().join("demo.o");
    let o = btfgen(["check", s(&host), "--btf", s(&inp.path("demo.btf"))]);
    says(
        "check of a host object",
        &o,
        2,
        None,
        &format!(
            "btfgen: error: {}: not a BPF object: built for x86_64 (compile with clang \
             -target bpf)",
            host.display()
        ),
    );
    let (p, _) = inp.put("magic.corepack", b"XCOREPAK and more bytes after the magic");
    let o = run(corepack_bin(), &["inspect", s(&p)]);
    refused("inspect of a bad magic", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim_end()
            .ends_with("not a corepack bundle: bad magic 58434f524550414b"),
        "{err}"
    );
}

/// Split BTF read without its base says so, and names the option that gives it.
#[test]
fn split_btf_without_base_asks_for_it() {
    let inp = Inputs::new();
    let split = inp.path("split.btf");
    let obj = fixtures_dir().join("demo.bpf.o");
    let out = inp.path("split.out");
    let looks = "looks like split BTF (its string section does not start with NUL), which \
                 needs its base BTF";
    let want = |flag: &str| format!("btfgen: error: {}: {looks} ({flag} BASE)", split.display());
    let demo = inp.path("demo.btf");
    for (what, args, code, flag) in [
        ("dump", vec!["dump", s(&split), "-o", s(&out)], 1, "--base"),
        (
            "check",
            vec!["check", s(&obj), "--btf", s(&split)],
            2,
            "--base",
        ),
        (
            "min",
            vec!["min", "--btf", s(&split), s(&obj), "-o", s(&out)],
            1,
            "--base",
        ),
        ("diff", vec!["diff", s(&demo), s(&split)], 2, "--base-b"),
    ] {
        let o = btfgen(&args);
        says(
            &format!("{what} of split BTF"),
            &o,
            code,
            Some(&out),
            &want(flag),
        );
    }
}

/// A module with a distilled base (`--distill`) read without `--base`: `dump` lists it
/// on its distilled base, but check, min and diff refuse it, since the distilled base's
/// structs have no members to relocate against, minimize or compare (before, `min`
/// wrote a 25-byte BTF and exited 0).
#[test]
fn distilled_module_without_base_asks_for_it() {
    let inp = Inputs::new();
    let module = inp.path("distilled.o");
    let base = inp.path("base.btf");
    let demo_o = fixtures_dir().join("demo.o");
    let o = btfgen([
        s(&demo_o),
        "--base",
        s(&base),
        "--distill",
        "--format",
        "elf",
        "-o",
        s(&module),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = btfgen(["dump", s(&module)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let obj = fixtures_dir().join("demo.bpf.o");
    let out = inp.path("distilled.out");
    let demo = inp.path("demo.btf");
    let want = |flag: &str| {
        format!(
            "btfgen: error: {}: a module with a distilled base (.BTF.base), which holds no \
             members: give its kernel's BTF with {flag} BASE",
            module.display()
        )
    };
    for (what, args, code, flag) in [
        (
            "check",
            vec!["check", s(&obj), "--btf", s(&module)],
            2,
            "--base",
        ),
        (
            "min",
            vec!["min", "--btf", s(&module), s(&obj), "-o", s(&out)],
            1,
            "--base",
        ),
        ("diff", vec!["diff", s(&demo), s(&module)], 2, "--base-b"),
    ] {
        let o = btfgen(&args);
        says(
            &format!("{what} of a distilled module"),
            &o,
            code,
            Some(&out),
            &want(flag),
        );
    }
}

/// `check`: read errors on stderr with exit 2, the table on stdout only for the
/// kernels read; relocation failures alone exit 1 with nothing on stderr.
#[test]
fn check_errors_go_to_stderr_with_their_own_status() {
    let inp = Inputs::new();
    let obj = fixtures_dir().join("demo.bpf.o");
    let (demo, split) = (inp.path("demo.btf"), inp.path("split.btf"));
    let o = btfgen(["check", s(&obj), "--btf", s(&split), s(&demo)]);
    let err = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "btfgen: error: {}: looks like split",
            split.display()
        )),
        "{err}"
    );
    // The readable kernel is reported, the other is not a row of the table.
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows[1].starts_with(s(&demo)), "{stdout}");
    assert!(!stdout.contains("error"), "{stdout}");
    // A relocation that fails (its local type id is out of range): exit 1.
    let bad = object_with_bad_type_id(&inp);
    let o = btfgen(["check", s(&bad), "--btf", s(&demo)]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("prog 'demo_read': relo #0 (byte_off) : type id 99999 out of range"),
        "{stdout}"
    );
}

/// A mistyped subcommand is an unknown command, not a missing file; an existing file
/// of any name is still encoded.
#[test]
fn mistyped_subcommands_are_unknown_commands() {
    let inp = Inputs::new();
    let btf = inp.path("demo.btf");
    let out = inp.path("typo.out");
    let o = btfgen(["dmp", s(&btf), "-o", s(&out)]);
    says(
        "btfgen dmp",
        &o,
        1,
        Some(&out),
        "btfgen: error: unknown command 'dmp' (did you mean 'dump'?)",
    );
    let o = btfgen(["vmlinux", "-o", s(&out)]);
    says(
        "btfgen vmlinux (absent)",
        &o,
        1,
        Some(&out),
        "btfgen: error: unknown command 'vmlinux', and no file of that name (commands: \
         encode, dump, diff, min, check, fetch, help)",
    );
    // A file named `dmp` in the working directory is encoded.
    fs::copy(fixtures_dir().join("demo.o"), inp.path("dmp")).unwrap();
    let o = Command::new(btfgen_bin())
        .current_dir(inp.path(""))
        .args(["dmp", "-o", "dmp.btf"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::read(inp.path("dmp.btf")).unwrap(), inp.read("demo.btf"));
}

/// `corepack test` refuses what it cannot boot or load before it boots anything: one
/// line naming the argument at fault.
#[test]
fn test_refuses_kernels_and_objects_it_cannot_use() {
    let inp = Inputs::new();
    let obj = fixtures_dir().join("demo.bpf.o");
    let (text, _) = inp.put("notakernel", b"hello\n");
    let (deb, _) = inp.put("bad.deb", b"!<arch>\ngarbage");
    let test = |kernel: &Path, object: &Path| {
        run(
            corepack_bin(),
            &["test", "--kernel", s(kernel), "--object", s(object)],
        )
    };
    let o = test(&text, &obj);
    says(
        "corepack test --kernel TEXT",
        &o,
        1,
        None,
        &format!(
            "corepack: error: {}: neither a bzImage kernel nor a Debian kernel image package",
            text.display()
        ),
    );
    let o = test(&obj, &text);
    refused("corepack test --object TEXT", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "corepack: error: {}: not a BPF ELF object",
            text.display()
        )),
        "{err}"
    );
    btfgen_tests::require_tool("dpkg-deb");
    let o = test(&deb, &obj);
    refused("corepack test --kernel BAD.deb", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "corepack: error: {}: dpkg-deb --fsys-tarfile failed: ",
            deb.display()
        )),
        "{err}"
    );
}
