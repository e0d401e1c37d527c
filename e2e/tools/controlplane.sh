#!/usr/bin/env bash
# Runs a local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager) on 127.0.0.1 only, from the binaries that
# e2e/tools/go-tools.sh builds into $REMAP_CACHE/bin. No kubelet, scheduler or
# nodes: the API, CRDs, RBAC, admission and the built-in controllers work; pods
# are stored but never run. The aggregation layer is on (front-proxy client cert,
# requestheader flags), so an APIService can put another API server behind the
# apiserver; with no kube-proxy, back it with an ExternalName Service (localhost).
#
# Usage:
#   controlplane.sh start  DIR [--etcd-port N] [--etcd-peer-port N]
#                              [--apiserver-port N] [--controller-manager-port N]
#                              [--node-ip IP]
#   controlplane.sh stop   DIR
#   controlplane.sh client DIR NAME SUBJECT
#   controlplane.sh status DIR
#
# start  Ports not given are picked free on 127.0.0.1 (the previous start's
#        ports are reused when still free), so several control planes can run
#        at once in different DIRs. Returns once /readyz of the apiserver and
#        /healthz of the controller-manager answer ok and the `default`
#        ServiceAccount exists; on timeout prints the logs' tails, stops what it
#        started and exits 1.
#        If the control plane in DIR is already running and ready, does nothing.
#        --node-ip IP: for a cluster with a kubelet (e2e/tools/cluster.sh): the apiserver
#        also listens on IP (it binds 0.0.0.0), advertises IP as the `kubernetes` Service's
#        endpoint (lease reconciler) and its certificate names IP, so pods reach it
#        through the Service once kube-proxy runs.
#        The processes outlive the script; stop them with `stop`.
# stop   SIGTERM, wait (bounded), then SIGKILL. Fine if already stopped.
#        Keeps DIR (data, certs); `start DIR` again resumes with the same data.
# client Writes DIR/NAME.kubeconfig for a client certificate with SUBJECT (e.g.
#        "/O=system:nodes/CN=system:node:n1"), signed by the CA once and kept in pki/;
#        the server is the node IP given at start, else 127.0.0.1 (cluster.sh: node parts).
# status Says which processes run and whether /readyz answers; exit 0 only
#        when all three run and the apiserver is ready.
#
# Files in DIR:
#   kubeconfig                admin kubeconfig (CN=remap-admin, O=system:masters), data inlined
#   env                       shell-sourceable: KUBECONFIG, APISERVER_URL, ETCD_ENDPOINTS, *_PORT
#   pki/                      CA, apiserver serving cert, client certs, service-account keys,
#                             and the aggregation layer's front-proxy CA and client cert
#                             (made with openssl once, reused by later starts)
#   controller-manager.kubeconfig
#   etcd/                     etcd data
#   logs/{etcd,kube-apiserver,kube-controller-manager}.log   (previous run's: *.log.prev)
#   {etcd,kube-apiserver,kube-controller-manager}.pid
#
# Environment:
#   REMAP_CACHE          default ${XDG_CACHE_HOME:-$HOME/.cache}/remap; binaries in $REMAP_CACHE/bin
#   REMAP_CP_TIMEOUT     seconds to wait for readiness (default 90)
#   REMAP_CP_WAIT_SA     set to 0 not to wait for the `default` ServiceAccount (saves ~5 s
#                        on a fresh DIR; pods created before it exists are refused)
#   REMAP_CP_ETCD_FSYNC  set to 1 to keep etcd's fsync (default: --unsafe-no-fsync, test data only)
#
# Needs: openssl, curl; ss (iproute2) is used to see busy ports when present.
set -euo pipefail

REMAP_CACHE=${REMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remap}
BIN=$REMAP_CACHE/bin
TIMEOUT=${REMAP_CP_TIMEOUT:-90}
SERVICE_CIDR=10.0.0.0/24
SERVICE_IP=10.0.0.1
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

# die and log (messages prefixed with this script's name)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() {
  sed -n '/^# Usage:/,/^# Needs:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- processes ----------------------------------------------------------------

pid_of() { # component -> prints the pid if DIR's pidfile names a live process of it
  local f=$DIR/$1.pid pid exe
  [[ -f "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the process must run a binary of that name.
  exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [[ "${exe##*/}" == "$1" ]] || return 1
  echo "$pid"
}

launch() { # component args... -> runs it detached (own session), log and pid in DIR
  local c=$1
  shift
  local logf=$DIR/logs/$c.log
  [[ -f "$logf" ]] && mv -f "$logf" "$logf.prev"
  rm -f "$DIR/$c.pid"
  # The child writes its own pid before exec'ing the binary, so the pidfile
  # names the real process whatever setsid does.
  # shellcheck disable=SC2016 # $$ and $@ are the child's
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' launch "$DIR/$c.pid" "$BIN/$c" "$@" \
    </dev/null >"$logf" 2>&1 &
  disown $! 2>/dev/null || true
  local i
  for i in $(seq 50); do [[ -s "$DIR/$c.pid" ]] && break; sleep 0.02; done
  [[ -s "$DIR/$c.pid" ]] || die "could not start $c"
  # The pid is written just before the exec: until the exec is done the process still runs bash,
  # and pid_of (which checks the binary's name) would report the component as gone.
  local pid
  pid=$(<"$DIR/$c.pid")
  for i in $(seq 250); do
    pid_of "$c" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 0 # exited already: check_alive reports it with its log
    sleep 0.02
  done
}

STOPPED=()
stop_group() { # components... -> SIGTERM them together, wait up to 20 s, then SIGKILL
  local c pid pids=() names=() i alive
  for c in "$@"; do
    if pid=$(pid_of "$c"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$c")
      STOPPED+=("$c")
    fi
  done
  for ((i = 0; i < 250; i++)); do # 200 x 0.1 s for SIGTERM, then 50 for SIGKILL
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    if ((i == 200)); then
      for c in "${!pids[@]}"; do
        if kill -0 "${pids[$c]}" 2>/dev/null; then
          log "${names[$c]} (pid ${pids[$c]}) did not exit within 20 s of SIGTERM; sending SIGKILL"
          kill -KILL "${pids[$c]}" 2>/dev/null || true
        fi
      done
    fi
    sleep 0.1
  done
  for c in "$@"; do rm -f "$DIR/$c.pid"; done
}

stop_all() {
  STOPPED=()
  # etcd last: an apiserver whose etcd is gone hangs in its shutdown.
  stop_group kube-controller-manager kube-apiserver
  stop_group etcd
  release_ports
  if ((${#STOPPED[@]})); then log "stopped ${STOPPED[*]} in $DIR"; else log "nothing running in $DIR"; fi
}

# --- http checks --------------------------------------------------------------

api_get() { # path -> body; authenticates as admin
  curl -sS --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT$1" 2>/dev/null
}
apiserver_ready() { [[ "$(api_get /readyz)" == ok ]]; }
kcm_healthy() {
  [[ "$(curl -sS -k --max-time 3 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null)" == ok ]]
}
default_sa_exists() {
  api_get /api/v1/namespaces/default/serviceaccounts/default | grep -q '"kind": *"ServiceAccount"'
}

# --- ports --------------------------------------------------------------------

port_busy() { # port -> 0 when something on this host uses it
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Ports handed out recently by any start (of this user), so that two starts
# running at the same time do not pick the same ones before either has bound.
RESERVE_DIR=${TMPDIR:-/tmp}/remap-controlplane-ports-$(id -u)
port_reserved() { [[ -e "$RESERVE_DIR/$1" ]]; }
reserve_port() { touch "$RESERVE_DIR/$1"; }
release_ports() { # -> forget the reservations of DIR's ports (bound now, or stopped)
  local p
  [[ -f "$DIR/env" ]] || return 0
  while read -r p; do rm -f "$RESERVE_DIR/$p"; done < <(sed -n 's/^[A-Z_]*_PORT=//p' "$DIR/env")
}

pick_port() { # preferred-or-empty -> prints a free port; below the ephemeral range
  local p=$1 i
  if [[ -n "$p" ]] && ! port_busy "$p" && ! port_reserved "$p"; then
    reserve_port "$p"; echo "$p"; return
  fi
  for i in $(seq 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if ! port_busy "$p" && ! port_reserved "$p"; then
      reserve_port "$p"; echo "$p"; return
    fi
  done
  die "found no free port"
}

choose_ports() {
  local prev_etcd="" prev_peer="" prev_api="" prev_kcm=""
  if [[ -f "$DIR/env" ]]; then
    prev_etcd=$(sed -n 's/^ETCD_PORT=//p' "$DIR/env")
    prev_peer=$(sed -n 's/^ETCD_PEER_PORT=//p' "$DIR/env")
    prev_api=$(sed -n 's/^APISERVER_PORT=//p' "$DIR/env")
    prev_kcm=$(sed -n 's/^CONTROLLER_MANAGER_PORT=//p' "$DIR/env")
  fi
  mkdir -p "$RESERVE_DIR"
  exec 8>"$RESERVE_DIR.lock"
  command -v flock >/dev/null 2>&1 && flock 8
  find "$RESERVE_DIR" -type f -mmin +2 -delete 2>/dev/null || true
  local name var
  for name in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT; do
    var=ARG_$name
    if [[ -n "${!var}" ]]; then
      port_busy "${!var}" && die "port ${!var} is in use"
      reserve_port "${!var}"
      printf -v "$name" %s "${!var}"
    fi
  done
  [[ -n "$ETCD_PORT" ]] || ETCD_PORT=$(pick_port "$prev_etcd")
  [[ -n "$ETCD_PEER_PORT" ]] || ETCD_PEER_PORT=$(pick_port "$prev_peer")
  [[ -n "$APISERVER_PORT" ]] || APISERVER_PORT=$(pick_port "$prev_api")
  [[ -n "$KCM_PORT" ]] || KCM_PORT=$(pick_port "$prev_kcm")
  exec 8>&-
  local all="$ETCD_PORT $ETCD_PEER_PORT $APISERVER_PORT $KCM_PORT"
  [[ $(tr ' ' '\n' <<<"$all" | sort -u | wc -l) -eq 4 ]] || die "ports must differ: $all"
}

# --- certificates -------------------------------------------------------------

# EC P-256 keys take milliseconds to make, RSA ones a second or more on a busy
# machine. The admin key is RSA (PKCS#8) all the same: Java clients such as
# fabric8's read RSA keys without extra libraries, EC ones need BouncyCastle.
gen_key() { # file [rsa]
  if [[ "${2:-}" == rsa ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
  chmod 600 "$1"
}

sign_cert() { # name subject extensions(cnf body) [rsa] [ca-name]
  local name=$1 subj=$2 ext=$3 ca=${5:-ca}
  gen_key "$PKI/$name.key" "${4:-}"
  printf '[ext]\n%s\n' "$ext" >"$PKI/$name.ext"
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 \
    -extfile "$PKI/$name.ext" -extensions ext -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

make_ca() { # name common-name
  gen_key "$PKI/$1.key"
  printf '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' >"$PKI/$1.cnf"
  openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -config "$PKI/$1.cnf" -extensions ext -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.cnf"
}

LEAF='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
authorityKeyIdentifier=keyid'

sign_apiserver() {
  sign_cert apiserver "/CN=kube-apiserver" "$LEAF
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP${NODE_IP:+,IP:$NODE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
}

ensure_pki() {
  local want=(ca.crt ca.key apiserver.crt apiserver.key admin.crt admin.key
    controller-manager.crt controller-manager.key sa.key sa.pub
    front-proxy-ca.crt front-proxy-ca.key front-proxy-client.crt front-proxy-client.key)
  local f missing=0
  for f in "${want[@]}"; do [[ -s "$PKI/$f" ]] || missing=1; done
  if ((!missing)); then
    # A node IP the serving certificate does not name yet: re-sign that certificate only.
    if [[ -n "$NODE_IP" ]] && ! openssl x509 -in "$PKI/apiserver.crt" -noout -ext subjectAltName 2>/dev/null |
      grep -q "IP Address:$NODE_IP\(,\|$\)"; then
      sign_apiserver
    fi
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl is needed to make certificates"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  make_ca ca remap-ca
  # The aggregation layer's own CA: aggregated API servers (KubeVirt's virt-api) trust it for
  # the front-proxy client cert the apiserver presents when it forwards a request to them.
  make_ca front-proxy-ca remap-front-proxy-ca
  local leaf=$LEAF
  sign_apiserver
  sign_cert admin "/O=system:masters/CN=remap-admin" "$leaf
extendedKeyUsage=clientAuth" rsa
  sign_cert controller-manager "/CN=system:kube-controller-manager" "$leaf
extendedKeyUsage=clientAuth"
  sign_cert front-proxy-client "/CN=front-proxy-client" "$leaf
extendedKeyUsage=clientAuth" "" front-proxy-ca
  gen_key "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  for f in "${want[@]}"; do [[ -s "$PKI/$f" ]] || die "openssl did not produce $PKI/$f"; done
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() { # file user cert key [server host]
  local tmp=$1.tmp
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: remap
  cluster:
    server: https://${5:-127.0.0.1}:$APISERVER_PORT
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$3")
    client-key-data: $(b64 "$4")
contexts:
- name: remap
  context:
    cluster: remap
    user: $2
    namespace: default
current-context: remap
EOF
  mv -f "$tmp" "$1"
}

# --- commands -----------------------------------------------------------------

load_env_ports() {
  APISERVER_PORT="" KCM_PORT=""
  if [[ -f "$DIR/env" ]]; then
    APISERVER_PORT=$(sed -n 's/^APISERVER_PORT=//p' "$DIR/env")
    KCM_PORT=$(sed -n 's/^CONTROLLER_MANAGER_PORT=//p' "$DIR/env")
  fi
}

print_tails() {
  local c
  for c in "${COMPONENTS[@]}"; do
    echo "----- tail of $DIR/logs/$c.log -----" >&2
    tail -n 25 "$DIR/logs/$c.log" >&2 2>/dev/null || true
  done
}

check_alive() { # components... -> stops everything and exits 1 when one has exited
  local c
  for c in "$@"; do
    if ! pid_of "$c" >/dev/null; then
      log "$c exited during start-up"
      print_tails
      stop_all
      exit 1
    fi
  done
}

start_timed_out() { # api kcm sa
  log "timed out after ${TIMEOUT}s (apiserver /readyz ok: $1, controller-manager /healthz ok: $2, default ServiceAccount: $3)"
  print_tails
  stop_all
  log "logs kept in $DIR/logs"
  exit 1
}

cmd_start() {
  local c b
  for b in "${COMPONENTS[@]}" kubectl; do
    [[ -x "$BIN/$b" ]] || die "$BIN/$b is missing: run e2e/tools/go-tools.sh first"
  done
  command -v curl >/dev/null 2>&1 || die "curl is needed to check readiness"
  local t0ns
  t0ns=$(date +%s%N)
  umask 077 # keys, kubeconfigs and data are for this user only

  # Already running and ready? Then there is nothing to do.
  load_env_ports
  local running=0
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null && running=$((running + 1)); done
  if ((running == 3)) && [[ -n "$APISERVER_PORT" ]] && apiserver_ready; then
    log "already running in $DIR"
    print_summary 0
    return 0
  fi
  ((running == 0)) || { log "restarting a partly running control plane in $DIR"; stop_all; }

  ETCD_PORT="" ETCD_PEER_PORT="" APISERVER_PORT="" KCM_PORT=""
  choose_ports
  mkdir -p "$DIR/logs" "$DIR/etcd"
  chmod 700 "$DIR/etcd"
  ensure_pki
  write_kubeconfig "$DIR/kubeconfig" remap-admin "$PKI/admin.crt" "$PKI/admin.key"
  write_kubeconfig "$DIR/controller-manager.kubeconfig" system:kube-controller-manager \
    "$PKI/controller-manager.crt" "$PKI/controller-manager.key"
  cat >"$DIR/env" <<EOF
KUBECONFIG=$DIR/kubeconfig
APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
ETCD_ENDPOINTS=http://127.0.0.1:$ETCD_PORT
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
CONTROLLER_MANAGER_PORT=$KCM_PORT
NODE_IP=$NODE_IP
EOF

  local fsync=(--unsafe-no-fsync)
  [[ "${REMAP_CP_ETCD_FSYNC:-0}" == 1 ]] && fsync=()
  launch etcd \
    --name=default --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state=new \
    "${fsync[@]}" --log-level=warn

  # The apiserver retries etcd until it answers, so both start at once.
  local reach=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none)
  # Nodes are reached at their InternalIP: their names are not in any DNS here (kubectl logs, exec).
  [[ -z "$NODE_IP" ]] || reach=(--bind-address=0.0.0.0 --advertise-address="$NODE_IP" --endpoint-reconciler-type=lease
    --kubelet-preferred-address-types=InternalIP,Hostname)
  launch kube-apiserver \
    "${reach[@]}" \
    --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --allow-privileged=true \
    --profiling=false

  local deadline=$((SECONDS + TIMEOUT)) api=0 kcm=0 sa=0
  [[ "${REMAP_CP_WAIT_SA:-1}" != 0 ]] || sa=1
  T_API="" T_KCM=""
  # The controller-manager exits when its first requests are refused, which
  # they are until the apiserver has made the bootstrap RBAC roles: start it
  # once /readyz (which waits for those) is ok.
  until ((api)); do
    check_alive etcd kube-apiserver
    apiserver_ready && api=1 && T_API=$(since "$t0ns") && break
    ((SECONDS < deadline)) || start_timed_out "$api" "$kcm" "$sa"
    sleep 0.1
  done

  launch kube-controller-manager \
    --kubeconfig="$DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --cert-dir="$PKI/controller-manager-serving" \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --leader-elect=false \
    --profiling=false

  until ((kcm && sa)); do
    check_alive "${COMPONENTS[@]}"
    ((kcm)) || { kcm_healthy && kcm=1 && T_KCM=$(since "$t0ns"); } || true
    # Pods need the `default` ServiceAccount, which the controller-manager makes.
    ((!kcm || sa)) || { default_sa_exists && sa=1; } || true
    ((kcm && sa)) && break
    ((SECONDS < deadline)) || start_timed_out "$api" "$kcm" "$sa"
    sleep 0.1
  done
  release_ports
  print_summary "$(since "$t0ns")"
}

since() { # start in ns -> seconds elapsed, e.g. 3.42
  local ms=$((($(date +%s%N) - $1) / 1000000))
  printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

print_summary() { # start time in s, 0 when it was already running
  local v_api v_kcm v_kubectl v_etcd
  v_api=$("$BIN/kube-apiserver" --version 2>/dev/null | awk '{print $2}')
  v_kcm=$("$BIN/kube-controller-manager" --version 2>/dev/null | awk '{print $2}')
  v_kubectl=$("$BIN/kubectl" version --client 2>/dev/null | awk '/^Client Version/{print $3}')
  v_etcd=$("$BIN/etcd" --version 2>/dev/null | awk -F': ' '/^etcd Version/{print $2}')
  load_env_ports
  [[ "${1:-0}" == 0 ]] ||
    echo "control plane ready in ${1}s (apiserver /readyz ok after ${T_API}s, controller-manager /healthz after ${T_KCM}s$([[ "${REMAP_CP_WAIT_SA:-1}" == 0 ]] || echo ", then the default ServiceAccount"))"
  echo "kube-apiserver $v_api on https://127.0.0.1:$APISERVER_PORT, kube-controller-manager $v_kcm on :$KCM_PORT, etcd $v_etcd on :$(sed -n 's/^ETCD_PORT=//p' "$DIR/env")"
  echo "kubectl $v_kubectl: $BIN/kubectl"
  echo "KUBECONFIG=$DIR/kubeconfig   (all settings: source $DIR/env)"
}

cmd_stop() {
  [[ -d "$DIR" ]] || { log "no such directory $DIR; nothing to stop"; return 0; }
  stop_all
}

cmd_client() { # name subject
  [[ -f "$DIR/env" && -s "$PKI/ca.key" ]] || die "no control plane in $DIR: run start first"
  load_env_ports
  local node_ip
  node_ip=$(sed -n 's/^NODE_IP=//p' "$DIR/env")
  [[ -s "$PKI/client-$1.crt" ]] || sign_cert "client-$1" "$2" "$LEAF
extendedKeyUsage=clientAuth"
  write_kubeconfig "$DIR/$1.kubeconfig" "$1" "$PKI/client-$1.crt" "$PKI/client-$1.key" "${node_ip:-127.0.0.1}"
}

cmd_status() {
  local c pid n=0
  load_env_ports
  for c in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$c"); then
      echo "$c: running (pid $pid)"
      n=$((n + 1))
    else
      echo "$c: stopped"
    fi
  done
  if [[ -n "$APISERVER_PORT" && -s "$PKI/admin.key" ]] && apiserver_ready; then
    echo "apiserver https://127.0.0.1:$APISERVER_PORT/readyz: ok"
    ((n == 3)) && return 0
  else
    echo "apiserver /readyz: not answering"
  fi
  return 1
}

# --- main ---------------------------------------------------------------------

main() {
  (($# >= 2)) || usage
  CMD=$1
  DIR=$2
  shift 2
  if [[ "$CMD" == client ]]; then
    (($# == 2)) || usage
    [[ "$DIR" == /* ]] || DIR=$PWD/$DIR
    DIR=${DIR%/}
    PKI=$DIR/pki
    cmd_client "$1" "$2"
    return
  fi
  [[ "$DIR" == /* ]] || DIR=$PWD/$DIR
  DIR=${DIR%/}
  PKI=$DIR/pki
  ARG_ETCD_PORT="" ARG_ETCD_PEER_PORT="" ARG_APISERVER_PORT="" ARG_KCM_PORT="" NODE_IP=""
  while (($#)); do
    case "$1" in
      --etcd-port) ARG_ETCD_PORT=${2:?}; shift 2 ;;
      --etcd-peer-port) ARG_ETCD_PEER_PORT=${2:?}; shift 2 ;;
      --apiserver-port) ARG_APISERVER_PORT=${2:?}; shift 2 ;;
      --controller-manager-port) ARG_KCM_PORT=${2:?}; shift 2 ;;
      --etcd-port=*) ARG_ETCD_PORT=${1#*=}; shift ;;
      --etcd-peer-port=*) ARG_ETCD_PEER_PORT=${1#*=}; shift ;;
      --apiserver-port=*) ARG_APISERVER_PORT=${1#*=}; shift ;;
      --controller-manager-port=*) ARG_KCM_PORT=${1#*=}; shift ;;
      --node-ip) NODE_IP=${2:?}; shift 2 ;;
      --node-ip=*) NODE_IP=${1#*=}; shift ;;
      *) echo "controlplane.sh: unknown argument: $1" >&2; usage ;;
    esac
  done
  for v in ARG_ETCD_PORT ARG_ETCD_PEER_PORT ARG_APISERVER_PORT ARG_KCM_PORT; do
    [[ -z "${!v}" || "${!v}" =~ ^[0-9]+$ ]] || die "not a port number: ${!v}"
  done
  [[ -z "$NODE_IP" || "$NODE_IP" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "not an IPv4 address: $NODE_IP"
  [[ "$CMD" == start ]] || [[ -z "$ARG_ETCD_PORT$ARG_ETCD_PEER_PORT$ARG_APISERVER_PORT$ARG_KCM_PORT$NODE_IP" ]] ||
    die "port options are for start only"

  case "$CMD" in
    start) mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd -P); PKI=$DIR/pki; cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
