#!/usr/bin/env bash
# Redis, init container `config`: writes redis.conf into CONFIG_DIR (an emptyDir, private to the
# pod) at every pod start. The password comes from the credentials Secret's file
# (REDIS_PASSWORD_FILE) and is written only there, never into the ConfigMap or the environment.
# Every ordinal but the first is a read-only replica of the first.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/redis}"
DATA_DIR="${DATA_DIR:-/data}"
PORT="${REDIS_PORT:-6379}"

read_secret REDIS_PASSWORD
require_single_line "the Redis password" "$REDIS_PASSWORD"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
primary="$(peer_address "$start")" || die "redis: the primary (ordinal $start) is not a member (PEERS='${PEERS:-}')"

has_data() {
  [ -e "$DATA_DIR/appendonlydir" ] || [ -e "$DATA_DIR/appendonly.aof" ] || [ -e "$DATA_DIR/dump.rdb" ]
}

if [ "$ordinal" -eq "$start" ] && ! has_data && peer="$(reachable_peer "$PORT" "$ordinal")"; then
  die "redis: the primary's data directory $DATA_DIR is empty, but $peer serves data. An empty primary would make every replica drop its data on the next sync. Recover the primary's volume, or promote a replica (see docs/engines.md, Redis)."
fi

quoted="${REDIS_PASSWORD//\\/\\\\}"
quoted="${quoted//\"/\\\"}"
mkdir -p "$CONFIG_DIR"
umask 077
tmp="$CONFIG_DIR/.redis.conf.tmp"
{
  echo "# Written by cdk8s-stateful redis-config.sh for ordinal $ordinal."
  echo "port $PORT"
  echo "bind * -::*"
  echo "dir $DATA_DIR"
  echo "appendonly yes"
  echo "requirepass \"$quoted\""
  echo "masterauth \"$quoted\""
  if [ "$ordinal" -ne "$start" ]; then
    echo "replicaof $primary $PORT"
    echo "replica-read-only yes"
  fi
} >"$tmp"
mv -f "$tmp" "$CONFIG_DIR/redis.conf"
log "redis: wrote $CONFIG_DIR/redis.conf (ordinal $ordinal, $([ "$ordinal" -eq "$start" ] && echo primary || echo "replica of $primary"))"
