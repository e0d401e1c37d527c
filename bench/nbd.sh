#!/usr/bin/env bash
# NBD benchmark of `remap serve` against the anchors (nbdkit memory, nbdkit file, qemu-nbd),
# same machine, same run, same export size, with the shared fio runner (../shared/bench/run.sh,
# or $REMAP_BENCH_RUN).
#
#   bench/nbd.sh [--no-build] [--profile] [run.sh options: --runtime 15 --reps 3 --jobs "1 2 3 4 5" ...]
#
# Targets, each a 2 GiB volume of a file store holding the same data the anchors hold (64 MiB of
# random bytes at the start, the rest never written):
#   remap-warm-unix / remap-warm-tcp   one server, RAM cache large enough for the whole export,
#                                      pre-read once (nbdcopy --no-extents) so it holds all of it
#   remap-cold-unix                    a second server with no RAM cache and an empty local-disk
#                                      cache; its volume's data was uploaded to the store
#                                      (segments) before it started
# A log-structured store grows with every write: `remap gc --grace 20s` runs every 15 s meanwhile
# (as it would on a node), and the volumes are deleted at the end.
# --profile records a JFR profile of each server, kept in /tmp/remap-nbd-profile.*.
# Needs: a JDK, Maven (offline), fio, nbdkit, qemu-nbd, nbdcopy, python3.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
RUN=${REMAP_BENCH_RUN:-$root/../shared/bench/run.sh}
BUILD=1 PROFILE=0 ARGS=()
while (($#)); do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --profile) PROFILE=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ -x "$RUN" ] || { echo "bench/nbd.sh: $RUN not found (set REMAP_BENCH_RUN)" >&2; exit 2; }

if ((BUILD)); then
  (cd "$root" && mvn -B -q -o install -DskipTests -pl engine,csi-driver,cli)
fi
work=$(mktemp -d /tmp/remap-nbd-bench.XXXXXX)
store="file://$work/store"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((PROFILE)) && ls "$work"/*.jfr >/dev/null 2>&1; then
    keep=$(mktemp -d /tmp/remap-nbd-profile.XXXXXX); mv "$work"/*.jfr "$keep"/
    echo "bench/nbd.sh: JFR profiles in $keep (jfr print --events jdk.ExecutionSample FILE)" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

remap() { "$root/remap" "$@" --store "$store" --journal "$work/journal"; }
wait_for() { for _ in $(seq 600); do grep -q "serving " "$1" && return 0; sleep 0.1; done; cat "$1" >&2; return 1; }
serve() { # LOG JAVA_OPTS ARGS...
  local log=$1 opts=$2; shift 2
  REMAP_JAVA_OPTS="$opts" "$root/remap" serve --store "$store" --journal "$work/journal" "$@" >"$log" 2>&1 &
  PIDS+=($!)
  wait_for "$log"
}
jfr() { ((PROFILE)) && echo "-XX:StartFlightRecording=filename=$work/$1.jfr,settings=profile,dumponexit=true" || true; }

echo "bench/nbd.sh: volumes and data in $work" >&2
head -c 64M /dev/urandom >"$work/data.raw"
for v in bench-warm bench-cold; do
  remap volume create "$v" --size 2G >/dev/null
done

# The cold volume: write the data, then stop the server (SIGTERM uploads the journal to segments).
serve "$work/load.log" "-Xmx1g" --socket "$work/load.sock"
nbdcopy "$work/data.raw" "nbd+unix:///bench-cold?socket=$work/load.sock" --destination-is-zero
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'

HEAP="-Xms5g -Xmx5g -XX:+AlwaysPreTouch"
serve "$work/warm.log" "$HEAP $(jfr warm)" --socket "$work/warm.sock" --listen 127.0.0.1:10910 --cache-ram 2300M
warm=${PIDS[-1]}
nbdcopy "$work/data.raw" "nbd+unix:///bench-warm?socket=$work/warm.sock" --destination-is-zero
nbdcopy --no-extents "nbd+unix:///bench-warm?socket=$work/warm.sock" null:

serve "$work/cold.log" "-Xmx2g $(jfr cold)" --socket "$work/cold.sock" --cache-ram 0 \
  --cache-dir "$work/diskcache" --cache-disk 4G
cold=${PIDS[-1]}

while sleep 15; do remap gc --grace 20s >/dev/null 2>&1 || true; done &
PIDS+=($!)

echo "bench/nbd.sh: $RUN --anchors --size 2G ${ARGS[*]:-}" >&2
"$RUN" --anchors --size 2G "${ARGS[@]}" \
  "remap-warm-unix@$warm=nbd+unix:///bench-warm?socket=$work/warm.sock" \
  "remap-warm-tcp@$warm=nbd://127.0.0.1:10910/bench-warm" \
  "remap-cold-unix@$cold=nbd+unix:///bench-cold?socket=$work/cold.sock"
kill "$warm" "$cold"; wait "$warm" "$cold" 2>/dev/null || true  # SIGTERM: JFR files are written now
