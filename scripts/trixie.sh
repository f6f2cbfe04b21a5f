#!/usr/bin/env bash
# Fetches (with apt-get, cached) the Debian 13 ("trixie") oracles of the pahole 1.30
# tests: trixie's pahole 1.30 with the libraries it runs on (glibc 2.38+ included,
# run through trixie's own dynamic loader), and the newest Debian 13 6.12 cloud kernel
# with its DWARF and the .BTF Debian's build made with pahole 1.30.
#
#   scripts/trixie.sh      prints the directory holding
#                            pahole          a wrapper running trixie's pahole
#                            vmlinux         the kernel (DWARF and Debian's .BTF)
#                            nf_conntrack.ko a module of it
#                            PACKAGE         the kernel package's name
#                            prefix/         trixie's libraries and loader, with
#                                            libbpf 1.5's headers (libbpf-dev)
#
# The apt configuration is our own (the system's sources are not changed): the
# system's Debian mirror, read from /etc/apt/sources.list.d/*.sources or
# /etc/apt/sources.list, with the suite trixie. The cache is $BTFGEN_CACHE (default
# ~/.cache/btfgen); nothing is fetched again once it is there.
set -euo pipefail

cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/trixie
mkdir -p "$cache"

# The packages pahole 1.30 needs: the binary (pahole; dwarves is its metapackage)
# and what `ld.so --list` shows it loading: libdw, libelf, zlib, libbpf, libc,
# libzstd, liblzma, libbz2.
packages=(pahole libdw1t64 libelf1t64 zlib1g libbpf1 libc6 libzstd1 liblzma5 libbz2-1.0)

. "$(dirname "$0")/lib/debian-mirror.sh"

apt_opts=(
  -o "Dir::Etc::sourcelist=$cache/sources.list"
  -o "Dir::Etc::sourceparts=$cache/sources.list.d"
  -o "Dir::State::Lists=$cache/lists"
  -o "Dir::Cache=$cache/apt"
  -o "APT::Sandbox::User=root"
)

apt_ready=
apt_setup() {
  [ -n "$apt_ready" ] && return
  command -v apt-get >/dev/null || { echo "trixie: apt-get is needed" >&2; exit 1; }
  command -v dpkg-deb >/dev/null || { echo "trixie: dpkg-deb is needed" >&2; exit 1; }
  local uri
  uri=$(debian_mirror | sed -n 1p)
  [ -n "$uri" ] || { echo "trixie: no Debian mirror found in the system's apt sources" >&2; exit 1; }
  mkdir -p "$cache/sources.list.d" "$cache/lists/partial" "$cache/apt/archives/partial"
  echo "deb [trusted=yes] $uri trixie main" > "$cache/sources.list"
  if ! ls "$cache"/lists/*trixie*Packages* >/dev/null 2>&1; then
    apt-get "${apt_opts[@]}" update -qq >&2 ||
      { echo "trixie: apt-get update for trixie failed" >&2; exit 1; }
  fi
  apt_ready=1
}

# Downloads a package's .deb into $cache/debs unless it is there; prints its path.
deb_of() {
  local pkg=$1 deb
  deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | sed -n 1p || true)
  if [ -z "$deb" ]; then
    apt_setup
    mkdir -p "$cache/debs"
    (cd "$cache/debs" && apt-get "${apt_opts[@]}" download "$pkg" >&2) ||
      { echo "trixie: apt-get download $pkg failed" >&2; exit 1; }
    deb=$(ls "$cache/debs/${pkg}"_*.deb | sed -n 1p)
  fi
  echo "$deb"
}

# pahole 1.30 in a prefix of its own, and the wrapper.
if [ ! -x "$cache/pahole" ]; then
  prefix="$cache/prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for p in "${packages[@]}"; do
    dpkg-deb -x "$(deb_of "$p")" "$prefix"
  done
  [ -x "$prefix/usr/bin/pahole" ] || { echo "trixie: package pahole has no usr/bin/pahole" >&2; exit 1; }
  cat > "$cache/pahole.tmp" <<EOF
#!/bin/sh
# trixie's pahole through trixie's dynamic loader and libraries (scripts/trixie.sh).
P='$prefix'
exec "\$P/usr/lib64/ld-linux-x86-64.so.2" --library-path "\$P/usr/lib/x86_64-linux-gnu" "\$P/usr/bin/pahole" "\$@"
EOF
  chmod +x "$cache/pahole.tmp"
  "$cache/pahole.tmp" --version >&2 || { echo "trixie: trixie's pahole does not run" >&2; exit 1; }
  mv "$cache/pahole.tmp" "$cache/pahole"
fi

# libbpf 1.5's headers (libbpf-dev) in the same prefix: tests/distill.rs builds its
# libbpf relocation helper against them and runs it through trixie's loader.
if [ ! -f "$cache/prefix/usr/include/bpf/btf.h" ]; then
  dpkg-deb -x "$(deb_of libbpf-dev)" "$cache/prefix"
fi

# The newest Debian 13 6.12 cloud kernel.
if [ ! -s "$cache/vmlinux" ] || [ ! -s "$cache/nf_conntrack.ko" ]; then
  apt_setup
  pkg=${PKG:-$(apt-cache "${apt_opts[@]}" pkgnames linux-image-6.12 |
    grep -E '^linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64-dbg$' | sort -V | tail -n 1)}
  [ -n "$pkg" ] || { echo "trixie: no linux-image-6.12.*+deb13-cloud-amd64-dbg in trixie" >&2; exit 1; }
  deb=$(deb_of "$pkg")
  tmp=$(mktemp -d "$cache/x.XXXXXX")
  dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$tmp" --wildcards './usr/lib/debug/boot/vmlinux-*' '*/kernel/net/netfilter/nf_conntrack.ko'
  mv "$(ls "$tmp"/usr/lib/debug/boot/vmlinux-* | sed -n 1p)" "$cache/vmlinux"
  mv "$(find "$tmp" -name nf_conntrack.ko | sed -n 1p)" "$cache/nf_conntrack.ko"
  rm -rf "$tmp"
  # The kernel package is 320 MB; what the tests need is extracted.
  rm -f "$deb"
  echo "$pkg" > "$cache/PACKAGE"
fi
echo "$cache"
