//! `btfgen fetch`: from a distro name to the kernel debuginfo packages of its
//! repositories.
//!
//! - `catalog`: kernels.toml ([`Catalog`]), one [`Entry`] per distro release and
//!   architecture (repositories, package patterns, `uname -r` derivation, vmlinux path).
//! - `meta`: repository metadata parsers ([`parse_repomd`] and [`parse_primary`] for yum,
//!   [`parse_packages`] and [`parse_release`] for apt, [`parse_links`] for HTML directory
//!   listings), streaming.
//! - `select`: packages → [`Kernel`]s (`uname -r`, URL, size, checksum), version order,
//!   `--kernel`/`--latest`/`--all`/`--shard` ([`choose`]).
//! - `download`: one package as a stream ([`Download`]), with retries, Range resume and
//!   its size and checksum verified as it passes.
//! - `http`: the blocking HTTP [`Client`] and [`available`], which reads an entry's
//!   repositories and lists its kernels.
//! - `launchpad`: Ubuntu kernels the ddebs index no longer lists, looked up on
//!   Launchpad ([`resolve`]), as BTFHub's `pull-lp-ddebs` fallback does.
//!
//! The packages themselves go to [`crate::package`] (fetch → package → dwarf → btf).

mod catalog;
mod download;
mod http;
mod launchpad;
mod meta;
mod select;

pub use catalog::{Arch, Catalog, CatalogError, Entry, Launchpad, Mirror, RepoType, Source};
pub use download::{Download, Verified, DEFAULT_RETRIES};
pub use http::{available, Client, HttpError};
pub use launchpad::resolve;
pub use meta::{
    parse_links, parse_packages, parse_primary, parse_release, parse_repomd, rpm_from_file_name,
    MetadataError, Package, ReleaseFile, RepomdData,
};
pub use select::{choose, compare_versions, Choice, ChoiceError, Kernel, Shard};
