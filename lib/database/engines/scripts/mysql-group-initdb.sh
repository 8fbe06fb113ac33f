#!/usr/bin/env bash
# MySQL with Group Replication: run by the image's entrypoint (from /docker-entrypoint-initdb.d)
# once, when it initializes an empty data directory, on every member. Creates the recovery account
# (the same on every member, since any member may be the donor of another's recovery or clone),
# then forgets this server's own transactions (the time zones and the accounts the entrypoint
# wrote): a member joins the group with an empty GTID set, so that it never holds a transaction
# the group lacks (which the group refuses). The root password comes from the Secret's file
# (ROOT_KEY) and reaches the client through a pipe (mysql_options), never a file on disk.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-/opt/cdk8s-stateful}/common.sh"

read_secret MYSQL_REPLICATION_PASSWORD REPLICATION_KEY
read_secret ROOT_PASSWORD ROOT_KEY
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

run() {
  mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=socket "$@"
}
run <<SQL
CREATE USER IF NOT EXISTS '$REPLICATION_USER'@'%' IDENTIFIED BY '$(sql_quote "$MYSQL_REPLICATION_PASSWORD")';
-- REPLICATION SLAVE for distributed recovery, BACKUP_ADMIN to be a clone donor
GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO '$REPLICATION_USER'@'%';
SQL
# RESET BINARY LOGS AND GTIDS from 8.2, RESET MASTER before
run -e 'RESET BINARY LOGS AND GTIDS' 2>/dev/null || run -e 'RESET MASTER'
# every later start is read-only until the group makes this member its primary: a restarted
# member never takes a write outside the group
run -e 'SET PERSIST super_read_only = ON'
log "mysql: created the recovery account '$REPLICATION_USER'; this member's own transactions forgotten (it joins a group with none)"
