//! Kernel modules out of a debuginfo package (`--modules`), encoded as split BTF on the
//! vmlinux BTF just encoded, and written in the layout beside it
//! (`<uname -r>/modules/<module>.btf`, [`btfgen::btf::modules_dir`]). Shared by
//! `btfgen PACKAGE` and `btfgen fetch`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use btfgen::btf::{Btf, Kind};
use btfgen::dwarf;
use btfgen::package::Module;
use btfgen::text::escape;

use super::output::write_atomic;

/// `--modules LIST`: comma-separated names or globs, each kept.
pub(super) fn patterns(list: &[String]) -> Vec<String> {
    list.iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Each module's split BTF on `base` (the vmlinux's, as written beside them), by name.
/// `opts` are the vmlinux's encoding options; `package` names the package in errors.
///
/// kfunc tags: a kernel that marks its kfunc sets (`BTF_SET8_KFUNCS`, which pahole and
/// the encoder look for) has kfuncs in its vmlinux too, so when `base`, encoded from the
/// same package with the same features, has no `bpf_kfunc` tag, no module of it has
/// one either, and the modules are encoded without looking: an RPM's `NAME.ko.debug`
/// keeps `.BTF_ids`' symbols but not its bytes (dwarf::EncodeError::DebugOnlyKfuncs).
pub(super) fn encode(
    base: Arc<Btf>,
    modules: &[Module],
    opts: &dwarf::Options,
    package: &str,
) -> anyhow::Result<Vec<(String, Btf)>> {
    let mut features = opts.features;
    features.decl_tag_kfuncs &= has_kfunc_tags(&base);
    let opts = dwarf::Options {
        base: Some(base),
        progress: false,
        features,
        ..opts.clone()
    };
    modules
        .iter()
        .map(|m| {
            let enc = dwarf::encode(m.bytes(), &opts)
                .with_context(|| format!("{}: module {}", escape(package), escape(&m.member)))?;
            Ok((m.name.clone(), enc.btf))
        })
        .collect()
}

/// Whether `btf` tags some function `bpf_kfunc`.
fn has_kfunc_tags(btf: &Btf) -> bool {
    btf.iter().any(|(_, t)| {
        matches!(t.kind, Kind::DeclTag { .. }) && btf.name_bytes(t.name) == Some(b"bpf_kfunc")
    })
}

/// Where the modules of the kernel whose BTF goes to `kernel` are written: refused
/// when its name is not `<uname -r>.btf` (or another kernel BTF name).
pub(super) fn dir_for(kernel: &Path) -> anyhow::Result<PathBuf> {
    btfgen::btf::modules_dir(kernel).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: with --modules, -o must be a file named <uname -r>.btf (the modules go to <uname -r>/modules/<module>.btf beside it)",
            kernel.display()
        )
    })
}

/// Writes each module's raw split BTF to `dir/<module>.btf`, atomically.
pub(super) fn write(dir: &Path, modules: &[(String, Btf)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    for (name, btf) in modules {
        write_atomic(&dir.join(format!("{name}.btf")), &btf.to_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfunc_tags_are_decl_tags_named_bpf_kfunc() {
        use btfgen::btf::Type;
        let mut btf = Btf::new();
        let name = btf.add_str("bpf_kfunc");
        let tag = |name| Type {
            name,
            kind: Kind::DeclTag {
                ty: 1,
                component: -1,
            },
        };
        let other = btf.add_str("other");
        btf.add(tag(other));
        // A FUNC named bpf_kfunc is no tag.
        btf.add(Type {
            name,
            kind: Kind::Func {
                proto: 0,
                linkage: 0,
            },
        });
        assert!(!has_kfunc_tags(&btf));
        btf.add(tag(name));
        assert!(has_kfunc_tags(&btf));
    }

    #[test]
    fn patterns_are_split_on_commas() {
        let got = patterns(&["nf_conntrack, overlay".into(), "nf_*,".into()]);
        assert_eq!(got, ["nf_conntrack", "overlay", "nf_*"]);
    }

    #[test]
    fn the_modules_dir_needs_a_kernel_name() {
        assert_eq!(
            dir_for(Path::new("o/6.1.0-9-amd64.btf")).unwrap(),
            Path::new("o/6.1.0-9-amd64/modules")
        );
        let e = dir_for(Path::new("o/vmlinux.raw")).unwrap_err();
        assert!(
            e.to_string().starts_with("o/vmlinux.raw: with --modules"),
            "{e}"
        );
    }
}
