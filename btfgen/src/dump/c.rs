//! The C emitter: a compilable header equivalent to
//! `bpftool btf dump file F format c` (libbpf's `btf_dump.c`, v1.1).
//!
//! Definitions come out in the order [`Order`] finds; a struct or union that is
//! needed before its definition gets a forward declaration. Anonymous aggregates and
//! enums are printed inline. Names that repeat within one namespace (struct, union
//! and enum tags; typedefs and enumerators) get `___N` suffixes in order of first
//! use, exactly as libbpf assigns them.
//!
//! A name C cannot declare (not an identifier, e.g. with a control character from a
//! crafted input) is refused with [`DumpError::NotCName`], never printed: the header
//! would not compile, and the name could rewrite a terminal. Type tags are checked the
//! same way, a tag string for printable ASCII without quotes or backslashes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use crate::btf::query::{is_modifier, MAX_NESTING_DEPTH};
use crate::btf::{Btf, Composite, Enum, FuncProto, Kind, Type, TypeId};
use crate::text::is_c_identifier;

use super::layout::Layout;
use super::order::Order;
use super::DumpError;

/// Indentation is capped at this many tabs, as in libbpf.
const MAX_INDENT: usize = 13;

/// Most padding lines (`long: 64;`, ...) one dump writes. A real kernel's vmlinux.h has
/// about 5,000 (Debian 6.1); a struct size or member offset near 2^32 would ask for tens of
/// millions from a few bytes of BTF.
const MAX_PAD_LINES: u32 = 1 << 16;

const HEADER: &str = "#ifndef __VMLINUX_H__\n\
#define __VMLINUX_H__\n\
\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n\
#endif\n\
\n\
#endif /* __VMLINUX_H__ */\n";

/// Writes `btf` as a C header: every type when `roots` is `None`, else the types in
/// `roots` and what they need, each definition once.
pub fn dump_c(btf: &Btf, roots: Option<&[TypeId]>, out: &mut impl Write) -> Result<(), DumpError> {
    out.write_str(HEADER)?;
    let mut d = Emitter::new(btf, out);
    match roots {
        Some(ids) => ids.iter().try_for_each(|&id| d.dump_type(id))?,
        None => (1..btf.type_count()).try_for_each(|id| d.dump_type(id))?,
    }
    out.write_str(FOOTER)?;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Emit {
    NotEmitted,
    Emitting,
    Emitted,
}

/// Which namespace a name is made unique in.
#[derive(Clone, Copy)]
enum Space {
    /// struct, union and enum tags.
    Tags,
    /// Typedef names and enumerators.
    Idents,
}

struct Emitter<'a, W> {
    btf: &'a Btf,
    out: &'a mut W,
    layout: Layout<'a>,
    order: Order,
    queue: Vec<TypeId>,
    emit: Vec<Emit>,
    fwd_emitted: Vec<bool>,
    /// Per type: `None` until its name is resolved, then the suffixed name if any.
    names: Vec<Option<Option<String>>>,
    tag_counts: HashMap<String, usize>,
    ident_counts: HashMap<String, usize>,
    depth: usize,
    /// Padding lines still allowed ([`MAX_PAD_LINES`]).
    pad_lines: u32,
}

fn pfx(lvl: usize) -> &'static str {
    &"\t\t\t\t\t\t\t\t\t\t\t\t\t"[..lvl.min(MAX_INDENT)]
}

impl<'a, W: Write> Emitter<'a, W> {
    fn new(btf: &'a Btf, out: &'a mut W) -> Self {
        let n = btf.type_count() as usize;
        let mut emit = vec![Emit::NotEmitted; n];
        emit[0] = Emit::Emitted;
        Emitter {
            btf,
            out,
            layout: Layout::new(btf),
            order: Order::new(btf),
            queue: Vec::new(),
            emit,
            fwd_emitted: vec![false; n],
            names: vec![None; n],
            tag_counts: HashMap::new(),
            ident_counts: HashMap::new(),
            depth: 0,
            pad_lines: MAX_PAD_LINES,
        }
    }

    /// Emits `id` and every definition it needs that is not out yet.
    fn dump_type(&mut self, id: TypeId) -> Result<(), DumpError> {
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        self.order.order(self.btf, id, &mut queue)?;
        for &q in &queue {
            self.emit_type(q, 0)?;
        }
        self.queue = queue;
        Ok(())
    }

    fn enter(&mut self, id: TypeId) -> Result<(), DumpError> {
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(DumpError::TooDeep(id));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn w(&mut self, s: &str) -> Result<(), DumpError> {
        self.out.write_str(s)?;
        Ok(())
    }

    // ---- names ----

    /// Counts one more use of `name` in `space` and returns the count.
    fn name_dups(&mut self, space: Space, name: &str) -> usize {
        let map = match space {
            Space::Tags => &mut self.tag_counts,
            Space::Idents => &mut self.ident_counts,
        };
        let n = map.entry(name.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// The unique C name of `id` in `space`, assigned on first use.
    fn resolve_name(&mut self, id: TypeId, space: Space) -> Result<Cow<'a, str>, DumpError> {
        let btf = self.btf;
        let Some(t) = btf.get(id) else {
            return Ok(Cow::Borrowed(""));
        };
        if t.name == 0 {
            return Ok(Cow::Borrowed(""));
        }
        let orig = btf.name(t.name);
        let orig = if matches!(t.kind, Kind::Int(_) | Kind::Float { .. }) {
            base_type_name(id, orig)?
        } else {
            c_name(id, "name", orig)?
        };
        let idx = id as usize;
        if let Some(resolved) = &self.names[idx] {
            return Ok(match resolved {
                Some(s) => Cow::Owned(s.clone()),
                None => orig,
            });
        }
        let exempt = match &t.kind {
            Kind::Fwd { .. } => true,
            Kind::Enum(e) => e.values.is_empty(),
            _ => false,
        };
        if exempt {
            self.names[idx] = Some(None);
            return Ok(orig);
        }
        let dups = self.name_dups(space, &orig);
        Ok(if dups > 1 {
            let s = format!("{orig}___{dups}");
            self.names[idx] = Some(Some(s.clone()));
            Cow::Owned(s)
        } else {
            self.names[idx] = Some(None);
            orig
        })
    }

    fn type_name(&mut self, id: TypeId) -> Result<Cow<'a, str>, DumpError> {
        self.resolve_name(id, Space::Tags)
    }

    fn ident_name(&mut self, id: TypeId) -> Result<Cow<'a, str>, DumpError> {
        self.resolve_name(id, Space::Idents)
    }

    /// `__builtin_va_list` is the compiler's own: never redefined.
    fn is_builtin(&self, t: &Type) -> bool {
        t.name != 0 && self.btf.name(t.name) == "__builtin_va_list"
    }

    // ---- top-level emission ----

    /// Emits the definition of `id` (when `cont_id` is 0) or what a reference to it
    /// from inside `cont_id` needs first (forward declarations, inline types' deps).
    fn emit_type(&mut self, id: TypeId, cont_id: TypeId) -> Result<(), DumpError> {
        let idx = id as usize;
        if self.emit.get(idx).is_none_or(|&e| e == Emit::Emitted) {
            return Ok(());
        }
        let btf = self.btf;
        let Some(t) = btf.get(id) else { return Ok(()) };
        let top_level = cont_id == 0;
        if self.emit[idx] == Emit::Emitting {
            if self.fwd_emitted[idx] {
                return Ok(());
            }
            match &t.kind {
                Kind::Struct(_) | Kind::Union(_) => {
                    // A struct referring to itself needs no forward declaration; an
                    // anonymous loop cannot be expressed at all.
                    if id == cont_id || t.name == 0 {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, t)?;
                    self.w(";\n\n")?;
                    self.fwd_emitted[idx] = true;
                }
                Kind::Typedef(_) => {
                    // The typedef serves as a forward declaration for pointer uses.
                    if !self.is_builtin(t) {
                        self.emit_typedef_def(id, t, 0)?;
                        self.w(";\n\n")?;
                    }
                    self.fwd_emitted[idx] = true;
                }
                _ => {}
            }
            return Ok(());
        }
        self.enter(id)?;
        match &t.kind {
            Kind::Int(_) => {
                self.emit_missing_alias(id)?;
                self.emit[idx] = Emit::Emitted;
            }
            Kind::Enum(e) | Kind::Enum64(e) => {
                if top_level {
                    self.emit_enum_def(id, t, e, 0)?;
                    self.w(";\n\n")?;
                }
                self.emit[idx] = Emit::Emitted;
            }
            Kind::Ptr(r)
            | Kind::Volatile(r)
            | Kind::Const(r)
            | Kind::Restrict(r)
            | Kind::TypeTag { ty: r, .. } => self.emit_type(*r, cont_id)?,
            Kind::Array(a) => self.emit_type(a.elem, cont_id)?,
            Kind::Fwd { union } => {
                self.emit_fwd_def(id, *union)?;
                self.w(";\n\n")?;
                self.emit[idx] = Emit::Emitted;
            }
            Kind::Typedef(r) => {
                self.emit[idx] = Emit::Emitting;
                self.emit_type(*r, id)?;
                if !self.fwd_emitted[idx] && !self.is_builtin(t) {
                    self.emit_typedef_def(id, t, 0)?;
                    self.w(";\n\n")?;
                }
                self.emit[idx] = Emit::Emitted;
            }
            Kind::Struct(c) | Kind::Union(c) => {
                self.emit[idx] = Emit::Emitting;
                // Members of a definition printed here (top level or inline) need
                // their forward declarations first.
                if top_level || t.name == 0 {
                    let new_cont = if t.name == 0 { cont_id } else { id };
                    for m in &c.members {
                        self.emit_type(m.ty, new_cont)?;
                    }
                } else if !self.fwd_emitted[idx] && id != cont_id {
                    self.emit_struct_fwd(id, t)?;
                    self.w(";\n\n")?;
                    self.fwd_emitted[idx] = true;
                }
                if top_level {
                    self.emit_struct_def(id, t, c, 0)?;
                    self.w(";\n\n")?;
                    self.emit[idx] = Emit::Emitted;
                } else {
                    self.emit[idx] = Emit::NotEmitted;
                }
            }
            Kind::FuncProto(p) => {
                self.emit_type(p.ret, cont_id)?;
                for param in &p.params {
                    self.emit_type(param.ty, cont_id)?;
                }
            }
            _ => {}
        }
        self.leave();
        Ok(())
    }

    /// GCC's ARM SIMD `__PolyN_t` base types, which clang does not know.
    fn emit_missing_alias(&mut self, id: TypeId) -> Result<(), DumpError> {
        const ALIASES: &[(&str, &str)] = &[
            ("__Poly8_t", "unsigned char"),
            ("__Poly16_t", "unsigned short"),
            ("__Poly64_t", "unsigned long long"),
            ("__Poly128_t", "unsigned __int128"),
        ];
        let name = self.type_name(id)?;
        if let Some((_, base)) = ALIASES.iter().find(|(n, _)| *n == name) {
            write!(self.out, "typedef {base} {name};\n\n")?;
        }
        Ok(())
    }

    // ---- definitions ----

    fn emit_struct_fwd(&mut self, id: TypeId, t: &Type) -> Result<(), DumpError> {
        let kw = if matches!(t.kind, Kind::Struct(_)) {
            "struct"
        } else {
            "union"
        };
        let name = self.type_name(id)?;
        let sep = if t.name != 0 { " " } else { "" };
        write!(self.out, "{kw}{sep}{name}")?;
        Ok(())
    }

    fn emit_struct_def(
        &mut self,
        id: TypeId,
        t: &Type,
        c: &Composite,
        lvl: usize,
    ) -> Result<(), DumpError> {
        let is_struct = matches!(t.kind, Kind::Struct(_));
        let align = self.layout.align_of(id);
        let packed = is_struct && self.layout.is_packed(c);
        self.emit_struct_fwd(id, t)?;
        self.w(" {")?;
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in &c.members {
            let fname = c_name(id, "member", self.btf.name(m.name))?;
            let m_off = m.bit_offset as i64;
            let bits = m.bitfield_size as i64;
            let m_align = if packed {
                1
            } else {
                self.layout.align_of(m.ty)
            };
            let in_bitfield = prev_bitfield && bits != 0;
            self.emit_bit_padding(id, off, m_off, m_align, in_bitfield, lvl + 1)?;
            write!(self.out, "\n{}", pfx(lvl + 1))?;
            self.emit_type_decl(m.ty, &fname, lvl + 1)?;
            if bits != 0 {
                write!(self.out, ": {bits}")?;
                off = m_off + bits;
                prev_bitfield = true;
            } else {
                let size = self.layout.size_of(m.ty).unwrap_or(0).max(0);
                off = m_off + size * 8;
                prev_bitfield = false;
            }
            self.w(";")?;
        }
        if is_struct {
            self.emit_bit_padding(id, off, c.size as i64 * 8, align, false, lvl + 1)?;
        }
        // `struct empty {}` stays on one line.
        if !c.members.is_empty() || c.size != 0 {
            write!(self.out, "\n{}}}", pfx(lvl))?;
        } else {
            self.w("}")?;
        }
        if packed {
            self.w(" __attribute__((packed))")?;
        }
        Ok(())
    }

    /// Fills the gap between bit offsets `cur` and `next` with anonymous bitfields,
    /// relying on natural alignment where the compiler would pad the same way.
    fn emit_bit_padding(
        &mut self,
        id: TypeId,
        mut cur: i64,
        next: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<(), DumpError> {
        let pads = [
            ("long", self.layout.ptr_size() * 8),
            ("int", 32),
            ("short", 16),
            ("char", 8),
        ];
        fn roundup(x: i64, y: i64) -> i64 {
            if y <= 0 {
                x
            } else {
                (x + y - 1) / y * y
            }
        }
        if cur >= next {
            return Ok(());
        }
        let (mut pad_type, mut pad_bits, mut new_off) = ("char", 8, cur);
        for (name, bits) in pads {
            pad_type = name;
            pad_bits = bits;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            // An explicit `<type>: 0` mark when the compiler would not align to
            // new_off by itself, or would fit the next `<type>: N` into the hole.
            if in_bitfield
                || (new_off == next && roundup(cur, next_align * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                let n = if in_bitfield { new_off - cur } else { 0 };
                write!(self.out, "\n{}{pad_type}: {n};", pfx(lvl))?;
            }
            cur = new_off;
        }
        while cur != next {
            self.pad_lines = self
                .pad_lines
                .checked_sub(1)
                .ok_or(DumpError::TooMuchPadding(id))?;
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                write!(self.out, "\n{}{pad_type}: {pad_bits};", pfx(lvl))?;
                cur += bits;
                continue;
            }
            // The remainder: the smallest type that holds it.
            let Some(&(name, size)) = pads.iter().rev().find(|(_, b)| *b >= bits) else {
                break;
            };
            pad_type = name;
            pad_bits = size;
            write!(self.out, "\n{}{pad_type}: {bits};", pfx(lvl))?;
            cur += bits;
        }
        Ok(())
    }

    fn emit_enum_def(
        &mut self,
        id: TypeId,
        t: &Type,
        e: &Enum,
        lvl: usize,
    ) -> Result<(), DumpError> {
        let is64 = matches!(t.kind, Kind::Enum64(_));
        let name = self.type_name(id)?;
        let sep = if t.name != 0 { " " } else { "" };
        write!(self.out, "enum{sep}{name}")?;
        if e.values.is_empty() {
            return Ok(());
        }
        self.w(" {")?;
        for v in &e.values {
            let vname = c_name(id, "enumerator", self.btf.name(v.name))?;
            // Enumerators share the namespace of typedef names.
            let dups = self.name_dups(Space::Idents, &vname);
            let suffix = if dups > 1 {
                format!("___{dups}")
            } else {
                String::new()
            };
            write!(self.out, "\n{}{vname}{suffix} = ", pfx(lvl + 1))?;
            match (is64, e.signed) {
                (false, true) => write!(self.out, "{},", v.value as i32)?,
                (false, false) => write!(self.out, "{},", v.value as u32)?,
                (true, true) => write!(self.out, "{}LL,", v.value)?,
                (true, false) => write!(self.out, "{}ULL,", v.value as u64)?,
            }
        }
        write!(self.out, "\n{}}}", pfx(lvl))?;
        if e.size == 1 {
            self.w(" __attribute__((mode(byte)))")?;
        } else if e.size == 8 && self.layout.ptr_size() == 8 {
            // An 8-byte enum whose values all fit in 32 bits needs mode(word).
            let fits_32 = !is64 || e.values.iter().all(|v| (v.value as u64) >> 32 == 0);
            if fits_32 {
                self.w(" __attribute__((mode(word)))")?;
            }
        }
        Ok(())
    }

    fn emit_fwd_def(&mut self, id: TypeId, union: bool) -> Result<(), DumpError> {
        let name = self.type_name(id)?;
        let kw = if union { "union" } else { "struct" };
        write!(self.out, "{kw} {name}")?;
        Ok(())
    }

    fn emit_typedef_def(&mut self, id: TypeId, t: &Type, lvl: usize) -> Result<(), DumpError> {
        let name = self.ident_name(id)?;
        let target = t.kind.referenced().unwrap_or(0);
        // Old GCC emits `__gnuc_va_list` as a typedef of void.
        if target == 0 && name == "__gnuc_va_list" {
            self.w("typedef __builtin_va_list __gnuc_va_list")?;
            return Ok(());
        }
        self.w("typedef ")?;
        self.emit_type_decl(target, &name, lvl)
    }

    // ---- declarations ----

    /// Declares `fname` of type `id` in C syntax: modifiers, pointers, arrays and
    /// function prototypes in the right places, anonymous types inline.
    fn emit_type_decl(&mut self, mut id: TypeId, fname: &str, lvl: usize) -> Result<(), DumpError> {
        self.enter(id)?;
        let btf = self.btf;
        let mut stack = Vec::new();
        loop {
            stack.push(id);
            if stack.len() > btf.type_count() as usize {
                return Err(DumpError::TooDeep(id));
            }
            let Some(t) = btf.get(id) else { break };
            match &t.kind {
                Kind::Ptr(r)
                | Kind::Volatile(r)
                | Kind::Const(r)
                | Kind::Restrict(r)
                | Kind::TypeTag { ty: r, .. } => id = *r,
                Kind::FuncProto(p) => id = p.ret,
                Kind::Array(a) => id = a.elem,
                _ => break,
            }
        }
        self.emit_type_chain(&mut stack, fname, lvl)?;
        self.leave();
        Ok(())
    }

    /// Prints `const `/`volatile `/`restrict ` for the modifiers on top of `decls`.
    fn emit_mods(&mut self, decls: &mut Vec<TypeId>) -> Result<(), DumpError> {
        while let Some(t) = decls.last().and_then(|&id| self.btf.get(id)) {
            let s = match t.kind {
                Kind::Volatile(_) => "volatile ",
                Kind::Const(_) => "const ",
                Kind::Restrict(_) => "restrict ",
                _ => break,
            };
            self.w(s)?;
            decls.pop();
        }
        Ok(())
    }

    /// Drops modifiers that C cannot attach where BTF has them (on arrays, on
    /// functions).
    fn drop_mods(&self, decls: &mut Vec<TypeId>) {
        while decls
            .last()
            .and_then(|&id| self.btf.get(id))
            .is_some_and(|t| is_modifier(&t.kind))
        {
            decls.pop();
        }
    }

    fn emit_name(&mut self, name: &str, last_was_ptr: bool) -> Result<(), DumpError> {
        if !name.is_empty() && !last_was_ptr {
            self.w(" ")?;
        }
        self.w(name)
    }

    fn emit_type_chain(
        &mut self,
        decls: &mut Vec<TypeId>,
        fname: &str,
        lvl: usize,
    ) -> Result<(), DumpError> {
        let btf = self.btf;
        // Starts true so that a lone pointer inside a prototype prints as `(*name)`.
        let mut last_was_ptr = true;
        while let Some(id) = decls.pop() {
            let Some(t) = btf.get(id) else {
                self.emit_mods(decls)?;
                self.w("void")?;
                last_was_ptr = false;
                continue;
            };
            match &t.kind {
                Kind::Int(_) | Kind::Float { .. } => {
                    self.emit_mods(decls)?;
                    let name = base_type_name(id, btf.name(t.name))?;
                    self.w(&name)?;
                }
                Kind::Struct(c) | Kind::Union(c) => {
                    self.emit_mods(decls)?;
                    if t.name == 0 {
                        self.emit_struct_def(id, t, c, lvl)?;
                    } else {
                        self.emit_struct_fwd(id, t)?;
                    }
                }
                Kind::Enum(e) | Kind::Enum64(e) => {
                    self.emit_mods(decls)?;
                    if t.name == 0 {
                        self.emit_enum_def(id, t, e, lvl)?;
                    } else {
                        let name = self.type_name(id)?;
                        write!(self.out, "enum {name}")?;
                    }
                }
                Kind::Fwd { union } => {
                    self.emit_mods(decls)?;
                    self.emit_fwd_def(id, *union)?;
                }
                Kind::Typedef(_) => {
                    self.emit_mods(decls)?;
                    let name = self.ident_name(id)?;
                    self.w(&name)?;
                }
                Kind::Ptr(_) => self.w(if last_was_ptr { "*" } else { " *" })?,
                Kind::Volatile(_) => self.w(" volatile")?,
                Kind::Const(_) => self.w(" const")?,
                Kind::Restrict(_) => self.w(" restrict")?,
                Kind::TypeTag { attr, .. } => {
                    self.emit_mods(decls)?;
                    let name = btf.name(t.name);
                    if *attr {
                        if !is_attribute(&name) {
                            return Err(not_c_name(id, "attribute", &name));
                        }
                        write!(self.out, " __attribute__(({name}))")?;
                    } else {
                        if !is_tag_string(&name) {
                            return Err(not_c_name(id, "type tag", &name));
                        }
                        write!(self.out, " __attribute__((btf_type_tag(\"{name}\")))")?;
                    }
                }
                Kind::Array(a) => {
                    // GCC puts the element's qualifiers on the array too: drop them.
                    self.drop_mods(decls);
                    let Some(&next) = decls.last() else {
                        self.emit_name(fname, last_was_ptr)?;
                        write!(self.out, "[{}]", a.nelems)?;
                        return Ok(());
                    };
                    let multidim = matches!(btf.get(next).map(|t| &t.kind), Some(Kind::Array(_)));
                    if !fname.is_empty() && !last_was_ptr {
                        self.w(" ")?;
                    }
                    if !multidim {
                        self.w("(")?;
                    }
                    self.emit_type_chain(decls, fname, lvl)?;
                    if !multidim {
                        self.w(")")?;
                    }
                    write!(self.out, "[{}]", a.nelems)?;
                    return Ok(());
                }
                Kind::FuncProto(p) => {
                    return self.emit_func_proto(id, p, decls, fname, last_was_ptr, lvl);
                }
                // Not part of a declaration chain (FUNC, VAR, DATASEC, DECL_TAG).
                _ => return Ok(()),
            }
            last_was_ptr = matches!(t.kind, Kind::Ptr(_));
        }
        self.emit_name(fname, last_was_ptr)
    }

    fn emit_func_proto(
        &mut self,
        p_id: TypeId,
        p: &FuncProto,
        decls: &mut Vec<TypeId>,
        fname: &str,
        last_was_ptr: bool,
        lvl: usize,
    ) -> Result<(), DumpError> {
        // GCC marks noreturn function pointers volatile: drop such qualifiers.
        self.drop_mods(decls);
        if decls.is_empty() {
            self.emit_name(fname, last_was_ptr)?;
        } else {
            self.w(" (")?;
            self.emit_type_chain(decls, fname, lvl)?;
            self.w(")")?;
        }
        self.w("(")?;
        // No parameters, or clang's single void one: `(void)`.
        if p.params.is_empty() || (p.params.len() == 1 && p.params[0].ty == 0) {
            return self.w("void)");
        }
        let last = p.params.len().saturating_sub(1);
        for (i, param) in p.params.iter().enumerate() {
            if i > 0 {
                self.w(", ")?;
            }
            if i == last && param.ty == 0 {
                self.w("...")?;
                break;
            }
            let name = c_name(p_id, "parameter", self.btf.name(param.name))?;
            self.emit_type_decl(param.ty, &name, lvl)?;
        }
        self.w(")")
    }
}

/// `name` (of type `id`; `what` says which of its names) when C can declare it: a C
/// identifier, or empty (anonymous).
fn c_name<'n>(
    id: TypeId,
    what: &'static str,
    name: Cow<'n, str>,
) -> Result<Cow<'n, str>, DumpError> {
    if name.is_empty() || is_c_identifier(&name) {
        Ok(name)
    } else {
        Err(not_c_name(id, what, &name))
    }
}

/// The name of INT or FLOAT type `id` when C can print it: identifiers separated by
/// spaces (`long unsigned int`).
fn base_type_name(id: TypeId, name: Cow<'_, str>) -> Result<Cow<'_, str>, DumpError> {
    if name.split(' ').all(is_c_identifier) {
        Ok(name)
    } else {
        Err(not_c_name(id, "name", &name))
    }
}

fn not_c_name(id: TypeId, what: &'static str, name: &str) -> DumpError {
    DumpError::NotCName {
        id,
        what,
        name: name.to_owned(),
    }
}

/// A `btf_type_tag("...")` string: printable ASCII without `"` or `\`.
fn is_tag_string(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// An attribute tag (`__attribute__((...))`): identifiers, digits, spaces and commas,
/// with balanced parentheses, so that it cannot end the attribute.
fn is_attribute(s: &str) -> bool {
    let mut depth = 0usize;
    for b in s.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            b if b.is_ascii_alphanumeric() || b"_ ,".contains(&b) => {}
            _ => return false,
        }
    }
    depth == 0 && is_c_identifier(s.split(['(', ' ']).next().unwrap_or(""))
}
