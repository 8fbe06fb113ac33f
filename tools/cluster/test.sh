#!/usr/bin/env bash
# The cluster suites: build the control plane (cached; a cold machine builds it, ~10-15 min),
# start it, run jest, and stop the cluster again whatever happens. Exits with jest's exit code.
# Extra arguments go to jest, e.g.
#   tools/cluster/test.sh -t web-nfs-pool                  # kwok suite (npm run test:cluster)
#   CLUSTER_SUITE=e2e tools/cluster/test.sh test/e2e/galera  # real-node suite (npm run test:e2e)
# CLUSTER_SUITE=cluster (default): test/cluster/jest.config.js on test/cluster/, kwok nodes only.
# CLUSTER_SUITE=e2e: test/e2e/jest.config.js on test/e2e/, with the images built (tools/images/build.sh),
# no kwok nodes and the real node (REAL_NODE=1), in its own CLUSTER_DIR and ports, holding
# /tmp/cdk8s-stateful-realnode.lock so two real-node runs never overlap.
# Environment: CLUSTER_DIST (default dist/) picks the synthesized examples of the kwok suite;
# everything tools/cluster/up.sh reads (CLUSTER_DIR, ports, NODES, ...) is passed through. See
# docs/contributing/cluster.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
START=$SECONDS
log() { printf '[test %3ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
SUITE="${CLUSTER_SUITE:-cluster}"
case "$SUITE" in
  cluster) JEST_CONFIG="$ROOT/test/cluster/jest.config.js" ;;
  e2e)
    JEST_CONFIG="$ROOT/test/e2e/jest.config.js"
    export REAL_NODE=1 NODES="${NODES:-0}"
    export CLUSTER_DIR="${CLUSTER_DIR:-/tmp/cdk8s-stateful-e2e}"
    export ETCD_CLIENT_PORT="${ETCD_CLIENT_PORT:-24790}" ETCD_PEER_PORT="${ETCD_PEER_PORT:-24800}"
    export APISERVER_PORT="${APISERVER_PORT:-17443}" KCM_PORT="${KCM_PORT:-17257}"
    export SCHEDULER_PORT="${SCHEDULER_PORT:-17259}" KWOK_PORT="${KWOK_PORT:-17247}"
    LOCK=/tmp/cdk8s-stateful-realnode.lock
    exec 9>"$LOCK"
    if ! flock -n 9; then
      log "another real-node run holds $LOCK; waiting for it"
      flock -w "${LOCK_TIMEOUT:-3600}" 9 || { log "gave up waiting for $LOCK"; exit 1; }
    fi
    ;;
  *) log "CLUSTER_SUITE must be cluster or e2e, got '$SUITE'"; exit 2 ;;
esac

# 1. binaries and, for the real node, images (no-ops when cached)
CLUSTER_BIN="$("$HERE/build.sh" | tail -n1)"
export CLUSTER_BIN
if [ "$SUITE" = e2e ]; then
  [ -x "$ROOT/tools/images/build.sh" ] || { log "tools/images/build.sh missing: the real node has no images to run"; exit 1; }
  IMAGES_DIR="$("$ROOT/tools/images/build.sh" | tail -n1)"
  export IMAGES_DIR
fi

# 2. cluster; from here on it is always stopped on the way out
STARTED="" JEST_PID=""
# stop_jest: jest and every process it started (kubectl, the clients of a workload) are one
# process group (setsid below): TERM to the group, then KILL to whatever is left of it.
# shellcheck disable=SC2317 # run by cleanup (the EXIT trap)
stop_jest() {
  [ -n "$JEST_PID" ] || return 0
  if kill -0 "$JEST_PID" 2>/dev/null; then
    log "stopping jest ($JEST_PID) and its children"
    kill -TERM -- "-$JEST_PID" 2>/dev/null || true
    wait "$JEST_PID" 2>/dev/null || true
  fi
  kill -KILL -- "-$JEST_PID" 2>/dev/null || true
  JEST_PID=""
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_jest
  if [ -n "$STARTED" ]; then "$HERE/down.sh" || true; fi
  log "exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# (set here, not inside $(...), which is a subshell)
STARTED=1
# up.sh stops what it started when it fails, so it can simply be run again. Retried because of a
# race in up.sh (docs/contributing/cluster.md, "Pitfalls found by the suite"): its first liveness check of a
# component can read /proc/<pid>/cmdline before the exec, and it then reports "exited".
ENV_LINES=""
for attempt in 1 2 3; do
  # (9>&-: the daemons it starts must not inherit the real-node lock and hold it after this run)
  if ENV_LINES="$("$HERE/up.sh" 9>&-)"; then break; fi
  ENV_LINES=""
  log "tools/cluster/up.sh failed (attempt $attempt of 3)"
done
[ -n "$ENV_LINES" ] || { log "cluster did not start"; exit 1; }
eval "$ENV_LINES"
export KUBECTL="$CLUSTER_BIN/kubectl"
log "cluster up; KUBECONFIG=$KUBECONFIG"

# 3. the suite, as many files at once as its jest config says (maxWorkers). Not exec, because the trap must run afterwards. Run in the background and waited
# for, because bash defers a trap until its foreground command ends, and `wait` is interrupted
# by a signal at once. So a TERM or INT to this script stops jest and the cluster right away.
# jest leads its own process group (setsid: a background child is no group leader, so setsid execs
# it in place and $! is jest's PID and group id), so that stopping it stops what it started too.
cd "$ROOT"
rc=0
setsid "$ROOT/node_modules/.bin/jest" --config "$JEST_CONFIG" "$@" &
JEST_PID=$!
wait "$JEST_PID" || rc=$?
# children jest left behind (a kubectl it did not wait for) go with it
kill -KILL -- "-$JEST_PID" 2>/dev/null || true
JEST_PID=""
exit "$rc"
