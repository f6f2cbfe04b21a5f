//! Small C dumps, each as bpftool v7.1 (libbpf v1.1) prints `btf dump file F format c`
//! for the same BTF: every expected body below was checked once against bpftool on
//! the Builder's `to_bytes()`, with the vmlinux.h header and footer stripped. Where
//! libbpf >= 1.2 (which btfgen follows, see tests/dump.rs) prints more than v1.1 the
//! case says so.

use crate::btf::test_util::Builder;
use crate::btf::{Btf, Kind};
use crate::dump::{dump_c, DumpError};

use super::c_body;

type Make = fn(&mut Builder);

/// (what, BTF, the C bpftool prints between header and footer).
const CASES: &[(&str, Make, &str)] = &[
    (
        "bitfields packed into one unsigned int",
        |b| {
            let u = b.uint("unsigned int", 4);
            let i = b.int("int", 4);
            b.strukt_bits(
                "flags",
                8,
                &[("a", u, 0, 3), ("b", u, 3, 5), ("c", i, 32, 0)],
            );
        },
        "struct flags {\n\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tint c;\n};\n\n",
    ),
    (
        "a bitfield after a hole gets an explicit padding bitfield",
        |b| {
            let u = b.uint("unsigned int", 4);
            b.strukt_bits("holes", 4, &[("a", u, 0, 2), ("b", u, 8, 2)]);
        },
        "struct holes {\n\tunsigned int a: 2;\n\tchar: 6;\n\tunsigned int b: 2;\n};\n\n",
    ),
    (
        "a member past its natural offset needs `long: 0`, trailing padding is spelled out",
        |b| {
            let i = b.int("int", 4);
            let l = b.int("long", 8);
            b.strukt("gap", 24, &[("a", i, 0), ("b", i, 64), ("c", l, 128)]);
        },
        "struct gap {\n\tint a;\n\tlong: 0;\n\tint b;\n\tlong c;\n};\n\n",
    ),
    (
        "trailing padding beyond natural alignment",
        |b| {
            let l = b.int("long", 8);
            b.strukt("tail", 32, &[("a", l, 0)]);
        },
        "struct tail {\n\tlong a;\n\tlong: 64;\n\tlong: 64;\n\tlong: 64;\n};\n\n",
    ),
    (
        "a misaligned member makes the struct packed",
        |b| {
            let c = b.int("char", 1);
            let i = b.int("int", 4);
            b.strukt("pk", 5, &[("a", c, 0), ("b", i, 8)]);
        },
        "struct pk {\n\tchar a;\n\tint b;\n} __attribute__((packed));\n\n",
    ),
    (
        "signed enum with a negative value",
        |b| {
            b.enum_sized("sgn", 4, true, &[("NEG", -1), ("POS", 1)]);
        },
        "enum sgn {\n\tNEG = -1,\n\tPOS = 1,\n};\n\n",
    ),
    (
        "unsigned enum prints values as u32",
        |b| {
            b.enm("uns", &[("BIG", 0xffff_fffe)]);
        },
        "enum uns {\n\tBIG = 4294967294,\n};\n\n",
    ),
    (
        // mode(word) as libbpf >= 1.2 prints it, so that the enum keeps its 8 bytes;
        // bpftool v7.1 (libbpf v1.1) leaves the attribute out (see tests/dump.rs).
        "64-bit enums: ULL / LL suffixes, mode(word) when all values fit 32 bits",
        |b| {
            b.int("long", 8);
            b.enum64("wide", false, &[("HUGE", 1 << 40)]);
            b.enum64("neg64", true, &[("M", -(1 << 40))]);
            b.enum64("small64", false, &[("S", 1)]);
        },
        "enum wide {\n\tHUGE = 1099511627776ULL,\n};\n\n\
         enum neg64 {\n\tM = -1099511627776LL,\n};\n\n\
         enum small64 {\n\tS = 1ULL,\n} __attribute__((mode(word)));\n\n",
    ),
    (
        // As libbpf >= 1.2 prints it; bpftool v7.1 leaves the attribute out.
        "a one-byte enum is mode(byte)",
        |b| {
            b.enum_sized("tiny", 1, false, &[("T", 1)]);
        },
        "enum tiny {\n\tT = 1,\n} __attribute__((mode(byte)));\n\n",
    ),
    (
        "an array of pointers to functions",
        |b| {
            let i = b.int("int", 4);
            let l = b.int("long", 8);
            let v = b.ptr(0);
            let proto = b.func_proto(i, &[("", v), ("", l)]);
            let p = b.ptr(proto);
            let arr = b.array(p, i, 4);
            b.strukt("ops", 32, &[("handlers", arr, 0)]);
        },
        "struct ops {\n\tint (*handlers[4])(void *, long);\n};\n\n",
    ),
    (
        "a typedef'd function pointer with a variadic prototype",
        |b| {
            let i = b.int("int", 4);
            let c = b.int("char", 1);
            let cc = b.konst(c);
            let s = b.ptr(cc);
            let proto = b.func_proto(i, &[("fmt", s), ("", 0)]);
            let p = b.ptr(proto);
            b.typedef("printf_t", p);
        },
        "typedef int (*printf_t)(const char *fmt, ...);\n\n",
    ),
    (
        "a typedef of an anonymous struct",
        |b| {
            let i = b.int("int", 4);
            let s = b.strukt("", 8, &[("x", i, 0), ("y", i, 32)]);
            b.typedef("point_t", s);
        },
        "typedef struct {\n\tint x;\n\tint y;\n} point_t;\n\n",
    ),
    (
        "an anonymous union inside a struct is printed inline",
        |b| {
            let i = b.int("int", 4);
            let l = b.int("long", 8);
            let u = b.union("", 8, &[("i", i, 0), ("l", l, 0)]);
            b.strukt("var", 16, &[("kind", i, 0), ("", u, 64)]);
        },
        "struct var {\n\tint kind;\n\tunion {\n\t\tint i;\n\t\tlong l;\n\t};\n};\n\n",
    ),
    (
        "two structs of one name: the second is `___2`",
        |b| {
            let i = b.int("int", 4);
            b.strukt("dup", 4, &[("a", i, 0)]);
            b.strukt("dup", 8, &[("a", i, 0), ("b", i, 32)]);
        },
        "struct dup {\n\tint a;\n};\n\nstruct dup___2 {\n\tint a;\n\tint b;\n};\n\n",
    ),
    (
        "enumerators share the namespace of typedefs",
        |b| {
            let i = b.int("int", 4);
            b.typedef("mode", i);
            b.enm("m", &[("mode", 0)]);
        },
        "typedef int mode;\n\nenum m {\n\tmode___2 = 0,\n};\n\n",
    ),
    (
        "type tags print as btf_type_tag attributes; decl tags print nothing",
        |b| {
            let i = b.int("int", 4);
            let t = b.type_tag("user", i);
            let p = b.ptr(t);
            let s = b.strukt("tagged", 8, &[("p", p, 0)]);
            b.decl_tag("dtag", s, -1);
        },
        "struct tagged {\n\tint __attribute__((btf_type_tag(\"user\"))) *p;\n};\n\n",
    ),
    (
        "qualifiers on pointers and pointees",
        |b| {
            let c = b.int("char", 1);
            let cc = b.konst(c);
            let p = b.ptr(cc);
            let cp = b.konst(p);
            let i = b.int("int", 4);
            let vi = b.volatile(i);
            let r = b.restrict(p);
            b.strukt("q", 24, &[("name", cp, 0), ("v", vi, 64), ("r", r, 128)]);
        },
        "struct q {\n\tconst char * const name;\n\tvolatile int v;\n\tconst char * restrict r;\n};\n\n",
    ),
    (
        "a two-dimensional array",
        |b| {
            let i = b.int("int", 4);
            let row = b.array(i, i, 3);
            let m = b.array(row, i, 2);
            b.strukt("mat", 24, &[("m", m, 0)]);
        },
        "struct mat {\n\tint m[2][3];\n};\n\n",
    ),
    (
        "an empty struct stays on one line",
        |b| {
            b.strukt("empty", 0, &[]);
        },
        "struct empty {};\n\n",
    ),
    (
        "forward declarations, functions, variables and sections",
        |b| {
            let i = b.int("int", 4);
            b.fwd("opaque", false);
            b.fwd("uopaque", true);
            let proto = b.func_proto(i, &[]);
            b.func("f", proto);
            let v = b.var("v", i, 1);
            b.datasec(".data", 4, &[(v, 0, 4)]);
        },
        "struct opaque;\n\nunion uopaque;\n\n",
    ),
    (
        "an unreferenced anonymous enum is a declaration of constants",
        |b| {
            b.enm("", &[("A", 1), ("B", 2)]);
        },
        "enum {\n\tA = 1,\n\tB = 2,\n};\n\n",
    ),
];

#[test]
fn small_c_dumps_match_bpftool() {
    for (what, make, want) in CASES {
        let mut b = Builder::new();
        make(&mut b);
        assert_eq!(c_body(&b.build(), None), *want, "{what}");
    }
}

#[test]
fn roots_limit_the_dump_to_what_they_need() {
    let mut b = Builder::new();
    let i = b.int("int", 4);
    let inner = b.strukt("inner", 4, &[("x", i, 0)]);
    b.strukt("outer", 4, &[("in", inner, 0)]);
    let other = b.strukt("other", 4, &[("y", i, 0)]);
    let outer = 3;
    let btf = b.build();
    assert_eq!(
        c_body(&btf, Some(&[outer])),
        "struct inner {\n\tint x;\n};\n\nstruct outer {\n\tstruct inner in;\n};\n\n"
    );
    assert_eq!(
        c_body(&btf, Some(&[other, outer, inner])),
        "struct other {\n\tint y;\n};\n\nstruct inner {\n\tint x;\n};\n\n\
         struct outer {\n\tstruct inner in;\n};\n\n",
        "each definition once"
    );
}

#[test]
fn the_header_and_footer_wrap_every_dump() {
    let mut out = String::new();
    dump_c(&Btf::new(), None, &mut out).expect("dumps");
    assert_eq!(
        out,
        "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
         #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
         #endif\n\n\
         #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n\
         #endif /* __VMLINUX_H__ */\n"
    );
}

#[test]
fn structs_holding_each_other_by_value_are_an_error() {
    // struct a { struct b x; }; struct b { struct a y; }: no C order exists.
    let mut b = Builder::new();
    b.strukt("a", 4, &[("x", 2, 0)]);
    b.strukt("b", 4, &[("y", 1, 0)]);
    let mut out = String::new();
    let err = dump_c(&b.build(), None, &mut out).expect_err("cycle");
    assert!(matches!(err, DumpError::Cycle(1)), "{err:?}");
    assert_eq!(err.to_string(), "unsatisfiable type cycle through type 1");
}

#[test]
fn a_typedef_loop_is_an_error_not_a_hang() {
    let mut b = Builder::new();
    b.add("t", Kind::Typedef(1));
    let mut out = String::new();
    let err = dump_c(&b.build(), None, &mut out).expect_err("loop");
    assert!(matches!(err, DumpError::TooDeep(1)), "{err:?}");
}

#[test]
fn absurd_padding_is_refused() {
    // A 512 MiB struct with one int would need 2^26 `long: 64;` lines.
    let mut b = Builder::new();
    let i = b.int("int", 4);
    b.strukt("huge", 1 << 29, &[("a", i, 0)]);
    let mut out = String::new();
    let err = dump_c(&b.build(), None, &mut out).expect_err("too much padding");
    assert!(matches!(err, DumpError::TooMuchPadding(2)), "{err:?}");
}

#[test]
fn names_c_cannot_declare_are_refused() {
    // (what, BTF, the refused type, which name, the message's name)
    type Case = (&'static str, Make, u32, &'static str, &'static str);
    let cases: &[Case] = &[
        (
            "struct name with escape sequences",
            |b| {
                let i = b.int("int", 4);
                b.strukt("evil\x1b[2J", 4, &[("a", i, 0)]);
            },
            2,
            "name",
            "evil\\x1b[2J",
        ),
        (
            "member",
            |b| {
                let i = b.int("int", 4);
                b.strukt("s", 4, &[("a.b", i, 0)]);
            },
            2,
            "member",
            "a.b",
        ),
        (
            "enumerator",
            |b| {
                b.enm("e", &[("A\x07", 0)]);
            },
            1,
            "enumerator",
            "A\\x07",
        ),
        (
            "typedef",
            |b| {
                let i = b.int("int", 4);
                b.typedef("t-t", i);
            },
            2,
            "name",
            "t-t",
        ),
        (
            "parameter",
            |b| {
                let i = b.int("int", 4);
                let f = b.func_proto(i, &[("x y", i)]);
                b.typedef("fn_t", f);
            },
            2,
            "parameter",
            "x y",
        ),
        (
            "int name with a control character",
            |b| {
                let i = b.int("unsigned\nint", 4);
                b.typedef("u", i);
            },
            1,
            "name",
            "unsigned\\nint",
        ),
        (
            "type tag with a quote (would end the C string)",
            |b| {
                let i = b.int("int", 4);
                let t = b.type_tag("a\")))", i);
                let p = b.ptr(t);
                b.strukt("s", 8, &[("p", p, 0)]);
            },
            2,
            "type tag",
            "a\")))",
        ),
        (
            "attribute tag that would end the attribute",
            |b| {
                let i = b.int("int", 4);
                let t = b.add("x)) int y; ((", Kind::TypeTag { ty: i, attr: true });
                let p = b.ptr(t);
                b.strukt("s", 8, &[("p", p, 0)]);
            },
            2,
            "attribute",
            "x)) int y; ((",
        ),
    ];
    for (what, make, id, which, shown) in cases {
        let mut b = Builder::new();
        make(&mut b);
        let mut out = String::new();
        let err = dump_c(&b.build(), None, &mut out).expect_err(what);
        assert!(matches!(err, DumpError::NotCName { .. }), "{what}: {err:?}");
        assert_eq!(
            err.to_string(),
            format!("type {id}: {which} `{shown}` is not a C identifier; a C header cannot declare it (--format text or json shows it)"),
            "{what}"
        );
    }
    // What the kernel's types use passes: multi-word base types, an attribute tag
    // with arguments.
    let mut b = Builder::new();
    let i = b.int("long long unsigned int", 8);
    let t = b.add("address_space(1)", Kind::TypeTag { ty: i, attr: true });
    let p = b.ptr(t);
    b.strukt("s", 8, &[("p", p, 0)]);
    assert_eq!(
        c_body(&b.build(), None),
        "struct s {\n\tlong long unsigned int __attribute__((address_space(1))) *p;\n};\n\n"
    );
}
