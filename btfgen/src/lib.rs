//! btfgen: DWARF → BTF encoding, BTF reading and writing, and deduplication.
//!
//! Modules point one way: [`dwarf`] produces types into the [`btf`] model.

pub mod btf;
pub mod dump;
pub mod dwarf;
