//! Command-line parsing and dispatch; one module per subcommand.

mod check;
mod diff;
mod dump;
mod encode;
mod fetch;
mod min;
mod modules;
mod output;

use std::ffi::OsString;
use std::path::Path;
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
///
/// A first argument that is a subcommand's name is that subcommand, even when a file
/// of that name exists (`btfgen ./dump -o OUT` encodes the file). Anything else is a
/// FILE to encode (`btfgen FILE` is `btfgen encode FILE`) when it exists; when it does
/// not, a name within two edits of a subcommand's, or one with no `/` and no `.`, is
/// refused as an unknown command rather than reported as a missing file.
pub(crate) fn run(mut args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    if let Some(first) = args.get(1) {
        let name = first.to_str();
        let global = name.is_some_and(|n| ["-h", "--help", "-V", "--version"].contains(&n));
        if !global && !name.is_some_and(|n| SUBCOMMANDS.contains(&n)) {
            if let Some(n) = name.filter(|_| !Path::new(first).exists()) {
                unknown_command(n)?;
            }
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

/// Refuses `name`, a first argument that is neither a subcommand nor an existing file,
/// when it reads as a mistyped command: within two edits of a subcommand's name, or
/// with no `/` and no `.` (and not an option). Otherwise it is left to encode, which
/// reports the missing file.
fn unknown_command(name: &str) -> anyhow::Result<()> {
    let shown = name.escape_debug();
    let nearest = SUBCOMMANDS
        .iter()
        .map(|c| (btfgen::near::edit_distance(name, c), *c))
        .min();
    match nearest {
        Some((d, c)) if d <= 2 => {
            anyhow::bail!("unknown command '{shown}' (did you mean '{c}'?)")
        }
        _ if !name.starts_with('-') && !name.contains(['/', '.']) => anyhow::bail!(
            "unknown command '{shown}', and no file of that name (commands: {})",
            SUBCOMMANDS.join(", ")
        ),
        _ => Ok(()),
    }
}
