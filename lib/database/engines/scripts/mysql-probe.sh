#!/usr/bin/env bash
# MySQL probes. `ready`: the server answers a query over TCP as root (password from the Secret's
# file ROOT_PASSWORD_FILE), which it does not during the entrypoint's socket-only initialization.
# `live`: the server process answers a ping on its socket, with no password (mysqladmin ping
# succeeds even when access is denied): a changed password never gets the server restarted.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

case "${1:-ready}" in
  ready)
    read_secret ROOT_PASSWORD
    password_file="$(mysql_password_file "$ROOT_PASSWORD")"
    trap 'rm -f "$password_file"' EXIT
    mysql --defaults-extra-file="$password_file" --protocol=tcp -h127.0.0.1 -P"${MYSQL_PORT:-3306}" \
      --connect-timeout=3 -e 'SELECT 1' >/dev/null
    ;;
  live)
    mysqladmin --protocol=socket --connect-timeout=3 ping >/dev/null
    ;;
  *) die "usage: $0 ready|live" ;;
esac
