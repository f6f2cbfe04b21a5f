//! DWARF in an ELF file (any byte order, compressed sections, relocations of a
//! relocatable object) through the encoder, on one thread.
#![no_main]

use btfgen::dwarf::{encode, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        jobs: 1,
        ..Options::default()
    };
    if let Ok(e) = encode(data, &opts) {
        let _ = e.btf.to_bytes();
    }
});
