#!/usr/bin/env bash
# Benchmark: the same set of minimized kernel BTFs packed as tar.gz (bcc's way),
# tar.xz and .corepack, in bytes.
#
# Kernels: this machine's /sys/kernel/btf/vmlinux, and btfgen's encoding of Debian's
# cloud-amd64 and rt-amd64 6.1 kernels and cloud-amd64 6.12 (scripts/debian-kernel.sh,
# cached), each listed under two os-release names as fleets see them. Programs: the
# CO-RE fixtures in fixtures/bpf/. Goal: .corepack <= 1/3 of tar.xz.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in clang bpftool tar xz gzip; do command -v $t >/dev/null || { echo "bench-bundle: $t missing" >&2; exit 1; }; done
cargo build --release -q -p btfgen -p corepack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/release/btfgen target/release/corepack "$work/"

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"
objs=() objargs=()
for p in fields types paths subprogs; do
  clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -I "$work" -c "fixtures/bpf/$p.bpf.c" -o "$work/$p.o"
  objs+=("$work/$p.o") objargs+=(--object "$work/$p.o")
done

btf=$work/btf
add() { # ID VERSION_ID UNAME FILE
  mkdir -p "$btf/$1/$2/x86_64"; cp "$4" "$btf/$1/$2/x86_64/$3.btf"
}
add running 0 "$(uname -r)" /sys/kernel/btf/vmlinux
for spec in "6.1 cloud-amd64" "6.1 rt-amd64" "6.12 cloud-amd64"; do
  set -- $spec
  dir=$(SERIES=$1 scripts/debian-kernel.sh "$2")
  "$work/btfgen" "$dir/vmlinux" -o "$work/k.btf" 2>/dev/null
  rel=$(sed 's/^linux-image-//; s/-dbg$//' "$dir/PACKAGE")
  add debian 12 "$rel" "$work/k.btf"
  add ubuntu 22.04 "$rel" "$work/k.btf"
done

mkdir -p "$work/min"
for f in $(cd "$btf" && find . -name '*.btf'); do
  mkdir -p "$work/min/$(dirname "$f")"
  "$work/btfgen" min --btf "$btf/$f" "${objs[@]}" -o "$work/min/$f"
done
(cd "$work/min" && tar -czf "$work/set.tar.gz" . && tar -cJf "$work/set.tar.xz" .)
"$work/corepack" build "${objargs[@]}" --btf-dir "$btf" -o "$work/set.corepack" >/dev/null

n=$(find "$work/min" -name '*.btf' | wc -l)
raw=$(find "$work/min" -name '*.btf' -exec cat {} + | wc -c)
gz=$(stat -c %s "$work/set.tar.gz"); xz=$(stat -c %s "$work/set.tar.xz"); cp=$(stat -c %s "$work/set.corepack")
echo "$n kernel entries, $raw bytes of minimized BTF"
printf '%-10s %8d bytes\n' tar.gz "$gz" tar.xz "$xz" .corepack "$cp"
echo ".corepack / tar.xz = $(awk -v a="$cp" -v b="$xz" 'BEGIN {printf "%.3f", a / b}') (goal <= 0.333)"
