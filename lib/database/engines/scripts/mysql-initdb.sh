#!/usr/bin/env bash
# MySQL, primary only: run by the image's entrypoint (from /docker-entrypoint-initdb.d) once, when
# it initializes an empty data directory. Creates the account replicas replicate and clone with.
# The entrypoint unsets MYSQL_ROOT_PASSWORD_FILE once it has read it, so the root password comes
# from the same file of the credentials Secret through ROOT_PASSWORD_FILE.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

read_secret MYSQL_REPLICATION_PASSWORD
read_secret ROOT_PASSWORD
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

password_file="$(mysql_password_file "$ROOT_PASSWORD")"
trap 'rm -f "$password_file"' EXIT
mysql --defaults-extra-file="$password_file" --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '$REPLICATION_USER'@'%' IDENTIFIED BY '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")';
-- REPLICATION SLAVE to stream the binary log, BACKUP_ADMIN to be a clone donor
GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO '$REPLICATION_USER'@'%';
SQL
log "mysql: created the replication account '$REPLICATION_USER'"
