//! `btfgen check OBJ... --btf FILE|DIR...`: on which kernels do the CO-RE
//! relocations of these BPF objects resolve, and why not. Exits 0 when every
//! relocation resolves on every kernel, 1 when some fail and 2 on error (an object, a
//! base or a kernel BTF that cannot be read; each on standard error), as `diff`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use btfgen::bpf::BpfObject;
use btfgen::btf::check_reference_loops;
use btfgen::btf::{Btf, BtfError};
use btfgen::json::quote;
use btfgen::relo::resolve_object;
use btfgen::text::{escape, write_line};
use rayon::prelude::*;

use super::output::print_stdout;

/// Arguments of `btfgen check`.
#[derive(clap::Args)]
pub(super) struct Args {
    /// BPF objects (clang -target bpf -g).
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Kernel BTF files (raw, ELF, or an archive such as BTFHub's .btf.tar.xz), or
    /// directories searched recursively for them.
    #[arg(long, required = true, num_args = 1..)]
    btf: Vec<PathBuf>,
    /// Base BTF when the --btf files are split BTF (kernel modules on vmlinux).
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// A kernel module's split BTF on the --btf kernel (repeatable; one --btf file).
    /// Modules in the layout beside a kernel (`<uname -r>/modules/*.btf`) are read
    /// without it.
    #[arg(long = "module-btf", value_name = "MODULE", conflicts_with = "base")]
    module_btf: Vec<PathBuf>,
    /// Print every relocation of every kernel as JSON.
    #[arg(long)]
    json: bool,
}

/// Kernel BTF files under `path` (itself when a file), with their paths relative to
/// `path`, sorted. Modules in the layout ([`btfgen::btf::is_module_file`]) are not
/// kernels: they come with theirs ([`modules_of`]).
pub(super) fn kernel_files(path: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if !meta.is_dir() {
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        return Ok(vec![(path.to_path_buf(), name)]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let p = e.with_context(|| format!("{}", dir.display()))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() && !btfgen::btf::is_module_file(&p) {
                let rel = p.strip_prefix(path).unwrap_or(&p).to_path_buf();
                out.push((p, rel));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads the optional base BTF (refusing reference loops, as [`read_kernel`]).
pub(super) fn read_base(base: &Option<PathBuf>) -> anyhow::Result<Option<Arc<Btf>>> {
    base.as_ref()
        .map(|p| {
            Btf::from_file(p)
                .and_then(|b| check_reference_loops(&b).map(|()| Arc::new(b)))
                .with_context(|| format!("base BTF {}", p.display()))
        })
        .transpose()
}

/// Reads a kernel BTF, split on `base` when given, and refuses reference loops no C
/// type has (the CO-RE engine, min and diff walk references). `flag` is the option
/// that gives the base, named when the BTF looks split ([`base_hint`]).
pub(super) fn read_kernel(path: &Path, base: &Option<Arc<Btf>>, flag: &str) -> anyhow::Result<Btf> {
    let data = btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM)
        .with_context(|| format!("{}", path.display()))?;
    if base.is_none() && Btf::has_distilled_base(&data) {
        anyhow::bail!(
            "{}: a module with a distilled base (.BTF.base), which holds no members: give its kernel's BTF with {flag} BASE",
            path.display()
        );
    }
    let r = Btf::from_any_bytes(&data, base.clone());
    r.and_then(|b| check_reference_loops(&b).map(|()| b))
        .map_err(|e| base_hint(e, flag))
        .with_context(|| format!("{}", path.display()))
}

/// The modules read with the kernel BTF `path`: none when the kernels are themselves
/// split BTF on a `--base`; else those in the layout beside it, then `explicit`
/// (`--module-btf`), each once.
pub(super) fn modules_of(
    path: &Path,
    base: &Option<Arc<Btf>>,
    explicit: &[PathBuf],
) -> anyhow::Result<Vec<PathBuf>> {
    if base.is_some() {
        return Ok(Vec::new());
    }
    let mut out = btfgen::btf::module_files(path).with_context(|| {
        let dir = btfgen::btf::modules_dir(path).unwrap_or_default();
        format!("{}", dir.display())
    })?;
    for m in explicit {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    Ok(out)
}

/// Reads the kernel BTF `path` as [`read_kernel`] does and, when `modules` are given,
/// each of them as split BTF on it, all joined into one split BTF
/// ([`btfgen::btf::join_modules`]): CO-RE candidates come from the kernel first, then
/// from all the modules together, as libbpf searches a running kernel's.
pub(super) fn read_target(
    path: &Path,
    base: &Option<Arc<Btf>>,
    modules: &[PathBuf],
) -> anyhow::Result<Btf> {
    let kernel = read_kernel(path, base, "--base")?;
    if modules.is_empty() {
        return Ok(kernel);
    }
    let kernel = Arc::new(kernel);
    let on = Some(kernel.clone());
    let mods = modules
        .iter()
        .map(|m| {
            read_kernel(m, &on, "--btf")
                .with_context(|| format!("module BTF on {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    btfgen::btf::join_modules(kernel, &mods).map_err(|e| {
        let btfgen::btf::JoinError::NotOnBase { index, .. } = e;
        anyhow::Error::new(e).context(format!(
            "{} on {}",
            modules[index].display(),
            path.display()
        ))
    })
}

/// Refuses `--module-btf` unless there is one kernel BTF file to put the modules on.
pub(super) fn explicit_modules_need_one_file(
    explicit: &[PathBuf],
    btf: &[&PathBuf],
) -> anyhow::Result<()> {
    if !explicit.is_empty() && (btf.len() != 1 || btf[0].is_dir()) {
        anyhow::bail!("--module-btf: give one kernel BTF file with --btf, the modules' vmlinux (a directory's kernels bring their modules from the layout, <uname -r>/modules/*.btf)");
    }
    Ok(())
}

/// `e`, naming the option `flag` that gives a base when `e` says the BTF looks split.
pub(super) fn base_hint(e: BtfError, flag: &str) -> anyhow::Error {
    match e {
        BtfError::LooksSplit(_) => anyhow::anyhow!("{e} ({flag} BASE)"),
        e => e.into(),
    }
}

/// Reads BPF objects.
pub(super) fn read_objects(paths: &[PathBuf]) -> anyhow::Result<Vec<BpfObject>> {
    paths
        .iter()
        .map(|p| {
            let data = btfgen::input::read(p, btfgen::input::MAX_BTF_STREAM)
                .with_context(|| format!("{}", p.display()))?;
            BpfObject::parse(&data).with_context(|| format!("{}", p.display()))
        })
        .collect()
}

/// One relocation's line of the report.
struct Row {
    object: String,
    section: String,
    program: String,
    relo: usize,
    insn: u64,
    kind: &'static str,
    access: String,
    spec: String,
    value: Option<u64>,
    failure: Option<String>,
    /// The failure is a poisoned instruction rather than a refused relocation.
    poisoned: bool,
    /// The load/store size libbpf changes (libbpf's `mem_sz FROM -> TO`).
    mem_sz: Option<(u32, u32)>,
}

/// The report of one kernel.
struct Report {
    btf: String,
    rows: Vec<Row>,
    error: Option<String>,
}

impl Report {
    fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.failure.is_some()).count()
    }
}

fn check_kernel(
    path: &Path,
    base: &Option<Arc<Btf>>,
    explicit: &[PathBuf],
    objects: &[(String, BpfObject)],
) -> Report {
    let mut report = Report {
        btf: path.display().to_string(),
        rows: Vec::new(),
        error: None,
    };
    let target = match modules_of(path, base, explicit).and_then(|m| read_target(path, base, &m)) {
        Ok(t) => t,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            return report;
        }
    };
    for (name, obj) in objects {
        for o in resolve_object(obj, &target) {
            let failure = o.failure(&obj.btf);
            report.rows.push(Row {
                object: name.clone(),
                section: o.section.to_string(),
                program: o.program.to_string(),
                relo: o.index,
                insn: o.insn,
                kind: o.relo.kind.name(),
                access: o.c_path(&obj.btf),
                spec: o.relo.access.clone(),
                value: o
                    .result
                    .as_ref()
                    .ok()
                    .filter(|r| !r.poison)
                    .map(|r| r.new_val),
                poisoned: o.result.as_ref().is_ok_and(|r| r.poison),
                mem_sz: o.mem_sz,
                failure,
            });
        }
    }
    report
}

/// Runs `btfgen check`; errors are printed here so that they exit with 2.
pub(super) fn run(a: Args) -> anyhow::Result<ExitCode> {
    match check(&a) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("btfgen: error: {}", escape(&format!("{e:#}")));
            Ok(ExitCode::from(2))
        }
    }
}

/// Prints the report (and each kernel's read error on standard error); 2 when a
/// kernel could not be read, else 1 when a relocation fails, else 0.
fn check(a: &Args) -> anyhow::Result<ExitCode> {
    let base = read_base(&a.base)?;
    let objects: Vec<(String, BpfObject)> = a
        .objects
        .iter()
        .map(|p| p.display().to_string())
        .zip(read_objects(&a.objects)?)
        .collect();
    explicit_modules_need_one_file(&a.module_btf, &a.btf.iter().collect::<Vec<_>>())?;
    let mut kernels = Vec::new();
    for p in &a.btf {
        kernels.extend(kernel_files(p)?.into_iter().map(|(abs, _)| abs));
    }
    let reports: Vec<Report> = kernels
        .par_iter()
        .map(|k| check_kernel(k, &base, &a.module_btf, &objects))
        .collect();
    let text = if a.json {
        json(&reports)
    } else {
        table(&reports)
    };
    print_stdout(&text)?;
    let mut code = ExitCode::SUCCESS;
    if reports.iter().any(|r| r.failed() > 0) {
        code = ExitCode::FAILURE;
    }
    for e in reports.iter().filter_map(|r| r.error.as_ref()) {
        eprintln!("btfgen: error: {}", escape(e));
        code = ExitCode::from(2);
    }
    Ok(code)
}

fn table(reports: &[Report]) -> String {
    let mut s = String::new();
    // Kernels that could not be read are reported on standard error, not here.
    let read: Vec<&Report> = reports.iter().filter(|r| r.error.is_none()).collect();
    if read.is_empty() {
        return s;
    }
    let width = read.iter().map(|r| r.btf.len()).max().unwrap_or(0).max(6);
    let _ = write_line(
        &mut s,
        format_args!("{:width$}  {:>8}  {:>6}", "kernel", "resolved", "failed"),
    );
    for r in read {
        let failed = r.failed();
        let _ = write_line(
            &mut s,
            format_args!(
                "{:width$}  {:>8}  {:>6}",
                r.btf,
                r.rows.len() - failed,
                failed
            ),
        );
    }
    for r in reports {
        let changed: Vec<&Row> = r.rows.iter().filter(|x| x.mem_sz.is_some()).collect();
        if changed.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{}: load sizes libbpf changes:", r.btf);
        for row in changed {
            let (from, to) = row.mem_sz.unwrap_or_default();
            let _ = writeln!(
                s,
                "  {}: prog '{}': relo #{} insn #{} {}: mem_sz {from} -> {to}",
                row.object, row.program, row.relo, row.insn, row.access
            );
        }
    }
    for r in reports.iter().filter(|r| r.failed() > 0) {
        s.push('\n');
        let _ = write_line(&mut s, format_args!("{}:", r.btf));
        for row in r.rows.iter().filter(|x| x.failure.is_some()) {
            let _ = write_line(
                &mut s,
                format_args!(
                    "  {}: prog '{}': relo #{} ({}) {}: {}",
                    row.object,
                    row.program,
                    row.relo,
                    row.kind,
                    row.access,
                    row.failure.as_deref().unwrap_or_default()
                ),
            );
        }
    }
    s
}

fn json(reports: &[Report]) -> String {
    let mut s = String::from("{\"kernels\":[");
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "\n{{\"btf\":{},", quote(&r.btf));
        if let Some(e) = &r.error {
            let _ = write!(s, "\"error\":{}}}", quote(e));
            continue;
        }
        let failed = r.failed();
        let _ = write!(
            s,
            "\"resolved\":{},\"failed\":{},\"relocations\":[",
            r.rows.len() - failed,
            failed
        );
        for (j, row) in r.rows.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "\n{{\"object\":{},\"section\":{},\"program\":{},\"relo\":{},\"insn\":{},\"kind\":{},\"access\":{},\"spec\":{}",
                quote(&row.object),
                quote(&row.section),
                quote(&row.program),
                row.relo,
                row.insn,
                quote(row.kind),
                quote(&row.access),
                quote(&row.spec)
            );
            if let Some(v) = row.value {
                let _ = write!(s, ",\"value\":{v}");
            }
            if let Some((from, to)) = row.mem_sz {
                let _ = write!(s, ",\"mem_sz\":{{\"from\":{from},\"to\":{to}}}");
            }
            match &row.failure {
                Some(f) => {
                    let status = if row.poisoned { "poisoned" } else { "error" };
                    let _ = write!(s, ",\"status\":\"{status}\",\"why\":{}}}", quote(f));
                }
                None => s.push_str(",\"status\":\"resolved\"}"),
            }
        }
        s.push_str("]}");
    }
    s.push_str("\n]}\n");
    s
}
