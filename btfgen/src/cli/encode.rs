//! `btfgen encode FILE -o OUT`; FILE may also be a .deb, .ddeb or .rpm kernel debuginfo
//! package (told by its magic bytes), whose vmlinux is streamed out and encoded.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use btfgen::btf::{self, Btf};
use btfgen::dwarf::{self, Features, Options};
use btfgen::input::{self, Input};
use btfgen::package;
use btfgen::text::{escape, escape_path};
use clap::ValueEnum;

use super::output::prepare;

/// Output container.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Format {
    /// The raw BTF blob (`pahole --btf_encode_detached`).
    Raw,
    /// A minimal ELF file holding only a `.BTF` section.
    Elf,
}

/// Arguments of `btfgen encode`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// ELF file with DWARF (a vmlinux, an object file or a kernel module), or a
    /// .deb, .ddeb or .rpm kernel debuginfo package holding a vmlinux.
    file: PathBuf,
    /// Where to write the BTF (`-`: standard output). A device or FIFO is written
    /// through, a symbolic link's target replaced atomically; never an input.
    #[arg(short, long)]
    output: PathBuf,
    /// Output container.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    format: Format,
    /// Threads (default: one per CPU; 1: no other thread; more than the CPUs or the
    /// compilation units are not started). The output is the same for any value.
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Emit split BTF on this base BTF (raw or ELF), as for kernel modules on vmlinux.
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// With --base and --format elf: write the module's distilled base BTF into a
    /// `.BTF.base` section beside `.BTF` (pahole's `distilled_base`), so that libbpf
    /// can relocate the module onto another build of the same kernel.
    #[arg(long, requires = "base")]
    distill: bool,
    /// pahole's BTF features to apply, comma-separated: `default` (pahole 1.30's,
    /// as kernel builds ask for; the default), `all`, `+LIST` (default and LIST), or
    /// names: encode_force, var, float, decl_tag, type_tag, enum64, optimized_func,
    /// consistent_func, decl_tag_kfuncs, reproducible_build, distilled_base (as
    /// --distill, with --base only). Unknown names are refused.
    #[arg(long, visible_alias = "btf_features", value_name = "LIST")]
    btf_features: Option<String>,
    /// Do not emit FUNC and FUNC_PROTO for functions.
    #[arg(long)]
    no_funcs: bool,
    /// Do not emit VAR and DATASEC for per-CPU variables (feature `var` off).
    #[arg(long, visible_alias = "skip_encoding_btf_vars")]
    no_vars: bool,
    /// Encode floating-point types as INT instead of FLOAT, for kernels before 5.13
    /// (feature `float` off).
    #[arg(long)]
    no_float: bool,
    /// Encode 64-bit enums as ENUM and no enum as signed, for kernels before 6.0
    /// (feature `enum64` off).
    #[arg(long, visible_alias = "skip_encoding_btf_enum64")]
    no_enum64: bool,
    /// Emit no TYPE_TAG, for kernels before 5.17 (feature `type_tag` off).
    #[arg(long, visible_alias = "skip_encoding_btf_type_tag")]
    no_type_tag: bool,
    /// Emit no DECL_TAG, kfunc tags included, for kernels before 5.16 (feature
    /// `decl_tag` off).
    #[arg(long, visible_alias = "skip_encoding_btf_decl_tag")]
    no_decl_tag: bool,
    /// With a package: also encode these kernel modules (comma-separated names or
    /// globs, repeatable; `-` and `_` alike; NAME.ko, an RPM's NAME.ko.debug, or
    /// NAME.ko.xz/.zst/.gz) as split BTF on the vmlinux's, into
    /// `<uname -r>/modules/<module>.btf` beside the output `<uname -r>.btf`.
    #[arg(long, value_name = "LIST")]
    modules: Vec<String>,
    /// Directory for the vmlinux extracted from a package (default: $TMPDIR, else /tmp).
    #[arg(long, value_name = "DIR")]
    tmpdir: Option<PathBuf>,
    /// Print what was encoded.
    #[arg(short, long)]
    verbose: bool,
}

impl Args {
    /// The features asked for: the list (default: pahole 1.30's default set), less
    /// those a `--no-*` switch turns off, whatever the order on the command line.
    fn features(&self) -> anyhow::Result<Features> {
        let mut f = match &self.btf_features {
            Some(list) => {
                Features::parse(list).map_err(|e| anyhow::anyhow!("{}", escape(&e.to_string())))?
            }
            None => Features::default(),
        };
        for (off, feature) in [
            (self.no_vars, &mut f.var),
            (self.no_float, &mut f.float),
            (self.no_enum64, &mut f.enum64),
            (self.no_type_tag, &mut f.type_tag),
            (self.no_decl_tag, &mut f.decl_tag),
        ] {
            *feature &= !off;
        }
        Ok(f)
    }
}

/// Inputs at least this large show a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let features = a.features()?;
    let name = a.file.display();
    // As in pahole, distilled_base applies to split BTF only: without --base it is idle.
    let distill = a.distill || (features.distilled_base && a.base.is_some());
    if distill && matches!(a.format, Format::Raw) {
        anyhow::bail!(
            "--distill (feature distilled_base) writes .BTF.base beside .BTF in an ELF file: add --format elf (raw BTF has no place for a second blob)"
        );
    }
    let module_patterns = super::modules::patterns(&a.modules);
    let modules_dir = match module_patterns.is_empty() {
        true => None,
        false if a.base.is_some() || distill => {
            anyhow::bail!(
                "--modules encodes modules on the package's own vmlinux: drop --base and --distill"
            )
        }
        false => Some(super::modules::dir_for(&a.output)?),
    };
    let inputs: Vec<&PathBuf> = std::iter::once(&a.file).chain(&a.base).collect();
    let target = prepare(&a.output, &inputs)?;
    let mut file = Input::open(&a.file).with_context(|| format!("{name}"))?;
    let head = file.head(8).with_context(|| format!("{name}"))?.to_vec();
    let kind = package::PackageFormat::sniff(&head);
    let elf = head.starts_with(b"\x7fELF");
    let input = match kind {
        Some(kind) => {
            let t = Instant::now();
            let opts = package::Options {
                tmpdir: a.tmpdir.clone(),
                modules: module_patterns.clone(),
                ..Default::default()
            };
            let reader = std::io::BufReader::with_capacity(1 << 20, file.into_reader());
            let v = package::extract_vmlinux(reader, kind, &name.to_string(), &opts)?;
            for why in v
                .unverified
                .iter()
                .chain(v.modules.iter().flat_map(|m| &m.unverified))
            {
                eprintln!("btfgen: warning: {}", escape(&format!("{name}: {why}")));
            }
            if a.verbose {
                eprintln!(
                    "btfgen: {}: {} package, {} payload: vmlinux {} ({} bytes, {}), uname -r {}, extracted in {:.2}s",
                    escape_path(&a.file),
                    kind.name(),
                    v.compression,
                    escape(&v.member),
                    v.size,
                    match v.verified {
                        Some(d) => format!("{d} checked"),
                        None => "no digest in the package".into(),
                    },
                    escape(&v.release),
                    t.elapsed().as_secs_f64()
                );
            }
            Source::Package(v)
        }
        // Raw BTF is told from its first bytes: /sys/kernel/btf/vmlinux cannot be mapped.
        None if btfgen::btf::detect_endian(&head).is_ok() => {
            return Err(dwarf::EncodeError::RawBtf).with_context(|| format!("{name}"));
        }
        None if modules_dir.is_some() => {
            anyhow::bail!("{name}: --modules takes the modules from a debuginfo package (.deb/.ddeb/.rpm); this is not one")
        }
        None => match file.regular() {
            // SAFETY: the map is read-only; a file changed underneath gives wrong output
            // or an error, not memory unsafety beyond what reading a changing file implies.
            Some(f) => {
                Source::Elf(unsafe { memmap2::Mmap::map(f) }.with_context(|| format!("{name}"))?)
            }
            // A stream that is not ELF is refused by the encoder from its first bytes.
            None if !elf => Source::Read(head),
            None => Source::Read(
                file.read_all(input::MAX_ELF_STREAM)
                    .with_context(|| format!("{name}"))?,
            ),
        },
    };
    let map = input.bytes();
    let len = map.len() as u64;
    let base = match &a.base {
        Some(p) => Some(Arc::new(
            Btf::from_file(p).with_context(|| format!("base BTF {}", p.display()))?,
        )),
        None => None,
    };
    let opts = Options {
        jobs: a.jobs.unwrap_or(0),
        funcs: !a.no_funcs,
        features,
        base,
        progress: std::io::stderr().is_terminal() && len >= PROGRESS_MIN_BYTES,
    };
    let enc = match input.map() {
        Some(m) => dwarf::encode_mapped(m, &opts),
        None => dwarf::encode(map, &opts),
    }
    .with_context(|| format!("{name}"))?;
    if enc.had_btf {
        eprintln!(
            "btfgen: {} already has a .BTF section; encoding its DWARF all the same",
            escape_path(&a.file)
        );
    }
    let distilled = match distill {
        true => Some(btf::distill(&enc.btf).with_context(|| format!("{name}"))?),
        false => None,
    };
    let bytes = match (a.format, &distilled) {
        (Format::Raw, _) => Ok(enc.btf.to_bytes()),
        (Format::Elf, None) => enc
            .btf
            .to_elf_with_build_id(enc.arch, enc.build_id.as_deref()),
        (Format::Elf, Some(d)) => d.split.to_elf_with_base(enc.arch, enc.build_id.as_deref()),
    }
    .with_context(|| format!("{}: cannot build ELF", a.output.display()))?;
    if let (Some(dir), Source::Package(v)) = (&modules_dir, &input) {
        // The modules before the vmlinux: a kernel whose BTF is there has its modules.
        let base = Arc::new(enc.btf.clone());
        let t = Instant::now();
        let mods = super::modules::encode(base, &v.modules, &opts, &name.to_string())?;
        super::modules::write(dir, &mods)?;
        if a.verbose {
            for (m, btf) in &mods {
                eprintln!(
                    "btfgen: module {}: {} types into {}",
                    escape(m),
                    btf.types().len(),
                    escape_path(&dir.join(format!("{m}.btf")))
                );
            }
            eprintln!(
                "btfgen: {} modules encoded in {:.2}s",
                mods.len(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    target.write(&bytes)?;
    if a.verbose {
        let mut counts = std::collections::BTreeMap::new();
        for t in enc.btf.types() {
            *counts.entry(t.kind.label()).or_insert(0usize) += 1;
        }
        let kinds: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        if let Some(d) = &distilled {
            eprintln!(
                "btfgen: distilled base: {} types; split BTF {} types",
                d.base.types().len(),
                d.split.types().len()
            );
        }
        eprintln!(
            "btfgen: {}: {} units, {} types ({}), {} functions left out as inconsistent, {} bytes in {:.2}s",
            escape_path(&a.file),
            enc.units,
            enc.btf.types().len(),
            kinds.join(", "),
            enc.inconsistent_funcs,
            bytes.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The ELF to encode: the file itself (mapped, or read from a stream), or the vmlinux
/// streamed out of a package.
enum Source {
    Elf(memmap2::Mmap),
    Read(Vec<u8>),
    Package(package::Vmlinux),
}

impl Source {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Elf(m) => m,
            Source::Read(b) => b,
            Source::Package(v) => v.bytes(),
        }
    }

    /// The file map the bytes are, if they are one.
    fn map(&self) -> Option<&memmap2::Mmap> {
        match self {
            Source::Elf(m) => Some(m),
            Source::Read(_) => None,
            Source::Package(v) => Some(v.map()),
        }
    }
}
