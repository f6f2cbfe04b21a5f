//! `btfgen dump FILE [--base BASE] [--format c|text|json] [--type NAME]... [-o OUT]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use btfgen::btf::Btf;
use btfgen::dump;
use clap::ValueEnum;

use super::check::base_hint;
use super::output::{prepare, print_stdout};

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Format {
    /// A compilable C header, as `bpftool btf dump file F format c` (vmlinux.h).
    C,
    /// One line per type, as `bpftool btf dump file F`.
    Text,
    /// A JSON array with one object per type.
    Json,
}

/// Arguments of `btfgen dump`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// BTF to dump: raw BTF (e.g. /sys/kernel/btf/vmlinux), an ELF file with .BTF, or an
    /// archive of either (BTFHub's .btf.tar.xz; also .tar.gz, .tar.zst, .xz, .gz, .zst).
    file: PathBuf,
    /// FILE is split BTF on this base BTF (raw or ELF), as a kernel module's on vmlinux.
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Dump only this type and what it needs (repeatable; `struct NAME`, `union NAME`
    /// and `enum NAME` pick one kind).
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Write here instead of standard output (`-`: standard output all the same). A
    /// device or FIFO is written through, a symbolic link's target replaced
    /// atomically; never an input.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let name = a.file.display();
    let inputs: Vec<&PathBuf> = std::iter::once(&a.file).chain(&a.base).collect();
    let target = a.output.as_ref().map(|o| prepare(o, &inputs)).transpose()?;
    let base = match &a.base {
        Some(p) => Some(Arc::new(
            Btf::from_file(p).with_context(|| format!("base BTF {}", p.display()))?,
        )),
        None => None,
    };
    let btf = read_btf(&a.file, base).with_context(|| format!("{name}"))?;
    let roots = if a.types.is_empty() {
        None
    } else {
        Some(dump::find_types(&btf, &a.types).with_context(|| format!("{name}"))?)
    };
    let mut text = String::new();
    match a.format {
        Format::C => {
            dump::dump_c(&btf, roots.as_deref(), &mut text).with_context(|| format!("{name}"))?
        }
        Format::Text | Format::Json => {
            let ids = roots.map(|r| dump::with_dependencies(&btf, &r));
            let written = match a.format {
                Format::Json => dump::dump_json(&btf, ids.as_deref(), &mut text),
                _ => dump::dump_text(&btf, ids.as_deref(), &mut text),
            };
            written.with_context(|| format!("{name}: cannot format output"))?;
        }
    }
    match target {
        Some(t) => t.write(text.as_bytes())?,
        None => print_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads raw BTF or an ELF file's `.BTF`, split on `base` when given.
fn read_btf(path: &Path, base: Option<Arc<Btf>>) -> anyhow::Result<Btf> {
    let bytes = btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM)?;
    Btf::from_any_bytes(&bytes, base).map_err(|e| base_hint(e, "--base"))
}
