#!/usr/bin/env bash
# MySQL with Group Replication (DatabaseEngine.mysql({ groupReplication })): the member's side, on
# the MySQL image. The group elects its primary by its own consensus; these commands only start
# the server's part in it and report what the group decided.
#
#   config      init container `config`: writes the server config (GTIDs, the group plugin, this
#               member's group address, the seeds) into CONFIG_DIR.
#   member      sidecar `group`: keeps the local server in the group. Whenever the server runs
#               (networking on, so not the image's first-start server) and is not in the group, it
#               starts Group Replication with the recovery account's password given in the
#               statement (START GROUP_REPLICATION USER=..., PASSWORD=...: never stored on disk).
#               It bootstraps the group only when GROUP_DIR/bootstrap exists, which the `lease`
#               init container writes when it created the group's Lease (exactly one member ever
#               does), consumes that file first, and has the `label` sidecar mark the Lease
#               bootstrapped (a compare-and-swap that fails if a reboot took it meanwhile). A member whose data directory holds no
#               transaction joins by cloning a member (group_replication_clone_threshold). Every
#               second it writes the local member's role to GROUP_DIR/role (primary, replica or
#               none), which the `label` sidecar mirrors onto the pod's role label.
#   ready       readiness: the local member is ONLINE in a group that has a majority of its members.
#   live        liveness and startup: the server answers a ping on its socket.
#   leave       preStop: leaves the group, so that it elects another primary at once.
#
# A full outage (every member stopped: no group is left to join) ends with a reboot: a member not
# in the group that finds every other member answering, none of them in a group, and itself
# holding every transaction any of them holds (the lowest ordinal among equals) asks the `label`
# sidecar to take the group's Lease (a compare-and-swap: only once the group was bootstrapped);
# only with the Lease does it bootstrap the group again, from its data, and the others join it.
# While any member does not answer, no member reboots the group: the missing one may hold the
# latest transactions (docs/engines.md, the operator's procedure).
#
# Environment: GROUP_NAME (the group's UUID), GROUP_PORT (33061), GROUP_ALLOWLIST, GROUP_DIR,
# MEMBER_EXPEL_TIMEOUT, UNREACHABLE_MAJORITY_TIMEOUT; PEERS and the pod identity (common.sh).
# Passwords come from the credentials Secret's files (ROOT_KEY, REPLICATION_KEY) and reach the
# client through a pipe or its stdin, never argv or a file.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

GROUP_DIR="${GROUP_DIR:-/var/run/cdk8s-group}"
GROUP_PORT="${GROUP_PORT:-33061}"
REPLICATION_USER="${MYSQL_REPLICATION_USER:-replicator}"

# self_address: this member's DNS name, also past the synthesized members (a scale-up)
self_address() {
  local self first host
  self="$(peer_address "$(pod_ordinal)" || true)"
  if [ -z "$self" ]; then
    first="$(peer_address "$(start_ordinal)")" || die "mysql: no members in PEERS='${PEERS:-}'"
    host="${HOSTNAME:-$(hostname)}"
    self="${host%%.*}.${first#*.}"
  fi
  echo "$self"
}

write_config() {
  local dir="${CONFIG_DIR:-/etc/mysql/conf.d}" self seeds="" peer ordinal
  : "${GROUP_NAME:?GROUP_NAME is not set}"
  ordinal="$(pod_ordinal)"
  self="$(self_address)"
  for peer in ${PEERS:-}; do seeds="${seeds:+$seeds,}$peer:$GROUP_PORT"; done
  mkdir -p "$dir"
  {
    echo "# Written by cdk8s-stateful mysql-group.sh for ordinal $ordinal."
    echo "[mysqld]"
    echo "datadir=${DATA_DIR:-/var/lib/mysql/data}"
    # server-id 0 is reserved: offset every ordinal by 100
    echo "server-id=$((100 + ordinal))"
    echo "gtid_mode=ON"
    echo "enforce_gtid_consistency=ON"
    echo "log_bin=binlog"
    echo "relay_log=relay-bin"
    echo "report_host=$self"
    echo "plugin-load-add=group_replication.so"
    echo "plugin-load-add=mysql_clone.so"
    # the group's options are loose-: the image's first-start servers may run before the plugin loads
    echo "loose-group_replication_group_name=$GROUP_NAME"
    # started by the `group` sidecar with the password in the statement, not stored for a boot start
    echo "loose-group_replication_start_on_boot=OFF"
    echo "loose-group_replication_bootstrap_group=OFF"
    echo "loose-group_replication_single_primary_mode=ON"
    echo "loose-group_replication_communication_stack=XCOM"
    echo "loose-group_replication_local_address=$self:$GROUP_PORT"
    echo "loose-group_replication_group_seeds=$seeds"
    echo "loose-group_replication_ip_allowlist=${GROUP_ALLOWLIST:-AUTOMATIC}"
    # the group's messages and the recovery connections are encrypted (the server's own certificate)
    echo "loose-group_replication_ssl_mode=REQUIRED"
    echo "loose-group_replication_recovery_use_ssl=ON"
    # a member silent for 5 s is suspected, then expelled after this many more seconds
    echo "loose-group_replication_member_expel_timeout=${MEMBER_EXPEL_TIMEOUT:-0}"
    # a primary cut off from the majority leaves the group (read-only, its blocked commits rolled
    # back) after this many seconds instead of waiting forever; the sidecar rejoins it once healed
    echo "loose-group_replication_unreachable_majority_timeout=${UNREACHABLE_MAJORITY_TIMEOUT:-10}"
    echo "loose-group_replication_exit_state_action=READ_ONLY"
    echo "loose-group_replication_autorejoin_tries=0"
    # a new primary applies what the old one committed before it takes writes or serves reads
    echo "loose-group_replication_consistency=BEFORE_ON_PRIMARY_FAILOVER"
    write_extra_config
  } >"$dir/.cdk8s.cnf.tmp"
  mv "$dir/.cdk8s.cnf.tmp" "$dir/cdk8s.cnf"
  log "mysql: wrote $dir/cdk8s.cnf (ordinal $ordinal, group address $self:$GROUP_PORT, seeds $seeds)"
}

# local_sql ARGS...: the mysql client on the local socket as root, batch output
local_sql() {
  mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=socket --connect-timeout=3 -N -B "$@"
}

# member_state: "STATE ROLE ONLINE TOTAL NETWORKING" of the local member, or nothing when the server does not answer
member_state() {
  local_sql -e "SELECT IFNULL(MAX(IF(MEMBER_ID = @@server_uuid, MEMBER_STATE, NULL)), 'OFFLINE'),
      IFNULL(MAX(IF(MEMBER_ID = @@server_uuid, NULLIF(MEMBER_ROLE, ''), NULL)), '-'),
      IFNULL(SUM(MEMBER_STATE = 'ONLINE'), 0), COUNT(*), 1 - @@skip_networking
    FROM performance_schema.replication_group_members" 2>/dev/null || true
}

# role_of STATE: primary or replica when ONLINE in a group that has a majority; none otherwise
role_of() {
  local state role online total
  read -r state role online total _ <<<"$1"
  if [ "${state:-}" != ONLINE ] || [ $((online * 2)) -le "$total" ]; then
    echo none
  elif [ "$role" = PRIMARY ]; then
    echo primary
  else
    echo replica
  fi
}

write_role() {
  printf '%s\n' "$1" >"$GROUP_DIR/.role.tmp"
  mv -f "$GROUP_DIR/.role.tmp" "$GROUP_DIR/role"
}

# join STATE [bootstrap]: starts Group Replication; with `bootstrap`, bootstraps the group
join() {
  local state="$1" executed bootstrap=false threshold=9223372036854775807 rc=0
  [ "${2:-}" != bootstrap ] || bootstrap=true
  executed="$(local_sql -e 'SELECT @@GLOBAL.gtid_executed')" || return 1
  executed="${executed//\\n/}"
  if [ -z "$executed" ] && [ "$bootstrap" = false ]; then
    # no transaction at all (a new member or a lost volume): copy a member's data with the clone plugin
    threshold=1
  fi
  read_secret REPLICATION_PASSWORD REPLICATION_KEY
  log "mysql: $([ "$bootstrap" = true ] && echo 'bootstrapping the group (this member holds its Lease)' || echo 'joining the group') from state ${state%% *}$([ "$threshold" = 1 ] && echo ', by cloning a member (no local transactions)')"
  {
    case "$state" in ERROR*) echo "STOP GROUP_REPLICATION;" ;; esac
    # read-only from every start on until the group elects this member (a clone replaces the setting)
    echo "SET PERSIST super_read_only = ON;"
    echo "SET GLOBAL group_replication_clone_threshold = $threshold;"
    if [ "$bootstrap" = true ]; then echo "SET GLOBAL group_replication_bootstrap_group = ON;"; fi
    echo "START GROUP_REPLICATION USER = '$(sql_quote "$REPLICATION_USER")', PASSWORD = '$(sql_quote "$REPLICATION_PASSWORD")';"
  } | local_sql || rc=$?
  if [ "$bootstrap" = true ]; then local_sql -e 'SET GLOBAL group_replication_bootstrap_group = OFF' || true; fi
  unset REPLICATION_PASSWORD
  return "$rc"
}

# peer_sql HOST ARGS...: the mysql client on member HOST as root, batch output
peer_sql() {
  local h="$1"
  shift
  mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") -h"$h" -P"${MYSQL_PORT:-3306}" --connect-timeout=3 -N -B "$@"
}

# POSITION: a member's local member state, and the transactions it holds, applied or received (its
# relay log applies them when it starts Group Replication), as one GTID set (empty when none; the
# state comes first: read splits tabs as whitespace and would drop an empty first field).
POSITION="SELECT IFNULL((SELECT MAX(MEMBER_STATE) FROM performance_schema.replication_group_members WHERE MEMBER_ID = @@server_uuid), 'OFFLINE'),
  REPLACE(CONCAT_WS(',', NULLIF(@@GLOBAL.gtid_executed, ''), NULLIF((SELECT MAX(RECEIVED_TRANSACTION_SET)
    FROM performance_schema.replication_connection_status WHERE CHANNEL_NAME = 'group_replication_applier'), '')), '\n', '')"

# outage_verdict: what a member that is not in the group does, from its peers' own states:
#   join    a peer is in a group (ONLINE or RECOVERING): join it
#   wait    no peer that answers is in a group, and a peer does not answer (it may hold the latest
#           transactions), or another member holds more: no group to join yet, ask again shortly
#   reboot  every peer answers, none is in a group, and this member holds every transaction any
#           of them holds (the lowest ordinal among equals): the one member that may bootstrap
#           the group again after a full outage. Transactions the group committed are on a
#           majority, so the member with the most holds them all.
outage_verdict() {
  local mine peer theirs state ordinal self start subset verdict=reboot
  self="$(pod_ordinal)"
  start="$(start_ordinal)"
  mine="$(local_sql -e "$POSITION" | cut -f2)" || { echo wait; return; }
  [ "$mine" != NULL ] || mine=''
  ordinal="$start"
  for peer in ${PEERS:-}; do
    if [ "$ordinal" -ne "$self" ]; then
      IFS=$'\t' read -r state theirs < <(peer_sql "$peer" -e "$POSITION" 2>/dev/null || echo UNKNOWN)
      case "$state" in
        ONLINE | RECOVERING) echo join; return ;;
        OFFLINE | ERROR)
          [ "$theirs" != NULL ] || theirs=''
          subset="$(local_sql -e "SELECT GTID_SUBSET('$theirs', '$mine'), GTID_SUBSET('$mine', '$theirs')")" || subset=''
          case "$subset" in
            1$'\t'0) ;;
            1$'\t'1) [ "$self" -lt "$ordinal" ] || verdict='wait' ;;
            *) verdict='wait' ;;
          esac ;;
        *) verdict='wait' ;;
      esac
    fi
    ordinal=$((ordinal + 1))
  done
  # a member that holds no transaction never reboots: if no member holds one, the group has not
  # run yet and its bootstrap by the Lease's creator may be under way (a reboot would start a
  # second group beside it)
  if [ "$verdict" = reboot ] && [ -z "$mine" ]; then verdict='wait'; fi
  [ "$verdict" != reboot ] || log "mysql: no member is in a group, and this one holds every transaction any of them holds ($mine)"
  echo "$verdict"
}

# lease_granted KIND: asks the `label` sidecar to take the group's Lease for KIND (bootstrap: the
# first bootstrap by the Lease's creator; reboot: after a full outage) as a compare-and-swap at
# the version it reads; true when it answered that this member holds it now
lease_granted() {
  local answer='' waited=0
  rm -f "$GROUP_DIR/lease.granted" "$GROUP_DIR/lease.denied"
  printf '%s\n' "$1" >"$GROUP_DIR/.lease.request.tmp"
  mv -f "$GROUP_DIR/.lease.request.tmp" "$GROUP_DIR/lease.request"
  while [ "$waited" -lt 30 ]; do
    if [ -f "$GROUP_DIR/lease.granted" ]; then answer=granted; break; fi
    if [ -f "$GROUP_DIR/lease.denied" ]; then answer=denied; break; fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$GROUP_DIR/lease.request" "$GROUP_DIR/lease.granted" "$GROUP_DIR/lease.denied"
  [ "$answer" = granted ]
}

# start_member STATE: joins the group; bootstraps it only with the Lease's creator's decision,
# consumed before the attempt (a crash half-way never leads to a second bootstrap), and only
# while the Lease still says nobody bootstrapped
start_member() {
  if [ -f "$GROUP_DIR/bootstrap" ]; then
    mv -f "$GROUP_DIR/bootstrap" "$GROUP_DIR/bootstrap.consumed"
    if lease_granted bootstrap; then
      join "$1" bootstrap
      return
    fi
    log "mysql: the group's Lease no longer waits for this member's bootstrap: joining instead"
  fi
  case "$(outage_verdict)" in
    reboot)
      if lease_granted reboot; then
        log "mysql: took the group's Lease to reboot the group from this member"
        join "$1" bootstrap
        return
      fi ;;
    # no group to join (a join would wait a minute for one): ask again in a second
    wait) return 0 ;;
  esac
  join "$1"
}

member_loop() {
  # PID 1 of its container: without a handler SIGTERM would be ignored until the grace period ends
  trap 'exit 0' TERM INT
  mkdir -p "$GROUP_DIR"
  write_role none
  local state role last=''
  while :; do
    state="$(member_state)"
    role="$(role_of "${state:-OFFLINE - 0 0 0}")"
    write_role "$role"
    if [ "$role" != "$last" ]; then log "mysql: local member ${state:-not answering}: role $role"; last="$role"; fi
    case "$state" in
      OFFLINE*1 | ERROR*1)
        start_member "$state" || log "mysql: could not start Group Replication; retrying" ;;
    esac
    sleep "${MEMBER_INTERVAL:-1}"
  done
}

case "${1:-}" in
  config) write_config ;;
  member)
    read_secret ROOT_PASSWORD ROOT_KEY
    member_loop
    ;;
  ready)
    read_secret ROOT_PASSWORD ROOT_KEY
    state="$(member_state)"
    role="$(role_of "${state:-OFFLINE - 0 0 0}")"
    [ "$role" != none ] || die "mysql: the local member is not ONLINE in a group with a majority (${state:-the server does not answer})"
    ;;
  live) mysqladmin --protocol=socket --connect-timeout=3 ping >/dev/null ;;
  leave)
    read_secret ROOT_PASSWORD ROOT_KEY
    local_sql -e 'STOP GROUP_REPLICATION' || log "mysql: could not leave the group before stopping; it expels this member"
    ;;
  *) die "usage: $0 config|member|ready|live|leave" ;;
esac
