#!/usr/bin/env bash
# ZooKeeper, init container `config`: copies the image's config dir (logback.xml, ...) into
# CONFIG_DIR (an emptyDir the database container mounts at /conf), writes zoo.cfg with a
# `server.N` line for every member, and this member's myid (ordinal + 1) into the data dir.
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
  id="$start"
  for peer in $PEERS; do
    echo "server.$((id + 1))=$peer:$PEER_PORT:$ELECTION_PORT;$CLIENT_PORT"
    id=$((id + 1))
  done
} >"$tmp"
mv -f "$tmp" "$CONFIG_DIR/zoo.cfg"
echo "$myid" >"$DATA_DIR/myid.tmp"
mv -f "$DATA_DIR/myid.tmp" "$DATA_DIR/myid"
log "zookeeper: wrote $CONFIG_DIR/zoo.cfg ($count members) and myid $myid"
