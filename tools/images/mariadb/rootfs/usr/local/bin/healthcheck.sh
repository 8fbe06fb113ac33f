#!/usr/bin/env bash
# healthcheck.sh of cdk8s-stateful's mariadb test image (see docs/contributing/images.md): the official
# image's probe interface, for the tests it names, run in order; exits 0 when every one passes.
#   --connect                     the server accepts a TCP connection (a refused login counts:
#                                 the server is up; the socket-only temporary server of the
#                                 entrypoint does not)
#   --innodb_initialized          InnoDB is available
#   --innodb_buffer_pool_loaded   the buffer pool load at startup is complete
#   --galera_online               this Galera member is Synced (wsrep_local_state 4)
#   --datadir=DIR                 where .my-healthcheck.cnf is (default: the server's datadir)
#   --defaults-extra-file=FILE, --no-defaults   client options
# Credentials: DIR/.my-healthcheck.cnf, which the entrypoint writes when it initializes. Other
# tests of the official script (replication ones, --su, --mariadbupgrade) fail as unsupported.
set -uo pipefail

die() { echo "healthcheck: $*" >&2; exit 1; }

tests=()
datadir=''
client=()
for arg in "$@"; do
  case "$arg" in
    --connect | --innodb_initialized | --innodb_buffer_pool_loaded | --galera_online) tests+=("${arg#--}") ;;
    --datadir=*) datadir="${arg#*=}" ;;
    --defaults-extra-file=* | --defaults-file=* | --defaults-group-suffix=*) client+=("$arg") ;;
    --no-defaults) client=(--no-defaults "${client[@]}") ;;
    *) die "$arg is not supported by this test image's healthcheck.sh (see docs/contributing/images.md)" ;;
  esac
done
[ "${#tests[@]}" -gt 0 ] || die "no test given (e.g. --connect --innodb_initialized)"

if [ -z "$datadir" ]; then
  datadir="$(my_print_defaults --mysqld mariadbd 2>/dev/null | sed -n 's/^--datadir=//p' | tail -n 1)"
  datadir="${datadir:-/var/lib/mysql}"
fi
if [ -r "$datadir/.my-healthcheck.cnf" ] && [ "${client[0]:-}" != --no-defaults ]; then
  client=(--defaults-extra-file="$datadir/.my-healthcheck.cnf" "${client[@]}")
fi

# query SQL: the single value it selects, over TCP as the healthcheck user
query() {
  mariadb "${client[@]}" --protocol=tcp -h localhost --connect-timeout=3 -N -B -e "$1"
}

for t in "${tests[@]}"; do
  case "$t" in
    connect)
      out="$(mariadb "${client[@]}" --protocol=tcp -h localhost --connect-timeout=3 -e 'SELECT 1' 2>&1)"
      if grep -q "Can't connect" <<<"$out"; then die "connect: $out"; fi
      ;;
    innodb_initialized)
      [ "$(query "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE = 'InnoDB' AND SUPPORT IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ] ||
        die "innodb_initialized: InnoDB is not available"
      ;;
    innodb_buffer_pool_loaded)
      query "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_LOAD_STATUS'" |
        grep -Eq 'complete|not started' || die "innodb_buffer_pool_loaded: the buffer pool is still loading"
      ;;
    galera_online)
      [ "$(query "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE'")" = 4 ] ||
        die "galera_online: this member is not Synced"
      ;;
  esac
done
exit 0
