#!/usr/bin/env bash
# PostgreSQL probes, with pg_isready (no password: it only asks whether the server takes
# connections) and, for a standby, psql as the superuser over the unix socket (local connections
# are trusted by the image's pg_hba.conf).
# `ready`: the server accepts connections over TCP, as clients connect: a primary out of recovery,
#          or a standby that reached a consistent state and streams from the primary (its WAL
#          receiver is `streaming`): a standby that does not stream serves stale data and leaves
#          the read Service. Such a standby also (re)creates its replication slot on the primary,
#          which may have been rebuilt from a copy without it.
# `live`:  the postmaster answers at all, on its unix socket or over TCP, even to reject
#          connections while it starts, replays WAL after a crash or runs the entrypoint's
#          socket-only initialization: a long recovery must not get the server killed. Also the
#          startup probe, with a longer budget.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

PORT="${POSTGRES_PORT:-5432}"
HOST="${POSTGRES_HOST:-127.0.0.1}"
RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
REPLICATION_USER="${POSTGRES_REPLICATION_USER:-replicator}"

# is_ready HOST: pg_isready's status: 0 accepting, 1 rejecting, 2 no response, 3 no attempt.
is_ready() {
  local status=0
  output="$(pg_isready --host="$1" --port="$PORT" --timeout=3 2>&1)" || status=$?
  return "$status"
}

output=""
case "${1:-ready}" in
  ready)
    status=0
    is_ready "$HOST" || status=$?
    [ "$status" -eq 0 ] || die "postgresql: not accepting connections over TCP (pg_isready exit $status: $output)"
    row="$(psql --no-psqlrc -At -h "$RUN_DIR" -p "$PORT" -U "${POSTGRES_USER:-postgres}" -d postgres \
      -c "SELECT pg_is_in_recovery(), coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')" 2>&1)" ||
      die "postgresql: cannot ask the server whether it streams: $row"
    if [ "${row%%|*}" = t ] && [ "${row#*|}" != streaming ]; then
      slot="$(slot_name "${HOSTNAME:-}")"
      primary="$(peer_address "$(start_ordinal)" || true)"
      if [ -n "$primary" ] && [ -s "$RUN_DIR/.pgpass" ]; then
        PGPASSFILE="$RUN_DIR/.pgpass" psql --no-psqlrc -At "host=$primary port=$PORT user=$REPLICATION_USER replication=true connect_timeout=3" \
          -c "CREATE_REPLICATION_SLOT $slot PHYSICAL RESERVE_WAL" >/dev/null 2>&1 && log "postgresql: created the replication slot $slot on $primary"
      fi
      die "postgresql: this standby does not stream from the primary (WAL receiver: ${row#*|}): it would serve stale data"
    fi
    ;;
  live)
    status=0
    is_ready "$RUN_DIR" || status=$?
    if [ "$status" -gt 1 ]; then
      status=0
      is_ready "$HOST" || status=$?
    fi
    [ "$status" -le 1 ] || die "postgresql: the server does not answer on $RUN_DIR or $HOST:$PORT (pg_isready exit $status: $output)"
    ;;
  *) die "usage: $0 ready|live" ;;
esac
