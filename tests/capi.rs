//! libcorepack (corepack-c) from C: the example loader (examples/c-loader/loader.c)
//! compiled with gcc against corepack.h and libcorepack.a (plus libbpf), and the C-level
//! error checks (corepack-c/ctest/errors.c).
//!
//! - Injected environments: for every environment of a table, on a bundle `corepack
//!   build` made from fixture BTF and on one with entries that differ only by
//!   os-release, the loader chooses what corepack's Rust selection chooses (entry,
//!   kernel, bytes, reason), or fails with the status and message of the Rust error.
//! - This machine (root, bpf()): the loader loads corepack's tracer with the bundle's BTF
//!   and with the kernel's own, attaches it, and the exec event it reports has the
//!   right pid, ppid (read through CO-RE), uid, comm and filename. Where bpf() is refused
//!   it prints `skipping:` and passes.
//! - The library links neither gimli nor reqwest.
//!
//! Needs gcc, clang and libbpf-dev, libelf-dev, zlib1g-dev (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use btfgen::text::escape;
use btfgen_tests::kernel::tracer_unavailable;
use btfgen_tests::links::linked_forbidden;
use btfgen_tests::{
    corepack_bin, demo_vmlinux, fixtures_dir, os_ids, require_tool_from, run_ok, workspace_lib,
    workspace_root, Work,
};
use corepack::{
    select_with, BtfSource, Bundle, BundleBuilder, Environment, KernelId, SelectError, SourcePolicy,
};

/// The C programs, built against the library in `work`.
struct CPrograms {
    loader: PathBuf,
    errors: PathBuf,
}

/// Compiles the example loader and the error checks with gcc, linking libcorepack.a
/// (built by `cargo build -p corepack-c`).
fn c_programs(work: &Work) -> CPrograms {
    let gcc = require_tool_from("gcc", "gcc");
    for (header, package) in [
        ("/usr/include/bpf/libbpf.h", "libbpf-dev"),
        ("/usr/include/libelf.h", "libelf-dev"),
        ("/usr/include/zlib.h", "zlib1g-dev"),
    ] {
        assert!(
            Path::new(header).is_file(),
            "{header} is missing: install the Debian package {package} (apt-get install \
             {package}); .ci/run installs every tool these tests need"
        );
    }
    let lib = workspace_lib("corepack-c", "libcorepack.a");
    let root = workspace_root();
    let include = root.join("corepack-c/include");
    let build = |src: &str, out: &str, libs: &[&str]| {
        let out = work.path(out);
        run_ok(
            Command::new(&gcc)
                .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
                .arg(&include)
                .arg(root.join(src))
                .arg(&lib)
                .args(libs)
                .args(["-lpthread", "-ldl", "-lm", "-o"])
                .arg(&out),
        );
        out
    };
    CPrograms {
        loader: build(
            "examples/c-loader/loader.c",
            "loader",
            &["-lbpf", "-lelf", "-lz"],
        ),
        errors: build("corepack-c/ctest/errors.c", "errors", &[]),
    }
}

/// The error checks linked against libcorepack.so instead (found through its rpath).
fn errors_shared(work: &Work) -> PathBuf {
    let shared = workspace_lib("corepack-c", "libcorepack.so");
    let dir = shared.parent().unwrap();
    let out = work.path("errors-shared");
    run_ok(
        Command::new(require_tool_from("gcc", "gcc"))
            .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(workspace_root().join("corepack-c/include"))
            .arg(workspace_root().join("corepack-c/ctest/errors.c"))
            .arg(format!("-L{}", dir.display()))
            .arg(format!("-Wl,-rpath,{}", dir.display()))
            .args(["-lcorepack", "-o"])
            .arg(&out),
    );
    out
}

/// A bundle `corepack build` made from fixture BTF (fixtures/demo.c encoded by btfgen)
/// for fixtures/demo.bpf.o, listed under four kernels in BTFHub's layout.
fn fixture_bundle(work: &Work) -> PathBuf {
    let demo = demo_vmlinux();
    let dir = work.path("btf");
    for (id, v, arch, uname) in FIXTURE_KERNELS {
        let d = dir.join(id).join(v).join(arch);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{uname}.btf")), &demo.reference).unwrap();
    }
    let out = work.path("fixture.corepack");
    run_ok(
        Command::new(corepack_bin())
            .args(["build", "--object"])
            .arg(fixtures_dir().join("demo.bpf.o"))
            .arg("--btf-dir")
            .arg(&dir)
            .arg("-o")
            .arg(&out),
    );
    out
}

const FIXTURE_KERNELS: [(&str, &str, &str, &str); 4] = [
    ("debian", "12", "x86_64", "6.1.0-18-cloud-amd64"),
    ("ubuntu", "20.04", "x86_64", "5.4.0-42-generic"),
    ("ubuntu", "22.04", "x86_64", "5.4.0-42-generic"),
    ("ubuntu", "22.04", "arm64", "5.15.0-91-generic"),
];

/// A bundle whose entries share one kernel name with different BTF (distinguishable
/// only by os-release), built with corepack's writer.
fn os_release_bundle(work: &Work) -> PathBuf {
    let mut b = BundleBuilder::new("loader-test", "1");
    for (i, (id, v)) in [("ubuntu", "20.04"), ("ubuntu", "18.04"), ("debian", "11")]
        .into_iter()
        .enumerate()
    {
        let btf: Vec<u8> = (0..3000u32)
            .map(|x| (x * (i as u32 + 3) / 7) as u8)
            .collect();
        b.add_kernel(KernelId::new("x86_64", "5.4.0-42-generic", id, v), &btf)
            .unwrap();
    }
    let (bytes, _) = b.finish().unwrap();
    let out = work.path("os-release.corepack");
    std::fs::write(&out, bytes).unwrap();
    out
}

/// One injected environment.
struct Case {
    arch: &'static str,
    uname: &'static str,
    os_release: Option<&'static str>,
    kernel_btf: Option<&'static str>,
    explicit: Option<&'static str>,
    policy: &'static str,
}

const fn case(arch: &'static str, uname: &'static str, os: Option<&'static str>) -> Case {
    Case {
        arch,
        uname,
        os_release: os,
        kernel_btf: None,
        explicit: None,
        policy: "auto",
    }
}

const DEBIAN_12: Option<&str> = Some("PRETTY_NAME=\"Debian 12\"\nID=debian\nVERSION_ID=\"12\"\n");
const UBUNTU_2204: Option<&str> = Some("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n");
const UBUNTU_2004: Option<&str> = Some("ID=ubuntu\nVERSION_ID=20.04\n");
const UBUNTU_1910: Option<&str> = Some("ID=ubuntu\nVERSION_ID=19.10\n");
const FEDORA: Option<&str> = Some("ID=fedora\nVERSION_ID=40\n");
const HOSTILE: Option<&str> = Some("ID=\"ubu\x1b[31mntu\"\nVERSION_ID=\"20.04\"\n");

/// What corepack's Rust selection chooses for `c` on the bundle at `path`, in the
/// loader's words: its stdout lines (without `library=` and `program=`) and the BTF
/// bytes, or its stderr line.
fn rust_expectation(c: &Case, path: &Path) -> Result<(Vec<String>, Vec<u8>), String> {
    let bytes = std::fs::read(path).unwrap();
    let bundle = Bundle::open(&bytes).unwrap();
    let env = Environment {
        explicit: c.explicit.map(PathBuf::from),
        kernel_btf: c.kernel_btf.map(PathBuf::from),
        uname: c.uname.into(),
        arch: c.arch.into(),
        os_release: c.os_release.map(str::to_string),
        build_id: Vec::new(),
    };
    let policy: SourcePolicy = c.policy.parse().unwrap();
    match select_with(&policy, &env, Some(&bundle)) {
        Ok(s) => {
            let reason = format!("reason={}", escape(&s.reason));
            Ok(match s.source {
                BtfSource::Bundle { entry, kernel, btf } => (
                    vec![
                        "source=bundle".into(),
                        format!("entry={entry}"),
                        format!("arch={}", kernel.arch),
                        format!("uname={}", kernel.uname),
                        format!("os_id={}", kernel.os_id),
                        format!("version_id={}", kernel.version_id),
                        format!("btf_bytes={}", btf.len()),
                        reason,
                    ],
                    btf,
                ),
                BtfSource::Kernel(p) => (
                    vec![
                        "source=kernel".into(),
                        format!("path={}", p.display()),
                        reason,
                    ],
                    Vec::new(),
                ),
                BtfSource::Explicit(p) => (
                    vec![
                        "source=explicit".into(),
                        format!("path={}", p.display()),
                        reason,
                    ],
                    Vec::new(),
                ),
            })
        }
        Err(e) => {
            let name = match &e {
                SelectError::NoMatch { .. } => "COREPACK_ERR_NO_MATCH",
                SelectError::Ambiguous { .. } => "COREPACK_ERR_AMBIGUOUS",
                SelectError::NoKernelBtf { .. } => "COREPACK_ERR_NO_KERNEL_BTF",
                SelectError::Bundle(_) => "COREPACK_ERR_CORRUPT",
            };
            Err(format!(
                "loader: selecting BTF: {name}: {}",
                escape(&e.to_string())
            ))
        }
    }
}

/// The loader on `bundle` with `c` injected (no load): its stdout lines after
/// `program=`, and the BTF it wrote; or its stderr line.
fn c_choice(
    loader: &Path,
    work: &Work,
    c: &Case,
    bundle: &Path,
) -> Result<(Vec<String>, Vec<u8>), String> {
    let btf_out = work.path("chosen.btf");
    let _ = std::fs::remove_file(&btf_out);
    let mut cmd = Command::new(loader);
    cmd.args(["--no-load", "--empty-env", "--bundle"])
        .arg(bundle)
        .args(["--arch", c.arch, "--uname", c.uname, "--policy", c.policy])
        .arg("--btf-out")
        .arg(&btf_out);
    if let Some(text) = c.os_release {
        let f = work.path("os-release");
        std::fs::write(&f, text).unwrap();
        cmd.arg("--os-release").arg(f);
    }
    if let Some(p) = c.kernel_btf {
        cmd.args(["--kernel-btf", p]);
    }
    if let Some(p) = c.explicit {
        cmd.args(["--explicit", p]);
    }
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    if !o.status.success() {
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        return Err(stderr.trim_end().to_string());
    }
    assert!(stderr.is_empty(), "{stderr}");
    let lines: Vec<String> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("program="))
        .skip(1)
        .map(str::to_string)
        .collect();
    Ok((lines, std::fs::read(&btf_out).unwrap_or_default()))
}

#[test]
fn injected_environments_choose_what_rust_selection_chooses() {
    let work = Work::new();
    let c = c_programs(&work);
    let fixture = fixture_bundle(&work);
    let by_os = os_release_bundle(&work);
    let with = |mut c: Case, f: &dyn Fn(&mut Case)| {
        f(&mut c);
        c
    };
    let fixture_cases = [
        case("x86_64", "6.1.0-18-cloud-amd64", DEBIAN_12),
        case("amd64", "5.4.0-42-generic", UBUNTU_2204),
        case("x86_64", "5.4.0-42-generic", UBUNTU_2004),
        // os-release names another distro: the entries share one BTF.
        case("x86_64", "5.4.0-42-generic", FEDORA),
        case("x86_64", "5.4.0-42-generic", None),
        case("arm64", "5.15.0-91-generic", UBUNTU_2204),
        case("x86_64", "6.1.0-17-cloud-amd64", DEBIAN_12),
        case("riscv64", "6.1.0-18-cloud-amd64", DEBIAN_12),
        with(case("x86_64", "6.1.0-18-cloud-amd64", DEBIAN_12), &|c| {
            c.kernel_btf = Some("/k/vmlinux")
        }),
        with(case("x86_64", "6.1.0-18-cloud-amd64", DEBIAN_12), &|c| {
            c.kernel_btf = Some("/k/vmlinux");
            c.explicit = Some("/e/x.btf");
        }),
        with(case("x86_64", "6.1.0-18-cloud-amd64", DEBIAN_12), &|c| {
            c.kernel_btf = Some("/k/vmlinux");
            c.policy = "bundle";
        }),
        with(case("x86_64", "6.1.0-18-cloud-amd64", DEBIAN_12), &|c| {
            c.policy = "kernel"
        }),
    ];
    let os_cases = [
        case("x86_64", "5.4.0-42-generic", UBUNTU_2004),
        case(
            "x86_64",
            "5.4.0-42-generic",
            Some("ID=debian\nVERSION_ID=\"11\"\n"),
        ),
        case(
            "x86_64",
            "5.4.0-42-generic",
            Some("ID=debian\nVERSION_ID=\"12\"\n"),
        ),
        case("x86_64", "5.4.0-42-generic", UBUNTU_1910),
        case("x86_64", "5.4.0-42-generic", None),
        case("x86_64", "5.4.0-42-generic", HOSTILE),
    ];
    let mut outcomes = std::collections::BTreeSet::new();
    for (bundle, cases) in [(&fixture, &fixture_cases[..]), (&by_os, &os_cases[..])] {
        for case in cases {
            let want = rust_expectation(case, bundle);
            let got = c_choice(&c.loader, &work, case, bundle);
            let label = format!(
                "{} {} {:?} policy {}",
                case.arch, case.uname, case.os_release, case.policy
            );
            match (&got, &want) {
                (Ok((got_lines, got_btf)), Ok((want_lines, want_btf))) => {
                    assert_eq!(got_lines, want_lines, "{label}");
                    assert!(
                        got_btf == want_btf,
                        "{label}: the loader wrote other BTF than Rust selected"
                    );
                }
                _ => assert_eq!(got, want, "{label}"),
            }
            outcomes.insert(match &want {
                Ok((lines, _)) => lines[0].clone(),
                Err(e) => e.split(": ").nth(2).unwrap().to_string(),
            });
        }
    }
    // The table reaches every source and every selection error.
    let want: std::collections::BTreeSet<String> = [
        "source=bundle",
        "source=kernel",
        "source=explicit",
        "COREPACK_ERR_NO_MATCH",
        "COREPACK_ERR_AMBIGUOUS",
        "COREPACK_ERR_NO_KERNEL_BTF",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(outcomes, want);
}

#[test]
fn error_codes_from_c() {
    let work = Work::new();
    let c = c_programs(&work);
    let bundle = fixture_bundle(&work);
    let (id, v, _, uname) = FIXTURE_KERNELS[0];
    // Linked statically and against the shared library.
    for program in [c.errors, errors_shared(&work)] {
        let o = Command::new(&program)
            .arg(&bundle)
            .args([uname, id, v])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{}: {stdout}{}",
            program.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.ends_with("all checks passed\n"), "{stdout}");
        assert!(stdout.lines().filter(|l| l.starts_with("ok ")).count() >= 30);
    }
}

/// The loader with `args`, its pid, and its output.
fn run_loader(loader: &Path, args: &[&std::ffi::OsStr]) -> (u32, Output) {
    let child = Command::new(loader)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (pid, child.wait_with_output().unwrap())
}

fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in\n{stdout}"))
}

#[test]
fn loads_and_traces_on_this_machine() {
    if let Some(why) = tracer_unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    let work = Work::new();
    let c = c_programs(&work);
    let clang = require_tool_from("clang", "clang");
    let object = work.path("trace.bpf.o");
    run_ok(
        Command::new(clang)
            .args(["-target", "bpf", "-O2", "-g", "-c"])
            .arg(workspace_root().join("corepack/bpf/trace.bpf.c"))
            .arg("-o")
            .arg(&object),
    );
    let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_string();
    let (id, v) = os_ids();
    let dir = work
        .path("btf")
        .join(&id)
        .join(&v)
        .join(std::env::consts::ARCH);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("/sys/kernel/btf/vmlinux", dir.join(format!("{uname}.btf"))).unwrap();
    let bundle = work.path("this.corepack");
    run_ok(
        Command::new(corepack_bin())
            .args(["build", "--tracer", "--btf-dir"])
            .arg(work.path("btf"))
            .arg("-o")
            .arg(&bundle),
    );
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    for policy in ["bundle", "auto"] {
        let (pid, o) = run_loader(
            &c.loader,
            &[
                "--bundle".as_ref(),
                bundle.as_os_str(),
                "--object".as_ref(),
                object.as_os_str(),
                "--policy".as_ref(),
                policy.as_ref(),
                "--exec".as_ref(),
                "/bin/true".as_ref(),
            ],
        );
        let stdout = String::from_utf8(o.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "policy {policy}:\n{stdout}{stderr}");
        if policy == "bundle" {
            assert_eq!(field(&stdout, "source"), "bundle");
            assert_eq!(field(&stdout, "uname"), uname);
            assert_eq!(field(&stdout, "os_id"), id);
        } else {
            // The kernel has its own BTF: the loader's detection sees it, as Rust's does.
            assert_eq!(field(&stdout, "source"), "kernel");
            assert_eq!(field(&stdout, "path"), "/sys/kernel/btf/vmlinux");
        }
        assert_eq!(field(&stdout, "loaded"), "sched_process_exec");
        assert_eq!(
            field(&stdout, "attached"),
            "tracepoint/sched/sched_process_exec"
        );
        // The exec of /bin/true by the loader: ppid is read through CO-RE.
        let child: u32 = field(&stdout, "event_pid").parse().unwrap();
        assert_ne!(child, pid);
        assert_eq!(field(&stdout, "event_ppid"), pid.to_string(), "{stdout}");
        assert_eq!(field(&stdout, "event_uid"), uid.to_string());
        assert_eq!(field(&stdout, "event_comm"), "true");
        assert_eq!(field(&stdout, "event_filename"), "/bin/true");
    }
}

#[test]
fn library_links_neither_gimli_nor_reqwest() {
    let work = Work::new();
    let c = c_programs(&work);
    let shared = workspace_lib("corepack-c", "libcorepack.so");
    for bin in [&shared, &c.loader] {
        let hits = linked_forbidden(bin, "8corepack");
        assert!(
            hits.is_empty(),
            "{} links {:?}",
            bin.display(),
            &hits[..hits.len().min(5)]
        );
    }
    // The dependency graph agrees (normal dependencies, all targets).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let o = run_ok(
        Command::new(cargo)
            .args([
                "tree",
                "--offline",
                "-p",
                "corepack-c",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .arg("--manifest-path")
            .arg(workspace_root().join("Cargo.toml")),
    );
    let tree = String::from_utf8(o.stdout).unwrap();
    assert!(tree.contains("corepack v"), "{tree}");
    for name in ["gimli ", "reqwest ", "aya "] {
        assert!(
            !tree.lines().any(|l| l.starts_with(name)),
            "{name}in\n{tree}"
        );
    }
}
