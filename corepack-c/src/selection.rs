//! `corepack_select` and `corepack_selection`: the chosen BTF (bytes of a bundle entry,
//! or the path of the kernel's own or an explicit file), the entry's kernel, and why.

use std::ffi::{c_char, c_int, c_long, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use corepack::{select_with, BtfSource, SourcePolicy};

use crate::bundle::CorepackBundle;
use crate::env::CorepackEnv;
use crate::status::{guard, guard_value, Failure, Status};

/// Where the chosen BTF comes from (`corepack_source` in corepack.h; values are ABI).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An explicit path (`COREPACK_BTF` or the environment's explicit path).
    Explicit = 1,
    /// The kernel's own BTF (`/sys/kernel/btf/vmlinux`).
    Kernel = 2,
    /// A bundle entry: its bytes.
    Bundle = 3,
}

/// A bundle entry's kernel, as C reads it (`corepack_kernel` in corepack.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Kernel {
    /// `uname -m` spelling (`x86_64`, `aarch64`).
    pub arch: *const c_char,
    /// `uname -r`.
    pub uname: *const c_char,
    /// os-release `ID`.
    pub os_id: *const c_char,
    /// os-release `VERSION_ID`.
    pub version_id: *const c_char,
}

/// The outcome of a selection, owned by C until `corepack_selection_free`.
#[derive(Debug)]
pub struct CorepackSelection {
    source: Source,
    path: Option<CString>,
    btf: Vec<u8>,
    entry: Option<usize>,
    kernel: Option<[CString; 4]>,
    reason: CString,
}

fn c_string(what: &str, bytes: &[u8]) -> Result<CString, Failure> {
    CString::new(bytes)
        .map_err(|_| Failure::new(Status::Corrupt, format!("{what} holds a NUL byte")))
}

/// Selects with `policy` (0 auto, 1 kernel only, 2 bundle only).
fn select(
    bundle: Option<&CorepackBundle>,
    env: &CorepackEnv,
    policy: c_int,
) -> Result<CorepackSelection, Failure> {
    let policy = match policy {
        0 => SourcePolicy::Auto,
        1 => SourcePolicy::Kernel,
        2 => SourcePolicy::Bundle,
        p => return Err(Failure::argument(format!("unknown policy {p}"))),
    };
    let parsed = bundle.map(CorepackBundle::bundle).transpose()?;
    let chosen = select_with(&policy, &env.environment(), parsed.as_ref())?;
    // For people: escaped as every corepack message is (os-release text is input).
    let reason = btfgen::text::escape(&chosen.reason).to_string();
    let reason = c_string("the reason", reason.as_bytes())?;
    let path = |p: &Path| c_string("the path", p.as_os_str().as_bytes());
    Ok(match chosen.source {
        BtfSource::Explicit(p) => CorepackSelection {
            source: Source::Explicit,
            path: Some(path(&p)?),
            btf: Vec::new(),
            entry: None,
            kernel: None,
            reason,
        },
        BtfSource::Kernel(p) => CorepackSelection {
            source: Source::Kernel,
            path: Some(path(&p)?),
            btf: Vec::new(),
            entry: None,
            kernel: None,
            reason,
        },
        BtfSource::Bundle { entry, kernel, btf } => {
            let k =
                |what: &str, s: &str| c_string(&format!("entry {entry}'s {what}"), s.as_bytes());
            CorepackSelection {
                source: Source::Bundle,
                path: None,
                btf,
                entry: Some(entry),
                kernel: Some([
                    k("arch", &kernel.arch)?,
                    k("uname", &kernel.uname)?,
                    k("os-release ID", &kernel.os_id)?,
                    k("os-release VERSION_ID", &kernel.version_id)?,
                ]),
                reason,
            }
        }
    })
}

/// `corepack_select`: chooses the BTF for `env` (NULL: this machine) from `bundle`
/// (NULL: no bundle) under `policy`, and writes the outcome to `*out`.
///
/// # Safety
/// `bundle` and `env` are NULL or live handles of this library; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn corepack_select(
    bundle: *const CorepackBundle,
    env: *const CorepackEnv,
    policy: c_int,
    out: *mut *mut CorepackSelection,
) -> Status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::argument("out is NULL"));
        }
        // SAFETY: bundle and env are NULL or live handles, by the caller's contract.
        let (bundle, env) = unsafe { (bundle.as_ref(), env.as_ref()) };
        let detected;
        let env = match env {
            Some(e) => e,
            None => {
                detected = CorepackEnv::detect();
                &detected
            }
        };
        let chosen = select(bundle, env, policy)?;
        // SAFETY: out is non-null and writable, by the caller's contract.
        unsafe { *out = Box::into_raw(Box::new(chosen)) };
        Ok(())
    })
}

/// The selection behind `sel`, or an argument failure.
///
/// # Safety
/// `sel` is NULL or a live selection.
unsafe fn live<'a>(sel: *const CorepackSelection) -> Result<&'a CorepackSelection, Failure> {
    // SAFETY: by the caller's contract.
    unsafe { sel.as_ref() }.ok_or_else(|| Failure::argument("selection is NULL"))
}

/// `corepack_selection_source`: a `corepack_source`, or 0 when `sel` is NULL.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_source(sel: *const CorepackSelection) -> c_int {
    // SAFETY: forwarded contract.
    guard_value(0, || Ok(unsafe { live(sel) }?.source as c_int))
}

/// `corepack_selection_path`: the file to read for an explicit or kernel source; NULL
/// for a bundle entry.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_path(sel: *const CorepackSelection) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: forwarded contract.
        let s = unsafe { live(sel) }?;
        Ok(s.path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()))
    })
}

/// `corepack_selection_btf`: a bundle entry's raw BTF and its length in `*len` (if `len`
/// is not NULL); NULL and 0 for other sources.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_btf(
    sel: *const CorepackSelection,
    len: *mut usize,
) -> *const u8 {
    let (ptr, n) = guard_value((std::ptr::null(), 0), || {
        // SAFETY: forwarded contract.
        let s = unsafe { live(sel) }?;
        Ok(match s.source {
            Source::Bundle => (s.btf.as_ptr(), s.btf.len()),
            _ => (std::ptr::null(), 0),
        })
    });
    if !len.is_null() {
        // SAFETY: len is non-null and writable, by the caller's contract.
        unsafe { *len = n };
    }
    ptr
}

/// `corepack_selection_entry`: the bundle entry's index, or -1.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_entry(sel: *const CorepackSelection) -> c_long {
    guard_value(-1, || {
        // SAFETY: forwarded contract.
        let s = unsafe { live(sel) }?;
        Ok(s.entry.map_or(-1, |e| c_long::try_from(e).unwrap_or(-1)))
    })
}

/// `corepack_selection_kernel`: fills `*out` with the bundle entry's kernel.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_kernel(
    sel: *const CorepackSelection,
    out: *mut Kernel,
) -> Status {
    guard(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { live(sel) }?;
        if out.is_null() {
            return Err(Failure::argument("out is NULL"));
        }
        let Some([arch, uname, os_id, version_id]) = &s.kernel else {
            return Err(Failure::argument(
                "the selection is not a bundle entry: it has no kernel",
            ));
        };
        let k = Kernel {
            arch: arch.as_ptr(),
            uname: uname.as_ptr(),
            os_id: os_id.as_ptr(),
            version_id: version_id.as_ptr(),
        };
        // SAFETY: out is non-null and writable, by the caller's contract.
        unsafe { *out = k };
        Ok(())
    })
}

/// `corepack_selection_reason`: why this BTF was chosen, one line.
///
/// # Safety
/// `sel` is NULL or from `corepack_select` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_reason(sel: *const CorepackSelection) -> *const c_char {
    // SAFETY: forwarded contract.
    guard_value(std::ptr::null(), || {
        Ok(unsafe { live(sel) }?.reason.as_ptr())
    })
}

/// `corepack_selection_free`: frees a selection (NULL is ignored).
///
/// # Safety
/// `sel` is NULL or from `corepack_select`, freed once.
#[no_mangle]
pub unsafe extern "C" fn corepack_selection_free(sel: *mut CorepackSelection) {
    if !sel.is_null() {
        // SAFETY: sel came from Box::into_raw and is freed once.
        let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(sel) }));
    }
}
