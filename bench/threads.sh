#!/usr/bin/env bash
# Where a Remap server's CPU goes, thread by thread, under one fio job: a diagnostic to read
# before and after a change of the data path, not a benchmark against the anchors (that is
# bench/nbd.sh). One `remap serve` on a fresh file store, its volume filled whole and pre-read
# (as bench/nbd.sh's warm target), then:
#   write   4 KiB random writes QD32 (fio's nbd engine), server CPU per write by thread
#   flush   the same with a FLUSH every 32 writes (bench/nbd.sh's job 6)
#   write1m 1 MiB sequential writes QD8 (bench/nbd.sh's job 4), server CPU per MiB by thread
#   read    4 KiB random writes QD32, then at once 1 MiB sequential reads QD8 (the read after the
#           writes of bench/nbd.sh's jobs 2 and 3): MiB/s and server CPU per MiB by thread
#   cold    4 KiB random reads QD32 on a server with no RAM tier and an empty local-disk tier, the
#           volume's data only in the store (bench/nbd.sh's cold target): QD1, then QD32 twice,
#           the runs before filling the disk tier, the last reading it; IOPS, p99, CPU per read
# Per-thread CPU is read from /proc while fio runs (connection threads end with the connection).
#
#   bench/threads.sh [--bin LAUNCHER] [--size 512M] [--ram 600M] [--runtime 10] [--after-random SECS] [--heap 3g] [--tcp] [--perf [--callers]] [--drop] [--hold-freed-memory] MODE
#
# --bin     the launcher to serve with (default: this tree's ./remap; an older build's, to compare)
# --perf    also `perf record` the server during the measured job and print the hottest symbols
#           of each thread named in $COMMS (default: remap-upload-v); JIT names via jcmd perfmap
# --callers with --perf: the JIT keeps frame pointers, and each hot symbol's callers are printed
# --hold-freed-memory  hold off the host's taking back of freed memory for the run (bench/freed-memory.sh)
# --after-random SECS  before the measured job, SECS of 4 KiB random writes QD32 over the filled
#           volume (as bench/nbd.sh's job 2 comes before its jobs 3 and 4), so the measured job meets
#           a store the cleaner is working on
# --heap    the server's heap, taken and touched at start (default 3g; bench/nbd.sh's warm server
#           takes 5g, which leaves the page cache less room)
# --tcp     fio connects over loopback TCP instead of the unix socket (the fill still uses the socket)
# --drop    cold: before each run, the store's and the disk tier's files are dropped from the page
#           cache (dd iflag=nocache), so their reads go to the disk as on a node short of memory
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# shellcheck source=bench/freed-memory.sh
. "$root/bench/freed-memory.sh"
BIN=$root/remap SIZE=512M RAM=600M RUNTIME=10 AFTER=0 HEAP=3g TCP=0 PERF=0 DROP=0 HOLD=0 CALLERS=0 FRAMES="" MODE=""
while (($#)); do
  case $1 in
    --bin) BIN=$2; shift 2 ;; --size) SIZE=$2; shift 2 ;; --ram) RAM=$2; shift 2 ;;
    --runtime) RUNTIME=$2; shift 2 ;; --perf) PERF=1; shift ;; --drop) DROP=1; shift ;;
    --hold-freed-memory) HOLD=1; shift ;; --after-random) AFTER=$2; shift 2 ;;
    --heap) HEAP=$2; shift 2 ;; --tcp) TCP=1; shift ;;
    --callers) PERF=1 CALLERS=1 FRAMES=-XX:+PreserveFramePointer; shift ;;
    write|write1m|flush|read|cold) MODE=$1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0"; exit 0 ;;
    *) echo "bench/threads.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$MODE" ] || { echo "bench/threads.sh: say write, write1m, flush, read or cold" >&2; exit 2; }
work=$(mktemp -d /tmp/remap-threads.XXXXXX) pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; release_freed_memory' EXIT
((HOLD)) && hold_freed_memory
store="file://$work/store" uri="nbd+unix:///v?socket=$work/s.sock"
"$BIN" volume create v --size "$SIZE" --store "$store" --journal "$work/journal" >/dev/null
head -c "$SIZE" /dev/urandom >"$work/data.raw"
REMAP_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch $FRAMES" "$BIN" serve --store "$store" --journal "$work/journal" \
  --socket "$work/s.sock" --listen 127.0.0.1:10950 --cache-ram "$RAM" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -qs "serving " "$work/log" && break; sleep 0.1; done
nbdcopy "$work/data.raw" "$uri" --destination-is-zero
nbdcopy --no-extents "$uri" null:
rm -f "$work/data.raw"; sync; sleep 3
((TCP)) && uri="nbd://127.0.0.1:10950/v"
if ((AFTER)); then
  fio --name=pre --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=32 --time_based \
    --runtime="$AFTER" --norandommap --randrepeat=0 --output=/dev/null
fi

threads() { for t in /proc/$pid/task/*; do
  echo "$(basename "$t") $(tr ' ' _ <"$t/comm" 2>/dev/null) $(awk '{sub(/.*\) /, ""); print $12 + $13}' "$t/stat" 2>/dev/null)"
done; }
job() { # NAME FIO-ARGS...: runs fio for RUNTIME s after a 2 s ramp; per-thread ticks around the measured part
  local name=$1; shift
  fio --name="$name" --ioengine=nbd --uri="$uri" "$@" --time_based --ramp_time=2 --runtime="$RUNTIME" \
    --norandommap --randrepeat=0 --output-format=json --output="$work/$name.json" >/dev/null &
  local fp=$!
  sleep 2; threads >"$work/$name.t0"
  ((PERF)) && { perf record -F 999 -g -p "$pid" -o "$work/perf.data" -- sleep $((RUNTIME - 1)) >/dev/null 2>&1 & }
  sleep $((RUNTIME - 1)); threads >"$work/$name.t1"; wait "$fp"
}
report() { # NAME rw UNIT-BYTES LABEL
  python3 - "$work/$1.t0" "$work/$1.t1" "$work/$1.json" "$2" "$3" "$4" "$((RUNTIME - 1))" <<'PY'
import collections, json, re, sys
t0, t1, out, rw, unit, label, secs = sys.argv[1:8]
io = json.load(open(out))["jobs"][0][rw]
before = {l.split()[0]: int(l.split()[2]) for l in open(t0) if len(l.split()) == 3}
ticks = collections.Counter()
for line in open(t1):
    p = line.split()
    if len(p) == 3:
        ticks[re.sub(r"\d+", "#", p[1])] += int(p[2]) - before.get(p[0], 0)
units = io["bw_bytes"] / int(unit) * float(secs)
p99 = io["clat_ns"]["percentile"]["99.000000"] / 1000
print(f"{label}: {io['iops']:.0f} IOPS, {io['bw_bytes'] / 2**20:.0f} MiB/s, p99 {p99:.0f} us, server CPU "
      f"{sum(ticks.values()) * 1e4 / units:.1f} us per {label.split()[0]} (threads with any):")
for name, t in ticks.most_common():
    if t:
        print(f"  {name:<22} {t * 1e4 / units:8.1f} us")
PY
}
if [ "$MODE" = cold ]; then
  # SIGTERM uploads the journal to segments; the new server has only the store to read from.
  kill "$pid"; wait "$pid" 2>/dev/null || true
  REMAP_JAVA_OPTS="-Xms2g -Xmx2g" "$BIN" serve --store "$store" --journal "$work/journal" \
    --socket "$work/s.sock" --listen 127.0.0.1:10950 --cache-ram 0 --cache-dir "$work/diskcache" --cache-disk 4G >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -qs "serving " "$work/log" && break; sleep 0.1; done
  drop() { ((DROP)) || return 0; sync
    find "$work/store" "$work/diskcache" -type f -exec dd if={} iflag=nocache count=0 status=none \; ; }
  drop; job c0 --rw=randread --bs=4k --iodepth=1
  report c0 read 4096 "read (4 KiB random, QD1, disk tier filling)"
  drop; job c1 --rw=randread --bs=4k --iodepth=32
  report c1 read 4096 "read (4 KiB random, QD32, disk tier filling)"
  drop; job c2 --rw=randread --bs=4k --iodepth=32
  report c2 read 4096 "read (4 KiB random, QD32, disk tier filled by the run before)"
elif [ "$MODE" = write ]; then
  job w --rw=randwrite --bs=4k --iodepth=32
  report w write 4096 "write (4 KiB random, QD32)"
elif [ "$MODE" = write1m ]; then
  job w --rw=write --bs=1M --iodepth=8
  report w write 1048576 "MiB (1 MiB sequential writes QD8)"
elif [ "$MODE" = flush ]; then
  job f --rw=randwrite --bs=4k --iodepth=32 --fsync=32
  report f write 4096 "write (4 KiB random, QD32, a FLUSH every 32 writes)"
else
  fio --name=w --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=32 --time_based --runtime=14 \
    --norandommap --randrepeat=0 --output=/dev/null
  job r --rw=read --bs=1M --iodepth=8
  report r read 1048576 "MiB (1 MiB sequential reads QD8, after 14 s of 4 KiB random writes)"
fi
if ((PERF)); then
  jcmd "$pid" Compiler.perfmap >/dev/null 2>&1 || true
  for c in ${COMMS:-remap-upload-v}; do
    echo "== perf, thread $c"
    perf report -i "$work/perf.data" --comms "$c" --no-children --percentage relative --sort sym --stdio -g none \
      2>/dev/null | grep -v '^#' | grep '%' | head -25
    ((CALLERS)) && perf report -i "$work/perf.data" --comms "$c" --no-children --percentage relative --sort sym \
      --stdio -g caller,2,callee,function,percent --max-stack 12 2>/dev/null | grep -v '^#' | grep -v '^$' | head -150
  done
fi
