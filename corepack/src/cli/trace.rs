//! `corepack trace`: the bundled exec tracer.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use btfgen::text::escape;
use clap::Args;
use corepack::trace::{embedded_bundle, Tracer};
use corepack::{select_with, BtfSource, Bundle, Environment, SourcePolicy};

/// Options of `corepack trace`.
#[derive(Args)]
pub(super) struct TraceArgs {
    /// Bundle to select from (default: the one embedded at build time, if any).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Where the BTF comes from: auto (COREPACK_BTF, then the kernel's own BTF, then the
    /// bundle), kernel, bundle, or a file (raw BTF or ELF with .BTF).
    #[arg(long, default_value = "auto", value_name = "auto|kernel|bundle|PATH")]
    btf_source: SourcePolicy,
    /// Say which BTF was chosen and why.
    #[arg(short, long)]
    verbose: bool,
    /// One JSON object per event.
    #[arg(long)]
    json: bool,
    /// Exit after this many events.
    #[arg(long)]
    count: Option<u64>,
}

/// The BTF bytes aya needs (raw): files may be raw or ELF with a `.BTF` section.
fn read_raw_btf(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM)
        .with_context(|| format!("{}", path.display()))?;
    if bytes.starts_with(b"\x7fELF") {
        let btf = btfgen::btf::Btf::from_any_bytes(&bytes, None)
            .with_context(|| format!("{}", path.display()))?;
        return Ok(btf.to_bytes());
    }
    Ok(bytes)
}

/// Runs the tracer until Ctrl-C (or `--count` events).
pub(super) fn trace(args: TraceArgs) -> anyhow::Result<()> {
    let file;
    let bundle_bytes: Option<&[u8]> = match &args.bundle {
        Some(path) => {
            file = btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", path.display()))?;
            Some(&file)
        }
        None => embedded_bundle(),
    };
    let bundle_name = match &args.bundle {
        Some(p) => p.display().to_string(),
        None => "the embedded bundle".into(),
    };
    let bundle = bundle_bytes
        .map(Bundle::open)
        .transpose()
        .with_context(|| bundle_name.clone())?;

    let env = Environment::detect(None);
    // The bundle is named only when there is one (the error says when there is none).
    let selection = select_with(&args.btf_source, &env, bundle.as_ref());
    let selection = match bundle {
        Some(_) => selection.with_context(|| bundle_name.clone())?,
        None => selection?,
    };
    let (what, btf) = match &selection.source {
        BtfSource::Bundle { entry, kernel, btf } => {
            let blob = bundle.as_ref().map_or(0, |b| b.entries()[*entry].blob);
            (
                format!(
                    "bundle entry {} {} {} {} of {bundle_name} (blob {blob}, {} bytes)",
                    kernel.arch,
                    kernel.uname,
                    kernel.os_id,
                    kernel.version_id,
                    btf.len()
                ),
                btf.clone(),
            )
        }
        BtfSource::Kernel(p) => (format!("kernel {}", p.display()), read_raw_btf(p)?),
        BtfSource::Explicit(p) => (format!("file {}", p.display()), read_raw_btf(p)?),
    };
    if args.verbose {
        // The bundle's kernel names, escaped with the rest of the line.
        let line = format!("corepack: btf: {what}: {}", selection.reason);
        eprintln!("{}", escape(&line));
    }

    let mut tracer = Tracer::load(&btf).with_context(|| format!("BTF from {what}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    eprintln!("corepack: tracing sched_process_exec; Ctrl-C to stop");

    let mut seen = 0u64;
    let mut out = std::io::stdout().lock();
    let mut write_err = None;
    while !stop.load(Ordering::SeqCst) && args.count.is_none_or(|n| seen < n) {
        tracer.poll(200, |e| {
            if args.count.is_some_and(|n| seen >= n) || write_err.is_some() {
                return;
            }
            seen += 1;
            let line = if args.json {
                e.to_json()
            } else {
                e.to_string()
            };
            if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
                write_err = Some(e);
            }
        })?;
        match write_err.take() {
            // A reader that went away (`| head`) ends the trace quietly.
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Some(e) => return Err(e).context("standard output"),
            None => {}
        }
    }
    if tracer.lost() > 0 {
        eprintln!(
            "corepack: {} events lost (perf buffers full)",
            tracer.lost()
        );
    }
    Ok(())
}
