//! From repository packages and a catalog entry to the kernels to fetch: `uname -r`
//! derivation, filters (flavors, oldest version, size), version order, and the
//! choice (`--kernel`, `--latest N`, `--all`, `--shard I/N`).

use std::cmp::Ordering;

use super::catalog::{expand, Entry};
use super::meta::Package;
use crate::digest::Checksum;
use crate::text::{escape, is_kernel_release};

/// A kernel available in a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// The kernel release as `uname -r` prints it (the BTF file name).
    pub uname: String,
    /// The debuginfo package name.
    pub package: String,
    /// Absolute URL of the package.
    pub url: String,
    /// Size in bytes, when the metadata gives it.
    pub size: Option<u64>,
    /// Checksum, when the metadata gives it.
    pub checksum: Option<Checksum>,
    /// The vmlinux path inside the package.
    pub vmlinux: String,
    /// The kernel's stream: its flavor (the `uname -r` words after the version,
    /// `generic`, `cloud-amd64`, `default`), else the package name
    /// (`kernel-uek-debuginfo`). BTFHub stops a stream at its first kernel that
    /// ships .BTF.
    pub stream: String,
    /// `url` is a Launchpad query still to resolve (see [`super::resolve`]).
    pub launchpad: bool,
}

/// The stream of a kernel `uname` from package `package`: the `-`-separated words of
/// the release after those that start with a digit, else the package name.
pub(super) fn stream_of(uname: &str, package: &str) -> String {
    let words: Vec<&str> = uname
        .split('-')
        .skip_while(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    if words.is_empty() {
        package.to_string()
    } else {
        words.join("-")
    }
}

/// Compares versions the way rpm's `rpmvercmp` does, with Debian's `~` (sorts before
/// anything, even the end) and rpm's `^` (sorts after the end, before anything else):
/// runs of digits compare as numbers, runs of letters as text, a numeric run is newer
/// than a letter run, separators only split, and the version with segments left over
/// is newer. Good for kernel releases: `3.10.0-957.el7` < `3.10.0-1160.el7`,
/// `5.4.0-42-generic` < `5.4.0-100-generic`, `5.10.0~rc1` < `5.10.0`.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while let Some((&c, rest)) = a.split_first() {
            if sep(c) {
                a = rest
            } else {
                break;
            }
        }
        while let Some((&c, rest)) = b.split_first() {
            if sep(c) {
                b = rest
            } else {
                break;
            }
        }
        // ~ sorts before everything, ^ after the end only.
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            _ => {}
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .position(|c| {
                    if numeric {
                        !c.is_ascii_digit()
                    } else {
                        !c.is_ascii_alphabetic()
                    }
                })
                .unwrap_or(s.len())
        };
        let (na, nb) = (take(a), take(b));
        if nb == 0 {
            // Different kinds: the numeric run is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[..na], &b[..nb]);
        let ord = if numeric {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[na..];
        b = &b[nb..];
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let i = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[i..]
}

/// Matches `name` against a glob (`*` = any text); returns what the first `*`
/// matched (empty when the pattern has none).
pub(super) fn glob_match<'a>(pattern: &str, name: &'a str) -> Option<&'a str> {
    fn rec(p: &[u8], n: &[u8], i: usize, first: &mut Option<(usize, usize)>) -> bool {
        match p.split_first() {
            None => i == n.len(),
            Some((b'*', rest)) => {
                for j in (i..=n.len()).rev() {
                    let had = first.is_some();
                    if !had {
                        *first = Some((i, j));
                    }
                    if rec(rest, n, j, first) {
                        return true;
                    }
                    if !had {
                        *first = None;
                    }
                }
                false
            }
            Some((&c, rest)) => i < n.len() && n[i] == c && rec(rest, n, i + 1, first),
        }
    }
    let mut first = None;
    if rec(pattern.as_bytes(), name.as_bytes(), 0, &mut first) {
        Some(first.map_or("", |(i, j)| &name[i..j]))
    } else {
        None
    }
}

/// Joins a package location to its repository base URL (absolute locations stay).
pub(super) fn join_url(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix('/') {
        // Host-absolute: keep scheme and host of the base.
        let after = base.find("://").map_or(0, |i| i + 3);
        let host_end = base[after..].find('/').map_or(base.len(), |i| after + i);
        format!("{}/{}", &base[..host_end], rest)
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            location.trim_start_matches("./")
        )
    }
}

/// The kernel `p` (found at repository `base`) is, per `entry`; `None` when no pattern
/// matches, the package is for another architecture, the derived `uname -r` is not a
/// kernel release ([`is_kernel_release`]: meta-packages such as `linux-image-amd64-dbg`
/// do not start with a digit, and a name that could not be a file name is never one),
/// the flavor is not wanted, or the package is too small or older than `min_version`.
pub(super) fn kernel_of(entry: &Entry, base: &str, p: &Package) -> Option<Kernel> {
    // Repositories may list several architectures (Oracle's debuginfo directory does).
    if p.arch != entry.arch.rpm() && p.arch != entry.arch.deb() {
        return None;
    }
    let star = entry
        .packages
        .iter()
        .find_map(|pat| glob_match(pat, &p.name))?;
    let release_base = p
        .release
        .rsplit_once('.')
        .map_or(p.release.as_str(), |(b, _)| b);
    let uname = expand(&entry.uname, |k| match k {
        "1" => star.to_string(),
        "name" => p.name.clone(),
        "version" => p.version.clone(),
        "release" => p.release.clone(),
        "release_base" => release_base.to_string(),
        "arch" => p.arch.clone(),
        _ => String::new(),
    });
    if !is_kernel_release(&uname) {
        return None;
    }
    let flavor_ok = |f: &String| uname.ends_with(&format!("-{f}"));
    if !entry.flavors.is_empty() && !entry.flavors.iter().any(flavor_ok) {
        return None;
    }
    if entry.skip_flavors.iter().any(flavor_ok) {
        return None;
    }
    if let (Some(min), Some(size)) = (entry.min_size, p.size) {
        if size < min {
            return None;
        }
    }
    if let Some(min) = &entry.min_version {
        if compare_versions(&uname, min) == Ordering::Less {
            return None;
        }
    }
    let vmlinux = expand(&entry.vmlinux, |_| uname.clone());
    Some(Kernel {
        url: join_url(base, &p.location),
        package: p.name.clone(),
        size: p.size,
        checksum: p.checksum.clone(),
        vmlinux,
        stream: stream_of(&uname, &p.name),
        uname,
        launchpad: false,
    })
}

/// The kernels of `packages` (each with its repository base URL), one per `uname -r`
/// (the first repository listing it wins), oldest first.
pub(super) fn kernels<'a>(
    entry: &Entry,
    packages: impl IntoIterator<Item = (&'a str, &'a Package)>,
) -> Vec<Kernel> {
    let mut out: Vec<Kernel> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (base, p) in packages {
        if let Some(k) = kernel_of(entry, base, p) {
            if seen.insert(k.uname.clone()) {
                out.push(k);
            }
        }
    }
    sort(&mut out);
    out
}

/// Sorts kernels oldest first.
pub(super) fn sort(ks: &mut [Kernel]) {
    ks.sort_by(|a, b| compare_versions(&a.uname, &b.uname).then_with(|| a.uname.cmp(&b.uname)));
}

/// The Launchpad kernels of an entry: those the image packages (`images`, each with
/// its repository base URL) name, per the entry's flavors and oldest version, that
/// `found` lacks. Each one's `url` is the Launchpad query `query(dbgsym)` gives.
pub(super) fn launchpad_kernels<'a>(
    entry: &Entry,
    images: impl IntoIterator<Item = (&'a str, &'a Package)>,
    found: &[Kernel],
    query: impl Fn(&str) -> String,
) -> Vec<Kernel> {
    let Some(lp) = &entry.launchpad else {
        return Vec::new();
    };
    // The images, read as the entry reads its dbgsyms: same flavors, same oldest
    // version, no size floor (an image is small).
    let as_images = Entry {
        packages: lp.image_packages.clone(),
        uname: "{1}".into(),
        min_size: None,
        launchpad: None,
        ..entry.clone()
    };
    let mut out: Vec<Kernel> = Vec::new();
    for (base, p) in images {
        let Some(image) = kernel_of(&as_images, base, p) else {
            continue;
        };
        let uname = image.uname;
        if found.iter().chain(&out).any(|k| k.uname == uname) {
            continue;
        }
        let dbgsym = expand(&lp.dbgsym, |_| uname.clone());
        out.push(Kernel {
            url: query(&dbgsym),
            vmlinux: expand(&entry.vmlinux, |_| uname.clone()),
            stream: stream_of(&uname, &dbgsym),
            package: dbgsym,
            size: None,
            checksum: None,
            uname,
            launchpad: true,
        });
    }
    out
}

/// Which kernels to take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Every kernel.
    All,
    /// The `N` newest.
    Latest(usize),
    /// Exactly these releases (each must exist).
    Releases(Vec<String>),
}

/// `--shard I/N`: the `I`th (1-based) of `N` parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1..=N.
    pub index: u32,
    /// Number of parts, >= 1.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard {s:?}: expected I/N with 1 <= I <= N");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether kernel `uname` falls in this shard: FNV-1a of the release, modulo N.
    /// Depends on the release alone, so the parts are stable whatever else the
    /// repositories list, and disjoint.
    pub fn contains(&self, uname: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in uname.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % u64::from(self.count)) as u32 == self.index - 1
    }
}

/// Errors of the choice.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    /// `--kernel` names a release the repositories do not have.
    #[error("kernel {} not found{near}", escape(.0), near = near(.1))]
    NotFound(String, Vec<String>),
}

fn near(v: &[String]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        format!(" (nearest: {})", escape(&v.join(", ")))
    }
}

/// Applies `choice` then `shard` to `kernels` (oldest first, as the repositories' listing gives them).
pub fn choose(
    kernels: Vec<Kernel>,
    choice: &Choice,
    shard: Option<Shard>,
) -> Result<Vec<Kernel>, ChoiceError> {
    let chosen = match choice {
        Choice::All => kernels,
        Choice::Latest(n) => {
            let skip = kernels.len().saturating_sub(*n);
            kernels.into_iter().skip(skip).collect()
        }
        Choice::Releases(want) => {
            for w in want {
                if !kernels.iter().any(|k| &k.uname == w) {
                    let mut near: Vec<&Kernel> = kernels.iter().collect();
                    near.sort_by_key(|k| std::cmp::Reverse(common_prefix(&k.uname, w)));
                    return Err(ChoiceError::NotFound(
                        w.clone(),
                        near.iter().take(3).map(|k| k.uname.clone()).collect(),
                    ));
                }
            }
            kernels
                .into_iter()
                .filter(|k| want.contains(&k.uname))
                .collect()
        }
    };
    Ok(match shard {
        Some(s) => chosen
            .into_iter()
            .filter(|k| s.contains(&k.uname))
            .collect(),
        None => chosen,
    })
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests;
