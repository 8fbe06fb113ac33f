#!/usr/bin/env bash
# PostgreSQL, init container `clone`. On a replica (every ordinal but the first):
#   - writes the password file walreceiver and pg_basebackup read (an emptyDir, rewritten at every
#     pod start from the credentials Secret's file POSTGRES_REPLICATION_PASSWORD_FILE, so rotating
#     the password needs no edit of the data directory);
#   - when the data directory is empty, takes a pg_basebackup of the primary into a sibling
#     directory, marks it a standby that streams from the primary, and renames it into place.
# On the primary it only refuses to start empty when a replica already serves data (an empty
# primary would be a new cluster the replicas cannot follow).
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

if [ -d "$PGDATA" ] && [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  die "postgresql: $PGDATA holds files but no PG_VERSION. Inspect the volume; this script only fills an empty data directory."
fi

if [ "$ordinal" -eq "$start" ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ] && peer="$(reachable_peer "$PORT" "$ordinal")"; then
    die "postgresql: the primary's data directory $PGDATA is empty, but $peer serves data. A new primary would start a cluster the replicas cannot follow. Recover the primary's volume, or promote a replica (see docs/engines.md, PostgreSQL)."
  fi
  log "postgresql: primary (ordinal $ordinal); the image's entrypoint initializes an empty $PGDATA"
  exit 0
fi

read_secret POSTGRES_REPLICATION_PASSWORD
require_single_line "the replication password" "$POSTGRES_REPLICATION_PASSWORD"
mkdir -p "$RUN_DIR"
passfile="$RUN_DIR/.pgpass"
password="${POSTGRES_REPLICATION_PASSWORD//\\/\\\\}"
password="${password//:/\\:}"
(umask 077 && printf '%s:%s:*:%s:%s\n' "$primary" "$PORT" "$REPLICATION_USER" "$password" >"$passfile.tmp")
mv -f "$passfile.tmp" "$passfile"

if [ -s "$PGDATA/PG_VERSION" ]; then
  log "postgresql: replica $ordinal holds data; it resumes streaming from $primary"
  exit 0
fi

clone="$PGDATA.clone"
rm -rf "$clone"
log "postgresql: replica $ordinal has no data: pg_basebackup of $primary"
PGPASSFILE="$passfile" pg_basebackup --host="$primary" --port="$PORT" --username="$REPLICATION_USER" \
  --pgdata="$clone" --wal-method=stream --checkpoint=fast --no-password
touch "$clone/standby.signal"
app="${HOSTNAME:-ordinal-$ordinal}"
app="${app%%.*}"
echo "primary_conninfo = 'host=$primary port=$PORT user=$REPLICATION_USER passfile=$passfile application_name=$app'" >>"$clone/postgresql.auto.conf"
chmod 0700 "$clone"
rmdir "$PGDATA" 2>/dev/null || true
mv "$clone" "$PGDATA"
log "postgresql: replica $ordinal cloned; it streams from $primary once the server starts"
