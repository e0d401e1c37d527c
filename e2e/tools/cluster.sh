#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the tests of the user's whole path
# (helm install, kubectl apply, pods that use Remap's volumes): the local control plane of
# controlplane.sh, plus kube-scheduler, a kubelet and kube-proxy built from the same Kubernetes
# release (go-tools.sh), containerd + runc and the CNI bridge plugin from Debian's packages.
# No registry is reached: images come in as archives (`load`), the sandbox image is built here.
#
# Usage:
#   cluster.sh start  DIR      start (or resume) the cluster whose files live in DIR
#   cluster.sh load   DIR ARCHIVE...   import OCI/Docker image archives into the node's runtime
#   cluster.sh stop   DIR      stop everything, kill the pods' processes, undo mounts, network
#   cluster.sh status DIR
#
# start  returns once the node is Ready and the `kubernetes` Service answers from a pod's point
#        of view (kube-proxy's rules are in place); prints the time it took. Idempotent.
# stop   leaves DIR (etcd data, images) for a later start; tolerant of a half-started cluster.
#
# What it takes on this kind of machine (verified facts, ../shared/CLUSTER.md):
#   - containerd must not give sandboxes a negative oom_score_adj (no CAP_SYS_RESOURCE here):
#     restrict_oom_score_adj = true;
#   - cgroup v1 only: the kubelet runs with the cgroupfs driver and failCgroupV1: false;
#   - the kubelet serves its API with anonymous auth and AlwaysAllow (test cluster only), so
#     `kubectl logs/exec` work without a kubelet client certificate on the apiserver;
#   - `hostname -i` is 127.0.0.1: the node gets its own address on a dummy interface
#     (NODE_IP; an empty bridge, as this kernel has no dummy driver), which the apiserver also listens on and advertises for the `kubernetes` Service;
#   - Bidirectional mount propagation needs the kubelet's root on a shared mount;
#   - no pulls: the sandbox image is a static pause binary built here (cluster/pause.c).
#
# Files in DIR: the control plane's (see controlplane.sh), and
#   cluster.env          KUBECONFIG, NODE_NAME, NODE_IP, KUBELET_DIR, CONTAINERD_SOCK, CTR
#   containerd/          config.toml, root, state, containerd.sock
#   kubelet/             the kubelet's root directory (--root-dir)
#   (DIR itself is bind-mounted on itself as a shared mount, for Bidirectional propagation)
#   cni/net.d, cni/ipam  the bridge network's configuration and address leases
#   node/                the kubelet's configuration
#   {kubelet,scheduler,kube-proxy}.kubeconfig   their credentials (controlplane.sh client)
#   logs/{containerd,kube-scheduler,kubelet,kube-proxy,snapshot-controller}.log
#
# Environment:
#   REMAP_CACHE               binaries in $REMAP_CACHE/bin (go-tools.sh, sidecars.sh)
#   REMAP_CLUSTER_NODE_IP     default 10.240.0.1 (on interface remapnode0)
#   REMAP_CLUSTER_POD_CIDR    default 10.241.0.0/24 (bridge remapbr0)
#   REMAP_CLUSTER_TIMEOUT     seconds to wait for the node (default 120)
set -euo pipefail

main() {
  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
  BIN=$REMAP_CACHE/bin
  NODE_IP=${REMAP_CLUSTER_NODE_IP:-10.240.0.1}
  POD_CIDR=${REMAP_CLUSTER_POD_CIDR:-10.241.0.0/24}
  TIMEOUT=${REMAP_CLUSTER_TIMEOUT:-120}
  NODE_NAME=remap-node
  DUMMY=remapnode0
  BRIDGE=remapbr0
  PAUSE_IMAGE=localhost/remap-pause:1
  NODE_COMPONENTS=(kube-scheduler kubelet kube-proxy snapshot-controller)

  (($# >= 2)) || usage
  local cmd=$1
  DIR=$2
  shift 2
  [[ "$DIR" == /* ]] || DIR=$PWD/$DIR
  DIR=${DIR%/}
  case "$cmd" in
    start) mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd -P) && set_paths && cmd_start ;;
    load) set_paths && cmd_load "$@" ;;
    stop) set_paths && cmd_stop ;;
    status) set_paths && cmd_status ;;
    *) usage ;;
  esac
}

usage() {
  sed -n '/^# Usage:/,/^# start /p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
# die and log (messages prefixed with this script's name)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

set_paths() {
  PKI=$DIR/pki
  NODE=$DIR/node
  KUBELET_DIR=$DIR/kubelet
  CTRD=$DIR/containerd
  CONTAINERD_SOCK=$CTRD/containerd.sock
  CNI=$DIR/cni
}

ctr_() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
kubectl_() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" "$@"; }

# --- processes (same conventions as controlplane.sh: DIR/NAME.pid, DIR/logs/NAME.log) ------

pid_of() {
  local f=$DIR/$1.pid pid exe
  [[ -f "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [[ "${exe##*/}" == "$1" ]] || return 1
  echo "$pid"
}

launch() { # name binary args...
  local name=$1 bin=$2 i
  shift 2
  mkdir -p "$DIR/logs"
  [[ -f "$DIR/logs/$name.log" ]] && mv -f "$DIR/logs/$name.log" "$DIR/logs/$name.log.prev"
  rm -f "$DIR/$name.pid"
  # shellcheck disable=SC2016 # $$ and $@ are the child's
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' launch "$DIR/$name.pid" "$bin" "$@" \
    </dev/null >"$DIR/logs/$name.log" 2>&1 &
  disown $! 2>/dev/null || true
  for i in $(seq 250); do pid_of "$name" >/dev/null && return 0; sleep 0.02; done
  die "$name did not start; see $DIR/logs/$name.log: $(tail -n 5 "$DIR/logs/$name.log" 2>/dev/null)"
}

stop_proc() { # name [seconds]
  local pid i
  pid=$(pid_of "$1") || { rm -f "$DIR/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ${2:-15} * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/$1.pid"
}

alive_or_die() {
  local c
  for c in "$@"; do
    pid_of "$c" >/dev/null || die "$c exited; tail of $DIR/logs/$c.log:
$(tail -n 30 "$DIR/logs/$c.log" 2>/dev/null)"
  done
}

# --- credentials ---------------------------------------------------------------------------

node_client() { # name subject -> DIR/name.kubeconfig, a client certificate for the node's parts
  "$HERE/controlplane.sh" client "$DIR" "$1" "$2" >/dev/null
}

# --- pieces ----------------------------------------------------------------------------------

node_network() {
  # This kernel has no dummy driver: an empty bridge holds the node's address instead.
  ip link show "$DUMMY" >/dev/null 2>&1 || ip link add "$DUMMY" type bridge
  ip addr show dev "$DUMMY" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/32" dev "$DUMMY"
  ip link set "$DUMMY" up
  sysctl -qw net.ipv4.ip_forward=1
  # Pods on the bridge reach Services through kube-proxy's rules only if bridged traffic is seen
  # by iptables (built into this kernel; no module to load).
  [[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || sysctl -qw net.bridge.bridge-nf-call-iptables=1
  mkdir -p "$CNI/net.d" "$CNI/ipam"
  cat >"$CNI/net.d/10-remap.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "remap",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$CNI/ipam",
              "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
}

cni_bin_dir() {
  local d
  for d in /usr/lib/cni /opt/cni/bin; do [[ -x "$d/bridge" ]] && { echo "$d"; return; }; done
  die "the CNI plugins are missing (Debian package containernetworking-plugins): run e2e/tools/install.sh"
}

start_containerd() {
  pid_of containerd >/dev/null && return 0
  mkdir -p "$CTRD/root" "$CTRD/state"
  cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # No CAP_SYS_RESOURCE on this machine: a negative oom_score_adj cannot be set.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$(cni_bin_dir)"
    conf_dir = "$CNI/net.d"
EOF
  launch containerd "$(command -v containerd)" --config "$CTRD/config.toml"
  local i
  for i in $(seq 100); do ctr_ version >/dev/null 2>&1 && return 0; alive_or_die containerd; sleep 0.1; done
  die "containerd did not answer on $CONTAINERD_SOCK"
}

pause_image() { # builds (once, cached) and imports the sandbox image
  ctr_ images ls -q 2>/dev/null | grep -qx "$PAUSE_IMAGE" && return 0
  local cache=$REMAP_CACHE/cluster src=$HERE/cluster/pause.c key archive
  key=$(sha256sum "$src" | cut -c1-16)
  archive=$cache/remap-pause-$key.oci.tar
  if [[ ! -s "$archive" ]]; then
    command -v umoci >/dev/null || die "umoci is missing (Debian package umoci): run e2e/tools/install.sh"
    local tmp
    tmp=$(mktemp -d)
    mkdir -p "$cache" "$tmp/bundle/rootfs"
    gcc -static -O2 -s -o "$tmp/pause" "$src" || die "cannot compile $src (gcc with a static libc)"
    umoci init --layout "$tmp/oci" >/dev/null
    umoci new --image "$tmp/oci:1" >/dev/null
    install -D -m 0755 "$tmp/pause" "$tmp/rootfs/pause"
    umoci insert --image "$tmp/oci:1" "$tmp/rootfs/pause" /pause >/dev/null
    umoci config --image "$tmp/oci:1" --config.entrypoint /pause --config.user 65535:65535 >/dev/null
    oci_name "$tmp/oci" "$PAUSE_IMAGE"
    tar -C "$tmp/oci" -cf "$archive.tmp" . && mv -f "$archive.tmp" "$archive"
    rm -rf "$tmp"
  fi
  ctr_ images import "$archive" >/dev/null || die "cannot import $archive"
}

oci_name() { # layout full-name: the manifest's names as containerd's import reads them
  python3 - "$1/index.json" "$2" <<'EOF'
import json, sys
path, name = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})
    m["annotations"]["io.containerd.image.name"] = name
    m["annotations"]["org.opencontainers.image.ref.name"] = name.rsplit(":", 1)[1]
json.dump(index, open(path, "w"))
EOF
}

shared_dir() {
  # Bidirectional mount propagation (the CSI node plugin's mounts reaching the kubelet, and the
  # node's FUSE mounts in its state directory) needs host paths on a shared mount; / is private
  # on this machine. DIR itself becomes one, so every hostPath under it qualifies.
  if [[ "$(findmnt -n -o TARGET --target "$DIR")" != "$DIR" ]]; then
    mount --bind "$DIR" "$DIR"
  fi
  mount --make-rshared "$DIR"
}

start_kubelet() {
  pid_of kubelet >/dev/null && return 0
  node_client kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  mkdir -p "$KUBELET_DIR" "$NODE/manifests"
  local healthz
  healthz=$(free_port)
  cat >"$NODE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 only on this machine
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
# Test cluster only: anyone may use the kubelet's API (logs, exec) without a client certificate.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: AlwaysAllow}
staticPodPath: $NODE/manifests
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
# Images cannot be pulled again here: never collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
rotateCertificates: false
serverTLSBootstrap: false
EOF
  echo "KUBELET_HEALTHZ_PORT=$healthz" >"$NODE/kubelet.env"
  launch kubelet "$BIN/kubelet" --config="$NODE/kubelet.yaml" --kubeconfig="$DIR/kubelet.kubeconfig" \
    --root-dir="$KUBELET_DIR" --cert-dir="$NODE/kubelet-pki" --node-ip="$NODE_IP" \
    --hostname-override="$NODE_NAME" --v=1
}

start_scheduler() {
  pid_of kube-scheduler >/dev/null && return 0
  node_client scheduler "/CN=system:kube-scheduler"
  launch kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$DIR/scheduler.kubeconfig" --authorization-kubeconfig="$DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false
}

start_proxy() {
  pid_of kube-proxy >/dev/null && return 0
  node_client kube-proxy "/CN=system:kube-proxy"
  # --conntrack-max-per-core=0: leave the kernel's conntrack table size alone.
  launch kube-proxy "$BIN/kube-proxy" --kubeconfig="$DIR/kube-proxy.kubeconfig" --proxy-mode=iptables \
    --hostname-override="$NODE_NAME" --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 \
    --healthz-bind-address="127.0.0.1:$(free_port)" --metrics-bind-address="127.0.0.1:$(free_port)"
}

snapshot_infra() { # the VolumeSnapshot CRDs and controller: cluster infrastructure for CSI snapshots
  local crds=$REMAP_CACHE/snapshot-crds
  [[ -d "$crds" && -x "$BIN/snapshot-controller" ]] || die "the snapshot CRDs or controller are missing: run e2e/tools/sidecars.sh"
  kubectl_ apply --server-side -f "$crds" >/dev/null
  pid_of snapshot-controller >/dev/null ||
    launch snapshot-controller "$BIN/snapshot-controller" --kubeconfig="$DIR/kubeconfig" --leader-election=false
}

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((33000 + RANDOM % 8000))
    [[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]] && { echo "$p"; return; }
  done
  die "found no free port"
}

node_ready() {
  kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

service_routed() { # kube-proxy has programmed the `kubernetes` Service
  iptables -t nat -S KUBE-SERVICES 2>/dev/null | grep -q 'default/kubernetes:https'
}

# --- commands --------------------------------------------------------------------------------

cmd_start() {
  local b t0=$SECONDS
  for b in kubelet kube-scheduler kube-proxy kubectl snapshot-controller; do
    [[ -x "$BIN/$b" ]] || die "$BIN/$b is missing: run e2e/tools/install.sh"
  done
  for b in containerd runc ctr iptables umoci gcc findmnt; do
    command -v "$b" >/dev/null || die "$b is missing: run e2e/tools/install.sh"
  done
  [[ "$(id -u)" == 0 ]] || die "a kubelet and a container runtime need root"
  mkdir -p "$NODE" "$DIR/logs"
  shared_dir
  node_network
  "$HERE/controlplane.sh" start "$DIR" --node-ip "$NODE_IP" >"$DIR/logs/controlplane-start.log" 2>&1 ||
    die "the control plane did not start: $(tail -n 20 "$DIR/logs/controlplane-start.log")"
  # The node's components hold the apiserver's address from when they started: if a restarted
  # control plane had to take another port, they start again with the new one.
  local port
  port=$(sed -n 's/^APISERVER_PORT=//p' "$DIR/env")
  if [[ -f "$NODE/apiserver.port" && "$(<"$NODE/apiserver.port")" != "$port" ]]; then
    log "the apiserver moved to port $port: restarting ${NODE_COMPONENTS[*]}"
    for b in "${NODE_COMPONENTS[@]}"; do stop_proc "$b"; done
  fi
  echo "$port" >"$NODE/apiserver.port"
  start_containerd
  pause_image
  start_scheduler
  start_kubelet
  start_proxy
  snapshot_infra
  cat >"$DIR/cluster.env" <<EOF
KUBECONFIG=$DIR/kubeconfig
NODE_NAME=$NODE_NAME
NODE_IP=$NODE_IP
KUBELET_DIR=$KUBELET_DIR
CONTAINERD_SOCK=$CONTAINERD_SOCK
EOF
  local deadline=$((SECONDS + TIMEOUT))
  until node_ready && service_routed; do
    alive_or_die containerd "${NODE_COMPONENTS[@]}"
    ((SECONDS < deadline)) || die "node $NODE_NAME not Ready (or the kubernetes Service not routed) after ${TIMEOUT}s; see $DIR/logs/kubelet.log, kube-proxy.log"
    sleep 0.5
  done
  echo "cluster ready in $((SECONDS - t0))s: node $NODE_NAME ($NODE_IP) Ready, kubelet $("$BIN/kubelet" --version | awk '{print $2}'), containerd $(containerd --version | awk '{print $3}')"
  echo "KUBECONFIG=$DIR/kubeconfig   (all settings: source $DIR/cluster.env)"
}

cmd_load() {
  (($#)) || die "load: no archive given"
  pid_of containerd >/dev/null || die "containerd is not running in $DIR: run cluster.sh start first"
  local a
  for a in "$@"; do
    [[ -s "$a" ]] || die "no image archive at $a"
    ctr_ images import "$a" >/dev/null || die "cannot import $a"
    log "imported $a"
  done
}

cmd_stop() {
  [[ -d "$DIR" ]] || { log "no such directory $DIR; nothing to stop"; return 0; }
  local c
  for c in snapshot-controller kube-proxy kubelet kube-scheduler; do stop_proc "$c"; done
  # The pods' processes belong to containerd's shims, not to containerd: kill them through
  # their cgroups (all under kubepods with the cgroupfs driver), then the shims of this runtime.
  local f pid
  for f in /sys/fs/cgroup/pids/kubepods/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/cgroup.procs \
    /sys/fs/cgroup/pids/kubepods/*/*/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/*/*/cgroup.procs; do
    [[ -f "$f" ]] || continue
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$f"
  done
  for pid in $(pgrep -f "containerd-shim.*-address $CONTAINERD_SOCK" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  stop_proc containerd
  # Mounts left by pods, the CSI node plugin and containerd, deepest first.
  { findmnt -rn -o TARGET | grep -E "^$DIR/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # Loop devices whose backing files lived in the cluster's directories.
  for f in /sys/block/loop*/loop/backing_file; do
    [[ -f "$f" ]] || continue
    grep -q "^$DIR/" "$f" 2>/dev/null && losetup -d "/dev/$(basename "$(dirname "$(dirname "$f")")")" 2>/dev/null || true
  done
  # Pod network namespaces containerd pinned (its CNI teardown never ran: it was stopped first).
  local ns
  for ns in /run/netns/cni-*; do
    [[ -e "$ns" ]] || continue
    ip netns exec "${ns##*/}" ip -4 -o addr 2>/dev/null | grep -q " ${POD_CIDR%.*}\." && ip netns delete "${ns##*/}" 2>/dev/null || true
  done
  [[ -x "$BIN/kube-proxy" ]] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  drop_chains
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$DUMMY" 2>/dev/null || true
  rm -rf "$CNI/ipam"
  "$HERE/controlplane.sh" stop "$DIR"
  [[ "$(findmnt -n -o TARGET --target "$DIR" 2>/dev/null)" != "$DIR" ]] || umount -l "$DIR" 2>/dev/null || true
}

drop_chains() { # the kubelet's (KUBE-*) and the CNI plugins' (CNI-*) iptables chains and the jumps to them
  local table
  for table in filter nat mangle; do
    iptables-save -t "$table" 2>/dev/null | python3 -c '
import re, sys
out = []
for line in sys.stdin:
    if re.match(r"^:(KUBE|CNI)-", line) or re.search(r"-[AIj] (KUBE|CNI)-", line) and not line.startswith(":"):
        continue
    out.append(line)
sys.stdout.write("".join(out))' | iptables-restore 2>/dev/null || true
  done
}

cmd_status() {
  local c rc=0
  for c in containerd "${NODE_COMPONENTS[@]}"; do
    if pid_of "$c" >/dev/null; then echo "$c: running"; else echo "$c: stopped"; rc=1; fi
  done
  "$HERE/controlplane.sh" status "$DIR" || rc=1
  if node_ready; then echo "node $NODE_NAME: Ready"; else echo "node $NODE_NAME: not Ready"; rc=1; fi
  return $rc
}

main "$@"
