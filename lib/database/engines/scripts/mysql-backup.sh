#!/usr/bin/env bash
# MySQL with `backup` (primary and replicas), the sidecar `backup` of every member (docs/engines.md, MySQL backups).
#   mysql-backup.sh        the scheduler: on the member with the highest ordinal of the set (a
#                          replica; the primary in a set of one), takes a backup whenever the cron
#                          schedule BACKUP_SCHEDULE (UTC) fires; the other members' sidecars only wait.
#   mysql-backup.sh now    one backup at once (the same steps), e.g. a drill:
#                          kubectl exec <name>-2 -c backup -- bash /opt/cdk8s-stateful/mysql-backup.sh now
#   mysql-backup.sh binlog one binary log archive attempt at once (with BINLOG_ARCHIVE_INTERVAL)
# A backup: the member's own server clones itself with the clone plugin (`CLONE LOCAL DATA
# DIRECTORY`, as the replication account, which has BACKUP_ADMIN; its password from the Secret's
# file, through a pipe) into WORK/data on the data volume: a consistent data directory, ready to
# start. tar streams it to rclone as `<UTC time>.tar`, sealed as object-backup.sh seals any backup
# (the stored length and SHA-256 checked, the checksum object last); the local copy is removed
# whatever the outcome. Any failure (the server down or restarting, the clone refused, the store
# down, no room on the volume) ends the attempt with `backup: FAILED ...` and a non-zero status.
# The lock, retention, schedule and the metrics record: object-backup.sh. With
# BINLOG_ARCHIVE_INTERVAL, the sidecar also archives the member's binary log (binlog-archive.sh:
# FLUSH BINARY LOGS as root through the socket), and each backup records the file its replay
# starts in: the one the server wrote when the clone began (GTIDs the clone holds are skipped).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=cron.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/cron.sh"
# shellcheck source=rclone-s3.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/rclone-s3.sh"
# shellcheck source=backup-metrics.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/backup-metrics.sh"
# shellcheck source=object-backup.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/object-backup.sh"
# shellcheck source=binlog-archive.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/binlog-archive.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
PORT="${MYSQL_PORT:-3306}"
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"
# the clone, on the data volume, never in the pod's ephemeral storage
WORK="${BACKUP_WORK_DIR:-$(dirname "$DATA_DIR")/.cdk8s-backup}"
# the longest a clone or an upload may take: a server that stalls fails the attempt
BACKUP_TIMEOUT="${BACKUP_TIMEOUT:-6h}"

read_secret MYSQL_REPLICATION_PASSWORD REPLICATION_KEY
BINLOG_POSITION_QUERY='SELECT @@GLOBAL.gtid_executed'
if [ -n "${BINLOG_ARCHIVE_INTERVAL:-}" ]; then read_secret ROOT_PASSWORD ROOT_KEY; fi

# binlog_sql SQL: SQL on this member's server as root, through its socket (FLUSH BINARY LOGS needs RELOAD)
binlog_sql() {
  timeout 60 mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=socket --socket="${SOCKET:-/var/run/mysqld/mysqld.sock}" \
    --connect-timeout=3 -N -B -e "$1"
}

# local_sql SQL: SQL on this member's server over TCP, as the replication account
local_sql() {
  timeout "$BACKUP_TIMEOUT" mysql --defaults-extra-file=<(mysql_options "$MYSQL_REPLICATION_PASSWORD" "$REPLICATION_USER") \
    --protocol=tcp -h127.0.0.1 -P"$PORT" --connect-timeout=3 -N -B -e "$1"
}

# take_backup: the steps of one backup (backup_once holds the lock and removes WORK, the clone with it)
take_backup() {
  local started name gtids err start_file=
  started="$(date +%s)"
  name="$(backup_name "$started" .tar)" || return 1
  if [ -n "${BINLOG_ARCHIVE_INTERVAL:-}" ]; then start_file="$(binlog_active_file 2>/dev/null || true)"; fi
  log "backup: $name of member $(pod_ordinal) (a clone of its server into $WORK/data) to $(s3_url BACKUP)"
  if ! err="$(local_sql "CLONE LOCAL DATA DIRECTORY = '$WORK/data'" 2>&1)"; then
    backup_failed "$started" "" "the server of member $(pod_ordinal) did not clone itself ($(tr '\n' ' ' <<<"$err" | tail -c 300))"
    return 1
  fi
  gtids="$(local_sql 'SELECT @@GLOBAL.gtid_executed' 2>/dev/null | sed 's/\\n//g' | tr -d '[:space:]' || true)"
  if ! backup_stream "$name" tar -C "$WORK/data" -cf - .; then
    backup_failed "$started" "$name" "tar or the upload did not complete (see rclone's message above)"
    return 1
  fi
  binlog_backup_record "$started" "$name" "$start_file" || return 1
  backup_seal "$started" "$name" || return 1
  backup_done "$started" "$name" .tar "${gtids:+ (GTIDs $gtids at its end)}${start_file:+, its replay from $start_file}"
  binlog_expire .tar || log "binlog: could not expire the archive (see the messages above); the next backup tries again"
}

binlog_backup_main "$@"
