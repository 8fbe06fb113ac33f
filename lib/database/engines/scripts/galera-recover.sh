#!/usr/bin/env bash
# MariaDB Galera, init container `recover` (the database image, with the data volume): finds this
# member's last committed position and writes it to RUN_DIR/galera-position, where the `decide`
# init container reads it:
#   "<uuid> <seqno> <safe_to_bootstrap> <data>"
# data 1: the volume holds a data directory; seqno -1 with data 1 is a position that could not be
# recovered, never taken for an empty member (data 0). The position comes from grastate.dat after
# a clean stop, from InnoDB (`mariadbd --wsrep-recover`) after a crash.
# It first sets aside a data directory whose first initialization never finished (system tables
# but no mysql@localhost account): it holds no data of the cluster.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/run/mysqld}"
INIT_MARKER="${INIT_MARKER:-$(dirname "$DATA_DIR")/.cdk8s-initialized}"
grastate="$DATA_DIR/grastate.dat"
mkdir -p "$RUN_DIR"

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

uuid=00000000-0000-0000-0000-000000000000 seqno=-1 safe=0 data=0
if [ -d "$DATA_DIR/mysql" ]; then
  data=1
  if [ -f "$grastate" ]; then
    uuid="$(sed -n 's/^uuid:[[:space:]]*//p' "$grastate")"
    seqno="$(sed -n 's/^seqno:[[:space:]]*//p' "$grastate")"
    safe="$(sed -n 's/^safe_to_bootstrap:[[:space:]]*//p' "$grastate")"
  fi
  if [ "${seqno:--1}" = -1 ]; then
    # a crash: the committed position is in InnoDB
    out="$(mariadbd --datadir="$DATA_DIR" --wsrep-recover --log-error=/dev/stderr --socket="$RUN_DIR/recover.sock" --skip-networking 2>&1 || true)"
    position="$(sed -n 's/.*WSREP: Recovered position:[[:space:]]*\([-0-9a-f]*:-\{0,1\}[0-9]*\).*/\1/p' <<<"$out" | tail -n 1)"
    if [ -n "$position" ]; then
      uuid="${position%:*}" seqno="${position##*:}"
      log "galera: recovered position $uuid:$seqno from InnoDB"
    else
      log "galera: could not recover a position from InnoDB: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
    fi
  fi
  uuid="${uuid:-00000000-0000-0000-0000-000000000000}" seqno="${seqno:--1}" safe="${safe:-0}"
fi
log "galera: own position: $uuid:$seqno, safe_to_bootstrap $safe, data $data"
printf '%s %s %s %s\n' "$uuid" "$seqno" "$safe" "$data" >"$RUN_DIR/galera-position.tmp"
mv -f "$RUN_DIR/galera-position.tmp" "$RUN_DIR/galera-position"
