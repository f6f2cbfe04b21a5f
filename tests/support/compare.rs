//! Comparing an encoder's kernel BTF with a reference kernel BTF (Debian's embedded
//! `.BTF`, or pahole's output) the way the real-kernel checks need it: types
//! (everything but functions, variables and data sections) as canonical multisets,
//! function names, and variables, each judged separately.

use std::collections::BTreeSet;
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
        }
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
