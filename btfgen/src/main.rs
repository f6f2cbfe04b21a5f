//! The `btfgen` command line.

mod cli;

use std::process::ExitCode;

/// mimalloc: the encoder frees on one thread what others allocated (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match cli::run(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(e) => {
            // One line, escaped: it may quote names from the input.
            eprintln!("btfgen: error: {}", btfgen::text::escape(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
