#!/usr/bin/env bash
# Benchmark: btfgen against pahole on Debian's real kernel, measured in the same run.
#
# Fetches the newest linux-image-6.1.0-N-cloud-amd64-dbg (cached; see debian-kernel.sh
# for SERIES/PKG), then runs `btfgen -j2` and `pahole -j2 --btf_gen_floats
# --btf_encode_detached` on its vmlinux RUNS times each (default 5, interleaved) and
# prints median wall time, peak RSS and output size for each, and the ratios
# (goals: wall <= 0.35, RSS <= 0.75, bytes <= 1.00 of pahole's).
# Then checks btfgen's output against the .BTF Debian's build embedded in the vmlinux
# (0 type differences, FUNCs, VARs), that -j1 and -j2 give identical bytes, and
# encodes nf_conntrack.ko with --base against the same module's Debian .BTF.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
command -v pahole >/dev/null || { echo "bench-encode: pahole missing: apt-get install dwarves" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-encode: /usr/bin/time missing: apt-get install time" >&2; exit 1; }
cargo build --release -q -p btfgen -p btfgen-tests
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Copies, so that a concurrent cargo build cannot swap the binaries mid-run.
cp target/release/btfgen target/release/btf-compare "$bin/"
btfgen=$bin/btfgen
compare=$bin/btf-compare

dir=$(scripts/debian-kernel.sh cloud-amd64)
vmlinux=$dir/vmlinux
out=$(mktemp -d)
trap 'rm -rf "$out" "$bin"' EXIT
echo "kernel: $(cat "$dir/PACKAGE"), vmlinux $(stat -c %s "$vmlinux") bytes, $(nproc) CPUs"
echo "pahole: $(pahole --version)"

measure() { # label command... ; appends "wall rss" to $out/label
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t" "$@" >/dev/null 2>&1 || { echo "$label failed" >&2; exit 1; }
  cat "$out/t" >> "$out/$label"
}
for _ in $(seq "$runs"); do
  measure btfgen "$btfgen" -j2 "$vmlinux" -o "$out/btfgen.btf"
  measure pahole pahole -j2 --btf_gen_floats --btf_encode_detached="$out/pahole.btf" "$vmlinux"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for tool in btfgen pahole; do
  wall=$(cut -d' ' -f1 "$out/$tool" | median)
  rss=$(cut -d' ' -f2 "$out/$tool" | median)
  bytes=$(stat -c %s "$out/$tool.btf")
  eval "${tool}_wall=$wall ${tool}_rss=$rss ${tool}_bytes=$bytes"
  printf '%-7s median wall %6.2f s   peak RSS %7.1f MiB   output %8d bytes   (%d runs)\n' \
    "$tool" "$wall" "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$bytes" "$runs"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
echo "ratios btfgen/pahole: wall $(ratio "$btfgen_wall" "$pahole_wall") (goal <= 0.35)," \
  "RSS $(ratio "$btfgen_rss" "$pahole_rss") (goal <= 0.75)," \
  "bytes $(ratio "$btfgen_bytes" "$pahole_bytes") (goal <= 1.00)"

echo "== btfgen vs the .BTF Debian's build embedded in the vmlinux"
"$compare" "$vmlinux" "$out/btfgen.btf" | grep -v '^  x' || true
echo "== btfgen vs pahole on the same run"
"$compare" "$out/pahole.btf" "$out/btfgen.btf" | grep -v '^  x' || true

"$btfgen" -j1 "$vmlinux" -o "$out/j1.btf"
if cmp -s "$out/j1.btf" "$out/btfgen.btf"; then echo "determinism: -j1 and -j2 byte-identical"; else echo "determinism: -j1 and -j2 DIFFER"; fi

echo "== nf_conntrack.ko --base btfgen's vmlinux BTF vs Debian's module .BTF"
"$btfgen" "$dir/nf_conntrack.ko" --base "$out/btfgen.btf" -o "$out/nfc.btf"
"$compare" --base-expected "$vmlinux" --base-actual "$out/btfgen.btf" "$dir/nf_conntrack.ko" "$out/nfc.btf" || true
