#!/usr/bin/env bash
# Self-test of the test guest: build, exit codes, raw/ext4/vfat disks, NBD via QEMU's client
# and via the guest kernel's nbd client (needs nbdkit on the host). Prints PASS/FAIL lines;
# exits non-zero if anything failed.   usage: selftest.sh [--keep]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN=$HERE/run.sh
KEEP=0; [ "${1:-}" = --keep ] && KEEP=1
T=$(mktemp -d "${TMPDIR:-/tmp}/remap-guest-selftest.XXXXXX")
PIDS=()
cleanup() {
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
FAILED=0
pass() { echo "PASS $*"; }
failed() { echo "FAIL $*"; FAILED=1; }
run() { "$RUN" -q "$@" 2>>"$T/run.err"; }   # console goes to --log files

"$HERE/build.sh"

# 1. exit codes + output
printf 'echo hello\nexit 0\n' > "$T/ok.sh"
if run --log "$T/ok.log" "$T/ok.sh" && tr -d '\r' < "$T/ok.log" | grep -qx hello \
   && grep -aq 'REMAP-GUEST-RESULT rc=0' "$T/ok.log"; then pass "hello, rc=0"; else failed "hello"; fi
printf 'exit 3\n' > "$T/three.sh"
rc=0; run "$T/three.sh" || rc=$?
[ "$rc" = 3 ] && pass "exit 3 -> run.sh rc=3" || failed "exit 3 -> rc=$rc"
printf 'echo REMAP-GUEST-RESULT rc=0\nsleep 600\n' > "$T/hang.sh"
rc=0; run --timeout 15 --log "$T/hang.log" "$T/hang.sh" || rc=$?
[ "$rc" = 124 ] && pass "hanging script (printing a fake result) -> rc=124" || failed "hang -> rc=$rc"

# 2. raw disks: read a host pattern, write one the host checks; ext4 made by host and by guest; vfat
dd if=/dev/urandom of="$T/pattern.raw" bs=1M count=8 status=none
SUM=$(md5sum < "$T/pattern.raw" | cut -d' ' -f1)
truncate -s 8M "$T/out.raw"
head -c 1M /dev/urandom > "$T/wpat.bin"; WSUM=$(md5sum < "$T/wpat.bin" | cut -d' ' -f1)
mkdir -p "$T/tree"; echo host-ext4 > "$T/tree/h.txt"
truncate -s 32M "$T/ext4h.raw"; mke2fs -q -t ext4 -d "$T/tree" "$T/ext4h.raw"
truncate -s 32M "$T/ext4g.raw"
truncate -s 8M "$T/vfat.raw"; mkfs.vfat "$T/vfat.raw" >/dev/null
echo host-vfat > "$T/v.txt"; mcopy -i "$T/vfat.raw" "$T/v.txt" ::/v.txt
cat > "$T/disks.sh" <<EOF
set -e
[ "\$(dd if=/dev/vda bs=1M status=none | md5sum | cut -d' ' -f1)" = $SUM ]
dd if=/script/wpat.bin of=/dev/vdb bs=1M conv=fsync status=none
mkdir -p /mnt/h /mnt/g /mnt/v
mount /dev/vdc /mnt/h; grep -qx host-ext4 /mnt/h/h.txt; umount /mnt/h
mkfs.ext4 -q -F /dev/vdd; mount /dev/vdd /mnt/g; echo guest-ext4 > /mnt/g/g.txt
mount -t vfat /dev/vde /mnt/v; grep -qx host-vfat /mnt/v/v.txt
echo disks-ok
EOF
if run --log "$T/disks.log" --add "$T/wpat.bin" "$T/disks.sh" -- \
     -drive file="$T/pattern.raw",format=raw,if=virtio,readonly=on \
     -drive file="$T/out.raw",format=raw,if=virtio \
     -drive file="$T/ext4h.raw",format=raw,if=virtio \
     -drive file="$T/ext4g.raw",format=raw,if=virtio \
     -drive file="$T/vfat.raw",format=raw,if=virtio; then
    pass "guest read pattern, mounted host ext4 + vfat, ran mkfs.ext4"
    [ "$(head -c 1M "$T/out.raw" | md5sum | cut -d' ' -f1)" = "$WSUM" ] \
        && pass "host sees the pattern the guest wrote" || failed "pattern written by guest"
    e2fsck -fn "$T/ext4g.raw" >/dev/null 2>&1 && [ "$(debugfs -R 'cat /g.txt' "$T/ext4g.raw" 2>/dev/null)" = guest-ext4 ] \
        && pass "guest-made ext4 (left mounted) is clean on the host" || failed "guest-made ext4"
else failed "disks (see $T/disks.log)"; fi

# 3. NBD
if command -v nbdkit >/dev/null 2>&1; then
    nbdkit -f -U "$T/nbd.sock" file "$T/pattern.raw" & PIDS+=($!)
    PORT=$((20000 + RANDOM % 10000))
    nbdkit -f -p "$PORT" -i 127.0.0.1 file "$T/pattern.raw" & PIDS+=($!)
    for _ in $(seq 50); do [ -S "$T/nbd.sock" ] && break; sleep 0.1; done
    printf '[ "$(dd if=/dev/vda bs=1M status=none | md5sum | cut -d" " -f1)" = %s ]\n' "$SUM" > "$T/nbd1.sh"
    run --log "$T/nbd1.log" "$T/nbd1.sh" -- -drive "file=nbd+unix:///?socket=$T/nbd.sock,format=raw,if=virtio" \
        && pass "QEMU NBD client (unix socket) disk reads the pattern" || failed "QEMU NBD disk (see $T/nbd1.log)"
    cat > "$T/nbd2.sh" <<EOF
set -e
modprobe nbd
nbd-client -N vol 10.0.2.2 $PORT /dev/nbd0 -b 4096
[ "\$(dd if=/dev/nbd0 bs=1M status=none | md5sum | cut -d' ' -f1)" = $SUM ]
nbd-client -d /dev/nbd0
EOF
    run --net --log "$T/nbd2.log" "$T/nbd2.sh" \
        && pass "guest kernel nbd-client over user networking reads the pattern" || failed "kernel NBD (see $T/nbd2.log)"
else
    echo "SKIP NBD tests: nbdkit not installed"
fi

[ ! -s "$T/run.err" ] || { echo "--- run.sh messages:"; cat "$T/run.err"; }
[ "$FAILED" = 0 ] && echo "selftest: all passed" || { echo "selftest: FAILED"; KEEP=1; }
exit "$FAILED"
