#!/usr/bin/env bash
# Redis probe: PING answers PONG (a replica still loading its first sync answers LOADING).
# redis-cli reads the password from REDISCLI_AUTH, a Secret reference.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

reply="$(redis-cli --no-auth-warning -h 127.0.0.1 -p "${REDIS_PORT:-6379}" ping 2>&1 || true)"
[ "$reply" = PONG ] || die "redis: PING answered '$reply'"
