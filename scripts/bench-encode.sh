#!/usr/bin/env bash
# Benchmark: btfgen against pahole 1.30 (what kernel builds use today) and the system's
# pahole 1.24, on a real Debian kernel, measured in the same run.
#
# Kernel: Debian 12's newest linux-image-6.1.0-N-cloud-amd64-dbg (cached; see
# debian-kernel.sh for SERIES/PKG), or with KERNEL=trixie Debian 13's newest 6.12
# cloud kernel (scripts/trixie.sh, which also provides pahole 1.30). Runs `btfgen -j2`,
# `pahole -j2 --btf_gen_floats --btf_encode_detached` (1.24) and pahole 1.30 `-j2
# --btf_features=default --btf_encode_detached` on its vmlinux RUNS times each (default
# 5, interleaved) and prints median wall time, peak RSS and output size for each, and
# btfgen's ratios to each pahole (goals against pahole 1.30: wall <= 0.35, RSS <= 0.65;
# against 1.24: wall <= 0.35, RSS <= 0.75, bytes <= 1.00), with the load average.
# Then checks btfgen's output against the .BTF Debian's build embedded in the vmlinux
# and against pahole 1.30's, that -j1 and -j2 give identical bytes, and encodes
# nf_conntrack.ko with --base against the same module's Debian .BTF.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
command -v pahole >/dev/null || { echo "bench-encode: pahole missing: apt-get install dwarves" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-encode: /usr/bin/time missing: apt-get install time" >&2; exit 1; }
trixie=$(bash scripts/trixie.sh)
pahole130=$trixie/pahole
cargo build --release -q -p btfgen -p btfgen-tests
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Copies, so that a concurrent cargo build cannot swap the binaries mid-run.
target=${CARGO_TARGET_DIR:-target}
cp "$target/release/btfgen" "$target/release/btf-compare" "$bin/"
btfgen=$bin/btfgen
compare=$bin/btf-compare

if [ "${KERNEL:-}" = trixie ]; then
  dir=$trixie
else
  dir=$(scripts/debian-kernel.sh cloud-amd64)
fi
vmlinux=$dir/vmlinux
out=$(mktemp -d)
trap 'rm -rf "$out" "$bin"' EXIT
echo "kernel: $(cat "$dir/PACKAGE"), vmlinux $(stat -c %s "$vmlinux") bytes, $(nproc) CPUs"
echo "pahole: $(pahole --version) (system), $("$pahole130" --version) (trixie)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # label command... ; appends "wall rss" to $out/label
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t" "$@" >/dev/null 2>&1 || { echo "$label failed" >&2; exit 1; }
  cat "$out/t" >> "$out/$label"
}
for _ in $(seq "$runs"); do
  measure btfgen "$btfgen" -j2 "$vmlinux" -o "$out/btfgen.btf"
  measure pahole124 pahole -j2 --btf_gen_floats --btf_encode_detached="$out/pahole124.btf" "$vmlinux"
  measure pahole130 "$pahole130" -j2 --btf_features=default --btf_encode_detached="$out/pahole130.btf" "$vmlinux"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for tool in btfgen pahole124 pahole130; do
  wall=$(cut -d' ' -f1 "$out/$tool" | median)
  rss=$(cut -d' ' -f2 "$out/$tool" | median)
  bytes=$(stat -c %s "$out/$tool.btf")
  eval "${tool}_wall=$wall ${tool}_rss=$rss ${tool}_bytes=$bytes"
  printf '%-9s median wall %6.2f s   peak RSS %7.1f MiB   output %8d bytes   (%d runs)\n' \
    "$tool" "$wall" "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$bytes" "$runs"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
echo "ratios btfgen/pahole 1.30: wall $(ratio "$btfgen_wall" "$pahole130_wall") (goal <= 0.35)," \
  "RSS $(ratio "$btfgen_rss" "$pahole130_rss") (goal <= 0.65)," \
  "bytes $(ratio "$btfgen_bytes" "$pahole130_bytes")"
echo "ratios btfgen/pahole 1.24: wall $(ratio "$btfgen_wall" "$pahole124_wall") (goal <= 0.35)," \
  "RSS $(ratio "$btfgen_rss" "$pahole124_rss") (goal <= 0.75)," \
  "bytes $(ratio "$btfgen_bytes" "$pahole124_bytes") (goal <= 1.00)"

echo "== btfgen vs the .BTF Debian's build embedded in the vmlinux"
"$compare" --all "$vmlinux" "$out/btfgen.btf" | grep -v '^  x' || true
echo "== btfgen vs pahole 1.30 on the same run"
"$compare" --all "$out/pahole130.btf" "$out/btfgen.btf" | grep -v '^  x' || true

"$btfgen" -j1 "$vmlinux" -o "$out/j1.btf"
if cmp -s "$out/j1.btf" "$out/btfgen.btf"; then echo "determinism: -j1 and -j2 byte-identical"; else echo "determinism: -j1 and -j2 DIFFER"; fi

echo "== nf_conntrack.ko --base btfgen's vmlinux BTF vs Debian's module .BTF"
"$btfgen" "$dir/nf_conntrack.ko" --base "$out/btfgen.btf" -o "$out/nfc.btf"
"$compare" --base-expected "$vmlinux" --base-actual "$out/btfgen.btf" "$dir/nf_conntrack.ko" "$out/nfc.btf" || true
