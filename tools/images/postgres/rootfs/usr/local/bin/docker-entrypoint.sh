#!/usr/bin/env bash
# Entrypoint of cdk8s-stateful's postgres test image (see docs/contributing/images.md). Implements the part of
# the official image's documented interface that this project relies on:
#   - arguments starting with '-' are options of postgres; any other command runs as given;
#   - started as root, it hands PGDATA and the socket directory to postgres (999) and steps down;
#   - when PGDATA holds no PG_VERSION it initializes a cluster once (initdb, then a temporary
#     server on the unix socket only) from POSTGRES_PASSWORD, POSTGRES_USER (default postgres),
#     POSTGRES_DB (default the user's name), POSTGRES_INITDB_ARGS (each also as <NAME>_FILE),
#     POSTGRES_INITDB_WALDIR and POSTGRES_HOST_AUTH_METHOD (default scram-sha-256, for
#     `host all all all` in pg_hba.conf; connections through the socket and from 127.0.0.1 are
#     trusted, as initdb makes them), then runs /docker-entrypoint-initdb.d
#     (*.sh, *.sql, *.sql.gz|xz|zst) as the superuser;
#   - a uid with no passwd entry (a random runAsUser) gets one through nss_wrapper for initdb.
set -euo pipefail
EP_NAME=postgres
# shellcheck source=images/lib/entrypoint-lib.sh
. /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
[ "$1" = postgres ] || exec "$@"
for arg in "$@"; do
  case "$arg" in
    --help | -'?' | --version | -V | --describe-config | -C) exec "$@" ;;
  esac
done

: "${PGDATA:?PGDATA is not set}"
SOCKET_DIR=/var/run/postgresql

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" "$SOCKET_DIR"
  chmod 00700 "$PGDATA"
  find "$PGDATA" \! -user postgres -exec chown postgres: '{}' +
  chown postgres: "$SOCKET_DIR"
  chmod 03775 "$SOCKET_DIR"
  ep_step_down postgres "$@"
fi

# nss_wrapper: a passwd entry for a uid the image does not know (initdb needs a user name)
NSS_FILES=()
with_passwd_entry() {
  if getent passwd "$(id -u)" >/dev/null; then return 0; fi
  local passwd group
  passwd="$(mktemp "${TMPDIR:-/tmp}/passwd.XXXXXX")"
  group="$(mktemp "${TMPDIR:-/tmp}/group.XXXXXX")"
  NSS_FILES=("$passwd" "$group")
  grep -v '^postgres:' /etc/passwd >"$passwd"
  echo "postgres:x:$(id -u):$(id -g):PostgreSQL:$PGDATA:/bin/false" >>"$passwd"
  cat /etc/group >"$group"
  getent group "$(id -g)" >/dev/null || echo "postgres:x:$(id -g):" >>"$group"
  export NSS_WRAPPER_PASSWD="$passwd" NSS_WRAPPER_GROUP="$group"
  export LD_PRELOAD="/usr/lib/x86_64-linux-gnu/libnss_wrapper.so${LD_PRELOAD:+ $LD_PRELOAD}"
}
without_passwd_entry() {
  if [ "${#NSS_FILES[@]}" -gt 0 ]; then
    rm -f "${NSS_FILES[@]}"
    unset NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    LD_PRELOAD="${LD_PRELOAD#/usr/lib/x86_64-linux-gnu/libnss_wrapper.so}"
    LD_PRELOAD="${LD_PRELOAD# }"
    if [ -n "$LD_PRELOAD" ]; then export LD_PRELOAD; else unset LD_PRELOAD; fi
  fi
}

# docker_process_sql [psql options]: SQL on stdin, as the superuser through the socket (the name
# the official image gives it, for sourced initdb scripts)
docker_process_sql() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" --dbname "${POSTGRES_DB}" "$@"
}

initialize() {
  ep_file_env POSTGRES_PASSWORD
  ep_file_env POSTGRES_USER postgres
  ep_file_env POSTGRES_DB "$POSTGRES_USER"
  ep_file_env POSTGRES_INITDB_ARGS
  local auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
    ep_die "PGDATA ($PGDATA) holds no database and no superuser password is given. Set POSTGRES_PASSWORD(_FILE), or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one (never in production)."
  fi
  if [ "$auth" = trust ]; then
    ep_warn "POSTGRES_HOST_AUTH_METHOD=trust: anyone who reaches the server connects without a password"
  fi

  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || ep_warn "cannot chmod 0700 $PGDATA (owned by $(stat -c %u "$PGDATA"))"
  ep_log "initializing the database cluster in $PGDATA"
  with_passwd_entry
  local -a initdb_args=(--username="$POSTGRES_USER")
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then initdb_args+=(--waldir="$POSTGRES_INITDB_WALDIR"); fi
  # shellcheck disable=SC2206 # POSTGRES_INITDB_ARGS is a list of options, split as the official image splits it
  initdb_args+=($POSTGRES_INITDB_ARGS)
  local out status=0
  if [ -n "$POSTGRES_PASSWORD" ]; then
    # the password through a pipe, never on a command line or in a file
    out="$(initdb "${initdb_args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") 2>&1)" || status=$?
  else
    out="$(initdb "${initdb_args[@]}" 2>&1)" || status=$?
  fi
  [ "$status" -eq 0 ] || ep_die "initdb failed in $PGDATA: $out"
  without_passwd_entry

  printf '\n# cdk8s-stateful image: every other host, by %s\nhost all all all %s\n' "$auth" "$auth" >>"$PGDATA/pg_hba.conf"

  local -a options=("${@:2}")
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w -o "$(printf '%q ' "${options[@]}" -c listen_addresses= -p "${PGPORT:-5432}")" start >/dev/null ||
    ep_die "the temporary server did not start"
  trap 'pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1' EXIT

  export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  if [ "$POSTGRES_DB" != postgres ]; then
    local exists
    local -a admin=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" --dbname postgres --set db="$POSTGRES_DB")
    exists="$("${admin[@]}" -tA <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
    if [ -z "$exists" ]; then
      "${admin[@]}" <<<'CREATE DATABASE :"db";' >/dev/null
    fi
  fi
  ep_run_initdb /docker-entrypoint-initdb.d docker_process_sql
  unset PGPASSWORD

  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null || ep_die "the temporary server did not stop"
  trap - EXIT
  ep_log "initialization done; starting the server"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initialize "$@"
fi
exec "$@"
