//! Repository metadata parsers: yum repomd.xml and primary.xml, apt Packages
//! indexes, HTML directory listings. All read from a `BufRead` as it streams (a
//! decompressor over a download), keeping only the packages asked for.

use std::io::{self, BufRead, BufReader, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::digest::{self, Checksum, DigestError};

/// Errors of metadata parsing.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// Reading or decompressing failed.
    #[error("{what}")]
    Io {
        /// The file.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// Malformed XML.
    #[error("{what}: malformed XML at byte {pos}: {message}")]
    Xml {
        /// The file.
        what: String,
        /// Byte offset.
        pos: u64,
        /// The parser's message.
        message: String,
    },
    /// Well-formed, but not what the format requires.
    #[error("{what}: {message}")]
    Format {
        /// The file.
        what: String,
        /// What is wrong, with a line or package name.
        message: String,
    },
    /// A checksum of an algorithm [`crate::digest`] does not know, or not of its length.
    #[error("{what}: {context}")]
    Checksum {
        /// The file.
        what: String,
        /// Where in it: the record, package or line.
        context: String,
        /// What is wrong with the checksum.
        source: DigestError,
    },
}

impl MetadataError {
    fn checksum(what: &str, context: impl Into<String>, source: DigestError) -> MetadataError {
        MetadataError::Checksum {
            what: what.to_string(),
            context: context.into(),
            source,
        }
    }
}

/// One package of a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Upstream version (RPM `ver`; Debian: the whole version).
    pub version: String,
    /// RPM release (empty for Debian).
    pub release: String,
    /// Package architecture as the repository spells it.
    pub arch: String,
    /// Path or URL relative to the repository base (or absolute URL).
    pub location: String,
    /// Size in bytes, when the metadata gives it.
    pub size: Option<u64>,
    /// Checksum, when the metadata gives it.
    pub checksum: Option<Checksum>,
}

/// Most bytes a metadata file may decompress to (2 GiB): Fedora's primary.xml, the
/// largest, is a few hundred MB; past this a download is refused as a decompression
/// bomb rather than parsed for hours.
pub(super) const MAX_METADATA_DECOMPRESSED: u64 = 2 << 30;

/// Wraps `r` in the decompressor its file name's suffix calls for (`.gz`, `.xz`,
/// `.zst`, `.bz2`; anything else is read as is), failing past
/// [`MAX_METADATA_DECOMPRESSED`] bytes.
pub(super) fn decompress<'a>(name: &str, r: impl Read + 'a) -> io::Result<Box<dyn BufRead + 'a>> {
    let base = name.split(['?', '#']).next().unwrap_or(name);
    let decoder: Box<dyn Read + 'a> = if base.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else if base.ends_with(".xz") {
        Box::new(liblzma::read::XzDecoder::new_stream(
            r,
            crate::package::xz_stream()?,
        ))
    } else if base.ends_with(".zst") {
        Box::new(zstd::Decoder::new(r)?)
    } else if base.ends_with(".bz2") {
        Box::new(bzip2::read::MultiBzDecoder::new(r))
    } else {
        Box::new(r)
    };
    Ok(Box::new(BufReader::new(crate::package::Limited::new(
        decoder,
        MAX_METADATA_DECOMPRESSED,
    ))))
}

/// One `<data>` record of repomd.xml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepomdData {
    /// `primary`, `filelists`, ...
    pub kind: String,
    /// Location relative to the repository base.
    pub location: String,
    /// Checksum of the file as stored (compressed).
    pub checksum: Option<Checksum>,
    /// Size of the file as stored.
    pub size: Option<u64>,
}

fn xml_err<R>(what: &str, r: &Reader<R>, e: impl std::fmt::Display) -> MetadataError {
    MetadataError::Xml {
        what: what.to_string(),
        pos: r.buffer_position(),
        message: e.to_string(),
    }
}

fn attr(what: &str, e: &BytesStart, key: &[u8]) -> Result<Option<String>, MetadataError> {
    for a in e.attributes() {
        let a = a.map_err(|err| MetadataError::Format {
            what: what.to_string(),
            message: format!("bad attribute: {err}"),
        })?;
        if a.key.as_ref() == key {
            let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| {
                MetadataError::Format {
                    what: what.to_string(),
                    message: format!("bad attribute value: {err}"),
                }
            })?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn parse_u64(what: &str, field: &str, v: &str) -> Result<u64, MetadataError> {
    v.trim().parse().map_err(|_| MetadataError::Format {
        what: what.to_string(),
        message: format!("{field} {v:?} is not a number"),
    })
}

/// Parses repomd.xml; the `primary` record must be present.
pub fn parse_repomd(r: impl BufRead, what: &str) -> Result<Vec<RepomdData>, MetadataError> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut cur: Option<RepomdData> = None;
    let mut text_of: Option<&'static str> = None;
    let mut ck_kind = String::new();
    let mut root = false;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_err(what, &reader, e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.local_name().as_ref() {
                    b"repomd" => root = true,
                    b"data" if !empty => {
                        cur = Some(RepomdData {
                            kind: attr(what, e, b"type")?.unwrap_or_default(),
                            location: String::new(),
                            checksum: None,
                            size: None,
                        })
                    }
                    b"location" => {
                        if let Some(c) = cur.as_mut() {
                            c.location = attr(what, e, b"href")?.unwrap_or_default();
                        }
                    }
                    b"checksum" if cur.is_some() && !empty => {
                        ck_kind = attr(what, e, b"type")?.unwrap_or_default();
                        text_of = Some("checksum");
                    }
                    b"size" if cur.is_some() && !empty => text_of = Some("size"),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (Some(field), Some(c)) = (text_of, cur.as_mut()) {
                    let v = t.decode().map_err(|e| xml_err(what, &reader, e))?;
                    let v = v.trim();
                    match field {
                        "checksum" => {
                            let ck = Checksum::named(&ck_kind, v).map_err(|e| {
                                MetadataError::checksum(what, format!("{} record", c.kind), e)
                            })?;
                            c.checksum = Some(ck);
                        }
                        _ => c.size = Some(parse_u64(what, "size", v)?),
                    }
                }
            }
            Event::End(e) => {
                text_of = None;
                if e.local_name().as_ref() == b"data" {
                    if let Some(c) = cur.take() {
                        out.push(c);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root {
        return Err(MetadataError::Format {
            what: what.into(),
            message: "no <repomd> element".into(),
        });
    }
    if !out
        .iter()
        .any(|d| d.kind == "primary" && !d.location.is_empty())
    {
        return Err(MetadataError::Format {
            what: what.into(),
            message: "no primary data record with a location".into(),
        });
    }
    Ok(out)
}

/// Parses primary.xml, keeping the packages for which `keep(name)` holds.
pub fn parse_primary(
    r: impl BufRead,
    what: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Package>, MetadataError> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut cur: Option<Package> = None;
    let mut text_of: Option<&'static str> = None;
    let mut ck_kind = String::new();
    let mut root = false;
    let mut base: Option<String> = None;
    // The current package's checksum: (type, hex) as given.
    let mut checksum: Option<(String, String)> = None;
    let mut count = 0usize;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_err(what, &reader, e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match (e.local_name().as_ref(), cur.as_mut()) {
                    (b"metadata", _) => root = true,
                    (b"package", None) if !empty => {
                        count += 1;
                        checksum = None;
                        cur = Some(Package {
                            name: String::new(),
                            version: String::new(),
                            release: String::new(),
                            arch: String::new(),
                            location: String::new(),
                            size: None,
                            checksum: None,
                        });
                        base = None;
                    }
                    (b"name", Some(_)) if !empty => text_of = Some("name"),
                    (b"arch", Some(_)) if !empty => text_of = Some("arch"),
                    (b"checksum", Some(_)) if !empty => {
                        ck_kind = attr(what, e, b"type")?.unwrap_or_default();
                        text_of = Some("checksum");
                    }
                    (b"version", Some(p)) => {
                        p.version = attr(what, e, b"ver")?.unwrap_or_default();
                        p.release = attr(what, e, b"rel")?.unwrap_or_default();
                    }
                    (b"size", Some(p)) => {
                        if let Some(s) = attr(what, e, b"package")? {
                            p.size = Some(parse_u64(what, "size package", &s)?);
                        }
                    }
                    (b"location", Some(p)) => {
                        p.location = attr(what, e, b"href")?.unwrap_or_default();
                        base = attr(what, e, b"xml:base")?;
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (Some(field), Some(p)) = (text_of, cur.as_mut()) {
                    let v = t.decode().map_err(|e| xml_err(what, &reader, e))?;
                    let v = v.trim().to_string();
                    match field {
                        "name" => p.name = v,
                        "arch" => p.arch = v,
                        _ => checksum = Some((ck_kind.clone(), v)),
                    }
                }
            }
            Event::End(e) => {
                text_of = None;
                if e.local_name().as_ref() == b"package" {
                    if let Some(mut p) = cur.take() {
                        if keep(&p.name) {
                            if p.name.is_empty() || p.version.is_empty() || p.location.is_empty() {
                                return Err(MetadataError::Format {
                                    what: what.into(),
                                    message: format!(
                                        "package #{count} ({}) lacks name, version or location",
                                        p.name
                                    ),
                                });
                            }
                            if let Some(b) = base.take() {
                                p.location = format!("{}/{}", b.trim_end_matches('/'), p.location);
                            }
                            // Checked only for the packages kept, as the fields above.
                            if let Some((kind, hex)) = checksum.take() {
                                let ck = Checksum::named(&kind, &hex).map_err(|e| {
                                    MetadataError::checksum(
                                        what,
                                        format!("package #{count} ({})", p.name),
                                        e,
                                    )
                                })?;
                                p.checksum = Some(ck);
                            }
                            out.push(p);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root {
        return Err(MetadataError::Format {
            what: what.into(),
            message: "no <metadata> element".into(),
        });
    }
    if cur.is_some() {
        return Err(MetadataError::Format {
            what: what.into(),
            message: "truncated: unclosed <package>".into(),
        });
    }
    Ok(out)
}

/// The digest fields of apt Packages stanzas and sections of Release files, weakest
/// first (field names are case-insensitive; Packages spells the first `MD5sum`).
const DIGEST_FIELDS: [&str; 4] = ["MD5Sum", "SHA1", "SHA256", "SHA512"];

/// Parses an apt Packages index, keeping the stanzas for which `keep(name)` holds;
/// each has the strongest of the digests its stanza gives.
pub fn parse_packages(
    r: impl BufRead,
    what: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Package>, MetadataError> {
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut start = 1usize;
    let mut lineno = 0usize;
    let io_err = |source| MetadataError::Io {
        what: what.to_string(),
        source,
    };
    let mut flush =
        |fields: &mut Vec<(String, String)>, start: usize| -> Result<(), MetadataError> {
            if fields.is_empty() {
                return Ok(());
            }
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(f, _)| f.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str())
            };
            let Some(name) = get("Package") else {
                return Err(MetadataError::Format {
                    what: what.into(),
                    message: format!("stanza at line {start} has no Package field"),
                });
            };
            if keep(name) {
                let need = |k: &str| {
                    get(k).ok_or_else(|| MetadataError::Format {
                        what: what.into(),
                        message: format!("package {name} (line {start}) has no {k} field"),
                    })
                };
                let size = parse_u64(what, &format!("package {name}: Size"), need("Size")?)?;
                // Every digest field is well-formed; the strongest is the one checked.
                let sums = DIGEST_FIELDS
                    .iter()
                    .filter_map(|&f| get(f).map(|hex| Checksum::named(f, hex)))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        MetadataError::checksum(what, format!("package {name} (line {start})"), e)
                    })?;
                let checksum = digest::strongest(sums).ok_or_else(|| MetadataError::Format {
                    what: what.into(),
                    message: format!(
                        "package {name} (line {start}) has no {} field",
                        DIGEST_FIELDS.join(", ")
                    ),
                })?;
                out.push(Package {
                    name: name.to_string(),
                    version: need("Version")?.to_string(),
                    release: String::new(),
                    arch: need("Architecture")?.to_string(),
                    location: need("Filename")?.to_string(),
                    size: Some(size),
                    checksum: Some(checksum),
                });
            }
            fields.clear();
            Ok(())
        };
    let mut r = r;
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).map_err(io_err)?;
        lineno += 1;
        let l = line.trim_end_matches(['\n', '\r']);
        if n == 0 || l.trim().is_empty() {
            flush(&mut fields, start)?;
            if n == 0 {
                break;
            }
            start = lineno + 1;
            continue;
        }
        if l.starts_with([' ', '\t']) {
            if fields.is_empty() {
                return Err(MetadataError::Format {
                    what: what.into(),
                    message: format!("line {lineno}: continuation line outside a field"),
                });
            }
            continue; // multi-line values (Description) are not needed
        }
        let Some((k, v)) = l.split_once(':') else {
            return Err(MetadataError::Format {
                what: what.into(),
                message: format!("line {lineno}: not a \"Field: value\" line: {l:?}"),
            });
        };
        if fields.is_empty() {
            start = lineno;
        }
        fields.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// One file of an apt `Release` (or `InRelease`) file, with the strongest digest the
/// file gives of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path relative to the suite directory, e.g. `main/binary-amd64/Packages.xz`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Its strongest digest.
    pub checksum: Checksum,
}

/// Parses the digest sections (`MD5Sum:`, `SHA1:`, `SHA256:`, `SHA512:`) of an apt
/// `Release` or `InRelease` file: every file listed, in the order first listed, with
/// its strongest digest (the signature of `InRelease` is not checked: the digests
/// serve integrity, not trust).
pub fn parse_release(text: &str, what: &str) -> Result<Vec<ReleaseFile>, MetadataError> {
    let mut out: Vec<ReleaseFile> = Vec::new();
    let mut section = None;
    let mut seen = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(' ') {
            let Some(field) = section else {
                continue;
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            let bad = || MetadataError::Format {
                what: what.into(),
                message: format!("line {}: not \"DIGEST SIZE PATH\": {line:?}", i + 1),
            };
            let [sum, size, path] = f[..] else {
                return Err(bad());
            };
            let size = size.parse().map_err(|_| bad())?;
            let checksum = Checksum::named(field, sum)
                .map_err(|e| MetadataError::checksum(what, format!("line {}", i + 1), e))?;
            match out.iter_mut().find(|f| f.path == path) {
                Some(f) if f.checksum.algorithm < checksum.algorithm => {
                    f.size = size;
                    f.checksum = checksum;
                }
                Some(_) => {}
                None => out.push(ReleaseFile {
                    path: path.to_string(),
                    size,
                    checksum,
                }),
            }
        } else {
            let name = line.trim_end().strip_suffix(':');
            section = DIGEST_FIELDS
                .into_iter()
                .find(|f| name.is_some_and(|n| n.eq_ignore_ascii_case(f)));
            seen |= section.is_some();
        }
    }
    if !seen {
        return Err(MetadataError::Format {
            what: what.into(),
            message: format!("no {} section", DIGEST_FIELDS.join(", ")),
        });
    }
    Ok(out)
}

/// The `href` targets of an HTML page, entity-decoded, in page order.
pub fn parse_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(i) = lower[pos..].find("href") {
        let mut j = pos + i + 4;
        pos = j;
        let b = html.as_bytes();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() {
            break;
        }
        let (start, end) = if b[j] == b'"' || b[j] == b'\'' {
            let q = b[j];
            match b[j + 1..].iter().position(|&c| c == q) {
                Some(k) => (j + 1, j + 1 + k),
                None => break,
            }
        } else {
            let k = b[j..]
                .iter()
                .position(|&c| c.is_ascii_whitespace() || c == b'>')
                .unwrap_or(b.len() - j);
            (j, j + k)
        };
        out.push(
            html[start..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        );
        pos = end;
    }
    out
}

/// Splits an RPM file name `NAME-VERSION-RELEASE.ARCH.rpm` (a link of a directory
/// listing, percent-escapes decoded) into a package with that location.
pub fn rpm_from_file_name(href: &str) -> Option<Package> {
    let path = href.split(['?', '#']).next()?;
    let file = path.rsplit('/').next()?;
    let file = percent_decode(file);
    let stem = file.strip_suffix(".rpm")?;
    let (nvr, arch) = stem.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() || arch == "src" {
        return None;
    }
    Some(Package {
        name: name.into(),
        version: version.into(),
        release: release.into(),
        arch: arch.into(),
        location: href.to_string(),
        size: None,
        checksum: None,
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    // Two hex digits, as bytes: slicing the str could split a character.
    let hex = |d: u8| (d as char).to_digit(16);
    let mut i = 0;
    while i < b.len() {
        if let [b'%', hi, lo, ..] = b[i..] {
            if let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) {
                out.push((hi << 4 | lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
