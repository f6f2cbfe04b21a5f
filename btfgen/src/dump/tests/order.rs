//! The order of C definitions: [`Order`] directly (which definitions a root queues,
//! dependencies first), then the C bpftool v7.1 prints for the same graphs (forward
//! declarations where a pointer cycle needs one, embedded structs first, typedefs
//! before use).

use crate::btf::test_util::Builder;
use crate::btf::{Kind, TypeId};
use crate::dump::order::Order;
use crate::dump::DumpError;

use super::c_body;

type Make = fn(&mut Builder);

/// (what, BTF, the C bpftool prints between header and footer); ids in comments.
const CASES: &[(&str, Make, &str)] = &[
    (
        "a struct embedded by value comes before the struct holding it",
        |b| {
            let i = b.int("int", 4); // 1
            b.strukt("outer", 8, &[("in", 3, 0), ("n", i, 32)]); // 2
            b.strukt("inner", 4, &[("x", i, 0)]); // 3
        },
        "struct inner {\n\tint x;\n};\n\nstruct outer {\n\tstruct inner in;\n\tint n;\n};\n\n",
    ),
    (
        "a pointer cycle between two structs needs one forward declaration",
        |b| {
            b.strukt("a", 8, &[("b", 4, 0)]); // 1
            b.strukt("b", 8, &[("a", 3, 0)]); // 2
            b.ptr(1); // 3
            b.ptr(2); // 4
        },
        "struct b;\n\nstruct a {\n\tstruct b *b;\n};\n\nstruct b {\n\tstruct a *a;\n};\n\n",
    ),
    (
        "a struct pointing to itself needs none",
        |b| {
            b.strukt("node", 8, &[("next", 2, 0)]); // 1
            b.ptr(1); // 2
        },
        "struct node {\n\tstruct node *next;\n};\n\n",
    ),
    (
        "a typedef comes before the struct using it",
        |b| {
            b.strukt("s", 4, &[("x", 2, 0)]); // 1
            b.typedef("u32", 3); // 2
            b.uint("unsigned int", 4); // 3
        },
        "typedef unsigned int u32;\n\nstruct s {\n\tu32 x;\n};\n\n",
    ),
    (
        "a typedef of a struct used through a pointer is declared with a forward declaration",
        |b| {
            b.strukt("x", 8, &[("p", 2, 0)]); // 1
            b.ptr(3); // 2
            b.typedef("s_t", 5); // 3
            let i = b.int("int", 4); // 4
            b.strukt("s", 4, &[("v", i, 0)]); // 5
        },
        "struct s;\n\ntypedef struct s s_t;\n\nstruct x {\n\ts_t *p;\n};\n\n\
         struct s {\n\tint v;\n};\n\n",
    ),
];

/// Ids queued by successive `order` calls on `roots`, one list per call.
fn queues(make: Make, roots: &[TypeId]) -> Result<Vec<Vec<TypeId>>, DumpError> {
    let mut b = Builder::new();
    make(&mut b);
    let btf = b.build();
    let mut order = Order::new(&btf);
    roots
        .iter()
        .map(|&r| {
            let mut q = Vec::new();
            order.order(&btf, r, &mut q).map(|_| q)
        })
        .collect()
}

#[test]
fn order_queues_dependencies_first_and_each_once() {
    type Want = &'static [&'static [TypeId]];
    let table: &[(&str, Make, &[TypeId], Want)] = &[
        (
            "embedded struct before its container, then nothing twice",
            CASES[0].1,
            &[2, 3, 2],
            &[&[3, 2], &[], &[]],
        ),
        (
            "a pointer to a named struct is not a dependency",
            CASES[1].1,
            &[1, 2],
            &[&[1], &[2]],
        ),
        (
            "the typedef a member uses by value is queued first",
            CASES[3].1,
            &[1],
            &[&[2, 1]],
        ),
        (
            "a typedef reached through a pointer to a named struct is not (until asked for)",
            CASES[4].1,
            &[1, 3],
            &[&[1], &[5, 3]],
        ),
        (
            "ints, pointers, functions and variables queue nothing",
            |b| {
                let i = b.int("int", 4);
                let p = b.ptr(i);
                let proto = b.func_proto(i, &[("p", p)]);
                b.func("f", proto);
                b.var("v", i, 0);
            },
            &[1, 2, 3, 4, 5],
            &[&[], &[], &[], &[], &[]],
        ),
        (
            "a referenced anonymous enum is inline; an unreferenced one is queued",
            |b| {
                let e = b.enm("", &[("A", 0)]); // 1
                b.strukt("s", 4, &[("e", e, 0)]); // 2
                b.enm("", &[("B", 0)]); // 3
            },
            &[1, 2, 3],
            &[&[], &[2], &[3]],
        ),
        (
            "an anonymous struct member is not queued on its own",
            |b| {
                let i = b.int("int", 4); // 1
                let anon = b.strukt("", 4, &[("x", i, 0)]); // 2
                b.strukt("s", 4, &[("", anon, 0)]); // 3
            },
            &[3],
            &[&[3]],
        ),
    ];
    for (what, make, roots, want) in table {
        let got = queues(*make, roots).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want: Vec<Vec<TypeId>> = want.iter().map(|q| q.to_vec()).collect();
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn order_refuses_structs_holding_each_other() {
    let make: Make = |b| {
        b.strukt("a", 4, &[("x", 2, 0)]);
        b.strukt("b", 4, &[("y", 1, 0)]);
    };
    assert!(matches!(queues(make, &[1]), Err(DumpError::Cycle(1))));
    // An anonymous struct reached through a pointer cannot be forward-declared.
    let anon_loop: Make = |b| {
        b.strukt("", 8, &[("p", 2, 0)]);
        b.add("", Kind::Ptr(1));
        b.strukt("holder", 8, &[("a", 1, 0)]);
    };
    assert!(matches!(queues(anon_loop, &[3]), Err(DumpError::Cycle(1))));
}

#[test]
fn orderings_print_as_bpftool_does() {
    for (what, make, want) in CASES {
        let mut b = Builder::new();
        make(&mut b);
        assert_eq!(c_body(&b.build(), None), *want, "{what}");
    }
}
