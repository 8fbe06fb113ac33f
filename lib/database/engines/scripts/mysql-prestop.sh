#!/usr/bin/env bash
# MySQL, the database container's preStop hook (run by the kubelet before it stops the server).
# A replica closes its replication connection and then waits a few seconds while its network still
# works: the primary's next heartbeat (every second: mysql-clone.sh sets SOURCE_HEARTBEAT_PERIOD)
# reaches a closed socket, is answered with a reset, and the primary ends its dump thread for this
# member at once. Without it, a member removed by a scale-down is gone before the primary writes
# to it again; nothing answers, and the primary lists it in SHOW REPLICAS until TCP gives up,
# many minutes later. The primary has nothing to close. A failure here never blocks the stop.
set -uo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

if [ "$(pod_ordinal)" -eq "$(start_ordinal)" ]; then exit 0; fi
read_secret ROOT_PASSWORD ROOT_KEY
if ! mysql --defaults-extra-file=<(mysql_options "$ROOT_PASSWORD") --protocol=socket --connect-timeout=3 -e 'STOP REPLICA IO_THREAD'; then
  log "mysql: could not stop the replication connection before stopping; the primary notices when TCP gives up"
  exit 0
fi
# two heartbeats: the first is answered with a reset, the second write fails and ends the thread
sleep "${PRESTOP_WAIT_SECONDS:-3}"
