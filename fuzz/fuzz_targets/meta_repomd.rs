//! yum `repomd.xml`.
#![no_main]

use btfgen::fetch::parse_repomd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_repomd(data, "repomd.xml");
});
