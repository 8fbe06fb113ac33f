#!/usr/bin/env bash
# Redis with Sentinel, the `sentinel` container beside each data member: writes sentinel.conf into
# CONFIG_DIR (an emptyDir in memory: it holds the password; Sentinel rewrites the file as it learns)
# and runs Sentinel. Beside it, once a second:
#   - the local server's role (INFO replication of 127.0.0.1 only) goes to CONFIG_DIR/role
#     (master, replica or unknown), which the role keeper mirrors into the pod's label;
#   - a replica left following another member than the master the Sentinels name (one they did
#     not know yet when they failed over) is pointed at that master after FOLLOW_SECONDS (15);
#   - what Sentinel learned (its id, epochs, the master, the replicas and Sentinels it knows; no
#     password) is copied to STATE_FILE on the data volume, so that it outlives the pod: after every
#     pod of the set was deleted at once, the Sentinels and the members still know which member was
#     the master (redis-sentinel-start.sh reads the same file).
# Sentinel announces and resolves host names: every member is known by its pod DNS name, which
# stays when the pod's address changes. A Sentinel refuses a config that names a host it cannot
# resolve, so the master must resolve before it starts (a replica or Sentinel that does not is
# left out: Sentinel finds it again when it is back).
#   SET_NAME, QUORUM          the set's name and how many Sentinels must agree that its master is down
#   DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS   Sentinel's down-after-milliseconds and failover-timeout
#   BIND_ADDRESS              where Sentinel listens and the local server is (every address, and
#                             127.0.0.1, unless the tests run several members on one host)
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/redis}"
DATA_DIR="${DATA_DIR:-/data}"
PORT="${REDIS_PORT:-6379}"
SENTINEL_PORT="${SENTINEL_PORT:-26379}"
STATE_FILE="${STATE_FILE:-$DATA_DIR/.cdk8s-sentinel-state}"
: "${SET_NAME:?SET_NAME is not set}" "${QUORUM:?QUORUM is not set}"
DOWN_AFTER_MS="${DOWN_AFTER_MS:-5000}"
FAILOVER_TIMEOUT_MS="${FAILOVER_TIMEOUT_MS:-10000}"
STATE_LINES='^sentinel (myid|current-epoch|monitor|config-epoch|leader-epoch|known-replica|known-sentinel) '

read_secret REDIS_PASSWORD PW_KEY
require_single_line "the Redis password" "$REDIS_PASSWORD"
me="$(peer_address "$(pod_ordinal)")" || die "sentinel: this pod is not a member (PEERS='${PEERS:-}')"
conf="$CONFIG_DIR/sentinel.conf"
quoted="${REDIS_PASSWORD//\\/\\\\}"
quoted="${quoted//\"/\\\"}"

# resolves HOST: an address, or a name the resolver knows now
resolves() {
  case "$1" in
    *[!0-9.]*) getent hosts "$1" >/dev/null 2>&1 ;;
    *) true ;;
  esac
}

# the state to start from: this container's last config (a restart), else the copy on the volume
state_lines() {
  if [ -s "$conf" ]; then
    grep -E "$STATE_LINES" "$conf" || true
  elif [ -s "$STATE_FILE" ]; then
    grep -E "$STATE_LINES" "$STATE_FILE" || true
  fi
}

# master_host STATE: the master the state names, else the one the database container decided on
master_host() {
  local host waited=0
  host="$(awk -v set="$SET_NAME" '$2 == "monitor" && $3 == set { print $4 }' <<<"$1")"
  while [ -z "$host" ]; do
    host="$(cat "$CONFIG_DIR/master" 2>/dev/null || true)"
    [ -n "$host" ] && break
    [ $((waited % 30)) -eq 0 ] && log "sentinel: no state of the set yet: waiting for the database container to learn its master"
    sleep 1
    waited=$((waited + 1))
  done
  echo "$host"
}

# write_conf STATE MASTER
write_conf() {
  local state="$1" master="$2" host
  echo "# Written by cdk8s-stateful redis-sentinel.sh for $me; Sentinel rewrites it."
  echo "port $SENTINEL_PORT"
  echo "bind ${BIND_ADDRESS:-* -::*}"
  echo "dir /tmp"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $me"
  echo "sentinel announce-port $SENTINEL_PORT"
  echo "requirepass \"$quoted\""
  echo "sentinel sentinel-pass \"$quoted\""
  grep -E '^sentinel (myid|current-epoch) ' <<<"$state" || true
  echo "sentinel monitor $SET_NAME $master $PORT $QUORUM"
  echo "sentinel auth-pass $SET_NAME \"$quoted\""
  echo "sentinel down-after-milliseconds $SET_NAME $DOWN_AFTER_MS"
  echo "sentinel failover-timeout $SET_NAME $FAILOVER_TIMEOUT_MS"
  echo "sentinel parallel-syncs $SET_NAME 1"
  grep -E "^sentinel (config-epoch|leader-epoch) $SET_NAME " <<<"$state" || true
  while read -r _ kind _ host _; do
    [ -n "$kind" ] || continue
    if [ "$kind" = known-sentinel ] && [ "$host" = "$me" ]; then continue; fi
    if resolves "$host"; then grep -E "^sentinel $kind $SET_NAME $host " <<<"$state" | head -n 1; fi
  done < <(grep -E "^sentinel (known-replica|known-sentinel) $SET_NAME " <<<"$state" || true)
}

# local_cli HOST PORT ARGS...: redis-cli with the password in its environment only
local_cli() {
  local host="$1" port="$2"
  shift 2
  REDISCLI_AUTH="$REDIS_PASSWORD" timeout 2 redis-cli --no-auth-warning -h "$host" -p "$port" "$@" 2>/dev/null
}

# report_role: the local server's role, for the role keeper; sets INFO to its INFO replication
report_role() {
  local role=unknown
  INFO="$(local_cli "${BIND_ADDRESS:-127.0.0.1}" "$PORT" info replication | tr -d '\r' || true)"
  case "$(sed -n 's/^role:\([a-z]*\).*/\1/p' <<<"$INFO")" in
    master) role=master ;;
    slave) role=replica ;;
  esac
  echo "$role" >"$CONFIG_DIR/.role.tmp"
  mv -f "$CONFIG_DIR/.role.tmp" "$CONFIG_DIR/role"
}

# follow_sentinel: a replica that replicates from another member than the master this Sentinel
# names, for FOLLOW_SECONDS on end while no failover is going on, is pointed at that master (a
# replica the Sentinels did not know yet when they failed over is left behind, following the old
# master; Sentinel itself only reconfigures the replicas it knows). A Sentinel that does not answer
# (still starting, or stalled) is asked again next round: the loop never ends on it.
off_since=0
follow_sentinel() {
  local source master view flags
  source="$(sed -n 's/^master_host:\(.*\)$/\1/p' <<<"$INFO")"
  view="$(local_cli "${BIND_ADDRESS:-127.0.0.1}" "$SENTINEL_PORT" sentinel master "$SET_NAME" |
    awk 'NR % 2 == 1 { key = $0; next } key == "ip" { ip = $0 } key == "flags" { flags = $0 } END { print ip, flags }' || true)"
  read -r master flags <<<"$view"
  if [ -z "$source" ] || [ -z "$master" ] || [ "$source" = "$master" ] || [ "$master" = "$me" ] || [ "$flags" != master ]; then
    off_since=0
    return
  fi
  [ "$off_since" -gt 0 ] || off_since="$SECONDS"
  if [ $((SECONDS - off_since)) -ge "${FOLLOW_SECONDS:-15}" ]; then
    log "sentinel: the local replica follows $source, but the Sentinels name $master the master: pointing it at $master"
    local_cli "${BIND_ADDRESS:-127.0.0.1}" "$PORT" replicaof "$master" "$PORT" >/dev/null || log "sentinel: REPLICAOF $master failed"
    off_since=0
  fi
}

# keep_state: Sentinel's state onto the data volume, when it changed
keep_state() {
  grep -E "$STATE_LINES" "$conf" >"$STATE_FILE.tmp" 2>/dev/null || true
  if grep -q "^sentinel monitor $SET_NAME " "$STATE_FILE.tmp" && ! cmp -s "$STATE_FILE.tmp" "$STATE_FILE"; then
    mv -f "$STATE_FILE.tmp" "$STATE_FILE"
  else
    rm -f "$STATE_FILE.tmp"
  fi
}

state="$(state_lines)"
master="$(master_host "$state")"
waited=0
until resolves "$master"; do
  [ $((waited % 30)) -eq 0 ] && log "sentinel: waiting for the master's name $master to resolve (its pod is not there yet)"
  sleep 1
  waited=$((waited + 1))
done
umask 077
write_conf "$state" "$master" >"$conf.tmp"
mv -f "$conf.tmp" "$conf"
log "sentinel: $me watches $SET_NAME (master $master, quorum $QUORUM, down after ${DOWN_AFTER_MS} ms)"

redis-server "$conf" --sentinel &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
while kill -0 "$pid" 2>/dev/null; do
  report_role
  follow_sentinel
  keep_state
  sleep "${REPORT_SECONDS:-1}"
done
status=0
wait "$pid" || status=$?
echo unknown >"$CONFIG_DIR/role"
exit "$status"
