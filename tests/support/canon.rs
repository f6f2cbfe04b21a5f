//! ID-independent canonical form of a BTF blob, built with the independent
//! `btf-rs` reader (not btfgen's own), so two encoders can be compared even
//! when they number their types differently.
//!
//! Every type becomes one line.  References are spelled as *shapes*: modifiers,
//! pointers, arrays, type tags and function prototypes are spelled out
//! recursively; named struct/union/enum/typedef/fwd are referenced by kind and
//! name (which also cuts cycles); anonymous struct/union/enum are spelled out
//! inline.  Two BTFs are equal when the multisets of lines are equal: a type
//! duplicated by a dedup failure shows up as an extra line.
//!
//! btf-rs hides two fields (INT bit offset/width and ARRAY index type); those
//! are read by [`RawExtras`], a tiny walker over the raw type section.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use btf_rs::{Btf, BtfType, Type};

/// Parsed BTF plus its canonical lines.
pub struct Canon {
    /// One line per type of this blob (the split part only, for split BTF).
    pub lines: Vec<String>,
    /// The same lines keyed by type id.
    pub by_id: BTreeMap<u32, String>,
    /// The kind of every type, keyed by id.
    pub kinds: BTreeMap<u32, &'static str>,
    /// Ids referenced by each type (member/param/target types, datasec vars).
    pub refs: BTreeMap<u32, Vec<u32>>,
    /// Every string of the string section (split part only), in order.
    pub strings: Vec<String>,
    /// Split BTF (its string section continues the base's, so it does not
    /// start with the empty string).
    pub split: bool,
}

impl Canon {
    /// Canonicalize a stand-alone (base) BTF blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Canon, String> {
        Self::build(bytes, None)
    }

    /// Canonicalize a split BTF blob on top of `base`.
    pub fn from_split_bytes(bytes: &[u8], base: &[u8]) -> Result<Canon, String> {
        Self::build(bytes, Some(base))
    }

    fn build(bytes: &[u8], base: Option<&[u8]>) -> Result<Canon, String> {
        let (btf, first_id, extras) = match base {
            None => {
                let btf = Btf::from_bytes(bytes).map_err(|e| format!("btf-rs: {e}"))?;
                let extras = RawExtras::parse(bytes, 1)?;
                (btf, 1, extras)
            }
            Some(base_bytes) => {
                let base_btf =
                    Btf::from_bytes(base_bytes).map_err(|e| format!("btf-rs (base): {e}"))?;
                let base_extras = RawExtras::parse(base_bytes, 1)?;
                let first = base_extras.next_id;
                let btf = Btf::from_split_bytes(bytes, &base_btf)
                    .map_err(|e| format!("btf-rs (split): {e}"))?;
                let mut extras = RawExtras::parse(bytes, first)?;
                extras.ints.extend(base_extras.ints);
                extras.array_index.extend(base_extras.array_index);
                (btf, first, extras)
            }
        };
        let strings = extras.strings.clone();
        let last_id = extras.next_id;
        let cx = Cx {
            btf: &btf,
            extras: &extras,
        };
        let mut lines = Vec::new();
        let mut by_id = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        let mut refs = BTreeMap::new();
        for id in first_id..last_id {
            let ty = btf
                .resolve_type_by_id(id)
                .map_err(|e| format!("btf-rs: type [{id}]: {e}"))?;
            let line = cx.describe(id, &ty)?;
            kinds.insert(id, kind_name(&ty));
            refs.insert(id, cx.refs_of(&ty));
            by_id.insert(id, line.clone());
            lines.push(line);
        }
        if btf.resolve_type_by_id(last_id).is_ok() {
            return Err(format!(
                "btf-rs sees more types than the raw walker ({})",
                last_id - first_id
            ));
        }
        lines.sort();
        Ok(Canon {
            lines,
            by_id,
            kinds,
            refs,
            strings,
            split: base.is_some(),
        })
    }

    /// Multiset of lines.
    pub fn multiset(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for l in &self.lines {
            *m.entry(l.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// Lines of the types that survive `--no-funcs`: everything but FUNCs, the
    /// FUNC_PROTOs referenced only by FUNCs (or by tags on them), and the
    /// DECL_TAGs attached to FUNCs.
    pub fn without_funcs(&self) -> Vec<String> {
        let funcs: HashSet<u32> = self
            .kinds
            .iter()
            .filter(|(_, k)| **k == "FUNC")
            .map(|(id, _)| *id)
            .collect();
        let mut drop: HashSet<u32> = funcs.clone();
        for (id, kind) in &self.kinds {
            if *kind == "DECL_TAG" && self.refs[id].iter().any(|t| funcs.contains(t)) {
                drop.insert(*id);
            }
        }
        let mut referenced_by_others: HashSet<u32> = HashSet::new();
        for (id, targets) in &self.refs {
            if !drop.contains(id) {
                referenced_by_others.extend(targets.iter().copied());
            }
        }
        for id in &funcs {
            for t in &self.refs[id] {
                if self.kinds.get(t) == Some(&"FUNC_PROTO") && !referenced_by_others.contains(t) {
                    drop.insert(*t);
                }
            }
        }
        let mut v: Vec<String> = self
            .by_id
            .iter()
            .filter(|(id, _)| !drop.contains(id))
            .map(|(_, l)| l.clone())
            .collect();
        v.sort();
        v
    }
}

fn kind_name(ty: &Type) -> &'static str {
    match ty {
        Type::Void => "VOID",
        Type::Int(_) => "INT",
        Type::Ptr(_) => "PTR",
        Type::Array(_) => "ARRAY",
        Type::Struct(_) => "STRUCT",
        Type::Union(_) => "UNION",
        Type::Enum(_) => "ENUM",
        Type::Fwd(_) => "FWD",
        Type::Typedef(_) => "TYPEDEF",
        Type::Volatile(_) => "VOLATILE",
        Type::Const(_) => "CONST",
        Type::Restrict(_) => "RESTRICT",
        Type::Func(_) => "FUNC",
        Type::FuncProto(_) => "FUNC_PROTO",
        Type::Var(_) => "VAR",
        Type::Datasec(_) => "DATASEC",
        Type::Float(_) => "FLOAT",
        Type::DeclTag(_) => "DECL_TAG",
        Type::TypeTag(_) => "TYPE_TAG",
        Type::Enum64(_) => "ENUM64",
        _ => "UNKNOWN",
    }
}

struct Cx<'a> {
    btf: &'a Btf,
    extras: &'a RawExtras,
}

/// Depth at which shapes give up (guards against reference loops through
/// anonymous types, which a valid BTF cannot have but a buggy one can).
const MAX_DEPTH: usize = 64;

impl Cx<'_> {
    fn name(&self, t: &dyn BtfType) -> Result<String, String> {
        match t.get_name_offset() {
            None | Some(0) => Ok(String::new()),
            Some(_) => self
                .btf
                .resolve_name(t)
                .map_err(|e| format!("btf-rs: name: {e}")),
        }
    }

    fn ty(&self, id: u32) -> Result<Type, String> {
        self.btf
            .resolve_type_by_id(id)
            .map_err(|e| format!("btf-rs: dangling type id {id}: {e}"))
    }

    fn target(&self, t: &dyn BtfType) -> u32 {
        t.get_type_id().unwrap_or(0)
    }

    fn refs_of(&self, ty: &Type) -> Vec<u32> {
        match ty {
            Type::Struct(s) | Type::Union(s) => s.members.iter().map(|m| self.target(m)).collect(),
            Type::FuncProto(p) => {
                let mut v = vec![p.return_type_id()];
                v.extend(p.parameters.iter().map(|p| self.target(p)));
                v
            }
            Type::Datasec(d) => d.variables.iter().map(|v| self.target(v)).collect(),
            Type::Array(a) => {
                let mut v = vec![self.target(a)];
                v.extend(self.extras.array_index.get(&self.array_key(a)).copied());
                v
            }
            other => other
                .as_btf_type()
                .map(|t| vec![self.target(t)])
                .unwrap_or_default(),
        }
    }

    fn array_key(&self, a: &btf_rs::Array) -> (u32, u32) {
        (self.target(a), a.len() as u32)
    }

    /// Reference form of type `id`.
    fn shape(&self, id: u32, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Ok(format!("<too deep at [{id}]>"));
        }
        if id == 0 {
            return Ok("void".into());
        }
        let ty = self.ty(id)?;
        Ok(match &ty {
            Type::Void => "void".into(),
            Type::Int(_) | Type::Float(_) => self.describe(id, &ty)?,
            Type::Ptr(p) => format!("*{}", self.shape(self.target(p), depth + 1)?),
            Type::Const(c) => format!("const {}", self.shape(self.target(c), depth + 1)?),
            Type::Volatile(v) => format!("volatile {}", self.shape(self.target(v), depth + 1)?),
            Type::Restrict(r) => format!("restrict {}", self.shape(self.target(r), depth + 1)?),
            Type::TypeTag(t) => format!(
                "type_tag({}) {}",
                self.name(t)?,
                self.shape(self.target(t), depth + 1)?
            ),
            Type::Array(a) => format!(
                "[{}; index {}] {}",
                a.len(),
                self.array_index_shape(a, depth)?,
                self.shape(self.target(a), depth + 1)?
            ),
            Type::Typedef(t) => format!("typedef '{}'", self.name(t)?),
            Type::Fwd(f) => format!(
                "fwd {} '{}'",
                if f.is_union() { "union" } else { "struct" },
                self.name(f)?
            ),
            Type::Struct(s) | Type::Union(s) => {
                let kw = if matches!(ty, Type::Union(_)) {
                    "union"
                } else {
                    "struct"
                };
                let name = self.name(s)?;
                if name.is_empty() {
                    self.composite(kw, s, depth)?
                } else {
                    format!("{kw} '{name}'")
                }
            }
            Type::Enum(e) => {
                let name = self.name(e)?;
                if name.is_empty() {
                    self.describe(id, &ty)?
                } else {
                    format!("enum '{name}'")
                }
            }
            Type::Enum64(e) => {
                let name = self.name(e)?;
                if name.is_empty() {
                    self.describe(id, &ty)?
                } else {
                    format!("enum64 '{name}'")
                }
            }
            Type::FuncProto(p) => self.proto(p, depth)?,
            Type::Func(f) => format!("func '{}'", self.name(f)?),
            Type::Var(v) => format!("var '{}'", self.name(v)?),
            Type::Datasec(d) => format!("datasec '{}'", self.name(d)?),
            Type::DeclTag(t) => format!("decl_tag '{}'", self.name(t)?),
            _ => format!("<unknown kind at [{id}]>"),
        })
    }

    fn array_index_shape(&self, a: &btf_rs::Array, depth: usize) -> Result<String, String> {
        match self.extras.array_index.get(&self.array_key(a)) {
            Some(ix) => self.shape(*ix, depth + 1),
            None => Ok("?".into()),
        }
    }

    fn composite(&self, kw: &str, s: &btf_rs::Struct, depth: usize) -> Result<String, String> {
        let mut out = format!("{kw} '{}' size={} {{", self.name(s)?, s.size());
        for (i, m) in s.members.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            let mname = self.name(m)?;
            let _ = write!(out, " '{}' @{}", mname, m.bit_offset());
            match m.bitfield_size() {
                Some(0) | None => {}
                Some(bits) => {
                    let _ = write!(out, ":{bits}");
                }
            }
            let _ = write!(out, " {}", self.shape(self.target(m), depth + 1)?);
        }
        out.push_str(" }");
        Ok(out)
    }

    fn proto(&self, p: &btf_rs::FuncProto, depth: usize) -> Result<String, String> {
        let mut out = String::from("fn(");
        for (i, prm) in p.parameters.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if prm.is_variadic() {
                out.push_str("...");
                continue;
            }
            let _ = write!(
                out,
                "'{}' {}",
                self.name(prm)?,
                self.shape(self.target(prm), depth + 1)?
            );
        }
        let _ = write!(out, ") -> {}", self.shape(p.return_type_id(), depth + 1)?);
        Ok(out)
    }

    /// Full, top-level description of type `id`.
    fn describe(&self, id: u32, ty: &Type) -> Result<String, String> {
        Ok(match ty {
            Type::Void => "VOID".into(),
            Type::Int(i) => {
                let (bits_offset, nr_bits) = self.extras.ints.get(&id).copied().unwrap_or((0, 0));
                let mut enc = Vec::new();
                if i.is_signed() {
                    enc.push("signed");
                }
                if i.is_char() {
                    enc.push("char");
                }
                if i.is_bool() {
                    enc.push("bool");
                }
                format!(
                    "INT '{}' size={} bits={}+{} enc={}",
                    self.name(i)?,
                    i.size(),
                    bits_offset,
                    nr_bits,
                    if enc.is_empty() {
                        "none".into()
                    } else {
                        enc.join("|")
                    }
                )
            }
            Type::Float(f) => format!("FLOAT '{}' size={}", self.name(f)?, f.size()),
            Type::Struct(s) => {
                format!(
                    "STRUCT {}",
                    &self.composite("struct", s, 0)?["struct ".len()..]
                )
            }
            Type::Union(s) => format!(
                "UNION {}",
                &self.composite("union", s, 0)?["union ".len()..]
            ),
            Type::Enum(e) => {
                let mut out = format!(
                    "ENUM '{}' size={} {} {{",
                    self.name(e)?,
                    e.size(),
                    if e.is_signed() { "signed" } else { "unsigned" }
                );
                for (i, m) in e.members.iter().enumerate() {
                    let v = if e.is_signed() {
                        (m.val() as i32).to_string()
                    } else {
                        m.val().to_string()
                    };
                    let _ = write!(
                        out,
                        "{} {}={}",
                        if i > 0 { "," } else { "" },
                        self.name(m)?,
                        v
                    );
                }
                out.push_str(" }");
                out
            }
            Type::Enum64(e) => {
                let mut out = format!(
                    "ENUM64 '{}' size={} {} {{",
                    self.name(e)?,
                    e.size(),
                    if e.is_signed() { "signed" } else { "unsigned" }
                );
                for (i, m) in e.members.iter().enumerate() {
                    let v = if e.is_signed() {
                        (m.val() as i64).to_string()
                    } else {
                        m.val().to_string()
                    };
                    let _ = write!(
                        out,
                        "{} {}={}",
                        if i > 0 { "," } else { "" },
                        self.name(m)?,
                        v
                    );
                }
                out.push_str(" }");
                out
            }
            Type::Fwd(f) => format!(
                "FWD {} '{}'",
                if f.is_union() { "union" } else { "struct" },
                self.name(f)?
            ),
            Type::Typedef(t) => {
                format!(
                    "TYPEDEF '{}' = {}",
                    self.name(t)?,
                    self.shape(self.target(t), 1)?
                )
            }
            Type::Ptr(_)
            | Type::Const(_)
            | Type::Volatile(_)
            | Type::Restrict(_)
            | Type::Array(_)
            | Type::TypeTag(_) => {
                format!("{} {}", kind_name(ty), self.shape(id, 0)?)
            }
            Type::FuncProto(p) => format!("FUNC_PROTO {}", self.proto(p, 0)?),
            Type::Func(f) => {
                let linkage = if f.is_static() {
                    "static"
                } else if f.is_global() {
                    "global"
                } else if f.is_extern() {
                    "extern"
                } else {
                    "?"
                };
                format!(
                    "FUNC '{}' {} {}",
                    self.name(f)?,
                    linkage,
                    self.shape(self.target(f), 1)?
                )
            }
            Type::Var(v) => {
                let linkage = if v.is_static() {
                    "static"
                } else if v.is_global() {
                    "global"
                } else if v.is_extern() {
                    "extern"
                } else {
                    "?"
                };
                format!(
                    "VAR '{}' {} {}",
                    self.name(v)?,
                    linkage,
                    self.shape(self.target(v), 1)?
                )
            }
            Type::Datasec(d) => {
                let mut vars = Vec::new();
                for v in &d.variables {
                    vars.push((v.offset(), v.size(), self.shape(self.target(v), 1)?));
                }
                vars.sort();
                let mut out = format!("DATASEC '{}' size={} {{", self.name(d)?, d.size());
                for (i, (off, size, shape)) in vars.iter().enumerate() {
                    let _ = write!(
                        out,
                        "{} {shape} @{off}+{size}",
                        if i > 0 { "," } else { "" }
                    );
                }
                out.push_str(" }");
                out
            }
            Type::DeclTag(t) => {
                let comp = match t.component_index() {
                    None => "-1".to_string(),
                    Some(i) => i.to_string(),
                };
                format!(
                    "DECL_TAG '{}' on {} component={}",
                    self.name(t)?,
                    self.shape(self.target(t), 1)?,
                    comp
                )
            }
            _ => format!("UNKNOWN [{id}]"),
        })
    }
}

/// The fields btf-rs does not expose, read straight from the raw sections:
/// INT bit offset and width, ARRAY index types, and the string table.
pub struct RawExtras {
    /// id -> (bits_offset, nr_bits)
    pub ints: HashMap<u32, (u32, u32)>,
    /// (elem type, nelems) -> index type.  Keyed by content rather than id
    /// because btf-rs's `Array` does not tell its own id; two arrays with the
    /// same element type and length but different index types would collide,
    /// which neither pahole nor a sane encoder produces.
    pub array_index: HashMap<(u32, u32), u32>,
    /// Strings of this blob's string section, in order.
    pub strings: Vec<String>,
    /// One past the last type id of this blob.
    pub next_id: u32,
}

impl RawExtras {
    pub fn parse(b: &[u8], first_id: u32) -> Result<RawExtras, String> {
        if b.len() < 24 || !(b[0..2] == [0x9f, 0xeb] || b[0..2] == [0xeb, 0x9f]) {
            return Err("not BTF (bad magic or too short)".into());
        }
        let big = b[0..2] == [0xeb, 0x9f];
        let rd32 = |off: usize| -> Result<u32, String> {
            b.get(off..off + 4)
                .map(|s| {
                    let a: [u8; 4] = s.try_into().unwrap();
                    if big {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    }
                })
                .ok_or_else(|| format!("BTF truncated at byte {off}"))
        };
        let hdr_len = rd32(4)? as usize;
        let type_off = rd32(8)? as usize;
        let type_len = rd32(12)? as usize;
        let str_off = rd32(16)? as usize;
        let str_len = rd32(20)? as usize;
        let tstart = hdr_len + type_off;
        let tend = tstart + type_len;
        let sstart = hdr_len + str_off;
        let send = sstart + str_len;
        if tend > b.len() || send > b.len() {
            return Err("BTF sections extend past the end of the data".into());
        }
        let strings = b[sstart..send]
            .split(|c| *c == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect::<Vec<_>>();
        let mut strings = strings;
        // "a\0b\0" splits into ["a", "b", ""]: drop the tail after the last NUL.
        if b[sstart..send].last() == Some(&0) {
            strings.pop();
        }
        let mut ints = HashMap::new();
        let mut array_index = HashMap::new();
        let mut off = tstart;
        let mut id = first_id;
        while off < tend {
            let info = rd32(off + 4)?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            off += 12;
            let extra = match kind {
                1 => {
                    let data = rd32(off)?;
                    ints.insert(id, ((data >> 16) & 0xff, data & 0xff));
                    4
                }
                3 => {
                    let (elem, index, n) = (rd32(off)?, rd32(off + 4)?, rd32(off + 8)?);
                    array_index.insert((elem, n), index);
                    12
                }
                4 | 5 => 12 * vlen,
                6 => 8 * vlen,
                13 => 8 * vlen,
                14 => 4,
                15 => 12 * vlen,
                17 => 4,
                19 => 12 * vlen,
                2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => 0,
                k => return Err(format!("unknown BTF kind {k} at type [{id}]")),
            };
            off += extra;
            id += 1;
        }
        if off != tend {
            return Err("type section does not end on a type boundary".into());
        }
        Ok(RawExtras {
            ints,
            array_index,
            strings,
            next_id: id,
        })
    }
}

/// Compare two canonical line lists as multisets.  Returns a readable report
/// of at most `max` differences on mismatch.
pub fn diff_lines(
    expected_label: &str,
    expected: &[String],
    actual_label: &str,
    actual: &[String],
    max: usize,
) -> Result<(), String> {
    let count = |v: &[String]| {
        let mut m: BTreeMap<String, isize> = BTreeMap::new();
        for l in v {
            *m.entry(l.clone()).or_insert(0) += 1;
        }
        m
    };
    let e = count(expected);
    let a = count(actual);
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    for (line, n) in &e {
        let m = a.get(line).copied().unwrap_or(0);
        if m < *n {
            missing.push(format!("  x{} {line}", n - m));
        }
    }
    for (line, n) in &a {
        let m = e.get(line).copied().unwrap_or(0);
        if m < *n {
            extra.push(format!("  x{} {line}", n - m));
        }
    }
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let mut out = format!(
        "BTF differs\n  expected: {expected_label}: {} types\n  actual:   {actual_label}: {} types\n",
        expected.len(),
        actual.len(),
    );
    let half = max.div_ceil(2).max(1);
    for (title, list) in [
        ("missing from actual (only in expected)", &missing),
        ("unexpected in actual (not in expected)", &extra),
    ] {
        let _ = writeln!(out, "-- {title}: {} line(s)", list.len());
        for l in list.iter().take(half) {
            let _ = writeln!(out, "{l}");
        }
        if list.len() > half {
            let _ = writeln!(out, "  ... and {} more", list.len() - half);
        }
    }
    Err(out)
}

/// Compare the string tables as sets (each encoder must keep exactly the
/// names its types use, once each; the expected blob may hold more that no type
/// names) and report duplicates.
pub fn diff_strings(
    expected_label: &str,
    e: &Canon,
    actual_label: &str,
    a: &Canon,
) -> Result<(), String> {
    let mut problems = String::new();
    let mut seen = HashSet::new();
    let dups: Vec<&String> = a.strings.iter().filter(|s| !seen.insert(*s)).collect();
    if !dups.is_empty() {
        let _ = writeln!(
            problems,
            "duplicate strings in {actual_label}: {:?}",
            &dups[..dups.len().min(10)]
        );
    }
    if !a.split && a.strings.first().map(String::as_str) != Some("") {
        let _ = writeln!(
            problems,
            "{actual_label}: string section does not start with \"\""
        );
    }
    let es: HashSet<&String> = e.strings.iter().collect();
    let as_: HashSet<&String> = a.strings.iter().collect();
    // pahole >= 1.29 adds a function's parameter names to the string section before it
    // decides to leave the function out, and keeps them: a string of the expected
    // blob that none of its types names is not one an encoder must keep.
    let named = |s: &str| {
        let quoted = format!("'{s}'");
        e.lines.iter().any(|l| l.contains(&quoted))
    };
    let mut only_e: Vec<_> = es.difference(&as_).filter(|s| named(s)).collect();
    let mut only_a: Vec<_> = as_.difference(&es).collect();
    only_e.sort();
    only_a.sort();
    if !only_e.is_empty() {
        let _ = writeln!(
            problems,
            "strings only in {expected_label}: {:?}",
            &only_e[..only_e.len().min(10)]
        );
    }
    if !only_a.is_empty() {
        let _ = writeln!(
            problems,
            "strings only in {actual_label}: {:?}",
            &only_a[..only_a.len().min(10)]
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
