//! `corepack_bundle`: a bundle opened from memory (copied) or from a file, checked once
//! when opened (header and manifest; blobs are checked when selection decodes one).

use std::ffi::{c_char, c_void, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use corepack::Bundle;

use crate::status::{guard, guard_value, Failure, Status};

/// An open bundle: its bytes, and the strings C asks for.
#[derive(Debug)]
pub struct CorepackBundle {
    bytes: Vec<u8>,
    program: CString,
    program_version: CString,
}

impl CorepackBundle {
    /// Checks `bytes` as a bundle and keeps them.
    pub(crate) fn new(bytes: Vec<u8>) -> Result<Self, Failure> {
        let b = Bundle::open(&bytes)?;
        let c = |what: &str, s: &str| {
            CString::new(s).map_err(|_| {
                Failure::new(
                    Status::Corrupt,
                    format!("the bundle's {what} holds a NUL byte"),
                )
            })
        };
        let program = c("program name", &b.program)?;
        let program_version = c("program version", &b.program_version)?;
        Ok(CorepackBundle {
            bytes,
            program,
            program_version,
        })
    }

    /// The bundle, parsed again (it was checked when opened).
    pub(crate) fn bundle(&self) -> Result<Bundle<'_>, Failure> {
        Ok(Bundle::open(&self.bytes)?)
    }
}

fn create(
    out: *mut *mut CorepackBundle,
    bytes: impl FnOnce() -> Result<Vec<u8>, Failure>,
) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::argument("out is NULL"));
    }
    let bundle = CorepackBundle::new(bytes()?)?;
    // SAFETY: out is non-null and, by the caller's contract, writable.
    unsafe { *out = Box::into_raw(Box::new(bundle)) };
    Ok(())
}

/// `corepack_bundle_open_memory`: checks `len` bytes at `data` as a bundle and copies
/// them (the caller may free `data` afterwards).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corepack_bundle_open_memory(
    data: *const c_void,
    len: usize,
    out: *mut *mut CorepackBundle,
) -> Status {
    guard(|| {
        create(out, || {
            if data.is_null() {
                return Err(Failure::argument("data is NULL"));
            }
            if len > isize::MAX as usize {
                return Err(Failure::argument(format!(
                    "len {len} is larger than any buffer"
                )));
            }
            // SAFETY: data is non-null and readable for len bytes, by the caller's contract.
            Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec())
        })
    })
}

/// `corepack_bundle_open_file`: reads and checks the bundle at `path` (a regular file,
/// or a pipe read to at most 256 MiB).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corepack_bundle_open_file(
    path: *const c_char,
    out: *mut *mut CorepackBundle,
) -> Status {
    guard(|| {
        create(out, || {
            if path.is_null() {
                return Err(Failure::argument("path is NULL"));
            }
            // SAFETY: path is non-null and NUL-terminated, by the caller's contract.
            let path = Path::new(OsStr::from_bytes(
                unsafe { CStr::from_ptr(path) }.to_bytes(),
            ));
            btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM)
                .map_err(|e| Failure::new(Status::Io, format!("{}: {e}", path.display())))
        })
    })
}

/// `corepack_bundle_program` (`version` false) and `corepack_bundle_program_version`.
fn program(bundle: *const CorepackBundle, version: bool) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: bundle is NULL or a live bundle, by the caller's contract.
        let b = unsafe { bundle.as_ref() }.ok_or_else(|| Failure::argument("bundle is NULL"))?;
        Ok(if version {
            &b.program_version
        } else {
            &b.program
        }
        .as_ptr())
    })
}

/// `corepack_bundle_program`: the program the bundle was built for (valid until the
/// bundle is freed); NULL when `bundle` is NULL.
///
/// # Safety
/// `bundle` is NULL or from `corepack_bundle_open_*` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_bundle_program(bundle: *const CorepackBundle) -> *const c_char {
    program(bundle, false)
}

/// `corepack_bundle_program_version`: the program's version.
///
/// # Safety
/// `bundle` is NULL or from `corepack_bundle_open_*` and not freed.
#[no_mangle]
pub unsafe extern "C" fn corepack_bundle_program_version(
    bundle: *const CorepackBundle,
) -> *const c_char {
    program(bundle, true)
}

/// `corepack_bundle_free`: frees a bundle (NULL is ignored).
///
/// # Safety
/// `bundle` is NULL or from `corepack_bundle_open_*`, freed once.
#[no_mangle]
pub unsafe extern "C" fn corepack_bundle_free(bundle: *mut CorepackBundle) {
    if !bundle.is_null() {
        // SAFETY: bundle came from Box::into_raw and is freed once.
        let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(bundle) }));
    }
}
