# Shared by the qemu and verifier scripts: timings, messages and tool checks. The
# script that sources this sets `me` (the name its messages start with) and, if its
# failures exit with another status than 1, `die_status`.
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "$me: $*" >&2; }
die() { say "$*"; exit "${die_status:-1}"; }
need() { # tool package
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: install the Debian package $2 (apt-get install $2)"
}
