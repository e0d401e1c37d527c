#!/usr/bin/env bash
# Builds the Kubernetes control plane and Go test tools from source into a
# cache folder that later runs (and other checkouts) reuse:
#
#   $REMAP_CACHE/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,kubectl,
#                     kubelet,etcd,etcdctl,csi-sanity,helm,powercut}
#   $REMAP_CACHE/kubeapitest/k8s/<k8s version>-<os>-<arch>/{etcd,kube-apiserver,kubectl}
#       symlinks in the layout fabric8's kube-api-test looks for
#       (point its kube-api-test dir at $REMAP_CACHE/kubeapitest, offline mode)
#   $REMAP_CACHE/stamps/<tool>.stamp   what each binary was built from
#
# REMAP_CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/remap. Go's own build
# and module caches stay where `go env GOCACHE GOMODCACHE` says.
#
# Versions: Kubernetes and etcd come from the wrapper modules in
# e2e/tools/go/{kubernetes,etcd}/go.mod; csi-sanity and helm from
# CSI_SANITY_VERSION / HELM_VERSION below (overridable from the environment).
# powercut (the power-cut FUSE filesystem of the engine's PowerCutTest) is the
# project's own module in e2e/tools/powercut, keyed by its sources.
# A tool is rebuilt only when its binary is missing or its stamp (version,
# wrapper go.mod/go.sum hash, build flags) differs, so a warm run builds
# nothing and takes well under a second.
#
# Usage: e2e/tools/go-tools.sh              build what is missing, print one line per tool
#        e2e/tools/go-tools.sh --print-bin  print $REMAP_CACHE/bin only
#
# Needs: go (1.26+; an older go fetches a newer toolchain with the default
# GOTOOLCHAIN=auto) and, when cold, the Go module proxy. A cold run builds
# everything in about 14 minutes on 2 cores; it exits non-zero with a message
# naming the tool when a build fails.
set -euo pipefail

# The whole script is one function, read in full before it runs, and lib.sh
# (die/log, stamps, the cache lock, the go.mod parser; shared with sidecars.sh)
# is sourced first and read in full too, so editing these files (or a checkout)
# while a long build runs cannot derail that run.
main() {
  CSI_SANITY_VERSION=${CSI_SANITY_VERSION:-v5.6.0}
  HELM_VERSION=${HELM_VERSION:-v3.22.0}

  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source-path=SCRIPTDIR source=lib.sh
  source "$HERE/lib.sh"
  REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
  BIN=$REMAP_CACHE/bin
  STAMPS=$REMAP_CACHE/stamps

  if [[ "${1:-}" == --print-bin ]]; then
    echo "$BIN"
    exit 0
  fi

  # Bumped by hand when the way the binaries are built changes in a way the
  # flags below do not show, to force a rebuild.
  RECIPE=1

  # Flags shared by every build: static (no cgo), reproducible paths, no symbols.
  GO_BUILD_FLAGS=(-trimpath -buildvcs=false)
  export CGO_ENABLED=0
  # Build the wrappers as their own modules even under a go.work higher up.
  export GOWORK=off

  K8S_WRAPPER=$HERE/go/kubernetes
  ETCD_WRAPPER=$HERE/go/etcd

  KUBE_VERSION=$(gomod_version require "$K8S_WRAPPER/go.mod" k8s.io/kubernetes)
  ETCD_VERSION=$(gomod_version require "$ETCD_WRAPPER/go.mod" go.etcd.io/etcd/server/v3)
  [[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] ||
    die "cannot read a release version of k8s.io/kubernetes from $K8S_WRAPPER/go.mod (got '$KUBE_VERSION')"
  KUBE_MINOR=${BASH_REMATCH[1]}
  [[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] ||
    die "cannot read a release version of go.etcd.io/etcd/server/v3 from $ETCD_WRAPPER/go.mod (got '$ETCD_VERSION')"

  # Lock $REMAP_CACHE/.go-tools.lock; builds go to TMP, a $REMAP_CACHE/.build.* folder.
  take_cache .go-tools.lock .build

  # --- Kubernetes: apiserver, controller-manager, scheduler, kubectl, kubelet ---

  KUBE_BINS=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl kubelet)
  # Same tags as Kubernetes' own release builds (hack/lib/golang.sh).
  KUBE_TAGS=selinux,notest,grpcnotrace
  kube_ldflags() { # buildDate
    local f="-s -w" p
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      f+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$KUBE_MINOR"
      f+=" -X $p.gitTreeState=archive -X $p.gitCommit= -X $p.buildDate=$1"
    done
    echo "$f"
  }
  KUBE_KEY="recipe=$RECIPE version=$KUBE_VERSION wrapper=$(hash_files "$K8S_WRAPPER/go.mod" "$K8S_WRAPPER/go.sum") tags=$KUBE_TAGS ldflags=$(kube_ldflags DATE | sha256sum | cut -c1-16)"

  kube_missing=0
  for b in "${KUBE_BINS[@]}"; do stamp_ok "$b" "$KUBE_KEY" || kube_missing=1; done
  if (( kube_missing )); then
    need_go "${KUBE_BINS[*]}"
    log "building ${KUBE_BINS[*]} $KUBE_VERSION from source (cold: ~10-20 min on 2 cores; output of go follows)"
    start=$SECONDS
    (
      cd "$K8S_WRAPPER"
      # The release's commit time, from the module proxy's metadata: reproducible.
      build_date=$(go list -mod=readonly -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
      go build "${GO_BUILD_FLAGS[@]}" -mod=readonly -tags "$KUBE_TAGS" \
        -ldflags "$(kube_ldflags "$build_date")" -o "$TMP/" \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler \
        k8s.io/kubernetes/cmd/kube-proxy \
        k8s.io/kubernetes/cmd/kubectl \
        k8s.io/kubernetes/cmd/kubelet
    ) || die "building ${KUBE_BINS[*]} $KUBE_VERSION failed (wrapper module: $K8S_WRAPPER)"
    for b in "${KUBE_BINS[@]}"; do
      [[ -x "$TMP/$b" ]] || die "go build did not produce $b"
      mv -f "$TMP/$b" "$BIN/$b"
      write_stamp "$b" "$KUBE_KEY"
    done
    took="built in $((SECONDS - start))s"
    for b in "${KUBE_BINS[@]}"; do report "$b" "$KUBE_VERSION" "$BIN/$b" "$took"; done
  else
    for b in "${KUBE_BINS[@]}"; do report "$b" "$KUBE_VERSION" "$BIN/$b" cached; done
  fi

  # --- etcd, etcdctl -------------------------------------------------------------

  # etcd's version string is a constant of go.etcd.io/etcd/api/v3/version at the
  # required release; only GitSHA is set by its build script. The commit is not
  # known from the module, so record where the source came from instead.
  ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION"
  ETCD_KEY="recipe=$RECIPE version=$ETCD_VERSION wrapper=$(hash_files "$ETCD_WRAPPER/go.mod" "$ETCD_WRAPPER/go.sum") ldflags=$(sha256sum <<<"$ETCD_LDFLAGS" | cut -c1-16)"
  if ! stamp_ok etcd "$ETCD_KEY" || ! stamp_ok etcdctl "$ETCD_KEY"; then
    need_go "etcd"
    log "building etcd, etcdctl $ETCD_VERSION from source"
    start=$SECONDS
    (
      cd "$ETCD_WRAPPER"
      # In etcd 3.6 the server's main package is the module root; go names its
      # binary "server".
      go build "${GO_BUILD_FLAGS[@]}" -mod=readonly -ldflags "$ETCD_LDFLAGS" -o "$TMP/" \
        go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3
    ) || die "building etcd $ETCD_VERSION failed (wrapper module: $ETCD_WRAPPER)"
    [[ -x "$TMP/server" && -x "$TMP/etcdctl" ]] || die "go build did not produce etcd (server) and etcdctl"
    mv -f "$TMP/server" "$BIN/etcd"
    mv -f "$TMP/etcdctl" "$BIN/etcdctl"
    write_stamp etcd "$ETCD_KEY"
    write_stamp etcdctl "$ETCD_KEY"
    took="built in $((SECONDS - start))s"
    report etcd "$ETCD_VERSION" "$BIN/etcd" "$took"
    report etcdctl "$ETCD_VERSION" "$BIN/etcdctl" "$took"
  else
    report etcd "$ETCD_VERSION" "$BIN/etcd" cached
    report etcdctl "$ETCD_VERSION" "$BIN/etcdctl" cached
  fi

  # --- go install tools ---------------------------------------------------------

  go_install() { # name pkg version ldflags
    local name=$1 pkg=$2 version=$3 ldflags=$4 start key
    key="recipe=$RECIPE version=$version pkg=$pkg ldflags=$(sha256sum <<<"$ldflags" | cut -c1-16)"
    if stamp_ok "$name" "$key"; then
      report "$name" "$version" "$BIN/$name" cached
      return
    fi
    need_go "$name"
    log "building $name $version from source"
    start=$SECONDS
    ( cd "$TMP" && GOBIN="$TMP/gobin" go install "${GO_BUILD_FLAGS[@]}" \
        -ldflags "$ldflags" "$pkg@$version" ) ||
      die "go install $pkg@$version failed"
    [[ -x "$TMP/gobin/$name" ]] || die "go install $pkg@$version did not produce $name"
    mv -f "$TMP/gobin/$name" "$BIN/$name"
    write_stamp "$name" "$key"
    report "$name" "$version" "$BIN/$name" "built in $((SECONDS - start))s"
  }

  go_install csi-sanity github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity "$CSI_SANITY_VERSION" \
    "-s -w -X main.VERSION=$CSI_SANITY_VERSION"

  # helm's Makefile also sets the default Kubernetes version of .Capabilities from
  # the client-go it is built with (major+1.minor), e.g. v0.35.x -> 1.35.
  helm_ldflags() {
    local f="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    f+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    if [[ -n "${1:-}" ]]; then
      local p
      for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        f+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$1"
      done
    fi
    echo "$f"
  }
  helm_key="recipe=$RECIPE version=$HELM_VERSION pkg=helm.sh/helm/v3/cmd/helm ldflags=$(helm_ldflags | sha256sum | cut -c1-16)"
  if stamp_ok helm "$helm_key"; then
    report helm "$HELM_VERSION" "$BIN/helm" cached
  else
    need_go helm
    local dl helm_mod
    dl=$(cd "$TMP" && go mod download -json "helm.sh/helm/v3@$HELM_VERSION") ||
      die "cannot download helm.sh/helm/v3@$HELM_VERSION: $(sed -n 's/^[[:space:]]*"Error": //p' <<<"$dl")"
    helm_mod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$dl")
    [[ -f "$helm_mod" ]] || die "cannot download helm.sh/helm/v3@$HELM_VERSION"
    client_go=$(gomod_version require "$helm_mod" k8s.io/client-go)
    [[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || die "cannot read k8s.io/client-go's version from $helm_mod"
    start=$SECONDS
    log "building helm $HELM_VERSION from source"
    ( cd "$TMP" && GOBIN="$TMP/gobin" go install "${GO_BUILD_FLAGS[@]}" \
        -ldflags "$(helm_ldflags "${BASH_REMATCH[1]}")" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" ) ||
      die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed"
    [[ -x "$TMP/gobin/helm" ]] || die "go install did not produce helm"
    mv -f "$TMP/gobin/helm" "$BIN/helm"
    write_stamp helm "$helm_key"
    report helm "$HELM_VERSION" "$BIN/helm" "built in $((SECONDS - start))s"
  fi

  # --- powercut: the project's own FUSE filesystem (e2e/tools/powercut) ----------

  # Keyed by its sources, so an edit rebuilds it; cold, it adds about 10 s (go-fuse
  # and x/sys compiled, downloads included), warm nothing.
  POWERCUT_SRC=$HERE/powercut
  powercut_key="recipe=$RECIPE sources=$(hash_files "$POWERCUT_SRC"/go.mod "$POWERCUT_SRC"/go.sum "$POWERCUT_SRC"/*.go)"
  if stamp_ok powercut "$powercut_key"; then
    report powercut local "$BIN/powercut" cached
  else
    need_go powercut
    log "building powercut from $POWERCUT_SRC"
    start=$SECONDS
    ( cd "$POWERCUT_SRC" && go build "${GO_BUILD_FLAGS[@]}" -mod=readonly -ldflags "-s -w" -o "$TMP/powercut" . ) ||
      die "building powercut failed (module: $POWERCUT_SRC)"
    mv -f "$TMP/powercut" "$BIN/powercut"
    write_stamp powercut "$powercut_key"
    report powercut local "$BIN/powercut" "built in $((SECONDS - start))s"
  fi

  # --- kube-api-test layout -----------------------------------------------------

  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    *) arch=$(uname -m) ;;
  esac
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  KAT_ROOT=$REMAP_CACHE/kubeapitest/k8s
  KAT_DIR=$KAT_ROOT/${KUBE_VERSION#v}-$os-$arch
  mkdir -p "$KAT_DIR"
  for b in etcd kube-apiserver kubectl; do
    ln -sfn "../../../bin/$b" "$KAT_DIR/$b"
  done
  # Drop directories for other versions that this script laid out earlier: their
  # symlinks would now point at binaries of the current version.
  for d in "$KAT_ROOT"/*-"$os-$arch"; do
    [[ -d "$d" && "$d" != "$KAT_DIR" ]] || continue
    if [[ -z "$(find "$d" -mindepth 1 ! -type l -print -quit)" ]]; then
      rm -rf "$d"
    fi
  done
  printf '%-24s %-9s %s\n' "kubeapitest layout" "${KUBE_VERSION#v}" "$KAT_DIR/{etcd,kube-apiserver,kubectl}"
}

main "$@"
