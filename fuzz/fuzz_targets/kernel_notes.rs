//! The running kernel's ELF notes (`/sys/kernel/notes`) and build-ids given as hex, as
//! corepack's selection reads them: `notes::gnu_build_id` on the bytes, and
//! `notes::from_hex` on them as text.
#![no_main]

use corepack::notes::{from_hex, gnu_build_id, to_hex, MAX_BUILD_ID};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(id)) = gnu_build_id(data) {
        assert!((1..=MAX_BUILD_ID).contains(&id.len()));
    }
    if let Ok(id) = from_hex(&String::from_utf8_lossy(data)) {
        assert_eq!(from_hex(&to_hex(&id)).unwrap(), id);
    }
});
