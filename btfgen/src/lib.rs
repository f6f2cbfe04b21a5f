//! btfgen: DWARF → BTF encoding, the BTF model with its reader, writer and
//! deduplication, libbpf's CO-RE relocation engine, minimization, and BTF dumps and diffs.
//!
//! From a DWARF object to a program's minimized kernel BTF, with the repository's
//! fixtures (`fixtures/demo.o`, built by `cc -c -O2 -g demo.c`, and `fixtures/demo.bpf.o`,
//! a CO-RE program that reads its `struct task`):
//!
//! ```
//! use btfgen::{bpf::BpfObject, btf::Btf, dwarf, min, relo};
//!
//! let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
//! // DWARF → deduplicated BTF (a vmlinux or a module works the same way).
//! let elf = std::fs::read(format!("{fixtures}/demo.o"))?;
//! let encoded = dwarf::encode(&elf, &dwarf::Options::default())?;
//!
//! // The BTF wire format (what pahole --btf_encode_detached writes), and back.
//! let bytes = encoded.btf.to_bytes();
//! let kernel = Btf::from_bytes(&bytes)?;
//! assert_eq!(kernel.find_by_name("task").count(), 1);
//!
//! // What libbpf patches into the program's CO-RE relocations on that BTF:
//! // task.pid at byte 0, task.start_time at byte 48, and sizeof(task.comm).
//! let prog = BpfObject::parse(&std::fs::read(format!("{fixtures}/demo.bpf.o"))?)?;
//! let values: Vec<u64> = relo::resolve_object(&prog, &kernel)
//!     .into_iter()
//!     .map(|o| o.result.map(|r| r.new_val))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(values, [0, 48, 16]);
//!
//! // The smallest BTF that gives the program the same values.
//! let small = min::minimize(&kernel, &[prog])?;
//! assert!(small.to_bytes().len() < bytes.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules point one way: [`fetch`] lists the kernel debuginfo packages of distro
//! repositories, [`package`] streams the vmlinux out of a package (fetch → package →
//! dwarf → btf); [`dwarf`] produces types into the [`btf`] model; [`min`] uses [`relo`]
//! (the CO-RE engine), which reads BPF objects through [`bpf`] and resolves against
//! [`btf`] (min → relo → btf); [`dump`] prints [`btf`]; [`diff`] compares two [`btf`]s,
//! and the relocations of BPF objects on both through [`relo`]; [`fetch`] and [`package`]
//! check every digest the metadata and packages record through [`digest`]. Each
//! module's files are private; what it offers is re-exported at its root.
//!
//! Features (all on by default): `dwarf` (the encoder; gimli), `package` (debuginfo
//! packages and [`digest`]), `fetch` (the catalog and downloads; reqwest) and `cli` (the `btfgen`
//! binary). With `default-features = false` the library is the BTF model, [`bpf`],
//! [`relo`], [`min`], [`dump`] and [`diff`]: what a loader embedding CO-RE needs, without
//! gimli or reqwest.

// Not API: shared with the `btfgen` and `corepack` binaries, may change in any release.
#[doc(hidden)]
pub mod atomic;
pub mod bpf;
pub mod btf;
pub mod diff;
#[cfg(feature = "package")]
pub mod digest;
pub mod dump;
#[cfg(feature = "dwarf")]
pub mod dwarf;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod input;
// Not API, as `atomic`.
#[doc(hidden)]
pub mod json;
pub mod min;
// Not API, as `atomic`.
#[doc(hidden)]
pub mod near;
// Not API, as `atomic`.
#[doc(hidden)]
pub mod output;
#[cfg(feature = "package")]
pub mod package;
pub mod relo;
// Not API, as `atomic`.
#[doc(hidden)]
pub mod text;
