//! Reference loops that no C type can have. In C every cycle of types passes through a
//! pointer and through a struct or union (`struct s { struct s *next; }`); a cycle
//! without a pointer (a struct holding itself by value, a typedef or const of itself)
//! or without a struct or union (a pointer to itself) has no size or no name, and the
//! kernel refuses such BTF. Readers accept it, so listings still work; commands that
//! compute with types ([`crate::min`], [`crate::relo`] users, diff) check first.

use super::{Btf, BtfError, Kind, TypeId};

/// Fails with the first type of a cycle that lacks a pointer or a struct/union.
pub fn check_reference_loops(btf: &Btf) -> Result<(), BtfError> {
    let start = btf.start_id();
    let types = btf.types();
    let local = |id: TypeId| id >= start && ((id - start) as usize) < types.len();
    let is_composite = |i: usize| matches!(types[i].kind, Kind::Struct(_) | Kind::Union(_));
    // Edges without pointers: a cycle here holds itself by value.
    let by_value = |i: usize, out: &mut Vec<usize>| {
        if !matches!(types[i].kind, Kind::Ptr(_)) {
            types[i].kind.for_each_ref(|t| {
                if local(t) {
                    out.push((t - start) as usize);
                }
            });
        }
    };
    // Edges between types other than structs and unions: a cycle here has no tag.
    let untagged = |i: usize, out: &mut Vec<usize>| {
        if !is_composite(i) {
            types[i].kind.for_each_ref(|t| {
                if local(t) && !is_composite((t - start) as usize) {
                    out.push((t - start) as usize);
                }
            });
        }
    };
    for (edges, what) in [
        (
            &by_value as &dyn Fn(usize, &mut Vec<usize>),
            "holds itself without a pointer",
        ),
        (&untagged, "refers to itself without a struct or union"),
    ] {
        if let Some(i) = first_cycle(types.len(), edges) {
            return Err(BtfError::Type {
                id: start + i as TypeId,
                what: format!("reference loop: {what} (no C type can)"),
            });
        }
    }
    Ok(())
}

/// A node on a cycle of the graph `edges` describes, if any (Tarjan's strongly connected
/// components, iterative, so depth is bounded by memory, not the stack).
fn first_cycle(n: usize, edges: &dyn Fn(usize, &mut Vec<usize>)) -> Option<usize> {
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    // (node, its successors, position in them)
    let mut work: Vec<(usize, Vec<usize>, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        let mut succ = Vec::new();
        edges(root, &mut succ);
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        work.push((root, succ, 0));
        while let Some((v, succ, pos)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = succ.get(*pos) {
                *pos += 1;
                if w == v {
                    return Some(v);
                }
                if index[w] == UNSEEN {
                    let mut s = Vec::new();
                    edges(w, &mut s);
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, s, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut size = 0;
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    on_stack[w] = false;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                if size > 1 {
                    return Some(v);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{Composite, Member, Type};

    fn ty(kind: Kind) -> Type {
        Type { name: 0, kind }
    }

    fn strukt(members: &[TypeId]) -> Kind {
        Kind::Struct(Composite {
            size: 8,
            members: members
                .iter()
                .map(|&ty| Member {
                    name: 0,
                    ty,
                    bit_offset: 0,
                    bitfield_size: 0,
                })
                .collect(),
        })
    }

    fn btf(kinds: Vec<Kind>) -> Btf {
        let mut b = Btf::new();
        b.types_mut().extend(kinds.into_iter().map(ty));
        b
    }

    #[test]
    fn c_cycles_pass_and_others_fail() {
        // struct s { struct s *next; }: 1 = struct, 2 = ptr to it.
        assert!(check_reference_loops(&btf(vec![strukt(&[2]), Kind::Ptr(1)])).is_ok());
        // struct s { struct s self; }
        assert!(check_reference_loops(&btf(vec![strukt(&[1])])).is_err());
        // ptr -> ptr -> ptr
        assert!(check_reference_loops(&btf(vec![Kind::Ptr(2), Kind::Ptr(1)])).is_err());
        // typedef t t
        assert!(check_reference_loops(&btf(vec![Kind::Typedef(1)])).is_err());
        // struct a { struct b x; }; struct b { struct a *p; }: fine.
        assert!(
            check_reference_loops(&btf(vec![strukt(&[2]), strukt(&[3]), Kind::Ptr(1)])).is_ok()
        );
    }
}

#[cfg(test)]
#[path = "loops_tests.rs"]
mod table_tests;
