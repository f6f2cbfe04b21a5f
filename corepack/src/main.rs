//! `corepack build | inspect | verify`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use btfgen::json::quote as json_str;
use clap::{Parser, Subcommand};
use corepack::build::{build_bundle, read_objects, scan_btf_dir, verify_relocations};
use corepack::Bundle;

#[derive(Parser)]
#[command(
    name = "corepack",
    version,
    about = "Bundles of minimized BTF for fleets of mixed kernels"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Minimize every kernel of a BTF directory for the objects and write a bundle.
    Build {
        /// BPF objects (clang -target bpf -g) the bundle serves.
        #[arg(long = "object", required = true)]
        objects: Vec<PathBuf>,
        /// Kernel BTF in BTFHub's layout: DIR/ID/VERSION_ID/ARCH/<uname -r>.btf.
        #[arg(long)]
        btf_dir: PathBuf,
        /// Output bundle.
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
    /// Check every checksum; with --object, also that every blob resolves every relocation.
    Verify {
        bundle: PathBuf,
        #[arg(long = "object")]
        objects: Vec<PathBuf>,
    },
}

fn inspect(bytes: &[u8], json: bool) -> anyhow::Result<()> {
    let b = Bundle::open(bytes)?;
    let raw = b.entries_raw_bytes();
    let unique: u64 = b.blobs().iter().map(|x| x.raw_len).sum();
    let stored: u64 = b.blobs().iter().map(|x| x.stored_len).sum();
    let mut distros: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for e in b.entries() {
        *distros
            .entry((
                e.kernel.os_id.clone(),
                e.kernel.version_id.clone(),
                e.kernel.arch.clone(),
            ))
            .or_default() += 1;
    }
    if json {
        let mut o = format!(
            "{{\"program\":{},\"program_version\":{},\"bundle_bytes\":{},\"raw_bytes\":{raw},\"unique_raw_bytes\":{unique},\"stored_bytes\":{stored},\"blobs\":{},\"objects\":[",
            json_str(&b.program),
            json_str(&b.program_version),
            bytes.len(),
            b.blobs().len()
        );
        let objs: Vec<String> = b
            .objects()
            .iter()
            .map(|x| {
                let sha: String = x.sha256.iter().map(|v| format!("{v:02x}")).collect();
                format!("{{\"name\":{},\"sha256\":\"{sha}\"}}", json_str(&x.name))
            })
            .collect();
        o.push_str(&objs.join(","));
        o.push_str("],\"entries\":[");
        let ents: Vec<String> = b
            .entries()
            .iter()
            .map(|e| {
                let bl = &b.blobs()[e.blob as usize];
                format!(
                    "{{\"arch\":{},\"uname\":{},\"id\":{},\"version_id\":{},\"blob\":{},\"raw_bytes\":{},\"stored_bytes\":{}}}",
                    json_str(&e.kernel.arch),
                    json_str(&e.kernel.uname),
                    json_str(&e.kernel.os_id),
                    json_str(&e.kernel.version_id),
                    e.blob,
                    bl.raw_len,
                    bl.stored_len
                )
            })
            .collect();
        o.push_str(&ents.join(","));
        o.push_str("]}");
        println!("{o}");
        return Ok(());
    }
    println!("program   {} {}", b.program, b.program_version);
    for x in b.objects() {
        let sha: String = x.sha256.iter().map(|v| format!("{v:02x}")).collect();
        println!("object    {} sha256:{sha}", x.name);
    }
    println!(
        "kernels   {} in {} distinct blobs (dedup {:.2}x)",
        b.entries().len(),
        b.blobs().len(),
        b.entries().len() as f64 / b.blobs().len().max(1) as f64
    );
    println!(
        "bytes     {} bundle, {stored} compressed blobs, {unique} unique BTF, {raw} BTF over all kernels",
        bytes.len()
    );
    for ((id, v, arch), n) in &distros {
        println!("distro    {id} {v} {arch}: {n} kernels");
    }
    for e in b.entries() {
        let bl = &b.blobs()[e.blob as usize];
        println!(
            "kernel    {} {} {} {} blob {} ({} bytes, {} stored)",
            e.kernel.os_id,
            e.kernel.version_id,
            e.kernel.arch,
            e.kernel.uname,
            e.blob,
            bl.raw_len,
            bl.stored_len
        );
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Cmd::Build {
            objects,
            btf_dir,
            output,
            program,
            program_version,
        } => {
            let objs = read_objects(&objects)?;
            let kernels = scan_btf_dir(&btf_dir)?;
            if kernels.is_empty() {
                anyhow::bail!("{}: no ID/VERSION_ID/ARCH/*.btf files", btf_dir.display());
            }
            let program = program.unwrap_or_else(|| {
                objs[0]
                    .name
                    .split('.')
                    .next()
                    .unwrap_or(&objs[0].name)
                    .to_string()
            });
            let (bytes, stats) = build_bundle(&program, &program_version, &objs, &kernels)?;
            std::fs::write(&output, &bytes).with_context(|| format!("{}", output.display()))?;
            eprintln!(
                "corepack: {}: {} kernels, {} distinct blobs, {} bytes (BTF {} bytes over all kernels)",
                output.display(),
                stats.entries,
                stats.blobs,
                stats.bundle_bytes,
                stats.raw_bytes
            );
        }
        Cmd::Inspect { bundle, json } => {
            let bytes = std::fs::read(&bundle).with_context(|| format!("{}", bundle.display()))?;
            inspect(&bytes, json).with_context(|| format!("{}", bundle.display()))?;
        }
        Cmd::Verify { bundle, objects } => {
            let bytes = std::fs::read(&bundle).with_context(|| format!("{}", bundle.display()))?;
            let b = Bundle::open(&bytes).with_context(|| format!("{}", bundle.display()))?;
            b.verify()
                .with_context(|| format!("{}", bundle.display()))?;
            if !objects.is_empty() {
                let r = verify_relocations(&b, &read_objects(&objects)?)
                    .with_context(|| format!("{}", bundle.display()))?;
                for p in &r.poisoned {
                    eprintln!("corepack: poisoned (loads; must be unreachable): {p}");
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
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corepack: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
