//! The `corepack` command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // Escaped: it may quote a bundle's or an object's strings (line by line:
            // refused relocations are one line each).
            eprintln!(
                "corepack: error: {}",
                btfgen::text::escape_lines(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}
