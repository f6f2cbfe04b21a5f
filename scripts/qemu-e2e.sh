#!/usr/bin/env bash
# End to end on real other kernels: Debian 12's own 6.1 kernels (cloud-amd64 and
# rt-amd64, whose task_struct layouts differ) are booted in qemu (TCG, no KVM needed)
# with an initramfs holding `corepack trace`, the C example loader
# (examples/c-loader, linked statically with libcorepack and libbpf) and a bundle built
# from their BTF, under an /etc/os-release naming another distro (ubuntu 22.04). In each
# guest:
# - the tracer, forced to the bundle, must pick the booted kernel's entry by its
#   build-id and report a known exec (pid, ppid, uid, comm, filename) exactly as the
#   guest started it;
# - the C loader must pick the same entry by build-id and report, for an exec of its
#   own, what the tracer reports for that exec;
# - `corepack select` from the shell must pick the same entry ("build-id ... matches")
#   and write the same BTF bytes as the loader and as `corepack select` on the host
#   told the kernel's build-id (sha256);
# - the build-id the guest's /sys/kernel/notes holds must be the one btfgen recorded
#   (its ELF output's note, written as `<uname -r>.buildid` into the BTFHub layout).
# The bundle also holds a decoy for the first kernel: the same arch and `uname -r`,
# another build-id, the next kernel's BTF, under ubuntu/22.04 (the os-release the
# guests claim, so that a name and os-release match would pick it).
#
#   scripts/qemu-e2e.sh                 every flavor in $FLAVORS
#
# Per flavor: scripts/debian-kernel.sh FLAVOR gives the -dbg package's vmlinux (cached);
# the matching linux-image-<uname -r>-unsigned package of the same version is fetched
# with `apt-get download` into the same cache and its /boot/vmlinuz extracted. btfgen
# encodes every vmlinux (ELF output, keeping the build-id note) into a BTFHub-layout
# directory, `corepack build --tracer` makes one bundle of all of them, and each kernel
# boots with the same initramfs.
#
# Environment:
#   FLAVORS       kernel flavors (default "cloud-amd64 rt-amd64"); SERIES as for
#                 scripts/debian-kernel.sh (default 6.1)
#   BTFGEN_BIN, COREPACK_BIN, LIBCOREPACK
#                 binaries (and libcorepack.a) to use; when unset, `cargo build
#                 --release` builds them
#   QEMU_TIMEOUT  seconds per boot before the guest is killed (default 180)
#   QEMU_E2E_STUB=1
#                 no tracer: a shell stand-in reads the same exec (and its parent, from
#                 sched_process_fork) from tracefs and prints it in the tracer's format.
#                 Checks booting, the initramfs and the parsing; it selects nothing, and
#                 neither the loader nor `corepack select` runs.
#   CONTROL=0     skip the control: each kernel booted again with a bundle holding the
#                 next kernel's BTF under its name, where the tracer must report wrong
#                 values (default 1, with two kernels or more)
#   EMBED=0       give the guest's tracer the bundle with --bundle instead of building
#                 it into the binary (default 1: `COREPACK_EMBED_BUNDLE=BUNDLE cargo
#                 build --release -p corepack`, which leaves target/release/corepack
#                 with that bundle inside until the next plain build)
#   KEEP_WORK=1   keep the work directory (bundle, initramfs, serial logs)
#   BTFGEN_CACHE  the download cache (default ~/.cache/btfgen)
#
# Needs: qemu-system-x86_64 (qemu-system-x86), busybox (busybox-static), cpio, gzip,
# gcc with a static libc (libc6-dev), readelf (binutils), apt-get and dpkg-deb; clang
# and libbpf-dev, libelf-dev, zlib1g-dev (static libraries) for the loader and the stub.
# Prints PASS or FAIL per kernel (with BUILD-ID, LOADER, SELECT and DECOY lines after a
# PASS), then a CONTROL (or FAIL) line per kernel for the control; the exit status is 1
# on any failure. See docs/qemu-e2e.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
flavors=${FLAVORS:-cloud-amd64 rt-amd64}
timeout_s=${QEMU_TIMEOUT:-180}
stub=${QEMU_E2E_STUB:-0}
cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/debian
. "$root/scripts/lib/debian-image.sh"

me=qemu-e2e
. "$root/scripts/lib/common.sh"

t_start=$(now)

need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need gzip gzip
need gcc gcc
need apt-get apt
need dpkg-deb dpkg
need readelf binutils
busybox=
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || die "no static busybox: install the Debian package busybox-static"
say "$(qemu-system-x86_64 --version | sed -n 1p); $("$busybox" | sed -n 1p)"

# --- binaries
if [ -z "${BTFGEN_BIN:-}" ] || { [ "$stub" != 1 ] && [ -z "${COREPACK_BIN:-}" ]; }; then
  say "building btfgen and corepack (release)"
  (cd "$root" && cargo build --release -q -p btfgen -p corepack --bins) >&2
fi
if [ "$stub" != 1 ] && [ -z "${LIBCOREPACK:-}" ]; then
  say "building libcorepack (release)"
  (cd "$root" && cargo build --release -q -p corepack-c --lib) >&2
fi
target=${CARGO_TARGET_DIR:-$root/target}
btfgen=${BTFGEN_BIN:-$target/release/btfgen}
corepack=${COREPACK_BIN:-$target/release/corepack}
libcorepack=${LIBCOREPACK:-$target/release/libcorepack.a}
[ -x "$btfgen" ] || die "no btfgen binary at $btfgen"
[ -x "$corepack" ] || die "no corepack binary at $corepack"
if [ "$stub" != 1 ]; then
  [ -f "$libcorepack" ] || die "no libcorepack.a at $libcorepack"
  need clang clang
  for lib in libbpf.a:libbpf-dev libelf.a:libelf-dev libz.a:zlib1g-dev; do
    f=$(gcc -print-file-name="${lib%%:*}")
    [ "$f" != "${lib%%:*}" ] && [ -f "$f" ] ||
      die "no static ${lib%%:*} for the loader: install the Debian package ${lib#*:}"
  done
fi
if [ "$stub" != 1 ] && ! "$corepack" trace --help >/dev/null 2>&1; then
  die "$corepack has no working 'trace' subcommand (QEMU_E2E_STUB=1 runs without the tracer)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-e2e.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then
  say "work directory: $work (kept)"
else
  trap 'rm -rf "$work"' EXIT
fi

# --- kernels: vmlinux (from -dbg) and vmlinuz (from -unsigned), same version
unames=()
declare -A vmlinuz version buildid
for flavor in $flavors; do
  t0=$(now)
  debian_kernel_pair "$flavor" "$cache" || die "no kernel packages for $flavor"
  out=$work/btf/debian/12/x86_64/$uname.btf
  mkdir -p "$(dirname "$out")"
  t1=$(now)
  # ELF output: the BTF with the vmlinux's build-id as a .note.gnu.build-id section
  "$btfgen" "$dbgdir/vmlinux" --format elf -o "$out"
  t2=$(now)
  # the kernel's identity, as `btfgen fetch` lays it out: <uname -r>.buildid beside the
  # BTF, from btfgen's note; it must be the vmlinux's own
  bid=$(readelf -n "$out" | sed -n 's/^ *Build ID: *//p')
  bid_vmlinux=$(readelf -n "$dbgdir/vmlinux" | sed -n 's/^ *Build ID: *//p')
  [ -n "$bid" ] || die "$out: btfgen's ELF output has no build-id note"
  [ "$bid" = "$bid_vmlinux" ] || die "$out: build-id $bid, the vmlinux's is $bid_vmlinux"
  echo "$bid" > "${out%.btf}.buildid"
  say "$uname ($ver): packages $(secs "$t0" "$t1") s, btfgen $(secs "$t1" "$t2") s, $(stat -c %s "$out") bytes of BTF (ELF), build-id $bid"
  unames+=("$uname")
  vmlinuz[$uname]=$imgdir/vmlinuz
  version[$uname]=$ver
  buildid[$uname]=$bid
done

# The os-release every guest claims: another distro's, as in a container.
printf 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="qemu-e2e guest claiming Ubuntu 22.04"\n' > "$work/os-release"
# The decoy (with two kernels or more): an entry of the first kernel's arch and name
# under another build-id, holding the next kernel's BTF, in the directory of the
# os-release the guests claim. Only the build-id tells the first kernel's own entry.
decoy=
if [ ${#unames[@]} -ge 2 ]; then
  decoy=${unames[0]}
  decoy_bid=$(printf 'qemu-e2e decoy of %s' "$decoy" | sha1sum | cut -c1-40)
  mkdir -p "$work/btf/ubuntu/22.04/x86_64"
  cp "$work/btf/debian/12/x86_64/${unames[1]}.btf" "$work/btf/ubuntu/22.04/x86_64/$decoy.btf"
  echo "$decoy_bid" > "$work/btf/ubuntu/22.04/x86_64/$decoy.buildid"
fi

# --- the bundle
t0=$(now)
bundle=$work/bundle.corepack
if [ "$stub" = 1 ]; then
  # Without the tracer: a bundle for a small CO-RE object reading what the tracer reads.
  need clang clang
  "$btfgen" dump "$work/btf/debian/12/x86_64/${unames[0]}.btf" --format c -o "$work/vmlinux.h"
  cat > "$work/stub.bpf.c" <<'EOF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
long out[4];
SEC("tracepoint/sched/sched_process_exec")
int stub_exec(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	out[0] = BPF_CORE_READ(t, tgid);
	out[1] = BPF_CORE_READ(t, real_parent, tgid);
	out[2] = BPF_CORE_READ(t, comm[0]);
	return 0;
}
EOF
  clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -I "$work" -c "$work/stub.bpf.c" -o "$work/stub.bpf.o"
  "$corepack" build --object "$work/stub.bpf.o" --btf-dir "$work/btf" -o "$bundle" >&2
else
  "$corepack" build --tracer --btf-dir "$work/btf" -o "$bundle" >&2
fi
"$corepack" inspect "$bundle" >&2
say "bundle: $(stat -c %s "$bundle") bytes in $(secs "$t0" "$(now)") s"
# What each guest must choose: `corepack select` here, told the kernel's name, build-id
# and the guests' os-release (sha256 of the BTF it writes); and for the decoy's kernel
# what a selection without the build-id would give (the decoy: other bytes).
declare -A host_sha
sha() { sha256sum "$1" | cut -c1-64; }
host_select() { # UNAME BUILD-ID|none OUT: the selection's line
  "$corepack" select --bundle "$bundle" --btf-source bundle --arch x86_64 --uname "$1" \
    --os-release "$work/os-release" --build-id "$2" --sys-btf none -o "$3" 2>&1
}
if [ "$stub" != 1 ]; then
  for uname in "${unames[@]}"; do
    line=$(host_select "$uname" "${buildid[$uname]}" "$work/$uname.host.btf") ||
      die "corepack select on the host for $uname failed: $line"
    host_sha[$uname]=$(sha "$work/$uname.host.btf")
    say "host: $line; sha256 ${host_sha[$uname]}"
  done
  if [ -n "$decoy" ]; then
    decoy_line=$(host_select "$decoy" none "$work/decoy.host.btf") ||
      die "corepack select on the host for $decoy without build-id failed: $decoy_line"
    decoy_sha=$(sha "$work/decoy.host.btf")
    say "host, without the build-id: $decoy_line; sha256 $decoy_sha"
    [ "$decoy_sha" != "${host_sha[$decoy]}" ] ||
      die "the decoy's BTF for the tracer equals $decoy's own: the decoy cannot tell"
  fi
fi
# The guest's tracer has that bundle built in (COREPACK_EMBED_BUNDLE), as a shipped tool
# would; the control runs give theirs with --bundle. cargo rebuilds only corepack.
guest_corepack=$corepack
if [ "$stub" != 1 ] && [ "${EMBED:-1}" = 1 ]; then
  t0=$(now)
  (cd "$root" && COREPACK_EMBED_BUNDLE=$bundle cargo build --release -q -p corepack --bin corepack) >&2
  guest_corepack=$work/corepack-embedded
  cp "$target/release/corepack" "$guest_corepack"
  say "corepack with the bundle embedded: built in $(secs "$t0" "$(now)") s"
fi
# The control: the same kernels, each under the next kernel's BTF. The tracer must then
# report wrong values (so the checks can fail, and the right entry is what makes the
# values right). Each entry keeps its name's build-id (a .buildid file, which wins over
# the note in the ELF BTF file, the other kernel's): a bundle that lies.
control=${CONTROL:-1}
if [ "$stub" = 1 ] || [ ${#unames[@]} -lt 2 ]; then control=0; fi
if [ "$control" = 1 ]; then
  n=${#unames[@]}
  mkdir -p "$work/swapped/debian/12/x86_64"
  for i in "${!unames[@]}"; do
    cp "$work/btf/debian/12/x86_64/${unames[(i + 1) % n]}.btf" \
      "$work/swapped/debian/12/x86_64/${unames[i]}.btf"
    cp "$work/btf/debian/12/x86_64/${unames[i]}.buildid" "$work/swapped/debian/12/x86_64/"
  done
  "$corepack" build --tracer --btf-dir "$work/swapped" -o "$work/swapped.corepack" >&2
fi

# --- the initramfs: busybox, the tracer and its libraries, the bundle, a probe, /init
t0=$(now)
ir=$work/initramfs
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,opt/e2e,root}
cp "$busybox" "$ir/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [ -e "$ir/$applet" ] || ln -s /bin/busybox "$ir/$applet"
done
cp "$bundle" "$ir/opt/e2e/bundle.corepack"
cp "$work/os-release" "$ir/etc/os-release"
[ "$control" != 1 ] || cp "$work/swapped.corepack" "$ir/opt/e2e/swapped.corepack"
cat > "$work/probe.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	printf("E2E-PROBE-SELF %d %d %d\n", (int)getpid(), (int)getppid(), (int)getuid());
	return 0;
}
EOF
gcc -static -O2 -o "$ir/opt/e2e/probe" "$work/probe.c"
# A shell's background job starts with SIGINT ignored; the tracer is started through
# this, as from a terminal, so that SIGINT (Ctrl-C) reaches it.
cat > "$work/sigdfl.c" <<'EOF2'
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (argc < 2)
		return 2;
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
EOF2
gcc -static -O2 -o "$ir/opt/e2e/sigdfl" "$work/sigdfl.c"
if [ "$stub" = 1 ]; then
  cat > "$ir/opt/e2e/tracer" <<'EOF'
#!/bin/sh
# Stand-in for `corepack trace ... -v --json`: the same output, from tracefs.
T=/sys/kernel/tracing
echo "corepack: btf: STUB (no tracer, nothing selected) bundle entry x86_64 $(uname -r) debian 12" >&2
echo 1 > $T/events/sched/sched_process_fork/enable
echo 1 > $T/events/sched/sched_process_exec/enable
echo 1 > $T/tracing_on
stop=0
trap 'stop=1' INT TERM
echo "corepack: tracing sched_process_exec" >&2
while [ $stop = 0 ]; do sleep 1; done
echo 0 > $T/tracing_on
awk '
  / sched_process_fork: / {   # comm=P pid=P child_comm=C child_pid=C
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^pid=/) pp = substr($i, 5)
      if ($i ~ /^child_pid=/) parent[substr($i, 11)] = pp
    }
  }
  / sched_process_exec: / {
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^filename=/) f = substr($i, 10)
      if ($i ~ /^pid=/) p = substr($i, 5)
      if ($i ~ /^sched_process_exec:$/) task = $(1)
    }
    # the task column is COMM-PID, and the comm may hold dashes
    c = task; sub(/-[0-9]+$/, "", c)
    printf "{\"pid\":%s,\"ppid\":%s,\"uid\":0,\"comm\":\"%s\",\"filename\":\"%s\"}\n", p, (p in parent) ? parent[p] : 0, c, f
  }' $T/trace
exit 0
EOF
  chmod +x "$ir/opt/e2e/tracer"
  touch "$ir/opt/e2e/STUB"
else
  # without its debug info (37 MB of 40): a smaller initramfs boots faster
  if command -v strip >/dev/null 2>&1; then
    strip -o "$ir/opt/e2e/corepack" "$guest_corepack"
  else
    cp "$guest_corepack" "$ir/opt/e2e/corepack"
  fi
  # every library the dynamic linker loads, at the same path
  ldd "$guest_corepack" | awk '/=> \//{ print $3 } /^[[:space:]]*\//{ print $1 }' | while read -r lib; do
    mkdir -p "$ir/$(dirname "$lib")"
    cp -L "$lib" "$ir/$lib"
  done
  # the C example loader, linked statically (libcorepack, libbpf, libelf, zlib, libc;
  # glibc warns about getaddrinfo and getpwuid_r in Rust's std, which it never calls),
  # and the tracer's BPF object it loads, compiled as corepack's build script does
  t1=$(now)
  clang -target bpf -O2 -g -c "$root/corepack/bpf/trace.bpf.c" -o "$ir/opt/e2e/trace.bpf.o"
  gcc -static -std=gnu11 -O2 -I "$root/corepack-c/include" "$root/examples/c-loader/loader.c" \
    "$libcorepack" -lbpf -lelf -lz -lpthread -ldl -lm -Wl,--gc-sections -o "$work/loader" 2> "$work/loader.ld" ||
    { cat "$work/loader.ld" >&2; die "linking the loader statically failed"; }
  strip -o "$ir/opt/e2e/loader" "$work/loader"
  say "loader: $(stat -c %s "$ir/opt/e2e/loader") bytes (static, stripped) in $(secs "$t1" "$(now)") s"
  cat > "$ir/opt/e2e/tracer" <<'EOF'
#!/bin/sh
if [ "$E2E_BUNDLE" = embedded ]; then
  exec /opt/e2e/corepack trace --btf-source bundle -v --json
fi
exec /opt/e2e/corepack trace --bundle "/opt/e2e/$E2E_BUNDLE" --btf-source bundle -v --json
EOF
  chmod +x "$ir/opt/e2e/tracer"
fi
cat > "$ir/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
nonce=$(sed -n 's/.*e2e\.nonce=\([0-9a-z]*\).*/\1/p' /proc/cmdline)
export E2E_BUNDLE=$(sed -n 's/.*e2e\.bundle=\([0-9a-z.]*\).*/\1/p' /proc/cmdline)
loader=$(sed -n 's/.*e2e\.loader=\([01]\).*/\1/p' /proc/cmdline)
echo "E2E-UNAME $(uname -r)"
echo "E2E-NOTES $(od -An -v -tx1 /sys/kernel/notes | tr -d ' \n')"
echo "E2E-OS-RELEASE $(grep -E '^(ID|VERSION_ID)=' /etc/os-release | tr '\n' ' ')"
echo "E2E-ARCH $(uname -m)"
echo "E2E-KVERSION $(cat /proc/version)"
[ -r /sys/kernel/btf/vmlinux ] && echo "E2E-KERNEL-BTF $(wc -c < /sys/kernel/btf/vmlinux)"
sed -n 's/^\tfield:/E2E-TPFIELD /p' /sys/kernel/tracing/events/sched/sched_process_exec/format
probe=/opt/e2e/probe-$nonce
cp /opt/e2e/probe "$probe"

: > /tmp/trace.out
: > /tmp/trace.err
/opt/e2e/sigdfl /opt/e2e/tracer > /tmp/trace.out 2> /tmp/trace.err &
tpid=$!
ready=0
i=0
while [ $i -lt 600 ]; do
  if grep -q '^corepack: tracing sched_process_exec' /tmp/trace.err; then ready=1; break; fi
  kill -0 $tpid 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
echo "E2E-READY $ready at $(cut -d' ' -f1 /proc/uptime) s"
if [ $ready = 1 ]; then
  # a runner shell (not pid 1) forks the probe: probe pid = $!, its parent = $$
  sh -c 'echo "E2E-RUNNER $$"; "$1" & echo $! > /tmp/probe.pid; echo "E2E-PROBE $1 $!"; wait $!; echo "E2E-PROBE-EXIT $?"' runner "$probe"
  i=0
  # (the stand-in writes its events only when stopped)
  while [ ! -e /opt/e2e/STUB ] && [ $i -lt 100 ] && ! grep -q "\"pid\":$(cat /tmp/probe.pid)," /tmp/trace.out; do
    kill -0 $tpid 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
fi
if [ $ready = 1 ] && [ "$loader" = 1 ]; then
  # The C loader: selects from the bundle (by this kernel's build-id), loads the
  # tracer's object with that BTF and reports the exec of a probe it starts; the tracer
  # running beside it sees the same exec.
  cprobe=/opt/e2e/cprobe-$nonce
  cp /opt/e2e/probe "$cprobe"
  /opt/e2e/loader --bundle /opt/e2e/bundle.corepack --object /opt/e2e/trace.bpf.o \
    --policy bundle --btf-out /tmp/loader.btf --exec "$cprobe" > /tmp/loader.out 2>&1 &
  lpid=$!
  echo "E2E-LOADER-PID $lpid"
  wait $lpid
  echo "E2E-LOADER-EXIT $?"
  cpid=$(sed -n 's/^event_pid=//p' /tmp/loader.out)
  i=0
  while [ -n "$cpid" ] && [ $i -lt 100 ] && ! grep -q "\"pid\":$cpid," /tmp/trace.out; do
    kill -0 $tpid 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  echo "E2E-BEGIN-LOADER"
  cat /tmp/loader.out
  echo "E2E-END-LOADER"
  # corepack select from the shell, with the same bundle file
  /opt/e2e/corepack select --bundle /opt/e2e/bundle.corepack --btf-source bundle \
    -o /tmp/select.btf 2> /tmp/select.err
  echo "E2E-SELECT-EXIT $?"
  echo "E2E-BEGIN-SELECT"
  cat /tmp/select.err
  echo "E2E-END-SELECT"
  # what the name and os-release alone would choose (the decoy, on its kernel)
  echo "E2E-SELECT-NO-BUILD-ID $(/opt/e2e/corepack select --bundle /opt/e2e/bundle.corepack \
    --btf-source bundle --build-id none 2>&1)"
  for f in loader select; do
    [ -f /tmp/$f.btf ] && echo "E2E-SHA-$f $(sha256sum /tmp/$f.btf | cut -c1-64)"
  done
fi
kill -INT $tpid 2>/dev/null
i=0
while [ $i -lt 100 ] && kill -0 $tpid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 $tpid 2>/dev/null; then echo "E2E-TRACER-HUNG"; kill -KILL $tpid; fi
wait $tpid
echo "E2E-TRACER-EXIT $?"
dmesg -n 1
echo "E2E-BEGIN-STDERR"
cat /tmp/trace.err
echo "E2E-END-STDERR"
echo "E2E-BEGIN-STDOUT"
cat /tmp/trace.out
echo "E2E-END-STDOUT"
echo "E2E-DONE at $(cut -d' ' -f1 /proc/uptime) s"
poweroff -f
EOF
chmod +x "$ir/init"
initrd=$work/initrd.cpio.gz
(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$initrd"
say "initramfs: $(stat -c %s "$initrd") bytes in $(secs "$t0" "$(now)") s"

# --- boot each kernel and check what the tracer reported
field_num() { sed -n "s/.*\"$1\": *\([0-9-]*\).*/\1/p" <<<"$2"; }
field_str() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" <<<"$2"; }
block() { sed -n "/^E2E-BEGIN-$1\$/,/^E2E-END-$1\$/p" "$2" | sed '1d;$d'; }
value() { sed -n "s/^$1 //p" "$2" | sed -n 1p; }

# le32 HEX BYTE-OFFSET: the 32-bit little-endian number at that offset of the hex.
le32() { local x=${1:$2*2:8}; echo $((16#${x:6:2}${x:4:2}${x:2:2}${x:0:2})); }
# notes_build_id HEX: the GNU build-id (type 3, name "GNU") in a blob of ELF notes given
# as hex, as the guest prints /sys/kernel/notes: each note is namesz, descsz and type
# (32-bit little-endian), then the name and the descriptor, each padded to 4 bytes.
notes_build_id() {
  local h=$1 off=0 namesz descsz type
  [[ "$h" =~ ^([0-9a-f][0-9a-f])*$ ]] || return 0
  while [ $(((off + 12) * 2)) -le ${#h} ]; do
    namesz=$(le32 "$h" $off)
    descsz=$(le32 "$h" $((off + 4)))
    type=$(le32 "$h" $((off + 8)))
    if [ "$type" = 3 ] && [ "${h:(off + 12) * 2:namesz * 2}" = 474e5500 ]; then
      echo "${h:(off + 12 + (namesz + 3) / 4 * 4) * 2:descsz * 2}"
      return
    fi
    off=$((off + 12 + (namesz + 3) / 4 * 4 + (descsz + 3) / 4 * 4))
  done
}
# tracer_event PID: the tracer's JSON event with that pid in the last log, as
# "pid=… ppid=… uid=… comm=… filename=…" (empty without one)
tracer_event() {
  local e
  [ -n "$1" ] || return 0
  e=$(block STDOUT "$log" | grep -F "\"pid\":$1," | sed -n 1p || true)
  [ -z "$e" ] || echo "pid=$(field_num pid "$e") ppid=$(field_num ppid "$e") uid=$(field_num uid "$e") comm=$(field_str comm "$e") filename=$(field_str filename "$e")"
}

# boot_and_check UNAME BUNDLE LOADER: boots the kernel with the tracer on
# /opt/e2e/BUNDLE (and with LOADER=1 the C loader and `corepack select` after it) and
# sets boot (seconds), log, btfline, got, want, guest_bid (the build-id in the guest's
# /sys/kernel/notes), problems (the guest, the probe, the tracer's run, the build-id,
# the loader and select) and wrong (the tracer's event: missing, or its values differ
# from want); with LOADER=1 also loader_got, select_line and guest_sha.
boot_and_check() {
  local uname=$1 bundle_name=$2 with_loader=$3 nonce raw t0 qrc guname probe_line probe ppid_exp pid_exp self event comm_exp
  nonce=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
  raw=$work/$uname.$bundle_name.serial
  log=$work/$uname.$bundle_name.log
  t0=$(now)
  set +e
  timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
    -display none -monitor none -nic none -no-reboot \
    -serial "file:$raw" \
    -kernel "${vmlinuz[$uname]}" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet e2e.nonce=$nonce e2e.bundle=$bundle_name e2e.loader=$with_loader" \
    </dev/null >"$log.qemu" 2>&1
  qrc=$?
  set -e
  boot=$(secs "$t0" "$(now)")
  tr -d '\r' < "$raw" > "$log" || true

  problems=()
  wrong=
  got=
  [ $qrc = 0 ] || problems+=("qemu exit status $qrc$([ $qrc = 124 ] && echo " (timeout after ${timeout_s} s)")")
  grep -q '^E2E-DONE ' "$log" || problems+=("the guest did not finish")
  guname=$(value E2E-UNAME "$log")
  [ "$guname" = "$uname" ] || problems+=("guest uname -r is '$guname', not $uname")
  grep -q "^E2E-KVERSION .* Debian ${version[$uname]} " "$log" ||
    problems+=("guest /proc/version is not Debian ${version[$uname]}")
  probe_line=$(value E2E-PROBE "$log")
  probe=${probe_line% *}
  ppid_exp=$(value E2E-RUNNER "$log")
  pid_exp=${probe_line##* }
  self=$(value E2E-PROBE-SELF "$log")
  [ -n "$probe_line" ] && [ -n "$ppid_exp" ] || problems+=("the guest did not run the probe (tracer not ready?)")
  [ "$self" = "$pid_exp $ppid_exp 0" ] || problems+=("probe says pid ppid uid = '$self', the runner '$pid_exp $ppid_exp 0'")
  [ "$(value E2E-PROBE-EXIT "$log")" = 0 ] || problems+=("probe exit status not 0")
  [ "$(value E2E-TRACER-EXIT "$log")" = 0 ] || problems+=("tracer exit status $(value E2E-TRACER-EXIT "$log") (SIGINT should exit 0)")
  btfline=$(block STDERR "$log" | grep '^corepack: btf: ' | sed -n 1p || true)
  [[ "$btfline" == *"bundle entry x86_64 $uname debian 12"* ]] ||
    problems+=("btf line '$btfline' does not name 'bundle entry x86_64 $uname debian 12'")
  comm_exp=$(basename "$probe" | cut -c1-15)
  want="pid=$pid_exp ppid=$ppid_exp uid=0 comm=$comm_exp filename=$probe"
  event=
  [ -z "$pid_exp" ] || event=$(block STDOUT "$log" | grep -F "\"pid\":$pid_exp," | sed -n 1p || true)
  if [ -z "$event" ]; then
    wrong="no event with pid ${pid_exp:-?} (filename $probe)"
  else
    got=$(tracer_event "$pid_exp")
    [ "$got" = "$want" ] || wrong="event $got, expected $want"
  fi
  # The kernel's identity: the build-id in its /sys/kernel/notes is the one btfgen
  # recorded from the -dbg vmlinux.
  guest_bid=$(notes_build_id "$(value E2E-NOTES "$log")")
  [ "$guest_bid" = "${buildid[$uname]}" ] ||
    problems+=("the guest's /sys/kernel/notes build-id is '$guest_bid', btfgen recorded ${buildid[$uname]}")
  [ "$(value E2E-OS-RELEASE "$log")" = 'ID=ubuntu VERSION_ID="22.04" ' ] ||
    problems+=("the guest's os-release is '$(value E2E-OS-RELEASE "$log")', not ubuntu 22.04")
  [ "$with_loader" = 1 ] || return 0
  local bid=${buildid[$uname]} lpid lout lprobe lself kv
  [[ "$btfline" == *"build-id $bid matches"* ]] ||
    problems+=("the tracer's btf line does not say 'build-id $bid matches'")
  # The C loader: its choice, and its event against the probe's own word and the tracer's.
  lout=$(block LOADER "$log")
  lfield() { sed -n "s/^$1=//p" <<<"$lout" | sed -n 1p; }
  [ "$(value E2E-LOADER-EXIT "$log")" = 0 ] || problems+=("loader exit status $(value E2E-LOADER-EXIT "$log")")
  for kv in source=bundle "uname=$uname" os_id=debian version_id=12 loaded=sched_process_exec \
    attached=tracepoint/sched/sched_process_exec; do
    [ "$(lfield "${kv%%=*}")" = "${kv#*=}" ] || problems+=("loader: ${kv%%=*}=$(lfield "${kv%%=*}"), expected ${kv#*=}")
  done
  loader_reason=$(lfield reason)
  [[ "$loader_reason" == "build-id $bid matches"* ]] ||
    problems+=("loader: reason '$loader_reason' is not 'build-id $bid matches'")
  lpid=$(value E2E-LOADER-PID "$log")
  lprobe=/opt/e2e/cprobe-$nonce
  loader_got="pid=$(lfield event_pid) ppid=$(lfield event_ppid) uid=$(lfield event_uid) comm=$(lfield event_comm) filename=$(lfield event_filename)"
  lself=$(sed -n 's/^E2E-PROBE-SELF //p' <<<"$lout")
  [ "$lself" = "$(lfield event_pid) $lpid 0" ] ||
    problems+=("the loader's probe says pid ppid uid = '$lself'; the loader ran as $lpid and reported pid $(lfield event_pid)")
  [ "$loader_got" = "pid=$(lfield event_pid) ppid=$lpid uid=0 comm=$(basename "$lprobe") filename=$lprobe" ] ||
    problems+=("loader: event $loader_got, expected ppid=$lpid uid=0 comm=$(basename "$lprobe") filename=$lprobe")
  tracer_got=$(tracer_event "$(lfield event_pid)")
  [ "$tracer_got" = "$loader_got" ] ||
    problems+=("loader: event $loader_got, the tracer's for that exec ${tracer_got:-missing}")
  # corepack select from the guest's shell: the same entry, by build-id, and the same bytes.
  select_line=$(block SELECT "$log" | sed -n 1p)
  [ "$(value E2E-SELECT-EXIT "$log")" = 0 ] || problems+=("corepack select exit status $(value E2E-SELECT-EXIT "$log")")
  [[ "$select_line" == "corepack: bundle entry x86_64 $uname (debian 12) build-id $bid: build-id $bid matches"* ]] ||
    problems+=("corepack select said '$select_line'")
  nobid_line=$(value E2E-SELECT-NO-BUILD-ID "$log")
  if [ "$uname" = "$decoy" ]; then
    [[ "$nobid_line" == "corepack: bundle entry x86_64 $uname (ubuntu 22.04) build-id $decoy_bid: exact match of arch, uname -r and os-release"* ]] ||
      problems+=("without the build-id, corepack select did not choose the decoy: '$nobid_line'")
  fi
  guest_sha=$(value E2E-SHA-select "$log")
  [ -n "$guest_sha" ] && [ "$guest_sha" = "$(value E2E-SHA-loader "$log")" ] && [ "$guest_sha" = "${host_sha[$uname]}" ] ||
    problems+=("sha256 of the BTF: select ${guest_sha:-none}, loader $(value E2E-SHA-loader "$log"), host ${host_sha[$uname]}")
}

# show_log: the guest console of the last boot_and_check, on stderr
show_log() {
  {
    echo "--- $log: guest console (last 80 lines; of the tracer's JSON events the probe's and the last 5)"
    awk -v p="\"pid\":${pid_exp:-x}," '
      /^E2E-BEGIN-STDOUT$/ { inside = 1; print; next }
      /^E2E-END-STDOUT$/ {
        inside = 0
        if (n > 5) print "... " n - 5 " more events"
        for (i = (n > 5 ? n - 4 : 1); i <= n; i++) print ev[i]
      }
      inside { if (index($0, p)) print; else ev[++n] = $0; next }
      { print }' "$log" | tail -n 80
    echo "--- qemu"
    cat "$log.qemu"
    echo "---"
  } >&2
}

failed=0
main_bundle=bundle.corepack
if [ "$guest_corepack" != "$corepack" ]; then main_bundle=embedded; fi
for uname in "${unames[@]}"; do
  if [ "$stub" = 1 ]; then tag="PASS (stub, no tracer)"; else tag=PASS; fi
  boot_and_check "$uname" "$main_bundle" "$([ "$stub" = 1 ] && echo 0 || echo 1)"
  if [ ${#problems[@]} = 0 ] && [ -z "$wrong" ]; then
    echo "$tag $uname: qemu ${boot} s (guest: tracer ready at $(value E2E-READY "$log" | sed 's/^1 at //'), done at $(value E2E-DONE "$log" | sed 's/^at //')); $btfline; event $got"
    if [ "$stub" != 1 ]; then
      echo "BUILD-ID $uname: $guest_bid in the guest's /sys/kernel/notes = btfgen's $uname.buildid = the chosen entry's"
      echo "LOADER $uname: reason=$loader_reason; event $loader_got = the tracer's for that exec"
      echo "SELECT $uname: $select_line; sha256 $guest_sha = the loader's = the host's"
      [ "$uname" != "$decoy" ] ||
        echo "DECOY $uname: the ubuntu 22.04 entry of $uname with build-id $decoy_bid (${unames[1]}'s BTF, sha256 $decoy_sha) was not chosen; in the guest, select --build-id none: $nobid_line"
    fi
  else
    failed=1
    [ -z "$wrong" ] || problems+=("$wrong")
    echo "FAIL $uname: qemu ${boot} s; $(IFS=';'; echo "${problems[*]}")"
    show_log
  fi
done
if [ "$control" = 1 ]; then
  for i in "${!unames[@]}"; do
    uname=${unames[i]}
    other=${unames[(i + 1) % ${#unames[@]}]}
    boot_and_check "$uname" swapped.corepack 0
    if [ ${#problems[@]} = 0 ] && [ -n "$wrong" ]; then
      echo "CONTROL $uname under $other's BTF: wrong values, as it must be: $wrong"
    else
      failed=1
      [ ${#problems[@]} != 0 ] || problems+=("the tracer reported the right values with $other's BTF: the check cannot tell")
      echo "FAIL control $uname under $other's BTF: qemu ${boot} s; $(IFS=';'; echo "${problems[*]}")"
      show_log
    fi
  done
fi

echo "qemu-e2e: ${#unames[@]} kernels, total $(secs "$t_start" "$(now)") s"
exit $failed
