//! The `corepack` command line: build, inspect, verify, select, trace and test.

mod inspect;
mod select;
mod test;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use btfgen::output::Inputs;
use btfgen::text::escape;
use clap::{Parser, Subcommand};
use corepack::build::{
    build_bundle, read_objects, scan_btf_dirs, verify_blobs, verify_relocations, Object,
};
use corepack::Bundle;

#[derive(Parser)]
#[command(
    name = "corepack",
    version,
    about = "Bundles of minimized BTF for fleets of mixed kernels"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Minimize every kernel of a BTF directory for the objects and write a bundle.
    Build {
        /// BPF objects (clang -target bpf -g) the bundle serves.
        #[arg(long = "object", required_unless_present = "tracer")]
        objects: Vec<PathBuf>,
        /// Also (or only) the bundled tracer's own BPF object (`corepack trace`).
        #[arg(long)]
        tracer: bool,
        /// Kernel BTF in BTFHub's layout: DIR/ID/VERSION_ID/ARCH/<uname -r>.btf, or
        /// <uname -r>.btf.tar.xz as BTFHub's archive holds them. May be given again: a
        /// kernel in two directories must have two different build-ids.
        #[arg(long, required = true)]
        btf_dir: Vec<PathBuf>,
        /// Output bundle (`-`: standard output). A device or FIFO is written through, a
        /// symbolic link's target replaced atomically; never an input.
        #[arg(short, long)]
        output: PathBuf,
        /// Program name recorded in the manifest (default: the first object's stem).
        #[arg(long)]
        program: Option<String>,
        /// Program version recorded in the manifest.
        #[arg(long, default_value = "0")]
        program_version: String,
    },
    /// Kernels, distros, sizes and dedup ratio of a bundle.
    Inspect {
        bundle: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Choose the BTF for this kernel (or an injected one) and write it for a loader.
    /// Exit status: 0 the BTF to use is in -o, 3 the kernel's own BTF suffices (nothing
    /// written), 1 no BTF for this kernel, 2 an error.
    Select(select::SelectArgs),
    /// Trace execs with the bundled BPF program, its BTF chosen for this kernel.
    Trace(trace::TraceArgs),
    /// Boot each kernel in qemu and load every program of every object there: CO-RE
    /// relocations, the verifier's verdict and, for a rejection, its message, the
    /// failing instruction and its C source line. Exit status 1 when any program is
    /// rejected anywhere.
    Test(test::TestArgs),
    /// Check every blob; with --object, also that every blob resolves every relocation.
    Verify {
        bundle: PathBuf,
        #[arg(long = "object")]
        objects: Vec<PathBuf>,
        /// Also check the bundled tracer's own BPF object.
        #[arg(long)]
        tracer: bool,
    },
}

/// `objects`, and the tracer's BPF object when `tracer` is set.
fn with_tracer(mut objects: Vec<Object>, tracer: bool) -> anyhow::Result<Vec<Object>> {
    if tracer {
        objects.push(Object::from_bytes(
            corepack::trace::OBJECT_NAME,
            corepack::trace::OBJECT.to_vec(),
        )?);
    }
    Ok(objects)
}

/// Runs one subcommand; `select` reports its own errors and has its own statuses.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Select(args) => return Ok(select::select(args)),
        Cmd::Test(args) => return test::test(args),
        Cmd::Build {
            objects,
            tracer,
            btf_dir,
            output,
            program,
            program_version,
        } => {
            let objs = with_tracer(read_objects(&objects)?, tracer)?;
            let kernels = scan_btf_dirs(&btf_dir)?;
            if kernels.is_empty() {
                let names: Vec<String> = btf_dir.iter().map(|d| d.display().to_string()).collect();
                anyhow::bail!("{}: no ID/VERSION_ID/ARCH/*.btf files", names.join(", "));
            }
            let inputs = Inputs::new(objects.iter().chain(kernels.iter().map(|k| &k.path)));
            let target = btfgen::output::prepare(&output, &inputs)?;
            let program = program.unwrap_or_else(|| {
                objs[0]
                    .name
                    .split('.')
                    .next()
                    .unwrap_or(&objs[0].name)
                    .to_string()
            });
            let (bytes, stats) = build_bundle(&program, &program_version, &objs, &kernels)?;
            target.write(&bytes)?;
            eprintln!(
                "corepack: {}: {} kernels, {} distinct blobs, {} bytes (BTF {} bytes over all kernels)",
                output.display(),
                stats.entries,
                stats.blobs,
                stats.bundle_bytes,
                stats.raw_bytes
            );
        }
        Cmd::Trace(args) => trace::trace(args)?,
        Cmd::Inspect { bundle, json } => {
            let bytes = btfgen::input::read(&bundle, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", bundle.display()))?;
            inspect::inspect(&bytes, json).with_context(|| format!("{}", bundle.display()))?;
        }
        Cmd::Verify {
            bundle,
            objects,
            tracer,
        } => {
            let objects = with_tracer(read_objects(&objects)?, tracer)?;
            let bytes = btfgen::input::read(&bundle, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", bundle.display()))?;
            let b = Bundle::open(&bytes).with_context(|| format!("{}", bundle.display()))?;
            b.verify()
                .with_context(|| format!("{}", bundle.display()))?;
            verify_blobs(&b).with_context(|| format!("{}", bundle.display()))?;
            if !objects.is_empty() {
                let r = verify_relocations(&b, &objects)
                    .with_context(|| format!("{}", bundle.display()))?;
                for p in &r.poisoned {
                    eprintln!(
                        "corepack: poisoned (loads; must be unreachable): {}",
                        escape(p)
                    );
                }
                eprintln!(
                    "corepack: {} relocations checked, {} poisoned",
                    r.checked,
                    r.poisoned.len()
                );
            }
            eprintln!(
                "corepack: {}: ok ({} kernels, {} blobs{})",
                bundle.display(),
                b.entries().len(),
                b.blobs().len(),
                if objects.is_empty() {
                    ""
                } else {
                    ", relocations resolve"
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
