//! Reader and writer tests on the wire format: exact bytes of small blobs, the
//! `kind_flag`/`vlen` packing of each kind, ELF `.BTF` round trips, split BTF, and
//! one table of malformed inputs with the error each must give.
//!
//! Offsets in the comments follow `struct btf_header` (24 bytes: magic u16, version
//! u8, flags u8, then hdr_len, type_off, type_len, str_off, str_len as u32) and
//! `struct btf_type` (name_off, info, size/type; info = kind_flag << 31 | kind << 24
//! | vlen), as include/uapi/linux/btf.h defines them.

use std::sync::Arc;

use object::Architecture;

use crate::btf::test_util::Builder;
use crate::btf::{Btf, BtfError, Endian, Kind, Type};

/// The little-endian blob every malformed-input case starts from (85 bytes):
///
/// | offset | what |
/// |---|---|
/// | 0..24  | header: type_off 0, type_len 52, str_off 52, str_len 9 |
/// | 24..40 | `[1] INT 'int'` (name 1), int data at 36 |
/// | 40..64 | `[2] STRUCT 's'` (name 5, info at 44); member `a` name at 52, type at 56, offset at 60 |
/// | 64..76 | `[3] PTR` (info at 68, type at 72) |
/// | 76..85 | strings `\0int\0s\0a\0` |
fn small_le() -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let s = b.strukt("s", 4, &[("a", int, 0)]);
    b.ptr(s);
    let mut btf = b.build();
    btf.set_endian(Endian::Little);
    let bytes = btf.to_bytes();
    assert_eq!(bytes.len(), 85, "layout the table below relies on");
    bytes
}

fn put(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The little-endian words of `bytes` from `at` on.
fn words(bytes: &[u8], at: usize) -> Vec<u32> {
    bytes[at..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn one_int_is_written_byte_for_byte_in_both_orders() {
    let mut b = Builder::new();
    b.int("int", 4);
    let mut btf = b.build();
    // Header: magic 0xeb9f, version 1, flags 0, hdr_len 24, type_off 0, type_len 16
    // (12-byte btf_type + 4-byte int data), str_off 16, str_len 5 ("\0int\0").
    // Type: name_off 1, info 0x01000000 (kind INT), size 4, int data
    // BTF_INT_SIGNED << 24 | offset 0 << 16 | 32 bits = 0x01000020.
    let le: Vec<u8> = [
        &[0x9f, 0xeb, 1, 0][..],
        &[
            24, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 5, 0, 0, 0,
        ],
        &[1, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0x20, 0, 0, 1],
        b"\0int\0",
    ]
    .concat();
    let be: Vec<u8> = [
        &[0xeb, 0x9f, 1, 0][..],
        &[
            0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 5,
        ],
        &[0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0x20],
        b"\0int\0",
    ]
    .concat();
    for (endian, want) in [(Endian::Little, le), (Endian::Big, be)] {
        btf.set_endian(endian);
        assert_eq!(btf.to_bytes(), want, "{endian:?}");
        let back = Btf::from_bytes(&want).expect("parses");
        assert_eq!(back.endian(), endian);
        assert_eq!(back.types(), btf.types());
    }
}

#[test]
fn each_kind_packs_kind_flag_vlen_and_trailing_data() {
    // (what, build the one type after `int` (id 1), its words: name, info,
    // size/type, then the kind's trailing data). Names: "int" is 1, the next is 5;
    // the Builder adds member and enumerator names before the type's own name.
    type Make = fn(&mut Builder, u32) -> u32;
    let table: &[(&str, Make, &[u32])] = &[
        (
            "bitfield struct sets kind_flag, offset = bits << 24 | bit offset",
            |b, int| b.strukt_bits("s", 4, &[("f", int, 3, 5)]),
            &[7, 1 << 31 | 4 << 24 | 1, 4, 5, 1, 5 << 24 | 3],
        ),
        (
            "plain struct keeps kind_flag clear and the offset in bits",
            |b, int| b.strukt("s", 8, &[("f", int, 32)]),
            &[7, 4 << 24 | 1, 8, 5, 1, 32],
        ),
        (
            "union",
            |b, int| b.union("u", 4, &[("f", int, 0)]),
            &[7, 5 << 24 | 1, 4, 5, 1, 0],
        ),
        (
            "signed enum sets kind_flag, -1 stored as 0xffffffff",
            |b, _| b.enum_sized("e", 4, true, &[("A", -1)]),
            &[7, 1 << 31 | 6 << 24 | 1, 4, 5, 0xffff_ffff],
        ),
        (
            "enum64 stores the value as low then high word",
            |b, _| b.enum64("e", false, &[("A", 0x1_0000_0002)]),
            &[7, 19 << 24 | 1, 8, 5, 2, 1],
        ),
        (
            "union forward declaration sets kind_flag",
            |b, _| b.fwd("u", true),
            &[5, 1 << 31 | 7 << 24, 0],
        ),
        (
            "struct forward declaration",
            |b, _| b.fwd("s", false),
            &[5, 7 << 24, 0],
        ),
        (
            "array: elem, index, nelems",
            |b, int| b.array(int, int, 16),
            &[0, 3 << 24, 0, 1, 1, 16],
        ),
        (
            "func proto: vlen params, ret in size/type",
            |b, int| b.func_proto(int, &[("x", int), ("", 0)]),
            &[0, 13 << 24 | 2, 1, 5, 1, 0, 0],
        ),
        (
            "var: linkage after the record",
            |b, int| b.var("v", int, 1),
            &[5, 14 << 24, 1, 1],
        ),
        (
            "datasec: var, offset, size per entry",
            |b, int| b.datasec(".data", 8, &[(int, 4, 4)]),
            &[5, 15 << 24 | 1, 8, 1, 4, 4],
        ),
        (
            "decl tag: component index after the record (-1 for the type)",
            |b, int| b.decl_tag("t", int, -1),
            &[5, 17 << 24, 1, 0xffff_ffff],
        ),
        (
            "type tag",
            |b, int| b.type_tag("user", int),
            &[5, 18 << 24, 1],
        ),
        ("float", |b, _| b.float("f", 8), &[5, 16 << 24, 8]),
        (
            "typedef / volatile / const / restrict are name + referenced id",
            |b, int| b.typedef("t", int),
            &[5, 8 << 24, 1],
        ),
        ("const", |b, int| b.konst(int), &[0, 10 << 24, 1]),
        ("volatile", |b, int| b.volatile(int), &[0, 9 << 24, 1]),
        ("restrict", |b, int| b.restrict(int), &[0, 11 << 24, 1]),
    ];
    for (what, make, want) in table {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        make(&mut b, int);
        let mut btf = b.build();
        btf.set_endian(Endian::Little);
        let bytes = btf.to_bytes();
        let type_len = words(&bytes, 12)[0] as usize;
        // The second record starts after the header and the 16-byte INT record.
        let got = words(&bytes[..24 + type_len], 40);
        assert_eq!(&got, want, "{what}");
        let back = Btf::from_bytes(&bytes).expect(what);
        assert_eq!(back.types(), btf.types(), "{what}");
    }
}

#[test]
fn a_global_func_keeps_its_linkage_in_vlen() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let proto = b.func_proto(int, &[]);
    let f = b.func("f", proto);
    let mut btf = b.build();
    if let Kind::Func { linkage, .. } = &mut btf.types_mut()[(f - 1) as usize].kind {
        *linkage = crate::btf::linkage::EXTERN;
    }
    btf.set_endian(Endian::Little);
    let bytes = btf.to_bytes();
    // INT (16 bytes) + FUNC_PROTO without params (12) put the FUNC at 24 + 28.
    assert_eq!(words(&bytes, 52)[..3], [5, 12 << 24 | 2, proto]);
    assert_eq!(
        Btf::from_bytes(&bytes).expect("parses").types(),
        btf.types()
    );
}

#[test]
fn malformed_inputs_give_their_error() {
    type Mutate = fn(&mut Vec<u8>);
    let table: &[(&str, Mutate, &str)] = &[
        ("empty input", |b| b.clear(), "truncated BTF: header"),
        (
            "bad magic",
            |b| b[..2].copy_from_slice(&[0x12, 0x34]),
            "not BTF: bad magic 0x3412",
        ),
        (
            "header cut short",
            |b| b.truncate(23),
            "truncated BTF: header",
        ),
        (
            "version 2",
            |b| b[2] = 2,
            "invalid BTF header: unsupported version 2",
        ),
        (
            "header shorter than btf_header",
            |b| put(b, 4, 20),
            "invalid BTF header: header length 20",
        ),
        (
            "header longer than the blob",
            |b| put(b, 4, 1000),
            "invalid BTF header: header length 1000",
        ),
        (
            "type section past the end",
            |b| put(b, 12, 1000),
            "truncated BTF: type section",
        ),
        (
            "string section past the end",
            |b| put(b, 20, 10),
            "truncated BTF: string section",
        ),
        (
            "string offset past the end",
            |b| put(b, 16, u32::MAX),
            "truncated BTF: string section",
        ),
        (
            "blob cut inside the string section",
            |b| b.truncate(80),
            "truncated BTF: string section",
        ),
        (
            "type section not 4-byte aligned",
            |b| {
                put(b, 8, 2);
                put(b, 12, 50);
            },
            "invalid BTF header: type section offset 2 not aligned",
        ),
        (
            "string section without its leading NUL",
            |b| b[76] = b'x',
            "looks like split BTF (its string section does not start with NUL), which \
             needs its base BTF",
        ),
        (
            "string section without its final NUL",
            |b| b[84] = b'x',
            "invalid BTF header: string section does not end with NUL",
        ),
        (
            "type name offset at the end of the strings",
            |b| put(b, 24, 9),
            "invalid BTF type 1: name offset 9 out of range",
        ),
        (
            "member name offset out of range",
            |b| put(b, 52, 100),
            "invalid BTF type 2: name offset 100 out of range",
        ),
        (
            "pointer to a type id past the last",
            |b| put(b, 72, 4),
            "looks like split BTF (type 3 refers to type 4, past its last type 3), which \
             needs its base BTF",
        ),
        (
            "member of a type id past the last",
            |b| put(b, 56, 7),
            "looks like split BTF (type 2 refers to type 7, past its last type 3), which \
             needs its base BTF",
        ),
        (
            "vlen past the end of the type section",
            |b| put(b, 44, 4 << 24 | 100),
            "truncated BTF: type record",
        ),
        (
            // The pointer's last word (its type, 0 now) starts the string section.
            "type section ending inside a record",
            |b| {
                put(b, 72, 0);
                put(b, 12, 48);
                put(b, 16, 48);
                put(b, 20, 13);
            },
            "truncated BTF: type record",
        ),
        (
            "kind 20 does not exist",
            |b| put(b, 68, 20 << 24),
            "invalid BTF type 3: unknown kind 20",
        ),
        (
            "kind 0 (BTF_KIND_UNKN) is not a type",
            |b| put(b, 68, 0),
            "invalid BTF type 3: unknown kind 0",
        ),
    ];
    let good = small_le();
    assert!(Btf::from_bytes(&good).is_ok());
    for (what, mutate, want) in table {
        let mut bytes = good.clone();
        mutate(&mut bytes);
        match Btf::from_bytes(&bytes) {
            Ok(_) => panic!("{what}: parsed"),
            Err(e) => assert_eq!(e.to_string(), *want, "{what}"),
        }
    }
}

#[test]
fn malformed_inputs_give_their_variant() {
    let good = small_le();
    let mut magic = good.clone();
    magic[0] = 0;
    assert!(matches!(
        Btf::from_bytes(&magic),
        Err(BtfError::BadMagic(0xeb00))
    ));
    assert!(matches!(
        Btf::from_bytes(&good[..10]),
        Err(BtfError::Truncated("header"))
    ));
    let mut kind = good.clone();
    put(&mut kind, 68, 31 << 24);
    assert!(matches!(
        Btf::from_bytes(&kind),
        Err(BtfError::Type { id: 3, .. })
    ));
}

/// The kernel (`btf_check_sec_info`) refuses a type section that runs into the string
/// section; here the 12-byte record `[1] PTR '(anon)' type_id=0` doubles as a valid
/// string section (it starts and ends with NUL).
#[test]
fn overlapping_sections_are_refused() {
    let mut bytes = vec![0x9f, 0xeb, 1, 0];
    for v in [24u32, 0, 12, 0, 12] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, 2 << 24, 0] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let e = Btf::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid BTF header: the type and string sections overlap (type section at 0+12, \
         string section at 0+12, 12 bytes after the header)"
    );
}

/// The rest of the kernel's layout rule: the sections, in offset order, fill what
/// follows the header exactly. Strings first is fine; a gap before, between or after
/// them is not (the kernel: "Unsupported section found").
#[test]
fn sections_must_tile_the_blob() {
    let good = small_le();
    // small_le: 24-byte header, types at 0+52, strings at 52+9.
    assert_eq!(words(&good[..24], 4), [24, 0, 52, 52, 9]);
    let types = good[24..76].to_vec();
    let strings = good[76..].to_vec();
    let blob = |type_off: u32, str_off: u32, body: &[&[u8]]| {
        let mut b = good[..24].to_vec();
        put(&mut b, 8, type_off);
        put(&mut b, 16, str_off);
        body.iter().for_each(|part| b.extend_from_slice(part));
        b
    };
    // Strings before types: the same BTF.
    let swapped = Btf::from_bytes(&blob(12, 0, &[&strings, &[0; 3], &types]));
    // (Strings are 9 bytes; types must be 4-aligned, so 3 bytes pad them: a gap.)
    assert_eq!(
        swapped.unwrap_err().to_string(),
        "invalid BTF header: data between the string and type sections (type section at \
         12+52, string section at 0+9, 64 bytes after the header)"
    );
    let mut strings12 = strings.clone();
    strings12.extend_from_slice(&[0; 3]);
    let mut swapped = blob(12, 0, &[&strings12, &types]);
    put(&mut swapped, 20, 12);
    let a = Btf::from_bytes(&good).unwrap();
    let b = Btf::from_bytes(&swapped).expect("strings first");
    assert_eq!(a.types(), b.types());
    for (bytes, want) in [
        (
            blob(4, 56, &[&[0; 4], &types, &strings]),
            "data before the type section (type section at 4+52, string section at 56+9, \
             65 bytes after the header)",
        ),
        (
            blob(0, 53, &[&types, &[0], &strings]),
            "data between the type and string sections (type section at 0+52, string \
             section at 53+9, 62 bytes after the header)",
        ),
        (
            [good.as_slice(), &[0]].concat(),
            "data after the string section (type section at 0+52, string section at 52+9, \
             62 bytes after the header)",
        ),
    ] {
        let e = Btf::from_bytes(&bytes).unwrap_err();
        assert_eq!(e.to_string(), format!("invalid BTF header: {want}"));
    }
}

#[test]
fn a_longer_header_is_skipped() {
    // A future btf_header may grow; hdr_len says where the sections start.
    let good = small_le();
    let mut long = good[..24].to_vec();
    long.extend_from_slice(&[0; 8]);
    long.extend_from_slice(&good[24..]);
    put(&mut long, 4, 32);
    let a = Btf::from_bytes(&good).expect("parses");
    let b = Btf::from_bytes(&long).expect("parses with a 32-byte header");
    assert_eq!(a.types(), b.types());
    assert_eq!(b.type_name(2), "s");
}

#[test]
fn every_builder_kind_round_trips_through_elf_in_both_orders() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let s = b.strukt_bits("s", 8, &[("a", int, 0, 3), ("b", int, 32, 0)]);
    let p = b.ptr(s);
    let e = b.enum_sized("e", 4, true, &[("A", -2)]);
    b.enum64("e64", false, &[("B", u64::MAX as i64)]);
    b.union("u", 4, &[("x", int, 0), ("y", e, 0)]);
    b.fwd("f", true);
    b.typedef("t", p);
    let c = b.konst(int);
    let v = b.volatile(c);
    b.restrict(p);
    b.type_tag("user", v);
    let proto = b.func_proto(int, &[("p", p), ("", 0)]);
    b.func("fn", proto);
    let var = b.var("var", int, 1);
    b.datasec(".data", 4, &[(var, 0, 4)]);
    b.decl_tag("tag", s, 1);
    b.float("double", 8);
    b.array(p, int, 3);
    let btf = b.build();
    for (endian, arch) in [
        (Endian::Little, Architecture::X86_64),
        (Endian::Big, Architecture::S390x),
    ] {
        let mut btf = btf.clone();
        btf.set_endian(endian);
        let elf = btf.to_elf(arch).expect("ELF written");
        assert!(elf.starts_with(b"\x7fELF"));
        let back = Btf::from_any_bytes(&elf, None).expect("ELF read");
        assert_eq!(back.endian(), endian);
        assert_eq!(back.types(), btf.types());
        assert_eq!(back.to_bytes(), btf.to_bytes());
        // The same call takes the raw blob too.
        let raw = Btf::from_any_bytes(&btf.to_bytes(), None).expect("raw read");
        assert_eq!(raw.types(), btf.types());
    }
}

#[test]
fn from_any_bytes_errors() {
    let mut obj = object::write::Object::new(
        object::BinaryFormat::Elf,
        Architecture::X86_64,
        object::Endianness::Little,
    );
    let text = obj.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::Text);
    obj.set_section_data(text, vec![0xc3], 1);
    let no_btf = obj.write().expect("ELF written");
    assert!(matches!(
        Btf::from_any_bytes(&no_btf, None),
        Err(BtfError::NoBtfSection)
    ));
    assert!(matches!(
        Btf::from_any_bytes(b"hello, world", None),
        Err(BtfError::UnknownFormat)
    ));
    let bad_elf = b"\x7fELF\x02\x01\x01garbage".to_vec();
    match Btf::from_any_bytes(&bad_elf, None) {
        Err(e @ BtfError::Elf(_)) => assert!(e.to_string().starts_with("bad ELF file: ")),
        other => panic!("{other:?}"),
    }
    let missing = Btf::from_file("/nonexistent/btfgen-test/vmlinux");
    assert!(matches!(missing, Err(BtfError::Io(_))));
}

/// A base with `int` and `struct s`, and a split BTF on it using both.
fn base_and_split() -> (Arc<Btf>, Btf) {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let s = b.strukt("s", 4, &[("a", int, 0)]);
    let base = Arc::new(b.build());
    let mut sb = Builder::split(base.clone());
    let p = sb.ptr(s);
    sb.strukt("t", 16, &[("s", p, 0), ("n", int, 64)]);
    (base, sb.build())
}

#[test]
fn split_btf_round_trips_on_its_base() {
    let (base, split) = base_and_split();
    // Base: "\0int\0s\0a\0" is 9 bytes, so split names start at offset 9 and split
    // ids at 3 (after void, int, s).
    assert_eq!(split.start_id(), 3);
    assert_eq!(split.strings().start(), 9);
    for endian in [Endian::Little, Endian::Big] {
        let mut split = split.clone();
        split.set_endian(endian);
        let bytes = split.to_bytes();
        let back = Btf::from_split_bytes(&bytes, base.clone()).expect("parses on base");
        assert_eq!(back.types(), split.types());
        assert_eq!(back.start_id(), 3);
        assert_eq!(back.type_name(4), "t");
        assert_eq!(back.type_name(2), "s", "base ids resolve in the base");
        assert_eq!(back.find_by_name("s").collect::<Vec<_>>(), [2]);
        assert_eq!(back.to_bytes(), bytes);
    }
}

#[test]
fn split_btf_needs_its_base() {
    let (base, split) = base_and_split();
    let bytes = split.to_bytes();
    // Alone, its string section ("t\0s\0n\0", no leading NUL) is not a base's.
    match Btf::from_bytes(&bytes) {
        Err(e) => assert_eq!(
            e.to_string(),
            "looks like split BTF (its string section does not start with NUL), which \
             needs its base BTF"
        ),
        Ok(_) => panic!("split BTF parsed as base"),
    }
    // On a smaller base ("\0int\0", 5 bytes) its strings span 5..11, so the member
    // names it wrote at 11 and 13 (after the real base's 9 bytes) are out of range.
    let mut b = Builder::new();
    b.int("int", 4);
    let small = Arc::new(b.build());
    match Btf::from_split_bytes(&bytes, small) {
        Err(e) => assert_eq!(
            e.to_string(),
            "invalid BTF type 3: name offset 13 out of range"
        ),
        Ok(_) => panic!("parsed on the wrong base"),
    }
    assert!(Btf::from_split_bytes(&bytes, base).is_ok());
}

#[test]
fn split_names_may_point_into_the_base_strings() {
    let (base, _) = base_and_split();
    let mut split = Btf::new_split(base.clone());
    // Offset 1 is the base's "int".
    split.add(Type {
        name: 1,
        kind: Kind::Typedef(1),
    });
    let back = Btf::from_split_bytes(&split.to_bytes(), base).expect("parses");
    assert_eq!(back.type_name(3), "int");
    assert_eq!(back.find_by_name("int").collect::<Vec<_>>(), [1, 3]);
}

/// `data` as a zlib stream of one stored (uncompressed) deflate block (RFC 1950/1951).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    assert!(data.len() <= 0xffff);
    let len = data.len() as u16;
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(data);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    z
}

/// An x86-64 ELF with one `SHF_COMPRESSED` section per (name, claimed size, zlib
/// bytes), and `pad` bytes of `.data`.
fn compressed_elf(sections: &[(&str, u64, Vec<u8>)], pad: usize) -> Vec<u8> {
    let mut obj = object::write::Object::new(
        object::BinaryFormat::Elf,
        Architecture::X86_64,
        object::Endianness::Little,
    );
    for (name, claim, z) in sections {
        let id = obj.add_section(
            Vec::new(),
            name.as_bytes().to_vec(),
            object::SectionKind::Debug,
        );
        // Elf64_Chdr: ch_type ELFCOMPRESS_ZLIB, ch_reserved, ch_size, ch_addralign.
        let mut data = [1u32.to_le_bytes(), 0u32.to_le_bytes()].concat();
        data.extend_from_slice(&claim.to_le_bytes());
        data.extend_from_slice(&1u64.to_le_bytes());
        data.extend_from_slice(z);
        obj.set_section_data(id, data, 1);
        obj.section_mut(id).flags = object::SectionFlags::Elf {
            sh_type: object::elf::SHT_PROGBITS,
            sh_flags: object::elf::SHF_COMPRESSED,
        };
    }
    let d = obj.add_section(Vec::new(), b".data".to_vec(), object::SectionKind::Data);
    obj.set_section_data(d, vec![0; pad], 1);
    obj.write().expect("ELF written")
}

#[test]
fn decompression_budget_is_64_times_the_file_within_1_mib_and_8_gib() {
    use super::decompress_budget;
    assert_eq!(decompress_budget(0), 1 << 20);
    assert_eq!(decompress_budget(16 << 10), 1 << 20);
    assert_eq!(decompress_budget(100 << 10), 6400 << 10);
    assert_eq!(decompress_budget(1 << 30), 8 << 30);
    assert_eq!(decompress_budget(usize::MAX), 8 << 30);
}

#[test]
fn compressed_sections_are_checked_together_before_decompressing() {
    use super::sections_data;
    use object::Object;
    let payload = b"the decompressed bytes".repeat(100);
    let z = zlib_stored(&payload);
    // Within the budget: both decompress.
    let elf = compressed_elf(
        &[
            (".a", payload.len() as u64, z.clone()),
            (".b", payload.len() as u64, z.clone()),
        ],
        0,
    );
    let file = object::File::parse(&*elf).unwrap();
    let found: Vec<_> = [".a", ".b"]
        .iter()
        .map(|n| file.section_by_name(n).unwrap())
        .collect();
    let data = sections_data(elf.len(), &found).expect("within the budget");
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|d| **d == payload[..]));

    // 20 KiB of padding makes a file of ~24 KiB: a budget of 64 times that, about
    // 1.5 MiB. Each section's 1 MiB claim is within it (and within 1032:1 of its 4 KiB
    // stored), both together are not: refused at the second, before any inflating
    // (the zlib bytes are not even valid).
    let junk = vec![0xffu8; 4 << 10];
    let elf = compressed_elf(
        &[(".a", 1 << 20, junk.clone()), (".b", 1 << 20, junk)],
        20 << 10,
    );
    let budget = 64 * elf.len() as u64;
    assert!(budget > 1 << 20 && budget < 2 << 20);
    let file = object::File::parse(&*elf).unwrap();
    let found: Vec<_> = [".a", ".b"]
        .iter()
        .map(|n| file.section_by_name(n).unwrap())
        .collect();
    let (index, message) = sections_data(elf.len(), &found).unwrap_err();
    assert_eq!(index, 1);
    assert_eq!(
        message,
        format!("compressed sections claim more than {budget} bytes in all (64 times the file's size, at most 8 GiB); refusing the file")
    );

    // One section claiming more than 1032:1 of what it stores is refused on its own.
    let elf = compressed_elf(&[(".a", 1033 * 100, vec![0; 100])], 1 << 20);
    let file = object::File::parse(&*elf).unwrap();
    let a = file.section_by_name(".a").unwrap();
    let (index, message) = sections_data(elf.len(), &[a]).unwrap_err();
    assert_eq!(index, 0);
    assert_eq!(
        message,
        "compressed section claims 103300 bytes from 100 (more than 1032:1)"
    );
}

/// A module ELF with `.BTF.base`: read on its distilled base without a base, relocated
/// onto a base when given one; a `.BTF.base` that is not BTF is one clear error.
#[test]
fn elf_with_distilled_base() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let task = b.strukt("task", 8, &[("pid", int, 0)]);
    let base = Arc::new(b.build());
    let mut s = Builder::split(base.clone());
    let p = s.ptr(task);
    s.strukt("m", 8, &[("t", p, 0)]);
    let d = crate::btf::distill(&s.build()).expect("distill");
    let elf = d
        .split
        .to_elf_with_base(Architecture::X86_64, None)
        .expect("ELF written");

    let alone = Btf::from_any_bytes(&elf, None).expect("read alone");
    assert_eq!(alone.start_id(), 2, "on the distilled base: task only");
    assert_eq!(alone.type_name(1), "task");

    let mut other = Builder::new();
    other.int("char", 1);
    let other_task = other.strukt("task", 16, &[]);
    let on = Btf::from_any_bytes(&elf, Some(Arc::new(other.build()))).expect("relocated");
    assert_eq!(on.start_id(), 3);
    assert_eq!(on.get(3).map(|t| &t.kind), Some(&Kind::Ptr(other_task)));

    let mut broken = elf.clone();
    let at = broken
        .windows(d.base.to_bytes().len())
        .position(|w| w == d.base.to_bytes())
        .expect("the .BTF.base bytes");
    broken[at] = 0;
    let err = Btf::from_any_bytes(&broken, None).unwrap_err();
    assert!(matches!(err, BtfError::DistilledBase(_)), "{err}");
    assert!(
        err.to_string().starts_with("bad ELF file: .BTF.base: "),
        "{err}"
    );
}
