#!/usr/bin/env bash
# PostgreSQL, the database container's command: points the image's POSTGRES_PASSWORD_FILE at the
# credentials Secret's file (the pod spec only names the key, ROOT_KEY), then runs the image's
# entrypoint with the preset's server settings (`-c name=value` arguments).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

POSTGRES_PASSWORD_FILE="$(key_file ROOT_KEY)"
export POSTGRES_PASSWORD_FILE
exec "${ENTRYPOINT:-docker-entrypoint.sh}" postgres "$@"
