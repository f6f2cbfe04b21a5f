//! Standard output that tolerates a closed pipe, and output files: atomic for fetch's
//! layout, chosen by [`btfgen::output`] for every `-o`.

use std::path::Path;

use btfgen::output::{Inputs, OutputTarget};

/// Prints `text` on standard output; a reader that stopped early (`| head`) is not
/// an error ([`OutputTarget::Stdout`]).
pub(super) fn print_stdout(text: &str) -> anyhow::Result<()> {
    Ok(OutputTarget::Stdout.write(text.as_bytes())?)
}

/// Writes `bytes` to `path` atomically ([`btfgen::atomic::write_atomic`]).
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(btfgen::atomic::write_atomic(path, bytes)?)
}

/// How to write the `-o` output `path` ([`btfgen::output::prepare`]): refused when it
/// is one of `inputs`. Called before the work, so that a refusal writes nothing.
pub(super) fn prepare<P: AsRef<Path>>(path: &Path, inputs: &[P]) -> anyhow::Result<OutputTarget> {
    Ok(btfgen::output::prepare(path, &Inputs::new(inputs))?)
}
