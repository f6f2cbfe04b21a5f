//! Debian's real kernel as the oracle: the newest linux-image-6.1.0-N-cloud-amd64-dbg
//! (fetched with `apt-get download` into the cache by scripts/debian-kernel.sh) carries
//! the `.BTF` Debian's build made with pahole, in the vmlinux and in every module.
//!
//! These tests encode the real vmlinux and a real module and compare; also the newest
//! 6.12 cloud kernel Debian 12 ships. They need the
//! release binary for speed (run with `cargo test --release`).

use std::path::{Path, PathBuf};

use btfgen_tests::compare::Comparison;
use btfgen_tests::kernel::load_btf_into_kernel;
use btfgen_tests::{btfgen_ok, read_canon, Work};

/// Directory with `vmlinux` and `nf_conntrack.ko` of Debian's kernel.
fn debian_kernel() -> PathBuf {
    btfgen_tests::debian_kernel("cloud-amd64")
}

/// Our BTF of Debian's vmlinux, encoded once per test run.
fn our_vmlinux_btf(work: &Work) -> PathBuf {
    let out = work.path("vmlinux.btf");
    btfgen_ok(&debian_kernel().join("vmlinux"), &out, &["-j2"]);
    out
}

/// Encodes `vmlinux` and compares with the `.BTF` Debian's build embedded in it: no type
/// differences, FUNC names within 2% either way, VARs equal but for fixed_percpu_data.
fn assert_matches_embedded_btf(vmlinux: &Path, ours: &Path) {
    let e = read_canon(vmlinux, None).expect("Debian's .BTF");
    let a = read_canon(ours, None).expect("our BTF");
    let c = Comparison::new("Debian .BTF", &e, "btfgen", &a);
    eprintln!("{c}");
    assert_eq!(c.type_differences(), 0, "{c}");
    // FUNCs: Debian 12 built these kernels with an older pahole, whose function rules
    // are not btfgen's (pahole 1.30's, checked exactly in tests/pahole130.rs): it kept
    // functions whose prototypes differ between units or whose parameters sit in
    // unexpected registers (0.2–0.3% of them), and lacked those whose only symbols are
    // compiler clones (`.isra`, `.constprop`; 1.2–1.3%).
    let (deb, ours_f) = &c.func_names;
    let bound = deb.len() / 50;
    assert!(deb.difference(ours_f).count() <= bound, "{c}");
    assert!(ours_f.difference(deb).count() <= bound, "{c}");
    // VARs: Debian's set, plus fixed_percpu_data at offset 0, which pahole < 1.28
    // dropped with every address-0 variable and pahole >= 1.28 keeps.
    let (dv, ov) = &c.vars;
    assert!(dv.is_subset(ov), "{c}");
    let extra: Vec<_> = ov.difference(dv).collect();
    assert!(
        extra
            .iter()
            .all(|v| v.starts_with("VAR 'fixed_percpu_data'")),
        "{c}"
    );
}

#[test]
fn vmlinux_matches_debians_embedded_btf() {
    let work = Work::new();
    let ours = our_vmlinux_btf(&work);
    assert_matches_embedded_btf(&debian_kernel().join("vmlinux"), &ours);
}

/// Debian 12 also ships 6.12 kernels (backports built with the same pahole): a newer
/// kernel's shapes, the same oracle.
#[test]
fn vmlinux_6_12_matches_debians_embedded_btf() {
    let work = Work::new();
    let vmlinux = btfgen_tests::debian_kernel_series("6.12", "cloud-amd64").join("vmlinux");
    let ours = work.path("vmlinux-6.12.btf");
    btfgen_ok(&vmlinux, &ours, &["-j2"]);
    assert_matches_embedded_btf(&vmlinux, &ours);
}

/// `--format elf` of the vmlinux carries its GNU build-id (from its `.notes`) in a
/// `.note.gnu.build-id` note: `readelf -n` reads the same in both, and bpftool (libbpf)
/// reads the ELF's BTF.
#[test]
fn vmlinux_elf_output_carries_its_build_id() {
    let work = Work::new();
    let vmlinux = debian_kernel().join("vmlinux");
    let elf = work.path("vmlinux.elf");
    btfgen_ok(&vmlinux, &elf, &["-j2", "--format", "elf"]);
    let want = btfgen_tests::readelf_build_id(&vmlinux).expect("Debian's vmlinux has a build-id");
    assert_eq!(want.len(), 40, "{want}");
    assert_eq!(btfgen_tests::readelf_build_id(&elf), Some(want));
    btfgen_tests::bpftool_dump(&elf).expect("bpftool reads the ELF's BTF");
}

#[test]
fn vmlinux_btf_loads_into_the_kernel_and_is_deterministic() {
    let work = Work::new();
    let ours = our_vmlinux_btf(&work);
    let bytes = std::fs::read(&ours).expect("read our BTF");
    if let Err(log) = load_btf_into_kernel(&bytes) {
        panic!("kernel rejected our vmlinux BTF:\n{log}");
    }
    let j1 = work.path("j1.btf");
    btfgen_ok(&debian_kernel().join("vmlinux"), &j1, &["-j1"]);
    assert!(
        std::fs::read(&j1).expect("read -j1 output") == bytes,
        "-j1 and -j2 outputs differ"
    );
}

#[test]
fn module_on_our_vmlinux_matches_debians_module_btf() {
    let work = Work::new();
    let ours = our_vmlinux_btf(&work);
    let dir = debian_kernel();
    let module = dir.join("nf_conntrack.ko");
    let out = work.path("nf_conntrack.btf");
    btfgen_ok(
        &module,
        &out,
        &["--base", ours.to_str().expect("utf-8 path")],
    );
    let e = read_canon(&module, Some(&dir.join("vmlinux"))).expect("Debian's module .BTF");
    let a = read_canon(&out, Some(&ours)).expect("our module BTF");
    let c = Comparison::new("Debian module .BTF", &e, "btfgen --base", &a);
    eprintln!("{c}");
    assert_eq!(c.type_differences(), 0, "{c}");
    // Every function Debian's pahole 1.24 encoded, and those whose only symbols are
    // clones, which it did not look for.
    assert!(c.func_names.0.is_subset(&c.func_names.1), "{c}");
}
