//! The `btfgen` command line.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("btfgen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
