# shellcheck shell=bash
# The outcome of a backup sidecar's attempts as Prometheus metrics, for any engine whose sidecar
# backs up with a script (Redis's redis-backup.sh). Sourced (after common.sh), never executed.
#
# BACKUP_METRICS_DIR (on the data volume, so that the record outlives the pod) holds one file,
# `metrics`, in the Prometheus text format, replaced whole at each change (written beside it, then
# renamed: a reader sees the old file or the new one, never half of one). The sidecar serves the
# directory over HTTP on BACKUP_METRICS_PORT with rclone (`rclone serve http`, read-only): GET
# /metrics answers the file as text/plain. The series, each labelled with the repository:
#   cdk8s_backup_since_timestamp_seconds          when this member began taking scheduled backups there
#   cdk8s_backup_last_success_timestamp_seconds   the end of the last successful backup (NaN before the first)
#   cdk8s_backup_last_duration_seconds            how long it took
#   cdk8s_backup_last_size_bytes                  its size in the repository
#   cdk8s_backup_last_failure_timestamp_seconds   the end of the last failed attempt (NaN before the first)
#   cdk8s_backup_consecutive_failures             failed attempts since the last success
#   cdk8s_backup_failures_total                   failed attempts since the record began (a counter)
# and, with a binary log archive (binlog-archive.sh), its cdk8s_binlog_* series.
# A member that takes no scheduled backups serves the file without series (the scrape succeeds).
# A record of another repository (the set's backup moved) is started afresh.

BACKUP_METRICS_DIR="${BACKUP_METRICS_DIR:-${DATA_DIR:-/data}/.cdk8s-backup-metrics}"

# backup_metric NAME: the value of series cdk8s_backup_NAME in the current record; empty if none
backup_metric() {
  sed -n "s/^cdk8s_backup_$1{[^}]*} //p" "$BACKUP_METRICS_DIR/metrics" 2>/dev/null | head -n 1
}

# backup_metrics_repository: the repository label of the current record; empty if none
backup_metrics_repository() {
  sed -n 's/^cdk8s_backup_since_timestamp_seconds{repository="\([^"]*\)"} .*/\1/p' "$BACKUP_METRICS_DIR/metrics" 2>/dev/null | head -n 1
}

# backup_metrics_write REPOSITORY SINCE SUCCESS DURATION SIZE FAILURE CONSECUTIVE TOTAL: the record, replaced whole
backup_metrics_write() {
  local tmp="$BACKUP_METRICS_DIR/.metrics.tmp" label
  label="{repository=\"$1\"}"
  (umask 022 && mkdir -p "$BACKUP_METRICS_DIR")
  {
    printf '# HELP cdk8s_backup_%s %s\n# TYPE cdk8s_backup_%s %s\ncdk8s_backup_%s%s %s\n' \
      since_timestamp_seconds 'When this member began taking scheduled backups to the repository.' since_timestamp_seconds gauge since_timestamp_seconds "$label" "$2" \
      last_success_timestamp_seconds 'End of the last successful backup (NaN before the first).' last_success_timestamp_seconds gauge last_success_timestamp_seconds "$label" "$3" \
      last_duration_seconds 'Duration of the last successful backup.' last_duration_seconds gauge last_duration_seconds "$label" "$4" \
      last_size_bytes 'Size of the last successful backup in the repository.' last_size_bytes gauge last_size_bytes "$label" "$5" \
      last_failure_timestamp_seconds 'End of the last failed backup attempt (NaN before the first).' last_failure_timestamp_seconds gauge last_failure_timestamp_seconds "$label" "$6" \
      consecutive_failures 'Failed backup attempts since the last successful one.' consecutive_failures gauge consecutive_failures "$label" "$7" \
      failures_total 'Failed backup attempts since the record began.' failures_total counter failures_total "$label" "$8"
  } >"$tmp"
  backup_metrics_publish "$tmp"
  rm -f "$tmp"
}

# backup_metrics_publish [SERIES]: the record replaced whole, under a lock (the binary log
# archiver of binlog-archive.sh publishes too): the backup series (the file SERIES, or those of
# the current record), then the archiver's (the file `binlog` beside it), if any
backup_metrics_publish() {
  (
    flock 8
    {
      if [ -n "${1:-}" ]; then cat "$1"; else grep -v 'cdk8s_binlog_' "$BACKUP_METRICS_DIR/metrics" 2>/dev/null || true; fi
      cat "$BACKUP_METRICS_DIR/binlog" 2>/dev/null || true
    } >"$BACKUP_METRICS_DIR/.metrics.publish"
    mv -f "$BACKUP_METRICS_DIR/.metrics.publish" "$BACKUP_METRICS_DIR/metrics"
  ) 8>"$BACKUP_METRICS_DIR/.lock"
}

# backup_metrics_begin REPOSITORY: a record for REPOSITORY, kept if there is one already
backup_metrics_begin() {
  [ "$(backup_metrics_repository)" = "$1" ] && return 0
  backup_metrics_write "$1" "$(date +%s)" NaN NaN NaN NaN 0 0
}

# backup_metrics_adopt REPOSITORY WHEN SIZE: a successful backup found in the repository that ended
# at WHEN (taken by another member, or before this record began): the record's last success if
# it is newer than the record's, its duration unknown, the failures before it over
backup_metrics_adopt() {
  local last
  backup_metrics_begin "$1"
  last="$(backup_metric last_success_timestamp_seconds)"
  if [ "$last" != NaN ] && [ "$last" -ge "$2" ]; then return 0; fi
  backup_metrics_write "$1" "$(backup_metric since_timestamp_seconds)" "$2" NaN "$3" \
    "$(backup_metric last_failure_timestamp_seconds)" 0 "$(backup_metric failures_total)"
}

# backup_metrics_none: a record without series (a member that takes no scheduled backups)
backup_metrics_none() {
  (umask 022 && mkdir -p "$BACKUP_METRICS_DIR")
  rm -f "$BACKUP_METRICS_DIR/binlog"
  printf '# cdk8s-stateful: this member takes no scheduled backups\n' >"$BACKUP_METRICS_DIR/.metrics.tmp"
  backup_metrics_publish "$BACKUP_METRICS_DIR/.metrics.tmp"
  rm -f "$BACKUP_METRICS_DIR/.metrics.tmp"
}

# backup_metrics_success REPOSITORY DURATION SIZE: a successful backup that ended now
backup_metrics_success() {
  backup_metrics_begin "$1"
  backup_metrics_write "$1" "$(backup_metric since_timestamp_seconds)" "$(date +%s)" "$2" "$3" \
    "$(backup_metric last_failure_timestamp_seconds)" 0 "$(backup_metric failures_total)"
}

# backup_metrics_failure REPOSITORY: a failed attempt that ended now
backup_metrics_failure() {
  backup_metrics_begin "$1"
  backup_metrics_write "$1" "$(backup_metric since_timestamp_seconds)" "$(backup_metric last_success_timestamp_seconds)" \
    "$(backup_metric last_duration_seconds)" "$(backup_metric last_size_bytes)" "$(date +%s)" \
    "$(($(backup_metric consecutive_failures) + 1))" "$(($(backup_metric failures_total) + 1))"
}

# backup_metrics_serve: serves BACKUP_METRICS_DIR on BACKUP_METRICS_PORT in the background (read
# only, no listing cache: each request reads the file as it is); its pid in BACKUP_METRICS_PID
backup_metrics_serve() {
  [ -e "$BACKUP_METRICS_DIR/metrics" ] || backup_metrics_none
  XDG_CACHE_HOME="${TMPDIR:-/tmp}" rclone --config /dev/null serve http "$BACKUP_METRICS_DIR" \
    --addr ":${BACKUP_METRICS_PORT:?BACKUP_METRICS_PORT is not set}" --read-only --dir-cache-time 0s --poll-interval 0 \
    --log-level ERROR &
  BACKUP_METRICS_PID=$!
}

# backup_metrics_check: fails loudly when the server started by backup_metrics_serve has exited
backup_metrics_check() {
  kill -0 "$BACKUP_METRICS_PID" 2>/dev/null || die "backup: the metrics server (rclone serve http on port $BACKUP_METRICS_PORT) exited; the container restarts"
}
