#!/usr/bin/env bash
# Redis probes, with redis-cli on the local port.
# `ready`: an authenticated PING answers PONG: the server takes queries (a replica still loading its
#          first sync answers LOADING); and a replica is linked to its primary
#          (master_link_status:up): a replica cut off from it serves stale data, so it leaves the
#          read Service until it is back. The password comes from the credentials Secret's file
#          (PW_KEY) and reaches redis-cli through REDISCLI_AUTH in its environment only, never on a
#          command line.
# `live`:  the server answers a PING at all, without the password: PONG, or an error that only a
#          running server gives (LOADING, BUSY with a long script, NOAUTH, MASTERDOWN). A rotated
#          Secret, which the running server does not know until the pod restarts, must not get it
#          killed. Also the startup probe, with a longer budget (loading a large data set).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

PORT="${REDIS_PORT:-6379}"
HOST="${REDIS_HOST:-127.0.0.1}"

case "${1:-ready}" in
  ready)
    read_secret REDIS_PASSWORD PW_KEY
    reply="$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$HOST" -p "$PORT" ping 2>&1 || true)"
    [ "$reply" = PONG ] || die "redis: PING answered '$reply'"
    info="$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$HOST" -p "$PORT" info replication 2>&1 || true)"
    if grep -q '^role:slave' <<<"$info"; then
      link="$(sed -n 's/^master_link_status:\([a-z]*\).*/\1/p' <<<"$info")"
      [ "$link" = up ] || die "redis: this replica's link to its primary is '${link:-unknown}': it would serve stale data"
    fi
    ;;
  live)
    reply="$(env -u REDISCLI_AUTH redis-cli -h "$HOST" -p "$PORT" ping 2>&1 || true)"
    grep -Eq '^(\(error\) )?(PONG|LOADING|BUSY|NOAUTH|MASTERDOWN)' <<<"$reply" || die "redis: no answer to PING: '$reply'"
    ;;
  *) die "usage: $0 ready|live" ;;
esac
