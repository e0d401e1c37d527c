#!/usr/bin/env bash
# Installs the real parts Remap's tests use, idempotently, and prints what there is and where:
#   - Debian packages (NBD clients and servers, QEMU, FUSE, filesystem tools, ...);
#   - Go tools built from source into the cache (control plane, etcd, csi-sanity, helm);
#   - the QEMU test guest (packaged cloud kernel + busybox initramfs).
# The cache is $REMAP_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/remap); later runs reuse it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
mkdir -p "$REMAP_CACHE"

# Package -> a file it installs, so a present package costs no apt call at all.
packages=(
  qemu-utils:/usr/bin/qemu-img
  qemu-system-x86:/usr/bin/qemu-system-x86_64
  nbdkit:/usr/sbin/nbdkit
  libnbd-bin:/usr/bin/nbdinfo
  nbd-client:/usr/sbin/nbd-client
  fio:/usr/bin/fio
  fuse3:/usr/bin/fusermount3
  busybox-static:/bin/busybox
  cpio:/usr/bin/cpio
  kmod:/usr/bin/kmod
  e2fsprogs:/usr/sbin/mke2fs
  dosfstools:/usr/sbin/mkfs.vfat
  mtools:/usr/bin/mcopy
  iproute2:/usr/sbin/ip
  openssl:/usr/bin/openssl
  util-linux:/usr/sbin/losetup
)
missing=()
for entry in "${packages[@]}"; do
  pkg=${entry%%:*} file=${entry#*:}
  [ -e "$file" ] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install: Debian packages ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for entry in "${packages[@]}"; do
  pkg=${entry%%:*} file=${entry#*:}
  [ -e "$file" ] || { echo "install: $pkg did not install $file" >&2; exit 1; }
  printf '  %-16s %-28s %s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)" "$file"
done

"$here/go-tools.sh"
"$here/guest/build.sh"
echo "install: everything is in place under $REMAP_CACHE"
