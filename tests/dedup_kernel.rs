//! Dedup checks and benchmarks on the running kernel's BTF, out of the library's unit
//! tests because they need `/sys/kernel/btf/vmlinux` and take seconds to minutes.
//!
//! All `#[ignore]`d; run them with
//!
//! ```text
//! cargo test -p btfgen-tests --release --test dedup_kernel -- --ignored --nocapture
//! ```
//!
//! Environment: `DEDUP_FRAGS` (number of pseudo compilation units), `DEDUP_REPEAT`
//! (extra timed runs of the bench), `DEDUP_MIXED` (declarations and definitions of one
//! struct in one unit), `DEDUP_LIBBPF=path` (a libbpf oracle program, usage
//! `prog in out [base]`, that calls `btf__dedup` on raw BTF).

use std::collections::HashMap;
use std::sync::Arc;

use btfgen::btf::{dedup, Dedup};
use btfgen::btf::{kind, Btf, FuncProto, Kind, Param, Type};

/// The listing bpftool's `btf dump file` prints, one line per own type with names
/// spelled out (comparable across BTFs).
fn dump(b: &Btf) -> Vec<String> {
    let mut text = String::new();
    btfgen::dump::dump_text(b, None, &mut text).expect("writing to a String");
    text.lines().map(str::to_owned).collect()
}

/// Number of own types of kind `code`.
fn count(b: &Btf, code: u8) -> usize {
    b.types().iter().filter(|t| t.kind.code() == code).count()
}

/// Checks that `b` parses back from its bytes to the same types.
fn roundtrip(b: &Btf) {
    let back = Btf::from_bytes(&b.to_bytes()).expect("output parses back");
    assert_eq!(back.types(), b.types());
    assert_eq!(dump(&back), dump(b));
}

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Appends `frags` into one BTF (what a non-incremental encoder would dedup).
fn concat(frags: &[Btf]) -> Btf {
    let mut b = Btf::new();
    for f in frags {
        let off = b.type_count() - 1;
        for t in f.types() {
            let mut t = t.clone();
            t.kind.for_each_ref_mut(|r| {
                if *r != 0 {
                    *r += off
                }
            });
            t.for_each_name_mut(|n| *n = b.add_bytes(f.name_bytes(*n).unwrap_or_default()));
            b.add(t);
        }
    }
    b
}

/// Pseudo compilation units cut out of kernel BTF: the closure of a few random
/// roots, where a struct/union only ever reached through pointers is a FWD with
/// probability 1/4, or always once the fragment holds `max_types` types (a CU
/// never holds both a declaration and the definition of one struct).
fn kernel_fragments(k: &Btf, n: usize, max_types: usize, seed: u64) -> Vec<Btf> {
    // DEDUP_MIXED: also make some pointers of a CU target a separate FWD of a
    // struct the CU defines (unusual C; exercises the contradiction paths).
    let mixed = std::env::var_os("DEDUP_MIXED").is_some();
    let mut rng = seed | 1;
    let mut rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let count = k.type_count();
    let mut frags = Vec::with_capacity(n);
    for _ in 0..n {
        // kernel id -> fragment id; `full` holds the types whose body is kept;
        // `extra` are explicit FWD nodes (mixed mode).
        let mut local: HashMap<u32, u32> = HashMap::new();
        let mut extra: HashMap<u32, u32> = HashMap::new();
        let mut order: Vec<(u32, bool)> = Vec::new();
        let mut full: std::collections::HashSet<u32> = Default::default();
        let mut work: Vec<u32> = Vec::new();
        let mut edges: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut visit = |id: u32, via_ptr: bool, r: u64, work: &mut Vec<u32>| -> u32 {
            if id == 0 {
                return 0;
            }
            let t = k.get(id).unwrap();
            let agg = matches!(t.kind, Kind::Struct(_) | Kind::Union(_));
            if mixed && agg && via_ptr && r % 4 == 1 {
                return *extra.entry(id).or_insert_with(|| {
                    order.push((id, true));
                    order.len() as u32
                });
            }
            if let Some(&x) = local.get(&id) {
                if (full.contains(&id) || !via_ptr) && full.insert(id) {
                    // Now needed as a definition.
                    work.push(id);
                }
                return x;
            }
            order.push((id, false));
            let x = order.len() as u32;
            local.insert(id, x);
            let decl = agg && via_ptr && (order.len() > max_types || r % 4 == 0);
            if !decl {
                full.insert(id);
                work.push(id);
            }
            x
        };
        let mut roots = 0;
        while roots < 40 {
            let id = 1 + (rand() % (count as u64 - 1)) as u32;
            if matches!(k.get(id).unwrap().kind, Kind::Var { .. } | Kind::Datasec(_)) {
                continue;
            }
            roots += 1;
            visit(id, false, 2, &mut work);
        }
        while let Some(id) = work.pop() {
            let t = k.get(id).unwrap();
            let via_ptr = matches!(t.kind, Kind::Ptr(_));
            let mut ids = Vec::new();
            t.kind.for_each_ref(|r| ids.push(r));
            let targets = ids
                .into_iter()
                .map(|r| {
                    let x = rand();
                    visit(r, via_ptr, x, &mut work)
                })
                .collect();
            edges.insert(id, targets);
        }
        let mut f = Btf::new();
        for &(id, fwd) in &order {
            let t = k.get(id).unwrap();
            let mut t = if !fwd && full.contains(&id) {
                let mut t = t.clone();
                let mut it = edges[&id].iter();
                t.kind.for_each_ref_mut(|r| *r = *it.next().unwrap());
                t
            } else {
                Type {
                    name: t.name,
                    kind: Kind::Fwd {
                        union: matches!(t.kind, Kind::Union(_)),
                    },
                }
            };
            t.for_each_name_mut(|n| *n = f.add_bytes(k.name_bytes(*n).unwrap_or_default()));
            f.add(t);
        }
        frags.push(f);
    }
    frags
}

fn kind_counts(b: &Btf) -> Vec<(&'static str, usize)> {
    let mut m: HashMap<&'static str, usize> = HashMap::new();
    for t in b.types() {
        *m.entry(t.kind.label()).or_default() += 1;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort();
    v
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[test]
#[ignore]
fn kernel_btf_is_a_fixpoint() {
    let k = Btf::from_file(VMLINUX).unwrap();
    let t = std::time::Instant::now();
    let out = dedup(&k);
    eprintln!(
        "dedup of {} kernel types: {:?}",
        k.types().len(),
        t.elapsed()
    );
    assert_eq!(dump(&out), dump(&k));
    // Split: kernel BTF on itself dedups to nothing.
    let base = Arc::new(k);
    let t = std::time::Instant::now();
    let mut d = Dedup::new_split(base.clone());
    d.add(&mut Btf::clone(&base));
    let out = d.finish();
    eprintln!("split dedup of kernel on kernel: {:?}", t.elapsed());
    // Only VAR and DATASEC, which are never deduplicated, remain.
    assert_eq!(
        out.types().len(),
        count(&base, kind::VAR) + count(&base, kind::DATASEC),
        "{:?}",
        kind_counts(&out)
    );
}

/// Memory use: fragments made one at a time and fed at once, like an encoder.
#[test]
#[ignore]
fn kernel_fragments_streaming_rss() {
    let n: u64 = std::env::var("DEDUP_FRAGS").map_or(2000, |v| v.parse().unwrap());
    let k = Btf::from_file(VMLINUX).unwrap();
    let rss0 = peak_rss_mb();
    let mut d = Dedup::new();
    let mut total = 0;
    for i in 0..n {
        let f = kernel_fragments(&k, 1, 3000, 0x1234_5678 + i * 0x9e37_79b9)
            .pop()
            .unwrap();
        total += f.types().len();
        d.add(&mut f.clone());
    }
    // Then functions, the way an encoder adds them at the end.
    let t = std::time::Instant::now();
    let end = d.next_id();
    let mut x = 7u64;
    for i in 0..60_000u32 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let name = d.add_str(format!("f{}", i % 50_000).as_bytes());
        let params = (0..(x >> 60) % 4)
            .map(|j| Param {
                name: 0,
                ty: 1 + ((x >> (8 * j)) % 64) as u32 % (end - 1),
            })
            .collect();
        let proto = d.add_resolved(Type {
            name: 0,
            kind: Kind::FuncProto(FuncProto { ret: 0, params }),
        });
        d.add_resolved(Type {
            name,
            kind: Kind::Func { proto, linkage: 0 },
        });
    }
    let t_funcs = t.elapsed();
    let t = std::time::Instant::now();
    let out = d.finish();
    eprintln!(
        "{n} fragments, {total} types -> {} types; 120k add_resolved {t_funcs:?}, finish {:?}; peak rss {} MB (kernel BTF loaded: {rss0} MB)",
        out.types().len(),
        t.elapsed(),
        peak_rss_mb()
    );
}

#[test]
#[ignore]
fn kernel_fragments_bench() {
    let n = std::env::var("DEDUP_FRAGS").map_or(2000, |v| v.parse().unwrap());
    let k = Btf::from_file(VMLINUX).unwrap();
    let t = std::time::Instant::now();
    let frags = kernel_fragments(&k, n, 3000, 0x1234_5678);
    let total: usize = frags.iter().map(|f| f.types().len()).sum();
    eprintln!(
        "{n} fragments, {total} types, made in {:?}, rss {} MB",
        t.elapsed(),
        peak_rss_mb()
    );
    let repeat = std::env::var("DEDUP_REPEAT").map_or(1, |v| v.parse().unwrap());
    for _ in 1..repeat {
        let t = std::time::Instant::now();
        let mut d = Dedup::new();
        for f in &frags {
            d.add(&mut f.clone());
        }
        let n = d.finish().types().len();
        eprintln!("run: {:?}, {n} types", t.elapsed());
    }
    let t = std::time::Instant::now();
    let mut d = Dedup::new();
    for f in &frags {
        d.add(&mut f.clone());
    }
    let t_add = t.elapsed();
    // Own types so far: ids 1..next_id() (a base dedup).
    eprintln!("output before finish: {} types", d.next_id() - 1);
    let out = d.finish();
    eprintln!(
        "incremental: add {:?}, total {:?}, {} types, rss {} MB",
        t_add,
        t.elapsed(),
        out.types().len(),
        peak_rss_mb()
    );
    eprintln!("kernel: {:?}", kind_counts(&k));
    eprintln!("output: {:?}", kind_counts(&out));
    roundtrip(&out);
    // With declarations and definitions mixed in one CU, libbpf's result is no
    // fixpoint of libbpf either.
    if std::env::var_os("DEDUP_MIXED").is_none() {
        assert_eq!(dump(&dedup(&out)), dump(&out));
    }
    if std::env::var_os("DEDUP_LIBBPF").is_some() {
        let all = concat(&frags);
        let t = std::time::Instant::now();
        let one = dedup(&all);
        eprintln!(
            "one-shot over the concatenation: {:?}, {} types",
            t.elapsed(),
            one.types().len()
        );
        let t = std::time::Instant::now();
        let theirs = libbpf_dedup(&all).unwrap();
        eprintln!(
            "libbpf: {:?}, {} types; incremental identical: {}; one-shot identical: {}",
            t.elapsed(),
            theirs.types().len(),
            dump(&out) == dump(&theirs),
            dump(&one) == dump(&theirs)
        );
        assert_eq!(dump(&one), dump(&theirs));
    }
}

/// Runs a libbpf oracle program (`DEDUP_LIBBPF=path`; usage `prog in out [base]`,
/// calling `btf__dedup` on raw BTF) on `input`.
fn libbpf_dedup(input: &Btf) -> Option<Btf> {
    let prog = std::env::var("DEDUP_LIBBPF").ok()?;
    let dir = tempfile::tempdir().unwrap();
    let (i, o, b) = (
        dir.path().join("in"),
        dir.path().join("out"),
        dir.path().join("base"),
    );
    std::fs::write(&i, input.to_bytes()).unwrap();
    let mut cmd = std::process::Command::new(prog);
    cmd.arg(&i).arg(&o);
    if let Some(base) = input.base() {
        std::fs::write(&b, base.to_bytes()).unwrap();
        cmd.arg(&b);
    }
    let st = cmd.stdout(std::process::Stdio::null()).status().unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&o).unwrap();
    Some(match input.base() {
        Some(base) => Btf::from_split_bytes(&bytes, base.clone()).unwrap(),
        None => Btf::from_bytes(&bytes).unwrap(),
    })
}

/// Split dedup (module-like) against libbpf: the base is the dedup of half the
/// fragments, the split part the other half.
#[test]
#[ignore]
fn kernel_split_vs_libbpf() {
    let n = std::env::var("DEDUP_FRAGS").map_or(200, |v| v.parse().unwrap());
    let k = Btf::from_file(VMLINUX).unwrap();
    let frags = kernel_fragments(&k, n, 3000, 0x9e37_79b9);
    let base = Arc::new(dedup(&concat(&frags[..n / 2])));
    let mut raw = Btf::new_split(base.clone());
    for f in &frags[n / 2..] {
        let off = raw.type_count() - 1;
        for t in f.types() {
            let mut t = t.clone();
            t.kind.for_each_ref_mut(|r| {
                if *r != 0 {
                    *r += off
                }
            });
            t.for_each_name_mut(|x| *x = raw.add_bytes(f.name_bytes(*x).unwrap_or_default()));
            raw.add(t);
        }
    }
    let t = std::time::Instant::now();
    let mut d = Dedup::new_split(base.clone());
    for f in &frags[n / 2..] {
        d.add(&mut f.clone());
    }
    let inc = d.finish();
    eprintln!(
        "split incremental: {:?}, {} types",
        t.elapsed(),
        inc.types().len()
    );
    let one = dedup(&raw);
    eprintln!("split one-shot: {} types", one.types().len());
    let back = Btf::from_split_bytes(&inc.to_bytes(), base.clone()).unwrap();
    assert_eq!(dump(&back), dump(&inc));
    if let Some(theirs) = libbpf_dedup(&raw) {
        eprintln!(
            "libbpf: {} types; incremental identical: {}; one-shot identical: {}",
            theirs.types().len(),
            dump(&inc) == dump(&theirs),
            dump(&one) == dump(&theirs)
        );
        assert_eq!(dump(&one), dump(&theirs));
    }
}
