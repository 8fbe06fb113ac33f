// Redis backups on the real node: a primary and a replica with `backup` to a real S3-compatible
// store (versitygw over HTTPS with a private CA, test/e2e/s3-store.ts), every container on the test
// image with Redis and rclone. Keys `a:*`, a snapshot (of the replica), keys `b:*`; a new set in a
// new namespace with `restoreFrom` holds every `a:*` key and no `b:*` key, and its replica copies
// it. A snapshot object corrupted in the store: the restore stops in the init container `config`
// naming the object, and the set never starts (empty or otherwise). A snapshot while the replica it
// reads is SIGKILLed: it completes or fails loudly, and the repository never holds a partial
// snapshot. The schedule takes snapshots on its own. A real Prometheus on the host (./prometheus.ts)
// scrapes both sidecars' `backup-metrics` port and evaluates the set's synthesized PrometheusRule
// (the same set with `metrics`): the last snapshot's time, size and duration as the sidecar logged
// them; with the store down a snapshot fails and DatabaseBackupFailed fires, and it resolves with
// the next snapshot once the store is back.
import { Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, S3Repository, StatefulDatabase } from '../../lib';
import { apply, createNamespace, createSecret, deleteNamespace, exec, kubectl, minutes, NODE_SIZED, password, requireRealNode, sleep, synth, waitFor, waitForReady } from './helpers';
import { crash } from './faults';
import { HostPrometheus, ruleFileOf } from './prometheus';
import { BACKUP_BUCKET, REDIS_RCLONE_IMAGE, REDIS_RCLONE_VERSION, SCRIPTS_PATH } from './redis-rclone';
import { createS3Store, S3Store, startS3Store, stopS3Store, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-redis';
const NAME = 'rd';
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const PASSWORD = password();
const PODS = [0, 1].map((i) => `${NAME}-${i}`);
// the ports 19090 to 19095 are the other metrics files' (the suite runs files side by side)
const prometheus = new HostPrometheus(19097);
let store: S3Store;

/** The set's repository in the store (restores read it too). */
const repository = (): S3Repository => storeRepository(store, BACKUP_BUCKET, `/${NS}/${NAME}`);

/** Namespace NS with the credentials Secret: the set's password, the store's keys and CA. */
async function namespaceWithSecret(ns: string): Promise<void> {
  await deleteNamespace(ns);
  await createNamespace(ns);
  await createSecret(ns, `${NAME}-credentials`, {
    password: PASSWORD, ...storeSecretEntries(store),
  });
}

/** The set of these tests in NS: two members of ENGINE. */
function database(ns: string, engine: DatabaseEngine): string {
  return synth(ns, (chart) => defineDatabase(chart, engine));
}

function defineDatabase(chart: Chart, engine: DatabaseEngine, metrics?: { prometheusOperator: boolean }): StatefulDatabase {
  return new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine,
    replicas: 2,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
    metrics,
  });
}

/** The backed-up set's engine: a snapshot every 5 minutes (the suite outlasts one: the schedule test finds it), the newest 3 kept. */
const backedUp = () => DatabaseEngine.redis({
  version: REDIS_RCLONE_VERSION,
  backup: { image: REDIS_RCLONE_IMAGE, repository: repository(), schedule: '*/5 * * * *', retainBackups: 3 },
});

/** redis-cli ARGS against member ORDINAL of NS, from its own database container (the password from the Secret's file). */
async function cli(ns: string, ordinal: number, args: string, stdin?: string): Promise<string> {
  return (await exec(ns, `${NAME}-${ordinal}`, 'main', `REDISCLI_AUTH="$(cat /run/secrets/db/password)" redis-cli --no-auth-warning ${args}`, stdin)).trim();
}

/** How many keys match PATTERN on member ORDINAL of NS. */
async function count(ns: string, ordinal: number, pattern: string): Promise<number> {
  return Number(await cli(ns, ordinal, `EVAL "return #redis.call('KEYS', ARGV[1])" 0 '${pattern}'`));
}

/** Writes keys PREFIX:1..N on the primary of NS and waits until the replica has them. */
async function writeKeys(prefix: string, n: number): Promise<void> {
  expect(await cli(NS, 0, `EVAL "for i = 1, ${n} do redis.call('SET', ARGV[1] .. i, 'v' .. i) end return ${n}" 0 '${prefix}:'`)).toBe(String(n));
  expect(await cli(NS, 0, 'WAIT 1 10000')).toBe('1');
}

/** `redis-backup.sh now` in the primary's sidecar: its exit status and its log (a scheduled snapshot running: asked again). */
async function snapshotNow(): Promise<{ ok: boolean; log: string }> {
  for (let attempt = 1; ; attempt++) {
    const r = await kubectl(['-n', NS, 'exec', `${NAME}-0`, '-c', 'backup', '--', 'bash', '-c', `bash ${SCRIPTS_PATH}/redis-backup.sh now 2>&1`], { timeoutMs: minutes(5) })
      .then((out) => ({ ok: true, log: out }), (e) => ({ ok: false, log: String(e) }));
    if (r.ok || attempt >= 4 || !/another snapshot is running/.test(r.log)) return r;
    await sleep(15_000);
  }
}

/** A shell function call of rclone-s3.sh in the primary's sidecar (the BACKUP repository). */
async function s3(call: string): Promise<string> {
  return kubectl(['-n', NS, 'exec', `${NAME}-0`, '-c', 'backup', '--', 'bash', '-c', `. ${SCRIPTS_PATH}/common.sh; . ${SCRIPTS_PATH}/rclone-s3.sh; ${call}`], { timeoutMs: minutes(3) });
}

/** The snapshot a `now` log names as done, e.g. `20261206T203445Z.rdb`. */
const doneName = (log: string) => /backup: snapshot (\d{8}T\d{6}Z\.rdb) done/.exec(log)?.[1];

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BACKUP_BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, {
    password: PASSWORD, ...storeSecretEntries(store),
  });
  await apply(NS, database(NS, backedUp()));
  await waitForReady(NS, NAME, 2, minutes(8));
  // the rules of the same set with metrics (the applied set has no exporter: the backup sidecar is the same with or without it)
  await prometheus.start(NS, PODS, 9188, ruleFileOf(synth(NS, (chart) => defineDatabase(chart, backedUp(), { prometheusOperator: true }))));
}, minutes(14));
afterAll(async () => {
  await prometheus.stop('prometheus-backup-redis');
  for (const ns of [NS, `${NS}-restore`, `${NS}-corrupt`]) await deleteNamespace(ns);
}, minutes(15));

test('a snapshot of the replica holds the keys written before it, uploaded with its checksum', async () => {
  await writeKeys('a', 300);
  const started = Date.now();
  const r = await snapshotNow();
  console.log(`backup-redis: snapshot in ${((Date.now() - started) / 1000).toFixed(1)}s: ${r.log.split('\n').filter((l) => l.includes('done in')).join('')}`);
  expect(r.ok).toBe(true);
  // the replica, not the primary, was read
  expect(r.log).toMatch(new RegExp(`snapshot \\d{8}T\\d{6}Z\\.rdb done in \\d+s: \\d+ bytes, 300 keys, from ${NAME}-1\\.`));
  const name = doneName(r.log)!;
  expect(await s3('s3_snapshots BACKUP')).toContain(name);
  await writeKeys('b', 50);
  lastDone = r.log;
}, minutes(8));

let lastDone = '';

test('Prometheus scrapes the backup sidecars: the last snapshot\'s time, size and duration as logged; no backup alert', async () => {
  const [, seconds, bytes] = /done in (\d+)s: (\d+) bytes/.exec(lastDone)!;
  const name = doneName(lastDone)!;
  const value = async (metric: string, pod = PODS[0]) => (await prometheus.query(`${metric}{namespace="${NS}",pod="${pod}"}`)).map((r) => Number(r.value[1]));
  // the record as this snapshot left it (a scheduled one may land meanwhile: compared afresh until they agree)
  await waitFor(NS, 'both sidecars scraped, the snapshot\'s size and duration in the series', minutes(1), async () =>
    (await prometheus.query(`up{namespace="${NS}"} == 1`)).length === 2 &&
    JSON.stringify([await value('cdk8s_backup_last_size_bytes'), await value('cdk8s_backup_last_duration_seconds')]) === JSON.stringify([[Number(bytes)], [Number(seconds)]]));
  const [success] = await value('cdk8s_backup_last_success_timestamp_seconds');
  const nameTime = Date.parse(name.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.rdb$/, '$1-$2-$3T$4:$5:$6Z')) / 1000;
  expect(success).toBeGreaterThanOrEqual(nameTime);
  expect(success).toBeLessThanOrEqual(nameTime + Number(seconds) + 1);
  expect(await value('cdk8s_backup_consecutive_failures')).toEqual([0]);
  // the replica's sidecar takes no scheduled snapshots: scraped, without series
  expect(await value('cdk8s_backup_since_timestamp_seconds', PODS[1])).toEqual([]);
  console.log(`backup-redis: backup series of ${PODS[0]}: last success ${success} (${name}), ${bytes} bytes, ${seconds} s; since ${(await value('cdk8s_backup_since_timestamp_seconds'))[0]}`);
  for (const alert of ['DatabaseBackupLate', 'DatabaseBackupFailed']) expect({ alert, now: await prometheus.alerts(alert, NAME) }).toEqual({ alert, now: [] });
}, minutes(3));

test('restore into a new namespace: every key from before the snapshot, none from after; the replica copies it', async () => {
  const ns = `${NS}-restore`;
  await namespaceWithSecret(ns);
  const started = Date.now();
  await apply(ns, database(ns, DatabaseEngine.redis({ version: REDIS_RCLONE_VERSION, restoreFrom: { image: REDIS_RCLONE_IMAGE, repository: repository() } })));
  await waitForReady(ns, NAME, 2, minutes(8));
  console.log(`backup-redis: restore into ${ns}: both members Ready ${((Date.now() - started) / 1000).toFixed(1)}s after apply`);
  const config = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'config']);
  expect(config).toMatch(/restored the snapshot \d{8}T\d{6}Z\.rdb: 300 keys loaded/);
  for (const ordinal of [0, 1]) {
    await waitFor(ns, `member ${ordinal} holds the restored keys`, minutes(2), async () => (await count(ns, ordinal, 'a:*')) === 300);
    expect({ ordinal, b: await count(ns, ordinal, 'b:*') }).toEqual({ ordinal, b: 0 });
  }
  expect(await cli(ns, 0, 'GET a:300')).toBe('v300');
  // the restored set takes writes, and its replica follows
  expect(await cli(ns, 0, 'SET after-restore 1')).toBe('OK');
  expect(await cli(ns, 0, 'WAIT 1 10000')).toBe('1');
  await deleteNamespace(ns);
}, minutes(16));

test('a corrupted snapshot object: the restore stops in config naming the object, and the set never starts', async () => {
  const r = await snapshotNow();
  expect(r.ok).toBe(true);
  const name = doneName(r.log)!;
  // one byte changed in the stored object (its checksum object untouched), as bit rot or a bad copy would
  await s3(`set -e; s3 BACKUP copyto "$(s3_dir BACKUP)${name}" /tmp/${name}; printf X | dd of=/tmp/${name} bs=1 seek=100 conv=notrunc 2>/dev/null; ` +
    `s3 BACKUP copyto /tmp/${name} "$(s3_dir BACKUP)${name}"; rm -f /tmp/${name}`);
  try {
    const ns = `${NS}-corrupt`;
    await namespaceWithSecret(ns);
    // named: the schedule may store a newer, sound snapshot while the restore is retried, which an
    // unnamed restore would then rightly take
    await apply(ns, database(ns, DatabaseEngine.redis({ version: REDIS_RCLONE_VERSION, restoreFrom: { image: REDIS_RCLONE_IMAGE, repository: repository(), backup: name } })));
    let log = '';
    await waitFor(ns, 'the config container of the first member failing on the corrupted snapshot', minutes(6), async () => {
      log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'config']).catch(() => '');
      if (!/is corrupted/.test(log)) log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'config', '--previous']).catch(() => '');
      return /is corrupted/.test(log);
    });
    console.log(`backup-redis: corrupted restore: ${log.split('\n').find((l) => l.includes('is corrupted'))}`);
    expect(log).toContain(`the snapshot s3://${store.endpoint}/${BACKUP_BUCKET}/${NS}/${NAME}/${name} is corrupted`);
    expect(log).toContain('the set does not start empty instead');
    // a minute later: the first member's server never started, nor did the replica's sync from it
    await sleep(60_000);
    const pod = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', `${NAME}-0`, '-o', 'json']));
    const main = (pod.status.containerStatuses ?? []).find((c: any) => c.name === 'main');
    expect({ started: main?.state?.running !== undefined || main?.lastState?.terminated !== undefined, restarts: main?.restartCount ?? 0 }).toEqual({ started: false, restarts: 0 });
    const config = (pod.status.initContainerStatuses ?? []).find((c: any) => c.name === 'config');
    expect(config.lastState?.terminated?.exitCode ?? config.state?.terminated?.exitCode).toBe(1);
    expect((await kubectl(['-n', ns, 'get', 'statefulset', NAME, '-o', 'jsonpath={.status.readyReplicas}'])).trim() || '0').toBe('0');
    await deleteNamespace(ns);
  } finally {
    // the corrupted object out of the way of the next tests' restores
    await s3(`s3 BACKUP deletefile "$(s3_dir BACKUP)${name}.sha256"; s3 BACKUP deletefile "$(s3_dir BACKUP)${name}"`);
  }
}, minutes(16));

test('a snapshot while the replica it reads is SIGKILLed: it completes or fails loudly, never a partial snapshot in the store', async () => {
  // about 100 MB of incompressible values
  expect(await cli(NS, 0, 'EVAL "local t = {} for i = 1, 65536 do t[i] = string.char(math.random(0, 255)) end local v = table.concat(t) ' +
    "for i = 1, 1500 do redis.call('SET', 'big:' .. i, i .. v) end return 1500\" 0")).toBe('1500');
  expect(await cli(NS, 0, 'WAIT 1 60000')).toBe('1');
  await waitFor(NS, 'the replica linked and idle', minutes(2), async () => /master_link_status:up/.test(await cli(NS, 1, 'INFO replication')));
  // the replica writes its snapshot slowly (20 ms a key, about 30 s in all), so that the kill lands
  // mid-stream; the setting dies with the process
  expect(await cli(NS, 1, 'CONFIG SET rdb-key-save-delay 20000')).toBe('OK');
  const before = (await s3('s3_objects BACKUP')).trim();
  let settled = false;
  const running = snapshotNow().finally(() => { settled = true; });
  // kill the replica once its snapshot streams into the spool directory (or at once, if it was faster)
  await waitFor(NS, 'the snapshot streaming', minutes(2), async () => settled ||
    (await exec(NS, `${NAME}-0`, 'backup', 'stat -c %s /data/.cdk8s-backup/*.rdb 2>/dev/null || echo 0')).trim().split('\n').some((s) => Number(s) > 0));
  const killedMidStream = !settled;
  await crash(NS, `${NAME}-1`);
  const r = await running;
  const outcome = r.ok ? `completed: ${r.log.split('\n').find((l) => l.includes('done in'))}` : `failed: ${r.log.split('\n').find((l) => l.includes('FAILED'))}`;
  console.log(`backup-redis: snapshot with the replica SIGKILLed ${killedMidStream ? 'while it streamed' : 'after it had ended'}: ${outcome}`);
  expect(/backup: snapshot \S+ done in/.test(r.log) || /backup: FAILED/.test(r.log)).toBe(true);
  expect(r.ok).toBe(/done in/.test(r.log));
  // every snapshot the repository holds is whole: its checksum matches and redis-check-rdb reads it
  const snapshots = (await s3('s3_snapshots BACKUP')).trim().split('\n').filter(Boolean);
  for (const name of snapshots) {
    const check = await s3(`set -e; s3 BACKUP copyto --ignore-checksum "$(s3_dir BACKUP)${name}" /tmp/c.rdb; s3 BACKUP copyto "$(s3_dir BACKUP)${name}.sha256" /tmp/c.sha256; ` +
      `[ "$(sha256sum /tmp/c.rdb | cut -d' ' -f1)" = "$(cut -d' ' -f1 /tmp/c.sha256)" ] && redis-check-rdb /tmp/c.rdb | grep 'RDB looks OK'; rm -f /tmp/c.rdb /tmp/c.sha256`);
    expect({ name, ok: /RDB looks OK/.test(check) }).toEqual({ name, ok: true });
  }
  // a failed attempt left no object behind (nothing new beside the complete snapshots)
  if (!r.ok) {
    const after = (await s3('s3_objects BACKUP')).trim().split('\n').map((l) => l.split(' ')[1]);
    const previous = before.split('\n').map((l) => l.split(' ')[1]);
    expect(after.filter((o) => !previous.includes(o))).toEqual([]);
  }
  await waitForReady(NS, NAME, 2, minutes(5));
}, minutes(12));

test('the schedule takes snapshots on its own, and keeps the newest 3', async () => {
  await waitFor(NS, 'a scheduled snapshot in the sidecar log', minutes(7), async () =>
    /snapshot \S+ done in/.test(await kubectl(['-n', NS, 'logs', `${NAME}-0`, '-c', 'backup'])));
  expect((await s3('s3_snapshots BACKUP')).trim().split('\n').filter(Boolean).length).toBeLessThanOrEqual(3);
}, minutes(8));

test('the store down: the snapshot fails, DatabaseBackupFailed fires; the store back, the next snapshot resolves it', async () => {
  // quiet first: an earlier test's failed attempt (the replica SIGKILLed) may be the last one yet
  if ((await prometheus.alerts('DatabaseBackupFailed', NAME)).length > 0) {
    expect((await snapshotNow()).ok).toBe(true);
    await prometheus.untilResolved(NS, 'DatabaseBackupFailed', NAME, minutes(1));
  }
  await stopS3Store(NS);
  const down = Date.now();
  try {
    const r = await snapshotNow();
    console.log(`backup-redis: with the store down: ${r.log.split('\n').find((l) => l.includes('FAILED'))}`);
    expect(r.ok).toBe(false);
    expect(r.log).toMatch(/backup: FAILED after \d+s/);
    const fired = await prometheus.untilFiring(NS, 'DatabaseBackupFailed', NAME, minutes(1));
    console.log(`backup-redis: DatabaseBackupFailed ${[...fired.states].sort().join('+')} ${((Date.now() - down) / 1000).toFixed(0)} s after the store went down`);
    expect((await prometheus.query(`cdk8s_backup_failures_total{namespace="${NS}",pod="${PODS[0]}"} > 0`)).length).toBe(1);
  } finally {
    await startS3Store(NS);
  }
  const r = await snapshotNow();
  expect(r.ok).toBe(true);
  await prometheus.untilResolved(NS, 'DatabaseBackupFailed', NAME, minutes(1));
  console.log(`backup-redis: DatabaseBackupFailed resolved ${((Date.now() - down) / 1000).toFixed(0)} s after the store went down`);
}, minutes(6));
