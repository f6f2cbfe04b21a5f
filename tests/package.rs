//! `btfgen PACKAGE`: the vmlinux streamed out of a .deb, .ddeb or .rpm gives the same
//! BTF as the vmlinux itself.
//!
//! The packages are built here: Debian ones with `dpkg-deb --build` (xz, zstd, gzip,
//! none) or by hand (ar + tar, for members no packaging tool would write), RPMs with
//! the `rpm` crate (xz, zstd, gzip, bzip2 payloads). Their vmlinux is a fixture object
//! compiled with DWARF. The last test takes Debian's real kernel debuginfo package
//! from the cache of `scripts/debian-kernel.sh`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btfgen::package::{self, Options, PackageError, PackageFormat};
use btfgen_tests::{btfgen_bin, demo_vmlinux, require_tool, run_ok, DemoVmlinux, Work};

const REL: &str = "6.1.0-99-test-amd64";

fn btfgen(args: &[&Path]) -> Output {
    let mut cmd = Command::new(btfgen_bin());
    cmd.args(args);
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// `btfgen PKG -o OUT -v` succeeds and gives the reference BTF.
fn assert_same_btf(f: &DemoVmlinux, pkg: &Path, release: &str, checked: bool) {
    let out = pkg.with_extension("btf");
    let o = btfgen(&[pkg, Path::new("-o"), &out, Path::new("-v")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "btfgen {} failed:\n{stderr}",
        pkg.display()
    );
    assert!(
        stderr.contains(&format!("uname -r {release}")),
        "-v does not name uname -r {release}:\n{stderr}"
    );
    let got = fs::read(&out).unwrap();
    assert!(
        got == f.reference,
        "{}: BTF differs from the vmlinux's ({} vs {} bytes)",
        pkg.display(),
        got.len(),
        f.reference.len()
    );
    // The library gives the same vmlinux bytes.
    let v = package::extract_vmlinux_file(pkg, &Options::default()).unwrap();
    assert_eq!(v.release, release);
    if checked {
        assert!(
            v.verified.is_some() && stderr.contains(" checked)"),
            "{}: the vmlinux was not checked against a digest:\n{stderr}",
            pkg.display()
        );
    }
    assert_eq!(v.bytes(), fs::read(&f.work.obj).unwrap().as_slice());
}

/// `btfgen PKG -o OUT` fails with a one-line error naming the package (or holding
/// `needle`) and writes nothing.
fn assert_fails(pkg: &Path, needle: &str) {
    let out = pkg.with_extension("btf");
    let _ = fs::remove_file(&out);
    let o = btfgen(&[pkg, Path::new("-o"), &out]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "btfgen {} succeeded; expected an error",
        pkg.display()
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "error is not one line:\n{stderr}"
    );
    assert!(
        stderr.contains(needle),
        "error does not contain `{needle}`:\n{stderr}"
    );
    eprint!("expected failure: {stderr}");
    let name = pkg.file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(&*name),
        "error does not name the package:\n{stderr}"
    );
    assert!(!out.exists(), "{} was written", out.display());
    let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".btfgen-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Debian package layouts.
#[derive(Clone, Copy)]
enum Layout {
    /// Debian -dbg: the vmlinux at usr/lib/debug/boot/vmlinux-REL and a symlink to it
    /// at usr/lib/debug/lib/modules/REL/vmlinux.
    Boot,
    /// The vmlinux under lib/modules and the symlink (which sorts first) in boot/.
    Modules,
    /// No vmlinux at all.
    Empty,
    /// As `Boot`, but md5sums has a wrong digest for the vmlinux.
    BadDigest,
}

/// Builds a .deb (or .ddeb: the same format) with `dpkg-deb -Z<comp>`.
fn dpkg_deb(f: &DemoVmlinux, name: &str, comp: &str, layout: Layout) -> PathBuf {
    let dpkg = require_tool("dpkg-deb");
    let root = f.work.path(&format!("{name}.d"));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: linux-image-{REL}-dbg\nVersion: 6.1.999-1\nArchitecture: amd64\n\
             Maintainer: btfgen tests <nobody@example.org>\nDescription: test\n"
        ),
    )
    .unwrap();
    let boot = root.join("usr/lib/debug/boot");
    let modules = root.join(format!("usr/lib/debug/lib/modules/{REL}"));
    let doc = root.join("usr/share/doc/linux-image-dbg");
    for d in [&boot, &modules, &doc] {
        fs::create_dir_all(d).unwrap();
    }
    fs::write(
        doc.join("changelog"),
        "a file before and after the vmlinux\n",
    )
    .unwrap();
    fs::write(
        boot.join(format!("System.map-{REL}")),
        "ffffffff81000000 T _text\n",
    )
    .unwrap();
    match layout {
        Layout::Boot | Layout::BadDigest => {
            fs::copy(&f.work.obj, boot.join(format!("vmlinux-{REL}"))).unwrap();
            symlink(
                format!("../../../boot/vmlinux-{REL}"),
                modules.join("vmlinux"),
            )
            .unwrap();
        }
        Layout::Modules => {
            fs::copy(&f.work.obj, modules.join("vmlinux")).unwrap();
            symlink(
                format!("../lib/modules/{REL}/vmlinux"),
                boot.join(format!("vmlinux-{REL}")),
            )
            .unwrap();
        }
        Layout::Empty => {}
    }
    // dpkg-deb does not write md5sums (dh_md5sums does); real packages have them.
    let sums = run_ok(
        Command::new("sh")
            .arg("-c")
            .arg("find usr -type f | sort | xargs md5sum")
            .current_dir(&root),
    );
    let mut sums = String::from_utf8(sums.stdout).unwrap();
    if let Layout::BadDigest = layout {
        sums = sums
            .lines()
            .map(|l| match l.split_once("  ") {
                Some((_, p)) if p.contains("vmlinux-") => format!("{}  {p}\n", "0".repeat(32)),
                _ => format!("{l}\n"),
            })
            .collect();
    }
    fs::write(root.join("DEBIAN/md5sums"), sums).unwrap();
    let out = f.work.path(name);
    run_ok(
        Command::new(dpkg)
            .arg(format!("-Z{comp}"))
            .args(["--root-owner-group", "--build"])
            .arg(&root)
            .arg(&out),
    );
    out
}

fn rpm_package(
    f: &DemoVmlinux,
    name: &str,
    comp: rpm::CompressionType,
    vmlinux: Option<&str>,
) -> PathBuf {
    let cfg = rpm::BuildConfig::default()
        .compression(comp)
        .source_date(1_600_000_000);
    let doc = f.work.path("rpm-doc.txt");
    fs::write(&doc, "a file before the vmlinux\n").unwrap();
    let mut b =
        rpm::PackageBuilder::new("kernel-debuginfo", "6.1.999", "GPL-2.0", "x86_64", "test");
    b.using_config(cfg);
    b.with_file(
        &doc,
        rpm::FileOptions::new("/usr/lib/debug/.build-id/README"),
    )
    .unwrap();
    b.with_file(&doc, rpm::FileOptions::new("/usr/share/doc/kernel/README"))
        .unwrap();
    if let Some(path) = vmlinux {
        // A symlink sorting before the vmlinux, as Debian has one.
        b.with_symlink(rpm::FileOptions::symlink(
            "/usr/lib/debug/boot/vmlinux-0-symlink",
            path,
        ))
        .unwrap();
        b.with_file(&f.work.obj, rpm::FileOptions::new(path))
            .unwrap();
    }
    let pkg = b.build().expect("build the RPM");
    let out = f.work.path(name);
    pkg.write_file(&out).expect("write the RPM");
    out
}

/// A Debian package built by hand: `!<arch>` with debian-binary, control.tar and
/// data.tar (uncompressed), the latter holding `members` (path, tar type flag, data).
fn handmade_deb(path: &Path, members: &[(&str, u8, &[u8])]) {
    fn tar(members: &[(&str, u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, ty, data) in members {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            let octal = |h: &mut [u8; 512], off: usize, len: usize, v: u64| {
                let s = format!("{:0w$o}\0", v, w = len - 1);
                h[off..off + len].copy_from_slice(s.as_bytes());
            };
            octal(&mut h, 100, 8, 0o644);
            octal(&mut h, 108, 8, 0);
            octal(&mut h, 116, 8, 0);
            octal(&mut h, 124, 12, data.len() as u64);
            octal(&mut h, 136, 12, 1_600_000_000);
            h[156] = *ty;
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| b as u32).sum();
            let s = format!("{sum:06o}\0 ");
            h[148..156].copy_from_slice(s.as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.resize(out.len() + 1024, 0);
        out
    }
    let mut ar = b"!<arch>\n".to_vec();
    for (name, data) in [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar", tar(&[("./control", b'0', b"Package: x\n")])),
        ("data.tar", tar(members)),
    ] {
        ar.extend_from_slice(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                name,
                1_600_000_000,
                0,
                0,
                "100644",
                data.len()
            )
            .as_bytes(),
        );
        ar.extend_from_slice(&data);
        if ar.len() % 2 == 1 {
            ar.push(b'\n');
        }
    }
    fs::write(path, ar).unwrap();
}

#[test]
fn deb_and_ddeb() {
    let f = demo_vmlinux();
    for (name, comp, layout) in [
        ("boot-xz.deb", "xz", Layout::Boot),
        ("boot-zstd.deb", "zstd", Layout::Boot),
        ("boot-gzip.deb", "gzip", Layout::Boot),
        ("boot-none.deb", "none", Layout::Boot),
        ("modules-xz.ddeb", "xz", Layout::Modules),
        ("modules-zstd.ddeb", "zstd", Layout::Modules),
    ] {
        let pkg = dpkg_deb(&f, name, comp, layout);
        assert_eq!(
            PackageFormat::detect(&pkg).unwrap(),
            Some(PackageFormat::Deb)
        );
        assert_same_btf(&f, &pkg, REL, true);
    }
}

#[test]
fn rpm_payloads() {
    let f = demo_vmlinux();
    for (name, comp, path, rel) in [
        (
            "kernel-debuginfo-xz.rpm",
            rpm::CompressionType::Xz,
            "/usr/lib/debug/lib/modules/4.18.0-80.el8.x86_64/vmlinux",
            "4.18.0-80.el8.x86_64",
        ),
        (
            "kernel-debuginfo-zstd.rpm",
            rpm::CompressionType::Zstd,
            "/usr/lib/debug/lib/modules/5.14.0-70.el9.x86_64/vmlinux",
            "5.14.0-70.el9.x86_64",
        ),
        (
            "kernel-debuginfo-gzip.rpm",
            rpm::CompressionType::Gzip,
            "/usr/lib/debug/lib/modules/3.10.0-957.el7.x86_64/vmlinux",
            "3.10.0-957.el7.x86_64",
        ),
        (
            "kernel-default-debuginfo-bzip2.rpm",
            rpm::CompressionType::Bzip2,
            "/usr/lib/debug/boot/vmlinux-5.3.18-59.10-default.debug",
            "5.3.18-59.10-default",
        ),
    ] {
        let pkg = rpm_package(&f, name, comp, Some(path));
        assert_eq!(
            PackageFormat::detect(&pkg).unwrap(),
            Some(PackageFormat::Rpm)
        );
        assert_same_btf(&f, &pkg, rel, true);
    }
}

#[test]
fn no_vmlinux() {
    let f = demo_vmlinux();
    let deb = dpkg_deb(&f, "empty.deb", "xz", Layout::Empty);
    assert_fails(&deb, &format!("no vmlinux in {}", deb.display()));
    let rpm = rpm_package(&f, "empty.rpm", rpm::CompressionType::Zstd, None);
    assert_fails(&rpm, &format!("no vmlinux in {}", rpm.display()));
    // Only a symlink at the vmlinux path.
    let link = f.work.path("symlink-only.deb");
    handmade_deb(&link, &[("./usr/lib/debug/boot/vmlinux-1.0", b'2', b"")]);
    assert_fails(&link, "no vmlinux in");
}

#[test]
fn truncated_and_corrupt() {
    let f = demo_vmlinux();
    let deb = dpkg_deb(&f, "whole.deb", "xz", Layout::Boot);
    let rpm = rpm_package(
        &f,
        "whole.rpm",
        rpm::CompressionType::Zstd,
        Some("/usr/lib/debug/lib/modules/5.14.0-70.el9.x86_64/vmlinux"),
    );
    for (pkg, kind) in [(&deb, "deb"), (&rpm, "rpm")] {
        let bytes = fs::read(pkg).unwrap();
        // Cut in the header, in the middle of the payload, and just before the end.
        for (i, cut) in [50, bytes.len() / 2, bytes.len() - 1000]
            .into_iter()
            .enumerate()
        {
            let p = f.work.path(&format!("truncated-{i}.{kind}"));
            fs::write(&p, &bytes[..cut]).unwrap();
            assert_fails(&p, "truncated");
        }
        // Garbage in the compressed payload (the last 1800 bytes of either: the middle
        // of an RPM can be the signature's reserved space, zeros nobody reads).
        let mut bad = bytes.clone();
        let at = bad.len() - 1000;
        for b in &mut bad[at..at + 64] {
            *b ^= 0x5a;
        }
        let p = f.work.path(&format!("corrupt.{kind}"));
        fs::write(&p, &bad).unwrap();
        assert_fails(&p, "corrupt");
        // A damaged container header: ar's first member header; RPM's signature header.
        let mut bad = bytes.clone();
        let at = if kind == "deb" { 8 } else { 96 };
        bad[at..at + 64].fill(b'#');
        let p = f.work.path(&format!("bad-header.{kind}"));
        fs::write(&p, &bad).unwrap();
        assert_fails(&p, "corrupt");
    }
    // The vmlinux does not match the package's md5sums.
    let deb = dpkg_deb(&f, "bad-md5.deb", "zstd", Layout::BadDigest);
    assert_fails(
        &deb,
        &format!(", expected {} (the package's digest)", "0".repeat(32)),
    );
}

#[test]
fn unsafe_member_paths() {
    let f = demo_vmlinux();
    let elf = fs::read(&f.work.obj).unwrap();
    for (i, name) in [
        "./usr/lib/debug/boot/../../../../etc/vmlinux-1.0",
        "/usr/lib/debug/boot/vmlinux-1.0",
        "../evil",
    ]
    .into_iter()
    .enumerate()
    {
        let p = f.work.path(&format!("unsafe-{i}.deb"));
        handmade_deb(&p, &[("./usr/share/doc/x", b'0', b"x"), (name, b'0', &elf)]);
        assert_fails(&p, "refusing");
    }
    // The hand-made container itself is fine.
    let p = f.work.path("handmade.deb");
    handmade_deb(
        &p,
        &[("./usr/lib/debug/boot/vmlinux-7.0.0-handmade", b'0', &elf)],
    );
    assert_same_btf(&f, &p, "7.0.0-handmade", false);
}

#[test]
fn decompression_bound() {
    let f = demo_vmlinux();
    let deb = dpkg_deb(&f, "bound.deb", "xz", Layout::Boot);
    let opts = Options {
        max_bytes: 4096,
        ..Default::default()
    };
    match package::extract_vmlinux_file(&deb, &opts) {
        Err(e @ PackageError::TooLarge { .. }) => {
            assert!(e.to_string().contains("refusing"), "{e}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The temporary file goes to the directory asked for, and leaves nothing behind.
    let tmp = f.work.path("tmp");
    fs::create_dir(&tmp).unwrap();
    let v = package::extract_vmlinux_file(
        &deb,
        &Options {
            tmpdir: Some(tmp.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v.member, format!("./usr/lib/debug/boot/vmlinux-{REL}"));
    drop(v);
    assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0);
}

/// Debian's real kernel debuginfo package, as cached by `scripts/debian-kernel.sh`:
/// the BTF from the package equals the BTF from the vmlinux dpkg-deb extracted.
#[test]
fn real_debian_package() {
    let dir = btfgen_tests::debian_kernel("cloud-amd64");
    let deb = fs::read_dir(dir.join("dl"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("dl").display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a cached .deb");
    let w = Work::new();
    let (a, b) = (w.path("pkg.btf"), w.path("vmlinux.btf"));
    let o = btfgen(&[&deb, Path::new("-o"), &a, Path::new("-v")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("md5 checked"), "{stderr}");
    eprintln!("{stderr}");
    let o = btfgen(&[&dir.join("vmlinux"), Path::new("-o"), &b]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "BTF from {} differs from BTF from its vmlinux",
        deb.display()
    );
}
