//! The DWARF → BTF converter: ELF input (`elf`), per-unit conversion (`convert`, which
//! reads DIEs with `die`), functions (`funcs`) and per-CPU variables (`vars`),
//! deduplicated in unit order. `refs`, `error`, `options` and `features` hold what they all share;
//! imports point one way: this file → `convert` → `die`, `funcs`, `vars` → `refs`,
//! `error`, `options`.
//!
//! Units are converted in parallel: `jobs - 1` workers on a rayon pool, and the calling
//! thread, which deduplicates their fragments strictly in unit order (so the output is
//! the same for any number of threads) and converts the next unclaimed unit itself
//! whenever the one it needs is not ready yet. `jobs` threads are thus busy at once, as
//! many as there are CPUs by default. At most a small window of converted units waits
//! in memory, and from a file map (`encode_mapped`) the `.debug_info` pages of
//! deduplicated units are dropped (`pages`).

mod convert;
mod die;
mod elf;
mod error;
mod features;
mod funcs;
mod kfuncs;
mod locations;
mod options;
mod pages;
mod refs;
#[cfg(test)]
mod tests;
mod vars;

use std::collections::BTreeMap;

use hashbrown::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use gimli::EndianSlice;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::btf::Dedup;
use crate::btf::*;
use convert::{Converted, Converter};
use elf::ElfInput;
pub use error::EncodeError;
use funcs::FuncSymbols;
pub use options::{FeatureError, Features, Options};
use pages::Pages;
use refs::R;

/// The result of encoding one ELF file.
pub struct Encoded {
    /// The deduplicated BTF, in the input's byte order.
    pub btf: Btf,
    /// The input's machine, for writing an ELF container.
    pub arch: object::Architecture,
    /// The input already had a `.BTF` section (it was encoded from DWARF regardless).
    pub had_btf: bool,
    /// The input's GNU build-id (a vmlinux's `NT_GNU_BUILD_ID` note), if it has one.
    pub build_id: Option<Vec<u8>>,
    /// Compilation units read.
    pub units: usize,
    /// Functions left out because their prototypes differ between units or a
    /// parameter sits in an unexpected register.
    pub inconsistent_funcs: usize,
}

/// Encodes the DWARF of an ELF file (`data`) into deduplicated BTF.
pub fn encode(data: &[u8], opts: &Options) -> Result<Encoded, EncodeError> {
    encode_pages(data, opts, Pages::keep())
}

/// Encodes like [`encode`] an ELF file mapped into memory, and drops the pages of its
/// `.debug_info` from the map as the units in them are done (they stay in the page
/// cache): a vmlinux's peak RSS is then mostly the encoder's own memory, not the
/// 200 MiB of DWARF it read.
pub fn encode_mapped(map: &memmap2::Mmap, opts: &Options) -> Result<Encoded, EncodeError> {
    encode_pages(map, opts, Pages::drop_from(map))
}

fn encode_pages(data: &[u8], opts: &Options, mut pages: Pages) -> Result<Encoded, EncodeError> {
    let input = ElfInput::parse(data)?;
    if input.section(gimli::SectionId::DebugInfo).len() as u64 >= u32::MAX as u64 - 1 {
        return Err(EncodeError::TooLarge);
    }
    let dwarf = gimli::Dwarf::load(|id| {
        Ok::<_, gimli::Error>(EndianSlice::new(input.section(id), input.endian))
    })?;
    let mut headers = Vec::new();
    let mut iter = dwarf.units();
    while let Some(h) = iter.next()? {
        headers.push(h);
    }
    let info_len = input.section(gimli::SectionId::DebugInfo).len() as u64;
    let funcs = Funcs {
        symbols: FuncSymbols::new(
            &input.functions,
            &input.function_order,
            input.arch,
            opts.features.optimized_func,
        ),
        // pahole tags kfuncs only with decl tags on as well.
        kfuncs: if opts.features.decl_tag_kfuncs && opts.features.decl_tag {
            kfuncs::collect(data, &input.functions)?
        } else {
            HashMap::new()
        },
    };
    let btf = match run(&input, &dwarf, &headers, opts, &funcs, Some(&mut pages)) {
        // A reference into another unit (LTO, dwz): convert all units as one group.
        Err(EncodeError::InUnit { error, .. }) if matches!(*error, EncodeError::BadReference(o) if o < info_len) => {
            run(&input, &dwarf, &headers, opts, &funcs, None)?
        }
        other => other?,
    };
    Ok(Encoded {
        had_btf: input.has_btf,
        build_id: input.build_id.clone(),
        arch: input.arch,
        units: headers.len(),
        inconsistent_funcs: btf.1,
        btf: btf.0,
    })
}

type Header<'a> = gimli::UnitHeader<R<'a>>;

/// What the file's symbols say about functions: which subprograms can become FUNCs,
/// and which are kfuncs (with their `KF_*` flags).
struct Funcs<'a> {
    symbols: FuncSymbols<'a>,
    kfuncs: HashMap<&'a [u8], u32>,
}

fn convert_group<'a>(
    input: &ElfInput<'a>,
    dwarf: &gimli::Dwarf<R<'a>>,
    group: &[Header<'a>],
    opts: &Options,
    symbols: &FuncSymbols<'a>,
) -> Result<Converted<'a>, EncodeError> {
    let big_endian = input.endian == gimli::RunTimeEndian::Big;
    let mut c = Converter::new(dwarf, opts, big_endian, symbols);
    for h in group {
        let offset = h.offset().0 as u64;
        let in_unit = |e| EncodeError::InUnit {
            offset,
            error: Box::new(e),
        };
        c.add_unit(*h).map_err(in_unit)?;
    }
    let offset = group.first().map_or(0, |h| h.offset().0 as u64);
    c.finish().map_err(|e| EncodeError::InUnit {
        offset,
        error: Box::new(e),
    })
}

/// Converts all groups in parallel and deduplicates them in order. With `pages`, each
/// unit is a group of its own and its `.debug_info` pages are dropped once it is
/// deduplicated; without, all units are one group (references cross units).
fn run<'a>(
    input: &ElfInput<'a>,
    dwarf: &gimli::Dwarf<R<'a>>,
    headers: &[Header<'a>],
    opts: &Options,
    funcs: &Funcs<'a>,
    mut pages: Option<&mut Pages>,
) -> Result<(Btf, usize), EncodeError> {
    let groups: Vec<&[Header<'a>]> = match pages {
        Some(_) => headers.chunks(1).collect(),
        None => vec![headers],
    };
    let info = input.section(gimli::SectionId::DebugInfo);
    // More threads than CPUs or than groups to convert would only wait: `-j 100000`
    // is clamped (the output is the same for any number).
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = match opts.jobs {
        0 => cpus,
        n => n.min(cpus),
    }
    .min(groups.len())
    .max(1);
    let workers = jobs - 1;
    // How far ahead of the deduplication workers may convert. A few units were too few:
    // the deduplication of a large unit kept a worker waiting for ~50 ms of a
    // vmlinux's 1.3 s; converted units are small, so 32 per thread cost no memory
    // that shows in the peak.
    let window = jobs * 32;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .map_err(|e| EncodeError::Threads(e.to_string()))?;

    let progress = if opts.progress {
        let bar =
            ProgressBar::with_draw_target(Some(groups.len() as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} encoding {pos}/{len} units {wide_bar} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut merge = Merge::new(input, opts, &funcs.kfuncs);
    let next = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let consumed = (Mutex::new(0usize), Condvar::new());
    let (tx, rx) = mpsc::channel::<(usize, Result<Converted<'a>, EncodeError>)>();
    let mut result = Ok(());
    pool.in_place_scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, cancel, consumed, groups) = (&next, &cancel, &consumed, &groups);
            s.spawn(move |_| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= groups.len() {
                    break;
                }
                {
                    let (lock, cv) = consumed;
                    let mut done = lock.lock().unwrap_or_else(|p| p.into_inner());
                    while i >= *done + window && !cancel.load(Ordering::Relaxed) {
                        done = cv.wait(done).unwrap_or_else(|p| p.into_inner());
                    }
                }
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                if tx
                    .send((
                        i,
                        convert_group(input, dwarf, groups[i], opts, &funcs.symbols),
                    ))
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        while want < groups.len() {
            while let Ok((i, r)) = rx.try_recv() {
                pending.insert(i, r);
            }
            let Some(r) = pending.remove(&want) else {
                // The next unit is not converted yet: convert one here, or wait.
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i < groups.len() {
                    pending.insert(
                        i,
                        convert_group(input, dwarf, groups[i], opts, &funcs.symbols),
                    );
                } else if let Ok((i, r)) = rx.recv() {
                    pending.insert(i, r);
                } else {
                    // Every unit was claimed, yet a result is missing.
                    result = Err(EncodeError::Threads("a worker thread stopped".into()));
                    break;
                }
                continue;
            };
            want += 1;
            {
                let (lock, cv) = &consumed;
                *lock.lock().unwrap_or_else(|p| p.into_inner()) = want;
                cv.notify_all();
            }
            progress.inc(1);
            match r {
                Ok(c) => {
                    merge.add(c);
                    if let (Some(pages), Some(h)) = (pages.as_deref_mut(), groups[want - 1].last())
                    {
                        let end = h.offset().0 + h.length_including_self();
                        pages.done_until(info, end);
                    }
                }
                Err(e) => {
                    result = Err(e);
                    // Under the lock, so that no worker misses the wake-up.
                    let _guard = consumed.0.lock().unwrap_or_else(|p| p.into_inner());
                    cancel.store(true, Ordering::Relaxed);
                    consumed.1.notify_all();
                    break;
                }
            }
        }
    });
    progress.finish_and_clear();
    result?;
    Ok(merge.finish())
}

/// The first instance of a function and whether all instances agree with it.
struct FuncGroup {
    proto: FuncProto,
    tags: Vec<(StrOff, i32)>,
    signature: String,
    consistent: bool,
}

/// A per-CPU variable ready to be emitted.
struct VarOut {
    name: StrOff,
    ty: TypeId,
    linkage: u32,
    size: u32,
    tags: Vec<StrOff>,
}

/// Sequential half of the pipeline: dedups fragments in unit order and collects the
/// functions and variables to emit at the end.
struct Merge<'a, 'i> {
    input: &'i ElfInput<'a>,
    /// `.debug_str` and `.debug_line_str`, where the fragments' name keys point.
    strs: (&'i [u8], &'i [u8]),
    dedup: Dedup,
    funcs: HashMap<&'a [u8], FuncGroup>,
    kfuncs: &'i HashMap<&'a [u8], u32>,
    vars: BTreeMap<u64, VarOut>,
    /// pahole's `consistent_func`: leave out inconsistent functions.
    consistent_func: bool,
}

impl<'a, 'i> Merge<'a, 'i> {
    fn new(input: &'i ElfInput<'a>, opts: &Options, kfuncs: &'i HashMap<&'a [u8], u32>) -> Self {
        let mut dedup = match &opts.base {
            Some(base) => Dedup::new_split(base.clone()),
            None => Dedup::new(),
        };
        dedup.set_endian(match input.endian {
            gimli::RunTimeEndian::Little => Endian::Little,
            gimli::RunTimeEndian::Big => Endian::Big,
        });
        Merge {
            input,
            strs: (
                input.section(gimli::SectionId::DebugStr),
                input.section(gimli::SectionId::DebugLineStr),
            ),
            dedup,
            funcs: HashMap::new(),
            kfuncs,
            vars: BTreeMap::new(),
            consistent_func: opts.features.consistent_func,
        }
    }

    fn add(&mut self, mut c: Converted<'a>) {
        let (debug_str, line_str) = self.strs;
        let key_bytes = |key| convert::keyed_str(debug_str, line_str, key);
        let map = self.dedup.add_keyed(&mut c.frag, &c.name_keys, key_bytes);
        let id = |t: TypeId| map.get(t as usize).copied().unwrap_or(0);
        let frag = &c.frag;
        for f in c.funcs {
            // (Only names of function symbols come here: see FuncRecord::resolve.)
            if !f.named || f.name.is_empty() {
                continue;
            }
            // pahole 1.30 leaves a function out when an instance keeps a parameter in
            // an unexpected register, or when an instance's prototype differs from
            // the first one's.
            if let Some(g) = self.funcs.get_mut(f.name) {
                g.consistent &=
                    !self.consistent_func || !f.unexpected_reg && g.signature == f.signature;
                continue;
            }
            let mut str_of = |off: StrOff| {
                let s = frag.name_bytes(off).unwrap_or_default();
                if s.is_empty() {
                    0
                } else {
                    self.dedup.add_str(s)
                }
            };
            let params = f
                .proto
                .params
                .iter()
                .map(|p| Param {
                    name: str_of(p.name),
                    ty: id(p.ty),
                })
                .collect();
            let tags = f.tags.iter().map(|&(v, i)| (str_of(v), i)).collect();
            self.funcs.insert(
                f.name,
                FuncGroup {
                    proto: FuncProto {
                        ret: id(f.proto.ret),
                        params,
                    },
                    tags,
                    signature: f.signature,
                    consistent: !self.consistent_func || !f.unexpected_reg,
                },
            );
        }
        let Some((start, end)) = self.input.percpu else {
            return;
        };
        for v in c.vars {
            if v.addr < start || v.addr >= end || v.ty == 0 {
                continue;
            }
            let offset = v.addr - start;
            let Some(sym) = self.input.percpu_syms.get(&offset) else {
                continue;
            };
            // Variables of discarded sections also sit at address 0: at offset 0 the
            // symbol must name this very variable (pahole ≥ 1.28's rule).
            if offset == 0 && sym.name != v.name {
                continue;
            }
            if self.vars.contains_key(&offset) {
                continue;
            }
            let name = self.dedup.add_str(sym.name);
            let tags = v
                .tags
                .iter()
                .map(|&t| self.dedup.add_str(frag.name_bytes(t).unwrap_or_default()))
                .collect();
            let linkage = if v.external {
                linkage::VAR_GLOBAL_ALLOCATED
            } else {
                linkage::VAR_STATIC
            };
            self.vars.insert(
                offset,
                VarOut {
                    name,
                    ty: id(v.ty),
                    linkage,
                    size: sym.size as u32,
                    tags,
                },
            );
        }
    }

    /// Emits functions (by name) and the per-CPU DATASEC, deduplicated in one run,
    /// then finishes the dedup.
    fn finish(mut self) -> (Btf, usize) {
        let mut names: Vec<&[u8]> = self.funcs.keys().copied().collect();
        names.sort_unstable();
        let mut inconsistent = 0;
        // A name per function and variable, and the DATASEC's; a FUNC_PROTO and a FUNC
        // per function, a VAR per variable, and the DATASEC.
        self.dedup
            .reserve_strings(names.len() + self.vars.len() + 1);
        // The batch's own types have ids `first` + their index in it.
        let first = self.dedup.next_id();
        let mut batch = Vec::with_capacity(2 * names.len() + self.vars.len() + 1);
        let push = |batch: &mut Vec<Type>, name: StrOff, kind: Kind| {
            batch.push(Type { name, kind });
            first + batch.len() as u32 - 1
        };
        for name in names {
            let Some(g) = self.funcs.remove(name) else {
                continue;
            };
            if !g.consistent {
                inconsistent += 1;
                continue;
            }
            let proto = push(&mut batch, 0, Kind::FuncProto(g.proto));
            let name_bytes = name;
            let name = self.dedup.add_str(name);
            let func = Kind::Func {
                proto,
                linkage: linkage::STATIC,
            };
            let func = push(&mut batch, name, func);
            // kfuncs first, as pahole tags them before the function's own decl tags.
            let kfunc = self.kfuncs.get(name_bytes).copied();
            for (tag, wanted) in [
                (&b"bpf_kfunc"[..], kfunc.is_some()),
                (
                    b"bpf_fastcall",
                    kfunc.is_some_and(|f| f & kfuncs::KF_FASTCALL != 0),
                ),
            ] {
                if wanted {
                    let value = self.dedup.add_str(tag);
                    let tag = Kind::DeclTag {
                        ty: func,
                        component: -1,
                    };
                    push(&mut batch, value, tag);
                }
            }
            for (value, component) in g.tags {
                push(
                    &mut batch,
                    value,
                    Kind::DeclTag {
                        ty: func,
                        component,
                    },
                );
            }
        }
        if !self.vars.is_empty() {
            let mut secinfo = Vec::new();
            let mut size = 0;
            for (offset, v) in std::mem::take(&mut self.vars) {
                let var = Kind::Var {
                    ty: v.ty,
                    linkage: v.linkage,
                };
                let var = push(&mut batch, v.name, var);
                for t in v.tags {
                    let tag = Kind::DeclTag {
                        ty: var,
                        component: -1,
                    };
                    push(&mut batch, t, tag);
                }
                secinfo.push(VarSecInfo {
                    ty: var,
                    offset: offset as u32,
                    size: v.size,
                });
                size = size.max(offset as u32 + v.size);
            }
            let name = self.dedup.add_str(elf::PERCPU_SECTION.as_bytes());
            let datasec = Kind::Datasec(Datasec {
                size,
                vars: secinfo,
            });
            push(&mut batch, name, datasec);
        }
        self.dedup.add_resolved_all(batch);
        (self.dedup.finish(), inconsistent)
    }
}
