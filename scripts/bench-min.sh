#!/usr/bin/env bash
# Benchmark: `btfgen min` against `bpftool gen min_core_btf`, measured in the same run.
#
# Compiles the CO-RE test programs in fixtures/bpf/ (clang -target bpf, against a
# vmlinux.h of this machine's kernel), then prints, for each program and for all of
# them together, the bytes of btfgen's minimized BTF and bpftool's, against this
# machine's kernel BTF and Debian 6.1's (scripts/debian-kernel.sh). Then times
# minimizing one program against a directory of KERNELS kernel BTFs (default 20 copies
# of the two): one `btfgen min --btf DIR` against a bpftool loop (median of RUNS=5).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
kernels=${KERNELS:-20}
for t in clang bpftool; do command -v $t >/dev/null || { echo "bench-min: $t missing: apt-get install $t" >&2; exit 1; }; done
cargo build --release -q -p btfgen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/release/btfgen "$work/btfgen"
btfgen=$work/btfgen

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"
progs="fields types paths subprogs"
for p in $progs; do
  clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -I "$work" -c "fixtures/bpf/$p.bpf.c" -o "$work/$p.o"
done
debian=$(scripts/debian-kernel.sh cloud-amd64)
"$btfgen" "$debian/vmlinux" -o "$work/debian.btf"

printf '%-10s %-12s %10s %10s %8s\n' program kernel btfgen bpftool ratio
for k in running debian; do
  kbtf=/sys/kernel/btf/vmlinux; [ $k = debian ] && kbtf=$work/debian.btf
  for p in $progs all; do
    objs="$work/$p.o"; [ $p = all ] && objs=$(for q in $progs; do printf '%s ' "$work/$q.o"; done)
    # shellcheck disable=SC2086
    "$btfgen" min --btf "$kbtf" $objs -o "$work/b.btf"
    # shellcheck disable=SC2086
    bpftool gen min_core_btf "$kbtf" "$work/p.btf" $objs >/dev/null
    b=$(stat -c %s "$work/b.btf"); q=$(stat -c %s "$work/p.btf")
    printf '%-10s %-12s %10d %10d %8s\n' $p $k "$b" "$q" "$(awk -v a="$b" -v b="$q" 'BEGIN {printf "%.3f", a / b}')"
  done
done

mkdir -p "$work/kernels"
for i in $(seq "$kernels"); do
  cp /sys/kernel/btf/vmlinux "$work/kernels/running-$i.btf"
  cp "$work/debian.btf" "$work/kernels/debian-$i.btf"
done
n=$(ls "$work/kernels" | wc -l)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for _ in $(seq "$runs"); do
  s=$(date +%s.%N); "$btfgen" min --btf "$work/kernels" "$work/fields.o" -o "$work/out" >/dev/null
  e=$(date +%s.%N); echo "$e - $s" | awk '{print $1 - $3}' >> "$work/t.btfgen"
  s=$(date +%s.%N)
  for f in "$work"/kernels/*.btf; do bpftool gen min_core_btf "$f" "$work/p.btf" "$work/fields.o" >/dev/null; done
  e=$(date +%s.%N); echo "$e - $s" | awk '{print $1 - $3}' >> "$work/t.bpftool"
done
tb=$(median < "$work/t.btfgen"); tp=$(median < "$work/t.bpftool")
printf 'one program against %d kernel BTFs: btfgen min %.3f s, bpftool loop %.3f s, ratio %.3f (median of %d)\n' \
  "$n" "$tb" "$tp" "$(awk -v a="$tb" -v b="$tp" 'BEGIN {print a / b}')" "$runs"
