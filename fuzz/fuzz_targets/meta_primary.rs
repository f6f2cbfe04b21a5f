//! yum `primary.xml`, keeping every package.
#![no_main]

use btfgen::fetch::parse_primary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_primary(data, "primary.xml", |_| true);
});
