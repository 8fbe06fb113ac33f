# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# postgres, as the preset runs it (uid 999, postgres-start.sh running the entrypoint): the
# primary's `clone` init container passes, the entrypoint initializes PGDATA with the superuser
# password from the Secret's file and runs the preset's initdb script (the replication and
# application roles); the probes pass; a replica (same network namespace, port 5433) clones the
# primary with pg_basebackup through a replication slot and streams a row written later.
# Then the image's nss_wrapper path: a uid with no passwd entry initializes a cluster too.
sec="$(secrets 999)"
peers=(--env "PEERS=127.0.0.1 127.0.0.2" --env START_ORDINAL=0)

# member ORDINAL [run options] -- [postgres options]: the pod of one member
member() {
  local n="$1"
  shift
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local data run_dir tmp
  data="$(data_dir "pg-data-$n" 999 999)"
  run_dir="$(tmp_dir "pg-run-$n" 999 999)"
  tmp="$(tmp_dir "pg-tmp-$n" 999 999)"
  local -a pod=(--mount "$(scripts_mount)" --mount "$sec:/run/secrets/db:ro" --mount "$tmp:/tmp"
    --mount "$data:/var/lib/postgresql/data" --mount "$run_dir:/var/run/postgresql"
    --env PGDATA=/var/lib/postgresql/data/pgdata --env RUN_DIR=/var/run/postgresql --env KEYS_DIR=/run/secrets/db
    --env REPLICATION_KEY=replication-password "${peers[@]}" --env "POD_INDEX=$n" "${opts[@]}")
  run "pg-clone-$n" 999 999 postgres --foreground --command "${pod[@]}" -- bash /opt/cdk8s-stateful/postgres-replica.sh
  run "pg-$n" 999 999 postgres --command "${pod[@]}" --env ROOT_KEY=root-password --env USERNAME_KEY=username --env PW_KEY=password \
    --mount "$SCRIPTS/postgres-initdb.sh:/docker-entrypoint-initdb.d/10-replication-role.sh:ro" \
    -- bash /opt/cdk8s-stateful/postgres-start.sh -c hot_standby=on -c wal_keep_size=256MB -c max_slot_wal_keep_size=2097152kB "$@"
}
probe() { inside "pg-$1" bash /opt/cdk8s-stateful/postgres-probe.sh "$2"; }
psql_on() { local n="$1" port="$2"; shift 2; inside "pg-$n" psql -h 127.0.0.1 -p "$port" -U postgres -tA -c "$1"; }

member 0 --
wait_for 90 probe 0 ready || fail "postgres: the primary is not ready: $(probe 0 ready 2>&1); log: $(logs pg-0 | tail -30)"
probe 0 live || fail "postgres: the liveness probe fails"
# over TCP from 127.0.0.1 initdb trusts; the Secret's password is checked from elsewhere (below)
psql_on 0 5432 "CREATE TABLE t (v text); INSERT INTO t VALUES ('before')" >/dev/null || fail "postgres: cannot write on the primary"
[ "$(psql_on 0 5432 "SELECT count(*) FROM pg_roles WHERE rolname = 'replicator' AND rolreplication")" = 1 ] ||
  fail "postgres: the preset's initdb script did not create the replication role"
[ "$(psql_on 0 5432 "SELECT count(*) FROM pg_database WHERE datname = 'app'")" = 1 ] ||
  fail "postgres: the preset's initdb script did not create the application database"

pid0="$(c tasks ls | awk -v id="$RUN_ID-pg-0" '$1 == id { print $2 }')"
member 1 --netns "/proc/$pid0/ns/net" -- -c port=5433
wait_for 120 probe 1 live || fail "postgres: the replica does not start: $(logs pg-1 | tail -30)"
wait_for 60 bash -c "[ \"\$(ctr --address '$CTR_SOCK' -n k8s.io tasks exec --exec-id q\$RANDOM '$RUN_ID-pg-0' psql -h 127.0.0.1 -U postgres -tA -c 'SELECT count(*) FROM pg_stat_replication')\" = 1 ]" ||
  fail "postgres: the replica does not stream: $(logs pg-1 | tail -20)"
psql_on 0 5432 "INSERT INTO t VALUES ('after')" >/dev/null
wait_for 20 bash -c "[ \"\$(ctr --address '$CTR_SOCK' -n k8s.io tasks exec --exec-id q\$RANDOM '$RUN_ID-pg-1' psql -h 127.0.0.1 -p 5433 -U postgres -tA -c \"SELECT count(*) FROM t WHERE v = 'after'\")\" = 1 ]" ||
  fail "postgres: a row written on the primary did not reach the replica"
# passwords: connections from anywhere but loopback need them (`host all all all scram-sha-256`).
# The pod gets a non-loopback address, as a pod IP, and the roles log in over it.
nsenter --net="/proc/$pid0/ns/net" ip addr add 10.99.0.1/32 dev lo || fail "postgres: cannot add a test address"
pw() { inside pg-0 env PGPASSWORD="$2" psql -h 10.99.0.1 -U "$1" -d postgres -tA -c 'SELECT current_user'; }
[ "$(pw postgres "root 'pass\"word")" = postgres ] || fail "postgres: the superuser cannot log in with the Secret's password"
[ "$(inside pg-0 env PGPASSWORD="repl-pass'word" psql "host=10.99.0.1 user=replicator dbname=postgres replication=database" -tA -c 'IDENTIFY_SYSTEM' | cut -d'|' -f1 | grep -c .)" = 1 ] ||
  fail "postgres: the replication role cannot log in with the Secret's replication password"
if pw postgres wrong >/dev/null 2>&1; then fail "postgres: a wrong password is accepted"; fi
say "postgres: $(psql_on 0 5432 'SHOW server_version'), a streaming replica"
ctr_rm "$RUN_ID-pg-1"
ctr_rm "$RUN_ID-pg-0"

# a uid unknown to the image (a random runAsUser): nss_wrapper gives initdb a user name
data="$(data_dir pg-data-random 4242 4242)"
run_dir="$(tmp_dir pg-run-random 4242 4242)"
tmp="$(tmp_dir pg-tmp-random 4242 4242)"
run pg-random 4242 4242 postgres --mount "$(secrets 4242):/run/secrets/db:ro" --mount "$tmp:/tmp" --mount "$data:/var/lib/postgresql/data" \
  --mount "$run_dir:/var/run/postgresql" --env PGDATA=/var/lib/postgresql/data/pgdata \
  --env POSTGRES_PASSWORD_FILE=/run/secrets/db/root-password -- 
random_ready() { inside pg-random pg_isready -h 127.0.0.1 -U postgres -q; }
wait_for 90 random_ready || fail "postgres: uid 4242 cannot initialize and start a cluster: $(logs pg-random | tail -20)"
