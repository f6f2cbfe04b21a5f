//! Split BTF (a kernel module's) on a small base, raw or in ELF, dumped in every
//! format.
#![no_main]

use std::sync::{Arc, OnceLock};

use btfgen::btf::{Btf, Int, Kind, Type, INT_SIGNED};
use btfgen::dump;
use libfuzzer_sys::fuzz_target;

/// A base of three types: `int`, `struct base { int x; }` and `struct base *`.
fn base() -> Arc<Btf> {
    static BASE: OnceLock<Arc<Btf>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut b = Btf::new();
        let name = b.add_str("int");
        let int = b.add(Type {
            name,
            kind: Kind::Int(Int {
                size: 4,
                encoding: INT_SIGNED,
                offset: 0,
                bits: 32,
            }),
        });
        let name = b.add_str("base");
        let x = b.add_str("x");
        let s = b.add(Type {
            name,
            kind: Kind::Struct(btfgen::btf::Composite {
                size: 4,
                members: vec![btfgen::btf::Member {
                    name: x,
                    ty: int,
                    bit_offset: 0,
                    bitfield_size: 0,
                }],
            }),
        });
        b.add(Type {
            name: 0,
            kind: Kind::Ptr(s),
        });
        Arc::new(b)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = Btf::from_any_bytes(data, Some(base())) else {
        return;
    };
    let again = Btf::from_split_bytes(&btf.to_bytes(), base()).expect("written BTF reads back");
    assert_eq!(again.types(), btf.types());
    let mut out = String::new();
    let _ = dump::dump_text(&btf, None, &mut out);
    let _ = dump::dump_json(&btf, None, &mut out);
    let _ = dump::dump_c(&btf, None, &mut out);
});
