//! The DIE reader checked against gimli's own reader: on the demo object, on a unit
//! with every attribute form, and on truncated units.

use super::*;
use gimli::{DebugAbbrev, DebugInfo, EndianSlice};

fn all(_: DwAt) -> bool {
    true
}

/// Some attributes: the walk then skips the others, in runs.
fn some(name: DwAt) -> bool {
    matches!(name, dw::DW_AT_name | dw::DW_AT_type | dw::DW_AT_byte_size) || name.0 % 3 == 0
}

/// Walks every unit with [`Cursor`] and gimli's `EntriesRaw` side by side and
/// checks that both see the same DIEs and the same values of the attributes `used`
/// names, every third DIE (from the `phase`-th) skipped whole. Returns the number of
/// values compared.
fn compare(dwarf: &gimli::Dwarf<R<'_>>, used: fn(DwAt) -> bool, phase: usize) -> usize {
    let mut seen = 0;
    let mut units = dwarf.units();
    while let Some(header) = units.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        let mut raw = unit.entries_raw(None).unwrap();
        let mut abbrevs = Abbrevs::new(&unit.abbreviations, unit.encoding(), used);
        let mut cursor = Cursor::new(&unit).unwrap();
        let mut n = 0;
        while !raw.is_empty() {
            let at = cursor.offset();
            assert_eq!(at, raw.next_offset().0);
            let code = cursor.code().unwrap();
            let Some(expected) = raw.read_abbreviation().unwrap() else {
                assert_eq!(code, 0);
                continue;
            };
            let abbrev = abbrevs.get(code).unwrap();
            assert_eq!(abbrev.tag, expected.tag());
            assert_eq!(abbrev.children, expected.has_children());
            n += 1;
            if n % 3 == phase {
                cursor.skip(abbrev).unwrap();
                raw.skip_attributes(expected.attributes()).unwrap();
                continue;
            }
            let mut specs = expected.attributes().iter();
            cursor
                .read(abbrev, |name, value| {
                    // gimli reads every attribute; the cursor hands over used ones.
                    let (spec, want) = loop {
                        let spec = specs.next().unwrap();
                        let want = raw.read_attribute(*spec).unwrap();
                        if used(spec.name()) {
                            break (spec, want);
                        }
                    };
                    assert_eq!(name, want.name());
                    // gimli reads a DWARF 2/3 data4/data8 location as a section
                    // offset; the converter wants the constant.
                    let want = match (spec.form(), want.raw_value()) {
                        (dw::DW_FORM_data4, AttributeValue::SecOffset(o)) => {
                            AttributeValue::Data4(o as u32)
                        }
                        (dw::DW_FORM_data8, AttributeValue::SecOffset(o)) => {
                            AttributeValue::Data8(o as u64)
                        }
                        (_, v) => v,
                    };
                    assert_eq!(value, want, "{name} in the DIE at {at:#x}");
                    seen += 1;
                    Ok(())
                })
                .unwrap();
            for spec in specs {
                raw.read_attribute(*spec).unwrap();
            }
        }
        assert!(cursor.is_empty());
    }
    seen
}

#[test]
fn agrees_with_gimli_on_the_demo_object() {
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo.o")).unwrap();
    let input = crate::dwarf::elf::ElfInput::parse(&data).unwrap();
    let dwarf = gimli::Dwarf::load(|id| {
        Ok::<_, gimli::Error>(EndianSlice::new(input.section(id), input.endian))
    })
    .unwrap();
    assert!(compare(&dwarf, all, 0) > 100);
    assert!(compare(&dwarf, some, 1) > 20);
}

fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// One unit whose single DIE carries every form, and its abbreviation table.
fn every_form_unit(version: u16, big: bool) -> (Vec<u8>, Vec<u8>) {
    let put = |out: &mut Vec<u8>, v: u64, n: usize| {
        let b = v.to_le_bytes();
        if big {
            out.extend(b[..n].iter().rev());
        } else {
            out.extend(&b[..n]);
        }
    };
    // (form, value bytes); attribute names are arbitrary user attributes.
    let mut forms: Vec<(DwForm, Vec<u8>)> = Vec::new();
    let mut v = |form: DwForm, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = Vec::new();
        f(&mut b);
        forms.push((form, b));
    };
    v(dw::DW_FORM_addr, &|b| put(b, 0x1122_3344_5566_7788, 8));
    v(dw::DW_FORM_block2, &|b| {
        put(b, 3, 2);
        b.extend([1, 2, 3]);
    });
    v(dw::DW_FORM_block4, &|b| {
        put(b, 2, 4);
        b.extend([4, 5]);
    });
    v(dw::DW_FORM_data2, &|b| put(b, 0xbeef, 2));
    v(dw::DW_FORM_data4, &|b| put(b, 0xdead_beef, 4));
    v(dw::DW_FORM_data8, &|b| put(b, 0x0102_0304_0506_0708, 8));
    v(dw::DW_FORM_string, &|b| b.extend(b"inline\0"));
    v(dw::DW_FORM_block, &|b| b.extend([2, 9, 9]));
    v(dw::DW_FORM_block1, &|b| b.extend([1, 7]));
    v(dw::DW_FORM_data1, &|b| b.push(0xab));
    v(dw::DW_FORM_flag, &|b| b.push(1));
    v(dw::DW_FORM_sdata, &|b| b.extend([0x80, 0x7f])); // -128
    v(dw::DW_FORM_strp, &|b| put(b, 0x10, 4));
    v(dw::DW_FORM_udata, &|b| b.extend([0xe5, 0x8e, 0x26])); // 624485
    v(dw::DW_FORM_ref_addr, &|b| {
        put(b, 0x20, if version == 2 { 8 } else { 4 })
    });
    v(dw::DW_FORM_ref1, &|b| b.push(0x0b));
    v(dw::DW_FORM_ref2, &|b| put(b, 0x0c, 2));
    v(dw::DW_FORM_ref4, &|b| put(b, 0x0d, 4));
    v(dw::DW_FORM_ref8, &|b| put(b, 0x0e, 8));
    v(dw::DW_FORM_ref_udata, &|b| b.push(0x0f));
    v(dw::DW_FORM_indirect, &|b| {
        b.push(dw::DW_FORM_data2.0 as u8);
        put(b, 0x1234, 2);
    });
    if version >= 4 {
        v(dw::DW_FORM_sec_offset, &|b| put(b, 0x44, 4));
        v(dw::DW_FORM_exprloc, &|b| b.extend([2, 0x23, 8]));
        v(dw::DW_FORM_flag_present, &|_| {});
        v(dw::DW_FORM_ref_sig8, &|b| put(b, 0x99, 8));
    }
    if version >= 5 {
        v(dw::DW_FORM_strx, &|b| b.push(3));
        v(dw::DW_FORM_addrx, &|b| b.push(4));
        v(dw::DW_FORM_ref_sup4, &|b| put(b, 0x55, 4));
        v(dw::DW_FORM_strp_sup, &|b| put(b, 0x56, 4));
        v(dw::DW_FORM_data16, &|b| b.extend(1..=16u8));
        v(dw::DW_FORM_line_strp, &|b| put(b, 0x57, 4));
        v(dw::DW_FORM_implicit_const, &|_| {});
        v(dw::DW_FORM_loclistx, &|b| b.push(5));
        v(dw::DW_FORM_rnglistx, &|b| b.push(6));
        v(dw::DW_FORM_ref_sup8, &|b| put(b, 0x58, 8));
        for f in [dw::DW_FORM_strx1, dw::DW_FORM_addrx1] {
            v(f, &|b| b.push(7));
        }
        for f in [dw::DW_FORM_strx2, dw::DW_FORM_addrx2] {
            v(f, &|b| put(b, 0x0708, 2));
        }
        for f in [dw::DW_FORM_strx3, dw::DW_FORM_addrx3] {
            v(f, &|b| put(b, 0x07_0809, 3));
        }
        for f in [dw::DW_FORM_strx4, dw::DW_FORM_addrx4] {
            v(f, &|b| put(b, 0x0708_090a, 4));
        }
    }
    v(dw::DW_FORM_GNU_addr_index, &|b| b.push(8));
    v(dw::DW_FORM_GNU_str_index, &|b| b.push(9));
    v(dw::DW_FORM_GNU_ref_alt, &|b| put(b, 0x59, 4));
    v(dw::DW_FORM_GNU_strp_alt, &|b| put(b, 0x5a, 4));

    let mut abbrev = Vec::new();
    uleb(&mut abbrev, 1);
    uleb(&mut abbrev, dw::DW_TAG_compile_unit.0 as u64);
    abbrev.push(1); // children: the base type below
    for (i, (form, _)) in forms.iter().enumerate() {
        uleb(&mut abbrev, 0x2000 + i as u64);
        uleb(&mut abbrev, form.0 as u64);
        if *form == dw::DW_FORM_implicit_const {
            abbrev.extend([0x7e]); // -2
        }
    }
    abbrev.extend([0, 0]);
    // A childless DIE with only fixed-size forms, skipped in one step.
    uleb(&mut abbrev, 2);
    uleb(&mut abbrev, dw::DW_TAG_base_type.0 as u64);
    abbrev.push(0);
    for (at, form) in [
        (dw::DW_AT_byte_size, dw::DW_FORM_data1),
        (dw::DW_AT_name, dw::DW_FORM_strp),
    ] {
        uleb(&mut abbrev, at.0 as u64);
        uleb(&mut abbrev, form.0 as u64);
    }
    abbrev.extend([0, 0, 0]);

    let mut dies = Vec::new();
    dies.push(1);
    for (_, bytes) in &forms {
        dies.extend(bytes);
    }
    dies.push(2);
    dies.push(4);
    put(&mut dies, 0x30, 4);
    dies.push(0); // end of the unit's children

    let mut info = Vec::new();
    let header_rest = if version >= 5 {
        2 + 1 + 1 + 4
    } else {
        2 + 4 + 1
    };
    put(&mut info, (header_rest + dies.len()) as u64, 4);
    put(&mut info, version as u64, 2);
    if version >= 5 {
        info.push(1); // DW_UT_compile
        info.push(8);
        put(&mut info, 0, 4);
    } else {
        put(&mut info, 0, 4);
        info.push(8);
    }
    info.extend(dies);
    (info, abbrev)
}

#[test]
fn agrees_with_gimli_on_every_form() {
    for version in [2, 4, 5] {
        for big in [false, true] {
            let (info, abbrev) = every_form_unit(version, big);
            let endian = if big {
                RunTimeEndian::Big
            } else {
                RunTimeEndian::Little
            };
            let dwarf = gimli::Dwarf {
                debug_info: DebugInfo::new(&info, endian),
                debug_abbrev: DebugAbbrev::new(&abbrev, endian),
                ..Default::default()
            };
            assert!(
                compare(&dwarf, all, 0) > 20,
                "version {version}, big endian {big}"
            );
            // The DIE with every form skipped whole, then read with runs skipped.
            compare(&dwarf, some, 1);
            compare(&dwarf, some, 0);
        }
    }
}

#[test]
fn truncated_unit_is_an_error_not_a_panic() {
    let (info, abbrev) = every_form_unit(5, false);
    let walk = |info: &[u8]| -> (Result<(), EncodeError>, Vec<usize>) {
        let dwarf = gimli::Dwarf {
            debug_info: DebugInfo::new(info, RunTimeEndian::Little),
            debug_abbrev: DebugAbbrev::new(&abbrev, RunTimeEndian::Little),
            ..Default::default()
        };
        let header = dwarf.units().next().unwrap().unwrap();
        // gimli reads the root DIE itself and refuses it when it is cut.
        let Ok(unit) = dwarf.unit(header) else {
            return (Err(eof(0)), Vec::new());
        };
        let mut abbrevs = Abbrevs::new(&unit.abbreviations, unit.encoding(), all);
        let mut cursor = Cursor::new(&unit).unwrap();
        let mut ends = Vec::new();
        while !cursor.is_empty() {
            let step = cursor.code().and_then(|code| match code {
                0 => Ok(()),
                c => {
                    let a = abbrevs.get(c)?;
                    cursor.read(a, |_, _| Ok(()))
                }
            });
            if step.is_err() {
                return (step, ends);
            }
            ends.push(cursor.offset());
        }
        (Ok(()), ends)
    };
    let (whole, ends) = walk(&info);
    assert!(whole.is_ok());
    for cut in 12..info.len() {
        let mut short = info[..cut].to_vec();
        // Keep the header's length consistent with what is left.
        short[..4].copy_from_slice(&((cut - 4) as u32).to_le_bytes());
        let (result, _) = walk(&short);
        // Only a cut between two DIEs leaves a well-formed (shorter) unit.
        assert_eq!(result.is_ok(), ends.contains(&cut), "cut at {cut}");
    }
}
