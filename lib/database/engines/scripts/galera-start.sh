#!/usr/bin/env bash
# MariaDB Galera, the database container's command. Runs at every start of the container (init
# containers do not rerun when only the container restarts), decides whether this member starts a
# new cluster, then hands over to the image's entrypoint.
#
# Only the first ordinal ever starts a new cluster (`--wsrep-new-cluster`), and only when no other
# member is reachable and either
#   - it has no Galera state yet (no grastate.dat: a brand-new cluster), or
#   - grastate.dat says `safe_to_bootstrap: 1` (it was the last member to leave, cleanly), or
#   - GALERA_FORCE_BOOTSTRAP=1 (an operator's decision after a full crash; see docs/engines.md).
# Everyone else joins the members in wsrep_cluster_address.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
GCOMM_PORT="${GCOMM_PORT:-4567}"
ENTRYPOINT="${ENTRYPOINT:-docker-entrypoint.sh}"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
grastate="$DATA_DIR/grastate.dat"
args=()

if [ "$ordinal" -eq "$start" ]; then
  if peer="$(reachable_peer "$GCOMM_PORT" "$ordinal")"; then
    log "galera: $peer is up: joining the running cluster"
  elif [ ! -f "$grastate" ]; then
    log "galera: no cluster state in $DATA_DIR: bootstrapping a new cluster"
    args+=(--wsrep-new-cluster)
  elif grep -Eq '^safe_to_bootstrap:[[:space:]]*1' "$grastate"; then
    log "galera: this member left the cluster last (safe_to_bootstrap: 1): bootstrapping the cluster from its data"
    args+=(--wsrep-new-cluster)
  elif [ "${GALERA_FORCE_BOOTSTRAP:-0}" = 1 ]; then
    log "galera: GALERA_FORCE_BOOTSTRAP=1 and no member is up: forcing a bootstrap from this member's data (seqno $(sed -n 's/^seqno:[[:space:]]*//p' "$grastate"))"
    sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$grastate"
    args+=(--wsrep-new-cluster)
  else
    log "galera: no member is reachable and this member was not the last to leave (safe_to_bootstrap: 0)."
    log "galera: it waits for the cluster; after a full outage, bootstrap it as docs/engines.md (Galera) describes."
  fi
fi

exec "$ENTRYPOINT" mariadbd ${args[@]+"${args[@]}"} "$@"
