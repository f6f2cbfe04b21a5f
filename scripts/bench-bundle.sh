#!/usr/bin/env bash
# Benchmark: the same set of minimized kernel BTFs packed as tar.gz (bcc's way),
# tar.xz and .corepack, in bytes.
#
# Kernels: every Debian 12 kernel debuginfo package the package lists know (33 on
# 2026-11-25: 6.1.0-N and 6.12.N+deb12, flavors amd64, cloud-amd64, rt-amd64), encoded by
# btfgen (scripts/debian-fleet.sh; the first run downloads about 9 GB, one package at a
# time, and keeps only the BTF), and this machine's /sys/kernel/btf/vmlinux. Programs: the
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

# The fleet: every Debian 12 kernel the package lists have (scripts/debian-fleet.sh,
# cached), plus this machine's own kernel.
fleet=$(scripts/debian-fleet.sh "$work/btfgen")
btf=$work/btf
cp -r "$fleet" "$btf"
rm -rf "$btf"/dl.*
(
  . /etc/os-release
  mkdir -p "$btf/${ID:-linux}/${VERSION_ID:-0}/$(uname -m)"
  cp /sys/kernel/btf/vmlinux "$btf/${ID:-linux}/${VERSION_ID:-0}/$(uname -m)/$(uname -r).btf"
)

mkdir -p "$work/min"
for f in $(cd "$btf" && find . -name '*.btf'); do
  mkdir -p "$work/min/$(dirname "$f")"
  "$work/btfgen" min --btf "$btf/$f" "${objs[@]}" -o "$work/min/$f"
done
(cd "$work/min" && tar -czf "$work/set.tar.gz" . && tar -cJf "$work/set.tar.xz" .)
"$work/corepack" build "${objargs[@]}" --btf-dir "$btf" -o "$work/set.corepack" >/dev/null

n=$(find "$work/min" -name '*.btf' | wc -l)
distinct=$(find "$work/min" -name '*.btf' -exec sha256sum {} + | awk '{print $1}' | sort -u | wc -l)
raw=$(find "$work/min" -name '*.btf' -exec cat {} + | wc -c)
gz=$(stat -c %s "$work/set.tar.gz"); xz=$(stat -c %s "$work/set.tar.xz"); cp=$(stat -c %s "$work/set.corepack")
echo "$n kernel entries, $distinct distinct minimized BTFs, $raw bytes of minimized BTF"
printf '%-10s %8d bytes\n' tar.gz "$gz" tar.xz "$xz" .corepack "$cp"
echo ".corepack / tar.xz = $(awk -v a="$cp" -v b="$xz" 'BEGIN {printf "%.3f", a / b}') (goal <= 0.333)"
