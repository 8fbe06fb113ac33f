#!/usr/bin/env bash
# MySQL probes.
# `ready`: the server answers a query over TCP as root (password from the Secret's file ROOT_KEY,
#   handed to the client through a pipe: nothing is written to disk), which it does not during the
#   entrypoint's socket-only initialization; and on a replica, both replication threads run (a
#   replica whose IO or SQL thread stopped serves stale data: it leaves the read Service).
# `live`: the server process answers a ping on its socket, with no password (mysqladmin ping
#   succeeds even when access is denied): a changed password never gets the server restarted.
#   Also the startup probe, with a longer budget (InnoDB crash recovery).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

case "${1:-ready}" in
  ready)
    read_secret ROOT_PASSWORD ROOT_KEY
    status="$(mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=tcp -h127.0.0.1 -P"${MYSQL_PORT:-3306}" \
      --connect-timeout=3 -N -B -e "SELECT SERVICE_STATE FROM performance_schema.replication_connection_status UNION ALL SELECT '-' UNION ALL SELECT SERVICE_STATE FROM performance_schema.replication_applier_status")"
    io="$(sed -n '1p' <<<"$status")"
    if [ "$io" != - ]; then
      sql="$(sed -n '3p' <<<"$status")"
      if [ "$io" != ON ] || [ "$sql" != ON ]; then die "mysql: this replica's replication threads are not both running (IO: $io, SQL: ${sql:-?}): it would serve stale data"; fi
    fi
    ;;
  live)
    mysqladmin --protocol=socket --connect-timeout=3 ping >/dev/null
    ;;
  *) die "usage: $0 ready|live" ;;
esac
