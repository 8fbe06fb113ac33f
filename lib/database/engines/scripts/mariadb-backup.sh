#!/usr/bin/env bash
# MariaDB Galera with `backup`, the sidecar `backup` of every member (docs/engines.md, Galera backups).
#   mariadb-backup.sh        the scheduler: on the member with the highest ordinal of the set, takes a
#                            backup whenever the cron schedule BACKUP_SCHEDULE (UTC) fires; the
#                            other members' sidecars only wait.
#   mariadb-backup.sh now    one backup at once (the same steps), e.g. a drill:
#                            kubectl exec <name>-2 -c backup -- bash /opt/cdk8s-stateful/mariadb-backup.sh now
#   mariadb-backup.sh binlog one binary log archive attempt at once (with BINLOG_ARCHIVE_INTERVAL)
# A backup: the member's own server must be Synced; `mariadb-backup --backup --galera-info
# --stream=mbstream` reads its data directory (as mysql@localhost through the unix socket, the SST
# account) and records the member's Galera position (xtrabackup_galera_info) in the stream; the
# stream goes to rclone as `<UTC time>.mbstream`. The backup counts only if mariadb-backup said
# `completed OK!` and the server did not restart meanwhile, and then as object-backup.sh seals any
# backup (the stored length and SHA-256 checked, the checksum object last). Any failure (the server
# not Synced or restarting mid-stream, the store down) ends the attempt with `backup: FAILED ...`
# and a non-zero status. The lock, retention, schedule and the metrics record: object-backup.sh.
# With BINLOG_ARCHIVE_INTERVAL, the sidecar also archives the member's binary log
# (binlog-archive.sh, as mysql@localhost, which has RELOAD), and each backup records the binary log
# position mariadb-backup took under its commit block, where its replay starts.
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
RUN_DIR="${RUN_DIR:-/run/mysqld}"
SOCKET="${SOCKET:-$RUN_DIR/mysqld.sock}"
# mariadb-backup's own temporary files, on the data volume, never in the pod's ephemeral storage
WORK="${BACKUP_WORK_DIR:-$(dirname "$DATA_DIR")/.cdk8s-backup}"
# the longest a backup may stream: a server that stalls mid-stream fails the attempt
BACKUP_TIMEOUT="${BACKUP_TIMEOUT:-6h}"

BINLOG_POSITION_QUERY='SELECT @@GLOBAL.gtid_binlog_pos'

# binlog_sql SQL: SQL on this member's server as mysql@localhost, through the socket
binlog_sql() {
  timeout 60 mariadb --protocol=socket --socket="$SOCKET" -umysql --connect-timeout=3 -N -B -e "$1"
}

# local_state: wsrep_local_state_comment of this member's server (Synced, Donor/Desynced, ...)
local_state() {
  timeout 10 mariadb --protocol=socket --socket="$SOCKET" -umysql --connect-timeout=3 -N -B \
    -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{ print $2 }'
}

# server_started: when this member's server started (UNIX seconds, +-1), to tell a restart during
# the backup (mariadb-backup reconnects to a restarted server and can end `completed OK!` over
# files the restart's recovery or a state transfer rewrote)
server_started() {
  timeout 10 mariadb --protocol=socket --socket="$SOCKET" -umysql --connect-timeout=3 -N -B \
    -e "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'" 2>/dev/null || true
}

# galera_stream: mariadb-backup's stream of this member's data directory; its log into WORK/backup.log
galera_stream() {
  timeout "$BACKUP_TIMEOUT" mariadb-backup --backup --galera-info --stream=mbstream --target-dir="$WORK/target" --tmpdir="$WORK" \
    --datadir="$DATA_DIR" --socket="$SOCKET" --user=mysql 2>"$WORK/backup.log"
}

# galera_position: the Galera position mariadb-backup's log names (`<uuid>:<seqno>`), if it does
galera_position() {
  grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:-?[0-9]+' "$WORK/backup.log" | tail -n 1 || true
}

# take_backup: the steps of one backup (backup_once holds the lock and removes WORK)
take_backup() {
  local started name state server now_server position binlog
  started="$(date +%s)"
  mkdir -p "$WORK/target"
  state="$(local_state || true)"
  [ "$state" = Synced ] || { backup_failed "$started" "" "this member's server is ${state:-not answering}, not Synced: a backup reads a Synced member only"; return 1; }
  server="$(server_started)"
  name="$(backup_name "$started" .mbstream)" || return 1
  log "backup: $name of member $(pod_ordinal) ($DATA_DIR) to $(s3_url BACKUP)"
  if ! backup_stream "$name" galera_stream || ! grep -q 'completed OK!' "$WORK/backup.log"; then
    backup_failed "$started" "$name" "mariadb-backup or the upload did not complete (mariadb-backup: $(grep -iE 'error|fail|completed' "$WORK/backup.log" | tail -n 3 | tr '\n' ' ' | tail -c 300); rclone: see its message above)"
    return 1
  fi
  now_server="$(server_started)"
  if [ -z "$now_server" ] || [ "$((now_server - server))" -gt 2 ] || [ "$((server - now_server))" -gt 2 ]; then
    backup_failed "$started" "$name" "this member's server restarted during the backup (it started at ${server:-?}, now ${now_server:-it does not answer}): the files read may not be one consistent copy"
    return 1
  fi
  position="$(galera_position)"
  # the binary log position mariadb-backup logged: `filename 'binlog.000003', position '1234'`
  binlog="$(sed -n "s/.*filename '\([^']*\)', position '\{0,1\}\([0-9][0-9]*\).*/\1 \2/p" "$WORK/backup.log" | tail -n 1)"
  binlog_backup_record "$started" "$name" "${binlog% *}" "${binlog#* }" || return 1
  backup_seal "$started" "$name" || return 1
  backup_done "$started" "$name" .mbstream "${position:+, Galera position $position}${binlog:+, binary log $binlog}"
  binlog_expire .mbstream || log "binlog: could not expire the archive (see the messages above); the next backup tries again"
}

binlog_backup_main "$@"
