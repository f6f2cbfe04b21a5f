//! Function candidates (`DW_TAG_subprogram`) and which of them become FUNC + FUNC_PROTO.
//!
//! Rules (pahole 1.30's with `--btf_features=default`, as docs/encoding.md details):
//! - a candidate is a subprogram that is not a declaration, whose every parameter has a
//!   name, and whose name is the name of an `STT_FUNC` ELF symbol, or the part before
//!   the first `.` of one (`optimized_func`: `foo.isra.0`, `foo.constprop.0`,
//!   `foo.part.0`, `foo.cold` make `foo` a candidate);
//! - no instance may keep one of its first parameters in a register other than the
//!   one the calling convention passes it in (read from `DW_AT_location`, see
//!   [`super::locations`]), unless one of its parameters is a struct passed by value;
//! - all instances with the same name across compilation units must have the same
//!   prototype under pahole's loose comparison (structs, unions, enums and typedefs by
//!   name, `const` ignored) with the first one; when they disagree the function is
//!   left out (`consistent_func`), since a FUNC whose prototype does not match the
//!   code would make fentry programs read the wrong arguments;
//! - the first instance in compilation-unit order is emitted, as `BTF_FUNC_STATIC`.

use hashbrown::{HashMap, HashSet};
use std::fmt::Write;

use super::error::EncodeError;
use super::refs::{DeclInfo, Lookup};
use crate::btf::*;

/// The ELF function symbols subprogram names are looked up in (pahole's
/// `elf_functions`), and the registers parameters are expected in.
pub(crate) struct FuncSymbols<'a> {
    /// Names of `STT_FUNC` symbols.
    names: HashSet<&'a [u8]>,
    /// The part before the first `.` of the `STT_FUNC` names that have one.
    clones: HashSet<&'a [u8]>,
    /// The `DW_OP_regN` opcode of each register-passed parameter, by index.
    pub registers: &'static [u8],
}

impl<'a> FuncSymbols<'a> {
    /// The symbols of a file with these `STT_FUNC` names (`order`: in symbol-table
    /// order), for this machine; clones make their function a candidate only with
    /// `optimized` (pahole's `optimized_func`), and without it only the names
    /// pahole 1.30's lookup finds (see [`pahole_exact_lookup`]).
    pub(crate) fn new(
        names: &HashSet<&'a [u8]>,
        order: &[&'a [u8]],
        arch: object::Architecture,
        optimized: bool,
    ) -> Self {
        let (names, clones) = match optimized {
            true => (
                names.clone(),
                names
                    .iter()
                    .filter_map(|n| Some(&n[..memchr::memchr(b'.', n)?]))
                    .collect(),
            ),
            false => (pahole_exact_lookup(order), HashSet::new()),
        };
        FuncSymbols {
            names,
            clones,
            registers: super::locations::abi_registers(arch),
        }
    }

    /// Whether a subprogram with this name can become a FUNC: a symbol has the name,
    /// or a clone of the function (`name.suffix`) has a symbol.
    pub(crate) fn matches(&self, name: &[u8]) -> bool {
        self.names.contains(name) || self.clones.contains(name)
    }
}

/// The function names pahole 1.30 finds by exact name: it sorts the `STT_FUNC`
/// symbols (a stable sort) with a comparison that holds `foo` and `foo.cold` equal
/// (same length before the first `.`, same bytes there; otherwise whole names), then
/// binary-searches each name by whole-name comparison, which misses `foo` when a
/// probe lands on `foo.cold` and `foo` lies after it. With `optimized_func` its
/// prefix search finds those; without, they are left out.
fn pahole_exact_lookup<'a>(order: &[&'a [u8]]) -> HashSet<&'a [u8]> {
    let prefix = |n: &[u8]| memchr::memchr(b'.', n).unwrap_or(n.len());
    let mut sorted = order.to_vec();
    sorted.sort_by(|a, b| {
        let (pa, pb) = (prefix(a), prefix(b));
        if pa != 0 && pa == pb {
            a[..pa].cmp(&b[..pb])
        } else {
            a.cmp(b)
        }
    });
    let found = |key: &[u8]| {
        // glibc's bsearch.
        let (mut l, mut u) = (0, sorted.len());
        while l < u {
            let idx = (l + u) / 2;
            match key.cmp(sorted[idx]) {
                std::cmp::Ordering::Less => u = idx,
                std::cmp::Ordering::Greater => l = idx + 1,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    };
    order.iter().copied().filter(|n| found(n)).collect()
}

/// A subprogram DIE as found in one compilation unit.
pub(crate) struct FuncRecord<'a> {
    key: u32,
    params: Vec<u32>,
    /// A parameter's location names a register other than the expected one.
    pub(super) unexpected_param: bool,
    /// Some parameter is in an unexpected register, and none is a struct passed by
    /// value (whose registers would shift the others): set by [`FuncRecord::resolve`].
    pub unexpected_reg: bool,
    /// `btf_decl_tag`s: value (fragment string) and parameter index or -1.
    pub tags: Vec<(StrOff, i32)>,
    /// Function name (empty when the DIE and its origins have none).
    pub name: &'a [u8],
    /// Prototype in fragment ids and fragment strings.
    pub proto: FuncProto,
    /// Every parameter has a name.
    pub named: bool,
    /// The loose signature used to compare instances across units.
    pub signature: String,
}

/// Follows `DW_AT_abstract_origin`/`DW_AT_specification` links until `pick` finds a value.
fn chase<'a, T>(
    decls: &HashMap<u32, DeclInfo<'a>>,
    key: u32,
    pick: impl Fn(&DeclInfo<'a>) -> Option<T>,
) -> Option<T> {
    let mut cur = decls.get(&key)?;
    for _ in 0..8 {
        if let Some(v) = pick(cur) {
            return Some(v);
        }
        cur = decls.get(&cur.origin?)?;
    }
    None
}

impl<'a> FuncRecord<'a> {
    /// A record for the subprogram DIE at `key`; parameters are added as they are seen.
    pub(super) fn new(key: u32) -> Self {
        FuncRecord {
            key,
            params: Vec::new(),
            unexpected_param: false,
            unexpected_reg: false,
            tags: Vec::new(),
            name: b"",
            proto: FuncProto {
                ret: 0,
                params: Vec::new(),
            },
            named: true,
            signature: String::new(),
        }
    }

    /// Records a parameter DIE (`vararg` for `DW_TAG_unspecified_parameters`); returns
    /// its index.
    pub(super) fn add_param(&mut self, key: u32, vararg: bool) -> u32 {
        self.params.push(if vararg { 0 } else { key });
        self.params.len() as u32 - 1
    }

    /// Fills in name, prototype and signature once the whole unit has been read;
    /// `false` (and nothing more resolved) when `symbols` has no function of that name
    /// (most subprograms of a kernel unit are inline-only copies of header functions).
    pub(super) fn resolve(
        &mut self,
        decls: &HashMap<u32, DeclInfo<'a>>,
        lookup: &Lookup<'_>,
        frag: &mut Btf,
        symbols: &FuncSymbols<'a>,
    ) -> Result<bool, EncodeError> {
        self.name = chase(decls, self.key, |d| d.name).unwrap_or(b"");
        if !symbols.matches(self.name) {
            return Ok(false);
        }
        let ret = chase(decls, self.key, |d| d.ty).unwrap_or(0);
        self.proto.ret = lookup.resolve(ret)?;
        for &p in &self.params {
            if p == 0 {
                self.proto.params.push(Param { name: 0, ty: 0 });
                continue;
            }
            let name = chase(decls, p, |d| d.name);
            self.named &= name.is_some_and(|n| !n.is_empty());
            let ty = lookup.resolve(chase(decls, p, |d| d.ty).unwrap_or(0))?;
            let name = name.map_or(0, |n| frag.push_bytes(n));
            self.proto.params.push(Param { name, ty });
        }
        if self.named && !self.name.is_empty() {
            self.signature = signature(frag, &self.proto);
        }
        self.unexpected_reg =
            self.unexpected_param && !self.proto.params.iter().any(|p| is_struct(frag, p.ty, 0));
        Ok(true)
    }
}

/// Whether `id` is void, or `const`s on void.
fn const_void(btf: &Btf, id: TypeId, depth: u32) -> bool {
    match btf.get(id).map(|t| &t.kind) {
        None => true,
        Some(Kind::Const(r)) if depth < 32 => const_void(btf, *r, depth + 1),
        _ => false,
    }
}

/// Whether a parameter of this type is a struct passed by value: a struct (or its
/// declaration) behind `const`s and typedefs (pahole's `param__is_struct()`; unions
/// do not count).
fn is_struct(btf: &Btf, id: TypeId, depth: u32) -> bool {
    match btf.get(id).map(|t| &t.kind) {
        Some(Kind::Struct(_) | Kind::Fwd { union: false }) => true,
        Some(Kind::Const(r) | Kind::Typedef(r)) if depth < 32 => is_struct(btf, *r, depth + 1),
        _ => false,
    }
}

/// pahole's loose prototype comparison, as a string: equal strings, consistent protos.
fn signature(btf: &Btf, proto: &FuncProto) -> String {
    let mut s = String::new();
    shape(btf, proto.ret, &mut s, 0);
    s.push('(');
    for p in &proto.params {
        if p.ty == 0 && p.name == 0 {
            s.push_str("...");
        } else {
            shape(btf, p.ty, &mut s, 0);
        }
        s.push(',');
    }
    s.push(')');
    s
}

fn shape(btf: &Btf, id: TypeId, s: &mut String, depth: u32) {
    if depth > 16 {
        s.push('?');
        return;
    }
    let Some(t) = btf.get(id) else {
        s.push_str("void");
        return;
    };
    let name = btf.name(t.name);
    let _ = match &t.kind {
        Kind::Int(i) => write!(s, "int:{}:{}:{name}", i.size, i.encoding),
        Kind::Float { size } => write!(s, "float:{size}:{name}"),
        Kind::Struct(_) | Kind::Fwd { union: false } => write!(s, "struct {name}"),
        Kind::Union(_) | Kind::Fwd { union: true } => write!(s, "union {name}"),
        Kind::Enum(_) => write!(s, "enum {name}"),
        Kind::Enum64(_) => write!(s, "enum64 {name}"),
        Kind::Typedef(_) => write!(s, "typedef {name}"),
        // `const` is skipped where the other side has none, but never in front of
        // `void`: pahole stops at a void on one side (`const void *` and `void *`
        // differ, `const int *` and `int *` do not).
        Kind::Const(r) => {
            if !const_void(btf, *r, depth) {
                return shape(btf, *r, s, depth + 1);
            }
            s.push_str("const ");
            return shape(btf, *r, s, depth + 1);
        }
        Kind::Volatile(r) | Kind::Restrict(r) | Kind::TypeTag { ty: r, .. } => {
            s.push_str(t.kind.label());
            s.push(' ');
            return shape(btf, *r, s, depth + 1);
        }
        Kind::Ptr(r) => {
            s.push('*');
            return shape(btf, *r, s, depth + 1);
        }
        Kind::Array(a) => {
            let _ = write!(s, "[{}]", a.nelems);
            return shape(btf, a.elem, s, depth + 1);
        }
        // pahole 1.30 compares a function pointer's return type and parameter count
        // only (its loop over the parameters compares the return types again).
        Kind::FuncProto(p) => {
            s.push_str("fn ");
            shape(btf, p.ret, s, depth + 1);
            write!(s, "/{}", p.params.len())
        }
        other => write!(s, "{}", other.label()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loose signatures of prototypes over this BTF: int, void *, const void *,
    /// const int *, int *, and function pointers `int (*)(int)`, `int (*)(long)`,
    /// `long (*)(int)`, `int (*)(int, int)`.
    #[test]
    fn loose_prototype_comparison() {
        let mut b = Btf::new();
        let int_name = b.push_bytes(b"int");
        let long_name = b.push_bytes(b"long");
        let int = |b: &mut Btf, name, size| {
            b.add(Type {
                name,
                kind: Kind::Int(Int {
                    size,
                    encoding: 1,
                    offset: 0,
                    bits: (size * 8) as u8,
                }),
            })
        };
        let i = int(&mut b, int_name, 4);
        let l = int(&mut b, long_name, 8);
        let mut add = |kind| b.add(Type { name: 0, kind });
        let void_ptr = add(Kind::Ptr(0));
        let const_void = add(Kind::Const(0));
        let const_void_ptr = add(Kind::Ptr(const_void));
        let const_int = add(Kind::Const(i));
        let const_int_ptr = add(Kind::Ptr(const_int));
        let int_ptr = add(Kind::Ptr(i));
        let fp = |params: &[TypeId], ret| {
            Kind::FuncProto(FuncProto {
                ret,
                params: params.iter().map(|&ty| Param { name: 0, ty }).collect(),
            })
        };
        let f_int = add(fp(&[i], i));
        let f_long = add(fp(&[l], i));
        let f_ret_long = add(fp(&[i], l));
        let f_two = add(fp(&[i, i], i));
        let ptrs: Vec<TypeId> = [f_int, f_long, f_ret_long, f_two]
            .iter()
            .map(|&f| add(Kind::Ptr(f)))
            .collect();
        let sig = |ty| {
            signature(
                &b,
                &FuncProto {
                    ret: i,
                    params: vec![Param { name: 0, ty }],
                },
            )
        };
        // (a, b, same under pahole 1.30's types__match)
        let table = [
            (const_int_ptr, int_ptr, true),
            (const_void_ptr, void_ptr, false),
            (i, const_int, true),
            (i, l, false),
            // function pointers: return type and parameter count only
            (ptrs[0], ptrs[1], true),
            (ptrs[0], ptrs[2], false),
            (ptrs[0], ptrs[3], false),
        ];
        for (n, (x, y, same)) in table.into_iter().enumerate() {
            assert_eq!(sig(x) == sig(y), same, "case {n}: {} vs {}", sig(x), sig(y));
        }
    }

    #[test]
    fn exact_lookup_misses_what_paholes_search_misses() {
        // (symbols in symbol-table order, names found)
        let table: Vec<(&[&str], &[&str])> = vec![
            (&["b", "a", "c"], &["a", "b", "c"]),
            // foo.cold and foo compare equal and keep their order; the first probe
            // (index 1) is foo: found, and foo.cold, searched by its whole name, is
            // greater than foo: missed.
            (&["foo.cold", "foo"], &["foo"]),
            (&["foo", "foo.cold"], &["foo", "foo.cold"]),
            // The first probe lands on foo.cold, foo is less: searched before it.
            (&["a", "foo.cold", "foo"], &["a", "foo.cold"]),
            (&["foo.part.0", "foo.cold", "foo"], &["foo.cold"]),
            (&["x", "x"], &["x", "x"]),
            (&[], &[]),
        ];
        for (order, want) in table {
            let order: Vec<&[u8]> = order.iter().map(|s| s.as_bytes()).collect();
            let want: HashSet<&[u8]> = want.iter().map(|s| s.as_bytes()).collect();
            assert_eq!(pahole_exact_lookup(&order), want, "{order:?}");
        }
    }
}
