#!/usr/bin/env bash
# bcc's libbpf-tools through `corepack test`: every tools' *.bpf.c compiled here with
# clang and loaded, program by program, on the kernels of scripts/verifier-kernels.sh
# (Debian 11's 5.10, 12's 6.1, 13's 6.12 cloud kernels) booted in qemu. bcc's code is
# not part of this project: give a checkout.
#
#   BCC_DIR=/path/to/bcc scripts/verifier-bcc.sh
#
# Prints corepack test's table per kernel (or JSON=1), the program x kernel matrix,
# the objects clang could not compile, and per kernel the count of programs accepted
# and rejected; timings on stderr.
#
# vmlinux.h: $BCC_DIR/libbpf-tools/x86/vmlinux.h when the checkout has it, else
# `bpftool btf dump ... format c` of Debian 12's 6.1 cloud kernel's BTF (its -dbg
# package's vmlinux, scripts/debian-kernel.sh). The headers are those of this
# machine's libbpf-dev, not bcc's libbpf submodule; objects needing newer ones fail
# to compile and are listed. One shim: -Dnr_queued=nr_running (see below).
#
# Environment: BCC_DIR (required), SUITES, COREPACK_BIN, ACCEL (default tcg), JSON=1,
# QEMU_TIMEOUT (seconds per boot, default 600). Exit status: corepack test's.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
suites=${SUITES:-bullseye bookworm trixie}
me=verifier-bcc
die_status=2
. "$root/scripts/lib/common.sh"
[ -n "${BCC_DIR:-}" ] || die "set BCC_DIR to a bcc checkout (github.com/iovisor/bcc)"
tools=$BCC_DIR/libbpf-tools
ls "$tools"/*.bpf.c >/dev/null 2>&1 || die "no libbpf-tools/*.bpf.c under $BCC_DIR"
command -v clang >/dev/null || die "clang not found: install the Debian package clang"

t_start=$(now)
if [ -z "${COREPACK_BIN:-}" ]; then
  (cd "$root" && cargo build --release -q -p corepack --bin corepack) >&2
fi
corepack=${COREPACK_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/corepack}
work=$(mktemp -d "${TMPDIR:-/tmp}/verifier-bcc.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/inc" "$work/obj"

# shellcheck disable=SC2086
mapfile -t debs < <(bash "$root/scripts/verifier-kernels.sh" $suites)

if [ -s "$tools/x86/vmlinux.h" ]; then
  cp "$tools/x86/vmlinux.h" "$work/inc/vmlinux.h"
  say "vmlinux.h: bcc's"
else
  bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
  dbgdir=$(bash "$root/scripts/debian-kernel.sh" cloud-amd64)
  "$bpftool" btf dump file "$dbgdir/vmlinux" format c > "$work/inc/vmlinux.h"
  say "vmlinux.h: from $(cat "$dbgdir/PACKAGE")"
fi

t0=$(now)
objs=()
failed=()
for src in "$tools"/*.bpf.c; do
  name=$(basename "$src" .bpf.c)
  extra=()
  [ "$name" != softirqs ] || extra=(-mcpu=v3) # as bcc's Makefile
  # -Dnr_queued=nr_running: core_fixes.bpf.h reads cfs_rq.nr_queued (6.14's name, absent
  # from 6.1's vmlinux.h) where the kernel lacks nr_running; the kernels here have it.
  if clang -target bpf -O2 -g -Wall -D__TARGET_ARCH_x86 -Dnr_queued=nr_running "${extra[@]}" \
    -I "$work/inc" -I "$tools" \
    -I /usr/include/x86_64-linux-gnu -c "$src" -o "$work/obj/$name.bpf.o" 2> "$work/$name.err"; then
    objs+=(--object "$work/obj/$name.bpf.o")
  else
    failed+=("$name: $(grep -m1 'error:' "$work/$name.err" | sed 's/^[^ ]* //')")
  fi
done
say "compiled $(( ${#objs[@]} / 2 )) of $(ls "$tools"/*.bpf.c | wc -l) objects in $(secs "$t0" "$(now)") s; clang failed on ${#failed[@]}"

kargs=()
for d in "${debs[@]}"; do kargs+=(--kernel "$d"); done
json=()
[ "${JSON:-0}" != 1 ] || json=(--json)
t0=$(now)
set +e
"$corepack" test "${kargs[@]}" "${objs[@]}" --accel "${ACCEL:-tcg}" --timeout "${QEMU_TIMEOUT:-600}" "${json[@]}" | tee "$work/out"
rc=${PIPESTATUS[0]}
set -e
say "corepack test: ${#debs[@]} kernels in $(secs "$t0" "$(now)") s (exit status $rc)"
echo
echo "clang 14 failed on ${#failed[@]} objects:"
for f in "${failed[@]}"; do echo "  $f"; done
if [ "${JSON:-0}" != 1 ]; then
  # The matrix's verdict columns, counted.
  awk '/^program / { m = 1; n = NF - 1; for (i = 1; i <= n; i++) k[i] = $(i + 1); next }
       m && NF == 0 { m = 0 }
       m && NF > n { for (i = 1; i <= n; i++) c[i, $(NF - n + i)]++ }
       END { for (i = 1; i <= n; i++)
               printf "%s: %d accepted, %d rejected by the verifier, %d refused before it\n",
                 k[i], c[i, "accepted"], c[i, "rejected"], c[i, "refused"] }' "$work/out"
fi
say "total $(secs "$t_start" "$(now)") s"
exit $rc
