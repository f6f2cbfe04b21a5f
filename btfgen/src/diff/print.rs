//! The diff as readable text, grouped into removed, added and changed types (and
//! relocations), and as JSON. Each line of the text is escaped for a terminal
//! (crate::text); the JSON carries the names exactly.

use std::fmt::Write as _;

use super::{Change, Changed, Named, RelocDiff, Report};
use crate::json::quote;
use crate::text::write_line;

/// A bit offset or width in bits, with bytes added when it is whole bytes.
fn bits(old: u64, new: u64) -> String {
    if old % 8 == 0 && new % 8 == 0 {
        format!("bit {old} -> {new} (byte {} -> {})", old / 8, new / 8)
    } else {
        format!("bit {old} -> {new}")
    }
}

fn change_line(c: &Change) -> String {
    match c {
        Change::Size { old, new } => format!("size: {old} -> {new} bytes"),
        Change::MemberAdded(f) => format!(
            "added {}: {}, bit {}, {} bits",
            f.path, f.shape, f.bit_offset, f.bits
        ),
        Change::MemberRemoved(f) => format!(
            "removed {}: {}, bit {}, {} bits",
            f.path, f.shape, f.bit_offset, f.bits
        ),
        Change::MemberMoved { path, old, new } => format!("moved {path}: {}", bits(*old, *new)),
        Change::MemberResized { path, old, new } => {
            format!("resized {path}: {old} -> {new} bits")
        }
        Change::MemberRetyped { path, old, new } => format!("retyped {path}: {old} -> {new}"),
        Change::ValueAdded { name, value } => format!("added {name} = {value}"),
        Change::ValueRemoved { name, value } => format!("removed {name} = {value}"),
        Change::ValueChanged { name, old, new } => format!("changed {name}: {old} -> {new}"),
        Change::Retargeted { old, new } => format!("target: {old} -> {new}"),
        Change::Prototype { old, new } => format!("prototype: {old} -> {new}"),
        Change::Encoding { old, new } => format!("encoding: {old} -> {new}"),
    }
}

fn result(r: &Result<u64, String>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("fails ({e})"),
    }
}

/// The report as text: `removed`, `added` and `changed` sections (empty ones
/// left out), then `relocations` when `relocs` is given; nothing when no difference.
pub fn text(report: &Report, relocs: Option<&[RelocDiff]>) -> String {
    let mut s = String::new();
    let mut section = |title: &str, list: &[Named]| {
        if !list.is_empty() {
            let _ = write_line(&mut s, format_args!("{title} ({}):", list.len()));
            for n in list {
                let _ = write_line(&mut s, format_args!("  {} {}", n.kind.label(), n.name));
            }
        }
    };
    section("removed", &report.removed);
    section("added", &report.added);
    if !report.changed.is_empty() {
        let _ = write_line(&mut s, format_args!("changed ({}):", report.changed.len()));
        for c in &report.changed {
            let _ = write_line(&mut s, format_args!("  {} {}", c.kind.label(), c.name));
            for ch in &c.changes {
                let _ = write_line(&mut s, format_args!("    {}", change_line(ch)));
            }
        }
    }
    if let Some(relocs) = relocs {
        let differ = relocs.iter().filter(|r| r.differs()).count();
        let broken = relocs.iter().filter(|r| r.breaks()).count();
        let _ = write_line(
            &mut s,
            format_args!(
                "relocations ({}, {differ} differ, {broken} break):",
                relocs.len()
            ),
        );
        for r in relocs {
            let status = if r.breaks() {
                "BREAKS "
            } else if r.differs() {
                "differs"
            } else {
                "same   "
            };
            let _ = write_line(
                &mut s,
                format_args!(
                    "  {status} {}: prog '{}' relo #{} ({}) {}: {} -> {}",
                    r.object,
                    r.program,
                    r.index,
                    r.kind,
                    r.access,
                    result(&r.old),
                    result(&r.new)
                ),
            );
        }
    }
    s
}

fn named_json(n: &Named) -> String {
    format!(
        "{{\"kind\":{},\"name\":{},\"id\":{}}}",
        quote(n.kind.label()),
        quote(&n.name),
        n.id
    )
}

fn change_json(c: &Change) -> String {
    let pair = |what: &str, key: &str, subject: &str, old: String, new: String| {
        format!(
            "{{\"change\":\"{what}\",\"{key}\":{},\"old\":{old},\"new\":{new}}}",
            quote(subject)
        )
    };
    match c {
        Change::Size { old, new } => format!("{{\"change\":\"size\",\"old\":{old},\"new\":{new}}}"),
        Change::MemberAdded(f) | Change::MemberRemoved(f) => format!(
            "{{\"change\":\"{}\",\"member\":{},\"type\":{},\"bit_offset\":{},\"bits\":{}}}",
            if matches!(c, Change::MemberAdded(_)) {
                "member_added"
            } else {
                "member_removed"
            },
            quote(&f.path),
            quote(&f.shape),
            f.bit_offset,
            f.bits
        ),
        Change::MemberMoved { path, old, new } => pair(
            "member_moved",
            "member",
            path,
            old.to_string(),
            new.to_string(),
        ),
        Change::MemberResized { path, old, new } => pair(
            "member_resized",
            "member",
            path,
            old.to_string(),
            new.to_string(),
        ),
        Change::MemberRetyped { path, old, new } => {
            pair("member_retyped", "member", path, quote(old), quote(new))
        }
        Change::ValueAdded { name, value } | Change::ValueRemoved { name, value } => format!(
            "{{\"change\":\"{}\",\"name\":{},\"value\":{value}}}",
            if matches!(c, Change::ValueAdded { .. }) {
                "value_added"
            } else {
                "value_removed"
            },
            quote(name)
        ),
        Change::ValueChanged { name, old, new } => pair(
            "value_changed",
            "name",
            name,
            old.to_string(),
            new.to_string(),
        ),
        Change::Retargeted { old, new } => format!(
            "{{\"change\":\"retargeted\",\"old\":{},\"new\":{}}}",
            quote(old),
            quote(new)
        ),
        Change::Prototype { old, new } => format!(
            "{{\"change\":\"prototype\",\"old\":{},\"new\":{}}}",
            quote(old),
            quote(new)
        ),
        Change::Encoding { old, new } => format!(
            "{{\"change\":\"encoding\",\"old\":{},\"new\":{}}}",
            quote(old),
            quote(new)
        ),
    }
}

fn changed_json(c: &Changed) -> String {
    let changes: Vec<String> = c.changes.iter().map(change_json).collect();
    format!(
        "{{\"kind\":{},\"name\":{},\"old_id\":{},\"new_id\":{},\"changes\":[{}]}}",
        quote(c.kind.label()),
        quote(&c.name),
        c.old_id,
        c.new_id,
        changes.join(",")
    )
}

fn result_json(r: &Result<u64, String>) -> String {
    match r {
        Ok(v) => format!("{{\"value\":{v}}}"),
        Err(e) => format!("{{\"error\":{}}}", quote(e)),
    }
}

fn reloc_json(r: &RelocDiff) -> String {
    format!(
        "{{\"object\":{},\"section\":{},\"program\":{},\"relo\":{},\"kind\":{},\"access\":{},\
         \"old\":{},\"new\":{},\"differs\":{},\"breaks\":{}}}",
        quote(&r.object),
        quote(&r.section),
        quote(&r.program),
        r.index,
        quote(r.kind),
        quote(&r.access),
        result_json(&r.old),
        result_json(&r.new),
        r.differs(),
        r.breaks()
    )
}

/// The report as one JSON object with `removed`, `added` and `changed` arrays, and
/// `relocations` when `relocs` is given; one array element per line.
pub fn json(report: &Report, relocs: Option<&[RelocDiff]>) -> String {
    fn array(items: Vec<String>) -> String {
        if items.is_empty() {
            "[]".into()
        } else {
            format!("[\n{}\n]", items.join(",\n"))
        }
    }
    let mut s = format!(
        "{{\"removed\":{},\n\"added\":{},\n\"changed\":{}",
        array(report.removed.iter().map(named_json).collect()),
        array(report.added.iter().map(named_json).collect()),
        array(report.changed.iter().map(changed_json).collect())
    );
    if let Some(relocs) = relocs {
        let _ = write!(
            s,
            ",\n\"relocations\":{}",
            array(relocs.iter().map(reloc_json).collect())
        );
    }
    s.push_str("}\n");
    s
}
