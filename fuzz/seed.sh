#!/bin/bash
# Regenerates the seed corpora fuzz/corpus/<target>/ from the repository's fixtures
# (see docs/fuzzing.md). Needs gcc, clang, llvm-objcopy, dpkg-deb, xz, zstd, python3
# and the release binaries: cargo build --release -p btfgen -p corepack.
set -euo pipefail

cd "$(dirname "$0")/.."
BTFGEN=${BTFGEN:-target/release/btfgen}
COREPACK=${COREPACK:-target/release/corepack}
C=fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The version 3 and 4 manifests the corepack target wraps (written by corepack's version
# 3 and 4 writer, which `corepack build` no longer uses) are kept as they are.
keep=$(mktemp -d)
cp "$C"/corepack/*.raw-manifest "$keep"/
rm -rf "$C"
mkdir -p "$C"/{btf,btf_split,bpf_core,dwarf,package_deb,package_rpm,meta_repomd,meta_primary,meta_packages,corepack,kernel_notes}

# dwarf: small fixture objects, gcc and clang, DWARF 4 and 5, compressed sections,
# a big-endian one.
cp fixtures/demo.o "$C/dwarf/demo-gcc5.o"
gcc -O2 -g -gdwarf-4 -c fixtures/bitfields.c -o "$C/dwarf/bitfields-gcc4.o"
clang -O2 -g -gdwarf-5 -c fixtures/enums.c -o "$C/dwarf/enums-clang5.o"
clang -O2 -g -gdwarf-4 -c fixtures/tags.c -o "$C/dwarf/tags-clang4.o"
gcc -O2 -g -c fixtures/arrays.c -o "$T/arrays.o"
objcopy --compress-debug-sections=zlib "$T/arrays.o" "$C/dwarf/arrays-zlib.o"
clang --target=s390x-linux-gnu -O2 -g -c fixtures/scalars.c -o "$C/dwarf/scalars-s390x.o"

# btf: btfgen's output for those objects, raw and in ELF.
for o in "$C"/dwarf/*.o; do
	n=$(basename "$o" .o)
	"$BTFGEN" "$o" -o "$C/btf/$n.btf"
done
"$BTFGEN" fixtures/demo.o --format elf -o "$C/btf/demo-elf.o"
# ... and packed as BTFHub's archive packs it (tar -cJf of <uname -r>.btf), with the
# other tar compressions and compressed raw BTF that archive inputs take.
mkdir "$T/arch"
cp "$C/btf/demo-gcc5.btf" "$T/arch/6.1.0-1-amd64.btf"
tar -C "$T/arch" -cJf "$C/btf/6.1.0-1-amd64.btf.tar.xz" 6.1.0-1-amd64.btf
tar -C "$T/arch" -czf "$C/btf/6.1.0-1-amd64.btf.tar.gz" 6.1.0-1-amd64.btf
tar -C "$T/arch" --zstd -cf "$C/btf/6.1.0-1-amd64.btf.tar.zst" 6.1.0-1-amd64.btf
xz -c "$C/btf/enums-clang5.btf" >"$C/btf/enums-clang5.btf.xz"

# bpf_core: a BPF object with every relocation kind, and the target-less one.
clang -target bpf -O2 -g -c fuzz/seeds/core.bpf.c -o "$C/bpf_core/core.bpf.o"
clang -target bpf -O2 -g -c fixtures/bpf/synthetic.bpf.c -o "$C/bpf_core/synthetic.bpf.o"
llvm-objcopy --dump-section .BTF="$C/btf/core.bpf.btf" "$C/bpf_core/core.bpf.o"

# btf_split: split BTF on the base the target builds (gen.py writes it as base.btf).
python3 fuzz/seeds/gen.py "$T" fixtures/demo.o
for f in demo.o "$C/dwarf/enums-clang5.o"; do
	[ -f "$f" ] || f=fixtures/$f
	"$BTFGEN" "$f" --base "$T/base.btf" -o "$C/btf_split/$(basename "$f" .o).btf"
done
"$BTFGEN" fixtures/demo.o --base "$T/base.btf" --format elf -o "$C/btf_split/demo-elf.o"

# package_rpm: gen.py's RPMs (every payload compression).
cp "$T"/*.rpm "$C/package_rpm/"

# package_deb: dpkg-deb in every compression, the vmlinux a small fixture object.
root=$T/deb
mkdir -p "$root/DEBIAN" "$root/usr/lib/debug/boot" "$root/usr/share/doc/linux"
printf 'Package: linux-image-dbg\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' >"$root/DEBIAN/control"
cp fixtures/demo.o "$root/usr/lib/debug/boot/vmlinux-6.1.0-1-amd64"
echo readme >"$root/usr/share/doc/linux/README"
(cd "$root" && find usr -type f | sort | xargs md5sum) >"$root/DEBIAN/md5sums"
for z in xz zstd gzip none; do
	dpkg-deb --root-owner-group -Z"$z" --build "$root" "$C/package_deb/linux-image-$z.deb" >/dev/null
done
# ... and one with a kernel module (the target asks for every module too).
mkdir -p "$root/usr/lib/debug/lib/modules/6.1.0-1-amd64/kernel/net"
cp fixtures/demo.o "$root/usr/lib/debug/lib/modules/6.1.0-1-amd64/kernel/net/demo_mod.ko"
(cd "$root" && find usr -type f | sort | xargs md5sum) >"$root/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$root" "$C/package_deb/linux-image-module.deb" >/dev/null

# meta_*: repository metadata as the fetch tests serve it.
sum=$(printf '%064d' 0)
cat >"$C/meta_repomd/repomd.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <revision>1</revision>
  <data type="primary">
    <checksum type="sha256">$sum</checksum>
    <open-checksum type="sha256">00</open-checksum>
    <location href="repodata/abc-primary.xml.gz"/>
    <timestamp>1</timestamp>
    <size>123</size>
  </data>
  <data type="filelists">
    <location href="repodata/filelists.xml.gz"/>
  </data>
</repomd>
XML
cat >"$C/meta_primary/primary.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm">
  <name>kernel-debuginfo</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="6.1.0" rel="1.fc40"/>
  <checksum type="sha256" pkgid="YES">$sum</checksum>
  <summary>Debug information for package kernel &amp; co</summary>
  <size package="1000" installed="1" archive="2"/>
  <location href="Packages/kernel-debuginfo-6.1.0-1.fc40.x86_64.rpm" xml:base="http://mirror.invalid/"/>
  <format><rpm:license>GPLv2</rpm:license></format>
</package>
<package type="rpm">
  <name>kernel-core</name>
  <arch>aarch64</arch>
  <version epoch="1" ver="6.2" rel="2"/>
  <checksum type="sha">0123456789abcdef0123456789abcdef01234567</checksum>
  <location href="Packages/kernel-core-6.2-2.aarch64.rpm"/>
</package>
</metadata>
XML
cat >"$C/meta_packages/Packages" <<TXT
Package: linux-image-6.1.0-1-amd64-dbg
Source: linux
Version: 6.1.4-1
Architecture: amd64
Installed-Size: 1
Filename: pool/main/l/linux/linux-image-6.1.0-1-amd64-dbg_6.1.4-1_amd64.deb
Size: 1000
SHA256: $sum
Description: Linux kernel debug image
 continuation line
 .
 more

Package: linux-image-6.2.0-1-generic-dbgsym
Version: 6.2.0-1.1
Architecture: amd64
Filename: pool/main/l/linux/linux-image-6.2.0-1-generic-dbgsym_6.2.0-1.1_amd64.ddeb
Size: 2000
MD5sum: 0123456789abcdef0123456789abcdef
TXT
cat >"$C/meta_packages/Release" <<TXT
Origin: Debian
Suite: stable
SHA256:
 $sum 1000 main/binary-amd64/Packages.xz
 $sum 2000 main/binary-amd64/Packages
TXT
cat >"$C/meta_packages/index.html" <<TXT
<html><body><a href="kernel-debuginfo-6.1.0-1.fc40.x86_64.rpm">x</a>
<A HREF='kernel-6.2.0-2.el9.aarch64.rpm'>y</A> <a href="../">up</a> &amp;</body></html>
TXT

# corepack: a bundle (format version 6) of the core object's own BTF as two kernels, the
# same types with other offsets as a third (stored as a patch), and demo's as a fourth.
k=$T/btfdir/debian/12/x86_64
mkdir -p "$k" "$T/btfdir/ubuntu/22.04/x86_64"
cp "$C/btf/core.bpf.btf" "$k/6.1.0-1-amd64.btf"
cp "$C/btf/core.bpf.btf" "$k/6.1.0-2-amd64.btf"
clang -target bpf -O2 -g -DSEED_KERNEL_PAD -c fuzz/seeds/core.bpf.c -o "$T/padded.o"
llvm-objcopy --dump-section .BTF="$k/6.1.0-3-amd64.btf" "$T/padded.o"
cp "$C/btf/demo-gcc5.btf" "$T/btfdir/ubuntu/22.04/x86_64/5.15.0-1-generic.btf"
"$COREPACK" build --object "$C/bpf_core/core.bpf.o" --btf-dir "$T/btfdir" -o "$C/corepack/core.corepack"
# The same kernels with build-ids.
for f in "$T"/btfdir/*/*/x86_64/*.btf; do
	sha1sum "$f" | cut -c1-40 >"${f%.btf}.buildid"
done
"$COREPACK" build --object "$C/bpf_core/core.bpf.o" --btf-dir "$T/btfdir" -o "$C/corepack/core-buildid.corepack"
# Each bundle's stream decompressed (the manifest and the blobs), as the target's fourth
# reading takes it (FORMAT.md: stream length at 12..16, decompressed length at 16..20,
# the stream from byte 28; raw LZMA2, lc 1, lp 0, pb 0).
for b in core core-buildid; do
	python3 - "$C/corepack/$b.corepack" "$C/corepack/$b.stream" <<'PY'
import lzma, struct, sys
b = open(sys.argv[1], "rb").read()
n, raw = struct.unpack_from("<II", b, 12)
lzma2 = {"id": lzma.FILTER_LZMA2, "dict_size": 8 << 20, "lc": 1, "lp": 0, "pb": 0}
m = lzma.decompress(b[28:28 + n], format=lzma.FORMAT_RAW, filters=[lzma2])
assert len(m) == raw
open(sys.argv[2], "wb").write(m)
PY
done
mv "$keep"/*.raw-manifest "$C/corepack/"
rmdir "$keep"

# kernel_notes: this machine's kernel notes (a sysfs file), and a build-id as hex.
cat /sys/kernel/notes >"$C/kernel_notes/running-kernel"
printf '7dd4ff0789e05e14285320129149da2555ca0bfc\n' >"$C/kernel_notes/hex"

du -sh "$C"
