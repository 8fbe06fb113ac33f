// ZooKeeper backups on the real node: an ensemble of three with `backup` to a real S3-compatible
// store (versitygw over HTTPS with a private CA, test/e2e/s3-store.ts), every container but the API
// clients on the test image with ZooKeeper and rclone. Znodes of batch A, a backup now in the
// sidecar of the member that takes them (the serving follower with the highest server id), znodes
// of batch B; a new ensemble of three in a new namespace with `restoreFrom`: its founding member
// starts from the backup's snapshot and logs, the others join it, and each member serves every
// znode of A and none of B. A backup object corrupted in the store: the founder stops in its init
// container `config` naming it, and no member's server starts.
import { DatabaseEngine, S3Repository, ZooKeeperVersion } from '../../lib';
import { apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, password, requireRealNode, waitFor, waitForReady } from './helpers';
import { backupLogSince, backupNow, backupRules, backupSet, describeStoreDown, expectNoServerStarted, storeDownOnSchedule } from './backup-set';
import { pause } from './faults';
import { HostPrometheus } from './prometheus';
import { createS3Store, namespaceWithStoreSecret, S3Store, sidecarS3, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-zookeeper';
const NAME = 'zk';
const BUCKET = 'backups';
const IMAGE = imageRef('zookeeper-rclone');
const VERSION = ZooKeeperVersion.of(imageTag('zookeeper-rclone').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const BATCH = 25;
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
// 19090-19095, 19097 and 19098 are other files' (the suite runs files side by side)
const prometheus = new HostPrometheus(19096);
let store: S3Store;

/** The ensemble's repository in the store (the restore reads it too). */
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** The ensemble of these tests in NS: 3 members of ENGINE. */
const ensemble = (ns: string, engine: DatabaseEngine) => backupSet(ns, NAME, engine, 3);

/** The ensemble's engine: backups at SCHEDULE (UTC), the newest RETAIN kept. */
const backedUp = (schedule: string, retain: number) => DatabaseEngine.zookeeper({
  version: VERSION,
  backup: { image: IMAGE, repository: repository(), schedule, retainBackups: retain },
});

/** Every minute, the newest 2 kept: the later tests' schedule. */
const everyMinute = () => backedUp('* * * * *', 2);

/** zkCli.sh on member ORDINAL of NS, against its own server, running COMMANDS in one session: its output. */
function zkCli(ns: string, ordinal: number, commands: string[]): Promise<string> {
  return exec(ns, `${NAME}-${ordinal}`, 'main', 'ZOO_LOG_DIR=/tmp CLIENT_JVMFLAGS=-Xmx64m zkCli.sh -server 127.0.0.1:2181 2>&1',
    `${commands.join('\n')}\nquit\n`, minutes(2));
}

/** Znodes /PREFIX-1 .. /PREFIX-BATCH, created through member ORDINAL of NS; all of them served there after. */
async function createBatch(ns: string, ordinal: number, prefix: string): Promise<void> {
  const ids = Array.from({ length: BATCH }, (_, k) => k + 1);
  await zkCli(ns, ordinal, ids.map((id) => `create /${prefix}-${id} v${id}`));
  expect({ prefix, created: await znodes(ns, ordinal, prefix) }).toEqual({ prefix, created: ids });
}

/** The numbers of the znodes /PREFIX-N that member ORDINAL of NS serves. */
async function znodes(ns: string, ordinal: number, prefix: string): Promise<number[]> {
  // sync first: the member may not have applied a write made through another yet
  const out = await zkCli(ns, ordinal, ['sync /', 'ls /']);
  return [...out.matchAll(new RegExp(`\\b${prefix}-(\\d+)\\b`, 'g'))].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The Mode member ORDINAL of NS reports (`srvr`), from its own container. */
async function mode(ns: string, ordinal: number): Promise<string | undefined> {
  const out = await exec(ns, `${NAME}-${ordinal}`, 'main', 'exec bash -c \'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; cat <&3\'');
  return /^Mode: (\w+)/m.exec(out)?.[1];
}

/** The Prometheus text the sidecar `backup` of member ORDINAL serves on its port. */
const served = (ordinal: number) => kubectl(['-n', NS, 'exec', `${NAME}-${ordinal}`, '-c', 'backup', '--', 'bash', '-c',
  'exec 3<>/dev/tcp/127.0.0.1/9188 && printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3']);

let taker = -1;
let backupName = '';
let backupBytes = 0;

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, storeSecretEntries(store));
  // a schedule that does not fire while the first tests run: their backup is taken at once
  await apply(NS, ensemble(NS, backedUp('30 2 * * *', 3)));
  await waitForReady(NS, NAME, 3, minutes(8));
}, minutes(10));
afterAll(async () => {
  await prometheus.stop('prometheus-backup-zookeeper');
  for (const ns of [NS, `${NS}-restore`, `${NS}-corrupt`]) await deleteNamespace(ns);
}, minutes(10));

test('the serving follower with the highest id takes the backups; a backup holds batch A; a new ensemble restored from it serves A on every member, not B', async () => {
  await createBatch(NS, 0, 'a');
  const modes = [await mode(NS, 0), await mode(NS, 1), await mode(NS, 2)];
  expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
  // a fresh ensemble: member i is server i + 1, so the highest follower id is the highest follower ordinal
  taker = modes.lastIndexOf('follower');
  const leader = modes.indexOf('leader');
  // each sidecar reads the role every minute: wait until the last word of each is the steady one
  const lastRole = async (ordinal: number) => {
    const lines = (await kubectl(['-n', NS, 'logs', `${NAME}-${ordinal}`, '-c', 'backup'])).split('\n')
      .filter((l) => /backups of this member at|does not take the scheduled backups/.test(l));
    return lines[lines.length - 1] ?? '';
  };
  await waitFor(NS, `the sidecar of ${NAME}-${taker} taking the scheduled backups, the leader's not`, minutes(3), async () =>
    /backup: backups of this member at '30 2 \* \* \*'/.test(await lastRole(taker)) && /does not take/.test(await lastRole(leader)));
  expect(await lastRole(leader)).toMatch(/does not take the scheduled backups \(the serving follower with the highest server id does/);

  const started = Date.now();
  const log = await backupNow(NS, `${NAME}-${taker}`, 'zookeeper-backup.sh');
  console.log(`backup-zookeeper: backup in ${((Date.now() - started) / 1000).toFixed(1)}s: ${log.split('\n').filter((l) => l.includes('done in')).join('')}`);
  const done = new RegExp(`backup: (\\d{8}T\\d{6}Z-zxid-([0-9a-f]+)\\.tar) done in \\d+s: (\\d+) bytes from member ${taker} \\(follower\\), snapshot zxid 0x([0-9a-f]+) and \\d+ transaction logs, sha256 [0-9a-f]{64}`).exec(log);
  expect(done).not.toBeNull();
  backupName = done![1];
  backupBytes = Number(done![3]);
  expect(done![4]).toBe(done![2]);
  // the outcome served to Prometheus by the member that takes them; none by the leader
  const metrics = await served(taker);
  expect(metrics).toMatch(new RegExp(`^cdk8s_backup_last_size_bytes\\{repository="s3://[^"]+"\\} ${backupBytes}$`, 'm'));
  expect(metrics).toMatch(/^cdk8s_backup_consecutive_failures\{[^}]*\} 0$/m);
  expect(await served(leader)).not.toMatch(/^cdk8s_backup_/m);
  await createBatch(NS, 1, 'b');

  const ns = `${NS}-restore`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, {});
  const applied = Date.now();
  await apply(ns, ensemble(ns, DatabaseEngine.zookeeper({ version: VERSION, restoreFrom: { image: IMAGE, repository: repository() } })));
  await waitForReady(ns, NAME, 3, minutes(8));
  console.log(`backup-zookeeper: restore into ${ns}: three members Ready ${((Date.now() - applied) / 1000).toFixed(1)}s after apply`);
  const configLogs = await Promise.all([0, 1, 2].map((i) => kubectl(['-n', ns, 'logs', `${NAME}-${i}`, '-c', 'config'])));
  expect(configLogs.filter((l) => l.includes(`zookeeper: restored ${backupName} into /data: snapshot.`))).toHaveLength(1);
  const all = Array.from({ length: BATCH }, (_, k) => k + 1);
  for (const ordinal of [0, 1, 2]) {
    expect({ ordinal, a: await znodes(ns, ordinal, 'a'), b: await znodes(ns, ordinal, 'b') }).toEqual({ ordinal, a: all, b: [] });
  }
  // one ensemble of three, which takes writes
  const restoredModes = [await mode(ns, 0), await mode(ns, 1), await mode(ns, 2)];
  expect(restoredModes.sort()).toEqual(['follower', 'follower', 'leader']);
  await createBatch(ns, 2, 'c');
  expect(await znodes(ns, 0, 'c')).toEqual(all);
  await deleteNamespace(ns);
}, minutes(16));

test('a corrupted backup object: the founder stops in its init container config naming it, and no member starts', async () => {
  expect(backupName).not.toBe('');
  // one byte changed inside the stored object (its checksum object untouched), as bit rot or a bad copy would
  const offset = Math.floor(backupBytes / 2);
  await sidecarS3(NS, `${NAME}-${taker}`, `set -e; s3 BACKUP copyto "$(s3_dir BACKUP)${backupName}" /tmp/${backupName}; ` +
    `printf X | dd of=/tmp/${backupName} bs=1 seek=${offset} conv=notrunc 2>/dev/null; ` +
    `s3 BACKUP copyto /tmp/${backupName} "$(s3_dir BACKUP)${backupName}"; rm -f /tmp/${backupName}`);
  const ns = `${NS}-corrupt`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, {});
  await apply(ns, ensemble(ns, DatabaseEngine.zookeeper({ version: VERSION, restoreFrom: { image: IMAGE, repository: repository(), backup: backupName } })));
  let log = '';
  await waitFor(ns, 'the config container of the founding member failing on the corrupted backup', minutes(4), async () => {
    for (const i of [0, 1, 2]) {
      for (const previous of [[], ['--previous']]) {
        log = await kubectl(['-n', ns, 'logs', `${NAME}-${i}`, '-c', 'config', ...previous]).catch(() => '');
        if (/is corrupted/.test(log)) return true;
      }
    }
    return false;
  });
  console.log(`backup-zookeeper: corrupted restore: ${log.split('\n').find((l) => l.includes('is corrupted'))}`);
  expect(log).toContain(`the backup s3://${store.endpoint}/${BUCKET}/${NS}/${NAME}/${backupName} is corrupted: its SHA-256 is`);
  expect(log).toContain('the ensemble does not start instead');
  // no member's server started: the founder stops in config, the others wait there for a serving member
  await expectNoServerStarted(ns, [0, 1, 2].map((i) => `${NAME}-${i}`), 15_000);
  await deleteNamespace(ns);
}, minutes(10));

/** The backups member ORDINAL's sidecar logged as done since SINCE (ms), oldest first. */
async function doneSince(ordinal: number, since: number): Promise<string[]> {
  const done = new RegExp(`backup: (\\S+\\.tar) done in \\d+s: \\d+ bytes from member ${ordinal} `);
  return (await backupLogSince(NS, [`${NAME}-${ordinal}`], since)).map((l) => done.exec(l)?.[1]).filter((n): n is string => n !== undefined);
}

/** The UTC time (ms) a backup's name starts with, e.g. 20261207T065512Z-zxid-1a.tar. */
const nameTime = (name: string) => Date.parse(name.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z.*$/, '$1-$2-$3T$4:$5:$6Z'));

/** The members' modes, by ordinal (undefined: not serving). */
const modes = () => Promise.all([0, 1, 2].map((i) => mode(NS, i).catch(() => undefined)));

/**
 * The member that takes the scheduled backups, if the roles have settled since SINCE (ms): the
 * serving follower with the highest id (the highest follower ordinal) says it takes them, the
 * others that they do not (or said nothing since), each in its last role line; else -1.
 */
async function takerNow(since: number): Promise<number> {
  const now = await modes();
  const taker = now.lastIndexOf('follower');
  if (taker < 0 || now.filter((m) => m === 'leader').length !== 1) return -1;
  for (const ordinal of [0, 1, 2]) {
    const roles = (await backupLogSince(NS, [`${NAME}-${ordinal}`], since)).filter((l) => /backups of this member at|does not take the scheduled backups/.test(l));
    const takes = /backups of this member at '\* \* \* \* \*'/.test(roles[roles.length - 1] ?? '');
    if (takes !== (ordinal === taker)) return -1;
  }
  return taker;
}

/** Waits until the roles have settled since SINCE (`takerNow`); returns the taker's ordinal. */
async function settledTaker(since: number): Promise<number> {
  let taker = -1;
  await waitFor(NS, 'the sidecar of the highest serving follower taking the scheduled backups, the others not', minutes(3), async () => {
    taker = await takerNow(since);
    return taker >= 0;
  });
  return taker;
}

let scheduled = 0;

test('every minute (the schedule and retention applied again through the props): the highest serving follower takes a backup each minute, and only the newest 2 are kept', async () => {
  scheduled = Date.now();
  await apply(NS, ensemble(NS, everyMinute()));
  await waitForReady(NS, NAME, 3, minutes(8));
  // (while the members restarted one by one the role may have moved: counted from when it settled)
  const taker = await settledTaker(scheduled);
  const settled = Date.now();
  let names: string[] = [];
  let stored: string[] = [];
  // listed right after the expiry of a backup (the last line of its sidecar), before the next minute's
  await waitFor(NS, `three scheduled backups of ${NAME}-${taker}, the oldest deleted`, minutes(6), async () => {
    const lines = await backupLogSince(NS, [`${NAME}-${taker}`], settled);
    names = await doneSince(taker, settled);
    if (names.length < 3 || !/backup: deleted \S+ \(more than 2 backups\)/.test(lines[lines.length - 1] ?? '')) return false;
    stored = (await sidecarS3(NS, `${NAME}-${taker}`, 's3_objects BACKUP')).trim().split('\n').filter(Boolean).map((l) => l.split(' ')[1]).sort();
    return (await doneSince(taker, settled)).length === names.length;
  });
  console.log(`backup-zookeeper: scheduled backups of ${NAME}-${taker}: ${names.join(', ')}; the store holds ${stored.join(', ')}`);
  // one a minute, each in its own minute
  expect(new Set(names.map((n) => n.slice(0, 13))).size).toBe(names.length);
  // the newest 2 and their checksum objects, nothing else (the older ones deleted, the first tests' too)
  const kept = names.slice(-2);
  expect(stored).toEqual([...kept, ...kept.map((n) => `${n}.sha256`)].sort());
  // no other member took one
  for (const ordinal of [0, 1, 2].filter((i) => i !== taker)) expect({ ordinal, done: await doneSince(ordinal, settled) }).toEqual({ ordinal, done: [] });
}, minutes(16));

test('the member taking the backups lost (its server stopped, SIGSTOP, for 100 s): the other follower takes the next scheduled backup; the member back, it takes them again', async () => {
  expect(scheduled).toBeGreaterThan(0);
  const taker = await settledTaker(scheduled);
  const other = (await modes()).indexOf('follower');
  expect(other).not.toBe(taker);
  const lost = Date.now();
  const stopped = pause(NS, `${NAME}-${taker}`, 100);
  let taken: string[] = [];
  try {
    await waitFor(NS, `a scheduled backup of ${NAME}-${other} while ${NAME}-${taker} is lost`, minutes(3), async () => {
      taken = await doneSince(other, lost);
      return taken.length > 0;
    });
  } finally {
    await stopped;
  }
  const resumed = Date.now();
  // it began while the member was lost (a name is its backup's UTC start)
  const tookOver = (nameTime(taken[0]) - lost) / 1000;
  expect(tookOver).toBeLessThan(100);
  expect(await backupLogSince(NS, [`${NAME}-${other}`], lost)).toContainEqual(expect.stringMatching(/backup: backups of this member at '\* \* \* \* \*'/));
  await waitForReady(NS, NAME, 3, minutes(5));
  // serving again (its server let go on, or restarted by its liveness probe), it is again the
  // highest serving follower: it takes the role back and the next backup, the other hands it back
  await waitFor(NS, `${NAME}-${taker} taking the scheduled backups again`, minutes(4), async () =>
    (await takerNow(lost)) === taker && (await doneSince(taker, resumed)).length > 0);
  const back = (Date.now() - resumed) / 1000;
  console.log(`backup-zookeeper: ${NAME}-${taker} lost: ${NAME}-${other} began ${taken[0]} ${tookOver.toFixed(0)} s after; ` +
    `${NAME}-${taker} serving again, it took ${(await doneSince(taker, resumed))[0]} ${back.toFixed(0)} s after`);
}, minutes(14));

test('backups every minute, the store down for 5 minutes: every member serves every znode written meanwhile, DatabaseBackupFailed fires in Prometheus; the store back, the next scheduled backup succeeds and it resolves', async () => {
  expect(scheduled).toBeGreaterThan(0);
  await waitForReady(NS, NAME, 3, minutes(5));
  // one znode a write, through each member in turn
  const acked: number[] = [];
  let next = 1;
  const write = async () => {
    const id = next++;
    const out = await zkCli(NS, id % 3, [`create /outage-${id} v${id}`]);
    if (!out.includes(`Created /outage-${id}`)) throw new Error(`create /outage-${id} through member ${id % 3}: ${out.split('\n').slice(-5).join(' ')}`);
    acked.push(id);
  };
  const outcome = await storeDownOnSchedule({
    ns: NS, name: NAME, pods: PODS, prometheus, rules: backupRules(NS, NAME, everyMinute(), 3), scheduled, downMs: minutes(5), write,
  });
  console.log(`backup-zookeeper: ${describeStoreDown(outcome)}`);
  for (const ordinal of [0, 1, 2]) expect({ ordinal, znodes: await znodes(NS, ordinal, 'outage') }).toEqual({ ordinal, znodes: acked });
}, minutes(25));
