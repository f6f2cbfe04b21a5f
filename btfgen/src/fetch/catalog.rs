//! The kernels.toml catalog: one `[[kernel]]` entry per distro release and architecture.
//!
//! The schema is documented in docs/catalog.md. The built-in catalog is the
//! repository's kernels.toml, compiled into the binary; `--catalog FILE` adds entries
//! or overrides the built-in ones with the same name and arch.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::near::edit_distance;

/// The built-in catalog (kernels.toml at the root of the repository).
pub(super) const BUILTIN: &str = include_str!("../../../kernels.toml");

/// Architectures, named as BTFHub's directories name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86-64 (`amd64` in Debian, `x86_64` in RPM).
    X86_64,
    /// 64-bit ARM (`arm64` in Debian, `aarch64` in RPM).
    Arm64,
}

impl Arch {
    /// The name in kernels.toml and BTFHub's layout.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }
    /// The RPM architecture (`{arch}` in templates).
    pub fn rpm(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }
    /// The Debian architecture (`{debarch}` in templates).
    pub fn deb(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
    /// Parses `x86_64`/`amd64` or `arm64`/`aarch64`.
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "x86_64" | "amd64" => Some(Arch::X86_64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
    /// The architecture of this machine, if it is one of the catalog's.
    pub fn host() -> Option<Arch> {
        Arch::parse(std::env::consts::ARCH)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a repository lists its packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    /// yum/dnf repodata: `BASE/repodata/repomd.xml` → primary.xml(.gz|.xz|.zst).
    Yum,
    /// apt: `BASE/dists/DIST/binary-DEBARCH/Packages(.xz|.gz)` per `dists` entry.
    Apt,
    /// A plain HTML directory listing of .rpm files at `BASE`.
    Dir,
}

/// One catalog entry: a distro release on one architecture.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `<os-release ID>-<VERSION_ID>`, e.g. `centos-7`, `ubuntu-20.04`, `sles-15.3`.
    pub name: String,
    /// The architecture.
    pub arch: Arch,
    /// The kind of repository metadata.
    pub repo_type: RepoType,
    /// Repository base URLs (templates: `{arch}`, `{debarch}`).
    #[serde(default)]
    pub repos: Vec<String>,
    /// apt only: the `DIST/COMPONENT` paths under `BASE/dists/`, e.g. `focal-updates/main`.
    #[serde(default)]
    pub dists: Vec<String>,
    /// Debuginfo package name patterns: `*` matches any text; `{1}` in `uname` is what
    /// the first `*` matched.
    pub packages: Vec<String>,
    /// Kernel flavors kept (the `uname -r` ends with `-FLAVOR`); empty keeps all.
    #[serde(default)]
    pub flavors: Vec<String>,
    /// Flavors skipped (e.g. SUSE's `preempt`).
    #[serde(default)]
    pub skip_flavors: Vec<String>,
    /// How `uname -r` derives from the package: `{1}` (first `*` of the matching
    /// pattern), `{name}`, `{version}`, `{release}`, `{release_base}` (the release
    /// without its last `.` component, SUSE's build counter), `{arch}` (the package's).
    pub uname: String,
    /// Where the vmlinux lies inside the package (`{uname}` substituted).
    pub vmlinux: String,
    /// The oldest kernel worth fetching (compared as a version with `uname -r`).
    #[serde(default)]
    pub min_version: Option<String>,
    /// Packages smaller than this many bytes are skipped (Ubuntu's empty signed dbgsyms).
    #[serde(default)]
    pub min_size: Option<u64>,
    /// The repositories need a subscription: `--mirror` is required.
    #[serde(default)]
    pub subscription: bool,
    /// The BTFHub directory for the release when it is not VERSION_ID; output goes to
    /// `ID/VERSION_ID/ARCH` otherwise.
    #[serde(default)]
    pub btfhub_dir: Option<String>,
    /// Ubuntu: kernels whose dbgsym the repositories no longer list, looked up on
    /// Launchpad (BTFHub's `pull-lp-ddebs` fallback).
    #[serde(default)]
    pub launchpad: Option<Launchpad>,
}

/// The Launchpad fallback of an Ubuntu entry: every kernel image the `images`
/// repositories list (read with the entry's `dists`) whose dbgsym the entry's own
/// repositories lack is looked up in a Launchpad archive, as `pull-lp-ddebs` does.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Launchpad {
    /// apt repositories of the kernel images (templates `{arch}`, `{debarch}`).
    pub images: Vec<String>,
    /// Kernel image package patterns; `{1}` (the first `*`) is the `uname -r`.
    pub image_packages: Vec<String>,
    /// The Launchpad archive's API URL, e.g.
    /// `https://api.launchpad.net/1.0/ubuntu/+archive/primary`.
    pub archive: String,
    /// The distro series (`focal`).
    pub series: String,
    /// The dbgsym package looked up, with `{uname}` substituted.
    pub dbgsym: String,
}

impl Launchpad {
    /// The distro-arch-series API URL (`…/ubuntu/focal/amd64`) of `arch`.
    pub fn distro_arch_series(&self, archive: &str, arch: Arch) -> String {
        let distro = archive.split("/+archive/").next().unwrap_or(archive);
        format!(
            "{}/{}/{}",
            distro.trim_end_matches('/'),
            self.series,
            arch.deb()
        )
    }
}

/// A `--mirror` rule: a URL that replaces every repository's base URL, or
/// `FROM=TO`, which replaces the prefix `FROM` of the URLs that start with it
/// (repositories, image repositories, the Launchpad API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mirror {
    /// Every repository's base URL (an apt repository keeps its suites).
    Replace(String),
    /// URLs starting with `.0` get `.1` instead.
    Prefix(String, String),
}

impl std::str::FromStr for Mirror {
    type Err = String;
    fn from_str(s: &str) -> Result<Mirror, String> {
        let is_url = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        if let Some((from, to)) = s.split_once('=') {
            if is_url(from) && !from.contains('?') {
                if !is_url(to) {
                    return Err(format!("mirror {s:?}: {to:?} is not an http(s) URL"));
                }
                return Ok(Mirror::Prefix(from.into(), to.into()));
            }
        }
        if !is_url(s) {
            return Err(format!(
                "mirror {s:?}: expected an http(s) URL, or FROM=TO (two URLs)"
            ));
        }
        Ok(Mirror::Replace(s.into()))
    }
}

/// One repository to read: its base URL and, for apt, its `SUITE/COMPONENT`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The base URL, placeholders substituted and mirrors applied.
    pub base: String,
    /// apt: the `SUITE/COMPONENT` paths under `BASE/dists/`; empty otherwise.
    pub dists: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    kernel: Vec<Entry>,
}

/// Errors of catalog loading and lookup.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// TOML syntax or schema error.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or `built-in kernels.toml`).
        origin: String,
        /// The parser's message, with the line.
        message: String,
    },
    /// An entry fails validation.
    #[error("{origin}: entry {name} ({arch}): {message}")]
    Invalid {
        /// The file.
        origin: String,
        /// The entry name.
        name: String,
        /// The entry arch.
        arch: Arch,
        /// What is wrong.
        message: String,
    },
    /// Reading a catalog file failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// No entry has that name.
    #[error("unknown distro {name}{}", near_text(.near))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Names close to it.
        near: Vec<String>,
    },
    /// The name exists, but not for that arch.
    #[error("{name} has no {arch} entry (arches: {})", .arches.join(", "))]
    NoArch {
        /// The name.
        name: String,
        /// The arch asked for.
        arch: Arch,
        /// The arches it has.
        arches: Vec<String>,
    },
}

fn near_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

/// A set of entries, unique by name and arch.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// The entries, in file order (overrides keep the place of the entry they replace).
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::parse(BUILTIN, "built-in kernels.toml")
    }

    /// Parses and validates catalog text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let file: File = toml::from_str(text).map_err(|e| CatalogError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let mut cat = Catalog::default();
        for e in file.kernel {
            validate(&e).map_err(|message| CatalogError::Invalid {
                origin: origin.to_string(),
                name: e.name.clone(),
                arch: e.arch,
                message,
            })?;
            if cat
                .entries
                .iter()
                .any(|o| o.name == e.name && o.arch == e.arch)
            {
                return Err(CatalogError::Invalid {
                    origin: origin.to_string(),
                    name: e.name,
                    arch: e.arch,
                    message: "defined twice".into(),
                });
            }
            cat.entries.push(e);
        }
        Ok(cat)
    }

    /// Reads and parses a catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let io = |e| CatalogError::Io(path.display().to_string(), e);
        let bytes = crate::input::read(path, crate::input::MAX_TEXT_STREAM)
            .map_err(|e| io(std::io::Error::other(e)))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        Catalog::parse(&text, &path.display().to_string())
    }

    /// Adds `other`'s entries; one with the same name and arch as an existing entry
    /// replaces it.
    pub fn merge(&mut self, other: Catalog) {
        for e in other.entries {
            match self
                .entries
                .iter_mut()
                .find(|o| o.name == e.name && o.arch == e.arch)
            {
                Some(slot) => *slot = e,
                None => self.entries.push(e),
            }
        }
    }

    /// The distinct names, in catalog order.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !v.contains(&e.name.as_str()) {
                v.push(&e.name);
            }
        }
        v
    }

    /// The entry for `name` on `arch`; unknown names give the near ones.
    pub fn get(&self, name: &str, arch: Arch) -> Result<&Entry, CatalogError> {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.name == name && e.arch == arch)
        {
            return Ok(e);
        }
        let arches: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.name == name)
            .map(|e| e.arch.to_string())
            .collect();
        if !arches.is_empty() {
            return Err(CatalogError::NoArch {
                name: name.to_string(),
                arch,
                arches,
            });
        }
        Err(CatalogError::Unknown {
            name: name.to_string(),
            near: near_names(name, &self.names()),
        })
    }
}

/// Up to five names near `name`: same distro ID first, then small edit distance.
fn near_names(name: &str, names: &[&str]) -> Vec<String> {
    let id = name.split('-').next().unwrap_or(name);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| {
            let nid = n.split('-').next().unwrap_or(n);
            let d = if nid == id || n.starts_with(name) {
                0
            } else {
                1 + edit_distance(name, n)
            };
            (d, *n)
        })
        .filter(|(d, n)| *d == 0 || *d <= 1 + (name.len().max(n.len()) / 2).max(2))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}

const UNAME_KEYS: &[&str] = &["1", "name", "version", "release", "release_base", "arch"];

fn validate(e: &Entry) -> Result<(), String> {
    let (id, ver) = e
        .name
        .split_once('-')
        .ok_or("name must be <os-release ID>-<VERSION_ID>")?;
    if id.is_empty()
        || ver.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        || !ver.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return Err(
            "name must be <os-release ID>-<VERSION_ID> (ID lower case, VERSION_ID digits and dots)"
                .into(),
        );
    }
    if e.repos.is_empty() && !e.subscription {
        return Err("repos is empty (only subscription entries may leave it empty)".into());
    }
    for r in &e.repos {
        let (url, suites) = split_source(r);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("repo {r:?} is not an http(s) URL"));
        }
        check_template(r, &["arch", "debarch"]).map_err(|m| format!("repo {r:?}: {m}"))?;
        if r.split_whitespace().count() > 1 {
            if e.repo_type != RepoType::Apt {
                return Err(format!(
                    "repo {r:?}: only apt repositories name suites (URL SUITE COMPONENT...)"
                ));
            }
            if suites.is_empty() {
                return Err(format!(
                    "repo {r:?}: a suite needs components (URL SUITE COMPONENT...)"
                ));
            }
        }
    }
    let every_repo_has_suites =
        !e.repos.is_empty() && e.repos.iter().all(|r| r.split_whitespace().count() > 2);
    match (e.repo_type, e.dists.is_empty()) {
        (RepoType::Apt, true) if !every_repo_has_suites => {
            return Err("repo_type apt needs dists (or URL SUITE COMPONENT... repos)".into())
        }
        (RepoType::Yum | RepoType::Dir, false) => {
            return Err("dists is for repo_type apt only".into())
        }
        _ => {}
    }
    if let Some(lp) = &e.launchpad {
        if e.repo_type != RepoType::Apt || e.dists.is_empty() {
            return Err("launchpad needs repo_type apt and dists (the images' suites)".into());
        }
        for u in lp.images.iter().chain([&lp.archive]) {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("launchpad: {u:?} is not an http(s) URL"));
            }
            check_template(u, &["arch", "debarch"]).map_err(|m| format!("launchpad: {m}"))?;
        }
        if lp.images.is_empty() || lp.image_packages.iter().any(|p| !p.contains('*')) {
            return Err("launchpad: images and image_packages (each with a *) are needed".into());
        }
        if lp.series.is_empty() || lp.series.contains('/') {
            return Err(format!(
                "launchpad: series {:?} is not a series name",
                lp.series
            ));
        }
        check_template(&lp.dbgsym, &["uname"]).map_err(|m| format!("launchpad: dbgsym: {m}"))?;
    }
    if e.packages.is_empty() {
        return Err("packages is empty".into());
    }
    check_template(&e.uname, UNAME_KEYS).map_err(|m| format!("uname: {m}"))?;
    if e.uname.contains("{1}") && e.packages.iter().any(|p| !p.contains('*')) {
        return Err("uname uses {1} but a package pattern has no *".into());
    }
    check_template(&e.vmlinux, &["uname"]).map_err(|m| format!("vmlinux: {m}"))?;
    if e.vmlinux.starts_with('/') || e.vmlinux.split('/').any(|c| c == "..") {
        return Err("vmlinux must be a relative path without ..".into());
    }
    if let Some(v) = &e.min_version {
        if !v.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("min_version {v:?} does not start with a digit"));
        }
    }
    Ok(())
}

/// Checks that `{KEY}`s in `t` are among `keys` and braces balance.
fn check_template(t: &str, keys: &[&str]) -> Result<(), String> {
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let end = rest[i..]
            .find('}')
            .ok_or_else(|| format!("unclosed {{ in {t:?}"))?;
        let key = &rest[i + 1..i + end];
        if !keys.contains(&key) {
            return Err(format!(
                "unknown placeholder {{{key}}} (known: {})",
                keys.iter()
                    .map(|k| format!("{{{k}}}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        rest = &rest[i + end + 1..];
    }
    if rest.contains('}') {
        return Err(format!("stray }} in {t:?}"));
    }
    Ok(())
}

/// Substitutes `{KEY}` in `t` by `f(KEY)` (templates are validated beforehand).
pub(super) fn expand(t: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(end) => {
                out.push_str(&f(&rest[i + 1..i + end]));
                rest = &rest[i + end + 1..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits an apt repository written as a sources.list line, `URL SUITE COMPONENT...`,
/// into the URL and its `SUITE/COMPONENT`s (none when only the URL is given).
fn split_source(repo: &str) -> (&str, Vec<String>) {
    let mut words = repo.split_whitespace();
    let url = words.next().unwrap_or("");
    let suite = words.next();
    let comps: Vec<&str> = words.collect();
    match suite {
        Some(suite) => (url, comps.iter().map(|c| format!("{suite}/{c}")).collect()),
        None => (url, Vec::new()),
    }
}

impl Entry {
    /// `url` with `{arch}`/`{debarch}` substituted and the first matching
    /// `FROM=TO` mirror applied.
    pub fn rewrite(&self, url: &str, mirrors: &[Mirror]) -> String {
        let url = expand(url, |k| self.arch_key(k));
        for m in mirrors {
            if let Mirror::Prefix(from, to) = m {
                if let Some(rest) = url.strip_prefix(from.as_str()) {
                    return expand(&format!("{to}{rest}"), |k| self.arch_key(k));
                }
            }
        }
        url
    }

    /// The repositories to read: placeholders substituted, each apt repository with
    /// its suites (its own, else `dists`), and `mirrors` applied. Plain URLs replace
    /// the repositories: each one is read (with the suites of each apt repository;
    /// duplicates are read once). Otherwise `FROM=TO` rewrites the URLs starting
    /// with FROM.
    pub fn sources(&self, mirrors: &[Mirror]) -> Vec<Source> {
        let plain: Vec<String> = mirrors
            .iter()
            .filter_map(|m| match m {
                Mirror::Replace(u) => Some(expand(u, |k| self.arch_key(k))),
                Mirror::Prefix(..) => None,
            })
            .collect();
        let own: Vec<(&str, Vec<String>)> = self
            .repos
            .iter()
            .map(|r| {
                let (url, suites) = split_source(r);
                (
                    url,
                    if suites.is_empty() {
                        self.dists.clone()
                    } else {
                        suites
                    },
                )
            })
            .collect();
        let mut out: Vec<Source> = Vec::new();
        let mut add = |src: Source| {
            if !out.contains(&src) {
                out.push(src);
            }
        };
        if plain.is_empty() {
            for (url, dists) in own {
                add(Source {
                    base: self.rewrite(url, mirrors),
                    dists,
                });
            }
        } else {
            for base in &plain {
                if own.is_empty() {
                    add(Source {
                        base: base.clone(),
                        dists: self.dists.clone(),
                    });
                }
                for (_, dists) in &own {
                    add(Source {
                        base: base.clone(),
                        dists: dists.clone(),
                    });
                }
            }
        }
        out
    }

    fn arch_key(&self, k: &str) -> String {
        match k {
            "arch" => self.arch.rpm().to_string(),
            "debarch" => self.arch.deb().to_string(),
            _ => format!("{{{k}}}"),
        }
    }

    /// The `ID` and `VERSION_ID` parts of the name.
    pub fn id_version(&self) -> (&str, &str) {
        self.name.split_once('-').unwrap_or((&self.name, ""))
    }
}

#[cfg(test)]
mod tests;
