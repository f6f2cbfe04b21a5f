//! Repository metadata over HTTP(S): a blocking client with timeouts, bounded
//! downloads, checksum checks, and [`available`].

use std::io::Read;
use std::time::Duration;

use super::catalog::{Entry, Mirror, RepoType};
use super::meta::{self, Package};
use super::select::{self, Kernel};
use crate::digest::Checksum;

/// Metadata files larger than this (compressed) are refused.
pub(super) const MAX_METADATA: u64 = 512 << 20;

/// Errors of the HTTP client, of [`available`] and of [`Download::finish`](super::Download::finish).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request failed (connection, timeout, TLS).
    #[error("{url}: {message}")]
    Http {
        /// The URL.
        url: String,
        /// The cause.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The file exceeds the metadata bound (512 MiB).
    #[error("{url}: larger than {MAX_METADATA} bytes")]
    TooLarge {
        /// The URL.
        url: String,
    },
    /// The file does not match the checksum or size its index gives.
    #[error("{url}: {message}")]
    Mismatch {
        /// The URL.
        url: String,
        /// Expected and actual.
        message: String,
    },
    /// Malformed metadata.
    #[error(transparent)]
    Meta(#[from] meta::MetadataError),
    /// A subscription entry without `--mirror`.
    #[error("{0} needs a subscription: give --mirror URL (an internal mirror) and, if it asks for credentials, BTFGEN_MIRROR_USER and BTFGEN_MIRROR_PASSWORD")]
    Subscription(String),
    /// The apt Release file lists no Packages index for a component.
    #[error("{0}: no Packages.xz, Packages.gz or Packages in the Release file")]
    NoIndex(String),
    /// An apt suite has neither Release nor InRelease.
    #[error("{0}: no Release or InRelease file")]
    NoRelease(String),
}

/// A blocking HTTP client.
pub struct Client {
    inner: reqwest::blocking::Client,
    auth: Option<(String, Option<String>)>,
    /// When not empty, the credentials go only to URLs starting with one of these.
    auth_scope: Vec<String>,
}

impl Client {
    /// A client with a connect timeout of 20 s and a total timeout of `timeout` per
    /// request (metadata is read whole within it). `credentials` go with every request
    /// (basic auth; only pass them for a `--mirror`).
    pub fn new(
        timeout: Duration,
        credentials: Option<(String, Option<String>)>,
    ) -> Result<Client, HttpError> {
        let inner = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .timeout(timeout)
            .user_agent(concat!("btfgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Http {
                url: String::new(),
                message: e.to_string(),
            })?;
        Ok(Client {
            inner,
            auth: credentials,
            auth_scope: Vec::new(),
        })
    }

    /// Sends the credentials only with requests of URLs under `mirrors`' targets (a
    /// plain URL up to its first placeholder, TO of `FROM=TO`).
    pub fn credentials_for(mut self, mirrors: &[Mirror]) -> Client {
        self.auth_scope = mirrors
            .iter()
            .map(|m| match m {
                Mirror::Replace(u) | Mirror::Prefix(_, u) => {
                    u.split('{').next().unwrap_or(u).to_string()
                }
            })
            .collect();
        self
    }

    fn auth(&self, url: &str) -> Option<&(String, Option<String>)> {
        self.auth.as_ref().filter(|_| {
            self.auth_scope.is_empty() || self.auth_scope.iter().any(|p| url.starts_with(p))
        })
    }

    /// Credentials from BTFGEN_MIRROR_USER and BTFGEN_MIRROR_PASSWORD, if set.
    pub fn env_credentials() -> Option<(String, Option<String>)> {
        let user = std::env::var("BTFGEN_MIRROR_USER").ok()?;
        Some((user, std::env::var("BTFGEN_MIRROR_PASSWORD").ok()))
    }

    /// GETs `url` whole (bounded to 512 MiB); `Ok(None)` on 404.
    pub fn get(&self, url: &str) -> Result<Option<Vec<u8>>, HttpError> {
        let mut req = self.inner.get(url);
        if let Some((u, p)) = self.auth(url) {
            req = req.basic_auth(u, p.as_ref());
        }
        let http = |e: reqwest::Error| HttpError::Http {
            url: url.to_string(),
            message: error_chain(&e),
        };
        let resp = req.send().map_err(http)?;
        let status = resp.status();
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(HttpError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        if resp.content_length().is_some_and(|n| n > MAX_METADATA) {
            return Err(HttpError::TooLarge { url: url.into() });
        }
        let mut body = Vec::new();
        resp.take(MAX_METADATA + 1)
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Http {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        if body.len() as u64 > MAX_METADATA {
            return Err(HttpError::TooLarge { url: url.into() });
        }
        Ok(Some(body))
    }

    /// A GET request of `url` with the client's credentials, to send and read as a
    /// stream (package downloads).
    pub fn request(&self, url: &str) -> reqwest::blocking::RequestBuilder {
        let mut req = self.inner.get(url);
        if let Some((u, p)) = self.auth(url) {
            req = req.basic_auth(u, p.as_ref());
        }
        req
    }

    pub(super) fn need(&self, url: &str) -> Result<Vec<u8>, HttpError> {
        self.get(url)?.ok_or_else(|| HttpError::Status {
            url: url.to_string(),
            status: 404,
        })
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Checks `data` against a size and checksum (of any algorithm [`crate::digest`] has;
/// metadata naming another is refused when parsed).
pub(super) fn verify(
    url: &str,
    data: &[u8],
    size: Option<u64>,
    ck: Option<&Checksum>,
) -> Result<(), HttpError> {
    if let Some(n) = size {
        if data.len() as u64 != n {
            return Err(HttpError::Mismatch {
                url: url.into(),
                message: format!("size {} bytes, expected {n}", data.len()),
            });
        }
    }
    if let Some(ck) = ck {
        ck.verify(data).map_err(|e| HttpError::Mismatch {
            url: url.into(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

fn keep_fn(entry: &Entry) -> impl Fn(&str) -> bool + '_ {
    move |name| {
        entry
            .packages
            .iter()
            .any(|p| select::glob_match(p, name).is_some())
    }
}

/// The files an apt suite's `Release` (else `InRelease`) lists, with their digests.
fn apt_release(client: &Client, suite_url: &str) -> Result<Vec<meta::ReleaseFile>, HttpError> {
    for name in ["Release", "InRelease"] {
        let url = format!("{suite_url}/{name}");
        if let Some(body) = client.get(&url)? {
            return Ok(meta::parse_release(&String::from_utf8_lossy(&body), &url)?);
        }
    }
    Err(HttpError::NoRelease(suite_url.to_string()))
}

/// The packages of one repository base (apt: in its suites `dists`) that match the
/// entry's patterns.
pub(super) fn repo_packages(
    client: &Client,
    entry: &Entry,
    base: &str,
    dists: &[String],
) -> Result<Vec<Package>, HttpError> {
    let base = base.trim_end_matches('/');
    let keep = keep_fn(entry);
    match entry.repo_type {
        RepoType::Yum => {
            let url = format!("{base}/repodata/repomd.xml");
            let repomd = client.need(&url)?;
            let data = meta::parse_repomd(&repomd[..], &url)?;
            let primary = data
                .iter()
                .find(|d| d.kind == "primary")
                .expect("parse_repomd checks");
            let purl = select::join_url(base, &primary.location);
            let body = client.need(&purl)?;
            verify(&purl, &body, primary.size, primary.checksum.as_ref())?;
            let r = meta::decompress(&primary.location, &body[..]).map_err(|source| {
                meta::MetadataError::Io {
                    what: purl.clone(),
                    source,
                }
            })?;
            Ok(meta::parse_primary(r, &purl, keep)?)
        }
        RepoType::Apt => {
            let mut out = Vec::new();
            let mut releases: Vec<(String, Vec<meta::ReleaseFile>)> = Vec::new();
            for dist in dists {
                let dist = dist.trim_matches('/');
                let (suite, component) = dist.rsplit_once('/').unwrap_or((dist, "main"));
                let suite_url = format!("{base}/dists/{suite}");
                if !releases.iter().any(|(s, _)| *s == suite_url) {
                    let files = apt_release(client, &suite_url)?;
                    releases.push((suite_url.clone(), files));
                }
                let files = &releases.iter().find(|(s, _)| *s == suite_url).unwrap().1;
                let dir = format!("{component}/binary-{}", entry.arch.deb());
                let index = ["Packages.xz", "Packages.gz", "Packages"]
                    .iter()
                    .find_map(|n| files.iter().find(|f| f.path == format!("{dir}/{n}")))
                    .ok_or_else(|| HttpError::NoIndex(format!("{suite_url}/{dir}")))?;
                let url = format!("{suite_url}/{}", index.path);
                let body = client.need(&url)?;
                verify(&url, &body, Some(index.size), Some(&index.checksum))?;
                let r = meta::decompress(&index.path, &body[..]).map_err(|source| {
                    meta::MetadataError::Io {
                        what: url.clone(),
                        source,
                    }
                })?;
                out.extend(meta::parse_packages(r, &url, &keep)?);
            }
            Ok(out)
        }
        RepoType::Dir => {
            let url = format!("{base}/");
            let body = client.need(&url)?;
            let html = String::from_utf8_lossy(&body);
            Ok(meta::parse_links(&html)
                .iter()
                .filter_map(|h| meta::rpm_from_file_name(h))
                .filter(|p| keep(&p.name))
                .collect())
        }
    }
}

/// The kernels an entry's repositories offer, oldest first, `mirrors` applied;
/// with a Launchpad fallback, also the kernels its image repositories name that the
/// repositories lack, to look up on Launchpad (with [`super::resolve`]) when fetched.
/// A plain-URL mirror replaces the repositories only: the fallback is not used then.
pub fn available(
    client: &Client,
    entry: &Entry,
    mirrors: &[Mirror],
) -> Result<Vec<Kernel>, HttpError> {
    if entry.subscription && !mirrors.iter().any(|m| matches!(m, Mirror::Replace(_))) {
        return Err(HttpError::Subscription(entry.name.clone()));
    }
    let read = |entry: &Entry, sources: Vec<super::catalog::Source>| {
        let mut all: Vec<(String, Package)> = Vec::new();
        for src in sources {
            let base = resolve_mirror_list(client, &src.base)?;
            let base = base.trim_end_matches('/').to_string();
            for p in repo_packages(client, entry, &base, &src.dists)? {
                all.push((base.clone(), p));
            }
        }
        Ok::<_, HttpError>(all)
    };
    let all = read(entry, entry.sources(mirrors))?;
    let mut kernels = select::kernels(entry, all.iter().map(|(b, p)| (b.as_str(), p)));
    let replaced = mirrors.iter().any(|m| matches!(m, Mirror::Replace(_)));
    if let (Some(lp), false) = (&entry.launchpad, replaced) {
        let images = Entry {
            packages: lp.image_packages.clone(),
            ..entry.clone()
        };
        let sources = lp
            .images
            .iter()
            .map(|u| super::catalog::Source {
                base: entry.rewrite(u, mirrors),
                dists: entry.dists.clone(),
            })
            .collect();
        let all = read(&images, sources)?;
        let more = select::launchpad_kernels(
            entry,
            all.iter().map(|(b, p)| (b.as_str(), p)),
            &kernels,
            |dbgsym| super::launchpad::query(entry, lp, mirrors, dbgsym),
        );
        kernels.extend(more);
        select::sort(&mut kernels);
    }
    Ok(kernels)
}

/// A base URL ending in `mirror.list` (Amazon Linux's yum `mirrorlist`) is replaced by
/// the first URL that list gives.
pub(super) fn resolve_mirror_list(client: &Client, base: &str) -> Result<String, HttpError> {
    if !base.ends_with("mirror.list") {
        return Ok(base.to_string());
    }
    let body = client.need(base)?;
    String::from_utf8_lossy(&body)
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://") || l.starts_with("https://"))
        .map(str::to_string)
        .ok_or_else(|| {
            meta::MetadataError::Format {
                what: base.to_string(),
                message: "no http(s) URL in the mirror list".into(),
            }
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digests of "abc": RFC 1321 (md5), FIPS 180-2 (sha1, sha256, sha512).
    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";
    const SHA1_ABC: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const SHA512_ABC: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    fn ck(kind: &str, hex: &str) -> Checksum {
        Checksum::named(kind, hex).unwrap()
    }

    #[test]
    fn credentials_go_only_under_the_mirror_targets() {
        let creds = Some(("u".to_string(), Some("p".to_string())));
        let mirrors: Vec<Mirror> = ["http://m/{arch}/x", "https://a=http://lo/a"]
            .iter()
            .map(|m| m.parse().unwrap())
            .collect();
        let c = Client::new(Duration::from_secs(1), creds.clone())
            .unwrap()
            .credentials_for(&mirrors);
        let sent = |c: &Client, url: &str| {
            c.request(url)
                .build()
                .unwrap()
                .headers()
                .contains_key("authorization")
        };
        assert!(sent(&c, "http://m/aarch64/x/repodata/repomd.xml"));
        assert!(sent(&c, "http://lo/a/pool/x.ddeb"));
        assert!(!sent(&c, "https://a/pool/x.ddeb"));
        assert!(!sent(&c, "https://launchpad.net/x"));
        // Without mirrors to scope them, with every request.
        let c = Client::new(Duration::from_secs(1), creds).unwrap();
        assert!(sent(&c, "https://anything/"));
    }

    #[test]
    fn verify_checks_size_then_every_kind_of_digest() {
        let zeros = "0".repeat(64);
        // (size, checksum, the error; None: accepted)
        let cases: Vec<(Option<u64>, Option<Checksum>, Option<String>)> = vec![
            (None, None, None),
            (Some(3), Some(ck("sha256", SHA256_ABC)), None),
            (None, Some(ck("sha512", SHA512_ABC)), None),
            // yum's `sha` is sha1; md5 is what old Release files list.
            (None, Some(ck("sha", SHA1_ABC)), None),
            (None, Some(ck("md5", MD5_ABC)), None),
            // Upper-case hex in the metadata matches.
            (
                None,
                Some(ck("sha256", &SHA256_ABC.to_ascii_uppercase())),
                None,
            ),
            (Some(4), None, Some("u: size 3 bytes, expected 4".into())),
            (
                Some(4),
                Some(ck("sha256", &zeros)),
                Some("u: size 3 bytes, expected 4".into()),
            ),
            (
                Some(3),
                Some(ck("sha256", &zeros)),
                Some(format!("u: sha256 {SHA256_ABC}, expected {zeros}")),
            ),
            (
                None,
                Some(ck("sha1", &zeros[..40])),
                Some(format!("u: sha1 {SHA1_ABC}, expected {}", &zeros[..40])),
            ),
            (
                None,
                Some(ck("md5", &zeros[..32])),
                Some(format!("u: md5 {MD5_ABC}, expected {}", &zeros[..32])),
            ),
        ];
        for (size, checksum, want) in cases {
            let got = verify("u", b"abc", size, checksum.as_ref());
            match (&got, &want) {
                (Ok(()), None) => {}
                (Err(e @ HttpError::Mismatch { .. }), Some(w)) => assert_eq!(&e.to_string(), w),
                _ => panic!("{size:?} {checksum:?}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn error_chain_joins_the_sources() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("request failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&e), "request failed: connection refused");
        assert_eq!(error_chain(&e.0), "connection refused");
    }

    fn entry(subscription: bool, packages: &[&str]) -> Entry {
        let mut cat = crate::fetch::Catalog::parse(
            &format!(
                "[[kernel]]\nname = \"rhel-8\"\narch = \"x86_64\"\nrepo_type = \"yum\"\nrepos = []\nsubscription = {subscription}\npackages = {packages:?}\nuname = \"{{version}}-{{release}}.{{arch}}\"\nvmlinux = \"usr/lib/debug/lib/modules/{{uname}}/vmlinux\"\n"
            ),
            "t",
        )
        .unwrap();
        cat.entries.remove(0)
    }

    #[test]
    fn packages_kept_are_those_a_pattern_matches() {
        let e = entry(true, &["kernel-debuginfo", "kernel-*-debuginfo"]);
        let keep = keep_fn(&e);
        for (name, kept) in [
            ("kernel-debuginfo", true),
            ("kernel-default-debuginfo", true),
            ("kernel-debuginfo-common-x86_64", false),
            ("kernel-headers", false),
        ] {
            assert_eq!(keep(name), kept, "{name}");
        }
    }

    #[test]
    fn subscription_entries_need_a_mirror() {
        // Refused before any request is sent.
        let client = Client::new(Duration::from_secs(1), None).unwrap();
        let e = available(&client, &entry(true, &["kernel-debuginfo"]), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rhel-8 needs a subscription: give --mirror URL (an internal mirror) and, if it asks for credentials, BTFGEN_MIRROR_USER and BTFGEN_MIRROR_PASSWORD"
        );
    }

    #[test]
    fn only_mirror_list_urls_are_resolved() {
        // Anything but a `mirror.list` URL is returned as is, without a request.
        let client = Client::new(Duration::from_secs(1), None).unwrap();
        for base in [
            "https://h/repo/",
            "http://h/mirror.list/x",
            "https://h/mirror.lists",
        ] {
            assert_eq!(resolve_mirror_list(&client, base).unwrap(), base);
        }
    }

    #[test]
    fn metadata_errors_pass_through_unchanged() {
        let inner = meta::MetadataError::Format {
            what: "p".into(),
            message: "no <metadata> element".into(),
        };
        let text = inner.to_string();
        assert_eq!(HttpError::from(inner).to_string(), text);
    }
}
