#!/usr/bin/env bash
# Entrypoint of cdk8s-stateful's mariadb test image (see docs/contributing/images.md). Implements the part of
# the official image's documented interface that this project relies on:
#   - arguments starting with '-' are options of mariadbd; any other command runs as given;
#   - started as root, it hands the data directory to mysql (999) and steps down to it;
#   - on an empty data directory (no mysql/ in it) it initializes the server once, with a
#     temporary server reachable only through its socket, from these variables (each also as
#     <NAME>_FILE, read from that file; MYSQL_<NAME> is accepted for MARIADB_<NAME>):
#       MARIADB_ROOT_PASSWORD | MARIADB_ROOT_PASSWORD_HASH | MARIADB_ALLOW_EMPTY_ROOT_PASSWORD |
#       MARIADB_RANDOM_ROOT_PASSWORD (one is required), MARIADB_ROOT_HOST (default %),
#       MARIADB_DATABASE, MARIADB_USER with MARIADB_PASSWORD | MARIADB_PASSWORD_HASH,
#       MARIADB_MYSQL_LOCALHOST_USER and MARIADB_MYSQL_LOCALHOST_GRANTS (mysql@localhost through
#       the unix socket), MARIADB_HEALTHCHECK_GRANTS, MARIADB_INITDB_SKIP_TZINFO;
#     then runs /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz|xz|zst);
#   - it creates the healthcheck users and $DATADIR/.my-healthcheck.cnf that healthcheck.sh uses.
set -euo pipefail
EP_NAME=mariadb
# shellcheck source=images/lib/entrypoint-lib.sh
. /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- mariadbd "$@"
fi
case "$1" in
  mariadbd | mysqld) ;;
  *) exec "$@" ;;
esac
for arg in "$@"; do
  case "$arg" in
    --help | -'?' | --version | -V) exec "$@" ;;
  esac
done

# the server's view of its configuration with these arguments
ep_server_config "$@"
DATADIR="$(ep_server_option datadir)"
SOCKET="$(ep_server_option socket)"
PORT="$(ep_server_option port)"
DATADIR="${DATADIR%/}"
if [ -z "$DATADIR" ] || [ -z "$SOCKET" ]; then ep_die "cannot tell the data directory and socket from the server's configuration"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR"
  find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
  if [ -n "$SOCKET" ]; then mkdir -p "$(dirname "$SOCKET")" && chown mysql: "$(dirname "$SOCKET")"; fi
  ep_step_down mysql "$@"
fi

# NAME: MARIADB_NAME or MYSQL_NAME, each possibly from a _FILE; sets MARIADB_NAME
read_setting() {
  ep_file_env "MARIADB_$1"
  ep_file_env "MYSQL_$1"
  export "MARIADB_$1"="$(ep_first_set "MARIADB_$1" "MYSQL_$1")"
}

sql_string() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\'/\\\'}"
  printf "'%s'" "$v"
}
sql_ident() { printf '%s%s%s' '`' "${1//\`/\`\`}" '`'; }

CLIENT_CNF=''
# client_cnf PASSWORD: a private option file for the root account through the socket
client_cnf() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\"/\\\"}"
  CLIENT_CNF="$(umask 077 && mktemp "${TMPDIR:-/tmp}/mariadb-client.XXXXXX")"
  printf '[client]\nuser=root\npassword="%s"\nsocket=%s\nprotocol=socket\n' "$v" "$SOCKET" >"$CLIENT_CNF"
}

# docker_process_sql [mariadb options]: SQL on stdin, as root through the temporary server's
# socket (the name the official image gives it, for sourced initdb scripts)
docker_process_sql() {
  mariadb --defaults-extra-file="$CLIENT_CNF" ${MARIADB_DB_FOR_SCRIPTS:+--database="$MARIADB_DB_FOR_SCRIPTS"} "$@"
}

TEMP_PID=''
start_temp_server() {
  # socket only; no Galera, binary log or replication while the image sets itself up
  "$@" --skip-networking --socket="$SOCKET" --wsrep_on=OFF --skip-log-bin --skip-slave-start \
    --default-time-zone=SYSTEM --loose-innodb_buffer_pool_load_at_startup=0 &
  TEMP_PID=$!
  local _
  for _ in $(seq 1 60); do
    if mariadb --no-defaults --socket="$SOCKET" --protocol=socket -uroot --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1 ||
      mariadb --defaults-extra-file="$CLIENT_CNF" --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$TEMP_PID" 2>/dev/null || ep_die "the temporary server exited (see its log above)"
    sleep 1
  done
  ep_die "the temporary server did not answer on $SOCKET within 60s"
}

stop_temp_server() {
  mariadb-admin --defaults-extra-file="$CLIENT_CNF" shutdown || kill "$TEMP_PID"
  wait "$TEMP_PID" || ep_die "the temporary server failed at shutdown"
  TEMP_PID=''
}

initialize() {
  local -a settings=(ROOT_PASSWORD ROOT_PASSWORD_HASH ALLOW_EMPTY_ROOT_PASSWORD RANDOM_ROOT_PASSWORD ROOT_HOST
    DATABASE USER PASSWORD PASSWORD_HASH MYSQL_LOCALHOST_USER MYSQL_LOCALHOST_GRANTS HEALTHCHECK_GRANTS INITDB_SKIP_TZINFO)
  local s
  for s in "${settings[@]}"; do read_setting "$s"; done
  if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] &&
    [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
    ep_die "the data directory $DATADIR is empty and no root password is given. Set one of MARIADB_ROOT_PASSWORD(_FILE), MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD."
  fi
  if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ]; then
    MARIADB_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    ep_log "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
  fi
  if [ -n "$MARIADB_USER" ] && [ "$MARIADB_USER" = root ]; then
    ep_die "MARIADB_USER=root: root is created anyway; give an application user's name"
  fi
  if [ -n "$MARIADB_PASSWORD$MARIADB_PASSWORD_HASH" ] && [ -z "$MARIADB_USER" ]; then
    ep_warn "MARIADB_PASSWORD is set but MARIADB_USER is not: no application user is created"
  fi

  ep_log "initializing the database in $DATADIR"
  mkdir -p "$DATADIR"
  local out
  if ! out="$(mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve --default-time-zone=SYSTEM --enforce-storage-engine= \
    --skip-log-bin --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
    --loose-innodb_buffer_pool_dump_at_shutdown=0 2>&1)"; then
    ep_die "mariadb-install-db failed in $DATADIR: $out"
  fi

  client_cnf ''
  trap '[ -n "$TEMP_PID" ] && kill "$TEMP_PID" 2>/dev/null; rm -f "$CLIENT_CNF"' EXIT
  start_temp_server "$@"

  if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ]; then
    mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null |
      docker_process_sql --database=mysql || ep_die "loading the time zones failed"
  fi

  local root_auth root_host="${MARIADB_ROOT_HOST:-%}" healthcheck_password hc_grants
  if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
    root_auth="IDENTIFIED BY PASSWORD $(sql_string "$MARIADB_ROOT_PASSWORD_HASH")"
  else
    root_auth="IDENTIFIED BY $(sql_string "${MARIADB_ROOT_PASSWORD:-}")"
  fi
  healthcheck_password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  hc_grants="${MARIADB_HEALTHCHECK_GRANTS:-USAGE}"
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    # nobody but the accounts made here: install-db's other accounts go
    echo "DELETE FROM mysql.global_priv WHERE NOT (User IN ('root', 'mariadb.sys') AND Host = 'localhost');"
    echo "DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');"
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' $root_auth;"
    if [ "$root_host" != localhost ]; then
      echo "CREATE USER 'root'@$(sql_string "$root_host") $root_auth;"
      echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    fi
    for host in 127.0.0.1 ::1 localhost; do
      echo "CREATE USER 'healthcheck'@'$host' IDENTIFIED BY $(sql_string "$healthcheck_password");"
      echo "GRANT $hc_grants ON *.* TO 'healthcheck'@'$host';"
    done
    if [ -n "$MARIADB_MYSQL_LOCALHOST_USER" ]; then
      echo "CREATE USER 'mysql'@'localhost' IDENTIFIED VIA unix_socket;"
      echo "GRANT ${MARIADB_MYSQL_LOCALHOST_GRANTS:-USAGE} ON *.* TO 'mysql'@'localhost';"
    fi
    if [ -n "$MARIADB_DATABASE" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$MARIADB_DATABASE");"
    fi
    if [ -n "$MARIADB_USER" ]; then
      if [ -n "$MARIADB_PASSWORD_HASH" ]; then
        echo "CREATE USER $(sql_string "$MARIADB_USER")@'%' IDENTIFIED BY PASSWORD $(sql_string "$MARIADB_PASSWORD_HASH");"
      else
        echo "CREATE USER $(sql_string "$MARIADB_USER")@'%' IDENTIFIED BY $(sql_string "${MARIADB_PASSWORD:-}");"
      fi
      if [ -n "$MARIADB_DATABASE" ]; then
        echo "GRANT ALL ON $(sql_ident "$MARIADB_DATABASE").* TO $(sql_string "$MARIADB_USER")@'%';"
      fi
    fi
  } | docker_process_sql || ep_die "creating the accounts failed"

  # from now on root has its password
  client_cnf "${MARIADB_ROOT_PASSWORD:-}"
  if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
    ep_warn "root was given a password hash: /docker-entrypoint-initdb.d runs without root's password"
  fi
  write_healthcheck_cnf "$healthcheck_password"

  MARIADB_DB_FOR_SCRIPTS="$MARIADB_DATABASE"
  ep_run_initdb /docker-entrypoint-initdb.d docker_process_sql

  stop_temp_server
  rm -f "$CLIENT_CNF"
  trap - EXIT
  ep_log "initialization done; starting the server"
}

write_healthcheck_cnf() {
  local v="$1" file="$DATADIR/.my-healthcheck.cnf"
  (umask 077 && printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword="%s"\n' \
    "${PORT:-3306}" "$SOCKET" "$v" >"$file.tmp")
  mv -f "$file.tmp" "$file"
}

if [ ! -d "$DATADIR/mysql" ]; then
  initialize "$@"
fi
exec "$@"
