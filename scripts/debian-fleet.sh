#!/usr/bin/env bash
# Builds a real fleet of kernel BTFs: every Debian 12 kernel debuginfo package the package
# lists know (linux-image-6.1.0-N-FLAVOR-dbg and linux-image-6.12.N+deb12-FLAVOR-dbg for
# the amd64, cloud-amd64 and rt-amd64 flavors), each fetched with apt-get download,
# encoded by btfgen straight from the .deb, and cached in BTFHub's layout:
#
#   $BTFGEN_CACHE/fleet/debian/12/x86_64/<uname -r>.btf
#
# Only the BTF (about 4 MB per kernel) is kept; each package is deleted once encoded.
# Prints the fleet directory (the parent of debian/). LIMIT=N stops after N kernels.
#
#   scripts/debian-fleet.sh [BTFGEN]       BTFGEN: the btfgen binary (default: built here)
set -euo pipefail
cd "$(dirname "$0")/.."
btfgen=${1:-}
if [ -z "$btfgen" ]; then
  cargo build --release -q -p btfgen >&2
  btfgen=$PWD/target/release/btfgen
fi
cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/fleet
out=$cache/debian/12/x86_64
mkdir -p "$out"

pkgs=$(apt-cache pkgnames linux-image- 2>/dev/null |
  grep -E '^linux-image-(6\.1\.0-[0-9]+|6\.12\.[0-9]+\+deb12)-(amd64|cloud-amd64|rt-amd64)-dbg$' |
  sort -V || true)
if [ -z "$pkgs" ]; then
  echo "debian-fleet: no Debian kernel -dbg packages in the package lists (run apt-get update)" >&2
  exit 1
fi

n=0
for pkg in $pkgs; do
  [ -n "${LIMIT:-}" ] && [ "$n" -ge "$LIMIT" ] && break
  n=$((n + 1))
  rel=${pkg#linux-image-}
  rel=${rel%-dbg}
  [ -s "$out/$rel.btf" ] && continue
  tmp=$(mktemp -d "$cache/dl.XXXXXX")
  if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
    rm -rf "$tmp"
    echo "debian-fleet: apt-get download $pkg failed" >&2
    exit 1
  fi
  "$btfgen" "$tmp"/*.deb -o "$tmp/k.btf" 2>/dev/null
  mv "$tmp/k.btf" "$out/$rel.btf"
  rm -rf "$tmp"
  echo "debian-fleet: $rel" >&2
done
echo "$cache"
