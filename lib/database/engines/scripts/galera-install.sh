#!/usr/bin/env bash
# MariaDB Galera, init container `install`: copies the helper scripts the database container runs
# (its start wrapper and probes) from the ConfigMap into the shared work dir. The copy is the
# pod's own: a later edit of the ConfigMap cannot change the scripts under a running member.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

SCRIPTS_DIR="${SCRIPTS_DIR:-$(dirname "$0")}"
WORK_DIR="${WORK_DIR:-/work-dir}"

mkdir -p "$WORK_DIR"
for file in common.sh galera-start.sh galera-recover.sh galera-probe.sh; do
  cp "$SCRIPTS_DIR/$file" "$WORK_DIR/$file.tmp"
  chmod 0555 "$WORK_DIR/$file.tmp"
  mv -f "$WORK_DIR/$file.tmp" "$WORK_DIR/$file"
done
log "galera: installed common.sh, galera-start.sh, galera-recover.sh and galera-probe.sh into $WORK_DIR"
