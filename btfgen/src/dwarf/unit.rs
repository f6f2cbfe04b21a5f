//! Converts the DIEs of one compilation unit (or of a group of units that refer to each
//! other) into a BTF fragment, plus the function and variable candidates it declares.
//!
//! The walk is a single pass over the raw DIE stream: attributes of DIEs that cannot
//! become BTF are skipped without decoding. While walking, type references are kept as
//! DIE offsets ("keys"); [`Converter::finish`] maps them to fragment type ids once every
//! DIE of the group has been seen.

use hashbrown::{HashMap, HashSet};

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian};

use super::die::{Abbrevs, Cursor};
use super::funcs::FuncRecord;
use super::vars::VarRecord;
use super::{EncodeError, Options};
use crate::btf::*;

pub(crate) type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// `DW_TAG_LLVM_annotation`: clang's carrier for `btf_type_tag` and `btf_decl_tag`.
const DW_TAG_LLVM_ANNOTATION: gimli::DwTag = gimli::DwTag(0x6000);

/// Key of the synthesized array index type (`int`).
const INDEX_INT_KEY: u32 = u32::MAX;

thread_local! {
    /// The dense DIE-offset → type-id table of [`Converter::finish`], kept by each
    /// thread between units and all zero between uses: a unit needs four table bytes
    /// per byte of DIEs, which allocating and zeroing anew for each unit made 4% of
    /// the encoder's instructions.
    static DENSE: std::cell::RefCell<Vec<TypeId>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The result of converting one group of units.
pub(crate) struct Converted<'a> {
    /// Types of the group; ids are fragment-local.
    pub frag: Btf,
    /// Function candidates, with fragment-local type ids.
    pub funcs: Vec<FuncRecord<'a>>,
    /// Per-CPU variable candidates, with fragment-local type ids.
    pub vars: Vec<VarRecord<'a>>,
    /// Fragment names read from `.debug_str` or `.debug_line_str`, with a key naming
    /// that place: equal keys are equal strings in every fragment of the file (see
    /// [`name_key`]). The fragment's string table is not deduplicated.
    pub name_keys: Vec<(StrOff, u64)>,
}

/// What a DIE under construction collects from its children.
#[derive(Clone, Copy)]
enum Ctx {
    Unit,
    Composite(usize),
    Member(usize, u32),
    Enum(usize),
    Array(usize),
    Proto(usize),
    Pointer(usize),
    Typedef(usize),
    Func(usize),
    FuncParam(usize, u32),
    Var(usize),
    Other,
}

/// The attributes the converter uses, decoded from one DIE.
#[derive(Default)]
struct Die<'a> {
    name: Option<&'a [u8]>,
    name_key: Option<u64>,
    ty: Option<u32>,
    byte_size: Option<u64>,
    bit_size: Option<u64>,
    bit_offset: Option<i64>,
    data_bit_offset: Option<u64>,
    member_location: Option<AttributeValue<R<'a>>>,
    encoding: Option<u8>,
    upper_bound: Option<AttributeValue<R<'a>>>,
    count: Option<AttributeValue<R<'a>>>,
    const_value: Option<AttributeValue<R<'a>>>,
    location: Option<AttributeValue<R<'a>>>,
    declaration: bool,
    external: bool,
    origin: Option<u32>,
    language: Option<u16>,
}

/// Name, type and linkage of a subprogram, parameter or variable DIE, for DIEs that
/// inherit them through `DW_AT_abstract_origin` or `DW_AT_specification`.
#[derive(Clone, Copy, Default)]
pub(crate) struct DeclInfo<'a> {
    pub name: Option<&'a [u8]>,
    pub ty: Option<u32>,
    pub external: bool,
    pub origin: Option<u32>,
}

/// A DWARF 2–4 bitfield whose bit offset needs the size of its storage type.
struct PendingBitfield {
    composite: usize,
    member: usize,
    byte_offset: u64,
    dw_bit_offset: i64,
    storage_bytes: Option<u64>,
}

/// Converts a group of units into one fragment.
pub(crate) struct Converter<'a, 'o> {
    dwarf: &'o gimli::Dwarf<R<'a>>,
    opts: &'o Options,
    big_endian: bool,
    /// Names of `STT_FUNC` symbols: only these can become FUNCs.
    functions: &'o HashSet<&'a [u8]>,
    frag: Btf,
    keys: Vec<(u32, TypeId)>,
    type_keys: Vec<u32>,
    /// Type indices in output order.
    order: Vec<u32>,
    /// The DIE being converted, when it has children.
    open_key: u32,
    /// Its type, ordered when the DIE closes.
    open: Option<u32>,
    aliases: Vec<(u32, u32)>,
    decls: HashMap<u32, DeclInfo<'a>>,
    enum64_base: Vec<(usize, u32)>,
    bitfields: Vec<PendingBitfield>,
    /// Members of the open structs and unions, innermost last.
    members: Vec<Member>,
    /// Open structs and unions with children: type index, and where their members
    /// start in `members`.
    open_composites: Vec<(usize, usize)>,
    funcs: Vec<FuncRecord<'a>>,
    vars: Vec<VarRecord<'a>>,
    name_keys: Vec<(StrOff, u64)>,
    ranges: Vec<(u32, u32)>,
    index_int: Option<TypeId>,
}

impl<'a, 'o> Converter<'a, 'o> {
    pub fn new(
        dwarf: &'o gimli::Dwarf<R<'a>>,
        opts: &'o Options,
        big_endian: bool,
        functions: &'o HashSet<&'a [u8]>,
    ) -> Self {
        Converter {
            dwarf,
            opts,
            big_endian,
            functions,
            frag: Btf::new(),
            keys: Vec::new(),
            type_keys: Vec::new(),
            order: Vec::new(),
            open_key: 0,
            open: None,
            aliases: Vec::new(),
            decls: HashMap::new(),
            enum64_base: Vec::new(),
            bitfields: Vec::new(),
            members: Vec::new(),
            open_composites: Vec::new(),
            funcs: Vec::new(),
            vars: Vec::new(),
            name_keys: Vec::new(),
            ranges: Vec::new(),
            index_int: None,
        }
    }

    /// Adds a type made from the DIE at `key` (0: a type no DIE stands for).
    ///
    /// The type of a DIE with children takes its place in [`Converter::order`] only
    /// when its subtree ends, so nested types come first, as in pahole.
    fn push(&mut self, key: u32, t: Type) -> usize {
        let id = self.frag.add(t);
        let idx = id as usize - 1;
        if key != 0 {
            self.keys.push((key, id));
        }
        self.type_keys.push(key);
        if key != 0 && key == self.open_key {
            self.open = Some(idx as u32);
        } else {
            self.order.push(idx as u32);
        }
        idx
    }

    fn ty_mut(&mut self, idx: usize) -> &mut Kind {
        &mut self.frag.types_mut()[idx].kind
    }

    /// Appends the DIE's name to the fragment's string table (duplicates are left to
    /// the dedup, which looks names up by their key).
    fn name(&mut self, die: &Die<'a>) -> StrOff {
        let Some(n) = die.name else { return 0 };
        let off = self.frag.push_bytes(n);
        if let (Some(key), true) = (die.name_key, off != 0) {
            self.name_keys.push((off, key));
        }
        off
    }

    /// Walks every DIE of `header`'s unit.
    pub fn add_unit(&mut self, header: gimli::UnitHeader<R<'a>>) -> Result<(), EncodeError> {
        let unit = self.dwarf.unit(header)?;
        let base = unit_base(&unit);
        let end = base + header_len(&unit);
        let to_u32 = |v: u64| u32::try_from(v).map_err(|_| EncodeError::TooLarge);
        self.ranges.push((to_u32(base)?, to_u32(end)?));
        // Sized from what a vmlinux averages per byte of unit: about one type per 48
        // bytes, a name per 100 (names are pushed, not looked up: see `name`).
        let len = (end - base) as usize;
        self.frag.types_mut().reserve(len / 56);
        self.type_keys.reserve(len / 56);
        self.keys.reserve(len / 56);
        self.frag.strings_mut().reserve(0, len / 8);
        self.decls.reserve(len / 128);
        // Open DIEs: depth, what their children report to, and their own type, which
        // is ordered when the DIE closes.
        let mut stack: Vec<(isize, Ctx, Option<u32>)> = Vec::new();
        let mut abbrevs = Abbrevs::new(&unit.abbreviations, unit.encoding(), used_attr);
        let mut cursor = Cursor::new(&unit)?;
        let mut next_depth: isize = 0;
        while !cursor.is_empty() {
            let depth = next_depth;
            let offset = to_u32(base + cursor.offset() as u64)?;
            let code = cursor.code()?;
            if code == 0 {
                next_depth -= 1;
                continue;
            }
            let abbrev = abbrevs.get(code)?;
            if abbrev.children {
                next_depth += 1;
            }
            while stack.last().is_some_and(|&(d, _, _)| d >= depth) {
                self.close(stack.pop());
            }
            let parent = match stack.last() {
                Some(&(d, ctx, _)) if d == depth - 1 => ctx,
                _ => Ctx::Other,
            };
            let tag = abbrev.tag;
            if !self.wanted(tag, parent, depth) {
                cursor.skip(abbrev)?;
                if abbrev.children {
                    stack.push((depth, Ctx::Other, None));
                }
                continue;
            }
            let mut die = Die::default();
            // decl_file/line/column, sibling, ...: skipped without decoding.
            cursor.read(abbrev, |name, value| {
                self.read_attr(&unit, base, &mut die, name, value)
            })?;
            self.open_key = if abbrev.children { offset } else { 0 };
            let ctx = self.convert(&unit, tag, parent, offset, &die)?;
            self.open_key = 0;
            if ctx.is_none() && depth == 0 {
                // A unit we do not encode (Rust, or a skeleton of split DWARF).
                return Ok(());
            }
            if abbrev.children {
                stack.push((depth, ctx.unwrap_or(Ctx::Other), self.open.take()));
            }
        }
        while let Some(entry) = stack.pop() {
            self.close(Some(entry));
        }
        Ok(())
    }

    /// Orders the type of a DIE whose children have all been read.
    fn close(&mut self, entry: Option<(isize, Ctx, Option<u32>)>) {
        let Some((_, ctx, order)) = entry else { return };
        if let Ctx::Composite(idx) = ctx {
            self.close_composite(idx);
        }
        if let Some(idx) = order {
            self.order.push(idx);
        }
    }

    /// Moves the members of the struct or union at `idx`, collected in `members`, into
    /// it: one allocation of the exact size instead of regrowing its vector member by
    /// member. (Kept out of line: the walk's loop is faster without it.)
    #[inline(never)]
    fn close_composite(&mut self, idx: usize) {
        let Some(&(open, start)) = self.open_composites.last() else {
            return;
        };
        if open != idx {
            return;
        }
        self.open_composites.pop();
        let members = self.members[start..].to_vec();
        self.members.truncate(start);
        if let Kind::Struct(c) | Kind::Union(c) = self.ty_mut(idx) {
            c.members = members;
        }
    }

    /// Puts the fragment's types in pahole's order (see [`Converter::push`]) and
    /// renumbers everything that holds a type index or id.
    fn reorder(&mut self) {
        let n = self.frag.types().len();
        let mut pos = vec![u32::MAX; n];
        for (new, &old) in self.order.iter().enumerate() {
            pos[old as usize] = new as u32;
        }
        if pos.iter().enumerate().all(|(i, &p)| p == i as u32) {
            return;
        }
        let mut slots: Vec<Option<Type>> = self.frag.types_mut().drain(..).map(Some).collect();
        let types = self.frag.types_mut();
        for &old in &self.order {
            if let Some(t) = slots[old as usize].take() {
                types.push(t);
            }
        }
        let id = |old: TypeId| pos[old as usize - 1] + 1;
        for k in &mut self.keys {
            k.1 = id(k.1);
        }
        if let Some(i) = &mut self.index_int {
            *i = id(*i);
        }
        for e in &mut self.enum64_base {
            e.0 = pos[e.0] as usize;
        }
        for b in &mut self.bitfields {
            b.composite = pos[b.composite] as usize;
        }
    }

    /// Whether a DIE with this tag, under this parent, can contribute to the output.
    fn wanted(&self, tag: gimli::DwTag, parent: Ctx, depth: isize) -> bool {
        match tag {
            dw::DW_TAG_member => matches!(parent, Ctx::Composite(_)),
            dw::DW_TAG_enumerator => matches!(parent, Ctx::Enum(_)),
            dw::DW_TAG_subrange_type => matches!(parent, Ctx::Array(_)),
            dw::DW_TAG_formal_parameter | dw::DW_TAG_unspecified_parameters => {
                matches!(parent, Ctx::Proto(_) | Ctx::Func(_))
            }
            dw::DW_TAG_variable => depth == 1 && self.opts.vars,
            DW_TAG_LLVM_ANNOTATION => !matches!(parent, Ctx::Other | Ctx::Unit),
            dw::DW_TAG_subprogram => self.opts.funcs,
            dw::DW_TAG_lexical_block
            | dw::DW_TAG_inlined_subroutine
            | dw::DW_TAG_call_site
            | dw::DW_TAG_GNU_call_site
            | dw::DW_TAG_call_site_parameter
            | dw::DW_TAG_GNU_call_site_parameter
            | dw::DW_TAG_label
            | dw::DW_TAG_template_type_parameter
            | dw::DW_TAG_template_value_parameter
            | dw::DW_TAG_inheritance
            | dw::DW_TAG_imported_declaration
            | dw::DW_TAG_imported_module
            | dw::DW_TAG_imported_unit
            | dw::DW_TAG_namespace
            | dw::DW_TAG_dwarf_procedure
            | dw::DW_TAG_GNU_formal_parameter_pack
            | dw::DW_TAG_GNU_template_parameter_pack => false,
            _ => true,
        }
    }

    fn read_attr(
        &self,
        unit: &gimli::Unit<R<'a>>,
        base: u64,
        die: &mut Die<'a>,
        name: gimli::DwAt,
        value: AttributeValue<R<'a>>,
    ) -> Result<(), EncodeError> {
        match name {
            dw::DW_AT_name => {
                die.name_key = name_key(&value);
                die.name = Some(match value {
                    // Most names: found with memchr (gimli looks for the NUL bytewise).
                    AttributeValue::DebugStrRef(o) => match c_str(&self.dwarf.debug_str, o.0) {
                        Some(s) => s,
                        None => self.dwarf.attr_string(unit, value)?.slice(),
                    },
                    _ => self.dwarf.attr_string(unit, value)?.slice(),
                });
            }
            dw::DW_AT_type => die.ty = Some(reference(value, base)?),
            dw::DW_AT_abstract_origin | dw::DW_AT_specification => {
                die.origin = Some(reference(value, base)?)
            }
            dw::DW_AT_byte_size => die.byte_size = value.udata_value(),
            dw::DW_AT_bit_size => die.bit_size = value.udata_value(),
            dw::DW_AT_bit_offset => die.bit_offset = Some(const_int(&value)),
            dw::DW_AT_data_bit_offset => die.data_bit_offset = value.udata_value(),
            dw::DW_AT_data_member_location => die.member_location = Some(value),
            dw::DW_AT_encoding => die.encoding = value.udata_value().map(|v| v as u8),
            dw::DW_AT_upper_bound => die.upper_bound = Some(value),
            dw::DW_AT_count => die.count = Some(value),
            dw::DW_AT_const_value => die.const_value = Some(value),
            dw::DW_AT_location => die.location = Some(value),
            dw::DW_AT_declaration => die.declaration = flag(&value),
            dw::DW_AT_external => die.external = flag(&value),
            dw::DW_AT_language => die.language = value.udata_value().map(|v| v as u16),
            _ => {}
        }
        Ok(())
    }

    /// Converts one DIE; returns the context its children report to, or `None` for a
    /// unit that must be skipped.
    fn convert(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        tag: gimli::DwTag,
        parent: Ctx,
        key: u32,
        die: &Die<'a>,
    ) -> Result<Option<Ctx>, EncodeError> {
        let ty = |die: &Die<'a>| die.ty.unwrap_or(0);
        let ctx = match tag {
            dw::DW_TAG_compile_unit | dw::DW_TAG_partial_unit | dw::DW_TAG_type_unit => {
                if die.language == Some(dw::DW_LANG_Rust.0) {
                    return Ok(None);
                }
                Ctx::Unit
            }
            dw::DW_TAG_skeleton_unit => return Err(EncodeError::SplitDwarf),
            dw::DW_TAG_base_type => {
                let (name, kind) = self.base_type(die)?;
                self.push(key, Type { name, kind });
                Ctx::Other
            }
            dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type => Ctx::Pointer(self.push(
                key,
                Type {
                    name: 0,
                    kind: Kind::Ptr(ty(die)),
                },
            )),
            dw::DW_TAG_const_type => {
                self.push(
                    key,
                    Type {
                        name: 0,
                        kind: Kind::Const(ty(die)),
                    },
                );
                Ctx::Other
            }
            dw::DW_TAG_volatile_type => {
                self.push(
                    key,
                    Type {
                        name: 0,
                        kind: Kind::Volatile(ty(die)),
                    },
                );
                Ctx::Other
            }
            dw::DW_TAG_restrict_type => {
                self.push(
                    key,
                    Type {
                        name: 0,
                        kind: Kind::Restrict(ty(die)),
                    },
                );
                Ctx::Other
            }
            dw::DW_TAG_atomic_type => {
                // BTF has no _Atomic: like LLVM's BPF backend, encode the plain type.
                self.aliases.push((key, ty(die)));
                Ctx::Other
            }
            dw::DW_TAG_typedef => {
                let name = self.name(die);
                Ctx::Typedef(self.push(
                    key,
                    Type {
                        name,
                        kind: Kind::Typedef(ty(die)),
                    },
                ))
            }
            dw::DW_TAG_structure_type | dw::DW_TAG_class_type | dw::DW_TAG_union_type => {
                let union = tag == dw::DW_TAG_union_type;
                let name = self.name(die);
                if die.declaration {
                    if name != 0 {
                        self.push(
                            key,
                            Type {
                                name,
                                kind: Kind::Fwd { union },
                            },
                        );
                    }
                    Ctx::Other
                } else {
                    let body = Composite {
                        size: die.byte_size.unwrap_or(0) as u32,
                        members: Vec::new(),
                    };
                    let kind = if union {
                        Kind::Union(body)
                    } else {
                        Kind::Struct(body)
                    };
                    let idx = self.push(key, Type { name, kind });
                    if self.open_key != 0 {
                        self.open_composites.push((idx, self.members.len()));
                    }
                    Ctx::Composite(idx)
                }
            }
            dw::DW_TAG_member => {
                if let Ctx::Composite(idx) = parent {
                    self.member(idx, die)
                } else {
                    Ctx::Other
                }
            }
            dw::DW_TAG_enumeration_type => {
                let name = self.name(die);
                let size = die.byte_size.unwrap_or(4) as u32;
                let body = Enum {
                    size,
                    signed: false,
                    values: Vec::new(),
                };
                let kind = if size > 4 {
                    Kind::Enum64(body)
                } else {
                    Kind::Enum(body)
                };
                let idx = self.push(key, Type { name, kind });
                if size > 4 {
                    if let Some(t) = die.ty {
                        self.enum64_base.push((idx, t));
                    }
                }
                Ctx::Enum(idx)
            }
            dw::DW_TAG_enumerator => {
                if let Ctx::Enum(idx) = parent {
                    let name = self.name(die);
                    let value = die.const_value.as_ref().map_or(0, const_int);
                    match self.ty_mut(idx) {
                        Kind::Enum(e) => {
                            // libbpf's btf__add_enum_value: a negative value makes the enum signed.
                            e.signed |= value < 0;
                            e.values.push(Enumerator {
                                name,
                                value: value as i32 as i64,
                            });
                        }
                        Kind::Enum64(e) => e.values.push(Enumerator { name, value }),
                        _ => {}
                    }
                }
                Ctx::Other
            }
            dw::DW_TAG_array_type => {
                let index = INDEX_INT_KEY;
                if self.index_int.is_none() {
                    let name = self.frag.push_bytes(b"int");
                    let int = Int {
                        size: 4,
                        encoding: INT_SIGNED,
                        offset: 0,
                        bits: 32,
                    };
                    let idx = self.push(
                        0,
                        Type {
                            name,
                            kind: Kind::Int(int),
                        },
                    );
                    self.index_int = Some(idx as TypeId + 1);
                }
                let kind = Kind::Array(Array {
                    elem: ty(die),
                    index,
                    nelems: u32::MAX,
                });
                Ctx::Array(self.push(key, Type { name: 0, kind }))
            }
            dw::DW_TAG_subrange_type => {
                if let Ctx::Array(idx) = parent {
                    let n = subrange_len(die);
                    if let Kind::Array(a) = self.ty_mut(idx) {
                        a.nelems = if a.nelems == u32::MAX {
                            n
                        } else {
                            a.nelems.wrapping_mul(n)
                        };
                    }
                }
                Ctx::Other
            }
            dw::DW_TAG_subroutine_type => {
                let kind = Kind::FuncProto(FuncProto {
                    ret: ty(die),
                    params: Vec::new(),
                });
                Ctx::Proto(self.push(key, Type { name: 0, kind }))
            }
            dw::DW_TAG_formal_parameter | dw::DW_TAG_unspecified_parameters => {
                let vararg = tag == dw::DW_TAG_unspecified_parameters;
                match parent {
                    Ctx::Proto(idx) => {
                        let p = if vararg {
                            Param { name: 0, ty: 0 }
                        } else {
                            Param {
                                name: self.name(die),
                                ty: ty(die),
                            }
                        };
                        if let Kind::FuncProto(fp) = self.ty_mut(idx) {
                            fp.params.push(p);
                        }
                        Ctx::Other
                    }
                    Ctx::Func(f) => {
                        if !vararg {
                            self.decls.insert(key, decl_info(die));
                        }
                        let i = self.funcs[f].add_param(key, vararg);
                        Ctx::FuncParam(f, i)
                    }
                    _ => Ctx::Other,
                }
            }
            dw::DW_TAG_subprogram => {
                self.decls.insert(key, decl_info(die));
                if die.declaration {
                    Ctx::Other
                } else {
                    self.funcs.push(FuncRecord::new(key));
                    Ctx::Func(self.funcs.len() - 1)
                }
            }
            dw::DW_TAG_variable => {
                self.decls.insert(key, decl_info(die));
                match self.var_address(unit, die)? {
                    Some(addr) if !die.declaration => {
                        self.vars.push(VarRecord::new(key, addr));
                        Ctx::Var(self.vars.len() - 1)
                    }
                    _ => Ctx::Other,
                }
            }
            DW_TAG_LLVM_ANNOTATION => {
                self.annotation(unit, parent, key, die)?;
                Ctx::Other
            }
            dw::DW_TAG_unspecified_type => Ctx::Other,
            _ => Ctx::Other,
        };
        Ok(Some(ctx))
    }

    /// INT or FLOAT for a `DW_TAG_base_type`, with pahole's rules.
    fn base_type(&mut self, die: &Die<'a>) -> Result<(StrOff, Kind), EncodeError> {
        let bytes = die.byte_size.unwrap_or(0);
        let enc = die.encoding.unwrap_or(0);
        if self.opts.floats {
            if enc == dw::DW_ATE_float.0 {
                if !matches!(bytes, 2 | 4 | 8 | 12 | 16) {
                    return Err(EncodeError::Unsupported(format!(
                        "{bytes}-byte floating-point type"
                    )));
                }
                return Ok((self.name(die), Kind::Float { size: bytes as u32 }));
            }
            if enc == dw::DW_ATE_complex_float.0 || enc == dw::DW_ATE_imaginary_float.0 {
                return Err(EncodeError::Unsupported(
                    "complex or imaginary floating-point type (BTF has no such kind)".into(),
                ));
            }
        }
        let encoding = if enc == dw::DW_ATE_signed.0 || enc == dw::DW_ATE_signed_char.0 {
            INT_SIGNED
        } else if enc == dw::DW_ATE_boolean.0 {
            INT_BOOL
        } else {
            0
        };
        if bytes == 0 || !bytes.is_power_of_two() || bytes > 16 {
            // pahole's stand-in for DW_ATE_unsigned_24 and other odd sizes.
            let name = self.frag.push_bytes(b"__SANITIZED_FAKE_INT__");
            let int = Int {
                size: 4,
                encoding,
                offset: 0,
                bits: 32,
            };
            return Ok((name, Kind::Int(int)));
        }
        let int = Int {
            size: bytes as u32,
            encoding,
            offset: 0,
            bits: (bytes * 8) as u8,
        };
        Ok((self.name(die), Kind::Int(int)))
    }

    /// Appends a member to the struct or union at `idx`.
    fn member(&mut self, idx: usize, die: &Die<'a>) -> Ctx {
        let name = self.name(die);
        let bitfield_size = die.bit_size.unwrap_or(0).min(255) as u8;
        let byte_offset = die.member_location.as_ref().map_or(0, member_location);
        let mut bit_offset = byte_offset.wrapping_mul(8);
        if let Some(dbo) = die.data_bit_offset {
            bit_offset = dbo;
        }
        let Some(&(open, start)) = self.open_composites.last() else {
            return Ctx::Other;
        };
        if open != idx {
            return Ctx::Other;
        }
        let member = self.members.len() - start;
        self.members.push(Member {
            name,
            ty: die.ty.unwrap_or(0),
            bit_offset: bit_offset as u32,
            bitfield_size,
        });
        if die.data_bit_offset.is_none() && bitfield_size != 0 {
            if let Some(dw_bit_offset) = die.bit_offset {
                self.bitfields.push(PendingBitfield {
                    composite: idx,
                    member,
                    byte_offset,
                    dw_bit_offset,
                    storage_bytes: die.byte_size,
                });
            }
        }
        Ctx::Member(idx, member as u32)
    }

    /// Handles a `DW_TAG_LLVM_annotation` child: `btf_type_tag` on pointers,
    /// `btf_decl_tag` on types, members, functions, parameters and variables.
    fn annotation(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        parent: Ctx,
        key: u32,
        die: &Die<'a>,
    ) -> Result<(), EncodeError> {
        let Some(value) = die.const_value else {
            return Ok(());
        };
        let value = self.dwarf.attr_string(unit, value)?.slice();
        let value = self.frag.push_bytes(value);
        match (die.name, parent) {
            (Some(b"btf_type_tag"), Ctx::Pointer(idx)) => {
                // Each tag is put between the pointer and what it pointed to so far:
                // the last tag in DWARF order ends up first after the PTR.
                let Kind::Ptr(target) = self.frag.types()[idx].kind else {
                    return Ok(());
                };
                self.push(
                    key,
                    Type {
                        name: value,
                        kind: Kind::TypeTag {
                            ty: target,
                            attr: false,
                        },
                    },
                );
                self.frag.types_mut()[idx].kind = Kind::Ptr(key);
            }
            (Some(b"btf_decl_tag"), Ctx::Composite(idx) | Ctx::Typedef(idx)) => {
                let target = self.type_keys[idx];
                self.push_decl_tag(value, target, -1);
            }
            (Some(b"btf_decl_tag"), Ctx::Member(idx, m)) => {
                let target = self.type_keys[idx];
                self.push_decl_tag(value, target, m as i32);
            }
            (Some(b"btf_decl_tag"), Ctx::Func(f)) => self.funcs[f].tags.push((value, -1)),
            (Some(b"btf_decl_tag"), Ctx::FuncParam(f, i)) => {
                self.funcs[f].tags.push((value, i as i32))
            }
            (Some(b"btf_decl_tag"), Ctx::Var(v)) => self.vars[v].tags.push(value),
            _ => {}
        }
        Ok(())
    }

    fn push_decl_tag(&mut self, name: StrOff, target: u32, component: i32) {
        // Decl tags have no DIE of their own that others refer to.
        self.push(
            0,
            Type {
                name,
                kind: Kind::DeclTag {
                    ty: target,
                    component,
                },
            },
        );
    }

    /// The address of a variable with a static location (`DW_OP_addr`/`DW_OP_addrx`).
    fn var_address(
        &self,
        unit: &gimli::Unit<R<'a>>,
        die: &Die<'a>,
    ) -> Result<Option<u64>, EncodeError> {
        let expr = match die.location {
            Some(AttributeValue::Exprloc(e)) => e,
            Some(AttributeValue::Block(b)) => gimli::Expression(b),
            _ => return Ok(None),
        };
        let mut ops = expr.operations(unit.encoding());
        Ok(match ops.next() {
            Ok(Some(gimli::Operation::Address { address })) => Some(address),
            Ok(Some(gimli::Operation::AddressIndex { index })) => {
                Some(self.dwarf.address(unit, index)?)
            }
            _ => None,
        })
    }

    /// Resolves every DIE reference to a fragment type id and completes what needed
    /// the whole group: DWARF 2–4 bitfield offsets, ENUM64 signedness, and the
    /// function and variable candidates.
    pub fn finish(mut self) -> Result<Converted<'a>, EncodeError> {
        self.reorder();
        self.keys.sort_unstable();
        let aliases: HashMap<u32, u32> = self.aliases.iter().copied().collect();
        // One unit: a table indexed by DIE offset. Several (LTO): binary search.
        let dense = match self.ranges[..] {
            [(lo, hi)] => {
                let mut table = DENSE.with(|d| std::mem::take(&mut *d.borrow_mut()));
                table.resize(table.len().max((hi - lo) as usize), 0);
                for &(k, id) in &self.keys {
                    if let Some(slot) = table.get_mut(k.wrapping_sub(lo) as usize) {
                        *slot = id;
                    }
                }
                Some((lo, table))
            }
            _ => None,
        };
        let finished = self.resolve_all(&aliases, dense.as_ref());
        // Zero what was set and keep the table for the next unit (after an error it
        // is dropped, which keeps it all zero as well).
        if let (Ok((_, keys)), Some((lo, mut table))) = (&finished, dense) {
            for &(k, _) in keys {
                if let Some(slot) = table.get_mut(k.wrapping_sub(lo) as usize) {
                    *slot = 0;
                }
            }
            DENSE.with(|d| *d.borrow_mut() = table);
        }
        finished.map(|(converted, _)| converted)
    }

    /// The part of [`Converter::finish`] that uses the key lookup: every reference,
    /// bitfield, ENUM64 and function or variable candidate resolved. Returns the keys
    /// the lookup was built from with the result.
    fn resolve_all(
        mut self,
        aliases: &HashMap<u32, u32>,
        dense: Option<&(u32, Vec<TypeId>)>,
    ) -> Result<(Converted<'a>, Vec<(u32, TypeId)>), EncodeError> {
        let lookup = Lookup {
            keys: &self.keys,
            dense: dense.map(|(lo, t)| (*lo, t.as_slice())),
            aliases,
            ranges: &self.ranges,
            index_int: self.index_int.unwrap_or(0),
        };
        let mut err = None;
        for t in self.frag.types_mut() {
            t.kind.for_each_ref_mut(|r| match lookup.resolve(*r) {
                Ok(id) => *r = id,
                Err(e) => {
                    err.get_or_insert(e);
                }
            });
        }
        if let Some(e) = err {
            return Err(e);
        }
        for b in std::mem::take(&mut self.bitfields) {
            let (ty, bits) = match &self.frag.types()[b.composite].kind {
                Kind::Struct(c) | Kind::Union(c) => (
                    c.members[b.member].ty,
                    c.members[b.member].bitfield_size as u64,
                ),
                _ => continue,
            };
            let storage = b
                .storage_bytes
                .unwrap_or_else(|| storage_size(&self.frag, ty) as u64)
                * 8;
            // DW_AT_bit_offset counts from the storage unit's most significant bit, and
            // gcc writes it negative for fields that spill past the unit (packed structs).
            let within = if self.big_endian {
                b.dw_bit_offset as u64
            } else {
                storage
                    .wrapping_sub(b.dw_bit_offset as u64)
                    .wrapping_sub(bits)
            };
            let off = b.byte_offset.wrapping_mul(8).wrapping_add(within);
            if let Kind::Struct(c) | Kind::Union(c) = &mut self.frag.types_mut()[b.composite].kind {
                c.members[b.member].bit_offset = off as u32;
            }
        }
        for &(idx, base) in &self.enum64_base {
            let base = lookup.resolve(base)?;
            let signed = matches!(
                self.frag.get(strip_cv_typedef(&self.frag, base)).map(|t| &t.kind),
                Some(Kind::Int(i)) if i.encoding & INT_SIGNED != 0
            );
            if let Kind::Enum64(e) = &mut self.frag.types_mut()[idx].kind {
                e.signed = signed;
            }
        }
        let decls = std::mem::take(&mut self.decls);
        let mut funcs = Vec::new();
        for mut f in std::mem::take(&mut self.funcs) {
            if f.resolve(&decls, &lookup, &mut self.frag, self.functions)? {
                funcs.push(f);
            }
        }
        let mut vars = std::mem::take(&mut self.vars);
        for v in &mut vars {
            v.resolve(&decls, &lookup)?;
        }
        let converted = Converted {
            frag: self.frag,
            funcs,
            vars,
            name_keys: self.name_keys,
        };
        Ok((converted, self.keys))
    }
}

/// Maps DIE keys to fragment type ids.
pub(crate) struct Lookup<'k> {
    keys: &'k [(u32, TypeId)],
    /// For a single unit: type id by DIE offset minus the unit's start (0: none).
    dense: Option<(u32, &'k [TypeId])>,
    aliases: &'k HashMap<u32, u32>,
    ranges: &'k [(u32, u32)],
    index_int: TypeId,
}

impl Lookup<'_> {
    /// The type id for the DIE at `key`: 0 (void) for DIEs that are no type, an error
    /// for references outside the units being converted.
    pub fn resolve(&self, mut key: u32) -> Result<TypeId, EncodeError> {
        for _ in 0..32 {
            if key == 0 {
                return Ok(0);
            }
            if key == INDEX_INT_KEY {
                return Ok(self.index_int);
            }
            match self.dense {
                Some((lo, table)) => {
                    if let Some(&id) = table.get(key.wrapping_sub(lo) as usize) {
                        if id != 0 {
                            return Ok(id);
                        }
                    }
                }
                None => {
                    if let Ok(i) = self.keys.binary_search_by_key(&key, |&(k, _)| k) {
                        return Ok(self.keys[i].1);
                    }
                }
            }
            match self.aliases.get(&key) {
                Some(&next) => key = next,
                None if self.ranges.iter().any(|&(lo, hi)| key >= lo && key < hi) => return Ok(0),
                None => return Err(EncodeError::BadReference(key as u64)),
            }
        }
        Ok(0)
    }
}

/// Skips typedefs and cv-qualifiers.
pub(crate) fn strip_cv_typedef(btf: &Btf, mut id: TypeId) -> TypeId {
    for _ in 0..32 {
        match btf.get(id).map(|t| &t.kind) {
            Some(
                Kind::Typedef(next)
                | Kind::Const(next)
                | Kind::Volatile(next)
                | Kind::Restrict(next)
                | Kind::TypeTag { ty: next, .. },
            ) => id = *next,
            _ => break,
        }
    }
    id
}

/// Size in bytes of a bitfield's storage type (its declared int or enum).
fn storage_size(btf: &Btf, id: TypeId) -> u32 {
    btf.get(strip_cv_typedef(btf, id))
        .and_then(|t| t.kind.size())
        .unwrap_or(0)
}

/// The attributes [`Converter::read_attr`] looks at.
fn used_attr(name: gimli::DwAt) -> bool {
    matches!(
        name,
        dw::DW_AT_name
            | dw::DW_AT_type
            | dw::DW_AT_abstract_origin
            | dw::DW_AT_specification
            | dw::DW_AT_byte_size
            | dw::DW_AT_bit_size
            | dw::DW_AT_bit_offset
            | dw::DW_AT_data_bit_offset
            | dw::DW_AT_data_member_location
            | dw::DW_AT_encoding
            | dw::DW_AT_upper_bound
            | dw::DW_AT_count
            | dw::DW_AT_const_value
            | dw::DW_AT_location
            | dw::DW_AT_declaration
            | dw::DW_AT_external
            | dw::DW_AT_language
    )
}

fn unit_base(unit: &gimli::Unit<R<'_>>) -> u64 {
    unit.header.offset().0 as u64
}

fn header_len(unit: &gimli::Unit<R<'_>>) -> u64 {
    unit.header.length_including_self() as u64
}

fn reference(value: AttributeValue<R<'_>>, base: u64) -> Result<u32, EncodeError> {
    let off = match value {
        AttributeValue::UnitRef(o) => base + o.0 as u64,
        AttributeValue::DebugInfoRef(o) => o.0 as u64,
        AttributeValue::DebugTypesRef(_) => return Err(EncodeError::TypeUnits),
        other => {
            return Err(EncodeError::Unsupported(format!(
                "type reference of form {other:?}"
            )))
        }
    };
    u32::try_from(off).map_err(|_| EncodeError::TooLarge)
}

/// Where a string attribute's bytes live, as a key that is the same for every DIE of
/// the file naming the same place: the `.debug_str` offset, or the `.debug_line_str`
/// offset with bit 63 set. Inline strings and indexed forms have none.
fn name_key(value: &AttributeValue<R<'_>>) -> Option<u64> {
    match *value {
        AttributeValue::DebugStrRef(o) => Some(o.0 as u64 & !(1 << 63)),
        AttributeValue::DebugLineStrRef(o) => Some(o.0 as u64 | 1 << 63),
        _ => None,
    }
}

/// The NUL-terminated string at `offset` of `.debug_str` (`None`: out of bounds or
/// unterminated, which gimli then reports).
fn c_str<'a>(debug_str: &gimli::DebugStr<R<'a>>, offset: usize) -> Option<&'a [u8]> {
    let tail = gimli::Section::reader(debug_str).slice().get(offset..)?;
    Some(&tail[..memchr::memchr(0, tail)?])
}

fn flag(value: &AttributeValue<R<'_>>) -> bool {
    matches!(value, AttributeValue::Flag(true))
}

/// A constant attribute as elfutils' `dwarf_formudata` reads it: `sdata` sign-extended,
/// fixed-size data zero-extended.
fn const_int(value: &AttributeValue<R<'_>>) -> i64 {
    match *value {
        AttributeValue::Sdata(v) => v,
        AttributeValue::Udata(v) => v as i64,
        AttributeValue::Data1(v) => v as i64,
        AttributeValue::Data2(v) => v as i64,
        AttributeValue::Data4(v) => v as i64,
        AttributeValue::Data8(v) => v as i64,
        _ => 0,
    }
}

fn is_const(value: &AttributeValue<R<'_>>) -> bool {
    matches!(
        value,
        AttributeValue::Sdata(_)
            | AttributeValue::Udata(_)
            | AttributeValue::Data1(_)
            | AttributeValue::Data2(_)
            | AttributeValue::Data4(_)
            | AttributeValue::Data8(_)
    )
}

/// Elements of one array dimension, as pahole counts them (truncated to 32 bits;
/// 0 for flexible arrays and variable-length bounds).
fn subrange_len(die: &Die<'_>) -> u32 {
    match (&die.upper_bound, &die.count) {
        (Some(ub), _) if is_const(ub) => (const_int(ub) as u64).wrapping_add(1) as u32,
        (Some(_), _) => 0,
        (None, Some(c)) if is_const(c) => const_int(c) as u32,
        _ => 0,
    }
}

/// `DW_AT_data_member_location`: a constant, or a `DW_OP_plus_uconst`/`DW_OP_constu`
/// expression (DWARF 2).
fn member_location(value: &AttributeValue<R<'_>>) -> u64 {
    let bytes = match value {
        v if is_const(v) => return const_int(v) as u64,
        AttributeValue::Exprloc(e) => e.0.slice(),
        AttributeValue::Block(b) => b.slice(),
        _ => return 0,
    };
    match bytes.split_first() {
        Some((&(0x23 | 0x10), rest)) => uleb(rest),
        _ => 0,
    }
}

fn uleb(bytes: &[u8]) -> u64 {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

fn decl_info<'a>(die: &Die<'a>) -> DeclInfo<'a> {
    DeclInfo {
        name: die.name,
        ty: die.ty,
        external: die.external,
        origin: die.origin,
    }
}
