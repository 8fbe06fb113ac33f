#!/usr/bin/env bash
# ZooKeeper with `backup`, the sidecar `backup` of every member (docs/engines.md, ZooKeeper backups).
#   zookeeper-backup.sh        the scheduler: the member that takes the backups is read again every
#                              minute (backs_up): the serving follower with the highest server id
#                              of the ensemble's config, so that the leader is spared; the leader
#                              when no follower serves. It takes a backup whenever the cron schedule
#                              BACKUP_SCHEDULE (UTC) fires; the other members' sidecars only wait.
#   zookeeper-backup.sh now    one backup of this member at once (the same steps), e.g. a drill:
#                              kubectl exec <name>-2 -c backup -- bash /opt/cdk8s-stateful/zookeeper-backup.sh now
# A backup: this member's server must serve (Mode leader or follower). Its newest complete
# snapshot (DATA_DIR/version-2/snapshot.<zxid>, complete when it ends with ZooKeeper's end marker)
# is linked into WORK on the data volume, then every transaction log from that zxid on is copied
# (DATA_DIR/log/version-2: the log that holds the zxid, the newest starting at or before it, and
# every later one). ZooKeeper's snapshots are fuzzy: the logs after the snapshot's zxid are what
# make it one consistent state when the server replays them at the restore; a log copied while the
# server appends to it ends at a whole transaction (a partial last one has no end-of-record mark,
# and ZooKeeper reads it as the log's end). tar streams the copy to rclone as
# `<UTC time>-zxid-<snapshot zxid>.tar`, sealed as object-backup.sh seals any backup (the stored
# length and SHA-256 checked, the checksum object last); the copy is removed whatever the outcome.
# Any failure (the server not serving, no complete snapshot, a log missing after the snapshot (the
# server purged it meanwhile), the store down, no room on the volume) ends the attempt with
# `backup: FAILED ...` and a non-zero status. The lock, retention, schedule and the metrics
# record: object-backup.sh.
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
# shellcheck source=zookeeper-files.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/zookeeper-files.sh"

DATA_DIR="${DATA_DIR:-/data}"
ZK_SNAP_DIR="$DATA_DIR/version-2"
ZK_LOG_DIR="$DATA_DIR/log/version-2"
CLIENT_PORT="${CLIENT_PORT:-2181}"
# the copy, on the data volume, never in the pod's ephemeral storage
WORK="${BACKUP_WORK_DIR:-$DATA_DIR/.cdk8s-backup}"
# the longest a copy and its upload may take
BACKUP_TIMEOUT="${BACKUP_TIMEOUT:-6h}"
# object names: `<UTC time>-zxid-<hex>.tar` (rclone-s3.sh, object-backup.sh)
BACKUP_SUFFIX=.tar
BACKUP_TAG="$ZK_BACKUP_TAG"

# four_letter_word HOST WORD: HOST's answer on the client port
four_letter_word() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "%s" "$2" >&3; cat <&3' "$1" "$CLIENT_PORT" "$2" 2>/dev/null
}

# mode_of HOST: the Mode HOST's server reports (leader, follower, ...); empty when it does not serve
mode_of() {
  four_letter_word "$1" srvr | sed -n 's/^Mode: //p' | head -n 1 || true
}

# voters: `<id> <host>` of each voting member of the local server's config, highest id first
voters() {
  four_letter_word 127.0.0.1 conf | sed -n 's/^server\.\([0-9]*\)=\([^:]*\):.*:participant.*/\1 \2/p' | sort -rn || true
}

# backs_up: whether this member takes the scheduled backups: the serving follower with the
# highest server id, or the leader when no follower serves
backs_up() {
  local mine sid id host mode
  mine="$(mode_of 127.0.0.1)"
  case "$mine" in leader | follower) ;; *) return 1 ;; esac
  sid="$(cat "$DATA_DIR/myid" 2>/dev/null)" || return 1
  while read -r id host; do
    if [ "$id" = "$sid" ]; then mode="$mine"; else mode="$(mode_of "$host")"; fi
    if [ "$mode" = follower ]; then
      [ "$id" = "$sid" ]
      return
    fi
  done < <(voters)
  [ "$mine" = leader ]
}

# backup_taker: who takes the scheduled backups, for the log of a member that does not
backup_taker() {
  echo "the serving follower with the highest server id does, the leader when no follower serves; read again every minute"
}

# copy_logs ZXID: the transaction logs from ZXID on copied into WORK/data/log/version-2; prints
# how many. Fails when a log the copy needs is missing.
copy_logs() {
  local zxid=$((16#$1)) dest="$WORK/data/log/version-2" file start first='' count=0
  mkdir -p "$dest"
  while read -r start file; do
    [ -n "$first" ] || first="$start"
    cp --sparse=always "$file" "$dest/" || return 1
    count=$((count + 1))
  done < <(zk_logs_from "$ZK_LOG_DIR" "$zxid")
  # the logs must reach back to the transaction after the snapshot's (a later epoch starts its
  # zxids afresh: a log of one is no gap)
  if [ -n "$first" ] && [ "$((first >> 32))" -eq "$((zxid >> 32))" ] && [ "$first" -gt $((zxid + 1)) ]; then
    log "backup: the oldest transaction log after the snapshot starts at zxid 0x$(printf '%x' "$first"), after 0x$(printf '%x' $((zxid + 1)))"
    return 1
  fi
  echo "$count"
}

# take_backup: the steps of one backup (backup_once holds the lock and removes WORK)
take_backup() {
  local started name mode snap zxid logs
  started="$(date +%s)"
  mode="$(mode_of 127.0.0.1)"
  case "$mode" in
    leader | follower) ;;
    *) backup_failed "$started" "" "this member's server is ${mode:-not answering}, not serving: a backup copies a serving member only"; return 1 ;;
  esac
  mkdir -p "$WORK/data/version-2"
  if ! snap="$(zk_newest_snapshot "$ZK_SNAP_DIR")"; then
    backup_failed "$started" "" "$ZK_SNAP_DIR holds no complete snapshot"
    return 1
  fi
  zxid="${snap##*.}"
  # the snapshot never changes once written: a link (a copy on another file system)
  ln "$snap" "$WORK/data/version-2/" 2>/dev/null || cp "$snap" "$WORK/data/version-2/" ||
    { backup_failed "$started" "" "cannot copy $snap (purged meanwhile?)"; return 1; }
  if ! logs="$(copy_logs "$zxid")"; then
    backup_failed "$started" "" "the transaction logs from zxid 0x$zxid on could not be copied from $ZK_LOG_DIR (purged meanwhile?)"
    return 1
  fi
  name="$(backup_name "$started" "-zxid-$zxid.tar")" || return 1
  log "backup: $name of member $(pod_ordinal) ($mode): snapshot.$zxid and $logs transaction logs to $(s3_url BACKUP)"
  if ! backup_stream "$name" timeout "$BACKUP_TIMEOUT" tar -c --sparse -C "$WORK/data" version-2 log; then
    backup_failed "$started" "$name" "tar or the upload did not complete (rclone: see its message above)"
    return 1
  fi
  backup_seal "$started" "$name" || return 1
  backup_done "$started" "$name" .tar " ($mode), snapshot zxid 0x$zxid and $logs transaction logs"
}

backup_main "$@"
