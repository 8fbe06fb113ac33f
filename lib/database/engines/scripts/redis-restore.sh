#!/usr/bin/env bash
# Redis, a new set created from a snapshot (`restoreFrom`, RESTORE_* set; rclone-s3.sh): the latest
# complete snapshot of the repository, or RESTORE_BACKUP, is downloaded into a scratch directory of
# the volume (RESTORE_DIR), checked against its checksum object and with redis-check-rdb, loaded
# into a temporary server on localhost (SYNC_PORT) that writes it as its append-only file, and that
# file is renamed into the data directory in one step: a restore cut short leaves nothing that
# looks like data. A snapshot that fails a check, or a repository that cannot be read, stops the
# container with a message naming the object: the set never starts empty instead.
#   sourced             by redis-config.sh (the preset without Sentinel, init container `config`),
#                       which calls restore_if_asked for the primary that founds the set
#   redis-restore.sh sentinel   with Sentinel, the init container `restore` of every member, after
#                       `founded` (redis-role-keeper.sh) wrote FOUNDED_FILE: restores only on the
#                       first ordinal, into an empty data directory, of a set never founded
#                       (`absent`: the API server has no Lease SET_NAME-founded). A member with
#                       data, a later ordinal, or a set founded already never restores: it
#                       starts as the Sentinels say (redis-sentinel-start.sh), a replica copying
#                       the master. The first master's role keeper then creates the Lease.

# restore_cli PORT ARGS...: redis-cli on localhost, authenticated (the password in its environment only)
restore_cli() {
  local port="$1"
  shift
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@"
}

# restore_field TEXT NAME: a field of INFO's output
restore_field() {
  sed -n "s/^$2:\\([^[:space:]]*\\).*/\\1/p" <<<"$1" | head -n 1
}

# restore_has_data: whether the data directory holds the server's files
restore_has_data() {
  [ -e "${DATA_DIR:-/data}/appendonlydir" ] || [ -e "${DATA_DIR:-/data}/appendonly.aof" ] || [ -e "${DATA_DIR:-/data}/dump.rdb" ]
}

# restore_if_asked: for a new set created from a snapshot (RESTORE_* set): the snapshot becomes this
# member's data. Without RESTORE_*: nothing (a new, empty data set).
restore_if_asked() {
  [ -n "${RESTORE_BUCKET:-}" ] || return 0
  # shellcheck source=rclone-s3.sh
  . "${SCRIPTS_DIR:-$(dirname "${BASH_SOURCE[0]}")}/rclone-s3.sh"
  local name expected actual check dir="${RESTORE_DIR:-${DATA_DIR:-/data}/.cdk8s-restore}"
  local fix="the set does not start empty instead. Fix: restore another snapshot (restoreFrom.backup), or check the repository and its keys in the credentials Secret"
  s3_restore_choice redis .rdb snapshot 'an .rdb' "$fix"
  name="$RESTORE_NAME"
  log "redis: a new set from the snapshot $(s3_url RESTORE "$name")"
  rm -rf "$dir"
  (umask 077 && mkdir -p "$dir")
  # the SHA-256 below checks the file end to end (rclone's own check would stop at a mismatched ETag
  # without naming the cause)
  if ! s3 RESTORE copyto --ignore-checksum "$(s3_dir RESTORE)$name" "$dir/$name" || ! s3 RESTORE copyto "$(s3_dir RESTORE)$name.sha256" "$dir/$name.sha256"; then
    die "redis: cannot download $(s3_url RESTORE "$name") (see rclone's message above): $fix"
  fi
  # rclone copies nothing, successfully, from an object that is not there
  if [ ! -s "$dir/$name" ] || [ ! -s "$dir/$name.sha256" ]; then die "redis: the download of $(s3_url RESTORE "$name") left no file: $fix"; fi
  expected="$(awk 'NR == 1 { print $1 }' "$dir/$name.sha256")"
  actual="$(sha256sum "$dir/$name" | cut -d' ' -f1)"
  [ "$expected" = "$actual" ] ||
    die "redis: the snapshot $(s3_url RESTORE "$name") is corrupted: its SHA-256 is $actual, its checksum object $name.sha256 says ${expected:-nothing}; $fix"
  if ! check="$(redis-check-rdb "$dir/$name" 2>&1)" || ! grep -q 'RDB looks OK' <<<"$check"; then
    die "redis: the snapshot $(s3_url RESTORE "$name") fails redis-check-rdb ($(grep -E 'ERROR|error' <<<"$check" | tr '\n' ' ' | tail -c 300)); $fix"
  fi
  load_snapshot "$dir" "$name" "$(sed -n 's/^\[info\] \([0-9]*\) keys read$/\1/p' <<<"$check")"
}

# restore_conf DIR NAME: the temporary server's config: the snapshot NAME of DIR loaded, nothing saved
restore_conf() {
  local quoted="${REDIS_PASSWORD//\\/\\\\}"
  quoted="${quoted//\"/\\\"}"
  echo "# Written by cdk8s-stateful redis-restore.sh: loads the snapshot $2."
  echo "dir $1"
  echo "requirepass \"$quoted\""
  # the app's settings (e.g. `databases`, which the snapshot may need)
  write_extra_config
  echo "dbfilename $2"
  echo 'appendonly no'
  echo 'save ""'
}

# load_snapshot DIR NAME KEYS: a temporary server on localhost loads the checked snapshot NAME of
# DIR and writes it as its append-only file, which then moves into DATA_DIR
load_snapshot() {
  local dir="$1" name="$2" keys="$3" pid info loaded waited=0 port="${SYNC_PORT:-6380}" conf="${CONFIG_DIR:-/etc/redis}/restore.conf"
  mkdir -p "${CONFIG_DIR:-/etc/redis}"
  (umask 077 && restore_conf "$dir" "$name" >"$conf")
  redis-server "$conf" --port "$port" --bind 127.0.0.1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  until [ "$(restore_cli "$port" ping 2>/dev/null)" = PONG ]; do
    kill -0 "$pid" 2>/dev/null || die "redis: the temporary server could not load the snapshot $name (see its log above): the set does not start empty instead. Fix: restore with an image of the backed-up set's Redis version or newer"
    sleep 1
  done
  restore_cli "$port" config set appendonly yes >/dev/null || die "redis: the temporary server refused to write the snapshot $name as its append-only file"
  while :; do
    kill -0 "$pid" 2>/dev/null || die "redis: the temporary server writing the snapshot $name exited (see above)"
    info="$(restore_cli "$port" info persistence 2>/dev/null || true)"
    if [ "$(restore_field "$info" aof_enabled)" = 1 ] && [ "$(restore_field "$info" aof_rewrite_in_progress)" = 0 ] &&
      [ "$(restore_field "$info" aof_rewrite_scheduled)" = 0 ] && [ "$(restore_field "$info" loading)" = 0 ]; then
      break
    fi
    if [ $((waited % 30)) -eq 0 ]; then log "redis: writing the snapshot $name as the append-only file"; fi
    sleep 1
    waited=$((waited + 1))
  done
  [ "$(restore_field "$info" aof_last_bgrewrite_status)" = ok ] || die "redis: writing the snapshot $name as the append-only file failed (see above)"
  loaded="$(restore_cli "$port" dbsize)"
  restore_cli "$port" shutdown >/dev/null 2>&1 || true
  wait "$pid" || true
  trap - EXIT
  rm -f "$conf"
  [ -d "$dir/appendonlydir" ] || die "redis: the temporary server left no append-only file in $dir"
  mv "$dir/appendonlydir" "${DATA_DIR:-/data}/appendonlydir"
  rm -rf "$dir"
  log "redis: restored the snapshot $name: $loaded keys loaded (${keys:-?} in the file, expired ones dropped); this member starts as the master with it"
}

# restore_sentinel: the init container `restore` with Sentinel (see the head of this file)
restore_sentinel() {
  local ordinal start founded
  ordinal="$(pod_ordinal)"
  start="$(start_ordinal)"
  read_secret REDIS_PASSWORD PW_KEY
  # what an interrupted restore left behind is not data
  rm -rf "${RESTORE_DIR:-${DATA_DIR:-/data}/.cdk8s-restore}"
  if restore_has_data; then
    log "redis: this member holds data: no restore (restoreFrom only ever fills the empty volume of the member that founds a new set)"
    return 0
  fi
  if [ "$ordinal" -ne "$start" ]; then
    log "redis: member $ordinal does not restore: only the first member (ordinal $start) of a new set does; this one copies the master the Sentinels name"
    return 0
  fi
  founded="$(cat "${FOUNDED_FILE:?FOUNDED_FILE is not set}" 2>/dev/null || true)"
  case "$founded" in
    absent)
      log "redis: the set was never founded (no Lease ${SET_NAME:-<set>}-founded) and this first member's volume is empty: it founds the set from the snapshot"
      restore_if_asked ;;
    present)
      log "redis: the set was founded already (Lease ${SET_NAME:-<set>}-founded): this member's volume is empty, but it never restores: it waits for the Sentinels to name a master that holds the data, and copies it" ;;
    *)
      die "redis: cannot tell whether the set was founded ($FOUNDED_FILE says '${founded:-nothing}'): the restore waits for the answer of the init container founded. Fix: let the members reach the API server (sentinel.apiServerCidrs and apiServerPorts)" ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  # shellcheck source=common.sh
  . "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
  case "${1:-}" in
    sentinel) restore_sentinel ;;
    *) die "usage: $0 sentinel" ;;
  esac
fi
