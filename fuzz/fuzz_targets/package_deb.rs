//! A .deb/.ddeb: the ar container, `data.tar[.COMP]`, `control.tar`'s md5sums and the tar members.
//! Decompression is capped at 16 MiB, the vmlinux goes to an anonymous temporary file.
#![no_main]

use std::io::Cursor;

use btfgen::package::{extract_vmlinux, Options, PackageFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        tmpdir: None,
        max_bytes: 16 << 20,
    };
    let _ = extract_vmlinux(Cursor::new(data), PackageFormat::Deb, "fuzz.deb", &opts);
});
