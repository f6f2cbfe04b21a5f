//! `btfgen diff A B [--base-a X] [--base-b Y] [--type NAME]... [--object OBJ]...
//! [--json]`: what changed between two BTFs. Exits 0 when nothing differs, 1 when
//! something does and 2 on error, as diff(1).

use std::path::PathBuf;
use std::process::ExitCode;

use btfgen::diff;
use btfgen::text::escape;

use super::check::{read_base, read_kernel, read_objects};
use super::output::print_stdout;

/// Arguments of `btfgen diff`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// The old BTF (raw, an ELF file with .BTF, or an archive such as .btf.tar.xz).
    a: PathBuf,
    /// The new BTF (raw, an ELF file with .BTF, or an archive such as .btf.tar.xz).
    b: PathBuf,
    /// A is split BTF on this base BTF.
    #[arg(long, value_name = "BASE")]
    base_a: Option<PathBuf>,
    /// B is split BTF on this base BTF.
    #[arg(long, value_name = "BASE")]
    base_b: Option<PathBuf>,
    /// Compare only this type (repeatable; `NAME` or `KIND NAME`, KIND one of struct,
    /// union, enum, typedef, func, int, float).
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Compare only what the CO-RE relocations of this BPF object touch, and report
    /// each relocation's result on A and B (repeatable).
    #[arg(long = "object", value_name = "OBJ")]
    objects: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `btfgen diff`; errors are printed here so that they exit with 2.
pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    match compare(&a) {
        Ok(differs) => Ok(ExitCode::from(differs as u8)),
        Err(e) => {
            eprintln!("btfgen: error: {}", escape(&format!("{e:#}")));
            Ok(ExitCode::from(2))
        }
    }
}

/// Prints the diff; true when something differs.
fn compare(a: &Args) -> anyhow::Result<bool> {
    let old = read_kernel(&a.a, &read_base(&a.base_a)?, "--base-a")?;
    let new = read_kernel(&a.b, &read_base(&a.base_b)?, "--base-b")?;
    let (text, differs) = if a.objects.is_empty() {
        let report = diff::diff(&old, &new, &a.types)?;
        let text = if a.json {
            diff::json(&report, None)
        } else {
            diff::text(&report, None)
        };
        (text, !report.is_empty())
    } else {
        let objects: Vec<_> = a
            .objects
            .iter()
            .map(|p| p.display().to_string())
            .zip(read_objects(&a.objects)?)
            .collect();
        let d = diff::diff_object(&old, &new, &objects, &a.types)?;
        let text = if a.json {
            diff::json(&d.report, Some(&d.relocs))
        } else {
            diff::text(&d.report, Some(&d.relocs))
        };
        (text, !d.is_empty())
    };
    print_stdout(&text)?;
    Ok(differs)
}
