//! Untrusted text (issue #13, class 2): escape sequences in BTF names, package member
//! names, repository metadata, kernel BTF file names and bundle strings never reach a
//! terminal raw. Text outputs and error lines show them escaped (`\x1b`, `\x07`, ...,
//! btfgen::text), JSON carries them exactly, the C dump refuses a name that is not a
//! C identifier, and a repository's package whose `uname -r` is not a kernel release
//! is never listed (so never becomes a file name). `corepack trace`'s text line is
//! unit-tested beside its formatter (corepack/src/trace/event.rs).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use btfgen_tests::repo_server::{fetch_list, write, Server, YUM_TEST_CATALOG};
use btfgen_tests::{btfgen, fixtures_dir, Work};

use super::{corepack_bin, deb, refused, rpm, Inputs};

/// Clears the screen, then sets the window title (OSC 0, ended by BEL).
const CLEAR_AND_TITLE: &str = "\x1b[2J\x1b]0;pwned\x07";
/// [`CLEAR_AND_TITLE`] as the escaped text shows it.
const CLEAR_AND_TITLE_SHOWN: &str = "\\x1b[2J\\x1b]0;pwned\\x07";
/// [`CLEAR_AND_TITLE`] as a JSON string spells it.
const CLEAR_AND_TITLE_JSON: &str = "\\u001b[2J\\u001b]0;pwned\\u0007";

/// Asserts that `bytes` (what `what` wrote to a terminal) are UTF-8 with no control
/// character but newline and tab: no ESC, BEL, DEL, nor C1 control.
#[track_caller]
fn clean(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        panic!("{what}: raw {c:?} in\n{}", text.escape_debug());
    }
}

/// Asserts [`clean`] stdout and stderr.
#[track_caller]
fn both_clean(what: &str, o: &Output) {
    clean(&format!("{what} (stdout)"), &o.stdout);
    clean(&format!("{what} (stderr)"), &o.stderr);
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Raw BTF: `[1] INT int`, `[2] STRUCT <name>` of 4 bytes with one `int` member
/// `<member>`.
fn btf(name: &[u8], member: &[u8]) -> Vec<u8> {
    let mut strs = b"\0int\0".to_vec();
    let name_off = strs.len() as u32;
    strs.extend_from_slice(name);
    strs.push(0);
    let member_off = strs.len() as u32;
    strs.extend_from_slice(member);
    strs.push(0);
    let words: [u32; 10] = [
        1,
        1 << 24,
        4,
        1 << 24 | 32,
        name_off,
        4 << 24 | 1,
        4,
        member_off,
        1,
        0,
    ];
    let types: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut out = vec![0x9f, 0xeb, 1, 0];
    for v in [
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strs.len() as u32,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&types);
    out.extend_from_slice(&strs);
    out
}

#[test]
fn btf_names_in_dumps_and_diffs() {
    let work = Work::new();
    let name = format!("evil{CLEAR_AND_TITLE}");
    let hostile = work.path("hostile.btf");
    // The member: red text, DEL, and U+009B (the C1 CSI) in UTF-8.
    fs::write(
        &hostile,
        btf(name.as_bytes(), "m\x1b[31m\x7f\u{9b}1m".as_bytes()),
    )
    .unwrap();
    let plain = work.path("plain.btf");
    fs::write(&plain, btf(b"evil", b"m")).unwrap();
    let h = hostile.as_os_str();

    let o = btfgen([OsStr::new("dump"), h]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("dump", &o);
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!(
            "STRUCT 'evil{CLEAR_AND_TITLE_SHOWN}' size=4 vlen=1"
        )),
        "{out}"
    );
    assert!(
        out.contains("'m\\x1b[31m\\x7f\\u{9b}1m' type_id=1"),
        "{out}"
    );

    // JSON: the exact characters, in JSON's escapes.
    let o = btfgen([OsStr::new("dump"), h, "--format".as_ref(), "json".as_ref()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("dump --format json", &o);
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!("\"name\":\"evil{CLEAR_AND_TITLE_JSON}\"")),
        "{out}"
    );
    assert!(
        out.contains("\"name\":\"m\\u001b[31m\\u007f\\u009b1m\""),
        "{out}"
    );

    // C: refused, one line naming the type escaped, and no header written.
    let header = work.path("vmlinux.h");
    let o = btfgen([
        OsStr::new("dump"),
        h,
        "--format".as_ref(),
        "c".as_ref(),
        "-o".as_ref(),
        header.as_os_str(),
    ]);
    refused("dump --format c", &o, Some(&header));
    both_clean("dump --format c", &o);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "type 2: name `evil{CLEAR_AND_TITLE_SHOWN}` is not a C identifier"
        )),
        "{err}"
    );
    // The name is fine and the member is not: refused all the same.
    fs::write(&hostile, btf(b"evil", b"m\x1b[31m")).unwrap();
    let o = btfgen([OsStr::new("dump"), h, "--format".as_ref(), "c".as_ref()]);
    refused("dump --format c (member)", &o, None);
    both_clean("dump --format c (member)", &o);
    assert!(
        text(&o.stderr).contains("type 2: member `m\\x1b[31m` is not a C identifier"),
        "{}",
        text(&o.stderr)
    );
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));

    // diff: the changed member, escaped in the text (exit 1: a difference), exact
    // in JSON.
    let o = btfgen([OsStr::new("diff"), plain.as_os_str(), h]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    both_clean("diff", &o);
    let out = text(&o.stdout);
    assert!(out.contains("m\\x1b[31m"), "{out}");
    let o = btfgen([OsStr::new("diff"), plain.as_os_str(), h, "--json".as_ref()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    both_clean("diff --json", &o);
    assert!(
        text(&o.stdout).contains("m\\u001b[31m"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn kernel_file_names_in_check() {
    let inp = Inputs::new();
    let dir = inp.path("btfs");
    fs::create_dir(&dir).unwrap();
    // A kernel BTF directory holding a file named to clear the screen: one good BTF,
    // one that is not BTF (the error row quotes its name).
    fs::copy(
        inp.path("demo.btf"),
        dir.join(format!("6.1{CLEAR_AND_TITLE}.btf")),
    )
    .unwrap();
    fs::write(dir.join(format!("6.2{CLEAR_AND_TITLE}.btf")), b"not BTF").unwrap();
    let o = btfgen([
        OsStr::new("check"),
        fixtures_dir().join("demo.bpf.o").as_os_str(),
        "--btf".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(!o.status.success(), "a broken BTF passed the check");
    both_clean("check", &o);
    let all = text(&o.stdout) + &text(&o.stderr);
    assert!(
        all.contains(&format!("6.1{CLEAR_AND_TITLE_SHOWN}.btf")),
        "{all}"
    );
    assert!(
        all.contains(&format!("6.2{CLEAR_AND_TITLE_SHOWN}.btf")),
        "{all}"
    );
}

#[test]
fn package_member_names() {
    let inp = Inputs::new();
    let elf = fs::read(fixtures_dir().join("demo.o")).unwrap();
    // A vmlinux whose path names a release with escape sequences: encoded (a local
    // package's release names no file), shown escaped by -v.
    let member = format!("./usr/lib/debug/boot/vmlinux-6.1.0{CLEAR_AND_TITLE}");
    let (p, out) = inp.put("odd.deb", &deb(&[(&member, b'0', &elf)]));
    let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str(), "-v".as_ref()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("encode -v", &o);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "vmlinux ./usr/lib/debug/boot/vmlinux-6.1.0{CLEAR_AND_TITLE_SHOWN} ("
        )) && err.contains(&format!("uname -r 6.1.0{CLEAR_AND_TITLE_SHOWN},")),
        "{err}"
    );
    // A member escaping the package, named with escape sequences: refused, the error
    // quoting it escaped.
    let unsafe_member = format!("../{CLEAR_AND_TITLE}");
    for (name, pkg) in [
        ("evil.deb", deb(&[(&unsafe_member, b'0', &elf)])),
        ("evil.rpm", rpm(&[(&unsafe_member, &elf)])),
    ] {
        let (p, out) = inp.put(name, &pkg);
        let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        refused(name, &o, Some(&out));
        both_clean(name, &o);
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!(
                "member `../{CLEAR_AND_TITLE_SHOWN}` has an absolute path"
            )),
            "{name}: {err}"
        );
    }
}

#[test]
fn repository_metadata_in_fetch_list() {
    use btfgen_tests::repo_fixtures::{primary_xml, SUM_A};
    let work = Work::new();
    // Two good kernels, one whose location carries escape sequences, and one whose
    // release does (its `uname -r` would be a file name: never listed).
    let mut primary = primary_xml(&[
        ("kernel-debuginfo", "3.10.0", "957.el7", "x86_64", 1, SUM_A),
        ("kernel-debuginfo", "3.10.0", "1160.el7", "x86_64", 1, SUM_A),
        (
            "kernel-debuginfo",
            "3.10.0",
            &format!("1062.el7{CLEAR_AND_TITLE}"),
            "x86_64",
            1,
            SUM_A,
        ),
    ]);
    primary = primary.replace(
        "Packages/kernel-debuginfo-3.10.0-957.el7.x86_64.rpm",
        &format!("Packages/{CLEAR_AND_TITLE}.rpm"),
    );
    let repomd = "<?xml version=\"1.0\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n  <data type=\"primary\">\n    <location href=\"repodata/primary.xml\"/>\n  </data>\n</repomd>\n";
    write(&work.path("repo/repodata/repomd.xml"), repomd);
    write(&work.path("repo/repodata/primary.xml"), &primary);
    let server = Server::start(work.dir());
    let cat = work.path("mine.toml");
    fs::write(&cat, YUM_TEST_CATALOG).unwrap();
    let out_dir = work.path("out");
    let mirror = format!("{}/repo", server.base);
    let out = out_dir.to_str().unwrap();
    let run = |extra: &[&str]| fetch_list(&cat, &mirror, &[&["-o", out], extra].concat());
    let o = run(&[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("fetch --list", &o);
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "test-1 x86_64: 2 of 2 kernels", "{out}");
    assert!(
        lines[1].starts_with("3.10.0-957.el7.x86_64\t-\t1\thttp://127.0.0.1:")
            && lines[1].ends_with(&format!("/repo/Packages/{CLEAR_AND_TITLE_SHOWN}.rpm")),
        "{out}"
    );
    assert!(lines[2].starts_with("3.10.0-1160.el7.x86_64\t"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    assert!(!out_dir.exists());

    // A release asked for that the repository does not have: the error line quotes
    // the name escaped.
    let wanted = format!("3.10.0-1062.el7{CLEAR_AND_TITLE}.x86_64");
    let o = run(&["--kernel", &wanted]);
    refused("fetch --kernel", &o, Some(&out_dir));
    both_clean("fetch --kernel", &o);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "kernel 3.10.0-1062.el7{CLEAR_AND_TITLE_SHOWN}.x86_64 not found (nearest: "
        )),
        "{err}"
    );
}

#[test]
fn bundle_strings_in_corepack_inspect() {
    let inp = Inputs::new();
    let mut b = corepack::BundleBuilder::new(&format!("prog{CLEAR_AND_TITLE}"), "1\x1b[31m");
    b.add_object(&format!("x{CLEAR_AND_TITLE}.bpf.o"), b"\x7fELF");
    b.add_kernel(
        corepack::KernelId::new(
            "x86_64",
            &format!("6.1.0{CLEAR_AND_TITLE}"),
            "debian\x1b[31m",
            "12",
        ),
        &inp.read("demo.btf"),
    )
    .unwrap();
    let (bundle, _) = b.finish().unwrap();
    let (p, _) = inp.put("odd.corepack", &bundle);
    let inspect = |json: bool| {
        let mut cmd = Command::new(corepack_bin());
        cmd.arg("inspect").arg(&p);
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let o = inspect(false);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("corepack inspect", &o);
    let out = text(&o.stdout);
    for want in [
        format!("program   prog{CLEAR_AND_TITLE_SHOWN} 1\\x1b[31m"),
        format!("object    x{CLEAR_AND_TITLE_SHOWN}.bpf.o sha256:"),
        "distro    debian\\x1b[31m 12 x86_64: 1 kernels".to_string(),
        format!("kernel    debian\\x1b[31m 12 x86_64 6.1.0{CLEAR_AND_TITLE_SHOWN} blob 0"),
    ] {
        assert!(out.contains(&want), "{want}\n{out}");
    }
    let o = inspect(true);
    assert!(o.status.success(), "{}", text(&o.stderr));
    both_clean("corepack inspect --json", &o);
    let out = text(&o.stdout);
    for want in [
        format!("\"program\":\"prog{CLEAR_AND_TITLE_JSON}\""),
        format!("\"uname\":\"6.1.0{CLEAR_AND_TITLE_JSON}\""),
        "\"id\":\"debian\\u001b[31m\"".to_string(),
    ] {
        assert!(out.contains(&want), "{want}\n{out}");
    }
    assert!(Path::new(&p).exists());
}

/// A BTF directory whose names cannot be a kernel release, distro, version or arch is
/// refused by `corepack build` (those names go into the bundle, and `corepack select`
/// matches them against the machine's own): one escaped line, no bundle.
#[test]
fn corepack_build_refuses_names_that_cannot_be_kernels() {
    let inp = Inputs::new();
    let btf = inp.read("demo.btf");
    let obj = fixtures_dir().join("demo.bpf.o");
    for (i, (dirs, file, named)) in [
        (
            "debian/12/x86_64",
            format!("6.1.0{CLEAR_AND_TITLE}.btf"),
            "a kernel release",
        ),
        (
            "debian/12/x86_64",
            "vmlinux.btf".to_string(),
            "a kernel release",
        ),
        (
            "deb\x1b[31mian/12/x86_64",
            "6.1.0-1-amd64.btf".to_string(),
            "a distro ID",
        ),
        (
            "debian/1 2/x86_64",
            "6.1.0-1-amd64.btf".to_string(),
            "a VERSION_ID",
        ),
        (
            "debian/12/.x",
            "6.1.0-1-amd64.btf".to_string(),
            "an architecture",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = inp.path(&format!("kd{i}"));
        fs::create_dir_all(dir.join(dirs)).unwrap();
        fs::write(dir.join(dirs).join(&file), &btf).unwrap();
        let out = inp.path(&format!("b{i}.corepack"));
        let o = Command::new(corepack_bin())
            .arg("build")
            .arg("--object")
            .arg(&obj)
            .arg("--btf-dir")
            .arg(&dir)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        refused(
            &format!("corepack build {dirs}/{}", file.escape_debug()),
            &o,
            Some(&out),
        );
        both_clean("corepack build", &o);
        assert!(
            text(&o.stderr).contains(&format!("cannot be {named}")),
            "{}",
            text(&o.stderr)
        );
    }
}
