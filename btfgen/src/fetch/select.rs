//! From repository packages and a catalog entry to the kernels to fetch: `uname -r`
//! derivation, filters (flavors, oldest version, size), version order, and the
//! choice (`--kernel`, `--latest N`, `--all`, `--shard I/N`).

use std::cmp::Ordering;

use super::catalog::{expand, Entry};
use super::meta::{Checksum, Package};

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
pub fn glob_match<'a>(pattern: &str, name: &'a str) -> Option<&'a str> {
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
pub fn join_url(base: &str, location: &str) -> String {
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
/// matches, the package is for another architecture, the derived `uname -r` does not start with a digit (meta-packages such as
/// `linux-image-amd64-dbg`), the flavor is not wanted, or the package is too small or
/// older than `min_version`.
pub fn kernel_of(entry: &Entry, base: &str, p: &Package) -> Option<Kernel> {
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
    if !uname.starts_with(|c: char| c.is_ascii_digit())
        || uname.contains('/')
        || uname.chars().any(char::is_whitespace)
    {
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
        uname,
    })
}

/// The kernels of `packages` (each with its repository base URL), one per `uname -r`
/// (the first repository listing it wins), oldest first.
pub fn kernels<'a>(
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
    out.sort_by(|a, b| compare_versions(&a.uname, &b.uname).then_with(|| a.uname.cmp(&b.uname)));
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
    #[error("kernel {0} not found{near}", near = near(.1))]
    NotFound(String, Vec<String>),
}

fn near(v: &[String]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        format!(" (nearest: {})", v.join(", "))
    }
}

/// Applies `choice` then `shard` to `kernels` (oldest first, as [`kernels`] gives).
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
mod tests {
    use std::cmp::Ordering::{self, Equal, Greater, Less};
    use std::collections::HashSet;

    use super::*;
    use crate::fetch::catalog::{Arch, RepoType};

    /// Asserts that `sorted` is strictly increasing under [`compare_versions`], every
    /// pair both ways.
    fn assert_sorted(sorted: &[&str]) {
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(compare_versions(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn version_order_across_distros() {
        // Kernel releases as each distro family names them, oldest first.
        assert_sorted(&[
            "3.10.0-514.el7.x86_64",
            "3.10.0-957.el7.x86_64",
            "3.10.0-957.1.3.el7.x86_64",
            "3.10.0-957.27.2.el7.x86_64",
            "3.10.0-1062.el7.x86_64",
            "3.10.0-1160.el7.x86_64",
            "3.10.0-1160.119.1.el7.x86_64",
            "4.14.35-1902.0.10.el7uek.aarch64",
            "4.18.0-80.el8.x86_64",
            "5.4.0-9-generic",
            "5.4.0-42-generic",
            "5.4.0-100-generic",
            "5.4.0-1020-aws",
            "5.10.0~rc1",
            "5.10.0",
            "5.10.0-0.deb10.17-cloud-arm64",
        ]);
    }

    #[test]
    fn version_order_per_distro_family() {
        let families: &[(&str, &[&str])] = &[
            (
                "centos/rhel",
                &[
                    "3.10.0-514.el7.x86_64",
                    "3.10.0-693.el7.x86_64",
                    // A letter run (`el7`) is older than a digit run (`27`).
                    "3.10.0-957.el7.x86_64",
                    "3.10.0-957.27.2.el7.x86_64",
                    "3.10.0-1160.el7.x86_64",
                ],
            ),
            (
                "ubuntu",
                &[
                    "4.15.0-20-generic",
                    "4.15.0-112-generic",
                    "5.4.0-26-generic",
                    "5.4.0-1020-aws",
                ],
            ),
            (
                "debian",
                &[
                    "4.9.0-13-amd64",
                    "4.19.0-16-amd64",
                    "4.19.0-17-cloud-amd64",
                    "5.10.0-0.deb10.17-amd64",
                ],
            ),
            (
                "fedora",
                &[
                    // 8 < 10 as numbers, though "8" > "1" as text.
                    "5.8.15-301.fc33.x86_64",
                    "5.10.12-200.fc33.x86_64",
                    "5.10.12-200.fc34.x86_64",
                ],
            ),
            (
                "sles",
                &[
                    "5.3.18-57-default",
                    "5.3.18-59.10-default",
                    "5.3.18-59.34-default",
                    "5.3.18-150300.59.43-default",
                ],
            ),
            (
                "oracle uek",
                &[
                    "4.14.35-1902.0.10.el7uek.x86_64",
                    "4.14.35-2025.400.8.el7uek.x86_64",
                    "5.4.17-2011.0.7.el8uek.x86_64",
                ],
            ),
            (
                "amazon",
                &[
                    "4.14.252-195.483.amzn2.x86_64",
                    "5.10.75-79.358.amzn2.x86_64",
                ],
            ),
        ];
        for (family, sorted) in families {
            eprintln!("{family}");
            assert_sorted(sorted);
        }
    }

    #[test]
    fn version_comparison_edge_cases() {
        // (a, b, a vs b), worked out from rpmvercmp's rules plus `~`/`^` as the doc
        // comment of compare_versions states them.
        let cases: &[(&str, &str, Ordering)] = &[
            // Segments left over make the newer version.
            ("3.10.0-957", "3.10.0-957.el7.x86_64", Less),
            ("1a", "1", Greater),
            ("", "", Equal),
            ("", "0", Less),
            // Numbers compare as numbers: leading zeros do not count, length does.
            ("1.02", "1.2", Equal),
            ("010", "10", Equal),
            ("0", "00", Equal),
            ("1.001", "1.1", Equal),
            ("99999999999999999999", "9999999999999999999", Greater),
            // A digit run is newer than a letter run in the same place.
            ("1.0a", "1.0.1", Less),
            ("1.0.1", "1.0a", Greater),
            ("a", "1", Less),
            // Letter runs compare as bytes (upper case first).
            ("1.0a", "1.0b", Less),
            ("1.0B", "1.0a", Less),
            ("abc", "abd", Less),
            // Separators only split; how many and which does not matter.
            ("1.0", "1-0", Equal),
            ("1.0", "1_0", Equal),
            ("1..0", "1.0", Equal),
            ("1.0", "1.0.", Equal),
            // `~` sorts before anything, the end included.
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0~rc1", "1.0a", Less),
            // `^` sorts after the end, before any other segment.
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.0^git1", "1.0~rc1", Greater),
            ("1.0^a", "1.0^b", Less),
            // No epochs: `:` is a separator, so an epoch is one more numeric segment
            // (kernel releases, what is compared here, never carry one).
            ("1:1.0", "2.0", Less),
            ("2:1.0", "1:9.9", Greater),
            // A Debian revision with a distro suffix is newer than without.
            ("5.4.0-42.46ubuntu1", "5.4.0-42.46", Greater),
        ];
        for &(a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn globs_capture_the_first_star() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "linux-image-unsigned-*-dbgsym",
                "linux-image-unsigned-5.4.0-42-generic-dbgsym",
                Some("5.4.0-42-generic"),
            ),
            (
                "kernel-*-debuginfo",
                "kernel-default-debuginfo",
                Some("default"),
            ),
            ("kernel-debuginfo", "kernel-debuginfo", Some("")),
            ("kernel-debuginfo", "kernel-debuginfo-common-x86_64", None),
            ("a*b*c", "axxbyyc", Some("xx")),
            // The first star takes as much as lets the rest match.
            ("a*b", "abab", Some("ba")),
            ("*", "", Some("")),
            ("*-dbg", "linux-dbg", Some("linux")),
            ("*-dbg", "linux-dbgsym", None),
            ("x*", "y", None),
        ];
        for &(pattern, name, want) in cases {
            assert_eq!(glob_match(pattern, name), want, "{pattern} on {name}");
        }
    }

    #[test]
    fn urls_join_to_the_repository_base() {
        let cases = [
            (
                "https://h/repo",
                "Packages/k.rpm",
                "https://h/repo/Packages/k.rpm",
            ),
            (
                "https://h/repo/",
                "./Packages/k.rpm",
                "https://h/repo/Packages/k.rpm",
            ),
            ("https://h/repo", "http://o/k.rpm", "http://o/k.rpm"),
            ("https://h/repo", "https://o/k.rpm", "https://o/k.rpm"),
            // Host-absolute: the base's scheme and host, not its path.
            (
                "https://h:8080/a/b",
                "/pool/k.deb",
                "https://h:8080/pool/k.deb",
            ),
            ("https://h", "/pool/k.deb", "https://h/pool/k.deb"),
        ];
        for (base, location, want) in cases {
            assert_eq!(join_url(base, location), want, "{base} + {location}");
        }
    }

    fn fake_kernels(n: usize) -> Vec<Kernel> {
        (0..n)
            .map(|i| Kernel {
                uname: format!("5.4.0-{i}-generic"),
                package: "p".into(),
                url: format!("http://x/{i}"),
                size: None,
                checksum: None,
                vmlinux: String::new(),
            })
            .collect()
    }

    fn unames(ks: &[Kernel]) -> Vec<&str> {
        ks.iter().map(|k| k.uname.as_str()).collect()
    }

    #[test]
    fn shards_partition_the_kernels() {
        let all = fake_kernels(200);
        for n in [1u32, 2, 3, 7] {
            let mut seen = HashSet::new();
            for i in 1..=n {
                let s: Shard = format!("{i}/{n}").parse().unwrap();
                let part = choose(all.clone(), &Choice::All, Some(s)).unwrap();
                if n > 1 {
                    assert!(
                        !part.is_empty() && part.len() < all.len(),
                        "{i}/{n}: {}",
                        part.len()
                    );
                }
                for k in part {
                    assert!(seen.insert(k.uname), "overlap in {i}/{n}");
                }
                // Stable: a kernel's shard does not depend on the others listed.
                let few = choose(all[..10].to_vec(), &Choice::All, Some(s)).unwrap();
                for k in few {
                    assert!(s.contains(&k.uname));
                }
            }
            assert_eq!(seen.len(), all.len(), "n = {n}");
        }
    }

    #[test]
    fn shard_parses_i_of_n() {
        let ok = [
            ("1/1", 1, 1),
            ("2/3", 2, 3),
            (" 3 / 3 ", 3, 3),
            ("7/10", 7, 10),
        ];
        for (s, index, count) in ok {
            assert_eq!(s.parse::<Shard>(), Ok(Shard { index, count }), "{s}");
        }
        for bad in ["0/3", "4/3", "1/0", "x", "1/2/3", "1", "/2", "-1/2", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert_eq!(
                e,
                format!("shard {bad:?}: expected I/N with 1 <= I <= N"),
                "{bad}"
            );
        }
    }

    #[test]
    fn shard_of_a_release_is_fnv1a_modulo_n() {
        // FNV-1a (64 bits) of "a" is 0xaf63dc4c8601ec8c (the published test vector):
        // 0 mod 2, 1 mod 3, 5 mod 7. Of "" it is the offset basis 0xcbf29ce484222325:
        // 1 mod 2, 2 mod 3 (remainders computed with Python).
        let cases = [
            ("a", 2, 1),
            ("a", 3, 2),
            ("a", 7, 6),
            ("", 2, 2),
            ("", 3, 3),
            ("anything", 1, 1),
        ];
        for (uname, count, index) in cases {
            for i in 1..=count {
                let s = Shard { index: i, count };
                assert_eq!(s.contains(uname), i == index, "{uname:?} in {i}/{count}");
            }
        }
    }

    #[test]
    fn choice_latest_takes_the_newest() {
        let all = fake_kernels(5);
        let l = choose(all.clone(), &Choice::Latest(2), None).unwrap();
        assert_eq!(unames(&l), ["5.4.0-3-generic", "5.4.0-4-generic"]);
        let l = choose(all.clone(), &Choice::Latest(10), None).unwrap();
        assert_eq!(l.len(), 5);
        let l = choose(all.clone(), &Choice::Latest(0), None).unwrap();
        assert!(l.is_empty());
        assert_eq!(choose(all, &Choice::All, None).unwrap().len(), 5);
    }

    #[test]
    fn choice_releases_takes_exactly_those() {
        let all = fake_kernels(5);
        let want = Choice::Releases(vec!["5.4.0-3-generic".into(), "5.4.0-1-generic".into()]);
        let r = choose(all, &want, None).unwrap();
        // In the kernels' order, not the order asked.
        assert_eq!(unames(&r), ["5.4.0-1-generic", "5.4.0-3-generic"]);
    }

    #[test]
    fn choice_of_a_missing_release_names_the_nearest() {
        let mut all = fake_kernels(5);
        all.push(Kernel {
            uname: "4.19.0-1-amd64".into(),
            ..all[0].clone()
        });
        let e = choose(all, &Choice::Releases(vec!["5.4.0-9-generic".into()]), None)
            .unwrap_err()
            .to_string();
        // The three sharing the longest prefix ("5.4.0-"), first listed first.
        assert_eq!(
            e,
            "kernel 5.4.0-9-generic not found (nearest: 5.4.0-0-generic, 5.4.0-1-generic, 5.4.0-2-generic)"
        );
        let e = choose(Vec::new(), &Choice::Releases(vec!["1".into()]), None)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "kernel 1 not found");
    }

    /// A yum entry for x86_64 kernels, `kernel-debuginfo` packages.
    fn yum_entry() -> Entry {
        Entry {
            name: "centos-7".into(),
            arch: Arch::X86_64,
            repo_type: RepoType::Yum,
            repos: vec!["https://r/".into()],
            dists: Vec::new(),
            packages: vec!["kernel-debuginfo".into()],
            flavors: Vec::new(),
            skip_flavors: Vec::new(),
            uname: "{version}-{release}.{arch}".into(),
            vmlinux: "usr/lib/debug/lib/modules/{uname}/vmlinux".into(),
            min_version: None,
            min_size: None,
            subscription: false,
            btfhub_dir: None,
        }
    }

    fn pkg(name: &str, version: &str, release: &str, arch: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            release: release.into(),
            arch: arch.into(),
            location: format!("Packages/{name}-{version}-{release}.{arch}.rpm"),
            size: Some(1000),
            checksum: Some(Checksum {
                kind: "sha256".into(),
                hex: "ab".into(),
            }),
        }
    }

    #[test]
    fn kernel_of_a_yum_package() {
        let p = pkg("kernel-debuginfo", "3.10.0", "1160.el7", "x86_64");
        let k = kernel_of(&yum_entry(), "https://r/base", &p).unwrap();
        assert_eq!(
            k,
            Kernel {
                uname: "3.10.0-1160.el7.x86_64".into(),
                package: "kernel-debuginfo".into(),
                url: "https://r/base/Packages/kernel-debuginfo-3.10.0-1160.el7.x86_64.rpm".into(),
                size: Some(1000),
                checksum: p.checksum.clone(),
                vmlinux: "usr/lib/debug/lib/modules/3.10.0-1160.el7.x86_64/vmlinux".into(),
            }
        );
    }

    #[test]
    fn kernel_of_derives_uname_from_the_templates() {
        // (packages, uname template, package name, version, release, arch, uname)
        let cases: &[(&str, &str, &str, &str, &str, &str, Option<&str>)] = &[
            // Ubuntu: the first `*` of the pattern.
            (
                "linux-image-unsigned-*-dbgsym",
                "{1}",
                "linux-image-unsigned-5.4.0-42-generic-dbgsym",
                "5.4.0-42.46",
                "",
                "amd64",
                Some("5.4.0-42-generic"),
            ),
            // A meta-package: the derived release does not start with a digit.
            (
                "linux-image-*-dbgsym",
                "{1}",
                "linux-image-generic-dbgsym",
                "5.4.0.100.104",
                "",
                "amd64",
                None,
            ),
            // SUSE: the release without its build counter, then the flavor.
            (
                "kernel-*-debuginfo",
                "{version}-{release_base}-{1}",
                "kernel-default-debuginfo",
                "5.3.18",
                "59.10.1",
                "x86_64",
                Some("5.3.18-59.10-default"),
            ),
            // No `.` in the release: release_base is the whole release.
            (
                "kernel-*-debuginfo",
                "{version}-{release_base}-{1}",
                "kernel-default-debuginfo",
                "4.12.14",
                "94",
                "x86_64",
                Some("4.12.14-94-default"),
            ),
            (
                "kernel-debuginfo",
                "{name}",
                "kernel-debuginfo",
                "1",
                "1",
                "x86_64",
                None,
            ),
            // Not a file name: a `/` or white space in the result.
            (
                "kernel-debuginfo",
                "{version}-{release}",
                "kernel-debuginfo",
                "5.1",
                "1/2",
                "x86_64",
                None,
            ),
            (
                "kernel-debuginfo",
                "{version}-{release}",
                "kernel-debuginfo",
                "5.1",
                "1 2",
                "x86_64",
                None,
            ),
            // Another architecture than the entry's, by either spelling.
            (
                "kernel-debuginfo",
                "{version}",
                "kernel-debuginfo",
                "5.1",
                "1",
                "aarch64",
                None,
            ),
            (
                "kernel-debuginfo",
                "{version}",
                "kernel-debuginfo",
                "5.1",
                "1",
                "arm64",
                None,
            ),
            // No pattern matches.
            (
                "kernel-debuginfo",
                "{version}",
                "kernel-headers",
                "5.1",
                "1",
                "x86_64",
                None,
            ),
        ];
        for &(pattern, uname, name, version, release, arch, want) in cases {
            let mut e = yum_entry();
            e.packages = vec![pattern.into()];
            e.uname = uname.into();
            let got = kernel_of(&e, "https://r", &pkg(name, version, release, arch));
            assert_eq!(got.map(|k| k.uname).as_deref(), want, "{name} {uname}");
        }
    }

    #[test]
    fn kernel_of_filters_flavors_size_and_age() {
        let ubuntu = |flavors: &[&str], skip: &[&str]| {
            let mut e = yum_entry();
            e.packages = vec!["linux-image-*-dbgsym".into()];
            e.uname = "{1}".into();
            e.flavors = flavors.iter().map(|s| s.to_string()).collect();
            e.skip_flavors = skip.iter().map(|s| s.to_string()).collect();
            e
        };
        let p = |uname: &str| pkg(&format!("linux-image-{uname}-dbgsym"), "1", "", "amd64");
        let kept = |e: &Entry, p: &Package| kernel_of(e, "https://r", p).is_some();
        // flavors keeps only the releases ending in -FLAVOR.
        let e = ubuntu(&["generic", "aws"], &[]);
        assert!(kept(&e, &p("5.4.0-42-generic")));
        assert!(kept(&e, &p("5.4.0-1020-aws")));
        assert!(!kept(&e, &p("5.4.0-26-lowlatency")));
        // "-generic" must be the whole last component.
        assert!(!kept(&e, &p("5.4.0-26-notgeneric")));
        // skip_flavors drops them.
        let e = ubuntu(&[], &["preempt"]);
        assert!(kept(&e, &p("5.3.18-59-default")));
        assert!(!kept(&e, &p("5.3.18-59-preempt")));
        // min_size: smaller packages go; an unknown size stays.
        let mut e = ubuntu(&[], &[]);
        e.min_size = Some(1001);
        assert!(!kept(&e, &p("5.4.0-42-generic")));
        let mut unsized_ = p("5.4.0-42-generic");
        unsized_.size = None;
        assert!(kept(&e, &unsized_));
        e.min_size = Some(1000);
        assert!(kept(&e, &p("5.4.0-42-generic")));
        // min_version: older releases go, the same one stays.
        let mut e = yum_entry();
        e.min_version = Some("3.10.0-957".into());
        let rpm = |rel: &str| pkg("kernel-debuginfo", "3.10.0", rel, "x86_64");
        assert!(!kept(&e, &rpm("693.el7")));
        assert!(kept(&e, &rpm("957.el7")));
        assert!(kept(&e, &rpm("1160.el7")));
    }

    #[test]
    fn kernels_are_unique_and_oldest_first() {
        let e = yum_entry();
        let new = pkg("kernel-debuginfo", "3.10.0", "1160.el7", "x86_64");
        let old = pkg("kernel-debuginfo", "3.10.0", "957.el7", "x86_64");
        let other = pkg("kernel-headers", "3.10.0", "1.el7", "x86_64");
        let ks = kernels(
            &e,
            [
                ("https://first", &new),
                ("https://first", &other),
                ("https://second", &old),
                ("https://second", &new),
            ],
        );
        assert_eq!(
            unames(&ks),
            ["3.10.0-957.el7.x86_64", "3.10.0-1160.el7.x86_64"]
        );
        // The first repository listing a release wins.
        assert!(ks[1].url.starts_with("https://first/"), "{}", ks[1].url);
        assert!(ks[0].url.starts_with("https://second/"), "{}", ks[0].url);
    }
}
