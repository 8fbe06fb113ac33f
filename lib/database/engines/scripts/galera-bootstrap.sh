#!/usr/bin/env bash
# MariaDB Galera, init container `bootstrap`: writes this member's MariaDB/Galera config into
# CONFIG_DIR (an emptyDir the database container mounts at /etc/mysql/conf.d), with every member
# of the set in wsrep_cluster_address. Whether this member starts a new cluster is decided by the
# `recover` and `decide` init containers (galera-recover.sh, galera-decide.sh), not here.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/mysql/conf.d}"
DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
CLUSTER_NAME="${CLUSTER_NAME:?the cluster name is missing}"
WSREP_PROVIDER="${WSREP_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"

ordinal="$(pod_ordinal)"
[ "$(peer_count)" -gt 0 ] || die "galera: PEERS is empty"
self="$(peer_address "$ordinal")" || log "galera: ordinal $ordinal is not among the $(peer_count) synthesized members; it joins through them"
read -r -a peers <<<"$PEERS"
members="$(IFS=,; echo "${peers[*]}")"

mkdir -p "$CONFIG_DIR"
tmp="$CONFIG_DIR/.galera.cnf.tmp"
{
  echo "# Written by cdk8s-stateful galera-bootstrap.sh for ordinal $ordinal."
  echo "[mariadb]"
  echo "datadir=$DATA_DIR"
  echo "bind-address=0.0.0.0"
  echo "binlog_format=ROW"
  echo "default_storage_engine=InnoDB"
  echo "innodb_autoinc_lock_mode=2"
  # every commit is flushed to the redo log before it is acknowledged: a member that crashes keeps
  # what it acknowledged (the binary log is off; sync_binlog matters once it is on)
  echo "innodb_flush_log_at_trx_commit=1"
  echo "sync_binlog=1"
  echo "wsrep_on=ON"
  echo "wsrep_provider=$WSREP_PROVIDER"
  echo "wsrep_cluster_name=$CLUSTER_NAME"
  echo "wsrep_cluster_address=gcomm://$members"
  echo "wsrep_node_name=${self:-${HOSTNAME:-ordinal-$ordinal}}"
  # state snapshot transfer with mariabackup, authenticated as mysql@localhost through the unix
  # socket (the entrypoint creates that account): no SST password in any file
  echo "wsrep_sst_method=mariabackup"
  echo "wsrep_sst_auth=mysql:"
  # after a new pod, the `decide` init container elects the member that bootstraps under the
  # set's Lease; after every container crashed at once (no init container runs again),
  # pc.recovery restores the last Primary component once all its members are back. pc.wait_prim
  # off: a member that finds no Primary component keeps running, not Ready, until one forms
  # (galera-start.sh). The write-set cache lets a member that was away for a short while catch up
  # by IST instead of a full SST.
  echo "wsrep_provider_options=\"pc.recovery=TRUE;pc.wait_prim=FALSE;gcache.size=${GCACHE_SIZE:-1G}\""
  if [ "${BINLOG:-}" = on ]; then
    # the binary log of every member holds every transaction of the cluster, under the same GTID
    # on each (the backup sidecar archives one member's for restores to a point in time): the
    # members share server_id and the cluster's GTID domain; each its own domain for what it
    # alone would log outside the cluster
    echo "log_bin=binlog"
    echo "log_slave_updates=ON"
    echo "server_id=1"
    echo "wsrep_gtid_mode=ON"
    echo "wsrep_gtid_domain_id=1"
    echo "gtid_domain_id=$((100 + ordinal))"
    # the archive keeps what restores need; a member keeps a week of its own
    echo "binlog_expire_logs_seconds=604800"
  fi
  write_extra_config
  echo "[sst]"
  # a pod has no syslog: SST and mariadb-backup logs stay in the data directory, where
  # galera-start.sh follows them into the container log
  echo "sst-syslog=-1"
  echo "sst-log-archive=0"
} >"$tmp"
mv "$tmp" "$CONFIG_DIR/galera.cnf"
log "galera: wrote $CONFIG_DIR/galera.cnf (ordinal $ordinal, members $members)"
