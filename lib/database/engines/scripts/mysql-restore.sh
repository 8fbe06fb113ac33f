#!/usr/bin/env bash
# MySQL with `restoreFrom` (primary and replicas), init container `restore` (the image with
# rclone, the data volume), before `clone`: a new set created from a backup of mysql-backup.sh.
# Only the set's first member (START_ORDINAL) restores, and only when its volume holds no data
# directory: it downloads the latest complete backup of the repository (RESTORE_* variables,
# s3-repository.sh), or RESTORE_BACKUP, extracts the tar into a staging directory of the volume
# while its SHA-256 is taken, and compares that with the backup's checksum object. A throwaway
# server (no network) then starts on the staged directory and drops the replication settings the
# backed-up replica carried (RESET REPLICA ALL, as root: the restored accounts are the backed-up
# set's, and so must be the Secret's root password); only then is the staging directory moved to
# DATA_DIR. The member then starts as the new set's primary, and the replicas clone it (mysql-clone.sh).
# Any failure (no complete backup, the store unreachable, a checksum that differs, a tar or server
# that refuses the data) stops here with a message naming the object: the init container fails,
# no server starts on the data, and the staging directory is removed at the next attempt; DATA_DIR
# never holds a half-restored directory. A member that holds data, or another ordinal, does
# nothing (the data is never replaced).
# With RESTORE_TARGET (`restoreFrom.pointInTime`, UTC), the backup is the newest that had ended
# before it and recorded where its binary log replay starts; the throwaway server then replays the
# archived binary log from there up to the target (binlog-archive.sh: mysqlbinlog --stop-datetime,
# the transactions the backup holds skipped by their GTIDs), before any client can connect. An
# archive with a gap, or one that does not reach the target yet, stops here naming what is missing.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/var/run/mysqld}"
STAGING="${RESTORE_STAGING_DIR:-$(dirname "$DATA_DIR")/.cdk8s-restore}"
FIX="the set does not start instead. Fix: restore another backup (restoreFrom.backup), or check the repository and its keys in the credentials Secret"
if [ -n "${RESTORE_TARGET:-}" ]; then
  FIX="the set does not start instead. Fix: another restoreFrom.pointInTime (or none: the latest backup), or check the repository and its keys in the credentials Secret"
fi

[ -n "${RESTORE_BUCKET:-}" ] || exit 0
if [ "$(pod_ordinal)" -ne "$(start_ordinal)" ]; then
  log "mysql: member $(pod_ordinal) does not restore: it clones the member that does (ordinal $(start_ordinal))"
  exit 0
fi
if [ -d "$DATA_DIR/mysql" ]; then
  log "mysql: $DATA_DIR holds data: restoreFrom is not applied (a member's data is never replaced)"
  exit 0
fi
# shellcheck source=rclone-s3.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/rclone-s3.sh"

# shellcheck source=binlog-archive.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/binlog-archive.sh"
restore_choice mysql .tar mysqlbinlog "$FIX"
name="$RESTORE_NAME"
log "mysql: a new set from the backup $(s3_url RESTORE "$name")${RESTORE_TARGET:+, then its binary log up to $RESTORE_TARGET (UTC)}"
s3_restore_extract mysql "$name" "$STAGING" "$FIX" tar -x -C "$STAGING/data" -f -
[ -d "$STAGING/data/mysql" ] || die "mysql: the backup $name holds no system tables (mysql/): $FIX"
rm -f "$STAGING/data/auto.cnf"
log "mysql: $name downloaded and extracted, sha256 $RESTORE_SHA as its checksum object says"
# the archive checked before any server starts: a gap, or one short of the target, stops here
if [ -n "${RESTORE_TARGET:-}" ]; then binlog_fetch mysql "$STAGING" "$FIX"; fi

# a throwaway server on the staged directory: it must start, and forgets the source the backed-up
# replica replicated from (the new set's first member is its primary)
read_secret ROOT_PASSWORD ROOT_KEY
socket="$RUN_DIR/restore.sock"
mkdir -p "$RUN_DIR"
mysqld --no-defaults --datadir="$STAGING/data" --socket="$socket" --pid-file="$RUN_DIR/restore.pid" --skip-networking --mysqlx=OFF \
  --skip-replica-start --gtid-mode=ON --enforce-gtid-consistency=ON --log-bin=binlog --relay-log=relay-bin >"$STAGING/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 "${SERVER_WAIT_SECONDS:-120}"); do
  mysqladmin --no-defaults --socket="$socket" --connect-timeout=2 ping >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || die "mysql: no server starts on the backup $name ($(grep -i error "$STAGING/server.log" | tail -n 3 | tr '\n' ' ' | tail -c 400)): $FIX"
  sleep 1
done
if ! err="$(mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" -e 'RESET REPLICA ALL' 2>&1)"; then
  die "mysql: the server on the backup $name refused RESET REPLICA ALL as root ($err). The restored accounts are the backed-up set's: the credentials Secret must hold its root password. $FIX"
fi
if [ -n "${RESTORE_TARGET:-}" ]; then
  # the replay's client, as root on the throwaway server
  replay_client() { mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" --binary-mode; }
  binlog_apply mysql "$STAGING" "$FIX" replay_client
fi
mysqladmin --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" shutdown
wait "$server_pid" || true
trap - EXIT
rm -f "$STAGING/data/auto.cnf"

# the data directory appears whole, in one rename
if [ -e "$DATA_DIR" ]; then
  rmdir "$DATA_DIR" 2>/dev/null || die "mysql: $DATA_DIR holds files but no system tables: it is left as it is. Fix: move its files away, or give the member an empty volume"
fi
mv "$STAGING/data" "$DATA_DIR"
rm -rf "$STAGING"
log "mysql: restored $name into $DATA_DIR${RESTORE_TARGET:+, its binary log replayed up to $RESTORE_TARGET (UTC)}"
