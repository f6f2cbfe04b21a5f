//! Subprograms and variables: the candidates the converter hands to the pipeline
//! (docs/encoding.md, "Functions" and "Variables").

use gimli::constants as dw;
use gimli::write::{Address, AttributeValue as A, Expression, UnitEntryId};

use super::{r, Dw};

/// `DW_AT_location` of a variable at a static address (`DW_OP_addr`).
fn at(addr: u64) -> (gimli::DwAt, A) {
    let mut e = Expression::new();
    e.op_addr(Address::Constant(addr));
    (dw::DW_AT_location, A::Exprloc(e))
}

/// A subprogram `name` returning `ret` with parameters (name, type) under the root.
fn func(
    d: &mut Dw,
    name: &str,
    ret: Option<UnitEntryId>,
    params: &[(&str, UnitEntryId)],
) -> UnitEntryId {
    let root = d.root();
    let attrs: Vec<_> = ret.map(|t| (dw::DW_AT_type, r(t))).into_iter().collect();
    let f = d.die(root, dw::DW_TAG_subprogram, name, &attrs);
    for (p, ty) in params {
        d.die(
            f,
            dw::DW_TAG_formal_parameter,
            p,
            &[(dw::DW_AT_type, r(*ty))],
        );
    }
    f
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn subprograms_named_by_a_function_symbol_are_candidates() {
    // int add(int a, long b) { ... }  static inline void helper(void) (no symbol).
    let mut d = Dw::new(5);
    d.functions = vec!["add"];
    let i = d.int();
    let l = d.base("long int", dw::DW_ATE_signed, 8);
    func(&mut d, "add", Some(i), &[("a", i), ("b", l)]);
    func(&mut d, "helper", None, &[]);
    let out = d.convert().unwrap();
    let want = (
        "add".to_string(),
        "int".to_string(),
        strings(&["int", "long int"]),
        true,
    );
    assert_eq!(out.funcs, [want]);
}

#[test]
fn unnamed_parameters_and_varargs() {
    // void log(const char *, ...);  the parameter has no name: not a candidate for a
    // FUNC, but still recorded (the pipeline drops it).
    let mut d = Dw::new(4);
    d.functions = vec!["log"];
    let c = d.base("char", dw::DW_ATE_signed_char, 1);
    let cc = d.of(dw::DW_TAG_const_type, "", c);
    let p = d.of(dw::DW_TAG_pointer_type, "", cc);
    let f = func(&mut d, "log", None, &[("", p)]);
    d.die(f, dw::DW_TAG_unspecified_parameters, "", &[]);
    let out = d.convert().unwrap();
    let want = (
        "log".to_string(),
        "void".to_string(),
        strings(&["*const char", "..."]),
        false,
    );
    assert_eq!(out.funcs, [want]);
}

#[test]
fn definitions_take_name_and_type_from_their_declaration() {
    // extern int f(int);  then  int f(int x) { ... }  with DW_AT_specification; and an
    // out-of-line copy of an inline function with DW_AT_abstract_origin, parameters too.
    let mut d = Dw::new(5);
    d.functions = vec!["f", "g"];
    let i = d.int();
    let root = d.root();
    let decl = d.die(
        root,
        dw::DW_TAG_subprogram,
        "f",
        &[
            (dw::DW_AT_type, r(i)),
            (dw::DW_AT_declaration, A::FlagPresent),
            (dw::DW_AT_external, A::FlagPresent),
        ],
    );
    let def = d.die(
        root,
        dw::DW_TAG_subprogram,
        "",
        &[(dw::DW_AT_specification, r(decl))],
    );
    d.die(
        def,
        dw::DW_TAG_formal_parameter,
        "x",
        &[(dw::DW_AT_type, r(i))],
    );

    let abs = func(&mut d, "g", Some(i), &[("y", i)]);
    d.set(
        abs,
        dw::DW_AT_inline,
        A::Inline(dw::DW_INL_declared_inlined),
    );
    let abs_param = d.unit.unit.get(abs).children().copied().next().unwrap();
    let copy = d.die(
        root,
        dw::DW_TAG_subprogram,
        "",
        &[(dw::DW_AT_abstract_origin, r(abs))],
    );
    d.die(
        copy,
        dw::DW_TAG_formal_parameter,
        "",
        &[(dw::DW_AT_abstract_origin, r(abs_param))],
    );
    let out = d.convert().unwrap();
    let f = ("f".to_string(), "int".to_string(), strings(&["int"]), true);
    let g = ("g".to_string(), "int".to_string(), strings(&["int"]), true);
    // The declaration is no candidate; the abstract instance of g is one (its first
    // instance), then its concrete copy.
    assert_eq!(out.funcs, [f, g.clone(), g]);
}

#[test]
fn clone_symbols_make_their_function_a_candidate() {
    // gcc emitted only clones of these: foo.isra.0, bar.constprop.0, baz.part.0 and
    // qux.cold (pahole 1.30 takes all four); "quux" has no symbol at all, and
    // "foo_bar" is not "foo".
    let mut d = Dw::new(5);
    d.functions = vec![
        "foo.isra.0",
        "bar.constprop.0",
        "baz.part.0",
        "qux.cold",
        "foo_bar.x",
    ];
    let i = d.int();
    for name in ["foo", "bar", "baz", "qux", "quux", "foo_b"] {
        func(&mut d, name, Some(i), &[("a", i)]);
    }
    let out = d.convert().unwrap();
    let names: Vec<&str> = out.funcs.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["foo", "bar", "baz", "qux"]);
}

/// `DW_AT_location` as one expression.
fn loc(ops: &[u8]) -> (gimli::DwAt, A) {
    (
        dw::DW_AT_location,
        A::Exprloc(Expression::raw(ops.to_vec())),
    )
}

#[test]
fn parameters_in_unexpected_registers() {
    // x86-64 passes the first parameters in rdi (DW_OP_reg5), rsi (reg4), rdx (reg1).
    let mut d = Dw::new(5);
    let i = d.int();
    let root = d.root();
    let s = d.die(
        root,
        dw::DW_TAG_structure_type,
        "pair",
        &[(dw::DW_AT_byte_size, A::Data1(8))],
    );
    let ts = d.of(dw::DW_TAG_typedef, "pair_t", s);
    // (function, its parameters' types and locations, unexpected)
    type Params<'p> = &'p [(UnitEntryId, &'p [u8])];
    let cases: &[(&str, Params, bool)] = &[
        // in rdi and rsi
        ("ok", &[(i, &[0x55]), (i, &[0x54])], false),
        // the first in rsi: a hidden struct-return pointer took rdi
        ("shifted", &[(i, &[0x54])], true),
        // the second via its entry value in rsi: expected
        (
            "entry",
            &[(i, &[0x55]), (i, &[0xa3, 0x01, 0x54, 0x9f])],
            false,
        ),
        // the second's entry value in rdx
        (
            "entry_bad",
            &[(i, &[0x55]), (i, &[0xa3, 0x01, 0x51, 0x9f])],
            true,
        ),
        // in memory, or a constant: optimized, not unexpected
        ("memory", &[(i, &[0x91, 0x6c]), (i, &[0x30, 0x9f])], false),
        // unexpected, but a struct (behind a typedef) is passed by value, whose
        // registers shift the others
        ("by_value", &[(ts, &[0x55]), (i, &[0x51])], false),
        ("by_value_first", &[(i, &[0x54]), (ts, &[0x54])], false),
        // parameters past the sixth are not checked
        (
            "seventh",
            &[
                (i, &[0x55]),
                (i, &[0x54]),
                (i, &[0x51]),
                (i, &[0x52]),
                (i, &[0x58]),
                (i, &[0x59]),
                (i, &[0x50]),
            ],
            false,
        ),
    ];
    d.functions = cases.iter().map(|c| c.0).collect();
    for (name, params, _) in cases {
        let f = d.die(root, dw::DW_TAG_subprogram, name, &[]);
        for (n, (ty, ops)) in params.iter().enumerate() {
            d.die(
                f,
                dw::DW_TAG_formal_parameter,
                &format!("p{n}"),
                &[(dw::DW_AT_type, r(*ty)), loc(ops)],
            );
        }
    }
    let out = d.convert().unwrap();
    let want: Vec<&str> = cases.iter().filter(|c| c.2).map(|c| c.0).collect();
    assert_eq!(out.unexpected_reg, want);
}

#[test]
fn without_funcs_no_subprogram_is_read() {
    let mut d = Dw::new(5);
    d.functions = vec!["add"];
    d.opts.funcs = false;
    let i = d.int();
    func(&mut d, "add", Some(i), &[("a", i)]);
    let out = d.convert().unwrap();
    assert!(out.funcs.is_empty());
}

#[test]
fn variables_with_a_static_address_are_candidates() {
    // int counter;  static long total;  extern int elsewhere;  int on_stack (no
    // location);  and a local static inside a function (not top level).
    let mut d = Dw::new(5);
    let i = d.int();
    let l = d.base("long int", dw::DW_ATE_signed, 8);
    let root = d.root();
    d.die(
        root,
        dw::DW_TAG_variable,
        "counter",
        &[
            (dw::DW_AT_type, r(i)),
            (dw::DW_AT_external, A::FlagPresent),
            at(0x1000),
        ],
    );
    d.die(
        root,
        dw::DW_TAG_variable,
        "total",
        &[(dw::DW_AT_type, r(l)), at(0x1008)],
    );
    d.die(
        root,
        dw::DW_TAG_variable,
        "elsewhere",
        &[
            (dw::DW_AT_type, r(i)),
            (dw::DW_AT_external, A::FlagPresent),
            (dw::DW_AT_declaration, A::FlagPresent),
        ],
    );
    d.die(
        root,
        dw::DW_TAG_variable,
        "no_location",
        &[(dw::DW_AT_type, r(i))],
    );
    let f = func(&mut d, "f", None, &[]);
    d.die(
        f,
        dw::DW_TAG_variable,
        "local",
        &[(dw::DW_AT_type, r(i)), at(0x2000)],
    );
    let out = d.convert().unwrap();
    assert_eq!(
        out.vars,
        [
            ("counter".to_string(), 0x1000, "int".to_string(), true),
            ("total".to_string(), 0x1008, "long int".to_string(), false),
        ]
    );
}

#[test]
fn variable_definitions_take_name_type_and_linkage_from_their_declaration() {
    // extern int x;  int x = 1;  (gcc: the definition has DW_AT_specification).
    let mut d = Dw::new(4);
    let i = d.int();
    let root = d.root();
    let decl = d.die(
        root,
        dw::DW_TAG_variable,
        "x",
        &[
            (dw::DW_AT_type, r(i)),
            (dw::DW_AT_external, A::FlagPresent),
            (dw::DW_AT_declaration, A::FlagPresent),
        ],
    );
    d.die(
        root,
        dw::DW_TAG_variable,
        "",
        &[(dw::DW_AT_specification, r(decl)), at(0x40)],
    );
    let out = d.convert().unwrap();
    assert_eq!(out.vars, [("x".to_string(), 0x40, "int".to_string(), true)]);
}

#[test]
fn without_vars_no_variable_is_read() {
    let mut d = Dw::new(5);
    d.opts.features.var = false;
    let i = d.int();
    let root = d.root();
    d.die(
        root,
        dw::DW_TAG_variable,
        "counter",
        &[(dw::DW_AT_type, r(i)), at(0x1000)],
    );
    let out = d.convert().unwrap();
    assert!(out.vars.is_empty());
}
