# shellcheck shell=bash
# Shared by the entrypoints of cdk8s-stateful's test images (installed at
# /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh). Sourced, never executed.

ep_log() { printf '%s [Entrypoint] [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${EP_NAME:-image}" "$*" >&2; }
ep_warn() { ep_log "Warning: $*"; }
ep_die() { ep_log "ERROR: $*"; exit 1; }

# ep_file_env VAR [DEFAULT]: VAR from the file VAR_FILE names (trailing newlines dropped), or
# VAR as given, or DEFAULT. Exports VAR and unsets VAR_FILE. Setting both is an error.
ep_file_env() {
  local var="$1" file_var="$1_FILE" default="${2:-}" value
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    ep_die "both $var and $file_var are set; they are exclusive: keep one"
  fi
  value="$default"
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || ep_die "$file_var names ${!file_var}, which uid $(id -u) (groups $(id -G | tr ' ' ,)) cannot read"
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

# ep_server_config SERVER [ARG...]: reads the configuration the server (mysqld, mariadbd) takes
# with these arguments from its `--verbose --help`; a configuration it refuses stops here with
# its message. ep_server_option reads from it.
EP_SERVER_HELP=''
ep_server_config() {
  local err
  if ! err="$("$@" --verbose --help 2>&1 >/dev/null)"; then
    ep_die "the server refuses its configuration ($*): $err"
  fi
  EP_SERVER_HELP="$("$@" --verbose --help 2>/dev/null)"
}

# ep_server_option NAME: the value the server uses for option NAME (the table of variables that
# ends its help text; see ep_server_config)
ep_server_option() {
  awk -v name="$1" '/^Variables \(--variable-name=value\)/ { table = 1 }
    table && NF == 2 && $1 == name && !found { print $2; found = 1 }' <<<"$EP_SERVER_HELP"
}

# ep_first_set VAR...: the first of the named variables that is set and non-empty
ep_first_set() {
  local var
  for var in "$@"; do
    if [ -n "${!var:-}" ]; then printf '%s' "${!var}"; return 0; fi
  done
  return 0
}

# ep_step_down USER "$@": run as root, re-executes the entrypoint as USER (the official images do
# this with gosu; here setpriv from util-linux). Anyone else carries on as they are.
ep_step_down() {
  local user="$1"
  shift
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all "$0" "$@"
  fi
}

# ep_run_initdb DIR SQL_RUNNER: runs the files of DIR (default /docker-entrypoint-initdb.d) in
# name order: *.sh executed when executable, else sourced; *.sql, *.sql.gz, *.sql.xz and
# *.sql.zst piped into SQL_RUNNER (a function reading SQL on stdin). Other files are ignored.
ep_run_initdb() {
  local dir="$1" runner="$2" f
  [ -d "$dir" ] || return 0
  for f in "$dir"/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          ep_log "running $f"
          "$f"
        else
          ep_log "sourcing $f"
          # shellcheck source=/dev/null
          . "$f"
        fi
        ;;
      *.sql) ep_log "running $f"; "$runner" <"$f" ;;
      *.sql.gz) ep_log "running $f"; gzip -dc "$f" | "$runner" ;;
      *.sql.xz) ep_log "running $f"; xz -dc "$f" | "$runner" ;;
      *.sql.zst) ep_log "running $f"; zstd -dc "$f" | "$runner" ;;
      *) ep_log "ignoring $f" ;;
    esac
  done
}
