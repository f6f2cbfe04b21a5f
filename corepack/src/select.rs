//! Choosing the BTF a loader gives libbpf/aya, in order:
//!
//! 1. an explicit path (a flag, or the `COREPACK_BTF` environment variable);
//! 2. the kernel's own `/sys/kernel/btf/vmlinux`;
//! 3. the bundle entry whose GNU build-id is the running kernel's (from
//!    `/sys/kernel/notes`, see [`crate::notes`]), whatever its name and os-release say:
//!    in a container os-release is the container's, and a kernel rebuilt under the same
//!    name has another build-id;
//! 4. the bundle entry for (arch, `uname -r`), refined by os-release `ID` and `VERSION_ID`
//!    when several entries share that kernel name. Entries whose build-id is known and
//!    differs from the running kernel's known one are not candidates: they are another
//!    build.
//!
//! No match is an error naming the kernel and the nearest kernels the bundle has; never a
//! silent load with compile-time offsets. Every input from the machine is a field of
//! [`Environment`], so tests can inject them.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::format::{build_id_suffix, normalize_arch, Bundle, BundleError, KernelId};

/// The environment variable naming an explicit BTF file.
pub const BTF_ENV: &str = "COREPACK_BTF";
/// The kernel's own BTF.
pub const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// What selection looks at. [`Environment::detect`] fills it from this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// An explicit BTF path (flag or `COREPACK_BTF`); wins over everything.
    pub explicit: Option<PathBuf>,
    /// The kernel's own BTF if it exists (`/sys/kernel/btf/vmlinux`).
    pub kernel_btf: Option<PathBuf>,
    /// `uname -r`.
    pub uname: String,
    /// `uname -m` (normalized when compared).
    pub arch: String,
    /// The text of /etc/os-release (or /usr/lib/os-release), if readable.
    pub os_release: Option<String>,
    /// The running kernel's GNU build-id (from `/sys/kernel/notes`); empty when unknown.
    pub build_id: Vec<u8>,
}

impl Environment {
    /// Reads this machine: `COREPACK_BTF` (when `explicit` is `None`), whether
    /// /sys/kernel/btf/vmlinux exists, /proc/sys/kernel/osrelease, the compile-time arch and
    /// /etc/os-release (falling back to /usr/lib/os-release), and the kernel's build-id
    /// from /sys/kernel/notes (left empty when the notes are unreadable or malformed:
    /// selection then goes by name, as without build-ids).
    pub fn detect(explicit: Option<PathBuf>) -> Self {
        let explicit = explicit.or_else(|| {
            std::env::var_os(BTF_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let kernel_btf = Path::new(KERNEL_BTF)
            .exists()
            .then(|| PathBuf::from(KERNEL_BTF));
        let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let os_release = std::fs::read_to_string("/etc/os-release")
            .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
            .ok();
        Environment {
            explicit,
            kernel_btf,
            uname,
            arch: std::env::consts::ARCH.to_string(),
            os_release,
            build_id: crate::notes::read_build_id(Path::new(crate::notes::KERNEL_NOTES))
                .ok()
                .flatten()
                .unwrap_or_default(),
        }
    }

    /// os-release `ID` and `VERSION_ID` (empty when absent).
    pub fn os_ids(&self) -> (String, String) {
        let text = self.os_release.as_deref().unwrap_or("");
        (
            os_release_field(text, "ID"),
            os_release_field(text, "VERSION_ID"),
        )
    }
}

/// One field of os-release text, unquoted (empty when absent).
pub fn os_release_field(text: &str, key: &str) -> String {
    for line in text.lines() {
        let line = line.trim();
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v);
                return v.to_string();
            }
        }
    }
    String::new()
}

/// Where the chosen BTF comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtfSource {
    /// The explicit path.
    Explicit(PathBuf),
    /// The kernel's own BTF.
    Kernel(PathBuf),
    /// A bundle entry: its kernel, and the checked, decoded BTF.
    Bundle {
        /// The entry's index in [`Bundle::entries`].
        entry: usize,
        /// The entry's kernel (which may differ from this machine's os-release when
        /// several entries share one BTF).
        kernel: KernelId,
        /// The entry's BTF, decoded and checked: raw BTF to hand to the loader.
        btf: Vec<u8>,
    },
}

/// The choice and why it was made (for `-v`; for a bundle entry, `source` names the
/// entry and `reason` says why that one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The BTF chosen.
    pub source: BtfSource,
    /// Why it was chosen, one line for humans (e.g. `exact match of arch, uname -r and
    /// os-release`).
    pub reason: String,
}

/// Why no BTF could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The bundle has no entry for this arch and `uname -r` (or there is no bundle), and
    /// no other source may be used: neither an explicit path nor the kernel's own BTF is
    /// available, or `--btf-source bundle` ([`SourcePolicy::Bundle`]) excludes them.
    #[error("no BTF for kernel {uname} ({arch}{os}): {excluded} and {detail}")]
    NoMatch {
        /// This machine's `uname -r`.
        uname: String,
        /// This machine's arch, normalized.
        arch: String,
        /// `, ID VERSION_ID` from os-release, or empty when it has no `ID`.
        os: String,
        /// Why the sources before the bundle were not used.
        excluded: Excluded,
        /// What is missing: no bundle, no kernel of this arch (naming the arches the
        /// bundle has), or no entry for this kernel (naming the nearest ones).
        detail: String,
        /// Up to five kernel names of this arch in the bundle, closest first (most
        /// leading release tokens in common, then the smallest numeric distance); empty
        /// when the bundle has none of this arch or there is no bundle.
        nearest: Vec<String>,
    },
    /// Several bundle entries share this arch and `uname -r` with different BTF, and
    /// os-release matches none exactly nor narrows them to one BTF by `ID`.
    #[error("kernel {uname} ({arch}) matches several bundle entries with different BTF and os-release ({os}) does not decide: {}", .candidates.join("; "))]
    Ambiguous {
        /// This machine's `uname -r`.
        uname: String,
        /// This machine's arch, normalized.
        arch: String,
        /// os-release `ID VERSION_ID` (a single space when both are absent).
        os: String,
        /// The matching entries, each as `arch uname (ID VERSION_ID)`, followed by
        /// ` build-id HEX` when the entry has one.
        candidates: Vec<String>,
    },
    /// [`SourcePolicy::Kernel`] was asked for and the kernel has no
    /// `/sys/kernel/btf/vmlinux`.
    #[error("--btf-source kernel: this kernel ({uname}) has no {KERNEL_BTF}")]
    NoKernelBtf {
        /// This machine's `uname -r`.
        uname: String,
    },
    /// The chosen bundle entry's blob (or a blob of its chain) failed its check or did
    /// not decode.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// Why selection looked only at the bundle (in [`SelectError::NoMatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excluded {
    /// No explicit path, and the kernel has no `/sys/kernel/btf/vmlinux`.
    KernelBtfAbsent,
    /// `--btf-source bundle` ([`SourcePolicy::Bundle`]) excludes the other sources.
    Forced,
}

impl fmt::Display for Excluded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Excluded::KernelBtfAbsent => write!(f, "{KERNEL_BTF} is absent"),
            Excluded::Forced => f.write_str("--btf-source bundle excludes the kernel's own BTF"),
        }
    }
}

/// Which sources selection may use (`corepack trace --btf-source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourcePolicy {
    /// Explicit path (`COREPACK_BTF`), then the kernel's BTF, then the bundle.
    Auto,
    /// Only the kernel's own BTF.
    Kernel,
    /// Only the bundle, even where the kernel has its own BTF.
    Bundle,
    /// Only this file.
    Path(PathBuf),
}

impl std::str::FromStr for SourcePolicy {
    type Err = std::convert::Infallible;

    /// `auto`, `kernel`, `bundle`, or anything else as a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => SourcePolicy::Auto,
            "kernel" => SourcePolicy::Kernel,
            "bundle" => SourcePolicy::Bundle,
            path => SourcePolicy::Path(PathBuf::from(path)),
        })
    }
}

/// [`select_btf`] restricted by `policy`: `Kernel` fails when the kernel has no BTF,
/// `Bundle` ignores the explicit path and the kernel's BTF, `Path` uses only that file.
pub fn select_with(
    policy: &SourcePolicy,
    env: &Environment,
    bundle: Option<&Bundle<'_>>,
) -> Result<Selection, SelectError> {
    match policy {
        SourcePolicy::Auto => select_btf(env, bundle),
        SourcePolicy::Path(p) => Ok(Selection {
            source: BtfSource::Explicit(p.clone()),
            reason: format!("forced by --btf-source {}", p.display()),
        }),
        SourcePolicy::Kernel => match &env.kernel_btf {
            Some(p) => Ok(Selection {
                source: BtfSource::Kernel(p.clone()),
                reason: "forced by --btf-source kernel".into(),
            }),
            None => Err(SelectError::NoKernelBtf {
                uname: env.uname.clone(),
            }),
        },
        SourcePolicy::Bundle => {
            let mut s = select_in_bundle(env, bundle, Excluded::Forced)?;
            s.reason = format!("{}, forced by --btf-source bundle", s.reason);
            Ok(s)
        }
    }
}

/// Splits a kernel release into comparable tokens (`5.15.0-91-generic` → 5,15,0,91,generic).
fn tokens(s: &str) -> Vec<&str> {
    s.split(['.', '-', '+', '_', '~'])
        .filter(|t| !t.is_empty())
        .collect()
}

/// Ranks kernel names by closeness to `uname`: most leading tokens in common, then the
/// smallest numeric distance at the first differing token.
fn nearest<'b>(uname: &str, names: impl Iterator<Item = &'b str>, n: usize) -> Vec<String> {
    let want = tokens(uname);
    let mut scored: Vec<(usize, u64, &str)> = names
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let have = tokens(name);
            let common = want.iter().zip(&have).take_while(|(a, b)| a == b).count();
            let dist = match (
                want.get(common).and_then(|t| t.parse::<u64>().ok()),
                have.get(common).and_then(|t| t.parse::<u64>().ok()),
            ) {
                (Some(a), Some(b)) => a.abs_diff(b),
                _ => u64::MAX,
            };
            (common, dist, name)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    scored
        .into_iter()
        .take(n)
        .map(|s| s.2.to_string())
        .collect()
}

/// Chooses the BTF: explicit path, then the kernel's own BTF, then the bundle (by
/// build-id, then by name).
pub fn select_btf(
    env: &Environment,
    bundle: Option<&Bundle<'_>>,
) -> Result<Selection, SelectError> {
    if let Some(p) = &env.explicit {
        return Ok(Selection {
            source: BtfSource::Explicit(p.clone()),
            reason: format!("explicit path {} (flag or {BTF_ENV})", p.display()),
        });
    }
    if let Some(p) = &env.kernel_btf {
        return Ok(Selection {
            source: BtfSource::Kernel(p.clone()),
            reason: format!("the kernel's own BTF at {}", p.display()),
        });
    }
    select_in_bundle(env, bundle, Excluded::KernelBtfAbsent)
}

/// Chooses the bundle entry for this machine; `excluded` says why no other source was
/// used (for [`SelectError::NoMatch`]).
fn select_in_bundle(
    env: &Environment,
    bundle: Option<&Bundle<'_>>,
    excluded: Excluded,
) -> Result<Selection, SelectError> {
    let arch = normalize_arch(&env.arch);
    let (os_id, version_id) = env.os_ids();
    let os = if os_id.is_empty() {
        String::new()
    } else {
        format!(", {os_id} {version_id}")
    };
    let Some(bundle) = bundle else {
        return Err(SelectError::NoMatch {
            uname: env.uname.clone(),
            arch,
            os,
            excluded,
            detail: "no bundle was given".into(),
            nearest: Vec::new(),
        });
    };
    let entries = bundle.entries();
    let pick = |i: usize, reason: String| -> Result<Selection, SelectError> {
        let e = &entries[i];
        // Each blob of the entry's chain is checked before it is decoded: a tampered
        // bundle is refused before any of it is decompressed.
        let btf = bundle.blob(e.blob as usize)?;
        Ok(Selection {
            source: BtfSource::Bundle {
                entry: i,
                kernel: e.kernel.clone(),
                btf,
            },
            reason,
        })
    };
    let one_blob = |set: &[usize]| {
        set.iter()
            .map(|&i| entries[i].blob)
            .collect::<BTreeSet<_>>()
            .len()
            == 1
    };
    // More than one entry fits, with different BTF: each named with its build-id.
    let ambiguous = |os: String, set: &[usize]| SelectError::Ambiguous {
        uname: env.uname.clone(),
        arch: arch.clone(),
        os,
        candidates: set
            .iter()
            .map(|&i| {
                format!(
                    "{}{}",
                    entries[i].kernel,
                    build_id_suffix(&entries[i].build_id)
                )
            })
            .collect(),
    };
    let by_build_id: Vec<usize> = bundle
        .find_build_id(&env.build_id)
        .filter(|(_, e)| e.kernel.arch == arch)
        .map(|(i, _)| i)
        .collect();
    if !by_build_id.is_empty() {
        let hex = crate::notes::to_hex(&env.build_id);
        if one_blob(&by_build_id) {
            return pick(by_build_id[0], format!("build-id {hex} matches"));
        }
        return Err(ambiguous(
            format!("{os_id} {version_id}; build-id {hex}"),
            &by_build_id,
        ));
    }
    // An entry of another build (both build-ids known and different) is not this kernel.
    let other_build = |i: usize| !env.build_id.is_empty() && !entries[i].build_id.is_empty();
    let candidates: Vec<usize> = (0..entries.len())
        .filter(|&i| {
            entries[i].kernel.arch == arch
                && entries[i].kernel.uname == env.uname
                && !other_build(i)
        })
        .collect();
    if candidates.is_empty() {
        let same_arch: Vec<&str> = entries
            .iter()
            .filter(|e| e.kernel.arch == arch)
            .map(|e| e.kernel.uname.as_str())
            .collect();
        let other_builds = (0..entries.len())
            .any(|i| entries[i].kernel.arch == arch && entries[i].kernel.uname == env.uname);
        let (detail, nearest) = if other_builds {
            (
                format!(
                    "the bundle's entries for it are other builds (this kernel's build-id is {})",
                    crate::notes::to_hex(&env.build_id)
                ),
                Vec::new(),
            )
        } else if same_arch.is_empty() {
            let arches: BTreeSet<&str> = entries.iter().map(|e| e.kernel.arch.as_str()).collect();
            let arches: Vec<&str> = arches.into_iter().collect();
            (
                format!(
                    "the bundle has no {arch} kernels (it has: {})",
                    arches.join(", ")
                ),
                Vec::new(),
            )
        } else {
            let near = nearest(&env.uname, same_arch.into_iter(), 5);
            (
                format!(
                    "the bundle has no entry for it; nearest: {}",
                    near.join(", ")
                ),
                near,
            )
        };
        return Err(SelectError::NoMatch {
            uname: env.uname.clone(),
            arch,
            os,
            excluded,
            detail,
            nearest,
        });
    }
    // Several exact matches are one kernel name rebuilt (entries of unknown build-id, or
    // a machine whose build-id is unknown): they decide only if they share one BTF.
    let exact: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| entries[i].kernel.os_id == os_id && entries[i].kernel.version_id == version_id)
        .collect();
    if !exact.is_empty() && one_blob(&exact) {
        return pick(
            exact[0],
            "exact match of arch, uname -r and os-release".to_string(),
        );
    }
    if exact.is_empty() && one_blob(&candidates) {
        let i = candidates[0];
        return pick(
            i,
            format!(
                "os-release ({os_id} {version_id}) matches no entry exactly, but all {} entries for {} share one BTF",
                candidates.len(),
                env.uname
            ),
        );
    }
    let same_id: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| entries[i].kernel.os_id == os_id)
        .collect();
    if exact.is_empty() && !same_id.is_empty() && one_blob(&same_id) {
        let i = same_id[0];
        return pick(
            i,
            format!(
                "VERSION_ID {version_id} matches no entry, but all {os_id} entries for {} share one BTF",
                env.uname
            ),
        );
    }
    Err(ambiguous(format!("{os_id} {version_id}"), &candidates))
}

impl fmt::Display for BtfSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfSource::Explicit(p) => write!(f, "explicit {}", p.display()),
            BtfSource::Kernel(p) => write!(f, "kernel {}", p.display()),
            BtfSource::Bundle { kernel, .. } => write!(f, "bundle {kernel}"),
        }
    }
}

#[cfg(test)]
mod build_id_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod tests;
