//! TEMPORARY: concatenating stand-in for Dedup while the real one is written.
use super::*;
pub struct Dedup {
    out: Btf,
}
impl Dedup {
    pub fn new() -> Self {
        Dedup { out: Btf::new() }
    }
    pub fn new_split(base: Arc<Btf>) -> Self {
        Dedup {
            out: Btf::new_split(base),
        }
    }
    pub fn set_endian(&mut self, e: Endian) {
        self.out.set_endian(e)
    }
    pub fn add_str(&mut self, s: &[u8]) -> StrOff {
        self.out.add_bytes(s)
    }
    pub fn add(&mut self, frag: &Btf) -> Vec<TypeId> {
        let off = self.out.type_count() - 1;
        let mut map = vec![0];
        for (id, _) in frag.iter() {
            map.push(id + off);
        }
        for t in frag.types() {
            let mut t = t.clone();
            t.kind.for_each_ref_mut(|r| *r = map[*r as usize]);
            let mut s = |o: &mut u32| {
                let b = frag.name_bytes(*o).unwrap_or_default().to_vec();
                *o = self.out.add_bytes(&b);
            };
            s(&mut t.name);
            match &mut t.kind {
                Kind::Struct(c) | Kind::Union(c) => {
                    c.members.iter_mut().for_each(|m| s(&mut m.name))
                }
                Kind::Enum(e) | Kind::Enum64(e) => e.values.iter_mut().for_each(|v| s(&mut v.name)),
                Kind::FuncProto(p) => p.params.iter_mut().for_each(|p| s(&mut p.name)),
                _ => {}
            }
            self.out.add(t);
        }
        map
    }
    pub fn add_resolved(&mut self, t: Type) -> TypeId {
        self.out.add(t)
    }
    pub fn finish(self) -> Btf {
        self.out
    }
}
