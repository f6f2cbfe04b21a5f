//! Repositories served over loopback HTTP for the fetch tests (tests/fetch.rs) and the
//! hostile-input tests (tests/hostile/): the server, and yum repodata built with the
//! system's tools (`gzip`, `xz`, and coreutils' `sha256sum`, `sha1sum`, ... for the
//! digests: an implementation independent of btfgen's).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::repo_fixtures::{primary_xml, Rpm};
use crate::require_tool_from;

/// Serves the files under a directory on 127.0.0.1 (HTTP/1.1, one request per
/// connection, `Range: bytes=N-` honoured). A file `X.status` holding a number makes
/// `X` answer with that status; `X.fail` holding N makes the next N requests of `X`
/// answer 503; `X.cut` makes the next one send half of `X` and close the connection;
/// `X.norange` makes the server ignore Range for `X`.
/// Requests are logged to `requests.log` (path, Range start). Stops when dropped, and
/// by itself after two minutes.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `root` until dropped.
    pub fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let (root, flag) = (root.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((s, _)) => serve(&root, s),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            base,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(root: &Path, s: TcpStream) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut first = String::new();
    if r.read_line(&mut first).is_err() {
        return;
    }
    let mut range: Option<u64> = None;
    loop {
        let mut l = String::new();
        match r.read_line(&mut l) {
            Ok(0) | Err(_) => break,
            Ok(_) if l == "\r\n" || l == "\n" => break,
            Ok(_) => {
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse().ok();
                }
            }
        }
    }
    let path = first.split_whitespace().nth(1).unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let file = if rel.is_empty() || rel.ends_with('/') {
        root.join(rel).join("index.html")
    } else {
        root.join(rel)
    };
    // The request log: path and Range start.
    if let Ok(mut log) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("requests.log"))
    {
        let _ = writeln!(
            log,
            "{path} {}",
            range.map_or("-".into(), |r| r.to_string())
        );
    }
    let marker = |ext: &str| PathBuf::from(format!("{}.{ext}", file.display()));
    let status_file = marker("status");
    // X.fail holding N: the next N requests of X answer 503.
    let fail_file = marker("fail");
    let failing = match fs::read_to_string(&fail_file) {
        Ok(n) => {
            let n: u32 = n.trim().parse().unwrap();
            if n <= 1 {
                let _ = fs::remove_file(&fail_file);
            } else {
                fs::write(&fail_file, (n - 1).to_string()).unwrap();
            }
            n > 0
        }
        Err(_) => false,
    };
    // X.cut: the next request of X gets half its body, then the connection closes.
    let cut = fs::remove_file(marker("cut")).is_ok();
    // X.norange: Range is ignored (the whole file, 200).
    if marker("norange").exists() {
        range = None;
    }
    let mut extra = String::new();
    let (status, body) = if rel.split('/').any(|c| c == "..") {
        (400, b"bad path".to_vec())
    } else if failing {
        (503, b"busy".to_vec())
    } else if let Ok(s) = fs::read_to_string(&status_file) {
        (s.trim().parse().unwrap(), b"status".to_vec())
    } else {
        match fs::read(&file) {
            Ok(b) => match range {
                Some(from) if (from as usize) < b.len() => {
                    extra = format!(
                        "Content-Range: bytes {from}-{}/{}\r\n",
                        b.len() - 1,
                        b.len()
                    );
                    (206, b[from as usize..].to_vec())
                }
                _ => (200, b),
            },
            Err(_) => (404, b"not found".to_vec()),
        }
    };
    let mut s = s;
    let _ = write!(
        s,
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    if cut {
        let _ = s.write_all(&body[..body.len() / 2]);
        let _ = s.flush();
        let _ = s.shutdown(std::net::Shutdown::Both);
    } else {
        let _ = s.write_all(&body);
    }
}

/// The digest of the file at `path` by coreutils' `TOOL` (`sha256sum`, `sha1sum`,
/// `md5sum`, ...), lower-case hex.
pub fn file_digest(tool: &str, path: &Path) -> String {
    let out = Command::new(require_tool_from(tool, "coreutils"))
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}

/// The SHA-256 of the file at `path` (`sha256sum`).
pub fn sha256(path: &Path) -> String {
    file_digest("sha256sum", path)
}

/// Compresses `path` in place with `tool` (`gzip` or `xz`), keeping nothing else.
pub fn compress(tool: &str, path: &Path) -> PathBuf {
    let st = Command::new(require_tool_from(tool, tool))
        .arg("-f")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
    PathBuf::from(format!(
        "{}.{}",
        path.display(),
        if tool == "gzip" { "gz" } else { "xz" }
    ))
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// repomd.xml whose primary record is at `href`, with a checksum of type `kind` (as
/// repomd spells it: `sha256`, `sha`, ...) and a size.
pub fn repomd_xml(href: &str, kind: &str, sum: &str, size: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n  <revision>1</revision>\n  <data type=\"primary\">\n    <checksum type=\"{kind}\">{sum}</checksum>\n    <open-checksum type=\"{kind}\">00</open-checksum>\n    <location href=\"{href}\"/>\n    <timestamp>1</timestamp>\n    <size>{size}</size>\n  </data>\n  <data type=\"filelists\">\n    <location href=\"repodata/filelists.xml.gz\"/>\n  </data>\n</repomd>\n"
    )
}

/// Writes a yum repository under `dir`: repodata/abc-primary.xml.gz listing `pkgs`,
/// and repomd.xml giving its size and checksum of type `kind` (`sha256`; `sha` or
/// `sha1`, as older repositories publish; `sha512`; `md5`).
pub fn yum_repo(dir: &Path, pkgs: &[Rpm], kind: &str) {
    let tool = match kind {
        "sha" | "sha1" => "sha1sum",
        "sha256" => "sha256sum",
        "sha512" => "sha512sum",
        "md5" => "md5sum",
        _ => panic!("no tool for checksum type {kind}"),
    };
    let primary = dir.join("repodata/abc-primary.xml");
    write(&primary, &primary_xml(pkgs));
    let gz = compress("gzip", &primary);
    let size = fs::metadata(&gz).unwrap().len();
    write(
        &dir.join("repodata/repomd.xml"),
        &repomd_xml(
            "repodata/abc-primary.xml.gz",
            kind,
            &file_digest(tool, &gz),
            size,
        ),
    );
}

/// A catalog with the one entry `test-1`: x86_64 kernel-debuginfo from a yum
/// repository (point it at a [`Server`] with `--mirror`).
pub const YUM_TEST_CATALOG: &str = "[[kernel]]\nname = \"test-1\"\narch = \"x86_64\"\nrepo_type = \"yum\"\nrepos = [\"https://unused.invalid/\"]\npackages = [\"kernel-debuginfo\"]\nuname = \"{version}-{release}.{arch}\"\nvmlinux = \"usr/lib/debug/lib/modules/{uname}/vmlinux\"\n";

/// Runs `btfgen fetch --list test-1 --arch x86_64 --catalog CATALOG --mirror MIRROR`
/// followed by `extra` (the catalog's entry `test-1`, as in [`YUM_TEST_CATALOG`]).
pub fn fetch_list(catalog: &Path, mirror: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "fetch",
        "--list",
        "test-1",
        "--arch",
        "x86_64",
        "--catalog",
        catalog.to_str().unwrap(),
        "--mirror",
        mirror,
    ];
    args.extend_from_slice(extra);
    crate::btfgen(&args)
}
