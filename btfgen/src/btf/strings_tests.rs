//! String table tests: offsets, deduplication, `push` versus `add`, tables read from
//! files, and the offsets of a split BTF's table, which continue its base's.

use std::sync::Arc;

use crate::btf::test_util::Builder;
use crate::btf::{Btf, Strings};

#[test]
fn a_base_table_starts_with_the_empty_string() {
    let s = Strings::new(0);
    assert_eq!(s.as_bytes(), b"\0");
    assert_eq!(s.len(), 1);
    assert!(!s.is_empty());
    assert_eq!(s.get(0), Some(&b""[..]));
    assert_eq!(s.get(1), None, "one past the end");
}

#[test]
fn add_returns_offsets_after_the_previous_string_and_its_nul() {
    let mut s = Strings::new(0);
    // "\0" then "int\0" at 1, "long\0" at 5, "s\0" at 10.
    let table = [("int", 1), ("long", 5), ("s", 10), ("int", 1), ("long", 5)];
    for (name, off) in table {
        assert_eq!(s.add_str(name), off, "{name}");
    }
    assert_eq!(s.as_bytes(), b"\0int\0long\0s\0");
    assert_eq!(s.get(5), Some(&b"long"[..]));
    // An offset inside a string names its tail, as in any C string table.
    assert_eq!(s.get(7), Some(&b"ng"[..]));
    // The empty string is the one at offset 0.
    assert_eq!(s.add(b""), 0);
}

#[test]
fn push_appends_copies_and_add_finds_the_first() {
    let mut s = Strings::new(0);
    assert_eq!(s.push(b"a"), 1);
    assert_eq!(s.push(b"a"), 3, "push does not look for copies");
    assert_eq!(s.push(b"bc"), 5);
    assert_eq!(s.as_bytes(), b"\0a\0a\0bc\0");
    // add indexes what was pushed, and reuses the first of equal strings.
    assert_eq!(s.add(b"a"), 1);
    assert_eq!(s.add(b"bc"), 5);
    assert_eq!(s.add(b"d"), 8);
    assert_eq!(s.len(), 10);
}

#[test]
fn a_table_read_from_a_file_is_indexed_on_first_add() {
    let raw = b"\0x\0y\0x\0".to_vec();
    let mut s = Strings::from_raw(0, raw);
    assert_eq!(s.get(5), Some(&b"x"[..]));
    assert_eq!(s.add(b"x"), 1, "the first copy");
    assert_eq!(s.add(b"y"), 3);
    assert_eq!(s.add(b"z"), 7);
    assert_eq!(s.as_bytes(), b"\0x\0y\0x\0z\0");
}

#[test]
fn reserve_keeps_offsets_and_dedup() {
    let mut s = Strings::new(0);
    s.push(b"a");
    s.reserve(100, 1000);
    assert_eq!(s.add(b"a"), 1);
    assert_eq!(s.add(b"b"), 3);
}

#[test]
fn a_split_table_continues_the_base_offsets() {
    let mut s = Strings::new(100);
    assert!(s.is_empty(), "no leading NUL: offset 0 is the base's");
    assert_eq!(s.start(), 100);
    assert_eq!(s.add_str("x"), 100);
    assert_eq!(s.add_str("yz"), 102);
    assert_eq!(s.add_str("x"), 100);
    assert_eq!(s.get(102), Some(&b"yz"[..]));
    assert_eq!(s.get(99), None, "below the table: the base's");
    assert_eq!(s.get(105), None);
}

#[test]
fn btf_names_resolve_in_the_base_or_the_split_table() {
    let mut b = Builder::new();
    b.int("int", 4);
    let base = Arc::new(b.build());
    assert_eq!(base.strings_end(), 5, "\"\\0int\\0\"");
    let mut split = Btf::new_split(base.clone());
    let off = split.add_str("task");
    assert_eq!(off, 5);
    assert_eq!(split.strings_end(), 10);
    assert_eq!(split.name(off), "task");
    assert_eq!(split.name(1), "int", "the base's");
    assert_eq!(split.name(3), "t", "a tail of the base's \"int\"");
    assert_eq!(split.name(10), "", "past the end");
    assert_eq!(split.add_str(""), 0);
    assert_eq!(split.push_bytes(b""), 0);
    assert_eq!(split.push_bytes(b"task"), 10, "push makes a second copy");
}

/// `Btf::add_str` on split BTF adds to the split's own table even when the base has the
/// string (unlike libbpf's `btf__add_str`, which returns the base offset); a second add
/// reuses the split's copy.
#[test]
fn split_add_str_copies_a_base_string_once() {
    let mut b = Builder::new();
    b.int("int", 4);
    let base = Arc::new(b.build());
    let end = base.strings_end();
    let mut split = Btf::new_split(base);
    let off = split.add_str("int");
    assert_eq!(off, end, "the first own string starts where the base's end");
    assert_eq!(split.add_str("int"), off);
    assert_eq!(split.name(off), "int");
}
