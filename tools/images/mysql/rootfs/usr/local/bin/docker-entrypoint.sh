#!/usr/bin/env bash
# Entrypoint of cdk8s-stateful's mysql test image (see docs/contributing/images.md). Implements the part of the
# official image's documented interface that this project relies on:
#   - arguments starting with '-' are options of mysqld; any other command runs as given;
#   - started as root, it hands the data directory to mysql (999) and steps down to it;
#   - on a data directory without mysql/ it initializes the server once (mysqld
#     --initialize-insecure, then a temporary server reachable only through its socket), from
#     these variables (each also as <NAME>_FILE, read from that file):
#       MYSQL_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD | MYSQL_RANDOM_ROOT_PASSWORD (one is
#       required), MYSQL_ROOT_HOST (default %), MYSQL_DATABASE, MYSQL_USER with MYSQL_PASSWORD,
#       MYSQL_ONETIME_PASSWORD, MYSQL_INITDB_SKIP_TZINFO;
#     then runs /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz|xz|zst).
set -euo pipefail
EP_NAME=mysql
# shellcheck source=images/lib/entrypoint-lib.sh
. /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- mysqld "$@"
fi
[ "$1" = mysqld ] || exec "$@"
for arg in "$@"; do
  case "$arg" in
    --help | -'?' | --version | -V) exec "$@" ;;
  esac
done

# the server's view of its configuration with these arguments
ep_server_config "$@"
DATADIR="$(ep_server_option datadir)"
SOCKET="$(ep_server_option socket)"
DATADIR="${DATADIR%/}"
if [ -z "$DATADIR" ] || [ -z "$SOCKET" ]; then ep_die "cannot tell the data directory and socket from the server's configuration"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
  find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
  chown mysql: "$(dirname "$SOCKET")"
  ep_step_down mysql "$@"
fi

# a SQL string literal: quotes and backslashes escaped (the official image writes some values
# unescaped; these stand-ins accept every value)
sql_string() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\'/\\\'}"
  printf "'%s'" "$v"
}
sql_ident() { printf '%s%s%s' '`' "${1//\`/\`\`}" '`'; }

# client_options PASSWORD: a [client] option group for root through the socket, on stdout (read
# through a pipe: never written to disk)
client_options() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\"/\\\"}"
  printf '[client]\nuser=root\npassword="%s"\nsocket=%s\nprotocol=socket\n' "$v" "$SOCKET"
}

ROOT_PASSWORD_NOW=''
# docker_process_sql [mysql options]: SQL on stdin, as root through the temporary server's socket
# (the name the official image gives it, for sourced initdb scripts)
docker_process_sql() {
  mysql --defaults-extra-file=<(client_options "$ROOT_PASSWORD_NOW") --comments \
    ${MYSQL_DB_FOR_SCRIPTS:+--database="$MYSQL_DB_FOR_SCRIPTS"} "$@"
}

TEMP_PID=''
start_temp_server() {
  "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" &
  TEMP_PID=$!
  local _
  for _ in $(seq 1 "${MYSQL_TEMP_SERVER_WAIT:-120}"); do
    if mysqladmin --defaults-extra-file=<(client_options "$ROOT_PASSWORD_NOW") --connect-timeout=2 ping >/dev/null 2>&1 &&
      docker_process_sql -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$TEMP_PID" 2>/dev/null || ep_die "the temporary server exited (see its log above)"
    sleep 1
  done
  ep_die "the temporary server did not answer on $SOCKET within ${MYSQL_TEMP_SERVER_WAIT:-120}s"
}

stop_temp_server() {
  mysqladmin --defaults-extra-file=<(client_options "$ROOT_PASSWORD_NOW") shutdown || kill "$TEMP_PID"
  wait "$TEMP_PID" || ep_die "the temporary server failed at shutdown"
  TEMP_PID=''
}

# the accounts and database the variables ask for, as SQL
setup_sql() {
  local root_host="${MYSQL_ROOT_HOST:-%}" auth
  auth="IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD")"
  echo "SET @@SESSION.SQL_LOG_BIN=0;"
  echo "ALTER USER 'root'@'localhost' $auth;"
  echo "GRANT ALL ON *.* TO 'root'@'localhost' WITH GRANT OPTION;"
  if [ "$root_host" != localhost ]; then
    echo "CREATE USER 'root'@$(sql_string "$root_host") $auth;"
    echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    echo "GRANT PROXY ON ''@'' TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
  fi
  echo "DROP DATABASE IF EXISTS test;"
  if [ -n "$MYSQL_DATABASE" ]; then
    echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$MYSQL_DATABASE");"
  fi
  if [ -n "$MYSQL_USER" ]; then
    echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
    if [ -n "$MYSQL_DATABASE" ]; then
      echo "GRANT ALL ON $(sql_ident "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
    fi
  fi
}

check_settings() {
  local s
  for s in ROOT_PASSWORD ALLOW_EMPTY_PASSWORD RANDOM_ROOT_PASSWORD ROOT_HOST DATABASE USER PASSWORD \
    ONETIME_PASSWORD INITDB_SKIP_TZINFO; do
    ep_file_env "MYSQL_$s"
  done
  if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ] && [ -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
    ep_die "the data directory $DATADIR is empty and no root password is given. Set one of MYSQL_ROOT_PASSWORD(_FILE), MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD."
  fi
  if [ "$MYSQL_USER" = root ]; then
    ep_die "MYSQL_USER=root: root is created anyway; give an application user's name"
  fi
  if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
    ep_die "MYSQL_USER is set but MYSQL_PASSWORD is not: give the user a password"
  fi
  if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ] && [ -z "$MYSQL_ROOT_PASSWORD" ]; then
    MYSQL_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    ep_log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi
}

initialize() {
  check_settings
  ep_log "initializing the database in $DATADIR"
  mkdir -p "$DATADIR"
  "$@" --initialize-insecure --default-time-zone=SYSTEM || ep_die "mysqld --initialize-insecure failed in $DATADIR (see its log above)"

  trap '[ -n "$TEMP_PID" ] && kill "$TEMP_PID" 2>/dev/null' EXIT
  start_temp_server "$@"
  if [ -z "$MYSQL_INITDB_SKIP_TZINFO" ]; then
    # the zone files Debian marks as unusable ("Local time zone must be set") are left out
    mysql_tzinfo_to_sql /usr/share/zoneinfo 2>/dev/null |
      sed 's/Local time zone must be set--see zic manual page/FCTY/' |
      docker_process_sql --database=mysql || ep_die "loading the time zones failed"
  fi
  setup_sql | docker_process_sql || ep_die "creating the accounts failed"
  # from now on root has its password
  ROOT_PASSWORD_NOW="$MYSQL_ROOT_PASSWORD"

  MYSQL_DB_FOR_SCRIPTS="$MYSQL_DATABASE"
  ep_run_initdb /docker-entrypoint-initdb.d docker_process_sql
  MYSQL_DB_FOR_SCRIPTS=''
  if [ -n "$MYSQL_ONETIME_PASSWORD" ]; then
    echo "ALTER USER 'root'@$(sql_string "${MYSQL_ROOT_HOST:-%}") PASSWORD EXPIRE;" | docker_process_sql
  fi

  stop_temp_server
  trap - EXIT
  ep_log "initialization done; starting the server"
}

if [ ! -d "$DATADIR/mysql" ]; then
  initialize "$@"
fi
exec "$@"
