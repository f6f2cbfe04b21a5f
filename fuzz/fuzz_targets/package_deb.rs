//! A .deb/.ddeb: the ar container, `data.tar[.COMP]`, `control.tar`'s md5sums and the tar members.
//! Decompression is capped at 16 MiB, the vmlinux goes to an anonymous temporary file.
//! Each input is read twice: for the vmlinux alone, and with every kernel module asked
//! for (`--modules '*'`), so that the module members are read and checked too.
#![no_main]

use std::io::Cursor;

use btfgen::package::{extract_vmlinux, Options, PackageFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for modules in [Vec::new(), vec!["*".to_string()]] {
        let opts = Options {
            tmpdir: None,
            max_bytes: 16 << 20,
            modules,
        };
        let _ = extract_vmlinux(Cursor::new(data), PackageFormat::Deb, "fuzz.deb", &opts);
    }
});
