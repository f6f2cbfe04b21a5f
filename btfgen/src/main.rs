//! The `btfgen` command line.

mod cli;

use std::process::ExitCode;

/// mimalloc: the encoder frees on one thread what others allocated (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_huge_pages();
    match cli::run(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(e) => {
            // One line, escaped: it may quote names from the input.
            eprintln!("btfgen: error: {}", btfgen::text::escape(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// Turns transparent huge pages off for this process. The encoder's heap is hash tables
/// and type arrays of some 80 MiB, built once: on the virtual machines measured
/// (docs/benchmarks.md), a huge page the host has to back again, as it must after the
/// machine has idled, cost more in the kernel (about 1.3 s of a 1.5 s run) than
/// its fewer TLB misses saved; small pages cost the same after a pause as back to back.
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integers only and touches no memory of ours; a
    // kernel without it returns an error, and the process runs as before.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
