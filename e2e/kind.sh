#!/usr/bin/env bash
# The user's whole path (e2e ClusterUserPathTest) on a kind cluster, for machines with a Docker
# engine. The development machines of this project have none, so `make test` runs the same
# test on e2e/tools/cluster.sh's single-node cluster instead; this script keeps the scenario
# runnable where kind is the norm. Not run by CI here (no Docker engine): keep it in step with
# ClusterUserPathTest and cluster.sh (the snapshot CRDs and controller are cluster
# infrastructure in both).
#
# Usage: e2e/kind.sh [CLUSTER-NAME]      (default remap-e2e; deleted at the end unless KEEP=1)
# Needs: docker, kind, and what `make test` installs (e2e/tools/install.sh: helm, kubectl, the
# snapshot CRDs and controller image parts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=${1:-remap-e2e}
cache=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
die() { echo "kind.sh: ERROR: $*" >&2; exit 1; }
command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "no Docker engine answers: kind needs one (use make test's local cluster instead)"
command -v kind >/dev/null || die "kind is not installed"

cd "$root"
e2e/tools/install.sh
make build images
kubeconfig=$(mktemp)
kind create cluster --name "$name" --kubeconfig "$kubeconfig" --wait 120s
[[ "${KEEP:-0}" == 1 ]] || trap 'kind delete cluster --name "$name"' EXIT
for archive in build/images/*.oci.tar; do
  kind load image-archive --name "$name" "$archive"
done
kubectl=("$cache/bin/kubectl" --kubeconfig "$kubeconfig")
# Cluster infrastructure for CSI snapshots, as cluster.sh provides it: the CRDs and the
# snapshot controller (from the sidecars image, which carries it).
"${kubectl[@]}" apply --server-side -f "$cache/snapshot-crds"
"${kubectl[@]}" create namespace remap-snapshots --dry-run=client -o yaml | "${kubectl[@]}" apply -f -
"${kubectl[@]}" -n remap-snapshots create serviceaccount snapshot-controller --dry-run=client -o yaml | "${kubectl[@]}" apply -f -
"${kubectl[@]}" create clusterrolebinding remap-snapshot-controller --clusterrole=cluster-admin \
  --serviceaccount=remap-snapshots:snapshot-controller --dry-run=client -o yaml | "${kubectl[@]}" apply -f -
version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n1)
"${kubectl[@]}" -n remap-snapshots create deployment snapshot-controller \
  --image="localhost/remap-csi-sidecars:$version" --dry-run=client -o yaml -- /snapshot-controller --leader-election=false |
  sed 's/^\(\s*\)containers:/\1serviceAccountName: snapshot-controller\n\1containers:/' | "${kubectl[@]}" apply -f -

# The export step's S3 server runs on this host: kind's pods reach it at the kind network's gateway.
host=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -m1 '\.')
REMAP_E2E_KUBECONFIG=$kubeconfig REMAP_E2E_HOST_ADDRESS=$host mvn -B --no-transfer-progress -pl testkit,e2e test \
  -Dtest=ClusterUserPathTest -Dsurefire.failIfNoSpecifiedTests=false
