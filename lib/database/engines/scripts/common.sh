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
