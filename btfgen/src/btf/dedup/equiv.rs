//! The struct-graph equivalence check (libbpf `btf_dedup_is_equiv`): two type graphs
//! walked side by side with a hypothetical canonical → candidate map, the
//! identical-types fallback, and the merge of a successful check's map.

use super::equal::*;
use super::state::State;
use super::store::Store;
use super::{IDENT_BUDGET, IDENT_DEPTH, MAX_ID, UNPROCESSED};
use crate::btf::types::*;

impl State {
    /// Empties the hypothetical map.
    pub(super) fn clear_hypot(&mut self) {
        for &id in &self.hypot_list {
            self.hypot[id as usize] = UNPROCESSED;
        }
        self.hypot_list.clear();
        self.adjust_canon = false;
    }

    /// libbpf `resolve_fwd_id`: a FWD already resolved to a struct/union is replaced
    /// by it.
    pub(super) fn resolve_fwd(&self, s: &Store, id: u32) -> u32 {
        if !is_fwd(s.ty(id)) {
            return id;
        }
        let r = self.resolve(id);
        if is_fwd(s.ty(r)) {
            id
        } else {
            r
        }
    }

    /// libbpf `btf_dedup_is_equiv`: side-by-side DFS of the candidate graph (`cand`)
    /// and the canonical graph (`canon`), recording canon → cand in `hypot`. Same
    /// preorder as libbpf's recursion, with an explicit stack.
    pub(super) fn is_equiv(&mut self, s: &Store, cand: u32, canon: u32) -> bool {
        let mut stack = std::mem::take(&mut self.equiv_stack);
        stack.clear();
        stack.push((cand, canon));
        let eq = self.equiv_loop(s, &mut stack);
        self.equiv_stack = stack;
        eq
    }

    /// The DFS of [`State::is_equiv`] over the pairs on `stack`.
    fn equiv_loop(&mut self, s: &Store, stack: &mut Vec<(u32, u32)>) -> bool {
        while let Some((cand, canon)) = stack.pop() {
            if self.resolve(cand) == self.resolve(canon) {
                continue;
            }
            let canon = self.resolve_fwd(s, canon);
            let hyp = self
                .hypot
                .get(canon as usize)
                .copied()
                .unwrap_or(UNPROCESSED);
            if hyp <= MAX_ID {
                if hyp == cand {
                    continue;
                }
                // Compilers sometimes emit identical duplicates of a type inside one
                // CU: accept them if they are structurally identical.
                let mut budget = IDENT_BUDGET;
                if self.identical(s, hyp, cand, IDENT_DEPTH, &mut budget) {
                    continue;
                }
                return false;
            }
            let Some(slot) = self.hypot.get_mut(canon as usize) else {
                return false;
            };
            *slot = cand;
            self.hypot_list.push(canon);

            let (Some(ct), Some(kt)) = (s.ty(cand), s.ty(canon)) else {
                return false;
            };
            if ct.name != kt.name {
                return false;
            }
            let (ck, kk) = (ct.kind.code(), kt.kind.code());
            if (ck == kind::FWD || kk == kind::FWD) && ck != kk {
                let (real, fwd) = match (&ct.kind, &kt.kind) {
                    (Kind::Fwd { union }, _) => (kk, *union),
                    (_, Kind::Fwd { union }) => (ck, *union),
                    _ => return false,
                };
                let fwd = if fwd { kind::UNION } else { kind::STRUCT };
                if ck != kind::FWD
                    && fwd == real
                    && canon < s.base_end
                    && s.base.is_some()
                    && (self.full || self.root_in_base)
                {
                    // We would have to resolve an immutable base FWD. (Incrementally,
                    // only in the graph of a base candidate: the graph of an own
                    // candidate is a fragment's own types to libbpf, whose FWDs merely
                    // map to base FWDs; ours refers to the base FWDs themselves.)
                    self.adjust_canon = true;
                }
                if fwd != real {
                    return false;
                }
                continue;
            }
            if ck != kk {
                return false;
            }
            match (&ct.kind, &kt.kind) {
                (Kind::Int(_), _) | (Kind::Fwd { .. }, _) | (Kind::Float { .. }, _) => {
                    if ct != kt {
                        return false;
                    }
                }
                (Kind::Enum(_), _) | (Kind::Enum64(_), _) => {
                    if !enum_compat(ct, kt) {
                        return false;
                    }
                }
                (
                    Kind::Const(a)
                    | Kind::Volatile(a)
                    | Kind::Restrict(a)
                    | Kind::Ptr(a)
                    | Kind::Typedef(a)
                    | Kind::Func { proto: a, .. }
                    | Kind::TypeTag { ty: a, .. },
                    Kind::Const(b)
                    | Kind::Volatile(b)
                    | Kind::Restrict(b)
                    | Kind::Ptr(b)
                    | Kind::Typedef(b)
                    | Kind::Func { proto: b, .. }
                    | Kind::TypeTag { ty: b, .. },
                ) => {
                    if !modifier_info_eq(&ct.kind, &kt.kind) {
                        return false;
                    }
                    stack.push((*a, *b));
                }
                (Kind::Array(a), Kind::Array(b)) => {
                    if !compat_array(ct, kt) {
                        return false;
                    }
                    // Index type first, then element type.
                    stack.push((a.elem, b.elem));
                    stack.push((a.index, b.index));
                }
                (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => {
                    if !shallow_struct_eq(ct, kt) {
                        return false;
                    }
                    for (m, n) in a.members.iter().zip(&b.members).rev() {
                        stack.push((m.ty, n.ty));
                    }
                }
                (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                    if !compat_fnproto(ct, kt) {
                        return false;
                    }
                    for (p, q) in a.params.iter().zip(&b.params).rev() {
                        stack.push((p.ty, q.ty));
                    }
                    stack.push((a.ret, b.ret));
                }
                // VAR, DATASEC, DECL_TAG cannot be part of a struct graph (libbpf: -EINVAL).
                _ => return false,
            }
        }
        true
    }

    /// libbpf `btf_dedup_identical_types`, including its ARRAY quirk (element and index
    /// types are not compared, `a2 = btf_array(t1)` in libbpf ≤ 1.7/master), plus a
    /// visit budget.
    fn identical(
        &self,
        s: &Store,
        mut id1: u32,
        mut id2: u32,
        depth: i32,
        budget: &mut u32,
    ) -> bool {
        loop {
            if depth <= 0 || *budget == 0 {
                return false;
            }
            *budget -= 1;
            let (t1, t2) = match (s.ty(id1), s.ty(id2)) {
                (Some(a), Some(b)) => (a, b),
                (None, None) => return id1 == 0 && id2 == 0,
                _ => return false,
            };
            if t1.kind.code() != t2.kind.code() {
                return false;
            }
            match (&t1.kind, &t2.kind) {
                (Kind::Int(_), _) | (Kind::Fwd { .. }, _) | (Kind::Float { .. }, _) => {
                    return t1 == t2
                }
                (Kind::Enum(_), _) | (Kind::Enum64(_), _) => return enum_compat(t1, t2),
                (
                    Kind::Const(a)
                    | Kind::Volatile(a)
                    | Kind::Restrict(a)
                    | Kind::Ptr(a)
                    | Kind::Typedef(a)
                    | Kind::Func { proto: a, .. }
                    | Kind::TypeTag { ty: a, .. },
                    Kind::Const(b)
                    | Kind::Volatile(b)
                    | Kind::Restrict(b)
                    | Kind::Ptr(b)
                    | Kind::Typedef(b)
                    | Kind::Func { proto: b, .. }
                    | Kind::TypeTag { ty: b, .. },
                ) => {
                    if t1.name != t2.name || !modifier_info_eq(&t1.kind, &t2.kind) {
                        return false;
                    }
                    id1 = *a;
                    id2 = *b;
                }
                (Kind::Array(_), _) => return compat_array(t1, t2),
                (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => {
                    if !shallow_struct_eq(t1, t2) {
                        return false;
                    }
                    return a.members.iter().zip(&b.members).all(|(m, n)| {
                        m.ty == n.ty || self.identical(s, m.ty, n.ty, depth - 1, budget)
                    });
                }
                (Kind::FuncProto(a), Kind::FuncProto(b)) => {
                    if !compat_fnproto(t1, t2) {
                        return false;
                    }
                    if a.ret != b.ret && !self.identical(s, a.ret, b.ret, depth - 1, budget) {
                        return false;
                    }
                    return a.params.iter().zip(&b.params).all(|(p, q)| {
                        p.ty == q.ty || self.identical(s, p.ty, q.ty, depth - 1, budget)
                    });
                }
                _ => return false,
            }
        }
    }

    /// libbpf `btf_dedup_merge_hypot_map`: records FWD → STRUCT/UNION resolutions and
    /// (as an optimization) struct → struct mappings found by a successful check.
    pub(super) fn merge_hypot(&mut self, s: &Store) {
        for i in 0..self.hypot_list.len() {
            let canon = self.hypot_list[i];
            let targ = self.hypot[canon as usize];
            let t_id = self.resolve(targ);
            let c_id = self.resolve(canon);
            let tk = s.code(t_id);
            let ck = s.code(c_id);
            if tk != kind::FWD && ck == kind::FWD {
                self.set_map(c_id, t_id);
            }
            if self.adjust_canon {
                continue;
            }
            if tk == kind::FWD && ck != kind::FWD {
                self.set_map(t_id, c_id);
            }
            if (tk == kind::STRUCT || tk == kind::UNION)
                && ck != kind::FWD
                && self.is_mapped(c_id)
                && !self.is_mapped(t_id)
            {
                self.set_map(t_id, c_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::test_util::Builder;
    use crate::btf::Btf;

    /// A store of `btf`'s types (no base) and a state where every id is canonical.
    fn setup(btf: Btf) -> (Store, State) {
        let types = btf.types().to_vec();
        let end = types.len() as u32 + 1;
        let s = Store {
            base: None,
            base_end: 1,
            types,
        };
        let st = State {
            map: (0..end).collect(),
            hypot: vec![UNPROCESSED; end as usize],
            ..State::default()
        };
        (s, st)
    }

    /// Two copies of `n` nested structs `s{k} { s{k-1} m; }` around `s0 { int x; }`
    /// sharing one int; returns the two outermost.
    fn nested(b: &mut Builder, n: usize) -> (TypeId, TypeId) {
        let int = b.int("int", 4);
        let mut tops = [0; 2];
        for top in &mut tops {
            let mut inner = b.strukt("s0", 4, &[("x", int, 0)]);
            for k in 1..n {
                inner = b.strukt(&format!("s{k}"), 4, &[("m", inner, 0)]);
            }
            *top = inner;
        }
        (tops[0], tops[1])
    }

    #[test]
    fn identical_types_fallback() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let long = b.int("long", 8);
        let arr_int = b.array(int, int, 4);
        let arr_long = b.array(long, long, 4);
        let arr_5 = b.array(int, int, 5);
        let sa = b.strukt("s", 4, &[("a", int, 0)]);
        let sb = b.strukt("s", 4, &[("a", int, 0)]);
        let sc = b.strukt("s", 4, &[("b", int, 0)]);
        let pa = b.ptr(sa);
        let pb = b.ptr(sb);
        let pc = b.ptr(sc);
        let (n16a, n16b) = nested(&mut b, 16);
        let (n17a, n17b) = nested(&mut b, 17);
        let (s, st) = setup(b.build());
        let cases = [
            // libbpf compares only the lengths of two arrays here (it reads the
            // second array's element and index from the first array).
            ("arrays of different elements", arr_int, arr_long, true),
            ("arrays of different lengths", arr_int, arr_5, false),
            ("pointers to two copies of a struct", pa, pb, true),
            (
                "pointers to structs with another member name",
                pa,
                pc,
                false,
            ),
            ("INTs of different size", int, long, false),
            ("void and void", 0, 0, true),
            ("void and a type", 0, int, false),
            // Each struct level costs one unit of depth 16: s15 is compared at depth
            // 16, s0 at depth 1; one level more runs out.
            ("16 nested levels", n16a, n16b, true),
            ("17 nested levels", n17a, n17b, false),
        ];
        for (what, a, b, want) in cases {
            let mut budget = IDENT_BUDGET;
            assert_eq!(
                st.identical(&s, a, b, IDENT_DEPTH, &mut budget),
                want,
                "{what}"
            );
        }
    }

    #[test]
    fn identical_gives_up_when_the_budget_runs_out() {
        // Two distinct chains of pointers to one int: each link costs one visit.
        let chains = |len: u32| {
            let mut b = Builder::new();
            let int = b.int("int", 4);
            let (mut x, mut y) = (int, int);
            for _ in 0..len {
                x = b.ptr(x);
                y = b.ptr(y);
            }
            let (s, st) = setup(b.build());
            let mut budget = IDENT_BUDGET;
            st.identical(&s, x, y, IDENT_DEPTH, &mut budget)
        };
        // `len` links then the int: len + 1 visits.
        assert!(chains(IDENT_BUDGET - 1));
        assert!(!chains(IDENT_BUDGET));
    }

    #[test]
    fn equivalence_maps_canonical_to_candidate_and_resolves_fwds() {
        let mut b = Builder::new();
        let int = b.int("int", 4); // 1
                                   // Canonical graph: struct a { struct b *p; }, struct b { int x; }.
        let cb = b.strukt("b", 4, &[("x", int, 0)]); // 2
        let cp = b.ptr(cb); // 3
        let ca = b.strukt("a", 8, &[("p", cp, 0)]); // 4
                                                    // Candidate: struct a { struct b *p; } with b only declared.
        let fb = b.fwd("b", false); // 5
        let fp = b.ptr(fb); // 6
        let fa = b.strukt("a", 8, &[("p", fp, 0)]); // 7
                                                    // Another candidate: b declared as a union.
        let ub = b.fwd("b", true); // 8
        let up = b.ptr(ub); // 9
        let ua = b.strukt("a", 8, &[("p", up, 0)]); // 10
                                                    // A third whose b has another member name, two levels down.
        let xb = b.strukt("b", 4, &[("y", int, 0)]); // 11
        let xp = b.ptr(xb); // 12
        let xa = b.strukt("a", 8, &[("p", xp, 0)]); // 13
        let (s, mut st) = setup(b.build());

        assert!(st.is_equiv(&s, fa, ca));
        // Visited in preorder: a, the pointers, then b against the FWD.
        assert_eq!(st.hypot_list, [ca, cp, cb]);
        assert_eq!([st.hypot[ca as usize], st.hypot[cp as usize]], [fa, fp]);
        assert_eq!(st.hypot[cb as usize], fb);
        st.merge_hypot(&s);
        assert_eq!(st.resolve(fb), cb, "the FWD resolves to the struct");
        assert_eq!(
            st.resolve(fp),
            fp,
            "reference types are left to the ref pass"
        );

        for (cand, what) in [(ua, "union FWD for a struct"), (xa, "member name")] {
            st.clear_hypot();
            assert!(!st.is_equiv(&s, cand, ca), "{what}");
        }
        assert!(
            st.hypot_list.len() > 1,
            "the failed check got past the roots"
        );
        st.clear_hypot();
        assert!(st.hypot_list.is_empty());
        assert!(st.hypot.iter().all(|&h| h == UNPROCESSED));
    }
}
