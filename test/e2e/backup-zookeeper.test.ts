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
import { backupNow, backupSet, expectNoServerStarted } from './backup-set';
import { createS3Store, namespaceWithStoreSecret, S3Store, sidecarS3, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-zookeeper';
const NAME = 'zk';
const BUCKET = 'backups';
const IMAGE = imageRef('zookeeper-rclone');
const VERSION = ZooKeeperVersion.of(imageTag('zookeeper-rclone').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const BATCH = 25;
let store: S3Store;

/** The ensemble's repository in the store (the restore reads it too). */
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** The ensemble of these tests in NS: 3 members of ENGINE. */
const ensemble = (ns: string, engine: DatabaseEngine) => backupSet(ns, NAME, engine, 3);

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
  await apply(NS, ensemble(NS, DatabaseEngine.zookeeper({
    version: VERSION,
    backup: { image: IMAGE, repository: repository(), schedule: '30 2 * * *', retainBackups: 3 },
  })));
  await waitForReady(NS, NAME, 3, minutes(8));
}, minutes(10));
afterAll(async () => {
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
