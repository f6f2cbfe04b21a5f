//! libcorepack: corepack's bundle reading and BTF selection for C loaders.
//!
//! The C API is `include/corepack.h` (documented there; README.md shows a loader). This
//! crate wraps corepack's public API ([`corepack::Bundle`], [`corepack::select_with`],
//! [`corepack::Environment`]) behind opaque handles:
//! - `status`: the status codes, the thread-local last error message, and the guard that
//!   keeps every panic on the Rust side of the boundary;
//! - `bundle`: `corepack_bundle_open_memory`/`_open_file`;
//! - `env`: `corepack_env_new`/`_detect`/`_set`, the environment selection looks at;
//! - `selection`: `corepack_select` and the accessors of what it chose.
//!
//! Every exported function checks its pointers for NULL, catches panics and reports
//! failures as a `corepack_status` and a one-line message (escaped for a terminal).

mod bundle;
mod env;
mod selection;
mod status;

use std::ffi::{c_char, c_int};

pub use bundle::{
    corepack_bundle_free, corepack_bundle_open_file, corepack_bundle_open_memory,
    corepack_bundle_program, corepack_bundle_program_version, CorepackBundle,
};
pub use env::{
    corepack_env_detect, corepack_env_free, corepack_env_new, corepack_env_set, CorepackEnv,
};
pub use selection::{
    corepack_select, corepack_selection_btf, corepack_selection_entry, corepack_selection_free,
    corepack_selection_kernel, corepack_selection_path, corepack_selection_reason,
    corepack_selection_source, CorepackSelection, Kernel, Source,
};
pub use status::Status;

/// The library's version as `MAJOR << 16 | MINOR << 8 | PATCH` (the crate's version).
const VERSION: u32 = {
    const fn num(s: &str) -> u32 {
        let b = s.as_bytes();
        let mut i = 0;
        let mut n = 0;
        while i < b.len() {
            n = n * 10 + (b[i] - b'0') as u32;
            i += 1;
        }
        n
    }
    num(env!("CARGO_PKG_VERSION_MAJOR")) << 16
        | num(env!("CARGO_PKG_VERSION_MINOR")) << 8
        | num(env!("CARGO_PKG_VERSION_PATCH"))
};

/// `corepack_version`: the runtime library's version, `MAJOR << 16 | MINOR << 8 |
/// PATCH`, to compare with the header's `COREPACK_VERSION`.
#[no_mangle]
pub extern "C" fn corepack_version() -> u32 {
    VERSION
}

/// `corepack_version_string`: the same version as text (`"0.1.0"`).
#[no_mangle]
pub extern "C" fn corepack_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// `corepack_last_error`: the message of this thread's last failed call (empty before
/// any failure); valid until the next failing call on this thread.
#[no_mangle]
pub extern "C" fn corepack_last_error() -> *const c_char {
    status::last_error()
}

/// `corepack_status_name`: the name of a status code (`"COREPACK_ERR_NO_MATCH"`),
/// `"COREPACK_ERR_UNKNOWN"` for a value the library does not define.
#[no_mangle]
pub extern "C" fn corepack_status_name(status: c_int) -> *const c_char {
    status::status_name(status).as_ptr()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_number_is_the_crate_version() {
        let v = super::corepack_version();
        let text = format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
        assert_eq!(text, env!("CARGO_PKG_VERSION"));
        // SAFETY: a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(super::corepack_version_string()) };
        assert_eq!(s.to_str().unwrap(), text);
    }
}
