# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# mysql, as the preset runs it (uid 999, read-only root, the Secret's files): the primary's
# `config` and `clone` init containers, mysql-start.sh running the entrypoint, which initializes
# the data directory and runs the preset's initdb script (the replication account); the probes
# pass; a replica (same network namespace, its own address) clones the primary with the clone
# plugin, replicates a row written later, and refuses writes. Then the image as `docker run`
# starts it: as root, MYSQL_ROOT_PASSWORD_FILE, MYSQL_DATABASE, MYSQL_USER and MYSQL_PASSWORD.
sec="$WORK/secrets-mysql"
mkdir -p "$sec"
# the preset refuses a root password with ' or \ (the official image writes it into SQL unescaped)
printf '%s' 'root pass"word' >"$sec/root-password"
printf '%s' "repl-pass'word" >"$sec/replication-password"
chown -R 0:999 "$sec" && chmod 0440 "$sec"/* && chmod 0755 "$sec"
peers=(--env "PEERS=127.0.0.1 127.0.0.2" --env START_ORDINAL=0)

# member ORDINAL [run options]: the pod of one member, bound to 127.0.0.<ordinal + 1>
member() {
  local n="$1"
  shift
  local data run_dir tmp conf own
  data="$(data_dir "my-data-$n" 999 999)"
  run_dir="$(tmp_dir "my-run-$n" 999 999)"
  tmp="$(tmp_dir "my-tmp-$n" 999 999)"
  conf="$(tmp_dir "my-conf-$n" 999 999)"
  # the scripts ConfigMap with this member's engine.conf: both members share one network namespace
  own="$WORK/my-scripts-$n"
  mkdir -p "$own" && cp "$SCRIPTS"/*.sh "$own/"
  printf '%s\n' "bind-address=127.0.0.$((n + 1))" "mysqlx-bind-address=127.0.0.$((n + 1))" >"$own/engine.conf"
  local -a pod=(--mount "$own:/opt/cdk8s-stateful:ro" --mount "$sec:/run/secrets/db:ro" --mount "$tmp:/tmp"
    --env KEYS_DIR=/run/secrets/db --env ROOT_KEY=root-password --env REPLICATION_KEY=replication-password
    --env DATA_DIR=/var/lib/mysql/data "${peers[@]}" --env "POD_INDEX=$n" "$@")
  run "my-config-$n" 999 999 mysql --foreground --command "${pod[@]}" --env CONFIG_DIR=/etc/mysql/conf.d \
    --mount "$conf:/etc/mysql/conf.d" -- bash /opt/cdk8s-stateful/mysql-config.sh
  run "my-clone-$n" 999 999 mysql --foreground --command "${pod[@]}" --env RUN_DIR=/var/run/mysqld \
    --mount "$data:/var/lib/mysql" --mount "$run_dir:/var/run/mysqld" -- bash /opt/cdk8s-stateful/mysql-clone.sh
  run "my-$n" 999 999 mysql --command "${pod[@]}" --mount "$data:/var/lib/mysql" --mount "$run_dir:/var/run/mysqld" \
    --mount "$conf:/etc/mysql/conf.d:ro" \
    --mount "$SCRIPTS/mysql-initdb.sh:/docker-entrypoint-initdb.d/10-replication-account.sh:ro" \
    -- bash /opt/cdk8s-stateful/mysql-start.sh
}
probe() { inside "my-$1" bash /opt/cdk8s-stateful/mysql-probe.sh "$2"; }
# sql ORDINAL SQL: as root over TCP to the member's address
sql() {
  inside "my-$1" mysql -uroot '-proot pass"word' --protocol=tcp -h "127.0.0.$(($1 + 1))" -N -B -e "$2" 2>/dev/null
}

# the first member alone in the set: no peer to ask, it initializes at once
peers=(--env "PEERS=127.0.0.1" --env START_ORDINAL=0)
member 0
wait_for 180 probe 0 ready || fail "mysql: the primary is not ready: $(probe 0 ready 2>&1); log: $(logs my-0 | tail -30)"
probe 0 live || fail "mysql: the liveness probe fails: $(probe 0 live 2>&1)"
sql 0 "CREATE DATABASE app; CREATE TABLE app.t (v VARCHAR(20) PRIMARY KEY); INSERT INTO app.t VALUES ('before')" ||
  fail "mysql: cannot write on the primary"
[ "$(sql 0 "SELECT COUNT(*) FROM mysql.user WHERE user = 'replicator'")" = 1 ] ||
  fail "mysql: the preset's initdb script did not create the replication account"

pid0="$(c tasks ls | awk -v id="$RUN_ID-my-0" '$1 == id { print $2 }')"
nsenter --net="/proc/$pid0/ns/net" ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
peers=(--env "PEERS=127.0.0.1 127.0.0.2" --env START_ORDINAL=0)
member 1 --netns "/proc/$pid0/ns/net"
wait_for 240 probe 1 ready || fail "mysql: the replica is not ready: $(probe 1 ready 2>&1); clone: $(logs my-clone-1 | tail -20); log: $(logs my-1 | tail -30)"
sql 0 "INSERT INTO app.t VALUES ('after')"
wait_for 30 bash -c "[ \"\$(ctr --address '$CTR_SOCK' -n k8s.io tasks exec --exec-id q\$RANDOM '$RUN_ID-my-1' mysql -uroot '-proot pass\"word' --protocol=tcp -h 127.0.0.2 -N -B -e \"SELECT COUNT(*) FROM app.t\" 2>/dev/null)\" = 2 ]" ||
  fail "mysql: a row written on the primary did not reach the replica"
if sql 1 "INSERT INTO app.t VALUES ('replica')" 2>/dev/null; then fail "mysql: the replica accepts a write"; fi
say "mysql: $(sql 0 'SELECT VERSION()'), a cloned replica"
ctr_rm "$RUN_ID-my-1"
ctr_rm "$RUN_ID-my-0"

# --- as `docker run` starts it: root, the official variables --------------------------------------
data="$(data_dir my-docker-data 0 0)"
run_as_root my-docker mysql --mount "$data:/var/lib/mysql" --mount "$sec:/run/secrets/db:ro" \
  --mount "$(data_dir my-docker-run 0 0):/var/run/mysqld" --mount "$(tmp_dir my-docker-tmp 0 0):/tmp" \
  --env MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db/replication-password --env MYSQL_DATABASE=shop \
  --env MYSQL_USER=app --env "MYSQL_PASSWORD=app pass'word" --
app() { inside my-docker mysql -uapp "-papp pass'word" --protocol=tcp -h 127.0.0.1 -N -B shop -e "$1" 2>/dev/null; }
wait_for 180 app 'SELECT 1' || fail "mysql: as root with the official variables, the application user cannot log in: $(logs my-docker | grep -v "\[System\]" | tail -40)"
[ "$(inside my-docker mysql -uroot "-prepl-pass'word" --protocol=tcp -h 127.0.0.1 -N -B -e 'SELECT CURRENT_USER()' 2>/dev/null)" = 'root@%' ] ||
  fail "mysql: root cannot log in over TCP with the password from MYSQL_ROOT_PASSWORD_FILE"
[ "$(inside my-docker stat -c %u /var/lib/mysql/mysql)" = 999 ] || fail "mysql: the server did not step down to mysql (999)"
ctr_rm "$RUN_ID-my-docker"
