//! `corepack select`: the library's selection as a command, for loaders in any language.
//! It writes the chosen bundle entry's BTF to `-o FILE` and says why; its exit status
//! tells a script what to hand libbpf (see [`Status`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use btfgen::json::quote as json_str;
use btfgen::output::Inputs;
use btfgen::text::escape;
use clap::Args;
use corepack::notes::to_hex;
use corepack::{select_with, BtfSource, Bundle, Environment, SelectError, SourcePolicy};

use super::inspect::build_id_json;

/// Options of `corepack select`.
#[derive(Args)]
pub(super) struct SelectArgs {
    /// Bundle to select from (without one, only an explicit path or the kernel's own
    /// BTF can be chosen).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Where the chosen bundle entry's BTF (raw) or explicit file is written (`-`:
    /// standard output). Without it nothing is written: the command only says what it
    /// would choose.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// One JSON object on standard output instead of the line on standard error.
    #[arg(long)]
    json: bool,
    /// Where the BTF comes from: auto (COREPACK_BTF, then the kernel's own BTF, then the
    /// bundle), kernel, bundle, or a file.
    #[arg(long, default_value = "auto", value_name = "auto|kernel|bundle|PATH")]
    btf_source: SourcePolicy,
    /// Instead of this kernel's `uname -r`.
    #[arg(long)]
    uname: Option<String>,
    /// Instead of this machine's arch (`uname -m`, or Debian's and BTFHub's spelling).
    #[arg(long)]
    arch: Option<String>,
    /// Instead of /etc/os-release: this file (at most 64 KiB).
    #[arg(long, value_name = "FILE")]
    os_release: Option<PathBuf>,
    /// Instead of the running kernel's build-id (/sys/kernel/notes): this hex, or `none`.
    #[arg(long, value_name = "HEX|none")]
    build_id: Option<String>,
    /// Instead of /sys/kernel/btf/vmlinux: this file as the kernel's own BTF, or `none`
    /// for a kernel without BTF (the last one given counts).
    #[arg(long, value_name = "PATH|none", overrides_with = "sys_btf")]
    sys_btf: Option<PathBuf>,
}

/// The exit statuses a script branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// 0: use the BTF written to `-o` (a bundle entry or the explicit file).
    Custom = 0,
    /// 1: no BTF for this kernel (no entry, several entries that os-release does not
    /// decide, or `--btf-source kernel` on a kernel without BTF).
    NoBtf = 1,
    /// 2: an error: bad arguments, an unreadable or corrupt bundle, a failed write.
    Error = 2,
    /// 3: the kernel's own BTF suffices; nothing is written (libbpf needs no custom
    /// path).
    Kernel = 3,
}

/// The bytes of an injected file, at most 64 KiB.
fn read_small(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take((64 << 10) + 1).read_to_end(&mut bytes))
        .with_context(|| format!("{}", path.display()))?;
    if bytes.len() > 64 << 10 {
        anyhow::bail!("{}: larger than 64 KiB", path.display());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// This machine as detected, with the injected parts replaced.
fn environment(a: &SelectArgs) -> anyhow::Result<Environment> {
    let mut env = Environment::detect(None);
    if let Some(u) = &a.uname {
        env.uname = u.clone();
    }
    if let Some(arch) = &a.arch {
        env.arch = arch.clone();
    }
    if let Some(p) = &a.os_release {
        env.os_release = Some(read_small(p)?);
    }
    match a.build_id.as_deref() {
        Some("none") => env.build_id.clear(),
        Some(hex) => env.build_id = corepack::notes::from_hex(hex).context("--build-id")?,
        None => {}
    }
    match &a.sys_btf {
        Some(p) if p.as_os_str() == "none" => env.kernel_btf = None,
        Some(p) => env.kernel_btf = Some(p.clone()),
        None => {}
    }
    Ok(env)
}

/// Runs `corepack select`; errors are reported here, with status 2.
pub(super) fn select(a: SelectArgs) -> ExitCode {
    let status = run(&a).unwrap_or_else(|e| {
        eprintln!(
            "corepack: error: {}",
            btfgen::text::escape_lines(&format!("{e:#}"))
        );
        Status::Error
    });
    ExitCode::from(status as u8)
}

fn run(a: &SelectArgs) -> anyhow::Result<Status> {
    if a.json && a.output.as_deref() == Some(Path::new("-")) {
        anyhow::bail!("--json and -o - both want standard output");
    }
    let env = environment(a)?;
    let bundle_bytes = match &a.bundle {
        Some(p) => Some(
            btfgen::input::read(p, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", p.display()))?,
        ),
        None => None,
    };
    let bundle_name = a
        .bundle
        .as_ref()
        .map_or(String::new(), |p| p.display().to_string());
    let bundle = bundle_bytes
        .as_deref()
        .map(Bundle::open)
        .transpose()
        .with_context(|| bundle_name.clone())?;
    let machine = machine_json(&env);
    let selection = match select_with(&a.btf_source, &env, bundle.as_ref()) {
        Ok(s) => s,
        Err(SelectError::Bundle(e)) => return Err(e).with_context(|| bundle_name.clone()),
        Err(e) => {
            let message = e.to_string();
            if a.json {
                println!(
                    "{{\"status\":1,\"source\":null,\"path\":null,\"kernel\":null,\"build_id\":null,\"machine\":{machine},\"reason\":{}}}",
                    json_str(&message)
                );
            } else {
                eprintln!("corepack: no BTF: {}", escape(&message));
            }
            return Ok(Status::NoBtf);
        }
    };
    let inputs = Inputs::new(a.bundle.iter().chain(a.os_release.iter()));
    let (status, source, path, kernel, build_id) = match &selection.source {
        BtfSource::Kernel(p) => (Status::Kernel, "kernel", Some(p.clone()), None, None),
        BtfSource::Explicit(p) => {
            let bytes = btfgen::input::read(p, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", p.display()))?;
            let inputs = Inputs::new(a.bundle.iter().chain(a.os_release.iter()).chain([p]));
            write(a.output.as_deref(), &inputs, &bytes)?;
            (Status::Custom, "explicit", Some(p.clone()), None, None)
        }
        BtfSource::Bundle { entry, kernel, btf } => {
            write(a.output.as_deref(), &inputs, btf)?;
            let id = bundle
                .as_ref()
                .map(|b| b.entries()[*entry].build_id.clone())
                .unwrap_or_default();
            (
                Status::Custom,
                "bundle",
                None,
                Some(kernel.clone()),
                Some(id),
            )
        }
    };
    if a.json {
        let kernel = kernel.as_ref().map_or("null".into(), |k| {
            format!(
                "{{\"arch\":{},\"uname\":{},\"id\":{},\"version_id\":{}}}",
                json_str(&k.arch),
                json_str(&k.uname),
                json_str(&k.os_id),
                json_str(&k.version_id)
            )
        });
        let path = path.map_or("null".into(), |p| json_str(&p.display().to_string()));
        let output = a
            .output
            .as_ref()
            .filter(|_| status == Status::Custom)
            .map_or("null".into(), |p| json_str(&p.display().to_string()));
        println!(
            "{{\"status\":{},\"source\":\"{source}\",\"path\":{path},\"output\":{output},\"kernel\":{kernel},\"build_id\":{},\"machine\":{machine},\"reason\":{}}}",
            status as u8,
            build_id.as_deref().map_or("null".into(), build_id_json),
            json_str(&selection.reason)
        );
    } else {
        let what = match (&selection.source, &build_id) {
            (BtfSource::Bundle { kernel, .. }, Some(id)) if !id.is_empty() => {
                format!("bundle entry {kernel} build-id {}", to_hex(id))
            }
            (source, _) => source.to_string(),
        };
        let done = match (status, &a.output) {
            (Status::Kernel, _) => "nothing written".to_string(),
            (_, Some(o)) => format!("written to {}", o.display()),
            (_, None) => "not written (no -o)".to_string(),
        };
        eprintln!(
            "corepack: {}",
            escape(&format!("{what}: {}; {done}", selection.reason))
        );
    }
    Ok(status)
}

/// Writes `bytes` to `output` (btfgen's rules: `-` standard output, devices written
/// through, files replaced atomically, never an input); nothing without an output.
fn write(output: Option<&Path>, inputs: &Inputs, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(o) = output {
        btfgen::output::prepare(o, inputs)?.write(bytes)?;
    }
    Ok(())
}

/// What selection saw of the machine, as JSON.
fn machine_json(env: &Environment) -> String {
    let (id, version_id) = env.os_ids();
    format!(
        "{{\"arch\":{},\"uname\":{},\"id\":{},\"version_id\":{},\"build_id\":{},\"kernel_btf\":{}}}",
        json_str(&corepack::normalize_arch(&env.arch)),
        json_str(&env.uname),
        json_str(&id),
        json_str(&version_id),
        build_id_json(&env.build_id),
        env.kernel_btf
            .as_ref()
            .map_or("null".into(), |p| json_str(&p.display().to_string()))
    )
}
