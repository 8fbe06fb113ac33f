#!/usr/bin/env bash
# MariaDB Galera with `restoreFrom`, init container `restore` (the image with rclone, the data
# volume), before `recover`: a new set created from a backup of mariadb-backup.sh.
# Only the set's first member (START_ORDINAL) restores, and only when its volume holds no data
# directory: it downloads the latest complete backup of the repository (RESTORE_* variables,
# s3-repository.sh), or RESTORE_BACKUP, streams it through `mbstream -x` into a staging directory
# of the volume while its SHA-256 is taken, compares that with the backup's checksum object, runs
# `mariadb-backup --prepare`, writes grastate.dat with the backup's Galera position
# (mariadb_backup_galera_info, xtrabackup_galera_info before MariaDB 11; safe_to_bootstrap 0: the
# Lease's election decides), and only then moves the staging directory to DATA_DIR. The member then reports that position under the
# set's Lease (galera-recover.sh, galera-decide.sh): it holds the only data of the new set, so it
# is elected to bootstrap, and the other members, empty, join it by SST.
# Any failure (no complete backup, the store unreachable, a checksum that differs, a stream
# mbstream or --prepare refuses) stops here with a message naming the object: the init container
# fails, no server starts, and the staging directory is removed at the next attempt; DATA_DIR
# never holds a half-restored directory. A member that holds data, or another ordinal, does
# nothing (the data is never replaced).
# With RESTORE_TARGET (`restoreFrom.pointInTime`, UTC), the backup is the newest that had ended
# before it and recorded its binary log position; once prepared, a throwaway server (no network, no
# Galera) replays the archived binary log from that position up to the target (binlog-archive.sh:
# mariadb-binlog --stop-datetime, as root), before the member reports its position. An archive with
# a gap, or one that does not reach the target yet, stops here naming what is missing.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
STAGING="${RESTORE_STAGING_DIR:-$(dirname "$DATA_DIR")/.cdk8s-restore}"
INIT_MARKER="${INIT_MARKER:-$(dirname "$DATA_DIR")/.cdk8s-initialized}"
FIX="the set does not start instead. Fix: restore another backup (restoreFrom.backup), or check the repository and its keys in the credentials Secret"
if [ -n "${RESTORE_TARGET:-}" ]; then
  FIX="the set does not start instead. Fix: another restoreFrom.pointInTime (or none: the latest backup), or check the repository and its keys in the credentials Secret"
fi

[ -n "${RESTORE_BUCKET:-}" ] || exit 0
if [ "$(pod_ordinal)" -ne "$(start_ordinal)" ]; then
  log "galera: member $(pod_ordinal) does not restore: it joins the member that does (ordinal $(start_ordinal)) by SST"
  exit 0
fi
if [ -d "$DATA_DIR/mysql" ]; then
  log "galera: $DATA_DIR holds data: restoreFrom is not applied (a member's data is never replaced)"
  exit 0
fi
# shellcheck source=rclone-s3.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/rclone-s3.sh"

# shellcheck source=binlog-archive.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/binlog-archive.sh"
restore_choice galera .mbstream mariadb-binlog "$FIX"
name="$RESTORE_NAME"
log "galera: a new set from the backup $(s3_url RESTORE "$name")${RESTORE_TARGET:+, then its binary log up to $RESTORE_TARGET (UTC)}"
s3_restore_extract galera "$name" "$STAGING" "$FIX" mbstream -x -C "$STAGING/data"
log "galera: $name downloaded and extracted, sha256 $RESTORE_SHA as its checksum object says"

if ! mariadb-backup --prepare --target-dir="$STAGING/data" >"$STAGING/prepare.log" 2>&1 || ! grep -q 'completed OK!' "$STAGING/prepare.log"; then
  die "galera: mariadb-backup --prepare refused the backup $name ($(grep -iE 'error' "$STAGING/prepare.log" | tail -n 3 | tr '\n' ' ' | tail -c 400)): $FIX"
fi
[ -d "$STAGING/data/mysql" ] || die "galera: the backup $name holds no system tables (mysql/): $FIX"
# the Galera position --galera-info wrote: `<uuid>:<seqno>`, then the GTID on newer versions;
# mariadb_backup_galera_info from MariaDB 11, xtrabackup_galera_info before
position="$(cat "$STAGING/data/mariadb_backup_galera_info" "$STAGING/data/xtrabackup_galera_info" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)"
uuid="${position%:*}" seqno="${position##*:}"
case "$uuid:$seqno" in
  [0-9a-f]*-*:[0-9]*) ;;
  *) die "galera: the backup $name records no Galera position (mariadb_backup_galera_info or xtrabackup_galera_info: '${position}'): $FIX" ;;
esac
if [ -n "${RESTORE_TARGET:-}" ]; then
  # the archive checked before any server starts: a gap, or one short of the target, stops here
  binlog_fetch galera "$STAGING" "$FIX"
  # a throwaway server without networking or Galera on the prepared directory: the binary log
  # replayed as root (the restored accounts are the backed-up set's, so is the Secret's password)
  read_secret ROOT_PASSWORD ROOT_KEY
  socket="$STAGING/replay.sock"
  mariadbd --no-defaults --datadir="$STAGING/data" --socket="$socket" --pid-file="$STAGING/replay.pid" --skip-networking \
    --wsrep-on=OFF >"$STAGING/server.log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 "${SERVER_WAIT_SECONDS:-120}"); do
    mariadb-admin --no-defaults --socket="$socket" --connect-timeout=2 ping >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || die "galera: no server starts on the backup $name ($(grep -i error "$STAGING/server.log" | tail -n 3 | tr '\n' ' ' | tail -c 400)): $FIX"
    sleep 1
  done
  replay_client() { mariadb --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" --binary-mode; }
  replay_client </dev/null || die "galera: the server on the backup $name refused root's password: the restored accounts are the backed-up set's, and the credentials Secret must hold its root password. $FIX"
  binlog_apply galera "$STAGING" "$FIX" replay_client
  mariadb-admin --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" shutdown
  wait "$server_pid" || true
  trap - EXIT
fi
# the new set's binary log is its own lineage (binlog-archive.sh)
rm -f "$STAGING/data/.cdk8s-binlog-lineage"
printf '# GALERA saved state\nversion: 2.1\nuuid:    %s\nseqno:   %s\nsafe_to_bootstrap: 0\n' "$uuid" "$seqno" >"$STAGING/data/grastate.dat"
# the data directory appears whole, in one rename, with its first initialization marked done
if [ -e "$DATA_DIR" ]; then
  rmdir "$DATA_DIR" 2>/dev/null || die "galera: $DATA_DIR holds files but no system tables: it is left as it is. Fix: move its files away, or give the member an empty volume"
fi
mv "$STAGING/data" "$DATA_DIR"
touch "$INIT_MARKER"
rm -rf "$STAGING"
log "galera: restored $name into $DATA_DIR at Galera position $uuid:$seqno${RESTORE_TARGET:+, its binary log replayed up to $RESTORE_TARGET (UTC)}"
