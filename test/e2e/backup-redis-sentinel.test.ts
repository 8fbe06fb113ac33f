// Redis with Sentinel and `backup` on the real node: 3 members (the test image with Redis and
// rclone), a Sentinel beside each, snapshots to a real S3-compatible store (versitygw in a pod,
// test/e2e/s3-store.ts). The sidecar of the master's pod, as the Sentinels name it, takes the
// scheduled snapshots and reads a replica they report; the others' only wait. After a failover
// (SENTINEL FAILOVER) the new master's sidecar takes over within a minute, its record starting from
// the repository's newest snapshot, and its snapshot reads a replica. Then a new Sentinel set in a
// new namespace with `restoreFrom`: its first member, which finds the set never founded, restores
// the latest snapshot in its init container `restore` and starts as the master; the others never
// restore and replicate it; every key of the snapshot is on every member, none written after it;
// the Sentinels name the founder, and the Services select it and the replicas by their role labels.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, RedisOptions, StatefulDatabase } from '../../lib';
import { apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, kubectl, minutes, NODE_SIZED, password, requireRealNode, serviceEndpoints, synth, waitFor, waitForReady } from './helpers';
import { BACKUP_BUCKET, REDIS_RCLONE_IMAGE, REDIS_RCLONE_VERSION, SCRIPTS_PATH } from './redis-rclone';
import { createS3Store, S3Store, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-redis-sentinel';
const RESTORED = `${NS}-restore`;
const NAME = 'rs';
const PASSWORD = password();
const AUTH = 'REDISCLI_AUTH="$(cat /run/secrets/db/password)" redis-cli --no-auth-warning';
let store: S3Store;

/** The local Sentinel of member ORDINAL (of the set in NAMESPACE): ARGS, its answer. */
const sentinel = async (ordinal: number, args: string, namespace = NS) => (await exec(namespace, `${NAME}-${ordinal}`, 'sentinel', `${AUTH} -p 26379 ${args}`)).trim();

/** The ordinal of the master every Sentinel (of the set in NAMESPACE) names, once they agree and report two replicas with their link up. */
async function agreedMaster(namespace = NS): Promise<number> {
  let master = -1;
  await waitFor(namespace, 'the Sentinels agreeing on a master with two linked replicas', minutes(3), async () => {
    const named = await Promise.all([0, 1, 2].map((i) => sentinel(i, `SENTINEL get-master-addr-by-name ${NAME}`, namespace).catch(() => '')));
    const ordinals = named.map((n) => new RegExp(`^${NAME}-(\\d+)\\.`).exec(n)?.[1]);
    if (ordinals[0] === undefined || ordinals.some((o) => o !== ordinals[0])) return false;
    master = Number(ordinals[0]);
    const replicas = await sentinel(master, `SENTINEL replicas ${NAME}`, namespace).catch(() => '');
    return (replicas.match(/^master-link-status\nok$/mg) ?? []).length === 2;
  });
  return master;
}

/** redis-cli ARGS against member ORDINAL of NAMESPACE, from its database container. */
const cli = async (namespace: string, ordinal: number, args: string) => (await exec(namespace, `${NAME}-${ordinal}`, 'main', `${AUTH} ${args}`)).trim();

/** The set of this file in NAMESPACE: 3 members with Sentinel, and ENGINE's other options. */
function sentinelSet(namespace: string, options: Omit<RedisOptions, 'version' | 'sentinel'>): string {
  return synth(namespace, (chart) => new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine: DatabaseEngine.redis({ version: REDIS_RCLONE_VERSION, sentinel: { apiClientImage: imageRef('curl') }, ...options }),
    replicas: 3,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
  }));
}

/** `redis-backup.sh now` in the sidecar of member ORDINAL: its log (it must succeed). */
async function snapshotNow(ordinal: number): Promise<string> {
  return kubectl(['-n', NS, 'exec', `${NAME}-${ordinal}`, '-c', 'backup', '--', 'bash', '-c', `bash ${SCRIPTS_PATH}/redis-backup.sh now 2>&1`], { timeoutMs: minutes(3) });
}

/** Waits until the sidecar of member ORDINAL says it takes the scheduled snapshots (TAKES) or not. */
async function sidecarRole(ordinal: number, takes: boolean): Promise<void> {
  const said = takes ? `member ${ordinal} takes the snapshots` : `member ${ordinal} does not take the scheduled snapshots`;
  await waitFor(NS, `${NAME}-${ordinal}'s sidecar: '${said}' as its last word on its role`, minutes(2), async () => {
    const lines = (await kubectl(['-n', NS, 'logs', `${NAME}-${ordinal}`, '-c', 'backup'])).split('\n').filter((l) => /takes the snapshots|does not take the scheduled/.test(l));
    return lines.length > 0 && lines[lines.length - 1].includes(said);
  });
}

/** The series of the record of member ORDINAL's sidecar, by name (without `cdk8s_backup_`). */
async function record(ordinal: number): Promise<{ [name: string]: string }> {
  const text = await exec(NS, `${NAME}-${ordinal}`, 'backup', 'cat /data/.cdk8s-backup-metrics/metrics');
  return Object.fromEntries(text.split('\n').map((l) => /^cdk8s_backup_(\w+)\{[^}]*\} (\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]]));
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BACKUP_BUCKET, { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() });
  await createSecret(NS, `${NAME}-credentials`, { password: PASSWORD, ...storeSecretEntries(store) });
  await apply(NS, sentinelSet(NS, {
    // a schedule that does not fire while the file runs: the snapshots here are taken at once
    backup: { image: REDIS_RCLONE_IMAGE, repository: storeRepository(store, BACKUP_BUCKET, `/${NS}/${NAME}`), schedule: '0 0 1 1 *', retainBackups: 3 },
  }));
  await waitForReady(NS, NAME, 3, minutes(8));
}, minutes(14));
afterAll(async () => {
  for (const ns of [RESTORED, NS]) await deleteNamespace(ns);
}, minutes(12));

let first = { name: '', bytes: '' };

test('the master\'s sidecar takes the snapshots and reads a replica the Sentinels report; the others wait', async () => {
  const master = await agreedMaster();
  const replicas = [0, 1, 2].filter((i) => i !== master);
  expect(await exec(NS, `${NAME}-${master}`, 'main', `${AUTH} EVAL "for i = 1, 200 do redis.call('SET', 's:' .. i, 'v' .. i) end return 200" 0`)).toContain('200');
  expect((await exec(NS, `${NAME}-${master}`, 'main', `${AUTH} WAIT 2 10000`)).trim()).toBe('2');
  await sidecarRole(master, true);
  for (const i of replicas) await sidecarRole(i, false);
  const log = await snapshotNow(master);
  const done = log.split('\n').find((l) => l.includes('done in')) ?? log;
  console.log(`backup-redis-sentinel: snapshot on the master ${NAME}-${master}: ${done}`);
  expect(done).toMatch(new RegExp(`snapshot \\d{8}T\\d{6}Z\\.rdb done in \\d+s: \\d+ bytes, 200 keys, from ${NAME}-(${replicas.join('|')})\\.`));
  const [, name, bytes] = /snapshot (\S+) done in \d+s: (\d+) bytes/.exec(done)!;
  first = { name, bytes };
  expect(await record(master)).toMatchObject({ last_size_bytes: bytes, consecutive_failures: '0' });
  for (const i of replicas) expect({ i, series: await record(i) }).toEqual({ i, series: {} });
}, minutes(8));

test('after a failover the new master\'s sidecar takes over, its record from the newest snapshot; its snapshot reads a replica', async () => {
  expect(first.name).not.toBe('');
  const old = await agreedMaster();
  const started = Date.now();
  expect(await sentinel(old, `SENTINEL failover ${NAME}`)).toBe('OK');
  let promoted = old;
  await waitFor(NS, 'another master', minutes(2), async () => {
    promoted = await agreedMaster();
    return promoted !== old;
  });
  await sidecarRole(promoted, true);
  await sidecarRole(old, false);
  console.log(`backup-redis-sentinel: SENTINEL FAILOVER from ${NAME}-${old} to ${NAME}-${promoted}: its sidecar took the snapshots ${((Date.now() - started) / 1000).toFixed(0)} s after`);
  const nameTime = Date.parse(first.name.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.rdb$/, '$1-$2-$3T$4:$5:$6Z')) / 1000;
  expect(await record(promoted)).toMatchObject({ last_success_timestamp_seconds: String(nameTime), last_size_bytes: first.bytes });
  expect(await record(old)).toEqual({});
  const log = await snapshotNow(promoted);
  const done = log.split('\n').find((l) => l.includes('done in')) ?? log;
  console.log(`backup-redis-sentinel: snapshot on the new master: ${done}`);
  const others = [0, 1, 2].filter((i) => i !== promoted);
  expect(done).toMatch(new RegExp(`done in \\d+s: \\d+ bytes, 200 keys, from ${NAME}-(${others.join('|')})\\.`));
}, minutes(8));

test('restore into a new Sentinel set: the founder restores the latest snapshot and is the master; the others never restore and follow it; every key on every member; the Services select by role', async () => {
  // a key written after the last snapshot, which the restored set must not hold
  const source = await agreedMaster();
  expect(await cli(NS, source, 'SET after-snapshot 1')).toBe('OK');
  await deleteNamespace(RESTORED);
  await createNamespace(RESTORED);
  await createSecret(RESTORED, `${NAME}-credentials`, { password: PASSWORD, ...storeSecretEntries(store) });
  const started = Date.now();
  await apply(RESTORED, sentinelSet(RESTORED, { restoreFrom: { image: REDIS_RCLONE_IMAGE, repository: storeRepository(store, BACKUP_BUCKET, `/${NS}/${NAME}`) } }));
  await waitForReady(RESTORED, NAME, 3, minutes(8));
  const ready = (Date.now() - started) / 1000;
  const master = await agreedMaster(RESTORED);
  console.log(`backup-redis-sentinel: restore into ${RESTORED}: 3 members Ready ${ready.toFixed(1)} s after apply, the Sentinels agreeing on ${NAME}-${master} ${((Date.now() - started) / 1000).toFixed(1)} s after`);
  // the first member found the set never founded and restored; the others never restored
  const logs = await Promise.all([0, 1, 2].map((i) => kubectl(['-n', RESTORED, 'logs', `${NAME}-${i}`, '-c', 'restore'])));
  console.log(`backup-redis-sentinel: ${logs[0].split('\n').find((l) => l.includes('restored the snapshot'))}`);
  expect(logs[0]).toMatch(/restored the snapshot \d{8}T\d{6}Z\.rdb: 200 keys loaded/);
  for (const i of [1, 2]) expect({ i, log: logs[i] }).toEqual({ i, log: expect.stringContaining(`member ${i} does not restore`) });
  for (const i of [1, 2]) expect({ i, restored: /a new set from the snapshot/.test(logs[i]) }).toEqual({ i, restored: false });
  expect(master).toBe(0);
  // every key of the snapshot on every member, none written after it; one master
  for (const i of [0, 1, 2]) {
    await waitFor(RESTORED, `member ${i} holding the 200 keys`, minutes(1), async () => (await cli(RESTORED, i, 'DBSIZE')) === '200');
    expect({ i, last: await cli(RESTORED, i, 'GET s:200'), after: await cli(RESTORED, i, 'EXISTS after-snapshot') }).toEqual({ i, last: 'v200', after: '0' });
    expect({ i, role: /^role:(\w+)/m.exec(await cli(RESTORED, i, 'INFO replication'))?.[1] }).toEqual({ i, role: i === 0 ? 'master' : 'slave' });
  }
  // the Services select by the role labels; the restored master takes writes and its replicas follow
  await waitFor(RESTORED, 'the client Service on the master, -read on the replicas', minutes(1), async () =>
    JSON.stringify([await serviceEndpoints(RESTORED, NAME), await serviceEndpoints(RESTORED, `${NAME}-read`)]) === JSON.stringify([[`${NAME}-0`], [`${NAME}-1`, `${NAME}-2`]]));
  expect(await cli(RESTORED, 0, 'SET after-restore 1')).toBe('OK');
  expect(await cli(RESTORED, 0, 'WAIT 2 10000')).toBe('2');
  // the set is founded now: a member that loses its volume copies the master, never restores again
  expect(await kubectl(['-n', RESTORED, 'get', 'lease', `${NAME}-founded`, '-o', 'name'])).toContain(`${NAME}-founded`);
}, minutes(14));
