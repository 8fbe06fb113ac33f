#!/usr/bin/env bash
# MySQL, primary only: run by the image's entrypoint (from /docker-entrypoint-initdb.d) once, when
# it initializes an empty data directory. Creates the account replicas replicate and clone with.
# The root password comes from the credentials Secret's file (ROOT_KEY) and reaches the client
# through a pipe (mysql_options), never a file on disk.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

read_secret MYSQL_REPLICATION_PASSWORD REPLICATION_KEY
read_secret ROOT_PASSWORD ROOT_KEY
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '$REPLICATION_USER'@'%' IDENTIFIED BY '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")';
-- REPLICATION SLAVE to stream the binary log, BACKUP_ADMIN to be a clone donor
GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO '$REPLICATION_USER'@'%';
SQL
log "mysql: created the replication account '$REPLICATION_USER'"
