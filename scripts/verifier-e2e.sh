#!/usr/bin/env bash
# `corepack test` on Debian's own kernels: the verifier fixtures
# (fixtures/bpf/verifier/*.bpf.c, compiled here with clang -target bpf -O2 -g) loaded
# on Debian 11's 5.10, 12's 6.1 and 13's 6.12 cloud kernels, each booted in qemu
# (TCG unless ACCEL says otherwise), every object also loaded with bpftool in the same
# guest (--bpftool) to compare verdicts with.
#
#   scripts/verifier-e2e.sh          the table of every kernel, then the verdicts'
#                                    program x kernel matrix; timings on stderr
#
# Kernels: scripts/verifier-kernels.sh $SUITES (default "bullseye bookworm trixie")
# fetches (cached) each suite's newest linux-image-*-cloud-amd64-unsigned .deb, given
# to `corepack test --kernel` as is (it extracts /boot/vmlinuz-*).
#
# Environment:
#   SUITES        Debian suites (bullseye, bookworm, trixie)
#   COREPACK_BIN  the binary to use; when unset, `cargo build --release -p corepack`
#   ACCEL         auto, kvm or tcg (default tcg: the budget is stated for TCG)
#   JSON=1        print corepack test's JSON instead of the table
#   OUT=DIR       also keep the compiled fixtures there
#   BUNDLE=1      also: a bundle for core_read.bpf.o built from Debian 12's 6.1 cloud
#                 kernel's BTF (scripts/debian-kernel.sh, btfgen; BTFGEN_BIN), and
#                 `corepack test --bundle` on that kernel, which must take the BTF
#                 from the bundle's entry for it
#
# Needs: qemu-system-x86_64 (qemu-system-x86), clang, gcc with libc6-dev, libbpf-dev,
# libelf-dev and zlib1g-dev (the guest agent), bpftool, dpkg-deb, apt-get. Exit status:
# corepack test's (1 when any program is rejected on any kernel: the fixtures include
# rejected ones, so 1 is expected), 2 on a failure of this script. See docs/verifier.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
suites=${SUITES:-bullseye bookworm trixie}
accel=${ACCEL:-tcg}

me=verifier-e2e
die_status=2
. "$root/scripts/lib/common.sh"
need qemu-system-x86_64 qemu-system-x86
need clang clang
need gcc gcc
need dpkg-deb dpkg
[ -f /usr/include/bpf/bpf_helpers.h ] || die "no bpf/bpf_helpers.h: install the Debian package libbpf-dev"

t_start=$(now)
if [ -z "${COREPACK_BIN:-}" ]; then
  say "building corepack (release)"
  (cd "$root" && cargo build --release -q -p corepack --bin corepack) >&2
fi
target=${CARGO_TARGET_DIR:-$root/target}
corepack=${COREPACK_BIN:-$target/release/corepack}
[ -x "$corepack" ] || die "no corepack binary at $corepack"

work=$(mktemp -d "${TMPDIR:-/tmp}/verifier-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${OUT:-$work/obj}
mkdir -p "$out"

# --- kernels (cached .deb packages)
t0=$(now)
# shellcheck disable=SC2086
mapfile -t debs < <(bash "$root/scripts/verifier-kernels.sh" $suites)
[ ${#debs[@]} -gt 0 ] || die "no kernels"
say "kernels: ${debs[*]##*/} in $(secs "$t0" "$(now)") s"

# --- fixtures; line info names them relative to the workspace (-fdebug-prefix-map)
t0=$(now)
objs=()
fixtures=$root/fixtures/bpf/verifier
for src in "$fixtures"/*.bpf.c; do
  name=$(basename "$src" .c)
  (cd "$root" && clang -target bpf -O2 -g -I/usr/include/x86_64-linux-gnu \
    -fdebug-prefix-map="$root=." -c "fixtures/bpf/verifier/$name.c" -o "$out/$name.o") ||
    die "clang failed on $src"
  objs+=(--object "$out/$name.o")
done
say "fixtures: $(( ${#objs[@]} / 2 )) objects compiled in $(secs "$t0" "$(now)") s ($(clang --version | sed -n 1p))"

# --- corepack test over the kernels
kargs=()
for d in "${debs[@]}"; do kargs+=(--kernel "$d"); done
json=()
[ "${JSON:-0}" != 1 ] || json=(--json)
t0=$(now)
set +e
"$corepack" test "${kargs[@]}" "${objs[@]}" --bpftool --accel "$accel" "${json[@]}"
rc=$?
set -e
say "corepack test: ${#debs[@]} kernels in $(secs "$t0" "$(now)") s (exit status $rc)"

# --- the bundle run
if [ "${BUNDLE:-0}" = 1 ]; then
  if [ -z "${BTFGEN_BIN:-}" ]; then
    (cd "$root" && cargo build --release -q -p btfgen --bin btfgen) >&2
  fi
  btfgen=${BTFGEN_BIN:-$target/release/btfgen}
  t0=$(now)
  dbgdir=$(bash "$root/scripts/debian-kernel.sh" cloud-amd64)
  uname=$(cat "$dbgdir/PACKAGE")
  uname=${uname#linux-image-}
  uname=${uname%-dbg}
  bookworm=$(bash "$root/scripts/verifier-kernels.sh" bookworm)
  [[ "$bookworm" == *"linux-image-$uname-unsigned_"* ]] ||
    die "the -dbg package ($uname) and the image ($bookworm) differ; REFRESH=1 scripts/verifier-kernels.sh bookworm"
  mkdir -p "$work/btf/debian/12/x86_64"
  "$btfgen" "$dbgdir/vmlinux" -o "$work/btf/debian/12/x86_64/$uname.btf"
  "$corepack" build --object "$out/core_read.bpf.o" --btf-dir "$work/btf" -o "$work/core_read.corepack" >&2
  say "bundle: $(stat -c %s "$work/core_read.corepack") bytes in $(secs "$t0" "$(now)") s"
  t0=$(now)
  set +e
  "$corepack" test --kernel "$bookworm" --object "$out/core_read.bpf.o" --bundle "$work/core_read.corepack" \
    --accel "$accel" "${json[@]}"
  brc=$?
  set -e
  say "corepack test --bundle: $(secs "$t0" "$(now)") s (exit status $brc)"
  [ $brc = 0 ] || rc=2
fi
say "total $(secs "$t_start" "$(now)") s"
exit $rc
