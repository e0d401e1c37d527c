#!/usr/bin/env bash
# Installs the real parts Remap's tests use, idempotently, and prints what there is and where:
#   - Debian packages (NBD clients and servers, QEMU, FUSE, filesystem tools, the node's container
#     runtime and CNI plugins, the image builders, ...);
#   - Go tools built from source into the cache (control plane, etcd, csi-sanity, helm, CSI sidecars,
#     and the project's own power-cut filesystem, e2e/tools/powercut);
#   - the QEMU test guest (packaged cloud kernel + busybox initramfs).
# The cache is $REMAP_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/remap); later runs reuse it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
mkdir -p "$REMAP_CACHE"

packages=(
  qemu-utils qemu-system-x86 nbdkit libnbd-bin nbd-client fio fuse3 busybox-static cpio kmod
  e2fsprogs xfsprogs dosfstools mtools iproute2 openssl mount util-linux perl-base
  containerd runc containernetworking-plugins iptables conntrack socat
  umoci debootstrap skopeo
)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
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
for pkg in "${packages[@]}"; do
  installed "$pkg" || { echo "install: Debian package $pkg did not install" >&2; exit 1; }
  printf '  %-16s %s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
done

"$here/go-tools.sh"
"$here/sidecars.sh"
"$here/guest/build.sh"
echo "install: everything is in place under $REMAP_CACHE"
