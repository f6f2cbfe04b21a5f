//! A BTF builder for unit tests: every module's tests build the types they need with
//! it, in a line each, instead of spelling out [`Type`] records.
//!
//! ```ignore
//! let mut b = Builder::new();
//! let int = b.int("int", 4);
//! let task = b.strukt("task_struct", 16, &[("pid", int, 0), ("tgid", int, 32)]);
//! let btf = b.build();
//! ```

use std::sync::Arc;

use super::{
    Array, Btf, Composite, Datasec, Enum, Enumerator, FuncProto, Int, Kind, Member, Param, Type,
    TypeId, VarSecInfo, INT_BOOL, INT_SIGNED,
};

/// Builds a [`Btf`] type by type; each method returns the new type's id.
pub(crate) struct Builder {
    btf: Btf,
}

impl Builder {
    /// An empty base BTF.
    pub(crate) fn new() -> Self {
        Builder { btf: Btf::new() }
    }

    /// An empty split BTF on `base`.
    pub(crate) fn split(base: Arc<Btf>) -> Self {
        Builder {
            btf: Btf::new_split(base),
        }
    }

    /// The BTF built so far.
    pub(crate) fn build(self) -> Btf {
        self.btf
    }

    /// The BTF built so far, borrowed (to look names up while building).
    pub(crate) fn btf(&self) -> &Btf {
        &self.btf
    }

    /// Adds `kind` named `name` ("" for anonymous).
    pub(crate) fn add(&mut self, name: &str, kind: Kind) -> TypeId {
        let name = self.btf.add_str(name);
        self.btf.add(Type { name, kind })
    }

    /// A signed integer of `size` bytes.
    pub(crate) fn int(&mut self, name: &str, size: u32) -> TypeId {
        self.int_enc(name, size, INT_SIGNED)
    }

    /// An unsigned integer of `size` bytes.
    pub(crate) fn uint(&mut self, name: &str, size: u32) -> TypeId {
        self.int_enc(name, size, 0)
    }

    /// `_Bool`.
    pub(crate) fn bool(&mut self) -> TypeId {
        self.int_enc("_Bool", 1, INT_BOOL)
    }

    /// An integer of `size` bytes with the given `INT_*` encoding.
    pub(crate) fn int_enc(&mut self, name: &str, size: u32, encoding: u8) -> TypeId {
        self.add(
            name,
            Kind::Int(Int {
                size,
                encoding,
                offset: 0,
                bits: (size * 8) as u8,
            }),
        )
    }

    /// A floating-point type of `size` bytes.
    pub(crate) fn float(&mut self, name: &str, size: u32) -> TypeId {
        self.add(name, Kind::Float { size })
    }

    /// A pointer to `to`.
    pub(crate) fn ptr(&mut self, to: TypeId) -> TypeId {
        self.add("", Kind::Ptr(to))
    }

    /// `elem[nelems]`, indexed by `index` (any integer type id).
    pub(crate) fn array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> TypeId {
        self.add(
            "",
            Kind::Array(Array {
                elem,
                index,
                nelems,
            }),
        )
    }

    fn members(&mut self, members: &[(&str, TypeId, u32)]) -> Vec<Member> {
        members
            .iter()
            .map(|&(name, ty, bit_offset)| Member {
                name: self.btf.add_str(name),
                ty,
                bit_offset,
                bitfield_size: 0,
            })
            .collect()
    }

    /// A struct of `size` bytes; members are `(name, type, bit offset)`.
    pub(crate) fn strukt(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32)],
    ) -> TypeId {
        let members = self.members(members);
        self.add(name, Kind::Struct(Composite { size, members }))
    }

    /// A union of `size` bytes; members are `(name, type, bit offset)`.
    pub(crate) fn union(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32)],
    ) -> TypeId {
        let members = self.members(members);
        self.add(name, Kind::Union(Composite { size, members }))
    }

    /// A struct with bitfields; members are `(name, type, bit offset, bitfield size)`.
    pub(crate) fn strukt_bits(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u8)],
    ) -> TypeId {
        let members = members
            .iter()
            .map(|&(n, ty, bit_offset, bitfield_size)| Member {
                name: self.btf.add_str(n),
                ty,
                bit_offset,
                bitfield_size,
            })
            .collect();
        self.add(name, Kind::Struct(Composite { size, members }))
    }

    fn enumerators(&mut self, values: &[(&str, i64)]) -> Vec<Enumerator> {
        values
            .iter()
            .map(|&(n, value)| Enumerator {
                name: self.btf.add_str(n),
                value,
            })
            .collect()
    }

    /// A 4-byte unsigned `ENUM`.
    pub(crate) fn enm(&mut self, name: &str, values: &[(&str, i64)]) -> TypeId {
        self.enum_sized(name, 4, false, values)
    }

    /// An `ENUM` of `size` bytes.
    pub(crate) fn enum_sized(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, i64)],
    ) -> TypeId {
        let values = self.enumerators(values);
        self.add(
            name,
            Kind::Enum(Enum {
                size,
                signed,
                values,
            }),
        )
    }

    /// An 8-byte `ENUM64`.
    pub(crate) fn enum64(&mut self, name: &str, signed: bool, values: &[(&str, i64)]) -> TypeId {
        let values = self.enumerators(values);
        self.add(
            name,
            Kind::Enum64(Enum {
                size: 8,
                signed,
                values,
            }),
        )
    }

    /// `struct name;` (or `union name;`).
    pub(crate) fn fwd(&mut self, name: &str, union: bool) -> TypeId {
        self.add(name, Kind::Fwd { union })
    }

    /// `typedef to name;`.
    pub(crate) fn typedef(&mut self, name: &str, to: TypeId) -> TypeId {
        self.add(name, Kind::Typedef(to))
    }

    /// `const to`.
    pub(crate) fn konst(&mut self, to: TypeId) -> TypeId {
        self.add("", Kind::Const(to))
    }

    /// `volatile to`.
    pub(crate) fn volatile(&mut self, to: TypeId) -> TypeId {
        self.add("", Kind::Volatile(to))
    }

    /// `restrict to`.
    pub(crate) fn restrict(&mut self, to: TypeId) -> TypeId {
        self.add("", Kind::Restrict(to))
    }

    /// `__attribute__((btf_type_tag(name))) to`.
    pub(crate) fn type_tag(&mut self, name: &str, to: TypeId) -> TypeId {
        self.add(
            name,
            Kind::TypeTag {
                ty: to,
                attr: false,
            },
        )
    }

    /// A `DECL_TAG` on `ty` (`component` -1 for the type itself).
    pub(crate) fn decl_tag(&mut self, name: &str, ty: TypeId, component: i32) -> TypeId {
        self.add(name, Kind::DeclTag { ty, component })
    }

    /// A prototype returning `ret`; params are `(name, type)`.
    pub(crate) fn func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let params = params
            .iter()
            .map(|&(n, ty)| Param {
                name: self.btf.add_str(n),
                ty,
            })
            .collect();
        self.add("", Kind::FuncProto(FuncProto { ret, params }))
    }

    /// A static `FUNC` of prototype `proto`.
    pub(crate) fn func(&mut self, name: &str, proto: TypeId) -> TypeId {
        self.add(name, Kind::Func { proto, linkage: 0 })
    }

    /// A `VAR` of type `ty` with linkage `linkage`.
    pub(crate) fn var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        self.add(name, Kind::Var { ty, linkage })
    }

    /// A `DATASEC`; vars are `(var id, offset, size)`.
    pub(crate) fn datasec(&mut self, name: &str, size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        let vars = vars
            .iter()
            .map(|&(ty, offset, size)| VarSecInfo { ty, offset, size })
            .collect();
        self.add(name, Kind::Datasec(Datasec { size, vars }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_round_trips_through_the_wire_format() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let u8_ = b.uint("unsigned char", 1);
        let arr = b.array(u8_, int, 16);
        let s = b.strukt("task", 24, &[("pid", int, 0), ("comm", arr, 32)]);
        let p = b.ptr(s);
        let c = b.konst(p);
        let t = b.typedef("task_ptr", c);
        let e = b.enm("state", &[("RUNNING", 0), ("STOPPED", 4)]);
        let proto = b.func_proto(int, &[("t", t), ("s", e)]);
        b.func("task_state", proto);
        let btf = b.build();
        let back = Btf::from_bytes(&btf.to_bytes()).expect("builder output parses back");
        assert_eq!(back.types(), btf.types());
        assert_eq!(back.type_name(s), "task");
        assert_eq!(back.find_by_name("task_state").count(), 1);
    }
}
