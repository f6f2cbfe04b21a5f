//! What a Rust-built binary or library links, from its symbol table.

use std::path::Path;

/// What of gimli, reqwest and btfgen's DWARF encoder a binary links, from its symbols:
/// the workspace's crates in legacy mangling (`_ZN5gimli`, `_ZN7reqwest`), std's in v0
/// (`Cs<hash>_5gimli`). std links its own copy of gimli for backtraces: the crate hashes
/// of gimli that std's symbolizer (addr2line, backtrace_rs) uses are not counted.
/// `expected` is a fragment of mangled names the binary must have, to show its symbol
/// table is there (`3aya` for corepack).
pub fn linked_forbidden(bin: &Path, expected: &str) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(bin).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let names: Vec<String> = file
        .symbols()
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    assert!(
        names.iter().any(|n| n.contains(expected)),
        "{} has no symbols with {expected:?} to check (stripped?)",
        bin.display()
    );
    // "Cs<hash>_5gimli": the crate root of one gimli build.
    let gimli_hashes = |n: &str| -> Vec<String> {
        n.match_indices("_5gimli")
            .filter_map(|(at, _)| {
                let start = n[..at].rfind("Cs")?;
                Some(n[start..at].to_string())
            })
            .collect()
    };
    let std_gimli: std::collections::BTreeSet<String> = names
        .iter()
        .filter(|n| n.contains("9addr2line") || n.contains("12backtrace_rs"))
        .flat_map(|n| gimli_hashes(n))
        .collect();
    names
        .into_iter()
        .filter(|n| {
            n.contains("7reqwest")
                || n.contains("6btfgen5dwarf")
                || n.starts_with("_ZN5gimli")
                || gimli_hashes(n).iter().any(|h| !std_gimli.contains(h))
        })
        .collect()
}
