# shellcheck shell=bash
# The steps a backup sidecar shares when each backup is one object streamed to S3 with rclone
# (MariaDB Galera's mariadb-backup.sh, MySQL's mysql-backup.sh, ZooKeeper's zookeeper-backup.sh).
# Sourced after common.sh, cron.sh, rclone-s3.sh and backup-metrics.sh; the engine's script
# defines `take_backup` (one backup, with the helpers below) and ends with `backup_main "$@"`.
#   - the highest ordinal of the set takes the scheduled backups (backs_up); an engine whose taker
#     moves (ZooKeeper's: a follower) defines its own backs_up and backup_taker after sourcing this
#     file, and the role is read again every minute; `now` takes one at once, e.g. a drill;
#   - one at a time: a lock on the data volume, held for the backup's length; WORK (on the data
#     volume) is removed before and after, whatever the outcome;
#   - an object counts only once its checksum object `<name>.sha256` is stored, last, after the
#     stored length and a read back of its SHA-256 matched what was sent; a failed attempt's upload
#     is deleted when the store lets it;
#   - every attempt's outcome is recorded for Prometheus (backup-metrics.sh).
# Needs WORK and, for the schedule, BACKUP_SCHEDULE; RETAIN_BACKUPS (default 7) are kept. An engine
# whose object names carry a tag sets BACKUP_TAG (an extended regular expression, rclone-s3.sh);
# BACKUP_SUFFIX (e.g. `.tar`) lets a member that takes the role over adopt the newest backup.

# backup_failed STARTED NAME WHY: the attempt's end, loud and recorded at once (the cleanup after
# it may wait minutes on a store that does not answer); then the partial upload NAME (if any)
# deleted when possible; always fails
backup_failed() {
  log "backup: FAILED after $(($(date +%s) - $1))s: $3. No backup was recorded; the next scheduled one tries again."
  backup_metrics_failure "$(s3_url BACKUP)" || log "backup: could not record the failure in $BACKUP_METRICS_DIR"
  if [ -n "$2" ] && s3_object_size BACKUP "$2" >/dev/null 2>&1; then
    s3 BACKUP deletefile "$(s3_dir BACKUP)$2" 2>/dev/null || log "backup: the partial upload $2 stays (it has no checksum object: it never counts); the next backup's expiry deletes it"
  fi
  # its binary log record (binlog-archive.sh), if it got one
  if [ -n "$2" ] && s3_object_size BACKUP "$2.binlog" >/dev/null 2>&1; then
    s3 BACKUP deletefile "$(s3_dir BACKUP)$2.binlog" 2>/dev/null || true
  fi
  return 1
}

# backup_name STARTED SUFFIX: prints a new object's name, `<UTC time><SUFFIX>`; fails when the
# repository holds it already (backups are never overwritten)
backup_name() {
  local name stored
  name="$(date -u +%Y%m%dT%H%M%SZ)$2"
  if stored="$(s3_object_size BACKUP "$name")"; then
    backup_failed "$1" "" "$(s3_url BACKUP "$name") exists already ($stored bytes): backups are never overwritten"
    return 1
  fi
  printf '%s\n' "$name"
}

# backup_stream NAME COMMAND...: COMMAND's output uploaded as object NAME, its SHA-256 and length
# taken on the way into WORK/sha256 and WORK/bytes. Fails as any step does.
backup_stream() {
  local name="$1" sum_pid len_pid status=0
  shift
  mkfifo "$WORK/sum.fifo" "$WORK/len.fifo"
  sha256sum <"$WORK/sum.fifo" | cut -d' ' -f1 >"$WORK/sha256" &
  sum_pid=$!
  wc -c <"$WORK/len.fifo" >"$WORK/bytes" &
  len_pid=$!
  "$@" | tee "$WORK/sum.fifo" "$WORK/len.fifo" | s3 BACKUP rcat "$(s3_dir BACKUP)$name" || status=$?
  wait "$sum_pid" "$len_pid" || status=1
  [ "$status" -eq 0 ]
}

# backup_seal STARTED NAME: the streamed object checked (its stored length, a read back of its
# SHA-256) and its checksum object stored, last; BACKUP_SHA and BACKUP_BYTES set. Fails
# (backup_failed) when a check does.
backup_seal() {
  local stored readback
  BACKUP_SHA="$(<"$WORK/sha256")" BACKUP_BYTES="$(tr -d ' ' <"$WORK/bytes")"
  if ! stored="$(s3_object_size BACKUP "$2")" || [ "$stored" != "$BACKUP_BYTES" ]; then
    backup_failed "$1" "$2" "$(s3_url BACKUP "$2") holds ${stored:-no} bytes, the stream $BACKUP_BYTES"
    return 1
  fi
  if ! readback="$(s3 BACKUP cat "$(s3_dir BACKUP)$2" | sha256sum | cut -d' ' -f1)" || [ "$readback" != "$BACKUP_SHA" ]; then
    backup_failed "$1" "$2" "$(s3_url BACKUP "$2") reads back with SHA-256 ${readback:-none}, the stream had $BACKUP_SHA"
    return 1
  fi
  if ! printf '%s  %s\n' "$BACKUP_SHA" "$2" | s3 BACKUP rcat "$(s3_dir BACKUP)$2.sha256"; then
    backup_failed "$1" "$2" "the checksum object $2.sha256 could not be uploaded (see rclone's message above)"
    return 1
  fi
}

# backup_done STARTED NAME SUFFIX WHAT: a sealed backup recorded and logged (WHAT: what it holds,
# e.g. its position); then the newest RETAIN_BACKUPS objects ending in SUFFIX are kept
backup_done() {
  # one duration for the record and the log (two clock readings can fall either side of a second)
  local took=$(($(date +%s) - $1))
  backup_metrics_success "$(s3_url BACKUP)" "$took" "$BACKUP_BYTES" || log "backup: could not record it in $BACKUP_METRICS_DIR"
  log "backup: $2 done in ${took}s: $BACKUP_BYTES bytes from member $(pod_ordinal)$4, sha256 $BACKUP_SHA"
  s3_expire BACKUP "$3" "${RETAIN_BACKUPS:-7}" backup "${BACKUP_TAG:-}" || true
}

# backup_once: take_backup under the lock, WORK removed before and after
backup_once() {
  (
    exec 9>"$WORK.lock"
    if ! flock -n 9; then
      log "backup: FAILED: another backup is running (the lock $WORK.lock is held); try again once it ends"
      exit 1
    fi
    trap 'rm -rf "$WORK"' EXIT
    rm -rf "$WORK"
    (umask 077 && mkdir -p "$WORK")
    take_backup
  )
}

# backs_up: whether this member's sidecar takes the scheduled backups: the highest ordinal of the set
backs_up() {
  [ "$(pod_ordinal)" -eq "$(($(start_ordinal) + $(peer_count) - 1))" ]
}

# backup_taker: who takes the scheduled backups, for the log of a member that does not
backup_taker() {
  echo "the highest ordinal, $(($(start_ordinal) + $(peer_count) - 1)), does"
}

# backup_adopt_newest: the newest complete backup of the repository (its name starts with its UTC
# time) as the record's last success when it is newer than the record's: one another member took
# before the role moved here. Only with BACKUP_SUFFIX; nothing when the store does not answer.
backup_adopt_newest() {
  local newest size when
  [ -n "${BACKUP_SUFFIX:-}" ] || return 0
  newest="$(s3_snapshots BACKUP "$BACKUP_SUFFIX" "${BACKUP_TAG:-}" 2>/dev/null | tail -n 1)" || return 0
  [ -n "$newest" ] || return 0
  size="$(s3_object_size BACKUP "$newest" 2>/dev/null)" || return 0
  when="$(date -u -d "$(sed -E 's/^(....)(..)(..)T(..)(..)(..)Z.*/\1-\2-\3T\4:\5:\6Z/' <<<"$newest")" +%s)" || return 0
  backup_metrics_adopt "$(s3_url BACKUP)" "$when" "$size"
}

# backup_role: whether this member takes the scheduled backups now (BACKUP_ROLE: yes or no); its
# record and its log follow each change
backup_role() {
  local now=no was="${BACKUP_ROLE:-}"
  if backs_up; then now=yes; fi
  [ "$now" != "$was" ] || return 0
  BACKUP_ROLE="$now"
  if [ "$now" = yes ]; then
    backup_metrics_begin "$(s3_url BACKUP)"
    log "backup: backups of this member at '$BACKUP_SCHEDULE' (UTC) to $(s3_url BACKUP), the newest ${RETAIN_BACKUPS:-7} kept"
    # taken over from another member: the last backup it took counts
    if [ -n "$was" ]; then backup_adopt_newest; fi
  else
    backup_metrics_none
    log "backup: member $(pod_ordinal) does not take the scheduled backups ($(backup_taker))"
  fi
}

# backup_main ARGS...: `now`, one backup; otherwise the scheduler, which serves the record and
# takes a backup on this member whenever BACKUP_SCHEDULE (UTC) fires while it has the role
backup_main() {
  if [ "${1:-}" = now ]; then
    backup_once
    return
  fi
  : "${BACKUP_SCHEDULE:?BACKUP_SCHEDULE is not set: the preset sets it from backup.schedule}"
  BACKUP_ROLE=
  backup_role
  backup_metrics_serve
  while :; do
    # wake at the start of the next minute, as cron does
    sleep "$((60 - $(date +%s) % 60))"
    backup_metrics_check
    # the binary log archiver (binlog-archive.sh), where the engine started one
    if declare -F binlog_archive_check >/dev/null; then binlog_archive_check; fi
    backup_role
    if [ "$BACKUP_ROLE" = yes ] && cron_matches "$BACKUP_SCHEDULE" "$(date -u '+%M %H %d %m %w')"; then
      backup_once || true
    fi
  done
}
