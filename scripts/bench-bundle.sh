#!/usr/bin/env bash
# Benchmark: the same minimized kernel BTFs packed as tar.gz (bcc's way: `tar c --gz`),
# `tar -c | xz -9e` and .corepack, in bytes, for two sets of BPF objects on one fleet
# (tar with sorted names and fixed times and owners, so every run gives the same bytes).
#
# Fleet: every Debian 12 kernel debuginfo package the package lists know (39 on
# 2026-12-03: 6.1.0-N and 6.12.N+deb12, flavors amd64, cloud-amd64, rt-amd64), encoded by
# btfgen (scripts/debian-fleet.sh; the first run downloads about 11 GB, one package at a
# time, and keeps only the BTF), and this machine's /sys/kernel/btf/vmlinux.
#
# Sets, each minimized (`btfgen min`, all the set's objects at once) for every kernel:
#   tracer   corepack's exec tracer (corepack/bpf/trace.bpf.c, compiled as corepack's
#            build.rs does; the bundle is `corepack build --tracer`, and `corepack verify
#            --object` proves the script's object is the one the bundle was built for).
#   bcc      bcc's libbpf-tools, every libbpf-tools/*.bpf.c that compiles with this
#            machine's clang and libbpf headers (libbpf-dev) against bcc's
#            libbpf-tools/x86/vmlinux.h; the script says how many compiled. bcc is not
#            part of this repository: set BCC_DIR to a checkout of
#            github.com/iovisor/bcc (`git clone --depth 1` of it is enough); without
#            BCC_DIR the set is skipped.
#
# KERNELS=GLOB keeps only the fleet's kernels whose `uname -r` matches (a shell glob:
# '6.1.0-*', '*-cloud-amd64', '6.1.0-57-*'), to measure smaller fleets; this machine's
# kernel is added only when it matches too.
#
# Goal: .corepack <= 0.75 x tar.xz -9e on both sets, every check of the format included.
#
#   [BCC_DIR=DIR] [KERNELS=GLOB] scripts/bench-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for t in clang bpftool tar xz gzip sha256sum; do
  command -v $t >/dev/null || { echo "bench-bundle: $t missing" >&2; exit 1; }
done
cargo build --release -q -p btfgen -p corepack
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$target/release/btfgen" "$target/release/corepack" "$work/"

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
if [ -n "${KERNELS:-}" ]; then
  for f in $(find "$btf" -name '*.btf'); do
    # shellcheck disable=SC2053 # KERNELS is a glob on purpose
    [[ $(basename "$f" .btf) == $KERNELS ]] || rm -f "$f" "${f%.btf}.buildid"
  done
  [ -n "$(find "$btf" -name '*.btf')" ] || { echo "bench-bundle: no kernel matches KERNELS=$KERNELS" >&2; exit 1; }
  echo "fleet: $(find "$btf" -name '*.btf' | wc -l) kernels matching $KERNELS"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# measure NAME BUNDLE OBJECT...: minimizes every kernel for the objects, packs the
# minimized files as tar.gz and tar.xz -9e, and prints one row against BUNDLE.
measure() {
  local name=$1 bundle=$2
  shift 2
  local min=$work/min-$name
  mkdir -p "$min"
  for f in $(cd "$btf" && find . -name '*.btf' | sort); do
    mkdir -p "$min/$(dirname "$f")"
    "$work/btfgen" min --btf "$btf/$f" "$@" -o "$min/$f"
  done
  # Names sorted, owner and times fixed: the same bytes every run (a real build's tar
  # has real times and names in directory order, a few bytes more).
  local tar=(tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
  (cd "$min" && "${tar[@]}" --gz -f "$work/$name.tar.gz" . && "${tar[@]}" . | xz -9e >"$work/$name.tar.xz")
  local n distinct raw gz xz cp
  n=$(find "$min" -name '*.btf' | wc -l)
  distinct=$(find "$min" -name '*.btf' -exec sha256sum {} + | awk '{print $1}' | sort -u | wc -l)
  raw=$(find "$min" -name '*.btf' -exec cat {} + | wc -c)
  gz=$(stat -c %s "$work/$name.tar.gz")
  xz=$(stat -c %s "$work/$name.tar.xz")
  cp=$(stat -c %s "$bundle")
  printf '%-8s %7s %7s %8s %9s %7s %7s %9s %9s %9s\n' "$name" "$#" "$n" "$distinct" "$raw" \
    "$gz" "$xz" "$cp" "$(ratio "$cp" "$xz")" "$(ratio "$cp" "$gz")"
}

printf '%-8s %7s %7s %8s %9s %7s %7s %9s %9s %9s\n' set objects kernels distinct \
  "raw BTF" tar.gz tar.xz .corepack .corepack .corepack
printf '%-8s %7s %7s %8s %9s %7s %7s %9s %9s %9s\n' "" "" "" "" "" "" "-9e" "" \
  "/ tar.xz" "/ tar.gz"

# Set 1: the tracer.
(cd corepack && clang -target bpf -O2 -g -c bpf/trace.bpf.c -o "$work/trace.bpf.o")
"$work/corepack" build --tracer --btf-dir "$btf" -o "$work/tracer.corepack" 2>/dev/null
"$work/corepack" verify "$work/tracer.corepack" --object "$work/trace.bpf.o" >/dev/null 2>&1 || {
  echo "bench-bundle: corepack/bpf/trace.bpf.c compiled here is not the object corepack build --tracer bundles" >&2
  exit 1
}
measure tracer "$work/tracer.corepack" "$work/trace.bpf.o"

# Set 2: bcc's libbpf-tools.
if [ -z "${BCC_DIR:-}" ]; then
  echo "bcc      skipped: set BCC_DIR to a checkout of github.com/iovisor/bcc"
  exit 0
fi
tools=$BCC_DIR/libbpf-tools
[ -d "$tools" ] || { echo "bench-bundle: BCC_DIR=$BCC_DIR has no libbpf-tools/" >&2; exit 1; }
mkdir -p "$work/bcc"
if [ -e "$tools/x86/vmlinux.h" ]; then
  cp "$tools/x86/vmlinux.h" "$work/bcc/vmlinux.h"
else
  bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$work/bcc/vmlinux.h"
fi
bcc=() failed=()
for src in "$tools"/*.bpf.c; do
  obj=$work/bcc/$(basename "${src%.c}").o
  # As libbpf-tools/Makefile compiles them (softirqs needs -mcpu=v3), against the
  # libbpf headers of this machine.
  mcpu=()
  [ "$(basename "$src")" = softirqs.bpf.c ] && mcpu=(-mcpu=v3)
  # (-fdebug-prefix-map: the same object bytes, so the same digests, every run.)
  if clang -g -O2 "${mcpu[@]}" -target bpf -D__TARGET_ARCH_x86 -I "$work/bcc" -I "$tools" \
    -fdebug-prefix-map="$work"=/bench -c "$src" -o "$obj" 2>/dev/null; then
    bcc+=("$obj")
  else
    failed+=("$(basename "$src")")
  fi
done
args=()
for o in "${bcc[@]}"; do args+=(--object "$o"); done
"$work/corepack" build "${args[@]}" --program libbpf-tools --btf-dir "$btf" \
  -o "$work/bcc.corepack" 2>/dev/null
measure bcc "$work/bcc.corepack" "${bcc[@]}"
echo "bcc: ${#bcc[@]} of $((${#bcc[@]} + ${#failed[@]})) libbpf-tools objects compiled (not: ${failed[*]:-none})" \
  "from $(git -C "$BCC_DIR" rev-parse --short HEAD 2>/dev/null || echo "$BCC_DIR")"
