//! Whole-algorithm tests: fragments in, deduplicated BTF out.

use super::*;

fn int(b: &mut Btf, name: &str, size: u32) -> TypeId {
    let name = b.add_str(name);
    b.add(Type {
        name,
        kind: Kind::Int(Int {
            size,
            encoding: INT_SIGNED,
            offset: 0,
            bits: (size * 8) as u8,
        }),
    })
}

fn ptr(b: &mut Btf, to: TypeId) -> TypeId {
    b.add(Type {
        name: 0,
        kind: Kind::Ptr(to),
    })
}

fn fwd(b: &mut Btf, name: &str) -> TypeId {
    let name = b.add_str(name);
    b.add(Type {
        name,
        kind: Kind::Fwd { union: false },
    })
}

fn comp(b: &mut Btf, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> Type {
    let members = members
        .iter()
        .map(|&(n, ty, bit_offset)| Member {
            name: b.add_str(n),
            ty,
            bit_offset,
            bitfield_size: 0,
        })
        .collect();
    Type {
        name: b.add_str(name),
        kind: Kind::Struct(Composite { size, members }),
    }
}

fn strukt(b: &mut Btf, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> TypeId {
    let t = comp(b, name, size, members);
    b.add(t)
}

fn enm(b: &mut Btf, name: &str, values: &[(&str, i64)]) -> TypeId {
    let values = values
        .iter()
        .map(|&(n, value)| Enumerator {
            name: b.add_str(n),
            value,
        })
        .collect();
    let name = b.add_str(name);
    b.add(Type {
        name,
        kind: Kind::Enum(Enum {
            size: 4,
            signed: false,
            values,
        }),
    })
}

/// One line per own type, with names spelled out (comparable across BTFs).
fn dump(b: &Btf) -> Vec<String> {
    b.iter()
        .map(|(id, t)| {
            let mut t = t.clone();
            let mut names = Vec::new();
            for_each_name_mut(&mut t, |n| names.push(b.name(*n).into_owned()));
            format!("[{id}] {} {names:?} {:?}", t.kind.label(), {
                for_each_name_mut(&mut t, |n| *n = 0);
                t.kind
            })
        })
        .collect()
}

fn count(b: &Btf, code: u8) -> usize {
    b.types().iter().filter(|t| t.kind.code() == code).count()
}

fn roundtrip(b: &Btf) {
    let bytes = b.to_bytes();
    let back = Btf::from_bytes(&bytes).expect("output parses back");
    assert_eq!(back.types(), b.types());
    assert_eq!(dump(&back), dump(b));
}

/// int, struct foo { int a; int b; }, foo *
fn foo_frag() -> Btf {
    let mut b = Btf::new();
    let i = int(&mut b, "int", 4);
    let s = strukt(&mut b, "foo", 8, &[("a", i, 0), ("b", i, 32)]);
    ptr(&mut b, s);
    b
}

#[test]
fn identical_ints_merged() {
    let mut d = Dedup::new();
    let mut f = Btf::new();
    int(&mut f, "int", 4);
    int(&mut f, "int", 4);
    int(&mut f, "long", 8);
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
    let a = d.add(&mut foo_frag().clone());
    let b = d.add(&mut foo_frag().clone());
    assert_eq!(a, b);
    let out = d.finish();
    assert_eq!(out.types().len(), 3);
    assert_eq!(count(&out, kind::STRUCT), 1);
    roundtrip(&out);
}

#[test]
fn self_referencing_struct() {
    // struct node { struct node *next; int v; }
    let frag = || {
        let mut b = Btf::new();
        let s = b.add(Type {
            name: 0,
            kind: Kind::Int(Int {
                size: 0,
                encoding: 0,
                offset: 0,
                bits: 0,
            }),
        }); // placeholder, replaced below
        let i = int(&mut b, "int", 4);
        let p = ptr(&mut b, s);
        let node = comp(&mut b, "node", 16, &[("next", p, 0), ("v", i, 64)]);
        b.types_mut()[0] = node;
        b
    };
    let mut d = Dedup::new();
    let a = d.add(&mut frag().clone());
    let b = d.add(&mut frag().clone());
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
    let mut f1 = Btf::new();
    let fw = fwd(&mut f1, "foo");
    ptr(&mut f1, fw);
    let mut d = Dedup::new();
    d.add(&mut f1.clone());
    d.add(&mut foo_frag().clone());
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
    let mut f1 = Btf::new();
    let fw = fwd(&mut f1, "foo");
    let p = ptr(&mut f1, fw);
    strukt(&mut f1, "bar", 8, &[("p", p, 0)]);
    let mut f2 = Btf::new();
    let i = int(&mut f2, "int", 4);
    let foo = strukt(&mut f2, "foo", 4, &[("x", i, 0)]);
    let p = ptr(&mut f2, foo);
    strukt(&mut f2, "bar", 8, &[("p", p, 0)]);

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
    let mut f1 = Btf::new();
    let i = int(&mut f1, "int", 4);
    strukt(&mut f1, "foo", 4, &[("a", i, 0)]);
    let mut f2 = Btf::new();
    let l = int(&mut f2, "long", 8);
    strukt(&mut f2, "foo", 8, &[("b", l, 0)]);
    // Same layout and member names, different member type: also distinct.
    let mut f3 = Btf::new();
    let c = int(&mut f3, "char", 1);
    strukt(&mut f3, "foo", 4, &[("a", c, 0)]);
    let mut d = Dedup::new();
    d.add(&mut f1.clone());
    d.add(&mut f2.clone());
    d.add(&mut f3.clone());
    d.add(&mut f1.clone());
    let out = d.finish();
    assert_eq!(count(&out, kind::STRUCT), 3);
    assert_eq!(count(&out, kind::INT), 3);
    roundtrip(&out);
}

#[test]
fn enum_fwd_resolves_to_full_enum() {
    let fwd_frag = || {
        let mut b = Btf::new();
        let e = enm(&mut b, "e", &[]);
        ptr(&mut b, e);
        b
    };
    let full_frag = || {
        let mut b = Btf::new();
        let e = enm(&mut b, "e", &[("A", 1), ("B", 2)]);
        ptr(&mut b, e);
        b
    };
    for fwd_first in [true, false] {
        let mut d = Dedup::new();
        if fwd_first {
            d.add(&mut fwd_frag().clone());
            d.add(&mut full_frag().clone());
        } else {
            d.add(&mut full_frag().clone());
            d.add(&mut fwd_frag().clone());
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
    let mut other = Btf::new();
    enm(&mut other, "e", &[("A", 1)]);
    let mut d = Dedup::new();
    d.add(&mut full_frag().clone());
    d.add(&mut other.clone());
    assert_eq!(count(&d.finish(), kind::ENUM), 2);
}

#[test]
fn func_proto_and_func_via_add_resolved() {
    let mut d = Dedup::new();
    let ids = d.add(&mut foo_frag().clone());
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
    let mut fr = foo_frag();
    let xn = fr.add_str("x");
    fr.add(Type {
        name: 0,
        kind: Kind::FuncProto(FuncProto {
            ret: 1,
            params: vec![Param { name: xn, ty: 3 }],
        }),
    });
    let ids = d.add(&mut fr.clone());
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
    let ids = d.add(&mut foo_frag().clone());
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
    let mut f1 = foo_frag();
    let l = int(&mut f1, "long", 8);
    strukt(&mut f1, "bar", 16, &[("p", 3, 0), ("l", l, 64)]);
    // A FWD of a base struct resolves to it.
    let mut f2 = Btf::new();
    let fw = fwd(&mut f2, "foo");
    let p = ptr(&mut f2, fw);
    strukt(&mut f2, "baz", 8, &[("p", p, 0)]);

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
    for f in [&f1, &f2] {
        let off = raw.type_count() - 1;
        for t in f.types() {
            let mut t = t.clone();
            t.kind.for_each_ref_mut(|r| {
                if *r != 0 {
                    *r += off
                }
            });
            for_each_name_mut(&mut t, |n| *n = raw.add_bytes(f.name_bytes(*n).unwrap()));
            raw.add(t);
        }
    }
    assert_eq!(dump(&dedup(&raw)), dump(&out));
}

/// A messy BTF: a few fragments' worth of duplicates concatenated.
fn messy() -> Btf {
    let mut b = Btf::new();
    for i in 0..3 {
        let off = b.type_count() - 1;
        let mut f = foo_frag();
        let fw = fwd(&mut f, "node");
        let p = ptr(&mut f, fw);
        strukt(&mut f, "holder", 8, &[("n", p, 0)]);
        if i == 2 {
            let int = 1;
            let node = f.types().len() as u32 + 3;
            let np = ptr(&mut f, node);
            let cnp = f.add(Type {
                name: 0,
                kind: Kind::Const(np),
            });
            strukt(&mut f, "node", 16, &[("next", cnp, 0), ("v", int, 64)]);
            let e = enm(&mut f, "e", &[]);
            f.add(Type {
                name: 0,
                kind: Kind::Volatile(e),
            });
        }
        for t in f.types() {
            let mut t = t.clone();
            t.kind.for_each_ref_mut(|r| {
                if *r != 0 {
                    *r += off
                }
            });
            for_each_name_mut(&mut t, |n| *n = b.add_bytes(f.name_bytes(*n).unwrap()));
            b.add(t);
        }
    }
    b
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
    let mut f1 = Btf::new();
    let i = int(&mut f1, "int", 4);
    let a = strukt(&mut f1, "a", 4, &[("x", i, 0)]);
    strukt(&mut f1, "s", 8, &[("p", a, 0), ("q", a, 32)]);
    let mut f2 = Btf::new();
    let i = int(&mut f2, "int", 4);
    let a1 = strukt(&mut f2, "a", 4, &[("x", i, 0)]);
    let a2 = strukt(&mut f2, "a", 4, &[("x", i, 0)]);
    strukt(&mut f2, "s", 8, &[("p", a1, 0), ("q", a2, 32)]);
    let mut d = Dedup::new();
    d.add(&mut f1.clone());
    d.add(&mut f2.clone());
    let out = d.finish();
    assert_eq!(out.types().len(), 3, "{:#?}", dump(&out));
}

#[test]
fn hostile_cycles_and_bad_refs_do_not_hang() {
    let mut b = Btf::new();
    // [1] PTR -> [2] CONST -> [1]
    b.add(Type {
        name: 0,
        kind: Kind::Ptr(2),
    });
    b.add(Type {
        name: 0,
        kind: Kind::Const(1),
    });
    // [3] typedef t -> [3]
    let t = b.add_str("t");
    b.add(Type {
        name: t,
        kind: Kind::Typedef(3),
    });
    // [4] struct with a member pointing nowhere, [5] array of itself
    let s = comp(&mut b, "s", 4, &[("x", 999, 0)]);
    b.add(s);
    b.add(Type {
        name: 0,
        kind: Kind::Array(Array {
            elem: 5,
            index: 5,
            nelems: 1,
        }),
    });
    // A long chain of pointers (deep recursion in a naive implementation).
    let mut prev = 0;
    for _ in 0..200_000 {
        prev = ptr(&mut b, prev);
    }
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

/// Random small graphs (cycles everywhere, bad ids): never panics or hangs, and
/// valid input gives valid output.
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
