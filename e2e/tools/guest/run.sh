#!/usr/bin/env bash
# Boots the Remap test guest under QEMU (TCG), runs SCRIPT in it with /bin/sh, exits with the
# script's exit code.
#
# usage: run.sh [options] SCRIPT|- [-- EXTRA_QEMU_ARGS...]
#   SCRIPT          shell script to run in the guest ("-" reads it from stdin)
#   --timeout SEC   kill QEMU and fail after SEC seconds (default 120)
#   --log FILE      write the serial console log to FILE (default: a temp file, deleted on
#                   success, kept and named on failure)
#   --net           add user networking with a virtio NIC (guest eth0 = 10.0.2.15/24,
#                   gateway and host's 127.0.0.1 = 10.0.2.2)
#   --memory MB     guest memory (default 256)
#   --add FILE      also put FILE into the guest's /script directory (repeatable)
#   --append ARGS   extra kernel command line arguments
#   --host-root     share the host's / with the guest (virtiofs, tag "hostroot"); mount it only
#                   as an overlay's lower layer (TestGuest.withHostRoot does), so that the
#                   guest's writes stay in guest memory
#   --inline        pass the script on the kernel command line instead of a script disk
#                   (small scripts only; no --add)
#   --guest-dir DIR build outputs (default $REMAP_CACHE/guest; built on demand with build.sh)
#   -q, --quiet     do not copy the console to stdout while the guest runs
#   EXTRA_QEMU_ARGS are appended to the QEMU command line, e.g.
#     -drive file=disk.raw,format=raw,if=virtio
#     -drive file=nbd+unix:///vol?socket=/tmp/x.sock,format=raw,if=virtio
#
# Exit status: the script's exit code, from the guest's "REMAP-GUEST-RESULT rc=N" line.
#   124  timeout (no result within --timeout)
#   125  the guest never reported a result (QEMU failed to start, kernel panic, init died)
#   126  run.sh usage or setup error (bad option, missing script, build failed)
# Runner messages go to stderr, prefixed "run.sh:".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
GUEST_DIR=${REMAP_GUEST_DIR:-$REMAP_CACHE/guest}
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=120
MEMORY=256
LOG=
NET=0
QUIET=0
INLINE=0
HOST_ROOT=0
APPEND=
ADD=()

msg() { echo "run.sh: $*" >&2; }
usage_error() { msg "$*"; msg "usage: run.sh [--timeout SEC] [--log FILE] [--net] [--memory MB] [--add FILE] [--append ARGS] [--inline] [--guest-dir DIR] [-q] SCRIPT|- [-- QEMU_ARGS...]"; exit 126; }
need_arg() { [ $# -ge 2 ] || usage_error "option $1 needs an argument"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --log) need_arg "$@"; LOG=$2; shift 2 ;;
        --log=*) LOG=${1#*=}; shift ;;
        --net) NET=1; shift ;;
        --memory|-m) need_arg "$@"; MEMORY=$2; shift 2 ;;
        --memory=*) MEMORY=${1#*=}; shift ;;
        --add) need_arg "$@"; ADD+=("$2"); shift 2 ;;
        --add=*) ADD+=("${1#*=}"); shift ;;
        --append) need_arg "$@"; APPEND="$APPEND $2"; shift 2 ;;
        --append=*) APPEND="$APPEND ${1#*=}"; shift ;;
        --inline) INLINE=1; shift ;;
        --host-root) HOST_ROOT=1; shift ;;
        --guest-dir) need_arg "$@"; GUEST_DIR=$2; shift 2 ;;
        --guest-dir=*) GUEST_DIR=${1#*=}; shift ;;
        -q|--quiet) QUIET=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --) usage_error "SCRIPT is missing before --" ;;
        -) break ;;
        -*) usage_error "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage_error "SCRIPT is missing"
SCRIPT=$1; shift
if [ $# -gt 0 ]; then
    [ "$1" = "--" ] || usage_error "unexpected argument '$1' (QEMU arguments go after --)"
    shift
fi
QEMU_EXTRA=("$@")

[[ "$TIMEOUT" =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -gt 0 ] || usage_error "--timeout must be a positive number of seconds"
[[ "$MEMORY" =~ ^[0-9]+$ ]] && [ "$MEMORY" -ge 64 ] || usage_error "--memory must be a number of MiB >= 64"
command -v "$QEMU" >/dev/null 2>&1 || { msg "$QEMU not found (apt-get install qemu-system-x86)"; exit 126; }
[ "$INLINE" = 0 ] || [ ${#ADD[@]} = 0 ] || usage_error "--add needs the script disk; it cannot be combined with --inline"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/remap-guest.XXXXXX")
QPID=
TPID=
VPID=
KEEP_LOG=0      # set on failure: keep a default (temp) log as ${WORK}.log
DEFAULT_LOG=0
cleanup() {
    local rc=$?
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
    [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null || true
    [ -n "$VPID" ] && kill "$VPID" 2>/dev/null && wait "$VPID" 2>/dev/null || true
    if [ "$KEEP_LOG" = 1 ] && [ "$DEFAULT_LOG" = 1 ]; then
        mv "$WORK/console.log" "${WORK}.log" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    return $rc
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT
trap 'msg "terminated"; exit 143' TERM HUP

# ---- script ---------------------------------------------------------------------------------
mkdir -p "$WORK/disk"
if [ "$SCRIPT" = - ]; then
    cat > "$WORK/disk/script.sh"
else
    [ -f "$SCRIPT" ] && [ -r "$SCRIPT" ] || { msg "script '$SCRIPT' not found or not readable"; exit 126; }
    cp "$SCRIPT" "$WORK/disk/script.sh"
fi
for f in ${ADD[@]+"${ADD[@]}"}; do
    [ -e "$f" ] || { msg "--add $f: no such file"; exit 126; }
    [ "$(basename "$f")" != script.sh ] || { msg "--add $f: the name script.sh is reserved"; exit 126; }
    cp -r "$f" "$WORK/disk/"
done

# ---- guest build ----------------------------------------------------------------------------
SRC_HASH=$(cat "$HERE/init" "$HERE/build.sh" | sha256sum | cut -c1-16)
if ! [ -s "$GUEST_DIR/vmlinuz" ] || ! [ -s "$GUEST_DIR/initramfs.cpio.gz" ] \
   || ! grep -qx "src=$SRC_HASH" "$GUEST_DIR/stamp" 2>/dev/null; then
    msg "guest in $GUEST_DIR missing or stale, running build.sh"
    "$HERE/build.sh" --quiet "$GUEST_DIR" >&2 || { msg "build.sh failed"; exit 126; }
fi

# ---- QEMU command line ----------------------------------------------------------------------
if [ -z "$LOG" ]; then LOG=$WORK/console.log; DEFAULT_LOG=1; fi
: > "$LOG" || { msg "cannot write log $LOG"; exit 126; }
LOG=$(cd "$(dirname "$LOG")" && pwd)/$(basename "$LOG")

RUN_ID=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
CMDLINE="console=ttyS0 quiet panic=-1 remap.id=$RUN_ID$APPEND"
# sercon-port=0 keeps SeaBIOS's banner and escape sequences off the serial console
ARGS=(-accel tcg -m "$MEMORY" -nographic -nodefaults -no-reboot
      -fw_cfg name=etc/sercon-port,string=0
      -kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initramfs.cpio.gz"
      -chardev "file,id=remapcon,path=${LOG//,/,,}" -serial chardev:remapcon -monitor none)
if [ "$INLINE" = 1 ]; then
    B64=$(base64 -w0 < "$WORK/disk/script.sh")
    [ ${#B64} -le 1500 ] || { msg "--inline: script too long for the kernel command line (${#B64} base64 chars > 1500); use the script disk"; exit 126; }
    CMDLINE="$CMDLINE remap.script=$B64"
else
    # The script disk: a raw tar archive on a read-only virtio disk with serial "remap-script".
    # It sits in PCI slot 0x1f, so it is enumerated after every test disk (it is the last /dev/vd*).
    ( cd "$WORK/disk" && tar --format=gnu --owner=0 --group=0 -cf "$WORK/script.tar" . )
    ARGS+=(-drive "file=${WORK//,/,,}/script.tar,format=raw,if=none,id=remapscript,readonly=on"
           -device virtio-blk-pci,drive=remapscript,serial=remap-script,addr=0x1f)
fi
if [ "$NET" = 1 ]; then
    ARGS+=(-netdev user,id=remapnet -device virtio-net-pci,netdev=remapnet,addr=0x1e)
fi
if [ "$HOST_ROOT" = 1 ]; then
    # virtiofsd (QEMU's, from qemu-system-common) serves / read-write; the guest mounts it only
    # as the lower layer of an overlay (host_root in /init), so nothing it does reaches the host.
    VIRTIOFSD=
    for v in /usr/lib/qemu/virtiofsd /usr/libexec/virtiofsd; do [ -x "$v" ] && { VIRTIOFSD=$v; break; }; done
    [ -n "$VIRTIOFSD" ] || { msg "--host-root: virtiofsd not found (apt-get install qemu-system-common)"; exit 126; }
    "$VIRTIOFSD" --socket-path="$WORK/virtiofs.sock" -o source=/ -o cache=auto -o sandbox=chroot \
        >"$WORK/virtiofsd.log" 2>&1 &
    VPID=$!
    for _ in $(seq 100); do [ -S "$WORK/virtiofs.sock" ] && break; sleep 0.05; done
    [ -S "$WORK/virtiofs.sock" ] || { msg "--host-root: virtiofsd did not start: $(cat "$WORK/virtiofsd.log")"; exit 126; }
    ARGS+=(-chardev "socket,id=remaproot,path=${WORK//,/,,}/virtiofs.sock"
           -device vhost-user-fs-pci,chardev=remaproot,tag=hostroot
           -object "memory-backend-memfd,id=remapmem,size=${MEMORY}M,share=on" -numa node,memdev=remapmem)
fi
ARGS+=(-append "$CMDLINE")
ARGS+=(${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"})

# ---- run ------------------------------------------------------------------------------------
START=$(date +%s.%N)
"$QEMU" "${ARGS[@]}" </dev/null >"$WORK/qemu.out" 2>&1 &
QPID=$!
if [ "$QUIET" = 0 ]; then
    tail -s 0.1 -n +1 -F --pid="$QPID" "$LOG" 2>/dev/null &
    TPID=$!
fi
TIMED_OUT=0
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
DEADLINE=$(( $(now_ms) + TIMEOUT * 1000 ))
while kill -0 "$QPID" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$DEADLINE" ]; then
        TIMED_OUT=1
        kill "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$QPID" 2>/dev/null || true
        break
    fi
    sleep 0.1
done
QRC=0
wait "$QPID" 2>/dev/null || QRC=$?
QPID=
if [ -n "$TPID" ]; then wait "$TPID" 2>/dev/null || true; TPID=; fi
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

RESULT=$(tr -d '\r' < "$LOG" | grep -a -o "REMAP-GUEST-RESULT rc=[0-9]* id=$RUN_ID\$" | tail -n1 || true)
fail() {
    # $1 = exit code, $2 = message
    if [ "$DEFAULT_LOG" = 1 ]; then KEEP_LOG=1; SHOWN_LOG=${WORK}.log; else SHOWN_LOG=$LOG; fi
    msg "$2 after ${ELAPSED}s"
    grep -v 'fw_cfg item names should be prefixed' "$WORK/qemu.out" > "$WORK/qemu.msg" || true
    if [ -s "$WORK/qemu.msg" ]; then msg "QEMU said:"; sed 's/^/    /' "$WORK/qemu.msg" >&2; fi
    msg "last lines of the console log ($SHOWN_LOG):"
    tr -d '\r' < "$LOG" | tail -n 25 | sed 's/^/    /' >&2
    exit "$1"
}
if [ -n "$RESULT" ]; then
    RC=${RESULT#REMAP-GUEST-RESULT rc=}; RC=${RC%% *}
    [ "$TIMED_OUT" = 0 ] || msg "warning: the guest reported a result but QEMU did not exit; killed it"
    msg "guest script exited rc=$RC (boot to poweroff ${ELAPSED}s)"
    exit "$RC"
fi
if [ "$TIMED_OUT" = 1 ]; then
    fail 124 "timeout: no result from the guest within ${TIMEOUT}s, QEMU killed"
fi
if tr -d '\r' < "$LOG" | grep -aq '^REMAP-GUEST-NOSCRIPT'; then
    fail 125 "the guest found no script"
fi
fail 125 "the guest never reported a result (QEMU exit status $QRC)"
