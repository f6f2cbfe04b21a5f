//! `corepack inspect`: kernels, distros, sizes and dedup ratio of a bundle. The text
//! shows the bundle's strings escaped (btfgen::text); `--json` carries them exactly.

use std::collections::BTreeMap;

use btfgen::json::quote as json_str;
use btfgen::text::escape;
use corepack::notes::to_hex;
use corepack::Bundle;

/// A build-id as a JSON string of hex, or `null` when unknown (empty).
pub(super) fn build_id_json(id: &[u8]) -> String {
    if id.is_empty() {
        "null".into()
    } else {
        format!("\"{}\"", to_hex(id))
    }
}

/// Prints what the bundle holds, as text or one JSON object.
pub(super) fn inspect(bytes: &[u8], json: bool) -> anyhow::Result<()> {
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
                let digest: String = x.digest.iter().map(|v| format!("{v:02x}")).collect();
                format!("{{\"name\":{},\"digest\":\"{digest}\"}}", json_str(&x.name))
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
                    "{{\"arch\":{},\"uname\":{},\"id\":{},\"version_id\":{},\"build_id\":{},\"blob\":{},\"raw_bytes\":{},\"stored_bytes\":{},\"codec\":\"{}\"}}",
                    json_str(&e.kernel.arch),
                    json_str(&e.kernel.uname),
                    json_str(&e.kernel.os_id),
                    json_str(&e.kernel.version_id),
                    build_id_json(&e.build_id),
                    e.blob,
                    bl.raw_len,
                    bl.stored_len,
                    bl.codec.name()
                )
            })
            .collect();
        o.push_str(&ents.join(","));
        o.push_str("]}");
        println!("{o}");
        return Ok(());
    }
    // The bundle's strings are escaped for a terminal; --json carries them exactly.
    println!(
        "program   {} {}",
        escape(&b.program),
        escape(&b.program_version)
    );
    for x in b.objects() {
        let digest: String = x.digest.iter().map(|v| format!("{v:02x}")).collect();
        println!("object    {} sha256:{digest}…", escape(&x.name));
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
        println!(
            "distro    {} {} {}: {n} kernels",
            escape(id),
            escape(v),
            escape(arch)
        );
    }
    for e in b.entries() {
        let bl = &b.blobs()[e.blob as usize];
        println!(
            "kernel    {} {} {} {}{} blob {} ({} bytes, {} stored as {})",
            escape(&e.kernel.os_id),
            escape(&e.kernel.version_id),
            escape(&e.kernel.arch),
            escape(&e.kernel.uname),
            if e.build_id.is_empty() {
                String::new()
            } else {
                format!(" build-id {}", to_hex(&e.build_id))
            },
            e.blob,
            bl.raw_len,
            bl.stored_len,
            bl.codec.name()
        );
    }
    Ok(())
}
