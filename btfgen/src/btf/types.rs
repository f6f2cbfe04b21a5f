//! The BTF type model: one Rust type per BTF kind, names as string-table offsets.
//!
//! A [`Type`] is what one `struct btf_type` record (plus its trailing data) says,
//! decoded: the `kind_flag`, `vlen` and bitfield packing of the wire format are
//! derived by the writer, never stored.

/// A BTF type id. Id 0 is `void`; the first real type of a base BTF is 1.
pub type TypeId = u32;

/// An offset into a string table. Offset 0 is the empty name (anonymous).
pub type StrOff = u32;

/// One BTF type: its name and what kind of type it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    /// Name offset in the string table; 0 when the type is anonymous.
    pub name: StrOff,
    /// The kind and its kind-specific data.
    pub kind: Kind,
}

/// `BTF_INT_SIGNED`: the integer is signed.
pub const INT_SIGNED: u8 = 1 << 0;
/// `BTF_INT_CHAR`: the integer is a character (pahole never sets it).
pub const INT_CHAR: u8 = 1 << 1;
/// `BTF_INT_BOOL`: the integer is a boolean.
pub const INT_BOOL: u8 = 1 << 2;

/// An integer type (`BTF_KIND_INT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Int {
    /// Size in bytes.
    pub size: u32,
    /// `INT_SIGNED`, `INT_CHAR` or `INT_BOOL` (at most one bit).
    pub encoding: u8,
    /// Bit offset of the value inside the storage (always 0 from pahole).
    pub offset: u8,
    /// Number of value bits.
    pub bits: u8,
}

/// An array (`BTF_KIND_ARRAY`). Multi-dimensional arrays are flattened by the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Array {
    /// Element type.
    pub elem: TypeId,
    /// Index type (an integer).
    pub index: TypeId,
    /// Number of elements; 0 for flexible and zero-length arrays.
    pub nelems: u32,
}

/// A member of a struct or union.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// Member name; 0 for an anonymous (embedded) struct or union.
    pub name: StrOff,
    /// Member type.
    pub ty: TypeId,
    /// Offset of the member from the start of the aggregate, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield in bits; 0 for ordinary members.
    pub bitfield_size: u8,
}

/// A struct or union body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Composite {
    /// Size in bytes.
    pub size: u32,
    /// Members in declaration order.
    pub members: Vec<Member>,
}

impl Composite {
    /// True when any member needs the `kind_flag` encoding (bitfield or unaligned).
    pub fn has_bitfields(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.bitfield_size != 0 || m.bit_offset % 8 != 0)
    }
}

/// One enumerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Enumerator {
    /// Enumerator name.
    pub name: StrOff,
    /// Value; for `ENUM` only the low 32 bits are stored.
    pub value: i64,
}

/// An enumeration (`BTF_KIND_ENUM` or `BTF_KIND_ENUM64`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Enum {
    /// Size in bytes (1, 2, 4 or 8).
    pub size: u32,
    /// Values are signed (`kind_flag`).
    pub signed: bool,
    /// Enumerators in declaration order; empty for a forward-declared enum.
    pub values: Vec<Enumerator>,
}

/// A function parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// Parameter name; 0 when unnamed.
    pub name: StrOff,
    /// Parameter type; 0 together with name 0 as the last parameter means `...`.
    pub ty: TypeId,
}

/// A function prototype (`BTF_KIND_FUNC_PROTO`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncProto {
    /// Return type; 0 for `void`.
    pub ret: TypeId,
    /// Parameters in order.
    pub params: Vec<Param>,
}

/// Linkage of a `FUNC` (stored in `vlen`).
pub mod linkage {
    /// `BTF_FUNC_STATIC` (what pahole writes for every function).
    pub const STATIC: u16 = 0;
    /// `BTF_FUNC_GLOBAL`.
    pub const GLOBAL: u16 = 1;
    /// `BTF_FUNC_EXTERN`.
    pub const EXTERN: u16 = 2;
    /// `BTF_VAR_STATIC`.
    pub const VAR_STATIC: u32 = 0;
    /// `BTF_VAR_GLOBAL_ALLOCATED`.
    pub const VAR_GLOBAL_ALLOCATED: u32 = 1;
    /// `BTF_VAR_GLOBAL_EXTERN`.
    pub const VAR_GLOBAL_EXTERN: u32 = 2;
}

/// A variable placed in a data section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarSecInfo {
    /// The `VAR` type id.
    pub ty: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size of the variable in bytes.
    pub size: u32,
}

/// A data section (`BTF_KIND_DATASEC`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datasec {
    /// Section size in bytes.
    pub size: u32,
    /// Variables, sorted by offset.
    pub vars: Vec<VarSecInfo>,
}

/// The kind of a type and its kind-specific data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `BTF_KIND_INT`.
    Int(Int),
    /// `BTF_KIND_PTR` to the given type.
    Ptr(TypeId),
    /// `BTF_KIND_ARRAY`.
    Array(Array),
    /// `BTF_KIND_STRUCT`.
    Struct(Composite),
    /// `BTF_KIND_UNION`.
    Union(Composite),
    /// `BTF_KIND_ENUM` (32-bit values).
    Enum(Enum),
    /// `BTF_KIND_FWD`; `union` is the `kind_flag`.
    Fwd {
        /// Forward declaration of a union rather than a struct.
        union: bool,
    },
    /// `BTF_KIND_TYPEDEF` of the given type.
    Typedef(TypeId),
    /// `BTF_KIND_VOLATILE` of the given type.
    Volatile(TypeId),
    /// `BTF_KIND_CONST` of the given type.
    Const(TypeId),
    /// `BTF_KIND_RESTRICT` of the given type.
    Restrict(TypeId),
    /// `BTF_KIND_FUNC`.
    Func {
        /// The `FUNC_PROTO`.
        proto: TypeId,
        /// One of [`linkage::STATIC`], [`linkage::GLOBAL`], [`linkage::EXTERN`].
        linkage: u16,
    },
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto(FuncProto),
    /// `BTF_KIND_VAR`.
    Var {
        /// The variable's type.
        ty: TypeId,
        /// One of the `linkage::VAR_*` values.
        linkage: u32,
    },
    /// `BTF_KIND_DATASEC`.
    Datasec(Datasec),
    /// `BTF_KIND_FLOAT` of the given size in bytes.
    Float {
        /// Size in bytes (2, 4, 8, 12 or 16).
        size: u32,
    },
    /// `BTF_KIND_DECL_TAG` on a type, or on one of its members or parameters.
    DeclTag {
        /// The tagged type.
        ty: TypeId,
        /// Member or parameter index, or -1 for the type itself.
        component: i32,
    },
    /// `BTF_KIND_TYPE_TAG` of the given type.
    TypeTag {
        /// The tagged type.
        ty: TypeId,
        /// The `kind_flag`: an `__attribute__` rather than a `btf_type_tag`.
        attr: bool,
    },
    /// `BTF_KIND_ENUM64` (64-bit values).
    Enum64(Enum),
}

/// The numeric `BTF_KIND_*` values.
pub mod kind {
    /// `BTF_KIND_INT`.
    pub const INT: u8 = 1;
    /// `BTF_KIND_PTR`.
    pub const PTR: u8 = 2;
    /// `BTF_KIND_ARRAY`.
    pub const ARRAY: u8 = 3;
    /// `BTF_KIND_STRUCT`.
    pub const STRUCT: u8 = 4;
    /// `BTF_KIND_UNION`.
    pub const UNION: u8 = 5;
    /// `BTF_KIND_ENUM`.
    pub const ENUM: u8 = 6;
    /// `BTF_KIND_FWD`.
    pub const FWD: u8 = 7;
    /// `BTF_KIND_TYPEDEF`.
    pub const TYPEDEF: u8 = 8;
    /// `BTF_KIND_VOLATILE`.
    pub const VOLATILE: u8 = 9;
    /// `BTF_KIND_CONST`.
    pub const CONST: u8 = 10;
    /// `BTF_KIND_RESTRICT`.
    pub const RESTRICT: u8 = 11;
    /// `BTF_KIND_FUNC`.
    pub const FUNC: u8 = 12;
    /// `BTF_KIND_FUNC_PROTO`.
    pub const FUNC_PROTO: u8 = 13;
    /// `BTF_KIND_VAR`.
    pub const VAR: u8 = 14;
    /// `BTF_KIND_DATASEC`.
    pub const DATASEC: u8 = 15;
    /// `BTF_KIND_FLOAT`.
    pub const FLOAT: u8 = 16;
    /// `BTF_KIND_DECL_TAG`.
    pub const DECL_TAG: u8 = 17;
    /// `BTF_KIND_TYPE_TAG`.
    pub const TYPE_TAG: u8 = 18;
    /// `BTF_KIND_ENUM64`.
    pub const ENUM64: u8 = 19;
}

impl Type {
    /// Calls `f` on every string offset of the type, so that names can be rewritten in
    /// place: its name first, then member, enumerator and parameter names in order.
    pub fn for_each_name_mut(&mut self, mut f: impl FnMut(&mut StrOff)) {
        f(&mut self.name);
        match &mut self.kind {
            Kind::Struct(c) | Kind::Union(c) => c.members.iter_mut().for_each(|m| f(&mut m.name)),
            Kind::Enum(e) | Kind::Enum64(e) => e.values.iter_mut().for_each(|v| f(&mut v.name)),
            Kind::FuncProto(p) => p.params.iter_mut().for_each(|p| f(&mut p.name)),
            _ => {}
        }
    }
}

impl Kind {
    /// The numeric `BTF_KIND_*` value.
    pub fn code(&self) -> u8 {
        match self {
            Kind::Int(_) => kind::INT,
            Kind::Ptr(_) => kind::PTR,
            Kind::Array(_) => kind::ARRAY,
            Kind::Struct(_) => kind::STRUCT,
            Kind::Union(_) => kind::UNION,
            Kind::Enum(_) => kind::ENUM,
            Kind::Fwd { .. } => kind::FWD,
            Kind::Typedef(_) => kind::TYPEDEF,
            Kind::Volatile(_) => kind::VOLATILE,
            Kind::Const(_) => kind::CONST,
            Kind::Restrict(_) => kind::RESTRICT,
            Kind::Func { .. } => kind::FUNC,
            Kind::FuncProto(_) => kind::FUNC_PROTO,
            Kind::Var { .. } => kind::VAR,
            Kind::Datasec(_) => kind::DATASEC,
            Kind::Float { .. } => kind::FLOAT,
            Kind::DeclTag { .. } => kind::DECL_TAG,
            Kind::TypeTag { .. } => kind::TYPE_TAG,
            Kind::Enum64(_) => kind::ENUM64,
        }
    }

    /// The kind's name as bpftool prints it (`STRUCT`, `FUNC_PROTO`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Int(_) => "INT",
            Kind::Ptr(_) => "PTR",
            Kind::Array(_) => "ARRAY",
            Kind::Struct(_) => "STRUCT",
            Kind::Union(_) => "UNION",
            Kind::Enum(_) => "ENUM",
            Kind::Fwd { .. } => "FWD",
            Kind::Typedef(_) => "TYPEDEF",
            Kind::Volatile(_) => "VOLATILE",
            Kind::Const(_) => "CONST",
            Kind::Restrict(_) => "RESTRICT",
            Kind::Func { .. } => "FUNC",
            Kind::FuncProto(_) => "FUNC_PROTO",
            Kind::Var { .. } => "VAR",
            Kind::Datasec(_) => "DATASEC",
            Kind::Float { .. } => "FLOAT",
            Kind::DeclTag { .. } => "DECL_TAG",
            Kind::TypeTag { .. } => "TYPE_TAG",
            Kind::Enum64(_) => "ENUM64",
        }
    }

    /// The single type this kind refers to, for the modifier-like kinds
    /// (PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, VAR, DECL_TAG, TYPE_TAG).
    pub fn referenced(&self) -> Option<TypeId> {
        match *self {
            Kind::Ptr(t)
            | Kind::Typedef(t)
            | Kind::Volatile(t)
            | Kind::Const(t)
            | Kind::Restrict(t)
            | Kind::Func { proto: t, .. }
            | Kind::Var { ty: t, .. }
            | Kind::DeclTag { ty: t, .. }
            | Kind::TypeTag { ty: t, .. } => Some(t),
            _ => None,
        }
    }

    /// Calls `f` on every type id field, so that ids can be rewritten in place.
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut TypeId)) {
        match self {
            Kind::Int(_)
            | Kind::Enum(_)
            | Kind::Enum64(_)
            | Kind::Fwd { .. }
            | Kind::Float { .. } => {}
            Kind::Ptr(t)
            | Kind::Typedef(t)
            | Kind::Volatile(t)
            | Kind::Const(t)
            | Kind::Restrict(t)
            | Kind::Func { proto: t, .. }
            | Kind::Var { ty: t, .. }
            | Kind::DeclTag { ty: t, .. }
            | Kind::TypeTag { ty: t, .. } => f(t),
            Kind::Array(a) => {
                f(&mut a.elem);
                f(&mut a.index);
            }
            Kind::Struct(c) | Kind::Union(c) => c.members.iter_mut().for_each(|m| f(&mut m.ty)),
            Kind::FuncProto(p) => {
                f(&mut p.ret);
                p.params.iter_mut().for_each(|p| f(&mut p.ty));
            }
            Kind::Datasec(d) => d.vars.iter_mut().for_each(|v| f(&mut v.ty)),
        }
    }

    /// Calls `f` on every type id this type refers to.
    pub fn for_each_ref(&self, mut f: impl FnMut(TypeId)) {
        match self {
            Kind::Array(a) => {
                f(a.elem);
                f(a.index);
            }
            Kind::Struct(c) | Kind::Union(c) => c.members.iter().for_each(|m| f(m.ty)),
            Kind::FuncProto(p) => {
                f(p.ret);
                p.params.iter().for_each(|p| f(p.ty));
            }
            Kind::Datasec(d) => d.vars.iter().for_each(|v| f(v.ty)),
            other => other.referenced().into_iter().for_each(f),
        }
    }

    /// Size in bytes for kinds that carry one (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC).
    pub fn size(&self) -> Option<u32> {
        match self {
            Kind::Int(i) => Some(i.size),
            Kind::Struct(c) | Kind::Union(c) => Some(c.size),
            Kind::Enum(e) | Kind::Enum64(e) => Some(e.size),
            Kind::Float { size } => Some(*size),
            Kind::Datasec(d) => Some(d.size),
            _ => None,
        }
    }
}
