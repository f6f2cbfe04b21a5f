#!/usr/bin/env bash
# Fetches (with apt-get download, cached) the kernel image packages `corepack test`
# boots: Debian 11's 5.10, 12's 6.1 and 13's 6.12 cloud kernels, x86_64, as their
# linux-image-*-cloud-amd64-unsigned packages (the .deb holds /boot/vmlinuz-*, which
# `corepack test --kernel PKG.deb` extracts itself).
#
#   scripts/verifier-kernels.sh [SUITE...]   prints the path of each suite's .deb,
#                                            one a line, in the order given
# SUITE is bullseye, bookworm or trixie (default: all three). bookworm uses the
# system's package lists (its newest 6.1 is in bookworm-security); bullseye and trixie
# use an apt configuration of our own (the system's sources are not changed): the
# system's Debian mirror, read from /etc/apt/sources.list.d/*.sources or
# /etc/apt/sources.list, with that suite, `[trusted=yes]`. The cache is
# $BTFGEN_CACHE/verifier (default ~/.cache/btfgen/verifier); once a suite's package is
# there nothing is fetched again (REFRESH=1 looks for a newer one).
set -euo pipefail

cache=${BTFGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/btfgen}/verifier
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bullseye bookworm trixie)

die() { echo "verifier-kernels: $*" >&2; exit 1; }
command -v apt-get >/dev/null || die "apt-get is needed (Debian package apt)"

. "$(dirname "$0")/lib/debian-mirror.sh"

# The package name pattern of a suite's cloud kernel image.
pattern() {
  case $1 in
    bullseye) echo '^linux-image-5\.10\.0-[0-9]+-cloud-amd64-unsigned$' ;;
    bookworm) echo '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
    trixie) echo '^linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64-unsigned$' ;;
    *) die "unknown suite '$1' (bullseye, bookworm or trixie)" ;;
  esac
}

for suite in "${suites[@]}"; do
  pat=$(pattern "$suite")
  dir=$cache/$suite
  deb=$(ls "$dir"/debs/*.deb 2>/dev/null | sed -n 1p || true)
  if [ -n "$deb" ] && [ "${REFRESH:-0}" != 1 ]; then
    echo "$deb"
    continue
  fi
  opts=()
  if [ "$suite" != bookworm ]; then
    uri=$(debian_mirror | sed -n 1p)
    [ -n "$uri" ] || die "no Debian mirror found in the system's apt sources"
    mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/apt/archives/partial"
    echo "deb [trusted=yes] $uri $suite main" > "$dir/sources.list"
    opts=(
      -o "Dir::Etc::sourcelist=$dir/sources.list"
      -o "Dir::Etc::sourceparts=$dir/sources.list.d"
      -o "Dir::State::Lists=$dir/lists"
      -o "Dir::Cache=$dir/apt"
      -o "APT::Sandbox::User=root"
    )
    if [ "${REFRESH:-0}" = 1 ] || ! ls "$dir"/lists/*Packages* >/dev/null 2>&1; then
      apt-get "${opts[@]}" update -qq >&2 || die "apt-get update for $suite failed"
    fi
  fi
  newest() { apt-cache "${opts[@]}" pkgnames linux-image- 2>/dev/null | grep -E "$pat" | sort -V | tail -n 1; }
  pkg=$(newest)
  if [ -z "$pkg" ] && [ "$suite" = bookworm ]; then
    apt-get update -qq >&2 || die "no $pat in the package lists, and apt-get update failed (run it as root)"
    pkg=$(newest)
  fi
  [ -n "$pkg" ] || die "no package matching $pat in $suite"
  mkdir -p "$dir/debs"
  rm -f "$dir"/debs/*.deb
  (cd "$dir/debs" && apt-get "${opts[@]}" download "$pkg" >&2) || die "apt-get download $pkg failed"
  ls "$dir"/debs/*.deb | sed -n 1p
done
