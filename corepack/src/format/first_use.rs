//! The name and type-reference coders of the columns' second layout (codec 7, format
//! version 6), which code each name and reference by what came before it in the same
//! blob rather than by its absolute number, so that a type or string added or removed
//! early in a blob does not change every later code (a new kernel family's blob then
//! shares long runs with the earlier families' in the bundle's LZMA2 stream):
//!
//! - a name is the next string not used yet (`btfgen min` writes strings in the order
//!   its types first use them, members before the type), the empty string, or a string
//!   at a distance from the highest one used so far;
//! - a reference is void, a type not referenced yet, by its rank among the types not
//!   referenced yet counted from the referring type, or a type referenced before, by
//!   how many distinct types were referenced since (move to front).
//!
//! Every step is O(log n) ([`Marks`]), so decoding a hostile blob stays fast.

use super::wire::{unzigzag, zigzag};

/// Marks on positions `1..=n`, as a Fenwick tree: how many marks lie up to a position,
/// and where the k-th mark is, each in O(log n).
struct Marks {
    tree: Vec<u32>,
}

impl Marks {
    /// Positions `1..=n`, all marked when `set`.
    fn new(n: usize, set: bool) -> Self {
        let mut tree = vec![0u32; n + 1];
        if set {
            for i in 1..=n {
                tree[i] += 1;
                let j = i + (i & i.wrapping_neg());
                if j <= n {
                    tree[j] += tree[i];
                }
            }
        }
        Marks { tree }
    }

    fn len(&self) -> usize {
        self.tree.len() - 1
    }

    /// Adds `delta` (1 or -1) at position `i` (`1..=n`).
    fn add(&mut self, mut i: usize, delta: i32) {
        while i < self.tree.len() {
            self.tree[i] = self.tree[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Marks at positions `1..=i`.
    fn upto(&self, mut i: usize) -> u32 {
        let mut s = 0;
        while i > 0 {
            s += self.tree[i];
            i &= i - 1;
        }
        s
    }

    /// The position of the `k`-th mark (`k` from 1), if there are that many.
    fn find(&self, k: u32) -> Option<usize> {
        if k == 0 {
            return None;
        }
        let (mut pos, mut rest) = (0, k);
        let mut step = self.len().checked_ilog2().map_or(0, |b| 1 << b);
        while step > 0 {
            let next = pos + step;
            if next <= self.len() && self.tree[next] < rest {
                pos = next;
                rest -= self.tree[next];
            }
            step >>= 1;
        }
        (pos < self.len()).then_some(pos + 1)
    }
}

/// Codes names (string ordinals) in the order the layout lists them.
#[derive(Default)]
pub(super) struct Names {
    /// The highest ordinal coded so far.
    max: u64,
}

impl Names {
    /// The code of ordinal `n`: 0 for the string after the highest used so far, 1 for
    /// the empty string, else 2 + zigzag(highest − n).
    pub(super) fn code(&mut self, n: u64) -> u64 {
        let c = if n == self.max + 1 {
            0
        } else if n == 0 {
            1
        } else {
            2 + zigzag((self.max as i64 - n as i64) as i32)
        };
        self.max = self.max.max(n);
        c
    }

    /// The ordinal of code `c` (`None` when it is not one).
    pub(super) fn ordinal(&mut self, c: u64) -> Option<u64> {
        let n = match c {
            0 => self.max.checked_add(1)?,
            1 => 0,
            _ => {
                let d = unzigzag(c - 2)? as i64;
                u64::try_from(self.max as i64 - d).ok()?
            }
        };
        self.max = self.max.max(n);
        Some(n)
    }
}

/// Codes type references of a blob of `count` types, in the layout's order.
pub(super) struct Refs {
    /// Types not referenced yet.
    fresh: Marks,
    /// The time of each type's last reference (0: never).
    last: Vec<u32>,
    /// Times (`1..`) whose reference is the latest of its type.
    latest: Marks,
    /// The type referenced at each time.
    at: Vec<u32>,
    now: u32,
}

impl Refs {
    /// Coder state for `count` types and at most `refs` non-void references.
    pub(super) fn new(count: usize, refs: usize) -> Self {
        Refs {
            fresh: Marks::new(count, true),
            last: vec![0; count + 1],
            latest: Marks::new(refs, false),
            at: vec![0; refs + 1],
            now: 0,
        }
    }

    fn used(&mut self, t: u32) -> Option<()> {
        self.now += 1;
        let now = self.now as usize;
        if now > self.latest.len() {
            return None;
        }
        let last = std::mem::replace(&mut self.last[t as usize], self.now);
        if last == 0 {
            self.fresh.add(t as usize, -1);
        } else {
            self.latest.add(last as usize, -1);
        }
        self.latest.add(now, 1);
        self.at[now] = t;
        Some(())
    }

    /// The code of a reference from type `id` to type `t` (both at most `count`): 0 for
    /// void, 1 + 2 × zigzag(rank) for a type not referenced before (rank: how many such
    /// types lie strictly between `id` and `t` when `t > id`, else minus how many lie in
    /// `t..=id`: the fresh types before `t` minus those up to `id`), 2 + 2 × k for one referenced before (k: distinct types referenced
    /// since its last reference). `None` when `t` is past the last type.
    pub(super) fn code(&mut self, id: u32, t: u32) -> Option<u64> {
        if t == 0 {
            return Some(0);
        }
        if t as usize >= self.last.len() || id as usize >= self.last.len() {
            return None;
        }
        let c = match self.last[t as usize] {
            0 => {
                let rank =
                    self.fresh.upto(t as usize - 1) as i64 - self.fresh.upto(id as usize) as i64;
                1 + 2 * zigzag(i32::try_from(rank).ok()?)
            }
            last => {
                2 + 2
                    * (self.latest.upto(self.now as usize) - self.latest.upto(last as usize)) as u64
            }
        };
        self.used(t)?;
        Some(c)
    }

    /// The type a reference from type `id` with code `c` names (`None` when it names
    /// none).
    pub(super) fn target(&mut self, id: u32, c: u64) -> Option<u32> {
        if c == 0 {
            return Some(0);
        }
        let id = (id as usize).min(self.fresh.len());
        let t = if c % 2 == 1 {
            let rank = unzigzag((c - 1) / 2)? as i64;
            // The type is the (fresh types up to `id` + rank + 1)-th fresh type.
            let k = self.fresh.upto(id) as i64 + rank + 1;
            self.fresh.find(u32::try_from(k).ok()?)?
        } else {
            let k = u32::try_from((c - 2) / 2).ok()?;
            let total = self.latest.upto(self.now as usize);
            let time = self.latest.find(total.checked_sub(k)?)?;
            self.at[time] as usize
        };
        let t = t as u32;
        self.used(t)?;
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_count_and_find() {
        let mut m = Marks::new(10, true);
        m.add(3, -1);
        m.add(7, -1);
        assert_eq!(m.upto(10), 8);
        assert_eq!(m.upto(3), 2);
        assert_eq!(m.find(3), Some(4));
        assert_eq!(m.find(8), Some(10));
        assert_eq!(m.find(9), None);
        assert_eq!(m.find(0), None);
        assert_eq!(Marks::new(0, true).find(1), None);
    }

    #[test]
    fn names_round_trip() {
        let seq = [1, 2, 3, 0, 5, 4, 6, 2, 0, 9, 1, 7];
        let (mut e, mut d) = (Names::default(), Names::default());
        let codes: Vec<u64> = seq.iter().map(|&n| e.code(n)).collect();
        assert_eq!(&codes[..4], &[0, 0, 0, 1]);
        let back: Vec<u64> = codes.iter().map(|&c| d.ordinal(c).unwrap()).collect();
        assert_eq!(back, seq);
    }

    #[test]
    fn refs_round_trip_and_bad_codes_are_refused() {
        // (referring type, referenced type) over 8 types.
        let refs = [
            (1, 2),
            (1, 5),
            (2, 3),
            (3, 0),
            (3, 1),
            (4, 5),
            (5, 2),
            (6, 8),
            (6, 7),
            (7, 2),
            (8, 6),
            (8, 5),
        ];
        let mut e = Refs::new(8, refs.len());
        let codes: Vec<u64> = refs.iter().map(|&(i, t)| e.code(i, t).unwrap()).collect();
        // The first reference is to the next fresh type: rank 0.
        assert_eq!(codes[0], 1);
        let mut d = Refs::new(8, refs.len());
        for (&(i, t), &c) in refs.iter().zip(&codes) {
            assert_eq!(d.target(i, c), Some(t), "{i} -> {t}");
        }
        assert_eq!(Refs::new(8, 4).code(1, 9), None);
        // A rank past the fresh types, a recency past the types seen, more references
        // than announced.
        assert_eq!(Refs::new(8, 4).target(1, 1 + 2 * zigzag(7)), None);
        assert_eq!(Refs::new(8, 4).target(1, 2), None);
        let mut r = Refs::new(8, 1);
        assert_eq!(r.target(1, 1), Some(2));
        assert_eq!(r.target(1, 1), None);
    }
}
