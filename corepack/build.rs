//! With the `trace` feature: compiles the tracer's BPF program (bpf/trace.bpf.c) with
//! clang (`$CLANG`, default `clang`) into `$OUT_DIR/trace.bpf.o`, and copies the bundle
//! named by `$COREPACK_EMBED_BUNDLE` (if set) to `$OUT_DIR/embedded.corepack` for the
//! binary to embed.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    if env::var_os("CARGO_FEATURE_TRACE").is_none() {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let src = "bpf/trace.bpf.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-env-changed=COREPACK_EMBED_BUNDLE");

    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let obj = out.join("trace.bpf.o");
    let status = Command::new(&clang)
        .args(["-target", "bpf", "-O2", "-g", "-c", src, "-o"])
        .arg(&obj)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{clang} failed to compile {src} ({s})"),
        Err(e) => panic!(
            "cannot run {clang} to compile {src}: {e} (install clang, or build corepack without the `trace` feature)"
        ),
    }

    let embedded = out.join("embedded.corepack");
    match env::var_os("COREPACK_EMBED_BUNDLE") {
        Some(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={}", PathBuf::from(&path).display());
            fs::copy(&path, &embedded).unwrap_or_else(|e| {
                panic!(
                    "COREPACK_EMBED_BUNDLE={}: {e}",
                    PathBuf::from(&path).display()
                )
            });
        }
        _ => fs::write(&embedded, b"").expect("write embedded.corepack"),
    }
}
