#!/usr/bin/env bash
# PostgreSQL, primary only: run by the image's entrypoint (from /docker-entrypoint-initdb.d) once,
# when it initializes an empty data directory. Creates the role replicas stream with and lets it
# connect for replication from other pods. The password comes from the credentials Secret's file
# (POSTGRES_REPLICATION_PASSWORD_FILE).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

read_secret POSTGRES_REPLICATION_PASSWORD
: "${PGDATA:?PGDATA is not set}"
REPLICATION_USER="${POSTGRES_REPLICATION_USER:-replicator}"

# the password goes through stdin, never the command line; standard_conforming_strings is on,
# so doubling single quotes is the only escaping a literal needs
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" <<SQL
CREATE ROLE "$REPLICATION_USER" WITH REPLICATION LOGIN PASSWORD '${POSTGRES_REPLICATION_PASSWORD//\'/\'\'}';
SQL
echo "host replication $REPLICATION_USER all scram-sha-256" >>"$PGDATA/pg_hba.conf"
log "postgresql: created the replication role '$REPLICATION_USER' and allowed it in pg_hba.conf"
