#!/usr/bin/env bash
# NBD benchmark of `remap serve` against the anchors (nbdkit memory, nbdkit file, qemu-nbd),
# same machine, same run, same export size, with the shared fio runner (../shared/bench/run.sh,
# or $REMAP_BENCH_RUN).
#
#   bench/nbd.sh [--no-build] [--profile] [--compare REV] [--hold-freed-memory]
#                [run.sh options: --runtime 15 --reps 3 --jobs "1 2 3 4 5" ...]
#
# Targets, each a 2 GiB volume of a file store filled whole with random bytes, as the runner fills
# the anchors' files (so no read hits a hole, and every write overwrites data):
#   remap-warm-unix / remap-warm-tcp   one server, RAM cache large enough for the whole export,
#                                      pre-read once (nbdcopy --no-extents) so it holds all of it
#                                      (an idle connection held for the whole run keeps the stack,
#                                      and so the RAM tier, open between fio's connections);
#                                      writes update the pages they overwrite (or drop them when
#                                      writes race), as a page cache does; the RAM tier's hit
#                                      ratio over the run is printed at the end (its /metrics)
#   remap-cold-unix                    a second server with no RAM cache and an empty local-disk
#                                      cache; its volume's data was uploaded to the store
#                                      (segments) before it started
# A log-structured store grows with every write: `remap gc --grace 20s` runs every 15 s meanwhile
# (as it would on a node), and the volumes are deleted at the end.
# --compare REV also serves the same volumes with git revision REV of this repository, exported
#   (git archive) to /tmp/remap-bench-old.<commit> and built there with its own launcher (kept and
#   reused by later runs; --no-build does not skip it), each build with its own store:
#   remap-old-warm-unix, remap-old-warm-tcp and remap-old-cold-unix, in the same run as the
#   targets above, so old and new are measured in the same repetitions, in shuffled order. After
#   the runner's tables it prints new/old per job and repetition (median [min-max]), also kept
#   in the results folder as new-vs-old.md. The two warm servers take 10 GiB of heap from the start.
# After the runner's tables it prints Remap over TCP against nbdkit-file over TCP, per repetition
#   (also kept in the results folder as tcp-vs-tcp.md).
# --profile records a JFR profile of each server, kept in /tmp/remap-nbd-profile.*.
# --hold-freed-memory holds off the host's taking back of freed memory for the run (bench/freed-memory.sh).
# Needs: a JDK, Maven (offline), fio, nbdkit, qemu-nbd, qemu-io, nbdcopy, curl, python3 (and git for --compare).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# shellcheck source=bench/freed-memory.sh
. "$root/bench/freed-memory.sh"
RUN=${REMAP_BENCH_RUN:-$root/../shared/bench/run.sh}
BUILD=1 PROFILE=0 HOLD=0 COMPARE="" ARGS=()
while (($#)); do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --hold-freed-memory) HOLD=1; shift ;;
    --profile) PROFILE=1; shift ;;
    --compare) COMPARE=${2:?"bench/nbd.sh: --compare needs a git revision"}; shift 2 ;;
    -h|--help) sed -n '2,/^# Needs/p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ -x "$RUN" ] || { echo "bench/nbd.sh: $RUN not found (set REMAP_BENCH_RUN)" >&2; exit 2; }

if ((BUILD)); then
  (cd "$root" && mvn -B -q -o install -DskipTests -pl engine,csi-driver,cli)
fi
old=""
if [ -n "$COMPARE" ]; then
  rev=$(git -C "$root" rev-parse --verify -q "$COMPARE^{commit}") ||
    { echo "bench/nbd.sh: --compare $COMPARE is not a commit of $root" >&2; exit 2; }
  old=/tmp/remap-bench-old.$rev oldname="$COMPARE ($rev)"
  [ "$COMPARE" != "$rev" ] || oldname=$rev
  # A commit never changes, so its build is reused; the stamp is written only by a build that
  # finished, so an interrupted one is redone. `package`, not `install`: the old jars must not
  # replace the working tree's in the local Maven repository.
  if [ ! -f "$old/.built" ]; then
    echo "bench/nbd.sh: building $COMPARE ($rev) in $old" >&2
    rm -rf "$old"; mkdir -p "$old"
    git -C "$root" archive "$rev" | tar -x -C "$old"
    (cd "$old" && mvn -B -q -o package -DskipTests -pl engine,csi-driver,cli -am)
    touch "$old/.built"
  fi
fi
# The results folder is ours: the new/old ratios are computed from the runner's summary.json, and
# the runner's target files in it are removed at the end.
for ((i = 0; i < ${#ARGS[@]}; i++)); do [ "${ARGS[i]}" = --out ] && OUT=${ARGS[i+1]:-}; done
if [ -z "${OUT:-}" ]; then OUT=$(mktemp -d /tmp/nbd-bench.XXXXXX); ARGS+=(--out "$OUT"); fi
work=$(mktemp -d /tmp/remap-nbd-bench.XXXXXX)
PIDS=() SERVERS=() TARGETS=() METRICS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((PROFILE)) && ls "$work"/*.jfr >/dev/null 2>&1; then
    keep=$(mktemp -d /tmp/remap-nbd-profile.XXXXXX); mv "$work"/*.jfr "$keep"/
    echo "bench/nbd.sh: JFR profiles in $keep (jfr print --events jdk.ExecutionSample FILE)" >&2
  fi
  rm -rf "$work"
  # The runner leaves its targets' files (2 GiB each at the default size) beside the results:
  # only the results are kept, or a few runs fill /tmp.
  [ -n "${OUT:-}" ] && rm -f "$OUT"/*.raw "$OUT"/*.sock
}
trap 'cleanup; release_freed_memory' EXIT
((HOLD)) && hold_freed_memory

# The build being set up: its launcher, store and journal (set by `build`). Each build has a store
# of its own, as an older build need not read what a newer one wrote.
BIN="" STORE="" JOURNAL=""
remap() { "$BIN" "$@" --store "$STORE" --journal "$JOURNAL"; }
wait_for() { for _ in $(seq 600); do grep -qs "serving " "$1" && return 0; sleep 0.1; done; cat "$1" >&2; return 1; }
serve() { # LOG JAVA_OPTS ARGS...
  local log=$1 opts=$2; shift 2
  REMAP_JAVA_OPTS="$opts" "$BIN" serve --store "$STORE" --journal "$JOURNAL" "$@" >"$log" 2>&1 &
  PIDS+=($!)
  wait_for "$log"
}
jfr() { ((PROFILE)) && echo "-XX:StartFlightRecording=filename=$work/$1.jfr,settings=profile,dumponexit=true" || true; }

echo "bench/nbd.sh: volumes and data in $work" >&2
FILL=${REMAP_BENCH_FILL:-2G}   # the export's size: filled whole, like the anchors
head -c "$FILL" /dev/urandom >"$work/data.raw"
HEAP="-Xms5g -Xmx5g -XX:+AlwaysPreTouch"

# One idle client connection per served volume for the whole run, as the node's device holds one:
# a server opens a volume's stack (RAM tier, cleaner) at its first connection and closes it when
# the last one ends (pushing its journal to the store), so without it every fio job would start
# on an empty RAM tier and end with that push. qemu-io reads commands from a pipe that only a
# `sleep` writes to; the cleanup kills both.
hold() { # URI
  local pidfile; pidfile=$(mktemp "$work/hold.XXXXXX")
  { sleep 1000000 & echo $! >"$pidfile"; wait; } | qemu-io -f raw "$1" >"$pidfile.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 600); do [ -s "$pidfile" ] && break; sleep 0.05; done
  PIDS+=("$(cat "$pidfile")")
}
opened() { # METRICS-URL VOLUME: waits until the server has the volume's stack open (its RAM tier's gauge)
  for _ in $(seq 100); do
    curl -s "$1" | grep -q "^remap_cache_capacity_bytes{tier=\"ram\",volume=\"$2\"} [1-9]" && return 0
    sleep 0.1
  done
  echo "bench/nbd.sh: the held connection did not open $2" >&2; return 1
}

build() { # TREE DIR NAME PORT: one build's volumes, warm and cold servers, collector and targets
  local tree=$1 dir=$2 name=$3 port=$4 warm cold v
  local jfrs=${name#remap}; jfrs=${jfrs#-}; jfrs=${jfrs:+$jfrs-}  # JFR files: warm, old-warm, ...
  BIN=$tree/remap STORE="file://$dir/store" JOURNAL=$dir/journal
  mkdir -p "$dir"
  for v in bench-warm bench-cold; do
    remap volume create "$v" --size 2G >/dev/null
  done

  # The cold volume: write the data, then stop the server (SIGTERM uploads the journal to segments).
  serve "$dir/load.log" "-Xmx1g" --socket "$dir/load.sock"
  nbdcopy "$work/data.raw" "nbd+unix:///bench-cold?socket=$dir/load.sock" --destination-is-zero
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'

  serve "$dir/warm.log" "$HEAP $(jfr "${jfrs}warm")" --socket "$dir/warm.sock" \
    --listen "127.0.0.1:$port" --cache-ram 2300M --http-address "127.0.0.1:$((port + 100))"
  METRICS+=("$name=http://127.0.0.1:$((port + 100))/metrics")
  warm=${PIDS[-1]}
  hold "nbd+unix:///bench-warm?socket=$dir/warm.sock"
  opened "http://127.0.0.1:$((port + 100))/metrics" bench-warm
  nbdcopy "$work/data.raw" "nbd+unix:///bench-warm?socket=$dir/warm.sock" --destination-is-zero
  nbdcopy --no-extents "nbd+unix:///bench-warm?socket=$dir/warm.sock" null:

  serve "$dir/cold.log" "-Xmx2g $(jfr "${jfrs}cold")" --socket "$dir/cold.sock" --cache-ram 0 \
    --cache-dir "$dir/diskcache" --cache-disk 4G
  cold=${PIDS[-1]}
  hold "nbd+unix:///bench-cold?socket=$dir/cold.sock"
  sleep 2 # no RAM tier, so no gauge to wait for: qemu-io connects within moments

  while sleep 15; do remap gc --grace 20s >/dev/null 2>&1 || true; done &
  PIDS+=($!)
  SERVERS+=("$warm" "$cold")
  TARGETS+=("$name-warm-unix@$warm=nbd+unix:///bench-warm?socket=$dir/warm.sock"
            "$name-warm-tcp@$warm=nbd://127.0.0.1:$port/bench-warm"
            "$name-cold-unix@$cold=nbd+unix:///bench-cold?socket=$dir/cold.sock")
}
build "$root" "$work" remap 10910
[ -z "$old" ] || build "$old" "$work/old" remap-old 10911

# The warm servers' RAM tier: hits and misses of the warm volume, before and after the runner.
ram() { curl -s "$1" | awk '/^remap_cache_(hits|misses)_total\{/ && /tier="ram"/ && /bench-warm/ {
  if ($1 ~ /hits/) h += $2; else m += $2 } END { printf "%d %d\n", h, m }'; }
declare -A BEFORE
for m in "${METRICS[@]}"; do BEFORE[${m%%=*}]=$(ram "${m#*=}"); done
echo "bench/nbd.sh: $RUN --anchors --size 2G ${ARGS[*]:-}" >&2
"$RUN" --anchors --size 2G "${ARGS[@]}" "${TARGETS[@]}"
for m in "${METRICS[@]}"; do
  read -r h0 m0 <<<"${BEFORE[${m%%=*}]}"; read -r h1 m1 <<<"$(ram "${m#*=}")"
  awk -v n="${m%%=*}" -v h=$((h1 - h0)) -v m=$((m1 - m0)) 'BEGIN { t = h + m;
    printf "%s-warm RAM tier during the run: %d hits, %d misses (hit ratio %.3f)\n", n, h, m, t ? h / t : 0 }'
done
kill "${SERVERS[@]}"; wait "${SERVERS[@]}" 2>/dev/null || true  # SIGTERM: JFR files are written now
# Ratios paired by repetition (both targets ran in the same repetition of the same job, so the
# ratio cancels most of the noise that moves a whole repetition: the shared machine's load):
# Remap over TCP against nbdkit-file over TCP (the runner's ratios are all to the unix-socket
# anchor, and loopback TCP costs every server more), and with --compare, new over old.
python3 - "$OUT" "${oldname:-}" <<'PY'
import json, os, statistics, sys
out, rev = sys.argv[1], sys.argv[2]
summary = json.load(open(os.path.join(out, "summary.json")))
jobs, targets = summary["jobs"], summary["targets"]
value = lambda v: v[1] if isinstance(v, list) else v  # the latency job: its p99

def table(title, pairs, file):
    lines = [f"\n{title}, per repetition (median [min–max]); latency job: p99 ratio, lower is better",
             "| server | " + " | ".join(jobs.values()) + " |", "|---" * (len(jobs) + 1) + "|"]
    medians = {}
    for name, base in pairs:
        if name not in targets or base not in targets:
            continue
        cells = []
        for j in jobs:
            a, b = targets[name][j]["reps"], targets[base][j]["reps"]
            rs = [value(a[k]) / value(b[k]) for k in a if k in b and value(b[k])]
            medians[(name, j)] = statistics.median(rs) if rs else None
            cells.append(f"{statistics.median(rs):.2f} [{min(rs):.2f}–{max(rs):.2f}]" if rs else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    open(os.path.join(out, file), "w").write("\n".join(lines) + "\n")
    return medians

table("Over TCP: Remap / nbdkit-file-tcp",
      [("remap-warm-tcp", "nbdkit-file-tcp"), ("remap-old-warm-tcp", "nbdkit-file-tcp")], "tcp-vs-tcp.md")
if rev:
    new = ("remap-warm-unix", "remap-warm-tcp", "remap-cold-unix")
    medians = table(f"New (working tree) / old ({rev})",
                    [(n, n.replace("remap-", "remap-old-", 1)) for n in new], "new-vs-old.md")
    for (name, j), m in medians.items():
        targets[name][j]["ratio_to_old"] = m
    summary["compared_with"] = rev
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
