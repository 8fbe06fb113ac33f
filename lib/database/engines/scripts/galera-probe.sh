#!/usr/bin/env bash
# MariaDB Galera probes, as mysql@localhost through the unix socket (no password).
# `ready`: the member is Synced (wsrep_local_state 4) and takes queries.
# `start` (the startup probe, with a long budget): the server answers, or a state transfer is
#   running (a joiner receiving a snapshot does not answer until it is done, and must not be killed
#   for that). The recovery and the decision who bootstraps run in init containers, before it.
# `live`: as `start`, and a running server is connected to the cluster (wsrep_connected ON). A
#   member whose group connection closed (its donor or the members it joined went away during the
#   join, as when every pod is replaced at once) keeps running outside the cluster and never comes
#   back by itself; a restart rejoins it. A member cut off by a network partition stays connected
#   (non-Primary) and is left alone: it rejoins when the network heals. A server that refuses the
#   probe for lack of a connection slot (ERROR 1040, max_connections reached) is alive: the ping
#   counts any answer of the server, and the wsrep_connected check is skipped, so that exhausted
#   connections never restart the members.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"

case "${1:-ready}" in
  ready)
    state="$(mariadb --protocol=socket -umysql --connect-timeout=3 -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" | awk '{ print $2 }')"
    [ "$state" = 4 ] || die "galera: wsrep_local_state is '${state}', not 4 (Synced)"
    ;;
  start | live)
    if [ -e "$DATA_DIR/sst_in_progress" ]; then
      exit 0
    fi
    mariadb-admin --protocol=socket -umysql --connect-timeout=3 ping >/dev/null
    if [ "$1" = live ]; then
      if ! out="$(mariadb --protocol=socket -umysql --connect-timeout=3 -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_connected'" 2>&1)"; then
        case "$out" in
          *'ERROR 1040'* | *'Too many connections'*) exit 0 ;;
          *) die "galera: cannot ask the server: $out" ;;
        esac
      fi
      connected="$(awk '{ print $2 }' <<<"$out")"
      [ "$connected" = ON ] || die "galera: wsrep_connected is '${connected}': this member left the cluster and does not rejoin by itself; restarting it rejoins"
    fi
    ;;
  *) die "usage: $0 ready|start|live" ;;
esac
