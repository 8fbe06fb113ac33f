#!/usr/bin/env bash
# PostgreSQL with Patroni and `restoreFrom`: Patroni's custom bootstrap method (patroni-start.sh
# names it), run once, by the member that took the initialize key, into an empty PGDATA. Restores
# as the streaming preset's first member does (pgbackrest_restore): the latest backup (before
# RESTORE_TARGET when set) with pgBackRest's recovery settings, which Patroni keeps
# (keep_existing_recovery_conf): it starts the server, which replays the archived WAL and
# promotes, then runs post_bootstrap and drops those settings from postgresql.auto.conf. The other
# members copy this one once it leads, as in any Patroni cluster.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=pgbackrest.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"

: "${PGDATA:?PGDATA is not set}" "${RESTORE_BUCKET:?RESTORE_BUCKET is not set: the preset sets it from restoreFrom}"
RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
conf="$RUN_DIR/pgbackrest-restore.conf"
pgbackrest_write_config "$conf" RESTORE
log "patroni: a new cluster from a backup: pgbackrest restore of ${RESTORE_BUCKET}${RESTORE_PATH:-}${RESTORE_TARGET:+, to recover up to $RESTORE_TARGET}"
install -d -m 0700 "$PGDATA"
pgbackrest_restore "$conf" "$PGDATA" ||
  die "patroni: the restore from ${RESTORE_BUCKET}${RESTORE_PATH:-} failed (see pgBackRest's message above): Patroni retries the bootstrap, never initializes an empty cluster instead. Fix: the repository, its keys in the credentials Secret, or restoreFrom's pointInTime (within the backups' WAL)."
log "patroni: restored; the server replays the archived WAL${RESTORE_TARGET:+ up to $RESTORE_TARGET} when Patroni starts it, then promotes"
