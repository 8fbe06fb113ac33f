#!/usr/bin/env bash
# Redis with `backup`, the sidecar `backup` of every member (docs/engines.md, Redis backups).
#   redis-backup.sh        the scheduler: on the primary's pod (the first ordinal; with Sentinel,
#                          SENTINEL_PORT and SET_NAME set: the pod of the master the local Sentinel
#                          names, checked every minute), takes a snapshot whenever the cron schedule
#                          BACKUP_SCHEDULE (UTC) fires; the other members' sidecars only wait.
#   redis-backup.sh now    one snapshot at once (the same steps), e.g. a drill:
#                          kubectl exec <name>-0 -c backup -- bash /opt/cdk8s-stateful/redis-backup.sh now
# A snapshot: the member it reads (BACKUP_MEMBER: `replica`, the first replica linked to the
# primary, not loading nor syncing, else the primary; `primary`; with Sentinel the primary is the
# master it names and the replicas those it reports up and linked) streams a fresh RDB to
# `redis-cli --rdb` through the replication protocol (the server forks and writes it for this
# client only), as the default user with the set's password (what the replicas use), into
# SPOOL_DIR on the data volume; `redis-check-rdb` must find it whole (its CRC64 included), then
# its SHA-256 is taken, and rclone uploads it as `<UTC time>.rdb` (a name never overwritten:
# an existing one fails the snapshot), its stored size is compared, and only then `<name>.sha256`
# goes up: a snapshot without its checksum object is not one. Then the newest RETAIN_BACKUPS
# complete snapshots are kept and the older ones deleted, with any upload left without its
# checksum object. Any failure (the member restarting or killed mid-stream, the link cut, the
# store down, no room on the volume) ends the attempt with `backup: FAILED ...` and a non-zero
# status; what it had written is removed, and nothing it uploaded counts as a snapshot.
# Each attempt's outcome is recorded for Prometheus (backup-metrics.sh), which the sidecar serves
# on BACKUP_METRICS_PORT.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=cron.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/cron.sh"
# shellcheck source=rclone-s3.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/rclone-s3.sh"
# shellcheck source=backup-metrics.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/backup-metrics.sh"

PORT="${REDIS_PORT:-6379}"
SPOOL_DIR="${SPOOL_DIR:-${DATA_DIR:-/data}/.cdk8s-backup}"
# the longest a snapshot may stream: a member that stalls mid-stream fails the attempt
SNAPSHOT_TIMEOUT="${SNAPSHOT_TIMEOUT:-6h}"

read_secret REDIS_PASSWORD PW_KEY

# cli HOST ARGS...: an authenticated redis-cli (the password in its environment only)
cli() {
  local host="$1"
  shift
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$host" -p "$PORT" "$@"
}

# info_field TEXT NAME: a field of INFO's output
info_field() {
  sed -n "s/^$2:\\([^[:space:]]*\\).*/\\1/p" <<<"$1" | head -n 1
}

# healthy_replica HOST: whether HOST is a replica linked to its primary, not syncing nor loading
healthy_replica() {
  local info
  info="$(cli "$1" info 2>/dev/null)" || return 1
  [ "$(info_field "$info" role)" = slave ] && [ "$(info_field "$info" master_link_status)" = up ] &&
    [ "$(info_field "$info" master_sync_in_progress)" = 0 ] && [ "$(info_field "$info" loading)" = 0 ]
}

# sentinel ARGS...: the local Sentinel (this member's), authenticated
sentinel() {
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$(peer_address "$(pod_ordinal)")" -p "$SENTINEL_PORT" "$@"
}

# current_primary: the primary: the first ordinal's member; with Sentinel the master the local
# Sentinel names (one of the members). Fails when it cannot tell.
current_primary() {
  local addr peer
  if [ -z "${SENTINEL_PORT:-}" ]; then
    peer_address "$(start_ordinal)"
    return
  fi
  addr="$(sentinel sentinel get-master-addr-by-name "$SET_NAME" 2>/dev/null | head -n 1)" || return 1
  for peer in ${PEERS:-}; do
    if [ "$peer" = "$addr" ]; then
      echo "$addr"
      return 0
    fi
  done
  return 1
}

# replica_candidates PRIMARY: the members that may be replicas of PRIMARY: the others; with
# Sentinel those it reports as replicas neither down nor disconnected, with their link up
replica_candidates() {
  local peer
  if [ -z "${SENTINEL_PORT:-}" ]; then
    for peer in ${PEERS:-}; do
      if [ "$peer" != "$1" ]; then echo "$peer"; fi
    done
    return 0
  fi
  # SENTINEL REPLICAS: per replica, its fields and values, one a line
  sentinel sentinel replicas "$SET_NAME" 2>/dev/null | awk '
    function emit() { if (ip != "" && flags == "slave" && link == "ok") print ip }
    NR % 2 == 1 { key = $0; next }
    key == "name" { emit(); ip = ""; flags = ""; link = "" }
    key == "ip" { ip = $0 }
    key == "flags" { flags = $0 }
    key == "master-link-status" { link = $0 }
    END { emit() }'
}

# snapshot_source: the member the snapshot reads
snapshot_source() {
  local primary peer
  primary="$(current_primary)" || die "backup: cannot tell the primary (ordinal $(start_ordinal) of PEERS='${PEERS:-}', or with Sentinel the master it names)"
  if [ "${BACKUP_MEMBER:-replica}" = replica ]; then
    for peer in $(replica_candidates "$primary"); do
      if healthy_replica "$peer"; then
        echo "$peer"
        return 0
      fi
    done
    log "backup: no replica is linked to the primary and idle: the snapshot reads the primary"
  fi
  echo "$primary"
}

# room_for HOST: whether SPOOL_DIR has room for a snapshot of HOST (its data set's size in memory,
# more than the RDB needs, plus 16 MiB)
room_for() {
  local need avail
  need="$(info_field "$(cli "$1" info memory 2>/dev/null)" used_memory_dataset)"
  case "$need" in '' | *[!0-9]*) need=0 ;; esac
  need=$((need + 16777216))
  avail="$(df -Pk "$SPOOL_DIR" | awk 'NR == 2 { print $4 * 1024 }')"
  if [ "${avail:-0}" -lt "$need" ]; then
    log "backup: $SPOOL_DIR has $avail bytes free, a snapshot of $1 needs up to $need"
    return 1
  fi
}

# failed STARTED WHY: the attempt's end, loud
failed() {
  log "backup: FAILED after $(($(date +%s) - $1))s: $2. No snapshot was recorded; the next scheduled one tries again."
  rm -rf "$SPOOL_DIR"
  backup_metrics_failure "$(s3_url BACKUP)"
  return 1
}

# expire: keeps the newest RETAIN_BACKUPS complete snapshots (s3_expire)
expire() {
  s3_expire BACKUP .rdb "${RETAIN_BACKUPS:-7}" snapshot
}

# backup_once: one snapshot, its outcome logged; one at a time (a drill's `now` beside the
# schedule): the lock is held by a subshell for the snapshot's length only
backup_once() {
  (
    exec 9>"$SPOOL_DIR.lock"
    if ! flock -n 9; then
      log "backup: FAILED: another snapshot is running (the lock $SPOOL_DIR.lock is held); try again once it ends"
      exit 1
    fi
    snapshot
  )
}

# snapshot: the steps of one snapshot (backup_once holds the lock)
snapshot() {
  local started source name file check keys sha size stored took
  started="$(date +%s)"
  rm -rf "$SPOOL_DIR"
  (umask 077 && mkdir -p "$SPOOL_DIR")
  source="$(snapshot_source)"
  name="$(date -u +%Y%m%dT%H%M%SZ).rdb"
  file="$SPOOL_DIR/$name"
  room_for "$source" || { failed "$started" "no room for the snapshot on the data volume"; return 1; }
  log "backup: snapshot $name of $source to $(s3_url BACKUP)"
  if ! timeout "$SNAPSHOT_TIMEOUT" env REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$source" -p "$PORT" --rdb "$file" >"$SPOOL_DIR/cli.log" 2>&1; then
    failed "$started" "redis-cli --rdb from $source did not complete ($(tr '\n' ' ' <"$SPOOL_DIR/cli.log" | tail -c 300))"
    return 1
  fi
  if ! check="$(redis-check-rdb "$file" 2>&1)" || ! grep -q 'RDB looks OK' <<<"$check"; then
    failed "$started" "redis-check-rdb refused the snapshot from $source ($(grep -E 'ERROR|error' <<<"$check" | tr '\n' ' ' | tail -c 300))"
    return 1
  fi
  keys="$(sed -n 's/^\[info\] \([0-9]*\) keys read$/\1/p' <<<"$check")"
  sha="$(sha256sum "$file" | cut -d' ' -f1)"
  size="$(stat -c %s "$file")"
  if stored="$(s3_object_size BACKUP "$name")"; then
    failed "$started" "$(s3_url BACKUP "$name") exists already ($stored bytes): snapshots are never overwritten"
    return 1
  fi
  if ! s3 BACKUP copyto "$file" "$(s3_dir BACKUP)$name"; then
    failed "$started" "the upload of $name to $(s3_url BACKUP) failed (see rclone's message above)"
    return 1
  fi
  if ! stored="$(s3_object_size BACKUP "$name")" || [ "$stored" != "$size" ]; then
    failed "$started" "$(s3_url BACKUP "$name") holds ${stored:-no} bytes, the snapshot $size"
    return 1
  fi
  if ! printf '%s  %s\n' "$sha" "$name" | s3 BACKUP rcat "$(s3_dir BACKUP)$name.sha256"; then
    failed "$started" "the checksum object $name.sha256 could not be uploaded (see rclone's message above)"
    return 1
  fi
  rm -rf "$SPOOL_DIR"
  # one duration for the record and the log (two clock readings can fall either side of a second)
  took=$(($(date +%s) - started))
  backup_metrics_success "$(s3_url BACKUP)" "$took" "$size"
  log "backup: snapshot $name done in ${took}s: $size bytes, ${keys:-?} keys, from $source, sha256 $sha"
  expire || true
}

# backs_up: whether this member's sidecar takes the scheduled snapshots (the primary's pod):
# prints yes or no, or nothing when it cannot tell (no Sentinel answers)
backs_up() {
  local primary
  primary="$(current_primary)" || return 0
  if [ "$primary" = "$(peer_address "$(pod_ordinal)")" ]; then echo yes; else echo no; fi
}

# adopt_newest: the newest complete snapshot of the repository (its name is its UTC time) as the
# record's last success when it is newer than the record's: one another member took before the
# master moved here. Nothing when the store does not answer.
adopt_newest() {
  local newest size when
  newest="$(s3_snapshots BACKUP 2>/dev/null | tail -n 1)" || return 0
  [ -n "$newest" ] || return 0
  size="$(s3_object_size BACKUP "$newest" 2>/dev/null)" || return 0
  when="$(date -u -d "$(sed -E 's/^(....)(..)(..)T(..)(..)(..)Z\.rdb$/\1-\2-\3T\4:\5:\6Z/' <<<"$newest")" +%s)" || return 0
  backup_metrics_adopt "$(s3_url BACKUP)" "$when" "$size"
}

# take_role: whether this member takes the scheduled snapshots now (SCHEDULING: yes or no), its
# record and log updated when that changed; unchanged while it cannot tell
take_role() {
  local now
  now="$(backs_up)"
  if [ -z "$now" ] || [ "$now" = "${SCHEDULING:-}" ]; then return 0; fi
  SCHEDULING="$now"
  if [ "$now" = yes ]; then
    backup_metrics_begin "$(s3_url BACKUP)"
    log "backup: member $(pod_ordinal) takes the snapshots at '$BACKUP_SCHEDULE' (UTC) of the ${BACKUP_MEMBER:-replica} to $(s3_url BACKUP), the newest ${RETAIN_BACKUPS:-7} kept"
    adopt_newest
  else
    backup_metrics_none
    log "backup: member $(pod_ordinal) does not take the scheduled snapshots (the primary's pod does: ordinal $(start_ordinal), or with Sentinel the master's)"
  fi
}

if [ "${1:-}" = now ]; then
  backup_once
  exit
fi
: "${BACKUP_SCHEDULE:?BACKUP_SCHEDULE is not set: the preset sets it from backup.schedule}"
SCHEDULING=
backup_metrics_serve
take_role
while :; do
  # wake at the start of the next minute, as cron does
  sleep "$((60 - $(date +%s) % 60))"
  backup_metrics_check
  take_role
  if [ "$SCHEDULING" = yes ] && cron_matches "$BACKUP_SCHEDULE" "$(date -u '+%M %H %d %m %w')"; then
    backup_once || true
  fi
done
