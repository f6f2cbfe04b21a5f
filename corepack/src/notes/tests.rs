use super::*;

/// One note in this machine's byte order: header, name and descriptor padded to 4.
fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
    let mut n = Vec::new();
    n.extend_from_slice(&(name.len() as u32).to_ne_bytes());
    n.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
    n.extend_from_slice(&kind.to_ne_bytes());
    for part in [name, desc] {
        n.extend_from_slice(part);
        n.resize(n.len().next_multiple_of(4), 0);
    }
    n
}

const ID: [u8; 20] = [
    0x7d, 0xd4, 0xff, 0x07, 0x89, 0xe0, 0x5e, 0x14, 0x28, 0x53, 0x20, 0x12, 0x91, 0x49, 0xda, 0x25,
    0x55, 0xca, 0x0b, 0xfc,
];

/// What [`gnu_build_id`] returns.
type Found = Result<Option<Vec<u8>>, NoteError>;

#[test]
fn build_ids_are_found_among_other_notes_and_hostile_notes_refused() {
    let build_id = note(b"GNU\0", 3, &ID);
    let xen = note(b"Xen\0", 18, &[0, 0x8f, 0x78, 3, 0, 0, 0, 0]);
    let linux = note(b"Linux\0", 0x100, b"6.1.102\0");
    // A GNU note of another type (NT_GNU_ABI_TAG) is not a build-id.
    let abi_tag = note(b"GNU\0", 1, &[0; 16]);
    let cat = |parts: &[&[u8]]| parts.concat();
    let mut cut_header = build_id.clone();
    cut_header.truncate(8);
    let mut huge_desc = build_id.clone();
    huge_desc[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    let mut huge_name = build_id.clone();
    huge_name[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
    let trailing = cat(&[&build_id, &[0, 0, 0]]);
    let cases: Vec<(&str, Vec<u8>, Found)> = vec![
        ("empty", vec![], Ok(None)),
        ("build-id alone", build_id.clone(), Ok(Some(ID.to_vec()))),
        (
            "build-id between others, as the kernel has it",
            cat(&[&linux, &build_id, &xen]),
            Ok(Some(ID.to_vec())),
        ),
        ("no build-id", cat(&[&linux, &xen, &abi_tag]), Ok(None)),
        (
            "a 16-byte (uuid) build-id",
            note(b"GNU\0", 3, &ID[..16]),
            Ok(Some(ID[..16].to_vec())),
        ),
        (
            "cut header",
            cut_header,
            Err(NoteError::Truncated { offset: 0, len: 8 }),
        ),
        (
            "descriptor past the end",
            huge_desc,
            Err(NoteError::Truncated { offset: 0, len: 36 }),
        ),
        (
            "name past the end",
            huge_name,
            Err(NoteError::Truncated { offset: 0, len: 36 }),
        ),
        (
            "trailing bytes",
            trailing,
            Err(NoteError::Truncated {
                offset: 36,
                len: 39,
            }),
        ),
        (
            "empty build-id",
            note(b"GNU\0", 3, &[]),
            Err(NoteError::BadLength { offset: 0, len: 0 }),
        ),
        (
            "oversized build-id",
            note(b"GNU\0", 3, &[1; 65]),
            Err(NoteError::BadLength { offset: 0, len: 65 }),
        ),
        (
            "two build-ids",
            cat(&[&build_id, &xen, &build_id]),
            Err(NoteError::Duplicate {
                first: 0,
                second: 60,
            }),
        ),
        (
            "too large",
            vec![0; MAX_NOTES + 1],
            Err(NoteError::TooLarge),
        ),
    ];
    for (case, notes, want) in cases {
        assert_eq!(gnu_build_id(&notes), want, "{case}");
    }
}

#[test]
fn hex_round_trips_and_bad_hex_is_refused() {
    assert_eq!(to_hex(&ID), "7dd4ff0789e05e14285320129149da2555ca0bfc");
    assert_eq!(to_hex(&[0x00, 0xab, 0x0f]), "00ab0f");
    for (text, want) in [
        ("00ab0f", Some(vec![0x00, 0xab, 0x0f])),
        (" 00AB0F\n", Some(vec![0x00, 0xab, 0x0f])),
        ("", None),
        ("abc", None),
        ("+f", None),
        ("zz", None),
        ("é0", None),
        (&"ab".repeat(65), None),
    ] {
        assert_eq!(from_hex(text).ok(), want, "{text:?}");
    }
    assert_eq!(from_hex(&to_hex(&ID)).unwrap(), ID);
    assert_eq!(
        from_hex("\u{1b}[2J").unwrap_err().to_string(),
        "not a build-id (2 to 128 hex digits): \\u{1b}[2J"
    );
}

#[test]
fn the_running_kernels_notes_have_a_20_byte_gnu_build_id() {
    // /sys/kernel/notes is a regular sysfs file (not a device): reading it is safe.
    let id = read_build_id(Path::new(KERNEL_NOTES))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("{KERNEL_NOTES} has no GNU build-id note"));
    assert_eq!(id.len(), 20, "{}", to_hex(&id));
}
