//! `corepack test` on Debian's own kernels: scripts/verifier-e2e.sh compiles the
//! verifier fixtures (fixtures/bpf/verifier) with clang and loads them on Debian 11's
//! 5.10, 12's 6.1 and 13's 6.12 cloud kernels booted in `qemu-system-x86_64 -accel
//! tcg`, every object also loaded with bpftool (`prog loadall`) in the same guest.
//! Checks, from its JSON: every kernel booted and reported every program; each
//! verdict equals bpftool's for the same object on the same kernel; each rejection
//! names a message, the failing instruction and a C line that is that line of the
//! fixture's source; the fixes (masked, asm_bound) load everywhere and the unchecked
//! index (no_bound) nowhere. Then `corepack test --bundle` on the 6.1 kernel must take
//! core_read's BTF from the bundle's entry for that kernel (built by btfgen from the
//! kernel's -dbg package) and relocate with it. See docs/verifier.md.
//!
//! Downloads (cached in ~/.cache/btfgen) the three linux-image-*-cloud-amd64-unsigned
//! packages (about 80 MB) and the 6.1 kernel's -dbg package (shared with tests/qemu.rs);
//! warm, the script takes about 40 s.

use std::collections::BTreeSet;
use std::process::Command;

use btfgen_tests::{btfgen_bin, corepack_bin, require_tool, require_tool_from, workspace_root};
use serde_json::Value;

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
}

#[test]
fn fixtures_verdicts_on_three_debian_kernels_equal_bpftools() {
    require_tool_from("qemu-system-x86_64", "qemu-system-x86");
    require_tool("clang");
    require_tool("gcc");
    require_tool("bpftool");
    require_tool("dpkg-deb");
    require_tool("apt-get");
    let root = workspace_root();
    let script = root.join("scripts/verifier-e2e.sh");
    let o = Command::new("bash")
        .arg(&script)
        .env("COREPACK_BIN", corepack_bin())
        .env("BTFGEN_BIN", btfgen_bin())
        .env("JSON", "1")
        .env("BUNDLE", "1")
        .env("ACCEL", "tcg")
        .env_remove("SUITES")
        .env_remove("OUT")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let shown = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    eprintln!("{stderr}");
    // 1: some program was rejected somewhere (the fixtures include rejected ones);
    // anything else is the script failing.
    assert_eq!(o.status.code(), Some(1), "{shown}");
    let docs: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON ({e}): {l}")))
        .collect();
    assert_eq!(docs.len(), 2, "two corepack test runs\n{shown}");

    let fixtures = root.join("fixtures/bpf/verifier");
    let programs: BTreeSet<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".bpf.c").map(str::to_string)
        })
        .collect();
    let kernels = docs[0]["kernels"].as_array().unwrap();
    let releases: Vec<&str> = kernels.iter().map(|k| str_of(k, "release")).collect();
    assert_eq!(releases.len(), 3, "{releases:?}");
    for (r, series) in releases.iter().zip(["5.10.", "6.1.", "6.12."]) {
        assert!(r.starts_with(series), "{releases:?}");
    }
    for k in kernels {
        let release = str_of(k, "release");
        assert!(k["error"].is_null(), "{release}: {}", k["error"]);
        let progs = k["programs"].as_array().unwrap();
        let names: BTreeSet<String> = progs.iter().map(|p| str_of(p, "program").into()).collect();
        assert_eq!(names, programs, "{release}: programs reported");
        for p in progs {
            let name = str_of(p, "program");
            let object = str_of(p, "object");
            let accepted = match str_of(p, "verdict") {
                "accepted" => true,
                "rejected" | "refused" => false,
                v => panic!("{release} {name}: verdict {v}"),
            };
            // bpftool's `prog loadall` of the same object in the same guest.
            let bpftool: Vec<&Value> = k["bpftool"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| str_of(b, "object") == object)
                .collect();
            assert_eq!(bpftool.len(), 1, "{release} {object}: bpftool runs");
            let bpftool_ok = bpftool[0]["status"].as_i64() == Some(0);
            assert_eq!(
                accepted, bpftool_ok,
                "{release} {name}: corepack test says {}, bpftool {}",
                p["verdict"], bpftool[0]
            );
            if accepted {
                continue;
            }
            // The rejection in C terms: the message, the instruction and the C line,
            // which must be that line of the fixture (or the header it includes).
            assert!(!str_of(p, "message").is_empty(), "{release} {name}: {p}");
            assert!(p["insn"].as_u64().is_some(), "{release} {name}: {p}");
            let src = &p["source"];
            let file = str_of(src, "file");
            let line = src["line"].as_u64().unwrap() as usize;
            let text = str_of(src, "text");
            let path = root.join(file.trim_start_matches("./"));
            assert!(
                path.starts_with(&fixtures),
                "{release} {name}: {file} is not a fixture"
            );
            let source = std::fs::read_to_string(&path).unwrap();
            let want = source.lines().nth(line - 1).unwrap_or("").trim();
            assert_eq!(text, want, "{release} {name}: {file}:{line}");
        }
        let verdict = |n: &str| {
            let p = progs.iter().find(|p| str_of(p, "program") == n).unwrap();
            str_of(p, "verdict").to_string()
        };
        for fixed in ["masked", "asm_bound", "core_read"] {
            assert_eq!(verdict(fixed), "accepted", "{release}: {fixed}");
        }
        assert_eq!(verdict("no_bound"), "rejected", "{release}: no_bound");
    }

    // The bundle: core_read's BTF from the bundle's entry for the 6.1 kernel.
    let k = &docs[1]["kernels"][0];
    let release = str_of(k, "release");
    assert!(release.starts_with("6.1."), "{k}");
    assert!(
        str_of(k, "btf").starts_with(&format!("bundle entry x86_64 {release} debian 12 ")),
        "{k}"
    );
    let p = &k["programs"][0];
    assert_eq!(str_of(p, "program"), "core_read", "{k}");
    assert_eq!(str_of(p, "verdict"), "accepted", "{k}");
    assert!(p["relocations"]["patched"].as_u64() >= Some(1), "{k}");
}
