//! `corepack test`: every program of every object loaded on kernels booted in qemu; a
//! table (or JSON) of relocations and verifier verdicts, rejections in C terms.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use btfgen::json::quote;
use btfgen::text::escape;
use clap::{Args, ValueEnum};
use corepack::vmtest::{run, Accel, KernelReport, Options, ProgramReport};

/// `--accel`.
#[derive(Clone, Copy, ValueEnum)]
enum AccelArg {
    /// KVM when the CPU has vmx/svm and /dev/kvm opens, else TCG.
    Auto,
    Kvm,
    Tcg,
}

/// Options of `corepack test`.
#[derive(Args)]
pub(super) struct TestArgs {
    /// Kernel to boot: a bzImage, or a Debian kernel image package
    /// (linux-image-*-unsigned .deb) whose /boot/vmlinuz-* is extracted.
    #[arg(long = "kernel", required = true)]
    kernels: Vec<PathBuf>,
    /// BPF object (clang -target bpf -g) whose programs are loaded, each on its own.
    #[arg(long = "object", required = true)]
    objects: Vec<PathBuf>,
    /// Bundle to take each kernel's BTF from (by its uname -r); default: the kernel's
    /// own BTF.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// One JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// qemu's accelerator.
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelArg,
    /// Seconds one boot may take before the guest is killed.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Also load each object with this machine's bpftool (`bpftool prog loadall`) in
    /// the same guest, and report its exit status.
    #[arg(long)]
    bpftool: bool,
}

/// The verdict word of a program: `accepted`, `rejected` (by the verifier) or
/// `refused` (by libbpf, or the kernel creating its maps, before the verifier ran).
fn verdict(p: &ProgramReport) -> &'static str {
    match &p.rejection {
        None => "accepted",
        Some(r) if r.by_verifier => "rejected",
        Some(_) => "refused",
    }
}

/// A program's name for tables: the object's when it did not open.
fn label(p: &ProgramReport) -> String {
    if p.name.is_empty() {
        format!("({})", p.object)
    } else {
        p.name.clone()
    }
}

fn table(k: &KernelReport, accel: Accel) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}; {}, {:.1} s; BTF: {})",
        escape(&k.release),
        escape(&k.kernel.display().to_string()),
        accel.name(),
        k.seconds,
        escape(&k.btf)
    );
    if let Some(e) = &k.error {
        let _ = writeln!(out, "  ERROR: {}", escape(e));
    }
    for p in &k.programs {
        let relo = match (p.relo_patched, p.relo_failed) {
            (0, 0) => "no CO-RE".to_string(),
            (n, 0) => format!("{n} relocated"),
            (n, f) => format!("{n} relocated, {f} FAILED"),
        };
        let bpftool = k
            .bpftool
            .iter()
            .find(|b| b.object == p.object)
            .map(|b| {
                if b.status == 0 {
                    "; bpftool: loaded".to_string()
                } else {
                    format!("; bpftool: failed ({})", b.status)
                }
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<16} {:<22} {:<22} {}{}",
            escape(&label(p)).to_string(),
            escape(&p.object).to_string(),
            relo,
            verdict(p),
            bpftool
        );
        if let Some(r) = &p.rejection {
            let _ = writeln!(out, "      {} (errno {})", escape(&r.message), -p.err);
            if let Some((n, text)) = &r.insn {
                let _ = write!(out, "      at insn {n}: {}", escape(text));
                match &r.source {
                    Some(s) if s.line > 0 => {
                        let _ = write!(
                            out,
                            "  <- {}:{}: {}",
                            escape(&s.file),
                            s.line,
                            escape(&s.text)
                        );
                    }
                    Some(s) => {
                        let _ = write!(out, "  <- {}", escape(&s.text));
                    }
                    None => {}
                }
                out.push('\n');
            }
        }
    }
    out
}

/// The program × kernel matrix of verdicts; a program whose name other objects
/// also use is named `name (object)`.
fn matrix(reports: &[KernelReport]) -> String {
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for k in reports {
        for p in &k.programs {
            if !rows.contains(&(&p.object, &p.name)) {
                rows.push((&p.object, &p.name));
            }
        }
    }
    let shared = |name: &str| rows.iter().filter(|r| r.1 == name).count() > 1;
    let mut out = format!("{:<24}", "program");
    for k in reports {
        let _ = write!(out, " {:<24}", escape(&k.release).to_string());
    }
    out.push('\n');
    for &(object, name) in &rows {
        let l = if name.is_empty() {
            format!("({object})")
        } else if shared(name) {
            format!("{name} ({object})")
        } else {
            name.to_string()
        };
        let _ = write!(out, "{:<24}", escape(&l).to_string());
        for k in reports {
            let v = match k
                .programs
                .iter()
                .find(|p| (p.object.as_str(), p.name.as_str()) == (object, name))
            {
                Some(p) => verdict(p),
                None if k.error.is_some() => "error",
                None => "-",
            };
            let _ = write!(out, " {v:<24}");
        }
        out.push('\n');
    }
    out
}

/// The `,` in front of every element of a JSON list but its first (`index` 0).
fn comma(out: &mut String, index: usize) {
    if index > 0 {
        out.push(',');
    }
}

fn json(reports: &[KernelReport], accel: Accel) -> String {
    let mut out = String::from("{\"kernels\":[");
    for (i, k) in reports.iter().enumerate() {
        comma(&mut out, i);
        let _ = write!(
            out,
            "{{\"kernel\":{},\"release\":{},\"accel\":{},\"btf\":{},\"seconds\":{:.2},\"error\":{},\"programs\":[",
            quote(&k.kernel.display().to_string()),
            quote(&k.release),
            quote(accel.name()),
            quote(&k.btf),
            k.seconds,
            k.error.as_deref().map_or("null".into(), quote)
        );
        for (j, p) in k.programs.iter().enumerate() {
            comma(&mut out, j);
            let _ = write!(
                out,
                "{{\"object\":{},\"program\":{},\"section\":{},\"relocations\":{{\"patched\":{},\"failed\":{}}},\"verdict\":{},\"errno\":{}",
                quote(&p.object),
                quote(&p.name),
                quote(&p.section),
                p.relo_patched,
                p.relo_failed,
                quote(verdict(p)),
                -p.err
            );
            if let Some(r) = &p.rejection {
                let _ = write!(out, ",\"message\":{}", quote(&r.message));
                if let Some((n, text)) = &r.insn {
                    let _ = write!(out, ",\"insn\":{n},\"insn_text\":{}", quote(text));
                }
                if let Some(s) = &r.source {
                    let _ = write!(
                        out,
                        ",\"source\":{{\"file\":{},\"line\":{},\"text\":{}}}",
                        quote(&s.file),
                        s.line,
                        quote(&s.text)
                    );
                }
            }
            out.push('}');
        }
        out.push_str("],\"bpftool\":[");
        for (j, b) in k.bpftool.iter().enumerate() {
            comma(&mut out, j);
            let _ = write!(
                out,
                "{{\"object\":{},\"status\":{},\"message\":{}}}",
                quote(&b.object),
                b.status,
                quote(&b.message)
            );
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}

/// Runs `corepack test`: exit 0 when every program loaded on every kernel, 1 when one
/// was rejected or a kernel gave no result.
pub(super) fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let accel = match args.accel {
        AccelArg::Auto => Accel::detect(),
        AccelArg::Kvm => Accel::Kvm,
        AccelArg::Tcg => Accel::Tcg,
    };
    let opts = Options {
        kernels: args.kernels,
        objects: args.objects,
        bundle: args.bundle,
        accel,
        timeout: Duration::from_secs(args.timeout),
        bpftool: args.bpftool,
    };
    let json_out = args.json;
    let reports = run(&opts, |k| {
        if !json_out {
            print!("{}", table(k, accel));
        }
    })?;
    if json_out {
        println!("{}", json(&reports, accel));
    } else if reports.len() > 1 {
        print!("\n{}", matrix(&reports));
    }
    let ok = reports.iter().all(KernelReport::all_loaded);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
