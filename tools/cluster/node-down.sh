#!/usr/bin/env bash
# Stop the real node that tools/cluster/node-up.sh started in $CLUSTER_DIR, and undo what it did to the
# host: its pods are deleted through the API (the kubelet tears their sandboxes and networks
# down) while the node is cordoned, then the components stop (recorded PIDs only), leftover shims
# of this containerd are killed, mounts under $CLUSTER_DIR are unmounted, kube-proxy's iptables
# rules, the FORWARD guard and the bridge are removed. The image store ($CONTAINERD_ROOT) stays.
# A no-op when no node was started. Run by tools/cluster/down.sh.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$HERE/lib.sh"
BIN="${CLUSTER_BIN:-$("$HERE/build.sh" --print-bin)}"
export KUBECONFIG="$CLUSTER_DIR/admin.kubeconfig"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-90}"
log() { echo "node-down: $*" >&2; }
kc() { "$BIN/kubectl" --request-timeout=10s "$@"; }
# each call bounded: a task whose shim died answers nothing (seen: `tasks kill` of a task with PID 0
# and status UNKNOWN waited for ever), and what is left is killed below with the shims
ctr_() { timeout 20 ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# Only what this CLUSTER_DIR started: node-up.sh records the host's state there before it creates
# anything (the bridge included). The bridge's name is the machine's: another cluster's node (a
# real-node run beside a kwok run) must never be torn down from here.
started=""
for c in $NODE_COMPONENTS; do [ -f "$CLUSTER_DIR/$c.pid" ] && started=1; done
if [ -f "$HOST_STATE" ]; then started=1; fi
[ -n "$started" ] || exit 0

# 1. the pods, while the kubelet and the API server still run
if pid_of kubelet >/dev/null && kc get --raw /readyz >/dev/null 2>&1; then
  kc cordon "$NODE_NAME" >/dev/null 2>&1 || true
  kc delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
  deadline=$((SECONDS + DRAIN_TIMEOUT))
  while [ -n "$(ctr_ tasks ls -q 2>/dev/null)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
  [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] || log "containers still running after ${DRAIN_TIMEOUT}s; killing them"
fi
if pid_of containerd >/dev/null; then
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
fi

# 2. the components
for c in $NODE_COMPONENTS; do stop_component "$c"; done

# 3. what may outlive them: shims of this containerd (found by its socket in their command line),
# killed and waited for until they are gone (or zombies: only their parent can reap them)
shims_of_this_containerd() {
  local d
  for d in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -qF -- "$CONTAINERD_SOCK"; then echo "${d#/proc/}"; fi
  done
}
for pid in $(shims_of_this_containerd); do kill -KILL "$pid" 2>/dev/null || true; done
deadline=$((SECONDS + 10))
while [ -n "$(shims_of_this_containerd)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
left="$(shims_of_this_containerd | tr '\n' ' ')"
[ -z "$left" ] || log "shims of this containerd still alive after SIGKILL: $left"
# mounts under CLUSTER_DIR or the containerd root (volumes, rootfs, secrets), deepest first
awk -v a="$CLUSTER_DIR/" -v b="$CONTAINERD_ROOT/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/self/mounts | sort -r |
  while read -r m; do umount -l "$m" 2>/dev/null || true; done
# network namespaces of pods the kubelet could not tear down (it died, or was stopped first):
# containerd's cni-* namespaces holding an address in POD_CIDR
# shellcheck disable=SC2086 # the address is split on its dots
to_int() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
MASK=$(( (0xffffffff << (32 - ${POD_CIDR#*/})) & 0xffffffff ))
NET=$(( $(to_int "${POD_CIDR%/*}") & MASK ))
for netns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
  for a in $(ip netns exec "$netns" ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}'); do
    if [ $(( $(to_int "${a%/*}") & MASK )) -eq "$NET" ]; then ip netns delete "$netns" 2>/dev/null || true; break; fi
  done
done
while iptables -w -D FORWARD -s "$POD_CIDR" ! -d "$POD_CIDR" -m comment --comment "cdk8s-stateful $NODE_BRIDGE: pods stay local" -j DROP 2>/dev/null; do :; done

# 4. iptables: exactly the chains that appeared since node-up.sh (kube-proxy's, the kubelet's),
# and the rules elsewhere that jump to them (remove_new_chains, lib.sh).
if [ -f "$HOST_CHAINS" ]; then
  remove_new_chains
else
  log "no record of the iptables chains before node-up.sh ($HOST_CHAINS): leaving every chain in place"
fi
ip link del "$NODE_BRIDGE" 2>/dev/null || true

# 5. the sysctls, back to their values before node-up.sh; the pods' CPU group to the default weight
restore_host_sysctls
if [ -f /sys/fs/cgroup/cpu/k8s.io/cpu.shares ]; then echo 1024 >/sys/fs/cgroup/cpu/k8s.io/cpu.shares 2>/dev/null || true; fi
log "stopped ($NODE_NAME)"
