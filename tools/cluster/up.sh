#!/usr/bin/env bash
# Start a throwaway control plane on loopback: etcd, kube-apiserver (PodSecurity "restricted"
# enforced cluster-wide, kube-system exempt), kube-controller-manager, kube-scheduler and kwok
# with $NODES fake nodes. Writes $CLUSTER_DIR/admin.kubeconfig and $CLUSTER_DIR/env, and prints
# the export lines on stdout. Progress and errors go to stderr. See docs/contributing/cluster.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$HERE/lib.sh"
NODES="${NODES:-3}"
ZONES="${ZONES:-3}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
START=$SECONDS

log() { printf '[up %3ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BIN="${CLUSTER_BIN:-$("$HERE/build.sh" | tail -n1)}"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing (run tools/cluster/build.sh)"
done

for c in $COMPONENTS; do
  if pid_of "$c" >/dev/null; then die "$c already running from $CLUSTER_DIR; run tools/cluster/down.sh"; fi
done
safe_to_wipe || die "CLUSTER_DIR=$CLUSTER_DIR exists and was not made by up.sh; refusing to wipe it"
for p in "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p on 127.0.0.1 is already in use"; fi
done

on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "startup failed; last log lines follow (full logs in $CLUSTER_DIR)"
  for f in "$CLUSTER_DIR"/*.log; do [ -f "$f" ] && { echo "==> $f" >&2; tail -n 15 "$f" >&2; }; done
  "$HERE/down.sh" >&2 || true
}
trap on_exit EXIT

# a real node of this CLUSTER_DIR that was never torn down (a run killed hard): take it down first,
# while its record of the host's state is still here (node-down.sh acts only on that record)
if [ -f "$HOST_STATE" ]; then "$HERE/node-down.sh" >&2 || true; fi
rm -rf "$CLUSTER_DIR"
D="$CLUSTER_DIR" P="$CLUSTER_DIR/pki"
mkdir -p "$P"
touch "$D/.cdk8s-stateful-cluster"
KUBECONFIG="$D/admin.kubeconfig"
export KUBECONFIG

# --- PKI, token, kubeconfig, admission config ---------------------------------------------
ssl() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed"; }
# the extensions a strict verifier asks of a CA and a server certificate (Python 3.13's ssl, which
# Patroni's client in a pod uses, refuses a CA without keyUsage and a server certificate without
# an authority key identifier), as kubeadm's certificates have them
ssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 365 -subj /CN=cdk8s-stateful-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -addext subjectKeyIdentifier=hash
ssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj /CN=kube-apiserver
{
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n'
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n'
  printf 'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n'
} >"$P/san.ext"
ssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 365 \
  -extfile "$P/san.ext" -out "$P/apiserver.crt"
# the API server's client certificate for kubelets (kubectl logs/exec on the real node)
ssl req -newkey rsa:2048 -nodes -keyout "$P/kubelet-client.key" -out "$P/kubelet-client.csr" \
  -subj "/O=system:masters/CN=kube-apiserver-kubelet-client"
ssl x509 -req -in "$P/kubelet-client.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 365 \
  -out "$P/kubelet-client.crt"
ssl genrsa -out "$P/sa.key" 2048
ssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub"
TOKEN="$(openssl rand -hex 16)"
echo "$TOKEN,admin,admin-uid,\"system:masters\"" >"$D/tokens.csv"
chmod 600 "$D/tokens.csv" "$P"/*.key
cat >"$KUBECONFIG" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: cdk8s-stateful
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$P/ca.crt"}
users:
- name: admin
  user: {token: "$TOKEN"}
contexts:
- name: cdk8s-stateful
  context: {cluster: cdk8s-stateful, user: admin, namespace: default}
current-context: cdk8s-stateful
YAML
chmod 600 "$KUBECONFIG"
cat >"$D/admission.yaml" <<'YAML'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: restricted, enforce-version: latest, warn: restricted, warn-version: latest, audit: restricted, audit-version: latest}
    exemptions: {usernames: [], runtimeClasses: [], namespaces: [kube-system]}
YAML
# Audit only workload writes, so PodSecurity "audit" annotations land in $D/audit.log.
cat >"$D/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch]
  resources:
  - {group: "", resources: [pods]}
  - {group: apps, resources: [statefulsets, deployments, daemonsets, replicasets]}
  - {group: batch, resources: [jobs, cronjobs]}
- level: None
YAML

# --- helpers ---------------------------------------------------------------------------------
# start NAME ARGS...: run $BIN/NAME (see start_component in lib.sh).
start() { local name=$1; shift; start_component "$name" "$BIN/$name" "$@"; }
healthz() { curl -fsk --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }
kc() { "$BIN/kubectl" --request-timeout=5s "$@"; }

# --- etcd ------------------------------------------------------------------------------------
ETCD_URL="http://127.0.0.1:$ETCD_CLIENT_PORT" PEER_URL="http://127.0.0.1:$ETCD_PEER_PORT"
start etcd --name=node0 --data-dir="$D/etcd" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="$PEER_URL" --initial-advertise-peer-urls="$PEER_URL" \
  --initial-cluster="node0=$PEER_URL" --initial-cluster-state=new \
  --unsafe-no-fsync=true --quota-backend-bytes=2147483648 \
  --auto-compaction-mode=periodic --auto-compaction-retention=1h --log-level=warn
wait_for etcd "etcd healthy" sh -c "curl -fs --max-time 2 $ETCD_URL/health | grep -q '\"health\":\"true\"'"

# --- kube-apiserver --------------------------------------------------------------------------
start kube-apiserver --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --cert-dir="$P" --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" --token-auth-file="$D/tokens.csv" \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --enable-admission-plugins=NodeRestriction \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --kubelet-client-certificate="$P/kubelet-client.crt" --kubelet-client-key="$P/kubelet-client.key" \
  --kubelet-certificate-authority="$P/ca.crt" \
  --admission-control-config-file="$D/admission.yaml" \
  --audit-policy-file="$D/audit-policy.yaml" --audit-log-path="$D/audit.log"
wait_for kube-apiserver "kube-apiserver ready" sh -c \
  "curl -fsk --max-time 2 -H 'Authorization: Bearer $TOKEN' https://127.0.0.1:$APISERVER_PORT/readyz | grep -qx ok"

# --- kube-controller-manager, kube-scheduler -------------------------------------------------
start kube-controller-manager --kubeconfig="$KUBECONFIG" \
  --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --leader-elect=false --controllers='*'
start kube-scheduler --kubeconfig="$KUBECONFIG" \
  --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false
wait_for kube-controller-manager "kube-controller-manager healthy" healthz "$KCM_PORT"
wait_for kube-scheduler "kube-scheduler healthy" healthz "$SCHEDULER_PORT"

# --- kwok and fake nodes ---------------------------------------------------------------------
# An explicit, empty config keeps a stray ~/.kwok/kwok.yaml out; with no stages configured,
# kwok v0.7.0 uses its built-in "fast" node and pod stages (v0.8.0 would need them in the file).
echo '# intentionally empty, see tools/cluster/up.sh' >"$D/kwok.yaml"
# kwok plays only its own nodes (label type=kwok): the real node (tools/cluster/node-up.sh) is left alone.
start kwok --config="$D/kwok.yaml" --kubeconfig="$KUBECONFIG" --manage-all-nodes=false \
  --manage-nodes-with-label-selector=type=kwok \
  --cidr=10.244.1.1/16 --node-ip=10.244.0.1 --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$KWOK_PORT"
wait_for kwok "kwok healthy" sh -c "curl -fs --max-time 2 http://127.0.0.1:$KWOK_PORT/healthz | grep -qx ok"

nodes_yaml() {
  local i name
  for i in $(seq 0 $((NODES - 1))); do
    name="kwok-node-$i"
    cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-$((i % ZONES))
    type: kwok
spec:
  providerID: kwok://$name
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 100Gi}
YAML
  done
}
if [ "$NODES" -gt 0 ]; then nodes_yaml | kc apply -f - >/dev/null; fi
nodes_ready() {
  [ "$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{.spec.taints}{"\n"}{end}' \
    | grep -cx True)" -eq "$NODES" ]
}
wait_for kwok "$NODES kwok nodes Ready and untainted" nodes_ready
wait_for kube-controller-manager "default ServiceAccount exists" kc -n default get serviceaccount default

cat >"$D/env" <<ENV
export KUBECONFIG="$KUBECONFIG"
export PATH="$BIN:\$PATH"
ENV
if [ "${REAL_NODE:-0}" = 1 ]; then
  CLUSTER_BIN="$BIN" "$HERE/node-up.sh" || die "the real node did not start (tools/cluster/node-up.sh)"
fi
log "cluster up in $((SECONDS - START))s; logs and PIDs in $D"
cat "$D/env"
