//! Ubuntu kernels whose dbgsym the ddebs index no longer lists, found on Launchpad as
//! BTFHub finds them with ubuntu-dev-tools' `pull-lp-ddebs`, over its web API:
//!
//! 1. `ARCHIVE?ws.op=getPublishedBinaries&binary_name=NAME&exact_match=true&distro_arch_series=DAS`
//!    lists the publications of the binary package NAME, newest first; as
//!    `ubuntutools.lp.lpapicache.Archive.getBinaryPackage` does, the first one that is
//!    `Published` or `Pending`, in any pocket but `Backports`, is taken;
//! 2. `SELF_LINK?ws.op=binaryFileUrls&include_meta=true` lists that publication's
//!    files, with size and SHA-256; the `NAME_*.ddeb` one is the package.

use serde::Deserialize;

use super::catalog::{Entry, Launchpad, Mirror};
use super::http::{Client, HttpError};
use super::meta::MetadataError;
use super::select::Kernel;
use crate::digest::{Algorithm, Checksum};

/// The getPublishedBinaries query of `dbgsym` for `entry`'s arch (mirrors applied).
pub(super) fn query(entry: &Entry, lp: &Launchpad, mirrors: &[Mirror], dbgsym: &str) -> String {
    let archive = entry.rewrite(&lp.archive, mirrors);
    // The series URL names the real API (what the archive's own links use); the
    // query only carries it as a parameter.
    let das = lp.distro_arch_series(&entry.rewrite(&lp.archive, &[]), entry.arch);
    format!(
        "{archive}?ws.op=getPublishedBinaries&binary_name={}&exact_match=true&distro_arch_series={}",
        escape(dbgsym),
        escape(&das)
    )
}

/// Percent-escapes everything but unreserved characters (RFC 3986).
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct Collection {
    #[serde(default)]
    entries: Vec<Publication>,
}

#[derive(Debug, Deserialize)]
struct Publication {
    self_link: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    pocket: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileUrl {
    Meta {
        url: String,
        size: Option<u64>,
        sha256: Option<String>,
    },
    Plain(String),
}

fn json<T: for<'de> Deserialize<'de>>(url: &str, body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        MetadataError::Format {
            what: url.to_string(),
            message: format!("not the JSON Launchpad answers: {e}"),
        }
        .into()
    })
}

/// The kernel with the URL, size and SHA-256 of its `.ddeb` on Launchpad, for a
/// kernel whose `url` is a Launchpad query ([`Kernel::launchpad`]); others as they
/// are. `mirrors` rewrite the file URLs Launchpad answers too.
pub fn resolve(client: &Client, kernel: &Kernel, mirrors: &[Mirror]) -> Result<Kernel, HttpError> {
    if !kernel.launchpad {
        return Ok(kernel.clone());
    }
    let not_found = |what: &str| -> HttpError {
        MetadataError::Format {
            what: kernel.url.clone(),
            message: format!("Launchpad has no {what} of {}", kernel.package),
        }
        .into()
    };
    let list: Collection = json(&kernel.url, &client.need(&kernel.url)?)?;
    let publication = list
        .entries
        .iter()
        .find(|p| matches!(p.status.as_str(), "Published" | "Pending") && p.pocket != "Backports")
        .ok_or_else(|| not_found("published binary"))?;
    let files_url = format!(
        "{}?ws.op=binaryFileUrls&include_meta=true",
        rewrite_url(&publication.self_link, mirrors)
    );
    let files: Vec<FileUrl> = json(&files_url, &client.need(&files_url)?)?;
    let prefix = format!("{}_", kernel.package);
    let (url, size, sha256) = files
        .into_iter()
        .map(|f| match f {
            FileUrl::Meta { url, size, sha256 } => (url, size, sha256),
            FileUrl::Plain(url) => (url, None, None),
        })
        .find(|(u, ..)| {
            let file = u.rsplit('/').next().unwrap_or("");
            file.starts_with(&prefix) && file.ends_with(".ddeb")
        })
        .ok_or_else(|| not_found(".ddeb file"))?;
    let checksum = sha256
        .map(|hex| Checksum::new(Algorithm::Sha256, &hex))
        .transpose()
        .map_err(|e| -> HttpError {
            MetadataError::Format {
                what: files_url.clone(),
                message: format!("{url}: {e}"),
            }
            .into()
        })?;
    Ok(Kernel {
        url: rewrite_url(&url, mirrors),
        size,
        checksum,
        launchpad: false,
        ..kernel.clone()
    })
}

/// `url` with the first matching `FROM=TO` mirror applied.
fn rewrite_url(url: &str, mirrors: &[Mirror]) -> String {
    mirrors
        .iter()
        .find_map(|m| match m {
            Mirror::Prefix(from, to) => url.strip_prefix(from.as_str()).map(|r| format!("{to}{r}")),
            Mirror::Replace(_) => None,
        })
        .unwrap_or_else(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_escapes_its_parameters_and_names_the_real_series() {
        let cat = crate::fetch::Catalog::builtin().unwrap();
        let e = cat.get("ubuntu-20.04", crate::fetch::Arch::Arm64).unwrap();
        let lp = e.launchpad.as_ref().unwrap();
        let mirrors = [Mirror::Prefix(
            "https://api.launchpad.net".into(),
            "http://127.0.0.1:9/lp".into(),
        )];
        assert_eq!(
            query(
                e,
                lp,
                &mirrors,
                "linux-image-unsigned-5.4.0-42-generic-dbgsym"
            ),
            "http://127.0.0.1:9/lp/1.0/ubuntu/+archive/primary?ws.op=getPublishedBinaries\
             &binary_name=linux-image-unsigned-5.4.0-42-generic-dbgsym&exact_match=true\
             &distro_arch_series=https%3A%2F%2Fapi.launchpad.net%2F1.0%2Fubuntu%2Ffocal%2Farm64"
        );
    }

    #[test]
    fn file_urls_parse_with_and_without_meta() {
        let files: Vec<FileUrl> = json(
            "u",
            br#"[{"url": "https://l/a_1_amd64.ddeb", "size": 5, "sha1": "x", "sha256": "AB"}, "https://l/b.ddeb"]"#,
        )
        .unwrap();
        assert!(matches!(
            &files[0],
            FileUrl::Meta { url, size: Some(5), sha256: Some(s) } if url == "https://l/a_1_amd64.ddeb" && s == "AB"
        ));
        assert!(matches!(&files[1], FileUrl::Plain(u) if u == "https://l/b.ddeb"));
        let err = json::<Collection>("http://x/q", b"<html>").unwrap_err();
        assert!(
            err.to_string().starts_with("http://x/q: not the JSON"),
            "{err}"
        );
    }

    #[test]
    fn prefix_mirrors_rewrite_answered_urls() {
        let m = [
            Mirror::Replace("http://ignored/".into()),
            Mirror::Prefix("https://launchpad.net".into(), "http://lo/lp".into()),
        ];
        assert_eq!(
            rewrite_url(
                "https://launchpad.net/ubuntu/+archive/primary/+files/a.ddeb",
                &m
            ),
            "http://lo/lp/ubuntu/+archive/primary/+files/a.ddeb"
        );
        assert_eq!(rewrite_url("https://other/x", &m), "https://other/x");
    }
}
