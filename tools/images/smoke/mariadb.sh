# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# mariadb, two ways:
#  1. as examples/mariadb.ts runs it (uid 999, credentials from the Secret's files, data in
#     /var/lib/mysql): the entrypoint initializes the volume, healthcheck.sh passes, the
#     application user logs in over TCP with its password; after a restart the data is there.
#  2. as the Galera preset runs it: its install and bootstrap init containers, then
#     galera-start.sh bootstraps a one-member cluster; a second member (same network namespace,
#     other ports) joins by a mariabackup state transfer and reads the first member's row.
#  3. as `docker run` starts it: as root with containerd's default seccomp profile (the kubelet's
#     RuntimeDefault) on a root-owned volume: the entrypoint hands the volume to mysql and the
#     server runs as 999.
sec="$(secrets 999)"
cred=(--mount "$sec:/run/secrets/db:ro")

# sql CONTAINER [mariadb options] -- SQL: a query over TCP as the application user or root
sql() {
  local id="$1"
  shift
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  inside "$id" mariadb --protocol=tcp -h 127.0.0.1 -N -B "${opts[@]}" -e "$2"
}

# --- 1. the example's custom engine -----------------------------------------------------------
data="$(data_dir mariadb-data 999 999)"
run_dir="$(tmp_dir mariadb-run 999 999)"
tmp="$(tmp_dir mariadb-tmp 999 999)"
# the example's command: it exports the *_FILE variables, then runs the entrypoint
example_command=(bash -c 'export MARIADB_ROOT_PASSWORD_FILE=/run/secrets/db/root-password MARIADB_USER_FILE=/run/secrets/db/username MARIADB_PASSWORD_FILE=/run/secrets/db/password; exec docker-entrypoint.sh mariadbd')
example() {
  run "$1" 999 999 mariadb --command "${cred[@]}" --mount "$data:/var/lib/mysql" --mount "$run_dir:/run/mysqld" \
    --mount "$tmp:/tmp" --env MARIADB_DATABASE=app -- "${example_command[@]}"
}
ready() { inside "$1" healthcheck.sh --connect --innodb_initialized; }
example mariadb
wait_for 120 ready mariadb || fail "mariadb: healthcheck.sh --connect --innodb_initialized fails: $(ready mariadb 2>&1); log: $(logs mariadb | tail -30)"
inside mariadb healthcheck.sh --connect || fail "mariadb: healthcheck.sh --connect fails"
sql mariadb -uapp "-papp-pass'word" app -- "CREATE TABLE t (v VARCHAR(20)); INSERT INTO t VALUES ('survived')" ||
  fail "mariadb: the application user cannot write to its database"
[ "$(sql mariadb -uroot "-proot 'pass\"word" -- 'SELECT CURRENT_USER()')" = 'root@%' ] || fail "mariadb: root cannot log in over TCP with its password"
if sql mariadb -uapp -pwrong -- 'SELECT 1' 2>/dev/null; then fail "mariadb: a wrong password is accepted"; fi
ctr_rm "$RUN_ID-mariadb"
example mariadb-again
wait_for 60 ready mariadb-again || fail "mariadb: the server did not come back: $(logs mariadb-again | tail -20)"
[ "$(sql mariadb-again -uapp "-papp-pass'word" app -- 'SELECT v FROM t')" = survived ] || fail "mariadb: the row did not survive a restart"
say "mariadb: $(sql mariadb-again -uapp "-papp-pass'word" -- 'SELECT VERSION()')"
ctr_rm "$RUN_ID-mariadb-again"

# the example again as a uid unknown to the image (4242, fsGroup 4242)
data="$(data_dir mariadb-data-random 4242 4242)"
run mariadb-random 4242 4242 mariadb --command --mount "$(secrets 4242):/run/secrets/db:ro" --mount "$data:/var/lib/mysql" \
  --mount "$(tmp_dir mariadb-run-random 4242 4242):/run/mysqld" --mount "$(tmp_dir mariadb-tmp-random 4242 4242):/tmp" \
  --env MARIADB_DATABASE=app -- "${example_command[@]}"
wait_for 120 ready mariadb-random || fail "mariadb: uid 4242 cannot initialize and serve: $(logs mariadb-random | tail -20)"
ctr_rm "$RUN_ID-mariadb-random"

# --- 2. the Galera preset ---------------------------------------------------------------------
# galera_member ORDINAL [extra run options]: the pod of one member: init containers, then the server
galera_member() {
  local n="$1"
  shift
  local data work conf run_dir tmp
  data="$(data_dir "galera-data-$n" 999 999)"
  work="$(tmp_dir "galera-work-$n" 999 999)"
  conf="$(tmp_dir "galera-conf-$n" 999 999)"
  run_dir="$(tmp_dir "galera-run-$n" 999 999)"
  tmp="$(tmp_dir "galera-tmp-$n" 999 999)"
  # member 0 starts as a one-member set (it bootstraps alone); member 1 joins the two-member set
  local peers=127.0.0.1
  if [ "$n" -gt 0 ]; then peers="127.0.0.1 127.0.0.2"; fi
  local -a pod=(--mount "$(scripts_mount)" "${cred[@]}" --mount "$tmp:/tmp" --env "POD_INDEX=$n" --env START_ORDINAL=0
    --env "PEERS=$peers" --env DATA_DIR=/var/lib/mysql/data)
  run "galera-install-$n" 999 999 mariadb --foreground --command "${pod[@]}" --env WORK_DIR=/work-dir --mount "$work:/work-dir" \
    -- bash /opt/cdk8s-stateful/galera-install.sh
  run "galera-bootstrap-$n" 999 999 mariadb --foreground --command "${pod[@]}" --env CONFIG_DIR=/etc/mysql/conf.d \
    --env CLUSTER_NAME=smoke --env GCACHE_SIZE=16384K --mount "$conf:/etc/mysql/conf.d" -- bash /opt/cdk8s-stateful/galera-bootstrap.sh
  # what the `decide` init container writes (it needs an API server): member 0 bootstraps
  if [ "$n" = 0 ]; then echo bootstrap >"$run_dir/galera-decision"; else echo join >"$run_dir/galera-decision"; fi
  if [ "$n" -gt 0 ]; then
    # a second member beside the first in one network namespace: its own ports
    printf '%s\n' '[mariadb]' 'port=3307' 'wsrep_cluster_address=gcomm://127.0.0.1:4567' \
      'wsrep_node_address=127.0.0.1:5567' 'wsrep_sst_receive_address=127.0.0.1:5444' \
      'wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:5567;ist.recv_addr=127.0.0.1:5568"' >"$conf/zz-smoke.cnf"
  fi
  run "galera-$n" 999 999 mariadb --command "${pod[@]}" "$@" --env KEYS_DIR=/run/secrets/db --env ROOT_KEY=root-password \
    --env RUN_DIR=/run/mysqld \
    --mount "$SCRIPTS/galera-initdb.sh:/docker-entrypoint-initdb.d/90-cdk8s-initialized.sh:ro" \
    --env MARIADB_MYSQL_LOCALHOST_USER=1 --env 'MARIADB_MYSQL_LOCALHOST_GRANTS=RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR' \
    --mount "$data:/var/lib/mysql" --mount "$conf:/etc/mysql/conf.d:ro" --mount "$work:/work-dir:ro" \
    --mount "$run_dir:/run/mysqld" -- bash /work-dir/galera-start.sh
}
galera_probe() { inside "galera-$1" bash /work-dir/galera-probe.sh "$2"; }
wsrep() { inside "galera-$1" mariadb --protocol=socket -umysql -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" | awk '{ print $2 }'; }

galera_member 0
wait_for 120 galera_probe 0 ready || fail "galera: member 0 is not ready: $(galera_probe 0 ready 2>&1); log: $(logs galera-0 | tail -30)"
galera_probe 0 live || fail "galera: member 0's liveness probe fails"
[ "$(wsrep 0 wsrep_cluster_size)" = 1 ] || fail "galera: member 0 did not bootstrap a cluster"
inside galera-0 mariadb --protocol=socket -uroot "-proot 'pass\"word" -e "CREATE DATABASE smoke; CREATE TABLE smoke.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO smoke.t VALUES (1, 'replicated')" ||
  fail "galera: cannot write on member 0"

pid0="$(c tasks ls | awk -v id="$RUN_ID-galera-0" '$1 == id { print $2 }')"
galera_member 1 --netns "/proc/$pid0/ns/net"
wait_for 180 galera_probe 1 ready || fail "galera: member 1 did not join: $(galera_probe 1 ready 2>&1); log: $(logs galera-1 | tail -40)"
[ "$(wsrep 0 wsrep_cluster_size)" = 2 ] || fail "galera: the cluster does not have 2 members"
[ "$(inside galera-1 mariadb --protocol=socket -uroot "-proot 'pass\"word" -N -B -e 'SELECT v FROM smoke.t WHERE id = 1')" = replicated ] ||
  fail "galera: member 1 does not have member 0's row"
grep -q mariabackup <<<"$(logs galera-1)" || fail "galera: member 1 did not join by a mariabackup state transfer"
say "galera: 2 members, state transfer by mariabackup, row replicated"

# --- 3. started as root, default seccomp profile ------------------------------------------------
ctr_rm "$RUN_ID-galera-1"
ctr_rm "$RUN_ID-galera-0"
rootdata="$WORK/mariadb-rootdata"
mkdir -p "$rootdata"
run_as_root mariadb-root mariadb --mount "$rootdata:/var/lib/mysql" --mount "$(tmp_dir mariadb-root-run 0 0):/run/mysqld" \
  --mount "$(tmp_dir mariadb-root-tmp 0 0):/tmp" --env MARIADB_ROOT_PASSWORD=smoke --
wait_for 120 ready mariadb-root || fail "mariadb: started as root under the default seccomp profile, it is not ready: $(logs mariadb-root | tail -30)"
[ "$(awk '/^Uid:/ { print $2 }' <<<"$(inside mariadb-root cat /proc/1/status)")" = 999 ] || fail "mariadb: the server does not run as 999"
[ "$(stat -c %u "$rootdata/mysql")" = 999 ] || fail "mariadb: the data directory was not handed to mysql"
say "mariadb: as root under seccomp: $(grep -o 'InnoDB: Using [a-z_]*' <<<"$(logs mariadb-root)" | tail -n 1)"
