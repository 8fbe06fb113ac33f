#!/usr/bin/env bash
# ZooKeeper, init container `config`: copies the image's config dir (logback.xml, ...) into
# CONFIG_DIR (an emptyDir the database container mounts at /conf), writes zoo.cfg with a
# `server.N` line for every member, and this member's myid (ordinal + 1) into the data dir.
#
# The member list is static. Changing it by more than one member at a time is unsafe: while the
# pods roll, the members on the old list and those on the new one can each form a majority of
# their own list, elect two leaders and fork the data. So each member records its list on its
# volume (cdk8s-ensemble) and refuses to start with a list that differs from the recorded one by
# more than one member: resize one member at a time (docs/engines.md, ZooKeeper).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

IMAGE_CONF_DIR="${IMAGE_CONF_DIR:-/conf}"
CONFIG_DIR="${CONFIG_DIR:-/cdk8s-conf}"
DATA_DIR="${DATA_DIR:-/data}"
CLIENT_PORT="${CLIENT_PORT:-2181}"
PEER_PORT="${PEER_PORT:-2888}"
ELECTION_PORT="${ELECTION_PORT:-3888}"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
count="$(peer_count)"
peer_address "$ordinal" >/dev/null ||
  die "zookeeper: ordinal $ordinal is not among the $count members the ensemble was synthesized with (from $start); every zoo.cfg must list every member. Fix: change replicas in the cdk8s app, not with kubectl scale."
myid=$((ordinal + 1))

mkdir -p "$CONFIG_DIR" "$DATA_DIR/log"
if [ -d "$IMAGE_CONF_DIR" ]; then
  for file in "$IMAGE_CONF_DIR"/*; do
    [ -f "$file" ] && [ "$(basename "$file")" != zoo.cfg ] && cp "$file" "$CONFIG_DIR/"
  done
fi

servers() {
  local id="$start" peer
  for peer in $PEERS; do
    echo "server.$((id + 1))=$peer:$PEER_PORT:$ELECTION_PORT;$CLIENT_PORT"
    id=$((id + 1))
  done
}
record="$DATA_DIR/cdk8s-ensemble"
if [ -f "$record" ]; then
  changed="$(servers | sort | comm -3 - <(sort "$record") | wc -l)"
  if [ "$changed" -gt 1 ]; then
    die "zookeeper: the member list changed by $changed members since this member last ran ($(wc -l <"$record") before, $count now). While the pods roll, the old and the new members could each elect a leader and fork the data. Fix: go back to the previous replica count and apply; then change replicas by one, apply, wait until every member is Ready again, and repeat (docs/engines.md, ZooKeeper)."
  fi
  if [ "$changed" -eq 1 ]; then log "zookeeper: the member list changed by one member ($(wc -l <"$record") before, $count now)"; fi
fi

tmp="$CONFIG_DIR/.zoo.cfg.tmp"
{
  echo "# Written by cdk8s-stateful zookeeper-config.sh for myid $myid (ordinal $ordinal)."
  echo "dataDir=$DATA_DIR"
  echo "dataLogDir=$DATA_DIR/log"
  echo "clientPort=$CLIENT_PORT"
  echo "tickTime=2000"
  echo "initLimit=10"
  echo "syncLimit=5"
  echo "maxClientCnxns=60"
  echo "autopurge.snapRetainCount=3"
  echo "autopurge.purgeInterval=24"
  echo "standaloneEnabled=$([ "$count" -eq 1 ] && echo true || echo false)"
  echo "reconfigEnabled=false"
  echo "admin.enableServer=false"
  echo "4lw.commands.whitelist=ruok,srvr,mntr"
  # a member binds its own server line on every interface: its DNS name may not resolve to its
  # own address until the headless Service publishes it
  echo "quorumListenOnAllIPs=true"
  servers
  write_extra_config
} >"$tmp"
mv -f "$tmp" "$CONFIG_DIR/zoo.cfg"
servers >"$record.tmp"
mv -f "$record.tmp" "$record"
echo "$myid" >"$DATA_DIR/myid.tmp"
mv -f "$DATA_DIR/myid.tmp" "$DATA_DIR/myid"
log "zookeeper: wrote $CONFIG_DIR/zoo.cfg ($count members) and myid $myid"
