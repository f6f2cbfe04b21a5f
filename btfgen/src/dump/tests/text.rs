//! The text listing, line for line as bpftool v7.1 prints `btf dump file F` for the
//! same BTF (checked once on [`every_kind`]'s `to_bytes()`).

use std::sync::Arc;

use crate::btf::test_util::Builder;
use crate::btf::Btf;
use crate::dump::dump_text;

use super::every_kind;

fn text(btf: &Btf, ids: Option<&[u32]>) -> String {
    let mut out = String::new();
    dump_text(btf, ids, &mut out).expect("dumps");
    out
}

/// bpftool's listing of [`every_kind`], one entry per type.
const EVERY_KIND: &[&str] = &[
    "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n",
    "[2] INT 'unsigned char' size=1 bits_offset=0 nr_bits=8 encoding=(none)\n",
    "[3] INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL\n",
    "[4] PTR '(anon)' type_id=6\n",
    "[5] ARRAY '(anon)' type_id=2 index_type_id=1 nr_elems=16\n",
    "[6] STRUCT 'task' size=24 vlen=3\n\t'pid' type_id=1 bits_offset=0\n\t'flag' type_id=1 bits_offset=32 bitfield_size=1\n\t'comm' type_id=5 bits_offset=64\n",
    "[7] UNION 'u' size=4 vlen=1\n\t'x' type_id=1 bits_offset=0\n",
    "[8] ENUM 'e' encoding=UNSIGNED size=4 vlen=2\n\t'A' val=0\n\t'B' val=4294967295\n",
    "[9] ENUM 's' encoding=SIGNED size=4 vlen=1\n\t'N' val=-1\n",
    "[10] ENUM64 'e64' encoding=UNSIGNED size=8 vlen=1\n\t'H' val=1099511627776ULL\n",
    "[11] FWD 'fw' fwd_kind=union\n",
    "[12] TYPEDEF 'td' type_id=1\n",
    "[13] VOLATILE '(anon)' type_id=1\n",
    "[14] CONST '(anon)' type_id=13\n",
    "[15] RESTRICT '(anon)' type_id=4\n",
    "[16] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2\n\t'p' type_id=4\n\t'(anon)' type_id=0\n",
    "[17] FUNC 'f' type_id=16 linkage=static\n",
    "[18] VAR 'v' type_id=1, linkage=global\n",
    "[19] DATASEC '.data' size=4 vlen=1\n\ttype_id=18 offset=0 size=4 (VAR 'v')\n",
    "[20] FLOAT 'double' size=8\n",
    "[21] DECL_TAG 'dt' type_id=6 component_idx=-1\n",
    "[22] TYPE_TAG 'user' type_id=1\n",
];

#[test]
fn every_kind_lists_as_bpftool_does() {
    assert_eq!(text(&every_kind(), None), EVERY_KIND.concat());
}

#[test]
fn each_kind_is_one_entry_in_id_order() {
    // Every type's entry starts with `[id] KIND 'name'`; its members, enumerators,
    // parameters and section variables follow on tab-indented lines.
    let btf = every_kind();
    for (id, t) in btf.iter() {
        let one = text(&btf, Some(&[id]));
        let label = format!("[{id}] {} '", t.kind.label());
        assert!(one.starts_with(&label), "{one}");
        assert_eq!(one, EVERY_KIND[id as usize - 1], "type {id}");
    }
}

#[test]
fn ids_pick_and_order_the_entries() {
    let btf = every_kind();
    assert_eq!(
        text(&btf, Some(&[12, 1, 99])),
        format!("{}{}", EVERY_KIND[11], EVERY_KIND[0]),
        "id 99 does not exist and is skipped"
    );
    assert_eq!(text(&btf, Some(&[])), "");
}

#[test]
fn split_btf_lists_its_own_types_with_split_ids() {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let base = Arc::new(b.build());
    let mut s = Builder::split(base);
    let p = s.ptr(int);
    s.typedef("intp", p);
    // As `bpftool btf dump file split -B base` prints it.
    assert_eq!(
        text(&s.build(), None),
        "[2] PTR '(anon)' type_id=1\n[3] TYPEDEF 'intp' type_id=2\n"
    );
}

#[test]
fn a_section_variable_of_type_void_shows_as_unknown() {
    let mut b = Builder::new();
    b.int("int", 4);
    b.datasec(".data", 4, &[(0, 0, 4)]);
    // As bpftool v7.1 prints it for the same (hand-written) BTF.
    assert_eq!(
        text(&b.build(), None),
        "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
         [2] DATASEC '.data' size=4 vlen=1\n\ttype_id=0 offset=0 size=4 (UNKNOWN '(anon)')\n"
    );
}
