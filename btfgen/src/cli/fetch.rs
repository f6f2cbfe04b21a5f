//! `btfgen fetch DISTRO...`: the kernels a distro's debuginfo repositories offer, per
//! the kernels.toml catalog, downloaded (retries, Range resume, size and checksum
//! verified as the bytes pass), their vmlinux streamed out of the package, encoded,
//! and written to BTFHub's layout. `--list` only lists them; `--distros` lists the
//! catalog's entries.
//!
//! Pipeline: `-j N` workers each take one kernel at a time through download →
//! extraction → encoding → atomic write, so memory stays bounded by N kernels.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use btfgen::dwarf;
use btfgen::fetch::{self, Arch, Catalog, Choice, Client, Download, Kernel, Mirror, Shard};
use btfgen::json::quote as json_str;
use btfgen::package;
use btfgen::text::escape;

use super::output::write_atomic;

/// Arguments of `btfgen fetch`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// Catalog names, `<os-release ID>-<VERSION_ID>` (centos-7, ubuntu-20.04, ...);
    /// `--distros` lists them.
    #[arg(required_unless_present = "list_distros", value_name = "DISTRO")]
    distros: Vec<String>,
    /// List the kernels available (and which are done under -o) instead of fetching.
    #[arg(long)]
    list: bool,
    /// List the catalog's distros (built in, and --catalog files): name, arches,
    /// repository type and the directory written; with --json as JSON. No network.
    #[arg(long = "distros", conflicts_with_all = ["distros", "list"])]
    list_distros: bool,
    /// Architecture: x86_64 or arm64 (default: this machine's).
    #[arg(long, value_name = "A")]
    arch: Option<String>,
    /// Only these kernel releases (`uname -r`); repeatable.
    #[arg(long = "kernel", value_name = "RELEASE", conflicts_with_all = ["latest", "all"])]
    kernels: Vec<String>,
    /// Only the N newest kernels.
    #[arg(long, value_name = "N", conflicts_with = "all")]
    latest: Option<usize>,
    /// Every kernel (the default).
    #[arg(long)]
    all: bool,
    /// The I-th of N disjoint parts of the kernels (1 <= I <= N), for CI matrices.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Output directory (BTFHub's layout DIR/ID/VERSION_ID/ARCH/<uname -r>.btf).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    output: PathBuf,
    /// Repository base URL replacing the catalog's (required for subscription
    /// distros), or FROM=TO: URLs starting with FROM start with TO instead
    /// (repeatable); credentials from BTFGEN_MIRROR_USER and BTFGEN_MIRROR_PASSWORD.
    #[arg(long, value_name = "URL|FROM=TO")]
    mirror: Vec<Mirror>,
    /// A catalog file adding entries or overriding built-in ones (by name and arch).
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,
    /// Timeout of each metadata request, and of each read of a download (a
    /// download stalled this long is retried), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
    /// Kernels processed at once (download, extraction, encoding overlap across them);
    /// at most two per CPU.
    #[arg(short, long, value_name = "N", default_value_t = 2)]
    jobs: usize,
    /// Retries of a download (connection errors, timeouts, HTTP 5xx; never 404 nor a
    /// checksum mismatch).
    #[arg(long, value_name = "N", default_value_t = fetch::DEFAULT_RETRIES)]
    retries: u32,
    /// Delay before the first retry, in milliseconds (doubled for each next one).
    #[arg(long, value_name = "MS", default_value_t = 1000, hide = true)]
    retry_delay: u64,
    /// Write `<uname -r>.btf.tar.xz` holding `<uname -r>.btf`, as BTFHub ships them.
    #[arg(long)]
    tar_xz: bool,
    /// Encode kernels whose vmlinux already has .BTF too (by default they get a
    /// `<uname -r>.hasbtf` marker, as in BTFHub, and stop their flavor's later kernels).
    #[arg(long)]
    encode_with_btf: bool,
    /// Also encode these kernel modules of each package (comma-separated names or
    /// globs, repeatable) as split BTF on the kernel's, into
    /// `<uname -r>/modules/<module>.btf` beside `<uname -r>.btf`.
    #[arg(long, value_name = "LIST")]
    modules: Vec<String>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    /// Directory for the temporary vmlinux files (default: $TMPDIR, else /tmp).
    #[arg(long, value_name = "DIR")]
    tmpdir: Option<PathBuf>,
}

/// The directory of `entry`'s kernels under the output directory, BTFHub's layout:
/// `ID/VERSION_ID/ARCH` (or the entry's BTFHub directory for the release).
fn release_dir(entry: &fetch::Entry) -> PathBuf {
    let (id, ver) = entry.id_version();
    Path::new(id)
        .join(entry.btfhub_dir.as_deref().unwrap_or(ver))
        .join(entry.arch.name())
}

/// The BTF path of `uname` for `entry` under `dir`, BTFHub's layout.
fn btf_path(dir: &Path, entry: &fetch::Entry, uname: &str) -> PathBuf {
    dir.join(release_dir(entry)).join(format!("{uname}.btf"))
}

/// `btfgen fetch --distros`: the catalog's distros, one line (or JSON object) per
/// name with its arches, each arch's repository type, output directory and whether
/// it needs a subscription (`--mirror`).
fn list_distros(catalog: &Catalog, json: bool) -> String {
    let mut out = String::new();
    let rows: Vec<(&str, Vec<&fetch::Entry>)> = catalog
        .names()
        .into_iter()
        .map(|n| (n, catalog.entries.iter().filter(|e| e.name == n).collect()))
        .collect();
    let repo_type = |e: &fetch::Entry| format!("{:?}", e.repo_type).to_lowercase();
    if json {
        out.push_str("{\"distros\":[");
        for (i, (name, entries)) in rows.iter().enumerate() {
            let arches: Vec<String> = entries
                .iter()
                .map(|e| {
                    format!(
                        "{{\"arch\":{},\"repo_type\":{},\"directory\":{},\"subscription\":{}}}",
                        json_str(e.arch.name()),
                        json_str(&repo_type(e)),
                        json_str(&release_dir(e).display().to_string()),
                        e.subscription
                    )
                })
                .collect();
            let sep = if i > 0 { "," } else { "" };
            out.push_str(&format!(
                "{sep}\n{{\"name\":{},\"arches\":[{}]}}",
                json_str(name),
                arches.join(",")
            ));
        }
        out.push_str("\n]}\n");
        return out;
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(6);
    out.push_str(&format!(
        "{:width$}  {:14}  {:5}  directory\n",
        "distro", "arches", "repos"
    ));
    for (name, entries) in &rows {
        let arches: Vec<&str> = entries.iter().map(|e| e.arch.name()).collect();
        let first = entries[0];
        let dir = release_dir(first);
        let dir = dir.parent().unwrap_or(&dir).join("ARCH");
        out.push_str(&format!(
            "{name:width$}  {:14}  {:5}  {}{}\n",
            arches.join(","),
            repo_type(first),
            dir.display(),
            if first.subscription {
                "  (subscription: --mirror)"
            } else {
                ""
            }
        ));
    }
    out
}

fn done(path: &Path) -> Option<&'static str> {
    if path.is_file() || with_suffix(path, ".tar.xz").is_file() {
        Some("done")
    } else if has_btf_marker(path).is_file() {
        Some("hasbtf")
    } else {
        None
    }
}

/// `DIR/<uname -r>.hasbtf`, BTFHub's marker of a kernel that ships .BTF, for the
/// `.btf` path `path`.
fn has_btf_marker(path: &Path) -> PathBuf {
    path.with_extension("hasbtf")
}

/// `DIR/<uname -r>.buildid`, the kernel's GNU build-id in hex (one line), for the
/// `.btf` path `path`: `corepack build` puts it in the kernel's bundle entry.
fn build_id_file(path: &Path) -> PathBuf {
    path.with_extension("buildid")
}

/// Runs `btfgen fetch`.
pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.list_distros {
        let mut catalog = Catalog::builtin()?;
        for f in &a.catalog {
            catalog.merge(Catalog::load(f)?);
        }
        super::output::print_stdout(&list_distros(&catalog, a.json))?;
        return Ok(ExitCode::SUCCESS);
    }
    let arch = match &a.arch {
        Some(s) => Arch::parse(s).with_context(|| format!("unknown arch {s} (x86_64, arm64)"))?,
        None => Arch::host().context("this machine's arch is not in the catalog: give --arch")?,
    };
    let mut catalog = Catalog::builtin()?;
    for f in &a.catalog {
        catalog.merge(Catalog::load(f)?);
    }
    // Resolve every name first: a typo fails before any download.
    let entries = a
        .distros
        .iter()
        .map(|d| catalog.get(d, arch).cloned())
        .collect::<Result<Vec<_>, _>>()?;
    let choice = if !a.kernels.is_empty() {
        Choice::Releases(a.kernels.clone())
    } else if let Some(n) = a.latest {
        Choice::Latest(n)
    } else {
        Choice::All
    };
    let credentials = if a.mirror.is_empty() {
        None
    } else {
        Client::env_credentials()
    };
    let client =
        Client::new(Duration::from_secs(a.timeout), credentials)?.credentials_for(&a.mirror);
    if a.list {
        for entry in &entries {
            let kernels = fetch::available(&client, entry, &a.mirror)?;
            let total = kernels.len();
            let chosen = fetch::choose(kernels, &choice, a.shard)?;
            println!(
                "{} {}: {} of {total} kernels",
                escape(&entry.name),
                entry.arch,
                chosen.len()
            );
            for k in &chosen {
                let status = done(&btf_path(&a.output, entry, &k.uname)).unwrap_or("-");
                let size = k.size.map_or("?".to_string(), |s| s.to_string());
                println!("{}\t{status}\t{size}\t{}", escape(&k.uname), escape(&k.url));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let start = Instant::now();
    let mut results: Vec<Outcome> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let streams = Streams::default();
    for entry in &entries {
        let listed = fetch::available(&client, entry, &a.mirror)
            .map_err(anyhow::Error::from)
            .and_then(|ks| {
                // A marker of an earlier run stops its stream, chosen or not.
                for k in ks.iter().filter(|_| !a.encode_with_btf) {
                    if has_btf_marker(&btf_path(&a.output, entry, &k.uname)).is_file() {
                        streams.stop(&entry.name, entry.arch.name(), k);
                    }
                }
                Ok(fetch::choose(ks, &choice, a.shard)?)
            });
        match listed {
            Ok(ks) => {
                for k in ks {
                    let path = btf_path(&a.output, entry, &k.uname);
                    jobs.push(Job {
                        distro: entry.name.clone(),
                        arch: entry.arch.name(),
                        kernel: k,
                        path,
                    });
                }
            }
            Err(e) => results.push(Outcome {
                distro: entry.name.clone(),
                arch: entry.arch.name(),
                uname: String::new(),
                path: None,
                status: Status::Failed(format!("{e:#}")),
            }),
        }
    }
    let total = jobs.len();
    let term = std::io::stderr().is_terminal();
    let multi = indicatif::MultiProgress::new();
    let overall = if term {
        let bar = multi.add(indicatif::ProgressBar::new(total as u64));
        bar.set_style(overall_style());
        Some(bar)
    } else {
        None
    };
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    // Each worker holds one kernel's vmlinux and its encoder's memory: beyond two per
    // CPU (one downloading while the other encodes), more would only fill memory and
    // the temporary directory, so `-j 100000` is clamped.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = a.jobs.min(2 * cpus).clamp(1, total.max(1));
    let settings = Settings {
        client: &client,
        retries: a.retries,
        retry_delay: Duration::from_millis(a.retry_delay),
        tar_xz: a.tar_xz,
        encode_with_btf: a.encode_with_btf,
        mirrors: &a.mirror,
        streams: &streams,
        tmpdir: a.tmpdir.clone(),
        // Several kernels at once: each encoder uses an equal share of the CPUs.
        encode_jobs: if workers > 1 {
            (cpus / workers).max(1)
        } else {
            0
        },
        modules: super::modules::patterns(&a.modules),
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let bar = overall.as_ref().map(|_| {
                    let b = multi.add(indicatif::ProgressBar::new(0));
                    b.set_style(download_style());
                    b.set_message(job.kernel.uname.clone());
                    b
                });
                let t = Instant::now();
                let status = process(&settings, job, bar.clone());
                if let Some(b) = bar {
                    b.finish_and_clear();
                    multi.remove(&b);
                }
                let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                // One line, escaped: the status may quote repository metadata.
                let line = format!(
                    "btfgen: [{n}/{total}] {} {} {}: {} ({:.1}s)",
                    job.distro,
                    job.arch,
                    job.kernel.uname,
                    status.describe(),
                    t.elapsed().as_secs_f64()
                );
                let line = escape(&line).to_string();
                match &overall {
                    Some(o) => {
                        o.inc(1);
                        if let Status::Failed(_) = status {
                            o.println(&line);
                        }
                    }
                    None => eprintln!("{line}"),
                }
                out.lock().expect("results").push((
                    i,
                    Outcome {
                        distro: job.distro.clone(),
                        arch: job.arch,
                        uname: job.kernel.uname.clone(),
                        path: Some(job.path.clone()),
                        status,
                    },
                ));
            });
        }
    });
    if let Some(o) = overall {
        o.finish_and_clear();
    }
    let mut done_list = out.into_inner().expect("results");
    done_list.sort_by_key(|(i, _)| *i);
    results.extend(done_list.into_iter().map(|(_, o)| o));
    summary(&results, start.elapsed(), a.json);
    Ok(
        if results
            .iter()
            .any(|r| matches!(r.status, Status::Failed(_)))
        {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn overall_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} kernels, ETA {eta}",
    )
    .expect("template")
    .progress_chars("=> ")
}

fn download_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(
        "  {msg} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .expect("template")
}

/// One kernel to fetch.
struct Job {
    distro: String,
    arch: &'static str,
    kernel: Kernel,
    /// The `.btf` path (`.btf.tar.xz` appended with --tar-xz).
    path: PathBuf,
}

struct Settings<'a> {
    client: &'a Client,
    retries: u32,
    retry_delay: Duration,
    tar_xz: bool,
    encode_with_btf: bool,
    mirrors: &'a [Mirror],
    streams: &'a Streams,
    tmpdir: Option<PathBuf>,
    encode_jobs: usize,
    /// `--modules`' patterns.
    modules: Vec<String>,
}

enum Status {
    /// Written: output bytes, the vmlinux had .BTF already, the digest checked.
    Done {
        bytes: usize,
        had_btf: bool,
        digest: Option<String>,
        resumed: u32,
        retries: u32,
        /// The release the vmlinux path names, when not the expected one.
        other_release: Option<String>,
        /// Why the vmlinux was not checked against the package's own digest of it.
        unverified: Option<String>,
        /// The names of the modules written beside it (`--modules`), sorted.
        modules: Vec<String>,
    },
    /// The output existed already.
    Skipped,
    /// The vmlinux has .BTF: a `.hasbtf` marker was written, nothing encoded.
    HasBtf,
    /// An older kernel of the same stream has .BTF (named): not fetched.
    Stopped(String),
    Failed(String),
}

/// Kernel streams stopped by a kernel that ships .BTF, as BTFHub stops them: per
/// distro, arch and stream, the oldest such kernel.
#[derive(Default)]
struct Streams(Mutex<Vec<(StreamKey, Kernel)>>);

/// A stream: distro, arch, stream name.
type StreamKey = (String, &'static str, String);

impl Streams {
    /// Records that `k` has .BTF (the oldest such kernel of its stream is kept).
    fn stop(&self, distro: &str, arch: &'static str, k: &Kernel) {
        let mut v = self.0.lock().expect("streams");
        let key = (distro.to_string(), arch, k.stream.clone());
        match v.iter_mut().find(|(s, _)| *s == key) {
            Some((_, old)) if fetch::compare_versions(&k.uname, &old.uname).is_lt() => {
                *old = k.clone()
            }
            Some(_) => {}
            None => v.push((key, k.clone())),
        }
    }

    /// The kernel with .BTF that stops `k`'s stream before `k`, if any.
    fn stopped_by(&self, distro: &str, arch: &str, k: &Kernel) -> Option<String> {
        let v = self.0.lock().expect("streams");
        v.iter()
            .find(|((d, a, s), by)| {
                d == distro
                    && *a == arch
                    && *s == k.stream
                    && fetch::compare_versions(&by.uname, &k.uname).is_lt()
            })
            .map(|(_, by)| by.uname.clone())
    }
}

impl Status {
    fn describe(&self) -> String {
        match self {
            Status::Done {
                bytes,
                had_btf,
                digest,
                resumed,
                retries,
                other_release,
                unverified,
                modules,
            } => {
                let mut s = format!("done, {bytes} bytes");
                if !modules.is_empty() {
                    s += &format!(" and modules {}", escape(&modules.join(",")));
                }
                match digest {
                    Some(d) => s += &format!(", package {d} verified"),
                    None => s += ", no checksum in the metadata",
                }
                if *retries > 0 {
                    s += &format!(", {retries} retries");
                }
                if *resumed > 0 {
                    s += &format!(", resumed {resumed} times");
                }
                if let Some(r) = other_release {
                    s += &format!(", but the vmlinux path names {r}");
                }
                if *had_btf {
                    s += ", the vmlinux already has .BTF (encoded from DWARF: --encode-with-btf)";
                }
                if let Some(w) = unverified {
                    s += &format!(", warning: {w}");
                }
                s
            }
            Status::Skipped => "already done, skipped".into(),
            Status::HasBtf => "the vmlinux has .BTF: marker written, not encoded (later kernels of its flavor are skipped; --encode-with-btf encodes it)".into(),
            Status::Stopped(by) => format!("skipped: {by}, an older kernel of its flavor, has .BTF"),
            Status::Failed(e) => format!("FAILED: {e}"),
        }
    }
}

struct Outcome {
    distro: String,
    arch: &'static str,
    uname: String,
    path: Option<PathBuf>,
    status: Status,
}

fn with_suffix(path: &Path, ext: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(ext);
    PathBuf::from(p)
}

/// Download → extraction → encoding → atomic write of one kernel.
fn process(s: &Settings, job: &Job, bar: Option<indicatif::ProgressBar>) -> Status {
    if done(&job.path) == Some("done") || (!s.encode_with_btf && done(&job.path).is_some()) {
        return if done(&job.path) == Some("hasbtf") {
            Status::HasBtf
        } else {
            Status::Skipped
        };
    }
    if !s.encode_with_btf {
        if let Some(by) = s.streams.stopped_by(&job.distro, job.arch, &job.kernel) {
            return Status::Stopped(by);
        }
    }
    let st = match fetch_one(s, job, bar) {
        Ok(st) => st,
        Err(e) => Status::Failed(format!("{e:#}")),
    };
    if let Status::HasBtf = st {
        s.streams.stop(&job.distro, job.arch, &job.kernel);
    }
    st
}

fn fetch_one(
    s: &Settings,
    job: &Job,
    bar: Option<indicatif::ProgressBar>,
) -> anyhow::Result<Status> {
    // A Launchpad kernel: its .ddeb's URL, size and digest first.
    let k = &fetch::resolve(s.client, &job.kernel, s.mirrors)?;
    let mut dl = Download::new(s.client, &k.url, k.size, k.checksum.clone(), s.retries)
        .backoff(s.retry_delay);
    if let Some(b) = bar {
        dl = dl.progress(b);
    }
    let popts = package::Options {
        tmpdir: s.tmpdir.clone(),
        modules: s.modules.clone(),
        ..Default::default()
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, &mut dl);
    let extracted = match reader.fill_buf() {
        Ok(head) => match package::PackageFormat::sniff(head) {
            Some(kind) => package::extract_vmlinux(&mut reader, kind, &k.url, &popts)
                .map_err(anyhow::Error::from),
            None if head.is_empty() => Err(anyhow::anyhow!("{}: empty download", k.url)),
            None => Err(anyhow::anyhow!(
                "{}: not a .deb/.ddeb nor an RPM package",
                k.url
            )),
        },
        Err(e) => Err(anyhow::Error::from(e)),
    };
    // The whole download is read and checked before anything extracted from it is
    // used; a download error or a failed check is the reason given over what the
    // extraction said of the bytes it got.
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
    drop(reader);
    let verified = dl.finish()?;
    let vmlinux = extracted?;
    // The file is named by the catalog's `uname -r` (what --list shows and the skip
    // check looks for); a vmlinux path naming another release is reported.
    let unverified = vmlinux.unverified.clone();
    let other_release = (vmlinux.release != k.uname)
        .then(|| format!("{} (member {})", vmlinux.release, vmlinux.member));
    if !s.encode_with_btf && elf_has_btf(vmlinux.bytes()) {
        let marker = has_btf_marker(&job.path);
        let dir = marker.parent().expect("DIR/ID/VERSION/ARCH/FILE");
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        write_atomic(&marker, b"")?;
        return Ok(Status::HasBtf);
    }
    let opts = dwarf::Options {
        jobs: s.encode_jobs,
        progress: false,
        ..Default::default()
    };
    let enc = dwarf::encode_mapped(vmlinux.map(), &opts)
        .with_context(|| format!("{}: {}", k.url, vmlinux.member))?;
    if enc.btf.types().is_empty() {
        anyhow::bail!("{}: the DWARF gave no BTF types", k.url);
    }
    let modules = match vmlinux.modules.is_empty() {
        true => Vec::new(),
        false => {
            let base = std::sync::Arc::new(enc.btf.clone());
            super::modules::encode(base, &vmlinux.modules, &opts, &k.url)?
        }
    };
    let unverified =
        unverified.or_else(|| vmlinux.modules.iter().find_map(|m| m.unverified.clone()));
    drop(vmlinux);
    let btf = enc.btf.to_bytes();
    let dir = job.path.parent().expect("DIR/ID/VERSION/ARCH/FILE");
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    // The modules before the kernel's BTF, which says the kernel is done.
    if !modules.is_empty() {
        super::modules::write(&super::modules::dir_for(&job.path)?, &modules)?;
    }
    // The kernel's identity before its BTF: a kernel whose BTF is there (what the skip
    // check looks for) has its build-id file too, when its vmlinux has a build-id.
    if let Some(id) = &enc.build_id {
        let line = format!("{}\n", btfgen::digest::hex(id));
        write_atomic(&build_id_file(&job.path), line.as_bytes())?;
    }
    let bytes = if s.tar_xz {
        let name = job.path.file_name().expect("file name");
        let data = tar_xz(&name.to_string_lossy(), &btf)?;
        write_atomic(&with_suffix(&job.path, ".tar.xz"), &data)?;
        data.len()
    } else {
        write_atomic(&job.path, &btf)?;
        btf.len()
    };
    Ok(Status::Done {
        bytes,
        had_btf: enc.had_btf,
        digest: verified.digest.map(|a| a.to_string()),
        resumed: verified.resumed,
        retries: verified.retries,
        other_release,
        unverified,
        modules: modules.into_iter().map(|(name, _)| name).collect(),
    })
}

/// Whether `elf` has a `.BTF` section (BTFHub's `HasBTFSection`).
fn elf_has_btf(elf: &[u8]) -> bool {
    use object::Object as _;
    object::File::parse(elf).is_ok_and(|f| f.section_by_name(".BTF").is_some())
}

/// A `.tar.xz` holding one file `name` with `data` (mode 0644, owner root), as
/// BTFHub's `tar cvfJ` makes them.
fn tar_xz(name: &str, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
    let mut tar = tar::Builder::new(enc);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)?;
    let enc = tar.into_inner()?;
    Ok(enc.finish()?)
}

fn summary(results: &[Outcome], elapsed: Duration, json: bool) {
    let count = |f: fn(&Status) -> bool| results.iter().filter(|r| f(&r.status)).count();
    let done = count(|s| matches!(s, Status::Done { .. }));
    let skipped = count(|s| matches!(s, Status::Skipped));
    let failed = count(|s| matches!(s, Status::Failed(_)));
    let has_btf = count(|s| matches!(s, Status::HasBtf));
    let stopped = count(|s| matches!(s, Status::Stopped(_)));
    let had_btf = count(|s| matches!(s, Status::Done { had_btf: true, .. }));
    let mut notes = String::new();
    if has_btf > 0 || stopped > 0 {
        notes += &format!(
            "; {has_btf} ship .BTF (marked, not encoded), {stopped} later kernels of their flavors skipped"
        );
    }
    if had_btf > 0 {
        notes += &format!("; {had_btf} vmlinux already had .BTF (encoded from DWARF regardless)");
    }
    eprintln!(
        "btfgen: {done} written, {skipped} already done, {failed} failed in {:.1}s{notes}",
        elapsed.as_secs_f64(),
    );
    for r in results {
        if let Status::Failed(e) = &r.status {
            let what = if r.uname.is_empty() {
                "(listing)"
            } else {
                &r.uname
            };
            eprintln!(
                "btfgen: FAILED {} {} {}: {}",
                escape(&r.distro),
                r.arch,
                escape(what),
                escape(e)
            );
        }
    }
    if json {
        let mut o = String::from("{\"kernels\":[");
        for (i, r) in results.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let (status, reason, had, digest, warning) = match &r.status {
                Status::Done {
                    had_btf,
                    digest,
                    unverified,
                    ..
                } => ("done", None, *had_btf, digest.clone(), unverified.clone()),
                Status::Skipped => ("skipped", None, false, None, None),
                Status::HasBtf => ("hasbtf", None, true, None, None),
                Status::Stopped(by) => (
                    "stopped",
                    Some(format!("{by}, an older kernel of its flavor, has .BTF")),
                    false,
                    None,
                    None,
                ),
                Status::Failed(e) => ("failed", Some(e.clone()), false, None, None),
            };
            let modules: &[String] = match &r.status {
                Status::Done { modules, .. } => modules,
                _ => &[],
            };
            let modules: Vec<String> = modules.iter().map(|m| json_str(m)).collect();
            o += &format!(
                "{{\"distro\":{},\"arch\":{},\"uname\":{},\"status\":\"{status}\",\"path\":{},\"had_btf\":{had},\"verified\":{},\"warning\":{},\"reason\":{},\"modules\":[{}]}}",
                json_str(&r.distro),
                json_str(r.arch),
                json_str(&r.uname),
                r.path
                    .as_ref()
                    .map_or("null".into(), |p| json_str(&p.display().to_string())),
                digest.map_or("null".into(), |d| json_str(&d)),
                warning.map_or("null".into(), |w| json_str(&w)),
                reason.map_or("null".into(), |e| json_str(&e)),
                modules.join(","),
            );
        }
        o += &format!("],\"done\":{done},\"skipped\":{skipped},\"failed\":{failed},\"hasbtf\":{has_btf},\"stopped\":{stopped}}}");
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{o}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_templates_parse() {
        overall_style();
        download_style();
    }

    /// What `--tar-xz` writes is what every command reading BTF reads back.
    #[test]
    fn tar_xz_reads_back_as_btf() {
        let mut b = btfgen::btf::Btf::new();
        let name = b.add_str("int");
        b.add(btfgen::btf::Type {
            name,
            kind: btfgen::btf::Kind::Int(btfgen::btf::Int {
                size: 4,
                encoding: btfgen::btf::INT_SIGNED,
                offset: 0,
                bits: 32,
            }),
        });
        let raw = b.to_bytes();
        let data = tar_xz("5.4.0-1-generic.btf", &raw).unwrap();
        let back = btfgen::btf::Btf::from_any_bytes(&data, None).unwrap();
        assert_eq!(back.to_bytes(), raw);
    }

    #[test]
    fn distros_list_names_arches_and_directories() {
        let entry = |name: &str, arch: &str, extra: &str| {
            format!(
                "[[kernel]]\nname = \"{name}\"\narch = \"{arch}\"\nrepo_type = \"apt\"\n\
                 repos = [\"http://mirror.test/\"]\ndists = [\"d/main\"]\n\
                 packages = [\"linux-image-*-dbg\"]\nuname = \"{{1}}\"\nvmlinux = \"v\"\n{extra}\n"
            )
        };
        let text = [
            entry("debian-11", "x86_64", "btfhub_dir = \"bullseye\""),
            entry("debian-11", "arm64", "btfhub_dir = \"bullseye\""),
            entry("rhel-8", "x86_64", "subscription = true"),
        ]
        .concat();
        let c = Catalog::parse(&text, "test").unwrap();
        assert_eq!(
            list_distros(&c, false),
            "distro     arches          repos  directory\n\
             debian-11  x86_64,arm64    apt    debian/bullseye/ARCH\n\
             rhel-8     x86_64          apt    rhel/8/ARCH  (subscription: --mirror)\n"
        );
        assert_eq!(
            list_distros(&c, true),
            "{\"distros\":[\n\
             {\"name\":\"debian-11\",\"arches\":[\
             {\"arch\":\"x86_64\",\"repo_type\":\"apt\",\"directory\":\"debian/bullseye/x86_64\",\"subscription\":false},\
             {\"arch\":\"arm64\",\"repo_type\":\"apt\",\"directory\":\"debian/bullseye/arm64\",\"subscription\":false}]},\n\
             {\"name\":\"rhel-8\",\"arches\":[\
             {\"arch\":\"x86_64\",\"repo_type\":\"apt\",\"directory\":\"rhel/8/x86_64\",\"subscription\":true}]}\n]}\n"
        );
    }

    #[test]
    fn a_stream_stops_after_its_oldest_kernel_with_btf() {
        let k = |uname: &str, stream: &str| Kernel {
            uname: uname.into(),
            package: "p".into(),
            url: String::new(),
            size: None,
            checksum: None,
            vmlinux: String::new(),
            stream: stream.into(),
            launchpad: false,
        };
        let s = Streams::default();
        s.stop("ubuntu-20.04", "x86_64", &k("5.4.0-100-generic", "generic"));
        s.stop("ubuntu-20.04", "x86_64", &k("5.4.0-42-generic", "generic"));
        s.stop("ubuntu-20.04", "x86_64", &k("5.4.0-110-generic", "generic"));
        let by = |uname: &str, stream: &str, distro: &str| {
            s.stopped_by(distro, "x86_64", &k(uname, stream))
        };
        assert_eq!(by("5.4.0-9-generic", "generic", "ubuntu-20.04"), None);
        assert_eq!(by("5.4.0-42-generic", "generic", "ubuntu-20.04"), None);
        assert_eq!(
            by("5.4.0-100-generic", "generic", "ubuntu-20.04"),
            Some("5.4.0-42-generic".into())
        );
        assert_eq!(by("5.4.0-1020-aws", "aws", "ubuntu-20.04"), None);
        assert_eq!(by("5.4.0-100-generic", "generic", "ubuntu-18.04"), None);
        assert_eq!(
            s.stopped_by("ubuntu-20.04", "arm64", &k("5.4.0-100-generic", "generic")),
            None
        );
    }

    #[test]
    fn has_btf_markers_sit_beside_the_btf() {
        assert_eq!(
            has_btf_marker(Path::new("o/centos/7/x86_64/3.10.0-1160.el7.x86_64.btf")),
            Path::new("o/centos/7/x86_64/3.10.0-1160.el7.x86_64.hasbtf")
        );
    }

    #[test]
    fn tar_xz_holds_the_btf() {
        let data = tar_xz("5.4.0-1-generic.btf", b"BTF bytes").unwrap();
        let mut a = tar::Archive::new(liblzma::read::XzDecoder::new(&data[..]));
        let mut entries = a.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some("5.4.0-1-generic.btf"));
        assert_eq!(e.header().mode().unwrap(), 0o644);
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut s).unwrap();
        assert_eq!(s, b"BTF bytes");
        assert!(entries.next().is_none());
    }
}
