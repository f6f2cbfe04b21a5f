//! `btfgen min --btf KERNEL OBJ... -o OUT`: kernel BTF cut down to what the CO-RE
//! relocations of BPF objects need (`bpftool gen min_core_btf`). With a directory of
//! kernels, every kernel is minimized in parallel into the same relative path (an
//! archive `K.btf.tar.xz` into `K.btf`: the output is raw BTF).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use btfgen::bpf::BpfObject;
use btfgen::btf::Btf;
use btfgen::min::minimize;
use btfgen::output::{self, Inputs, OutputTarget};
use btfgen::text::{escape, escape_path};
use rayon::prelude::*;

use super::check::{
    explicit_modules_need_one_file, kernel_files, modules_of, read_base, read_objects, read_target,
};

/// Arguments of `btfgen min`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// Kernel BTF (raw, ELF, or an archive such as BTFHub's .btf.tar.xz), or a
    /// directory searched recursively for them.
    #[arg(long, value_name = "KERNEL")]
    btf: PathBuf,
    /// BPF objects (clang -target bpf -g) whose relocations must keep resolving.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Output file (`-`: standard output); a directory when --btf is one. A device or
    /// FIFO is written through, a symbolic link's target replaced atomically; never an
    /// input.
    #[arg(short, long)]
    output: PathBuf,
    /// Base BTF when the kernel BTFs are split BTF (kernel modules on vmlinux).
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// A kernel module's split BTF on the --btf kernel (repeatable; --btf a file):
    /// the output is one standalone BTF with the kernel's and the modules' types the
    /// objects need. Modules in the layout beside a kernel (`<uname -r>/modules/*.btf`)
    /// are read without it.
    #[arg(long = "module-btf", value_name = "MODULE", conflicts_with = "base")]
    module_btf: Vec<PathBuf>,
    /// Print each output's size.
    #[arg(short, long)]
    verbose: bool,
}

/// Minimizes the kernel BTF `input` into `output` (its path `shown` in messages) for
/// the `objects` read from `paths`.
fn one(
    input: &Path,
    (shown, output): (&Path, &OutputTarget),
    (base, modules): (&Option<Arc<Btf>>, &[PathBuf]),
    (paths, objects): (&[PathBuf], &[BpfObject]),
    verbose: bool,
) -> anyhow::Result<()> {
    let kernel = read_target(input, base, modules)?;
    // A relocation that fails names its object first: the object may be what is wrong.
    let out = minimize(&kernel, objects).map_err(|e| {
        let object = paths[e.object()].display().to_string();
        anyhow::Error::new(e).context(format!("{object} on kernel BTF {}", input.display()))
    })?;
    let bytes = out.to_bytes();
    if let OutputTarget::Atomic(path) = output {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
    }
    output.write(&bytes)?;
    if verbose {
        eprintln!(
            "btfgen: {}: {} types, {} bytes",
            escape_path(shown),
            out.types().len(),
            bytes.len()
        );
    }
    Ok(())
}

/// What no output may be: the kernels, the objects, the base and the modules.
fn inputs<'a>(kernels: impl Iterator<Item = &'a PathBuf>, a: &'a Args) -> Inputs {
    Inputs::new(
        kernels
            .chain(&a.objects)
            .chain(&a.base)
            .chain(&a.module_btf),
    )
}

/// The output's relative path for a kernel's: `K.btf` for an archive of K's BTF
/// (`K.btf.tar.xz` and the others [`btfgen::btf::kernel_name`] knows), else itself.
fn raw_name(rel: &Path) -> PathBuf {
    let name = rel.file_name().and_then(|n| n.to_str());
    match name.and_then(|n| btfgen::btf::kernel_name(n).map(|k| (n, k))) {
        Some((n, k)) if n != format!("{k}.btf") => rel.with_file_name(format!("{k}.btf")),
        _ => rel.to_path_buf(),
    }
}

/// Runs `btfgen min`.
pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let base = read_base(&a.base)?;
    let objects = read_objects(&a.objects)?;
    explicit_modules_need_one_file(&a.module_btf, &[&a.btf])?;
    if !a.btf.is_dir() {
        let modules = modules_of(&a.btf, &base, &a.module_btf)?;
        let target = output::prepare(
            &a.output,
            &inputs([&a.btf].iter().copied().chain(&modules), &a),
        )?;
        let objects = (&a.objects[..], &objects[..]);
        one(
            &a.btf,
            (&a.output, &target),
            (&base, &modules),
            objects,
            a.verbose,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.output.as_os_str() == "-" {
        anyhow::bail!("-o -: --btf is a directory, so -o must be one, not standard output");
    }
    if a.output.exists() && !a.output.is_dir() {
        anyhow::bail!(
            "{}: --btf is a directory, so -o must be one too",
            a.output.display()
        );
    }
    // Writing into the --btf directory itself would replace every kernel.
    Inputs::new([&a.btf]).refuse(&a.output)?;
    let kernels = kernel_files(&a.btf)?;
    // Every output is checked against every kernel before any is written: a kernel's
    // output may be a link to another kernel.
    let all = inputs(kernels.iter().map(|(abs, _)| abs), &a);
    let rels: Vec<PathBuf> = kernels.iter().map(|(_, rel)| raw_name(rel)).collect();
    let mut seen = std::collections::HashMap::new();
    for ((abs, _), rel) in kernels.iter().zip(&rels) {
        if let Some(first) = seen.insert(rel, abs) {
            anyhow::bail!(
                "{} and {}: both would be minimized into {}; keep one",
                first.display(),
                abs.display(),
                a.output.join(rel).display()
            );
        }
    }
    let outputs = rels
        .iter()
        .map(|rel| {
            let path = a.output.join(rel);
            let target = output::prepare(&path, &all)?;
            Ok((path, target))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let errors: Vec<String> = kernels
        .par_iter()
        .zip(&outputs)
        .filter_map(|((abs, _), (path, target))| {
            modules_of(abs, &base, &[])
                .and_then(|modules| {
                    one(
                        abs,
                        (path, target),
                        (&base, &modules),
                        (&a.objects, &objects),
                        a.verbose,
                    )
                })
                .err()
                .map(|e| format!("{e:#}"))
        })
        .collect();
    for e in &errors {
        eprintln!("btfgen: error: {}", escape(e));
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
