//! Function types: FUNC_PROTOs of `DW_TAG_subroutine_type`, and the subprograms that
//! may become FUNCs (recorded here, decided in [`crate::dwarf::funcs`]).

use super::attrs::{decl_info, Die};
use super::{Converter, Ctx};
use crate::btf::*;
use crate::dwarf::funcs::FuncRecord;
use crate::dwarf::locations::param_register;
use crate::dwarf::refs::R;

impl<'a> Converter<'a, '_> {
    /// A `DW_TAG_subroutine_type`: a FUNC_PROTO its parameters are added to.
    #[inline(always)]
    pub(super) fn subroutine(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        let kind = Kind::FuncProto(FuncProto {
            ret: die.ty_or_void(),
            params: Vec::new(),
        });
        Ctx::Proto(self.push(key, Type { name: 0, kind }))
    }

    /// A `DW_TAG_formal_parameter`, or (`vararg`) `DW_TAG_unspecified_parameters`, of a
    /// subroutine type or a subprogram. A subprogram's parameter whose location names a
    /// register other than the one its position is passed in marks the subprogram.
    #[inline(always)]
    pub(super) fn param(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        parent: Ctx,
        key: u32,
        die: &Die<'a>,
        vararg: bool,
    ) -> Ctx {
        match parent {
            Ctx::Proto(idx) => {
                let p = if vararg {
                    Param { name: 0, ty: 0 }
                } else {
                    Param {
                        name: self.name(die),
                        ty: die.ty_or_void(),
                    }
                };
                if let Kind::FuncProto(fp) = self.ty_mut(idx) {
                    fp.params.push(p);
                }
                Ctx::Other
            }
            Ctx::Func(f) => {
                if !vararg {
                    self.decls.insert(key, decl_info(die, self.die_name(die)));
                }
                let i = self.funcs[f].add_param(key, vararg);
                let expected = self.symbols.registers.get(i as usize).copied();
                if let (Some(expected), Some(location), false) = (expected, &die.location, vararg) {
                    let reg = param_register(self.dwarf, unit, location, expected);
                    if reg.is_some_and(|r| r != expected) {
                        self.funcs[f].unexpected_param = true;
                    }
                }
                Ctx::FuncParam(f, i)
            }
            _ => Ctx::Other,
        }
    }

    /// A `DW_TAG_subprogram`: what it declares, and a function candidate unless it is a
    /// declaration.
    #[inline(always)]
    pub(super) fn subprogram(&mut self, key: u32, die: &Die<'a>) -> Ctx {
        self.decls.insert(key, decl_info(die, self.die_name(die)));
        if die.declaration {
            Ctx::Other
        } else {
            self.funcs.push(FuncRecord::new(key));
            Ctx::Func(self.funcs.len() - 1)
        }
    }
}
