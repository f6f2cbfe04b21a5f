//! Base types, modifiers, typedefs, enums, arrays, function prototypes, declarations
//! and type tags.

use gimli::constants as dw;
use gimli::write::{AttributeValue as A, UnitEntryId};

use super::{r, Dw, Out};
use crate::btf::*;
use crate::dwarf::error::EncodeError;

fn int(size: u32, encoding: u8) -> Kind {
    Kind::Int(Int {
        size,
        encoding,
        offset: 0,
        bits: (size * 8) as u8,
    })
}

#[test]
fn base_types_become_ints_and_floats() {
    // (DWARF name, DW_ATE, byte size) -> (BTF name, kind): docs/encoding.md's base_type
    // row: signed and signed_char are SIGNED, boolean BOOL, everything else no encoding.
    let cases: &[(&str, gimli::DwAte, u8, &str, Kind)] = &[
        ("int", dw::DW_ATE_signed, 4, "int", int(4, INT_SIGNED)),
        (
            "unsigned int",
            dw::DW_ATE_unsigned,
            4,
            "unsigned int",
            int(4, 0),
        ),
        (
            "char",
            dw::DW_ATE_signed_char,
            1,
            "char",
            int(1, INT_SIGNED),
        ),
        (
            "unsigned char",
            dw::DW_ATE_unsigned_char,
            1,
            "unsigned char",
            int(1, 0),
        ),
        ("_Bool", dw::DW_ATE_boolean, 1, "_Bool", int(1, INT_BOOL)),
        (
            "long long int",
            dw::DW_ATE_signed,
            8,
            "long long int",
            int(8, INT_SIGNED),
        ),
        (
            "__int128",
            dw::DW_ATE_signed,
            16,
            "__int128",
            int(16, INT_SIGNED),
        ),
        (
            "float",
            dw::DW_ATE_float,
            4,
            "float",
            Kind::Float { size: 4 },
        ),
        (
            "double",
            dw::DW_ATE_float,
            8,
            "double",
            Kind::Float { size: 8 },
        ),
        (
            "long double",
            dw::DW_ATE_float,
            16,
            "long double",
            Kind::Float { size: 16 },
        ),
        // Sizes that are not a power of two (clang's DW_ATE_unsigned_24), zero, or over
        // 16 bytes: pahole's 4-byte stand-in, keeping the signedness.
        (
            "__u24",
            dw::DW_ATE_unsigned,
            3,
            "__SANITIZED_FAKE_INT__",
            int(4, 0),
        ),
        (
            "__s24",
            dw::DW_ATE_signed,
            3,
            "__SANITIZED_FAKE_INT__",
            int(4, INT_SIGNED),
        ),
        (
            "empty",
            dw::DW_ATE_unsigned,
            0,
            "__SANITIZED_FAKE_INT__",
            int(4, 0),
        ),
        (
            "wide",
            dw::DW_ATE_unsigned,
            32,
            "__SANITIZED_FAKE_INT__",
            int(4, 0),
        ),
    ];
    for (dwarf_name, ate, size, name, kind) in cases {
        let mut d = Dw::new(5);
        d.base(dwarf_name, *ate, *size);
        let out = d.convert().unwrap();
        assert_eq!(out.btf.types().len(), 1, "{dwarf_name}");
        let t = &out.btf.types()[0];
        assert_eq!(out.btf.name(t.name), *name, "{dwarf_name}");
        assert_eq!(t.kind, *kind, "{dwarf_name}");
    }
}

#[test]
fn without_floats_a_float_is_an_unsigned_int_of_its_size() {
    // pahole without --btf_gen_floats.
    let mut d = Dw::new(5);
    d.opts.features.float = false;
    d.base("double", dw::DW_ATE_float, 8);
    let out = d.convert().unwrap();
    assert_eq!(out.named("double").kind, int(8, 0));
}

#[test]
fn floats_btf_cannot_hold_are_errors() {
    for (ate, size) in [
        (dw::DW_ATE_float, 6),
        (dw::DW_ATE_float, 1),
        (dw::DW_ATE_complex_float, 8),
        (dw::DW_ATE_imaginary_float, 4),
    ] {
        let mut d = Dw::new(5);
        d.base("f", ate, size);
        let err = d.convert().err();
        assert!(
            matches!(err, Some(EncodeError::Unsupported(_))),
            "{ate} of {size} bytes: {err:?}"
        );
    }
}

#[test]
fn pointers_and_qualifiers_chain_in_dwarf_order() {
    // const volatile int *restrict p;  and  void *v;  and a C++ reference.
    let mut d = Dw::new(4);
    let i = d.int();
    let v = d.of(dw::DW_TAG_volatile_type, "", i);
    let cv = d.of(dw::DW_TAG_const_type, "", v);
    let ptr = d.of(dw::DW_TAG_pointer_type, "", cv);
    let rp = d.of(dw::DW_TAG_restrict_type, "", ptr);
    d.of(dw::DW_TAG_typedef, "p_t", rp);
    let root = d.root();
    let void_ptr = d.die(root, dw::DW_TAG_pointer_type, "", &[]);
    d.of(dw::DW_TAG_typedef, "v_t", void_ptr);
    let reference = d.of(dw::DW_TAG_reference_type, "", i);
    d.of(dw::DW_TAG_typedef, "ref_t", reference);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("p_t"), "restrict *const volatile int");
    assert_eq!(out.typedef("v_t"), "*void");
    assert_eq!(out.typedef("ref_t"), "*int");
}

#[test]
fn atomic_is_the_plain_type_and_typedefs_chain() {
    // typedef _Atomic int a_t; typedef a_t b_t;  BTF has no _Atomic (docs/encoding.md).
    let mut d = Dw::new(5);
    let i = d.int();
    let atomic = d.of(dw::DW_TAG_atomic_type, "", i);
    let a = d.of(dw::DW_TAG_typedef, "a_t", atomic);
    d.of(dw::DW_TAG_typedef, "b_t", a);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("a_t"), "int");
    assert_eq!(out.typedef("b_t"), "a_t");
    // Nothing was made for the _Atomic DIE: int and two typedefs.
    assert_eq!(out.btf.types().len(), 3);
}

#[test]
fn unspecified_type_is_void() {
    // C++'s decltype(nullptr): DW_TAG_unspecified_type, void in BTF.
    let mut d = Dw::new(5);
    let root = d.root();
    let n = d.die(root, dw::DW_TAG_unspecified_type, "decltype(nullptr)", &[]);
    d.of(dw::DW_TAG_typedef, "nullptr_t", n);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("nullptr_t"), "void");
}

/// A unit with an enum `e` of `size` bytes (`None`: no DW_AT_byte_size) with `values`,
/// based on `base` when given.
fn enum_unit(
    size: Option<u8>,
    base: Option<(&str, gimli::DwAte, u8)>,
    values: &[(&str, A)],
) -> (Dw, UnitEntryId) {
    let mut d = Dw::new(5);
    let mut attrs = Vec::new();
    if let Some(size) = size {
        attrs.push((dw::DW_AT_byte_size, A::Data1(size)));
    }
    if let Some((name, ate, bytes)) = base {
        let b = d.base(name, ate, bytes);
        attrs.push((dw::DW_AT_type, r(b)));
    }
    let root = d.root();
    let e = d.die(root, dw::DW_TAG_enumeration_type, "e", &attrs);
    for (name, value) in values {
        d.die(
            e,
            dw::DW_TAG_enumerator,
            name,
            &[(dw::DW_AT_const_value, value.clone())],
        );
    }
    (d, e)
}

fn enum_of(out: &Out) -> (Kind, Vec<(String, i64)>) {
    let t = out.named("e");
    let values = match &t.kind {
        Kind::Enum(e) | Kind::Enum64(e) => e.values.iter(),
        k => panic!("not an enum: {k:?}"),
    };
    let values = values
        .map(|v| (out.btf.name(v.name).into_owned(), v.value))
        .collect();
    (t.kind.clone(), values)
}

#[test]
fn enum_values_are_read_as_elfutils_reads_them() {
    // (value attribute, value in BTF, whether it makes the ENUM signed). sdata is
    // sign-extended, data1..8 zero-extended; a 4-byte ENUM holds the low 32 bits (the
    // model keeps them sign-extended), and only a negative value makes it signed
    // (libbpf's btf__add_enum_value).
    let cases: &[(A, i64, bool)] = &[
        (A::Sdata(-1), -1, true),
        (A::Sdata(7), 7, false),
        (A::Udata(7), 7, false),
        (A::Data1(0xff), 255, false),
        (A::Data2(0x8000), 0x8000, false),
        (A::Data4(0xffff_ffff), -1, false),
        (A::Data8(0x1_0000_0002), 2, false),
    ];
    for (value, want, signed) in cases {
        let out = enum_unit(Some(4), None, &[("V", value.clone())])
            .0
            .convert()
            .unwrap();
        let (kind, values) = enum_of(&out);
        let Kind::Enum(e) = kind else {
            panic!("{value:?}: {kind:?}")
        };
        assert_eq!((e.size, e.signed), (4, *signed), "{value:?}");
        assert_eq!(values, [("V".to_string(), *want)], "{value:?}");
    }
}

#[test]
fn enums_over_4_bytes_are_enum64_signed_as_their_base() {
    let big = A::Data8(0x1_0000_0000);
    let unsigned = enum_unit(
        Some(8),
        Some(("long unsigned int", dw::DW_ATE_unsigned, 8)),
        &[("BIG", big.clone()), ("NEG", A::Sdata(-2))],
    );
    let out = unsigned.0.convert().unwrap();
    let (kind, values) = enum_of(&out);
    assert!(
        matches!(
            kind,
            Kind::Enum64(Enum {
                size: 8,
                signed: false,
                ..
            })
        ),
        "{kind:?}"
    );
    // ENUM64 keeps all 64 bits: no truncation.
    assert_eq!(
        values,
        [("BIG".to_string(), 1 << 32), ("NEG".to_string(), -2)]
    );

    let signed = enum_unit(
        Some(8),
        Some(("long int", dw::DW_ATE_signed, 8)),
        &[("BIG", big)],
    );
    let (kind, _) = enum_of(&signed.0.convert().unwrap());
    assert!(
        matches!(kind, Kind::Enum64(Enum { signed: true, .. })),
        "{kind:?}"
    );
}

#[test]
fn enum64_signedness_looks_through_typedefs_and_qualifiers() {
    // enum e : const s64 { ... } with typedef long int s64.
    let mut d = Dw::new(5);
    let long = d.base("long int", dw::DW_ATE_signed, 8);
    let s64 = d.of(dw::DW_TAG_typedef, "s64", long);
    let c = d.of(dw::DW_TAG_const_type, "", s64);
    let root = d.root();
    let e = d.die(
        root,
        dw::DW_TAG_enumeration_type,
        "e",
        &[(dw::DW_AT_byte_size, A::Data1(8)), (dw::DW_AT_type, r(c))],
    );
    d.die(
        e,
        dw::DW_TAG_enumerator,
        "A",
        &[(dw::DW_AT_const_value, A::Sdata(1))],
    );
    let (kind, _) = enum_of(&d.convert().unwrap());
    assert!(
        matches!(kind, Kind::Enum64(Enum { signed: true, .. })),
        "{kind:?}"
    );
}

#[test]
fn enum_declaration_is_an_empty_4_byte_enum() {
    // enum e;  (no DW_AT_byte_size, no values): docs/encoding.md.
    let (mut d, e) = enum_unit(None, None, &[]);
    d.set(e, dw::DW_AT_declaration, A::Flag(true));
    let (kind, values) = enum_of(&d.convert().unwrap());
    assert!(
        matches!(
            kind,
            Kind::Enum(Enum {
                size: 4,
                signed: false,
                ..
            })
        ),
        "{kind:?}"
    );
    assert!(values.is_empty());
}

#[test]
fn array_dimensions_multiply_into_one_array() {
    // One subrange per dimension: upper_bound + 1, or count; flexible and
    // variable-length dimensions count 0 (docs/encoding.md's array_type row).
    let cases: &[(&[(gimli::DwAt, A)], u32)] = &[
        (&[(dw::DW_AT_upper_bound, A::Data1(9))], 10),
        (&[(dw::DW_AT_count, A::Data1(10))], 10),
        (&[(dw::DW_AT_upper_bound, A::Udata(0))], 1),
        // int a[0] as gcc writes it: upper bound -1.
        (&[(dw::DW_AT_upper_bound, A::Sdata(-1))], 0),
        // int a[]: no bound at all.
        (&[], 0),
        // A VLA: the bound is an expression.
        (
            &[(
                dw::DW_AT_upper_bound,
                A::Exprloc(gimli::write::Expression::raw(vec![0x91, 0x7c])),
            )],
            0,
        ),
        (
            &[(
                dw::DW_AT_count,
                A::Exprloc(gimli::write::Expression::raw(vec![0x91, 0x7c])),
            )],
            0,
        ),
    ];
    for (bound, want) in cases {
        let mut d = Dw::new(5);
        let i = d.int();
        let a = d.of(dw::DW_TAG_array_type, "", i);
        d.die(a, dw::DW_TAG_subrange_type, "", bound);
        d.of(dw::DW_TAG_typedef, "a_t", a);
        let out = d.convert().unwrap();
        assert_eq!(out.typedef("a_t"), format!("[{want}]int"), "{bound:?}");
    }
}

#[test]
fn multi_dimensional_arrays_flatten_and_share_one_index_int() {
    // int m[2][3]; char s[4];  -> ARRAY [6] of int, ARRAY [4] of char, both indexed by
    // one synthesized `int` (pahole's index type), even though the unit has no int.
    let mut d = Dw::new(4);
    let long = d.base("long int", dw::DW_ATE_signed, 8);
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let m = d.of(dw::DW_TAG_array_type, "", long);
    d.die(
        m,
        dw::DW_TAG_subrange_type,
        "",
        &[(dw::DW_AT_upper_bound, A::Data1(1))],
    );
    d.die(
        m,
        dw::DW_TAG_subrange_type,
        "",
        &[(dw::DW_AT_count, A::Data1(3))],
    );
    let s = d.of(dw::DW_TAG_array_type, "", c);
    d.die(
        s,
        dw::DW_TAG_subrange_type,
        "",
        &[(dw::DW_AT_upper_bound, A::Data1(3))],
    );
    d.of(dw::DW_TAG_typedef, "m_t", m);
    d.of(dw::DW_TAG_typedef, "s_t", s);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("m_t"), "[6]long int");
    assert_eq!(out.typedef("s_t"), "[4]char");
    let index = out.id("int");
    assert_eq!(out.named("int").kind, int(4, INT_SIGNED));
    for t in out.btf.types() {
        if let Kind::Array(a) = t.kind {
            assert_eq!(a.index, index);
        }
    }
}

#[test]
fn subroutine_types_are_protos_with_varargs_last() {
    // typedef void (*cb)(int, char *, ...);  typedef int (*get)(void);
    let mut d = Dw::new(5);
    let i = d.int();
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let cp = d.of(dw::DW_TAG_pointer_type, "", c);
    let root = d.root();
    let f = d.die(root, dw::DW_TAG_subroutine_type, "", &[]);
    d.die(
        f,
        dw::DW_TAG_formal_parameter,
        "",
        &[(dw::DW_AT_type, r(i))],
    );
    d.die(
        f,
        dw::DW_TAG_formal_parameter,
        "",
        &[(dw::DW_AT_type, r(cp))],
    );
    d.die(f, dw::DW_TAG_unspecified_parameters, "", &[]);
    let fp = d.of(dw::DW_TAG_pointer_type, "", f);
    d.of(dw::DW_TAG_typedef, "cb", fp);
    let g = d.of(dw::DW_TAG_subroutine_type, "", i);
    let gp = d.of(dw::DW_TAG_pointer_type, "", g);
    d.of(dw::DW_TAG_typedef, "get", gp);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("cb"), "*fn(int,*char,...)->void");
    assert_eq!(out.typedef("get"), "*fn()->int");
}

#[test]
fn declarations_are_fwds_and_anonymous_ones_void() {
    let mut d = Dw::new(5);
    let root = d.root();
    let decl = [(dw::DW_AT_declaration, A::FlagPresent)];
    let s = d.die(root, dw::DW_TAG_structure_type, "s", &decl);
    let u = d.die(root, dw::DW_TAG_union_type, "u", &decl);
    let anon = d.die(root, dw::DW_TAG_structure_type, "", &decl);
    for (name, t) in [("s_t", s), ("u_t", u), ("anon_t", anon)] {
        let p = d.of(dw::DW_TAG_pointer_type, "", t);
        d.of(dw::DW_TAG_typedef, name, p);
    }
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("s_t"), "*fwd struct s");
    assert_eq!(out.typedef("u_t"), "*fwd union u");
    assert_eq!(out.typedef("anon_t"), "*void");
}

#[test]
fn type_tags_go_between_the_pointer_and_its_target() {
    // int __tag("a") __tag("b") *p;  clang writes both annotations as children of the
    // pointer; the last one in DWARF order ends up first after the PTR, as pahole does.
    let mut d = Dw::new(5);
    let i = d.int();
    let p = d.of(dw::DW_TAG_pointer_type, "", i);
    for tag in ["a", "b"] {
        let v = d.strp(tag);
        d.die(
            p,
            gimli::DwTag(0x6000),
            "btf_type_tag",
            &[(dw::DW_AT_const_value, v)],
        );
    }
    d.of(dw::DW_TAG_typedef, "p_t", p);
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("p_t"), "*tag(b) tag(a) int");
}

#[test]
fn nested_types_come_before_the_type_that_contains_them() {
    // struct outer { struct inner { int x; } i; };  pahole orders a DIE's type when its
    // subtree ends: int, inner, outer.
    let mut d = Dw::new(5);
    let root = d.root();
    let outer = d.die(
        root,
        dw::DW_TAG_structure_type,
        "outer",
        &[(dw::DW_AT_byte_size, A::Data1(4))],
    );
    let inner = d.die(
        outer,
        dw::DW_TAG_structure_type,
        "inner",
        &[(dw::DW_AT_byte_size, A::Data1(4))],
    );
    let i = d.die(
        inner,
        dw::DW_TAG_base_type,
        "int",
        &[
            (dw::DW_AT_encoding, A::Encoding(dw::DW_ATE_signed)),
            (dw::DW_AT_byte_size, A::Data1(4)),
        ],
    );
    d.die(inner, dw::DW_TAG_member, "x", &[(dw::DW_AT_type, r(i))]);
    d.die(outer, dw::DW_TAG_member, "i", &[(dw::DW_AT_type, r(inner))]);
    let out = d.convert().unwrap();
    assert_eq!(out.all(), ["int", "struct inner", "struct outer"]);
    assert_eq!(
        out.members("outer"),
        [("i".into(), "struct inner".into(), 0, 0)]
    );
}

#[test]
fn rust_units_are_skipped() {
    let mut d = Dw::new(5);
    let root = d.root();
    d.set(root, dw::DW_AT_language, A::Language(dw::DW_LANG_Rust));
    d.int();
    let out = d.convert().unwrap();
    assert!(out.btf.types().is_empty());
}

#[test]
fn names_from_debug_str_carry_their_offset_as_key_and_inline_ones_none() {
    // Inline DW_FORM_string names are looked up by their bytes in the dedup.
    let mut d = Dw::new(5);
    let i = d.int();
    let t = d.of(dw::DW_TAG_typedef, "", i);
    d.set(t, dw::DW_AT_name, A::String(b"inline_t".to_vec()));
    let out = d.convert().unwrap();
    assert_eq!(out.typedef("inline_t"), "int");
    assert_eq!(out.name_keys, 1, "only `int` is in .debug_str");
}
