//! Where a parameter lives on function entry, read from its `DW_AT_location` the way
//! pahole 1.30 reads it (`parameter__reg()` in its dwarf_loader.c), to find functions
//! whose parameters are not in the registers the calling convention puts them in.
//!
//! The location is a single expression (`exprloc`) or a location list (`.debug_loc`,
//! `.debug_loclists`). Each expression of the list is looked at in turn (base address
//! entries are not expressions and do not count); a trailing `DW_OP_stack_value` is
//! dropped, and only expressions left with exactly one operation matter:
//! - `DW_OP_reg0`…`DW_OP_reg31` in the *first* expression: the parameter's register;
//! - `DW_OP_entry_value` / `DW_OP_GNU_entry_value` whose own expression is one
//!   operation, in *any* expression: that operation's opcode (normally a
//!   `DW_OP_regN`) is the register.
//!
//! The first such register equal to the expected one wins; otherwise the last one
//! seen is the answer; none at all means the location says nothing (pahole: the
//! parameter was optimized out). An expression that cannot be parsed ends the list,
//! as libdw's iteration does. `DW_OP_regx` is not a register here, as in pahole.

use gimli::{constants as dw, AttributeValue};

use super::refs::R;

/// The `DW_OP_regN` opcode that holds each register-passed parameter on entry, by
/// parameter index, for the machines pahole 1.30 knows (`arch__set_register_params()`):
/// x86-64 rdi, rsi, rdx, rcx, r8, r9; s390x r2–r6; 32- and 64-bit Arm r0–r7/x0–x7.
/// Other machines: none, so no parameter is ever in an unexpected register.
pub(crate) fn abi_registers(arch: object::Architecture) -> &'static [u8] {
    use object::Architecture as A;
    const X86_64: [u8; 6] = [0x55, 0x54, 0x51, 0x52, 0x58, 0x59];
    const S390X: [u8; 5] = [0x52, 0x53, 0x54, 0x55, 0x56];
    const ARM: [u8; 8] = [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57];
    match arch {
        A::X86_64 => &X86_64,
        A::S390x => &S390X,
        A::Arm | A::Aarch64 => &ARM,
        _ => &[],
    }
}

/// The register a parameter's location names on entry (a `DW_OP_regN` opcode, or
/// whatever single opcode an entry value holds), preferring `expected`; `None` when
/// the location names none. See the module documentation for the rules.
pub(crate) fn param_register(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    location: &AttributeValue<R<'_>>,
    expected: u8,
) -> Option<u8> {
    let encoding = unit.encoding();
    let mut found = None;
    let mut look = |first: bool, expr: R<'_>| -> Result<bool, gimli::Error> {
        if let Some(reg) = expression_register(expr, encoding, first)? {
            found = Some(reg);
            return Ok(reg == expected);
        }
        Ok(false)
    };
    match *location {
        AttributeValue::Exprloc(gimli::Expression(e)) | AttributeValue::Block(e) => {
            let _ = look(true, e);
        }
        other => {
            let offset = match other {
                AttributeValue::SecOffset(o) => gimli::LocationListsOffset(o),
                // DWARF 2 and 3 had no sec_offset form: a data4/data8 location is an
                // offset into `.debug_loc`.
                AttributeValue::Data4(o) if unit.encoding().version <= 3 => {
                    gimli::LocationListsOffset(o as usize)
                }
                AttributeValue::Data8(o) if unit.encoding().version <= 3 => {
                    gimli::LocationListsOffset(usize::try_from(o).ok()?)
                }
                _ => dwarf.attr_locations_offset(unit, other).ok().flatten()?,
            };
            let mut list = dwarf.raw_locations(unit, offset).ok()?;
            let mut first = true;
            while let Ok(Some(entry)) = list.next() {
                use gimli::RawLocListEntry as E;
                let data = match entry {
                    E::BaseAddress { .. } | E::BaseAddressx { .. } => continue,
                    E::AddressOrOffsetPair { data, .. }
                    | E::StartxEndx { data, .. }
                    | E::StartxLength { data, .. }
                    | E::OffsetPair { data, .. }
                    | E::DefaultLocation { data }
                    | E::StartEnd { data, .. }
                    | E::StartLength { data, .. } => data,
                };
                match look(first, data.0) {
                    Ok(true) | Err(_) => break,
                    Ok(false) => first = false,
                }
            }
        }
    }
    found
}

/// The register one expression of a location names, if it is a single operation
/// (after dropping a trailing `DW_OP_stack_value`): `DW_OP_regN` only when it is the
/// list's `first` expression, or an entry value of a single operation. `Err` when the
/// expression does not parse.
fn expression_register(
    expr: R<'_>,
    encoding: gimli::Encoding,
    first: bool,
) -> Result<Option<u8>, gimli::Error> {
    let mut ops = gimli::Expression(expr).operations(encoding);
    let mut count = 0usize;
    let mut only = None;
    let mut last_is_stack_value = false;
    while let Some(op) = ops.next()? {
        count += 1;
        last_is_stack_value = matches!(op, gimli::Operation::StackValue);
        if count == 1 {
            only = Some(op);
        }
    }
    if count > 1 && last_is_stack_value {
        count -= 1;
    }
    if count != 1 {
        return Ok(None);
    }
    let opcode = expr.slice().first().copied().unwrap_or(0);
    Ok(match only {
        Some(_) if (dw::DW_OP_reg0.0..=dw::DW_OP_reg31.0).contains(&opcode) => {
            first.then_some(opcode)
        }
        Some(gimli::Operation::EntryValue { expression }) => {
            let mut inner = gimli::Expression(expression).operations(encoding);
            match (inner.next(), inner.next()) {
                (Ok(Some(_)), Ok(None)) => expression.slice().first().copied(),
                _ => None,
            }
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, RunTimeEndian};

    fn encoding() -> gimli::Encoding {
        gimli::Encoding {
            format: gimli::Format::Dwarf32,
            version: 5,
            address_size: 8,
        }
    }

    fn reg(bytes: &[u8], first: bool) -> Option<u8> {
        expression_register(
            EndianSlice::new(bytes, RunTimeEndian::Little),
            encoding(),
            first,
        )
        .expect("parses")
    }

    #[test]
    fn expressions_and_the_register_they_name() {
        // (expression, first in its list, register)
        let table: &[(&[u8], bool, Option<u8>)] = &[
            // DW_OP_reg5 (rdi)
            (&[0x55], true, Some(0x55)),
            // a register in a later list entry does not count
            (&[0x55], false, None),
            // DW_OP_reg4 DW_OP_stack_value: the stack value is dropped
            (&[0x54, 0x9f], true, Some(0x54)),
            // DW_OP_entry_value(DW_OP_reg1) DW_OP_stack_value, anywhere in the list
            (&[0xa3, 0x01, 0x51, 0x9f], false, Some(0x51)),
            // DW_OP_GNU_entry_value(DW_OP_reg2)
            (&[0xf3, 0x01, 0x52], true, Some(0x52)),
            // an entry value of two operations (DW_OP_breg5 0; DW_OP_deref)
            (&[0xa3, 0x03, 0x75, 0x00, 0x06], true, None),
            // an entry value of one non-register operation: its opcode, as in pahole
            (&[0xa3, 0x02, 0x75, 0x00], true, Some(0x75)),
            // DW_OP_fbreg -20: memory, no register
            (&[0x91, 0x6c], true, None),
            // DW_OP_regx 5: not a DW_OP_regN
            (&[0x90, 0x05], true, None),
            // DW_OP_reg5 DW_OP_piece 8 DW_OP_reg4 DW_OP_piece 8: more than one op
            (&[0x55, 0x93, 0x08, 0x54, 0x93, 0x08], true, None),
            // DW_OP_lit0 DW_OP_stack_value: a constant
            (&[0x30, 0x9f], true, None),
            // a lone DW_OP_stack_value is one operation and names no register
            (&[0x9f], true, None),
            // empty
            (&[], true, None),
        ];
        for (i, &(bytes, first, want)) in table.iter().enumerate() {
            assert_eq!(reg(bytes, first), want, "case {i}: {bytes:02x?}");
        }
    }

    #[test]
    fn an_unparsable_expression_is_an_error() {
        // DW_OP_const4u with two of its four bytes
        let bytes = [0x0c, 0x01, 0x02];
        let r = expression_register(
            EndianSlice::new(&bytes, RunTimeEndian::Little),
            encoding(),
            true,
        );
        assert!(r.is_err());
    }

    #[test]
    fn abi_registers_by_machine() {
        use object::Architecture as A;
        assert_eq!(
            abi_registers(A::X86_64),
            &[0x55, 0x54, 0x51, 0x52, 0x58, 0x59]
        );
        assert_eq!(abi_registers(A::S390x).len(), 5);
        assert_eq!(abi_registers(A::Aarch64)[7], 0x57);
        assert!(abi_registers(A::Riscv64).is_empty());
    }
}
