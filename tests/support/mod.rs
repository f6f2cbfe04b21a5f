//! Test support for the oracle tests: compile C fixtures with gcc/clang, run
//! pahole and btfgen on the same object, compare the results through an
//! independent BTF reader (btf-rs), and let the kernel judge btfgen's output.
//!
//! Every external tool is required: when one is missing the test fails and
//! names the Debian package to install (`.ci/run` installs them all).

pub mod canon;
pub mod compare;
pub mod kernel;
pub mod links;
pub mod repo_fixtures;
pub mod repo_server;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub use canon::{diff_lines, diff_strings, Canon};
pub use kernel::{load_btf_into_kernel, try_load_btf, Load};
use tempfile::TempDir;

/// Debian package providing each external tool.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "gcc" => "gcc",
        "clang" => "clang",
        "ld" | "readelf" => "binutils",
        "pahole" => "dwarves",
        "bpftool" => "bpftool",
        "llvm-objcopy" => "llvm",
        "apt-get" => "apt",
        "dpkg-deb" => "dpkg",
        _ => "(unknown package)",
    }
}

/// Panic unless `tool` is on PATH (or in /usr/sbin, /sbin: bpftool lives there on
/// Debian, off a user's PATH), naming the Debian package to install.  Returns the path
/// to run.
pub fn require_tool(tool: &str) -> PathBuf {
    require_tool_from(tool, package_of(tool))
}

/// The GNU build-id `readelf -n` (binutils, the oracle) reads in `elf`, in hex; `None`
/// when it shows none.
pub fn readelf_build_id(elf: &Path) -> Option<String> {
    let o = run_ok(Command::new(require_tool("readelf")).arg("-n").arg(elf));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Build ID: "))
        .collect();
    assert!(
        ids.len() <= 1,
        "{}: several build-ids:\n{text}",
        elf.display()
    );
    ids.first().map(|s| s.trim().to_string())
}

/// Run a command, panicking with its stderr if it cannot start or fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    if !out.status.success() {
        panic!(
            "{shown} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate has a parent")
        .to_path_buf()
}

/// `fixtures/` at the workspace root.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("fixtures")
}

/// A C compiler the fixtures are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cc {
    Gcc,
    Clang,
}

impl Cc {
    pub fn name(self) -> &'static str {
        match self {
            Cc::Gcc => "gcc",
            Cc::Clang => "clang",
        }
    }
}

/// A fixture set: C sources (relative to `fixtures/`) that end up in one
/// relocatable object (several sources are linked with `ld -r`, the way
/// kbuild links a multi-file module before modpost).
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub name: &'static str,
    pub sources: &'static [&'static str],
    /// Only meaningful with clang (btf_type_tag/btf_decl_tag).
    pub clang_only: bool,
}

/// Every fixture set, by name.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "bitfields",
        sources: &["bitfields.c"],
        clang_only: false,
    },
    Fixture {
        name: "arrays",
        sources: &["arrays.c"],
        clang_only: false,
    },
    Fixture {
        name: "enums",
        sources: &["enums.c"],
        clang_only: false,
    },
    Fixture {
        name: "scalars",
        sources: &["scalars.c"],
        clang_only: false,
    },
    Fixture {
        name: "funcs",
        sources: &["funcs.c"],
        clang_only: false,
    },
    Fixture {
        name: "percpu",
        sources: &["percpu.c"],
        clang_only: false,
    },
    Fixture {
        name: "demo",
        sources: &["demo.c"],
        clang_only: false,
    },
    Fixture {
        name: "multi",
        sources: &["multi/netdev.c", "multi/skbuff.c"],
        clang_only: false,
    },
    // Everything (but the clang-only tags) in one object: the same names
    // (u32, list_head, ...) come from many CUs, some identical and some
    // different, as in a vmlinux.
    Fixture {
        name: "combined",
        sources: &[
            "bitfields.c",
            "arrays.c",
            "enums.c",
            "scalars.c",
            "funcs.c",
            "percpu.c",
            "demo.c",
            "multi/netdev.c",
            "multi/skbuff.c",
        ],
        clang_only: false,
    },
    Fixture {
        name: "tags",
        sources: &["tags.c"],
        clang_only: true,
    },
];

pub fn fixture(name: &str) -> Fixture {
    *FIXTURES
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture set named {name}"))
}

/// A scratch directory that lives as long as the value, holding an object
/// and whatever outputs a test writes next to it.
pub struct Work {
    dir: TempDir,
    /// The compiled object (after `compile`), else empty.
    pub obj: PathBuf,
}

impl Work {
    pub fn new() -> Work {
        let dir = tempfile::Builder::new()
            .prefix("btfgen-test-")
            .tempdir()
            .expect("create a temporary directory");
        Work {
            dir,
            obj: PathBuf::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for Work {
    fn default() -> Self {
        Self::new()
    }
}

/// Compile `sources` (relative to `fixtures/`) with `cc` at DWARF version
/// `dwarf` into one relocatable object in a fresh temporary directory.
/// Flags are the kbuild-ish `-O2 -g -gdwarf-N -fno-common
/// -fno-strict-aliasing` (plus `-fno-inline-functions-called-once` for gcc,
/// as kbuild uses with some configs), so there is inlining, but every
/// function that has a symbol also has a DWARF subprogram.
pub fn compile(cc: Cc, dwarf: u8, sources: &[&str]) -> Work {
    let compiler = require_tool(cc.name());
    let mut w = Work::new();
    let mut objs = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let src_path = fixtures_dir().join(src);
        assert!(
            src_path.is_file(),
            "fixture {} is missing",
            src_path.display()
        );
        let stem = Path::new(src)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let obj = w.path(&format!("{i}-{stem}.o"));
        let mut cmd = Command::new(&compiler);
        cmd.args(["-c", "-O2", "-g", &format!("-gdwarf-{dwarf}")])
            .args([
                "-std=gnu11",
                "-fno-common",
                "-fno-strict-aliasing",
                "-Wall",
                "-Wno-unused",
            ])
            .arg("-o")
            .arg(&obj)
            .arg(&src_path);
        if cc == Cc::Gcc {
            cmd.arg("-fno-inline-functions-called-once");
        }
        run_ok(&mut cmd);
        objs.push(obj);
    }
    let name = sources
        .first()
        .map(|s| {
            Path::new(s)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let out = w.path(&format!("{name}-{}-dwarf{dwarf}.o", cc.name()));
    if objs.len() == 1 {
        fs::rename(&objs[0], &out).expect("rename object");
    } else {
        let ld = require_tool("ld");
        run_ok(Command::new(ld).arg("-r").arg("-o").arg(&out).args(&objs));
    }
    w.obj = out;
    w
}

/// Compile a fixture set.
pub fn compile_fixture(cc: Cc, dwarf: u8, f: &Fixture) -> Work {
    compile(cc, dwarf, f.sources)
}

/// Run pahole 1.30 (Debian 13's, [`trixie`]: what today's kernels are built with,
/// and whose defaults btfgen's are) as `pahole EXTRA --btf_encode_detached=OUT FILE`
/// and return the BTF it wrote.
pub fn pahole(file: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let tool = trixie().join("pahole");
    let mut cmd = Command::new(tool);
    cmd.args(extra)
        .arg(format!("--btf_encode_detached={}", out.display()))
        .arg(file);
    let o = run_ok(&mut cmd);
    // pahole reports some problems on stderr but still exits 0.
    let stderr = String::from_utf8_lossy(&o.stderr);
    if !stderr.trim().is_empty() {
        eprintln!("pahole stderr for {}: {stderr}", file.display());
    }
    fs::read(out).unwrap_or_else(|e| panic!("pahole wrote no {}: {e}", out.display()))
}

/// pahole 1.30's default feature set, btfgen's default: `--btf_features=default`.
pub const PAHOLE_DEFAULT: &[&str] = &["--btf_features=default"];

/// pahole 1.30's default features, in its order (`--btf_features=default`).
pub const PAHOLE_DEFAULT_FEATURES: [&str; 9] = [
    "encode_force",
    "var",
    "float",
    "decl_tag",
    "type_tag",
    "enum64",
    "optimized_func",
    "consistent_func",
    "decl_tag_kfuncs",
];

/// pahole 1.30's default feature list without `off` (pahole's feature names),
/// comma-separated.
pub fn pahole_default_without(off: &[&str]) -> String {
    PAHOLE_DEFAULT_FEATURES
        .iter()
        .filter(|f| !off.contains(f))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

/// pahole's switch for its 1.30 default features but `without`.
pub fn pahole_features_without(without: &str) -> String {
    format!("--btf_features={}", pahole_default_without(&[without]))
}

/// Where the btfgen binary is: `$BTFGEN_BIN`, else
/// `<target>/<profile>/btfgen` for the profile these tests were built with
/// (`<target>` is `$CARGO_TARGET_DIR` or `<workspace>/target`).
///
/// `cargo test --workspace` does not build btfgen's binary (cargo only does
/// that for a package's own integration tests), so when run under cargo
/// (`$CARGO` set) this first runs `cargo build [--release] -p btfgen --bin
/// btfgen`, once per test process.  Cargo releases its build lock before
/// running tests, so this does not deadlock, and it keeps the binary in step
/// with the sources.
pub fn btfgen_bin() -> PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let bin = workspace_bin("btfgen", "btfgen", "BTFGEN_BIN");
            if std::env::var_os("BTFGEN_BIN").is_none() {
                warn_if_stale(
                    &bin,
                    if cfg!(debug_assertions) {
                        ""
                    } else {
                        " --release"
                    },
                );
            }
            bin
        })
        .clone()
}

/// Warn (not fail: the encoder may be edited while tests run) when a source
/// of btfgen is newer than the binary under test.
fn warn_if_stale(bin: &Path, flag: &str) {
    let Ok(bin_time) = fs::metadata(bin).and_then(|m| m.modified()) else {
        return;
    };
    let mut stack = vec![workspace_root().join("btfgen")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension() == Some(OsStr::new("rs")) || p.ends_with("Cargo.toml") {
                if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                    if t > bin_time {
                        eprintln!(
                            "warning: {} is newer than {}; run `cargo build{flag} -p btfgen`",
                            p.display(),
                            bin.display()
                        );
                        return;
                    }
                }
            }
        }
    }
}

/// Run btfgen with `args`, returning its output whatever the exit status.
pub fn btfgen<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = btfgen_bin();
    Command::new(&bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Run `btfgen FILE -o OUT EXTRA...` and require success; returns the bytes
/// written.
pub fn btfgen_ok(file: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<&OsStr> = vec![file.as_os_str(), OsStr::new("-o"), out.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let o = btfgen(&args);
    if !o.status.success() {
        panic!(
            "btfgen {} failed ({})\n--- stderr ---\n{}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    fs::read(out).unwrap_or_else(|e| panic!("btfgen wrote no {}: {e}", out.display()))
}

/// Assert that `actual` describes the same types as `expected` (pahole's),
/// through btf-rs, as multisets of canonical lines, and that the two string
/// tables hold the same strings.  Panics with a readable diff.
pub fn assert_same_btf(expected_label: &str, expected: &[u8], actual_label: &str, actual: &[u8]) {
    let e = Canon::from_bytes(expected)
        .unwrap_or_else(|err| panic!("{expected_label}: cannot parse BTF: {err}"));
    let a = Canon::from_bytes(actual)
        .unwrap_or_else(|err| panic!("{actual_label}: cannot parse BTF: {err}"));
    assert_same_canon(expected_label, &e, &e.lines, actual_label, &a);
}

/// [`assert_same_btf`] for split BTF (a module's types on top of `base`).
pub fn assert_same_split_btf(
    expected_label: &str,
    expected: &[u8],
    actual_label: &str,
    actual: &[u8],
    base: &[u8],
) {
    let e = Canon::from_split_bytes(expected, base)
        .unwrap_or_else(|err| panic!("{expected_label}: cannot parse split BTF: {err}"));
    let a = Canon::from_split_bytes(actual, base)
        .unwrap_or_else(|err| panic!("{actual_label}: cannot parse split BTF: {err}"));
    assert_same_canon(expected_label, &e, &e.lines, actual_label, &a);
}

/// Like [`assert_same_btf`] with an explicit expected line list (e.g. a
/// filtered view of pahole's output).
pub fn assert_same_canon(
    expected_label: &str,
    e: &Canon,
    expected_lines: &[String],
    actual_label: &str,
    a: &Canon,
) {
    let mut report = String::new();
    if let Err(d) = diff_lines(expected_label, expected_lines, actual_label, &a.lines, 40) {
        report.push_str(&d);
    }
    if expected_lines.len() == e.lines.len() {
        if let Err(d) = diff_strings(expected_label, e, actual_label, a) {
            report.push_str(&d);
        }
    }
    if !report.is_empty() {
        panic!("{report}");
    }
}

/// `bpftool btf dump file PATH` (any format bpftool detects: raw or ELF).
pub fn bpftool_dump(path: &Path) -> Result<String, String> {
    let tool = require_tool("bpftool");
    let o = Command::new(tool)
        .args(["btf", "dump", "file"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run bpftool: {e}"))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(format!(
            "bpftool btf dump file {} failed ({}): {}",
            path.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// Contents of section `name` of the ELF file at `path`, read with the
/// `object` crate.
pub fn elf_section(path: &Path, name: &str) -> Result<Vec<u8>, String> {
    use object::{Object, ObjectSection};
    let data = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = object::File::parse(&*data)
        .map_err(|e| format!("{}: not an object file: {e}", path.display()))?;
    let sec = file
        .section_by_name(name)
        .ok_or_else(|| format!("{}: no {name} section", path.display()))?;
    sec.data()
        .map(<[u8]>::to_vec)
        .map_err(|e| format!("{}: cannot read {name}: {e}", path.display()))
}

/// The BTF of a file: raw BTF, or the `.BTF` section of an ELF file.
pub fn read_btf(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.starts_with(b"\x7fELF") {
        elf_section(path, ".BTF")
    } else {
        Ok(bytes)
    }
}

/// The canonical form of the BTF in `path` (split on the BTF in `base`, if given; a
/// module ELF with `.BTF.base` and no `base` is split on its distilled base).
pub fn read_canon(path: &Path, base: Option<&Path>) -> Result<Canon, String> {
    let bytes = read_btf(path)?;
    match base {
        Some(b) => Canon::from_split_bytes(&bytes, &read_btf(b)?),
        None => match elf_section(path, ".BTF.base") {
            Ok(distilled) => Canon::from_split_bytes(&bytes, &distilled),
            Err(_) => Canon::from_bytes(&bytes),
        },
    }
}

/// Debian 12's newest 6.1 kernel of `flavor` (`cloud-amd64`, `rt-amd64`), fetched with
/// `apt-get download` and cached by scripts/debian-kernel.sh: the directory holding
/// `vmlinux` (with Debian's own `.BTF`), `nf_conntrack.ko`, `PACKAGE` (the package
/// name) and `dl/` (the .deb). Once per flavor and test process.
pub fn debian_kernel(flavor: &str) -> PathBuf {
    debian_kernel_series("6.1", flavor)
}

/// As [`debian_kernel`], for another kernel series Debian 12 ships (`6.12`: the
/// linux-image-6.12.N+deb12-FLAVOR-dbg backports).
pub fn debian_kernel_series(series: &str, flavor: &str) -> PathBuf {
    static DIRS: OnceLock<std::sync::Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let mut dirs = DIRS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    dirs.entry(format!("{series} {flavor}"))
        .or_insert_with(|| {
            require_tool("apt-get");
            require_tool("dpkg-deb");
            let o = run_ok(
                Command::new("bash")
                    .arg(workspace_root().join("scripts/debian-kernel.sh"))
                    .arg(flavor)
                    .env("SERIES", series),
            );
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
        })
        .clone()
}

/// Debian 13's oracles, fetched with apt-get from the system's Debian mirror (suite
/// trixie) and cached by scripts/trixie.sh: the directory holding `pahole` (a wrapper
/// running trixie's pahole 1.30), `vmlinux` (the newest 6.12 cloud kernel, with the
/// `.BTF` Debian's build made with pahole 1.30), `nf_conntrack.ko` and `PACKAGE`. Once
/// per test process; a package that cannot be had fails the test, naming it.
pub fn trixie() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        require_tool("apt-get");
        require_tool("dpkg-deb");
        let o = run_ok(Command::new("bash").arg(workspace_root().join("scripts/trixie.sh")));
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
    })
    .clone()
}

/// Compiles the BPF C file `src` with `clang -target bpf -O2 -g` into `out`, with `inc`
/// (where a vmlinux.h lies) on the include path.
pub fn bpf_object(src: &Path, inc: &Path, out: &Path) {
    run_ok(
        Command::new(require_tool("clang"))
            .args([
                "-target",
                "bpf",
                "-O2",
                "-g",
                "-D__TARGET_ARCH_x86",
                "-c",
                "-I",
            ])
            .arg(inc)
            .arg(src)
            .arg("-o")
            .arg(out),
    );
}

/// fixtures/demo.c compiled with gcc -g (DWARF 5): the "vmlinux" the package and fetch
/// tests put into packages, and the BTF `btfgen` makes of it.
pub struct DemoVmlinux {
    /// Holds the object (`work.obj`) and `reference.btf`.
    pub work: Work,
    /// `btfgen` on the object.
    pub reference: Vec<u8>,
}

/// Builds the [`DemoVmlinux`].
pub fn demo_vmlinux() -> DemoVmlinux {
    let work = compile(Cc::Gcc, 5, &["demo.c"]);
    let out = work.path("reference.btf");
    run_ok(
        Command::new(btfgen_bin())
            .arg(&work.obj)
            .arg("-o")
            .arg(&out),
    );
    let reference = fs::read(&out).expect("read the reference BTF");
    assert!(reference.len() > 24, "reference BTF is empty");
    DemoVmlinux { work, reference }
}

/// Where the binary `bin` of workspace package `package` is, built as [`btfgen_bin`]
/// builds btfgen's: `$ENV_VAR` if set, else `cargo build [--release] -p PACKAGE --bin
/// BIN` (under cargo) into `<target>/<profile>/BIN`. Once per binary and test process.
pub fn workspace_bin(package: &str, bin: &str, env_var: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}={} does not exist", p.display());
        return p;
    }
    workspace_artifact(package, &["--bin", bin], bin)
}

/// The file `file` (`libcorepack.a`) that `cargo build [--release] -p PACKAGE --lib`
/// makes in `<target>/<profile>/`, built as [`workspace_bin`] builds binaries.
pub fn workspace_lib(package: &str, file: &str) -> PathBuf {
    workspace_artifact(package, &["--lib"], file)
}

/// `cargo build -p PACKAGE TARGET_ARGS` (under cargo, in this build's profile and
/// target directory; once per package, arguments and test process), then the path of
/// `file` in `<target>/<profile>/`.
fn workspace_artifact(package: &str, target_args: &[&str], file: &str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    built
        .entry(format!("{package} {target_args:?} {file}"))
        .or_insert_with(|| {
            let release = !cfg!(debug_assertions);
            let profile = if release { "release" } else { "debug" };
            let flag = if release { " --release" } else { "" };
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from))
                .unwrap_or_else(|| workspace_root().join("target"));
            let target = if target.is_relative() {
                workspace_root().join(target)
            } else {
                target
            };
            if let Some(cargo) = std::env::var_os("CARGO") {
                let mut cmd = Command::new(cargo);
                cmd.args(["build", "-p", package])
                    .args(target_args)
                    .arg("--manifest-path")
                    .arg(workspace_root().join("Cargo.toml"))
                    .env("CARGO_TARGET_DIR", &target);
                if release {
                    cmd.arg("--release");
                }
                let o = cmd
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
                if !o.status.success() {
                    panic!(
                        "building {file} failed ({cmd:?}):\n{}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                }
            }
            let path = target.join(profile).join(file);
            if !path.is_file() {
                panic!(
                    "{file} not found at {}: run `cargo build{flag} -p {package}` first",
                    path.display()
                );
            }
            path
        })
        .clone()
}

/// The corepack binary (`$COREPACK_BIN`, else built as [`workspace_bin`] does).
pub fn corepack_bin() -> PathBuf {
    workspace_bin("corepack", "corepack", "COREPACK_BIN")
}

/// Panic unless `tool` is on PATH (or in /usr/sbin, /sbin), naming the Debian
/// `package` that provides it. Returns the path to run.
pub fn require_tool_from(tool: &str, package: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.push("/sbin".into());
    for d in dirs {
        let p = d.join(tool);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{tool}` not found: install the Debian package {package} (apt-get install {package}); \
         .ci/run installs every tool these tests need"
    );
}

/// This machine's os-release ID and VERSION_ID as a bundle directory names them.
pub fn os_ids() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let id = corepack::os_release_field(&text, "ID");
    let v = corepack::os_release_field(&text, "VERSION_ID");
    (
        if id.is_empty() { "linux".into() } else { id },
        if v.is_empty() { "0".into() } else { v },
    )
}
