#!/usr/bin/env bash
# `make demo`: what Remap can already do on this machine, on the embedded default.
# Grows with the project: local control plane up, a VirtualDisk applied with kubectl, a VM booted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "./remap --version"
./remap --version
step "./remap doctor   (how this node would attach Remap volumes)"
./remap doctor || true

store=$(mktemp -d /tmp/remap-demo-store.XXXXXX)
step "volumes on the embedded default store (file://$store): create, snapshot, clone — no data copied"
./remap volume create --store "file://$store" --journal "$store/.journal" vm1 --size 10G
./remap snapshot create --store "file://$store" --journal "$store/.journal" vm1 before-upgrade
./remap volume clone --store "file://$store" --journal "$store/.journal" vm1@before-upgrade vm1-test
./remap volume list --store "file://$store"
./remap snapshot list --store "file://$store" vm1
rm -rf "$store"

cp_dir=$(mktemp -d /tmp/remap-demo-cp.XXXXXX)
trap 'e2e/tools/controlplane.sh stop "$cp_dir" >/dev/null 2>&1 || true; rm -rf "$cp_dir"' EXIT
step "local control plane: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1"
e2e/tools/controlplane.sh start "$cp_dir"
kubectl=("$REMAP_CACHE/bin/kubectl" --kubeconfig "$cp_dir/kubeconfig")
"${kubectl[@]}" version
"${kubectl[@]}" get namespaces

step "QEMU test guest (software emulation) with a disk the host made"
work=$(mktemp -d /tmp/remap-demo-guest.XXXXXX)
trap 'e2e/tools/controlplane.sh stop "$cp_dir" >/dev/null 2>&1 || true; rm -rf "$cp_dir" "$work"' EXIT
truncate -s 64M "$work/disk.raw"
printf 'written by the host\n' | dd of="$work/disk.raw" conv=notrunc status=none
cat > "$work/script.sh" <<'GUEST'
echo "guest kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPU"
for d in /sys/block/vd*; do echo "disk $(basename "$d"): $(( $(cat "$d/size") / 2048 )) MiB"; done
GUEST
e2e/tools/guest/run.sh -q --log "$work/console.log" "$work/script.sh" -- \
  -drive "file=$work/disk.raw,format=raw,if=virtio"
grep -E '^(guest kernel|disk )' "$work/console.log"
step "done"
