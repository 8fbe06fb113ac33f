#!/usr/bin/env bash
# MariaDB Galera: answers a peer's question "what is your state?" on the state port (socat runs it
# once per connection, see galera-start.sh). One line: "<phase> <ordinal> <uuid> <seqno> <safe>",
# phase `recovering` (galera-start.sh is reading its own position), `deciding` (it waits for the
# cluster), `synced` (the server is Synced) or `running` (the server runs but is not Synced).
set -uo pipefail
RUN_DIR="${RUN_DIR:-/run/mysqld}"
read -r phase rest <"$RUN_DIR/galera-state" || exit 0
if [ "$phase" = running ]; then
  state="$(mariadb --protocol=socket -umysql --connect-timeout=2 -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" 2>/dev/null | awk '{ print $2 }')"
  if [ "$state" = 4 ]; then phase=synced; fi
fi
echo "$phase $rest"
