#!/usr/bin/env bash
# Stop the cluster started by tools/cluster/up.sh: SIGTERM each recorded PID (reverse start order),
# wait for it to exit, SIGKILL after STOP_TIMEOUT seconds. Never kills by name.
# Logs stay in $CLUSTER_DIR; pass --clean (or CLUSTER_CLEAN=1) to delete the directory too.
set -euo pipefail
# shellcheck source=tools/cluster/lib.sh
. "$(dirname "$0")/lib.sh"
STOP_TIMEOUT="${STOP_TIMEOUT:-15}"

# the real node first (a no-op when it was never started)
"$(dirname "$0")/node-down.sh"
for c in $COMPONENTS; do stop_component "$c"; done

if ! safe_to_wipe; then
  echo "down: $CLUSTER_DIR was not made by up.sh; not deleting anything" >&2
elif [ "${1:-}" = "--clean" ] || [ "${CLUSTER_CLEAN:-0}" = 1 ]; then
  rm -rf "$CLUSTER_DIR"
else
  rm -rf "$CLUSTER_DIR/etcd"   # keep logs, drop the database
fi
echo "down: stopped ($CLUSTER_DIR)" >&2
