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

main() {
  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
  BIN=$REMAP_CACHE/bin
  STAMPS=$REMAP_CACHE/stamps
  RECIPE=1
  CRD_RECIPE=2 # 2: the VolumeGroupSnapshot CRDs too (the snapshot controller waits 30 s without them)
  GO_BUILD_FLAGS=(-trimpath -buildvcs=false)
  export CGO_ENABLED=0 GOWORK=off

  die() { echo "sidecars.sh: ERROR: $*" >&2; exit 1; }
  log() { echo "sidecars.sh: $*" >&2; }
  command -v go >/dev/null 2>&1 || die "the Go toolchain (go) is not on PATH; it is needed to build the CSI sidecars"

  hash_files() { cat "$@" | sha256sum | cut -c1-16; }
  stamp_ok() { [[ -e "$1" && -f "$STAMPS/$2.stamp" && "$(cat "$STAMPS/$2.stamp")" == "$3" ]]; }
  write_stamp() { printf '%s\n' "$2" > "$STAMPS/$1.stamp.tmp" && mv -f "$STAMPS/$1.stamp.tmp" "$STAMPS/$1.stamp"; }
  report() { printf '%-24s %-9s %-50s %s\n' "$1" "$2" "$3" "$4"; }
  required() { # wrapper module: the version go.mod requires, in a one-line require or a block
    awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit }
      /^require \(/ { block = 1; next } /^\)/ { block = 0 } block && $1 == m { print $2; exit }' "$1/go.mod"
  }

  mkdir -p "$BIN" "$STAMPS"
  exec 9>"$REMAP_CACHE/.sidecars.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -n 9 || { log "waiting for another sidecars.sh run on $REMAP_CACHE"; flock 9; }
  fi
  rm -rf "$REMAP_CACHE"/.sidecars-build.*
  TMP=$(mktemp -d "$REMAP_CACHE/.sidecars-build.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT

  build() { # wrapper(under go/) module-path binary=package...
    local wrapper=$HERE/go/$1 module=$2 pair version key start b
    shift 2
    version=$(required "$wrapper" "$module")
    [[ -n "$version" ]] || die "no require line for $module in $wrapper/go.mod"
    key="recipe=$RECIPE version=$version wrapper=$(hash_files "$wrapper/go.mod" "$wrapper/go.sum")"
    local missing=0 pkgs=() names=()
    for pair in "$@"; do
      names+=("${pair%%=*}")
      pkgs+=("${pair#*=}")
      stamp_ok "$BIN/${pair%%=*}" "${pair%%=*}" "$key" || missing=1
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
  kv_key="recipe=$RECIPE version=$(required "$HERE/go/kubevirt" kubevirt.io/kubevirt) binary=$(hash_files "$BIN/kubevirt-crds")"
  if ! stamp_ok "$kv_dir/kubevirt.yaml" kubevirt-crds.yaml "$kv_key"; then
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
  version=$(awk '$1 == "replace" && $2 == "github.com/kubernetes-csi/external-snapshotter/client/v8" { print $5 }' "$wrapper/go.mod")
  key="recipe=$CRD_RECIPE version=$version"
  if ! stamp_ok "$crds" snapshot-crds "$key"; then
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
