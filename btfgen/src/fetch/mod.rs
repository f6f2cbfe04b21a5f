//! `btfgen fetch`: from a distro name to the kernel debuginfo packages of its
//! repositories.
//!
//! - [`catalog`]: kernels.toml, one entry per distro release and architecture
//!   (repositories, package patterns, `uname -r` derivation, vmlinux path).
//! - [`meta`]: repository metadata parsers (yum repomd.xml and primary.xml, apt
//!   Packages, HTML directory listings), streaming.
//! - [`select`]: packages → kernels (`uname -r`, URL, size, checksum), version order,
//!   `--kernel`/`--latest`/`--all`/`--shard`.
//! - [`download`]: one package as a stream, with retries, Range resume and its size
//!   and checksum verified as it passes.
//! - [`http`]: the blocking HTTP client and [`available`], which reads an entry's
//!   repositories and lists its kernels.
//!
//! The packages themselves go to [`crate::package`] (fetch → package → dwarf → btf).

pub mod catalog;
pub mod download;
pub mod http;
pub mod meta;
pub mod select;

pub use catalog::{Arch, Catalog, Entry, RepoType};
pub use download::{Download, Verified};
pub use http::{available, Client};
pub use select::{choose, compare_versions, Choice, Kernel, Shard};
