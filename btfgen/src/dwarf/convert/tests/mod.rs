//! Unit tests of the converter on DWARF built in the test with gimli's writer: one unit
//! per test, converted by [`Converter`] as the pipeline converts it, and the fragment's
//! types checked against the rules of docs/encoding.md (pahole's encoding).
//!
//! [`Dw`] builds the unit; [`show`] names a type the way the assertions spell it
//! (`*const int`, `[6]int`, `struct s`), so that a test reads like the C it encodes.

mod composite;
mod funcs_vars;
mod types;

use gimli::constants as dw;
use gimli::write::{AttributeValue as A, DwarfUnit, EndianVec, Sections, UnitEntryId};
use gimli::{DwAt, DwTag, Encoding, EndianSlice, Format, RunTimeEndian, SectionId};
use hashbrown::{HashMap, HashSet};

use super::Converter;
use crate::btf::*;
use crate::dwarf::error::EncodeError;
use crate::dwarf::funcs::FuncSymbols;
use crate::dwarf::options::Options;

/// One compilation unit under construction.
pub(super) struct Dw {
    unit: DwarfUnit,
    endian: RunTimeEndian,
    /// Names of the `STT_FUNC` symbols the ELF file would have.
    pub functions: Vec<&'static str>,
    /// The encoder's options (defaults: functions, variables and floats on).
    pub opts: Options,
}

/// What a unit converted to, owned (the converter's records borrow the sections).
pub(super) struct Out {
    /// The fragment: types in pahole's order, references resolved.
    pub btf: Btf,
    /// Function candidates kept: name, return type and parameters as [`show`] names
    /// them (`...` for varargs), and whether every parameter is named.
    pub funcs: Vec<(String, String, Vec<String>, bool)>,
    /// Variable candidates: name, address, type as [`show`] names it, external.
    pub vars: Vec<(String, u64, String, bool)>,
    /// Names of the function candidates with a parameter in an unexpected register
    /// (and no struct passed by value).
    pub unexpected_reg: Vec<String>,
    /// How many names carry a `.debug_str` key.
    pub name_keys: usize,
}

impl Dw {
    /// A little-endian unit of DWARF `version`, 64-bit addresses.
    pub(super) fn new(version: u16) -> Self {
        Self::with_endian(version, RunTimeEndian::Little)
    }

    /// A unit of DWARF `version` in the given byte order.
    pub(super) fn with_endian(version: u16, endian: RunTimeEndian) -> Self {
        let encoding = Encoding {
            format: Format::Dwarf32,
            version,
            address_size: 8,
        };
        let mut unit = DwarfUnit::new(encoding);
        let root = unit.unit.root();
        unit.unit
            .get_mut(root)
            .set(dw::DW_AT_language, A::Language(dw::DW_LANG_C11));
        Dw {
            unit,
            endian,
            functions: Vec::new(),
            opts: Options::default(),
        }
    }

    /// The compile-unit DIE.
    pub(super) fn root(&self) -> UnitEntryId {
        self.unit.unit.root()
    }

    /// A `.debug_str` name (`DW_FORM_strp`).
    pub(super) fn strp(&mut self, s: &str) -> A {
        A::StringRef(self.unit.strings.add(s))
    }

    /// Adds a DIE under `parent`, named `name` in `.debug_str` ("" for none).
    pub(super) fn die(
        &mut self,
        parent: UnitEntryId,
        tag: DwTag,
        name: &str,
        attrs: &[(DwAt, A)],
    ) -> UnitEntryId {
        let id = self.unit.unit.add(parent, tag);
        if !name.is_empty() {
            let name = self.strp(name);
            self.set(id, dw::DW_AT_name, name);
        }
        for (at, value) in attrs {
            self.set(id, *at, value.clone());
        }
        id
    }

    /// Sets one attribute of a DIE.
    pub(super) fn set(&mut self, id: UnitEntryId, at: DwAt, value: A) {
        self.unit.unit.get_mut(id).set(at, value);
    }

    /// A top-level `DW_TAG_base_type`.
    pub(super) fn base(&mut self, name: &str, encoding: gimli::DwAte, size: u8) -> UnitEntryId {
        let root = self.root();
        self.die(
            root,
            dw::DW_TAG_base_type,
            name,
            &[
                (dw::DW_AT_encoding, A::Encoding(encoding)),
                (dw::DW_AT_byte_size, A::Data1(size)),
            ],
        )
    }

    /// `int`: signed, 4 bytes.
    pub(super) fn int(&mut self) -> UnitEntryId {
        self.base("int", dw::DW_ATE_signed, 4)
    }

    /// A top-level DIE that refers to `ty` (pointers, qualifiers, typedefs).
    pub(super) fn of(&mut self, tag: DwTag, name: &str, ty: UnitEntryId) -> UnitEntryId {
        let root = self.root();
        self.die(root, tag, name, &[(dw::DW_AT_type, A::UnitRef(ty))])
    }

    /// Writes the unit and converts it.
    pub(super) fn convert(mut self) -> Result<Out, EncodeError> {
        let mut sections = Sections::new(EndianVec::new(self.endian));
        self.unit
            .write(&mut sections)
            .expect("gimli writes the unit");
        let dwarf = gimli::Dwarf::load(|id| {
            let bytes = sections.get(id).map_or(&[][..], |w| w.slice());
            Ok::<_, gimli::Error>(EndianSlice::new(bytes, self.endian))
        })
        .expect("sections load");
        let functions: HashSet<&[u8]> = self.functions.iter().map(|f| f.as_bytes()).collect();
        let big = self.endian == RunTimeEndian::Big;
        let order: Vec<&[u8]> = self.functions.iter().map(|f| f.as_bytes()).collect();
        let symbols = FuncSymbols::new(
            &functions,
            &order,
            object::Architecture::X86_64,
            self.opts.features.optimized_func,
        );
        let mut c = Converter::new(&dwarf, &self.opts, big, &symbols);
        let mut units = dwarf.units();
        while let Some(header) = units.next().expect("unit header") {
            c.add_unit(header)?;
        }
        let conv = c.finish()?;
        let mut btf = conv.frag;
        // Names the converter left to the dedup (past the string table): their bytes.
        let end = btf.strings_end();
        let section = |id| sections.get(id).map_or(&[][..], |w| w.slice());
        let (debug_str, line_str) = (
            section(SectionId::DebugStr),
            section(SectionId::DebugLineStr),
        );
        let mut lazy = HashMap::new();
        for &(off, key) in conv.name_keys.iter().filter(|k| k.0 >= end) {
            let bytes = super::keyed_str(debug_str, line_str, key).expect("a keyed name");
            lazy.insert(off, btf.push_bytes(bytes));
        }
        for t in btf.types_mut() {
            t.for_each_name_mut(|n| *n = lazy.get(n).copied().unwrap_or(*n));
        }
        let funcs = conv
            .funcs
            .iter()
            .map(|f| {
                let params = f.proto.params.iter();
                let params = params
                    .map(|p| match (p.name, p.ty) {
                        (0, 0) => "...".to_string(),
                        (_, ty) => show(&btf, ty),
                    })
                    .collect();
                let name = String::from_utf8_lossy(f.name).into_owned();
                (name, show(&btf, f.proto.ret), params, f.named)
            })
            .collect();
        let vars = conv
            .vars
            .iter()
            .map(|v| {
                let name = String::from_utf8_lossy(v.name).into_owned();
                (name, v.addr, show(&btf, v.ty), v.external)
            })
            .collect();
        let unexpected_reg = conv
            .funcs
            .iter()
            .filter(|f| f.unexpected_reg)
            .map(|f| String::from_utf8_lossy(f.name).into_owned())
            .collect();
        Ok(Out {
            btf,
            funcs,
            vars,
            unexpected_reg,
            name_keys: conv.name_keys.len(),
        })
    }
}

impl Out {
    /// The only type named `name`, or a panic.
    pub(super) fn named(&self, name: &str) -> &Type {
        let ids: Vec<TypeId> = self.btf.find_by_name(name).collect();
        assert_eq!(ids.len(), 1, "types named {name:?}: {ids:?}");
        self.btf.get(ids[0]).expect("id in range")
    }

    /// The id of the only type named `name`.
    pub(super) fn id(&self, name: &str) -> TypeId {
        let ids: Vec<TypeId> = self.btf.find_by_name(name).collect();
        assert_eq!(ids.len(), 1, "types named {name:?}: {ids:?}");
        ids[0]
    }

    /// What the typedef `name` stands for, as [`show`] names it.
    pub(super) fn typedef(&self, name: &str) -> String {
        match self.named(name).kind {
            Kind::Typedef(t) => show(&self.btf, t),
            ref k => panic!("{name} is {k:?}, not a typedef"),
        }
    }

    /// Members of the struct or union `name`: (name, type, bit offset, bitfield size).
    pub(super) fn members(&self, name: &str) -> Vec<(String, String, u32, u8)> {
        match &self.named(name).kind {
            Kind::Struct(c) | Kind::Union(c) => c
                .members
                .iter()
                .map(|m| {
                    let n = self.btf.name(m.name).into_owned();
                    (n, show(&self.btf, m.ty), m.bit_offset, m.bitfield_size)
                })
                .collect(),
            k => panic!("{name} is {k:?}"),
        }
    }

    /// Every type of the fragment as [`show`] names it, in id order.
    pub(super) fn all(&self) -> Vec<String> {
        (1..=self.btf.types().len() as TypeId)
            .map(|id| show(&self.btf, id))
            .collect()
    }
}

/// A type as C-like text: `int`, `*const char`, `[6]int`, `struct s`, `fn(int,...)->void`,
/// `tag(user) *int`, `fwd union u`; named types by name only.
pub(in crate::dwarf) fn show(btf: &Btf, id: TypeId) -> String {
    let Some(t) = btf.get(id) else {
        return "void".into();
    };
    let name = btf.name(t.name);
    match &t.kind {
        Kind::Int(_) | Kind::Float { .. } | Kind::Typedef(_) => name.into_owned(),
        Kind::Ptr(r) => format!("*{}", show(btf, *r)),
        Kind::Const(r) => format!("const {}", show(btf, *r)),
        Kind::Volatile(r) => format!("volatile {}", show(btf, *r)),
        Kind::Restrict(r) => format!("restrict {}", show(btf, *r)),
        Kind::TypeTag { ty, .. } => format!("tag({name}) {}", show(btf, *ty)),
        Kind::Array(a) => format!("[{}]{}", a.nelems, show(btf, a.elem)),
        Kind::Struct(_) => format!("struct {name}"),
        Kind::Union(_) => format!("union {name}"),
        Kind::Enum(_) | Kind::Enum64(_) => format!("enum {name}"),
        Kind::Fwd { union } => format!("fwd {} {name}", if *union { "union" } else { "struct" }),
        Kind::FuncProto(p) => {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|p| match (p.name, p.ty) {
                    (0, 0) => "...".to_string(),
                    (_, ty) => show(btf, ty),
                })
                .collect();
            format!("fn({})->{}", params.join(","), show(btf, p.ret))
        }
        Kind::DeclTag { ty, component } => {
            format!("decl_tag({name}) {component} {}", show(btf, *ty))
        }
        k => format!("{} {name}", k.label()),
    }
}

/// Shorthands for attribute values.
pub(super) fn r(id: UnitEntryId) -> A {
    A::UnitRef(id)
}
