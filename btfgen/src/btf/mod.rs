//! The BTF model: a [`Btf`] holds [`Type`]s (one Rust type per BTF kind, [`Kind`]) and
//! [`Strings`]; it is read from raw or ELF bytes ([`Btf::from_bytes`], [`Btf::from_file`],
//! split on a base with [`Btf::from_split_bytes`]) and written back ([`Btf::to_bytes`],
//! [`Btf::to_elf`]). [`Dedup`] (and the one-shot [`dedup()`]) is libbpf's type graph
//! deduplication; [`check_reference_loops`] refuses the reference loops no C type has.
//!
//! The files: `types` (the model), `strings`, `read`, `write`, `dedup/` (its own design
//! overview), `loops`, `distill` and `relocate` (a module's distilled base,
//! `.BTF.base`, and moving its split BTF onto another build's base), `modules` (modules'
//! split BTF joined on their vmlinux, and their place beside it on disk), and `query`, the one place that answers "what is this type's
//! size" and "what is under these modifiers and typedefs", with the depth limits every
//! walk of the crate uses.

mod archive;
mod dedup;
mod distill;
mod loops;
mod modules;
pub(crate) mod query;
mod read;
mod relocate;
mod strings;
mod types;
mod write;

#[cfg(test)]
pub(crate) mod test_util;

use std::borrow::Cow;
use std::sync::Arc;

pub use archive::{
    kernel_name, unpack_budget, BTF_FILE_SUFFIXES, UNPACK_CAP, UNPACK_FLOOR, UNPACK_RATIO,
};
pub use dedup::{dedup, Dedup};
pub use distill::{distill, DistillError, Distilled};
pub use loops::check_reference_loops;
pub use modules::{
    is_module_file, join_modules, module_files, modules_dir, JoinError, MODULES_DIR,
};
pub(crate) use read::sections_data;
pub use read::{detect_endian, BtfError};
pub use relocate::{relocate, RelocateError};
pub use strings::Strings;
pub use types::*;

/// `BTF_MAGIC`.
pub const MAGIC: u16 = 0xeb9f;
/// The ELF section holding a module's distilled base BTF, beside its `.BTF`.
pub const DISTILLED_BASE_SECTION: &str = ".BTF.base";
/// Length of the BTF header that this crate writes (libbpf ≤ 1.7's layout).
pub const HEADER_LEN: u32 = 24;
/// The longest GNU build-id kept from an input (GNU ld writes 20 bytes, SHA-1; 16 for
/// MD5 or a UUID); corepack's bundles hold as many.
pub const MAX_BUILD_ID: usize = 64;

/// Byte order of a BTF blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Little-endian (x86_64, aarch64, ...).
    Little,
    /// Big-endian (s390x, ...).
    Big,
}

impl Endian {
    /// The byte order of the machine this runs on.
    pub fn native() -> Self {
        if cfg!(target_endian = "big") {
            Endian::Big
        } else {
            Endian::Little
        }
    }
}

/// A BTF type graph: its own types and strings, optionally split on a base BTF.
///
/// Ids below [`Btf::start_id`] belong to the base; [`Btf::get`] resolves them there.
#[derive(Clone, Debug)]
pub struct Btf {
    base: Option<Arc<Btf>>,
    types: Vec<Type>,
    strings: Strings,
    endian: Endian,
}

impl Default for Btf {
    fn default() -> Self {
        Self::new()
    }
}

impl Btf {
    /// An empty base BTF in native byte order.
    pub fn new() -> Self {
        Btf {
            base: None,
            types: Vec::new(),
            strings: Strings::new(0),
            endian: Endian::native(),
        }
    }

    /// An empty split BTF whose ids and string offsets continue after `base`'s.
    pub fn new_split(base: Arc<Btf>) -> Self {
        Btf {
            strings: Strings::new(base.strings_end()),
            endian: base.endian,
            types: Vec::new(),
            base: Some(base),
        }
    }

    pub(crate) fn from_parts(
        base: Option<Arc<Btf>>,
        types: Vec<Type>,
        strings: Strings,
        endian: Endian,
    ) -> Self {
        Btf {
            base,
            types,
            strings,
            endian,
        }
    }

    /// The base this BTF is split on, if any.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Id of this BTF's first own type: 1 for base BTF.
    pub fn start_id(&self) -> TypeId {
        self.base.as_ref().map_or(1, |b| b.type_count())
    }

    /// One past the last valid type id (counting `void` as id 0).
    pub fn type_count(&self) -> TypeId {
        self.start_id() + self.types.len() as u32
    }

    /// Offset one past the end of the combined (base + own) string space.
    pub fn strings_end(&self) -> u32 {
        self.strings.start() + self.strings.len() as u32
    }

    /// Byte order used when writing.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Sets the byte order used when writing.
    pub fn set_endian(&mut self, endian: Endian) {
        self.endian = endian;
    }

    /// This BTF's own types, the first having id [`Btf::start_id`].
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// Mutable access to this BTF's own types.
    pub fn types_mut(&mut self) -> &mut Vec<Type> {
        &mut self.types
    }

    /// This BTF's own string table.
    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    /// Mutable access to this BTF's own string table.
    pub fn strings_mut(&mut self) -> &mut Strings {
        &mut self.strings
    }

    /// Own types with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &Type)> {
        let start = self.start_id();
        self.types
            .iter()
            .enumerate()
            .map(move |(i, t)| (start + i as u32, t))
    }

    /// The type with id `id`, looking into the base for base ids; `None` for void and
    /// out-of-range ids.
    pub fn get(&self, id: TypeId) -> Option<&Type> {
        let start = self.start_id();
        if id >= start {
            self.types.get((id - start) as usize)
        } else {
            self.base.as_ref().and_then(|b| b.get(id))
        }
    }

    /// Appends a type and returns its id.
    pub fn add(&mut self, t: Type) -> TypeId {
        self.types.push(t);
        self.type_count() - 1
    }

    /// Adds a name to this BTF's own string table (reusing an identical one already
    /// there) and returns its offset. The base's strings are not searched: a split BTF
    /// gets its own copy ([`Dedup`] interns against the base where that matters).
    pub fn add_str(&mut self, s: &str) -> StrOff {
        self.add_bytes(s.as_bytes())
    }

    /// Adds raw name bytes; see [`Btf::add_str`].
    pub fn add_bytes(&mut self, s: &[u8]) -> StrOff {
        if s.is_empty() {
            return 0;
        }
        self.strings.add(s)
    }

    /// Appends a name to the own string table without looking for an existing copy
    /// (see [`Strings::push`]); empty names are offset 0.
    pub fn push_bytes(&mut self, s: &[u8]) -> StrOff {
        if s.is_empty() {
            return 0;
        }
        self.strings.push(s)
    }

    /// The raw bytes of the name at `off` (base or own table).
    pub fn name_bytes(&self, off: StrOff) -> Option<&[u8]> {
        if off >= self.strings.start() {
            self.strings.get(off)
        } else {
            self.base.as_ref().and_then(|b| b.name_bytes(off))
        }
    }

    /// The name at `off`, lossily decoded; empty for offset 0 or an invalid offset.
    pub fn name(&self, off: StrOff) -> Cow<'_, str> {
        String::from_utf8_lossy(self.name_bytes(off).unwrap_or_default())
    }

    /// The name of the type `id` (empty for void or anonymous types).
    pub fn type_name(&self, id: TypeId) -> Cow<'_, str> {
        self.get(id)
            .map_or(Cow::Borrowed(""), |t| self.name(t.name))
    }

    /// Ids of all types (base included) named `name`, in id order.
    pub fn find_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = TypeId> + 'a {
        let base: Box<dyn Iterator<Item = TypeId> + 'a> = match &self.base {
            Some(b) => Box::new(b.find_by_name(name)),
            None => Box::new(std::iter::empty()),
        };
        base.chain(
            self.iter()
                .filter(move |(_, t)| {
                    t.name != 0 && self.name_bytes(t.name) == Some(name.as_bytes())
                })
                .map(|(id, _)| id),
        )
    }
}
