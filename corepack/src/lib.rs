//! corepack: bundles of minimized BTF for fleets of mixed kernels, and the choice of BTF
//! at load time.
//!
//! A loader that embeds a bundle opens it with [`Bundle::open`] (which checks the header
//! and the manifest, and touches no blob), then asks [`select_btf`] which BTF this
//! machine should use: an explicit path, the kernel's own `/sys/kernel/btf/vmlinux`, or
//! the bundle's entry for this kernel, decoded and checked. Everything selection reads
//! from the machine is a field of [`Environment`], so it can be injected:
//!
//! ```
//! use corepack::{select_btf, BtfSource, Bundle, BundleBuilder, Environment, KernelId};
//!
//! // A bundle with one kernel (real bundles come from `corepack build`, and their blobs
//! // are minimized BTF).
//! let btf = b"the minimized BTF of 5.4.0-42-generic".to_vec();
//! let mut builder = BundleBuilder::new("execsnoop", "1.0");
//! builder.add_kernel(KernelId::new("x86_64", "5.4.0-42-generic", "ubuntu", "20.04"), &btf)?;
//! let (bytes, _stats) = builder.finish()?;
//!
//! // At load time: this machine as it would be detected, here a kernel without BTF.
//! let env = Environment {
//!     uname: "5.4.0-42-generic".into(),
//!     arch: "x86_64".into(),
//!     os_release: Some("ID=ubuntu\nVERSION_ID=\"20.04\"\n".into()),
//!     ..Environment::default()
//! };
//! let bundle = Bundle::open(&bytes)?;
//! let chosen = select_btf(&env, Some(&bundle))?;
//! match chosen.source {
//!     BtfSource::Bundle { btf: chosen_btf, .. } => assert_eq!(chosen_btf, btf),
//!     other => panic!("expected the bundle entry, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The parts:
//! - the `.corepack` format (`FORMAT.md`): [`Bundle`] reads and validates a bundle held
//!   in memory, [`BundleBuilder`] writes one;
//! - selection: [`select_btf`], [`select_with`] and [`Environment`]; the running
//!   kernel's GNU build-id from its ELF notes: [`notes`];
//! - [`build`] (feature `build`, default): minimizing kernels with btfgen into a bundle;
//! - [`trace`] (feature `trace`, default): the bundled exec tracer, loaded with aya;
//! - [`vmtest`] (feature `vmtest`, default): programs loaded on kernels booted in qemu,
//!   the verifier's verdicts explained in C terms (`corepack test`).
//!
//! Without features this library depends on neither btfgen nor aya. With them it uses
//! btfgen without its default features, so it never links gimli or reqwest.

#[cfg(feature = "build")]
pub mod build;
mod format;
pub mod notes;
mod select;
#[cfg(feature = "trace")]
pub mod trace;
#[cfg(feature = "vmtest")]
pub mod vmtest;

pub use format::{
    normalize_arch, BlobInfo, BuildStats, Bundle, BundleBuilder, BundleError, Check, Codec, Entry,
    KernelId, ObjectInfo, CHECK_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_CHAIN, MAX_RAW_BLOB,
    MAX_RAW_FRAME, MAX_RAW_MANIFEST, OLDEST_FORMAT_VERSION,
};
pub use select::{
    os_release_field, select_btf, select_with, BtfSource, Environment, Excluded, SelectError,
    Selection, SourcePolicy, BTF_ENV, KERNEL_BTF,
};
