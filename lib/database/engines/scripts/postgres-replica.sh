#!/usr/bin/env bash
# PostgreSQL, init container `clone`, at every pod start.
#   - Writes the password file walreceiver, pg_basebackup and the probes read (an emptyDir,
#     rewritten from the credentials Secret's file REPLICATION_KEY, so rotating the password needs
#     no edit of the data directory).
#   - A replica (every ordinal but the first) with an empty data directory waits for the primary,
#     takes a pg_basebackup of it into a sibling directory with its own replication slot, marks it
#     a standby that streams through that slot, and renames it into place. A replica with data
#     makes sure its slot exists on the primary (it may have been rebuilt) and resumes.
#   - The primary with an empty data directory founds the set only if the init container
#     `founding` says so (it created the set's founding Lease: find_source): the image's
#     entrypoint then initializes a new cluster. Otherwise it waits for a member with data and
#     becomes a copy of the most advanced one (pg_basebackup of that standby, started as a
#     primary), never a new, empty cluster the replicas cannot follow.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

PGDATA="${PGDATA:-/var/lib/postgresql/data/pgdata}"
RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
PORT="${POSTGRES_PORT:-5432}"
REPLICATION_USER="${POSTGRES_REPLICATION_USER:-replicator}"

ordinal="$(pod_ordinal)"
start="$(start_ordinal)"
primary="$(peer_address "$start")" || die "postgresql: the primary (ordinal $start) is not a member (PEERS='${PEERS:-}')"
passfile="$RUN_DIR/.pgpass"
app="${HOSTNAME:-ordinal-$ordinal}"
app="${app%%.*}"
slot="$(slot_name "$app")"

if [ -d "$PGDATA" ] && [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  die "postgresql: $PGDATA holds files but no PG_VERSION. Inspect the volume; this script only fills an empty data directory."
fi
# restore_if_asked: for a new set created from a backup (RESTORE_* set, `restoreFrom`): restores
# the repository's latest backup into the empty data directory, recovering up to RESTORE_TARGET (a
# point in time) or to the end of the archived WAL, then promoting; the server replays the WAL
# when it starts, fetching it with restore_command. Without RESTORE_*: nothing (a new cluster).
restore_if_asked() {
  [ -n "${RESTORE_BUCKET:-}" ] || return 0
  # shellcheck source=pgbackrest.sh
  . "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"
  local conf="$RUN_DIR/pgbackrest-restore.conf"
  pgbackrest_write_config "$conf" RESTORE
  log "postgresql: a new set from a backup: pgbackrest restore of ${RESTORE_BUCKET}${RESTORE_PATH} ${RESTORE_TARGET:+to $RESTORE_TARGET}"
  rm -rf "$PGDATA.restore"
  install -d -m 0700 "$PGDATA.restore"
  pgbackrest_restore "$conf" "$PGDATA.restore" ||
    die "postgresql: the restore from ${RESTORE_BUCKET}${RESTORE_PATH} failed (see pgBackRest's message above): the set does not start empty instead. Fix: the repository, its keys in the credentials Secret, or restoreFrom's pointInTime (within the backups' WAL)."
  rmdir "$PGDATA" 2>/dev/null || true
  mv "$PGDATA.restore" "$PGDATA"
  log "postgresql: restored; the server replays the archived WAL${RESTORE_TARGET:+ up to $RESTORE_TARGET} when it starts, then promotes"
  exit 0
}

if [ "$ordinal" -eq "$start" ] && { [ -s "$PGDATA/PG_VERSION" ] || [ "$(peer_count)" -le 1 ]; }; then
  [ -s "$PGDATA/PG_VERSION" ] || restore_if_asked
  log "postgresql: primary (ordinal $ordinal); the image's entrypoint initializes an empty $PGDATA"
  exit 0
fi

read_secret POSTGRES_REPLICATION_PASSWORD REPLICATION_KEY
require_single_line "the replication password" "$POSTGRES_REPLICATION_PASSWORD"
mkdir -p "$RUN_DIR"
password="${POSTGRES_REPLICATION_PASSWORD//\\/\\\\}"
password="${password//:/\\:}"
(umask 077 && printf '*:%s:*:%s:%s\n' "$PORT" "$REPLICATION_USER" "$password" >"$passfile.tmp")
mv -f "$passfile.tmp" "$passfile"
export PGPASSFILE="$passfile"

# replication HOST COMMAND: a replication-protocol command on HOST as the replication role
replication() {
  psql --no-psqlrc -At "host=$1 port=$PORT user=$REPLICATION_USER replication=true connect_timeout=3" -c "$2"
}

# peer_position HOST: how far HOST's WAL goes (IDENTIFY_SYSTEM's xlogpos, as a number)
peer_position() {
  local row lsn
  row="$(replication "$1" IDENTIFY_SYSTEM 2>/dev/null)" || return 1
  lsn="$(cut -d'|' -f3 <<<"$row")"
  [[ "$lsn" =~ ^([0-9A-Fa-f]+)/([0-9A-Fa-f]+)$ ]] || return 1
  echo $(((16#${BASH_REMATCH[1]} << 32) + 16#${BASH_REMATCH[2]}))
}

# clone SOURCE DIR [pg_basebackup options]: a base backup of SOURCE into DIR
clone() {
  local source="$1" dir="$2"
  shift 2
  rm -rf "$dir"
  PGPASSFILE="$passfile" pg_basebackup --host="$source" --port="$PORT" --username="$REPLICATION_USER" \
    --pgdata="$dir" --wal-method=stream --checkpoint=fast --no-password "$@"
}

if [ "$ordinal" -eq "$start" ]; then
  if ! source="$(find_source)"; then
    restore_if_asked
    log "postgresql: new primary; the image's entrypoint initializes $PGDATA"
    exit 0
  fi
  log "postgresql: the primary's data directory is empty but $source holds data: copying it (pg_basebackup) to start from it"
  clone "$source" "$PGDATA.clone"
  rm -f "$PGDATA.clone/standby.signal" "$PGDATA.clone/recovery.signal"
  # the copy is a primary: no upstream, no slot of its own
  sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$PGDATA.clone/postgresql.auto.conf"
  chmod 0700 "$PGDATA.clone"
  rmdir "$PGDATA" 2>/dev/null || true
  mv "$PGDATA.clone" "$PGDATA"
  log "postgresql: the primary is a copy of $source; the replicas stream from it again once it starts"
  exit 0
fi

ensure_slot() {
  local out
  if out="$(replication "$primary" "CREATE_REPLICATION_SLOT $slot PHYSICAL RESERVE_WAL" 2>&1)"; then
    log "postgresql: created the replication slot $slot on $primary"
  elif ! grep -q 'already exists' <<<"$out"; then
    log "postgresql: could not create the replication slot $slot on $primary: $out"
    return 1
  fi
}

if [ -s "$PGDATA/PG_VERSION" ]; then
  if ! grep -q '^primary_slot_name' "$PGDATA/postgresql.auto.conf" 2>/dev/null; then
    echo "primary_slot_name = '$slot'" >>"$PGDATA/postgresql.auto.conf"
  fi
  ensure_slot || log "postgresql: the standby starts anyway; its readiness probe creates the slot once the primary is back"
  log "postgresql: replica $ordinal holds data; it resumes streaming from $primary through slot $slot"
  exit 0
fi

await_serving "$primary" "$PORT"
log "postgresql: replica $ordinal has no data: pg_basebackup of $primary"
ensure_slot || true
clone "$primary" "$PGDATA.clone" --slot="$slot"
touch "$PGDATA.clone/standby.signal"
{
  echo "primary_conninfo = 'host=$primary port=$PORT user=$REPLICATION_USER passfile=$passfile application_name=$app'"
  echo "primary_slot_name = '$slot'"
} >>"$PGDATA.clone/postgresql.auto.conf"
chmod 0700 "$PGDATA.clone"
rmdir "$PGDATA" 2>/dev/null || true
mv "$PGDATA.clone" "$PGDATA"
log "postgresql: replica $ordinal cloned; it streams from $primary through slot $slot once the server starts"
