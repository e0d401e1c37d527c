#!/usr/bin/env bash
# Builds the Remap test guest: OUTDIR/vmlinuz + OUTDIR/initramfs.cpio.gz.
#
# usage: build.sh [--quiet] [--force] [OUTDIR]
#   OUTDIR defaults to $REMAP_CACHE/guest, REMAP_CACHE to ${XDG_CACHE_HOME:-$HOME/.cache}/remap.
#   REMAP_GUEST_KERNEL=<version> (e.g. 6.1.0-56-cloud-amd64) pins the kernel instead of asking
#   apt-cache which version linux-image-cloud-amd64 depends on.
#
# Idempotent: does nothing when both outputs exist and OUTDIR/stamp records the same kernel
# version, the same hash of this directory's guest sources (init, build.sh) and the same
# versions of the host packages copied into the guest.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QUIET=0
FORCE=0
while [ $# -gt 0 ]; do
    case "$1" in
        -q|--quiet) QUIET=1; shift ;;
        -f|--force) FORCE=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -le 1 ] || { echo "build.sh: too many arguments" >&2; exit 2; }

REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
OUTDIR=${1:-$REMAP_CACHE/guest}

die() { echo "build.sh: ERROR: $*" >&2; exit 1; }
say() { [ "$QUIET" = 1 ] || echo "build.sh: $*"; }

# Modules to load at boot, in a working order; their dependencies are added (before them)
# from `modinfo -F depends`. ext4, crc32c, tmpfs, unix sockets, inet are built in.
MODULES=(
    virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
    virtio_blk
    failover net_failover virtio_net
    nbd
    loop
    fuse virtiofs overlay
    fat vfat nls_cp437 nls_ascii nls_iso8859_1 nls_utf8
)

# Host binaries copied into the guest with the libraries ldd lists. nbd-client is required;
# the e2fsprogs ones give the guest a real mkfs.ext4/e2fsck (busybox's mke2fs only makes ext2).
REQUIRED_BINS=(/usr/sbin/nbd-client)
OPTIONAL_BINS=(/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/tune2fs /usr/sbin/dumpe2fs)
HOST_PKGS=(busybox-static nbd-client e2fsprogs)

for t in cpio gzip dpkg modinfo sha256sum flock find; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (needed to build the guest; apt-get install cpio gzip dpkg kmod coreutils util-linux findutils)"
done
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { BUSYBOX=$b; break; }; done
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
for b in "${REQUIRED_BINS[@]}"; do
    [ -x "$b" ] || die "$b not found (apt-get install $(basename "$b"))"
done

# ---- inputs that decide whether a rebuild is needed ----------------------------------------
src_hash() { cat "$HERE/init" "$HERE/build.sh" | sha256sum | cut -c1-16; }
SRC_HASH=$(src_hash)
TOOLS=$(dpkg-query -W -f '${Package}=${Version} ' "${HOST_PKGS[@]}" 2>/dev/null || true)

resolve_kernel() {
    if [ -n "${REMAP_GUEST_KERNEL:-}" ]; then echo "$REMAP_GUEST_KERNEL"; return; fi
    local dep=""
    if command -v apt-cache >/dev/null 2>&1; then
        dep=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
              | sed -n 's/^ *Depends: linux-image-\(.*-cloud-amd64\)$/\1/p' | head -n1)
    fi
    if [ -z "$dep" ]; then
        # no apt metadata: fall back to the newest kernel already unpacked in the cache
        dep=$(ls -1 "$REMAP_CACHE/kernel" 2>/dev/null | sort -V | tail -n1 || true)
        [ -n "$dep" ] && echo "build.sh: WARNING: apt-cache does not know linux-image-cloud-amd64; using cached kernel $dep" >&2
    fi
    [ -n "$dep" ] || die "cannot resolve the cloud kernel version (apt-cache depends linux-image-cloud-amd64 gave nothing; run apt-get update or set REMAP_GUEST_KERNEL)"
    echo "$dep"
}
KVER=$(resolve_kernel)
STAMP_WANT="kernel=$KVER
src=$SRC_HASH
tools=$TOOLS"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
exec 9>"$OUTDIR/.lock"
flock 9

report() {
    local ksz isz
    ksz=$(stat -c %s "$OUTDIR/vmlinuz"); isz=$(stat -c %s "$OUTDIR/initramfs.cpio.gz")
    say "kernel version: $KVER"
    say "kernel:         $OUTDIR/vmlinuz ($ksz bytes)"
    say "initramfs:      $OUTDIR/initramfs.cpio.gz ($isz bytes)"
    say "stamp:          $OUTDIR/stamp (src=$SRC_HASH)"
}

if [ "$FORCE" = 0 ] && [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initramfs.cpio.gz" ] \
   && [ -f "$OUTDIR/stamp" ] && [ "$(cat "$OUTDIR/stamp")" = "$STAMP_WANT" ]; then
    say "up to date, nothing to do"
    report
    exit 0
fi

# ---- kernel package: download + unpack (cached per version) ----------------------------------
KPKG=linux-image-$KVER
KDIR=$REMAP_CACHE/kernel/$KVER
if [ ! -f "$KDIR/.complete" ]; then
    mkdir -p "$REMAP_CACHE/debs"
    DEB=$(ls -1 "$REMAP_CACHE/debs/${KPKG}_"*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true)
    if [ -z "$DEB" ]; then
        command -v apt-get >/dev/null 2>&1 || die "apt-get not found; cannot download $KPKG"
        say "downloading $KPKG ..."
        dl=$(mktemp -d "$REMAP_CACHE/debs/.dl.XXXXXX")
        # APT::Sandbox::User=root: lets root download into a directory _apt cannot write
        ( cd "$dl" && apt-get -q -o APT::Sandbox::User=root download "$KPKG" ) >&2 \
            || { rm -rf "$dl"; die "apt-get download $KPKG failed"; }
        mv "$dl"/*.deb "$REMAP_CACHE/debs/" && rm -rf "$dl"
        DEB=$(ls -1 "$REMAP_CACHE/debs/${KPKG}_"*_amd64.deb | sort -V | tail -n1)
    fi
    say "unpacking $(basename "$DEB") ..."
    rm -rf "$KDIR.tmp"
    mkdir -p "$KDIR.tmp"
    dpkg -x "$DEB" "$KDIR.tmp" || die "dpkg -x $DEB failed"
    [ -f "$KDIR.tmp/boot/vmlinuz-$KVER" ] || die "$DEB has no boot/vmlinuz-$KVER"
    [ -d "$KDIR.tmp/lib/modules/$KVER/kernel" ] || die "$DEB has no lib/modules/$KVER/kernel"
    rm -rf "$KDIR"
    mv "$KDIR.tmp" "$KDIR"
    touch "$KDIR/.complete"
fi
KMODDIR=$KDIR/lib/modules/$KVER

# ---- initramfs staging ------------------------------------------------------------------------
STAGE=$(mktemp -d "$OUTDIR/.stage.XXXXXX")
cleanup() { rm -rf "$STAGE" "$OUTDIR/.initramfs.tmp" "$OUTDIR/.vmlinuz.tmp"; }
trap cleanup EXIT
say "building initramfs for $KVER"

mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc/remap,proc,sys,dev,tmp,run,mnt,root,script,lib64}
chmod 1777 "$STAGE/tmp"

# busybox + applet symlinks (busybox --list-full gives e.g. "sbin/modprobe")
install -m 0755 "$BUSYBOX" "$STAGE/bin/busybox"
n=0
while read -r applet; do
    case "$applet" in ""|bin/busybox|linuxrc) continue ;; esac
    [ -e "$STAGE/$applet" ] && continue
    mkdir -p "$STAGE/$(dirname "$applet")"
    ln -s /bin/busybox "$STAGE/$applet"
    n=$((n + 1))
done < <("$BUSYBOX" --list-full)
[ -e "$STAGE/bin/sh" ] || ln -s busybox "$STAGE/bin/sh"
[ "$n" -gt 100 ] || die "busybox --list-full listed only $n applets"

# copy a host binary plus the libraries ldd lists
copy_libs() {
    local bin=$1 line lib
    if ! out=$(ldd "$bin" 2>/dev/null); then return 0; fi   # static: nothing to copy
    while read -r line; do
        lib=""
        case "$line" in
            *"=> not found"*) die "ldd $bin: $line" ;;
            *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
            /*) lib=${line%% (*} ;;
        esac
        [ -n "$lib" ] || continue
        [ -e "$STAGE$lib" ] && continue
        mkdir -p "$STAGE$(dirname "$lib")"
        cp -L "$lib" "$STAGE$lib"
    done <<<"$out"
}
add_bin() {
    local src=$1 dst=${2:-$1}
    mkdir -p "$STAGE$(dirname "$dst")"
    rm -f "$STAGE$dst"
    cp -L "$src" "$STAGE$dst"
    chmod 0755 "$STAGE$dst"
    copy_libs "$src"
}
for b in "${REQUIRED_BINS[@]}"; do add_bin "$b"; done
EXTRA_BINS=""
for b in "${OPTIONAL_BINS[@]}"; do
    if [ -x "$b" ]; then add_bin "$b"; EXTRA_BINS="$EXTRA_BINS $(basename "$b")"; else
        echo "build.sh: WARNING: $b not found, the guest will not have it" >&2; fi
done
if [ -x "$STAGE/usr/sbin/mke2fs" ]; then
    # e2fsprogs' mke2fs picks the fs type from argv[0]; shadow busybox's ext2-only mke2fs
    rm -f "$STAGE/sbin/mke2fs"
    for t in ext2 ext3 ext4; do ln -sf mke2fs "$STAGE/usr/sbin/mkfs.$t"; done
    [ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$STAGE/etc/mke2fs.conf"
fi
if [ -x "$STAGE/usr/sbin/e2fsck" ]; then
    for t in ext2 ext3 ext4; do ln -sf e2fsck "$STAGE/usr/sbin/fsck.$t"; done
fi

# modules: resolve dependencies with modinfo, emit in dependency order
declare -A MODPATH=() SEEN=()
while IFS= read -r f; do
    name=$(basename "$f" .ko); name=${name//-/_}
    MODPATH[$name]=${f#"$KMODDIR/"}
done < <(find "$KMODDIR/kernel" -name '*.ko')
ORDER=()
add_mod() {
    local m=${1//-/_} d deps
    [ -n "${SEEN[$m]:-}" ] && return 0
    SEEN[$m]=1
    [ -n "${MODPATH[$m]:-}" ] || die "module $m not found in $KMODDIR (built in? then drop it from MODULES)"
    deps=$(modinfo -F depends "$KMODDIR/${MODPATH[$m]}")
    for d in ${deps//,/ }; do add_mod "$d"; done
    ORDER+=("$m")
}
for m in "${MODULES[@]}"; do add_mod "$m"; done
: > "$STAGE/etc/remap/modules"
for m in "${ORDER[@]}"; do
    p=${MODPATH[$m]}
    mkdir -p "$STAGE/lib/modules/$KVER/$(dirname "$p")"
    cp "$KMODDIR/$p" "$STAGE/lib/modules/$KVER/$p"
    echo "$p" >> "$STAGE/etc/remap/modules"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$KMODDIR/$f" ] && cp "$KMODDIR/$f" "$STAGE/lib/modules/$KVER/"
done
# modules.dep etc. so that `modprobe nbd` works in the guest
if command -v depmod >/dev/null 2>&1; then
    depmod -b "$STAGE" "$KVER" || die "depmod -b $STAGE $KVER failed"
fi

# /init and a few files
install -m 0755 "$HERE/init" "$STAGE/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$STAGE/etc/passwd"
printf 'root:x:0:\n' > "$STAGE/etc/group"
printf '127.0.0.1 localhost\n10.0.2.2 host\n' > "$STAGE/etc/hosts"
echo "$STAMP_WANT" > "$STAGE/etc/remap/build-info"
if [ "$(id -u)" = 0 ]; then
    mknod -m 600 "$STAGE/dev/console" c 5 1
    mknod -m 666 "$STAGE/dev/null" c 1 3
fi

# cpio (newc) + gzip; check the result instead of trusting exit codes through the pipe
( cd "$STAGE" && find . -mindepth 1 -print0 | LC_ALL=C sort -z \
    | cpio --null -o -H newc --quiet --owner=0:0 ) | gzip -6 > "$OUTDIR/.initramfs.tmp"
count=$(gzip -dc "$OUTDIR/.initramfs.tmp" | cpio -it --quiet 2>/dev/null | grep -c -E '^(init|bin/busybox|usr/sbin/nbd-client)$' || true)
[ "$count" = 3 ] || die "initramfs looks broken (init/busybox/nbd-client missing from the archive)"

cp "$KDIR/boot/vmlinuz-$KVER" "$OUTDIR/.vmlinuz.tmp"
mv -f "$OUTDIR/.vmlinuz.tmp" "$OUTDIR/vmlinuz"
mv -f "$OUTDIR/.initramfs.tmp" "$OUTDIR/initramfs.cpio.gz"
echo "$STAMP_WANT" > "$OUTDIR/stamp"
say "modules (load order): ${ORDER[*]}"
say "extra host tools: nbd-client$EXTRA_BINS"
report
