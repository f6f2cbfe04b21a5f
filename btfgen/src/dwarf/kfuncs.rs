//! kfuncs: the kernel functions BPF programs may call, found as pahole ≥ 1.27 finds
//! them (`btf_encoder__collect_kfuncs()`, feature `decl_tag_kfuncs`) so that their
//! FUNCs get a `bpf_kfunc` DECL_TAG (and `bpf_fastcall` for `KF_FASTCALL` ones).
//!
//! The kernel lists kfuncs in `BTF_SET8`s in the `.BTF_ids` section: a set is a symbol
//! `__BTF_ID__set8__<set>` over `struct btf_id_set8 { u32 cnt; u32 flags; struct {
//! u32 id; u32 flags; } pairs[]; }`, whose set flags have `BTF_SET8_KFUNCS`; each pair
//! is named by a symbol `__BTF_ID__func__<function>__<n>` at its address, and the
//! pair's flags are the kfunc's `KF_*` flags. Symbols in `.BTF_ids` within a kfunc
//! set's `[st_value, st_value + st_size)` name kfuncs; a function named by several
//! sets takes the flags of the last symbol. Entries outside the section are ignored
//! (pahole gives up on the whole file).
//!
//! A debug-only file (`objcopy --only-keep-debug`, `eu-strip -f`: an RPM's
//! `NAME.ko.debug`) keeps the symbols but not the section's bytes (`SHT_NOBITS`), so
//! which sets are kfunc sets cannot be told: with a set in it, the file is refused
//! ([`super::EncodeError::DebugOnlyKfuncs`]) rather than encoded without kfunc tags.

use hashbrown::{HashMap, HashSet};
use object::{Object, ObjectSection, ObjectSymbol};

use super::error::EncodeError;
use crate::btf::sections_data;

/// `BTF_SET8_KFUNCS`: the set's flag saying its members are kfuncs.
const SET8_KFUNCS: u32 = 1 << 0;
/// `KF_FASTCALL`: the kfunc follows the `bpf_fastcall` convention.
pub(crate) const KF_FASTCALL: u32 = 1 << 12;

const SET8_PREFIX: &[u8] = b"__BTF_ID__set8__";
const FUNC_PREFIX: &[u8] = b"__BTF_ID__func__";

/// The kfuncs of an ELF file with their `KF_*` flags, limited to names that are
/// `STT_FUNC` symbols (pahole looks each kfunc up among the function symbols by its
/// exact name). Empty without a `.BTF_ids` section or a symbol table; an error when
/// the section has sets but no bytes (a debug-only file).
pub(crate) fn collect<'a>(
    data: &'a [u8],
    functions: &HashSet<&[u8]>,
) -> Result<HashMap<&'a [u8], u32>, EncodeError> {
    let Ok(file) = object::File::parse(data) else {
        return Ok(HashMap::new());
    };
    let Some(section) = file.section_by_name(".BTF_ids") else {
        return Ok(HashMap::new());
    };
    let index = section.index();
    let symbols: Vec<_> = file
        .symbols()
        .filter(|s| s.section_index() == Some(index))
        .filter_map(|s| Some((s.name_bytes().ok()?, s.address(), s.size())))
        .collect();
    let nobits = section.kind() == object::SectionKind::UninitializedData;
    let sets = symbols
        .iter()
        .filter(|(name, ..)| name.starts_with(SET8_PREFIX))
        .count();
    if nobits && sets > 0 {
        return Err(EncodeError::DebugOnlyKfuncs { sets });
    }
    let Ok(mut bytes) = sections_data(data.len(), std::slice::from_ref(&section)) else {
        return Ok(HashMap::new());
    };
    let bytes = bytes.swap_remove(0);
    let mut kfuncs = kfunc_flags(&bytes, section.address(), file.is_little_endian(), &symbols);
    kfuncs.retain(|name, _| functions.contains(name));
    Ok(kfuncs)
}

/// The kfuncs named by `symbols` (name, value, size; all in the `.BTF_ids` section
/// whose bytes are `section`, loaded at `address`), with their flags.
fn kfunc_flags<'a>(
    section: &[u8],
    address: u64,
    little: bool,
    symbols: &[(&'a [u8], u64, u64)],
) -> HashMap<&'a [u8], u32> {
    let word = |addr: u64| -> Option<u32> {
        let at = usize::try_from(addr.checked_sub(address)?.checked_add(4)?).ok()?;
        let b: [u8; 4] = section.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    // The second word of a set (its flags) and of a pair (the kfunc's flags).
    let sets: Vec<(u64, u64)> = symbols
        .iter()
        .filter(|&&(name, addr, _)| {
            name.starts_with(SET8_PREFIX) && word(addr).is_some_and(|f| f & SET8_KFUNCS != 0)
        })
        .map(|&(_, addr, size)| (addr, addr.saturating_add(size)))
        .collect();
    let mut kfuncs = HashMap::new();
    for &(name, addr, _) in symbols {
        let Some(func) = func_name(name) else {
            continue;
        };
        if !sets.iter().any(|&(lo, hi)| lo <= addr && addr < hi) {
            continue;
        }
        if let Some(flags) = word(addr) {
            kfuncs.insert(func, flags);
        }
    }
    kfuncs
}

/// The function a `__BTF_ID__func__<function>__<n>` symbol names: the text between
/// the prefix and the last `__` (`None` for other symbols).
fn func_name(sym: &[u8]) -> Option<&[u8]> {
    let rest = sym.strip_prefix(FUNC_PREFIX)?;
    if !rest.windows(2).any(|w| w == b"__") {
        return None;
    }
    let last = rest.iter().rposition(|&c| c == b'_')?;
    (last >= 1 && rest[last - 1] == b'_').then(|| &rest[..last - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_of_btf_id_symbols() {
        let table: &[(&[u8], Option<&[u8]>)] = &[
            (b"__BTF_ID__func__vfs_close__1", Some(b"vfs_close")),
            (
                b"__BTF_ID__func__bpf_obj_new_impl__712",
                Some(b"bpf_obj_new_impl"),
            ),
            (b"__BTF_ID__func__a__b__3", Some(b"a__b")),
            // no `__<n>` suffix
            (b"__BTF_ID__func__vfs_close", None),
            (b"__BTF_ID__func__vfs_close_1", None),
            (b"__BTF_ID__func___", None),
            (b"__BTF_ID__struct__task_struct__5", None),
            (b"__BTF_ID__set8__bpf_kfunc_set", None),
        ];
        for &(sym, want) in table {
            assert_eq!(func_name(sym), want, "{}", String::from_utf8_lossy(sym));
        }
    }

    /// A `.BTF_ids` section at 0x1000: a kfunc set with two pairs, then a set without
    /// the kfunc flag with one pair.
    fn section(little: bool) -> Vec<u8> {
        let words: [u32; 10] = [2, SET8_KFUNCS, 0, 0, 0, KF_FASTCALL | 1, 1, 0, 0, 7];
        words
            .iter()
            .flat_map(|w| {
                if little {
                    w.to_le_bytes()
                } else {
                    w.to_be_bytes()
                }
            })
            .collect()
    }

    fn symbols() -> Vec<(&'static [u8], u64, u64)> {
        vec![
            (b"__BTF_ID__set8__kfuncs", 0x1000, 24),
            (b"__BTF_ID__func__bpf_a__1", 0x1008, 0),
            (b"__BTF_ID__func__bpf_b__2", 0x1010, 0),
            (b"__BTF_ID__set8__other", 0x1018, 16),
            (b"__BTF_ID__func__not_kfunc__3", 0x1020, 0),
            // outside the section
            (b"__BTF_ID__set8__broken", 0x2000, 16),
        ]
    }

    #[test]
    fn kfunc_sets_in_either_byte_order() {
        for little in [true, false] {
            let got = kfunc_flags(&section(little), 0x1000, little, &symbols());
            let mut got: Vec<_> = got.into_iter().collect();
            got.sort();
            let want: Vec<(&[u8], u32)> = vec![(b"bpf_a", 0), (b"bpf_b", KF_FASTCALL | 1)];
            assert_eq!(got, want, "little endian: {little}");
        }
    }

    #[test]
    fn a_pair_past_the_section_end_is_ignored() {
        let mut syms = symbols();
        // A kfunc set reaching past the section, and a pair symbol in that tail.
        syms.push((b"__BTF_ID__set8__long", 0x1000, 64));
        syms.push((b"__BTF_ID__func__bpf_c__4", 0x1028, 0));
        let got = kfunc_flags(&section(true), 0x1000, true, &syms);
        assert!(!got.contains_key(&b"bpf_c"[..]));
        assert!(got.contains_key(&b"not_kfunc"[..]), "in the long set now");
    }

    /// A relocatable x86-64 ELF whose `.BTF_ids` holds `section(true)` with the
    /// symbols of `symbols()` and functions `bpf_a` and `bpf_b`; `nobits`: as a
    /// debug-only file has it, without its bytes.
    fn elf(nobits: bool) -> Vec<u8> {
        use object::write::{Object, Symbol, SymbolSection};
        use object::{SymbolFlags, SymbolKind, SymbolScope};
        let mut obj = Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let text = obj.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::Text);
        obj.set_section_data(text, vec![0xc3; 2], 1);
        let kind = match nobits {
            true => object::SectionKind::UninitializedData,
            false => object::SectionKind::ReadOnlyData,
        };
        let ids = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), kind);
        let bytes = section(true);
        match nobits {
            true => {
                obj.append_section_bss(ids, bytes.len() as u64, 1);
            }
            false => obj.set_section_data(ids, bytes, 1),
        }
        let mut add = |name: &[u8], value, size, section, kind| {
            obj.add_symbol(Symbol {
                name: name.to_vec(),
                value,
                size,
                kind,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            });
        };
        for (name, value, size) in symbols().into_iter().take(5) {
            add(name, value - 0x1000, size, ids, SymbolKind::Data);
        }
        add(b"bpf_a", 0, 1, text, SymbolKind::Text);
        add(b"bpf_b", 1, 1, text, SymbolKind::Text);
        obj.write().unwrap()
    }

    #[test]
    fn a_debug_only_btf_ids_with_sets_is_refused() {
        let functions: HashSet<&[u8]> = [&b"bpf_a"[..], b"bpf_b"].into_iter().collect();
        let with = elf(false);
        let mut got: Vec<_> = collect(&with, &functions).unwrap().into_iter().collect();
        got.sort();
        let want: Vec<(&[u8], u32)> = vec![(b"bpf_a", 0), (b"bpf_b", KF_FASTCALL | 1)];
        assert_eq!(got, want);
        let without = elf(true);
        let e = collect(&without, &functions).unwrap_err();
        assert!(matches!(e, EncodeError::DebugOnlyKfuncs { sets: 2 }), "{e}");
    }
}
