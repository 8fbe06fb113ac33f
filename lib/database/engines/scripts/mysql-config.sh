#!/usr/bin/env bash
# MySQL, init container `config`: writes this member's server config into CONFIG_DIR (an emptyDir
# the database container mounts at /etc/mysql/conf.d, which the image's /etc/my.cnf includes).
# The first ordinal is the primary; every other member is a read-only replica.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/mysql/conf.d}"
DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
# this member's DNS name, also for ordinals past the synthesized members (a scale-up): its pod
# name under the domain of the first member's name
self="$(peer_address "$ordinal" || true)"
first="$(peer_address "$start" || true)"
if [ -z "$self" ] && [ -n "$first" ]; then
  host="${HOSTNAME:-$(hostname)}"
  self="${host%%.*}.${first#*.}"
fi
# server-id 0 is reserved (replication refuses it): offset every ordinal by 100
server_id=$((100 + ordinal))

mkdir -p "$CONFIG_DIR"
tmp="$CONFIG_DIR/.cdk8s.cnf.tmp"
{
  echo "# Written by cdk8s-stateful mysql-config.sh for ordinal $ordinal."
  echo "[mysqld]"
  echo "datadir=$DATA_DIR"
  echo "server-id=$server_id"
  echo "gtid_mode=ON"
  echo "enforce_gtid_consistency=ON"
  echo "log_bin=binlog"
  echo "relay_log=relay-bin"
  # after a crash, refetch the relay log from the primary (GTID auto-positioning) instead of trusting it
  echo "relay_log_recovery=ON"
  echo "skip_replica_start=OFF"
  # new replicas clone their data from a peer (mysql-clone.sh): every member can be a donor
  echo "plugin-load-add=mysql_clone.so"
  if [ -n "$self" ]; then
    echo "report_host=$self"
  fi
  if [ "$ordinal" -eq "$start" ]; then
    echo "# primary: takes the writes"
    echo "read_only=OFF"
  else
    echo "# replica of $(peer_address "$start" || echo "ordinal $start"): no writes, not even from admins"
    echo "read_only=ON"
    echo "super_read_only=ON"
  fi
  write_extra_config
} >"$tmp"
mv "$tmp" "$CONFIG_DIR/cdk8s.cnf"
log "mysql: wrote $CONFIG_DIR/cdk8s.cnf (ordinal $ordinal, server-id $server_id, $([ "$ordinal" -eq "$start" ] && echo primary || echo replica))"
