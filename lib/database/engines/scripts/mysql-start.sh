#!/usr/bin/env bash
# MySQL, the database container's command. Points the image's MYSQL_ROOT_PASSWORD_FILE at the
# credentials Secret's file (the pod spec only names the key, ROOT_KEY) and runs the image's
# entrypoint. Before the entrypoint initializes an empty data directory, it checks the root
# password: the image writes it into SQL without escaping, so a `'` breaks the first start half-way
# and a `\` silently stores another password.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"

MYSQL_ROOT_PASSWORD_FILE="$(key_file ROOT_KEY)"
export MYSQL_ROOT_PASSWORD_FILE
if [ ! -d "$DATA_DIR/mysql" ]; then
  read_secret ROOT_PASSWORD ROOT_KEY
  case "$ROOT_PASSWORD" in
    *"'"* | *\\*)
      die "mysql: the root password in $MYSQL_ROOT_PASSWORD_FILE contains a single quote or a backslash, which the image's first initialization writes into SQL unescaped (a quote breaks it, a backslash stores another password). Fix: put a password without ' and \\ in the Secret's key '$(basename "$MYSQL_ROOT_PASSWORD_FILE")', then delete this pod; change it with ALTER USER afterwards if you must." ;;
  esac
  unset ROOT_PASSWORD
fi
exec "${ENTRYPOINT:-docker-entrypoint.sh}" mysqld "$@"
