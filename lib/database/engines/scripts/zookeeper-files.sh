# shellcheck shell=bash
# ZooKeeper's files on a member's volume, as zookeeper-backup.sh copies them and
# zookeeper-restore.sh checks them. Sourced (after common.sh), never executed.
#   <dataDir>/version-2/snapshot.<zxid>      a snapshot (fuzzy: taken while transactions apply) of
#                                            the state from zxid on, <zxid> in hexadecimal
#   <dataLogDir>/version-2/log.<zxid>        a transaction log whose first transaction is <zxid>
# A backup object is a tar of `version-2/snapshot.<zxid>` and `log/version-2/log.*` (the logs
# from the snapshot's zxid on), named `<UTC time>-zxid-<zxid>.tar`.

# the tag of a backup object's name between its time and `.tar` (rclone-s3.sh)
# shellcheck disable=SC2034 # read by the scripts that source this file
ZK_BACKUP_TAG='-zxid-[0-9a-f]+'

# zk_snapshot_complete FILE: whether FILE ends as ZooKeeper ends a snapshot it finished writing
# (the path "/" after the checksum: its length 1, then the byte 0x2f), what the server itself
# checks before it loads one
zk_snapshot_complete() {
  [ -f "$1" ] && [ "$(tail -c 5 "$1" | od -An -tx1 | tr -d ' \n')" = 000000012f ]
}

# zk_files DIR PREFIX: `<zxid in decimal> <path>` of DIR's files PREFIX.<hex zxid>, oldest first
zk_files() {
  local file hex
  for file in "$1/$2".*; do
    [ -f "$file" ] || continue
    hex="${file##*/"$2".}"
    [[ "$hex" =~ ^[0-9a-f]{1,16}$ ]] || continue
    printf '%d %s\n' "$((16#$hex))" "$file"
  done | sort -n
}

# zk_newest_snapshot DIR: the path of DIR's newest complete snapshot; fails when there is none
zk_newest_snapshot() {
  local file newest=''
  while read -r _ file; do
    if zk_snapshot_complete "$file"; then newest="$file"; fi
  done < <(zk_files "$1" snapshot)
  [ -n "$newest" ] && echo "$newest"
}

# zk_logs_from DIR ZXID: `<first zxid> <path>` of the logs of DIR that hold the transactions after
# ZXID (decimal): the newest log starting at or before it, and every later one, oldest first
zk_logs_from() {
  local start file before='' after=()
  while read -r start file; do
    if [ "$start" -le "$2" ]; then before="$start $file"; else after+=("$start $file"); fi
  done < <(zk_files "$1" log)
  if [ -n "$before" ]; then echo "$before"; fi
  if [ "${#after[@]}" -gt 0 ]; then printf '%s\n' "${after[@]}"; fi
}
