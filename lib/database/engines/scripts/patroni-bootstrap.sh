#!/usr/bin/env bash
# PostgreSQL with Patroni: Patroni's post_bootstrap, run once on the member that initialized the
# cluster, with a connection string as its argument (Patroni has created the superuser and the
# replication role). A cluster restored from a backup (RESTORE_BUCKET) keeps its own roles. When the credentials Secret has the application keys (USERNAME_KEY,
# PW_KEY), creates the application role and a database of the same name it owns. Passwords come
# from the Secret's files and reach psql through stdin, never a command line.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

[ "$#" -ge 1 ] || die "usage: $0 CONNECTION-STRING (Patroni's post_bootstrap passes it)"
if [ -n "${RESTORE_BUCKET:-}" ]; then
  # (the recovery settings pgBackRest wrote for the restore: Patroni drops them from
  # postgresql.auto.conf itself once its custom bootstrap is over)
  log "patroni: restored from a backup: its roles and databases are the backed-up set's, none created"
  exit 0
fi
if ! has_key USERNAME_KEY || ! has_key PW_KEY; then
  log "patroni: the credentials Secret has no '${USERNAME_KEY:-username}' and '${PW_KEY:-password}' keys: no application role"
  exit 0
fi
read_secret APP_USER USERNAME_KEY
read_secret APP_PASSWORD PW_KEY
literal() { printf "'%s'" "${1//\'/\'\'}"; }
ident() { printf '"%s"' "${1//\"/\"\"}"; }
psql -v ON_ERROR_STOP=1 --no-psqlrc "$1" <<SQL
CREATE ROLE $(ident "$APP_USER") WITH LOGIN PASSWORD $(literal "$APP_PASSWORD");
CREATE DATABASE $(ident "$APP_USER") OWNER $(ident "$APP_USER");
SQL
log "patroni: created the application role and database '$APP_USER'"
