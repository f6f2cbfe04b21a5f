//! `corepack test`: will these programs load on those kernels? Each kernel boots in
//! qemu-system-x86_64 (KVM when /dev/kvm is usable, TCG otherwise) with an initramfs
//! holding a small static agent (agent.c, libbpf) as /init, the objects and, with a
//! bundle, the BTF the bundle selects for that kernel. The agent loads every program
//! of every object on its own and reports its CO-RE relocations and the verifier's
//! verdict; a rejection is explained in C terms ([`Rejection`]). With
//! [`Options::bpftool`] the guest also loads each object with `bpftool prog loadall`,
//! an independent loader to compare verdicts with.

mod agent;
mod cpio;
mod explain;
mod guest;
mod kernel;

use std::path::{Path, PathBuf};
use std::time::Duration;

use btfgen::bpf::{BpfError, BpfObject};

pub use explain::{explain, line_of, Rejection, SourceLine};

use crate::{select_with, BtfSource, Bundle, Environment, SourcePolicy};

/// How qemu runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualization (`-accel kvm -cpu host`).
    Kvm,
    /// qemu's own translator (`-accel tcg -cpu max`), slower, needs nothing.
    Tcg,
}

impl Accel {
    /// KVM when the CPU has hardware virtualization and /dev/kvm opens for reading
    /// and writing, else TCG.
    pub fn detect() -> Accel {
        if guest::kvm_usable() {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    /// `kvm` or `tcg`.
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// What to boot and load.
#[derive(Debug, Clone)]
pub struct Options {
    /// Kernel images (bzImage) or Debian kernel image packages.
    pub kernels: Vec<PathBuf>,
    /// BPF objects (clang -target bpf -g).
    pub objects: Vec<PathBuf>,
    /// A bundle to take each kernel's BTF from (else the kernel's own BTF).
    pub bundle: Option<PathBuf>,
    /// qemu's accelerator.
    pub accel: Accel,
    /// Longest time one boot may take.
    pub timeout: Duration,
    /// Also load each object with the system's bpftool in the guest.
    pub bpftool: bool,
}

/// Errors that stop the whole run (a kernel that fails to boot is reported in its
/// [`KernelReport::error`] instead).
#[derive(Debug, thiserror::Error)]
pub enum VmtestError {
    /// Reading or writing a file.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// Reading an input (an object or the bundle).
    #[error("{}: {error}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: btfgen::input::InputError,
    },
    /// A kernel argument that cannot be booted.
    #[error("{}: {detail}", path.display())]
    Kernel {
        /// The argument.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An object that is not a BPF object.
    #[error("{}: {error}", path.display())]
    Object {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: BpfError,
    },
    /// The bundle does not open.
    #[error("{}: {error}", path.display())]
    Bundle {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: crate::BundleError,
    },
    /// Building the guest agent failed.
    #[error(
        "building the guest agent (needs gcc, libc6-dev, libbpf-dev, libelf-dev, zlib1g-dev): {0}"
    )]
    Agent(String),
    /// bpftool cannot be put in the guest.
    #[error("{0}")]
    Bpftool(String),
    /// qemu failed or timed out.
    #[error("{0}")]
    Qemu(String),
}

/// One program on one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramReport {
    /// The object's file name.
    pub object: String,
    /// The program's name (empty when the object did not open).
    pub name: String,
    /// Its ELF section.
    pub section: String,
    /// CO-RE relocations libbpf patched.
    pub relo_patched: u32,
    /// CO-RE relocations that failed (libbpf poisons their instructions).
    pub relo_failed: u32,
    /// `None`: loaded; else why not.
    pub rejection: Option<Rejection>,
    /// The load's result: 0 or libbpf's negative errno.
    pub err: i32,
}

/// bpftool's `prog loadall` of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpftoolReport {
    /// The object's file name.
    pub object: String,
    /// bpftool's exit status.
    pub status: i32,
    /// Its last line of output (its error, when it failed).
    pub message: String,
}

/// One kernel's boot.
#[derive(Debug, Clone)]
pub struct KernelReport {
    /// The argument naming the kernel.
    pub kernel: PathBuf,
    /// `uname -r` (the guest's, else the bzImage header's).
    pub release: String,
    /// Where the programs' BTF came from.
    pub btf: String,
    /// Seconds qemu ran (boot, loads, power-off).
    pub seconds: f64,
    /// Per program, objects in order.
    pub programs: Vec<ProgramReport>,
    /// Per object, with [`Options::bpftool`].
    pub bpftool: Vec<BpftoolReport>,
    /// Why this kernel has no (complete) result.
    pub error: Option<String>,
}

impl KernelReport {
    /// Whether every program loaded and the guest finished.
    pub fn all_loaded(&self) -> bool {
        self.error.is_none() && self.programs.iter().all(|p| p.rejection.is_none())
    }
}

/// A work directory removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir, VmtestError> {
        let base = std::env::temp_dir();
        for i in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let p = base.join(format!("corepack-test.{}.{nanos}.{i}", std::process::id()));
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(WorkDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(VmtestError::Io { path: p, error }),
            }
        }
        Err(VmtestError::Io {
            path: base,
            error: std::io::Error::other("no fresh work directory"),
        })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Input {
    name: String,
    bytes: Vec<u8>,
    parsed: Option<BpfObject>,
}

fn read_object(path: &Path) -> Result<Input, VmtestError> {
    let bytes = btfgen::input::read(path, btfgen::input::MAX_BTF_STREAM).map_err(|error| {
        VmtestError::Input {
            path: path.to_path_buf(),
            error,
        }
    })?;
    // Without .BTF or .BTF.ext libbpf may still load it; rejections then have no C line.
    let parsed = match BpfObject::parse(&bytes) {
        Ok(o) => Some(o),
        Err(BpfError::NoBtf | BpfError::NoBtfExt) => None,
        Err(error) => {
            return Err(VmtestError::Object {
                path: path.to_path_buf(),
                error,
            })
        }
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    Ok(Input {
        name,
        bytes,
        parsed,
    })
}

/// The initramfs: /init (the agent), /dev/console, mount points, the objects as
/// /vt/obj/N.o, the BTF as /vt/btf and bpftool under /vt/bpftool.
fn initramfs(
    agent: &[u8],
    objects: &[Input],
    btf: Option<&[u8]>,
    bpftool: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let mut c = cpio::Cpio::default();
    for d in ["dev", "proc", "sys", "tmp", "vt", "vt/obj"] {
        c.dir(d);
    }
    c.char_dev("dev/console", 5, 1);
    c.file("init", agent, true);
    for (i, o) in objects.iter().enumerate() {
        c.file(&format!("vt/obj/{i}.o"), &o.bytes, false);
    }
    if let Some(b) = btf {
        c.file("vt/btf", b, false);
    }
    if !bpftool.is_empty() {
        c.dir("vt/bpftool");
        c.dir("vt/bpftool/lib");
        for (name, bytes) in bpftool {
            c.file(&format!("vt/bpftool/{name}"), bytes, true);
        }
    }
    c.finish()
}

/// Boots every kernel in turn and loads every object's programs; `each` sees each
/// kernel's report as soon as it is there.
pub fn run(
    opts: &Options,
    mut each: impl FnMut(&KernelReport),
) -> Result<Vec<KernelReport>, VmtestError> {
    let objects = opts
        .objects
        .iter()
        .map(|p| read_object(p))
        .collect::<Result<Vec<_>, _>>()?;
    let bundle_bytes = match &opts.bundle {
        Some(p) => Some(
            btfgen::input::read(p, btfgen::input::MAX_BTF_STREAM).map_err(|error| {
                VmtestError::Input {
                    path: p.clone(),
                    error,
                }
            })?,
        ),
        None => None,
    };
    let bundle = match (&opts.bundle, &bundle_bytes) {
        (Some(p), Some(b)) => Some(Bundle::open(b).map_err(|error| VmtestError::Bundle {
            path: p.clone(),
            error,
        })?),
        _ => None,
    };
    let work = WorkDir::new()?;
    let kernels = opts
        .kernels
        .iter()
        .enumerate()
        .map(|(n, k)| kernel::resolve(k, &work.0, n))
        .collect::<Result<Vec<_>, _>>()?;
    let guest = Guest {
        agent: agent::build_agent(&work.0)?,
        objects,
        bpftool: if opts.bpftool {
            agent::bpftool_files()?
        } else {
            Vec::new()
        },
    };
    let mut reports = Vec::new();
    for (n, (arg, k)) in opts.kernels.iter().zip(&kernels).enumerate() {
        let mut report = KernelReport {
            kernel: arg.clone(),
            release: k.release.clone().unwrap_or_default(),
            btf: "the kernel's own (/sys/kernel/btf/vmlinux)".into(),
            seconds: 0.0,
            programs: Vec::new(),
            bpftool: Vec::new(),
            error: None,
        };
        let mut btf = None;
        if let Some(b) = &bundle {
            let env = Environment {
                uname: report.release.clone(),
                arch: "x86_64".into(),
                ..Environment::default()
            };
            match select_with(&SourcePolicy::Bundle, &env, Some(b)) {
                Ok(s) => {
                    if let BtfSource::Bundle {
                        kernel, btf: bytes, ..
                    } = s.source
                    {
                        report.btf = format!(
                            "bundle entry {} {} {} {} ({} bytes)",
                            kernel.arch,
                            kernel.uname,
                            kernel.os_id,
                            kernel.version_id,
                            bytes.len()
                        );
                        btf = Some(bytes);
                    }
                }
                Err(e) => report.error = Some(format!("bundle: {e}")),
            }
        }
        if report.error.is_none() {
            boot_one(opts, &work.0, n, k, &guest, btf.as_deref(), &mut report)?;
        }
        each(&report);
        reports.push(report);
    }
    Ok(reports)
}

/// What every guest gets.
struct Guest {
    agent: Vec<u8>,
    objects: Vec<Input>,
    bpftool: Vec<(String, Vec<u8>)>,
}

/// Boots one kernel and fills `report` from the agent's records.
fn boot_one(
    opts: &Options,
    work: &Path,
    n: usize,
    k: &kernel::Kernel,
    guest: &Guest,
    btf: Option<&[u8]>,
    report: &mut KernelReport,
) -> Result<(), VmtestError> {
    let objects = &guest.objects;
    let initrd = work.join(format!("initrd.{n}"));
    let bytes = initramfs(&guest.agent, objects, btf, &guest.bpftool);
    std::fs::write(&initrd, bytes).map_err(|error| VmtestError::Io {
        path: initrd.clone(),
        error,
    })?;
    let serial = work.join(format!("serial.{n}"));
    let (text, secs) = match guest::boot(&k.image, &initrd, opts.accel, opts.timeout, &serial) {
        Ok(r) => r,
        Err(VmtestError::Qemu(e)) => {
            report.error = Some(e);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    report.seconds = secs;
    let console = guest::parse(&text);
    if !console.uname.is_empty() {
        report.release = console.uname.clone();
    }
    if !console.finished {
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        report.error = Some(format!(
            "the guest agent did not finish; console ends: {}",
            btfgen::text::escape(&tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
        ));
    }
    if btf.is_none() && console.kernel_btf == 0 {
        report.btf = "none (the kernel has no /sys/kernel/btf/vmlinux)".into();
    }
    for (i, err, log) in &console.open_failures {
        report.programs.push(ProgramReport {
            object: objects.get(*i).map_or_else(String::new, |o| o.name.clone()),
            name: String::new(),
            section: String::new(),
            relo_patched: 0,
            relo_failed: 0,
            rejection: Some(explain(log, None, "")),
            err: *err,
        });
    }
    for p in console.programs {
        let obj = objects.get(p.object);
        let rejection =
            (p.err != 0).then(|| explain(&p.log, obj.and_then(|o| o.parsed.as_ref()), &p.name));
        report.programs.push(ProgramReport {
            object: obj.map_or_else(String::new, |o| o.name.clone()),
            name: p.name,
            section: p.section,
            relo_patched: p.relo_patched,
            relo_failed: p.relo_failed,
            rejection,
            err: p.err,
        });
    }
    for (i, status, out) in console.bpftool {
        report.bpftool.push(BpftoolReport {
            object: objects.get(i).map_or_else(String::new, |o| o.name.clone()),
            status,
            message: out
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string(),
        });
    }
    Ok(())
}
