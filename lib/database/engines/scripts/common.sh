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
# at /run/secrets/db (one file per key) in every container, and a script that needs a password
# gets `<NAME>_FILE=/run/secrets/db/<key>` and reads it with `read_secret NAME`.

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

# read_secret NAME: sets the shell variable NAME to the content of the file that NAME_FILE names (a
# key of the mounted credentials Secret). NAME is not exported: the scripts' child processes do not
# see it unless a script hands it over on purpose. Trailing newlines are dropped, as the official
# images' entrypoints drop them from their own *_FILE variables, so both read the same password.
# Dies, naming the variable, the file and the fix, when NAME_FILE is unset or the file is missing,
# unreadable or empty.
read_secret() {
  local __name="$1" __file_var="$1_FILE" __file __value __key
  __file="${!__file_var:-}"
  if [ -z "$__file" ]; then
    die "$__file_var is not set: cannot read $__name, which comes from a file of the credentials Secret. Fix: give the StatefulDatabase credentials: { secret }."
  fi
  __key="$(basename "$__file")"
  if [ ! -e "$__file" ]; then
    die "$__file_var names $__file, which does not exist: the credentials Secret has no key '$__key'. Fix: add the key to the Secret (kubectl create secret generic ... --from-literal=$__key=...), or name the key it has in DatabaseCredentials."
  fi
  if [ ! -f "$__file" ] || [ ! -r "$__file" ]; then
    die "$__file_var names $__file, which uid $(id -u) (groups $(id -G | tr ' ' ,)) cannot read as a file. Fix: keep the pod's fsGroup, the group the Secret volume's files belong to."
  fi
  __value="$(<"$__file")" || die "cannot read $__file ($__file_var)"
  if [ -z "$__value" ]; then
    die "$__file ($__file_var) is empty: the key '$__key' of the credentials Secret holds no password. Fix: put the password in the Secret."
  fi
  printf -v "$__name" '%s' "$__value"
}

# sql_quote VALUE: VALUE escaped for a single-quoted MySQL/MariaDB string literal.
sql_quote() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\'/\'\'}"
  printf '%s' "$v"
}

# mysql_password_file PASSWORD: writes a private client option file holding PASSWORD, prints its path.
mysql_password_file() {
  local file v="$1"
  file="$(umask 077 && mktemp "${TMPDIR:-/tmp}/client.XXXXXX")"
  v="${v//\\/\\\\}"
  v="${v//\"/\\\"}"
  printf '[client]\nuser=root\npassword="%s"\n' "$v" >"$file"
  echo "$file"
}

# require_single_line NAME VALUE: config files cannot hold a newline in a value.
require_single_line() {
  case "$2" in
    *$'\n'*) die "$1 contains a line break, which the config file cannot hold. Fix: use a single-line value in the Secret." ;;
  esac
}
