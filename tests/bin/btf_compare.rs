//! `btf-compare`: compares two BTF files (raw, or ELF with `.BTF`) in the oracle
//! tests' canonical form: types, FUNC names, FUNCs with prototypes, DECL_TAGs on
//! FUNCs, VARs and DATASECs, each reported separately.
//!
//! Usage: `btf-compare [--all] [--base-expected B] [--base-actual B] EXPECTED ACTUAL`
//! (bases for split BTF; a module ELF with `.BTF.base` is read on that distilled
//! base when no base is given). Exits 0 when types and VARs are equal (`--all`: when
//! nothing differs), 1 otherwise.

use std::process::ExitCode;

use btfgen_tests::compare::Comparison;
use btfgen_tests::read_canon;

fn run() -> Result<bool, String> {
    let mut args = std::env::args().skip(1);
    let (mut base_e, mut base_a, mut files) = (None, None, Vec::new());
    let mut all = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--all" => all = true,
            "--base-expected" => base_e = args.next(),
            "--base-actual" => base_a = args.next(),
            _ => files.push(a),
        }
    }
    let [expected, actual] = files.as_slice() else {
        return Err(
            "usage: btf-compare [--all] [--base-expected B] [--base-actual B] EXPECTED ACTUAL"
                .into(),
        );
    };
    let e = read_canon(expected.as_ref(), base_e.as_deref().map(AsRef::as_ref))?;
    let a = read_canon(actual.as_ref(), base_a.as_deref().map(AsRef::as_ref))?;
    let c = Comparison::new(expected, &e, actual, &a);
    println!("{c}");
    Ok(if all {
        c.identical()
    } else {
        c.type_diff.is_ok() && c.vars.0 == c.vars.1
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("btf-compare: {e}");
            ExitCode::from(2)
        }
    }
}
