//! `btfgen fetch` end to end: metadata reading, downloads and `btfgen fetch [--list]`
//! against repositories the tests build and serve from a loopback HTTP server
//! (nothing leaves the machine). The catalog, metadata parsers and kernel selection
//! have their unit tests beside the code, in btfgen/src/fetch/.
//!
//! The repositories (btfgen_tests::repo_server): yum repodata (repomd.xml,
//! primary.xml.gz with sha256), an apt Packages.xz index, an HTML directory listing of
//! RPM files. Compression is done with the `gzip` and `xz` tools, digests with
//! coreutils (`sha256sum`, `md5sum`).

use std::collections::HashSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use btfgen::fetch::{self as fetch_mod, Client, HttpError};
use btfgen::fetch::{Catalog, Entry};
use btfgen_tests::repo_fixtures::*;
use btfgen_tests::repo_server::{
    compress, file_digest, repomd_xml, sha256, write, yum_repo, Server,
};
use btfgen_tests::{btfgen, demo_vmlinux, require_tool, run_ok, DemoVmlinux, Work};

/// Writes `dists/SUITE/Release` listing the files under `dists/SUITE` in an MD5Sum and
/// a SHA256 section (the stronger is the one checked).
fn release_file(suite: &Path) {
    let mut files = Vec::new();
    for comp in fs::read_dir(suite).unwrap() {
        let comp = comp.unwrap().path();
        if !comp.is_dir() {
            continue;
        }
        for bin in fs::read_dir(&comp).unwrap() {
            for f in fs::read_dir(bin.unwrap().path()).unwrap() {
                files.push(f.unwrap().path());
            }
        }
    }
    let mut text = String::from("Origin: test\nSuite: x\n");
    for (section, tool) in [("MD5Sum", "md5sum"), ("SHA256", "sha256sum")] {
        text += &format!("{section}:\n");
        for f in &files {
            let rel = f.strip_prefix(suite).unwrap();
            let size = fs::metadata(f).unwrap().len();
            text += &format!(" {} {size:>10} {}\n", file_digest(tool, f), rel.display());
        }
    }
    write(&suite.join("Release"), &text);
}

/// Writes an apt repository (dists/focal{,-updates}/main/binary-amd64/Packages.xz and
/// the suites' Release files).
fn apt_repo(dir: &Path) {
    let p = dir.join("dists/focal/main/binary-amd64/Packages");
    write(&p, &ubuntu_packages());
    compress("xz", &p);
    release_file(&dir.join("dists/focal"));
    let p = dir.join("dists/focal-updates/main/binary-amd64/Packages");
    write(
        &p,
        &stanza(
            "linux-image-unsigned-5.4.0-42-generic-dbgsym",
            "5.4.0-42.46",
            123_456_789,
            SUM_B,
        ),
    );
    compress("xz", &p);
    release_file(&dir.join("dists/focal-updates"));
}

fn test_catalog(repo_type: &str, extra: &str) -> String {
    let (packages, uname, vmlinux, more) = match repo_type {
        "apt" => (
            r#"["linux-image-unsigned-*-dbgsym", "linux-image-*-dbgsym"]"#,
            "{1}",
            "usr/lib/debug/boot/vmlinux-{uname}",
            "dists = [\"focal/main\", \"focal-updates/main\"]\nflavors = [\"generic\", \"aws\", \"azure\"]\nmin_size = 10000000\n",
        ),
        _ => (
            r#"["kernel-debuginfo"]"#,
            "{version}-{release}.{arch}",
            "usr/lib/debug/lib/modules/{uname}/vmlinux",
            "min_version = \"3.10.0-957\"\n",
        ),
    };
    format!(
        "[[kernel]]\nname = \"test-1\"\narch = \"x86_64\"\nrepo_type = \"{repo_type}\"\nrepos = [\"https://unused.invalid/\"]\npackages = {packages}\nuname = \"{uname}\"\nvmlinux = \"{vmlinux}\"\n{more}{extra}"
    )
}

fn entry(repo_type: &str) -> Entry {
    Catalog::parse(&test_catalog(repo_type, ""), "test")
        .unwrap()
        .entries
        .remove(0)
}

fn client() -> Client {
    Client::new(Duration::from_secs(10), None).unwrap()
}

fn unames(ks: &[fetch_mod::Kernel]) -> Vec<&str> {
    ks.iter().map(|k| k.uname.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Catalog (its own messages are unit tests in btfgen/src/fetch/catalog.rs; this is
// what the CLI makes of them)

#[test]
fn unknown_distro_is_one_line_naming_it_and_near_names() {
    let out = btfgen(["fetch", "--list", "--arch", "x86_64", "ubuntu-22.04"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("ubuntu-22.04") && err.contains("ubuntu-20.04"),
        "{err}"
    );

    let out = btfgen(["fetch", "--list", "--arch", "arm64", "amzn-1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no arm64"), "{err}");

    let out = btfgen(["fetch", "--list", "--arch", "x86_64", "rhel-8"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--mirror"), "{err}");
}

// ---------------------------------------------------------------------------
// Over loopback HTTP

#[test]
fn yum_repository_over_http() {
    let work = Work::new();
    yum_repo(&work.path("repo"), CENTOS_RPMS, "sha256");
    let server = Server::start(work.dir());
    let mirror = format!("{}/repo/", server.base);
    let e = entry("yum");
    let ks = fetch_mod::available(&client(), &e, Some(&mirror)).unwrap();
    assert_eq!(
        unames(&ks),
        [
            "3.10.0-957.el7.x86_64",
            "3.10.0-957.27.2.el7.x86_64",
            "3.10.0-1160.el7.x86_64",
            "3.10.0-1160.119.1.el7.x86_64",
        ]
    );
    let k = &ks[0];
    assert_eq!(
        k.url,
        format!(
            "{}/repo/Packages/kernel-debuginfo-3.10.0-957.el7.x86_64.rpm",
            server.base
        )
    );
    assert_eq!(k.size, Some(450_000_000));
    assert_eq!(k.checksum.as_ref().unwrap().hex, SUM_B.to_ascii_lowercase());
    assert_eq!(
        k.vmlinux,
        "usr/lib/debug/lib/modules/3.10.0-957.el7.x86_64/vmlinux"
    );

    // The primary no longer matches repomd's checksum: refused.
    let gz = work.path("repo/repodata/abc-primary.xml.gz");
    let mut bytes = fs::read(&gz).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff;
    fs::write(&gz, bytes).unwrap();
    let err = fetch_mod::available(&client(), &e, Some(&mirror)).unwrap_err();
    assert!(matches!(err, HttpError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("sha256"), "{err}");

    // 404 and 5xx on repomd.xml.
    let err =
        fetch_mod::available(&client(), &e, Some(&format!("{}/nothing", server.base))).unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    write(&work.path("repo/repodata/repomd.xml.status"), "503");
    let err = fetch_mod::available(&client(), &e, Some(&mirror)).unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
}

#[test]
fn apt_repository_over_http() {
    let work = Work::new();
    apt_repo(&work.path("ubuntu"));
    let server = Server::start(work.dir());
    let mirror = format!("{}/ubuntu", server.base);
    let ks = fetch_mod::available(&client(), &entry("apt"), Some(&mirror)).unwrap();
    // lowlatency: not a wanted flavor; linux-image-generic-dbgsym: a meta-package;
    // the signed 5.4.0-42 dbgsym: under min_size; the -updates copy of 5.4.0-42
    // comes after the release's.
    assert_eq!(
        unames(&ks),
        [
            "5.4.0-9-generic",
            "5.4.0-42-generic",
            "5.4.0-100-generic",
            "5.4.0-1020-aws",
            "5.8.0-1041-azure"
        ]
    );
    let k = &ks[1];
    assert_eq!(k.package, "linux-image-unsigned-5.4.0-42-generic-dbgsym");
    assert_eq!(k.size, Some(900_000_000));
    assert_eq!(
        k.url,
        format!("{mirror}/pool/main/l/linux/linux-image-unsigned-5.4.0-42-generic-dbgsym_5.4.0-42.46_amd64.ddeb")
    );
    assert_eq!(k.vmlinux, "usr/lib/debug/boot/vmlinux-5.4.0-42-generic");

    // A suite without a Release file; a component the Release file does not list.
    for (dist, want) in [
        ("focal-proposed/main", "no Release"),
        ("focal/universe", "no Packages"),
    ] {
        let mut e = entry("apt");
        e.dists.push(dist.into());
        let err = fetch_mod::available(&client(), &e, Some(&mirror))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(dist.split('/').next().unwrap()) && err.contains(want),
            "{err}"
        );
    }

    // The index no longer matches the Release file: refused.
    let xz = work.path("ubuntu/dists/focal-updates/main/binary-amd64/Packages.xz");
    let mut bytes = fs::read(&xz).unwrap();
    bytes.push(0);
    fs::write(&xz, bytes).unwrap();
    let err = fetch_mod::available(&client(), &entry("apt"), Some(&mirror)).unwrap_err();
    assert!(matches!(err, HttpError::Mismatch { .. }), "{err}");

    // Malformed Release.
    write(
        &work.path("ubuntu/dists/focal/Release"),
        "SHA256:\n zz 1 main/binary-amd64/Packages.xz\n",
    );
    let err = fetch_mod::available(&client(), &entry("apt"), Some(&mirror)).unwrap_err();
    assert!(
        err.to_string().contains("Release") && err.to_string().contains("line 2"),
        "{err}"
    );
}

#[test]
fn directory_listing_over_http() {
    let work = Work::new();
    write(&work.path("centos/7/x86_64/index.html"), LISTING);
    let server = Server::start(work.dir());
    let mirror = format!("{}/centos/7/{{arch}}/", server.base);
    let ks = fetch_mod::available(&client(), &entry("dir"), Some(&mirror)).unwrap();
    assert_eq!(
        unames(&ks),
        [
            "3.10.0-957.el7.x86_64",
            "3.10.0-1062.1.1.el7.x86_64",
            "3.10.0-1127.el7.x86_64",
            "3.10.0-1160.el7.x86_64",
        ]
    );
    assert_eq!(
        ks[3].url,
        format!(
            "{}/centos/7/x86_64/kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm",
            server.base
        )
    );
    assert_eq!(ks[3].size, None);
}

#[test]
fn fetch_list_command() {
    let work = Work::new();
    yum_repo(&work.path("repo"), CENTOS_RPMS, "sha256");
    let cat = work.path("mine.toml");
    fs::write(&cat, test_catalog("yum", "")).unwrap();
    let out_dir = work.path("out");
    write(
        &out_dir.join("test/1/x86_64/3.10.0-1160.el7.x86_64.btf"),
        "x",
    );
    let server = Server::start(work.dir());
    let mirror = format!("{}/repo", server.base);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "fetch",
            "--list",
            "test-1",
            "--arch",
            "x86_64",
            "--catalog",
            cat.to_str().unwrap(),
            "--mirror",
            &mirror,
            "-o",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = btfgen(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = run(&[]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines[0], "test-1 x86_64: 4 of 4 kernels");
    assert!(
        lines[1].starts_with("3.10.0-957.el7.x86_64\t-\t450000000\thttp://127.0.0.1:"),
        "{all}"
    );
    assert!(
        lines[3].starts_with("3.10.0-1160.el7.x86_64\tdone\t"),
        "{all}"
    );
    let latest = run(&["--latest", "1"]);
    assert!(
        latest.contains("1 of 4") && latest.contains("1160.119.1"),
        "{latest}"
    );
    let one = run(&["--kernel", "3.10.0-957.27.2.el7.x86_64"]);
    assert_eq!(one.lines().count(), 2, "{one}");
    let mut sharded = 0;
    for i in 1..=3 {
        let s = run(&["--shard", &format!("{i}/3")]);
        sharded += s.lines().count() - 1;
    }
    assert_eq!(sharded, 4);

    // Nothing listens: a clear error, no hang.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", dead.local_addr().unwrap());
    drop(dead);
    let out = btfgen([
        "fetch",
        "--list",
        "test-1",
        "--arch",
        "x86_64",
        "--catalog",
        cat.to_str().unwrap(),
        "--mirror",
        &url,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("repomd.xml"), "{err}");
}

#[test]
fn server_that_never_answers_times_out() {
    // Accepts connections (the backlog) but never reads or answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let c = Client::new(Duration::from_secs(2), None).unwrap();
    let t = Instant::now();
    let err = fetch_mod::available(&c, &entry("yum"), Some(&url)).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert!(matches!(err, HttpError::Http { .. }), "{err}");
    drop(silent);
}

// ---------------------------------------------------------------------------
// Downloading, extracting and encoding packages

/// An RPM `kernel-debuginfo-6.1.999-REL.x86_64.rpm` holding the fixture at the
/// vmlinux path of its `uname -r` (or no vmlinux).
fn rpm_file(
    v: &DemoVmlinux,
    dir: &Path,
    rel: &str,
    comp: rpm::CompressionType,
    with: bool,
) -> PathBuf {
    let cfg = rpm::BuildConfig::default()
        .compression(comp)
        .source_date(1_600_000_000);
    let mut b =
        rpm::PackageBuilder::new("kernel-debuginfo", "6.1.999", "GPL-2.0", "x86_64", "test");
    b.using_config(cfg);
    b.release(rel);
    let doc = v.work.path("doc.txt");
    fs::write(&doc, "a file before the vmlinux\n").unwrap();
    b.with_file(&doc, rpm::FileOptions::new("/usr/share/doc/kernel/README"))
        .unwrap();
    if with {
        b.with_file(
            &v.work.obj,
            rpm::FileOptions::new(format!(
                "/usr/lib/debug/lib/modules/6.1.999-{rel}.x86_64/vmlinux"
            )),
        )
        .unwrap();
    }
    let pkg = b.build().expect("build the RPM");
    let out = dir.join(format!(
        "Packages/kernel-debuginfo-6.1.999-{rel}.x86_64.rpm"
    ));
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    pkg.write_file(&out).expect("write the RPM");
    out
}

fn pkg_catalog(work: &Work, repo_type: &str) -> PathBuf {
    let text = match repo_type {
        "apt" => "[[kernel]]\nname = \"test-1\"\narch = \"x86_64\"\nrepo_type = \"apt\"\nrepos = [\"https://unused.invalid/\"]\ndists = [\"focal/main\"]\npackages = [\"linux-image-*-dbg\"]\nuname = \"{1}\"\nvmlinux = \"usr/lib/debug/boot/vmlinux-{uname}\"\n",
        _ => "[[kernel]]\nname = \"test-1\"\narch = \"x86_64\"\nrepo_type = \"yum\"\nrepos = [\"https://unused.invalid/\"]\npackages = [\"kernel-debuginfo\"]\nuname = \"{version}-{release}.{arch}\"\nvmlinux = \"usr/lib/debug/lib/modules/{uname}/vmlinux\"\n",
    };
    let p = work.path(&format!("{repo_type}.toml"));
    fs::write(&p, text).unwrap();
    p
}

/// `btfgen fetch test-1 --arch x86_64 --catalog CAT --mirror URL -o OUT EXTRA...`:
/// (success, stdout, stderr).
fn fetch_run(cat: &Path, mirror: &str, out: &Path, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "fetch",
        "test-1",
        "--arch",
        "x86_64",
        "--catalog",
        cat.to_str().unwrap(),
        "--mirror",
        mirror,
        "-o",
        out.to_str().unwrap(),
        "--retry-delay",
        "50",
    ];
    args.extend_from_slice(extra);
    let o = btfgen(&args);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The status line of `uname` in a run's log.
fn line_of<'a>(log: &'a str, uname: &str) -> &'a str {
    log.lines()
        .find(|l| l.starts_with("btfgen: [") && l.contains(&format!(" {uname}: ")))
        .unwrap_or_else(|| panic!("no line for {uname} in:\n{log}"))
}

#[test]
fn fetch_yum_packages_and_failures() {
    let v = demo_vmlinux();
    let work = Work::new();
    let repo = work.path("repo");
    let mut rpms: Vec<(String, u64, String)> = Vec::new();
    let mut add = |rel: &str, path: &Path, sum: Option<&str>| {
        let size = fs::metadata(path).unwrap().len();
        rpms.push((
            rel.to_string(),
            size,
            sum.map_or_else(|| sha256(path), str::to_string),
        ));
    };
    use rpm::CompressionType::{Xz, Zstd};
    // 1: xz, cut half way once (resumed with Range).
    let p = rpm_file(&v, &repo, "1.el8", Xz, true);
    add("1.el8", &p, None);
    fs::write(format!("{}.cut", p.display()), "").unwrap();
    // 2: zstd, 503 twice first (retried).
    let p = rpm_file(&v, &repo, "2.el8", Zstd, true);
    add("2.el8", &p, None);
    fs::write(format!("{}.fail", p.display()), "2").unwrap();
    // 3: checksum mismatch.
    let p = rpm_file(&v, &repo, "3.el8", Zstd, true);
    add("3.el8", &p, Some(SUM_A));
    // 4: listed, absent (404).
    let p = rpm_file(&v, &repo, "4.el8", Zstd, true);
    add("4.el8", &p, None);
    fs::remove_file(&p).unwrap();
    // 5: corrupt payload (the metadata's checksum is of the corrupt file).
    let p = rpm_file(&v, &repo, "5.el8", Xz, true);
    let mut bytes = fs::read(&p).unwrap();
    let n = bytes.len();
    // Inside the xz payload, past its stream header.
    let xz = bytes
        .windows(6)
        .position(|w| w == b"\xfd7zXZ\0")
        .expect("xz payload");
    assert!(xz + 200 < n - 64, "payload too short");
    for b in &mut bytes[xz + 100..n - 64] {
        *b ^= 0x5a;
    }
    fs::write(&p, bytes).unwrap();
    add("5.el8", &p, None);
    // 6: no vmlinux.
    let p = rpm_file(&v, &repo, "6.el8", Zstd, false);
    add("6.el8", &p, None);
    // 7: 503 for ever (retries exhausted).
    let p = rpm_file(&v, &repo, "7.el8", Zstd, true);
    add("7.el8", &p, None);
    fs::write(format!("{}.fail", p.display()), "1000").unwrap();
    // 8: cut half way once, and the server ignores Range: read again, skipping.
    let p = rpm_file(&v, &repo, "8.el8", Xz, true);
    add("8.el8", &p, None);
    fs::write(format!("{}.cut", p.display()), "").unwrap();
    fs::write(format!("{}.norange", p.display()), "").unwrap();

    let list: Vec<Rpm> = rpms
        .iter()
        .map(|(rel, size, sum)| {
            (
                "kernel-debuginfo",
                "6.1.999",
                rel.as_str(),
                "x86_64",
                *size,
                sum.as_str(),
            )
        })
        .collect();
    yum_repo(&repo, &list, "sha256");
    let server = Server::start(work.dir());
    let mirror = format!("{}/repo", server.base);
    let cat = pkg_catalog(&work, "yum");
    let out = work.path("out");
    let (ok, stdout, log) = fetch_run(
        &cat,
        &mirror,
        &out,
        &["-j", "3", "--retries", "3", "--json"],
    );
    eprintln!("{log}");
    assert!(!ok, "failures must fail the run:\n{log}");
    let btf = |rel: &str| out.join(format!("test/1/x86_64/6.1.999-{rel}.x86_64.btf"));
    for rel in ["1.el8", "2.el8", "8.el8"] {
        let got = fs::read(btf(rel)).unwrap_or_else(|e| panic!("{rel}: {e}\n{log}"));
        assert!(
            got == v.reference,
            "{rel}: BTF differs from btfgen on the ELF"
        );
        let l = line_of(&log, &format!("6.1.999-{rel}.x86_64"));
        assert!(l.contains("done") && l.contains("sha256 verified"), "{l}");
    }
    assert!(
        line_of(&log, "6.1.999-1.el8.x86_64").contains("resumed 1 times"),
        "{log}"
    );
    assert!(
        line_of(&log, "6.1.999-2.el8.x86_64").contains("2 retries"),
        "{log}"
    );
    let l = line_of(&log, "6.1.999-8.el8.x86_64");
    assert!(l.contains("1 retries") && !l.contains("resumed"), "{l}");
    let requests = fs::read_to_string(work.path("requests.log")).unwrap();
    assert!(
        requests
            .lines()
            .any(|l| l.contains("6.1.999-1.el8") && !l.ends_with(" -")),
        "no Range request:\n{requests}"
    );
    for (rel, want) in [
        ("3.el8", "sha256"),
        ("4.el8", "HTTP 404"),
        ("5.el8", "corrupt"),
        ("6.el8", "no vmlinux"),
        ("7.el8", "HTTP 503"),
    ] {
        let l = line_of(&log, &format!("6.1.999-{rel}.x86_64"));
        assert!(l.contains("FAILED") && l.contains(want), "{rel}: {l}");
        assert!(!btf(rel).exists(), "{rel}: output written");
    }
    // 404 is not retried; the checksum mismatch is not retried either.
    let count = |rel: &str| {
        requests
            .lines()
            .filter(|l| l.contains(&format!("6.1.999-{rel}.x86_64.rpm")))
            .count()
    };
    assert_eq!(count("4.el8"), 1, "{requests}");
    assert_eq!(count("3.el8"), 1, "{requests}");
    assert_eq!(count("7.el8"), 4, "{requests}");
    assert!(
        stdout.contains("\"done\":3,\"skipped\":0,\"failed\":5"),
        "{stdout}"
    );
    assert!(log.contains("3 written, 0 already done, 5 failed"), "{log}");
    // No stray temporary files.
    let names: Vec<_> = fs::read_dir(out.join("test/1/x86_64"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    // Second run: the done kernels are skipped, not downloaded again.
    fs::remove_file(work.path("requests.log")).unwrap();
    let (ok, _, log) = fetch_run(
        &cat,
        &mirror,
        &out,
        &[
            "--kernel",
            "6.1.999-1.el8.x86_64",
            "--kernel",
            "6.1.999-2.el8.x86_64",
        ],
    );
    assert!(ok, "{log}");
    assert!(log.contains("0 written, 2 already done, 0 failed"), "{log}");
    let requests = fs::read_to_string(work.path("requests.log")).unwrap();
    assert!(!requests.contains(".rpm"), "{requests}");

    // --tar-xz: BTFHub's container, holding `<uname -r>.btf`.
    let out2 = work.path("out2");
    let (ok, _, log) = fetch_run(
        &cat,
        &mirror,
        &out2,
        &["--kernel", "6.1.999-2.el8.x86_64", "--tar-xz"],
    );
    assert!(ok, "{log}");
    let txz = out2.join("test/1/x86_64/6.1.999-2.el8.x86_64.btf.tar.xz");
    let x = work.path("x");
    fs::create_dir_all(&x).unwrap();
    run_ok(
        Command::new(require_tool("tar"))
            .arg("xJf")
            .arg(&txz)
            .arg("-C")
            .arg(&x),
    );
    assert!(fs::read(x.join("6.1.999-2.el8.x86_64.btf")).unwrap() == v.reference);

    // --shard: the parts are disjoint and cover the kernels.
    let mut seen = HashSet::new();
    for i in 1..=2 {
        let o = work.path(&format!("shard{i}"));
        let (_, _, log) = fetch_run(
            &cat,
            &mirror,
            &o,
            &["--shard", &format!("{i}/2"), "--retries", "0"],
        );
        for l in log.lines().filter(|l| l.starts_with("btfgen: [")) {
            let uname = l
                .split(": ")
                .nth(1)
                .unwrap()
                .split(' ')
                .nth(3)
                .unwrap()
                .to_string();
            assert!(seen.insert(uname.clone()), "{uname} in two shards");
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
}

#[test]
fn fetch_apt_deb() {
    let v = demo_vmlinux();
    let work = Work::new();
    let rel = "6.1.0-99-cloud-amd64";
    let name = format!("linux-image-{rel}-dbg");
    let root = work.path("pkgroot");
    let boot = root.join("usr/lib/debug/boot");
    fs::create_dir_all(&boot).unwrap();
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    // A vmlinux that already carries .BTF (encoded from DWARF all the same).
    let elf = work.path("vmlinux-with-btf");
    run_ok(
        Command::new(require_tool("objcopy"))
            .arg("--add-section")
            .arg(format!(".BTF={}", v.work.path("reference.btf").display()))
            .arg(&v.work.obj)
            .arg(&elf),
    );
    let reference = work.path("with-btf.btf");
    let o = btfgen([elf.as_os_str(), "-o".as_ref(), reference.as_os_str()]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already has a .BTF"));
    let reference = fs::read(&reference).unwrap();
    fs::copy(&elf, boot.join(format!("vmlinux-{rel}"))).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        format!("Package: {name}\nVersion: 6.1.999-1\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: test\n"),
    )
    .unwrap();
    let deb = work.path(&format!(
        "debian/pool/main/l/linux/{name}_6.1.999-1_amd64.ddeb"
    ));
    fs::create_dir_all(deb.parent().unwrap()).unwrap();
    run_ok(
        Command::new(require_tool("dpkg-deb"))
            .args(["-Zxz", "--root-owner-group", "--build"])
            .arg(&root)
            .arg(&deb),
    );
    let size = fs::metadata(&deb).unwrap().len();
    let p = work.path("debian/dists/focal/main/binary-amd64/Packages");
    write(&p, &stanza(&name, "6.1.999-1", size, &sha256(&deb)));
    compress("xz", &p);
    release_file(&work.path("debian/dists/focal"));
    let server = Server::start(work.dir());
    let mirror = format!("{}/debian", server.base);
    let cat = pkg_catalog(&work, "apt");
    let out = work.path("out");
    let (ok, stdout, log) = fetch_run(&cat, &mirror, &out, &["--json"]);
    assert!(ok, "{log}");
    let got = fs::read(out.join(format!("test/1/x86_64/{rel}.btf"))).unwrap();
    assert!(got == reference, "BTF differs from btfgen on the ELF");
    assert!(line_of(&log, rel).contains("already has .BTF"), "{log}");
    assert!(log.contains("1 vmlinux already had .BTF"), "{log}");
    assert!(
        stdout.contains("\"had_btf\":true") && stdout.contains("\"verified\":\"sha256\""),
        "{stdout}"
    );
    // dpkg-deb writes no md5sums (dh_md5sums does): the vmlinux is not checked, and
    // both the log and the summary say so.
    let unchecked = "control.tar has no md5sums: the vmlinux is not checked";
    assert!(
        stdout.contains(&format!("\"warning\":\"{unchecked}\"")),
        "{stdout}"
    );
    assert!(
        line_of(&log, rel).contains(&format!("warning: {unchecked}")),
        "{log}"
    );
    let (ok, _, log) = fetch_run(&cat, &mirror, &out, &[]);
    assert!(ok && log.contains("1 already done"), "{log}");
}

#[test]
fn fetch_download_times_out() {
    let v = demo_vmlinux();
    let work = Work::new();
    let repo = work.path("repo");
    let p = rpm_file(&v, &repo, "1.el8", rpm::CompressionType::Zstd, true);
    let size = fs::metadata(&p).unwrap().len();
    let sum = sha256(&p);
    // The package lies on a server that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let xml = primary_xml(&[("kernel-debuginfo", "6.1.999", "1.el8", "x86_64", size, &sum)])
        .replace(
            "href=\"Packages/",
            &format!("href=\"http://{}/Packages/", silent.local_addr().unwrap()),
        );
    let primary = repo.join("repodata/abc-primary.xml");
    write(&primary, &xml);
    let gz = compress("gzip", &primary);
    let gsize = fs::metadata(&gz).unwrap().len();
    write(
        &repo.join("repodata/repomd.xml"),
        &repomd_xml("repodata/abc-primary.xml.gz", "sha256", &sha256(&gz), gsize),
    );
    let server = Server::start(work.dir());
    let cat = pkg_catalog(&work, "yum");
    let out = work.path("out");
    let t = Instant::now();
    let (ok, _, log) = fetch_run(
        &cat,
        &format!("{}/repo", server.base),
        &out,
        &["--timeout", "1", "--retries", "1"],
    );
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert!(!ok, "{log}");
    let l = line_of(&log, "6.1.999-1.el8.x86_64");
    assert!(
        l.contains("FAILED") && l.contains("gave up after 1 retries"),
        "{l}"
    );
    assert!(!out.join("test/1/x86_64/6.1.999-1.el8.x86_64.btf").exists());
    drop(silent);
}

/// Debian's real cloud -dbg package (cached by scripts/debian-kernel.sh), served from
/// a loopback apt repository: `fetch --mirror` finds it, verifies it and writes, in
/// BTFHub's layout, the same BTF as `btfgen` on the vmlinux dpkg-deb extracted.
#[test]
fn fetch_real_debian_package_from_loopback_apt() {
    let dir = btfgen_tests::debian_kernel("cloud-amd64");
    let deb = fs::read_dir(dir.join("dl"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a cached .deb");
    // linux-image-6.1.0-N-cloud-amd64-dbg_VERSION_amd64.deb
    let file = deb.file_name().unwrap().to_string_lossy().into_owned();
    let mut parts = file.split('_');
    let (name, ver) = (parts.next().unwrap(), parts.next().unwrap());
    let rel = name
        .strip_prefix("linux-image-")
        .and_then(|r| r.strip_suffix("-dbg"))
        .unwrap();
    let work = Work::new();
    let pooled = work.path(&format!("debian/pool/main/l/linux/{name}_{ver}_amd64.ddeb"));
    fs::create_dir_all(pooled.parent().unwrap()).unwrap();
    fs::hard_link(&deb, &pooled)
        .or_else(|_| fs::copy(&deb, &pooled).map(|_| ()))
        .unwrap();
    let size = fs::metadata(&deb).unwrap().len();
    let p = work.path("debian/dists/focal/main/binary-amd64/Packages");
    write(&p, &stanza(name, ver, size, &sha256(&deb)));
    compress("xz", &p);
    release_file(&work.path("debian/dists/focal"));
    let server = Server::start(work.dir());
    let cat = pkg_catalog(&work, "apt");
    let out = work.path("out");
    let (ok, stdout, log) = fetch_run(&cat, &format!("{}/debian", server.base), &out, &["--json"]);
    assert!(ok, "{log}");
    assert!(stdout.contains("\"verified\":\"sha256\""), "{stdout}");
    let got = fs::read(out.join(format!("test/1/x86_64/{rel}.btf"))).unwrap();
    let reference = work.path("reference.btf");
    let o = btfgen([
        dir.join("vmlinux").as_os_str(),
        "-o".as_ref(),
        reference.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        got == fs::read(&reference).unwrap(),
        "fetched BTF differs from btfgen on the extracted vmlinux"
    );
}
