//! clang's `DW_TAG_LLVM_annotation`: `btf_type_tag` on pointers becomes TYPE_TAGs,
//! `btf_decl_tag` on types, members, functions, parameters and variables DECL_TAGs
//! (each with its feature, `type_tag` and `decl_tag`, on).

use super::attrs::Die;
use super::{Converter, Ctx};
use crate::btf::*;
use crate::dwarf::error::EncodeError;
use crate::dwarf::refs::R;

impl<'a> Converter<'a, '_> {
    /// Handles a `DW_TAG_LLVM_annotation` child: `btf_type_tag` on pointers,
    /// `btf_decl_tag` on types, members, functions, parameters and variables.
    pub(super) fn annotation(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        parent: Ctx,
        key: u32,
        die: &Die<'a>,
    ) -> Result<Ctx, EncodeError> {
        let Some(value) = die.const_value else {
            return Ok(Ctx::Other);
        };
        let value = self.dwarf.attr_string(unit, value)?.slice();
        let value = self.frag.push_bytes(value);
        let features = self.opts.features;
        match (self.die_name(die), parent) {
            (Some(b"btf_type_tag"), Ctx::Pointer(idx)) if features.type_tag => {
                // Each tag is put between the pointer and what it pointed to so far:
                // the last tag in DWARF order ends up first after the PTR.
                let Kind::Ptr(target) = self.frag.types()[idx].kind else {
                    return Ok(Ctx::Other);
                };
                self.push(
                    key,
                    Type {
                        name: value,
                        kind: Kind::TypeTag {
                            ty: target,
                            attr: false,
                        },
                    },
                );
                self.frag.types_mut()[idx].kind = Kind::Ptr(key);
            }
            (Some(b"btf_decl_tag"), Ctx::Composite(idx) | Ctx::Typedef(idx))
                if features.decl_tag =>
            {
                let target = self.type_keys[idx];
                self.push_decl_tag(value, target, -1);
            }
            (Some(b"btf_decl_tag"), Ctx::Member(idx, m)) if features.decl_tag => {
                let target = self.type_keys[idx];
                self.push_decl_tag(value, target, m as i32);
            }
            (Some(b"btf_decl_tag"), Ctx::Func(f)) if features.decl_tag => {
                self.funcs[f].tags.push((value, -1))
            }
            (Some(b"btf_decl_tag"), Ctx::FuncParam(f, i)) if features.decl_tag => {
                self.funcs[f].tags.push((value, i as i32))
            }
            (Some(b"btf_decl_tag"), Ctx::Var(v)) if features.decl_tag => {
                self.vars[v].tags.push(value)
            }
            _ => {}
        }
        Ok(Ctx::Other)
    }

    /// Adds a DECL_TAG `name` on `target` (`component`: member or parameter index, or
    /// -1 for the type itself).
    fn push_decl_tag(&mut self, name: StrOff, target: u32, component: i32) {
        // Decl tags have no DIE of their own that others refer to.
        self.push(
            0,
            Type {
                name,
                kind: Kind::DeclTag {
                    ty: target,
                    component,
                },
            },
        );
    }
}
