#!/usr/bin/env bash
# Redis with Sentinel, the database container's command (every start of the container, not only
# the pod's): learns from the Sentinels which member is the master, writes redis.conf into
# CONFIG_DIR (an emptyDir in memory: it holds the password) as that master or as its replica, and
# execs redis-server. The Sentinels decide who is master; this script only follows them:
#   1. Every Sentinel that answers (the peers' and this pod's own, on SENTINEL_PORT) is asked
#      SENTINEL MASTER <SET_NAME>, and so is this member's copy of its Sentinel's state on the
#      data volume (STATE_FILE, kept by redis-sentinel.sh, which survives the pod); the answer
#      with the highest configuration epoch wins (a Sentinel that missed a failover has an older one).
#   2. Named master with data: start as the master. Named master with an empty data directory
#      (its volume was lost): never start as an empty master that the replicas would copy: wait
#      until the Sentinels, which see it down, have promoted a replica, then follow it.
#      Another member named: start as its replica (an empty member copies it).
#   3. No Sentinel and no state knows the set: a member with data starts as the master if it has
#      the first ordinal, else as its replica (the layout of the preset without Sentinel). A
#      member without data founds a new set only if it has the first ordinal and the set was never
#      founded: FOUNDED_FILE, written by the `founded` init container and the role keeper from the
#      Lease the first master's keeper creates, says `absent`. Otherwise it waits for a Sentinel.
# The master it decided goes to CONFIG_DIR/master, where the pod's Sentinel takes it as the set to
# monitor when it has no state of its own.
#   SET_NAME                  the name the Sentinels monitor the set by (the StatefulSet's)
#   MIN_REPLICAS_TO_WRITE, MIN_REPLICAS_MAX_LAG   the master refuses writes with fewer replicas
#                             that acknowledged the stream within that many seconds
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=redis-monitoring-user.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/redis-monitoring-user.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/redis}"
DATA_DIR="${DATA_DIR:-/data}"
PORT="${REDIS_PORT:-6379}"
SENTINEL_PORT="${SENTINEL_PORT:-26379}"
STATE_FILE="${STATE_FILE:-$DATA_DIR/.cdk8s-sentinel-state}"
FOUNDED_FILE="${FOUNDED_FILE:-$CONFIG_DIR/founded}"
POLL_SECONDS="${POLL_SECONDS:-2}"
: "${SET_NAME:?SET_NAME is not set}"

read_secret REDIS_PASSWORD PW_KEY
require_single_line "the Redis password" "$REDIS_PASSWORD"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
me="$(peer_address "$ordinal")" || die "redis: ordinal $ordinal is not a member (PEERS='${PEERS:-}')"
first="$(peer_address "$start")"

# the server's own files, or the directory an interrupted copy of the preset without Sentinel left
has_data() {
  [ -e "$DATA_DIR/appendonlydir" ] || [ -e "$DATA_DIR/appendonly.aof" ] || [ -e "$DATA_DIR/dump.rdb" ]
}

# sentinel_view HOST: "EPOCH MASTER FLAGS" as the Sentinel on HOST sees the set; fails when it does not answer or does not know it
sentinel_view() {
  local out
  out="$(REDISCLI_AUTH="$REDIS_PASSWORD" timeout 3 redis-cli --no-auth-warning -h "$1" -p "$SENTINEL_PORT" sentinel master "$SET_NAME" 2>/dev/null)" || return 1
  awk 'NR % 2 == 1 { key = $0; next } key == "ip" { ip = $0 } key == "config-epoch" { epoch = $0 } key == "flags" { flags = $0 }
       END { if (ip == "" || epoch !~ /^[0-9]+$/) exit 1; print epoch, ip, flags }' <<<"$out"
}

# state_view: "EPOCH MASTER" from this member's copy of its Sentinel's state; fails without one
state_view() {
  [ -s "$STATE_FILE" ] || return 1
  awk -v set="$SET_NAME" '$1 == "sentinel" && $2 == "monitor" && $3 == set { ip = $4 }
       $1 == "sentinel" && $2 == "config-epoch" && $3 == set { epoch = $4 }
       END { if (ip == "") exit 1; print (epoch == "" ? 0 : epoch), ip }' "$STATE_FILE"
}

# known_master: the master of the answer with the highest epoch; fails when nobody knows the set.
# Sets FAILING when a Sentinel is failing the master over (or agrees with a quorum that it is down).
known_master() {
  local best=-1 master='' view epoch host flags peer
  local -a peers
  read -r -a peers <<<"${PEERS:-}"
  FAILING=''
  for peer in "${peers[@]}" state; do
    if [ "$peer" = state ]; then view="$(state_view)" || continue; else view="$(sentinel_view "$peer")" || continue; fi
    read -r epoch host flags <<<"$view"
    case ",${flags:-}," in *,failover_in_progress,* | *,o_down,*) FAILING="$FAILING $peer" ;; esac
    if [ "$epoch" -gt "$best" ]; then best="$epoch" master="$host"; fi
  done
  [ -n "$master" ] || return 1
  echo "$master"
}

# decide: prints the master this member follows ("$me" to be the master); waits while it must not start
decide() {
  local master founded waited=0
  while :; do
    if known_master >"$CONFIG_DIR/.known" 2>/dev/null; then
      master="$(cat "$CONFIG_DIR/.known")"
      if [ "$master" != "$me" ]; then echo "$master"; return; fi
      # named master while the Sentinels fail it over: wait for the outcome (a while: when no
      # replica can be promoted, the failover is abandoned and this member is the master again)
      if [ -n "$FAILING" ] && [ "$waited" -lt "${FAILOVER_WAIT_SECONDS:-30}" ]; then
        [ $((waited % 10)) -eq 0 ] && log "redis: the Sentinels are failing this member over (${FAILING# }): waiting for the outcome"
        sleep "$POLL_SECONDS"
        waited=$((waited + POLL_SECONDS))
        continue
      fi
      if has_data; then echo "$me"; return; fi
      [ $((waited % 30)) -eq 0 ] && log "redis: the Sentinels name this member ($me) the master, but its data directory is empty: waiting for them to promote a replica that holds the data"
    elif has_data; then
      log "redis: no Sentinel knows the set yet; this member holds data: following the first member's layout"
      echo "$first"
      return
    else
      founded="$(cat "$FOUNDED_FILE" 2>/dev/null || echo unknown)"
      if [ "$founded" = absent ]; then
        [ "$ordinal" -eq "$start" ] && log "redis: a new set (no Sentinel knows it, it was never founded): this member, the first, is its master"
        echo "$first"
        return
      fi
      [ $((waited % 30)) -eq 0 ] && log "redis: the set was founded (founded: $founded) but no Sentinel answers and this member has no data: waiting for a Sentinel"
    fi
    sleep "$POLL_SECONDS"
    waited=$((waited + POLL_SECONDS))
  done
}

quoted="${REDIS_PASSWORD//\\/\\\\}"
quoted="${quoted//\"/\\\"}"

# write_conf MASTER: the server's config, a replica of MASTER unless it is this member
write_conf() {
  local limit=$((${MEMORY_LIMIT_BYTES:-0} / 1048576))
  echo "# Written by cdk8s-stateful redis-sentinel-start.sh for $me."
  echo "port $PORT"
  echo "bind ${BIND_ADDRESS:-* -::*}"
  echo "dir $DATA_DIR"
  echo "appendonly yes"
  echo "requirepass \"$quoted\""
  echo "masterauth \"$quoted\""
  # the Sentinels and the master know this replica by its pod DNS name, not its address of the moment
  echo "replica-announce-ip $me"
  echo "replica-announce-port $PORT"
  echo "min-replicas-to-write ${MIN_REPLICAS_TO_WRITE:-1}"
  echo "min-replicas-max-lag ${MIN_REPLICAS_MAX_LAG:-2}"
  if [ -n "${MAXMEMORY:-}" ]; then
    echo "maxmemory $MAXMEMORY"
  elif [ "$limit" -gt 0 ] 2>/dev/null; then
    echo "maxmemory $((limit * ${MAXMEMORY_PERCENT:-45} / 100))mb"
  fi
  echo "maxmemory-policy ${MAXMEMORY_POLICY:-noeviction}"
  write_extra_config
  write_monitoring_user
  if [ "$1" != "$me" ]; then
    echo "replicaof $1 $PORT"
    echo "replica-read-only yes"
  fi
}

mkdir -p "$CONFIG_DIR"
master="$(decide)"
rm -f "$CONFIG_DIR/.known"
umask 077
write_conf "$master" >"$CONFIG_DIR/.redis.conf.tmp"
mv -f "$CONFIG_DIR/.redis.conf.tmp" "$CONFIG_DIR/redis.conf"
echo "$master" >"$CONFIG_DIR/.master.tmp"
mv -f "$CONFIG_DIR/.master.tmp" "$CONFIG_DIR/master"
log "redis: starting $me as $([ "$master" = "$me" ] && echo the master || echo "a replica of $master")"
exec redis-server "$CONFIG_DIR/redis.conf"
