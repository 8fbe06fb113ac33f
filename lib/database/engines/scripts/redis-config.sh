#!/usr/bin/env bash
# Redis, init container `config`: writes redis.conf into CONFIG_DIR (an emptyDir, private to the
# pod) at every pod start. The password comes from the credentials Secret's file (PW_KEY) and is
# written only there, never into the ConfigMap or the environment. Every ordinal but the first is
# a read-only replica of the first.
#
# maxmemory: MAXMEMORY (from the props) or MAXMEMORY_PERCENT (45 by default) of the container's
# memory limit (MEMORY_LIMIT_BYTES, downward API): a full sync or an AOF rewrite forks the server,
# and the fork's copy-on-write pages count against the same limit. The policy is noeviction
# unless the props say otherwise: a database does not drop keys to make room.
#
# A primary whose data directory is empty founds the set (a new, empty data set) only if the init
# container `founding` says so (it created the set's founding Lease: find_source). Otherwise the
# set holds data somewhere (its volume was lost): it waits for a member with data and first
# becomes a copy of the most advanced replica: a temporary server replicates it into a scratch
# directory of the volume (COPY_DIR), then stops, and only then is its append-only file renamed
# into the data directory, in one step: a copy cut short (the pod deleted, the container killed)
# leaves nothing that looks like data, and the next start copies again. The primary then starts
# with that data and the replicas follow it. A replica whose primary is gone refuses to be synced
# from (NOMASTERLINK), so the source is detached (REPLICAOF NO ONE) for the copy and pointed back
# at the primary right after.
#
# A new set created from a snapshot (`restoreFrom`, RESTORE_* set): the primary that founds the set
# (or the only member, whenever its volume is empty) restores the latest complete snapshot of the
# repository, or RESTORE_BACKUP, with redis-restore.sh (shared with the Sentinel preset): a
# snapshot that fails a check, or a repository that cannot be read, stops this container with a
# message naming the object: the set never starts empty instead.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=redis-monitoring-user.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/redis-monitoring-user.sh"
# shellcheck source=redis-restore.sh
[ -z "${RESTORE_BUCKET:-}" ] || . "${SCRIPTS_DIR:-$(dirname "$0")}/redis-restore.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/redis}"
DATA_DIR="${DATA_DIR:-/data}"
PORT="${REDIS_PORT:-6379}"
SYNC_PORT="${SYNC_PORT:-6380}"
COPY_DIR="$DATA_DIR/.cdk8s-copy"
RESTORE_DIR="$DATA_DIR/.cdk8s-restore"

read_secret REDIS_PASSWORD PW_KEY
require_single_line "the Redis password" "$REDIS_PASSWORD"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
primary="$(peer_address "$start")" || die "redis: the primary (ordinal $start) is not a member (PEERS='${PEERS:-}')"

has_data() {
  [ -e "$DATA_DIR/appendonlydir" ] || [ -e "$DATA_DIR/appendonly.aof" ] || [ -e "$DATA_DIR/dump.rdb" ]
}

# cli HOST PORT ARGS...: an authenticated redis-cli (the password in its environment only)
cli() {
  local host="$1" port="$2"
  shift 2
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$host" -p "$port" "$@"
}

# info_field TEXT NAME: a field of INFO's output
info_field() {
  sed -n "s/^$2:\\([^[:space:]]*\\).*/\\1/p" <<<"$1" | head -n 1
}

# peer_position HOST: how much the member holds: its replication offset, at least 1 with keys;
# 0 when it serves nothing. Fails when it cannot tell: no answer, a member still loading its data
# (it answers INFO, but not DBSIZE), or an error reply (on which redis-cli exits 0).
peer_position() {
  local info persistence keys offset
  info="$(cli "$1" "$PORT" info replication 2>/dev/null)" || return 1
  grep -q '^role:' <<<"$info" || return 1
  persistence="$(cli "$1" "$PORT" info persistence 2>/dev/null)" || return 1
  if [ "$(info_field "$persistence" loading)" = 1 ] || [ "$(info_field "$persistence" async_loading)" = 1 ]; then return 1; fi
  keys="$(cli "$1" "$PORT" dbsize 2>/dev/null)" || return 1
  case "$keys" in '' | *[!0-9]*) return 1 ;; esac
  offset="$(info_field "$info" master_repl_offset)"
  offset="${offset:-0}"
  if [ "${keys:-0}" -gt 0 ] && [ "$offset" -lt 1 ]; then offset=1; fi
  echo "$offset"
}

# copy_from HOST: replicates HOST into DATA_DIR with a temporary server on localhost
copy_from() {
  local source="$1" pid waited=0 info
  log "redis: the primary's data directory $DATA_DIR is empty but $source holds data: copying it before the primary starts"
  cli "$source" "$PORT" replicaof no one >/dev/null || die "redis: cannot detach $source from its lost primary to copy it"
  mkdir -p "$CONFIG_DIR"
  rm -rf "$COPY_DIR"
  mkdir -p "$COPY_DIR"
  (umask 077 && write_conf "$source" "$COPY_DIR" >"$CONFIG_DIR/sync.conf")
  redis-server "$CONFIG_DIR/sync.conf" --port "$SYNC_PORT" --bind 127.0.0.1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; cli "$source" "$PORT" replicaof "$primary" "$PORT" >/dev/null 2>&1 || true' EXIT
  while :; do
    kill -0 "$pid" 2>/dev/null || die "redis: the temporary server copying $source exited (see above)"
    info="$(cli 127.0.0.1 "$SYNC_PORT" info 2>/dev/null || true)"
    if [ "$(info_field "$info" master_link_status)" = up ] && [ "$(info_field "$info" master_sync_in_progress)" = 0 ] &&
      [ "$(info_field "$info" aof_rewrite_in_progress)" = 0 ] && [ "$(info_field "$info" aof_rewrite_scheduled)" = 0 ] &&
      [ "$(info_field "$info" loading)" = 0 ]; then
      break
    fi
    if [ $((waited % 30)) -eq 0 ]; then log "redis: copying $source ($(info_field "$info" master_link_status), sync in progress: $(info_field "$info" master_sync_in_progress))"; fi
    sleep 1
    waited=$((waited + 1))
  done
  cli 127.0.0.1 "$SYNC_PORT" shutdown >/dev/null 2>&1 || true
  wait "$pid" || true
  trap - EXIT
  cli "$source" "$PORT" replicaof "$primary" "$PORT" >/dev/null || log "redis: could not point $source back at $primary: do it by hand (REPLICAOF $primary $PORT)"
  rm -f "$CONFIG_DIR/sync.conf"
  # the append-only file (a directory since Redis 7) into place in one rename; the rest goes
  local aof
  for aof in appendonlydir appendonly.aof ''; do [ -n "$aof" ] && [ -e "$COPY_DIR/$aof" ] && break; done
  [ -n "$aof" ] || die "redis: the copy of $source left no append-only file in $COPY_DIR"
  mv "$COPY_DIR/$aof" "$DATA_DIR/$aof"
  rm -rf "$COPY_DIR"
  log "redis: copied $source ($(info_field "$info" master_repl_offset) bytes of replication stream); starting as the primary"
}

quoted="${REDIS_PASSWORD//\\/\\\\}"
quoted="${quoted//\"/\\\"}"

# write_conf [SOURCE [DIR]]: the server's config, a replica of SOURCE if given, its files in DIR
write_conf() {
  local source="${1:-}" dir="${2:-$DATA_DIR}" limit=$((${MEMORY_LIMIT_BYTES:-0} / 1048576))
  echo "# Written by cdk8s-stateful redis-config.sh for ordinal $ordinal."
  echo "port $PORT"
  echo "bind * -::*"
  echo "dir $dir"
  echo "appendonly yes"
  echo "requirepass \"$quoted\""
  echo "masterauth \"$quoted\""
  if [ -n "${MAXMEMORY:-}" ]; then
    echo "maxmemory $MAXMEMORY"
  elif [ "$limit" -gt 0 ] 2>/dev/null; then
    echo "# ${MAXMEMORY_PERCENT:-45}% of the memory limit (${limit} MiB): room for the fork of a full sync or an AOF rewrite"
    echo "maxmemory $((limit * ${MAXMEMORY_PERCENT:-45} / 100))mb"
  fi
  echo "maxmemory-policy ${MAXMEMORY_POLICY:-noeviction}"
  write_extra_config
  write_monitoring_user
  if [ -n "$source" ]; then
    echo "replicaof $source $PORT"
    echo "replica-read-only yes"
  fi
}

# what an interrupted copy or restore left behind is not data
rm -rf "$COPY_DIR" "$RESTORE_DIR"
if [ "$ordinal" -eq "$start" ] && ! has_data && [ "$(peer_count)" -gt 1 ]; then
  if source="$(find_source)"; then
    copy_from "$source"
  elif [ -n "${RESTORE_BUCKET:-}" ]; then
    restore_if_asked
  else
    log "redis: new primary with an empty data directory"
  fi
elif [ "$ordinal" -eq "$start" ] && ! has_data && [ -n "${RESTORE_BUCKET:-}" ]; then
  # a single member has no founding Lease: an empty volume is restored whenever restoreFrom is given
  restore_if_asked
fi

mkdir -p "$CONFIG_DIR"
umask 077
tmp="$CONFIG_DIR/.redis.conf.tmp"
if [ "$ordinal" -ne "$start" ]; then write_conf "$primary" >"$tmp"; else write_conf >"$tmp"; fi
mv -f "$tmp" "$CONFIG_DIR/redis.conf"
log "redis: wrote $CONFIG_DIR/redis.conf (ordinal $ordinal, $([ "$ordinal" -eq "$start" ] && echo primary || echo "replica of $primary"))"
