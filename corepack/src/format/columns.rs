//! A reversible re-encoding of BTF that zstd compresses better than the raw blob: type
//! records split into streams of like fields, names as string ordinals instead of byte
//! offsets, type references as distances from the referring type, member offsets as
//! differences from the previous member's. Raw BTF interleaves 32-bit words of different
//! meaning, most of them small numbers padded with zero bytes; the streams put like with
//! like. FORMAT.md specifies the layout; [`encode`] refuses BTF it cannot reproduce
//! byte for byte, which the writer then stores another way.

use super::first_use;
use super::wire::{unzigzag, zigzag, Reader, Writer};

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;

/// Kinds, in BTF's numbering.
mod kind {
    pub(super) const INT: u8 = 1;
    pub(super) const ARRAY: u8 = 3;
    pub(super) const STRUCT: u8 = 4;
    pub(super) const UNION: u8 = 5;
    pub(super) const ENUM: u8 = 6;
    pub(super) const FUNC_PROTO: u8 = 13;
    pub(super) const VAR: u8 = 14;
    pub(super) const DATASEC: u8 = 15;
    pub(super) const DECL_TAG: u8 = 17;
    pub(super) const ENUM64: u8 = 19;
    /// Kinds whose third word is a type id rather than a size.
    pub(super) fn has_type(k: u8) -> bool {
        matches!(k, 2 | 8..=14 | 17 | 18)
    }
}

/// How the names and refs streams code their values (FORMAT.md, "Columns").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Codecs 3, 4 and 6: names as string ordinals, a type's before its members';
    /// references as zigzag(referring id − referenced id).
    Ordinals,
    /// Codec 7: a type's member names before its own, names and references coded by
    /// first use and recency ([`first_use`]).
    FirstUse,
}

impl Layout {
    /// Whether the names of kind `k`'s members come before the type's own name.
    fn members_first(self, k: u8) -> bool {
        self == Layout::FirstUse
            && matches!(
                k,
                kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 | kind::FUNC_PROTO
            )
    }

    /// The names and refs streams of `names` (ordinals) and `refs` (referring and
    /// referenced type) in a blob of `count` types; `None` when a reference is past the
    /// last type (layout FirstUse).
    fn code(self, names: &[u64], refs: &[(u32, u32)], count: usize) -> Option<(Vec<u8>, Vec<u8>)> {
        let (mut n, mut r) = (Writer::default(), Writer::default());
        match self {
            Layout::Ordinals => {
                names.iter().for_each(|&x| n.uint(x));
                for &(id, t) in refs {
                    r.uint(zigzag(id.wrapping_sub(t) as i32));
                }
            }
            Layout::FirstUse => {
                let mut c = first_use::Names::default();
                names.iter().for_each(|&x| n.uint(c.code(x)));
                let mut c = first_use::Refs::new(count, refs.len());
                for &(id, t) in refs {
                    r.uint(c.code(id, t)?);
                }
            }
        }
        Some((n.0, r.0))
    }
}

/// The streams, in their order in the encoding.
#[derive(Default)]
struct Streams {
    /// Per type: kind | kind_flag << 7, then vlen.
    kinds: Writer,
    /// Names of types, members, enumerators and parameters: string ordinals, in the
    /// layout's order (coded by [`Layout`] at the end).
    names: Vec<u64>,
    /// Type references: (referring type, referenced type), coded by [`Layout`] at the
    /// end.
    refs: Vec<(u32, u32)>,
    /// Sizes, INT encodings, element counts, enumerator values, VAR linkage, DATASEC
    /// offsets and sizes, DECL_TAG components.
    values: Writer,
    /// Member offsets: bitfield size (kind_flag structs only) and the offset minus the
    /// previous member's, zigzag.
    offsets: Writer,
}

/// Reads the BTF's 32-bit words in its byte order.
struct Words<'a> {
    b: &'a [u8],
    pos: usize,
    big: bool,
}

impl Words<'_> {
    fn next(&mut self) -> Option<u32> {
        let w: [u8; 4] = self.b.get(self.pos..self.pos + 4)?.try_into().ok()?;
        self.pos += 4;
        Some(if self.big {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        })
    }
}

/// The re-encoding of `btf`, or `None` when it is not a plain BTF blob (header of 24
/// bytes, types then strings with no gap, names at string starts, known kinds) that
/// decodes back to exactly these bytes.
pub(crate) fn encode(btf: &[u8], layout: Layout) -> Option<Vec<u8>> {
    let out = encode_unchecked(btf, layout)?;
    (out.len() <= btf.len() && decode(&out, btf.len(), layout).ok()? == btf).then_some(out)
}

fn encode_unchecked(btf: &[u8], layout: Layout) -> Option<Vec<u8>> {
    let big = match btf.get(..2)? {
        [0xeb, 0x9f] => true,
        [0x9f, 0xeb] => false,
        _ => return None,
    };
    let mut h = Words {
        b: btf,
        pos: 4,
        big,
    };
    let (hdr_len, type_off, type_len, str_off, str_len) =
        (h.next()?, h.next()?, h.next()?, h.next()?, h.next()?);
    if hdr_len as usize != HEADER_LEN
        || type_off != 0
        || str_off != type_len
        || HEADER_LEN + type_len as usize + str_len as usize != btf.len()
    {
        return None;
    }
    let strings = &btf[HEADER_LEN + type_len as usize..];
    // Ordinal of each string start.
    let mut ordinal = std::collections::HashMap::new();
    let mut start = 0;
    for (i, s) in strings.split(|&b| b == 0).enumerate() {
        if start >= strings.len() {
            break;
        }
        ordinal.insert(start as u32, i as u64);
        start += s.len() + 1;
    }
    let name = |off: u32| ordinal.get(&off).copied();
    let mut w = Words {
        b: &btf[..HEADER_LEN + type_len as usize],
        pos: HEADER_LEN,
        big,
    };
    let mut s = Streams::default();
    let mut count = 0u64;
    while w.pos < w.b.len() {
        count += 1;
        let id = count as u32;
        let (name_off, info, size_or_type) = (w.next()?, w.next()?, w.next()?);
        let k = (info >> 24 & 0x1f) as u8;
        let vlen = info & 0xffff;
        let kflag = info >> 31;
        if info & 0x60ff_0000 != 0 {
            return None;
        }
        s.kinds.bytes(&[k | (kflag as u8) << 7]);
        s.kinds.uint(vlen as u64);
        let own_name = s.names.len();
        s.names.push(name(name_off)?);
        if kind::has_type(k) {
            s.refs.push((id, size_or_type));
        } else {
            s.values.uint(size_or_type as u64);
        }
        match k {
            kind::INT | kind::VAR => s.values.uint(w.next()? as u64),
            kind::DECL_TAG => s.values.uint(zigzag(w.next()? as i32)),
            kind::ARRAY => {
                let (elem, index, n) = (w.next()?, w.next()?, w.next()?);
                s.refs.push((id, elem));
                s.refs.push((id, index));
                s.values.uint(n as u64);
            }
            kind::STRUCT | kind::UNION => {
                let mut prev = 0u32;
                for _ in 0..vlen {
                    let (n, t, off) = (w.next()?, w.next()?, w.next()?);
                    s.names.push(name(n)?);
                    s.refs.push((id, t));
                    let off = if kflag == 1 {
                        s.offsets.bytes(&[(off >> 24) as u8]);
                        off & 0xff_ffff
                    } else {
                        off
                    };
                    s.offsets.uint(zigzag(off.wrapping_sub(prev) as i32));
                    prev = off;
                }
            }
            kind::ENUM => {
                let mut next = 0u32;
                for _ in 0..vlen {
                    let (n, v) = (w.next()?, w.next()?);
                    s.names.push(name(n)?);
                    s.values.uint(zigzag(v.wrapping_sub(next) as i32));
                    next = v.wrapping_add(1);
                }
            }
            kind::ENUM64 => {
                for _ in 0..vlen {
                    let (n, lo, hi) = (w.next()?, w.next()?, w.next()?);
                    s.names.push(name(n)?);
                    s.values.uint(lo as u64);
                    s.values.uint(hi as u64);
                }
            }
            kind::FUNC_PROTO => {
                for _ in 0..vlen {
                    let (n, t) = (w.next()?, w.next()?);
                    s.names.push(name(n)?);
                    s.refs.push((id, t));
                }
            }
            kind::DATASEC => {
                for _ in 0..vlen {
                    let (t, off, size) = (w.next()?, w.next()?, w.next()?);
                    s.refs.push((id, t));
                    s.values.uint(off as u64);
                    s.values.uint(size as u64);
                }
            }
            2 | 7..=12 | 16 | 18 => {}
            _ => return None,
        }
        if layout.members_first(k) {
            let own = s.names.remove(own_name);
            s.names.push(own);
        }
    }
    let (names, refs) = layout.code(&s.names, &s.refs, count as usize)?;
    let mut out = Writer::default();
    out.bytes(&[big as u8, btf[2], btf[3]]);
    out.uint(count);
    for part in [
        strings,
        &s.kinds.0,
        &names,
        &refs,
        &s.values.0,
        &s.offsets.0,
    ] {
        out.uint(part.len() as u64);
        out.bytes(part);
    }
    Some(out.0)
}

/// The type section being rebuilt; it stops growing past `limit` bytes.
struct Out {
    bytes: Vec<u8>,
    big: bool,
    limit: usize,
}

impl Out {
    fn put(&mut self, v: u32) {
        if !self.over() {
            let w = if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            self.bytes.extend_from_slice(&w);
        }
    }

    fn over(&self) -> bool {
        self.bytes.len() > self.limit
    }
}

/// The BTF `encoded` stands for, refused once it would exceed `limit` bytes.
pub(crate) fn decode(encoded: &[u8], limit: usize, layout: Layout) -> Result<Vec<u8>, String> {
    let e = |what: &str| format!("BTF columns: bad {what}");
    let mut r = Reader::new(encoded);
    let head = r.take(3, "header").map_err(|_| e("header"))?;
    let big = match head[0] {
        0 => false,
        1 => true,
        _ => return Err(e("byte order")),
    };
    let (version, flags) = (head[1], head[2]);
    let count = r.uint("type count").map_err(|_| e("type count"))?;
    let strings = part(&mut r, "strings")?;
    let mut kinds = Reader::new(part(&mut r, "kinds")?);
    let names = part(&mut r, "names")?;
    let refs = part(&mut r, "refs")?;
    let mut values = Reader::new(part(&mut r, "values")?);
    let mut offsets = Reader::new(part(&mut r, "offsets")?);
    r.finish().map_err(|_| e("trailing bytes"))?;
    // Offset of each string start, by ordinal.
    let mut starts = Vec::new();
    let mut pos = 0;
    while pos < strings.len() {
        starts.push(pos as u32);
        pos += strings[pos..]
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| e("strings"))?
            + 1;
    }
    let uint = |r: &mut Reader<'_>, what: &str| r.uint(what).map_err(|_| e(what));
    let u32_of = |v: u64, what: &str| u32::try_from(v).map_err(|_| e(what));
    let mut names = NameReader {
        r: Reader::new(names),
        first_use: (layout == Layout::FirstUse).then(first_use::Names::default),
        starts: &starts,
    };
    let refs_coder = match layout {
        Layout::Ordinals => None,
        // Every type takes at least two bytes of kinds and 12 of the output, every
        // reference a byte of refs and 4 of the output: state for so many and no more.
        Layout::FirstUse => match usize::try_from(count) {
            Ok(n) if n <= kinds.rest_len() / 2 && n <= limit / 12 => {
                Some(first_use::Refs::new(n, refs.len().min(limit / 4)))
            }
            _ => return Err(e("type count")),
        },
    };
    let mut refs = RefReader {
        r: Reader::new(refs),
        first_use: refs_coder,
    };
    let mut types = Out {
        bytes: Vec::new(),
        big,
        limit,
    };
    for id in 1..=count {
        let id = u32::try_from(id).map_err(|_| e("type count"))?;
        let kb = kinds.u8("kind").map_err(|_| e("kind"))?;
        let (k, kflag) = (kb & 0x7f, (kb >> 7) as u32);
        let vlen = u32_of(uint(&mut kinds, "vlen")?, "vlen")?;
        if k > 0x1f || vlen > 0xffff {
            return Err(e("kind"));
        }
        // Member names first (layout FirstUse), else as they come.
        let mut pending = Vec::new().into_iter();
        let own = if layout.members_first(k) {
            pending = (0..vlen)
                .map(|_| names.next())
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            names.next()?
        } else {
            names.next()?
        };
        let mut member_name =
            |names: &mut NameReader<'_>| pending.next().map_or_else(|| names.next(), Ok);
        types.put(own);
        types.put(kflag << 31 | (k as u32) << 24 | vlen);
        if kind::has_type(k) {
            types.put(refs.next(id)?);
        } else {
            types.put(u32_of(uint(&mut values, "size")?, "size")?);
        }
        match k {
            kind::INT | kind::VAR => types.put(u32_of(uint(&mut values, "value")?, "value")?),
            kind::DECL_TAG => types.put(
                unzigzag(uint(&mut values, "component")?).ok_or_else(|| e("component"))? as u32,
            ),
            kind::ARRAY => {
                types.put(refs.next(id)?);
                types.put(refs.next(id)?);
                types.put(u32_of(uint(&mut values, "count")?, "count")?);
            }
            kind::STRUCT | kind::UNION => {
                let mut prev = 0u32;
                for _ in 0..vlen {
                    types.put(member_name(&mut names)?);
                    types.put(refs.next(id)?);
                    let bits = if kflag == 1 {
                        (offsets.u8("bitfield").map_err(|_| e("bitfield"))? as u32) << 24
                    } else {
                        0
                    };
                    let d = unzigzag(uint(&mut offsets, "offset")?).ok_or_else(|| e("offset"))?;
                    let off = prev.wrapping_add(d as u32);
                    if kflag == 1 && off > 0xff_ffff {
                        return Err(e("offset"));
                    }
                    types.put(bits | off);
                    prev = off;
                }
            }
            kind::ENUM => {
                let mut next = 0u32;
                for _ in 0..vlen {
                    types.put(member_name(&mut names)?);
                    let d = unzigzag(uint(&mut values, "enumerator")?)
                        .ok_or_else(|| e("enumerator"))?;
                    let v = next.wrapping_add(d as u32);
                    types.put(v);
                    next = v.wrapping_add(1);
                }
            }
            kind::ENUM64 => {
                for _ in 0..vlen {
                    types.put(member_name(&mut names)?);
                    types.put(u32_of(uint(&mut values, "enumerator")?, "enumerator")?);
                    types.put(u32_of(uint(&mut values, "enumerator")?, "enumerator")?);
                }
            }
            kind::FUNC_PROTO => {
                for _ in 0..vlen {
                    types.put(member_name(&mut names)?);
                    types.put(refs.next(id)?);
                }
            }
            kind::DATASEC => {
                for _ in 0..vlen {
                    types.put(refs.next(id)?);
                    types.put(u32_of(uint(&mut values, "offset")?, "offset")?);
                    types.put(u32_of(uint(&mut values, "size")?, "size")?);
                }
            }
            2 | 7..=12 | 16 | 18 => {}
            _ => return Err(e("kind")),
        }
    }
    if types.over() {
        return Err(e("size"));
    }
    let types = types.bytes;
    for (what, rest) in [
        ("kinds", kinds),
        ("names", names.r),
        ("refs", refs.r),
        ("values", values),
        ("offsets", offsets),
    ] {
        rest.finish().map_err(|_| e(what))?;
    }
    let type_len = u32::try_from(types.len()).map_err(|_| e("size"))?;
    let str_len = u32::try_from(strings.len()).map_err(|_| e("size"))?;
    let mut out = Vec::with_capacity(HEADER_LEN + types.len() + strings.len());
    let word = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    out.extend_from_slice(&if big {
        MAGIC.to_be_bytes()
    } else {
        MAGIC.to_le_bytes()
    });
    out.extend_from_slice(&[version, flags]);
    for v in [HEADER_LEN as u32, 0, type_len, type_len, str_len] {
        out.extend_from_slice(&word(v));
    }
    out.extend_from_slice(&types);
    out.extend_from_slice(strings);
    Ok(out)
}

/// Reads names (string offsets) from the names stream.
struct NameReader<'a> {
    r: Reader<'a>,
    /// Layout FirstUse's coder; `None`: ordinals as they are.
    first_use: Option<first_use::Names>,
    /// The offset of each string, by ordinal.
    starts: &'a [u32],
}

impl NameReader<'_> {
    fn next(&mut self) -> Result<u32, String> {
        let bad = || "BTF columns: bad name".to_string();
        let c = self.r.uint("name").map_err(|_| bad())?;
        let i = match &mut self.first_use {
            Some(f) => f.ordinal(c).ok_or_else(bad)?,
            None => c,
        };
        usize::try_from(i)
            .ok()
            .and_then(|i| self.starts.get(i).copied())
            .ok_or_else(bad)
    }
}

/// Reads type references from the refs stream.
struct RefReader<'a> {
    r: Reader<'a>,
    /// Layout FirstUse's coder; `None`: zigzag distances from the referring type.
    first_use: Option<first_use::Refs>,
}

impl RefReader<'_> {
    /// The next reference of type `id`.
    fn next(&mut self, id: u32) -> Result<u32, String> {
        let bad = || "BTF columns: bad reference".to_string();
        let c = self.r.uint("reference").map_err(|_| bad())?;
        match &mut self.first_use {
            Some(f) => f.target(id, c).ok_or_else(bad),
            None => Ok(id.wrapping_sub(unzigzag(c).ok_or_else(bad)? as u32)),
        }
    }
}

/// One length-prefixed part of the encoding.
fn part<'a>(r: &mut Reader<'a>, what: &str) -> Result<&'a [u8], String> {
    let bad = || format!("BTF columns: bad {what}");
    let n = r.uint(what).map_err(|_| bad())?;
    let n = usize::try_from(n).map_err(|_| bad())?;
    r.take(n, what).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw BTF blobs the repository holds: btfgen's output for the fixtures (every
    /// kind, gcc and clang, a big-endian one) and a BPF object's BTF.
    fn samples() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/btf");
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "btf"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        // The running kernel's BTF, where there is one: 5 MB of every kernel shape.
        if let Ok(b) = std::fs::read("/sys/kernel/btf/vmlinux") {
            v.push(("/sys/kernel/btf/vmlinux".into(), b));
        }
        v.sort();
        assert!(v.len() >= 6, "{v:?}");
        v
    }

    const LAYOUTS: [Layout; 2] = [Layout::Ordinals, Layout::FirstUse];

    #[test]
    fn round_trips_real_btf() {
        for (name, btf) in samples() {
            for layout in LAYOUTS {
                let c = encode(&btf, layout)
                    .unwrap_or_else(|| panic!("{name} does not re-encode as {layout:?}"));
                assert!(c.len() < btf.len(), "{name}");
                assert_eq!(decode(&c, btf.len(), layout).unwrap(), btf, "{name}");
            }
        }
    }

    /// The smallest sample with a named type (for the quadratic tests).
    fn small() -> Vec<u8> {
        let mut v = samples();
        v.sort_by_key(|(_, b)| b.len());
        v.into_iter()
            .map(|(_, b)| b)
            .find(|b| b.len() > 200)
            .unwrap()
    }

    #[test]
    fn refuses_what_it_cannot_reproduce() {
        for layout in LAYOUTS {
            refuses_as(layout);
        }
    }

    fn refuses_as(layout: Layout) {
        let btf = small();
        let encode = |b: &[u8]| encode(b, layout);
        // Not BTF; a header that is not 24 bytes; a name inside a string; bytes after
        // the strings.
        assert!(encode(b"not btf at all, not even close").is_none());
        let mut b = btf.clone();
        b[4] = 32;
        assert!(encode(&b).is_none());
        let mut b = btf.clone();
        let le = b[0] == 0x9f;
        let name_off = 24;
        let w = u32::from_le_bytes(b[name_off..name_off + 4].try_into().unwrap());
        let w = if le {
            w
        } else {
            u32::from_be_bytes(w.to_le_bytes())
        };
        // The first type is named: one byte on is inside (or at the end of) its name.
        assert_ne!(w, 0);
        let moved = w + 1;
        b[name_off..name_off + 4].copy_from_slice(&if le {
            moved.to_le_bytes()
        } else {
            moved.to_be_bytes()
        });
        assert!(encode(&b).is_none());
        let mut b = btf;
        b.push(0);
        assert!(encode(&b).is_none());
    }

    #[test]
    fn corrupt_encodings_are_errors_and_respect_the_limit() {
        for layout in LAYOUTS {
            corrupt_as(layout);
        }
    }

    fn corrupt_as(layout: Layout) {
        let btf = small();
        let decode = |c: &[u8], limit: usize| decode(c, limit, layout);
        let c = encode(&btf, layout).unwrap();
        for cut in 0..c.len() {
            assert!(decode(&c[..cut], btf.len()).is_err(), "cut at {cut}");
        }
        for i in 0..c.len() {
            let mut x = c.clone();
            x[i] ^= 0x55;
            // Any result but a panic; a success is some other BTF within the limit.
            if let Ok(out) = decode(&x, btf.len()) {
                assert!(out.len() <= 24 + btf.len() + 4 + (btf.len() - 24));
            }
        }
        assert!(decode(&c, btf.len() / 2).is_err());
    }
}
