#!/usr/bin/env bash
# The cluster suite: build the control plane (cached; a cold machine builds it, ~10-15 min),
# start it, run jest with jest.cluster.config.js on test/cluster/*.test.ts, and stop the cluster
# again whatever happens. Exits with jest's exit code. Extra arguments go to jest, e.g.
#   cluster/test.sh -t web-nfs-pool
# Environment: CLUSTER_DIST (default dist/) picks the synthesized examples to test; everything
# cluster/up.sh reads (CLUSTER_DIR, ports, NODES, ...) is passed through. See docs/cluster.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
START=$SECONDS
log() { printf '[test %3ss] %s\n' "$((SECONDS - START))" "$*" >&2; }

# 1. binaries (a no-op when cached)
CLUSTER_BIN="$("$HERE/build.sh" | tail -n1)"
export CLUSTER_BIN

# 2. cluster; from here on it is always stopped on the way out
STARTED="" JEST_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$JEST_PID" ] && kill -0 "$JEST_PID" 2>/dev/null; then
    log "stopping jest ($JEST_PID)"
    kill -TERM "$JEST_PID" 2>/dev/null || true
    wait "$JEST_PID" 2>/dev/null || true
  fi
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
# race in up.sh (docs/cluster.md, "Pitfalls found by the suite"): its first liveness check of a
# component can read /proc/<pid>/cmdline before the exec, and it then reports "exited".
ENV_LINES=""
for attempt in 1 2 3; do
  if ENV_LINES="$("$HERE/up.sh")"; then break; fi
  ENV_LINES=""
  log "cluster/up.sh failed (attempt $attempt of 3)"
done
[ -n "$ENV_LINES" ] || { log "cluster did not start"; exit 1; }
eval "$ENV_LINES"
export KUBECTL="$CLUSTER_BIN/kubectl"
log "cluster up; KUBECONFIG=$KUBECONFIG"

# 3. the suite. Not exec, because the trap must run afterwards. Run in the background and waited
# for, because bash defers a trap until its foreground command ends, and `wait` is interrupted
# by a signal at once. So a TERM or INT to this script stops jest and the cluster right away.
cd "$ROOT"
rc=0
"$ROOT/node_modules/.bin/jest" --config "$ROOT/jest.cluster.config.js" --runInBand "$@" &
JEST_PID=$!
wait "$JEST_PID" || rc=$?
JEST_PID=""
exit "$rc"
