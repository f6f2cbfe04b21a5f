//! `btfgen fetch`: from a distro name to the kernel debuginfo packages of its
//! repositories.
//!
//! - [`catalog`]: kernels.toml, one entry per distro release and architecture
//!   (repositories, package patterns, `uname -r` derivation, vmlinux path).
//! - [`meta`]: repository metadata parsers (yum repomd.xml and primary.xml, apt
//!   Packages, HTML directory listings), streaming.
//! - [`select`]: packages → kernels (`uname -r`, URL, size, checksum), version order,
//!   `--kernel`/`--latest`/`--all`/`--shard`.
//! - [`http`]: the blocking HTTP client and [`available`], which reads an entry's
//!   repositories and lists its kernels.
//!
//! The packages themselves go to [`crate::package`] (fetch → package → dwarf → btf).

pub mod catalog;
pub mod http;
pub mod meta;
pub mod select;

pub use catalog::{Arch, Catalog, Entry, RepoType};
pub use http::{available, Client};
pub use select::{choose, compare_versions, Choice, Kernel, Shard};
