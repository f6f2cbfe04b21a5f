#!/usr/bin/env bash
# Module BTF end to end on a real other kernel: Debian 12's 6.1 cloud kernel is booted in
# qemu (TCG) with nf_conntrack loaded, and libbpf relocates a program whose CO-RE
# relocations reach nf_conntrack's types (fixtures/bpf/module.bpf.c) twice in the guest:
# with the kernel's own BTF (/sys/kernel/btf/vmlinux and the module's split BTF
# /sys/kernel/btf/nf_conntrack, which libbpf finds itself), and with the one standalone
# BTF `btfgen min` made from the -dbg package's vmlinux and nf_conntrack.ko
# (`btfgen PACKAGE --modules nf_conntrack`, then `btfgen min` over that layout) given as
# btf_custom_path. Every relocation must get the same value both times, and the program
# must load with the minimized BTF.
#
#   scripts/qemu-modules.sh
#
# Environment: FLAVOR (default cloud-amd64), SERIES as scripts/debian-kernel.sh;
# BTF_DIR a layout that `btfgen PACKAGE --modules nf_conntrack` already wrote for this
# kernel (ID/VERSION_ID/ARCH/<uname -r>.btf and <uname -r>/modules/nf_conntrack.btf);
# BTFGEN_BIN (default: cargo build --release); QEMU_TIMEOUT (default 180); KEEP_WORK=1;
# BTFGEN_CACHE. Needs qemu-system-x86_64 (qemu-system-x86), busybox (busybox-static),
# cpio, gzip, gcc, clang, bpftool, libbpf-dev, apt-get and dpkg-deb. Prints the values
# libbpf patched in both runs, then PASS or FAIL; the exit status is 1 on failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
flavor=${FLAVOR:-cloud-amd64}
timeout_s=${QEMU_TIMEOUT:-180}
cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/debian

me=qemu-modules
. "$root/scripts/lib/common.sh"
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need gzip gzip
need gcc gcc
need clang clang
need bpftool bpftool
need apt-get apt
need dpkg-deb dpkg
[ -e /usr/include/bpf/libbpf.h ] || die "no libbpf headers: install the Debian package libbpf-dev"
busybox=
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "no static busybox: install the Debian package busybox-static"
t_start=$(now)

if [ -z "${BTFGEN_BIN:-}" ]; then
  say "building btfgen (release)"
  (cd "$root" && cargo build --release -q -p btfgen --bin btfgen) >&2
fi
btfgen=${BTFGEN_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/btfgen}
[ -x "$btfgen" ] || die "no btfgen binary at $btfgen"

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-modules.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then say "work directory: $work (kept)"; else trap 'rm -rf "$work"' EXIT; fi

# --- the kernel: the -dbg package (vmlinux and modules with DWARF) and the -unsigned one
# (vmlinuz and the loadable modules), same version
. "$root/scripts/lib/debian-image.sh"
debian_kernel_pair "$flavor" "$cache" || die "no kernel packages for $flavor"
kmods=$work/kmods
mkdir -p "$kmods"
dpkg-deb --fsys-tarfile "$(ls "$imgdir"/dl/*.deb | sed -n 1p)" |
  tar -x -C "$kmods" --wildcards "./lib/modules/$uname/kernel/*.ko"
# nf_conntrack and what it depends on (its .modinfo `depends=`), dependencies first
modpath() { find "$kmods" -name "$1.ko" | sed -n 1p; }
order=()
add_module() {
  local m=$1 f deps d
  for d in "${order[@]}"; do [ "$d" != "$m" ] || return 0; done
  f=$(modpath "$m")
  [ -n "$f" ] || die "$imgpkg has no $m.ko"
  deps=$(tr '\0' '\n' < "$f" | sed -n 's/^depends=//p' | sed -n 1p | tr ',' ' ')
  for d in $deps; do add_module "$d"; done
  order+=("$m")
}
add_module nf_conntrack
say "$uname ($ver): modules to load: ${order[*]}"

# --- btfgen: the package with its module, then min over that layout
btfdir=${BTF_DIR:-$work/btf}
layout=$(find "$btfdir" -name "$uname.btf" -printf '%h\n' | sed -n 1p)
if [ -z "$layout" ]; then
  [ -z "${BTF_DIR:-}" ] || die "BTF_DIR=$BTF_DIR has no $uname.btf"
  t0=$(now)
  layout=$btfdir/debian/12/x86_64
  mkdir -p "$layout"
  "$btfgen" "$dbgdeb" --modules nf_conntrack -o "$layout/$uname.btf"
  say "btfgen $dbgpkg --modules nf_conntrack: $(secs "$t0" "$(now)") s"
fi
[ -s "$layout/$uname/modules/nf_conntrack.btf" ] || die "no $layout/$uname/modules/nf_conntrack.btf"
say "$(stat -c %s "$layout/$uname.btf") + $(stat -c %s "$layout/$uname/modules/nf_conntrack.btf") bytes of BTF in $layout"
rel=${layout#"$btfdir"/}

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"
clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -I "$work" -c "$root/fixtures/bpf/module.bpf.c" -o "$work/module.bpf.o"
"$btfgen" min --btf "$btfdir" -o "$work/min" "$work/module.bpf.o"
minbtf=$work/min/$rel/$uname.btf
[ -s "$minbtf" ] || die "btfgen min wrote no $minbtf"
[ ! -e "$work/min/$rel/$uname/modules/nf_conntrack.btf" ] || die "btfgen min took the module for a kernel"
say "minimized: $(stat -c %s "$minbtf") bytes (standalone)"

# --- the initramfs: busybox, the modules, libbpf's oracle and its libraries, /init
ir=$work/initramfs
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,opt/e2e/mods}
cp "$busybox" "$ir/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [ -e "$ir/$applet" ] || ln -s /bin/busybox "$ir/$applet"
done
for m in "${order[@]}"; do cp "$(modpath "$m")" "$ir/opt/e2e/mods/"; done
printf '%s\n' "${order[@]}" > "$ir/opt/e2e/mods/ORDER"
cp "$work/module.bpf.o" "$minbtf" "$ir/opt/e2e/"
mv "$ir/opt/e2e/$uname.btf" "$ir/opt/e2e/min.btf"
gcc -O2 -o "$ir/opt/e2e/oracle" "$root/fixtures/bpf/relo_oracle.c" -lbpf
ldd "$ir/opt/e2e/oracle" | awk '/=> \//{ print $3 } /^[[:space:]]*\//{ print $1 }' | while read -r lib; do
  mkdir -p "$ir/$(dirname "$lib")"
  cp -L "$lib" "$ir/$lib"
done
cat > "$ir/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "E2E-UNAME $(uname -r)"
for m in $(cat /opt/e2e/mods/ORDER); do
  insmod /opt/e2e/mods/$m.ko && echo "E2E-INSMOD $m"
done
[ -r /sys/kernel/btf/nf_conntrack ] && echo "E2E-MODULE-BTF $(wc -c < /sys/kernel/btf/nf_conntrack)"
echo "E2E-BEGIN-KERNEL"
/opt/e2e/oracle /opt/e2e/module.bpf.o 2>&1
echo "E2E-END-KERNEL"
echo "E2E-BEGIN-MIN"
/opt/e2e/oracle /opt/e2e/module.bpf.o /opt/e2e/min.btf 2>&1
echo "E2E-END-MIN"
echo "E2E-DONE"
poweroff -f
EOF
chmod +x "$ir/init"
initrd=$work/initrd.cpio.gz
(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$initrd"

# --- boot
t0=$(now)
raw=$work/serial
set +e
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
  -display none -monitor none -nic none -no-reboot -serial "file:$raw" \
  -kernel "$imgdir/vmlinuz" -initrd "$initrd" -append "console=ttyS0 panic=-1 quiet" \
  </dev/null >"$work/qemu.log" 2>&1
qrc=$?
set -e
boot=$(secs "$t0" "$(now)")
log=$work/log
tr -d '\r' < "$raw" > "$log" || true

block() { sed -n "/^E2E-BEGIN-$1\$/,/^E2E-END-$1\$/p" "$log" | sed '1d;$d'; }
# prog 'P': relo #N: patched insn #I (...) off X -> V   →   "P #N insn I -> V"
relos() { block "$1" | sed -n "s/.*prog '\([^']*\)': relo #\([0-9]*\): patched insn #\([0-9]*\) .* -> \([0-9]*\)\$/\1 #\2 insn \3 -> \4/p"; }
problems=()
[ $qrc = 0 ] || problems+=("qemu exit status $qrc")
grep -q '^E2E-DONE' "$log" || problems+=("the guest did not finish")
[ "$(sed -n 's/^E2E-UNAME //p' "$log")" = "$uname" ] || problems+=("the guest is not $uname")
grep -q '^E2E-MODULE-BTF ' "$log" || problems+=("no /sys/kernel/btf/nf_conntrack in the guest (module not loaded?)")
kernel=$(relos KERNEL)
min=$(relos MIN)
[ -n "$kernel" ] || problems+=("no relocation in libbpf's log with the kernel's own BTF")
[ "$kernel" = "$min" ] || problems+=("the minimized BTF's values differ from the kernel's own")
kblock=$(block KERNEL)
mblock=$(block MIN)
grep -q '^oracle: load 0$' <<<"$mblock" || problems+=("the program does not load with the minimized BTF")
grep -q '^oracle: load 0$' <<<"$kblock" || problems+=("the program does not load with the kernel's own BTF")
grep -q 'found target candidate .* in \[nf_conntrack\]' <<<"$kblock" ||
  problems+=("libbpf, on the kernel's own BTF, found no candidate in nf_conntrack's BTF")

echo "kernel's own BTF (vmlinux + nf_conntrack):"
sed 's/^/  /' <<<"$kernel"
echo "minimized standalone BTF ($(stat -c %s "$minbtf") bytes):"
sed 's/^/  /' <<<"$min"
if [ ${#problems[@]} = 0 ]; then
  echo "PASS $uname: $(wc -l <<<"$kernel") relocations equal, loaded (boot $boot s, total $(secs "$t_start" "$(now)") s)"
else
  echo "FAIL $uname: ${problems[*]}"
  sed 's/^/  guest: /' "$log" | tail -n 60
  exit 1
fi
