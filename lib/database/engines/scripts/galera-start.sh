#!/usr/bin/env bash
# MariaDB Galera, the database container's command. The init containers decided how this member
# starts (galera-recover.sh found its position, galera-decide.sh the decision under the set's
# Lease): RUN_DIR/galera-decision says `bootstrap` (this member starts the cluster,
# `--wsrep-new-cluster`) or `join`. The decision is used once: when only the container restarts
# (a crash; the init containers do not run again), the member joins. It never bootstraps by
# itself:
#   - pc.recovery (galera.cnf) restores the Primary component when every member of the last one
#     is back, as after every member crashed at once;
#   - pc.wait_prim is off: a member that finds no Primary component keeps running, connected and
#     not Ready, instead of exiting;
#   - watch_primary below: when every member of the set is connected in one component and it has
#     stayed non-Primary for PRIMARY_GRACE seconds (a lone survivor whose peers came back, and no
#     other component can exist: every member is in this one), it makes the component Primary
#     (pc.bootstrap). Galera's state exchange then takes the most advanced member's state. This
#     also ends the state a scale-down can leave behind: the members that remain, connected,
#     non-Primary, because the component they last formed counted the removed members too.
#
# It also sends SST/mariadb-backup logs to the container log and points the image's
# MARIADB_ROOT_PASSWORD_FILE at the Secret's file (the pod spec only names the key).
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
HERE="${SCRIPTS_DIR:-$(dirname "$0")}"

DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
RUN_DIR="${RUN_DIR:-/run/mysqld}"
ENTRYPOINT="${ENTRYPOINT:-docker-entrypoint.sh}"
PRIMARY_GRACE="${PRIMARY_GRACE:-30}"
WATCH_SECONDS="${WATCH_SECONDS:-10}"

MARIADB_ROOT_PASSWORD_FILE="$(key_file ROOT_KEY)"
export MARIADB_ROOT_PASSWORD_FILE
grastate="$DATA_DIR/grastate.dat"
mkdir -p "$RUN_DIR"

# SST and mariadb-backup write their logs into the data directory (sst-syslog=-1 in galera.cnf:
# a pod has no syslog): follow them into the container log.
for f in mariabackup.backup.log mariabackup.prepare.log mariabackup.move.log; do
  tail -q -n 0 -F "$DATA_DIR/$f" >&2 2>/dev/null &
done

# make_primary ROOT_PASSWORD: sets pc.bootstrap, as root (the probe account may not set provider
# options), the password through a pipe. A server with the wsrep_provider plugin (MariaDB 11, where
# it is built in) refuses any change of wsrep_provider_options and takes the option as its own
# variable, wsrep_provider_pc_bootstrap; an older one only through wsrep_provider_options.
make_primary() {
  local statement="SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
  if timeout 10 mariadb --protocol=socket -umysql --connect-timeout=3 -N -B \
    -e "SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_pc_bootstrap'" 2>/dev/null | grep -q .; then
    statement="SET GLOBAL wsrep_provider_pc_bootstrap=ON"
  fi
  log "galera: $statement"
  timeout 10 mariadb --defaults-extra-file=<(mysql_options "$1") --protocol=socket --connect-timeout=3 -e "$statement"
}

# watch_primary SERVER: see above. Runs beside the server (process SERVER, this shell once it
# execs) for as long as it runs.
watch_primary() {
  local members out status size pw stuck=0
  members="$(peer_count)"
  while sleep "$WATCH_SECONDS" && kill -0 "$1" 2>/dev/null; do
    # SHOW, not SELECT: a non-Primary member refuses queries (ERROR 1047), not SHOW
    out="$(timeout 10 mariadb --protocol=socket -umysql --connect-timeout=3 -N -B -e \
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', 'wsrep_cluster_size')" 2>/dev/null)" || { stuck=0; continue; }
    status="$(awk '$1 == "wsrep_cluster_status" { print $2 }' <<<"$out")"
    size="$(awk '$1 == "wsrep_cluster_size" { print $2 }' <<<"$out")"
    if [ "$status" = non-Primary ] && [ "${size:-0}" -ge "$members" ]; then stuck=$((stuck + WATCH_SECONDS)); else stuck=0; fi
    if [ "$stuck" -ge "$PRIMARY_GRACE" ]; then
      log "galera: all $size members are connected and the component has been non-Primary for ${stuck}s: making it Primary (pc.bootstrap)"
      read_secret pw ROOT_KEY
      make_primary "$pw" || log "galera: pc.bootstrap failed"
      stuck=0
    fi
  done
}

# the position this start continues from: after a crash grastate.dat says seqno -1 and the
# committed position is in InnoDB (galera-recover.sh, as the `recover` init container runs it); the
# server is told it (--wsrep-start-position), or its group would see an undefined state
bash "$HERE/galera-recover.sh"
read -r uuid seqno _ data <"$RUN_DIR/galera-position"
decision="$(cat "$RUN_DIR/galera-decision" 2>/dev/null || true)"
args=()
if [ "$data" = 1 ] && [ "$seqno" != -1 ]; then args+=("--wsrep-start-position=$uuid:$seqno"); fi
if [ "$decision" = bootstrap ]; then
  rm -f "$RUN_DIR/galera-decision"
  log "galera: this member holds the set's bootstrap Lease: bootstrapping the cluster"
  if [ -f "$grastate" ]; then sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$grastate"; fi
  args+=(--wsrep-new-cluster)
else
  rm -f "$RUN_DIR/galera-decision"
  log "galera: joining the cluster"
fi
watch_primary "$$" &

# --datadir on the command line: a datadir in the image's own config files must not win over the
# preset's (the position was read from DATA_DIR).
exec "$ENTRYPOINT" mariadbd "--datadir=$DATA_DIR" ${args[@]+"${args[@]}"} "$@"
