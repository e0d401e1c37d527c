#!/usr/bin/env bash
# `make demo`: Remap as a user meets it, on this machine's single-node cluster (cluster.sh: a
# real kubelet, containerd, the CNI bridge) with the embedded default store:
#   make images → helm install → kubectl apply a VirtualDisk → a VM boots from it and writes →
#   a snapshot → a clone → a second VM boots from the clone and finds the data → helm uninstall.
# Each step prints what it runs. The cluster is stopped and its folder removed at the end
# (KEEP=1 keeps both and prints how to reach it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
cd "$root"
step() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n1)
dir=$(mktemp -d /tmp/remap-demo.XXXXXX)
cleanup() {
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "kept: export KUBECONFIG=$dir/kubeconfig; stop with e2e/tools/cluster.sh stop $dir"
    return
  fi
  e2e/tools/cluster.sh stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
export KUBECONFIG=$dir/kubeconfig
kubectl() { "$REMAP_CACHE/bin/kubectl" "$@"; }
helm() { "$REMAP_CACHE/bin/helm" "$@"; }

step "make images: the images, built here without a Docker engine (OCI archives in build/images)"
images/build.sh --no-verify | tail -n 6

step "a single-node cluster: control plane, kubelet, containerd, kube-proxy, CNI (e2e/tools/cluster.sh)"
e2e/tools/cluster.sh start "$dir"
e2e/tools/cluster.sh load "$dir" build/images/*.oci.tar
run kubectl get nodes -o wide

step "helm install (embedded default store: a directory on the node)"
t0=$SECONDS
run helm install remap helm/remap -n remap-system --create-namespace \
  --set node.kubeletDir="$dir/kubelet" --set node.dataDir="$dir/remap" --set store.local.path="$dir/remap/store" |
  sed -n '1,6p'
kubectl wait -n remap-system --for=condition=Available deployment --all --timeout=300s >/dev/null
kubectl wait -n remap-system --for=condition=Ready pod --all --timeout=300s >/dev/null
echo "every pod Ready $((SECONDS - t0)) s after helm install"
run kubectl get pods -n remap-system

step "kubectl apply a VirtualDisk (examples/virtualdisk.yaml: a 10Gi block disk)"
run kubectl create namespace vms
t0=$SECONDS
run kubectl apply -n vms -f examples/virtualdisk.yaml
kubectl wait -n vms --for=condition=Ready virtualdisk/data --timeout=240s >/dev/null
echo "Ready $((SECONDS - t0)) s after kubectl apply"
run kubectl get virtualdisks,pvc -n vms

vm() { # name claim script: a VM stand-in (QEMU booting the test guest on the PVC) and its output
  local spec=$dir/$1.yaml
  python3 - "$1" "$2" "$3" "$version" >"$spec" <<'EOF'
import sys
name, claim, script, version = sys.argv[1:]
guest = {
  "write": 'set -e; echo REMAP-DEMO-DATA > /tmp/d; dd if=/tmp/d of=/dev/vda bs=1M conv=fsync status=none; sync; echo "wrote REMAP-DEMO-DATA at the start of the disk"',
  "read": 'set -e; echo "the disk starts with: $(dd if=/dev/vda bs=15 count=1 status=none)"',
}[script]
print(f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: vms}}
spec:
  restartPolicy: Never
  containers:
  - name: vm
    image: localhost/remap-vm-standin:{version}
    imagePullPolicy: Never
    args: [/dev/xvda]
    env: [{{name: GUEST_SCRIPT, value: '{guest}'}}]
    volumeDevices: [{{name: disk, devicePath: /dev/xvda}}]
  volumes: [{{name: disk, persistentVolumeClaim: {{claimName: {claim}}}}}]""")
EOF
  kubectl apply -f "$spec" >/dev/null
  kubectl wait -n vms --for=jsonpath='{.status.phase}'=Succeeded "pod/$1" --timeout=300s >/dev/null
  kubectl logs -n vms "$1" | grep -E '^(wrote|the disk starts|GUEST-EXIT)'
  kubectl delete pod -n vms "$1" --wait=true >/dev/null
}

step "a VM (QEMU under TCG, the PVC as its virtio disk, as virt-launcher does) boots and writes"
vm vm1 data write

step "a snapshot of the disk: a mapping saved, no data copied"
run kubectl patch virtualdisk -n vms data --type merge -p '{"spec":{"snapshots":[{"name":"s1"}]}}'
until [[ "$(kubectl get virtualdisk -n vms data -o jsonpath='{.status.snapshots[?(@.name=="s1")].readyToUse}')" == true ]]; do
  sleep 1
done
run kubectl get volumesnapshot -n vms

step "a clone of the snapshot: copy-on-write, Ready at once"
cat >"$dir/clone.yaml" <<EOF
apiVersion: remap.dev/v1alpha1
kind: VirtualDisk
metadata: {name: data-clone, namespace: vms}
spec:
  size: 10Gi
  volumeMode: Block
  source:
    snapshot: {virtualDisk: data, name: s1}
EOF
t0=$SECONDS
run kubectl apply -f "$dir/clone.yaml"
kubectl wait -n vms --for=condition=Ready virtualdisk/data-clone --timeout=240s >/dev/null
echo "Ready $((SECONDS - t0)) s after kubectl apply"

step "a second VM boots from the clone and finds what the first one wrote"
vm vm2 data-clone read

step "helm uninstall (after the disks: their volumes go with them, reclaim policy Delete)"
run kubectl delete virtualdisks --all -n vms --wait=true
run helm uninstall remap -n remap-system --wait
kubectl wait -n remap-system --for=delete pod --all --timeout=120s >/dev/null
run kubectl get pods -n remap-system
step "done"
