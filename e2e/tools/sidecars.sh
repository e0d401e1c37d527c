#!/usr/bin/env bash
# Builds the Kubernetes CSI sidecars that stand in front of Remap's CSI controller, from their
# Go modules, into the cache that go-tools.sh fills:
#
#   $REMAP_CACHE/bin/csi-provisioner       external-provisioner (wrapper: go/sidecars/provisioner)
#   $REMAP_CACHE/bin/csi-snapshotter       external-snapshotter's sidecar  (go/sidecars/snapshotter)
#   $REMAP_CACHE/bin/snapshot-controller   external-snapshotter's common controller
#   $REMAP_CACHE/bin/csi-resizer           external-resizer (go/sidecars/resizer), for the image
#                                          images/build.sh makes (volume expansion)
#   $REMAP_CACHE/snapshot-crds/*.yaml      the (group) VolumeSnapshot CRDs of the same release
#   $REMAP_CACHE/bin/virt-api              KubeVirt's API server for its subresources (addvolume,
#                                          removevolume, ...), the other end of the operator's
#                                          hotplug (wrapper: go/kubevirt)
#   $REMAP_CACHE/kubevirt-crds/kubevirt.yaml  the KubeVirt CRDs virt-api needs, printed by the
#                                          wrapper's ./kubevirt-crds from KubeVirt's own definitions
#   $REMAP_CACHE/stamps/<tool>.stamp       what each was built from
#
# The node-driver-registrar is not built: it registers a node plugin with a kubelet, and the
# local control plane runs no kubelet.
#
# Versions are the require lines of the wrapper modules; a tool is rebuilt only when its
# binary is missing or its stamp (version, wrapper go.mod/go.sum hash) differs.
#
# Usage: e2e/tools/sidecars.sh
# Needs: go (1.26+) and, when cold, the Go module proxy. Cold: several minutes per sidecar.
set -euo pipefail

# One function, read in full before it runs; lib.sh (die/log, stamps, the cache lock, the
# go.mod parser; shared with go-tools.sh) is sourced first and read in full too.
main() {
  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source-path=SCRIPTDIR source=lib.sh
  source "$HERE/lib.sh"
  REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
  BIN=$REMAP_CACHE/bin
  STAMPS=$REMAP_CACHE/stamps
  RECIPE=1
  CRD_RECIPE=2 # 2: the VolumeGroupSnapshot CRDs too (the snapshot controller waits 30 s without them)
  GO_BUILD_FLAGS=(-trimpath -buildvcs=false)
  export CGO_ENABLED=0 GOWORK=off

  need_go "the CSI sidecars"

  # Lock $REMAP_CACHE/.sidecars.lock; builds go to TMP, a $REMAP_CACHE/.sidecars-build.* folder.
  take_cache .sidecars.lock .sidecars-build

  build() { # wrapper(under go/) module-path binary=package...
    local wrapper=$HERE/go/$1 module=$2 pair version key start b
    shift 2
    version=$(gomod_version require "$wrapper/go.mod" "$module")
    [[ -n "$version" ]] || die "no require line for $module in $wrapper/go.mod"
    key="recipe=$RECIPE version=$version wrapper=$(hash_files "$wrapper/go.mod" "$wrapper/go.sum")"
    local missing=0 pkgs=() names=()
    for pair in "$@"; do
      names+=("${pair%%=*}")
      pkgs+=("${pair#*=}")
      stamp_ok "${pair%%=*}" "$key" || missing=1
    done
    if ((missing)); then
      log "building ${names[*]} $version from source (output of go follows)"
      start=$SECONDS
      ( cd "$wrapper" && go build "${GO_BUILD_FLAGS[@]}" -mod=readonly -ldflags "-s -w -X main.version=$version" \
          -o "$TMP/" "${pkgs[@]}" ) || die "building ${names[*]} $version failed (wrapper module: $wrapper)"
      for b in "${names[@]}"; do
        [[ -x "$TMP/$b" ]] || die "go build did not produce $b"
        mv -f "$TMP/$b" "$BIN/$b"
        write_stamp "$b" "$key"
        report "$b" "$version" "$BIN/$b" "built in $((SECONDS - start))s"
      done
    else
      for b in "${names[@]}"; do report "$b" "$version" "$BIN/$b" cached; done
    fi
  }

  build sidecars/provisioner github.com/kubernetes-csi/external-provisioner/v6 \
    csi-provisioner=github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner
  build sidecars/snapshotter github.com/kubernetes-csi/external-snapshotter/v8 \
    csi-snapshotter=github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter \
    snapshot-controller=github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller
  build sidecars/resizer github.com/kubernetes-csi/external-resizer/v2 \
    csi-resizer=github.com/kubernetes-csi/external-resizer/v2/cmd/csi-resizer

  # kubevirt-crds is a throwaway: it runs once here to write the YAML.
  build kubevirt kubevirt.io/kubevirt \
    virt-api=kubevirt.io/kubevirt/cmd/virt-api \
    kubevirt-crds=remap.invalid/e2e/tools/kubevirt/kubevirt-crds
  local kv_key kv_dir=$REMAP_CACHE/kubevirt-crds
  kv_key="recipe=$RECIPE version=$(gomod_version require "$HERE/go/kubevirt/go.mod" kubevirt.io/kubevirt) binary=$(hash_files "$BIN/kubevirt-crds")"
  if ! stamp_ok kubevirt-crds.yaml "$kv_key" "$kv_dir/kubevirt.yaml"; then
    mkdir -p "$kv_dir"
    "$BIN/kubevirt-crds" >"$kv_dir/kubevirt.yaml.tmp" || die "kubevirt-crds failed"
    mv -f "$kv_dir/kubevirt.yaml.tmp" "$kv_dir/kubevirt.yaml"
    write_stamp kubevirt-crds.yaml "$kv_key"
    report kubevirt-crds.yaml "" "$kv_dir/kubevirt.yaml" written
  else
    report kubevirt-crds.yaml "" "$kv_dir/kubevirt.yaml" cached
  fi

  # The snapshot CRDs ship in the client module of the same release.
  local wrapper=$HERE/go/sidecars/snapshotter dir crds=$REMAP_CACHE/snapshot-crds version key
  version=$(gomod_version replace "$wrapper/go.mod" github.com/kubernetes-csi/external-snapshotter/client/v8)
  key="recipe=$CRD_RECIPE version=$version"
  if ! stamp_ok snapshot-crds "$key" "$crds"; then
    dir=$(cd "$wrapper" && go list -mod=readonly -m -f '{{.Dir}}' github.com/kubernetes-csi/external-snapshotter/client/v8)
    rm -rf "$crds" && mkdir -p "$crds"
    cp "$dir"/config/crd/snapshot.storage.k8s.io_*.yaml "$dir"/config/crd/groupsnapshot.storage.k8s.io_*.yaml "$crds/"
    chmod u+w "$crds"/*.yaml
    write_stamp snapshot-crds "$key"
    report snapshot-crds "$version" "$crds" copied
  else
    report snapshot-crds "$version" "$crds" cached
  fi
}

main "$@"
