#!/usr/bin/env bash
# Stands in for the mariadb image's docker-entrypoint.sh in the real-server suite: initializes an
# empty data directory as the image does (system tables, the root password from
# MARIADB_ROOT_PASSWORD_FILE, mysql@localhost through the unix socket with
# MARIADB_MYSQL_LOCALHOST_GRANTS, then /docker-entrypoint-initdb.d, here INITDB_DIR), with a
# temporary server without Galera, then runs the server with the arguments it was given.
set -euo pipefail
[ "$1" = mariadbd ] || exec "$@"
shift
DATADIR="${DATA_DIR:?}"
if [ ! -d "$DATADIR/mysql" ]; then
  mkdir -p "$DATADIR"
  mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >/dev/null
  mariadbd --datadir="$DATADIR" --skip-networking --wsrep-on=OFF --socket=/run/mysqld/init.sock --pid-file=/run/mysqld/init.pid &
  pid=$!
  for _ in $(seq 1 60); do mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1 && break; sleep 1; done
  pw="$(<"$MARIADB_ROOT_PASSWORD_FILE")"
  pw="${pw//\\/\\\\}"
  pw="${pw//\'/\\\'}"
  mariadb --socket=/run/mysqld/init.sock -uroot <<SQL
SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$pw');
CREATE USER 'mysql'@'localhost' IDENTIFIED VIA unix_socket;
GRANT ${MARIADB_MYSQL_LOCALHOST_GRANTS:-USAGE} ON *.* TO 'mysql'@'localhost';
SQL
  for f in "${INITDB_DIR:-/docker-entrypoint-initdb.d}"/*.sh; do [ -e "$f" ] && bash "$f"; done
  kill "$pid"
  wait "$pid" || true
fi
exec mariadbd "$@"
