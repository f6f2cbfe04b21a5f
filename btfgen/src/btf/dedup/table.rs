//! The dedup hash tables: hash → candidate ids, in libbpf's candidate order.

use super::hash::FxMap;
use super::NONE;

/// Hash → candidate ids (collisions allowed: every use re-checks).
///
/// With `libbpf` set, candidates come in the order libbpf's `hashmap` yields them: an
/// entry is prepended to its bucket, and every growth of the table (when
/// `(size + 1) * 4 / 3 > capacity`, capacity doubling from 4) re-inserts the entries
/// of each bucket from its head, which reverses entries of equal key. That order
/// depends only on the sequence of insertions, not on the hash values, so it is
/// reproduced exactly: entries added while `rev` is false and while it is true are
/// kept in two lists, newest first; the list of the current `rev` is read first, then
/// the other one backwards. Otherwise candidates come oldest first (one list, slots
/// holding its head and tail).
#[derive(Default)]
pub(super) struct Table {
    /// Yield candidates in libbpf's order (else oldest first).
    pub(super) libbpf: bool,
    /// Per key: first nodes of the two lists (libbpf order), or head and tail.
    heads: FxMap<u64, [u32; 2]>,
    /// (type id, next node)
    pub(super) nodes: Vec<(u32, u32)>,
    /// Which list new entries go to: flips at every growth of libbpf's table.
    rev: bool,
    /// Capacity libbpf's table would have now.
    cap: usize,
    /// Entries libbpf's table would hold now.
    len: usize,
}

impl Table {
    /// An empty table yielding candidates in libbpf's order.
    pub(super) fn libbpf_order() -> Self {
        Table {
            libbpf: true,
            ..Table::default()
        }
    }

    /// Adds candidate `id` under hash `h`.
    pub(super) fn add(&mut self, h: u64, id: u32) {
        let n = self.nodes.len() as u32;
        if !self.libbpf {
            self.nodes.push((id, NONE));
            let ends = self.heads.entry(h).or_insert([NONE; 2]);
            if ends[0] == NONE {
                *ends = [n, n];
            } else {
                let tail = std::mem::replace(&mut ends[1], n);
                self.nodes[tail as usize].1 = n;
            }
            return;
        }
        if self.cap == 0 || (self.len + 1) * 4 / 3 > self.cap {
            self.cap = (self.cap * 2).max(4);
            self.rev = !self.rev;
        }
        self.len += 1;
        let head = &mut self.heads.entry(h).or_insert([NONE; 2])[self.rev as usize];
        self.nodes.push((id, *head));
        *head = n;
    }

    /// Appends the candidates of hash `h` to `out`, in this table's order.
    pub(super) fn collect(&self, h: u64, out: &mut Vec<u32>) {
        let Some(lists) = self.heads.get(&h) else {
            return;
        };
        if !self.libbpf {
            self.walk(lists[0], out);
            return;
        }
        self.walk(lists[self.rev as usize], out);
        let start = out.len();
        self.walk(lists[!self.rev as usize], out);
        out[start..].reverse();
    }

    /// Appends the ids of the list starting at node `n`.
    fn walk(&self, mut n: u32, out: &mut Vec<u32>) {
        while let Some(&(id, next)) = self.nodes.get(n as usize) {
            out.push(id);
            n = next;
        }
    }

    /// Empties the table (keeping `libbpf`).
    pub(super) fn clear(&mut self) {
        self.heads.clear();
        self.nodes.clear();
        self.rev = false;
        self.cap = 0;
        self.len = 0;
    }
}
