#!/usr/bin/env bash
# Swap benchmark (issue 16): the QEMU test guest, short of RAM, swaps a memory-hungry job to a
# swap disk served three ways, one after another, --reps times in a shuffled order:
#
#   remap        `remap serve --swap` (pages received into and sent from the node's pool)
#   remap-spill  the same with memory-limit a quarter of the data: most pages go to the spill file
#   nbdkit-file  nbdkit's file plugin on a raw swap file in /dev/shm (tmpfs), over a Unix socket
#   qemu-file    the same raw file opened by QEMU itself (no NBD at all)
#
#   bench/swap.sh [--no-build] [--reps 3] [--data 192] [--memory 96] [--only "remap nbdkit-file ..."]
#
# The guest (--memory MiB of RAM) turns on the disk's swap (label remapswap, with discard),
# writes --data MiB of a pattern into a tmpfs (swap-out), reads it back (swap-in), then compares
# it with what it wrote (outside the timed phases), and reports both phases' MiB/s by its own clock plus /proc/vmstat
# pswpout/pswpin. On the host: for Remap its swap counters (bytes copied per swapped page), and
# for every target the bytes the server process and QEMU moved through read/write system calls
# (/proc/PID/io rchar + wchar, each byte one copy between the kernel and the process) per
# swapped page. Prints a markdown table for docs/BENCHMARKS.md.
# Needs: the test guest (e2e/tools/guest), qemu-system-x86_64, nbdkit, mkswap, curl.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BUILD=1 REPS=3 DATA=192 MEMORY=96 ONLY="remap remap-spill nbdkit-file qemu-file"
while (($#)); do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --reps) REPS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench/swap.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
SWAP_MIB=$((DATA * 2))
log() { echo "bench/swap.sh: $*" >&2; }
if ((BUILD)); then
  (cd "$root" && mvn -B -q -o install -DskipTests -pl engine,csi-driver,cli -am)
fi
work=$(mktemp -d /tmp/remap-swap-bench.XXXXXX)
shm=$(mktemp -d /dev/shm/remap-swap-bench.XXXXXX)
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$shm"
  if [ -n "${KEEP:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
log "work folder $work"

cat >"$work/job.sh" <<GUEST
set -e
up() { cut -d' ' -f1 /proc/uptime; }
swapon -d LABEL=remapswap 2>/dev/null || swapon LABEL=remapswap
mkdir -p /mnt/t && mount -t tmpfs -o size=$((DATA * 2))m tmpfs /mnt/t
dd if=/dev/urandom of=/tmp/seed bs=64k count=16 2>/dev/null
t0=\$(up)
i=0; while [ \$i -lt $DATA ]; do cat /tmp/seed; i=\$((i + 1)); done > /mnt/t/data
sync
t1=\$(up)
cat /mnt/t/data >/dev/null
t2=\$(up)
i=0; while [ \$i -lt $DATA ]; do cat /tmp/seed; i=\$((i + 1)); done | cmp - /mnt/t/data
echo "SWAPBENCH out_s=\$(awk "BEGIN{print \$t1-\$t0}") in_s=\$(awk "BEGIN{print \$t2-\$t1}")"
grep -E '^pswp(in|out) ' /proc/vmstat | tr '\n' ' ' | sed 's/^/VMSTAT /'; echo
rm /mnt/t/data
GUEST

io() { awk '/^(rchar|wchar):/ { s += $2 } END { print s + 0 }' "/proc/$1/io" 2>/dev/null || echo 0; }
RESULTS="$work/results.tsv"
: >"$RESULTS"

run_guest() { # TARGET QEMU_DRIVE SERVER_PID: boots the guest, appends a row to $RESULTS
  local target=$1 drive=$2 server=$3 console="$work/$1.console" qemu_io_before server_before
  server_before=$( [ "$server" = 0 ] && echo 0 || io "$server")
  "$root/e2e/tools/guest/run.sh" --quiet --timeout 900 --memory "$MEMORY" --log "$console" "$work/job.sh" \
    -- -drive "$drive" &
  local runner=$!
  local qemu=
  for _ in $(seq 100); do qemu=$(pgrep -n -f "qemu-system-x86_64.*remap-swap-bench" || true); [ -n "$qemu" ] && break; sleep 0.1; done
  local qemu_io=0
  while kill -0 "$runner" 2>/dev/null; do
    [ -n "$qemu" ] && qemu_io=$(io "$qemu")
    sleep 0.5
  done
  wait "$runner" || { log "$target: the guest failed, console in $console"; KEEP=1; return 1; }
  local server_io=0
  [ "$server" != 0 ] && server_io=$(( $(io "$server") - server_before ))
  local line vm
  line=$(tr -d '\r' <"$console" | grep '^SWAPBENCH')
  vm=$(tr -d '\r' <"$console" | grep '^VMSTAT')
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$line" "$vm" "$server_io" "$qemu_io" >>"$RESULTS"
}

serve_remap() { # NAME SWAP_SPEC: starts remap serve with one swap disk; sets SOCK, SERVER, MURL
  local out="$work/$1.serve.log"
  SOCK="$work/$1.sock"
  rm -f "$SOCK"
  "$root/remap" serve --store "file://$work/store" --journal "$work/journal" --socket "$SOCK" \
    --http-address 127.0.0.1:0 --swap-pool "${SWAP_MIB}M" --swap "$2" >"$out" 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  for _ in $(seq 600); do grep -q "^serving " "$out" && break; sleep 0.1; done
  grep -q "^serving " "$out" || { cat "$out" >&2; return 1; }
  MURL=$(sed -n 's/^serving .*health and metrics on \(http:[^ ]*\).*/\1/p' "$out")
}
swap_counter() { curl -sf "$MURL/metrics" | awk -v n="$1" 'index($0, n) == 1 { s += $NF } END { printf "%.0f", s }'; }

swap_file() { rm -f "$shm/swap.raw"; truncate -s "${SWAP_MIB}M" "$shm/swap.raw"; mkswap -q -L remapswap "$shm/swap.raw"; }

one() {
  case $1 in
    remap|remap-spill)
      local spec="swap1:size=${SWAP_MIB}M,memory-limit=${SWAP_MIB}M,label=remapswap"
      if [ "$1" = remap-spill ]; then
        mkdir -p "$work/spill"
        spec="swap1:size=${SWAP_MIB}M,memory-limit=$((DATA / 4))M,spill-dir=$work/spill,spill-size=${SWAP_MIB}M,label=remapswap"
      fi
      serve_remap "$1" "$spec"
      run_guest "$1" "file=nbd+unix:///swap1?socket=$SOCK,format=raw,if=virtio,discard=unmap" "$SERVER"
      local outs ins copied
      outs=$(swap_counter remap_swap_swap_outs_total)
      ins=$(swap_counter remap_swap_swap_ins_total)
      copied=$(swap_counter remap_swap_bytes_copied_total)
      echo -e "$1\tcounters\t$outs\t$ins\t$copied" >>"$work/counters.tsv"
      kill "$SERVER"; wait "$SERVER" 2>/dev/null || true ;;
    nbdkit-file)
      swap_file
      SOCK="$work/nbdkit.sock"
      rm -f "$SOCK"  # nbdkit leaves its socket behind when it is killed
      nbdkit --exit-with-parent -f -U "$SOCK" file "$shm/swap.raw" &
      SERVER=$!; PIDS+=("$SERVER")
      for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
      run_guest "$1" "file=nbd+unix:///?socket=$SOCK,format=raw,if=virtio,discard=unmap" "$SERVER"
      kill "$SERVER"; wait "$SERVER" 2>/dev/null || true ;;
    qemu-file)
      swap_file
      run_guest "$1" "file=$shm/swap.raw,format=raw,if=virtio,discard=unmap" 0 ;;
  esac
}

for rep in $(seq "$REPS"); do
  for target in $(printf '%s\n' $ONLY | shuf); do
    log "repetition $rep: $target"
    one "$target"
  done
done

python3 - "$RESULTS" "$work/counters.tsv" "$DATA" <<'PY'
import re, statistics, sys
rows, counters, data = sys.argv[1], sys.argv[2], int(sys.argv[3])
by = {}
for line in open(rows):
    target, bench, vm, server_io, qemu_io = line.rstrip("\n").split("\t")
    out_s = float(re.search(r"out_s=([0-9.]+)", bench).group(1))
    in_s = float(re.search(r"in_s=([0-9.]+)", bench).group(1))
    pout = int(re.search(r"pswpout (\d+)", vm).group(1))
    pin = int(re.search(r"pswpin (\d+)", vm).group(1))
    pages = max(1, pout + pin)
    by.setdefault(target, []).append((data / out_s, data / in_s, pout, pin, int(server_io) / 4096 / pages,
                                      int(qemu_io) / 4096 / pages))
copies = {}
try:
    for line in open(counters):
        t, _, outs, ins, copied = line.split("\t")
        copies.setdefault(t, []).append(int(copied) / 4096 / max(1, int(outs) + int(ins)))
except FileNotFoundError:
    pass
print("| target | swap-out MiB/s | swap-in MiB/s | pswpout | pswpin | pages through the server's syscalls per swapped page | pages through QEMU's syscalls per swapped page | engine copies per swapped page |")
print("|---|---|---|---|---|---|---|---|")
for t in ["remap", "remap-spill", "nbdkit-file", "qemu-file"]:
    if t not in by:
        continue
    r = by[t]
    med = lambda i: statistics.median(x[i] for x in r)
    eng = f"{statistics.median(copies[t]):.3f}" if t in copies else "n/a"
    print(f"| {t} | {med(0):.1f} | {med(1):.1f} | {med(2):.0f} | {med(3):.0f} | {med(4):.2f} | {med(5):.2f} | {eng} |")
PY
