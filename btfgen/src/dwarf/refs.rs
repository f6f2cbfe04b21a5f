//! The vocabulary the walk shares with its consumers: the section reader type, what
//! subprogram, parameter and variable DIEs declare ([`DeclInfo`]), and the map from DIE
//! keys (`.debug_info` offsets) to fragment type ids ([`Lookup`]).

use gimli::{EndianSlice, RunTimeEndian};
use hashbrown::HashMap;

use super::error::EncodeError;
use crate::btf::TypeId;

/// The reader every DWARF section is read through: a slice of the input in its byte
/// order.
pub(crate) type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// Key of the synthesized array index type (`int`).
pub(crate) const INDEX_INT_KEY: u32 = u32::MAX;

/// Name, type and linkage of a subprogram, parameter or variable DIE, for DIEs that
/// inherit them through `DW_AT_abstract_origin` or `DW_AT_specification`.
#[derive(Clone, Copy, Default)]
pub(crate) struct DeclInfo<'a> {
    /// `DW_AT_name`.
    pub name: Option<&'a [u8]>,
    /// `DW_AT_type`, as a DIE key.
    pub ty: Option<u32>,
    /// `DW_AT_external`.
    pub external: bool,
    /// `DW_AT_abstract_origin` or `DW_AT_specification`, as a DIE key.
    pub origin: Option<u32>,
}

/// Maps DIE keys to fragment type ids.
pub(crate) struct Lookup<'k> {
    /// Every DIE that became a type, sorted by key.
    pub(super) keys: &'k [(u32, TypeId)],
    /// For a single unit: type id by DIE offset minus the unit's start (0: none).
    pub(super) dense: Option<(u32, &'k [TypeId])>,
    /// DIEs that stand for another DIE's type (`DW_TAG_atomic_type`).
    pub(super) aliases: &'k HashMap<u32, u32>,
    /// The key ranges of the units being converted.
    pub(super) ranges: &'k [(u32, u32)],
    /// The type id of the array index `int` ([`INDEX_INT_KEY`]).
    pub(super) index_int: TypeId,
}

impl Lookup<'_> {
    /// The type id for the DIE at `key`: 0 (void) for DIEs that are no type, an error
    /// for references outside the units being converted.
    pub(super) fn resolve(&self, mut key: u32) -> Result<TypeId, EncodeError> {
        for _ in 0..32 {
            if key == 0 {
                return Ok(0);
            }
            if key == INDEX_INT_KEY {
                return Ok(self.index_int);
            }
            match self.dense {
                Some((lo, table)) => {
                    if let Some(&id) = table.get(key.wrapping_sub(lo) as usize) {
                        if id != 0 {
                            return Ok(id);
                        }
                    }
                }
                None => {
                    if let Ok(i) = self.keys.binary_search_by_key(&key, |&(k, _)| k) {
                        return Ok(self.keys[i].1);
                    }
                }
            }
            match self.aliases.get(&key) {
                Some(&next) => key = next,
                None if self.ranges.iter().any(|&(lo, hi)| key >= lo && key < hi) => return Ok(0),
                None => return Err(EncodeError::BadReference(key as u64)),
            }
        }
        Ok(0)
    }
}
