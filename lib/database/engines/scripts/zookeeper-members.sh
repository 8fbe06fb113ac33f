#!/usr/bin/env bash
# ZooKeeper, beside the server in the database container (zookeeper-start.sh): the member's part in
# the ensemble's membership, every few seconds, all through ZooKeeper's own `reconfig`, which the
# leader commits only with a quorum of the old and of the new config (one change at a time):
#   - a member that is not a voter of the config it serves under (a joiner: an empty volume that
#     synced from the leader as a non-voting follower) has the quorum add it, removing in the same
#     step any older id of its ordinal (a replaced volume);
#   - the leader removes the members whose ordinal is at or above the StatefulSet's replica count
#     (REPLICAS_FILE, kept by the sidecar `members` from the API server): those a scale-down took
#     away. While they stop the others remain a majority of the config (the change guard refuses a
#     scale-down that keeps fewer), and the leader then takes them out of it.
# Each decision reads the local server's committed config (`conf`); a stale read only makes a
# reconfig that the leader refuses or that changes nothing.
set -uo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/data}"
CLIENT_PORT="${CLIENT_PORT:-2181}"
PEER_PORT="${PEER_PORT:-2888}"
ELECTION_PORT="${ELECTION_PORT:-3888}"
: "${MEMBER_DOMAIN:?MEMBER_DOMAIN is not set}" "${ADMIN_DIR:?ADMIN_DIR is not set}" "${REPLICAS_FILE:?REPLICAS_FILE is not set}"
INTERVAL="${MEMBERS_INTERVAL:-5}"

# four_letter_word WORD: the local server's answer
four_letter_word() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "%s" "$1" >&3; cat <&3' "$CLIENT_PORT" "$1" 2>/dev/null
}

# reconfig ARGS...: `reconfig ARGS` as this member's superuser, through the local server
reconfig() {
  printf 'addauth digest cdk8s:%s\nreconfig %s\nquit\n' "$(cat "$ADMIN_DIR/password")" "$*" |
    ZOO_LOG_DIR=/tmp CLIENT_JVMFLAGS=-Xmx64m timeout 60 zkCli.sh -server "127.0.0.1:$CLIENT_PORT" 2>&1 |
    grep -E '^version=|Exception|rror' | tail -n 3
}

# server_ids: the ids of the server lines on stdin, space-separated
server_ids() { sed -n 's/^server\.\([0-9]*\)=.*/\1/p' | tr '\n' ' '; }

# ordinal_of SID
ordinal_of() { echo $((($1 % 1000) - 1)); }

reconcile() {
  local sid conf mode replicas line id ordinal stale=''
  sid="$(cat "$DATA_DIR/myid")"
  ordinal="$(ordinal_of "$sid")"
  conf="$(four_letter_word conf)" || return 0
  mode="$(four_letter_word srvr | sed -n 's/^Mode: //p')"
  [ -n "$mode" ] || return 0 # not serving: nothing to decide
  replicas="$(cat "$REPLICAS_FILE" 2>/dev/null || true)"
  case "$replicas" in '' | *[!0-9]*) replicas='' ;; esac
  if ! grep -q "^server\.$sid=.*:participant;" <<<"$conf"; then
    if [ -n "$replicas" ] && [ "$ordinal" -ge "$((replicas + ${START_ORDINAL:-0}))" ]; then return 0; fi
    for id in $(server_ids <<<"$conf"); do
      [ "$id" != "$sid" ] && [ "$(ordinal_of "$id")" -eq "$ordinal" ] && stale="${stale:+$stale,}$id"
    done
    line="server.$sid=${HOSTNAME%%.*}.$MEMBER_DOMAIN:$PEER_PORT:$ELECTION_PORT:participant;$CLIENT_PORT"
    log "zookeeper: server $sid serves as a non-voter ($mode): asking the quorum to add it${stale:+, removing $stale}"
    reconfig ${stale:+-remove "$stale"} -add "$line" >&2
    return 0
  fi
  [ "$mode" = leader ] && [ -n "$replicas" ] || return 0
  local gone=''
  for id in $(server_ids <<<"$conf"); do
    [ "$(ordinal_of "$id")" -ge "$((replicas + ${START_ORDINAL:-0}))" ] && gone="${gone:+$gone,}$id"
  done
  if [ -n "$gone" ]; then
    log "zookeeper: the set has $replicas members: removing servers $gone from the ensemble"
    reconfig -remove "$gone" >&2
  fi
}

# as long as the server runs
while kill -0 "${SERVER_PID:-$PPID}" 2>/dev/null; do
  sleep "$INTERVAL"
  reconcile
done
