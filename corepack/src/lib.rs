//! corepack: bundles of minimized BTF for fleets of mixed kernels.
//!
//! - [`format`]: the `.corepack` file format (see `FORMAT.md`): [`Bundle`] reads and
//!   validates a bundle held in memory, [`BundleBuilder`] writes one.
//! - [`select`]: which BTF a loader should use on this machine: an explicit path, the
//!   kernel's own `/sys/kernel/btf/vmlinux`, or the bundle entry for this kernel.
//!
//! - [`build`] (feature `build`, default): minimizing kernels with btfgen into a bundle.
//!
//! Without the `build` feature this library does not depend on btfgen (and so links neither
//! gimli nor reqwest).

#[cfg(feature = "build")]
pub mod build;
pub mod format;
pub mod select;

pub use format::{
    normalize_arch, BlobInfo, BuildStats, Bundle, BundleBuilder, BundleError, Entry, KernelId,
    ObjectInfo, FORMAT_VERSION, MAGIC,
};
pub use select::{select_btf, BtfSource, Environment, SelectError, Selection};
