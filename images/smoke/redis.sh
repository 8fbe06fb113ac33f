# shellcheck shell=bash
# redis, as the preset runs it (uid 999): the `config` init container writes redis.conf with the
# password from the Secret's file, the server starts from it with AOF on /data, the preset's
# probes pass, and a key written survives a restart of the server on the same volume.
sec="$(secrets 999)"
data="$(data_dir redis-data 999 999)"
conf="$(tmp_dir redis-conf 999 999)"
tmp="$(tmp_dir redis-tmp 999 999)"
common=(--mount "$(scripts_mount)" --mount "$sec:/run/secrets/db:ro" --mount "$tmp:/tmp")
identity=(--env POD_INDEX=0 --env START_ORDINAL=0 --env PEERS=redis-0.redis-headless.default.svc.cluster.local)

run redis-config 999 999 redis --foreground --command "${common[@]}" "${identity[@]}" \
  --env DATA_DIR=/data --env CONFIG_DIR=/etc/redis --env REDIS_PASSWORD_FILE=/run/secrets/db/password \
  --mount "$conf:/etc/redis" --mount "$data:/data:ro" -- bash /opt/cdk8s-stateful/redis-config.sh

server() {
  run "$1" 999 999 redis "${common[@]}" --env REDIS_PASSWORD_FILE=/run/secrets/db/password \
    --mount "$conf:/etc/redis:ro" --mount "$data:/data" -- redis-server /etc/redis/redis.conf
}
probe() { inside "$1" bash /opt/cdk8s-stateful/redis-probe.sh "$2"; }
cli() { inside "$1" env REDISCLI_AUTH="app-pass'word" redis-cli --no-auth-warning "${@:2}"; }

server redis
wait_for 30 probe redis ready || fail "redis: readiness probe fails: $(probe redis ready 2>&1 | tail -2); log: $(logs redis | tail -20)"
probe redis live || fail "redis: liveness probe fails"
[ "$(cli redis set smoke survived)" = OK ] || fail "redis: SET failed"
[ "$(cli redis config get appendonly | tail -1)" = yes ] || fail "redis: appendonly is not on"
ctr_rm "$RUN_ID-redis"
server redis-again
wait_for 30 probe redis-again ready || fail "redis: the server did not come back: $(logs redis-again | tail -20)"
[ "$(cli redis-again get smoke)" = survived ] || fail "redis: the key did not survive a restart"
[ "$(stat -c %u "$data/appendonlydir")" = 999 ] || fail "redis: data not owned by 999"
say "redis: $(cli redis-again info server | grep -E '^redis_version' | tr -d '\r')"
