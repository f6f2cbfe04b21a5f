#!/usr/bin/env bash
# Byte-identity check for refactors: SHA-256 of every kind of output the tools write,
# on real inputs, so that two builds can be compared line by line.
#
#   scripts/output-hashes.sh [BIN_DIR] > hashes.txt
#
# BIN_DIR holds the `btfgen` and `corepack` binaries to measure (default: a release build
# of this checkout, target/release). Inputs: Debian's newest 6.1 cloud kernel debuginfo
# (scripts/debian-kernel.sh, cached), this machine's /sys/kernel/btf/vmlinux, and the
# CO-RE fixtures in fixtures/bpf/ compiled with clang against a vmlinux.h of this kernel.
# Outputs hashed: the vmlinux BTF (raw at -j1 and -j2, ELF), a module's split BTF, `min`
# (one file and a directory of kernels), `check --json`, `dump` (c, text, json), `diff
# --json`, and a corepack bundle with the tracer. Compare two runs with `diff`.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in clang bpftool sha256sum; do
  command -v $t >/dev/null || { echo "output-hashes: $t missing: apt-get install ${t/sha256sum/coreutils}" >&2; exit 1; }
done
if [ $# -ge 1 ]; then
  bin=$(cd "$1" && pwd)
else
  cargo build --release -q -p btfgen -p corepack
  bin=$PWD/target/release
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
btfgen=$bin/btfgen corepack=$bin/corepack
h() { printf '%-28s %s\n' "$1" "$(sha256sum < "$2" | cut -d' ' -f1)"; }

debian=$(scripts/debian-kernel.sh cloud-amd64)
"$btfgen" "$debian/vmlinux" -o "$work/vmlinux.btf" -j2
h vmlinux.btf "$work/vmlinux.btf"
"$btfgen" "$debian/vmlinux" -o "$work/vmlinux-j1.btf" -j1
h vmlinux-j1.btf "$work/vmlinux-j1.btf"
"$btfgen" "$debian/vmlinux" -o "$work/vmlinux.elf" --format elf
h vmlinux.elf "$work/vmlinux.elf"
"$btfgen" "$debian/nf_conntrack.ko" --base "$work/vmlinux.btf" -o "$work/nf_conntrack.btf"
h nf_conntrack.btf "$work/nf_conntrack.btf"
"$btfgen" fixtures/demo.o -o "$work/demo.btf" -j2
h demo.btf "$work/demo.btf"

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"
objs=() objargs=()
for p in fields types paths subprogs; do
  # The temporary directory's name must not reach the objects (DWARF paths) or the
  # outputs (object names): it is mapped away, and the objects are named relatively.
  clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -fdebug-prefix-map="$work"=/work -I "$work" \
    -c "fixtures/bpf/$p.bpf.c" -o "$work/$p.o"
  objs+=("$p.o") objargs+=(--object "$p.o")
done
cd "$work"
mkdir -p "$work/kernels/debian/12/x86_64" "$work/kernels/this/0/x86_64"
cp "$work/vmlinux.btf" "$work/kernels/debian/12/x86_64/$(cat "$debian/PACKAGE").btf"
cp /sys/kernel/btf/vmlinux "$work/kernels/this/0/x86_64/$(uname -r).btf"

for k in debian:vmlinux.btf running:/sys/kernel/btf/vmlinux; do
  name=${k%%:*} file=${k#*:}
  "$btfgen" min --btf "$file" "${objs[@]}" -o "$work/min-$name.btf"
  h "min $name" "$work/min-$name.btf"
  "$btfgen" check "${objs[@]}" --btf "$file" --json > "$work/check-$name.json" || true
  h "check --json $name" "$work/check-$name.json"
  for f in c text json; do
    "$btfgen" dump "$file" --format $f -o "$work/dump-$name.$f"
    h "dump $f $name" "$work/dump-$name.$f"
  done
done
"$btfgen" min --btf "$work/kernels" "${objs[@]}" -o "$work/min-dir"
(cd "$work/min-dir" && find . -type f | sort | xargs sha256sum) > "$work/min-dir.sums"
h "min directory" "$work/min-dir.sums"
"$btfgen" diff vmlinux.btf /sys/kernel/btf/vmlinux --json > "$work/diff.json" || true
h "diff --json" "$work/diff.json"
"$btfgen" diff vmlinux.btf /sys/kernel/btf/vmlinux --object fields.o > "$work/diff-object.txt" || true
h "diff --object" "$work/diff-object.txt"
"$corepack" build "${objargs[@]}" --tracer --btf-dir "$work/kernels" -o "$work/set.corepack" > /dev/null
h bundle "$work/set.corepack"
"$corepack" inspect "$work/set.corepack" --json > "$work/inspect.json"
h "inspect --json" "$work/inspect.json"
