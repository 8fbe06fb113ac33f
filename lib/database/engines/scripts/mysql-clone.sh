#!/usr/bin/env bash
# MySQL, init container `clone`: gives a new replica its data before the server starts.
#
# A replica whose data directory is empty clones the previous member (ordinal - 1, as in the
# Kubernetes "Run a Replicated Stateful Application" tutorial; the primary when that member is not
# in PEERS, as after `kubectl scale` past the app's replicas) with the clone plugin: a throwaway
# server on a scratch data directory runs CLONE INSTANCE ... DATA DIRECTORY into a sibling
# directory of the claim, a second throwaway server on the clone points replication at the
# primary (GTID auto-positioning), and only then is the clone renamed into place. An interrupted
# clone leaves nothing the next attempt would mistake for data.
#
# The primary (first ordinal) with no data founds the set only if the init container `founding`
# says so (it created the set's founding Lease: find_source): the image's entrypoint then
# initializes a new primary. Otherwise an empty primary would start a new, divergent history the
# replicas stop on: it waits for a member with data, clones the most advanced one (most GTIDs
# executed) the same way and drops its replication settings.
#
# Passwords come from the credentials Secret's files (read_secret): the replication password
# (REPLICATION_KEY) to clone and replicate, the root password (ROOT_KEY), which the clone carries
# over from the donor, to configure replication on the clone. The clients get them through pipes
# (mysql_options), never files on disk.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/var/run/mysqld}"
PORT="${MYSQL_PORT:-3306}"
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"

if [ -d "$DATA_DIR/mysql" ]; then
  log "mysql: $DATA_DIR holds data; nothing to clone"
  exit 0
fi

if [ -d "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR")" ]; then
  die "mysql: $DATA_DIR holds files but no database (no mysql/ directory). Inspect the volume; this script only fills an empty data directory."
fi

read_secret MYSQL_REPLICATION_PASSWORD REPLICATION_KEY
read_secret ROOT_PASSWORD ROOT_KEY
primary="$(peer_address "$start")" || die "mysql: the primary (ordinal $start) is not a member (PEERS='${PEERS:-}')"

# peer_position HOST: how many transactions HOST executed (its gtid_executed), as the replication account
peer_position() {
  local set count=0 part interval first last
  set="$(mysql --defaults-extra-file=<(mysql_options "$MYSQL_REPLICATION_PASSWORD" "$REPLICATION_USER") -h"$1" -P"$PORT" --connect-timeout=3 \
    -N -B -e 'SELECT @@GLOBAL.gtid_executed' 2>/dev/null)" || return 1
  # `mysql -B` writes the set's line breaks as \n
  set="${set//\\n/}"
  set="${set//[[:space:]]/}"
  IFS=, read -r -a parts <<<"$set"
  for part in ${parts[@]+"${parts[@]}"}; do
    IFS=: read -r -a intervals <<<"${part#*:}"
    for interval in "${intervals[@]}"; do
      first="${interval%-*}" last="${interval#*-}"
      count=$((count + last - first + 1))
    done
  done
  echo "$count"
}

if [ "$ordinal" -eq "$start" ]; then
  if [ "$(peer_count)" -le 1 ] || ! donor="$(find_source)"; then
    log "mysql: new primary; the image's entrypoint initializes $DATA_DIR"
    exit 0
  fi
else
  # a member past the synthesized list (the set scaled with kubectl beyond the app's replicas)
  # has no name for its predecessor: it clones the primary
  if ! donor="$(peer_address $((ordinal - 1)))"; then
    log "mysql: ordinal $((ordinal - 1)) is not among the members the app was synthesized with (PEERS); cloning the primary"
    donor="$primary"
  fi
  await_serving "$donor" "$PORT"
fi

recipient="$DATA_DIR.recipient"
target="$DATA_DIR.clone"
socket="$RUN_DIR/clone.sock"
server_pid=""

start_server() {
  local datadir="$1"
  shift
  mysqld --no-defaults --datadir="$datadir" --socket="$socket" --pid-file="$RUN_DIR/clone.pid" \
    --skip-networking --mysqlx=OFF "$@" &
  server_pid=$!
  local _
  for _ in $(seq 1 "${SERVER_WAIT_SECONDS:-120}"); do
    if mysqladmin --no-defaults --socket="$socket" --connect-timeout=2 ping >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || die "mysql: the temporary server on $datadir exited (see the log above)"
    sleep 1
  done
  die "mysql: the temporary server on $datadir did not start within ${SERVER_WAIT_SECONDS:-120}s"
}

stop_server() {
  mysqladmin "$@" --socket="$socket" shutdown
  wait "$server_pid" || true
  server_pid=""
}

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

rm -rf "$recipient" "$target"
mkdir -p "$RUN_DIR"

log "mysql: member $ordinal has no data: cloning $donor"
mysqld --no-defaults --initialize-insecure --datadir="$recipient"
start_server "$recipient" --plugin-load-add=mysql_clone.so
mysql --no-defaults --socket="$socket" -uroot <<SQL
SET GLOBAL clone_valid_donor_list = '$donor:$PORT';
CLONE INSTANCE FROM '$REPLICATION_USER'@'$donor':$PORT IDENTIFIED BY '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")'
  DATA DIRECTORY = '$target';
SQL
stop_server --no-defaults -uroot
rm -rf "$recipient"
# the donor's server UUID must not be reused: the server makes a new one without auto.cnf
rm -f "$target/auto.cnf"

# the same binary and relay log names as the server's config (mysql-config.sh): the replication
# repository records the relay log's name
start_server "$target" --skip-replica-start --gtid-mode=ON --enforce-gtid-consistency=ON --server-id=$((100 + ordinal)) \
  --log-bin=binlog --relay-log=relay-bin
if [ "$ordinal" -eq "$start" ]; then
  log "mysql: the primary is a copy of $donor: dropping the replication settings it carried over"
  mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" <<<'RESET REPLICA ALL;'
else
  log "mysql: pointing replication at the primary $primary"
  # the donor's replication settings came with the clone, but not its relay logs (the server
  # logs "Failed to open the relay log" at start): they go before the new ones are set
  mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --socket="$socket" <<SQL
RESET REPLICA ALL;
CHANGE REPLICATION SOURCE TO SOURCE_HOST = '$primary', SOURCE_PORT = $PORT,
  SOURCE_USER = '$REPLICATION_USER', SOURCE_PASSWORD = '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")',
  SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 1, GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 10,
  SOURCE_HEARTBEAT_PERIOD = 1;
SQL
fi
stop_server --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD")

rmdir "$DATA_DIR" 2>/dev/null || true
mv "$target" "$DATA_DIR"
log "mysql: member $ordinal cloned from $donor; $([ "$ordinal" -eq "$start" ] && echo "it starts as the primary" || echo "it replicates from $primary once the server starts")"
