//! A BPF ELF object (`.BTF`, `.BTF.ext`, programs) and the CO-RE engine on it: every
//! relocation resolved against the object's own BTF (a small target that has every
//! type the relocations name), then minimized against it as `btfgen min` does.
#![no_main]

use btfgen::bpf::BpfObject;
use btfgen::min::minimize;
use btfgen::relo::resolve_object;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = BpfObject::parse(data) else {
        return;
    };
    for o in resolve_object(&obj, &obj.btf) {
        let _ = o.failure(&obj.btf);
        let _ = o.c_path(&obj.btf);
    }
    let _ = minimize(&obj.btf, std::slice::from_ref(&obj));
});
