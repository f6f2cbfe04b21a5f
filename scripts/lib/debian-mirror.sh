# Sourced by scripts that fetch packages of other Debian suites through an apt
# configuration of their own (trixie.sh, verifier-kernels.sh): the system's sources are
# read, never changed, and no mirror host is written into the project.

# The URI of the system's main Debian archive: the first source whose suites include
# one without a '-' (bookworm, not bookworm-security).
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk '
      /^[[:space:]]*$/ { if (uri != "" && main) { print uri; exit } uri = ""; main = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
      END { if (uri != "" && main) print uri }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk '$1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) !~ /-/) print $i
    }' "$f"
  done
}
