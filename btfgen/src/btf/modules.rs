//! Kernel modules' split BTF joined on their vmlinux, as libbpf sees a running kernel
//! with modules loaded, and the on-disk layout that keeps modules beside their kernel.
//!
//! libbpf searches CO-RE candidates in vmlinux first and, only when vmlinux has none,
//! in the own types of every loaded module, all of them together (`bpf_core_find_cands`).
//! [`join_modules`] builds one split BTF on the vmlinux whose own types are each
//! module's own types in turn (renumbered so that ids stay unique), so that the CO-RE
//! engine's split search (base first, then own types) is exactly libbpf's, and the
//! minimizer writes one standalone BTF holding the vmlinux and module types a program
//! needs.
//!
//! Layout: beside a kernel's `DIR/<uname -r>.btf` (or any name [`kernel_name`]
//! knows), its modules' split BTF lie in `DIR/<uname -r>/modules/<module>.btf`.
//! BTFHub's layout is untouched: its walkers only look at the files of `DIR`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{kernel_name, Btf, Type};

/// The directory under `<uname -r>/` that holds a kernel's modules' BTF.
pub const MODULES_DIR: &str = "modules";

/// Why modules cannot be joined on a base.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// A module is not split BTF on a base with as many types as the vmlinux given.
    #[error("module {index} is not split BTF on this vmlinux (its types start at id {start}, the vmlinux has {base})")]
    NotOnBase {
        /// The module's index in the slice given to [`join_modules`].
        index: usize,
        /// Its first own type id.
        start: u32,
        /// The vmlinux's type count (the id a module's types start at).
        base: u32,
    },
}

/// One split BTF on `base` holding the own types of every module in `modules` (each
/// split BTF on `base`), in order; references between a module's own types are
/// renumbered, references into `base` kept.
pub fn join_modules(base: Arc<Btf>, modules: &[Btf]) -> Result<Btf, JoinError> {
    let mut out = Btf::new_split(base.clone());
    for (index, m) in modules.iter().enumerate() {
        let start = m.start_id();
        if m.base().is_none() || start != base.type_count() {
            return Err(JoinError::NotOnBase {
                index,
                start,
                base: base.type_count(),
            });
        }
        let shift = out.type_count() - start;
        for (_, t) in m.iter() {
            let mut t: Type = t.clone();
            t.kind.for_each_ref_mut(|r| {
                if *r >= start {
                    *r += shift;
                }
            });
            t.for_each_name_mut(|n| *n = copy_name(&mut out, m, *n));
            out.add(t);
        }
    }
    Ok(out)
}

/// `off` in `from` as an offset in `to`: base strings stay where they are.
fn copy_name(to: &mut Btf, from: &Btf, off: u32) -> u32 {
    if off < to.strings().start() {
        return off;
    }
    to.add_bytes(from.name_bytes(off).unwrap_or_default())
}

/// The directory holding the modules of the kernel whose BTF is `kernel`
/// (`DIR/<uname -r>.btf` → `DIR/<uname -r>/modules`); `None` when the file's name
/// is not a kernel's.
pub fn modules_dir(kernel: &Path) -> Option<PathBuf> {
    let name = kernel.file_name()?.to_str()?;
    let uname = kernel_name(name)?;
    Some(kernel.with_file_name(uname).join(MODULES_DIR))
}

/// The modules' BTF files of the kernel whose BTF is `kernel`, sorted by name; empty
/// when it has no modules directory.
pub fn module_files(kernel: &Path) -> std::io::Result<Vec<PathBuf>> {
    let Some(dir) = modules_dir(kernel) else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        r => r?,
    };
    let mut out = Vec::new();
    for e in entries {
        let p = e?.path();
        let named = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(kernel_name)
            .is_some();
        if named && p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `path` is a module's BTF in the layout: `DIR/<uname -r>/modules/<m>.btf`
/// with a kernel BTF `DIR/<uname -r>.btf` (or another name [`kernel_name`] knows)
/// beside the `<uname -r>` directory. Directory walks that look for kernels skip it.
pub fn is_module_file(path: &Path) -> bool {
    let Some(modules) = path.parent() else {
        return false;
    };
    if modules.file_name().and_then(|n| n.to_str()) != Some(MODULES_DIR) {
        return false;
    }
    let Some(kdir) = modules.parent() else {
        return false;
    };
    let (Some(uname), Some(dir)) = (kdir.file_name().and_then(|n| n.to_str()), kdir.parent())
    else {
        return false;
    };
    super::BTF_FILE_SUFFIXES
        .iter()
        .any(|s| dir.join(format!("{uname}{s}")).is_file())
}

#[cfg(test)]
#[path = "modules_tests.rs"]
mod tests;
