//! Command-line parsing and dispatch; one module per subcommand.

mod check;
mod diff;
mod dump;
mod encode;
mod fetch;
mod min;
mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// DWARF → BTF for kernels that ship no BTF.
#[derive(Parser)]
#[command(name = "btfgen", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Encode the DWARF of an ELF file (vmlinux, object, kernel module) as BTF.
    /// `btfgen FILE ...` is the same as `btfgen encode FILE ...`.
    Encode(encode::Args),
    /// Print BTF as a C header (vmlinux.h), as bpftool's text listing, or as JSON.
    Dump(dump::Args),
    /// Report the types added, removed and changed between two BTFs (exit 1 when
    /// any), or only what the CO-RE relocations of BPF objects touch.
    Diff(diff::Args),
    /// Minimize kernel BTF to what the CO-RE relocations of BPF objects need.
    Min(min::Args),
    /// Report on which kernels the CO-RE relocations of BPF objects resolve.
    Check(check::Args),
    /// Download, extract and encode the BTF of distros' kernels into BTFHub's layout.
    ///
    /// Downloads the kernel debuginfo packages that distros' repositories offer (per
    /// the kernels.toml catalog), extracts each vmlinux, encodes its BTF and writes
    /// `DIR/ID/VERSION_ID/ARCH/<uname -r>.btf` (or `.btf.tar.xz`). `--list` only lists
    /// the kernels; `--distros` lists the catalog's distros.
    Fetch(fetch::Args),
}

/// Names that are subcommands (anything else first on the line is a FILE to encode).
const SUBCOMMANDS: &[&str] = &["encode", "dump", "diff", "min", "check", "fetch", "help"];

/// Parses `args` (program name first) and runs the command.
pub(crate) fn run(mut args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        let global = ["-h", "--help", "-V", "--version"].contains(&first);
        if !global && !SUBCOMMANDS.contains(&first) {
            args.insert(1, "encode".into());
        }
    }
    match Cli::parse_from(args).command {
        Command::Encode(a) => encode::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Min(a) => min::run(a),
        Command::Check(a) => check::run(a),
        Command::Fetch(a) => fetch::run(a),
    }
}
