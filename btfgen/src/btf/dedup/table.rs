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

#[cfg(test)]
mod tests {
    use super::*;

    /// The candidates of `h`, in a fresh vector.
    fn collect(t: &Table, h: u64) -> Vec<u32> {
        let mut out = Vec::new();
        t.collect(h, &mut out);
        out
    }

    #[test]
    fn plain_table_yields_oldest_first_per_key() {
        let mut t = Table::default();
        for (h, id) in [(7, 1), (9, 2), (7, 3), (7, 4), (9, 5)] {
            t.add(h, id);
        }
        assert_eq!(collect(&t, 7), [1, 3, 4]);
        assert_eq!(collect(&t, 9), [2, 5]);
        assert_eq!(collect(&t, 8), [] as [u32; 0]);
        // `collect` appends.
        let mut out = vec![42];
        t.collect(9, &mut out);
        assert_eq!(out, [42, 2, 5]);
        t.clear();
        assert_eq!(collect(&t, 7), [] as [u32; 0]);
        t.add(7, 6);
        assert_eq!(collect(&t, 7), [6]);
    }

    /// A model of libbpf's hashmap written from its documented behaviour: buckets are
    /// singly linked lists, an entry is prepended to its bucket, the table grows when
    /// `(size + 1) * 4 / 3 > capacity` (capacity 0, then 4, doubling), and growing
    /// moves every bucket's entries, from the head, into the new buckets by
    /// prepending. `hash % buckets` picks the bucket; candidates of a key are the
    /// entries of its bucket with that key, in list order.
    struct Model {
        buckets: Vec<Vec<(u64, u32)>>,
        len: usize,
    }

    impl Model {
        /// libbpf `hashmap__append`: grow if needed, then prepend.
        fn add(&mut self, h: u64, id: u32) {
            let cap = self.buckets.len();
            if cap == 0 || (self.len + 1) * 4 / 3 > cap {
                let mut new = vec![Vec::new(); (cap * 2).max(4)];
                let n = new.len() as u64;
                for bucket in std::mem::take(&mut self.buckets) {
                    for (k, v) in bucket {
                        new[(k % n) as usize].insert(0, (k, v));
                    }
                }
                self.buckets = new;
            }
            let n = self.buckets.len() as u64;
            self.buckets[(h % n) as usize].insert(0, (h, id));
            self.len += 1;
        }

        /// The ids of key `h`, in the order a lookup walks them.
        fn get(&self, h: u64) -> Vec<u32> {
            let n = self.buckets.len().max(1) as u64;
            self.buckets.get((h % n) as usize).map_or(Vec::new(), |b| {
                b.iter().filter(|e| e.0 == h).map(|e| e.1).collect()
            })
        }
    }

    #[test]
    fn libbpf_table_matches_libbpf_hashmap_order() {
        // By hand, one key: a (grows to 4) b c, d grows to 8 (reversing c b a), e f,
        // g grows to 16 (reversing f e d a b c).
        let mut t = Table::libbpf_order();
        for id in 1..=7 {
            t.add(5, id);
        }
        assert_eq!(collect(&t, 5), [7, 3, 2, 1, 4, 5, 6]);
        // Many keys and sizes against the model.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in [1, 2, 3, 4, 5, 6, 7, 13, 50, 200, 1000] {
            let mut t = Table::libbpf_order();
            let mut m = Model {
                buckets: Vec::new(),
                len: 0,
            };
            for id in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let h = x % 5;
                t.add(h, id);
                m.add(h, id);
            }
            for h in 0..5 {
                assert_eq!(collect(&t, h), m.get(h), "{n} entries, key {h}");
            }
        }
    }

    #[test]
    fn cleared_libbpf_table_starts_over() {
        let mut t = Table::libbpf_order();
        for id in 1..=5 {
            t.add(1, id);
        }
        t.clear();
        assert!(t.libbpf, "clear keeps the order");
        assert_eq!(collect(&t, 1), [] as [u32; 0]);
        // Like a fresh table: three entries, no growth after the first, newest first.
        for id in 1..=3 {
            t.add(1, id);
        }
        assert_eq!(collect(&t, 1), [3, 2, 1]);
    }
}
