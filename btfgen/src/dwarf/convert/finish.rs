//! Finishing a group: types put in pahole's order, DIE keys resolved to type ids, and
//! what needed every DIE of the group (bitfield offsets, ENUM64 signedness, function
//! and variable candidates) completed.

use hashbrown::HashMap;

use super::{composite, enums, Converted, Converter, LAZY_NAME};
use crate::btf::*;
use crate::dwarf::error::EncodeError;
use crate::dwarf::refs::Lookup;

thread_local! {
    /// The dense DIE-offset → type-id table of [`Converter::finish`], kept by each
    /// thread between units and all zero between uses: a unit needs four table bytes
    /// per byte of DIEs, which allocating and zeroing anew for each unit made 4% of
    /// the encoder's instructions.
    static DENSE: std::cell::RefCell<Vec<TypeId>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<'a> Converter<'a, '_> {
    /// Puts the fragment's types in pahole's order (see [`Converter::push`]) and
    /// renumbers everything that holds a type index or id.
    fn reorder(&mut self) {
        let n = self.frag.types().len();
        let mut pos = vec![u32::MAX; n];
        for (new, &old) in self.order.iter().enumerate() {
            pos[old as usize] = new as u32;
        }
        if pos.iter().enumerate().all(|(i, &p)| p == i as u32) {
            return;
        }
        let mut slots: Vec<Option<Type>> = self.frag.types_mut().drain(..).map(Some).collect();
        let types = self.frag.types_mut();
        for &old in &self.order {
            if let Some(t) = slots[old as usize].take() {
                types.push(t);
            }
        }
        let id = |old: TypeId| pos[old as usize - 1] + 1;
        for k in &mut self.keys {
            k.1 = id(k.1);
        }
        if let Some(i) = &mut self.index_int {
            *i = id(*i);
        }
        for e in &mut self.enum64_base {
            e.0 = pos[e.0] as usize;
        }
        for b in &mut self.bitfields {
            b.composite = pos[b.composite] as usize;
        }
    }

    /// Gives the names [`Converter::lazy_name`] left unread offsets past the finished
    /// string table, each recorded with its key in `name_keys`.
    fn place_lazy_names(&mut self) -> Result<(), EncodeError> {
        if self.lazy_names.is_empty() {
            return Ok(());
        }
        let end = self.frag.strings_end();
        if end >= LAZY_NAME || end.checked_add(self.lazy_names.len() as u32).is_none() {
            return Err(EncodeError::TooLarge);
        }
        for t in self.frag.types_mut() {
            t.for_each_name_mut(|n| {
                if *n & LAZY_NAME != 0 {
                    *n = end + (*n & !LAZY_NAME);
                }
            });
        }
        let placed = self.lazy_names.iter().enumerate();
        self.name_keys
            .extend(placed.map(|(i, &key)| (end + i as u32, key)));
        Ok(())
    }

    /// Resolves every DIE reference to a fragment type id and completes what needed
    /// the whole group: DWARF 2–4 bitfield offsets, ENUM64 signedness, and the
    /// function and variable candidates.
    pub(crate) fn finish(mut self) -> Result<Converted<'a>, EncodeError> {
        self.reorder();
        self.keys.sort_unstable();
        let aliases: HashMap<u32, u32> = self.aliases.iter().copied().collect();
        // One unit: a table indexed by DIE offset. Several (LTO): binary search.
        let dense = match self.ranges[..] {
            [(lo, hi)] => {
                let mut table = DENSE.with(|d| std::mem::take(&mut *d.borrow_mut()));
                table.resize(table.len().max((hi - lo) as usize), 0);
                for &(k, id) in &self.keys {
                    if let Some(slot) = table.get_mut(k.wrapping_sub(lo) as usize) {
                        *slot = id;
                    }
                }
                Some((lo, table))
            }
            _ => None,
        };
        let finished = self.resolve_all(&aliases, dense.as_ref());
        // Zero what was set and keep the table for the next unit (after an error it
        // is dropped, which keeps it all zero as well).
        if let (Ok((_, keys)), Some((lo, mut table))) = (&finished, dense) {
            for &(k, _) in keys {
                if let Some(slot) = table.get_mut(k.wrapping_sub(lo) as usize) {
                    *slot = 0;
                }
            }
            DENSE.with(|d| *d.borrow_mut() = table);
        }
        finished.map(|(converted, _)| converted)
    }

    /// The part of [`Converter::finish`] that uses the key lookup: every reference,
    /// bitfield, ENUM64 and function or variable candidate resolved. Returns the keys
    /// the lookup was built from with the result.
    fn resolve_all(
        mut self,
        aliases: &HashMap<u32, u32>,
        dense: Option<&(u32, Vec<TypeId>)>,
    ) -> Result<(Converted<'a>, Vec<(u32, TypeId)>), EncodeError> {
        let lookup = Lookup {
            keys: &self.keys,
            dense: dense.map(|(lo, t)| (*lo, t.as_slice())),
            aliases,
            ranges: &self.ranges,
            index_int: self.index_int.unwrap_or(0),
        };
        let mut err = None;
        for t in self.frag.types_mut() {
            t.kind.for_each_ref_mut(|r| match lookup.resolve(*r) {
                Ok(id) => *r = id,
                Err(e) => {
                    err.get_or_insert(e);
                }
            });
        }
        if let Some(e) = err {
            return Err(e);
        }
        composite::resolve_bitfields(
            &mut self.frag,
            std::mem::take(&mut self.bitfields),
            self.big_endian,
        );
        enums::resolve_enum64_signs(&mut self.frag, &self.enum64_base, &lookup)?;
        let decls = std::mem::take(&mut self.decls);
        let mut funcs = Vec::new();
        for mut f in std::mem::take(&mut self.funcs) {
            if f.resolve(&decls, &lookup, &mut self.frag, self.symbols)? {
                funcs.push(f);
            }
        }
        let mut vars = std::mem::take(&mut self.vars);
        for v in &mut vars {
            v.resolve(&decls, &lookup)?;
        }
        self.place_lazy_names()?;
        let converted = Converted {
            frag: self.frag,
            funcs,
            vars,
            name_keys: self.name_keys,
        };
        Ok((converted, self.keys))
    }
}
