#!/usr/bin/env bash
# PostgreSQL, the database container's command: points the image's POSTGRES_PASSWORD_FILE at the
# credentials Secret's file (the pod spec only names the key, ROOT_KEY), then runs the image's
# entrypoint with the preset's server settings (`-c name=value` arguments).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

# with `backup` or `restoreFrom`: pgBackRest's config files, which archive_command and
# restore_command name (written at every start: the keys may have been rotated)
if [ -n "${BACKUP_BUCKET:-}${RESTORE_BUCKET:-}" ]; then
  # shellcheck source=pgbackrest.sh
  . "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"
  if [ -n "${BACKUP_BUCKET:-}" ]; then pgbackrest_write_config "${RUN_DIR:-/var/run/postgresql}/pgbackrest.conf" BACKUP; fi
  if [ -n "${RESTORE_BUCKET:-}" ]; then pgbackrest_write_config "${RUN_DIR:-/var/run/postgresql}/pgbackrest-restore.conf" RESTORE; fi
fi

POSTGRES_PASSWORD_FILE="$(key_file ROOT_KEY)"
export POSTGRES_PASSWORD_FILE
exec "${ENTRYPOINT:-docker-entrypoint.sh}" postgres "$@"
