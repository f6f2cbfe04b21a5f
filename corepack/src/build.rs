//! Building a bundle from BPF objects and a directory of kernel BTF in BTFHub's layout
//! (`DIR/ID/VERSION_ID/ARCH/<uname -r>.btf`, as `btfgen fetch` writes it): every kernel is
//! minimized for all objects with `btfgen::min`, in parallel. Feature `build`.
//!
//! A kernel's GNU build-id, when known, is a `<uname -r>.buildid` file beside its BTF
//! (one line of hex, as `btfgen fetch` writes it); it goes into the kernel's entry.

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
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error of the read.
        source: btfgen::input::InputError,
    },
    /// A kernel's modules (in the layout beside it) are not split BTF on it.
    #[error("{}", path.display())]
    Modules {
        /// The kernel BTF file.
        path: PathBuf,
        /// What is wrong.
        source: btfgen::btf::JoinError,
    },
    /// A BPF object does not parse.
    #[error("{name}")]
    Object {
        /// The object's name (its path, or the name given to [`Object::from_bytes`]).
        name: String,
        /// What is wrong with it.
        source: BpfError,
    },
    /// A kernel's BTF file cannot be read or parsed, or has a loop of reference types.
    #[error("{what}")]
    Btf {
        /// The kernel BTF file's path.
        what: String,
        /// What is wrong with it.
        source: BtfError,
    },
    /// Minimizing a kernel's BTF for the objects failed.
    #[error("minimizing {} for {object}", path.display())]
    Minimize {
        /// The kernel BTF file.
        path: PathBuf,
        /// The object whose relocation failed (it may be what is wrong).
        object: String,
        /// The minimizer's error (boxed: it is the largest of these).
        source: Box<MinError>,
    },
    /// Writing the bundle failed (see [`BundleError`]'s writer errors).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A blob of a bundle does not decode, or is not BTF that `btfgen min` would take
    /// as a kernel's ([`verify_blobs`]).
    #[error("blob {index} ({kernels})")]
    Blob {
        /// The blob's index.
        index: usize,
        /// The kernels whose blob it is: `ID VERSION_ID ARCH UNAME`, comma-separated.
        kernels: String,
        /// What is wrong with it.
        source: BlobError,
    },
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
    /// A file under the BTF directory whose path cannot name a kernel: its file name is
    /// not a kernel release, or a directory above it not a distro, version or arch.
    #[error("{}: `{}` cannot be {what}", path.display(), btfgen::text::escape(name))]
    BadName {
        /// The file.
        path: PathBuf,
        /// The offending component.
        name: String,
        /// What it should have been.
        what: &'static str,
    },
    /// A kernel's `<uname -r>.buildid` file cannot be read or is not a build-id.
    #[error("{}", path.display())]
    BuildId {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: crate::notes::NoteError,
    },
    /// Relocations libbpf would refuse, one line per blob and relocation.
    #[error("{}", .0.join("\n"))]
    Relocations(Vec<String>),
}

fn io<E: Into<btfgen::input::InputError>>(path: &Path) -> impl FnOnce(E) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source: source.into(),
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
    /// The kernel's GNU build-id from `<uname -r>.buildid` beside the file; empty when
    /// there is none.
    pub build_id: Vec<u8>,
    /// Its modules' split BTF, from the layout beside it
    /// (`<uname -r>/modules/*.btf`, [`btfgen::btf::module_files`]); the kernel's
    /// minimized BTF then holds the module types the objects need too.
    pub modules: Vec<PathBuf>,
}

/// The suffix of the file beside a kernel's BTF that holds its GNU build-id in hex.
pub const BUILD_ID_SUFFIX: &str = ".buildid";

/// The build-id in `<uname>.buildid` in `dir`, or empty when there is no such file. The
/// file must be a regular file of at most 256 bytes holding the hex of 1 to
/// [`crate::notes::MAX_BUILD_ID`] bytes.
fn read_build_id_file(dir: &Path, uname: &str) -> Result<Vec<u8>, BuildError> {
    use std::io::Read;
    let path = dir.join(format!("{uname}{BUILD_ID_SUFFIX}"));
    let fail = |source| BuildError::BuildId {
        path: path.clone(),
        source,
    };
    let io = |e: std::io::Error| {
        fail(crate::notes::NoteError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    };
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
        Ok(m) if !m.is_file() => {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        Ok(_) => {}
    }
    let mut text = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(257).read_to_end(&mut text))
        .map_err(io)?;
    if text.len() > 256 {
        return Err(io(std::io::Error::other("longer than 256 bytes")));
    }
    let text = String::from_utf8_lossy(&text);
    crate::notes::from_hex(&text).map_err(fail)
}

/// The build-id in the `.note.gnu.build-id` section of a kernel BTF file that is ELF
/// (`btfgen --format elf` copies the vmlinux's there); empty for raw BTF and archives.
/// Only the ELF headers and the note are read (the BTF itself is read once, later).
fn read_elf_build_id(path: &Path) -> Result<Vec<u8>, BuildError> {
    use object::{Object, ObjectSection};
    let fail = |source| BuildError::BuildId {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| {
        fail(crate::notes::NoteError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    })?;
    let cache = object::ReadCache::new(file);
    let note = object::File::parse(&cache).ok().and_then(|f| {
        // (A build-id note is some 36 bytes: a larger one is not read.)
        f.section_by_name(".note.gnu.build-id")
            .filter(|s| s.size() <= 4096)
            .and_then(|s| s.data().ok().map(<[u8]>::to_vec))
    });
    match note {
        Some(n) => Ok(crate::notes::gnu_build_id(&n)
            .map_err(fail)?
            .unwrap_or_default()),
        None => Ok(Vec::new()),
    }
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
/// without the suffix, [`btfgen::btf::kernel_name`]), sorted, each with the build-id of
/// its `<uname -r>.buildid` when there is one. The same kernel in two files is an
/// error.
pub fn scan_btf_dir(dir: &Path) -> Result<Vec<KernelFile>, BuildError> {
    scan_btf_dirs(std::slice::from_ref(&dir))
}

/// The kernels under each of `dirs`, as [`scan_btf_dir`] finds them, together. The
/// same kernel (arch, `uname -r`, os-release) may come twice only under two different
/// build-ids: a kernel rebuilt under the same name, which selection tells apart by the
/// running kernel's build-id. Twice with the same build-id, or without one, is an error.
pub fn scan_btf_dirs(dirs: &[impl AsRef<Path>]) -> Result<Vec<KernelFile>, BuildError> {
    let mut out = Vec::new();
    for dir in dirs {
        scan_into(dir.as_ref(), &mut out)?;
    }
    out.sort_by(|a, b| (&a.kernel, &a.build_id).cmp(&(&b.kernel, &b.build_id)));
    let same = |a: &KernelFile, b: &KernelFile| {
        a.kernel == b.kernel
            && (a.build_id == b.build_id || a.build_id.is_empty() || b.build_id.is_empty())
    };
    // Sorted by build-id within a kernel, an entry without one comes first: compare
    // every pair of the kernel's entries, not only neighbours.
    for (i, a) in out.iter().enumerate() {
        if let Some(b) = out[i + 1..]
            .iter()
            .take_while(|b| b.kernel == a.kernel)
            .find(|b| same(a, b))
        {
            return Err(BuildError::DuplicateKernel {
                first: a.path.clone(),
                second: b.path.clone(),
            });
        }
    }
    Ok(out)
}

fn scan_into(dir: &Path, out: &mut Vec<KernelFile>) -> Result<(), BuildError> {
    for (id, p1) in dirs(dir)? {
        for (version_id, p2) in dirs(&p1)? {
            for (arch, p3) in dirs(&p2)? {
                for e in std::fs::read_dir(&p3).map_err(io(&p3))? {
                    let e = e.map_err(io(&p3))?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(uname) = btfgen::btf::kernel_name(&name) {
                        if e.file_type().map_err(io(&e.path()))?.is_file() {
                            check_names(&e.path(), uname, [&id, &version_id, &arch])?;
                            out.push(KernelFile {
                                kernel: KernelId::new(&arch, uname, &id, &version_id),
                                path: e.path(),
                                build_id: match read_build_id_file(&p3, uname)? {
                                    id if id.is_empty() => read_elf_build_id(&e.path())?,
                                    id => id,
                                },
                                modules: btfgen::btf::module_files(&e.path())
                                    .map_err(io(&p3.join(uname)))?,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Refuses a kernel file whose names are not a kernel release (`uname`) and distro,
/// version and arch directories (`dirs`): they go into the bundle, where `corepack
/// select` matches them against what the machine says of itself.
fn check_names(path: &Path, uname: &str, dirs: [&str; 3]) -> Result<(), BuildError> {
    let bad = |name: &str, what| BuildError::BadName {
        path: path.to_path_buf(),
        name: name.to_string(),
        what,
    };
    if !btfgen::text::is_kernel_release(uname) {
        return Err(bad(uname, "a kernel release (uname -r)"));
    }
    let whats = ["a distro ID", "a VERSION_ID", "an architecture"];
    match dirs
        .iter()
        .zip(whats)
        .find(|(d, _)| !btfgen::text::is_name_component(d))
    {
        Some((d, what)) => Err(bad(d, what)),
        None => Ok(()),
    }
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
            let bytes = btfgen::input::read(p, btfgen::input::MAX_BTF_STREAM).map_err(io(p))?;
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

/// The kernel's BTF, its modules' joined on it ([`btfgen::btf::join_modules`]) when it
/// has some.
fn read_kernel(k: &KernelFile) -> Result<Btf, BuildError> {
    let btf_error = |path: &Path| {
        let what = path.display().to_string();
        move |source| BuildError::Btf { what, source }
    };
    let kernel = Btf::from_file(&k.path)
        .and_then(|b| check_reference_loops(&b).map(|()| b))
        .map_err(btf_error(&k.path))?;
    if k.modules.is_empty() {
        return Ok(kernel);
    }
    let kernel = std::sync::Arc::new(kernel);
    let modules = k
        .modules
        .iter()
        .map(|m| {
            let data = btfgen::input::read(m, btfgen::input::MAX_BTF_STREAM).map_err(io(m))?;
            Btf::from_any_bytes(&data, Some(kernel.clone()))
                .and_then(|b| check_reference_loops(&b).map(|()| b))
                .map_err(btf_error(m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    btfgen::btf::join_modules(kernel, &modules).map_err(|source| BuildError::Modules {
        path: k.path.clone(),
        source,
    })
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
            let target = read_kernel(k)?;
            let min = minimize(&target, &parsed).map_err(|source| BuildError::Minimize {
                path: k.path.clone(),
                object: objects[source.object()].name.clone(),
                source: Box::new(source),
            })?;
            Ok(min.to_bytes())
        })
        .collect();
    let mut b = BundleBuilder::new(program, version);
    for o in objects {
        b.add_object(&o.name, &o.bytes);
    }
    for (k, blob) in kernels.iter().zip(blobs) {
        b.add_kernel_with_build_id(k.kernel.clone(), &k.build_id, &blob?)?;
    }
    Ok(b.finish()?)
}

/// Why a bundle's blob is not usable BTF.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Its stored bytes do not decode (see [`Bundle::blob`]).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// It does not parse as BTF, or has a reference loop no C type can have.
    #[error(transparent)]
    Btf(#[from] BtfError),
}

/// The kernels whose blob is blob `index`, for messages: `ID VERSION_ID ARCH UNAME`,
/// comma-separated.
fn blob_kernels(bundle: &Bundle<'_>, index: usize) -> String {
    bundle
        .entries()
        .iter()
        .filter(|e| e.blob as usize == index)
        .map(|e| {
            let k = &e.kernel;
            format!("{} {} {} {}", k.os_id, k.version_id, k.arch, k.uname)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Blob `index` of `bundle`, decoded and parsed as `btfgen min` reads a kernel's BTF
/// ([`Btf::from_bytes_checked`]).
fn blob_btf(bundle: &Bundle<'_>, index: usize) -> Result<Btf, BuildError> {
    bundle
        .blob(index)
        .map_err(BlobError::from)
        .and_then(|raw| Btf::from_bytes_checked(&raw).map_err(BlobError::from))
        .map_err(|source| BuildError::Blob {
            index,
            kernels: blob_kernels(bundle, index),
            source,
        })
}

/// Decodes every blob of `bundle` and parses it as BTF, refusing what `btfgen min`
/// refuses as a kernel's BTF (malformed BTF, reference loops no C type can have): a
/// bundle that passes is one whose every blob a loader can use. The first blob that
/// fails is the error, naming its kernels.
pub fn verify_blobs(bundle: &Bundle<'_>) -> Result<(), BuildError> {
    (0..bundle.blobs().len())
        .into_par_iter()
        .map(|i| blob_btf(bundle, i).map(drop))
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
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
    // Outer error: the blob is not usable BTF; inner: the relocations it refuses.
    type PerBlob = Result<Result<RelocReport, Vec<String>>, BuildError>;
    let per_blob: Vec<PerBlob> = (0..bundle.blobs().len())
        .into_par_iter()
        .map(|i| {
            let btf = blob_btf(bundle, i)?;
            let users = blob_kernels(bundle, i);
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
                        refused.push(format!("blob {i} ({users}): {what}"));
                    } else {
                        r.poisoned.push(format!("blob {i}: {what}"));
                    }
                }
            }
            Ok(if refused.is_empty() {
                Ok(r)
            } else {
                Err(refused)
            })
        })
        .collect();
    let mut total = RelocReport::default();
    let mut errors = Vec::new();
    for r in per_blob {
        match r? {
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
