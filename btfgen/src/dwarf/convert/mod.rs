//! Converts the DIEs of one compilation unit (or of a group of units that refer to each
//! other) into a BTF fragment, plus the function and variable candidates it declares.
//!
//! The walk is a single pass over the raw DIE stream: attributes of DIEs that cannot
//! become BTF are skipped without decoding. While walking, type references are kept as
//! DIE offsets ("keys"); [`Converter::finish`] maps them to fragment type ids once every
//! DIE of the group has been seen.
//!
//! This file holds the walk and the dispatch on the DIE's tag; each family of DIEs is
//! converted in its own file: `base` (base types), `modifier` (pointers, qualifiers,
//! `_Atomic`, typedefs), `composite` (structs, unions, members, bitfields), `enums`,
//! `array` (arrays and subranges), `func` (subroutine types, subprograms, parameters),
//! `var` (variables), `tags` (clang's type and decl tags). `attrs` decodes the
//! attributes of a DIE; `finish` resolves the group once it has been walked.

mod array;
mod attrs;
mod base;
mod composite;
mod enums;
mod finish;
mod func;
mod modifier;
mod tags;
#[cfg(test)]
pub(super) mod tests;
mod var;

use hashbrown::HashMap;

use gimli::constants as dw;

use super::die::{Abbrevs, Cursor};
use super::error::EncodeError;
use super::funcs::{FuncRecord, FuncSymbols};
use super::options::Options;
use super::refs::{DeclInfo, R};
use super::vars::VarRecord;
use crate::btf::query::skip_mods_and_typedefs;
use crate::btf::*;
pub(super) use attrs::keyed_str;
use attrs::{header_len, unit_base, used_attr, Die};
use composite::PendingBitfield;

/// The bit that marks a fragment name as an index into `Converter::lazy_names` until
/// [`Converter::finish`] (a unit's string table stays far below 2 GiB).
const LAZY_NAME: u32 = 1 << 31;

/// `DW_TAG_LLVM_annotation`: clang's carrier for `btf_type_tag` and `btf_decl_tag`.
const DW_TAG_LLVM_ANNOTATION: gimli::DwTag = gimli::DwTag(0x6000);

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
    /// `attrs::name_key`). The fragment's string table is not deduplicated. Offsets
    /// past its end name strings it does not hold (member and enumerator names never
    /// read): their bytes are those of the key (`attrs::keyed_str`).
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

/// Converts a group of units into one fragment.
pub(crate) struct Converter<'a, 'o> {
    dwarf: &'o gimli::Dwarf<R<'a>>,
    opts: &'o Options,
    big_endian: bool,
    /// `STT_FUNC` symbols: only their names can become FUNCs.
    symbols: &'o FuncSymbols<'a>,
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
    /// Keys of the names given as [`LAZY_NAME`] offsets, in order.
    lazy_names: Vec<u64>,
    /// `.debug_str` offsets below this one hold NUL-terminated strings (0: none do).
    str_terminated: usize,
    ranges: Vec<(u32, u32)>,
    index_int: Option<TypeId>,
}

impl<'a, 'o> Converter<'a, 'o> {
    pub(super) fn new(
        dwarf: &'o gimli::Dwarf<R<'a>>,
        opts: &'o Options,
        big_endian: bool,
        symbols: &'o FuncSymbols<'a>,
    ) -> Self {
        Converter {
            dwarf,
            opts,
            big_endian,
            symbols,
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
            lazy_names: Vec::new(),
            str_terminated: match gimli::Section::reader(&dwarf.debug_str).slice() {
                s if s.last() == Some(&0) => s.len(),
                _ => 0,
            },
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

    /// The DIE's name, read from `.debug_str` if it lies there.
    fn die_name(&self, die: &Die<'a>) -> Option<&'a [u8]> {
        let debug_str = gimli::Section::reader(&self.dwarf.debug_str).slice();
        die.name.or_else(|| attrs::c_str(debug_str, die.name_str?))
    }

    /// Appends the DIE's name to the fragment's string table (duplicates are left to
    /// the dedup, which looks names up by their key).
    fn name(&mut self, die: &Die<'a>) -> StrOff {
        let Some(n) = self.die_name(die) else {
            return 0;
        };
        let off = self.frag.push_bytes(n);
        if let (Some(key), true) = (die.name_key, off != 0) {
            self.name_keys.push((off, key));
        }
        off
    }

    /// A member's or enumerator's name, which nothing reads before the dedup: one in
    /// `.debug_str` is not read at all but stands as [`LAZY_NAME`] plus its index in
    /// `lazy_names` until [`Converter::finish`] gives it an offset past the string
    /// table, which the dedup looks up by its key alone.
    fn lazy_name(&mut self, die: &Die<'a>) -> StrOff {
        match (die.name_str, die.name_key) {
            (Some(_), Some(key)) if self.lazy_names.len() < LAZY_NAME as usize => {
                self.lazy_names.push(key);
                LAZY_NAME | (self.lazy_names.len() - 1) as u32
            }
            _ => self.name(die),
        }
    }

    /// Walks every DIE of `header`'s unit.
    pub(super) fn add_unit(&mut self, header: gimli::UnitHeader<R<'a>>) -> Result<(), EncodeError> {
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

    /// Whether a DIE with this tag, under this parent, can contribute to the output.
    fn wanted(&self, tag: gimli::DwTag, parent: Ctx, depth: isize) -> bool {
        match tag {
            dw::DW_TAG_member => matches!(parent, Ctx::Composite(_)),
            dw::DW_TAG_enumerator => matches!(parent, Ctx::Enum(_)),
            dw::DW_TAG_subrange_type => matches!(parent, Ctx::Array(_)),
            dw::DW_TAG_formal_parameter | dw::DW_TAG_unspecified_parameters => {
                matches!(parent, Ctx::Proto(_) | Ctx::Func(_))
            }
            dw::DW_TAG_variable => depth == 1 && self.opts.features.var,
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

    /// Converts one DIE; returns the context its children report to, or `None` for a
    /// unit that must be skipped. One method per DIE family, in the files beside this;
    /// those called here are `#[inline(always)]`, as when their bodies were this match's
    /// arms (the walk is the encoder's hot path).
    fn convert(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        tag: gimli::DwTag,
        parent: Ctx,
        key: u32,
        die: &Die<'a>,
    ) -> Result<Option<Ctx>, EncodeError> {
        let ctx = match tag {
            dw::DW_TAG_compile_unit | dw::DW_TAG_partial_unit | dw::DW_TAG_type_unit => {
                if die.language == Some(dw::DW_LANG_Rust.0) {
                    return Ok(None);
                }
                Ctx::Unit
            }
            dw::DW_TAG_skeleton_unit => return Err(EncodeError::SplitDwarf),
            dw::DW_TAG_base_type => self.base(key, die)?,
            dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type => self.pointer(key, die),
            dw::DW_TAG_const_type => self.qualifier(key, Kind::Const(die.ty_or_void())),
            dw::DW_TAG_volatile_type => self.qualifier(key, Kind::Volatile(die.ty_or_void())),
            dw::DW_TAG_restrict_type => self.qualifier(key, Kind::Restrict(die.ty_or_void())),
            dw::DW_TAG_atomic_type => self.atomic(key, die),
            dw::DW_TAG_typedef => self.typedef(key, die),
            dw::DW_TAG_structure_type | dw::DW_TAG_class_type => self.composite(key, die, false),
            dw::DW_TAG_union_type => self.composite(key, die, true),
            dw::DW_TAG_member => self.member(parent, die),
            dw::DW_TAG_enumeration_type => self.enumeration(key, die),
            dw::DW_TAG_enumerator => self.enumerator(parent, die),
            dw::DW_TAG_array_type => self.array(key, die),
            dw::DW_TAG_subrange_type => self.subrange(parent, die),
            dw::DW_TAG_subroutine_type => self.subroutine(key, die),
            dw::DW_TAG_formal_parameter => self.param(unit, parent, key, die, false),
            dw::DW_TAG_unspecified_parameters => self.param(unit, parent, key, die, true),
            dw::DW_TAG_subprogram => self.subprogram(key, die),
            dw::DW_TAG_variable => self.variable(unit, key, die)?,
            DW_TAG_LLVM_ANNOTATION => self.annotation(unit, parent, key, die)?,
            // DW_TAG_unspecified_type and the rest: void, or nothing BTF has.
            _ => Ctx::Other,
        };
        Ok(Some(ctx))
    }
}

/// Size in bytes of a bitfield's storage type (its declared int or enum).
fn storage_size(btf: &Btf, id: TypeId) -> u32 {
    btf.get(skip_mods_and_typedefs(btf, id))
        .and_then(|t| t.kind.size())
        .unwrap_or(0)
}
