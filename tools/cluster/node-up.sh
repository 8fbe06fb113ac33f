#!/usr/bin/env bash
# Join one real node to the control plane that tools/cluster/up.sh started in $CLUSTER_DIR: a private
# containerd (own root, state, socket and config; never the system service), the kubelet,
# kube-proxy (iptables mode), CoreDNS serving cluster.local from the API server at the cluster DNS
# Service address, and a local-volume provisioner. Imports every image archive in $IMAGES_DIR.
# Run by `REAL_NODE=1 tools/cluster/up.sh`; stopped by tools/cluster/node-down.sh (down.sh runs it). Needs
# root. Progress and errors on stderr. See docs/contributing/cluster.md, "The real node".
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$HERE/lib.sh"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
START=$SECONDS
log() { printf '[node %3ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BIN="${CLUSTER_BIN:-$("$HERE/build.sh" | tail -n1)}"
D="$CLUSTER_DIR" P="$CLUSTER_DIR/pki"
KUBECONFIG="$D/admin.kubeconfig"
export KUBECONFIG
kc() { "$BIN/kubectl" --request-timeout=10s "$@"; }
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# --- can this machine run the node? (say why not, never skip) ------------------------------
[ "$(id -u)" = 0 ] || die "the real node needs root (containerd, the pod bridge, iptables)"
for b in kubelet kube-proxy coredns kubectl; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing (run tools/cluster/build.sh)"
done
for t in containerd containerd-shim-runc-v2 runc ctr iptables ip conntrack socat; do
  command -v "$t" >/dev/null || die "$t not found (run tools/cluster/install-deps.sh)"
done
CNI_BIN="${CNI_BIN:-/usr/lib/cni}"
for p in bridge host-local loopback portmap; do
  [ -x "$CNI_BIN/$p" ] || die "CNI plugin $CNI_BIN/$p missing (run tools/cluster/install-deps.sh)"
done
{ [ -f "$KUBECONFIG" ] && kc get --raw /readyz >/dev/null 2>&1; } ||
  die "no control plane answers in $CLUSTER_DIR (start it with tools/cluster/up.sh)"
for c in $NODE_COMPONENTS; do
  if pid_of "$c" >/dev/null; then die "$c already running from $CLUSTER_DIR; run tools/cluster/node-down.sh"; fi
done
if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
  die "bridge $NODE_BRIDGE exists already (another real node? run tools/cluster/node-down.sh for it)"
fi
for p in "$KUBELET_PORT" "$KUBELET_HEALTHZ_PORT" "$KUBE_PROXY_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT" "$COREDNS_HEALTH_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p on 127.0.0.1 is already in use"; fi
done
ls "$IMAGES_DIR"/*.tar >/dev/null 2>&1 ||
  die "no image archives in $IMAGES_DIR (build them with tools/images/build.sh; the pod sandbox needs the pause image)"

on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "node startup failed; last log lines follow (full logs in $CLUSTER_DIR)"
  for c in $NODE_COMPONENTS; do
    [ -f "$D/$c.log" ] && { echo "==> $D/$c.log" >&2; tail -n 20 "$D/$c.log" >&2; }
  done
  "$HERE/node-down.sh" >&2 || true
}
trap on_exit EXIT

# --- host networking: a bridge for the pods, local only ----------------------------------------
# The bridge exists before the kubelet starts (its --node-ip must be a local address); the CNI
# bridge plugin then attaches each pod to it. A pod gets routes to the pod network and to the
# Service network only (no default route); its traffic is never masqueraded, and a FORWARD rule
# drops anything a pod sends outside the pod network: nothing leaves the machine.
PREFIX="${POD_CIDR#*/}"
# what the host looked like before (node-down.sh restores it and removes only what was added)
save_host_state
ip link add "$NODE_BRIDGE" type bridge
ip addr add "$NODE_IP/$PREFIX" dev "$NODE_BRIDGE"
ip link set "$NODE_BRIDGE" up
# Routing to Service backends needs forwarding; bridged pod-to-pod replies must pass iptables
# (br_netfilter) for kube-proxy's DNAT to be undone.
sysctl -qw net.ipv4.ip_forward=1
modprobe br_netfilter 2>/dev/null || true
sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
  die "net.bridge.bridge-nf-call-iptables cannot be set (br_netfilter missing): Service traffic between pods would break"
iptables -w -I FORWARD -s "$POD_CIDR" ! -d "$POD_CIDR" -m comment --comment "cdk8s-stateful $NODE_BRIDGE: pods stay local" -j DROP

# --- containerd ---------------------------------------------------------------------------------
mkdir -p "$D/containerd" "$D/cni/net.d" "$CONTAINERD_ROOT"
SANDBOX_IMAGE="${SANDBOX_IMAGE:-registry.k8s.io/pause:3.10}"
cat >"$D/containerd/config.toml" <<TOML
version = 2
root = "$CONTAINERD_ROOT"
state = "$D/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  # the sandbox lacks CAP_SYS_RESOURCE: runc must not lower oom_score_adj below its own
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$D/cni/net.d"
TOML
cat >"$D/cni/net.d/10-cdk8s-stateful.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "cdk8s-stateful",
  "plugins": [
    {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$D/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "$SERVICE_CIDR"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start_component containerd containerd --config "$D/containerd/config.toml"
wait_for containerd "containerd ready" ctr_ version

# containers of an earlier run (the root is kept for its images): remove them before the kubelet
for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
for id in $(ctr_ containers ls -q 2>/dev/null); do
  ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true
  ctr_ containers delete "$id" >/dev/null 2>&1 || true
done

# --- images: import each archive unless the same manifest is there already --------------------
for tar in "$IMAGES_DIR"/*.tar; do
  idx="$(tar -xOf "$tar" index.json)" || die "$tar: no index.json (not an OCI archive)"
  ref="$(printf '%s' "$idx" | sed -n 's/.*"io.containerd.image.name":"\([^"]*\)".*/\1/p')"
  digest="$(printf '%s' "$idx" | sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p')"
  { [ -n "$ref" ] && [ -n "$digest" ]; } || die "$tar: index.json names no image"
  if ctr_ images ls "name==$ref" | awk 'NR > 1 {print $3}' | grep -x "$digest" >/dev/null; then continue; fi
  ctr_ images import "$tar" >/dev/null || die "ctr images import $tar failed"
  log "imported $ref ($digest)"
done
ctr_ images ls -q | grep -x "$SANDBOX_IMAGE" >/dev/null ||
  die "the sandbox image $SANDBOX_IMAGE is not among the archives in $IMAGES_DIR (tools/images/build.sh builds it)"

# --- kubelet --------------------------------------------------------------------------------------
ssl() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed"; }
# client certificate (the Node authorizer's identity) and serving certificate for NODE_IP
ssl req -newkey rsa:2048 -nodes -keyout "$P/node.key" -out "$P/node.csr" -subj "/O=system:nodes/CN=system:node:$NODE_NAME"
ssl x509 -req -in "$P/node.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 365 -out "$P/node.crt"
printf 'subjectAltName=IP:%s,DNS:%s\n' "$NODE_IP" "$NODE_NAME" >"$P/node-serving.ext"
ssl req -newkey rsa:2048 -nodes -keyout "$P/node-serving.key" -out "$P/node-serving.csr" -subj "/CN=$NODE_NAME"
ssl x509 -req -in "$P/node-serving.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 365 \
  -extfile "$P/node-serving.ext" -out "$P/node-serving.crt"
chmod 600 "$P"/*.key
SERVER="$(sed -n 's/.*server: "\([^"]*\)".*/\1/p' "$KUBECONFIG")"
cat >"$D/kubelet.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: cdk8s-stateful
  cluster: {server: "$SERVER", certificate-authority: "$P/ca.crt"}
users:
- name: node
  user: {client-certificate: "$P/node.crt", client-key: "$P/node.key"}
contexts:
- name: node
  context: {cluster: cdk8s-stateful, user: node}
current-context: node
YAML
# Facts of this machine kind (docs/contributing/cluster.md): cgroups v1, no systemd, swap allowed.
cat >"$D/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $P/node-serving.crt
tlsPrivateKeyFile: $P/node-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: cluster.local
resolvConf: ""
serializeImagePulls: false
registerNode: true
# The node's images are imported from the cache and cannot be pulled (there is no registry): the
# kubelet must never garbage-collect them. The disk is the machine's, shared with everything else
# on it: a passing spike to 85% once made the kubelet delete the pause image, and every pod after
# that failed to start. No eviction for disk pressure either (a test runs for minutes).
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
# In-place resize needs the pod cgroups that cgroupsPerQOS: false does without: with the gate on,
# the kubelet 1.34.10 panics (nil pointer in doPodResizeAction) when a pod's resources change.
featureGates: {InPlacePodVerticalScaling: false}
YAML
start_component kubelet "$BIN/kubelet" --config="$D/kubelet.yaml" --kubeconfig="$D/kubelet.kubeconfig" \
  --root-dir="$D/kubelet" --cert-dir="$P" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
  --node-labels=type=real
wait_for kubelet "kubelet healthy" sh -c "curl -fs --max-time 2 http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz | grep -qx ok"

# --- cluster DNS: CoreDNS on the node address, behind the kube-dns Service --------------------
cat >"$D/Corefile" <<COREFILE
.:$COREDNS_PORT {
    bind $NODE_IP
    errors
    health 127.0.0.1:$COREDNS_HEALTH_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG
        pods insecure
        ttl 5
    }
}
COREFILE
start_component coredns "$BIN/coredns" -conf "$D/Corefile"
wait_for coredns "CoreDNS healthy" sh -c "curl -fs --max-time 2 http://127.0.0.1:$COREDNS_HEALTH_PORT/health | grep -qx OK"
kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: $CLUSTER_DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: $COREDNS_PORT}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: $COREDNS_PORT}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: cdk8s-stateful.cluster}
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
  nodeName: $NODE_NAME
ports:
- {name: dns, port: $COREDNS_PORT, protocol: UDP}
- {name: dns-tcp, port: $COREDNS_PORT, protocol: TCP}
YAML

# --- the API server for pods: the `kubernetes` Service -------------------------------------------
# The API server listens on loopback only (tools/cluster/up.sh) and reconciles no endpoints for the
# `kubernetes` Service: pods that use the API (Patroni's leader lock) reach it through a forwarder
# on the node address, which the Service's EndpointSlice names. A ServiceAccount token's CA and
# the API server's certificate (its SANs include the Service address) make TLS check out.
start_component apiserver-proxy socat -lf "$D/apiserver-proxy.socat.log" \
  "TCP-LISTEN:$APISERVER_PORT,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$APISERVER_PORT"
wait_for apiserver-proxy "API server reachable on $NODE_IP:$APISERVER_PORT" sh -c \
  "curl -sk --max-time 2 -o /dev/null -w '%{http_code}' https://$NODE_IP:$APISERVER_PORT/readyz | grep -q '^[1-5]'"
kc apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-node
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: cdk8s-stateful.cluster}
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
ports:
- {name: https, port: $APISERVER_PORT, protocol: TCP}
YAML

# --- kube-proxy (iptables): ClusterIP Services --------------------------------------------------
cat >"$D/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $KUBECONFIG}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
start_component kube-proxy "$BIN/kube-proxy" --config="$D/kube-proxy.yaml"
wait_for kube-proxy "kube-proxy healthy" sh -c "curl -fs --max-time 2 http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz >/dev/null"

# --- storage: local PersistentVolumes for claims scheduled here ------------------------------
kc apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: cdk8s-stateful.dev/local
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
YAML
start_component local-provisioner bash "$HERE/local-provisioner.sh" "$CLUSTER_DIR" "$BIN/kubectl"

# --- ready --------------------------------------------------------------------------------------
node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_for kubelet "node $NODE_NAME Ready" node_ready

# --- the pods' CPU weight -------------------------------------------------------------------------
# Without QoS cgroups (cgroupsPerQOS: false) every container sits in containerd's group k8s.io, which
# weighs as much as ONE process of the host: while CI builds and runs the loopback suites beside the
# real-node suite, the databases got a tenth of the CPU, and probes timed out. A node's kubelet gives
# its pods' group the weight of the allocatable CPUs against the system's slices; here the group
# weighs PODS_CPU_SHARES (8 host processes' worth), and inside it the pods share by their requests.
PODS_CPU_SHARES="${PODS_CPU_SHARES:-8192}"
pods_cgroup=/sys/fs/cgroup/cpu/k8s.io
if [ -d /sys/fs/cgroup/cpu ]; then
  mkdir -p "$pods_cgroup" && echo "$PODS_CPU_SHARES" >"$pods_cgroup/cpu.shares" &&
    log "pods' CPU group $pods_cgroup: cpu.shares $PODS_CPU_SHARES"
fi
log "real node $NODE_NAME up in $((SECONDS - START))s (pods on $POD_CIDR, DNS $CLUSTER_DNS_IP)"
