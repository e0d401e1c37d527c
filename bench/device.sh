#!/usr/bin/env bash
# The node's published device against the same device on nbdkit-file: each export is attached as
# the CSI node attaches a volume on a machine without the nbd kernel module (docs/CSI.md,
# NodeStageVolume): nbdfuse serving a file through the node plugin's reconnecting proxy
# (dev.remap.csi.node.ReconnectingProxy, its own JVM), and a loop device with direct I/O on that
# file; fio (libaio, O_DIRECT) runs on the loop device. Two more attachments of each server show
# what reconnecting costs: nbdfuse through the reconnecting nbdkit earlier plugins used
# (`--filter=retry nbd`, one request at a time), and nbdfuse straight to the server. Every FUSE
# mount gets the queue the node gives its mounts (max_background 64, through fusectl).
#
#   bench/device.sh [--no-build] [--hold-freed-memory] [--size 1G] [--runtime 8] [--ramp 1] [--reps 2] [--jobs "1 2 3 4 5 6 7"]
#
# Targets (each its own export, filled whole with random bytes, then read once):
#   remap-proxy / remap-retry / remap-direct  `remap serve` on a file store (no RAM tier); -proxy is the node's path
#   nbdkit-file-proxy / -retry / -direct       nbdkit's file plugin on a file, the same attachments
# Jobs as ../shared/bench/run.sh numbers them: 1 4k randread QD32 | 2 4k randwrite QD32 |
#   3 1M read QD8 | 4 1M write QD8 | 5 4k randread QD1 (mean/p99 µs) | 6 4k randwrite QD32 +
#   fsync every 32 | 7 1M write QD8 + fsync every 8 (an fsync of the loop device reaches the
#   server as an NBD FLUSH). Target order is shuffled in every repetition; dirty pages are written
#   back before each fio run. Prints medians [min-max], per-repetition ratios (Remap against
#   nbdkit-file on the same attachment; direct against each reconnecting one), and the server CPU
#   µs per I/O of both servers. The proxies' logs (most requests in flight) stay in the results
#   folder. Needs root (losetup, FUSE),
#   fio, nbdkit, nbdfuse, python3, a JDK and Maven (offline) unless --no-build.
# --hold-freed-memory holds off the host's taking back of freed memory for the run (bench/freed-memory.sh).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# shellcheck source=bench/freed-memory.sh
. "$root/bench/freed-memory.sh"
BUILD=1 HOLD=0 SIZE=1G RUNTIME=8 RAMP=1 REPS=2 JOBS="1 2 3 4 5 6 7"
while (($#)); do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --hold-freed-memory) HOLD=1; shift ;;
    --size) SIZE=$2; shift 2 ;; --runtime) RUNTIME=$2; shift 2 ;; --ramp) RAMP=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;; --jobs) JOBS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^# --hold/p' "$0"; exit 0 ;;
    *) echo "bench/device.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
((BUILD)) && (cd "$root" && mvn -B -q -o -DskipTests install >/dev/null)

work=$(mktemp -d /tmp/remap-device-bench.XXXXXX)
out=$(mktemp -d /tmp/device-bench.XXXXXX)
PIDS=() LOOPS=() MOUNTS=()
cleanup() {
  for l in "${LOOPS[@]:-}"; do [ -n "$l" ] && losetup -d "$l" 2>/dev/null || true; done
  for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap 'cleanup; release_freed_memory' EXIT
((HOLD)) && hold_freed_memory
wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "bench/device.sh: no $1" >&2; return 1; }
settle() {
  sync
  for _ in $(seq 100); do
    d=$(awk '/^Dirty:/{print $2}' /proc/meminfo); w=$(awk '/^Writeback:/{print $2}' /proc/meminfo)
    (( d + w < 65536 )) && return 0
    sleep 0.2
  done
}
bytes=$(numfmt --from=iec "$SIZE")
head -c "$bytes" /dev/urandom >"$work/data.raw"

# The servers: Remap on a file store, nbdkit-file on a file of its own. Remap's collection grace
# is 20 s (bench/nbd.sh's), not the 5 minutes of a node: three volumes overwritten at about 1 GB/s
# keep everything they overwrite for the grace, and 5 minutes of that fills this machine's disk.
BIN=$root/remap STORE="file://$work/store" JOURNAL=$work/journal METRICS_PORT=19391
for v in dev-proxy dev-retry dev-direct; do
  "$BIN" volume create "$v" --size "$SIZE" --store "$STORE" --journal "$JOURNAL" >/dev/null
done
REMAP_JAVA_OPTS="-Xmx2g" "$BIN" serve --store "$STORE" --journal "$JOURNAL" --socket "$work/remap.sock" \
  --cache-ram 0 --collect-grace 20s --http-address 127.0.0.1:$METRICS_PORT >"$work/remap.log" 2>&1 &
PIDS+=($!); remap_pid=$!
wait_for "$work/remap.sock"
for f in file-proxy file-retry file-direct; do
  cp "$work/data.raw" "$work/$f.img"
done
nbdkit --foreground --unix "$work/nbdkit.sock" --pidfile "$work/nbdkit.pid" file dir="$work" \
  >"$work/nbdkit.log" 2>&1 &
PIDS+=($!); nbdkit_pid=$!
wait_for "$work/nbdkit.sock"

# attach LABEL SOCKET EXPORT proxy|retry|direct: nbdfuse (+ a reconnecting proxy or nbdkit) and a
# loop device. The proxy runs as the node plugin starts it: its own JVM on the CLI's class path.
declare -A DEVICE
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
attach() {
  local label=$1 socket=$2 export=$3 how=$4 dir=$work/fuse-$1
  mkdir -p "$dir"
  if [ "$how" = proxy ]; then
    "$java" -XX:+UseSerialGC -Xmx64m -Xms4m -Xss512k -cp "$root/cli/target/remap.jar" dev.remap.csi.node.ReconnectingProxy \
      --listen "$dir.proxy.sock" --engine "$socket" --export "$export" >"$out/$label.proxy.log" 2>&1 &
    PIDS+=($!)
    wait_for "$dir.proxy.sock"
    nbdfuse -P "$dir.pid" "$dir/disk" --unix "$dir.proxy.sock" >"$dir.log" 2>&1 &
  elif [ "$how" = retry ]; then
    nbdfuse -P "$dir.pid" "$dir/disk" [ nbdkit --exit-with-parent --filter=retry nbd socket="$socket" \
      export="$export" retries=180 retry-delay=1 retry-exponential=no ] >"$dir.log" 2>&1 &
  else
    nbdfuse -P "$dir.pid" "$dir/disk" "nbd+unix:///$export?socket=$socket" >"$dir.log" 2>&1 &
  fi
  PIDS+=($!); MOUNTS+=("$dir")
  wait_for "$dir.pid"
  # The FUSE queue raised from 12 to 64, as the node does after nbdfuse mounts
  # (LoopAttacher.raiseFuseQueue); for every attachment, so that they differ only in what reconnects.
  mountpoint -q /sys/fs/fuse/connections || mount -t fusectl fusectl /sys/fs/fuse/connections
  local dev; dev=$(stat -c %d "$dir")
  local conn=/sys/fs/fuse/connections/$(( (dev & 0xff) | ((dev >> 12) & 0xfff00) ))
  echo 64 >"$conn/max_background"; echo 48 >"$conn/congestion_threshold"
  DEVICE[$label]=$(losetup --find --show --direct-io=on "$dir/disk")
  LOOPS+=("${DEVICE[$label]}")
}
attach remap-proxy "$work/remap.sock" dev-proxy proxy
attach remap-retry "$work/remap.sock" dev-retry retry
attach remap-direct "$work/remap.sock" dev-direct direct
attach nbdkit-file-proxy "$work/nbdkit.sock" file-proxy.img proxy
attach nbdkit-file-retry "$work/nbdkit.sock" file-retry.img retry
attach nbdkit-file-direct "$work/nbdkit.sock" file-direct.img direct
for label in remap-proxy remap-retry remap-direct; do  # fill Remap's exports whole, as the files are
  dd if="$work/data.raw" of="${DEVICE[$label]}" bs=1M oflag=direct conv=fsync status=none
done
for label in "${!DEVICE[@]}"; do
  dd if="${DEVICE[$label]}" of=/dev/null bs=1M iflag=direct status=none
done
settle

job() { # NUMBER -> fio options
  case $1 in
    1) echo "--rw=randread --bs=4k --iodepth=32" ;;
    2) echo "--rw=randwrite --bs=4k --iodepth=32" ;;
    3) echo "--rw=read --bs=1M --iodepth=8" ;;
    4) echo "--rw=write --bs=1M --iodepth=8" ;;
    5) echo "--rw=randread --bs=4k --iodepth=1" ;;
    6) echo "--rw=randwrite --bs=4k --iodepth=32 --fsync=32" ;;
    7) echo "--rw=write --bs=1M --iodepth=8 --fsync=8" ;;
  esac
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Reads the server handed from a connection's thread to its workers (SlowReads), all volumes.
handed() {
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk '/^remap_reads_handed_over_total/ {s += $NF} END {printf "%d", s}'
}
server_of() { case $1 in remap-*) echo "$remap_pid" ;; *) echo "$nbdkit_pid" ;; esac; }
labels=(remap-proxy remap-retry remap-direct nbdkit-file-proxy nbdkit-file-retry nbdkit-file-direct)
for rep in $(seq "$REPS"); do
  for j in $JOBS; do
    for label in $(printf '%s\n' "${labels[@]}" | shuf); do
      settle
      pid=$(server_of "$label"); c0=$(cpu "$pid"); h0=$(handed)
      # shellcheck disable=SC2046
      fio --name="j$j" --filename="${DEVICE[$label]}" --ioengine=libaio --direct=1 --time_based \
        --runtime="$RUNTIME" --ramp_time="$RAMP" --output-format=json --output="$out/$label.$j.$rep.json" \
        $(job "$j") >/dev/null
      echo "$label $j $rep $(( $(cpu "$pid") - c0 ))" >>"$out/cpu.txt"
      [[ $label == remap-* ]] && echo "$label $j $rep $(( $(handed) - h0 ))" >>"$out/handed.txt"
    done
  done
done
echo "bench/device.sh: results in $out" >&2

python3 - "$out" "$JOBS" "$REPS" "$(getconf CLK_TCK)" <<'EOF'
import json, statistics, sys
out, jobs, reps, tck = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4])
names = {"1": "4k randread QD32 IOPS", "2": "4k randwrite QD32 IOPS", "3": "1M read QD8 MiB/s",
         "4": "1M write QD8 MiB/s", "5": "4k QD1 mean/p99 µs", "6": "4k randwrite QD32 +fsync/32 IOPS",
         "7": "1M write QD8 +fsync/8 MiB/s"}
labels = ["nbdkit-file-proxy", "nbdkit-file-retry", "nbdkit-file-direct", "remap-proxy", "remap-retry", "remap-direct"]
cpu = {}
for line in open(f"{out}/cpu.txt"):
    l, j, r, t = line.split()
    cpu[(l, j, int(r))] = int(t) / tck
def load(l, j, r):
    d = json.load(open(f"{out}/{l}.{j}.{r}.json"))["jobs"][0]
    rd, wr = d["read"], d["write"]
    ios = rd["total_ios"] + wr["total_ios"]
    if j == "5":
        return rd["clat_ns"]["mean"] / 1000, rd["clat_ns"]["percentile"]["99.000000"] / 1000, ios
    if j in ("3", "4", "7"):
        return (rd["bw"] + wr["bw"]) / 1024, None, ios
    return rd["iops"] + wr["iops"], None, ios
val = {(l, j, r): load(l, j, r) for l in labels for j in jobs for r in range(1, reps + 1)}
def med(xs):
    return f"{statistics.median(xs):,.0f} [{min(xs):,.0f}–{max(xs):,.0f}]"
print("| device | " + " | ".join(names[j] for j in jobs) + " |")
print("|---" * (len(jobs) + 1) + "|")
for l in labels:
    cells = []
    for j in jobs:
        v = [val[(l, j, r)] for r in range(1, reps + 1)]
        cells.append(f"{statistics.median(x[0] for x in v):.0f} / {statistics.median(x[1] for x in v):.0f}"
                     if j == "5" else med([x[0] for x in v]))
    print(f"| {l} | " + " | ".join(cells) + " |")
print("\nRatios per repetition, median [min–max]; QD1: p99 ratio, lower is better. Remap against"
      " nbdkit-file on the same attachment, the proxy against the retry nbdkit, and each server's direct"
      " attachment against its reconnecting ones")
print("| ratio | " + " | ".join(names[j] for j in jobs) + " |")
print("|---" * (len(jobs) + 1) + "|")
for l, base in (("remap-proxy", "nbdkit-file-proxy"), ("remap-retry", "nbdkit-file-retry"),
                ("remap-direct", "nbdkit-file-direct"), ("remap-proxy", "remap-retry"),
                ("remap-direct", "remap-proxy"), ("nbdkit-file-proxy", "nbdkit-file-retry"),
                ("nbdkit-file-direct", "nbdkit-file-proxy"), ("nbdkit-file-direct", "nbdkit-file-retry")):
    cells = []
    for j in jobs:
        k = 1 if j == "5" else 0
        rs = [val[(l, j, r)][k] / val[(base, j, r)][k] for r in range(1, reps + 1)]
        cells.append(f"{statistics.median(rs):.2f} [{min(rs):.2f}–{max(rs):.2f}]")
    print(f"| {l} / {base} | " + " | ".join(cells) + " |")
print("\nServer CPU µs per I/O (median; the server process alone: nbdfuse, the proxy or retry nbdkit and the loop device not counted)")
print("| device | " + " | ".join(names[j] for j in jobs) + " |")
print("|---" * (len(jobs) + 1) + "|")
for l in labels:
    cells = []
    for j in jobs:
        cells.append(f"{statistics.median(cpu[(l, j, r)] * 1e6 / max(1, val[(l, j, r)][2]) for r in range(1, reps + 1)):.1f}")
    print(f"| {l} | " + " | ".join(cells) + " |")
handed = {}
for line in open(f"{out}/handed.txt"):
    l, j, r, n = line.split()
    handed.setdefault((l, j), []).append(int(n))
print("\nReads Remap handed from a connection's thread to its workers (remap_reads_handed_over_total), per repetition")
print("| device | " + " | ".join(names[j] for j in jobs) + " |")
print("|---" * (len(jobs) + 1) + "|")
for l in labels[3:]:
    print(f"| {l} | " + " | ".join(" / ".join(map(str, handed.get((l, j), []))) for j in jobs) + " |")
EOF
