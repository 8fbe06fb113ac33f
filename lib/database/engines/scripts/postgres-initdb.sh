#!/usr/bin/env bash
# PostgreSQL, primary only: run by the image's entrypoint (from /docker-entrypoint-initdb.d) once,
# when it initializes an empty data directory. Creates the role replicas stream with and lets it
# connect for replication from other pods; and, when the credentials Secret has the application
# keys (USERNAME_KEY, PW_KEY), the application role and a database of the same name it owns.
# Passwords come from the Secret's files and reach psql through stdin, never a command line.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

read_secret POSTGRES_REPLICATION_PASSWORD REPLICATION_KEY
: "${PGDATA:?PGDATA is not set}"
REPLICATION_USER="${POSTGRES_REPLICATION_USER:-replicator}"

# literal VALUE: a single-quoted SQL literal (standard_conforming_strings is on: doubling single
# quotes is the only escaping it needs); ident VALUE: a double-quoted identifier
literal() { printf "'%s'" "${1//\'/\'\'}"; }
ident() { printf '"%s"' "${1//\"/\"\"}"; }

sql="CREATE ROLE $(ident "$REPLICATION_USER") WITH REPLICATION LOGIN PASSWORD $(literal "$POSTGRES_REPLICATION_PASSWORD");"
if has_key USERNAME_KEY && has_key PW_KEY; then
  read_secret APP_USER USERNAME_KEY
  read_secret APP_PASSWORD PW_KEY
  sql="$sql
CREATE ROLE $(ident "$APP_USER") WITH LOGIN PASSWORD $(literal "$APP_PASSWORD");
CREATE DATABASE $(ident "$APP_USER") OWNER $(ident "$APP_USER");"
  log "postgresql: creating the application role and database '$APP_USER'"
else
  log "postgresql: the credentials Secret has no '${USERNAME_KEY:-username}' and '${PW_KEY:-password}' keys: no application role"
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" <<<"$sql"
echo "host replication $REPLICATION_USER all scram-sha-256" >>"$PGDATA/pg_hba.conf"
log "postgresql: created the replication role '$REPLICATION_USER' and allowed it in pg_hba.conf"
