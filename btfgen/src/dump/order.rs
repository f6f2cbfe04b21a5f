//! Ordering type definitions for C: a depth-first walk that queues each named
//! definition after everything it needs fully defined (libbpf's
//! `btf_dump_order_type`).
//!
//! A link from X to Y is *strong* (Y must be defined before X) unless the path goes
//! through a pointer and reaches a named type, which a forward declaration satisfies.

use crate::btf::query::MAX_NESTING_DEPTH;
use crate::btf::{Btf, Kind, TypeId};

use super::DumpError;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    NotOrdered,
    Ordering,
    Ordered,
}

/// Ordering state for every type of one BTF, kept across [`Order::order`] calls so
/// that each definition is queued once.
pub(super) struct Order {
    state: Vec<State>,
    /// Types referred to by some other type; unreferenced anonymous enums are
    /// top-level declarations (of constants).
    referenced: Vec<bool>,
}

impl Order {
    pub(super) fn new(btf: &Btf) -> Self {
        let n = btf.type_count() as usize;
        let mut referenced = vec![false; n];
        for id in 1..btf.type_count() {
            if let Some(t) = btf.get(id) {
                t.kind.for_each_ref(|r| {
                    if let Some(slot) = referenced.get_mut(r as usize) {
                        *slot = true;
                    }
                });
            }
        }
        let mut state = vec![State::NotOrdered; n];
        state[0] = State::Ordered;
        Order { state, referenced }
    }

    /// Appends to `queue` the definitions `id` needs (and `id` itself when it is
    /// one) that no earlier call queued, dependencies first.
    pub(super) fn order(
        &mut self,
        btf: &Btf,
        id: TypeId,
        queue: &mut Vec<TypeId>,
    ) -> Result<(), DumpError> {
        self.visit(btf, id, false, queue, 0).map(|_| ())
    }

    /// Returns whether `id` is part of a strong link.
    fn visit(
        &mut self,
        btf: &Btf,
        id: TypeId,
        through_ptr: bool,
        queue: &mut Vec<TypeId>,
        depth: usize,
    ) -> Result<bool, DumpError> {
        if depth > MAX_NESTING_DEPTH {
            return Err(DumpError::TooDeep(id));
        }
        let idx = id as usize;
        match self.state.get(idx) {
            None => return Ok(false),
            Some(State::Ordered) => return Ok(true),
            _ => {}
        }
        let Some(t) = btf.get(id) else {
            return Ok(false);
        };
        let named = t.name != 0;
        if self.state[idx] == State::Ordering {
            // A loop, resolvable with a forward declaration when it goes through a
            // pointer to a named struct or union.
            if matches!(t.kind, Kind::Struct(_) | Kind::Union(_)) && through_ptr && named {
                return Ok(false);
            }
            return Err(DumpError::Cycle(id));
        }
        let depth = depth + 1;
        match &t.kind {
            Kind::Int(_) | Kind::Float { .. } => {
                self.state[idx] = State::Ordered;
                Ok(false)
            }
            Kind::Ptr(r) => {
                let strong = self.visit(btf, *r, true, queue, depth)?;
                self.state[idx] = State::Ordered;
                Ok(strong)
            }
            Kind::Array(a) => self.visit(btf, a.elem, false, queue, depth),
            Kind::Struct(c) | Kind::Union(c) => {
                // Only embedded or anonymous (defined inline) aggregates are strong.
                if through_ptr && named {
                    return Ok(false);
                }
                self.state[idx] = State::Ordering;
                for m in &c.members {
                    self.visit(btf, m.ty, false, queue, depth)?;
                }
                if named {
                    queue.push(id);
                }
                self.state[idx] = State::Ordered;
                Ok(true)
            }
            Kind::Enum(_) | Kind::Enum64(_) | Kind::Fwd { .. } => {
                if named || !self.referenced[idx] {
                    queue.push(id);
                }
                self.state[idx] = State::Ordered;
                Ok(true)
            }
            Kind::Typedef(r) => {
                let strong = self.visit(btf, *r, through_ptr, queue, depth)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                queue.push(id);
                self.state[idx] = State::Ordered;
                Ok(true)
            }
            Kind::Volatile(r)
            | Kind::Const(r)
            | Kind::Restrict(r)
            | Kind::TypeTag { ty: r, .. } => self.visit(btf, *r, through_ptr, queue, depth),
            Kind::FuncProto(p) => {
                let mut strong = self.visit(btf, p.ret, through_ptr, queue, depth)?;
                for param in &p.params {
                    strong |= self.visit(btf, param.ty, through_ptr, queue, depth)?;
                }
                Ok(strong)
            }
            Kind::Func { .. } | Kind::Var { .. } | Kind::Datasec(_) | Kind::DeclTag { .. } => {
                self.state[idx] = State::Ordered;
                Ok(false)
            }
        }
    }
}
