//! corepack: bundles of minimized BTF for fleets of mixed kernels.
//!
//! - [`format`]: the `.corepack` file format (see `FORMAT.md`): [`Bundle`] reads and
//!   validates a bundle held in memory, [`BundleBuilder`] writes one.
//! - [`select`]: which BTF a loader should use on this machine: an explicit path, the
//!   kernel's own `/sys/kernel/btf/vmlinux`, or the bundle entry for this kernel.
//!
//! - [`build`] (feature `build`, default): minimizing kernels with btfgen into a bundle.
//! - [`trace`] (feature `trace`, default): the bundled exec tracer, loaded with aya.
//!
//! Without features this library depends on neither btfgen nor aya. With them it uses
//! btfgen without its default features, so it never links gimli or reqwest.

#[cfg(feature = "build")]
pub mod build;
pub mod format;
pub mod select;
#[cfg(feature = "trace")]
pub mod trace;

pub use format::{
    normalize_arch, BlobInfo, BuildStats, Bundle, BundleBuilder, BundleError, Codec, Entry,
    KernelId, ObjectInfo, FORMAT_VERSION, MAGIC,
};
pub use select::{
    select_btf, select_with, BtfSource, Environment, SelectError, Selection, SourcePolicy,
};
