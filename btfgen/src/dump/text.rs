//! bpftool's raw listing (`bpftool btf dump file F`): one `[id] KIND 'name' ...`
//! line per type, members, enumerators and parameters on tab-indented lines. Names
//! are escaped for a terminal (crate::text): control characters and bytes that are
//! not UTF-8 show as `\xNN`-style escapes, where bpftool prints them raw.

use std::borrow::Cow;
use std::fmt::{self, Write};

use crate::btf::{linkage, Btf, Kind, Type, TypeId, INT_BOOL, INT_CHAR, INT_SIGNED};
use crate::text::{escape, Escaped};

/// Writes the types `ids` (default: this BTF's own types, not its base's).
pub fn dump_text(btf: &Btf, ids: Option<&[TypeId]>, out: &mut impl Write) -> fmt::Result {
    match ids {
        Some(ids) => ids.iter().try_for_each(|&id| dump_one(btf, id, out)),
        None => (btf.start_id()..btf.type_count()).try_for_each(|id| dump_one(btf, id, out)),
    }
}

/// A name as bpftool shows it: `(anon)` for none.
pub(super) fn shown_name(btf: &Btf, off: u32) -> Cow<'_, str> {
    String::from_utf8_lossy(name_bytes(btf, off))
}

/// [`shown_name`] in the listing: escaped, its bytes that are not UTF-8 as `\xNN`.
fn listed_name(btf: &Btf, off: u32) -> Escaped<'_> {
    escape(name_bytes(btf, off))
}

fn name_bytes(btf: &Btf, off: u32) -> &[u8] {
    match off {
        0 => b"(anon)",
        _ => btf.name_bytes(off).unwrap_or(b"(invalid)"),
    }
}

/// bpftool's name for an INT encoding.
pub(super) fn int_encoding(encoding: u8) -> &'static str {
    match encoding {
        0 => "(none)",
        INT_SIGNED => "SIGNED",
        INT_CHAR => "CHAR",
        INT_BOOL => "BOOL",
        _ => "UNKN",
    }
}

/// bpftool's name for a FUNC linkage.
pub(super) fn func_linkage(l: u16) -> &'static str {
    match l {
        linkage::STATIC => "static",
        linkage::GLOBAL => "global",
        linkage::EXTERN => "extern",
        _ => "(unknown)",
    }
}

/// bpftool's name for a VAR linkage.
pub(super) fn var_linkage(l: u32) -> &'static str {
    match l {
        linkage::VAR_STATIC => "static",
        linkage::VAR_GLOBAL_ALLOCATED => "global",
        linkage::VAR_GLOBAL_EXTERN => "extern",
        _ => "(unknown)",
    }
}

fn dump_one(btf: &Btf, id: TypeId, out: &mut impl Write) -> fmt::Result {
    let Some(t) = btf.get(id) else { return Ok(()) };
    write!(
        out,
        "[{id}] {} '{}'",
        t.kind.label(),
        listed_name(btf, t.name)
    )?;
    write_kind(btf, t, out)?;
    out.write_char('\n')
}

fn write_kind(btf: &Btf, t: &Type, out: &mut impl Write) -> fmt::Result {
    match &t.kind {
        Kind::Int(i) => write!(
            out,
            " size={} bits_offset={} nr_bits={} encoding={}",
            i.size,
            i.offset,
            i.bits,
            int_encoding(i.encoding)
        ),
        Kind::Ptr(r)
        | Kind::Const(r)
        | Kind::Volatile(r)
        | Kind::Restrict(r)
        | Kind::Typedef(r)
        | Kind::TypeTag { ty: r, .. } => write!(out, " type_id={r}"),
        Kind::Array(a) => write!(
            out,
            " type_id={} index_type_id={} nr_elems={}",
            a.elem, a.index, a.nelems
        ),
        Kind::Struct(c) | Kind::Union(c) => {
            write!(out, " size={} vlen={}", c.size, c.members.len())?;
            for m in &c.members {
                write!(
                    out,
                    "\n\t'{}' type_id={} bits_offset={}",
                    listed_name(btf, m.name),
                    m.ty,
                    m.bit_offset
                )?;
                if m.bitfield_size != 0 {
                    write!(out, " bitfield_size={}", m.bitfield_size)?;
                }
            }
            Ok(())
        }
        Kind::Enum(e) | Kind::Enum64(e) => {
            let is64 = matches!(t.kind, Kind::Enum64(_));
            let enc = if e.signed { "SIGNED" } else { "UNSIGNED" };
            write!(
                out,
                " encoding={enc} size={} vlen={}",
                e.size,
                e.values.len()
            )?;
            for v in &e.values {
                write!(out, "\n\t'{}' val=", listed_name(btf, v.name))?;
                match (is64, e.signed) {
                    (false, true) => write!(out, "{}", v.value as i32)?,
                    (false, false) => write!(out, "{}", v.value as u32)?,
                    (true, true) => write!(out, "{}LL", v.value)?,
                    (true, false) => write!(out, "{}ULL", v.value as u64)?,
                }
            }
            Ok(())
        }
        Kind::Fwd { union } => {
            write!(out, " fwd_kind={}", if *union { "union" } else { "struct" })
        }
        Kind::Func { proto, linkage } => {
            write!(out, " type_id={proto} linkage={}", func_linkage(*linkage))
        }
        Kind::FuncProto(p) => {
            write!(out, " ret_type_id={} vlen={}", p.ret, p.params.len())?;
            for param in &p.params {
                write!(
                    out,
                    "\n\t'{}' type_id={}",
                    listed_name(btf, param.name),
                    param.ty
                )?;
            }
            Ok(())
        }
        Kind::Var { ty, linkage } => {
            write!(out, " type_id={ty}, linkage={}", var_linkage(*linkage))
        }
        Kind::Datasec(d) => {
            write!(out, " size={} vlen={}", d.size, d.vars.len())?;
            for v in &d.vars {
                write!(
                    out,
                    "\n\ttype_id={} offset={} size={}",
                    v.ty, v.offset, v.size
                )?;
                match btf.get(v.ty) {
                    Some(vt) => write!(
                        out,
                        " ({} '{}')",
                        vt.kind.label(),
                        listed_name(btf, vt.name)
                    )?,
                    // void, which bpftool shows as kind 0.
                    None if v.ty == 0 => out.write_str(" (UNKNOWN '(anon)')")?,
                    None => {}
                }
            }
            Ok(())
        }
        Kind::Float { size } => write!(out, " size={size}"),
        Kind::DeclTag { ty, component } => write!(out, " type_id={ty} component_idx={component}"),
    }
}
