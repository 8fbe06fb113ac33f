# shellcheck shell=bash disable=SC2034
# Shared settings for tools/cluster/{up,down,smoke}.sh. Sourced, not executed.
# Every value can be overridden from the environment.
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/cdk8s-stateful-cluster}"
ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-23790}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-23800}"
APISERVER_PORT="${APISERVER_PORT:-16443}"
KCM_PORT="${KCM_PORT:-16257}"
SCHEDULER_PORT="${SCHEDULER_PORT:-16259}"
KWOK_PORT="${KWOK_PORT:-16247}"
# Stop order (reverse of start order).
COMPONENTS="kwok kube-scheduler kube-controller-manager kube-apiserver etcd"

# The real node (tools/cluster/node-up.sh, node-down.sh): containerd + kubelet + kube-proxy + CoreDNS.
# Pods get addresses on a local bridge; NODE_IP (the bridge's address) is the node's InternalIP,
# where the API server reaches the kubelet and pods reach CoreDNS. Nothing leaves the machine.
NODE_NAME="${NODE_NAME:-real-node}"
NODE_BRIDGE="${NODE_BRIDGE:-cdk8s0}"
POD_CIDR="${POD_CIDR:-10.250.0.0/24}"
NODE_IP="${NODE_IP:-10.250.0.1}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/16}"   # the API server's --service-cluster-ip-range
CLUSTER_DNS_IP="${CLUSTER_DNS_IP:-10.96.0.10}"
KUBELET_PORT="${KUBELET_PORT:-10250}"
KUBELET_HEALTHZ_PORT="${KUBELET_HEALTHZ_PORT:-10248}"
KUBE_PROXY_HEALTHZ_PORT="${KUBE_PROXY_HEALTHZ_PORT:-10256}"
KUBE_PROXY_METRICS_PORT="${KUBE_PROXY_METRICS_PORT:-10249}"
COREDNS_PORT="${COREDNS_PORT:-1053}"
COREDNS_HEALTH_PORT="${COREDNS_HEALTH_PORT:-18080}"
CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
# Images the node imports (OCI archives from tools/images/build.sh) and where containerd keeps them
# between runs, so a warm start imports nothing.
IMAGES_DIR="${IMAGES_DIR:-$CACHE/images}"
CONTAINERD_ROOT="${CONTAINERD_ROOT:-$CACHE/node/containerd}"
# apiserver-proxy: the API server (loopback only) for pods, at NODE_IP:APISERVER_PORT
NODE_COMPONENTS="apiserver-proxy local-provisioner kube-proxy coredns kubelet containerd"
CONTAINERD_SOCK="$CLUSTER_DIR/containerd/containerd.sock"

# pid_of NAME: print the PID of a component started for this CLUSTER_DIR, if it is still alive.
# The command line must mention CLUSTER_DIR, so a recycled PID is never mistaken for ours.
pid_of() {
  local f="$CLUSTER_DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CLUSTER_DIR" || return 1
  echo "$pid"
}

# safe_to_wipe: CLUSTER_DIR is absent, empty, or was created by up.sh (has the marker file).
safe_to_wipe() {
  [ ! -e "$CLUSTER_DIR" ] || [ -f "$CLUSTER_DIR/.cdk8s-stateful-cluster" ] ||
    [ -z "$(ls -A "$CLUSTER_DIR" 2>/dev/null)" ]
}

# start_component NAME CMD...: run CMD in its own session, log to $CLUSTER_DIR/NAME.log, PID in
# $CLUSTER_DIR/NAME.pid. CMD's arguments must mention CLUSTER_DIR (see pid_of).
start_component() {
  local name=$1 pid i; shift
  setsid "$@" </dev/null >"$CLUSTER_DIR/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$CLUSTER_DIR/$name.pid"
  # Until the child has exec'd the binary its command line is the shell's, and pid_of would take
  # it for dead: wait (briefly) for the exec, so that wait_for only ever sees the real process.
  for i in $(seq 50); do
    pid_of "$name" >/dev/null || [ ! -d "/proc/$pid" ] && break
    sleep 0.1
  done
}

# wait_for NAME DESCRIPTION CMD...: poll CMD until it succeeds; fail (the caller's die) if NAME
# dies or after READY_TIMEOUT seconds.
wait_for() {
  local name=$1 what=$2 deadline=$((SECONDS + ${READY_TIMEOUT:-120})); shift 2
  until "$@" >/dev/null 2>&1; do
    pid_of "$name" >/dev/null || die "$name exited while waiting for $what"
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${READY_TIMEOUT:-120}s waiting for $what"
    sleep 0.2
  done
  log "$what"
}

# stop_component NAME: SIGTERM the recorded PID, SIGKILL after STOP_TIMEOUT seconds.
stop_component() {
  local c=$1 pid deadline
  pid="$(pid_of "$c")" || { rm -f "$CLUSTER_DIR/$c.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + ${STOP_TIMEOUT:-15}))
  while pid_of "$c" >/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if pid_of "$c" >/dev/null; then
    echo "down: $c ($pid) ignored SIGTERM, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while [ -d "/proc/$pid" ] && pid_of "$c" >/dev/null; do sleep 0.1; done
  fi
  rm -f "$CLUSTER_DIR/$c.pid"
}

# What node-up.sh changes on the host, saved before it changes anything, so that node-down.sh can
# put it back and remove only what the node made: the two sysctls and the iptables chains.
HOST_STATE="$CLUSTER_DIR/node-host-state"
HOST_CHAINS="$CLUSTER_DIR/node-host-chains"
BRIDGE_NF=/proc/sys/net/bridge/bridge-nf-call-iptables

# ipt_chains: every iptables and ip6tables chain on the host, "TOOL TABLE CHAIN" a line, sorted.
ipt_chains() {
  local ipt t
  for ipt in iptables ip6tables; do
    command -v "$ipt-save" >/dev/null || continue
    for t in filter nat mangle raw; do
      "$ipt-save" -t "$t" 2>/dev/null | sed -n "s/^:\([^ ]*\) .*/$ipt $t \1/p"
    done
  done | sort -u
}

# save_host_state: the values before node-up.sh (a no-op when they are saved already).
save_host_state() {
  [ -f "$HOST_STATE" ] && return 0
  ipt_chains >"$HOST_CHAINS.tmp"
  {
    echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
    if [ -e "$BRIDGE_NF" ]; then echo "bridge_nf_call_iptables=$(cat "$BRIDGE_NF")"; else echo "bridge_nf_call_iptables=absent"; fi
  } >"$HOST_STATE.tmp"
  mv "$HOST_CHAINS.tmp" "$HOST_CHAINS"
  mv "$HOST_STATE.tmp" "$HOST_STATE"
}

# remove_new_chains: deletes the iptables chains that appeared since save_host_state (kube-proxy's,
# the kubelet's) and the rules elsewhere that jump to them. Chains that were there before stay.
remove_new_chains() {
  local ipt t chain rule c
  local -a args ours
  comm -13 "$HOST_CHAINS" <(ipt_chains) >"$CLUSTER_DIR/node-new-chains"
  while read -r ipt t; do
    mapfile -t ours < <(awk -v i="$ipt" -v t="$t" '$1 == i && $2 == t {print $3}' "$CLUSTER_DIR/node-new-chains")
    # rules in chains that are not ours jumping to ours
    while read -r rule; do
      eval "args=($rule)"
      c="${args[1]}"
      printf '%s\n' "${ours[@]}" | grep -qxF -- "$c" && continue
      args[0]=-D
      "$ipt" -w -t "$t" "${args[@]}" 2>/dev/null || true
    done < <("$ipt-save" -t "$t" 2>/dev/null | grep -E -- "^-A .* -(j|g) ($(IFS='|'; echo "${ours[*]}"))( |\$)" || true)
    for chain in "${ours[@]}"; do "$ipt" -w -t "$t" -F "$chain" 2>/dev/null || true; done
    for chain in "${ours[@]}"; do "$ipt" -w -t "$t" -X "$chain" 2>/dev/null || log "could not delete $ipt -t $t chain $chain"; done
  done < <(awk '{print $1, $2}' "$CLUSTER_DIR/node-new-chains" | sort -u)
  rm -f "$CLUSTER_DIR/node-new-chains"
}

# restore_host_sysctls: ip_forward and bridge-nf-call-iptables back to their values before
# node-up.sh (br_netfilter unloaded if node-up.sh loaded it); forgets the saved state.
restore_host_sysctls() {
  local forward bridge_nf
  [ -f "$HOST_STATE" ] || return 0
  forward="$(sed -n 's/^ip_forward=//p' "$HOST_STATE")"
  bridge_nf="$(sed -n 's/^bridge_nf_call_iptables=//p' "$HOST_STATE")"
  [ -z "$forward" ] || sysctl -qw "net.ipv4.ip_forward=$forward" || log "could not restore net.ipv4.ip_forward=$forward"
  case "$bridge_nf" in
    absent) modprobe -r br_netfilter 2>/dev/null || log "br_netfilter was loaded by node-up.sh and is in use now: left loaded" ;;
    [01]) [ ! -e "$BRIDGE_NF" ] || sysctl -qw "net.bridge.bridge-nf-call-iptables=$bridge_nf" || log "could not restore bridge-nf-call-iptables=$bridge_nf" ;;
  esac
  rm -f "$HOST_STATE" "$HOST_CHAINS"
}
