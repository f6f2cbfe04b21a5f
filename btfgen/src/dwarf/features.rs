//! pahole's BTF features (`--btf_features`, pahole 1.30's `btf_features[]`): what the
//! encoder may emit, by the names pahole gives them, and the parser of a feature list.
//!
//! A list names the features that are on; every other one is off (pahole's opt-in
//! model). `default` stands for pahole 1.30's default set (what kernel builds ask
//! for), `all` for every feature btfgen knows, and a list starting with `+` adds to
//! the default set. Unlike pahole, which ignores names it does not know unless
//! `--btf_features_strict`, an unknown name is an error, as are pahole's features
//! btfgen does not implement (`global_var`, `attributes`).

use thiserror::Error;

/// Which of pahole's BTF features the encoder applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// `encode_force`: skip symbols pahole would refuse (btfgen always skips them).
    pub encode_force: bool,
    /// `var`: VAR and DATASEC for per-CPU variables.
    pub var: bool,
    /// `float`: FLOAT for floating-point types (otherwise unsigned INTs of their size).
    pub float: bool,
    /// `decl_tag`: DECL_TAGs from `btf_decl_tag` annotations (and, with it, kfunc tags).
    pub decl_tag: bool,
    /// `type_tag`: TYPE_TAGs from `btf_type_tag` annotations on pointers.
    pub type_tag: bool,
    /// `enum64`: ENUM64 for enums above 4 bytes and signed ENUMs; otherwise every
    /// enum is an unsigned ENUM of its size with values cut to 32 bits.
    pub enum64: bool,
    /// `optimized_func`: functions whose only symbols are clones (`foo.isra.0`).
    pub optimized_func: bool,
    /// `consistent_func`: leave out functions with prototypes that differ between
    /// units or parameters in unexpected registers.
    pub consistent_func: bool,
    /// `decl_tag_kfuncs`: `bpf_kfunc` (and `bpf_fastcall`) DECL_TAGs on kfuncs.
    pub decl_tag_kfuncs: bool,
    /// `distilled_base`: with a base, write the module's distilled base into
    /// `.BTF.base` (the command line's `--distill`; see [`crate::btf::distill()`]).
    pub distilled_base: bool,
    /// `reproducible_build`: accepted for pahole's sake; btfgen's output is always
    /// the same for the same input.
    pub reproducible_build: bool,
}

/// A feature list btfgen cannot follow.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FeatureError {
    /// A name that is no feature of pahole 1.30.
    #[error("unknown BTF feature '{0}' (known: {known})", known = known())]
    Unknown(String),
    /// One of pahole's features that btfgen does not implement.
    #[error("BTF feature '{0}' is not implemented by btfgen (known: {known})", known = known())]
    Unsupported(String),
}

/// The switch of one feature in [`Features`].
type Field = fn(&mut Features) -> &mut bool;

/// Feature names with their field, in pahole's order; `true` for the default set.
const TABLE: [(&str, Field, bool); 11] = [
    ("encode_force", |f| &mut f.encode_force, true),
    ("var", |f| &mut f.var, true),
    ("float", |f| &mut f.float, true),
    ("decl_tag", |f| &mut f.decl_tag, true),
    ("type_tag", |f| &mut f.type_tag, true),
    ("enum64", |f| &mut f.enum64, true),
    ("optimized_func", |f| &mut f.optimized_func, true),
    ("consistent_func", |f| &mut f.consistent_func, true),
    ("decl_tag_kfuncs", |f| &mut f.decl_tag_kfuncs, true),
    ("reproducible_build", |f| &mut f.reproducible_build, false),
    ("distilled_base", |f| &mut f.distilled_base, false),
];

/// pahole 1.30's features that btfgen does not implement.
const UNSUPPORTED: [&str; 2] = ["global_var", "attributes"];

/// The names a list may hold, comma-separated.
fn known() -> String {
    let mut names = vec!["default", "all"];
    names.extend(TABLE.iter().map(|t| t.0));
    names.join(",")
}

impl Features {
    /// Every feature off.
    pub const NONE: Features = Features {
        encode_force: false,
        var: false,
        float: false,
        decl_tag: false,
        type_tag: false,
        enum64: false,
        optimized_func: false,
        consistent_func: false,
        decl_tag_kfuncs: false,
        distilled_base: false,
        reproducible_build: false,
    };

    /// pahole 1.30's `--btf_features=default`, what kernel builds use.
    pub fn pahole_default() -> Features {
        let mut f = Features::NONE;
        for (_, field, default) in TABLE {
            *field(&mut f) = default;
        }
        f
    }

    /// Every feature btfgen knows.
    pub fn all() -> Features {
        let mut f = Features::NONE;
        for (_, field, _) in TABLE {
            *field(&mut f) = true;
        }
        f
    }

    /// Parses a `--btf_features` list: comma-separated names, `default`, `all`, or a
    /// leading `+` to add to the default set. Empty items are ignored, as pahole does.
    pub fn parse(list: &str) -> Result<Features, FeatureError> {
        let (mut f, list) = match list.strip_prefix('+') {
            Some(rest) => (Features::pahole_default(), rest),
            None => (Features::NONE, list),
        };
        for name in list.split(',').filter(|n| !n.is_empty()) {
            match name {
                "default" => f = f.union(Features::pahole_default()),
                "all" => f = Features::all(),
                _ => match TABLE.iter().find(|t| t.0 == name) {
                    Some((_, field, _)) => *field(&mut f) = true,
                    None if UNSUPPORTED.contains(&name) => {
                        return Err(FeatureError::Unsupported(name.into()))
                    }
                    None => return Err(FeatureError::Unknown(name.into())),
                },
            }
        }
        Ok(f)
    }

    /// The features on in either.
    fn union(mut self, mut other: Features) -> Features {
        for (_, field, _) in TABLE {
            *field(&mut self) |= *field(&mut other);
        }
        self
    }
}

impl Default for Features {
    fn default() -> Self {
        Features::pahole_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_as_pahole_reads_them() {
        let d = Features::pahole_default();
        let only = |edit: fn(&mut Features)| {
            let mut f = Features::NONE;
            edit(&mut f);
            f
        };
        let without = |edit: fn(&mut Features)| {
            let mut f = d;
            edit(&mut f);
            f
        };
        let cases: Vec<(&str, Features)> = vec![
            ("default", d),
            ("", Features::NONE),
            ("float", only(|f| f.float = true)),
            ("var,,enum64", only(|f| (f.var, f.enum64) = (true, true))),
            ("default,reproducible_build", without(|f| f.reproducible_build = true)),
            ("+reproducible_build", without(|f| f.reproducible_build = true)),
            ("+", d),
            ("all", Features::all()),
            (
                "encode_force,var,float,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs",
                without(|f| f.enum64 = false),
            ),
        ];
        for (list, want) in cases {
            assert_eq!(Features::parse(list), Ok(want), "{list:?}");
        }
        assert!(!d.reproducible_build && d.enum64 && d.decl_tag_kfuncs);
        assert_eq!(Features::default(), d);
    }

    #[test]
    fn unknown_and_unimplemented_names_are_refused() {
        let cases = [
            ("default,flaot", FeatureError::Unknown("flaot".into())),
            ("Float", FeatureError::Unknown("Float".into())),
            (
                "+global_var",
                FeatureError::Unsupported("global_var".into()),
            ),
            ("attributes", FeatureError::Unsupported("attributes".into())),
        ];
        for (list, want) in cases {
            let e = Features::parse(list).unwrap_err();
            assert_eq!(e, want, "{list:?}");
            let line = e.to_string();
            assert!(
                !line.contains('\n') && line.contains("default,all,encode_force,var,float"),
                "{line}"
            );
        }
    }
}
