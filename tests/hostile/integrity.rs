//! Integrity checks (issue #13, class 5): a check that cannot check says so, it never
//! says ok. A yum repository that publishes sha1 gets its primary.xml checked; `corepack
//! verify` parses every blob and refuses what `btfgen min` refuses; the tracer refuses
//! such a blob in one line before loading anything; BTF whose type and string sections
//! overlap (which the kernel refuses) is refused by every command that reads BTF.
//!
//! Expected digests come from coreutils (`sha1sum`), not from btfgen.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

use btfgen_tests::repo_fixtures::{primary_xml, CENTOS_RPMS};
use btfgen_tests::repo_server::{
    fetch_list, file_digest, repomd_xml, write, Server, YUM_TEST_CATALOG,
};
use btfgen_tests::{btfgen, corepack_bin, Work};
use corepack::{BundleBuilder, Environment, KernelId};

use super::{bpf_object, cyclic_btfs, dump_args, refused, Blob, Inputs, PTR, STRINGS};

#[test]
fn yum_sha1_repository_with_a_tampered_primary_is_refused() {
    let work = Work::new();
    let repo = work.path("repo");
    // An uncompressed primary.xml: the tampered file keeps its size, so only the
    // digest can tell (repomd gives both).
    let primary = repo.join("repodata/abc-primary.xml");
    write(&primary, &primary_xml(CENTOS_RPMS));
    let sha1 = file_digest("sha1sum", &primary);
    let size = fs::metadata(&primary).unwrap().len();
    write(
        &repo.join("repodata/repomd.xml"),
        &repomd_xml("repodata/abc-primary.xml", "sha", &sha1, size),
    );
    let catalog = work.path("catalog.toml");
    fs::write(&catalog, YUM_TEST_CATALOG).unwrap();
    let server = Server::start(work.dir());
    let mirror = format!("{}/repo/", server.base);

    // As published: listed.
    let o = fetch_list(&catalog, &mirror, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("3.10.0-1160.119.1.el7.x86_64"), "{stdout}");

    // A kernel release changed in place, same length: the sha1 no longer matches.
    let text = fs::read_to_string(&primary).unwrap();
    let tampered = text.replace("1160.119.1.el7", "1160.119.9.el7");
    assert_ne!(tampered, text);
    assert_eq!(tampered.len(), text.len());
    fs::write(&primary, tampered).unwrap();
    let got = file_digest("sha1sum", &primary);
    let o = fetch_list(&catalog, &mirror, &[]);
    refused("fetch --list, tampered sha1 primary", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}/repo/repodata/abc-primary.xml: sha1 {got}, expected {sha1}",
            server.base
        )),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("119.9"));

    // A checksum type btfgen does not know is refused, not passed over.
    write(
        &repo.join("repodata/repomd.xml"),
        &repomd_xml("repodata/abc-primary.xml", "sha3-256", &sha1, size),
    );
    let o = fetch_list(&catalog, &mirror, &[]);
    refused("fetch --list, unknown checksum type", &o, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("repomd.xml: primary record: unknown digest algorithm \"sha3-256\""),
        "{err}"
    );
}

/// A bundle of one kernel, `kernel`, whose blob is `btf` (any bytes: the builder does
/// not look inside).
fn bundle(kernel: KernelId, btf: &[u8]) -> Vec<u8> {
    let mut b = BundleBuilder::new("hostile", "1");
    b.add_object("x.bpf.o", b"\x7fELF");
    b.add_kernel(kernel, btf).unwrap();
    b.finish().unwrap().0
}

/// 64 MiB of zeros (the largest blob a bundle may hold), cyclic BTF and BTF with
/// overlapping sections, each with the start of the one-line error saying why.
fn unusable_blobs() -> Vec<(String, Vec<u8>, String)> {
    let mut out = vec![(
        "64 MiB of zeros".to_string(),
        vec![0u8; 64 << 20],
        "not BTF: bad magic 0x0000".to_string(),
    )];
    for (name, data) in cyclic_btfs() {
        out.push((
            format!("cyclic BTF {name}"),
            data,
            "invalid BTF type ".into(),
        ));
    }
    out.push((
        "overlapping sections".into(),
        overlapping(),
        "invalid BTF header: the type and string sections overlap".into(),
    ));
    out
}

#[test]
fn corepack_verify_parses_every_blob() {
    let inp = Inputs::new();
    let kernel = KernelId::new("x86_64", "6.1.0-1-amd64", "debian", "12");
    for (what, blob, why) in unusable_blobs() {
        let (p, _) = inp.put("bad.corepack", &bundle(kernel.clone(), &blob));
        let before = fs::read(&p).unwrap();
        let o = Command::new(corepack_bin())
            .arg("verify")
            .arg(&p)
            .output()
            .unwrap();
        refused(&format!("corepack verify: {what}"), &o, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "{}: blob 0 (debian 12 x86_64 6.1.0-1-amd64): {why}",
                p.display()
            )),
            "{what}: {err}"
        );
        assert_eq!(
            err.matches(why.as_str()).count(),
            1,
            "{what}: said twice: {err}"
        );
        assert!(!err.contains("ok ("), "{what}: {err}");
        assert_eq!(fs::read(&p).unwrap(), before, "{what}: bundle changed");
    }
}

#[test]
fn corepack_trace_refuses_unusable_btf_before_loading() {
    let inp = Inputs::new();
    // The running machine's identity, so that `--btf-source bundle` selects the blob.
    let env = Environment::detect(None);
    let (id, version) = env.os_ids();
    let here = KernelId::new(&env.arch, &env.uname, &id, &version);
    for (what, blob, why) in unusable_blobs() {
        let (b, _) = inp.put("trace.corepack", &bundle(here.clone(), &blob));
        let (f, _) = inp.put("trace.btf", &blob);
        for (source, args) in [
            (
                "bundle",
                vec![
                    OsStr::new("--bundle"),
                    b.as_os_str(),
                    "--btf-source".as_ref(),
                    "bundle".as_ref(),
                ],
            ),
            ("file", vec![OsStr::new("--btf-source"), f.as_os_str()]),
        ] {
            let o = Command::new(corepack_bin())
                .arg("trace")
                .args(&args)
                .args(["--count", "1"])
                .output()
                .unwrap();
            refused(&format!("corepack trace, {source}: {what}"), &o, None);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(&format!("the selected BTF is not usable: {why}")),
                "{source}: {what}: {err}"
            );
            assert_eq!(err.matches(why.as_str()).count(), 1, "said twice: {err}");
            assert!(!err.contains("tracing sched_process_exec"), "{err}");
        }
    }
}

/// `[1] PTR '(anon)' type_id=0`, whose 12 bytes are both the type section and the
/// string section (which starts and ends with NUL): the layout libbpf and the kernel
/// refuse.
fn overlapping() -> Vec<u8> {
    let mut b = Blob::new().refer(PTR, 0).header(3, 0).header(4, 12).build();
    b.truncate(24 + 12);
    b
}

#[test]
fn btf_with_overlapping_sections_is_refused() {
    let inp = Inputs::new();
    let obj = bpf_object(&inp.work);
    // Overlap, and its kin the kernel refuses the same way: a gap between the
    // sections, bytes after them.
    let good = Blob::new().int().build();
    let types_len = good.len() - 24 - STRINGS.len();
    let mut gap = Blob::new().int().header(3, types_len as u32 + 4).build();
    gap.splice(24 + types_len..24 + types_len, [0u8; 4]);
    let trailing = [good.as_slice(), &[0]].concat();
    let cases = [
        (
            "overlap",
            overlapping(),
            "invalid BTF header: the type and string sections overlap",
        ),
        (
            "gap",
            gap,
            "invalid BTF header: data between the type and string sections",
        ),
        (
            "trailing",
            trailing,
            "invalid BTF header: data after the string section",
        ),
    ];
    for (name, data, why) in cases {
        let (p, out) = inp.put(&format!("{name}.btf"), &data);
        let mut runs: Vec<(String, Vec<&OsStr>, Option<&Path>)> = ["text", "c", "json"]
            .iter()
            .map(|f| {
                (
                    format!("dump --format {f} {name}"),
                    dump_args(f, &p, &out),
                    Some(out.as_path()),
                )
            })
            .collect();
        runs.push((
            format!("check --btf {name}"),
            vec![
                OsStr::new("check"),
                obj.as_os_str(),
                "--btf".as_ref(),
                p.as_os_str(),
            ],
            None,
        ));
        runs.push((
            format!("min --btf {name}"),
            vec![
                OsStr::new("min"),
                "--btf".as_ref(),
                p.as_os_str(),
                obj.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            Some(out.as_path()),
        ));
        for (what, args, out) in runs {
            let o = btfgen(&args);
            refused(&what, &o, out);
            let text = [o.stderr.as_slice(), &o.stdout].concat();
            let text = String::from_utf8_lossy(&text);
            assert!(text.contains(why), "{what}: {text}");
        }
    }
}
