//! The bundled exec tracer (feature `trace`): a BPF program on the `sched_process_exec`
//! tracepoint (`bpf/trace.bpf.c`, compiled by clang at build time), loaded with aya after
//! CO-RE relocation against the BTF [`crate::select_btf`] chose.
//!
//! - [`OBJECT`]: the compiled BPF object, for `corepack build --tracer`.
//! - [`embedded_bundle`]: the bundle built into the binary, if any.
//! - [`Tracer`]: loads and attaches the program; [`Tracer::poll`] yields [`ExecEvent`]s.

mod event;
mod loader;

pub use event::{ExecEvent, EVENT_SIZE};
pub use loader::{TraceError, Tracer};

/// The tracer's BPF object (ELF, with BTF and CO-RE relocations).
pub static OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/trace.bpf.o"));

/// The file name the object is recorded under in bundle manifests.
pub const OBJECT_NAME: &str = "trace.bpf.o";

static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/embedded.corepack"));

/// The bundle embedded at build time (`COREPACK_EMBED_BUNDLE=PATH cargo build`), if any.
pub fn embedded_bundle() -> Option<&'static [u8]> {
    (!EMBEDDED.is_empty()).then_some(EMBEDDED)
}
