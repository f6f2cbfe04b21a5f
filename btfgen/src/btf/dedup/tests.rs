//! Whole-algorithm tests: fragments in, deduplicated BTF out.

use super::*;
use crate::btf::test_util::Builder;

/// One line per own type, with names spelled out (comparable across BTFs).
fn dump(b: &Btf) -> Vec<String> {
    b.iter()
        .map(|(id, t)| {
            let mut t = t.clone();
            let mut names = Vec::new();
            t.for_each_name_mut(|n| names.push(b.name(*n).into_owned()));
            t.for_each_name_mut(|n| *n = 0);
            format!("[{id}] {} {names:?} {:?}", t.kind.label(), t.kind)
        })
        .collect()
}

/// Number of own types of kind `code`.
fn count(b: &Btf, code: u8) -> usize {
    b.types().iter().filter(|t| t.kind.code() == code).count()
}

/// Checks that `b` parses back from its bytes to the same types.
fn roundtrip(b: &Btf) {
    let bytes = b.to_bytes();
    let back = Btf::from_bytes(&bytes).expect("output parses back");
    assert_eq!(back.types(), b.types());
    assert_eq!(dump(&back), dump(b));
}

/// Appends the types of base BTF `f` to `dst`, ids shifted behind `dst`'s own.
fn append(dst: &mut Btf, f: &Btf) {
    let off = dst.type_count() - 1;
    for t in f.types() {
        let mut t = t.clone();
        t.kind.for_each_ref_mut(|r| {
            if *r != 0 {
                *r += off
            }
        });
        t.for_each_name_mut(|n| *n = dst.add_bytes(f.name_bytes(*n).unwrap()));
        dst.add(t);
    }
}

/// [1] int, [2] struct foo { int a; int b; }, [3] foo *
fn foo() -> Builder {
    let mut b = Builder::new();
    let i = b.int("int", 4);
    let s = b.strukt("foo", 8, &[("a", i, 0), ("b", i, 32)]);
    b.ptr(s);
    b
}

/// [`foo`], built.
fn foo_frag() -> Btf {
    foo().build()
}

#[test]
fn identical_ints_merged() {
    let mut d = Dedup::new();
    let mut b = Builder::new();
    b.int("int", 4);
    b.int("int", 4);
    b.int("long", 8);
    let f = b.build();
    let a = d.add(&mut f.clone());
    let b = d.add(&mut f.clone());
    assert_eq!(a, vec![0, 1, 1, 2]);
    assert_eq!(b, vec![0, 1, 1, 2]);
    let out = d.finish();
    assert_eq!(out.types().len(), 2);
    assert_eq!(out.type_name(1), "int");
    assert_eq!(out.type_name(2), "long");
    roundtrip(&out);
}

#[test]
fn identical_structs_across_fragments() {
    let mut d = Dedup::new();
    let a = d.add(&mut foo_frag());
    let b = d.add(&mut foo_frag());
    assert_eq!(a, b);
    let out = d.finish();
    assert_eq!(out.types().len(), 3);
    assert_eq!(count(&out, kind::STRUCT), 1);
    roundtrip(&out);
}

#[test]
fn self_referencing_struct() {
    // [1] struct node { struct node *next; int v; }, [2] int, [3] node *
    let frag = || {
        let mut b = Builder::new();
        b.strukt("node", 16, &[("next", 3, 0), ("v", 2, 64)]);
        b.int("int", 4);
        b.ptr(1);
        b.build()
    };
    let mut d = Dedup::new();
    let a = d.add(&mut frag());
    let b = d.add(&mut frag());
    assert_eq!(a, b);
    let out = d.finish();
    assert_eq!(out.types().len(), 3);
    let Kind::Struct(c) = &out.get(1).unwrap().kind else {
        panic!("not a struct")
    };
    assert_eq!(out.get(c.members[0].ty).unwrap().kind, Kind::Ptr(1));
    roundtrip(&out);
}

#[test]
fn fwd_resolved_to_later_struct() {
    let mut b = Builder::new();
    let fw = b.fwd("foo", false);
    b.ptr(fw);
    let mut d = Dedup::new();
    d.add(&mut b.build());
    d.add(&mut foo_frag());
    let out = d.finish();
    assert_eq!(count(&out, kind::FWD), 0);
    assert_eq!(count(&out, kind::PTR), 1);
    assert_eq!(out.types().len(), 3);
    // The pointer of fragment 1 comes first and now targets the struct.
    let foo = out.find_by_name("foo").next().unwrap();
    assert_eq!(out.get(1).unwrap().kind, Kind::Ptr(foo));
    roundtrip(&out);
}

#[test]
fn struct_with_fwd_member_merges_with_full() {
    // struct bar { struct foo *p; } with foo a FWD, then with foo defined.
    let mut b = Builder::new();
    let fw = b.fwd("foo", false);
    let p = b.ptr(fw);
    b.strukt("bar", 8, &[("p", p, 0)]);
    let f1 = b.build();
    let mut b = Builder::new();
    let i = b.int("int", 4);
    let foo = b.strukt("foo", 4, &[("x", i, 0)]);
    let p = b.ptr(foo);
    b.strukt("bar", 8, &[("p", p, 0)]);
    let f2 = b.build();

    for order in [[&f1, &f2], [&f2, &f1]] {
        let mut d = Dedup::new();
        let a = d.add(&mut order[0].clone());
        let b = d.add(&mut order[1].clone());
        // Both bars map to the same output struct.
        assert_eq!(a[a.len() - 1], b[b.len() - 1]);
        let out = d.finish();
        assert_eq!(count(&out, kind::FWD), 0, "{:#?}", dump(&out));
        assert_eq!(count(&out, kind::STRUCT), 2);
        assert_eq!(count(&out, kind::PTR), 1);
        assert_eq!(out.types().len(), 4);
        roundtrip(&out);
    }
}

#[test]
fn same_name_different_layout_kept_apart() {
    let mut b = Builder::new();
    let i = b.int("int", 4);
    b.strukt("foo", 4, &[("a", i, 0)]);
    let f1 = b.build();
    let mut b = Builder::new();
    let l = b.int("long", 8);
    b.strukt("foo", 8, &[("b", l, 0)]);
    let f2 = b.build();
    // Same layout and member names, different member type: also distinct.
    let mut b = Builder::new();
    let c = b.int("char", 1);
    b.strukt("foo", 4, &[("a", c, 0)]);
    let f3 = b.build();
    let mut d = Dedup::new();
    for f in [&f1, &f2, &f3, &f1] {
        d.add(&mut f.clone());
    }
    let out = d.finish();
    assert_eq!(count(&out, kind::STRUCT), 3);
    assert_eq!(count(&out, kind::INT), 3);
    roundtrip(&out);
}

#[test]
fn enum_fwd_resolves_to_full_enum() {
    // [1] enum e (with `values`), [2] pointer to it.
    let frag = |values: &[(&str, i64)]| {
        let mut b = Builder::new();
        let e = b.enm("e", values);
        b.ptr(e);
        b.build()
    };
    let full: &[(&str, i64)] = &[("A", 1), ("B", 2)];
    for fwd_first in [true, false] {
        let mut d = Dedup::new();
        if fwd_first {
            d.add(&mut frag(&[]));
            d.add(&mut frag(full));
        } else {
            d.add(&mut frag(full));
            d.add(&mut frag(&[]));
        }
        let out = d.finish();
        assert_eq!(out.types().len(), 2, "{:#?}", dump(&out));
        let e = out.find_by_name("e").next().unwrap();
        let Kind::Enum(en) = &out.get(e).unwrap().kind else {
            panic!()
        };
        assert_eq!(en.values.len(), 2);
        roundtrip(&out);
    }
    // Two different full enums of one name stay apart.
    let mut b = Builder::new();
    b.enm("e", &[("A", 1)]);
    let mut d = Dedup::new();
    d.add(&mut frag(full));
    d.add(&mut b.build());
    assert_eq!(count(&d.finish(), kind::ENUM), 2);
}

#[test]
fn func_proto_and_func_via_add_resolved() {
    let mut d = Dedup::new();
    let ids = d.add(&mut foo_frag());
    let (int_id, foo_ptr) = (ids[1], ids[3]);
    let x = d.add_str(b"x");
    let proto = |ret| Type {
        name: 0,
        kind: Kind::FuncProto(FuncProto {
            ret,
            params: vec![Param {
                name: x,
                ty: foo_ptr,
            }],
        }),
    };
    let p1 = d.add_resolved(proto(int_id));
    let p2 = d.add_resolved(proto(int_id));
    let p3 = d.add_resolved(proto(0));
    assert_eq!(p1, p2);
    assert_ne!(p1, p3);
    let f = d.add_str(b"f");
    let g = d.add_str(b"g");
    let func = |name, proto| Type {
        name,
        kind: Kind::Func {
            proto,
            linkage: linkage::STATIC,
        },
    };
    let f1 = d.add_resolved(func(f, p1));
    let f2 = d.add_resolved(func(f, p2));
    let g1 = d.add_resolved(func(g, p1));
    assert_eq!(f1, f2);
    assert_ne!(f1, g1);
    // The same proto arriving in a later fragment maps to the existing one.
    let mut fr = foo();
    fr.func_proto(1, &[("x", 3)]);
    let ids = d.add(&mut fr.build());
    assert_eq!(ids[4], p1);
    let out = d.finish();
    assert_eq!(count(&out, kind::FUNC_PROTO), 2);
    assert_eq!(count(&out, kind::FUNC), 2);
    assert_eq!(out.types().len(), 3 + 2 + 2);
    roundtrip(&out);
}

#[test]
fn var_and_datasec_kept() {
    let mut d = Dedup::new();
    let ids = d.add(&mut foo_frag());
    let v = d.add_str(b"v");
    let var = Type {
        name: v,
        kind: Kind::Var {
            ty: ids[1],
            linkage: linkage::VAR_GLOBAL_ALLOCATED,
        },
    };
    let v1 = d.add_resolved(var.clone());
    let v2 = d.add_resolved(var);
    assert_ne!(v1, v2);
    let sec = d.add_str(b".data");
    let ds = Type {
        name: sec,
        kind: Kind::Datasec(Datasec {
            size: 8,
            vars: vec![
                VarSecInfo {
                    ty: v1,
                    offset: 0,
                    size: 4,
                },
                VarSecInfo {
                    ty: v2,
                    offset: 4,
                    size: 4,
                },
            ],
        }),
    };
    let s1 = d.add_resolved(ds.clone());
    let s2 = d.add_resolved(ds);
    assert_ne!(s1, s2);
    let out = d.finish();
    assert_eq!(count(&out, kind::VAR), 2);
    assert_eq!(count(&out, kind::DATASEC), 2);
    let Kind::Datasec(sec) = &out.get(s1).unwrap().kind else {
        panic!()
    };
    assert_eq!(sec.vars[0].ty, v1);
    assert_eq!(out.type_name(sec.vars[1].ty), "v");
    roundtrip(&out);
}

#[test]
fn split_against_base() {
    let base = Arc::new(dedup(&foo_frag()));
    assert_eq!(base.types().len(), 3);
    // Types equal to base types vanish; new ones refer into the base.
    let mut b = foo();
    let l = b.int("long", 8);
    b.strukt("bar", 16, &[("p", 3, 0), ("l", l, 64)]);
    let f1 = b.build();
    // A FWD of a base struct resolves to it.
    let mut b = Builder::new();
    let fw = b.fwd("foo", false);
    let p = b.ptr(fw);
    b.strukt("baz", 8, &[("p", p, 0)]);
    let f2 = b.build();

    let mut d = Dedup::new_split(base.clone());
    let a = d.add(&mut f1.clone());
    assert_eq!(&a[..4], &[0, 1, 2, 3]);
    d.add(&mut f2.clone());
    let out = d.finish();
    assert_eq!(out.start_id(), 4);
    assert_eq!(dump(&out).len(), 3, "{:#?}", dump(&out));
    for (_, t) in out.iter() {
        if let Kind::Struct(c) = &t.kind {
            assert_eq!(c.members[0].ty, 3, "pointer refers to the base's");
        }
    }
    assert_eq!(out.type_name(4), "long");
    // Own strings only hold what the base lacks.
    assert!(out.strings().get(out.strings().start()).is_some());
    let bytes = out.to_bytes();
    let back = Btf::from_split_bytes(&bytes, base.clone()).unwrap();
    assert_eq!(back.types(), out.types());
    assert_eq!(dump(&back), dump(&out));
    // One-shot split dedup gives the same.
    let mut raw = Btf::new_split(base.clone());
    append(&mut raw, &f1);
    append(&mut raw, &f2);
    assert_eq!(dump(&dedup(&raw)), dump(&out));
}

/// A messy BTF: a few fragments' worth of duplicates concatenated.
fn messy() -> Btf {
    let mut raw = Btf::new();
    for i in 0..3 {
        let mut b = foo();
        let fw = b.fwd("node", false);
        let p = b.ptr(fw);
        b.strukt("holder", 8, &[("n", p, 0)]);
        if i == 2 {
            // [7] node *, [8] node *const, [9] struct node { node *const next; int v; },
            // [10] enum e; (a declaration), [11] volatile enum e
            let int = 1;
            let node = b.btf().types().len() as u32 + 3;
            let np = b.ptr(node);
            let cnp = b.konst(np);
            b.strukt("node", 16, &[("next", cnp, 0), ("v", int, 64)]);
            let e = b.enm("e", &[]);
            b.volatile(e);
        }
        append(&mut raw, &b.build());
    }
    raw
}

#[test]
fn one_shot_is_idempotent_and_matches_incremental() {
    let raw = messy();
    let once = dedup(&raw);
    let twice = dedup(&once);
    assert_eq!(dump(&once), dump(&twice));
    assert!(once.types().len() < raw.types().len());
    assert_eq!(count(&once, kind::FWD), 0, "{:#?}", dump(&once));
    let mut d = Dedup::new();
    d.add(&mut raw.clone());
    assert_eq!(dump(&d.finish()), dump(&once));
    roundtrip(&once);
}

#[test]
fn duplicate_structs_inside_one_fragment() {
    // struct a { int x; } emitted twice in one CU, used by two members of s.
    let mut b = Builder::new();
    let i = b.int("int", 4);
    let a = b.strukt("a", 4, &[("x", i, 0)]);
    b.strukt("s", 8, &[("p", a, 0), ("q", a, 32)]);
    let f1 = b.build();
    let mut b = Builder::new();
    let i = b.int("int", 4);
    let a1 = b.strukt("a", 4, &[("x", i, 0)]);
    let a2 = b.strukt("a", 4, &[("x", i, 0)]);
    b.strukt("s", 8, &[("p", a1, 0), ("q", a2, 32)]);
    let f2 = b.build();
    let mut d = Dedup::new();
    d.add(&mut f1.clone());
    d.add(&mut f2.clone());
    let out = d.finish();
    assert_eq!(out.types().len(), 3, "{:#?}", dump(&out));
}

#[test]
fn hostile_cycles_and_bad_refs_do_not_hang() {
    let mut b = Builder::new();
    // [1] PTR -> [2] CONST -> [1]
    b.ptr(2);
    b.konst(1);
    // [3] typedef t -> [3]
    b.typedef("t", 3);
    // [4] struct with a member pointing nowhere, [5] array of itself
    b.strukt("s", 4, &[("x", 999, 0)]);
    b.array(5, 5, 1);
    // A long chain of pointers (deep recursion in a naive implementation).
    let mut prev = 0;
    for _ in 0..200_000 {
        prev = b.ptr(prev);
    }
    let b = b.build();
    let once = dedup(&b);
    assert!(once.types().len() >= 5);
    let mut d = Dedup::new();
    d.add(&mut b.clone());
    d.add(&mut b.clone());
    let bad = d.add_resolved(Type {
        name: 12345,
        kind: Kind::Ptr(u32::MAX - 7),
    });
    let out = d.finish();
    assert!(out.get(bad).is_some());
    // Reference-type cycles are never merged (libbpf fails with -ELOOP on them);
    // everything else of the second copy is.
    assert!(out.types().len() < once.types().len() + 10);
    dedup(&out);
}

#[test]
fn random_graphs_do_not_panic() {
    struct Gen {
        state: u64,
        n: u32,
        bad: bool,
    }
    impl Gen {
        fn next(&mut self, n: u64) -> u64 {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            self.state % n.max(1)
        }
        fn id(&mut self) -> u32 {
            if self.bad && self.next(10) == 0 {
                1000 + self.next(5) as u32
            } else {
                self.next(self.n as u64 + 1) as u32
            }
        }
        fn members(&mut self, names: &[u32]) -> Vec<Member> {
            (0..self.next(3))
                .map(|i| Member {
                    name: names[i as usize],
                    ty: self.id(),
                    bit_offset: i as u32 * 32,
                    bitfield_size: 0,
                })
                .collect()
        }
    }
    let mut g = Gen {
        state: 0x2545_f491_4f6c_dd1d,
        n: 0,
        bad: false,
    };
    for round in 0..300 {
        let mut b = Btf::new();
        let names: Vec<u32> = ["a", "b", "s", "u", "e"]
            .iter()
            .map(|n| b.add_str(n))
            .collect();
        g.n = 1 + g.next(40) as u32;
        g.bad = round % 7 == 0;
        for _ in 0..g.n {
            let name = names[g.next(names.len() as u64) as usize];
            let kind = match g.next(12) {
                0 => Kind::Int(Int {
                    size: 4,
                    encoding: 0,
                    offset: 0,
                    bits: 32,
                }),
                1 => Kind::Ptr(g.id()),
                2 => Kind::Const(g.id()),
                3 => Kind::Typedef(g.id()),
                4 => Kind::Fwd {
                    union: g.next(2) == 0,
                },
                5 => Kind::Struct(Composite {
                    size: 8,
                    members: g.members(&names),
                }),
                6 => Kind::Union(Composite {
                    size: 8,
                    members: g.members(&names),
                }),
                7 => Kind::Array(Array {
                    elem: g.id(),
                    index: g.id(),
                    nelems: g.next(3) as u32,
                }),
                8 => Kind::FuncProto(FuncProto {
                    ret: g.id(),
                    params: vec![Param {
                        name: 0,
                        ty: g.id(),
                    }],
                }),
                9 => Kind::Func {
                    proto: g.id(),
                    linkage: 0,
                },
                10 => Kind::Enum(Enum {
                    size: 4,
                    signed: false,
                    values: (0..g.next(2))
                        .map(|v| Enumerator {
                            name: names[0],
                            value: v as i64,
                        })
                        .collect(),
                }),
                _ => Kind::Var {
                    ty: g.id(),
                    linkage: 0,
                },
            };
            b.add(Type { name, kind });
        }
        let once = dedup(&b);
        let mut d = Dedup::new();
        d.add(&mut b.clone());
        let ids = d.add(&mut b.clone());
        d.add_resolved(Type {
            name: 0,
            kind: Kind::Ptr(*ids.last().unwrap()),
        });
        let inc = d.finish();
        if !g.bad {
            roundtrip(&once);
            roundtrip(&inc);
        }
        let base = Arc::new(once);
        let mut d = Dedup::new_split(base.clone());
        d.add(&mut b.clone());
        d.finish();
    }
}

/// Keyed names past a fragment's string table come from `key_bytes`, asked once per
/// new key; the output is the same as with the bytes in the table.
#[test]
fn keyed_names_past_the_string_table_come_from_their_key() {
    // struct s { int a; int b; }, its member names not in the table but keyed.
    let frag = || {
        let mut b = Builder::new();
        b.strukt("s", 8, &[("a", 2, 0), ("b", 2, 32)]);
        b.int("int", 4);
        let mut f = b.build();
        let end = f.strings_end();
        if let Kind::Struct(c) = &mut f.types_mut()[0].kind {
            c.members[0].name = end;
            c.members[1].name = end + 1;
        }
        (f, vec![(end, 10u64), (end + 1, 11u64)])
    };
    let asked = std::cell::RefCell::new(Vec::new());
    let key_bytes = |k: u64| {
        asked.borrow_mut().push(k);
        Some(match k {
            10 => &b"a"[..],
            _ => &b"b"[..],
        })
    };
    let mut d = Dedup::new();
    for _ in 0..2 {
        let (mut f, keys) = frag();
        d.add_keyed(&mut f, &keys, key_bytes);
    }
    assert_eq!(*asked.borrow(), [10, 11], "each key asked for once");
    let out = d.finish();
    let mut plain = Dedup::new();
    let mut b = Builder::new();
    b.strukt("s", 8, &[("a", 2, 0), ("b", 2, 32)]);
    b.int("int", 4);
    plain.add(&mut b.build());
    assert_eq!(dump(&out), dump(&plain.finish()));
}
