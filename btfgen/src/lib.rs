//! btfgen: DWARF → BTF encoding, BTF reading, writing and deduplication, CO-RE
//! relocation and minimization, and BTF dumps.
//!
//! Modules point one way: [`fetch`] lists the kernel debuginfo packages of distro
//! repositories, [`package`] streams the vmlinux out of a package (fetch → package →
//! dwarf → btf); [`dwarf`] produces types
//! into the [`btf`] model;
//! [`min`] uses [`relo`] (the CO-RE engine), which reads BPF objects through [`bpf`]
//! and resolves against [`btf`]; [`dump`] prints [`btf`]; [`diff`] compares two
//! [`btf`]s, and the relocations of BPF objects on both through [`relo`].
//!
//! Features (all on by default): `dwarf` (the encoder; gimli), `package` (debuginfo
//! packages), `fetch` (the catalog and downloads; reqwest) and `cli` (the `btfgen`
//! binary). With `default-features = false` the library is the BTF model, [`bpf`],
//! [`relo`], [`min`], [`dump`] and [`diff`]: what a loader embedding CO-RE needs, without
//! gimli or reqwest.

pub mod atomic;
pub mod bpf;
pub mod btf;
pub mod diff;
pub mod dump;
#[cfg(feature = "dwarf")]
pub mod dwarf;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod json;
pub mod min;
#[cfg(feature = "package")]
pub mod package;
pub mod relo;
