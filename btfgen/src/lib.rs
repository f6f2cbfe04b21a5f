//! btfgen: DWARF → BTF encoding, BTF reading and writing, and deduplication.

pub mod btf;
