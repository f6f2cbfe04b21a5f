//! Module BTF end to end on Debian 12's 6.1 cloud kernel (`linux-image-6.1.0-N-cloud-amd64-dbg`,
//! cached by scripts/debian-kernel.sh):
//!
//! - `btfgen PACKAGE --modules nf_conntrack,overlay` writes the vmlinux BTF and, beside
//!   it, `<uname -r>/modules/<m>.btf`; each module is the split BTF `btfgen M.ko --base
//!   <uname -r>.btf` makes of the module extracted by dpkg, byte for byte, and bpftool
//!   reads it on that base;
//! - `btfgen min` over that layout writes one standalone BTF (no module file of its
//!   own) on which libbpf (`btf_custom_path`) patches, relocation for relocation, the
//!   values the full vmlinux + module split BTF gives: as `btfgen check` computes them
//!   on the layout and with `--module-btf`, and as bpftool's listings of Debian's own
//!   .BTF of the vmlinux and of nf_conntrack.ko lay the types out (`nf_conn` is
//!   vmlinux's, `nf_conntrack_helper` and `nf_conn_tstamp` the module's); the running
//!   kernel accepts it (BPF_BTF_LOAD);
//! - from an RPM kernel-debuginfo package as Fedora and RHEL build them (the vmlinux and
//!   the modules' debug-only `NAME.ko.debug`, made by `eu-strip --reloc-debug-sections
//!   -f` as find-debuginfo does for modules, by plain `eu-strip -f` and by `objcopy
//!   --only-keep-debug`; and the modules compressed, `.ko.xz`), `btfgen RPM --modules`
//!   writes for nf_conntrack and kvm (per-CPU variables) each the BTF of the .deb's
//!   module byte for byte, with no type, VAR or DATASEC difference from the .BTF
//!   Debian's build put in the module; a debug-only file alone is refused (its kfunc
//!   sets cannot be read);
//! - in qemu, Debian's 6.1 kernel with nf_conntrack loaded: libbpf patches the same
//!   values with the minimized BTF as with the kernel's own vmlinux and nf_conntrack
//!   BTF, and the program loads (scripts/qemu-modules.sh).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use btfgen_tests::compare::Comparison;
use btfgen_tests::{
    btfgen, btfgen_bin, corepack_bin, debian_kernel, fixtures_dir, read_canon, require_tool,
    require_tool_from, run_ok, try_load_btf, workspace_root, Load,
};

/// The fixture program and libbpf's relocation oracle, built in `dir`.
fn build(dir: &Path) -> (PathBuf, PathBuf) {
    let bpftool = require_tool("bpftool");
    let h = run_ok(Command::new(bpftool).args([
        "btf",
        "dump",
        "file",
        "/sys/kernel/btf/vmlinux",
        "format",
        "c",
    ]));
    fs::write(dir.join("vmlinux.h"), &h.stdout).unwrap();
    let obj = dir.join("module.bpf.o");
    btfgen_tests::bpf_object(&fixtures_dir().join("bpf/module.bpf.c"), dir, &obj);
    let oracle = dir.join("oracle");
    run_ok(
        Command::new(require_tool("cc"))
            .args(["-O2", "-o"])
            .arg(&oracle)
            .arg(fixtures_dir().join("bpf/relo_oracle.c"))
            .arg("-lbpf"),
    );
    (obj, oracle)
}

/// libbpf's patched values of `obj` on `btf`: (program, relo #) → value.
fn libbpf(oracle: &Path, obj: &Path, btf: &Path) -> BTreeMap<(String, u64), u64> {
    let out = run_ok(Command::new(oracle).arg(obj).arg(btf));
    let log = String::from_utf8_lossy(&out.stdout);
    let mut values = BTreeMap::new();
    for line in log.lines() {
        assert!(!line.contains("failed to relocate"), "libbpf: {line}");
        let Some((prog, rest)) = line
            .split_once("prog '")
            .and_then(|(_, r)| r.split_once("': relo #"))
        else {
            continue;
        };
        let Some((idx, what)) = rest.split_once(": ") else {
            continue;
        };
        if what.contains(" mem_sz ") || !what.starts_with("patched insn #") {
            assert!(!what.starts_with("substituting insn"), "poisoned: {line}");
            continue;
        }
        let v = what.rsplit("-> ").next().unwrap().trim().parse().unwrap();
        values.insert((prog.to_string(), idx.parse().unwrap()), v);
    }
    assert!(!values.is_empty(), "no relocations in libbpf's log:\n{log}");
    values
}

/// `btfgen check --json ARGS`: (program, relo #) → value; every relocation resolves.
fn check(args: &[&std::ffi::OsStr]) -> BTreeMap<(String, u64), u64> {
    let o = btfgen([&["check".as_ref(), "--json".as_ref()][..], args].concat());
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "check: {text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let field = |l: &str, k: &str| -> Option<String> {
        let rest = &l[l.find(&format!("\"{k}\":"))? + k.len() + 3..];
        let rest = rest.trim_start_matches('"');
        Some(rest[..rest.find(['"', ',', '}'])?].to_string())
    };
    text.lines()
        .filter_map(|l| {
            let prog = field(l, "program")?;
            let relo = field(l, "relo")?.parse().ok()?;
            Some(((prog, relo), field(l, "value")?.parse().ok()?))
        })
        .collect()
}

/// The byte offset of member `member` of struct `name` in bpftool's listing `dump`.
fn listed_offset(dump: &str, name: &str, member: &str) -> u64 {
    let s = dump
        .split(&format!("STRUCT '{name}' "))
        .nth(1)
        .unwrap_or_else(|| panic!("no struct {name} in bpftool's listing"));
    let bits: u64 = s
        .split(&format!("'{member}' "))
        .nth(1)
        .and_then(|s| s.split("bits_offset=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no member {member} of {name}"));
    bits / 8
}

/// `btfgen PACKAGE --modules nf_conntrack,overlay` on Debian's 6.1 cloud -dbg package,
/// once per test process (both tests use it).
struct Layout {
    /// The -dbg package's cache directory (vmlinux, nf_conntrack.ko, dl/*.deb).
    deb_dir: PathBuf,
    /// Scratch for the tests (under cargo's per-target temporary directory).
    dir: PathBuf,
    /// `dir/btf`, the layout's root.
    root: PathBuf,
    /// `root/debian/12/x86_64/<uname -r>.btf`.
    vmlinux: PathBuf,
    uname: String,
}

fn layout() -> &'static Layout {
    static L: OnceLock<Layout> = OnceLock::new();
    L.get_or_init(|| {
        let deb_dir = debian_kernel("cloud-amd64");
        let pkg = fs::read_dir(deb_dir.join("dl"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .expect("the cached -dbg package");
        let name = fs::read_to_string(deb_dir.join("PACKAGE")).unwrap();
        let uname = name
            .trim()
            .trim_start_matches("linux-image-")
            .trim_end_matches("-dbg")
            .to_string();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("modules");
        let _ = fs::remove_dir_all(&dir);
        let root = dir.join("btf");
        let arch = root.join("debian/12/x86_64");
        fs::create_dir_all(&arch).unwrap();
        let vmlinux = arch.join(format!("{uname}.btf"));
        let enc = btfgen([
            pkg.as_os_str(),
            "--modules".as_ref(),
            "nf_conntrack,overlay".as_ref(),
            "-o".as_ref(),
            vmlinux.as_os_str(),
        ]);
        assert!(
            enc.status.success(),
            "{}",
            String::from_utf8_lossy(&enc.stderr)
        );
        Layout {
            deb_dir,
            dir,
            root,
            vmlinux,
            uname,
        }
    })
}

#[test]
fn package_modules_minimized_into_one_standalone_btf_on_debian_6_1() {
    let Layout {
        deb_dir,
        dir,
        root,
        vmlinux,
        uname,
    } = layout();
    let uname = uname.as_str();
    let layout = vmlinux.parent().unwrap();
    let mods = layout.join(uname).join("modules");
    let mut written: Vec<_> = fs::read_dir(&mods)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["nf_conntrack.btf", "overlay.btf"]);

    // The package's module is the module file's, encoded on the package's vmlinux BTF.
    let direct = dir.join("nf_conntrack.direct.btf");
    let o = btfgen([
        deb_dir.join("nf_conntrack.ko").as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "-o".as_ref(),
        direct.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ct = mods.join("nf_conntrack.btf");
    assert!(
        fs::read(&direct).unwrap() == fs::read(&ct).unwrap(),
        "the package's nf_conntrack BTF differs from btfgen nf_conntrack.ko --base"
    );
    // bpftool reads it on that base, with the module's own types.
    let listing = |args: &[&std::ffi::OsStr]| {
        let o = run_ok(
            Command::new(require_tool("bpftool"))
                .args(["btf", "dump"])
                .args(args),
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let ours = listing(&[
        "-B".as_ref(),
        vmlinux.as_os_str(),
        "file".as_ref(),
        ct.as_os_str(),
    ]);
    assert!(ours.contains("STRUCT 'nf_conntrack_helper' "));
    // The layouts, independently: bpftool's listings of the .BTF Debian's build put in
    // nf_conntrack.ko (on its vmlinux's .BTF) and in the vmlinux.
    let (dv, dk) = (deb_dir.join("vmlinux"), deb_dir.join("nf_conntrack.ko"));
    let dump = listing(&[
        "-B".as_ref(),
        dv.as_os_str(),
        "file".as_ref(),
        dk.as_os_str(),
    ]);
    let vdump = listing(&["file".as_ref(), dv.as_os_str()]);

    let (obj, oracle) = build(dir);
    // min over the layout: one file per kernel, none for its modules.
    let out = dir.join("min");
    let m = btfgen([
        "min".as_ref(),
        "--btf".as_ref(),
        root.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        obj.as_os_str(),
    ]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let small = out.join(format!("debian/12/x86_64/{uname}.btf"));
    assert!(small.is_file());
    assert!(
        !out.join(format!("debian/12/x86_64/{uname}")).exists(),
        "min wrote something for the modules"
    );

    // The full vmlinux + module split BTF, as btfgen check reads it (layout and flags).
    let on_layout = check(&[
        obj.as_os_str(),
        "--btf".as_ref(),
        dir.join("btf").as_os_str(),
    ]);
    let flagged = check(&[
        obj.as_os_str(),
        "--btf".as_ref(),
        vmlinux.as_os_str(),
        "--module-btf".as_ref(),
        ct.as_os_str(),
        "--module-btf".as_ref(),
        mods.join("overlay.btf").as_os_str(),
    ]);
    assert_eq!(on_layout, flagged);
    // libbpf on the standalone minimized BTF.
    let lib = libbpf(&oracle, &obj, &small);
    eprintln!("libbpf on the minimized BTF: {lib:?}");
    assert_eq!(
        lib, on_layout,
        "libbpf on the minimized BTF vs the full BTF"
    );
    let prog = |i: u64| lib[&("module_types".to_string(), i)];
    assert_eq!(
        prog(0),
        listed_offset(&dump, "nf_conntrack_helper", "data_len"),
        "nf_conntrack_helper->data_len"
    );
    assert_eq!(
        prog(2),
        listed_offset(&dump, "nf_conn_tstamp", "stop"),
        "nf_conn_tstamp->stop"
    );
    assert!(dump.contains(&format!("STRUCT 'nf_conn_tstamp' size={} ", prog(3))));
    assert_eq!(prog(4), 1, "nf_conntrack_helper exists");
    // nf_conn is vmlinux's (searched first), moved from the local one: the minimized
    // BTF holds vmlinux and module types.
    let conn = |m| listed_offset(&vdump, "nf_conn", m);
    assert_eq!(
        (prog(5), prog(6)),
        (conn("status"), conn("mark")),
        "nf_conn"
    );
    assert!(vdump.contains(&format!("STRUCT 'nf_conn' size={} ", prog(7))));
    assert!(
        !dump.contains("STRUCT 'nf_conn' "),
        "nf_conn is no module type"
    );
    assert_ne!(
        prog(5),
        0,
        "the local nf_conn has status at 0: it must move"
    );
    // The vmlinux alone (out of the layout, so without its modules) lacks the module's
    // types.
    let alone_btf = dir.join(format!("{uname}.btf"));
    fs::copy(vmlinux, &alone_btf).unwrap();
    let alone = btfgen([
        "check".as_ref(),
        obj.as_os_str(),
        "--btf".as_ref(),
        alone_btf.as_os_str(),
    ]);
    assert_eq!(
        alone.status.code(),
        Some(1),
        "relocations fail without the module"
    );
    // corepack build takes the module from the layout: the bundle's entry, as
    // `corepack select` writes it, gives libbpf the same values.
    let bundle = dir.join("module.corepack");
    let corepack = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(corepack_bin()).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "corepack {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    corepack(&[
        "build".as_ref(),
        "--object".as_ref(),
        obj.as_os_str(),
        "--btf-dir".as_ref(),
        root.as_os_str(),
        "-o".as_ref(),
        bundle.as_os_str(),
    ]);
    let os_release = dir.join("os-release");
    fs::write(&os_release, "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    let selected = dir.join("selected.btf");
    corepack(&[
        "select".as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--uname".as_ref(),
        uname.as_ref(),
        "--arch".as_ref(),
        "x86_64".as_ref(),
        "--os-release".as_ref(),
        os_release.as_os_str(),
        "--build-id".as_ref(),
        "none".as_ref(),
        "--sys-btf".as_ref(),
        "none".as_ref(),
        "-o".as_ref(),
        selected.as_os_str(),
    ]);
    assert_eq!(libbpf(&oracle, &obj, &selected), lib, "the bundle's entry");
    // The kernel takes the minimized BTF as it is.
    match try_load_btf(&fs::read(&small).unwrap()) {
        Load::Loaded => {}
        Load::Skip(why) => eprintln!("skipping: {why}"),
        Load::Rejected(log) => panic!("the kernel rejected the minimized BTF: {log}"),
    }
}

/// The module files an RPM kernel-debuginfo package holds, made from Debian's module
/// `ko` (`NAME.ko`) in `dir`, each under the module name it is packed as: `NAME.ko.debug`
/// as find-debuginfo makes them (`eu-strip --remove-comment --reloc-debug-sections
/// -f`: the relocations against DWARF sections applied, those against code and data
/// kept), `NAME-eu.ko.debug` by plain `eu-strip -f`, `NAME_objcopy.ko.debug` by
/// `objcopy --only-keep-debug`, and the module itself compressed as distributions ship
/// modules, `NAME_xz.ko.xz`. Code and data are `SHT_NOBITS` in the debug-only files.
fn rpm_module_files(ko: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    fs::create_dir_all(dir).unwrap();
    let (eu_strip, objcopy) = (
        require_tool_from("eu-strip", "elfutils"),
        require_tool_from("objcopy", "binutils"),
    );
    let name = ko.file_stem().unwrap().to_string_lossy().into_owned();
    let copy = dir.join(format!("{name}.ko"));
    fs::copy(ko, &copy).unwrap();
    let stripped = dir.join(format!("{name}.stripped"));
    let eu = |extra: &[&str], out: &Path| {
        run_ok(
            Command::new(&eu_strip)
                .args(extra)
                .arg("-f")
                .arg(out)
                .arg("-o")
                .arg(&stripped)
                .arg(&copy),
        );
    };
    let reloc = dir.join(format!("{name}.ko.debug"));
    eu(&["--remove-comment", "--reloc-debug-sections"], &reloc);
    let plain = dir.join(format!("{name}-eu.ko.debug"));
    eu(&[], &plain);
    let keep = dir.join(format!("{name}_objcopy.ko.debug"));
    run_ok(
        Command::new(objcopy)
            .arg("--only-keep-debug")
            .arg(&copy)
            .arg(&keep),
    );
    let xz = dir.join(format!("{name}_xz.ko.xz"));
    let o = run_ok(
        Command::new(require_tool_from("xz", "xz-utils"))
            .args(["-0", "-c"])
            .arg(&copy),
    );
    fs::write(&xz, o.stdout).unwrap();
    [
        (name.clone(), reloc),
        (format!("{name}_eu"), plain),
        (format!("{name}_objcopy"), keep),
        (format!("{name}_xz"), xz),
    ]
    .into()
}

/// Debian's kvm.ko of the kernel `uname`, which has per-CPU variables
/// (`.data..percpu`), out of the cached -dbg package into `dir`.
fn debian_kvm(deb_dir: &Path, uname: &str, dir: &Path) -> PathBuf {
    require_tool_from("dpkg-deb", "dpkg");
    fs::create_dir_all(dir).unwrap();
    let pkg = fs::read_dir(deb_dir.join("dl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("the cached -dbg package");
    let member = format!("./usr/lib/debug/lib/modules/{uname}/kernel/arch/x86/kvm/kvm.ko");
    run_ok(
        Command::new("bash")
            .args([
                "-c",
                "set -o pipefail; dpkg-deb --fsys-tarfile \"$1\" | tar -x -C \"$2\" \"$3\"",
                "-",
            ])
            .arg(pkg)
            .arg(dir)
            .arg(&member),
    );
    dir.join(member)
}

#[test]
fn rpm_debug_only_modules_give_the_deb_modules_btf() {
    let Layout {
        deb_dir,
        dir,
        vmlinux,
        uname,
        ..
    } = layout();
    let uname = uname.as_str();
    let work = dir.join("rpm");
    let conntrack = deb_dir.join("nf_conntrack.ko");
    let kvm = debian_kvm(deb_dir, uname, &work.join("deb"));
    let files = [
        rpm_module_files(&conntrack, &work.join("files")),
        rpm_module_files(&kvm, &work.join("files")),
    ];
    // A debug-only file alone is refused: it cannot give nf_conntrack's kfuncs
    // (.BTF_ids has no bytes) ...
    let one = work.join("one.btf");
    let alone = btfgen([
        files[0][0].1.as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "-o".as_ref(),
        one.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&alone.stderr);
    assert_eq!(alone.status.code(), Some(1), "{err}");
    assert!(
        err.contains("BTF_SET8 set(s) in .BTF_ids but not its bytes"),
        "{err}"
    );
    assert!(!one.exists());

    // ... and taken from a package, whose vmlinux BTF says the kernel marks no kfunc
    // sets.
    let modules = format!("/usr/lib/debug/lib/modules/{uname}");
    let mut b =
        rpm::PackageBuilder::new("kernel-debuginfo", "6.1.999", "GPL-2.0", "x86_64", "test");
    b.using_config(
        rpm::BuildConfig::default()
            .compression(rpm::CompressionWithLevel::Zstd(1))
            .source_date(1_600_000_000),
    );
    b.with_file(
        deb_dir.join("vmlinux"),
        rpm::FileOptions::new(format!("{modules}/vmlinux")),
    )
    .unwrap();
    for (_, f) in files.iter().flatten() {
        let name = f.file_name().unwrap().to_string_lossy();
        b.with_file(f, rpm::FileOptions::new(format!("{modules}/kernel/{name}")))
            .unwrap();
    }
    let pkg = work.join("kernel-debuginfo.rpm");
    b.build().unwrap().write_file(&pkg).unwrap();
    let out = work.join(format!("btf/{uname}.btf"));
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let enc = btfgen([
        pkg.as_os_str(),
        "--modules".as_ref(),
        "nf_conntrack*,kvm*".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        enc.status.success(),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    assert!(
        fs::read(&out).unwrap() == fs::read(vmlinux).unwrap(),
        "the RPM's vmlinux BTF differs from the .deb's"
    );
    // What the .deb gives: its nf_conntrack, and kvm.ko encoded on the same base.
    let deb_conntrack = vmlinux
        .parent()
        .unwrap()
        .join(uname)
        .join("modules/nf_conntrack.btf");
    let deb_kvm = work.join("kvm.deb.btf");
    let o = btfgen([
        kvm.as_os_str(),
        "--base".as_ref(),
        vmlinux.as_os_str(),
        "-o".as_ref(),
        deb_kvm.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mods = work.join(format!("btf/{uname}/modules"));
    for (ko, files, deb) in [
        (&conntrack, &files[0], &deb_conntrack),
        (&kvm, &files[1], &deb_kvm),
    ] {
        let want = fs::read(deb).unwrap();
        let debian = read_canon(ko, Some(&deb_dir.join("vmlinux"))).expect("Debian's module .BTF");
        for (name, _) in files {
            let path = mods.join(format!("{name}.btf"));
            assert!(
                fs::read(&path).unwrap() == want,
                "{name}: the RPM's module BTF differs from the .deb's"
            );
            let ours = read_canon(&path, Some(&out)).expect("the RPM's module BTF");
            let c = Comparison::new("Debian module .BTF", &debian, name, &ours);
            assert_eq!(c.type_differences(), 0, "{c}");
            assert_eq!(
                (c.var_differences(), c.datasec_differences()),
                (0, 0),
                "{c}"
            );
            // Every function Debian's pahole 1.24 encoded (and clones it did not look for).
            assert!(c.func_names.0.is_subset(&c.func_names.1), "{c}");
        }
    }
    // kvm's per-CPU variables, placed by the section addresses of its debug-only file.
    let dump = btfgen([
        "dump".as_ref(),
        mods.join("kvm.btf").as_os_str(),
        "--base".as_ref(),
        out.as_os_str(),
    ]);
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("DATASEC '.data..percpu' ") && dump.contains("VAR 'kvm_running_vcpu' "),
        "no per-CPU variables in kvm's BTF:\n{dump}"
    );
}

#[test]
fn module_program_relocates_as_on_the_kernels_own_btf_in_qemu() {
    require_tool_from("qemu-system-x86_64", "qemu-system-x86");
    require_tool_from("busybox", "busybox-static");
    require_tool_from("cpio", "cpio");
    require_tool("gcc");
    require_tool("clang");
    require_tool("bpftool");
    require_tool_from("apt-get", "apt");
    require_tool_from("dpkg-deb", "dpkg");
    let script = workspace_root().join("scripts/qemu-modules.sh");
    let o = Command::new("bash")
        .arg(&script)
        .env("BTFGEN_BIN", btfgen_bin())
        .env("BTF_DIR", &layout().root)
        .env_remove("KEEP_WORK")
        .env_remove("FLAVOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let shown = format!(
        "--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{stdout}");
    assert!(o.status.success(), "{} failed\n{shown}", script.display());
    let pass = stdout
        .lines()
        .find_map(|l| l.strip_prefix("PASS "))
        .unwrap_or_else(|| panic!("no PASS line\n{shown}"));
    assert!(pass.starts_with("6.1."), "{pass}");
    assert!(pass.contains(" 8 relocations equal, loaded"), "{pass}");
}
