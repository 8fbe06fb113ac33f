#!/usr/bin/env bash
# Self-test of what node-down.sh uses to leave the host as node-up.sh found it (tools/cluster/lib.sh:
# save_host_state, remove_new_chains, restore_host_sysctls), run inside a throwaway network
# namespace so the host's own iptables and sysctls are never touched: chains made before the
# save (another tool's, with a rule jumping to it) must survive, chains made after it (kube-proxy
# and kubelet lookalikes, with quoted comments and jumps between them and from built-in chains)
# must go, and ip_forward (per namespace) must come back. Needs root and iptables.
# Exit 0 and "host-restore-selftest: ok", or non-zero with what differs.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ "$(id -u)" = 0 ] || { echo "host-restore-selftest: needs root (a network namespace)" >&2; exit 1; }
command -v iptables-save >/dev/null || { echo "host-restore-selftest: iptables missing (run tools/cluster/install-deps.sh)" >&2; exit 1; }
NETNS="cdk8s-selftest-$$"
WORK="$(mktemp -d)"
trap 'ip netns delete "$NETNS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ip netns add "$NETNS"
# shellcheck disable=SC2016 # expanded by the inner bash
ip netns exec "$NETNS" env CLUSTER_DIR="$WORK" HERE="$HERE" bash -euo pipefail -c '
  log() { echo "log: $*" >&2; }
  . "$HERE/lib.sh"
  rules() { for t in filter nat mangle raw; do iptables-save -t "$t"; ip6tables-save -t "$t"; done | grep -v "^#" | sed "s/\[[0-9:]*\]//"; }
  # before node-up: another tool'"'"'s chains, and ip_forward off
  iptables -N OTHER-TOOL; iptables -A OTHER-TOOL -j ACCEPT; iptables -I INPUT -j OTHER-TOOL
  iptables -t nat -N KUBE-MADE-BY-SOMEONE-ELSE
  sysctl -qw net.ipv4.ip_forward=0
  save_host_state
  before="$(rules)"
  # what a node makes
  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -N KUBE-SERVICES; iptables -t nat -N KUBE-SVC-ABC
  iptables -t nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
  iptables -t nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
  iptables -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -j KUBE-SVC-ABC
  iptables -N KUBE-FIREWALL; iptables -A KUBE-FIREWALL -j RETURN
  iptables -I INPUT -j KUBE-FIREWALL; iptables -I OUTPUT -j KUBE-FIREWALL
  iptables -A OTHER-TOOL -j KUBE-FIREWALL
  ip6tables -t mangle -N KUBE-KUBELET-CANARY
  [ "$(rules)" != "$before" ] || { echo "host-restore-selftest: FAIL - the node lookalike changed nothing" >&2; exit 1; }
  remove_new_chains
  restore_host_sysctls
  after="$(rules)"
  if [ "$after" != "$before" ]; then
    echo "host-restore-selftest: FAIL - iptables differ from before:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
  fi
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || { echo "host-restore-selftest: FAIL - ip_forward not restored" >&2; exit 1; }
  [ ! -e "$HOST_STATE" ] || { echo "host-restore-selftest: FAIL - $HOST_STATE left" >&2; exit 1; }
'
echo "host-restore-selftest: ok"
