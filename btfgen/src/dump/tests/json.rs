//! The JSON listing: a bare array of one object per line, each with the fields and
//! key order of bpftool v7.1's `-j btf dump file F` objects (checked once on
//! [`every_kind`] by comparing the parsed objects and their key order; bpftool wraps
//! them in `{"types":[...]}` and sign-extends the unsigned ENUM value 4294967295 to
//! 18446744073709551615, where this prints the value).

use crate::btf::test_util::Builder;
use crate::btf::Btf;
use crate::dump::dump_json;

use super::every_kind;

fn json(btf: &Btf, ids: Option<&[u32]>) -> String {
    let mut out = String::new();
    dump_json(btf, ids, &mut out).expect("dumps");
    out
}

/// The object of each type of [`every_kind`], in id order.
const EVERY_KIND: &[&str] = &[
    r#"{"id":1,"kind":"INT","name":"int","size":4,"bits_offset":0,"nr_bits":32,"encoding":"SIGNED"}"#,
    r#"{"id":2,"kind":"INT","name":"unsigned char","size":1,"bits_offset":0,"nr_bits":8,"encoding":"(none)"}"#,
    r#"{"id":3,"kind":"INT","name":"_Bool","size":1,"bits_offset":0,"nr_bits":8,"encoding":"BOOL"}"#,
    r#"{"id":4,"kind":"PTR","name":"(anon)","type_id":6}"#,
    r#"{"id":5,"kind":"ARRAY","name":"(anon)","type_id":2,"index_type_id":1,"nr_elems":16}"#,
    r#"{"id":6,"kind":"STRUCT","name":"task","size":24,"vlen":3,"members":[{"name":"pid","type_id":1,"bits_offset":0},{"name":"flag","type_id":1,"bits_offset":32,"bitfield_size":1},{"name":"comm","type_id":5,"bits_offset":64}]}"#,
    r#"{"id":7,"kind":"UNION","name":"u","size":4,"vlen":1,"members":[{"name":"x","type_id":1,"bits_offset":0}]}"#,
    r#"{"id":8,"kind":"ENUM","name":"e","encoding":"UNSIGNED","size":4,"vlen":2,"values":[{"name":"A","val":0},{"name":"B","val":4294967295}]}"#,
    r#"{"id":9,"kind":"ENUM","name":"s","encoding":"SIGNED","size":4,"vlen":1,"values":[{"name":"N","val":-1}]}"#,
    r#"{"id":10,"kind":"ENUM64","name":"e64","encoding":"UNSIGNED","size":8,"vlen":1,"values":[{"name":"H","val":1099511627776}]}"#,
    r#"{"id":11,"kind":"FWD","name":"fw","fwd_kind":"union"}"#,
    r#"{"id":12,"kind":"TYPEDEF","name":"td","type_id":1}"#,
    r#"{"id":13,"kind":"VOLATILE","name":"(anon)","type_id":1}"#,
    r#"{"id":14,"kind":"CONST","name":"(anon)","type_id":13}"#,
    r#"{"id":15,"kind":"RESTRICT","name":"(anon)","type_id":4}"#,
    r#"{"id":16,"kind":"FUNC_PROTO","name":"(anon)","ret_type_id":1,"vlen":2,"params":[{"name":"p","type_id":4},{"name":"(anon)","type_id":0}]}"#,
    r#"{"id":17,"kind":"FUNC","name":"f","type_id":16,"linkage":"static"}"#,
    r#"{"id":18,"kind":"VAR","name":"v","type_id":1,"linkage":"global"}"#,
    r#"{"id":19,"kind":"DATASEC","name":".data","size":4,"vlen":1,"vars":[{"type_id":18,"offset":0,"size":4}]}"#,
    r#"{"id":20,"kind":"FLOAT","name":"double","size":8}"#,
    r#"{"id":21,"kind":"DECL_TAG","name":"dt","type_id":6,"component_idx":-1}"#,
    r#"{"id":22,"kind":"TYPE_TAG","name":"user","type_id":1}"#,
];

#[test]
fn every_kind_is_one_object_per_line_in_an_array() {
    let want = format!("[\n{}\n]\n", EVERY_KIND.join(",\n"));
    assert_eq!(json(&every_kind(), None), want);
}

#[test]
fn ids_pick_the_objects_and_no_ids_is_an_empty_array() {
    let btf = every_kind();
    assert_eq!(
        json(&btf, Some(&[16, 99, 1])),
        format!("[\n{},\n{}\n]\n", EVERY_KIND[15], EVERY_KIND[0])
    );
    assert_eq!(json(&btf, Some(&[])), "[]\n");
    assert_eq!(json(&Btf::new(), None), "[]\n");
}

#[test]
fn names_are_json_escaped() {
    let mut b = Builder::new();
    b.int("a\"b\\c", 4);
    assert_eq!(
        json(&b.build(), None),
        "[\n{\"id\":1,\"kind\":\"INT\",\"name\":\"a\\\"b\\\\c\",\"size\":4,\
         \"bits_offset\":0,\"nr_bits\":32,\"encoding\":\"SIGNED\"}\n]\n"
    );
}
