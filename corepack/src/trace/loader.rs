//! Loading and attaching the tracer with aya, and reading its perf buffers.

use std::os::fd::AsRawFd;
use std::path::Path;

use aya::maps::perf::{PerfBufferError, PerfEvent, PerfEventArray, PerfEventArrayBuffer};
use aya::maps::{MapData, MapError};
use aya::programs::{ProgramError, TracePoint};
use aya::{Btf, BtfError, Ebpf, EbpfError, EbpfLoader, Endianness};

use super::event::ExecEvent;
use super::OBJECT;

const PROGRAM: &str = "sched_process_exec";
const EVENTS_MAP: &str = "EVENTS";
/// Where aya looks for tracepoint ids (tracefs, or tracefs under debugfs).
const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// Why the tracer could not start or read events.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The BTF given to [`Tracer::load`] is not BTF `btfgen min` would take as a
    /// kernel's (malformed, or with reference loops no C type can have); found before
    /// anything is loaded.
    #[error("the selected BTF is not usable")]
    Unusable(#[from] btfgen::btf::BtfError),
    /// aya cannot parse the BTF given to [`Tracer::load`]; holds its error.
    #[error("the selected BTF does not parse")]
    Btf(#[from] BtfError),
    /// aya could not load the object: a CO-RE relocation failed against the BTF, or the
    /// kernel refused a map; holds its error.
    #[error("loading the BPF object failed (CO-RE relocation against the selected BTF, or the kernel refused it)")]
    Load(#[from] EbpfError),
    /// Loading the program into the kernel (the verifier) or attaching it to the
    /// tracepoint failed; holds aya's error.
    #[error("the tracepoint program")]
    Program(#[from] ProgramError),
    /// The `EVENTS` map is not a perf event array or cannot be used as one.
    #[error("the event map")]
    Map(#[from] MapError),
    /// Opening or reading a per-CPU perf buffer failed.
    #[error("a perf buffer")]
    PerfBuffer(#[from] PerfBufferError),
    /// The object lacks the program or map the tracer needs; names which.
    #[error("the BPF object has no {0}")]
    Missing(&'static str),
    /// Neither `/sys/kernel/tracing` nor `/sys/kernel/debug/tracing` has an `events`
    /// directory, so the tracepoint cannot be found.
    #[error("tracefs is not mounted (mount it: mount -t tracefs tracefs /sys/kernel/tracing)")]
    NoTracefs,
    /// A system call or system file failed.
    #[error("{what}")]
    Io {
        /// What was being done (`poll`, `reading the online CPUs`).
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The loaded and attached tracer. Dropping it detaches and unloads the program.
pub struct Tracer {
    buffers: Vec<PerfEventArrayBuffer<MapData>>,
    lost: u64,
    // Owns the program and its link; declared last so the buffers drop first.
    _ebpf: Ebpf,
}

impl Tracer {
    /// Relocates the tracer against `btf` (raw BTF of the running kernel, or of a
    /// kernel with the same layout), loads it, attaches it to `sched/sched_process_exec`
    /// and opens one perf buffer per online CPU. BTF that `btfgen min` would refuse is
    /// refused first ([`TraceError::Unusable`]): aya would take it and the kernel's
    /// verifier refuse the program, at length.
    pub fn load(btf: &[u8]) -> Result<Tracer, TraceError> {
        btfgen::btf::Btf::from_bytes_checked(btf)?;
        let btf = Btf::parse(btf, Endianness::default())?;
        if !TRACEFS.iter().any(|d| Path::new(d).join("events").is_dir()) {
            return Err(TraceError::NoTracefs);
        }
        // Always an explicit BTF: aya 0.14 skips CO-RE relocation silently without one.
        let mut ebpf = EbpfLoader::new().btf(Some(&btf)).load(OBJECT)?;
        let program: &mut TracePoint = ebpf
            .program_mut(PROGRAM)
            .ok_or(TraceError::Missing("sched_process_exec program"))?
            .try_into()?;
        program.load()?;
        program.attach("sched", "sched_process_exec")?;
        let map = ebpf
            .take_map(EVENTS_MAP)
            .ok_or(TraceError::Missing("EVENTS map"))?;
        let mut array = PerfEventArray::try_from(map)?;
        let cpus = aya::util::online_cpus().map_err(|(_, source)| TraceError::Io {
            what: "reading the online CPUs",
            source,
        })?;
        let mut buffers = Vec::with_capacity(cpus.len());
        for cpu in cpus {
            buffers.push(array.open(cpu, Some(16))?);
        }
        Ok(Tracer {
            buffers,
            lost: 0,
            _ebpf: ebpf,
        })
    }

    /// Waits up to `timeout_ms` for events and hands each to `f`. Returns how many
    /// events were read; an interrupted wait (a signal) returns 0.
    pub fn poll(
        &mut self,
        timeout_ms: i32,
        mut f: impl FnMut(ExecEvent),
    ) -> Result<usize, TraceError> {
        let mut fds: Vec<libc::pollfd> = self
            .buffers
            .iter()
            .map(|b| libc::pollfd {
                fd: b.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(TraceError::Io {
                what: "poll",
                source: e,
            });
        }
        let mut count = 0;
        let mut lost = 0;
        for buf in &mut self.buffers {
            if !buf.readable() {
                continue;
            }
            buf.for_each(|event| match event {
                PerfEvent::Sample { head, tail } => {
                    let parsed = if tail.is_empty() {
                        ExecEvent::parse(head)
                    } else {
                        ExecEvent::parse(&[head, tail].concat())
                    };
                    if let Some(e) = parsed {
                        count += 1;
                        f(e);
                    }
                }
                PerfEvent::Lost { count } => lost += count,
            });
        }
        self.lost += lost;
        Ok(count)
    }

    /// Events the kernel dropped because a perf buffer was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }
}
