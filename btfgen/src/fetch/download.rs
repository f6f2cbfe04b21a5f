//! Downloading one package as a stream: bounded retries (connection errors, timeouts,
//! 5xx; never 404 nor a checksum mismatch), HTTP Range resume after a dropped
//! connection, and the size and checksum the repository metadata gives checked as
//! the bytes pass (through [`crate::digest`]).
//!
//! [`Download`] is a [`Read`]: give it to [`crate::package::extract_vmlinux`], then call
//! [`Download::finish`], which reads what is left and checks length and digest. A
//! download that fails its checks must not be used, whatever was extracted from it.

use std::io::{self, Read};
use std::time::Duration;

use super::http::{error_chain, Client, HttpError};
use crate::digest::{Algorithm, Checksum, Hasher};

/// Default number of retries of one download.
pub const DEFAULT_RETRIES: u32 = 4;

/// A package download, read as a stream.
pub struct Download<'a> {
    client: &'a Client,
    url: String,
    size: Option<u64>,
    checksum: Option<Checksum>,
    hasher: Option<Hasher>,
    pos: u64,
    /// Content-Length of the first full answer, when `size` is unknown.
    total: Option<u64>,
    resp: Option<reqwest::blocking::Response>,
    eof: bool,
    retries_left: u32,
    retries_done: u32,
    backoff: Duration,
    failed: Option<String>,
    progress: Option<indicatif::ProgressBar>,
    /// Times the download went on from a byte offset with a Range request.
    pub resumed: u32,
}

/// What [`Download::finish`] checked.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Bytes downloaded.
    pub size: u64,
    /// The algorithm of the digest checked, `None` when the metadata gives none.
    pub digest: Option<Algorithm>,
    /// Range resumptions.
    pub resumed: u32,
    /// Retries used.
    pub retries: u32,
}

impl<'a> Download<'a> {
    /// A download of `url`, expected to be `size` bytes with `checksum` when given.
    /// Nothing is requested until the first read.
    pub fn new(
        client: &'a Client,
        url: &str,
        size: Option<u64>,
        checksum: Option<Checksum>,
        retries: u32,
    ) -> Download<'a> {
        let hasher = checksum.as_ref().map(|c| c.algorithm.hasher());
        Download {
            client,
            url: url.to_string(),
            size,
            checksum,
            hasher,
            pos: 0,
            total: None,
            resp: None,
            eof: false,
            retries_left: retries,
            retries_done: 0,
            backoff: Duration::from_millis(500),
            failed: None,
            progress: None,
            resumed: 0,
        }
    }

    /// Sets the first retry's delay (doubled for each next one, at most 30 s).
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }

    /// Reports bytes to `bar` (its length is set to the size when known).
    pub fn progress(mut self, bar: indicatif::ProgressBar) -> Self {
        if let Some(n) = self.size {
            bar.set_length(n);
        }
        self.progress = Some(bar);
        self
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn fail(&mut self, message: String) -> io::Error {
        self.failed = Some(message.clone());
        io::Error::other(format!("{}: {message}", self.url))
    }

    /// Waits before a retry; `Err` with `message` once none are left.
    fn retry(&mut self, message: &str) -> Result<(), String> {
        if self.retries_left == 0 {
            return Err(format!(
                "{message} (gave up after {} retries)",
                self.retries_done
            ));
        }
        self.retries_left -= 1;
        let d = self.backoff * 2u32.saturating_pow(self.retries_done.min(8));
        self.retries_done += 1;
        std::thread::sleep(d.min(Duration::from_secs(30)));
        Ok(())
    }

    /// Sends the request for the bytes from `self.pos` on, retrying what is worth it.
    fn open(&mut self) -> Result<reqwest::blocking::Response, String> {
        loop {
            let mut req = self.client.request(&self.url);
            if self.pos > 0 {
                req = req.header("Range", format!("bytes={}-", self.pos));
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    self.retry(&error_chain(&e))?;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            if status >= 500 || status == 408 || status == 429 {
                self.retry(&format!("HTTP {status}"))?;
                continue;
            }
            if self.pos > 0 && status == 206 {
                let range = resp
                    .headers()
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !range.starts_with(&format!("bytes {}-", self.pos)) {
                    return Err(format!(
                        "resuming at byte {}: the server answered the range `{range}`",
                        self.pos
                    ));
                }
                self.resumed += 1;
                return Ok(resp);
            }
            if status != 200 {
                return Err(format!("HTTP {status}"));
            }
            if self.pos == 0 {
                self.total = resp.content_length();
                if let (Some(want), Some(got)) = (self.size, self.total) {
                    if want != got {
                        return Err(format!(
                            "the server gives {got} bytes, the repository metadata {want}"
                        ));
                    }
                }
                return Ok(resp);
            }
            // The server ignored the Range: skip what was read already.
            let mut resp = resp;
            let skip = self.pos;
            match io::copy(&mut (&mut resp).take(skip), &mut io::sink()) {
                Ok(n) if n == skip => return Ok(resp),
                Ok(n) => self.retry(&format!(
                    "connection closed after {n} bytes of the {skip} skipped on resume"
                ))?,
                Err(e) => self.retry(&e.to_string())?,
            }
        }
    }

    fn expected(&self) -> Option<u64> {
        self.size.or(self.total)
    }

    /// Reads what is left and checks the length and digest. A failed check is an
    /// [`HttpError::Mismatch`]; a download that could not complete an [`HttpError::Http`].
    pub fn finish(&mut self) -> Result<Verified, HttpError> {
        if self.failed.is_none() {
            let _ = io::copy(self, &mut io::sink());
        }
        if let Some(message) = self.failed.clone() {
            return Err(HttpError::Http {
                url: self.url.clone(),
                message,
            });
        }
        if let Some(n) = self.size {
            if self.pos != n {
                return Err(HttpError::Mismatch {
                    url: self.url.clone(),
                    message: format!("size {} bytes, expected {n}", self.pos),
                });
            }
        }
        let mut digest = None;
        if let (Some(h), Some(ck)) = (self.hasher.take(), &self.checksum) {
            ck.check_hasher(h).map_err(|e| HttpError::Mismatch {
                url: self.url.clone(),
                message: e.to_string(),
            })?;
            digest = Some(ck.algorithm);
        }
        Ok(Verified {
            size: self.pos,
            digest,
            resumed: self.resumed,
            retries: self.retries_done,
        })
    }
}

impl Read for Download<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(m) = &self.failed {
            return Err(io::Error::other(format!("{}: {m}", self.url)));
        }
        loop {
            if self.eof || buf.is_empty() {
                return Ok(0);
            }
            if self.resp.is_none() {
                match self.open() {
                    Ok(r) => self.resp = Some(r),
                    Err(m) => return Err(self.fail(m)),
                }
            }
            let r = self.resp.as_mut().expect("opened");
            match r.read(buf) {
                Ok(0) => {
                    self.resp = None;
                    match self.expected() {
                        Some(n) if self.pos < n => {
                            let m = format!("connection closed after {} of {n} bytes", self.pos);
                            if let Err(m) = self.retry(&m) {
                                return Err(self.fail(m));
                            }
                        }
                        _ => {
                            self.eof = true;
                            return Ok(0);
                        }
                    }
                }
                Ok(n) => {
                    if let Some(want) = self.size {
                        if self.pos + n as u64 > want {
                            let m = format!("more than the {want} bytes the metadata gives");
                            return Err(self.fail(m));
                        }
                    }
                    if let Some(h) = &mut self.hasher {
                        h.update(&buf[..n]);
                    }
                    self.pos += n as u64;
                    if let Some(p) = &self.progress {
                        p.set_position(self.pos);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.resp = None;
                    let m = format!("after {} bytes: {}", self.pos, error_chain(&e));
                    if let Err(m) = self.retry(&m) {
                        return Err(self.fail(m));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_download_requests_nothing_yet() {
        let client = Client::new(Duration::from_secs(1), None).unwrap();
        let ck = Checksum::named("sha", &"0".repeat(40)).unwrap();
        let d = Download::new(&client, "http://unused.invalid/k.rpm", Some(5), Some(ck), 2)
            .backoff(Duration::from_millis(1));
        assert_eq!(d.position(), 0);
        assert_eq!(d.resumed, 0);
        // Every checksum has its hasher (sha1 here, which went unchecked once).
        assert!(d.hasher.is_some());
        assert_eq!((d.size, d.expected()), (Some(5), Some(5)));
        assert_eq!(d.backoff, Duration::from_millis(1));
    }
}
