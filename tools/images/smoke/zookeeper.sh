# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# zookeeper, as the preset runs it (uid 1000, the image's own command): the `config` init
# container copies the image's /conf and writes zoo.cfg and myid, the server starts from the
# read-only /conf with ZK_SERVER_HEAP, the preset's probes pass, and zkCli.sh writes and reads a
# znode that survives a restart; then the same pod as a uid unknown to the image (4242). One
# member (standalone): a 3-member ensemble needs the pod network of the real node (e2e suite).
data="$(data_dir zk-data 1000 1000)"
conf="$(tmp_dir zk-conf 1000 1000)"
logs="$(tmp_dir zk-logs 1000 1000)"
tmp="$(tmp_dir zk-tmp 1000 1000)"
pod=(--mount "$(scripts_mount)" --mount "$tmp:/tmp" --mount "$data:/data")
run zk-config 1000 1000 zookeeper --foreground --command "${pod[@]}" --env POD_INDEX=0 --env START_ORDINAL=0 \
  --env PEERS=127.0.0.1 --env DATA_DIR=/data --env CONFIG_DIR=/cdk8s-conf --env IMAGE_CONF_DIR=/conf \
  --mount "$conf:/cdk8s-conf" -- bash /opt/cdk8s-stateful/zookeeper-config.sh
[ -f "$conf/log4j.properties" ] || fail "zookeeper: the config init container found no log4j.properties in the image's /conf"
server() {
  run "$1" 1000 1000 zookeeper "${pod[@]}" --env ZK_SERVER_HEAP=512 --mount "$conf:/conf:ro" --mount "$logs:/logs" --
}
probe() { inside "$1" bash /opt/cdk8s-stateful/zookeeper-probe.sh "$2"; }
cli() { inside "$1" zkCli.sh -server 127.0.0.1:2181 "${@:2}" 2>/dev/null; }

server zk
wait_for 90 probe zk ready || fail "zookeeper: not serving: $(probe zk ready 2>&1); log: $(logs zk | tail -30)"
probe zk live || fail "zookeeper: ruok fails"
grep -q -- '-Xmx512m' <<<"$(inside zk bash -c "tr '\\0' ' ' </proc/1/cmdline")" ||
  fail "zookeeper: ZK_SERVER_HEAP=512 did not reach the JVM"
cli zk create /smoke survived >/dev/null || fail "zookeeper: zkCli.sh cannot create a znode"
ctr_rm "$RUN_ID-zk"
server zk-again
wait_for 90 probe zk-again ready || fail "zookeeper: did not come back: $(logs zk-again | tail -20)"
grep -qx survived <<<"$(cli zk-again get /smoke)" || fail "zookeeper: the znode did not survive a restart"
grep -q 'QuorumPeerMain\|ZooKeeperServer' <<<"$(logs zk-again)" || fail "zookeeper: the server logs nothing to the console"
say "zookeeper: $(inside zk-again bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; head -n 1 <&3')"
ctr_rm "$RUN_ID-zk-again"

# a uid unknown to the image
data="$(data_dir zk-data-random 4242 4242)"
conf="$(tmp_dir zk-conf-random 4242 4242)"
logs="$(tmp_dir zk-logs-random 4242 4242)"
pod=(--mount "$(scripts_mount)" --mount "$(tmp_dir zk-tmp-random 4242 4242):/tmp" --mount "$data:/data")
run zk-config-random 4242 4242 zookeeper --foreground --command "${pod[@]}" --env POD_INDEX=0 --env START_ORDINAL=0 \
  --env PEERS=127.0.0.1 --env DATA_DIR=/data --env CONFIG_DIR=/cdk8s-conf --env IMAGE_CONF_DIR=/conf \
  --mount "$conf:/cdk8s-conf" -- bash /opt/cdk8s-stateful/zookeeper-config.sh
run zk-random 4242 4242 zookeeper "${pod[@]}" --env ZK_SERVER_HEAP=512 --mount "$conf:/conf:ro" --mount "$logs:/logs" --
wait_for 90 probe zk-random ready || fail "zookeeper: uid 4242 cannot run the preset's pod: $(logs zk-random | tail -20)"
