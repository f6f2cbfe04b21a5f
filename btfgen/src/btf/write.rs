//! Writing BTF: the raw blob (`--btf_encode_detached`'s format) and a minimal ELF file
//! that holds only `.BTF` (what `objcopy --only-section=.BTF` and `strip` leave).

use object::write::Object;
use object::{Architecture, BinaryFormat, SectionKind};

use super::types::*;
use super::{Btf, Endian, DISTILLED_BASE_SECTION, HEADER_LEN, MAGIC};

struct Out {
    buf: Vec<u8>,
    endian: Endian,
}

impl Out {
    fn u32(&mut self, v: u32) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }

    fn head(&mut self, name: u32, kind: u8, vlen: usize, kflag: bool, size_or_type: u32) {
        self.u32(name);
        self.u32((kflag as u32) << 31 | (kind as u32) << 24 | (vlen as u32 & 0xffff));
        self.u32(size_or_type);
    }
}

impl Btf {
    /// Serializes this BTF's own types and strings as a raw blob in its byte order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Out {
            buf: Vec::with_capacity(self.types().len() * 24 + self.strings().len() + 24),
            endian: self.endian(),
        };
        out.buf.resize(HEADER_LEN as usize, 0);
        for t in self.types() {
            write_type(&mut out, t);
        }
        let type_len = out.buf.len() as u32 - HEADER_LEN;
        out.buf.extend_from_slice(self.strings().as_bytes());
        let str_len = self.strings().len() as u32;
        let mut hdr = Out {
            buf: Vec::with_capacity(HEADER_LEN as usize),
            endian: self.endian(),
        };
        match self.endian() {
            Endian::Little => hdr.buf.extend_from_slice(&MAGIC.to_le_bytes()),
            Endian::Big => hdr.buf.extend_from_slice(&MAGIC.to_be_bytes()),
        }
        hdr.buf.extend_from_slice(&[1, 0]);
        for v in [HEADER_LEN, 0, type_len, type_len, str_len] {
            hdr.u32(v);
        }
        out.buf[..HEADER_LEN as usize].copy_from_slice(&hdr.buf);
        out.buf
    }

    /// Serializes this BTF into a relocatable ELF file for `arch` whose only content is a
    /// `.BTF` section (plus the section name table).
    pub fn to_elf(&self, arch: Architecture) -> Result<Vec<u8>, object::write::Error> {
        self.elf(arch, false, None)
    }

    /// [`Btf::to_elf`], with a `.note.gnu.build-id` section (`SHT_NOTE`) holding
    /// `build_id` as an `NT_GNU_BUILD_ID` note in the BTF's byte order when one is given:
    /// the kernel's identity, as its vmlinux's note states it (`readelf -n` shows it).
    pub fn to_elf_with_build_id(
        &self,
        arch: Architecture,
        build_id: Option<&[u8]>,
    ) -> Result<Vec<u8>, object::write::Error> {
        self.elf(arch, false, build_id)
    }

    /// As [`Btf::to_elf_with_build_id`], with this split BTF's base (a distilled base,
    /// see [`super::distill()`]) in a `.BTF.base` section beside `.BTF`, as pahole's
    /// `distilled_base` writes a module.
    pub fn to_elf_with_base(
        &self,
        arch: Architecture,
        build_id: Option<&[u8]>,
    ) -> Result<Vec<u8>, object::write::Error> {
        self.elf(arch, true, build_id)
    }

    fn elf(
        &self,
        arch: Architecture,
        with_base: bool,
        build_id: Option<&[u8]>,
    ) -> Result<Vec<u8>, object::write::Error> {
        let endian = match self.endian() {
            Endian::Little => object::Endianness::Little,
            Endian::Big => object::Endianness::Big,
        };
        let mut obj = Object::new(BinaryFormat::Elf, arch, endian);
        let id = obj.add_section(Vec::new(), b".BTF".to_vec(), SectionKind::ReadOnlyData);
        obj.set_section_data(id, self.to_bytes(), 4);
        if with_base {
            let base = self.base().map(|b| b.to_bytes()).unwrap_or_default();
            let name = DISTILLED_BASE_SECTION.as_bytes().to_vec();
            let id = obj.add_section(Vec::new(), name, SectionKind::ReadOnlyData);
            obj.set_section_data(id, base, 4);
        }
        if let Some(build_id) = build_id {
            let note = obj.add_section(
                Vec::new(),
                b".note.gnu.build-id".to_vec(),
                SectionKind::Note,
            );
            obj.set_section_data(note, gnu_build_id_note(build_id, self.endian()), 4);
        }
        obj.write()
    }
}

/// An ELF note `NT_GNU_BUILD_ID` named `GNU` holding `build_id`, in byte order `endian`.
fn gnu_build_id_note(build_id: &[u8], endian: Endian) -> Vec<u8> {
    const NT_GNU_BUILD_ID: u32 = 3;
    let mut out = Out {
        buf: Vec::new(),
        endian,
    };
    for v in [4, build_id.len() as u32, NT_GNU_BUILD_ID] {
        out.u32(v);
    }
    out.buf.extend_from_slice(b"GNU\0");
    out.buf.extend_from_slice(build_id);
    out.buf.resize(out.buf.len().next_multiple_of(4), 0);
    out.buf
}

fn write_type(out: &mut Out, t: &Type) {
    let code = t.kind.code();
    match &t.kind {
        Kind::Int(i) => {
            out.head(t.name, code, 0, false, i.size);
            out.u32((i.encoding as u32) << 24 | (i.offset as u32) << 16 | i.bits as u32);
        }
        Kind::Ptr(r)
        | Kind::Typedef(r)
        | Kind::Volatile(r)
        | Kind::Const(r)
        | Kind::Restrict(r) => out.head(t.name, code, 0, false, *r),
        Kind::TypeTag { ty, attr } => out.head(t.name, code, 0, *attr, *ty),
        Kind::Array(a) => {
            out.head(t.name, code, 0, false, 0);
            out.u32(a.elem);
            out.u32(a.index);
            out.u32(a.nelems);
        }
        Kind::Struct(c) | Kind::Union(c) => {
            let kflag = c.has_bitfields();
            out.head(t.name, code, c.members.len(), kflag, c.size);
            for m in &c.members {
                out.u32(m.name);
                out.u32(m.ty);
                if kflag {
                    out.u32((m.bitfield_size as u32) << 24 | (m.bit_offset & 0x00ff_ffff));
                } else {
                    out.u32(m.bit_offset);
                }
            }
        }
        Kind::Enum(e) => {
            out.head(t.name, code, e.values.len(), e.signed, e.size);
            for v in &e.values {
                out.u32(v.name);
                out.u32(v.value as u32);
            }
        }
        Kind::Enum64(e) => {
            out.head(t.name, code, e.values.len(), e.signed, e.size);
            for v in &e.values {
                out.u32(v.name);
                out.u32(v.value as u32);
                out.u32((v.value as u64 >> 32) as u32);
            }
        }
        Kind::Fwd { union } => out.head(t.name, code, 0, *union, 0),
        Kind::Func { proto, linkage } => out.head(t.name, code, *linkage as usize, false, *proto),
        Kind::FuncProto(p) => {
            out.head(t.name, code, p.params.len(), false, p.ret);
            for p in &p.params {
                out.u32(p.name);
                out.u32(p.ty);
            }
        }
        Kind::Var { ty, linkage } => {
            out.head(t.name, code, 0, false, *ty);
            out.u32(*linkage);
        }
        Kind::Datasec(d) => {
            out.head(t.name, code, d.vars.len(), false, d.size);
            for v in &d.vars {
                out.u32(v.ty);
                out.u32(v.offset);
                out.u32(v.size);
            }
        }
        Kind::Float { size } => out.head(t.name, code, 0, false, *size),
        Kind::DeclTag { ty, component } => {
            out.head(t.name, code, 0, false, *ty);
            out.u32(*component as u32);
        }
    }
}
