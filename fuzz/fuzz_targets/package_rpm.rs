//! An RPM: lead, signature and header, then the compressed cpio payload and its members.
//! Decompression is capped at 16 MiB, the vmlinux goes to an anonymous temporary file.
#![no_main]

use std::io::Cursor;

use btfgen::package::{extract_vmlinux, Options, PackageFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        tmpdir: None,
        max_bytes: 16 << 20,
        modules: Vec::new(),
    };
    let _ = extract_vmlinux(Cursor::new(data), PackageFormat::Rpm, "fuzz.rpm", &opts);
});
