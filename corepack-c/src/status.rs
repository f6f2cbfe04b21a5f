//! Status codes, the thread-local last error message, and the guard every exported
//! function runs in: a panic never crosses into C, it becomes [`Status::Internal`].

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, UnwindSafe};

use corepack::{BundleError, SelectError};

/// What a call returns (`corepack_status` in corepack.h; the values are ABI).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A NULL pointer, a string that is not UTF-8 where text is needed, an unknown key
    /// or policy, a handle of the wrong kind for the question.
    Argument = 1,
    /// A file could not be read.
    Io = 2,
    /// The bytes are not a corepack bundle (bad magic).
    NotABundle = 3,
    /// A bundle of a format version this library does not read.
    FormatVersion = 4,
    /// A damaged bundle: truncated, a checksum mismatch, a malformed manifest, a blob
    /// that does not decode.
    Corrupt = 5,
    /// The bundle has no entry for this kernel and no other source may be used.
    NoMatch = 6,
    /// Several entries match with different BTF and os-release does not decide.
    Ambiguous = 7,
    /// The kernel policy was asked for and the kernel has no BTF of its own.
    NoKernelBtf = 8,
    /// Something this version of the library cannot do yet (selecting by build-id).
    Unsupported = 9,
    /// A bug in the library (a panic, caught at the boundary).
    Internal = 10,
}

/// An error on its way to C: a status and a message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl Failure {
    /// A failure with `status` and `message`.
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A NULL or otherwise unusable argument.
    pub(crate) fn argument(message: impl Into<String>) -> Self {
        Failure::new(Status::Argument, message)
    }
}

/// The status of a bundle error.
pub(crate) fn bundle_status(e: &BundleError) -> Status {
    match e {
        BundleError::BadMagic(_) => Status::NotABundle,
        BundleError::UnsupportedVersion { .. } => Status::FormatVersion,
        _ => Status::Corrupt,
    }
}

impl From<BundleError> for Failure {
    fn from(e: BundleError) -> Self {
        Failure::new(bundle_status(&e), e.to_string())
    }
}

impl From<SelectError> for Failure {
    fn from(e: SelectError) -> Self {
        let status = match &e {
            SelectError::NoMatch { .. } => Status::NoMatch,
            SelectError::Ambiguous { .. } => Status::Ambiguous,
            SelectError::NoKernelBtf { .. } => Status::NoKernelBtf,
            SelectError::Bundle(b) => bundle_status(b),
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// `message` as the thread's last error: one line, control characters and bytes from
/// the input escaped (btfgen::text), so it can go to a terminal as it is.
fn set_last_error(message: &str) {
    let line = btfgen::text::escape(message).to_string();
    // escape() leaves no NUL (a control character), so this cannot fail.
    let c = CString::new(line).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = c);
}

/// The thread's last error message (see `corepack_last_error`).
pub(crate) fn last_error() -> *const c_char {
    LAST_ERROR.with(|l| l.borrow().as_ptr())
}

/// Runs `f`, turning a failure or a panic into a status and the thread's last error.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure> + UnwindSafe) -> Status {
    let failure = match catch_unwind(f) {
        Ok(Ok(())) => return Status::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(Status::Internal, panic_message(&*payload)),
    };
    set_last_error(&failure.message);
    failure.status
}

/// Runs an accessor: its value, or `fallback` (with the thread's last error set) when it
/// fails or panics.
pub(crate) fn guard_value<T>(
    fallback: T,
    f: impl FnOnce() -> Result<T, Failure> + UnwindSafe,
) -> T {
    match catch_unwind(f) {
        Ok(Ok(v)) => v,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            fallback
        }
        Err(payload) => {
            set_last_error(&panic_message(&*payload));
            fallback
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    format!("internal error in libcorepack (a bug): {what}")
}

/// The static name of a status (`corepack_status_name`).
pub(crate) fn status_name(code: i32) -> &'static std::ffi::CStr {
    match code {
        0 => c"COREPACK_OK",
        1 => c"COREPACK_ERR_ARGUMENT",
        2 => c"COREPACK_ERR_IO",
        3 => c"COREPACK_ERR_NOT_A_BUNDLE",
        4 => c"COREPACK_ERR_FORMAT_VERSION",
        5 => c"COREPACK_ERR_CORRUPT",
        6 => c"COREPACK_ERR_NO_MATCH",
        7 => c"COREPACK_ERR_AMBIGUOUS",
        8 => c"COREPACK_ERR_NO_KERNEL_BTF",
        9 => c"COREPACK_ERR_UNSUPPORTED",
        10 => c"COREPACK_ERR_INTERNAL",
        _ => c"COREPACK_ERR_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: last_error points at the thread's CString, alive while we read it.
        unsafe { CStr::from_ptr(last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn guard_maps_failures_and_panics() {
        let cases: [(Status, &str, &str); 3] = [
            (Status::Ok, "", ""),
            (
                Status::NoMatch,
                "no BTF\nfor \x1b[31m",
                "no BTF\\nfor \\x1b[31m",
            ),
            (
                Status::Internal,
                "boom",
                "internal error in libcorepack (a bug): boom",
            ),
        ];
        for (status, message, want) in cases {
            let got = guard(move || match status {
                Status::Ok => Ok(()),
                Status::Internal => panic!("{message}"),
                s => Err(Failure::new(s, message)),
            });
            assert_eq!(got, status);
            if status != Status::Ok {
                assert_eq!(last(), want);
            }
        }
    }

    #[test]
    fn names_match_values() {
        let all = [
            Status::Ok,
            Status::Argument,
            Status::Io,
            Status::NotABundle,
            Status::FormatVersion,
            Status::Corrupt,
            Status::NoMatch,
            Status::Ambiguous,
            Status::NoKernelBtf,
            Status::Unsupported,
            Status::Internal,
        ];
        for s in all {
            let name = status_name(s as i32).to_str().unwrap();
            let debug = format!("{s:?}");
            let tail: String = debug.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            let squashed: String = name.chars().filter(|c| *c != '_').collect();
            assert!(
                squashed.to_lowercase().ends_with(&tail.to_lowercase()),
                "{name} vs {debug}"
            );
        }
        assert_eq!(status_name(99).to_str().unwrap(), "COREPACK_ERR_UNKNOWN");
    }
}
