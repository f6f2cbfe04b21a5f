//! Per-CPU variables: `DW_TAG_variable`s placed in `.data..percpu` become VAR entries of
//! one DATASEC, as pahole encodes them (name and size from the ELF symbol at the
//! variable's address, type from DWARF, linkage from `DW_AT_external`).

use hashbrown::HashMap;

use super::error::EncodeError;
use super::refs::{DeclInfo, Lookup};
use crate::btf::*;

/// A top-level variable definition with a static address.
pub(crate) struct VarRecord<'a> {
    key: u32,
    /// Address from its `DW_AT_location`.
    pub addr: u64,
    /// `btf_decl_tag` values (fragment strings).
    pub tags: Vec<StrOff>,
    /// DWARF name (the ELF symbol's name is what gets encoded; they must agree for a
    /// variable at offset 0).
    pub name: &'a [u8],
    /// Type, as a fragment id.
    pub ty: TypeId,
    /// `DW_AT_external`: global linkage.
    pub external: bool,
}

impl<'a> VarRecord<'a> {
    /// A record for the variable DIE at `key` located at `addr`.
    pub(super) fn new(key: u32, addr: u64) -> Self {
        VarRecord {
            key,
            addr,
            tags: Vec::new(),
            name: b"",
            ty: 0,
            external: false,
        }
    }

    /// Follows `DW_AT_specification` to the declaration for name, type and linkage.
    pub(super) fn resolve(
        &mut self,
        decls: &HashMap<u32, DeclInfo<'a>>,
        lookup: &Lookup<'_>,
    ) -> Result<(), EncodeError> {
        let mut cur = decls.get(&self.key).copied().unwrap_or_default();
        let mut ty = cur.ty;
        let mut external = cur.external;
        let mut name = cur.name;
        for _ in 0..8 {
            let Some(next) = cur.origin.and_then(|o| decls.get(&o)) else {
                break;
            };
            cur = *next;
            ty = ty.or(cur.ty);
            name = name.or(cur.name);
            external |= cur.external;
        }
        self.name = name.unwrap_or(b"");
        self.external = external;
        self.ty = lookup.resolve(ty.unwrap_or(0))?;
        Ok(())
    }
}
