#!/usr/bin/env bash
# Space benchmark of the segment cleaner (issue 13): what overwrites, trims and clones leave in
# the store once `remap serve` has cleaned and garbage collection has run, and what cleaning
# costs the clients. Prints markdown tables for docs/BENCHMARKS.md.
#
#   bench/cleaner.sh [--no-build] [--only "overwrite iops fstrim clones busy sequential s3"]
#                    [--iops-seconds 60] [--reps 2] [--seq-seconds 40] [--s3-size 256M] [--s3-writes 1G]
#
#   overwrite  1 GiB volume filled, 8 GiB of 4 KiB random overwrites (fio, nbd engine, QD32),
#              quiet until the cleaner settles, `remap gc --grace 0s`: segments/ bytes per live
#              byte, and segment bytes the server wrote (cleaning included) per client byte
#   iops       4 KiB random write IOPS for --iops-seconds, cleaning on vs off, each run from the
#              same copy of a volume made ~3x amplified with cleaning off; --reps pairs
#   fstrim     ext4 on the export as the CSI node attaches it (nbdfuse + reconnecting nbdkit +
#              loop device): 512 MiB of files written, deleted, fstrim; how much the store shrank
#   clones     10 clones of a snapshot of a filled 1 GiB volume, each writing 10% of it in
#              distinct 4 KiB blocks: segments/ bytes per (base + 10 x 10%)
#   busy       "overwrite" again, sampling the segments/ bytes every 4 s while fio writes (with
#              --collect-grace 0s, so that what the cleaner empties goes at once): the peak
#              stored/live while clients write, and how long after the writes it is back under 1.2
#   sequential 2 GiB volume, 1 MiB sequential writes QD8 at full speed for --seq-seconds (fio loops
#              over the volume), with the server's default collection (grace 5m): segments/
#              sampled every 2 s, peak and how long after the writes it is back under 1.2×; fio is
#              stopped if the disk gets under 12 GiB free (what the run is there to catch)
#   s3         "overwrite" smaller (--s3-size volume, --s3-writes of overwrites) against a real
#              s3proxy process (filesystem backend): the server's store requests by phase
#
# A served volume's stack, and so its cleaner, lives only while a client is connected: each
# measurement keeps one idle qemu-io connection open (as a VM or the CSI node's nbdkit would).
# "Settled" = the volume's cleaned, uploaded, stored, live and upload-backlog figures in /metrics
# unchanged for $SETTLE seconds (over two cleaner intervals). The amplification gauge counts
# emptied segments until a collection deletes them (--collect-grace 5m by default), so it is not
# the signal; the store is measured with `du -sb` of its segments/ folder after `remap gc`.
# Needs: a JDK, Maven (offline), fio (nbd engine), qemu-io, nbdfuse, nbdkit, losetup,
# mkfs.ext4, fstrim, curl (with --aws-sigv4), python3; root for the loop device and mount.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BUILD=1 ONLY="overwrite iops fstrim clones busy sequential s3" IOPS_SECONDS=60 REPS=2 SEQ_SECONDS=40
S3_SIZE=256M S3_WRITES=1G
while (($#)); do
  case $1 in
    --no-build) BUILD=0; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --iops-seconds) IOPS_SECONDS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --seq-seconds) SEQ_SECONDS=$2; shift 2 ;;
    --s3-size) S3_SIZE=$2; shift 2 ;;
    --s3-writes) S3_WRITES=$2; shift 2 ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "bench/cleaner.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
SETTLE=${SETTLE:-25}
GiB=$((1 << 30)) MiB=$((1 << 20))

if ((BUILD)); then
  (cd "$root" && mvn -B -q -o install -DskipTests -pl engine,csi-driver,cli -am)
fi
work=$(mktemp -d /tmp/remap-cleaner-bench.XXXXXX)
PIDS=() MOUNTS=() LOOPS=() FUSES=()
declare -A HOLD_SLEEP HOLD_QEMU
cleanup() {
  set +e
  for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && umount "$m" 2>/dev/null; done
  for l in "${LOOPS[@]:-}"; do [ -n "$l" ] && losetup -d "$l" 2>/dev/null; done
  for f in "${FUSES[@]:-}"; do [ -n "$f" ] && fusermount3 -u -z "$f" 2>/dev/null; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "bench/cleaner.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
log() { echo "bench/cleaner.sh: $*" >&2; }
log "work folder $work"

# --- the server and its metrics ---------------------------------------------------------------
STORE= JOURNAL= SOCK= MURL= SERVE_PID=
use_store() { STORE=$1 JOURNAL=$2; }  # URI JOURNAL_DIR
remap() { "$root/remap" "$@" --store "$STORE" --journal "$JOURNAL"; }
serve() { # NAME ARGS...: starts `remap serve` on the current store
  local name=$1 out="$work/$1.serve.log"; shift
  SOCK="$work/$name.sock"; : >"$out"
  "$root/remap" serve --store "$STORE" --journal "$JOURNAL" --socket "$SOCK" \
    --http-address 127.0.0.1:0 "$@" >"$out" 2>&1 &
  SERVE_PID=$!; PIDS+=("$SERVE_PID")
  for _ in $(seq 600); do grep -q "^serving " "$out" && break; sleep 0.1; done
  grep -q "^serving " "$out" || { cat "$out" >&2; return 1; }
  MURL=$(sed -n 's/^serving .*health and metrics on \(http:[^ ]*\).*/\1/p' "$out")
}
stop_serve() { kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; }  # SIGTERM: uploads journals
uri() { echo "nbd+unix:///$1?socket=$SOCK"; }
scrape() { curl -sf "$MURL/metrics" >"$work/metrics.txt"; }
sum() { # FORMAT NAME [LABEL]: the sum of the scraped samples of NAME whose labels contain LABEL
  awk -v f="$1\n" -v n="$2{" -v l="${3:-}" 'index($0, n) == 1 && index($0, l) { s += $NF } END { printf f, s }' \
    "$work/metrics.txt"
}
m() { sum %.0f "$@"; }
mf() { sum %.3f "$@"; }
vm() { m "$1" "volume=\"$2\""; }  # NAME VOLUME

# One idle client connection keeps a volume's stack open: qemu-io reading commands from a pipe
# that only a `sleep` writes to (no other process inherits it); killing the sleep ends qemu-io.
hold() {
  local v=$1 pidfile="$work/hold-$1.pid"
  { sleep 1000000 & echo $! >"$pidfile"; wait; } | qemu-io -f raw "$(uri "$v")" >"$work/hold-$v.log" 2>&1 &
  HOLD_QEMU[$v]=$!; PIDS+=("$!")
  for _ in $(seq 600); do [ -s "$pidfile" ] && break; sleep 0.05; done
  HOLD_SLEEP[$v]=$(cat "$pidfile"); PIDS+=("${HOLD_SLEEP[$v]}")
  for _ in $(seq 600); do scrape; [ "$(vm remap_cache_capacity_bytes "$v")" != 0 ] && return; sleep 0.1; done
  cat "$work/hold-$v.log" >&2; log "qemu-io did not open $v"; return 1
}
release() {
  local v=$1
  kill "${HOLD_SLEEP[$v]}" 2>/dev/null || true
  wait "${HOLD_QEMU[$v]}" 2>/dev/null || true
  unset "HOLD_SLEEP[$v]" "HOLD_QEMU[$v]"
}
closed() { # VOLUME: waits until the server closed the export's stack (its gauges read 0 then)
  for _ in $(seq 600); do scrape; [ "$(vm remap_cache_capacity_bytes "$1")" = 0 ] && return; sleep 0.2; done
  log "the stack of $1 did not close"; return 1
}

# Waits until the cleaner of every given volume has settled (see the header); prints the seconds.
settle() {
  local start=$SECONDS last= same=0 sig v
  while :; do
    scrape || return 1  # the server is gone (the script is being stopped)
    sig=$(m remap_store_requests_total 'kind="delete"')
    for v in "$@"; do
      sig+=" $(vm remap_volume_cleaned_bytes_total "$v") $(vm remap_uploaded_bytes_total "$v")"
      sig+=" $(vm remap_volume_stored_bytes "$v") $(vm remap_volume_live_bytes "$v") $(vm remap_upload_backlog_bytes "$v")"
    done
    if [ "$sig" = "$last" ]; then same=$((same + 2)); else same=0 last=$sig; fi
    ((same >= SETTLE)) && break
    if ((SECONDS - start > 600)); then log "not settled after 600 s: $sig"; break; fi
    sleep 2
  done
  # Reported, not waited for: before the uploader woke on a quiet volume's first new change, a
  # few small writes or trims stayed in the journal until 8 MiB more came, and waiting never ended.
  for v in "$@"; do
    local left; left=$(vm remap_upload_backlog_bytes "$v")
    ((left == 0)) || echo "$v: $left bytes of client writes were still only in the journal" \
      "when its figures had not moved for $SETTLE s" >>"$work/leftover.txt"
  done
  echo $((SECONDS - start - SETTLE))
}

fio_nbd() { # NAME URI FIO-ARGS...: prints "IOPS BYTES BYTES-PER-SECOND" of the job's writes
  local name=$1 target=$2; shift 2
  fio --name="$name" --ioengine=nbd --uri="$target" --output-format=json "$@" >"$work/fio-$name.json"
  # (the nbd engine prints a line before the JSON)
  python3 -c 'import json,sys; t=open(sys.argv[1]).read(); w=json.loads(t[t.index("{"):])["jobs"][0]["write"]
print(round(w["iops"]), w["io_bytes"], w["bw_bytes"])' "$work/fio-$name.json"
}
fill() { fio_nbd "fill-$1" "$(uri "$1")" --rw=write --bs=1M --iodepth=8 --size="$2" >/dev/null; }
overwrite() { # VOLUME SIZE AMOUNT: uniform random 4 KiB writes (blocks may repeat)
  fio_nbd "ow-$1" "$(uri "$1")" --rw=randwrite --bs=4k --iodepth=32 --size="$2" --io_size="$3" \
    --norandommap --randrepeat=0
}
segments_bytes() { du -sb "$1" | cut -f1; }  # the store's segments/ folder
# Segments and the journal files they link to (*.dat, large writes: docs/ARCHITECTURE.md) under a
# store folder, while a server writes and collects (segments may vanish while it walks).
seg_sum() { { find "$1/segments" \( -name '*.seg' -o -name '*.dat' \) -printf '%s\n' 2>/dev/null || true; } |
  awk '{ s += $1 } END { printf "%.0f\n", s }'; }
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**20:,.0f} MiB')" "$1"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
pct() { python3 -c "import sys; print(f'{100 * float(sys.argv[1]) / float(sys.argv[2]):.0f}%')" "$1" "$2"; }
meets() { # VALUE le|ge GOAL
  python3 -c "import sys; a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print('yes' if (a <= b if op == 'le' else a >= b) else '**no**')" "$@"
}
ROWS=() NOTES=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }  # MEASUREMENT VALUE GOAL MET
note() { NOTES+=("$*"); }
wants() { [[ " $ONLY " == *" $1 "* ]]; }

# --- overwrite: space and write amplification ---------------------------------------------------
if wants overwrite; then
  log "overwrite: 1 GiB volume, fill, 8 GiB of 4 KiB random overwrites"
  use_store "file://$work/ow-store" "$work/ow-journal"
  remap volume create ow --size 1G >/dev/null
  serve ow
  hold ow
  t0=$SECONDS
  fill ow 1G
  read -r iops _ < <(overwrite ow 1G "${OW_WRITES:-8G}")
  t_write=$((SECONDS - t0))
  scrape; cleaned_busy=$(vm remap_volume_cleaned_bytes_total ow)
  quiet=$(settle ow)
  scrape
  client=$(m remap_request_bytes_total 'kind="write",volume="ow"')
  uploaded=$(vm remap_uploaded_bytes_total ow) data=$(vm remap_uploaded_data_bytes_total ow)
  cleaned=$(vm remap_volume_cleaned_bytes_total ow) live=$(vm remap_volume_live_bytes ow)
  gauge=$(mf remap_volume_write_amplification 'volume="ow"')
  gc_out=$(remap gc --grace 0s)
  stored=$(segments_bytes "$work/ow-store/segments")
  release ow; stop_serve
  space=$(ratio "$stored" "$live") wa=$(ratio "$uploaded" "$client")
  what="1 GiB volume filled, ${OW_WRITES:-8G} of 4 KiB random overwrites (fio nbd QD32), quiet until settled,"
  row "$what \`remap gc --grace 0s\`: segments/ bytes per live byte" \
    "$space ($(mib "$stored") for $(mib "$live"))" "≤ 1.3" "$(meets "$space" le 1.3)"
  row "same: segment bytes the server wrote (cleaning included) per byte the client wrote" \
    "$wa ($(mib "$uploaded") for $(mib "$client"); server gauge, per client byte that reached segments: $gauge)" \
    "≤ 2.0" "$(meets "$wa" le 2.0)"
  note "overwrite: writes took ${t_write} s (overwrites at $iops IOPS); the cleaner copied $(mib "$cleaned_busy")" \
    "while clients wrote and $(mib $((cleaned - cleaned_busy))) in the ${quiet} s it took to settle after;" \
    "$(mib "$data") of client data reached segments (the rest was overwritten in the journal first); gc: $gc_out"
fi

# --- iops: 4 KiB random writes with cleaning on vs off ------------------------------------------
if wants iops; then
  log "iops: a 1 GiB volume made ~3x amplified with cleaning off"
  use_store "file://$work/io-store" "$work/io-journal"
  remap volume create io --size 1G >/dev/null
  serve io-prep --cleaning off
  hold io; fill io 1G; overwrite io 1G 2G >/dev/null; release io
  stop_serve
  cp -a "$work/io-store" "$work/io-store.start"; cp -a "$work/io-journal" "$work/io-journal.start"
  start_amp=$(ratio "$(segments_bytes "$work/io-store/segments")" "$GiB")
  declare -A IOPS=([on]="" [off]="")
  cleaned_on=0 uploaded_on=0 client_on=0
  for rep in $(seq "$REPS"); do
    for mode in off on; do
      rm -rf "$work/io-store" "$work/io-journal"
      cp -a "$work/io-store.start" "$work/io-store"; cp -a "$work/io-journal.start" "$work/io-journal"; sync
      serve "io-$mode-$rep" --cleaning "$mode"
      hold io
      sleep 12  # past the cleaner's first measurement (10 s after the stack opened): it is copying
      scrape; c0=$(vm remap_volume_cleaned_bytes_total io) u0=$(vm remap_uploaded_bytes_total io)
      read -r iops written _ < <(fio_nbd "io-$mode-$rep" "$(uri io)" --rw=randwrite --bs=4k --iodepth=32 \
        --size=1G --norandommap --randrepeat=0 --time_based --runtime="$IOPS_SECONDS")
      scrape; c1=$(vm remap_volume_cleaned_bytes_total io) u1=$(vm remap_uploaded_bytes_total io)
      IOPS[$mode]+="$iops "
      if [ "$mode" = on ]; then
        cleaned_on=$((cleaned_on + c1 - c0)) uploaded_on=$((uploaded_on + u1 - u0)) client_on=$((client_on + written))
      fi
      log "iops: cleaning $mode, rep $rep: $iops IOPS, cleaner copied $(mib $((c1 - c0)))"
      release io; stop_serve
    done
  done
  median() {
    tr ' ' '\n' <<<"$1" | grep . | sort -n |
      awk '{ a[NR] = $1 } END { printf "%d\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 + 0.5 }'
  }
  on=$(median "${IOPS[on]}") off=$(median "${IOPS[off]}")
  rel=$(ratio "$on" "$off")
  what="4 KiB random write IOPS (fio nbd QD32, ${IOPS_SECONDS} s) from a ${start_amp}× amplified 1 GiB volume:"
  row "$what cleaning on / off" \
    "${rel}× ($on / $off IOPS; the cleaner copied $(mib "$cleaned_on") meanwhile)" "≥ 0.8×" "$(meets "$rel" ge 0.8)"
  note "iops: runs on: ${IOPS[on]}off: ${IOPS[off]}(off first in each pair, each from the same copy of the store);" \
    "during the on-runs the server wrote $(mib "$uploaded_on") of segments for $(mib "$client_on") of client writes"
fi

# --- fstrim: a filesystem deletes files --------------------------------------------------------
if wants fstrim; then
  log "fstrim: ext4 through nbdfuse + loop device, 512 MiB of files written, deleted, trimmed"
  use_store "file://$work/fs-store" "$work/fs-journal"
  remap volume create fs --size 1G >/dev/null
  serve fs
  fuse="$work/fs-fuse" mnt="$work/fs-mnt"
  mkdir -p "$fuse" "$mnt"
  # As the CSI node does (LoopAttacher): nbdfuse over nbdkit's retry filter, a direct-I/O loop device.
  nbdfuse -P "$work/fs-fuse.pid" "$fuse/disk" [ nbdkit --exit-with-parent --filter=retry nbd \
    socket="$SOCK" export=fs retries=180 retry-delay=1 retry-exponential=no ] >"$work/nbdfuse.log" 2>&1 &
  PIDS+=($!); FUSES+=("$fuse")
  for _ in $(seq 300); do [ -s "$work/fs-fuse.pid" ] && break; sleep 0.1; done
  [ -s "$work/fs-fuse.pid" ] || { cat "$work/nbdfuse.log" >&2; exit 1; }
  dev=$(losetup --find --show --direct-io=on --sizelimit "$GiB" "$fuse/disk"); LOOPS+=("$dev")
  mkfs.ext4 -q -F -E nodiscard "$dev"
  mount "$dev" "$mnt"; MOUNTS+=("$mnt")
  for i in $(seq 8); do head -c 64M /dev/urandom >"$mnt/file$i"; done
  sync
  settle fs >/dev/null; remap gc --grace 0s >/dev/null
  before=$(segments_bytes "$work/fs-store/segments")
  rm "$mnt"/file*; sync
  trimmed=$(fstrim -v "$mnt")
  sync
  quiet=$(settle fs); scrape
  cleaned=$(vm remap_volume_cleaned_bytes_total fs) trims=$(m remap_request_bytes_total 'kind="trim",volume="fs"')
  journaled=$(vm remap_journal_bytes fs)
  remap gc --grace 0s >/dev/null
  after=$(segments_bytes "$work/fs-store/segments")
  umount "$mnt"; MOUNTS=(); losetup -d "$dev"; LOOPS=(); fusermount3 -u "$fuse"; FUSES=()
  # The last connection is gone: the stack closes and uploads its journal. Then a new connection
  # opens it again and its cleaner measures from what the store holds now.
  closed fs
  hold fs
  quiet2=$(settle fs); scrape; cleaned2=$(vm remap_volume_cleaned_bytes_total fs)
  remap gc --grace 0s >/dev/null
  reopened=$(segments_bytes "$work/fs-store/segments")
  release fs; stop_serve
  share=$(pct $((before - after)) $((512 * MiB))) share2=$(pct $((before - reopened)) $((512 * MiB)))
  what="ext4 on the export (nbdfuse + loop, as the CSI node attaches it) deletes 512 MiB of files,"
  row "$what \`fstrim\`, quiet, GC: the store shrank by" \
    "$share of 512 MiB ($(mib "$before") → $(mib "$after"))" "≥ 90%" "$(meets "${share%\%}" ge 90)"
  what="check: then unmounted and detached (the export's last connection closes and uploads its journal),"
  row "$what opened again, quiet, GC: nothing was left waiting in the journal if this equals the row above" \
    "$share2 of 512 MiB (→ $(mib "$reopened"))" "" ""
  note "fstrim: ${trimmed#*: }; the server received $(mib "$trims") of trims; when the figures had stopped moving" \
    "(${quiet} s after the trim, then ${SETTLE} s unchanged) the cleaner had copied $(mib "$cleaned") in all and the" \
    "journal still held $journaled bytes; after the reopening it copied $(mib $((cleaned2 - cleaned))) more and" \
    "settled in ${quiet2} s"
fi

# --- clones: 10 clones of one base, 10% each ---------------------------------------------------
if wants clones; then
  log "clones: 10 clones of a 1 GiB base, 10% of each rewritten"
  use_store "file://$work/cl-store" "$work/cl-journal"
  remap volume create base --size 1G >/dev/null
  serve cl
  hold base; fill base 1G; release base; closed base  # the last connection closed: journal uploaded
  remap snapshot create base s >/dev/null
  clones=()
  for i in $(seq 10); do remap volume clone base@s "clone$i" >/dev/null; clones+=("clone$i"); done
  tenth=$(((GiB / 10) / 4096 * 4096))
  for c in "${clones[@]}"; do hold "$c"; done
  for c in "${clones[@]}"; do  # fio's random map: each block once, so exactly 10% is rewritten
    fio_nbd "$c" "$(uri "$c")" --rw=randwrite --bs=4k --iodepth=32 --size=1G --io_size="$tenth" >/dev/null
  done
  quiet=$(settle "${clones[@]}")
  scrape; cleaned=$(m remap_volume_cleaned_bytes_total)
  remap gc --grace 0s >/dev/null
  for c in "${clones[@]}"; do release "$c"; done
  stop_serve
  stored=$(segments_bytes "$work/cl-store/segments") expect=$((GiB + 10 * tenth))
  rel=$(ratio "$stored" "$expect")
  what="10 clones of a snapshot of a filled 1 GiB volume, each rewriting 10% in 4 KiB random writes, quiet, GC:"
  row "$what segments/ bytes per (base + 10 × 10%)" \
    "${rel}× ($(mib "$stored") for $(mib "$expect"))" "≤ 1.3×" "$(meets "$rel" le 1.3)"
  note "clones: the cleaners copied $(mib "$cleaned");" \
    "checkpoints/ held $(mib "$(segments_bytes "$work/cl-store/checkpoints")") besides"
fi

# --- busy: stored/live while clients write ------------------------------------------------------
if wants busy; then
  log "busy: 1 GiB volume, fill, 8 GiB of 4 KiB random overwrites, segments/ sampled meanwhile"
  use_store "file://$work/busy-store" "$work/busy-journal"
  remap volume create busy --size 1G >/dev/null
  serve busy --collect-grace 0s
  hold busy; fill busy 1G
  overwrite busy 1G "${OW_WRITES:-8G}" >"$work/busy-fio.txt" &
  writer=$! peak=0 over=0 samples=0 t0=$SECONDS
  while kill -0 "$writer" 2>/dev/null; do
    b=$(seg_sum "$work/busy-store") samples=$((samples + 1))
    ((b > peak)) && peak=$b
    ((b * 10 > GiB * 16)) && over=$((over + 1))
    sleep 4
  done
  wait "$writer"; t_write=$((SECONDS - t0)) t1=$SECONDS
  until (($(seg_sum "$work/busy-store") * 10 <= GiB * 12)) || ((SECONDS - t1 > 600)); do sleep 1; done
  back=$((SECONDS - t1))
  quiet=$(settle busy); final=$(seg_sum "$work/busy-store")
  release busy; stop_serve
  what="while fio writes ${OW_WRITES:-8G} of 4 KiB random overwrites to a filled 1 GiB volume ($t_write s; --collect-grace 0s):"
  row "$what peak segments/ bytes per live byte, sampled every 4 s" \
    "$(ratio "$peak" "$GiB") ($(mib "$peak")); over 1.6 in $over of $samples samples; under 1.2 again $back s after the writes" \
    "(the busy bound: 1.6)" ""
  note "busy: when settled (${quiet} s after that) segments/ held $(mib "$final"): $(ratio "$final" "$GiB")×"
fi

# --- sequential: space while a volume is overwritten at full speed --------------------------------
if wants sequential; then
  log "sequential: 2 GiB volume, 1 MiB sequential writes for $SEQ_SECONDS s, segments/ sampled meanwhile"
  use_store "file://$work/seq-store" "$work/seq-journal"
  remap volume create seq --size 2G >/dev/null
  serve seq  # the default collection: grace 5m
  hold seq
  fio_nbd seq "$(uri seq)" --rw=write --bs=1M --iodepth=8 --time_based --runtime="$SEQ_SECONDS" \
    >"$work/seq-fio.txt" &
  writer=$! peak=0 samples=0 stopped=""
  while kill -0 "$writer" 2>/dev/null; do
    b=$(seg_sum "$work/seq-store") samples=$((samples + 1))
    ((b > peak)) && peak=$b
    if (($(df -B1 --output=avail "$work" | tail -1) < 12 * GiB)); then
      stopped="; fio stopped at $((samples * 2)) s, the disk under 12 GiB free"; pkill -P "$writer" -x fio
    fi
    sleep 2
  done
  wait "$writer" || true; t1=$SECONDS
  until (($(seg_sum "$work/seq-store") * 10 <= 2 * GiB * 12)) || ((SECONDS - t1 > 600)); do sleep 1; done
  back=$((SECONDS - t1))
  read -r _ bytes rate <"$work/seq-fio.txt"
  written="$(python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**30:.1f}')" "$bytes") GiB at $(mib "$rate")/s"
  release seq; stop_serve
  row "1 MiB sequential writes QD8 to a 2 GiB volume for $SEQ_SECONDS s ($written$stopped; default --collect-grace 5m): peak segments/ bytes per live byte, sampled every 2 s" \
    "$(ratio "$peak" $((2 * GiB))) ($(mib "$peak")); under 1.2 again $back s after the writes" "" ""
fi

# --- s3: the overwrite measurement against a real S3 server ----------------------------------
S3ROWS=()
if wants s3; then
  log "s3: $S3_SIZE volume on s3proxy, fill, $S3_WRITES of 4 KiB random overwrites"
  jar="$root/engine/target/s3proxy/s3proxy.jar"
  [ -f "$jar" ] || { log "$jar is missing: build the engine module"; exit 2; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export AWS_ACCESS_KEY_ID=remap-bench-access AWS_SECRET_ACCESS_KEY=remap-bench-secret
  mkdir -p "$work/s3/data"
  cat >"$work/s3/s3proxy.properties" <<EOF
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.identity=$AWS_ACCESS_KEY_ID
jclouds.credential=$AWS_SECRET_ACCESS_KEY
jclouds.filesystem.basedir=$work/s3/data
EOF
  java -Xmx512m -XX:+UseSerialGC -jar "$jar" --properties "$work/s3/s3proxy.properties" >"$work/s3proxy.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 600); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" != 000 ] && break; sleep 0.1; done
  # The bucket (s3proxy wants the hash of the empty body, which curl leaves out).
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT \
    -H "x-amz-content-sha256: $(sha256sum </dev/null | cut -d' ' -f1)" "http://127.0.0.1:$port/remap-bench" >/dev/null
  use_store "s3://remap-bench/cleaner?endpoint=http://127.0.0.1:$port&region=us-east-1&pathStyle=true" "$work/s3-journal"
  remap volume create s3v --size "$S3_SIZE" >/dev/null
  # --collect-grace 0s: the server's own collection (a few seconds after a cleaner emptied segments)
  # deletes them, so that its requests are in the server's metrics.
  serve s3 --collect-grace 0s
  hold s3v
  counts() { # store requests: put get list delete head; client write bytes, cleaned bytes, segments
    scrape
    local k
    for k in put get list delete head; do printf '%s ' "$(m remap_store_requests_total "kind=\"$k\"")"; done
    printf '%s %s %s\n' "$(m remap_request_bytes_total 'kind="write",volume="s3v"')" \
      "$(vm remap_volume_cleaned_bytes_total s3v)" "$(vm remap_segments_uploaded_total s3v)"
  }
  wait_uploaded() {
    for _ in $(seq 1200); do scrape; [ "$(vm remap_upload_backlog_bytes s3v)" = 0 ] && return; sleep 0.5; done
  }
  read -ra c0 < <(counts)
  t0=$SECONDS; fill s3v "$S3_SIZE"; wait_uploaded; t_fill=$((SECONDS - t0))
  read -ra c1 < <(counts)
  t0=$SECONDS; read -r iops _ < <(overwrite s3v "$S3_SIZE" "$S3_WRITES"); wait_uploaded; t_ow=$((SECONDS - t0))
  read -ra c2 < <(counts)
  quiet=$(settle s3v)
  read -ra c3 < <(counts)
  scrape; uploaded=$(vm remap_uploaded_bytes_total s3v) live=$(vm remap_volume_live_bytes s3v)
  gc_out=$(remap gc --grace 0s)
  release s3v; stop_serve
  stored=$(segments_bytes "$work/s3/data/remap-bench/cleaner/segments")
  client=${c3[5]}
  s3row() { # LABEL FROM TO
    local -n a=$2 b=$3
    local r="| $1 | $(mib $((b[5] - a[5]))) | $(mib $((b[6] - a[6]))) | $((b[7] - a[7])) |" i
    for i in 0 1 2 3 4; do r+=" $((b[i] - a[i])) |"; done
    S3ROWS+=("$r")
  }
  s3row "fill ($S3_SIZE sequential 1 MiB writes, ${t_fill} s)" c0 c1
  s3row "overwrites ($S3_WRITES of 4 KiB random writes at $iops IOPS, uploads included, ${t_ow} s)" c1 c2
  what="quiet: cleaning to the target and the server's collections"
  s3row "$what (settled after ${quiet} s, then ${SETTLE} s unchanged)" c2 c3
  s3row "all" c0 c3
  s3space=$(ratio "$stored" "$live") s3wa=$(ratio "$uploaded" "$client")
  note "s3: after \`remap gc --grace 0s\` ($gc_out) segments/ holds $(mib "$stored") for $(mib "$live") live:" \
    "${s3space}×; the server wrote $(mib "$uploaded") of segments for $(mib "$client") of client writes: ${s3wa}×"
fi

echo
echo "| measurement | value | goal | met? |"
echo "|---|---|---|---|"
for r in "${ROWS[@]:-}"; do [ -n "$r" ] && echo "$r"; done
if ((${#S3ROWS[@]})); then
  echo
  echo "| s3: phase | client writes | cleaner copied | segments uploaded | PUT | GET | LIST | DELETE | HEAD |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${S3ROWS[@]}"; do echo "$r"; done
fi
echo
for n in "${NOTES[@]:-}"; do [ -n "$n" ] && echo "- $n"; done
if [ -s "$work/leftover.txt" ]; then
  echo "- journal: not uploaded when a volume had settled:"; sed 's/^/  - /' "$work/leftover.txt"
fi
