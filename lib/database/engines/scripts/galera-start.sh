#!/usr/bin/env bash
# MariaDB Galera, the database container's command. Runs at every start of the container (init
# containers do not rerun when only the container restarts), decides how this member starts, then
# hands over to the image's entrypoint. The members start in parallel and agree without an
# operator:
#
#   1. A member that finds another member Synced joins it (IST or SST): a restart, a new member, a
#      member whose volume was lost (its empty data directory is filled by a state transfer).
#   2. When no member is Synced (a new cluster, or after a full outage), every member publishes its
#      state on STATE_PORT (galera-state.sh: its last committed position, from grastate.dat or
#      `mariadbd --wsrep-recover`) and reads every other member's. Once every member of the set
#      has answered with its position (a member still recovering its own answers `recovering`
#      and counts as not answered), the most advanced one bootstraps the cluster (`--wsrep-new-cluster`): the one
#      that left last cleanly (safe_to_bootstrap: 1), else the highest committed seqno, else the
#      lowest ordinal. A member without data never wins over one with data, so an empty volume
#      never becomes the cluster's source of truth. The others join it once it is Synced.
#   GALERA_FORCE_BOOTSTRAP=1 elects among the members that answer instead of waiting for all of
#   them (a member that is gone for good; see docs/engines.md).
#
# It also repairs a first initialization that failed half-way (system tables without the probe
# user), sends SST/mariadb-backup logs to the container log, and points the image's
# MARIADB_ROOT_PASSWORD_FILE at the Secret's file (the pod spec only names the key).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
HERE="${SCRIPTS_DIR:-$(dirname "$0")}"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/run/mysqld}"
STATE_PORT="${STATE_PORT:-4569}"
ENTRYPOINT="${ENTRYPOINT:-docker-entrypoint.sh}"
INIT_MARKER="${INIT_MARKER:-$(dirname "$DATA_DIR")/.cdk8s-initialized}"
POLL_SECONDS="${POLL_SECONDS:-2}"
STATE_FILE="$RUN_DIR/galera-state"

ordinal="$(pod_ordinal)"
MARIADB_ROOT_PASSWORD_FILE="$(key_file ROOT_KEY)"
export MARIADB_ROOT_PASSWORD_FILE
grastate="$DATA_DIR/grastate.dat"
mkdir -p "$RUN_DIR"

# A first initialization that failed after the system tables existed: the entrypoint skips it on
# the next start and the mysql@localhost account (probes, SST) never exists. grastate.dat is
# written only once the server ran with Galera, after the initialization finished.
if [ -d "$DATA_DIR/mysql" ] && [ ! -e "$INIT_MARKER" ]; then
  if [ -f "$grastate" ]; then
    touch "$INIT_MARKER"
  else
    log "galera: $DATA_DIR holds system tables but its first initialization did not finish (no $INIT_MARKER, no grastate.dat): it holds no data of the cluster."
    log "galera: moving it to $DATA_DIR.failed-init and initializing again"
    rm -rf "$DATA_DIR.failed-init"
    mv "$DATA_DIR" "$DATA_DIR.failed-init"
  fi
fi

# SST and mariadb-backup write their logs into the data directory (sst-syslog=-1 in galera.cnf:
# a pod has no syslog): follow them into the container log.
for f in mariabackup.backup.log mariabackup.prepare.log mariabackup.move.log; do
  tail -q -n 0 -F "$DATA_DIR/$f" >&2 2>/dev/null &
done

# state: this member's last committed position, as "<uuid> <seqno> <safe_to_bootstrap>"
uuid=00000000-0000-0000-0000-000000000000
seqno=-1
safe=0
recover_position() {
  if [ ! -d "$DATA_DIR/mysql" ]; then
    log "galera: own position: none ($DATA_DIR holds no data)"
    return 0
  fi
  if [ -f "$grastate" ]; then
    uuid="$(sed -n 's/^uuid:[[:space:]]*//p' "$grastate")"
    seqno="$(sed -n 's/^seqno:[[:space:]]*//p' "$grastate")"
    safe="$(sed -n 's/^safe_to_bootstrap:[[:space:]]*//p' "$grastate")"
  fi
  if [ "${seqno:--1}" = -1 ]; then
    # a crash: the committed position is in InnoDB
    local out position
    out="$(mariadbd --datadir="$DATA_DIR" --wsrep-recover --log-error=/dev/stderr --socket="$RUN_DIR/recover.sock" --skip-networking 2>&1 || true)"
    position="$(sed -n 's/.*WSREP: Recovered position:[[:space:]]*\([-0-9a-f]*:-\{0,1\}[0-9]*\).*/\1/p' <<<"$out" | tail -n 1)"
    if [ -n "$position" ]; then
      uuid="${position%:*}"
      seqno="${position##*:}"
      log "galera: recovered position $uuid:$seqno from InnoDB"
    else
      log "galera: could not recover a position from InnoDB: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
    fi
  fi
  uuid="${uuid:-00000000-0000-0000-0000-000000000000}"
  seqno="${seqno:--1}"
  safe="${safe:-0}"
  log "galera: own position: $uuid:$seqno, safe_to_bootstrap $safe"
}

publish() {
  printf '%s %s %s %s %s\n' "$1" "$ordinal" "$uuid" "$seqno" "$safe" >"$STATE_FILE.tmp"
  mv -f "$STATE_FILE.tmp" "$STATE_FILE"
}

# ask HOST: a member's published state line, or nothing
ask() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout "${PROBE_TIMEOUT:-3}" bash -c 'exec 3<>"/dev/tcp/$0/$1"; head -n 1 <&3' "$1" "$STATE_PORT" 2>/dev/null || true
}

# better A B: whether state A ("<phase> <ordinal> <uuid> <seqno> <safe>") should lead rather than B
better() {
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  if [ "${a[4]}" != "${b[4]}" ]; then [ "${a[4]}" = 1 ]; return; fi
  if [ "${a[3]}" != "${b[3]}" ]; then [ "${a[3]}" -gt "${b[3]}" ]; return; fi
  [ "${a[1]}" -lt "${b[1]}" ]
}

# Until its own position is known, a member answers `recovering`: the others count it as not yet
# answered, so no member is elected on a placeholder position.
publish recovering
# STATE_BIND: one address instead of every one (members sharing a network, as in the tests)
socat -T 3 "TCP-LISTEN:$STATE_PORT,reuseaddr,fork${STATE_BIND:+,bind=$STATE_BIND}" "EXEC:bash $HERE/galera-state.sh" &
recovered=0
args=()
waited=0
read -r -a peers <<<"${PEERS:-}"
while :; do
  synced="" best="" unknown=()
  for peer in "${peers[@]}"; do
    if [ "$peer" = "$(peer_address "$ordinal" 2>/dev/null || true)" ]; then
      if [ "$recovered" = 0 ]; then recover_position; recovered=1; publish deciding; fi
      line="deciding $ordinal $uuid $seqno $safe"
    else
      line="$(ask "$peer")"
    fi
    case "$line" in
      synced\ *) synced="$peer"; break ;;
      deciding\ *) if [ -z "$best" ] || better "$line" "$best"; then best="$line"; fi ;;
      *) unknown+=("$peer") ;;
    esac
  done
  if [ -n "$synced" ]; then
    log "galera: $synced is Synced: joining the cluster through it"
    break
  fi
  if [ "$recovered" = 0 ]; then recover_position; recovered=1; publish deciding; fi
  if [ -n "$best" ] && { [ "${#unknown[@]}" -eq 0 ] || [ "${GALERA_FORCE_BOOTSTRAP:-0}" = 1 ]; }; then
    read -r -a winner <<<"$best"
    if [ "${winner[1]}" = "$ordinal" ]; then
      if [ "${#unknown[@]}" -gt 0 ]; then
        log "galera: GALERA_FORCE_BOOTSTRAP=1: bootstrapping without ${unknown[*]}; transactions only they committed are lost"
      fi
      log "galera: no member is Synced and this member is the most advanced ($uuid:$seqno, safe_to_bootstrap $safe): bootstrapping the cluster"
      if [ -f "$grastate" ]; then sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$grastate"; fi
      args+=(--wsrep-new-cluster)
      if [ "$seqno" != -1 ]; then args+=("--wsrep-start-position=$uuid:$seqno"); fi
      break
    fi
    if [ $((waited % 30)) -lt "$POLL_SECONDS" ]; then
      log "galera: waiting for ordinal ${winner[1]} (${winner[2]}:${winner[3]}), the most advanced member, to bootstrap the cluster"
    fi
  elif [ $((waited % 30)) -lt "$POLL_SECONDS" ]; then
    log "galera: no member is Synced; waiting for every member to publish its state before one bootstraps (no answer yet from: ${unknown[*]:-none})"
  fi
  sleep "$POLL_SECONDS"
  waited=$((waited + POLL_SECONDS))
done

publish running
# --datadir on the command line: a datadir in the image's own config files must not win over the
# preset's (the position above was read from DATA_DIR).
exec "$ENTRYPOINT" mariadbd "--datadir=$DATA_DIR" ${args[@]+"${args[@]}"} "$@"
