//! A .deb/.ddeb: the ar container, `data.tar[.COMP]`, `control.tar`'s md5sums and the tar members.
//! Decompression is capped at 16 MiB, the vmlinux goes to an anonymous temporary file.
//! An input of odd length also asks for every kernel module (`--modules '*'`), so that
//! the module members are read and checked too.
#![no_main]

use std::io::Cursor;

use btfgen::package::{extract_vmlinux, Options, PackageFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let modules = match data.len() % 2 {
        1 => vec!["*".to_string()],
        _ => Vec::new(),
    };
    let opts = Options {
        tmpdir: None,
        max_bytes: 16 << 20,
        modules,
    };
    let _ = extract_vmlinux(Cursor::new(data), PackageFormat::Deb, "fuzz.deb", &opts);
});
