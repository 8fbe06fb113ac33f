#!/usr/bin/env bash
# MySQL, primary only: run by the image's entrypoint (from /docker-entrypoint-initdb.d) once, when
# it initializes an empty data directory. Creates the account replicas replicate and clone with.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

: "${MYSQL_REPLICATION_PASSWORD:?the replication password (from the Secret) is missing}"
: "${MYSQL_ROOT_PASSWORD:?the root password (from the Secret) is missing}"
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

password_file="$(mysql_password_file "$MYSQL_ROOT_PASSWORD")"
trap 'rm -f "$password_file"' EXIT
mysql --defaults-extra-file="$password_file" --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '$REPLICATION_USER'@'%' IDENTIFIED BY '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")';
-- REPLICATION SLAVE to stream the binary log, BACKUP_ADMIN to be a clone donor
GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO '$REPLICATION_USER'@'%';
SQL
log "mysql: created the replication account '$REPLICATION_USER'"
