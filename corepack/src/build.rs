//! Building a bundle from BPF objects and a directory of kernel BTF in BTFHub's layout
//! (`DIR/ID/VERSION_ID/ARCH/<uname -r>.btf`, as `btfgen fetch` writes it): every kernel is
//! minimized for all objects with `btfgen::min`, in parallel. Feature `build`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use btfgen::bpf::BpfObject;
use btfgen::btf::Btf;
use btfgen::min::minimize;
use btfgen::relo::resolve_object;
use rayon::prelude::*;

use crate::format::{BuildStats, Bundle, BundleBuilder, KernelId};

/// One kernel BTF file found under the BTF directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelFile {
    pub kernel: KernelId,
    pub path: PathBuf,
}

fn dirs(p: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).with_context(|| format!("{}", p.display()))? {
        let e = e?;
        if e.file_type()?.is_dir() {
            out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The kernels under `dir` (`ID/VERSION_ID/ARCH/<uname -r>.btf`), sorted.
pub fn scan_btf_dir(dir: &Path) -> anyhow::Result<Vec<KernelFile>> {
    let mut out = Vec::new();
    for (id, p1) in dirs(dir)? {
        for (version_id, p2) in dirs(&p1)? {
            for (arch, p3) in dirs(&p2)? {
                for e in std::fs::read_dir(&p3).with_context(|| format!("{}", p3.display()))? {
                    let e = e?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(uname) = name.strip_suffix(".btf") {
                        if e.file_type()?.is_file() {
                            out.push(KernelFile {
                                kernel: KernelId::new(&arch, uname, &id, &version_id),
                                path: e.path(),
                            });
                        }
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.kernel.cmp(&b.kernel));
    Ok(out)
}

/// A BPF object read from disk: its file name, bytes and parse.
pub struct Object {
    pub name: String,
    pub bytes: Vec<u8>,
    pub parsed: BpfObject,
}

impl Object {
    /// Parses a BPF object held in memory, recorded in manifests as `name`.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> anyhow::Result<Object> {
        let parsed = BpfObject::parse(&bytes).with_context(|| name.to_string())?;
        Ok(Object {
            name: name.to_string(),
            bytes,
            parsed,
        })
    }
}

/// Reads and parses BPF objects.
pub fn read_objects(paths: &[PathBuf]) -> anyhow::Result<Vec<Object>> {
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
            let name = p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Object::from_bytes(&name, bytes).with_context(|| format!("{}", p.display()))
        })
        .collect()
}

/// Minimizes every kernel for `objects` (in parallel) and writes the bundle. Any kernel
/// that fails is an error naming it.
pub fn build_bundle(
    program: &str,
    version: &str,
    objects: &[Object],
    kernels: &[KernelFile],
) -> anyhow::Result<(Vec<u8>, BuildStats)> {
    let parsed: Vec<BpfObject> = objects.iter().map(|o| o.parsed.clone()).collect();
    let blobs: Vec<anyhow::Result<Vec<u8>>> = kernels
        .par_iter()
        .map(|k| {
            let target =
                Btf::from_file(&k.path).with_context(|| format!("{}", k.path.display()))?;
            let min = minimize(&target, &parsed)
                .with_context(|| format!("minimizing {}", k.path.display()))?;
            Ok(min.to_bytes())
        })
        .collect();
    let mut b = BundleBuilder::new(program, version);
    for o in objects {
        b.add_object(&o.name, &o.bytes);
    }
    for (k, blob) in kernels.iter().zip(blobs) {
        b.add_kernel(k.kernel.clone(), &blob?)?;
    }
    Ok(b.finish()?)
}

/// Result of [`verify_relocations`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelocReport {
    /// Relocations checked, over all blobs.
    pub checked: usize,
    /// Relocations libbpf would poison (load succeeds; the instruction must be unreachable,
    /// e.g. the other branch of `bpf_core_field_exists`), as `blob N: object program relo #i: why`.
    pub poisoned: Vec<String>,
}

/// Checks that every blob of `bundle` resolves every CO-RE relocation of `objects` (in
/// parallel), after checking the objects are the ones the bundle was built for. A
/// relocation libbpf refuses outright is an error; poisoned ones are reported.
pub fn verify_relocations(bundle: &Bundle<'_>, objects: &[Object]) -> anyhow::Result<RelocReport> {
    use sha2::Digest;
    for o in objects {
        let sha: [u8; 32] = sha2::Sha256::digest(&o.bytes).into();
        if !bundle.objects().iter().any(|b| b.sha256 == sha) {
            anyhow::bail!(
                "{}: not one of the objects the bundle was built for",
                o.name
            );
        }
    }
    let per_blob: Vec<anyhow::Result<RelocReport>> = (0..bundle.blobs().len())
        .into_par_iter()
        .map(|i| {
            let users: Vec<String> = bundle
                .entries()
                .iter()
                .filter(|e| e.blob as usize == i)
                .map(|e| {
                    format!(
                        "{} {} {}",
                        e.kernel.os_id, e.kernel.version_id, e.kernel.uname
                    )
                })
                .collect();
            let btf = Btf::from_bytes(&bundle.blob(i)?)
                .with_context(|| format!("blob {i} ({})", users.join(", ")))?;
            let mut r = RelocReport::default();
            for o in objects {
                for out in resolve_object(&o.parsed, &btf) {
                    r.checked += 1;
                    let Some(why) = out.failure(&o.parsed.btf) else {
                        continue;
                    };
                    let what = format!("{} {} relo #{}: {why}", o.name, out.program, out.index);
                    if out.result.is_err() {
                        anyhow::bail!("blob {i} ({}): {what}", users.join(", "));
                    }
                    r.poisoned.push(format!("blob {i}: {what}"));
                }
            }
            Ok(r)
        })
        .collect();
    let mut total = RelocReport::default();
    let mut errors = Vec::new();
    for r in per_blob {
        match r {
            Ok(r) => {
                total.checked += r.checked;
                total.poisoned.extend(r.poisoned);
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(total)
}
