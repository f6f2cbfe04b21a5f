//! JSON for programs: an array with one object per type, one per line, holding the
//! fields of bpftool's `-j btf dump file F` (`id`, `kind`, `name`, then per kind).
//! Anonymous names are `"(anon)"`, as in bpftool.

use std::fmt::{self, Write};

use crate::btf::{Btf, Kind, Type, TypeId};

use super::text::{func_linkage, int_encoding, shown_name, var_linkage};

/// Writes the types `ids` (default: this BTF's own types, not its base's).
pub fn dump_json(btf: &Btf, ids: Option<&[TypeId]>, out: &mut impl Write) -> fmt::Result {
    let all: Vec<TypeId>;
    let ids = match ids {
        Some(ids) => ids,
        None => {
            all = (btf.start_id()..btf.type_count()).collect();
            &all
        }
    };
    out.write_char('[')?;
    let mut first = true;
    for &id in ids {
        let Some(t) = btf.get(id) else { continue };
        out.write_str(if first { "\n" } else { ",\n" })?;
        first = false;
        write_type(btf, id, t, out)?;
    }
    out.write_str(if first { "]\n" } else { "\n]\n" })
}

/// Writes `s` as a JSON string.
fn string(out: &mut impl Write, s: &str) -> fmt::Result {
    crate::json::write_string(out, s)
}

/// An object under construction: writes the separators between fields.
struct Obj<'w, W: Write> {
    out: &'w mut W,
    first: bool,
}

impl<'w, W: Write> Obj<'w, W> {
    fn open(out: &'w mut W) -> Result<Self, fmt::Error> {
        out.write_char('{')?;
        Ok(Obj { out, first: true })
    }

    fn key(&mut self, k: &str) -> fmt::Result {
        if !self.first {
            self.out.write_char(',')?;
        }
        self.first = false;
        string(self.out, k)?;
        self.out.write_char(':')
    }

    fn num(&mut self, k: &str, v: impl fmt::Display) -> fmt::Result {
        self.key(k)?;
        write!(self.out, "{v}")
    }

    fn str(&mut self, k: &str, v: &str) -> fmt::Result {
        self.key(k)?;
        string(self.out, v)
    }

    /// Writes `"k":[...]` with one object per item, filled by `f`.
    fn list<T>(
        &mut self,
        k: &str,
        items: &[T],
        mut f: impl FnMut(&mut Obj<'_, W>, &T) -> fmt::Result,
    ) -> fmt::Result {
        self.key(k)?;
        self.out.write_char('[')?;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.write_char(',')?;
            }
            let mut o = Obj::open(&mut *self.out)?;
            f(&mut o, item)?;
            o.close()?;
        }
        self.out.write_char(']')
    }

    fn close(self) -> fmt::Result {
        self.out.write_char('}')
    }
}

fn write_type<W: Write>(btf: &Btf, id: TypeId, t: &Type, out: &mut W) -> fmt::Result {
    let mut o = Obj::open(out)?;
    o.num("id", id)?;
    o.str("kind", t.kind.label())?;
    o.str("name", &shown_name(btf, t.name))?;
    match &t.kind {
        Kind::Int(i) => {
            o.num("size", i.size)?;
            o.num("bits_offset", i.offset)?;
            o.num("nr_bits", i.bits)?;
            o.str("encoding", int_encoding(i.encoding))?;
        }
        Kind::Ptr(r)
        | Kind::Const(r)
        | Kind::Volatile(r)
        | Kind::Restrict(r)
        | Kind::Typedef(r)
        | Kind::TypeTag { ty: r, .. } => o.num("type_id", r)?,
        Kind::Array(a) => {
            o.num("type_id", a.elem)?;
            o.num("index_type_id", a.index)?;
            o.num("nr_elems", a.nelems)?;
        }
        Kind::Struct(c) | Kind::Union(c) => {
            o.num("size", c.size)?;
            o.num("vlen", c.members.len())?;
            o.list("members", &c.members, |m, mem| {
                m.str("name", &shown_name(btf, mem.name))?;
                m.num("type_id", mem.ty)?;
                m.num("bits_offset", mem.bit_offset)?;
                if mem.bitfield_size != 0 {
                    m.num("bitfield_size", mem.bitfield_size)?;
                }
                Ok(())
            })?;
        }
        Kind::Enum(e) | Kind::Enum64(e) => {
            let is64 = matches!(t.kind, Kind::Enum64(_));
            o.str("encoding", if e.signed { "SIGNED" } else { "UNSIGNED" })?;
            o.num("size", e.size)?;
            o.num("vlen", e.values.len())?;
            o.list("values", &e.values, |m, v| {
                m.str("name", &shown_name(btf, v.name))?;
                match (is64, e.signed) {
                    (false, true) => m.num("val", v.value as i32),
                    (false, false) => m.num("val", v.value as u32),
                    (true, true) => m.num("val", v.value),
                    (true, false) => m.num("val", v.value as u64),
                }
            })?;
        }
        Kind::Fwd { union } => o.str("fwd_kind", if *union { "union" } else { "struct" })?,
        Kind::Func { proto, linkage } => {
            o.num("type_id", proto)?;
            o.str("linkage", func_linkage(*linkage))?;
        }
        Kind::FuncProto(p) => {
            o.num("ret_type_id", p.ret)?;
            o.num("vlen", p.params.len())?;
            o.list("params", &p.params, |m, param| {
                m.str("name", &shown_name(btf, param.name))?;
                m.num("type_id", param.ty)
            })?;
        }
        Kind::Var { ty, linkage } => {
            o.num("type_id", ty)?;
            o.str("linkage", var_linkage(*linkage))?;
        }
        Kind::Datasec(d) => {
            o.num("size", d.size)?;
            o.num("vlen", d.vars.len())?;
            o.list("vars", &d.vars, |m, v| {
                m.num("type_id", v.ty)?;
                m.num("offset", v.offset)?;
                m.num("size", v.size)
            })?;
        }
        Kind::Float { size } => o.num("size", size)?,
        Kind::DeclTag { ty, component } => {
            o.num("type_id", ty)?;
            o.num("component_idx", component)?;
        }
    }
    o.close()
}
