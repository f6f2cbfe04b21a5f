//! Dump tests without external tools: the C emitter's ordering and output, the text
//! listing and the JSON, on BTF built with [`crate::btf::test_util::Builder`]. Expected
//! outputs were checked once against bpftool v7.1 (libbpf v1.1) on the same BTF;
//! the tests themselves run no tool.

mod c;
mod find;
mod json;
mod order;
mod text;

use crate::btf::test_util::Builder;
use crate::btf::{Btf, TypeId};

use super::dump_c;

/// The C dump of `btf` (all types, or `roots` and what they need) without the
/// vmlinux.h header and footer, which [`c::the_header_and_footer_wrap_every_dump`]
/// checks once.
fn c_body(btf: &Btf, roots: Option<&[TypeId]>) -> String {
    let mut out = String::new();
    dump_c(btf, roots, &mut out).expect("dumps");
    let body = out
        .split_once("#endif\n\n")
        .expect("header")
        .1
        .strip_suffix(
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n\
             #endif /* __VMLINUX_H__ */\n",
        )
        .expect("footer");
    body.to_string()
}

/// One BTF with a type of every kind (ids in the comments of [`text`] and [`json`]).
fn every_kind() -> Btf {
    let mut b = Builder::new();
    let int = b.int("int", 4); // 1
    let uchar = b.uint("unsigned char", 1); // 2
    b.bool(); // 3
    let p = b.ptr(6); // 4
    let comm = b.array(uchar, int, 16); // 5
    let task = b.strukt_bits(
        "task",
        24,
        &[
            ("pid", int, 0, 0),
            ("flag", int, 32, 1),
            ("comm", comm, 64, 0),
        ],
    ); // 6
    assert_eq!(task, 6);
    b.union("u", 4, &[("x", int, 0)]); // 7
    b.enm("e", &[("A", 0), ("B", -1)]); // 8
    b.enum_sized("s", 4, true, &[("N", -1)]); // 9
    b.enum64("e64", false, &[("H", 1 << 40)]); // 10
    b.fwd("fw", true); // 11
    b.typedef("td", int); // 12
    let v = b.volatile(int); // 13
    b.konst(v); // 14
    b.restrict(p); // 15
    let proto = b.func_proto(int, &[("p", p), ("", 0)]); // 16
    b.func("f", proto); // 17
    let var = b.var("v", int, 1); // 18
    b.datasec(".data", 4, &[(var, 0, 4)]); // 19
    b.float("double", 8); // 20
    b.decl_tag("dt", task, -1); // 21
    b.type_tag("user", int); // 22
    b.build()
}
