//! The guest's programs: the agent (agent.c, compiled here with the system's C
//! compiler against static libbpf, libelf and zlib) and, on request, the system's
//! bpftool with the libraries and dynamic loader it runs on.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::VmtestError;

/// The agent's C source.
const AGENT_C: &str = include_str!("agent.c");

/// Compiles the agent into `work/agent`: `cc -static -O2 agent.c -lbpf -lelf -lz`.
pub(crate) fn build_agent(work: &Path) -> Result<Vec<u8>, VmtestError> {
    let src = work.join("agent.c");
    let out = work.join("agent");
    std::fs::write(&src, AGENT_C).map_err(|e| VmtestError::Io {
        path: src.clone(),
        error: e,
    })?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .args(["-lbpf", "-lelf", "-lz"])
        .output()
        .map_err(|e| VmtestError::Agent(format!("cannot run {cc}: {e}")))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let first = err.lines().find(|l| l.contains("error")).unwrap_or("");
        return Err(VmtestError::Agent(format!(
            "{cc} failed: {}",
            btfgen::text::escape(first.trim())
        )));
    }
    std::fs::read(&out).map_err(|e| VmtestError::Io {
        path: out,
        error: e,
    })
}

/// bpftool's files for the guest: (path in the guest under /vt/bpftool, bytes).
pub(crate) fn bpftool_files() -> Result<Vec<(String, Vec<u8>)>, VmtestError> {
    let bin = which("bpftool").ok_or_else(|| {
        VmtestError::Bpftool("bpftool not found: install the Debian package bpftool".into())
    })?;
    let o = Command::new("ldd")
        .arg(&bin)
        .output()
        .map_err(|e| VmtestError::Bpftool(format!("cannot run ldd: {e}")))?;
    let ldd = String::from_utf8_lossy(&o.stdout);
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| VmtestError::Io {
            path: p.to_path_buf(),
            error: e,
        })
    };
    let mut files = vec![("bpftool".to_string(), read(&bin)?)];
    let mut loader = None;
    for line in ldd.lines() {
        let line = line.trim();
        if let Some((name, rest)) = line.split_once(" => ") {
            let path = rest.split_whitespace().next().unwrap_or("");
            if path.starts_with('/') {
                files.push((format!("lib/{}", name.trim()), read(Path::new(path))?));
            }
        } else if line.starts_with('/') {
            let path = line.split_whitespace().next().unwrap_or("");
            loader = Some(read(Path::new(path))?);
        }
    }
    let loader = loader.ok_or_else(|| {
        VmtestError::Bpftool(format!("ldd names no dynamic loader for {}", bin.display()))
    })?;
    files.push(("ld.so".into(), loader));
    Ok(files)
}

/// `name` in $PATH, then in /usr/sbin and /sbin (bpftool's home, often not in a
/// user's $PATH).
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
