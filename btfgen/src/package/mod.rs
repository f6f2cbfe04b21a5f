//! Streaming the vmlinux out of a kernel debuginfo package (.deb, .ddeb, .rpm).
//!
//! One pass over the package, as it is read (a file or a download): the container
//! (ar for Debian packages, lead + signature + header for RPM), then the compressed
//! payload (xz, zstd, gzip, bzip2, lzma or none), then the archive inside (tar or
//! cpio), until the first regular file at a vmlinux path. Only that member is written,
//! to an anonymous temporary file (deleted when dropped, even on a crash), which is then
//! mapped for the DWARF reader. The package itself is never stored and memory stays
//! bounded: a copy buffer, the decompressors' windows and, for RPM, the header.
//!
//! Vmlinux paths, after a leading `./`:
//! - `usr/lib/debug/boot/vmlinux-REL` (Debian, Ubuntu; SUSE adds `.debug`),
//! - `usr/lib/debug/[usr/]lib/modules/REL/vmlinux` (Fedora, RHEL, CentOS, Oracle, Amazon).
//!
//! `REL` is the kernel's `uname -r`. Symbolic links (the Debian package has one at the
//! second path) and hard-link entries without data are passed over.
//!
//! Integrity: the vmlinux is hashed as it is written and checked against the package's
//! own digest of it (Debian's `md5sums` in control.tar; RPM's file digests, md5, sha1
//! or SHA-2), and an RPM's header and compressed payload against the digests its
//! signature and header record, when they do (the strongest, when there are several).
//! All through [`crate::digest`]: a digest of an algorithm it does not know refuses
//! the package rather than go unchecked.
//!
//! Once the vmlinux is out, the rest of the input is read without decompressing it
//! (cheap, and a download must be read whole anyway to check its digest) and its length
//! checked against the package's own (the ar member size, the RPM signature's size
//! tag), so that a truncated package is an error even when its vmlinux came out whole.
//!
//! Modules: with [`Options::modules`], the same pass also writes the kernel modules
//! whose names match, each to its own anonymous temporary file, checked against the
//! package's digests as the vmlinux is; the whole archive is then read (modules may
//! come after the vmlinux). Module paths are `usr/lib/debug/[usr/]lib/modules/REL/.../`
//! and then
//! - `NAME.ko`: the module itself (Debian's and Ubuntu's -dbg packages),
//! - `NAME.ko.debug`: its debug-only file (RPM kernel-debuginfo packages: Fedora, RHEL,
//!   CentOS, Oracle, Amazon), made by `eu-strip -f` or `objcopy --only-keep-debug`:
//!   DWARF, symbols and relocations of the DWARF kept, code and data `SHT_NOBITS`,
//!   which the encoder needs only for kfunc sets (dwarf::EncodeError::DebugOnlyKfuncs),
//! - `NAME.ko.xz`, `NAME.ko.zst`, `NAME.ko.gz`: compressed, decompressed into the
//!   temporary file (all of them together under the payload's bound, once more), the
//!   digest checked on the bytes stored.
//!
//! Module names are the kernel's: the file name without its suffix, `-` read as `_`
//! (`/sys/kernel/btf/NAME`).
//!
//! Safety: a member whose path is absolute or has a `..` component is refused (the
//! vmlinux only ever goes to a temporary file, never to a path taken from the archive,
//! but such a package is not one to trust), and the bytes decompressed are bounded
//! ([`Options::max_bytes`]) so that a decompression bomb cannot fill the disk.

mod ar;
mod cpio;
mod deb;
mod rpm;
#[cfg(test)]
mod test_build;

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::digest::{Algorithm, Checksum};
use crate::text::escape;

/// Package container formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageFormat {
    /// Debian .deb or Ubuntu .ddeb: an ar archive holding `data.tar[.COMP]`.
    Deb,
    /// RPM: lead, signature and header, then a compressed cpio payload.
    Rpm,
}

impl PackageFormat {
    /// The package format whose magic bytes start `head` (8 bytes are enough).
    pub fn sniff(head: &[u8]) -> Option<PackageFormat> {
        if head.starts_with(b"!<arch>\n") {
            Some(PackageFormat::Deb)
        } else if head.starts_with(&[0xed, 0xab, 0xee, 0xdb]) {
            Some(PackageFormat::Rpm)
        } else {
            None
        }
    }

    /// The package format of the file at `path`, by its magic bytes (not its name).
    pub fn detect(path: &Path) -> io::Result<Option<PackageFormat>> {
        Ok(PackageFormat::sniff(
            crate::input::Input::open(path)?.head(8)?,
        ))
    }

    /// `deb` or `rpm`.
    pub fn name(self) -> &'static str {
        match self {
            PackageFormat::Deb => "deb",
            PackageFormat::Rpm => "rpm",
        }
    }
}

/// Default bound on the bytes decompressed out of one package (8 GiB): the largest
/// kernel debuginfo packages unpack to a few GB.
pub const DEFAULT_MAX_BYTES: u64 = 8 << 30;

/// Memory an xz or lzma decoder may use (its dictionary, which the stream header
/// chooses): `xz -9` needs 65 MiB, and a header asking for gigabytes is refused.
pub const XZ_MEMLIMIT: u64 = 256 << 20;

/// A multi-stream xz decoder bounded by [`XZ_MEMLIMIT`] (parallel xz, pixz and
/// `xz -T` write several streams).
pub fn xz_stream() -> io::Result<liblzma::stream::Stream> {
    liblzma::stream::Stream::new_stream_decoder(XZ_MEMLIMIT, liblzma::stream::CONCATENATED)
        .map_err(io::Error::other)
}

/// Extraction settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Directory of the temporary vmlinux (default: `$TMPDIR`, else /tmp).
    pub tmpdir: Option<PathBuf>,
    /// At most this many bytes are decompressed (payload, archive members skipped
    /// over and the vmlinux itself) before the package is refused; and out of the
    /// compressed modules (`NAME.ko.xz`), all together, again.
    pub max_bytes: u64,
    /// Kernel modules to extract too: names or globs (`*` any run of characters, `?`
    /// one), matched against the module name (`-` read as `_`). Each must match some
    /// module of the package. Empty: none, and extraction stops at the vmlinux.
    pub modules: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tmpdir: None,
            max_bytes: DEFAULT_MAX_BYTES,
            modules: Vec::new(),
        }
    }
}

/// Errors of package extraction; each displays on one line and names the package.
/// What the package says (member names, values) displays escaped (crate::text).
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The package holds no regular file at a vmlinux path.
    #[error("no vmlinux in {package}")]
    NoVmlinux {
        /// The package, as named on the command line or by its URL.
        package: String,
    },
    /// The archive, its compression or its headers are damaged or truncated.
    #[error("{package}: corrupt {what}: {}", escape(.detail))]
    Corrupt {
        /// The package.
        package: String,
        /// The part that is damaged (`ar archive`, `cpio header`, `xz stream`, ...).
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A format or compression this reader does not know.
    #[error("{package}: unsupported {what} `{}`", escape(.value))]
    Unsupported {
        /// The package.
        package: String,
        /// What is unsupported (`data member`, `payload compression`, ...).
        what: &'static str,
        /// The value the package gives for it.
        value: String,
    },
    /// A member with an absolute path or a `..` component.
    #[error("{package}: member `{}` has an absolute path or a `..` component; refusing the package", escape(.member))]
    UnsafePath {
        /// The package.
        package: String,
        /// The member's path as the archive spells it.
        member: String,
    },
    /// More than [`Options::max_bytes`] decompressed.
    #[error("{package}: more than {limit} bytes decompressed; refusing the package (a decompression bomb?)")]
    TooLarge {
        /// The package.
        package: String,
        /// The bound that was passed, in bytes.
        limit: u64,
    },
    /// A module pattern matched no module of the package.
    #[error("{package}: no module matching `{}` (modules are usr/lib/debug/lib/modules/REL/.../NAME.ko[.debug|.xz|.zst|.gz])", escape(.pattern))]
    NoModule {
        /// The package.
        package: String,
        /// The pattern, as given.
        pattern: String,
    },
    /// Two members of the package are the same module, or a module of another kernel.
    #[error("{package}: module `{}`: {what}", escape(.member))]
    BadModule {
        /// The package.
        package: String,
        /// The member's path.
        member: String,
        /// What is wrong (another kernel release, a second copy).
        what: String,
    },
    /// Writing or mapping the temporary vmlinux failed.
    #[error("{package}: temporary vmlinux in {dir}: {error}")]
    Temp {
        /// The package.
        package: String,
        /// The directory of the temporary file.
        dir: String,
        /// The I/O error.
        error: io::Error,
    },
}

/// The vmlinux extracted from a package, in an anonymous temporary file.
#[derive(Debug)]
pub struct Vmlinux {
    /// Its path in the package, as the archive spells it.
    pub member: String,
    /// The kernel release (`uname -r`) its path names.
    pub release: String,
    /// Its size in bytes.
    pub size: u64,
    /// The package's container format.
    pub format: PackageFormat,
    /// The payload compression (`xz`, `zstd`, `gzip`, `bzip2`, `lzma`, `none`).
    pub compression: &'static str,
    /// The algorithm of the digest the vmlinux was checked against (the package's
    /// md5sums or RPM file digests); `None` when the package has none for it.
    pub verified: Option<Algorithm>,
    /// Why the vmlinux could not be checked, when `verified` is `None` (a `.deb` whose
    /// md5sums lacks it, say): the package is incomplete, and callers warn.
    pub unverified: Option<String>,
    /// The modules [`Options::modules`] asked for, sorted by name.
    pub modules: Vec<Module>,
    map: memmap2::Mmap,
    _file: File,
}

impl Vmlinux {
    /// The vmlinux bytes (a read-only map of the temporary file).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The same bytes as their map, for `dwarf::encode_mapped`, which drops the pages
    /// it is done with.
    pub fn map(&self) -> &memmap2::Mmap {
        &self.map
    }
}

/// A kernel module extracted from a package, in an anonymous temporary file.
#[derive(Debug)]
pub struct Module {
    /// The module's name (the file name without `.ko` and what follows, `-` as `_`).
    pub name: String,
    /// Its path in the package, as the archive spells it.
    pub member: String,
    /// Its size in bytes (decompressed, for a `NAME.ko.xz`).
    pub size: u64,
    /// The algorithm of the digest it was checked against; `None` when the package has
    /// none for it.
    pub verified: Option<Algorithm>,
    /// Why it could not be checked, when `verified` is `None`.
    pub unverified: Option<String>,
    map: memmap2::Mmap,
}

impl Module {
    /// The module's bytes (a read-only map of the temporary file).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// A member written out: its map and what its digest check found.
struct Written {
    map: memmap2::Mmap,
    file: File,
    verified: Option<Algorithm>,
    unverified: Option<String>,
}

/// Reads the package `reader` of the given format in one pass and returns its vmlinux.
/// `package` names it in errors (a path or a URL).
pub fn extract_vmlinux<R: Read>(
    reader: R,
    format: PackageFormat,
    package: &str,
    opts: &Options,
) -> Result<Vmlinux, PackageError> {
    let cx = Cx {
        package,
        opts,
        exceeded: Rc::new(Cell::new(false)),
        inflate_left: Cell::new(opts.max_bytes),
    };
    match format {
        PackageFormat::Deb => deb::extract(reader, &cx),
        PackageFormat::Rpm => rpm::extract(reader, &cx),
    }
}

/// Opens the package at `path`, tells its format by its magic bytes and extracts its
/// vmlinux. Not a package (nor readable) → [`PackageError::Unsupported`] / [`PackageError::Corrupt`].
pub fn extract_vmlinux_file(path: &Path, opts: &Options) -> Result<Vmlinux, PackageError> {
    let package = path.display().to_string();
    let io_err = |e: io::Error| PackageError::Corrupt {
        package: package.clone(),
        what: "package",
        detail: e.to_string(),
    };
    let mut input = crate::input::Input::open(path).map_err(io_err)?;
    let format = PackageFormat::sniff(input.head(8).map_err(io_err)?).ok_or_else(|| {
        PackageError::Unsupported {
            package: package.clone(),
            what: "package format",
            value: "not an ar (.deb/.ddeb) nor an RPM file".into(),
        }
    })?;
    extract_vmlinux(
        io::BufReader::with_capacity(1 << 20, input.into_reader()),
        format,
        &package,
        opts,
    )
}

/// Shared state of one extraction.
pub(crate) struct Cx<'a> {
    package: &'a str,
    opts: &'a Options,
    /// Set by [`Limited`] when the decompressed bytes pass the bound, so that an I/O
    /// error coming out of the archive readers is reported as such.
    exceeded: Rc<Cell<bool>>,
    /// What the compressed modules may still give, all together.
    inflate_left: Cell<u64>,
}

impl Cx<'_> {
    fn corrupt(&self, what: &'static str, detail: impl ToString) -> PackageError {
        PackageError::Corrupt {
            package: self.package.to_string(),
            what,
            detail: detail.to_string(),
        }
    }

    /// An I/O error from reading the package: the bound if it was passed, else a
    /// damaged or truncated `what`.
    fn read_error(&self, what: &'static str, e: io::Error) -> PackageError {
        if self.exceeded.get() {
            return PackageError::TooLarge {
                package: self.package.to_string(),
                limit: self.opts.max_bytes,
            };
        }
        let detail = if e.kind() == io::ErrorKind::UnexpectedEof {
            "truncated (unexpected end of data)".to_string()
        } else {
            e.to_string()
        };
        self.corrupt(what, detail)
    }

    fn unsupported(&self, what: &'static str, value: impl ToString) -> PackageError {
        PackageError::Unsupported {
            package: self.package.to_string(),
            what,
            value: value.to_string(),
        }
    }

    fn no_vmlinux(&self) -> PackageError {
        PackageError::NoVmlinux {
            package: self.package.to_string(),
        }
    }

    /// Wraps a decompressed stream so that it fails past the bound.
    fn limit<R: Read>(&self, inner: R) -> Limited<R> {
        Limited {
            inner,
            left: self.opts.max_bytes,
            exceeded: self.exceeded.clone(),
        }
    }

    /// Copies exactly `size` bytes of the member `member` from `r` into a new
    /// anonymous temporary file, checks them against `digest` and maps them; without a
    /// digest, `Err` says why (kept as [`Vmlinux::unverified`]).
    #[allow(clippy::too_many_arguments)]
    fn write_vmlinux(
        &self,
        r: &mut dyn Read,
        size: u64,
        member: &str,
        release: String,
        format: PackageFormat,
        compression: &'static str,
        what: &'static str,
        digest: Result<Checksum, String>,
    ) -> Result<Vmlinux, PackageError> {
        let w = self.write_member(r, (size, None), member, what, digest)?;
        Ok(Vmlinux {
            member: member.to_string(),
            release,
            size,
            format,
            compression,
            verified: w.verified,
            unverified: w.unverified,
            modules: Vec::new(),
            map: w.map,
            _file: w.file,
        })
    }

    /// As [`Cx::write_vmlinux`], for the module `name` stored with `compression`
    /// (`None`: as it is).
    fn write_module(
        &self,
        r: &mut dyn Read,
        (size, compression): (u64, Option<&'static str>),
        (member, name): (&str, String),
        what: &'static str,
        digest: Result<Checksum, String>,
    ) -> Result<Module, PackageError> {
        let w = self.write_member(r, (size, compression), member, what, digest)?;
        Ok(Module {
            name,
            member: member.to_string(),
            size: w.map.len() as u64,
            verified: w.verified,
            unverified: w.unverified,
            map: w.map,
        })
    }

    /// Copies the `size` bytes of the member `member` from `r` into a new anonymous
    /// temporary file, decompressed first when `compression` names a compressor (a
    /// `NAME.ko.xz`: bounded by what the package's compressed modules may still
    /// give), checks the stored bytes against
    /// `digest` and maps the file.
    fn write_member(
        &self,
        r: &mut dyn Read,
        (size, compression): (u64, Option<&'static str>),
        member: &str,
        what: &'static str,
        digest: Result<Checksum, String>,
    ) -> Result<Written, PackageError> {
        let (digest, unverified) = match digest {
            Ok(d) => (Some(d), None),
            Err(why) => (None, Some(why)),
        };
        let dir = self.opts.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
        let temp = |error: io::Error| PackageError::Temp {
            package: self.package.to_string(),
            dir: dir.display().to_string(),
            error,
        };
        if size > self.opts.max_bytes {
            return Err(PackageError::TooLarge {
                package: self.package.to_string(),
                limit: self.opts.max_bytes,
            });
        }
        let mut file = tempfile::tempfile_in(&dir).map_err(temp)?;
        let mut raw = Stored {
            inner: r.take(size),
            hasher: digest.as_ref().map(|d| d.algorithm.hasher()),
            done: 0,
            failed: false,
        };
        let truncated = |done: u64| {
            self.corrupt(
                what,
                format!("truncated: {member} ends after {done} of its {size} bytes"),
            )
        };
        let copied = match compression {
            None => copy(&mut raw, &mut file, (1 << 20).min(size.max(1) as usize)),
            Some(c) => {
                let (dec, _) =
                    decoder(c, &mut raw).ok_or_else(|| self.unsupported("compression", c))?;
                let mut dec = Limited {
                    inner: dec,
                    left: self.inflate_left.get(),
                    exceeded: self.exceeded.clone(),
                };
                let copied = copy(&mut dec, &mut file, 1 << 16);
                self.inflate_left.set(dec.left);
                drop(dec);
                // Whatever follows the compressed stream is hashed too.
                copied.and_then(|_| drain(&mut raw).map_err(Copy::Read))
            }
        };
        match copied {
            Ok(_) => {}
            Err(Copy::Write(e)) => return Err(temp(e)),
            // The package's own error (its payload, the bound) ...
            Err(Copy::Read(e)) if raw.failed || compression.is_none() || self.exceeded.get() => {
                return Err(self.read_error(what, e))
            }
            // ... or the member's compressed stream, cut short or damaged.
            Err(Copy::Read(_)) if raw.done < size => return Err(truncated(raw.done)),
            Err(Copy::Read(e)) => return Err(self.corrupt(what, format!("{member}: {e}"))),
        }
        if raw.done < size {
            return Err(truncated(raw.done));
        }
        file.flush().map_err(temp)?;
        if let (Some(d), Some(h)) = (&digest, raw.hasher) {
            d.check_hasher(h)
                .map_err(|e| self.corrupt(what, format!("{member}: {e} (the package's digest)")))?;
        }
        // SAFETY: the file is anonymous (no name anyone else could open) and ours alone;
        // it is not written again while mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(temp)?;
        Ok(Written {
            map,
            file,
            verified: digest.map(|d| d.algorithm),
            unverified,
        })
    }

    /// Whether the module `name` is one [`Options::modules`] asks for.
    fn wants_module(&self, name: &str) -> bool {
        self.opts.modules.iter().any(|p| module_matches(p, name))
    }

    /// Gives `v` its `modules`: every one of the vmlinux's release, each once, and every
    /// pattern matched.
    fn attach_modules(
        &self,
        v: &mut Vmlinux,
        mut modules: Vec<(String, Module)>,
    ) -> Result<(), PackageError> {
        modules.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        let bad = |m: &Module, what: String| PackageError::BadModule {
            package: self.package.to_string(),
            member: m.member.clone(),
            what,
        };
        for (i, (release, m)) in modules.iter().enumerate() {
            if *release != v.release {
                return Err(bad(
                    m,
                    format!(
                        "of kernel {}, not the vmlinux's {}",
                        escape(release),
                        escape(&v.release)
                    ),
                ));
            }
            if i > 0 && modules[i - 1].1.name == m.name {
                return Err(bad(
                    m,
                    format!(
                        "a second copy (the first is {})",
                        escape(&modules[i - 1].1.member)
                    ),
                ));
            }
        }
        if let Some(p) = self
            .opts
            .modules
            .iter()
            .find(|p| !modules.iter().any(|(_, m)| module_matches(p, &m.name)))
        {
            return Err(PackageError::NoModule {
                package: self.package.to_string(),
                pattern: p.clone(),
            });
        }
        v.modules = modules.into_iter().map(|(_, m)| m).collect();
        Ok(())
    }

    /// Checks a member path: what it is, an unsafe one refused.
    fn check_member(&self, name: &str) -> Result<Member, PackageError> {
        match classify(name) {
            Member::Unsafe => Err(PackageError::UnsafePath {
                package: self.package.to_string(),
                member: name.to_string(),
            }),
            m => Ok(m),
        }
    }
}

/// A reader that fails once more than `left` bytes went through.
pub(crate) struct Limited<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R> Limited<R> {
    /// `inner`, failing once it has given more than `max` bytes.
    pub(crate) fn new(inner: R, max: u64) -> Limited<R> {
        Limited {
            inner,
            left: max,
            exceeded: Rc::new(Cell::new(false)),
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded.set(true);
            self.left = 0;
            return Err(io::Error::other("decompressed size bound exceeded"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A reader counting the bytes read through it.
pub(crate) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counting<R> {
    fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Counting {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// A member's stored bytes: hashed and counted as they are read.
struct Stored<R> {
    inner: R,
    hasher: Option<crate::digest::Hasher>,
    done: u64,
    /// Reading the package failed (not the member's own compressed stream).
    failed: bool,
}

impl<R: Read> Read for Stored<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self
            .inner
            .read(buf)
            .inspect_err(|e| self.failed |= e.kind() != io::ErrorKind::Interrupted)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.done += n as u64;
        Ok(n)
    }
}

/// Why [`copy`] stopped.
enum Copy {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `r` to its end into `w` through a buffer of `len` bytes.
fn copy(r: &mut dyn Read, w: &mut dyn Write, len: usize) -> Result<u64, Copy> {
    let mut buf = vec![0u8; len];
    let mut done = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(done),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(Copy::Write)?;
        done += n as u64;
    }
}

/// Reads `r` to its end; the number of bytes.
fn drain<R: Read>(r: &mut R) -> io::Result<u64> {
    io::copy(r, &mut io::sink())
}

/// What a member path is.
#[derive(Debug, PartialEq, Eq)]
enum Member {
    /// Absolute, or with a `..` component.
    Unsafe,
    /// A vmlinux path, with the kernel release it names.
    Vmlinux(String),
    /// A module (`.../lib/modules/REL/.../NAME.ko[.debug|.xz|.zst|.gz]`): its release,
    /// name and compression (`None`: stored as it is).
    Module(String, String, Option<&'static str>),
    Other,
}

/// Module file name suffixes and the compression each means: the module itself
/// (Debian, Ubuntu), its debug-only file (an RPM's kernel-debuginfo), and compressed.
const MODULE_SUFFIXES: [(&str, Option<&str>); 5] = [
    (".ko", None),
    (".ko.debug", None),
    (".ko.xz", Some("xz")),
    (".ko.zst", Some("zstd")),
    (".ko.gz", Some("gzip")),
];

/// A module's name from its file name (without its suffix, `-` as `_`) and its
/// compression; a name that is not letters, digits, `_` and `-` is no module's (it
/// becomes a file name).
fn module_name(file: &str) -> Option<(String, Option<&'static str>)> {
    let (name, compression) = MODULE_SUFFIXES
        .iter()
        .find_map(|&(suffix, c)| Some((file.strip_suffix(suffix)?, c)))?;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| (name.replace('-', "_"), compression))
}

/// Whether `pattern` (a name or a glob: `*` any run, `?` one character; `-` read as
/// `_`) matches the module `name`.
pub fn module_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.replace('-', "_").chars().collect();
    let n: Vec<char> = name.chars().collect();
    // The classic two-pointer glob walk with one backtrack point.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `name` without its leading `./`s.
fn relative(name: &str) -> &str {
    let mut rest = name;
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    rest
}

/// Classifies an archive member path (see the module documentation).
fn classify(name: &str) -> Member {
    let rest = relative(name);
    if rest.starts_with('/') || rest.split('/').any(|c| c == "..") {
        return Member::Unsafe;
    }
    let parts: Vec<&str> = rest
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if let ["usr", "lib", "debug", "lib" | "usr", ..] = parts.as_slice() {
        let tail = match parts[3] {
            "usr" => &parts[4..],
            _ => &parts[3..],
        };
        if let ["lib", "modules", rel, .., file] = tail {
            if let Some((name, c)) = module_name(file).filter(|_| !rel.is_empty()) {
                return Member::Module(rel.to_string(), name, c);
            }
        }
    }
    let release = match parts.as_slice() {
        ["usr", "lib", "debug", "boot", file] => file
            .strip_prefix("vmlinux-")
            .map(|r| r.strip_suffix(".debug").unwrap_or(r)),
        ["usr", "lib", "debug", "lib", "modules", rel, "vmlinux"]
        | ["usr", "lib", "debug", "usr", "lib", "modules", rel, "vmlinux"] => Some(*rel),
        _ => None,
    };
    match release {
        Some(r) if !r.is_empty() => Member::Vmlinux(r.to_string()),
        _ => Member::Other,
    }
}

/// The decompressor for a compression name (RPM's `PAYLOADCOMPRESSOR`, or a
/// `data.tar` extension mapped to it).
fn decoder<'r, R: Read + 'r>(
    compression: &str,
    r: R,
) -> Option<(Box<dyn Read + 'r>, &'static str)> {
    Some(match compression {
        // Multi-stream: parallel xz (pixz, xz -T) writes several streams.
        "xz" => (
            Box::new(liblzma::read::XzDecoder::new_stream(r, xz_stream().ok()?)),
            "xz",
        ),
        "lzma" => {
            let stream = liblzma::stream::Stream::new_lzma_decoder(XZ_MEMLIMIT).ok()?;
            (
                Box::new(liblzma::read::XzDecoder::new_stream(r, stream)),
                "lzma",
            )
        }
        // zstd's reader handles concatenated frames.
        "zstd" => (Box::new(zstd::stream::read::Decoder::new(r).ok()?), "zstd"),
        "gzip" => (Box::new(flate2::read::MultiGzDecoder::new(r)), "gzip"),
        "bzip2" => (Box::new(bzip2::read::MultiBzDecoder::new(r)), "bzip2"),
        "none" => (Box::new(r), "none"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
