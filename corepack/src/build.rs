//! Building a bundle from BPF objects and a directory of kernel BTF in BTFHub's layout
//! (`DIR/ID/VERSION_ID/ARCH/<uname -r>.btf`, as `btfgen fetch` writes it): every kernel is
//! minimized for all objects with `btfgen::min`, in parallel. Feature `build`.

use std::path::{Path, PathBuf};

use btfgen::bpf::{BpfError, BpfObject};
use btfgen::btf::check_reference_loops;
use btfgen::btf::{Btf, BtfError};
use btfgen::min::{minimize, MinError};
use btfgen::relo::resolve_object;
use rayon::prelude::*;

use crate::format::{BuildStats, Bundle, BundleBuilder, BundleError, KernelId};

/// Why a bundle could not be built or its relocations verified.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Reading a file or listing a directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error of the read.
        source: std::io::Error,
    },
    /// A BPF object does not parse.
    #[error("{name}: {source}")]
    Object {
        /// The object's name (its path, or the name given to [`Object::from_bytes`]).
        name: String,
        /// What is wrong with it.
        source: BpfError,
    },
    /// A kernel's BTF file cannot be read or parsed, or has a loop of reference types.
    #[error("{what}: {source}")]
    Btf {
        /// The kernel BTF file's path.
        what: String,
        /// What is wrong with it.
        source: BtfError,
    },
    /// Minimizing a kernel's BTF for the objects failed.
    #[error("minimizing {}: {source}", path.display())]
    Minimize {
        /// The kernel BTF file.
        path: PathBuf,
        /// The minimizer's error.
        source: MinError,
    },
    /// Writing the bundle failed (see [`BundleError`]'s writer errors).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// [`verify_relocations`] was given an object whose digest none of the bundle's
    /// objects has; holds its name.
    #[error("{0}: not one of the objects the bundle was built for")]
    UnknownObject(String),
    /// Two files under the BTF directory are the same kernel (`K.btf` and
    /// `K.btf.tar.xz` side by side).
    #[error("{} and {}: the same kernel twice; keep one", first.display(), second.display())]
    DuplicateKernel {
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Relocations libbpf would refuse, one line per blob and relocation.
    #[error("{}", .0.join("\n"))]
    Relocations(Vec<String>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One kernel BTF file found under the BTF directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelFile {
    /// The kernel, from the path: `ID/VERSION_ID/ARCH/<uname -r>.btf` (arch normalized).
    pub kernel: KernelId,
    /// The file (raw BTF, ELF with `.BTF`, or BTFHub's `.btf.tar.xz` and the other
    /// archives [`Btf::from_file`] reads).
    pub path: PathBuf,
}

fn dirs(p: &Path) -> Result<Vec<(String, PathBuf)>, BuildError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).map_err(io(p))? {
        let e = e.map_err(io(p))?;
        if e.file_type().map_err(io(&e.path()))?.is_dir() {
            out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The kernels under `dir` (`ID/VERSION_ID/ARCH/<uname -r>.btf`, or
/// `<uname -r>.btf.tar.xz` as BTFHub's archive holds them; the kernel is the name
/// without the suffix, [`btfgen::btf::kernel_name`]), sorted. The same kernel in two
/// files is an error.
pub fn scan_btf_dir(dir: &Path) -> Result<Vec<KernelFile>, BuildError> {
    let mut out = Vec::new();
    for (id, p1) in dirs(dir)? {
        for (version_id, p2) in dirs(&p1)? {
            for (arch, p3) in dirs(&p2)? {
                for e in std::fs::read_dir(&p3).map_err(io(&p3))? {
                    let e = e.map_err(io(&p3))?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(uname) = btfgen::btf::kernel_name(&name) {
                        if e.file_type().map_err(io(&e.path()))?.is_file() {
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
    if let Some(w) = out.windows(2).find(|w| w[0].kernel == w[1].kernel) {
        return Err(BuildError::DuplicateKernel {
            first: w[0].path.clone(),
            second: w[1].path.clone(),
        });
    }
    Ok(out)
}

/// A BPF object read from disk: its file name, bytes and parse.
pub struct Object {
    /// The name recorded in manifests and errors (the file name for
    /// [`read_objects`]).
    pub name: String,
    /// The object file's bytes (their digest identifies the object in a bundle).
    pub bytes: Vec<u8>,
    /// Its parse: programs, CO-RE relocations and BTF.
    pub parsed: BpfObject,
}

impl Object {
    /// Parses a BPF object held in memory, recorded in manifests as `name`.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Object, BuildError> {
        let parsed = BpfObject::parse(&bytes).map_err(|source| BuildError::Object {
            name: name.to_string(),
            source,
        })?;
        Ok(Object {
            name: name.to_string(),
            bytes,
            parsed,
        })
    }
}

/// Reads and parses BPF objects.
pub fn read_objects(paths: &[PathBuf]) -> Result<Vec<Object>, BuildError> {
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(io(p))?;
            Object::from_bytes(&p.display().to_string(), bytes).map(|mut o| {
                o.name = p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                o
            })
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
) -> Result<(Vec<u8>, BuildStats), BuildError> {
    let parsed: Vec<BpfObject> = objects.iter().map(|o| o.parsed.clone()).collect();
    let blobs: Vec<Result<Vec<u8>, BuildError>> = kernels
        .par_iter()
        .map(|k| {
            let target = Btf::from_file(&k.path)
                .and_then(|b| check_reference_loops(&b).map(|()| b))
                .map_err(|source| BuildError::Btf {
                    what: k.path.display().to_string(),
                    source,
                })?;
            let min = minimize(&target, &parsed).map_err(|source| BuildError::Minimize {
                path: k.path.clone(),
                source,
            })?;
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
pub fn verify_relocations(
    bundle: &Bundle<'_>,
    objects: &[Object],
) -> Result<RelocReport, BuildError> {
    for o in objects {
        if !bundle.objects().iter().any(|b| b.matches(&o.bytes)) {
            return Err(BuildError::UnknownObject(o.name.clone()));
        }
    }
    let per_blob: Vec<Result<RelocReport, Vec<String>>> = (0..bundle.blobs().len())
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
            let btf = bundle
                .blob(i)
                .map_err(|e| e.to_string())
                .and_then(|raw| Btf::from_bytes(&raw).map_err(|e| e.to_string()))
                .map_err(|e| vec![format!("blob {i} ({}): {e}", users.join(", "))])?;
            let mut r = RelocReport::default();
            let mut refused = Vec::new();
            for o in objects {
                for out in resolve_object(&o.parsed, &btf) {
                    r.checked += 1;
                    let Some(why) = out.failure(&o.parsed.btf) else {
                        continue;
                    };
                    let what = format!("{} {} relo #{}: {why}", o.name, out.program, out.index);
                    if out.result.is_err() {
                        refused.push(format!("blob {i} ({}): {what}", users.join(", ")));
                    } else {
                        r.poisoned.push(format!("blob {i}: {what}"));
                    }
                }
            }
            if refused.is_empty() {
                Ok(r)
            } else {
                Err(refused)
            }
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
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError::Relocations(errors));
    }
    Ok(total)
}
