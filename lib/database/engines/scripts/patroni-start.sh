#!/usr/bin/env bash
# PostgreSQL with Patroni, the database container's command: writes patroni.yml from the
# environment and the credentials Secret's files, then execs patroni, which decides everything
# else: it initializes a new cluster once (its initialize key), clones an empty member from the
# leader, keeps the leader lock (a ConfigMap `<SCOPE>-leader`), promotes, demotes, rewinds, and
# labels this pod with its role (ROLE_LABEL: primary or replica), which the Services select.
# The file holds the passwords: it is written with mode 0600 into RUN_DIR (an emptyDir of the pod),
# never into the pod spec or a ConfigMap.
#   SCOPE               the cluster's name (the StatefulSet's): Patroni's ConfigMaps are <SCOPE>-*
#   NAMESPACE, POD_IP   the pod's, through the downward API
#   SCOPE_LABEL         the pod label whose value is SCOPE (Patroni lists the members by it)
#   ROLE_LABEL          the pod label Patroni sets to primary or replica
#   SYNCHRONOUS         true: synchronous_mode (no acknowledged write lost in a failover)
#   CLUSTER_PARAMETERS  JSON: settings every member shares (bootstrap dcs parameters)
#   MEMBER_PARAMETERS   JSON: this member's settings
#   PGDATA, RUN_DIR     the data directory (on the claim), the socket and config directory
#   BACKUP_*, RESTORE_* with `backup` / `restoreFrom` (pgbackrest.sh): pgBackRest's config files,
#                       which archive_command (a member parameter) and the restore read
#   RESTORE_TARGET      with `restoreFrom.pointInTime`: the recovery target time
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

: "${SCOPE:?SCOPE is not set}" "${NAMESPACE:?NAMESPACE is not set}" "${POD_IP:?POD_IP is not set}"
: "${PGDATA:?PGDATA is not set}" "${ROLE_LABEL:?ROLE_LABEL is not set}" "${SCOPE_LABEL:?SCOPE_LABEL is not set}"
RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
PORT="${POSTGRES_PORT:-5432}"
API_PORT="${PATRONI_PORT:-8008}"
REPLICATION_USER="${POSTGRES_REPLICATION_USER:-replicator}"
NAME="${HOSTNAME:-}"
NAME="${NAME%%.*}"
[ -n "$NAME" ] || die "patroni: HOSTNAME is not set: the member's name is its pod's"
PG_MAJOR="${PG_MAJOR:-}"
BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/$PG_MAJOR/bin}"
[ -x "$BIN_DIR/postgres" ] || die "patroni: no PostgreSQL server in $BIN_DIR (PG_MAJOR='$PG_MAJOR'). Fix: use an image built FROM the official postgres image, which sets PG_MAJOR, or set PG_BIN_DIR"
command -v patroni >/dev/null || die "patroni: the image has no patroni on PATH. Fix: build the image with Patroni (docs/engines.md, 'PostgreSQL with Patroni')"

read_secret SUPERUSER_PASSWORD ROOT_KEY
read_secret REPLICATION_PASSWORD REPLICATION_KEY
require_single_line "the superuser password" "$SUPERUSER_PASSWORD"
require_single_line "the replication password" "$REPLICATION_PASSWORD"

# q VALUE: a single-quoted YAML scalar (a quote is doubled; no other escape exists in that style)
q() { printf "'%s'" "${1//\'/\'\'}"; }

# with `backup` or `restoreFrom`: pgBackRest's config files (written at every start: the keys
# may have been rotated)
if [ -n "${BACKUP_BUCKET:-}${RESTORE_BUCKET:-}" ]; then
  # shellcheck source=pgbackrest.sh
  . "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"
  if [ -n "${BACKUP_BUCKET:-}" ]; then pgbackrest_write_config "$RUN_DIR/pgbackrest.conf" BACKUP; fi
  if [ -n "${RESTORE_BUCKET:-}" ]; then pgbackrest_write_config "$RUN_DIR/pgbackrest-restore.conf" RESTORE; fi
fi

# restore_method: with `restoreFrom`, the bootstrap method that creates the cluster from the
# repository instead of initdb (Patroni runs it once, on the member that takes the initialize
# key): patroni-restore.sh lays down the backup with pgBackRest's recovery settings (restore_command,
# the target time), which Patroni keeps; the server replays the archived WAL and promotes
restore_method() {
  [ -n "${RESTORE_BUCKET:-}" ] || return 0
  echo "  method: pgbackrest"
  echo "  pgbackrest:"
  echo "    command: $(q "bash ${SCRIPTS_DIR:-$(dirname "$0")}/patroni-restore.sh")"
  echo "    no_params: true"
  echo "    keep_existing_recovery_conf: true"
}

CLUSTER_PARAMETERS="${CLUSTER_PARAMETERS:-"{}"}"
MEMBER_PARAMETERS="${MEMBER_PARAMETERS:-"{}"}"
config="$RUN_DIR/patroni.yml"
mkdir -p "$RUN_DIR"
(
  umask 077
  cat >"$config.tmp" <<YAML
scope: $(q "$SCOPE")
name: $(q "$NAME")
log: {level: INFO}
restapi:
  listen: $(q "0.0.0.0:$API_PORT")
  connect_address: $(q "$POD_IP:$API_PORT")
  # the unsafe endpoints (switchover, restart, reinitialize) want this; patronictl reads it here
  authentication: {username: patroni, password: $(q "$SUPERUSER_PASSWORD")}
kubernetes:
  namespace: $(q "$NAMESPACE")
  use_endpoints: false
  scope_label: $(q "$SCOPE_LABEL")
  labels: {}
  role_label: $(q "$ROLE_LABEL")
  leader_label_value: primary
  follower_label_value: replica
  standby_leader_label_value: primary
  pod_ip: $(q "$POD_IP")
  ports: [{name: postgresql, port: $PORT}]
bootstrap:
  dcs:
    # the leader lock lapses 20 s after the primary last renewed it (every 5 s): a lost primary
    # is replaced within about 20-25 s (ttl >= loop_wait + 2 * retry_timeout; 20 is Patroni's
    # minimum, to which it raises a smaller ttl)
    ttl: 20
    loop_wait: 5
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    # a primary that cannot reach the API server stays primary while every member answers it
    failsafe_mode: true
    synchronous_mode: ${SYNCHRONOUS:-true}
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters: $CLUSTER_PARAMETERS
  initdb: [{encoding: UTF8}, {locale: C.UTF-8}, data-checksums]
  post_bootstrap: $(q "${SCRIPTS_DIR:-$(dirname "$0")}/patroni-bootstrap.sh")
$(restore_method)
postgresql:
  listen: $(q "0.0.0.0:$PORT")
  connect_address: $(q "$POD_IP:$PORT")
  data_dir: $(q "$PGDATA")
  bin_dir: $(q "$BIN_DIR")
  pgpass: $(q "$RUN_DIR/.pgpass")
  use_unix_socket: true
  use_unix_socket_repl: false
  # a demoted primary that pg_rewind cannot bring back is copied afresh from the leader: what it
  # had that the leader never received was never acknowledged in synchronous mode
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres, password: $(q "$SUPERUSER_PASSWORD")}
    replication: {username: $(q "$REPLICATION_USER"), password: $(q "$REPLICATION_PASSWORD")}
    rewind: {username: postgres, password: $(q "$SUPERUSER_PASSWORD")}
  parameters: $MEMBER_PARAMETERS
  pg_hba:
  - local all all trust
  - $(q "host replication $REPLICATION_USER all scram-sha-256")
  - host all all all scram-sha-256
YAML
)
mv -f "$config.tmp" "$config"
log "patroni: member $NAME of $SCOPE in $NAMESPACE; configuration in $config; starting Patroni"
exec patroni "$config"
