#!/usr/bin/env bash
# Fetches (with apt-get download, cached) Debian's newest kernel debuginfo package of a
# flavor and extracts its vmlinux and one module. Sourced by the benchmark scripts and
# used by the real-kernel tests.
#
#   scripts/debian-kernel.sh [FLAVOR]      prints the directory holding
#                                          vmlinux, nf_conntrack.ko and PACKAGE
# FLAVOR defaults to cloud-amd64. SERIES (default 6.1) picks the kernel series: Debian
# 12's own kernels are linux-image-6.1.0-N-FLAVOR-dbg. PKG overrides the package name.
# The cache is $BTFGEN_CACHE (default ~/.cache/btfgen).
set -euo pipefail

flavor=${1:-cloud-amd64}
series=${SERIES:-6.1}
cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/debian
mkdir -p "$cache"

newest() {
  apt-cache pkgnames linux-image- 2>/dev/null |
    grep -E "^linux-image-${series//./\\.}(\.0-[0-9]+|\.[0-9]+\+deb[0-9]+)-${flavor}-dbg\$" |
    sort -V | tail -n 1
}

pkg=${PKG:-$(newest)}
if [ -z "$pkg" ]; then
  echo "debian-kernel: no linux-image-${series}*-${flavor}-dbg in the package lists; updating them" >&2
  apt-get update -qq >&2 || { echo "debian-kernel: apt-get update failed (run it as root)" >&2; exit 1; }
  pkg=$(newest)
fi
[ -n "$pkg" ] || { echo "debian-kernel: no linux-image-${series}*-${flavor}-dbg package found" >&2; exit 1; }

dir="$cache/$pkg"
if [ ! -s "$dir/vmlinux" ] || [ ! -s "$dir/nf_conntrack.ko" ]; then
  mkdir -p "$dir/dl"
  if ! ls "$dir"/dl/*.deb >/dev/null 2>&1; then
    (cd "$dir/dl" && apt-get download "$pkg" >&2) ||
      { echo "debian-kernel: apt-get download $pkg failed" >&2; exit 1; }
  fi
  deb=$(ls "$dir"/dl/*.deb | sed -n 1p)
  tmp=$(mktemp -d "$dir/x.XXXXXX")
  dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$tmp" --wildcards './usr/lib/debug/boot/vmlinux-*' '*/kernel/net/netfilter/nf_conntrack.ko'
  mv "$(ls "$tmp"/usr/lib/debug/boot/vmlinux-* | sed -n 1p)" "$dir/vmlinux"
  mv "$(find "$tmp" -name nf_conntrack.ko | sed -n 1p)" "$dir/nf_conntrack.ko"
  rm -rf "$tmp"
  echo "$pkg" > "$dir/PACKAGE"
fi
echo "$dir"
