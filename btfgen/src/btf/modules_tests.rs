use std::sync::Arc;

use super::*;
use crate::btf::test_util::Builder;
use crate::btf::Kind;

/// A vmlinux with `int`, and two modules each with a struct that points to itself.
fn two_modules() -> (Arc<Btf>, Btf, Btf) {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    let base = Arc::new(b.build());
    let mut m1 = Builder::split(base.clone());
    let p1 = m1.add("", Kind::Ptr(3));
    m1.strukt("one", 16, &[("next", p1, 0), ("x", int, 64)]);
    let mut m2 = Builder::split(base.clone());
    let p2 = m2.add("", Kind::Ptr(3));
    m2.strukt("two", 8, &[("self", p2, 0)]);
    (base, m1.build(), m2.build())
}

#[test]
fn joined_modules_keep_their_references() {
    let (base, m1, m2) = two_modules();
    let j = join_modules(base, &[m1, m2]).unwrap();
    assert_eq!(j.start_id(), 2);
    assert_eq!(j.type_count(), 6);
    // Module 2's pointer (its own id 2) now points to its struct at id 5.
    assert_eq!(j.get(4).unwrap().kind, Kind::Ptr(5));
    assert_eq!(j.type_name(5), "two");
    assert_eq!(j.type_name(3), "one");
    let Kind::Struct(c) = &j.get(5).unwrap().kind else {
        panic!("struct")
    };
    assert_eq!(j.name(c.members[0].name), "self");
    // Module 1's second member still points into the base.
    let Kind::Struct(c) = &j.get(3).unwrap().kind else {
        panic!("struct")
    };
    assert_eq!((c.members[1].ty, &*j.name(c.members[1].name)), (1, "x"));
}

#[test]
fn a_module_on_another_base_is_refused() {
    let (base, m1, _) = two_modules();
    let mut b = Builder::new();
    b.int("int", 4);
    b.int("long", 8);
    let other = Arc::new(b.build());
    let e = join_modules(other, &[m1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "module 0 is not split BTF on this vmlinux (its types start at id 2, the vmlinux has 3)"
    );
    let e = join_modules(base.clone(), &[(*base).clone()]).unwrap_err();
    assert!(matches!(e, JoinError::NotOnBase { index: 0, .. }), "{e}");
}

#[test]
fn layout_paths() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("6.1.0-9-amd64.btf.tar.xz");
    assert_eq!(
        modules_dir(&k).unwrap(),
        dir.path().join("6.1.0-9-amd64/modules")
    );
    assert!(module_files(&k).unwrap().is_empty());
    let mods = dir.path().join("6.1.0-9-amd64/modules");
    std::fs::create_dir_all(&mods).unwrap();
    for f in ["overlay.btf", "nf_conntrack.btf", "README"] {
        std::fs::write(mods.join(f), b"x").unwrap();
    }
    // Not a module until its kernel is there.
    assert!(!is_module_file(&mods.join("overlay.btf")));
    std::fs::write(&k, b"x").unwrap();
    assert!(is_module_file(&mods.join("overlay.btf")));
    assert!(!is_module_file(&k));
    assert_eq!(
        module_files(&k).unwrap(),
        [mods.join("nf_conntrack.btf"), mods.join("overlay.btf")]
    );
}
