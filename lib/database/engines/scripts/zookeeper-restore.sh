#!/usr/bin/env bash
# ZooKeeper with `restoreFrom`: run by zookeeper-config.sh (init container `config`, on the image
# with rclone) when this member's empty volume founds the ensemble, before its config is written:
# the founder of a new ensemble starts from a backup of zookeeper-backup.sh, and the other
# members, empty, join it and sync from it as in any new ensemble.
# It downloads the latest complete backup of the repository (RESTORE_* variables,
# s3-repository.sh), or RESTORE_BACKUP, through `tar -x` into a staging directory of the volume
# while its SHA-256 is taken, compares that with the backup's checksum object, checks that it
# holds the snapshot its name gives, complete, and nothing but snapshots and transaction logs,
# and only then moves them to DATA_DIR/version-2 and DATA_DIR/log/version-2 and records the
# restore (DATA_DIR/.cdk8s-restored). The server loads the snapshot and replays the logs after it;
# the ensemble's membership is this new ensemble's (the backup's own config znode is replaced by
# the founder's config when it leads). Any failure (no complete backup, the store unreachable, a
# checksum that differs, an archive that does not hold a snapshot) stops here with a message
# naming the object: the init container fails, no server starts, and the other members wait for
# a serving member; an empty ensemble never starts from a failed restore.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=rclone-s3.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/rclone-s3.sh"
# shellcheck source=zookeeper-files.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/zookeeper-files.sh"

DATA_DIR="${DATA_DIR:-/data}"
STAGING="${RESTORE_STAGING_DIR:-$DATA_DIR/.cdk8s-restore}"
MARKER="$DATA_DIR/.cdk8s-restored"
FIX="the ensemble does not start instead. Fix: restore another backup (restoreFrom.backup), or check the repository and its keys in the credentials Secret"

[ -n "${RESTORE_BUCKET:-}" ] || exit 0
if [ -s "$MARKER" ]; then
  log "zookeeper: $DATA_DIR holds the restored backup $(cat "$MARKER") already"
  exit 0
fi
if [ -e "$DATA_DIR/version-2" ] || [ -e "$DATA_DIR/log/version-2" ]; then
  die "zookeeper: $DATA_DIR holds ZooKeeper data but no record of a finished restore: it is left as it is. Fix: give the member an empty volume"
fi

s3_restore_choice zookeeper .tar backup 'a .tar' "$FIX" "$ZK_BACKUP_TAG"
name="$RESTORE_NAME"
zxid="${name##*-zxid-}"
zxid="${zxid%.tar}"
log "zookeeper: a new ensemble from the backup $(s3_url RESTORE "$name")"
s3_restore_extract zookeeper "$name" "$STAGING" "$FIX" tar -x --no-same-owner --no-same-permissions -C "$STAGING/data" -f -

# what the archive holds: the snapshot its name gives, whole, and transaction logs only
snapshot="$STAGING/data/version-2/snapshot.$zxid"
zk_snapshot_complete "$snapshot" ||
  die "zookeeper: the backup $name holds no complete snapshot.$zxid (version-2/: $(find "$STAGING/data/version-2" -mindepth 1 -printf '%f ' 2>/dev/null)): $FIX"
others="$(cd "$STAGING/data" && find . -mindepth 1 ! -type d ! -path "./version-2/snapshot.$zxid" ! -path './log/version-2/log.*' | head -n 5)"
[ -z "$others" ] || die "zookeeper: the backup $name holds files other than its snapshot and transaction logs ($(tr '\n' ' ' <<<"$others")): $FIX"
logs="$(zk_files "$STAGING/data/log/version-2" log | grep -c . || true)"

# the files appear in their places only once whole, then the restore is recorded
mkdir -p "$DATA_DIR/log" "$STAGING/data/log/version-2"
mv "$STAGING/data/log/version-2" "$DATA_DIR/log/version-2"
mv "$STAGING/data/version-2" "$DATA_DIR/version-2"
printf '%s\n' "$name" >"$MARKER.tmp"
mv -f "$MARKER.tmp" "$MARKER"
rm -rf "$STAGING"
log "zookeeper: restored $name into $DATA_DIR: snapshot.$zxid and $logs transaction logs, sha256 $RESTORE_SHA"
