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

pub mod bpf;
pub mod btf;
pub mod diff;
pub mod dump;
pub mod dwarf;
pub mod fetch;
pub mod json;
pub mod min;
pub mod package;
pub mod relo;
