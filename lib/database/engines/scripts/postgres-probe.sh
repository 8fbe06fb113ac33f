#!/usr/bin/env bash
# PostgreSQL probes, with pg_isready (no password: it only asks whether the server takes connections).
# `ready`: the server accepts connections over TCP, as clients connect: a primary out of recovery,
#          or a standby that reached a consistent state and serves read-only queries.
# `live`:  the postmaster answers at all, on its unix socket or over TCP, even to reject
#          connections while it starts, replays WAL after a crash or runs the entrypoint's
#          socket-only initialization: a long recovery must not get the server killed.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

PORT="${POSTGRES_PORT:-5432}"
RUN_DIR="${RUN_DIR:-/var/run/postgresql}"

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
    is_ready 127.0.0.1 || status=$?
    [ "$status" -eq 0 ] || die "postgresql: not accepting connections over TCP (pg_isready exit $status: $output)"
    ;;
  live)
    status=0
    is_ready "$RUN_DIR" || status=$?
    if [ "$status" -gt 1 ]; then
      status=0
      is_ready 127.0.0.1 || status=$?
    fi
    [ "$status" -le 1 ] || die "postgresql: the server does not answer on $RUN_DIR or 127.0.0.1:$PORT (pg_isready exit $status: $output)"
    ;;
  *) die "usage: $0 ready|live" ;;
esac
