#!/usr/bin/env bash
# MariaDB Galera probes, as mysql@localhost through the unix socket (no password).
# `ready`: the member is Synced (wsrep_local_state 4) and takes queries.
# `start` (the startup probe, with a long budget): the server answers a ping, or it is not meant
#   to yet: galera-start.sh is recovering its position or waiting for the other members (the state
#   file says `recovering` or `deciding`), or a state transfer is running (a joiner receiving a
#   snapshot does not answer until it is done, and must not be killed for that).
# `live`: as `start`, and a running server is connected to the cluster (wsrep_connected ON). A
#   member whose group connection closed (its donor or the members it joined went away during the
#   join, as when every pod is replaced at once) keeps running outside the cluster and never comes
#   back by itself; a restart runs galera-start.sh again, which joins a Synced member. A member cut
#   off by a network partition stays connected (non-Primary) and is left alone: it rejoins when the
#   network heals.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/run/mysqld}"

case "${1:-ready}" in
  ready)
    state="$(mariadb --protocol=socket -umysql --connect-timeout=3 -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" | awk '{ print $2 }')"
    [ "$state" = 4 ] || die "galera: wsrep_local_state is '${state}', not 4 (Synced)"
    ;;
  start | live)
    if [ -e "$DATA_DIR/sst_in_progress" ]; then
      exit 0
    fi
    phase=""
    if [ -f "$RUN_DIR/galera-state" ]; then read -r phase _ <"$RUN_DIR/galera-state" || true; fi
    if [ "$phase" = recovering ] || [ "$phase" = deciding ]; then
      exit 0
    fi
    mariadb-admin --protocol=socket -umysql --connect-timeout=3 ping >/dev/null
    if [ "$1" = live ]; then
      connected="$(mariadb --protocol=socket -umysql --connect-timeout=3 -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_connected'" | awk '{ print $2 }')"
      [ "$connected" = ON ] || die "galera: wsrep_connected is '${connected}': this member left the cluster and does not rejoin by itself; restarting it rejoins"
    fi
    ;;
  *) die "usage: $0 ready|start|live" ;;
esac
