//! Variables: top-level `DW_TAG_variable`s with a static address, the candidates for
//! per-CPU VARs (decided in [`crate::dwarf::vars`] and the pipeline).

use gimli::AttributeValue;

use super::attrs::{decl_info, Die};
use super::{Converter, Ctx};
use crate::dwarf::error::EncodeError;
use crate::dwarf::refs::R;
use crate::dwarf::vars::VarRecord;

impl<'a> Converter<'a, '_> {
    /// A top-level `DW_TAG_variable`: what it declares, and a variable candidate when it
    /// is a definition with a static address.
    #[inline(always)]
    pub(super) fn variable(
        &mut self,
        unit: &gimli::Unit<R<'a>>,
        key: u32,
        die: &Die<'a>,
    ) -> Result<Ctx, EncodeError> {
        self.decls.insert(key, decl_info(die, self.die_name(die)));
        Ok(match self.var_address(unit, die)? {
            Some(addr) if !die.declaration => {
                self.vars.push(VarRecord::new(key, addr));
                Ctx::Var(self.vars.len() - 1)
            }
            _ => Ctx::Other,
        })
    }

    /// The address of a variable with a static location (`DW_OP_addr`/`DW_OP_addrx`).
    fn var_address(
        &self,
        unit: &gimli::Unit<R<'a>>,
        die: &Die<'a>,
    ) -> Result<Option<u64>, EncodeError> {
        let expr = match die.location {
            Some(AttributeValue::Exprloc(e)) => e,
            Some(AttributeValue::Block(b)) => gimli::Expression(b),
            _ => return Ok(None),
        };
        let mut ops = expr.operations(unit.encoding());
        Ok(match ops.next() {
            Ok(Some(gimli::Operation::Address { address })) => Some(address),
            Ok(Some(gimli::Operation::AddressIndex { index })) => {
                Some(self.dwarf.address(unit, index)?)
            }
            _ => None,
        })
    }
}
