//! apt `Packages` indexes (keeping every stanza), and the same bytes as a `Release`
//! file and as an HTML directory listing.
#![no_main]

use btfgen::fetch::{parse_links, parse_packages, parse_release, rpm_from_file_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_packages(data, "Packages", |_| true);
    let text = String::from_utf8_lossy(data);
    let _ = parse_release(&text, "Release");
    for href in parse_links(&text) {
        let _ = rpm_from_file_name(&href);
    }
});
