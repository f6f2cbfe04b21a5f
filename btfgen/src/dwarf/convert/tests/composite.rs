//! Structs, unions, members and bitfields (DWARF 2, 4 and 5, both byte orders), and
//! decl tags on them.

use gimli::constants as dw;
use gimli::write::{AttributeValue as A, Expression, UnitEntryId};
use gimli::RunTimeEndian;

use super::{r, Dw};
use crate::btf::*;

/// Attributes of one DIE.
type Attrs = Vec<(gimli::DwAt, A)>;

/// A member as [`super::Out::members`] lists it.
type M = (String, String, u32, u8);

fn m(name: &str, ty: &str, bit_offset: u32, bits: u8) -> M {
    (name.into(), ty.into(), bit_offset, bits)
}

/// Adds a struct (or union) `name` of `size` bytes at the top level.
fn composite(d: &mut Dw, tag: gimli::DwTag, name: &str, size: u8) -> UnitEntryId {
    let root = d.root();
    d.die(root, tag, name, &[(dw::DW_AT_byte_size, A::Data1(size))])
}

#[test]
fn struct_members_at_their_byte_offsets() {
    // struct s { int a; char b; long c; };  offsets 0, 4, 8 bytes.
    let mut d = Dw::new(5);
    let i = d.int();
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let l = d.base("long int", dw::DW_ATE_signed, 8);
    let s = composite(&mut d, dw::DW_TAG_structure_type, "s", 16);
    for (name, ty, off) in [("a", i, 0), ("b", c, 4), ("c", l, 8)] {
        let loc = (dw::DW_AT_data_member_location, A::Data1(off));
        d.die(s, dw::DW_TAG_member, name, &[(dw::DW_AT_type, r(ty)), loc]);
    }
    let out = d.convert().unwrap();
    let Kind::Struct(body) = &out.named("s").kind else {
        panic!("not a struct")
    };
    assert_eq!(body.size, 16);
    assert_eq!(
        out.members("s"),
        [
            m("a", "int", 0, 0),
            m("b", "char", 32, 0),
            m("c", "long int", 64, 0)
        ]
    );
}

#[test]
fn unions_and_classes() {
    // union u { int i; char c[8]; };  class k { int x; }  (C++ classes are STRUCTs).
    let mut d = Dw::new(4);
    let i = d.int();
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let arr = d.of(dw::DW_TAG_array_type, "", c);
    d.die(
        arr,
        dw::DW_TAG_subrange_type,
        "",
        &[(dw::DW_AT_count, A::Data1(8))],
    );
    let u = composite(&mut d, dw::DW_TAG_union_type, "u", 8);
    d.die(u, dw::DW_TAG_member, "i", &[(dw::DW_AT_type, r(i))]);
    d.die(u, dw::DW_TAG_member, "c", &[(dw::DW_AT_type, r(arr))]);
    let k = composite(&mut d, dw::DW_TAG_class_type, "k", 4);
    d.die(k, dw::DW_TAG_member, "x", &[(dw::DW_AT_type, r(i))]);
    let out = d.convert().unwrap();
    assert!(matches!(
        out.named("u").kind,
        Kind::Union(Composite { size: 8, .. })
    ));
    assert_eq!(
        out.members("u"),
        [m("i", "int", 0, 0), m("c", "[8]char", 0, 0)]
    );
    assert!(matches!(
        out.named("k").kind,
        Kind::Struct(Composite { size: 4, .. })
    ));
    assert_eq!(out.members("k"), [m("x", "int", 0, 0)]);
}

#[test]
fn anonymous_members_have_no_name() {
    // struct s { int a; union { int b; char c; }; };  the union's DIE nested in s.
    let mut d = Dw::new(5);
    let i = d.int();
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let s = composite(&mut d, dw::DW_TAG_structure_type, "s", 8);
    let u = d.die(
        s,
        dw::DW_TAG_union_type,
        "",
        &[(dw::DW_AT_byte_size, A::Data1(4))],
    );
    d.die(u, dw::DW_TAG_member, "b", &[(dw::DW_AT_type, r(i))]);
    d.die(u, dw::DW_TAG_member, "c", &[(dw::DW_AT_type, r(c))]);
    d.die(s, dw::DW_TAG_member, "a", &[(dw::DW_AT_type, r(i))]);
    let loc = (dw::DW_AT_data_member_location, A::Data1(4));
    d.die(s, dw::DW_TAG_member, "", &[(dw::DW_AT_type, r(u)), loc]);
    let out = d.convert().unwrap();
    assert_eq!(
        out.members("s"),
        [m("a", "int", 0, 0), m("", "union ", 32, 0)]
    );
    // The nested union is ordered before the struct that holds it.
    assert_eq!(out.all(), ["int", "char", "union ", "struct s"]);
}

#[test]
fn dwarf2_and_4_member_locations_as_expressions() {
    // DW_OP_plus_uconst 300 (0x23, uleb 0xac 0x02) and DW_OP_constu 300 (0x10):
    // 300 bytes, 2400 bits.
    for (version, loc) in [
        (2, A::Block(vec![0x23, 0xac, 0x02])),
        (3, A::Block(vec![0x10, 0xac, 0x02])),
        (4, A::Exprloc(Expression::raw(vec![0x23, 0xac, 0x02]))),
    ] {
        let mut d = Dw::new(version);
        let i = d.int();
        let s = d.die(
            d.root(),
            dw::DW_TAG_structure_type,
            "s",
            &[(dw::DW_AT_byte_size, A::Udata(304))],
        );
        d.die(
            s,
            dw::DW_TAG_member,
            "x",
            &[
                (dw::DW_AT_type, r(i)),
                (dw::DW_AT_data_member_location, loc),
            ],
        );
        let out = d.convert().unwrap();
        assert_eq!(
            out.members("s"),
            [m("x", "int", 2400, 0)],
            "DWARF {version}"
        );
    }
}

/// struct s { unsigned a:3, b:5, c:24; unsigned d:4; }  with the DWARF 2–4
/// (`DW_AT_bit_offset`) or DWARF 5 (`DW_AT_data_bit_offset`) attributes given per
/// member: (name, bit size, extra attributes).
fn bitfield_struct(version: u16, endian: RunTimeEndian, members: &[(&str, u8, Attrs)]) -> Vec<M> {
    let mut d = Dw::with_endian(version, endian);
    let u = d.base("unsigned int", dw::DW_ATE_unsigned, 4);
    let s = composite(&mut d, dw::DW_TAG_structure_type, "s", 8);
    for (name, bits, attrs) in members {
        let mut all = vec![
            (dw::DW_AT_type, r(u)),
            (dw::DW_AT_bit_size, A::Data1(*bits)),
        ];
        all.extend(attrs.iter().cloned());
        d.die(s, dw::DW_TAG_member, name, &all);
    }
    d.convert().unwrap().members("s")
}

/// The layout every variant of [`bitfield_struct`] must produce: a at bit 0, b at 3,
/// c at 8, d in the next unsigned int at bit 32.
fn bitfield_layout() -> Vec<M> {
    vec![
        m("a", "unsigned int", 0, 3),
        m("b", "unsigned int", 3, 5),
        m("c", "unsigned int", 8, 24),
        m("d", "unsigned int", 32, 4),
    ]
}

#[test]
fn dwarf5_bitfields_use_data_bit_offset() {
    let dbo = |v: u8| vec![(dw::DW_AT_data_bit_offset, A::Data1(v))];
    let got = bitfield_struct(
        5,
        RunTimeEndian::Little,
        &[
            ("a", 3, dbo(0)),
            ("b", 5, dbo(3)),
            ("c", 24, dbo(8)),
            ("d", 4, dbo(32)),
        ],
    );
    assert_eq!(got, bitfield_layout());
}

/// DWARF 4 attributes of a bitfield: storage unit at `byte` (4 bytes), `DW_AT_bit_offset`.
fn dw4(byte: u8, bit_offset: A) -> Attrs {
    vec![
        (dw::DW_AT_data_member_location, A::Data1(byte)),
        (dw::DW_AT_byte_size, A::Data1(4)),
        (dw::DW_AT_bit_offset, bit_offset),
    ]
}

#[test]
fn dwarf4_bitfields_little_endian_count_from_the_storage_msb() {
    // DW_AT_bit_offset counts from the most significant bit of the 32-bit storage
    // unit, which on a little-endian machine is its last bit: a (3 bits at bit 0) has
    // 32 - 0 - 3 = 29, b 32 - 3 - 5 = 24, c 32 - 8 - 24 = 0, d 32 - 0 - 4 = 28.
    let got = bitfield_struct(
        4,
        RunTimeEndian::Little,
        &[
            ("a", 3, dw4(0, A::Data1(29))),
            ("b", 5, dw4(0, A::Data1(24))),
            ("c", 24, dw4(0, A::Data1(0))),
            ("d", 4, dw4(4, A::Data1(28))),
        ],
    );
    assert_eq!(got, bitfield_layout());
}

#[test]
fn dwarf4_bitfields_big_endian_count_from_the_first_bit() {
    // On a big-endian machine the most significant bit comes first: DW_AT_bit_offset
    // is the offset within the storage unit itself.
    let got = bitfield_struct(
        4,
        RunTimeEndian::Big,
        &[
            ("a", 3, dw4(0, A::Data1(0))),
            ("b", 5, dw4(0, A::Data1(3))),
            ("c", 24, dw4(0, A::Data1(8))),
            ("d", 4, dw4(4, A::Data1(0))),
        ],
    );
    assert_eq!(got, bitfield_layout());
}

#[test]
fn dwarf4_bitfield_spilling_past_its_unit_has_a_negative_bit_offset() {
    // struct __attribute__((packed)) s { char c; unsigned b:31; };  b starts at bit 8
    // and runs past the first 32-bit unit; gcc writes bit_offset 32 - 8 - 31 = -7.
    let got = bitfield_struct(4, RunTimeEndian::Little, &[("b", 31, dw4(0, A::Sdata(-7)))]);
    assert_eq!(got, [m("b", "unsigned int", 8, 31)]);
}

#[test]
fn dwarf4_bitfield_storage_size_from_its_type_through_typedefs() {
    // No DW_AT_byte_size on the member: the storage unit is its type, here
    // `const u8` with typedef unsigned char u8 (1 byte). Byte 2, 2 bits, bit_offset 5:
    // little endian 16 + 8 - 5 - 2 = 17, big endian 16 + 5 = 21.
    for (endian, want) in [(RunTimeEndian::Little, 17), (RunTimeEndian::Big, 21)] {
        let mut d = Dw::with_endian(4, endian);
        let uc = d.base("unsigned char", dw::DW_ATE_unsigned_char, 1);
        let u8_t = d.of(dw::DW_TAG_typedef, "u8", uc);
        let c = d.of(dw::DW_TAG_const_type, "", u8_t);
        let s = composite(&mut d, dw::DW_TAG_structure_type, "s", 3);
        d.die(
            s,
            dw::DW_TAG_member,
            "f",
            &[
                (dw::DW_AT_type, r(c)),
                (dw::DW_AT_data_member_location, A::Data1(2)),
                (dw::DW_AT_bit_size, A::Data1(2)),
                (dw::DW_AT_bit_offset, A::Data1(5)),
            ],
        );
        let out = d.convert().unwrap();
        assert_eq!(
            out.members("s"),
            [m("f", "const u8", want, 2)],
            "{endian:?}"
        );
    }
}

#[test]
fn decl_tags_on_structs_members_and_typedefs() {
    // struct s { int a; int b __decl_tag("m"); } __decl_tag("t");
    // typedef int td __decl_tag("d");
    let mut d = Dw::new(5);
    let i = d.int();
    let s = composite(&mut d, dw::DW_TAG_structure_type, "s", 8);
    d.die(s, dw::DW_TAG_member, "a", &[(dw::DW_AT_type, r(i))]);
    let b = d.die(
        s,
        dw::DW_TAG_member,
        "b",
        &[
            (dw::DW_AT_type, r(i)),
            (dw::DW_AT_data_member_location, A::Data1(4)),
        ],
    );
    let annotate = |d: &mut Dw, parent: UnitEntryId, value: &str| {
        let v = d.strp(value);
        d.die(
            parent,
            gimli::DwTag(0x6000),
            "btf_decl_tag",
            &[(dw::DW_AT_const_value, v)],
        );
    };
    annotate(&mut d, b, "m");
    annotate(&mut d, s, "t");
    let td = d.of(dw::DW_TAG_typedef, "td", i);
    annotate(&mut d, td, "d");
    let out = d.convert().unwrap();
    let mut tags: Vec<String> = out
        .all()
        .into_iter()
        .filter(|t| t.starts_with("decl_tag"))
        .collect();
    tags.sort();
    // component: the member's index, or -1 for the type itself.
    assert_eq!(
        tags,
        [
            "decl_tag(d) -1 td",
            "decl_tag(m) 1 struct s",
            "decl_tag(t) -1 struct s"
        ]
    );
    assert_eq!(
        out.members("s"),
        [m("a", "int", 0, 0), m("b", "int", 32, 0)]
    );
}
