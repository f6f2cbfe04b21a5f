//! BTF as a file gives it: raw (either byte order), the `.BTF` section of an ELF
//! file, or either in an archive (BTFHub's `.btf.tar.xz`, other tar compressions,
//! compressed raw BTF: the seeds have each). What parses is written back, read again,
//! deduplicated and dumped in every format (the walks `btfgen dump` and `btfgen min`
//! make over a hostile graph).
#![no_main]

use btfgen::btf::{dedup, Btf};
use btfgen::dump;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = Btf::from_any_bytes(data, None) else {
        return;
    };
    let again = Btf::from_bytes(&btf.to_bytes()).expect("written BTF reads back");
    assert_eq!(again.types(), btf.types());
    let mut out = String::new();
    let _ = dump::dump_text(&btf, None, &mut out);
    let _ = dump::dump_json(&btf, None, &mut out);
    let _ = dump::dump_c(&btf, None, &mut out);
    let _ = dedup(&btf);
});
