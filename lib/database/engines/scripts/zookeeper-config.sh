#!/usr/bin/env bash
# ZooKeeper, init container `config`: copies the image's config dir (logback.xml, ...) into
# CONFIG_DIR (an emptyDir the database container mounts at /conf) and writes the member's zoo.cfg
# and myid on its volume (DATA_DIR/conf, DATA_DIR/myid).
#
# Membership is dynamic (reconfigEnabled): ZooKeeper itself keeps the ensemble's member list in a
# dynamic config file beside zoo.cfg on the volume, rewritten at every committed `reconfig`, so a
# restart keeps the live membership and no member ever runs on a list synthesized at another
# time. A member whose volume holds a zoo.cfg starts from it. An empty volume:
#   - founds a new ensemble of itself alone only when the init container `founding` says this
#     volume founded the set (it created the Lease <set>-founded, which the API server lets
#     exactly one volume do), or when the set has a single member;
#   - otherwise joins: it asks the live ensemble (a quorum of it: zkCli `config` is answered only
#     by a serving member) for its config, however long that takes, and starts with that config
#     plus its own line. It is not a voter of the live ensemble: it runs as a non-voting follower,
#     syncs from the leader, and zookeeper-members.sh has the quorum add it (`reconfig -add`). An
#     empty member therefore never votes before it holds the leader's data, and empty members can
#     never elect one of themselves over a member with data.
# With restoreFrom, the founding volume first receives the backup's snapshot and transaction logs
# (zookeeper-restore.sh): the new ensemble starts from them, and the joiners sync from it.
# A joiner whose ordinal already has a server id in the live config (its volume was replaced) takes
# a new id (ordinal + 1 + 1000 k): the old id is removed in the same `reconfig` that adds the new.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

IMAGE_CONF_DIR="${IMAGE_CONF_DIR:-/conf}"
CONFIG_DIR="${CONFIG_DIR:-/cdk8s-conf}"
DATA_DIR="${DATA_DIR:-/data}"
ZK_CONF="$DATA_DIR/conf"
CLIENT_PORT="${CLIENT_PORT:-2181}"
PEER_PORT="${PEER_PORT:-2888}"
ELECTION_PORT="${ELECTION_PORT:-3888}"
: "${MEMBER_DOMAIN:?MEMBER_DOMAIN is not set}"

ordinal="$(pod_ordinal)"
[ "$ordinal" -lt 1000 ] || die "zookeeper: ordinal $ordinal: server ids are ordinal + 1 + 1000 k, ordinals must stay below 1000"
self="${HOSTNAME%%.*}.$MEMBER_DOMAIN"

# own_line SID: this member's server line
own_line() {
  echo "server.$1=$self:$PEER_PORT:$ELECTION_PORT:participant;$CLIENT_PORT"
}

# static_config: the settings of zoo.cfg that are not membership
static_config() {
  echo "# Written by cdk8s-stateful zookeeper-config.sh (ordinal $ordinal); ZooKeeper keeps the membership in dynamicConfigFile."
  echo "dataDir=$DATA_DIR"
  echo "dataLogDir=$DATA_DIR/log"
  echo "tickTime=2000"
  echo "initLimit=10"
  echo "syncLimit=5"
  echo "maxClientCnxns=60"
  echo "autopurge.snapRetainCount=3"
  echo "autopurge.purgeInterval=24"
  # a lone founder runs the quorum protocol too, so that members can join it
  echo "standaloneEnabled=false"
  echo "reconfigEnabled=true"
  echo "admin.enableServer=false"
  echo "4lw.commands.whitelist=ruok,srvr,mntr,conf"
  # a member binds its own server line on every interface: its DNS name may not resolve to its
  # own address until the headless Service publishes it
  echo "quorumListenOnAllIPs=true"
  write_extra_config
}

# write_config DYNAMIC_FILE: zoo.cfg (static settings, then the pointer ZooKeeper maintains)
write_config() {
  local tmp="$ZK_CONF/.zoo.cfg.tmp"
  { static_config; echo "dynamicConfigFile=$1"; } >"$tmp"
  mv -f "$tmp" "$ZK_CONF/zoo.cfg"
}

# live_config: the live ensemble's server lines, as a serving member answers `config`; waits for one
live_config() {
  local out waited=0
  while :; do
    out="$(ZOO_LOG_DIR=/tmp CLIENT_JVMFLAGS=-Xmx64m timeout 30 zkCli.sh -waitforconnection -timeout 10000 \
      -server "$MEMBER_DOMAIN:$CLIENT_PORT" config 2>/dev/null | grep -E '^server\.[0-9]+=' || true)"
    if [ -n "$out" ]; then echo "$out"; return 0; fi
    if [ $((waited % 60)) -eq 0 ]; then
      log "zookeeper: no serving member of the ensemble answers 'config' yet: this empty member joins only a live quorum, asking again every 5 s"
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

# new_sid LIVE: the id for this member: ordinal + 1, or + 1000 k when the live config has that one
new_sid() {
  local sid=$((ordinal + 1))
  while grep -q "^server\.$sid=" <<<"$1"; do sid=$((sid + 1000)); done
  echo "$sid"
}

mkdir -p "$CONFIG_DIR" "$DATA_DIR/log" "$ZK_CONF"
if [ -d "$IMAGE_CONF_DIR" ]; then
  for file in "$IMAGE_CONF_DIR"/*; do
    [ -f "$file" ] && [ "$(basename "$file")" != zoo.cfg ] && cp "$file" "$CONFIG_DIR/"
  done
fi

# join SID DYNAMIC: DYNAMIC becomes the live ensemble's config plus this member's line
join() {
  local live
  live="$(live_config)"
  { echo "$live"; grep -q "^server\.$1=" <<<"$live" || own_line "$1"; } >"$2"
  log "zookeeper: server $1 joins the live ensemble ($(wc -l <<<"$live") servers), without a vote until the quorum adds it"
}

current="$(sed -n 's/^dynamicConfigFile=//p' "$ZK_CONF/zoo.cfg" 2>/dev/null | tail -n 1 || true)"
dynamic="$ZK_CONF/zoo.cfg.dynamic.cdk8s"
if [ -n "$current" ] && [ -s "$current" ] && [ -s "$DATA_DIR/myid" ]; then
  sid="$(cat "$DATA_DIR/myid")"
  if grep -q "^server\.$sid=" "$current"; then
    write_config "$current"
    log "zookeeper: server $sid restarts with its ensemble config $current ($(grep -c '^server\.' "$current") servers)"
    exit 0
  fi
  # synced as a non-voter, not added yet: ZooKeeper keeps the leader's config, without this member
  join "$sid" "$dynamic"
elif [ -s "$DATA_DIR/cdk8s-ensemble" ]; then
  # a member of a static ensemble (an earlier version of this preset): the same list, now dynamic
  sid=$((ordinal + 1))
  cp "$DATA_DIR/cdk8s-ensemble" "$dynamic"
  log "zookeeper: server $sid of a static ensemble: its recorded list becomes the dynamic config"
else
  state="$( [ -n "${FOUNDED_FILE:-}" ] && cat "$FOUNDED_FILE" 2>/dev/null || echo found)"
  case "$state" in
    found)
      sid=$((ordinal + 1))
      # with restoreFrom: the founder starts from the backup (its failure stops the member here)
      if [ -n "${RESTORE_BUCKET:-}" ]; then bash "${SCRIPTS_DIR:-$(dirname "$0")}/zookeeper-restore.sh"; fi
      own_line "$sid" >"$dynamic"
      log "zookeeper: this volume founds the ensemble: server $sid alone, the others join it" ;;
    present | absent)
      sid="$(new_sid "$(live_config)")"
      join "$sid" "$dynamic" ;;
    *) die "zookeeper: unexpected founding answer '$state' in $FOUNDED_FILE" ;;
  esac
fi
echo "$sid" >"$DATA_DIR/myid.tmp"
mv -f "$DATA_DIR/myid.tmp" "$DATA_DIR/myid"
write_config "$dynamic"
log "zookeeper: wrote $ZK_CONF/zoo.cfg and myid $sid"
