# shellcheck shell=bash
# The binary log archive of MySQL and MariaDB Galera (`backup.binlogArchiveInterval`), and its
# replay for a restore to a point in time (`restoreFrom.pointInTime`). Sourced, never executed:
# the archive by the backup sidecar (mysql-backup.sh, mariadb-backup.sh, after object-backup.sh),
# the replay by the init container `restore` (mysql-restore.sh, mariadb-restore.sh, after
# rclone-s3.sh).
#
# The archive, under the backup repository's path:
#   binlog/<lineage>/<file>          a closed binary log file, uploaded whole (e.g. binlog.000042)
#   binlog/<lineage>/<file>.sha256   `<sha256>  <file>`, written last, once the stored object's
#                                    length and a read back of its SHA-256 matched: a file counts
#                                    only with it
#   <backup>.binlog                  beside a backup, written before its checksum object: where its
#                                    replay starts (`lineage=`, `file=`, `position=`) and when the
#                                    backup had ended (`ended=`, UNIX seconds)
# A lineage is one data directory's numbering of its files: an id kept in BINLOG_DIR
# (.cdk8s-binlog-lineage), made anew when the directory is (a clone, a state transfer, a new
# volume), or when the server numbers its files anew (a stored file of the same name differs).
#
# The archiver (binlog_archive_start, on the member that takes the scheduled backups) wakes every
# BINLOG_ARCHIVE_INTERVAL seconds: when the server logged anything since its last switch (its
# BINLOG_POSITION_QUERY answers otherwise) it switches files (FLUSH BINARY LOGS), then uploads
# every closed file the archive lacks, oldest first. A failure (the store down, the server not
# answering) leaves the files where they are, is logged and counted, and the next wake tries
# again: the server is never stopped. `cdk8s_binlog_archived_until_timestamp_seconds` (in the
# backup metrics record) is the moment before which every transaction is archived.
#
# The engine's script defines binlog_sql SQL (SQL on its own server, as an account that may FLUSH
# BINARY LOGS) and sets BINLOG_POSITION_QUERY; BINLOG_DIR (default DATA_DIR) and BINLOG_BASENAME
# (default binlog) say where the files and their index are.

BINLOG_DIR="${BINLOG_DIR:-${DATA_DIR:-/var/lib/mysql/data}}"
BINLOG_BASENAME="${BINLOG_BASENAME:-binlog}"

# binlog_lineage: this data directory's lineage id, made once (atomically: the archiver and a
# backup may ask at once)
binlog_lineage() {
  local marker="$BINLOG_DIR/.cdk8s-binlog-lineage"
  if [ ! -s "$marker" ]; then
    (set -C && printf '%s-%s\n' "$(date -u +%Y%m%dT%H%M%SZ)" "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')" >"$marker") 2>/dev/null || true
  fi
  head -n 1 "$marker"
}

# binlog_new_lineage WHY: a new lineage for this data directory, logged
binlog_new_lineage() {
  rm -f "$BINLOG_DIR/.cdk8s-binlog-lineage"
  log "binlog: a new lineage $(binlog_lineage) for $BINLOG_DIR: $1"
  BINLOG_STORED=
}

# binlog_files: the server's binary log files, oldest first (its index), the last one open
binlog_files() {
  sed 's#.*/##' "$BINLOG_DIR/$BINLOG_BASENAME.index"
}

# binlog_active_file: the file the server writes now
binlog_active_file() {
  binlog_files | tail -n 1
}

# binlog_dir PREFIX LINEAGE: the lineage's directory in repository PREFIX, as an rclone path
binlog_dir() {
  printf '%sbinlog/%s/' "$(s3_dir "$1")" "$2"
}

# binlog_stored PREFIX LINEAGE: `<size> <name>` of the lineage's objects. Fails when the store cannot be listed.
binlog_stored() {
  s3 "$1" lsf --files-only --format sp --separator ' ' "$(binlog_dir "$1" "$2")"
}

# binlog_upload LINEAGE NAME: closed file NAME uploaded, checked and sealed (its .sha256 last)
binlog_upload() {
  local src="$BINLOG_DIR/$2" dst size sha stored readback
  dst="$(binlog_dir BACKUP "$1")$2"
  size="$(stat -c %s "$src")" || return 1
  sha="$(sha256sum <"$src" | cut -d' ' -f1)" || return 1
  s3 BACKUP rcat "$dst" <"$src" || return 1
  stored="$(s3 BACKUP lsf --format s "$dst")" || return 1
  if [ "$stored" != "$size" ]; then
    log "binlog: $dst holds ${stored:-no} bytes, the file $size"
    return 1
  fi
  readback="$(s3 BACKUP cat "$dst" | sha256sum | cut -d' ' -f1)" || return 1
  if [ "$readback" != "$sha" ]; then
    log "binlog: $dst reads back with SHA-256 $readback, the file has $sha"
    return 1
  fi
  printf '%s  %s\n' "$sha" "$2" | s3 BACKUP rcat "$dst.sha256" || return 1
  BINLOG_STORED="$(printf '%s\n%s %s\n%s %s.sha256' "$BINLOG_STORED" "$size" "$2" 0 "$2")"
}

# binlog_metrics_write: the archive's series (BINLOG_UNTIL, BINLOG_PENDING, BINLOG_FAILURES) into
# the backup metrics record (backup-metrics.sh keeps them there when it rewrites its own)
binlog_metrics_write() {
  local label
  label="{repository=\"$(s3_url BACKUP)\"}"
  (umask 022 && mkdir -p "$BACKUP_METRICS_DIR")
  {
    printf '# HELP cdk8s_binlog_%s %s\n# TYPE cdk8s_binlog_%s %s\ncdk8s_binlog_%s%s %s\n' \
      archived_until_timestamp_seconds 'Every transaction logged before this moment is in the binary log archive (NaN before the first upload).' \
      archived_until_timestamp_seconds gauge archived_until_timestamp_seconds "$label" "${BINLOG_UNTIL:-NaN}" \
      archive_pending_files 'Closed binary log files not yet in the archive.' archive_pending_files gauge archive_pending_files "$label" "${BINLOG_PENDING:-0}" \
      archive_failures_total 'Failed archive attempts since the record began.' archive_failures_total counter archive_failures_total "$label" "${BINLOG_FAILURES:-0}"
  } >"$BACKUP_METRICS_DIR/.binlog.tmp"
  mv -f "$BACKUP_METRICS_DIR/.binlog.tmp" "$BACKUP_METRICS_DIR/binlog"
  backup_metrics_publish
}

# binlog_metrics_read: BINLOG_UNTIL and BINLOG_FAILURES from the record, when it is of this repository
binlog_metrics_read() {
  local file="$BACKUP_METRICS_DIR/binlog"
  grep -qF "repository=\"$(s3_url BACKUP)\"" "$file" 2>/dev/null || return 0
  BINLOG_UNTIL="$(sed -n 's/^cdk8s_binlog_archived_until_timestamp_seconds{[^}]*} //p' "$file")"
  BINLOG_FAILURES="$(sed -n 's/^cdk8s_binlog_archive_failures_total{[^}]*} //p' "$file")"
}

# binlog_failed WHY: a failed attempt, logged and counted; always fails
binlog_failed() {
  BINLOG_FAILURES=$((${BINLOG_FAILURES:-0} + 1))
  log "binlog: archiving FAILED: $1. The files stay on the volume; the next attempt in ${BINLOG_ARCHIVE_INTERVAL}s tries again."
  binlog_metrics_write || true
  return 1
}

# binlog_archive_once: one wake of the archiver (see the top of this file)
binlog_archive_once() {
  local now pos lineage name size stored closed=() pending=0
  now="$(date +%s)"
  [ -s "$BINLOG_DIR/$BINLOG_BASENAME.index" ] || { binlog_failed "$BINLOG_DIR/$BINLOG_BASENAME.index does not exist: the binary log is off, or the server has not started"; return 1; }
  pos="$(binlog_sql "$BINLOG_POSITION_QUERY" 2>&1 | tr -d '[:space:]')" || { binlog_failed "the server does not answer ($pos)"; return 1; }
  # the position when the file was last switched, kept beside the files: nothing logged since,
  # nothing to switch (an idle server gets no empty files)
  if [ "$pos" != "$(cat "$BINLOG_DIR/.cdk8s-binlog-switched" 2>/dev/null || true)" ]; then
    binlog_sql 'FLUSH BINARY LOGS' >/dev/null 2>&1 || { binlog_failed "FLUSH BINARY LOGS failed"; return 1; }
    printf '%s\n' "$pos" >"$BINLOG_DIR/.cdk8s-binlog-switched"
  fi
  lineage="$(binlog_lineage)"
  mapfile -t closed < <(binlog_files | sed '$d')
  if [ "$lineage" != "${BINLOG_LINEAGE:-}" ] || [ -z "$BINLOG_STORED" ]; then
    # not listed yet: every closed file counts as pending until the store answers
    BINLOG_PENDING="${#closed[@]}"
    BINLOG_STORED="$(binlog_stored BACKUP "$lineage")" || { binlog_failed "cannot list $(s3_url BACKUP "binlog/$lineage/") (see rclone's message above)"; return 1; }
    BINLOG_LINEAGE="$lineage"
  fi
  for name in "${closed[@]}"; do
    grep -qx "[0-9]* $name.sha256" <<<"$BINLOG_STORED" || pending=$((pending + 1))
  done
  BINLOG_PENDING="$pending"
  for name in "${closed[@]}"; do
    grep -qx "[0-9]* $name.sha256" <<<"$BINLOG_STORED" || continue
    # the server numbers its files anew (its binary log was reset): the archive's file of that
    # name is another one
    stored="$(awk -v n="$name" '$2 == n { print $1 }' <<<"$BINLOG_STORED")"
    size="$(stat -c %s "$BINLOG_DIR/$name" 2>/dev/null || true)"
    if [ -n "$size" ] && [ "$stored" != "$size" ]; then
      binlog_new_lineage "its $name ($size bytes) is not the archived one ($stored bytes)"
      binlog_failed "a new lineage begins: its files are uploaded at the next attempt"
      return 1
    fi
  done
  for name in "${closed[@]}"; do
    grep -qx "[0-9]* $name.sha256" <<<"$BINLOG_STORED" && continue
    binlog_upload "$lineage" "$name" || { binlog_failed "$name could not be uploaded to $(s3_url BACKUP "binlog/$lineage/") (see the messages above)"; return 1; }
    BINLOG_PENDING=$((BINLOG_PENDING - 1))
    log "binlog: archived $name ($lineage)"
  done
  BINLOG_UNTIL="$now"
  binlog_metrics_write
}

# binlog_archive_start: with BINLOG_ARCHIVE_INTERVAL, the archiver in the background, working
# while this member takes the scheduled backups (backs_up); its pid in BINLOG_ARCHIVE_PID
binlog_archive_start() {
  [ -n "${BINLOG_ARCHIVE_INTERVAL:-}" ] || return 0
  (
    BINLOG_STORED='' BINLOG_LINEAGE='' BINLOG_UNTIL='' BINLOG_PENDING=0 BINLOG_FAILURES=0
    binlog_metrics_read
    log "binlog: the binary log of $BINLOG_DIR archived every ${BINLOG_ARCHIVE_INTERVAL}s to $(s3_url BACKUP binlog/) while this member takes the backups"
    while :; do
      sleep "$BINLOG_ARCHIVE_INTERVAL"
      # a failed step fails the attempt, never the loop
      if backs_up; then binlog_archive_once || true; fi
    done
  ) &
  BINLOG_ARCHIVE_PID=$!
}

# binlog_archive_now: one attempt at once (`<engine>-backup.sh binlog`); fails as it does
binlog_archive_now() {
  : "${BINLOG_ARCHIVE_INTERVAL:?the set archives no binary log: backup.binlogArchiveInterval is not set}"
  BINLOG_STORED='' BINLOG_UNTIL='' BINLOG_FAILURES=0
  binlog_metrics_read
  binlog_archive_once
}

# binlog_archive_check: fails loudly when the archiver started by binlog_archive_start has exited
binlog_archive_check() {
  [ -n "${BINLOG_ARCHIVE_PID:-}" ] || return 0
  kill -0 "$BINLOG_ARCHIVE_PID" 2>/dev/null || die "binlog: the archiver exited; the container restarts"
}

# binlog_backup_record STARTED NAME FILE [POSITION]: with the archive, `<NAME>.binlog` stored:
# the backup's replay starts in FILE (at POSITION, 4 by default: the file's first event) of this
# data directory's lineage. Without FILE (the binary log was off), the backup counts, logged as
# one no restore to a point in time starts from. Fails (backup_failed) when it cannot be stored.
binlog_backup_record() {
  [ -n "${BINLOG_ARCHIVE_INTERVAL:-}" ] || return 0
  if [ -z "$3" ]; then
    log "backup: $2 has no binary log position (is the binary log on?): no restore to a point in time starts from it"
    return 0
  fi
  if ! printf 'lineage=%s\nfile=%s\nposition=%s\nended=%s\n' "$(binlog_lineage)" "$3" "${4:-4}" "$(date +%s)" |
    s3 BACKUP rcat "$(s3_dir BACKUP)$2.binlog"; then
    backup_failed "$1" "$2" "the backup's binary log record $2.binlog could not be stored (see rclone's message above)"
    return 1
  fi
}

# binlog_expire SUFFIX: the archive kept back to the oldest backup kept: of each lineage a kept
# backup starts in, the files before the first one needed are deleted; a lineage no kept backup
# starts in is deleted whole, unless it is this member's own (it has no backup yet)
binlog_expire() {
  [ -n "${BINLOG_ARCHIVE_INTERVAL:-}" ] || return 0
  local objects backup needed lineages lineage first own name stored
  objects="$(s3_objects BACKUP)" || return 1
  needed="$(for backup in $(s3_snapshots BACKUP "$1"); do
    grep -qx "[0-9]* $backup.binlog" <<<"$objects" || continue
    s3 BACKUP cat "$(s3_dir BACKUP)$backup.binlog" | awk -F= '$1 == "lineage" { l = $2 } $1 == "file" { f = $2 } END { if (l != "") print l, f }'
  done)" || return 1
  # the records of backups that are gone
  for name in $(awk '{ print $2 }' <<<"$objects" | grep -E '\.binlog$' || true); do
    grep -qx "[0-9]* ${name%.binlog}" <<<"$objects" || s3 BACKUP deletefile "$(s3_dir BACKUP)$name" || true
  done
  own="$(binlog_lineage)"
  lineages="$(s3 BACKUP lsf --dirs-only "$(s3_dir BACKUP)binlog/" 2>/dev/null | tr -d /)" || return 1
  for lineage in $lineages; do
    first="$(awk -v l="$lineage" '$1 == l { print $2 }' <<<"$needed" | LC_ALL=C sort | head -n 1)"
    if [ -z "$first" ]; then
      [ "$lineage" = "$own" ] && continue
      s3 BACKUP purge "$(binlog_dir BACKUP "$lineage")" && log "binlog: deleted the archive of lineage $lineage (no backup kept starts in it)"
      continue
    fi
    stored="$(binlog_stored BACKUP "$lineage")" || continue
    for name in $(awk '{ print $2 }' <<<"$stored" | grep -v '\.sha256$' || true); do
      [[ "$name" < "$first" ]] || continue
      s3 BACKUP deletefile "$(binlog_dir BACKUP "$lineage")$name.sha256" 2>/dev/null || true
      s3 BACKUP deletefile "$(binlog_dir BACKUP "$lineage")$name" && log "binlog: deleted $name of lineage $lineage (older than the oldest backup kept)"
    done
  done
}

# --- the replay (the init container `restore`) ---

# binlog_target_epoch: RESTORE_TARGET (`YYYY-MM-DD HH:MM:SS`, UTC, as the preset writes it) in UNIX seconds
binlog_target_epoch() {
  date -u -d "$RESTORE_TARGET UTC" +%s
}

# binlog_choose_backup TOOL SUFFIX FIX: RESTORE_NAME set to the newest complete backup of the
# RESTORE repository that had ended before RESTORE_TARGET and has a binary log record; its record
# in RESTORE_RECORD. Dies naming TOOL and FIX when there is none.
binlog_choose_backup() {
  local tool="$1" target objects backups name record ended
  target="$(binlog_target_epoch)"
  objects="$(s3_objects RESTORE)" || die "$tool: cannot list $(s3_url RESTORE) (see rclone's message above): $3"
  backups="$(s3_snapshots RESTORE "$2")" || die "$tool: cannot list the backups of $(s3_url RESTORE): $3"
  for name in $(tac <<<"$backups"); do
    grep -qx "[0-9]* $name.binlog" <<<"$objects" || continue
    record="$(s3 RESTORE cat "$(s3_dir RESTORE)$name.binlog")" || die "$tool: cannot read $(s3_url RESTORE "$name.binlog"): $3"
    ended="$(sed -n 's/^ended=//p' <<<"$record")"
    if [ -n "$ended" ] && [ "$ended" -lt "$target" ]; then
      RESTORE_NAME="$name" RESTORE_RECORD="$record"
      return 0
    fi
  done
  die "$tool: $(s3_url RESTORE) holds no backup that had ended before $RESTORE_TARGET (UTC) with a binary log record (backups: $(tr '\n' ' ' <<<"$backups")): a restore to a point in time starts from such a backup, taken with backup.binlogArchiveInterval; $3"
}

# binlog_last_event FILE: the time of FILE's latest event (UNIX seconds), as BINLOG_TOOL reads it
binlog_last_event() {
  TZ=UTC "$BINLOG_TOOL" "$1" 2>/dev/null |
    sed -n 's/^#\([0-9][0-9]\)\([0-9][0-9]\)\([0-9][0-9]\) \{1,2\}\([0-9]\{1,2\}:[0-9][0-9]:[0-9][0-9]\) server id .*/20\1-\2-\3 \4/p' |
    while read -r day time; do date -u -d "$day $time UTC" +%s; done | LC_ALL=C sort -n | tail -n 1
}

# binlog_fetch TOOL STAGING FIX: the archived binary log of RESTORE_RECORD's lineage, from its file
# up to RESTORE_TARGET, downloaded into STAGING/binlog (BINLOG_FILES, in order). Every file is
# checked against its .sha256 and must follow the one before without a gap, until one holds an
# event at or after the target. Dies naming TOOL, the archive, what is missing and FIX otherwise.
binlog_fetch() {
  local tool="$1" staging="$2" fix="$3" lineage first target stored base digits n name last expected actual later
  lineage="$(sed -n 's/^lineage=//p' <<<"$RESTORE_RECORD")" first="$(sed -n 's/^file=//p' <<<"$RESTORE_RECORD")"
  target="$(binlog_target_epoch)"
  stored="$(binlog_stored RESTORE "$lineage")" || die "$tool: cannot list the binary log archive $(s3_url RESTORE "binlog/$lineage/") (see rclone's message above): $fix"
  base="${first%.*}" digits="${first##*.}"
  n=$((10#$digits))
  BINLOG_FILES=()
  rm -rf "$staging/binlog"
  mkdir -p "$staging/binlog"
  while :; do
    name="$(printf '%s.%0*d' "$base" "${#digits}" "$n")"
    if ! grep -qx "[0-9]* $name.sha256" <<<"$stored"; then
      later="$(awk '{ print $2 }' <<<"$stored" | grep -E '\.sha256$' | sed 's/\.sha256$//' | LC_ALL=C sort | awk -v n="$name" '$0 > n' | head -n 1)"
      [ -z "$later" ] || die "$tool: the binary log archive $(s3_url RESTORE "binlog/$lineage/") has a gap: $name is missing, $later follows: it cannot reach $RESTORE_TARGET (UTC) from the backup $RESTORE_NAME; $fix"
      die "$tool: the binary log archive $(s3_url RESTORE "binlog/$lineage/") ends $([ ${#BINLOG_FILES[@]} -gt 0 ] && echo "with $(basename "${BINLOG_FILES[-1]}"), its last event at $(date -u -d "@$last" '+%F %T') (UTC)" || echo "before $name, the backup's first file"), before the target $RESTORE_TARGET (UTC): this container tries again, and goes on once the archive reaches it; $fix"
    fi
    expected="$(s3 RESTORE cat "$(binlog_dir RESTORE "$lineage")$name.sha256" | awk 'NR == 1 { print $1 }')" || die "$tool: cannot read $(s3_url RESTORE "binlog/$lineage/$name.sha256"): $fix"
    s3 RESTORE copyto "$(binlog_dir RESTORE "$lineage")$name" "$staging/binlog/$name" || die "$tool: cannot download $(s3_url RESTORE "binlog/$lineage/$name"): $fix"
    actual="$(sha256sum <"$staging/binlog/$name" | cut -d' ' -f1)"
    [ "$actual" = "$expected" ] || die "$tool: the archived binary log $(s3_url RESTORE "binlog/$lineage/$name") is corrupted: its SHA-256 is $actual, its checksum object says $expected; $fix"
    BINLOG_FILES+=("$staging/binlog/$name")
    last="$(binlog_last_event "$staging/binlog/$name")"
    [ -n "$last" ] && [ "$last" -ge "$target" ] && break
    n=$((n + 1))
  done
  log "$tool: ${#BINLOG_FILES[@]} archived binary log file(s) of lineage $lineage downloaded and checked, $first to $name: they reach $RESTORE_TARGET (UTC)"
}

# binlog_apply TOOL STAGING FIX APPLY...: BINLOG_FILES (binlog_fetch), from RESTORE_RECORD's
# position up to RESTORE_TARGET, piped into APPLY (a client of the server being restored). Dies
# naming TOOL and FIX when either side fails.
binlog_apply() {
  local tool="$1" staging="$2" fix="$3" position
  shift 3
  position="$(sed -n 's/^position=//p' <<<"$RESTORE_RECORD")"
  if ! TZ=UTC "$BINLOG_TOOL" --start-position="${position:-4}" --stop-datetime="$RESTORE_TARGET" "${BINLOG_FILES[@]}" 2>"$staging/binlog.err" | "$@" >"$staging/apply.log" 2>&1; then
    die "$tool: replaying the binary log up to $RESTORE_TARGET failed ($(tail -n 3 "$staging/binlog.err" "$staging/apply.log" | tr '\n' ' ' | tail -c 400)): $fix"
  fi
  rm -rf "$staging/binlog"
  log "$tool: replayed ${#BINLOG_FILES[@]} archived binary log file(s) from position ${position:-4} up to $RESTORE_TARGET (UTC)"
}

# restore_choice TOOL EXT BINLOG_TOOL FIX: sets RESTORE_NAME to the backup a restore starts from:
# with RESTORE_TARGET the newest that ended before it (its binary log then replayed with
# BINLOG_TOOL), else the one restoreFrom names or the newest
restore_choice() {
  if [ -n "${RESTORE_TARGET:-}" ]; then
    BINLOG_TOOL="${BINLOG_TOOL:-$3}"
    binlog_choose_backup "$1" "$2" "$4"
  else
    s3_restore_choice "$1" "$2" backup "a $2" "$4"
  fi
}

# binlog_backup_main ARGS...: the backup sidecar's entry for an engine with a binary log: `binlog`
# one archive attempt at once (the log switched and its closed files uploaded, e.g. before a drill),
# `now` one backup, else the schedule (object-backup.sh's backup_main) with the archive beside it
binlog_backup_main() {
  case "${1:-}" in
    binlog) binlog_archive_now ;;
    now) backup_main now ;;
    *) binlog_archive_start && backup_main "$@" ;;
  esac
}
