//! Comparing an encoder's kernel BTF with a reference kernel BTF (Debian's embedded
//! `.BTF`, or pahole's output) the way the real-kernel checks need it: types
//! (everything but functions, variables and data sections) as canonical multisets,
//! function names, FUNCs with their prototypes, the DECL_TAGs on FUNCs (kfunc tags),
//! variables and data sections, each judged separately.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::canon::{diff_lines, Canon};

/// What differs between a reference BTF and ours.
pub struct Comparison {
    /// Type lines of the reference and ours.
    pub types: (usize, usize),
    /// `Err(report)` when the types differ.
    pub type_diff: Result<(), String>,
    /// FUNC entries of the reference and ours.
    pub func_entries: (usize, usize),
    /// Distinct FUNC names of the reference and ours.
    pub func_names: (BTreeSet<String>, BTreeSet<String>),
    /// VAR lines of the reference and ours.
    pub vars: (BTreeSet<String>, BTreeSet<String>),
    /// FUNC lines (name, linkage, prototype spelled out) of the reference and ours.
    pub funcs: (Vec<String>, Vec<String>),
    /// DECL_TAG lines of tags on FUNCs (or their parameters) of the reference and ours.
    pub func_tags: (Vec<String>, Vec<String>),
    /// DATASEC lines of the reference and ours.
    pub datasecs: (Vec<String>, Vec<String>),
}

/// Lines in one multiset and not the other, both ways.
pub fn multiset_differences(expected: &[String], actual: &[String]) -> usize {
    let mut count: BTreeMap<&str, isize> = BTreeMap::new();
    for l in expected {
        *count.entry(l).or_insert(0) += 1;
    }
    for l in actual {
        *count.entry(l).or_insert(0) -= 1;
    }
    count.values().map(|n| n.unsigned_abs()).sum()
}

fn func_tags(c: &Canon) -> Vec<String> {
    let mut v: Vec<String> = c
        .kinds
        .iter()
        .filter(|(id, k)| {
            **k == "DECL_TAG" && c.refs[*id].iter().any(|t| c.kinds.get(t) == Some(&"FUNC"))
        })
        .map(|(id, _)| c.by_id[id].clone())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn of_kind(c: &Canon, kind: &str) -> Vec<String> {
    c.kinds
        .iter()
        .filter(|(_, k)| **k == kind)
        .map(|(id, _)| c.by_id[id].clone())
        .collect()
}

fn types(c: &Canon) -> Vec<String> {
    c.without_funcs()
        .into_iter()
        .filter(|l| !l.starts_with("VAR ") && !l.starts_with("DATASEC "))
        .collect()
}

impl Comparison {
    /// Compares `actual` against `expected`.
    pub fn new(expected_label: &str, expected: &Canon, actual_label: &str, actual: &Canon) -> Self {
        let (te, ta) = (types(expected), types(actual));
        let name = |l: &String| l.split('\'').nth(1).unwrap_or_default().to_string();
        let (fe, fa) = (of_kind(expected, "FUNC"), of_kind(actual, "FUNC"));
        Comparison {
            types: (te.len(), ta.len()),
            type_diff: diff_lines(expected_label, &te, actual_label, &ta, 40),
            func_entries: (fe.len(), fa.len()),
            func_names: (fe.iter().map(name).collect(), fa.iter().map(name).collect()),
            vars: (
                of_kind(expected, "VAR").into_iter().collect(),
                of_kind(actual, "VAR").into_iter().collect(),
            ),
            funcs: (sorted(fe), sorted(fa)),
            func_tags: (func_tags(expected), func_tags(actual)),
            datasecs: (
                sorted(of_kind(expected, "DATASEC")),
                sorted(of_kind(actual, "DATASEC")),
            ),
        }
    }

    /// FUNC lines (prototypes included) in one BTF and not the other.
    pub fn func_differences(&self) -> usize {
        multiset_differences(&self.funcs.0, &self.funcs.1)
    }

    /// DECL_TAG lines on FUNCs in one BTF and not the other.
    pub fn func_tag_differences(&self) -> usize {
        multiset_differences(&self.func_tags.0, &self.func_tags.1)
    }

    /// VAR lines in one BTF and not the other.
    pub fn var_differences(&self) -> usize {
        self.vars.0.symmetric_difference(&self.vars.1).count()
    }

    /// DATASEC lines in one BTF and not the other.
    pub fn datasec_differences(&self) -> usize {
        multiset_differences(&self.datasecs.0, &self.datasecs.1)
    }

    /// No differences at all: types, FUNCs with prototypes, tags on FUNCs, VARs and
    /// DATASECs.
    pub fn identical(&self) -> bool {
        self.type_diff.is_ok()
            && self.func_differences() == 0
            && self.func_tag_differences() == 0
            && self.var_differences() == 0
            && self.datasec_differences() == 0
    }

    /// Number of differing type lines (0 when the types are the same).
    pub fn type_differences(&self) -> usize {
        match &self.type_diff {
            Ok(()) => 0,
            Err(r) => r
                .lines()
                .filter_map(|l| l.strip_prefix("  x"))
                .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
                .sum(),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "types: expected {} actual {} differences {}",
            self.types.0,
            self.types.1,
            self.type_differences()
        )?;
        if let Err(report) = &self.type_diff {
            writeln!(f, "{report}")?;
        }
        let (ne, na) = &self.func_names;
        writeln!(
            f,
            "funcs: expected {} entries / {} names, actual {} entries / {} names; entries ratio {:.4}, names ratio {:.4}; names only expected {}, only actual {}",
            self.func_entries.0,
            ne.len(),
            self.func_entries.1,
            na.len(),
            self.func_entries.1 as f64 / self.func_entries.0.max(1) as f64,
            na.len() as f64 / ne.len().max(1) as f64,
            ne.difference(na).count(),
            na.difference(ne).count()
        )?;
        writeln!(
            f,
            "func prototypes: expected {} actual {} differences {}",
            self.funcs.0.len(),
            self.funcs.1.len(),
            self.func_differences()
        )?;
        if let Err(report) = diff_lines("expected", &self.funcs.0, "actual", &self.funcs.1, 20) {
            writeln!(f, "{report}")?;
        }
        writeln!(
            f,
            "func decl tags: expected {} actual {} differences {}",
            self.func_tags.0.len(),
            self.func_tags.1.len(),
            self.func_tag_differences()
        )?;
        if let Err(report) = diff_lines(
            "expected",
            &self.func_tags.0,
            "actual",
            &self.func_tags.1,
            20,
        ) {
            writeln!(f, "{report}")?;
        }
        writeln!(
            f,
            "datasecs: expected {} actual {} differences {}",
            self.datasecs.0.len(),
            self.datasecs.1.len(),
            self.datasec_differences()
        )?;
        let (ve, va) = &self.vars;
        write!(
            f,
            "vars: expected {} actual {}; only expected {:?}; only actual {:?}",
            ve.len(),
            va.len(),
            ve.difference(va).collect::<Vec<_>>(),
            va.difference(ve).collect::<Vec<_>>()
        )
    }
}
