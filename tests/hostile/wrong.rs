//! Silently wrong output (issue #13, class 4): an input that cannot be read as it says
//! is refused, never turned into wrong BTF; an input that is merely incomplete gets a
//! warning. Relocation sections of an object that disagree with the file about their
//! symbol table or their target section (the `object` crate passes over them, which
//! left every name wrong with exit 0); a .deb whose md5sums lacks the vmlinux, or has
//! none, or has another digest of it.

use std::ffi::OsStr;
use std::fs;

use btfgen_tests::{btfgen, fixtures_dir};
use object::{Object, ObjectSection};

use super::{deb_with_control, Inputs};

/// fixtures/demo.o with one field (4 bytes at `field`, little-endian) of the section
/// header of `section` set to `value`; also the indices of `section`, `.symtab` and
/// `.debug_info`.
fn patched_demo(section: &str, field: usize, value: u32) -> (Vec<u8>, [usize; 3]) {
    let mut data = fs::read(fixtures_dir().join("demo.o")).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let index = |name: &str| file.section_by_name(name).unwrap().index().0;
    let idx = [index(section), index(".symtab"), index(".debug_info")];
    // ELF64 little-endian: e_shoff at 0x28, e_shentsize at 0x3a.
    let shoff = u64::from_le_bytes(data[0x28..0x30].try_into().unwrap()) as usize;
    let shentsize = u16::from_le_bytes(data[0x3a..0x3c].try_into().unwrap()) as usize;
    let at = shoff + idx[0] * shentsize + field;
    data[at..at + 4].copy_from_slice(&value.to_le_bytes());
    (data, idx)
}

/// `sh_link` and `sh_info` in an `Elf64_Shdr`.
const SH_LINK: usize = 40;
const SH_INFO: usize = 44;

#[test]
fn relocations_that_cannot_be_applied_are_refused() {
    let inp = Inputs::new();
    let strtab = {
        let data = fs::read(fixtures_dir().join("demo.o")).unwrap();
        let file = object::File::parse(&*data).unwrap();
        file.section_by_name(".strtab").unwrap().index().0 as u32
    };
    // sh_link naming the string table, then no section at all: pahole (libdwfl) takes
    // the file's one symbol table and gets the names right; btfgen encoded every name
    // as the string at offset 0 ("migrating"), exit 0.
    for link in [strtab, 0] {
        let (data, [_, symtab, _]) = patched_demo(".rela.debug_info", SH_LINK, link);
        let (p, out) = inp.put("link.o", &data);
        let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        assert_eq!(o.status.code(), Some(1), "sh_link {link}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!(
                "btfgen: error: {}: bad ELF file: .rela.debug_info: sh_link is section {link}, not the symbol table (section {symtab}); its relocations cannot be applied\n",
                p.display()
            )
        );
        assert!(!out.exists(), "sh_link {link}: wrote output");
    }
    // sh_info pointing at .text: .debug_info would go unrelocated.
    let (data, [_, _, info]) = patched_demo(".rela.debug_info", SH_INFO, 1);
    let (p, out) = inp.put("info.o", &data);
    let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "btfgen: error: {}: bad ELF file: .rela.debug_info: sh_info is section 1, not .debug_info (section {info}); its relocations cannot be applied\n",
            p.display()
        )
    );
    assert!(!out.exists());
}

#[test]
fn deb_without_a_digest_of_its_vmlinux_warns() {
    let inp = Inputs::new();
    let elf = fs::read(fixtures_dir().join("demo.o")).unwrap();
    let vmlinux = "./usr/lib/debug/boot/vmlinux-6.1.0-1-amd64";
    // What the package's vmlinux encodes to, from the file itself.
    let direct = inp.path("direct.btf");
    let o = btfgen([
        fixtures_dir().join("demo.o").as_os_str(),
        "-o".as_ref(),
        direct.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let direct = fs::read(direct).unwrap();

    let other = b"d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/README\n";
    let missing = "md5sums lists no digest of usr/lib/debug/boot/vmlinux-6.1.0-1-amd64: the vmlinux is not checked";
    let md5sums: &[(&str, u8, &[u8])] = &[("./md5sums", b'0', other)];
    let cases = [
        ("md5sums without the vmlinux", md5sums, missing),
        (
            "no md5sums",
            &[][..],
            "control.tar has no md5sums: the vmlinux is not checked",
        ),
    ];
    for (what, control, warning) in cases {
        let pkg = deb_with_control(control, &[(vmlinux, b'0', &elf)]);
        let (p, out) = inp.put("k.deb", &pkg);
        let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!("btfgen: warning: {}: {warning}\n", p.display()),
            "{what}"
        );
        // Incomplete, not wrong: the BTF is the vmlinux's.
        assert_eq!(fs::read(&out).unwrap(), direct, "{what}");
    }

    // A digest that differs is an error (md5 of the empty string, not of demo.o).
    let empty_md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sums = format!("{empty_md5}  {}\n", &vmlinux[2..]);
    let pkg = deb_with_control(
        &[("./md5sums", b'0', sums.as_bytes())],
        &[(vmlinux, b'0', &elf)],
    );
    let (p, out) = inp.put("bad.deb", &pkg);
    let o = btfgen([OsStr::new(&p), "-o".as_ref(), out.as_os_str()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("btfgen: error: {}: ", p.display()))
            && err.contains(&format!("expected {empty_md5}")),
        "{err}"
    );
    assert!(!out.exists());
}
