//! `find_types` (what `--type NAME` selects) and `with_dependencies`.

use std::sync::Arc;

use crate::btf::test_util::Builder;
use crate::btf::{Btf, TypeId};
use crate::dump::{find_types, with_dependencies, DumpError};

/// Ids: 1 int, 2 struct s, 3 union s, 4 struct fwd f, 5 union fwd f, 6 enum s,
/// 7 typedef s, 8 func proto, 9 func s, 10 var int, 11 float double.
fn named() -> Btf {
    let mut b = Builder::new();
    let int = b.int("int", 4);
    b.strukt("s", 4, &[("a", int, 0)]);
    b.union("s", 4, &[("a", int, 0)]);
    b.fwd("f", false);
    b.fwd("f", true);
    b.enm("s", &[("A", 0)]);
    b.typedef("s", int);
    let proto = b.func_proto(int, &[]);
    b.func("s", proto);
    b.var("int", int, 0);
    b.float("double", 8);
    b.build()
}

#[test]
fn names_select_definitions_by_kind() {
    /// The names, and the ids they select or the error.
    type Case = (
        &'static [&'static str],
        Result<&'static [TypeId], &'static str>,
    );
    let table: &[Case] = &[
        (&["s"], Ok(&[2, 3, 6, 7])),
        (&["struct s"], Ok(&[2])),
        (&["union s"], Ok(&[3])),
        (&["enum s"], Ok(&[6])),
        (&["f"], Ok(&[4, 5])),
        (&["struct f"], Ok(&[4])),
        (&["union f"], Ok(&[5])),
        (&["int"], Ok(&[1])),
        (&["double"], Ok(&[11])),
        (&["enum s", "s"], Ok(&[6, 2, 3, 7])),
        (&["enum f"], Err("no type named `enum f`")),
        (&["typedef s"], Err("no type named `typedef s`")),
        (&["s", "nope"], Err("no type named `nope`")),
    ];
    let btf = named();
    for (names, want) in table {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let got = find_types(&btf, &names).map_err(|e| e.to_string());
        let want = want.map(|ids| ids.to_vec()).map_err(str::to_string);
        assert_eq!(got, want, "{names:?}");
    }
}

/// `--type s --type "struct s"`: struct s exists, but was already selected by `s`.
#[test]
fn a_name_already_covered_is_not_missing() {
    let names = ["s".to_string(), "struct s".to_string()];
    assert_eq!(
        find_types(&named(), &names).expect("both exist"),
        [2, 3, 6, 7]
    );
}

#[test]
fn names_are_found_in_the_base_of_split_btf() {
    let base = Arc::new(named());
    let mut b = Builder::split(base);
    b.strukt("s", 8, &[("a", 1, 0)]); // 12
    let got = find_types(&b.build(), &["struct s".into()]).expect("found");
    assert_eq!(got, [2, 12]);
    assert!(matches!(
        find_types(&Btf::new(), &["x".into()]),
        Err(DumpError::NoSuchType(n)) if n == "x"
    ));
}

#[test]
fn dependencies_are_everything_reachable_in_id_order() {
    let mut b = Builder::new();
    let int = b.int("int", 4); // 1
    b.strukt("unrelated", 4, &[("a", int, 0)]); // 2
    b.strukt("node", 16, &[("next", 4, 0), ("v", 5, 64)]); // 3
    b.ptr(3); // 4
    b.typedef("val_t", int); // 5
    let proto = b.func_proto(0, &[("n", 4)]); // 6
    let btf = b.build();
    assert_eq!(with_dependencies(&btf, &[3]), [1, 3, 4, 5]);
    assert_eq!(with_dependencies(&btf, &[proto]), [1, 3, 4, 5, 6]);
    assert_eq!(with_dependencies(&btf, &[5, 2]), [1, 2, 5]);
    assert_eq!(with_dependencies(&btf, &[0]), Vec::<TypeId>::new());
}
