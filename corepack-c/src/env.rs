//! `corepack_env`: what selection looks at, detected from this machine or injected
//! field by field (arch, `uname -r`, os-release, the kernel's BTF, an explicit path).

use std::ffi::{c_char, c_int, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use corepack::Environment;

use crate::status::{guard, Failure, Status};

/// What a `corepack_env_set` call sets (`corepack_env_key` in corepack.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Arch,
    Uname,
    OsRelease,
    OsId,
    VersionId,
    KernelBtf,
    ExplicitBtf,
    BuildId,
}

impl Key {
    fn from_c(key: c_int) -> Option<Key> {
        Some(match key {
            1 => Key::Arch,
            2 => Key::Uname,
            3 => Key::OsRelease,
            4 => Key::OsId,
            5 => Key::VersionId,
            6 => Key::KernelBtf,
            7 => Key::ExplicitBtf,
            8 => Key::BuildId,
            _ => return None,
        })
    }
}

/// A selection environment: corepack's [`Environment`], and os-release `ID` and
/// `VERSION_ID` set on their own, which replace those lines of the os-release text.
#[derive(Debug, Clone, Default)]
pub struct CorepackEnv {
    env: Environment,
    os_id: Option<String>,
    version_id: Option<String>,
}

impl CorepackEnv {
    /// This machine, as corepack's [`Environment::detect`] sees it.
    pub(crate) fn detect() -> Self {
        CorepackEnv {
            env: Environment::detect(None),
            ..CorepackEnv::default()
        }
    }

    /// The environment selection is given: the os-release text with `ID` and
    /// `VERSION_ID` replaced by the values set on their own.
    pub(crate) fn environment(&self) -> Environment {
        let mut env = self.env.clone();
        if self.os_id.is_none() && self.version_id.is_none() {
            return env;
        }
        let text = env.os_release.take().unwrap_or_default();
        let is_overridden = |line: &str| {
            let key = line.split_once('=').map(|(k, _)| k.trim());
            (key == Some("ID") && self.os_id.is_some())
                || (key == Some("VERSION_ID") && self.version_id.is_some())
        };
        let mut out: String = text
            .lines()
            .filter(|l| !is_overridden(l.trim()))
            .map(|l| format!("{l}\n"))
            .collect();
        for (key, value) in [("ID", &self.os_id), ("VERSION_ID", &self.version_id)] {
            if let Some(v) = value {
                out.push_str(&format!("{key}=\"{v}\"\n"));
            }
        }
        env.os_release = Some(out);
        env
    }

    /// Sets `key` to `value` (`None`: cleared).
    fn set(&mut self, key: Key, value: Option<&[u8]>) -> Result<(), Failure> {
        let text = |what: &str| -> Result<Option<String>, Failure> {
            value
                .map(|v| {
                    String::from_utf8(v.to_vec())
                        .map_err(|_| Failure::argument(format!("{what} is not UTF-8")))
                })
                .transpose()
        };
        // One os-release value: no line break or quote, which would change other fields.
        let field = |what: &str| -> Result<Option<String>, Failure> {
            let v = text(what)?;
            if let Some(s) = &v {
                if s.contains(['\n', '\r', '"', '\\']) {
                    return Err(Failure::argument(format!(
                        "{what} {s:?} holds a line break, quote or backslash"
                    )));
                }
            }
            Ok(v)
        };
        let path = value.map(|v| PathBuf::from(OsStr::from_bytes(v)));
        match key {
            Key::Arch => self.env.arch = text("arch")?.unwrap_or_default(),
            Key::Uname => self.env.uname = text("uname -r")?.unwrap_or_default(),
            Key::OsRelease => self.env.os_release = text("os-release text")?,
            Key::OsId => self.os_id = field("os-release ID")?,
            Key::VersionId => self.version_id = field("os-release VERSION_ID")?,
            Key::KernelBtf => self.env.kernel_btf = path,
            Key::ExplicitBtf => self.env.explicit = path,
            Key::BuildId => {
                self.env.build_id = match text("build-id")? {
                    Some(hex) => corepack::notes::from_hex(&hex)
                        .map_err(|e| Failure::argument(format!("build-id: {e}")))?,
                    None => Vec::new(),
                }
            }
        }
        Ok(())
    }
}

/// Writes a new environment to `*out`.
fn create(out: *mut *mut CorepackEnv, env: CorepackEnv) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::argument("out is NULL"));
    }
    // SAFETY: out is non-null and, by the caller's contract, writable.
    unsafe { *out = Box::into_raw(Box::new(env)) };
    Ok(())
}

/// `corepack_env_new`: an empty environment (no explicit path, no kernel BTF, empty
/// arch and `uname -r`, no os-release).
///
/// # Safety
/// `out` is NULL or a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn corepack_env_new(out: *mut *mut CorepackEnv) -> Status {
    guard(|| create(out, CorepackEnv::default()))
}

/// `corepack_env_detect`: this machine's environment.
///
/// # Safety
/// `out` is NULL or a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn corepack_env_detect(out: *mut *mut CorepackEnv) -> Status {
    guard(|| create(out, CorepackEnv::detect()))
}

/// `corepack_env_set`: sets one field; a NULL `value` clears it.
///
/// # Safety
/// `env` is NULL or from `corepack_env_new`/`corepack_env_detect` and not freed;
/// `value` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corepack_env_set(
    env: *mut CorepackEnv,
    key: c_int,
    value: *const c_char,
) -> Status {
    guard(|| {
        // SAFETY: by the caller's contract env is NULL or a live environment, not
        // shared with another thread during this call.
        let env = unsafe { env.as_mut() }.ok_or_else(|| Failure::argument("env is NULL"))?;
        let key = Key::from_c(key)
            .ok_or_else(|| Failure::argument(format!("unknown environment key {key}")))?;
        // SAFETY: value is NULL or NUL-terminated, by the caller's contract.
        let value = (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_bytes());
        env.set(key, value)
    })
}

/// `corepack_env_free`: frees an environment (NULL is ignored).
///
/// # Safety
/// `env` is NULL or from `corepack_env_new`/`corepack_env_detect`, freed once.
#[no_mangle]
pub unsafe extern "C" fn corepack_env_free(env: *mut CorepackEnv) {
    if !env.is_null() {
        // SAFETY: env came from Box::into_raw and is freed once.
        let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(env) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_fields_and_os_release_overrides() {
        type Case = (&'static [(Key, Option<&'static str>)], Option<&'static str>);
        let cases: [Case; 5] = [
            (&[], None),
            (
                &[(
                    Key::OsRelease,
                    Some("NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n"),
                )],
                Some("NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n"),
            ),
            (
                &[
                    (
                        Key::OsRelease,
                        Some("NAME=x\nID=debian\nVERSION_ID=\"12\"\n"),
                    ),
                    (Key::OsId, Some("ubuntu")),
                ],
                Some("NAME=x\nVERSION_ID=\"12\"\nID=\"ubuntu\"\n"),
            ),
            (
                &[(Key::OsId, Some("ubuntu")), (Key::VersionId, Some("20.04"))],
                Some("ID=\"ubuntu\"\nVERSION_ID=\"20.04\"\n"),
            ),
            (
                &[(Key::OsRelease, Some("ID=a\n")), (Key::OsRelease, None)],
                None,
            ),
        ];
        for (sets, want) in cases {
            let mut e = CorepackEnv::default();
            for (k, v) in sets {
                e.set(*k, v.map(str::as_bytes)).unwrap();
            }
            assert_eq!(e.environment().os_release.as_deref(), want, "{sets:?}");
        }
    }

    #[test]
    fn refused_values() {
        let cases: [(Key, &[u8], Status); 5] = [
            (Key::Uname, b"\xff", Status::Argument),
            (Key::OsId, b"a\nVERSION_ID=1", Status::Argument),
            (Key::VersionId, b"1\"", Status::Argument),
            (Key::BuildId, b"0123abc", Status::Argument),
            (Key::BuildId, b"01xz", Status::Argument),
        ];
        for (k, v, want) in cases {
            let err = CorepackEnv::default().set(k, Some(v)).unwrap_err();
            assert_eq!(err.status, want, "{k:?}");
        }
        let mut e = CorepackEnv::default();
        e.set(Key::KernelBtf, Some(b"/k\xffbtf")).unwrap();
        e.set(Key::Arch, Some(b"arm64")).unwrap();
        e.set(Key::BuildId, Some(b"0123ABcd")).unwrap();
        let env = e.environment();
        assert_eq!(env.build_id, [0x01, 0x23, 0xab, 0xcd]);
        assert_eq!(env.kernel_btf.unwrap().as_os_str().as_bytes(), b"/k\xffbtf");
        assert_eq!(env.arch, "arm64");
    }
}
