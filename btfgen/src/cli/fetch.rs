//! `btfgen fetch --list DISTRO...`: the kernels a distro's debuginfo repositories
//! offer, per the kernels.toml catalog (downloading and encoding them comes next).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use btfgen::fetch::{self, Arch, Catalog, Choice, Client, Shard};

/// Arguments of `btfgen fetch`.
#[derive(clap::Args)]
pub struct Args {
    /// Catalog names, `<os-release ID>-<VERSION_ID>` (centos-7, ubuntu-20.04, ...).
    #[arg(required = true, value_name = "DISTRO")]
    distros: Vec<String>,
    /// List the kernels available (and which are done under -o) instead of fetching.
    #[arg(long)]
    list: bool,
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
    /// distros); credentials from BTFGEN_MIRROR_USER and BTFGEN_MIRROR_PASSWORD.
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// A catalog file adding entries or overriding built-in ones (by name and arch).
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,
    /// Timeout of each metadata request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
}

/// The BTF path of `uname` for `entry` under `dir`, BTFHub's layout.
fn btf_path(dir: &Path, entry: &fetch::Entry, uname: &str) -> PathBuf {
    let (id, ver) = entry.id_version();
    dir.join(id)
        .join(entry.btfhub_dir.as_deref().unwrap_or(ver))
        .join(entry.arch.name())
        .join(format!("{uname}.btf"))
}

fn done(path: &Path) -> Option<&'static str> {
    let with = |ext: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    if path.is_file() || with(".tar.xz").is_file() {
        Some("done")
    } else if path.with_extension("hasbtf").exists() {
        Some("has BTF")
    } else {
        None
    }
}

/// Runs `btfgen fetch`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
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
    if !a.list {
        bail!("downloading kernels is not implemented yet; use --list");
    }
    let choice = if !a.kernels.is_empty() {
        Choice::Releases(a.kernels.clone())
    } else if let Some(n) = a.latest {
        Choice::Latest(n)
    } else {
        Choice::All
    };
    let credentials = a.mirror.as_ref().and_then(|_| Client::env_credentials());
    let client = Client::new(Duration::from_secs(a.timeout), credentials)?;
    for entry in &entries {
        let kernels = fetch::available(&client, entry, a.mirror.as_deref())?;
        let total = kernels.len();
        let chosen = fetch::choose(kernels, &choice, a.shard)?;
        println!(
            "{} {}: {} of {total} kernels",
            entry.name,
            entry.arch,
            chosen.len()
        );
        for k in &chosen {
            let status = done(&btf_path(&a.output, entry, &k.uname)).unwrap_or("-");
            let size = k.size.map_or("?".to_string(), |s| s.to_string());
            println!("{}\t{status}\t{size}\t{}", k.uname, k.url);
        }
    }
    Ok(ExitCode::SUCCESS)
}
