# Sourced by the qemu scripts (qemu-e2e.sh, qemu-modules.sh): a Debian kernel's -dbg
# package and the -unsigned image package of the same version.

# debian_kernel_pair FLAVOR CACHE: the newest -dbg package of FLAVOR
# (scripts/debian-kernel.sh, SERIES from the environment) and the
# linux-image-<uname -r>-unsigned package of its version, fetched with `apt-get
# download` into CACHE/linux-image-<uname -r>-unsigned (the .deb under dl/, its vmlinuz,
# PACKAGE and VERSION; fetched again when the version moved). Sets dbgdir, dbgpkg,
# dbgdeb (the -dbg .deb), uname, ver, imgpkg and imgdir; returns 1, saying why on
# stderr, when a step fails.
debian_kernel_pair() {
  local flavor=$1 cache=$2 tmp
  dbgdir=$(bash "$(dirname "${BASH_SOURCE[0]}")/../debian-kernel.sh" "$flavor") || return 1
  dbgpkg=$(cat "$dbgdir/PACKAGE")
  uname=${dbgpkg#linux-image-}
  uname=${uname%-dbg}
  dbgdeb=$(ls "$dbgdir"/dl/*.deb | sed -n 1p)
  ver=$(dpkg-deb -f "$dbgdeb" Version)
  imgpkg=linux-image-$uname-unsigned
  imgdir=$cache/$imgpkg
  if [ -s "$imgdir/vmlinuz" ] && [ "$(cat "$imgdir/VERSION" 2>/dev/null || true)" = "$ver" ] &&
    ls "$imgdir"/dl/*.deb >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$imgdir"
  mkdir -p "$imgdir/dl"
  (cd "$imgdir/dl" && apt-get download "$imgpkg=$ver" >&2) ||
    { echo "apt-get download $imgpkg=$ver failed" >&2; return 1; }
  tmp=$(mktemp -d "$imgdir/x.XXXXXX")
  dpkg-deb --fsys-tarfile "$(ls "$imgdir"/dl/*.deb | sed -n 1p)" |
    tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
  mv "$tmp/boot/vmlinuz-$uname" "$imgdir/vmlinuz"
  rm -rf "$tmp"
  echo "$imgpkg" > "$imgdir/PACKAGE"
  echo "$ver" > "$imgdir/VERSION"
}
