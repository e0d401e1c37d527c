#!/usr/bin/env bash
# A "VM stand-in": boots the test guest with DISK as its virtio disk, the way KubeVirt's
# virt-launcher gives a PVC to a VM, runs a guest script and exits with the script's status.
# It is the entrypoint of the test image localhost/remap-vm-standin (images/build.sh), where it
# is /usr/local/bin/vm-standin; it also runs on a host that has run.sh's requirements.
#
# usage: vm-standin.sh [--timeout SEC] [--memory MB] DISK [SCRIPT|-]
#   DISK    a block device (a Block PVC's volumeDevices devicePath, e.g. /dev/xvda), or a file:
#           disk.img at the root of a Filesystem PVC. A missing file is created sparse, as
#           KubeVirt does, sized to the free space of its file system less KubeVirt's default
#           5.5 % file system overhead (rounded down to MiB), or to $DISK_SIZE (truncate sizes).
#   SCRIPT  the guest script (busybox sh, as root); default: the text of $GUEST_SCRIPT
#   --timeout SEC  give up after SEC seconds (default $GUEST_TIMEOUT, else 600)
#   --memory MB    guest memory (default $GUEST_MEMORY, else 256)
#
# QEMU gets the disk as KubeVirt's default virtio disk, with a serial so that the guest finds
# it as /dev/disk/by-id/virtio-vmdisk (it is also /dev/vda):
#   -drive file=DISK,format=raw,if=none,id=vmdisk,cache=none,aio=threads
#   -device virtio-blk-pci,drive=vmdisk,serial=vmdisk
# cache=none needs O_DIRECT; where the file system has none (tmpfs), KubeVirt falls back to
# writethrough, and so does this. A read-only device or file is attached with readonly=on.
#
# The script reaches the guest the way run.sh always passes it (a tar archive on a read-only
# virtio disk that the guest's /init unpacks); run.sh also boots QEMU under TCG and reads the
# guest's nonce-protected REMAP-GUEST-RESULT line. The console goes to stdout (the pod's log).
# The last line printed is "GUEST-EXIT <code>", and that code is the exit status: the script's
# exit code, or run.sh's 124 (timeout), 125 (no result from the guest), 126 (setup error).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TIMEOUT=${GUEST_TIMEOUT:-600}
MEMORY=${GUEST_MEMORY:-256}
FS_OVERHEAD_PERMILLE=55   # KubeVirt's default filesystem overhead: 5.5 %

# run.sh derives its cache folder from HOME, which a container runtime may leave unset.
export HOME=${HOME:-/root}

msg() { echo "vm-standin: $*" >&2; }
finish() { echo "GUEST-EXIT $1"; exit "$1"; }
setup_error() { msg "$*"; finish 126; }

while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) [ $# -ge 2 ] || setup_error "--timeout needs a value"; TIMEOUT=$2; shift 2 ;;
        --memory) [ $# -ge 2 ] || setup_error "--memory needs a value"; MEMORY=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --) shift; break ;;
        -?*) setup_error "unknown option $1 (usage: vm-standin [--timeout SEC] [--memory MB] DISK [SCRIPT|-])" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] && [ $# -le 2 ] || setup_error "usage: vm-standin [--timeout SEC] [--memory MB] DISK [SCRIPT|-]"
DISK=$1
SCRIPT=${2:-}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vm-standin.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -z "$SCRIPT" ]; then
    [ -n "${GUEST_SCRIPT:-}" ] || setup_error "no guest script: pass a SCRIPT file or set GUEST_SCRIPT"
    printf '%s\n' "$GUEST_SCRIPT" > "$WORK/script.sh"
    SCRIPT=$WORK/script.sh
elif [ "$SCRIPT" != - ]; then
    [ -f "$SCRIPT" ] && [ -r "$SCRIPT" ] || setup_error "script $SCRIPT: not found or not readable"
fi

# ---- the disk ---------------------------------------------------------------------------------
if [ -b "$DISK" ]; then
    KIND="block device"
elif [ -f "$DISK" ]; then
    KIND="file"
elif [ -e "$DISK" ]; then
    setup_error "$DISK is neither a block device nor a regular file"
else
    DIR=$(dirname "$DISK")
    [ -d "$DIR" ] || setup_error "$DISK does not exist and neither does its folder $DIR (is the PVC mounted there?)"
    if [ -n "${DISK_SIZE:-}" ]; then
        SIZE=$DISK_SIZE
    else
        # statfs: blocks available to unprivileged users (KubeVirt looks at the same figure)
        read -r AVAIL BSIZE <<<"$(stat -f -c '%a %S' "$DIR")"
        SIZE=$(( AVAIL * BSIZE * (1000 - FS_OVERHEAD_PERMILLE) / 1000 / 1048576 * 1048576 ))
        [ "$SIZE" -gt 0 ] || setup_error "no space for $DISK in $DIR"
    fi
    truncate -s "$SIZE" "$DISK" || setup_error "cannot create $DISK with size $SIZE"
    KIND="file, created sparse"
fi
BYTES=$(blockdev --getsize64 "$DISK" 2>/dev/null || stat -L -c %s "$DISK")
RO=
if { [ -b "$DISK" ] && [ "$(blockdev --getro "$DISK")" = 1 ]; } || [ ! -w "$DISK" ]; then
    RO=,readonly=on   # a read-only PVC (readOnly: true), as KubeVirt attaches it
fi
CACHE=none
if ! dd if="$DISK" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
    CACHE=writethrough
fi
msg "disk $DISK ($KIND, $BYTES bytes), cache=$CACHE${RO:+, read-only}"

# ---- boot -------------------------------------------------------------------------------------
rc=0
"$HERE/run.sh" --timeout "$TIMEOUT" --memory "$MEMORY" "$SCRIPT" -- \
    -drive "file=${DISK//,/,,},format=raw,if=none,id=vmdisk,cache=$CACHE,aio=threads$RO" \
    -device virtio-blk-pci,drive=vmdisk,serial=vmdisk || rc=$?
finish "$rc"
