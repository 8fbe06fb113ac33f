# shellcheck shell=bash disable=SC2034
# Shared settings for cluster/{up,down,smoke}.sh. Sourced, not executed.
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
