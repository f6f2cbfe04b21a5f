//! `btfgen min --btf KERNEL OBJ... -o OUT`: kernel BTF cut down to what the CO-RE
//! relocations of BPF objects need (`bpftool gen min_core_btf`). With a directory of
//! kernels, every kernel is minimized in parallel into the same relative path.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use btfgen::bpf::BpfObject;
use btfgen::btf::Btf;
use btfgen::min::minimize;
use rayon::prelude::*;

use super::check::{kernel_files, read_base, read_kernel, read_objects};
use super::output::write_atomic;

/// Arguments of `btfgen min`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// Kernel BTF (raw or ELF), or a directory searched recursively for them.
    #[arg(long, value_name = "KERNEL")]
    btf: PathBuf,
    /// BPF objects (clang -target bpf -g) whose relocations must keep resolving.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Output file; a directory when --btf is one.
    #[arg(short, long)]
    output: PathBuf,
    /// Base BTF when the kernel BTFs are split BTF (kernel modules on vmlinux).
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Print each output's size.
    #[arg(short, long)]
    verbose: bool,
}

fn one(
    input: &Path,
    output: &Path,
    base: &Option<Arc<Btf>>,
    objects: &[BpfObject],
    verbose: bool,
) -> anyhow::Result<()> {
    let target = read_kernel(input, base)?;
    let out = minimize(&target, objects).with_context(|| format!("{}", input.display()))?;
    let bytes = out.to_bytes();
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    write_atomic(output, &bytes)?;
    if verbose {
        eprintln!(
            "btfgen: {}: {} types, {} bytes",
            output.display(),
            out.types().len(),
            bytes.len()
        );
    }
    Ok(())
}

/// Runs `btfgen min`.
pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let base = read_base(&a.base)?;
    let objects = read_objects(&a.objects)?;
    if !a.btf.is_dir() {
        one(&a.btf, &a.output, &base, &objects, a.verbose)?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.output.exists() && !a.output.is_dir() {
        anyhow::bail!(
            "{}: --btf is a directory, so -o must be one too",
            a.output.display()
        );
    }
    let kernels = kernel_files(&a.btf)?;
    let errors: Vec<String> = kernels
        .par_iter()
        .filter_map(|(abs, rel)| {
            one(abs, &a.output.join(rel), &base, &objects, a.verbose)
                .err()
                .map(|e| format!("{e:#}"))
        })
        .collect();
    for e in &errors {
        eprintln!("btfgen: error: {e}");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
