# shellcheck shell=bash
# Helpers shared by the cdk8s-stateful engine scripts. Sourced, never executed.
#
# Every script learns who it is and who its peers are from the same environment:
#   POD_INDEX      the pod's `apps.kubernetes.io/pod-index` label through the downward API
#                  (Kubernetes 1.28+). Empty on older clusters: the hostname `<set>-<ordinal>`
#                  gives the ordinal instead.
#   START_ORDINAL  the StatefulSet's first ordinal (`spec.ordinals.start`), 0 unless set.
#   PEERS          every member's DNS name in ordinal order, space-separated, synthesized from
#                  the headless Service: the only source of peer addresses.
# Paths (DATA_DIR, CONFIG_DIR, ...) default to where the pod mounts them and can be overridden,
# which is how the tests run these scripts in a temporary directory.
#
# Passwords are never in the environment. StatefulDatabase mounts the credentials Secret read-only
# at /run/secrets/db (one file per key) in every container: KEYS_DIR names that directory and a
# `<WHAT>_KEY` variable (ROOT_KEY, REPLICATION_KEY, USERNAME_KEY, PW_KEY) names the key, which a
# script reads with `read_secret NAME <WHAT>_KEY`. `key_file <WHAT>_KEY` is the file's path, for the
# images' own `*_FILE` variables, which the start scripts export right before the entrypoint.

log() {
  printf '%s [cdk8s-stateful] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# pod_ordinal: the ordinal of this pod.
pod_ordinal() {
  local ordinal="${POD_INDEX:-}" host
  if [ -z "$ordinal" ]; then
    host="${HOSTNAME:-$(hostname)}"
    host="${host%%.*}"
    ordinal="${host##*-}"
  fi
  case "$ordinal" in
    '' | *[!0-9]*) die "cannot tell this pod's ordinal: POD_INDEX='${POD_INDEX:-}', hostname='${HOSTNAME:-}' (expected <set>-<ordinal>)" ;;
  esac
  echo "$((10#$ordinal))"
}

# start_ordinal: the first ordinal of the set.
start_ordinal() {
  local start="${START_ORDINAL:-0}"
  case "$start" in
    '' | *[!0-9]*) die "START_ORDINAL must be a whole number, got '$start'" ;;
  esac
  echo "$((10#$start))"
}

# peer_count: how many members the set was synthesized with.
peer_count() {
  local -a peers
  read -r -a peers <<<"${PEERS:-}"
  echo "${#peers[@]}"
}

# peer_address ORDINAL: the DNS name of the member with this ordinal; fails outside the set.
peer_address() {
  local -a peers
  read -r -a peers <<<"${PEERS:-}"
  local index=$(($1 - $(start_ordinal)))
  if [ "$index" -lt 0 ] || [ "$index" -ge "${#peers[@]}" ]; then
    return 1
  fi
  echo "${peers[$index]}"
}

# tcp_open HOST PORT: whether something accepts TCP connections there (PROBE_TIMEOUT seconds, 2 by default).
tcp_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout "${PROBE_TIMEOUT:-2}" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# reachable_peer PORT EXCEPT_ORDINAL: prints the first other member that accepts connections on PORT.
reachable_peer() {
  local port="$1" except="$2" start ordinal peer
  start="$(start_ordinal)"
  ordinal="$start"
  for peer in ${PEERS:-}; do
    if [ "$ordinal" -ne "$except" ] && tcp_open "$peer" "$port"; then
      echo "$peer"
      return 0
    fi
    ordinal=$((ordinal + 1))
  done
  return 1
}

# key_file KEY_VAR: the path of the Secret's file that KEY_VAR names (KEYS_DIR/<key>). Dies, naming
# the variable and the fix, when either is unset.
key_file() {
  local __var="$1" __key
  __key="${!__var:-}"
  if [ -z "$__key" ] || [ -z "${KEYS_DIR:-}" ]; then
    die "$__var or KEYS_DIR is not set: cannot find the password, which comes from a file of the credentials Secret. Fix: give the StatefulDatabase credentials: { secret }."
  fi
  echo "$KEYS_DIR/$__key"
}

# read_secret NAME KEY_VAR: sets the shell variable NAME to the content of the Secret's file that
# KEY_VAR names (key_file). NAME is not exported: the scripts' child processes do not see it unless a
# script hands it over on purpose. Trailing newlines are dropped, as the official images'
# entrypoints drop them from their own *_FILE variables, so both read the same password. Dies,
# naming the variable, the file and the fix, when the file is missing, unreadable or empty.
read_secret() {
  local __name="$1" __var="$2" __file __value __key
  __file="$(key_file "$__var")" || exit 1
  __key="$(basename "$__file")"
  if [ ! -e "$__file" ]; then
    die "$__var names $__file, which does not exist: the credentials Secret has no key '$__key'. Fix: add the key to the Secret (kubectl create secret generic ... --from-literal=$__key=...), or name the key it has in DatabaseCredentials."
  fi
  if [ ! -f "$__file" ] || [ ! -r "$__file" ]; then
    die "$__var names $__file, which uid $(id -u) (groups $(id -G | tr ' ' ,)) cannot read as a file. Fix: keep the pod's fsGroup, the group the Secret volume's files belong to."
  fi
  __value="$(<"$__file")" || die "cannot read $__file ($__var)"
  if [ -z "$__value" ]; then
    die "$__file ($__var) is empty: the key '$__key' of the credentials Secret holds no password. Fix: put the password in the Secret."
  fi
  printf -v "$__name" '%s' "$__value"
}

# has_key KEY_VAR: whether the Secret has the key KEY_VAR names (optional keys, e.g. an application user).
has_key() {
  [ -n "${!1:-}" ] && [ -n "${KEYS_DIR:-}" ] && [ -s "$KEYS_DIR/${!1}" ]
}

# sql_quote VALUE: VALUE escaped for a single-quoted MySQL/MariaDB string literal.
sql_quote() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\'/\'\'}"
  printf '%s' "$v"
}

# mysql_options PASSWORD [USER]: a client option group holding PASSWORD as USER (root), for
# `--defaults-extra-file=<(mysql_options "$pw")`: the client reads it from a pipe, so the password is
# never written to disk nor put on a command line.
mysql_options() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\"/\\\"}"
  printf '[client]\nuser=%s\npassword="%s"\n' "${2:-root}" "$v"
}

# require_single_line NAME VALUE: config files cannot hold a newline in a value.
require_single_line() {
  case "$2" in
    *$'\n'*) die "$1 contains a line break, which the config file cannot hold. Fix: use a single-line value in the Secret." ;;
  esac
}

# write_extra_config: the engine settings given in the database's props (the file engine.conf of
# the scripts ConfigMap, rendered and checked at synth time), if there are any.
write_extra_config() {
  local file="${SCRIPTS_DIR:-$(dirname "$0")}/engine.conf"
  if [ -f "$file" ]; then
    echo "# engine settings from the app (engine.conf)"
    cat "$file"
  fi
}

# founded: whether the set was ever founded, as the init container `founding` read it from the
# API server (founding.sh, the Lease <set>-founded): `found` (this member founds it), `present`
# (founded from another volume) or `absent`.
founded() {
  local state
  state="$(cat "${FOUNDED_FILE:?FOUNDED_FILE is not set: the init container founding decides whether the set was founded}" 2>/dev/null)" ||
    die "cannot read $FOUNDED_FILE: the init container founding did not record whether the set was founded"
  echo "$state"
}

# find_source: for a primary whose data directory is empty. Fails at once when this member
# founds the set (`founded` says found: a new data set). Otherwise the set holds data somewhere:
# asks every other member what it holds, with the engine script's `peer_position HOST` (prints a
# number, 0 when it serves but holds no data; fails when it cannot tell), until one holds data,
# and prints the one with the highest position: the primary must become a copy of it, never the
# empty source of truth the others would follow. A member that refuses connections or does not
# answer may be loading, crash-looping or partitioned, never "empty": the search has no time limit.
find_source() {
  local waited=0 ordinal peer position best best_position silent empty
  if [ "$(founded)" = found ]; then
    log "this member founds the set (it created the Lease ${SET_NAME:-<set>}-founded): a new data set"
    return 1
  fi
  ordinal="$(pod_ordinal)"
  while :; do
    best="" best_position=0 silent="" empty=""
    for peer in ${PEERS:-}; do
      [ "$peer" = "$(peer_address "$ordinal" || true)" ] && continue
      if position="$(peer_position "$peer")" && [ -n "$position" ]; then
        if [ "$position" -gt "$best_position" ]; then best="$peer" best_position="$position"; else empty="$empty $peer"; fi
      else
        silent="$silent $peer"
      fi
    done
    if [ -n "$best" ]; then
      log "$best holds data (position $best_position), the most of the members that answered"
      echo "$best"
      return 0
    fi
    if [ $((waited % 30)) -lt "${POLL_SECONDS:-2}" ]; then
      log "the set was founded (Lease ${SET_NAME:-<set>}-founded) and this member's data directory is empty: waiting for a member with data to copy (no answer from:${silent:- none}; empty:${empty:- none}). It never starts a new data set by itself; if every volume of the set is lost and a new, empty set is what you want, delete that Lease"
    fi
    sleep "${POLL_SECONDS:-2}"
    waited=$((waited + ${POLL_SECONDS:-2}))
  done
}

# await_serving HOST PORT: waits until HOST accepts connections on PORT (a donor, the primary).
await_serving() {
  local waited=0
  until tcp_open "$1" "$2"; do
    if [ $((waited % 30)) -lt "${POLL_SECONDS:-2}" ]; then log "waiting for $1:$2"; fi
    sleep "${POLL_SECONDS:-2}"
    waited=$((waited + ${POLL_SECONDS:-2}))
  done
}

# slot_name POD: a PostgreSQL replication slot name for a pod (lower case letters, digits, '_').
slot_name() {
  local name="${1%%.*}"
  name="${name//[^a-z0-9]/_}"
  echo "${name:0:63}"
}
