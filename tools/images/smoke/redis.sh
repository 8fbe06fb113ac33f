# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# redis, as the preset runs it (uid 999): the `config` init container writes redis.conf with the
# password from the Secret's file, the server starts from it with AOF on /data, the preset's
# probes pass, and a key written survives a restart of the server on the same volume. Then the
# same pod as a uid unknown to the image (4242).
identity=(--env POD_INDEX=0 --env START_ORDINAL=0 --env PEERS=redis-0.redis-headless.default.svc.cluster.local)

# pod UID: the volumes of a pod running as UID (fsGroup UID), and its config init container
pod() {
  local uid="$1"
  data="$(data_dir "redis-data-$uid" "$uid" "$uid")"
  conf="$(tmp_dir "redis-conf-$uid" "$uid" "$uid")"
  common=(--mount "$(scripts_mount)" --mount "$(secrets "$uid"):/run/secrets/db:ro"
    --mount "$(tmp_dir "redis-tmp-$uid" "$uid" "$uid"):/tmp" --env KEYS_DIR=/run/secrets/db --env PW_KEY=password)
  run "redis-config-$uid" "$uid" "$uid" redis --foreground --command "${common[@]}" "${identity[@]}" \
    --env DATA_DIR=/data --env CONFIG_DIR=/etc/redis --env MAXMEMORY_POLICY=noeviction \
    --mount "$conf:/etc/redis" --mount "$data:/data" -- bash /opt/cdk8s-stateful/redis-config.sh
}
# server NAME UID: the database container, the preset's args
server() {
  run "$1" "$2" "$2" redis "${common[@]}" --mount "$conf:/etc/redis:ro" --mount "$data:/data" \
    -- redis-server /etc/redis/redis.conf
}
probe() { inside "$1" bash /opt/cdk8s-stateful/redis-probe.sh "$2"; }
cli() { inside "$1" env REDISCLI_AUTH="app-pass'word" redis-cli --no-auth-warning "${@:2}"; }

pod 999
server redis 999
wait_for 30 probe redis ready || fail "redis: readiness probe fails: $(probe redis ready 2>&1 | tail -2); log: $(logs redis | tail -20)"
probe redis live || fail "redis: liveness probe fails"
[ "$(cli redis set smoke survived)" = OK ] || fail "redis: SET failed"
[ "$(cli redis config get appendonly | tail -1)" = yes ] || fail "redis: appendonly is not on"
if [ "$(inside redis redis-cli ping 2>&1)" = PONG ]; then fail "redis: answers without the password"; fi
ctr_rm "$RUN_ID-redis"
server redis-again 999
wait_for 30 probe redis-again ready || fail "redis: the server did not come back: $(logs redis-again | tail -20)"
[ "$(cli redis-again get smoke)" = survived ] || fail "redis: the key did not survive a restart"
[ "$(stat -c %u "$data/appendonlydir")" = 999 ] || fail "redis: data not owned by 999"
say "redis: $(cli redis-again info server | grep -E '^redis_version' | tr -d '\r')"
ctr_rm "$RUN_ID-redis-again"

pod 4242
server redis-random 4242
wait_for 30 probe redis-random ready || fail "redis: uid 4242 cannot run the preset's pod: $(logs redis-random | tail -20)"
