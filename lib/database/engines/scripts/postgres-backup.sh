#!/usr/bin/env bash
# PostgreSQL with `backup`, the sidecar `backup` of every member (pgBackRest, docs/engines.md).
#   postgres-backup.sh        the scheduler: on the member that backs up (BACKUP_MEMBER: primary =
#                             the first ordinal), creates the stanza once the server answers, then
#                             takes a full backup whenever the cron schedule BACKUP_SCHEDULE (UTC)
#                             fires; other members only keep their config current.
#   postgres-backup.sh now    one full backup at once (the same steps), e.g. a drill:
#                             kubectl exec <pod> -c backup -- bash /opt/cdk8s-stateful/postgres-backup.sh now
# Each backup's outcome is logged and kept in $RUN_DIR/backup-status (last success: end time,
# duration, size), the file a status probe or an exporter reads.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=pgbackrest.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"

RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
CONFIG="${PGBACKREST_CONFIG:-$RUN_DIR/pgbackrest.conf}"
export PGBACKREST_CONFIG="$CONFIG"

# stanza: creates the stanza (idempotent) once the server accepts connections on its socket
stanza() {
  until pg_isready -q -h "$RUN_DIR" -p "${POSTGRES_PORT:-5432}"; do sleep "${POLL_SECONDS:-2}"; done
  pgbackrest --stanza="$STANZA" stanza-create
}

# backup_once: a full backup (the stanza first), its outcome logged and in backup-status
backup_once() {
  local started ended size
  started="$(date +%s)"
  if ! stanza || ! pgbackrest --stanza="$STANZA" --type=full backup; then
    log "backup: FAILED after $(($(date +%s) - started))s (see the pgBackRest output above)"
    printf 'last_failure=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RUN_DIR/backup-status"
    return 1
  fi
  ended="$(date +%s)"
  # the last backup's size in the repository (compressed): info's JSON, without a JSON tool
  size="$(pgbackrest --stanza="$STANZA" --output=json info | grep -o '"repository":{"delta":[0-9]*,"size":[0-9]*' | tail -n 1 | sed 's/.*"size"://')" || true
  size="${size:-unknown}"
  log "backup: full backup done in $((ended - started))s, ${size} bytes in the repository"
  printf 'last_success=%s\nduration_seconds=%s\nsize_bytes=%s\n' "$(date -u -d "@$ended" +%Y-%m-%dT%H:%M:%SZ)" "$((ended - started))" "$size" >"$RUN_DIR/backup-status.tmp"
  mv -f "$RUN_DIR/backup-status.tmp" "$RUN_DIR/backup-status"
}

# backs_up: whether this member takes the scheduled backups
backs_up() {
  case "${BACKUP_MEMBER:-primary}" in
    primary) [ "$(pod_ordinal)" -eq "$(start_ordinal)" ] ;;
    *) die "backup: BACKUP_MEMBER='${BACKUP_MEMBER}' is not one this preset runs (primary)" ;;
  esac
}

pgbackrest_write_config "$CONFIG" BACKUP
if [ "${1:-}" = now ]; then
  backup_once
  exit
fi
: "${BACKUP_SCHEDULE:?BACKUP_SCHEDULE is not set: the preset sets it from backup.schedule}"
if backs_up; then
  log "backup: full backups at '$BACKUP_SCHEDULE' (UTC) to the repository"
  stanza || log "backup: the stanza could not be created yet (see above); the next scheduled backup tries again"
else
  log "backup: member $(pod_ordinal) does not take the scheduled backups (BACKUP_MEMBER=${BACKUP_MEMBER:-primary})"
fi
while :; do
  # wake at the start of the next minute, as cron does
  sleep "$((60 - $(date +%s) % 60))"
  if backs_up && cron_matches "$BACKUP_SCHEDULE" "$(date -u '+%M %H %d %m %w')"; then
    backup_once || true
  fi
done
