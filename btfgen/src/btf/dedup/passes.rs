//! The passes of libbpf's dedup, in their order: primitive types, structs (with the
//! equivalence check of `equiv.rs`), FWD resolution by name, reference types; and the
//! base taint that keeps split reference types from settling too early.

use super::equal::*;
use super::hash::{kind_hash, FxMap};
use super::state::State;
use super::store::{resolve_in, Store};
use super::{IN_PROGRESS, UNPROCESSED};
use crate::btf::types::*;

impl State {
    // --- primitive types -------------------------------------------------------

    /// libbpf `btf_dedup_prim_types` over `[lo, hi)`: INTs, FWDs, FLOATs and enums.
    pub(super) fn prim_pass(&mut self, s: &Store, lo: u32, hi: u32) {
        for id in lo..hi {
            self.prim_type(s, id);
        }
    }

    /// Maps primitive `id` to an equal canonical type, or makes it canonical.
    fn prim_type(&mut self, s: &Store, id: u32) {
        let Some(t) = s.ty(id) else { return };
        let mut new_id = id;
        if !matches!(
            t.kind,
            Kind::Int(_) | Kind::Fwd { .. } | Kind::Float { .. } | Kind::Enum(_) | Kind::Enum64(_)
        ) {
            return;
        }
        let h = kind_hash(t);
        match &t.kind {
            Kind::Int(_) | Kind::Fwd { .. } | Kind::Float { .. } => {
                let cands = self.collect(h);
                if let Some(&c) = cands.iter().find(|&&c| s.ty(c) == Some(t)) {
                    new_id = c;
                }
                self.cands = cands;
            }
            Kind::Enum(_) | Kind::Enum64(_) => {
                let cands = self.collect(h);
                for &c in &cands {
                    let Some(ct) = s.ty(c) else { continue };
                    if enum_equal(t, ct) {
                        new_id = c;
                        break;
                    }
                    if enum_compat(t, ct) {
                        if is_enum_fwd(t) {
                            // Forward declaration resolves to the full enum.
                            new_id = c;
                            break;
                        }
                        // A canonical forward declaration resolves to this full enum.
                        self.set_map(c, id);
                    }
                }
                self.cands = cands;
            }
            _ => return,
        }
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }

    // --- structs, unions and typedefs -----------------------------------------

    /// libbpf `btf_dedup_struct_types` over `[lo, hi)`: structs, unions, typedefs.
    pub(super) fn struct_pass(&mut self, s: &Store, lo: u32, hi: u32) {
        for id in lo..hi {
            self.struct_type(s, id);
        }
        self.clear_hypot();
    }

    /// Maps struct, union or typedef `id` to the first candidate whose graph is
    /// equivalent, or makes it canonical.
    fn struct_type(&mut self, s: &Store, id: u32) {
        if self.is_mapped(id) {
            return;
        }
        let Some(t) = s.ty(id) else { return };
        if !matches!(t.kind, Kind::Struct(_) | Kind::Union(_) | Kind::Typedef(_)) {
            return;
        }
        let typedef = matches!(t.kind, Kind::Typedef(_));
        let h = kind_hash(t);
        let cands = self.collect(h);
        let mut new_id = id;
        for &c in &cands {
            let Some(ct) = s.ty(c) else { continue };
            // Guards against a colliding FWD, which is_equiv would accept.
            let same = if typedef {
                typedef_eq(t, ct)
            } else {
                shallow_struct_eq(t, ct)
            };
            if !same || !self.may_be_equiv(s, t, ct) {
                continue;
            }
            self.clear_hypot();
            self.root_in_base = c < s.base_end;
            if !self.is_equiv(s, id, c) {
                continue;
            }
            self.merge_hypot(s);
            if self.adjust_canon {
                continue;
            }
            new_id = c;
            break;
        }
        self.cands = cands;
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }

    /// A cheap, exact shortcut for a common failure of [`State::is_equiv`] on two
    /// shallow-equal structs/unions (typedefs): `false` when a pair of direct member
    /// (target) types certainly fails the check. Those pairs are always visited by the
    /// DFS, and a pair whose types resolve differently passes only if both have the
    /// same name and compatible kinds (directly, through a hypothetical mapping made by
    /// an earlier visit that compared name and kind, or through the identical-types
    /// fallback, which compares both too); INTs and FLOATs pass only when they resolve
    /// to the same type. Skipping a doomed DFS changes no state that outlives it.
    fn may_be_equiv(&self, s: &Store, cand: &Type, canon: &Type) -> bool {
        match (&cand.kind, &canon.kind) {
            (Kind::Struct(a), Kind::Struct(b)) | (Kind::Union(a), Kind::Union(b)) => a
                .members
                .iter()
                .zip(&b.members)
                .all(|(m, n)| self.pair_may_match(s, m.ty, n.ty)),
            (Kind::Typedef(a), Kind::Typedef(b)) => self.pair_may_match(s, *a, *b),
            _ => true,
        }
    }

    /// The test of [`State::may_be_equiv`] for one pair of referenced ids.
    fn pair_may_match(&self, s: &Store, cand: u32, canon: u32) -> bool {
        if self.resolve(cand) == self.resolve(canon) {
            return true;
        }
        let canon = self.resolve_fwd(s, canon);
        let (Some(ct), Some(kt)) = (s.ty(cand), s.ty(canon)) else {
            return false;
        };
        if ct.name != kt.name {
            return false;
        }
        let (a, b) = (ct.kind.code(), kt.kind.code());
        let agg = |k| k == kind::STRUCT || k == kind::UNION;
        if a != b {
            return (a == kind::FWD && agg(b)) || (b == kind::FWD && agg(a));
        }
        !matches!(ct.kind, Kind::Int(_) | Kind::Float { .. })
    }

    // --- FWD resolution by unique name ------------------------------------------

    /// libbpf `btf_dedup_resolve_fwds`: a FWD still canonical maps to the only
    /// canonical struct/union of its name and kind (base types included).
    pub(super) fn resolve_fwds(&mut self, s: &Store, lo: u32, hi: u32) {
        let mut names: FxMap<u32, u32> = FxMap::default();
        for id in 1..hi {
            let Some(t) = s.ty(id) else { continue };
            if matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) && self.map[id as usize] == id {
                names.entry(t.name).and_modify(|v| *v = 0).or_insert(id);
            }
        }
        for id in lo..hi {
            let Some(Type {
                name,
                kind: Kind::Fwd { union },
            }) = s.ty(id)
            else {
                continue;
            };
            if self.map[id as usize] != id {
                continue;
            }
            let Some(&c) = names.get(name) else { continue };
            if c == 0 {
                continue;
            }
            let want = if *union { kind::UNION } else { kind::STRUCT };
            if s.code(c) == want {
                self.map[id as usize] = c;
            }
        }
    }

    // --- reference types --------------------------------------------------------

    /// libbpf `btf_dedup_ref_types` over the still unprocessed types of `[lo, hi)`.
    pub(super) fn ref_pass(&mut self, s: &mut Store, lo: u32, hi: u32) {
        for id in lo..hi {
            if self.map[id as usize] == UNPROCESSED {
                self.ref_type(s, id);
            }
        }
    }

    /// libbpf `btf_dedup_ref_type` with an explicit stack: referents first (in
    /// order), then the type itself. A cycle made only of reference types (libbpf:
    /// `-ELOOP`) leaves the types on it canonical and unmerged.
    fn ref_type(&mut self, s: &mut Store, root: u32) {
        let mut stack = std::mem::take(&mut self.ref_stack);
        stack.clear();
        stack.push(root);
        while let Some(&id) = stack.last() {
            let m = self.map[id as usize];
            if m == UNPROCESSED {
                match s.ty(id) {
                    Some(t) if is_ref_kind(&t.kind) => {
                        self.map[id as usize] = IN_PROGRESS;
                        let first = stack.len();
                        let map = &self.map;
                        t.kind.for_each_ref(|r| {
                            if map.get(r as usize) == Some(&UNPROCESSED) {
                                stack.push(r);
                            }
                        });
                        stack[first..].reverse();
                    }
                    _ => {
                        // Not a reference kind and not handled by earlier passes.
                        self.map[id as usize] = id;
                        stack.pop();
                    }
                }
            } else if m == IN_PROGRESS {
                stack.pop();
                self.finish_ref(s, id);
            } else {
                stack.pop();
            }
        }
        self.ref_stack = stack;
    }

    /// Canonicalizes the refs of reference type `id` (its referents are done) and
    /// maps it to an equal candidate, or makes it canonical.
    fn finish_ref(&mut self, s: &mut Store, id: u32) {
        let idx = (id - s.base_end) as usize;
        let mut looped = false;
        {
            let map = &self.map;
            let Some(t) = s.types.get_mut(idx) else {
                return;
            };
            t.kind.for_each_ref_mut(|r| {
                if map.get(*r as usize) == Some(&IN_PROGRESS) {
                    looped = true;
                } else {
                    *r = resolve_in(map, *r);
                }
            });
        }
        if looped {
            self.map[id as usize] = id;
            return;
        }
        let t = &s.types[idx];
        let h = kind_hash(t);
        let cands = self.collect(h);
        // While fragments come in, a base type that depends on a base forward
        // declaration is no candidate: the declaration may still be resolved to a
        // later split type, and libbpf (all structs before any reference type) would
        // then resolve this type differently. The final pass decides.
        let frozen = |c: u32| !self.full && self.base_taint.get(c as usize) == Some(&true);
        let new_id = cands
            .iter()
            .copied()
            .find(|&c| !frozen(c) && s.ty(c) == Some(t))
            .unwrap_or(id);
        self.cands = cands;
        self.map[id as usize] = new_id;
        if new_id == id {
            self.add_local(h, id);
        }
    }
}

/// Per base id: whether the type is a forward declaration (struct/union FWD or enum
/// without values) or a reference type reaching one through reference types only.
/// Such a declaration may get resolved to a type of the split part, which changes
/// what split reference types through it resolve to.
pub(super) fn base_taint(s: &Store) -> Vec<bool> {
    const CLEAN: u8 = 2;
    const TAINTED: u8 = 3;
    let n = s.base_end as usize;
    // 0 = not visited, 1 = in progress, CLEAN, TAINTED
    let mut state = vec![0u8; n];
    let mut stack: Vec<(u32, bool)> = Vec::new();
    for root in 1..s.base_end {
        stack.push((root, false));
        while let Some((id, expanded)) = stack.pop() {
            let i = id as usize;
            let Some(t) = s.ty(id) else {
                state[i] = CLEAN;
                continue;
            };
            if expanded {
                let mut tainted = false;
                t.kind
                    .for_each_ref(|r| tainted |= state.get(r as usize) == Some(&TAINTED));
                state[i] = if tainted { TAINTED } else { CLEAN };
                continue;
            }
            if state[i] != 0 {
                continue;
            }
            if matches!(t.kind, Kind::Fwd { .. }) || is_enum_fwd(t) {
                state[i] = TAINTED;
            } else if !is_ref_kind(&t.kind) {
                state[i] = CLEAN;
            } else {
                state[i] = 1;
                stack.push((id, true));
                t.kind.for_each_ref(|r| {
                    if state.get(r as usize) == Some(&0) {
                        stack.push((r, false));
                    }
                });
            }
        }
    }
    state.into_iter().map(|x| x == TAINTED).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::dedup;
    use super::*;
    use crate::btf::test_util::Builder;

    #[test]
    fn base_taint_marks_declarations_and_refs_to_them() {
        let mut b = Builder::new();
        let int = b.int("int", 4); // 1
        let fwd = b.fwd("s", false); // 2
        let edecl = b.enm("e", &[]); // 3
        let efull = b.enm("f", &[("A", 0)]); // 4
        let p_fwd = b.ptr(fwd); // 5
        let cp_fwd = b.konst(p_fwd); // 6: two reference types away
        let p_int = b.ptr(int); // 7
        let v_decl = b.volatile(edecl); // 8
        let s = b.strukt("t", 8, &[("p", p_fwd, 0)]); // 9: not a reference type
        let p_s = b.ptr(s); // 10: reaches the FWD only through a struct
        let proto = b.func_proto(int, &[("x", p_fwd)]); // 11
        let p_efull = b.ptr(efull); // 12
                                    // 13 → 14 → 13: a pointer cycle reaching no declaration.
        let c1 = b.ptr(14);
        let c2 = b.ptr(c1);
        let store = Store {
            base: Some(Arc::new(b.build())),
            base_end: 15,
            types: Vec::new(),
        };
        let taint = base_taint(&store);
        assert_eq!(taint.len(), 15);
        let tainted = [fwd, edecl, p_fwd, cp_fwd, v_decl, proto];
        let clean = [int, efull, p_int, s, p_s, p_efull, c1, c2];
        for id in tainted {
            assert!(taint[id as usize], "{id} is tainted");
        }
        for id in clean {
            assert!(!taint[id as usize], "{id} is clean");
        }
    }

    /// `resolve_fwds`: a FWD left over maps to the one struct (union) of its name and
    /// kind, and stays when there is none or more than one.
    #[test]
    fn leftover_fwds_resolve_to_the_unique_struct_of_their_name() {
        /// (is a union, size) of an aggregate named "s".
        type Agg = (bool, u32);
        // Each case: a FWD (union or not) of "s" with a pointer to it, then the
        // aggregates named "s", each a distinct layout.
        let cases: [(&str, bool, &[Agg], bool); 5] = [
            ("one struct", false, &[(false, 4)], true),
            ("no struct", false, &[], false),
            ("two structs", false, &[(false, 4), (false, 8)], false),
            ("a union for a struct FWD", false, &[(true, 4)], false),
            ("a union FWD and a union", true, &[(true, 4)], true),
        ];
        for (what, union, aggs, resolved) in cases {
            let mut b = Builder::new();
            let int = b.int("int", 4);
            let fwd = b.fwd("s", union);
            b.ptr(fwd);
            for &(is_union, size) in aggs {
                if is_union {
                    b.union("s", size, &[("x", int, 0)]);
                } else {
                    b.strukt("s", size, &[("x", int, 0)]);
                }
            }
            let out = dedup(&b.build());
            let code = |to: TypeId| out.get(to).unwrap().kind.code();
            let fwds = out.iter().filter(|(id, _)| code(*id) == kind::FWD).count();
            assert_eq!(fwds, usize::from(!resolved), "{what}");
            // The pointer follows: to the aggregate when resolved, else to the FWD.
            let to = out
                .types()
                .iter()
                .find_map(|t| match t.kind {
                    Kind::Ptr(to) => Some(to),
                    _ => None,
                })
                .unwrap();
            let want = match (resolved, union) {
                (false, _) => kind::FWD,
                (true, false) => kind::STRUCT,
                (true, true) => kind::UNION,
            };
            assert_eq!(code(to), want, "{what}");
        }
    }

    /// The ref pass merges equal reference types built over already canonical ids, and
    /// one built over a duplicate after the duplicate is merged.
    #[test]
    fn ref_pass_merges_equal_reference_types() {
        let mut b = Builder::new();
        let int = b.int("int", 4); // 1
        let int2 = b.int("int", 4); // 2: merged into 1 by the prim pass
        let p1 = b.ptr(int); // 3
        let p2 = b.ptr(int2); // 4: equal to 3 once 2 is 1
        let c1 = b.konst(p1); // 5
        let c2 = b.konst(p2); // 6
        b.array(c1, int, 3); // 7
        b.array(c2, int2, 3); // 8: equal to 7
        b.array(c2, int2, 4); // 9: another length
        let out = dedup(&b.build());
        // Survivors keep their first-occurrence order: 1, 3, 5, 7, 9 become 1..=5.
        let array = |nelems| {
            Kind::Array(Array {
                elem: 3,
                index: 1,
                nelems,
            })
        };
        let want = [Kind::Ptr(1), Kind::Const(2), array(3), array(4)];
        assert_eq!(out.types().len(), 5);
        assert_eq!(out.get(1).unwrap().kind.code(), kind::INT);
        for (id, k) in (2..).zip(want) {
            assert_eq!(out.get(id).unwrap().kind, k, "[{id}]");
        }
    }
}
