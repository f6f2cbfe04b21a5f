//! Tests of the whole pipeline ([`encode`]) on small ELF objects written in the test:
//! DWARF units from gimli's writer, function and per-CPU symbols from object's writer.

use gimli::constants as dw;
use gimli::write::{
    Address, AttributeValue as A, DebugInfoRef, Dwarf, EndianVec, Expression, LineProgram,
    Sections, Unit, UnitEntryId, UnitId,
};
use gimli::{Encoding, Format, RunTimeEndian};
use object::write::{Object, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind};

use super::convert::tests::show;
use super::*;

/// Several units under construction, and the ELF symbols around them.
struct Elf {
    dwarf: Dwarf,
    /// `STT_FUNC` symbols.
    functions: Vec<&'static str>,
    /// `.data..percpu` symbols: name, offset, size.
    percpu: Vec<(&'static str, u64, u64)>,
}

impl Elf {
    fn new() -> Self {
        Elf {
            dwarf: Dwarf::new(),
            functions: Vec::new(),
            percpu: Vec::new(),
        }
    }

    /// A new DWARF 5 unit.
    fn unit(&mut self) -> UnitId {
        let encoding = Encoding {
            format: Format::Dwarf32,
            version: 5,
            address_size: 8,
        };
        self.dwarf
            .units
            .add(Unit::new(encoding, LineProgram::none()))
    }

    /// Adds a DIE under `parent` (the unit's root for `None`).
    fn die(
        &mut self,
        u: UnitId,
        parent: Option<UnitEntryId>,
        tag: gimli::DwTag,
        name: &str,
        attrs: &[(gimli::DwAt, A)],
    ) -> UnitEntryId {
        let name = (!name.is_empty()).then(|| A::StringRef(self.dwarf.strings.add(name)));
        let unit = self.dwarf.units.get_mut(u);
        let parent = parent.unwrap_or(unit.root());
        let id = unit.add(parent, tag);
        let die = unit.get_mut(id);
        if let Some(name) = name {
            die.set(dw::DW_AT_name, name);
        }
        for (at, v) in attrs {
            die.set(*at, v.clone());
        }
        id
    }

    /// `int` in unit `u`.
    fn int(&mut self, u: UnitId) -> UnitEntryId {
        self.die(
            u,
            None,
            dw::DW_TAG_base_type,
            "int",
            &[
                (dw::DW_AT_encoding, A::Encoding(dw::DW_ATE_signed)),
                (dw::DW_AT_byte_size, A::Data1(4)),
            ],
        )
    }

    /// A subprogram `name(params)` returning `ret`, defined in unit `u`.
    fn func(&mut self, u: UnitId, name: &str, ret: UnitEntryId, params: &[(&str, UnitEntryId)]) {
        let f = self.die(
            u,
            None,
            dw::DW_TAG_subprogram,
            name,
            &[(dw::DW_AT_type, A::UnitRef(ret))],
        );
        for (p, ty) in params {
            self.die(
                u,
                Some(f),
                dw::DW_TAG_formal_parameter,
                p,
                &[(dw::DW_AT_type, A::UnitRef(*ty))],
            );
        }
    }

    /// A relocatable x86-64 ELF object with the DWARF and the symbols.
    fn write(mut self) -> Vec<u8> {
        let mut sections = Sections::new(EndianVec::new(RunTimeEndian::Little));
        self.dwarf
            .write(&mut sections)
            .expect("gimli writes the units");
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
        // First, so that the encoder places it at 0x1000 (its libdwfl-like addresses for
        // the allocated sections of a relocatable object, in section order).
        let percpu = obj.add_section(Vec::new(), elf::PERCPU_SECTION.into(), SectionKind::Data);
        obj.append_section_data(percpu, &[0; 64], 1);
        let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0xc3; 16], 1);
        let symbols = self
            .functions
            .iter()
            .map(|&f| (f, 0, 1, SymbolKind::Text, text));
        let data = self
            .percpu
            .iter()
            .map(|&(v, off, size)| (v, off, size, SymbolKind::Data, percpu));
        for (name, value, size, kind, section) in symbols.chain(data) {
            obj.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value,
                size,
                kind,
                scope: object::SymbolScope::Linkage,
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            });
        }
        sections
            .for_each(|id, w| {
                if !w.slice().is_empty() {
                    let s = obj.add_section(Vec::new(), id.name().into(), SectionKind::Debug);
                    obj.append_section_data(s, w.slice(), 1);
                }
                Ok::<_, ()>(())
            })
            .unwrap();
        obj.write().expect("object writes the ELF")
    }
}

/// Every type of `btf` as [`show`] names it, with its id and name for FUNCs and VARs.
fn all(btf: &Btf) -> Vec<String> {
    btf.iter()
        .map(|(id, t)| match &t.kind {
            Kind::Func { proto, linkage } => {
                format!(
                    "{id} func {} {} linkage {linkage}",
                    btf.name(t.name),
                    show(btf, *proto)
                )
            }
            Kind::Var { ty, linkage } => {
                format!(
                    "{id} var {} {} linkage {linkage}",
                    btf.name(t.name),
                    show(btf, *ty)
                )
            }
            Kind::Datasec(d) => {
                let vars: Vec<String> = d
                    .vars
                    .iter()
                    .map(|v| format!("{}@{}+{}", btf.type_name(v.ty), v.offset, v.size))
                    .collect();
                format!(
                    "{id} datasec {} size {} [{}]",
                    btf.name(t.name),
                    d.size,
                    vars.join(" ")
                )
            }
            _ => format!("{id} {}", show(btf, id)),
        })
        .collect()
}

fn opts(jobs: usize) -> Options {
    Options {
        jobs,
        ..Options::default()
    }
}

#[test]
fn a_function_defined_in_two_units_is_one_func_after_the_types() {
    // int add(int a, int b) in two units: the types dedup to one int, and the FUNC
    // (static linkage, as pahole writes it) and its FUNC_PROTO come after all types.
    let mut e = Elf::new();
    e.functions = vec!["add"];
    for _ in 0..2 {
        let u = e.unit();
        let i = e.int(u);
        e.func(u, "add", i, &[("a", i), ("b", i)]);
    }
    let enc = encode(&e.write(), &opts(1)).unwrap();
    assert_eq!(enc.units, 2);
    assert_eq!(enc.inconsistent_funcs, 0);
    assert_eq!(
        all(&enc.btf),
        [
            "1 int",
            "2 fn(int,int)->int",
            "3 func add fn(int,int)->int linkage 0",
        ]
    );
    let Kind::FuncProto(p) = &enc.btf.get(2).unwrap().kind else {
        panic!("not a proto")
    };
    let names: Vec<_> = p.params.iter().map(|p| enc.btf.name(p.name)).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn functions_whose_prototypes_differ_between_units_are_left_out() {
    // int f(int) in one unit, int f(long) in another (pahole's
    // --skip_encoding_btf_inconsistent_proto); g agrees and stays.
    let mut e = Elf::new();
    e.functions = vec!["f", "g"];
    let u1 = e.unit();
    let i = e.int(u1);
    e.func(u1, "f", i, &[("x", i)]);
    e.func(u1, "g", i, &[]);
    let u2 = e.unit();
    let i2 = e.int(u2);
    let long = e.die(
        u2,
        None,
        dw::DW_TAG_base_type,
        "long int",
        &[
            (dw::DW_AT_encoding, A::Encoding(dw::DW_ATE_signed)),
            (dw::DW_AT_byte_size, A::Data1(8)),
        ],
    );
    e.func(u2, "f", i2, &[("x", long)]);
    e.func(u2, "g", i2, &[]);
    let enc = encode(&e.write(), &opts(1)).unwrap();
    assert_eq!(enc.inconsistent_funcs, 1);
    assert_eq!(
        all(&enc.btf),
        [
            "1 int",
            "2 long int",
            "3 fn()->int",
            "4 func g fn()->int linkage 0",
        ]
    );
}

#[test]
fn per_cpu_variables_become_vars_of_one_datasec() {
    // DEFINE_PER_CPU(int, a) at offset 8 and (static) b at 16 of .data..percpu, which
    // the encoder places at 0x1000; c has no symbol and is left out.
    let mut e = Elf::new();
    e.percpu = vec![("a", 8, 4), ("b", 16, 4)];
    let u = e.unit();
    let i = e.int(u);
    for (name, addr, external) in [
        ("b", 0x1010, false),
        ("a", 0x1008, true),
        ("c", 0x1020, true),
    ] {
        let mut loc = Expression::new();
        loc.op_addr(Address::Constant(addr));
        let mut attrs = vec![
            (dw::DW_AT_type, A::UnitRef(i)),
            (dw::DW_AT_location, A::Exprloc(loc)),
        ];
        if external {
            attrs.push((dw::DW_AT_external, A::FlagPresent));
        }
        e.die(u, None, dw::DW_TAG_variable, name, &attrs);
    }
    let enc = encode(&e.write(), &opts(1)).unwrap();
    // By offset; global linkage for DW_AT_external (1), static (0) otherwise. The
    // DATASEC ends where its last variable does.
    assert_eq!(
        all(&enc.btf),
        [
            "1 int",
            "2 var a int linkage 1",
            "3 var b int linkage 0",
            "4 datasec .data..percpu size 20 [a@8+4 b@16+4]",
        ]
    );
}

#[test]
fn references_between_units_convert_them_as_one() {
    // Unit 2's typedef refers to unit 1's int (DW_FORM_ref_addr, as after LTO or dwz).
    let mut e = Elf::new();
    let u1 = e.unit();
    let i = e.int(u1);
    let u2 = e.unit();
    e.die(
        u2,
        None,
        dw::DW_TAG_typedef,
        "my_int",
        &[(dw::DW_AT_type, A::DebugInfoRef(DebugInfoRef::Entry(u1, i)))],
    );
    let enc = encode(&e.write(), &opts(2)).unwrap();
    assert_eq!(enc.units, 2);
    assert_eq!(all(&enc.btf), ["1 int", "2 my_int"]);
    assert!(matches!(enc.btf.get(2).unwrap().kind, Kind::Typedef(1)));
}

#[test]
fn output_is_the_same_for_any_number_of_threads() {
    // Eight units, each with its own struct and a shared int and function.
    let mut e = Elf::new();
    e.functions = vec!["f"];
    for n in 0..8 {
        let u = e.unit();
        let i = e.int(u);
        let s = e.die(
            u,
            None,
            dw::DW_TAG_structure_type,
            &format!("s{n}"),
            &[(dw::DW_AT_byte_size, A::Data1(4))],
        );
        e.die(
            u,
            Some(s),
            dw::DW_TAG_member,
            "x",
            &[(dw::DW_AT_type, A::UnitRef(i))],
        );
        e.func(u, "f", i, &[("v", i)]);
    }
    let elf = e.write();
    let one = encode(&elf, &opts(1)).unwrap().btf;
    assert_eq!(one.types().len(), 1 + 8 + 2, "int, s0..s7, proto and func");
    for jobs in [2, 3, 8] {
        let many = encode(&elf, &opts(jobs)).unwrap().btf;
        assert_eq!(many.to_bytes(), one.to_bytes(), "{jobs} jobs");
    }
}

#[test]
fn inputs_that_are_no_dwarf_elf_are_refused() {
    let no_dwarf = {
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
        let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0xc3], 1);
        obj.write().unwrap()
    };
    let err = |data: &[u8]| encode(data, &opts(1)).err();
    assert!(matches!(err(b"not an ELF file"), Some(EncodeError::NotElf)));
    assert!(matches!(
        err(b"\x7fELF\x02\x01"),
        Some(EncodeError::BadElf(_))
    ));
    assert!(matches!(err(&no_dwarf), Some(EncodeError::NoDwarf)));
    // BTF in either byte order, raw or as an ELF's only debug section: nothing to encode.
    for endian in [crate::btf::Endian::Little, crate::btf::Endian::Big] {
        let mut btf = crate::btf::Btf::new();
        btf.set_endian(endian);
        assert!(matches!(err(&btf.to_bytes()), Some(EncodeError::RawBtf)));
    }
    let btf_only = crate::btf::Btf::new().to_elf(Architecture::X86_64).unwrap();
    assert!(matches!(err(&btf_only), Some(EncodeError::BtfWithoutDwarf)));
}
