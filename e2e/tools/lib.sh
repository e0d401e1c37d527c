# shellcheck shell=bash
# Helpers shared by the e2e/tools scripts. Sourced, not executed: it only defines functions,
# so sourcing it changes no state. bash reads a sourced file in full before running it, so
# editing this file while a long build runs cannot derail that run either.
#
# die/log prefix every message with the running script's name (go-tools.sh: ...).
# The rest is for the scripts that build into the cache (go-tools.sh, sidecars.sh); it uses
# the caller's REMAP_CACHE (the cache folder), BIN ($REMAP_CACHE/bin) and STAMPS
# ($REMAP_CACHE/stamps), and sets TMP (the build folder).
#
# A stamp, $STAMPS/<name>.stamp, is one line saying what an output was built from (version,
# wrapper hash, flags); images/build.sh reads the version= field back. An output is reused
# only when it exists and its stamp equals the key the caller computes now.

die() { echo "${0##*/}: ERROR: $*" >&2; exit 1; }
log() { echo "${0##*/}: $*" >&2; }

need_go() { # what -> dies unless the Go toolchain is on PATH
  command -v go >/dev/null 2>&1 || die "the Go toolchain (go) is not on PATH; it is needed to build $1"
}

# One line per tool on stdout: name, version, where it is, what this run did.
report() { printf '%-24s %-9s %-50s %s\n' "$1" "$2" "$3" "$4"; }

# --- stamps -------------------------------------------------------------------------------

hash_files() { cat "$@" | sha256sum | cut -c1-16; }

stamp_ok() { # name key [output] -> 0 when output was built from key
  # The output defaults to the binary $BIN/<name>, which must be executable; an explicit
  # output (a file or a folder of generated YAML) need only exist.
  if (($# > 2)); then [[ -e "$3" ]]; else [[ -x "$BIN/$1" ]]; fi &&
    [[ -f "$STAMPS/$1.stamp" && "$(cat "$STAMPS/$1.stamp")" == "$2" ]]
}

# Written after the output is in place, and renamed into place, so a killed run never leaves
# a stamp that vouches for a missing or half-written output.
write_stamp() { printf '%s\n' "$2" >"$STAMPS/$1.stamp.tmp" && mv -f "$STAMPS/$1.stamp.tmp" "$STAMPS/$1.stamp"; }

# --- the cache: lock and build folder ------------------------------------------------------

take_cache() { # lock-file build-prefix -> the cache locked, TMP a fresh build folder in it
  # Creates $BIN and $STAMPS, then holds an exclusive lock on $REMAP_CACHE/<lock-file> (fd 9,
  # kept open until exit) so one run of a script at a time works on a cache folder (parallel
  # make targets, two checkouts). With the lock held, leftovers of killed runs
  # ($REMAP_CACHE/<build-prefix>.*) are in no one's use and are removed; TMP is made next to
  # them, under the cache rather than /tmp so that moving a binary into $BIN is a rename on
  # one filesystem, and removed on exit.
  mkdir -p "$BIN" "$STAMPS"
  exec 9>"$REMAP_CACHE/$1"
  if command -v flock >/dev/null 2>&1; then
    flock -n 9 || { log "waiting for another ${0##*/} run on $REMAP_CACHE"; flock 9; }
  fi
  rm -rf "$REMAP_CACHE/$2".*
  TMP=$(mktemp -d "$REMAP_CACHE/$2.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
}

# --- go.mod -------------------------------------------------------------------------------

gomod_version() { # require|replace go.mod module -> a version, or nothing
  # require: the version go.mod requires of module. replace: the version module is replaced
  # by (empty for a local folder). Either from a one-line directive or a line of a
  # `require (` / `replace (` block; comments and other directives (exclude, retract) are
  # ignored.
  awk -v want="$1" -v m="$3" '
    { sub(/\/\/.*/, "") }
    block == "" && /^[a-z]+[[:space:]]*\([[:space:]]*$/ { block = $0; sub(/[[:space:]]*\(.*/, "", block); next }
    block != "" && $1 == ")" { block = ""; next }
    block == "" { kind = $1; $1 = ""; $0 = $0 }
    block != "" { kind = block }
    kind != want || $1 != m { next }
    want == "require" { print $2; exit }
    { for (i = 2; i < NF; i++) if ($i == "=>") { if (i + 2 <= NF) print $(i + 2); exit } }
  ' "$2"
}
