// MySQL backups on the real node: a primary and a replica with `backup` to a real S3-compatible
// store (versitygw over HTTPS with a private CA, test/e2e/s3-store.ts), every container on the test
// image with MySQL and rclone (tools/images/mysql-rclone). Rows 1-200, a backup (`mysql-backup.sh
// now` in the sidecar of the highest ordinal: the replica clones itself with CLONE LOCAL), rows
// 201-250; a new set of two in a new namespace with `restoreFrom`: its first member restores, the
// replica clones it, and each holds rows 1-200 and none after. A backup object corrupted in the
// store: the restore stops in the init container `restore` naming it, and no server starts. The
// replica's server SIGKILLed while it clones itself for a backup: the backup fails loudly or
// completes, every backup the store holds is whole, and the next one succeeds. Then backups every
// minute (the schedule applied again through the props) and the store down for 5 minutes while
// rows are written: the scheduled backups fail, DatabaseBackupFailed fires in a real Prometheus on
// the host (./prometheus.ts) scraping the sidecars' series and evaluating the set's synthesized
// rules; the store back, the next scheduled backup succeeds and the alert resolves; every row is
// on both members.
// The set archives its binary log every 10 s (backup.binlogArchiveInterval): rows 251-260, a
// moment T, rows 261-270, the archive past them; a new set restored to T (restoreFrom.pointInTime:
// the backup, then the archived binary log replayed up to T) holds rows 1-260 and none after.
import { Duration } from 'cdk8s';
import { DatabaseEngine, MysqlVersion, S3Repository } from '../../lib';
import { apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, password, requireRealNode, sleep, waitFor, waitForReady } from './helpers';
import { backupNow, backupRules, backupSet, backupWhileCrashed, describeStoreDown, expectNoServerStarted, insertBlobs, insertOrders, storeDownOnSchedule } from './backup-set';
import { HostPrometheus } from './prometheus';
import { createS3Store, namespaceWithStoreSecret, S3Store, sidecarS3, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-mysql';
const NAME = 'my';
const BUCKET = 'backups';
const IMAGE = imageRef('mysql-rclone');
const VERSION = MysqlVersion.of(imageTag('mysql-rclone').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const PASSWORDS = { 'root-password': password(), 'replication-password': password() };
const PODS = [0, 1].map((i) => `${NAME}-${i}`);
// 19090-19097 are other files' (the suite runs files side by side)
const prometheus = new HostPrometheus(19098);
let store: S3Store;

/** The set's repository in the store (the restore reads it too). */
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** The set of these tests in NS: 2 members of ENGINE. */
const database = (ns: string, engine: DatabaseEngine) => backupSet(ns, NAME, engine, 2);

/** The backed-up set's engine: backups at SCHEDULE (UTC), the newest 3 kept, the binary log archived every 10 s. */
const backedUp = (schedule: string) => DatabaseEngine.mysql({
  version: VERSION,
  apiClient: { apiClientImage: imageRef('curl') },
  backup: { image: IMAGE, repository: repository(), schedule, retainBackups: 3, binlogArchiveInterval: Duration.seconds(10) },
});

/** A new set restored from the repository (to POINT_IN_TIME, if given). */
const restored = (pointInTime?: string) => DatabaseEngine.mysql({ version: VERSION, apiClient: { apiClientImage: imageRef('curl') },
  restoreFrom: { image: IMAGE, repository: repository(), pointInTime } });

/** SQL as root on member ORDINAL of NS, from its own database container (the password from the Secret's file). */
async function sql(ns: string, ordinal: number, statement: string): Promise<string> {
  return (await exec(ns, `${NAME}-${ordinal}`, 'main', 'MYSQL_PWD="$(cat /run/secrets/db/root-password)" mysql --protocol=socket -uroot -N -B', statement)).trim();
}

/** `mysql-backup.sh now` in the sidecar of the highest ordinal: its log. */
const takeBackup = () => backupNow(NS, `${NAME}-1`, 'mysql-backup.sh');

/** Rows FROM..TO of shop.orders, written on the primary. */
async function insert(from: number, to: number): Promise<void> {
  await sql(NS, 0, insertOrders(from, to));
}

/** Rows 1..TO replicated to the replica of NS. */
async function replicated(ns: string, to: number): Promise<void> {
  await waitFor(ns, `row ${to} on the replica`, minutes(1), async () => (await sql(ns, 1, `SELECT COUNT(*) FROM shop.orders WHERE id <= ${to}`).catch(() => '')) === String(to));
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, { ...PASSWORDS, ...storeSecretEntries(store) });
  // a schedule that does not fire while the earlier tests run: their backups are taken at once
  await apply(NS, database(NS, backedUp('30 2 * * *')));
  await waitForReady(NS, NAME, 2, minutes(6));
}, minutes(8));
afterAll(async () => {
  await prometheus.stop('prometheus-backup-mysql');
  for (const ns of [NS, `${NS}-restore`, `${NS}-pitr`, `${NS}-corrupt`]) await deleteNamespace(ns);
}, minutes(10));

test('a backup of the replica holds the rows written before it; a new set restored from it in a new namespace has them all, none after', async () => {
  await sql(NS, 0, 'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40));');
  await insert(1, 200);
  await replicated(NS, 200);
  const started = Date.now();
  const log = await takeBackup();
  console.log(`backup-mysql: backup in ${((Date.now() - started) / 1000).toFixed(1)}s: ${log.split('\n').filter((l) => l.includes('done in')).join('')}`);
  expect(log).toMatch(/backup: \d{8}T\d{6}Z\.tar done in \d+s: \d+ bytes from member 1 .*sha256 [0-9a-f]{64}/);
  // the local copy is gone
  expect((await kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'ls', '-A', '/var/lib/mysql'])).split('\n')).not.toContain('.cdk8s-backup');
  // the attempt recorded for Prometheus (backup-metrics.sh)
  const metrics = await kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'cat', '/var/lib/mysql/.cdk8s-backup-metrics/metrics']);
  expect(metrics).toMatch(/^cdk8s_backup_last_success_timestamp_seconds\{repository="s3:\/\/[^"]+"\} \d+$/m);
  expect(metrics).toMatch(/^cdk8s_backup_last_size_bytes\{repository="[^"]+"\} [1-9]\d*$/m);
  await insert(201, 250);

  const ns = `${NS}-restore`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, PASSWORDS);
  const applied = Date.now();
  await apply(ns, database(ns, restored()));
  await waitForReady(ns, NAME, 2, minutes(6));
  console.log(`backup-mysql: restore into ${ns}: two members Ready ${((Date.now() - applied) / 1000).toFixed(1)}s after apply`);
  expect(await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore'])).toMatch(/restored \d{8}T\d{6}Z\.tar into \S+/);
  for (const ordinal of [0, 1]) {
    expect({ ordinal, rows: await sql(ns, ordinal, 'SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders;') }).toEqual({ ordinal, rows: '200\t1\t200' });
  }
  // the restored set takes writes on its primary, and its replica follows
  await sql(ns, 0, "INSERT INTO shop.orders VALUES (1000, 'after restore');");
  await waitFor(ns, 'the write after the restore on the replica', minutes(1), async () => (await sql(ns, 1, 'SELECT COUNT(*) FROM shop.orders;')) === '201');
  await deleteNamespace(ns);
}, minutes(12));

/** The sidecar's metrics record of member 1 (the backups' and the binary log archive's series). */
const metricsRecord = () => kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'cat', '/var/lib/mysql/.cdk8s-backup-metrics/metrics']);

test('a restore to a point in time: the backup, then the archived binary log up to that moment: every row written before it, none after', async () => {
  // rows 1-250 are there (1-200 in the backup); 251-260 before the moment, 261-270 after it
  await insert(251, 260);
  await replicated(NS, 260);
  // a whole second at least 1 s after the last row before it, and 1.5 s before the first after it
  const target = Math.floor(Date.now() / 1000) + 2;
  await sleep(target * 1000 + 1500 - Date.now());
  await insert(261, 270);
  await replicated(NS, 270);
  const written = Date.now() / 1000;
  const archivedUntil = async () => Number(/^cdk8s_binlog_archived_until_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(await metricsRecord())?.[1] ?? 0);
  await waitFor(NS, 'the binary log archived past the last row', minutes(1), async () => (await archivedUntil()) > written);
  console.log(`backup-mysql: binary log archived ${(await archivedUntil() - written).toFixed(1)}s after the last row; objects: ` +
    (await sidecarS3(NS, `${NAME}-1`, 's3 BACKUP lsf -R "$(s3_dir BACKUP)binlog/" | grep -c sha256')).trim() + ' archived files');

  const pointInTime = new Date(target * 1000).toISOString().replace('.000Z', 'Z');
  const ns = `${NS}-pitr`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, PASSWORDS);
  const applied = Date.now();
  await apply(ns, database(ns, restored(pointInTime)));
  await waitForReady(ns, NAME, 2, minutes(6));
  console.log(`backup-mysql: restore to ${pointInTime} into ${ns}: two members Ready ${((Date.now() - applied) / 1000).toFixed(1)}s after apply`);
  const log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore']);
  console.log(`backup-mysql: ${log.split('\n').filter((l) => /replay/.test(l)).join(' | ')}`);
  expect(log).toMatch(/replayed \d+ archived binary log file\(s\) from position \d+ up to /);
  for (const ordinal of [0, 1]) {
    expect({ ordinal, rows: await sql(ns, ordinal, 'SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders;') }).toEqual({ ordinal, rows: '260\t1\t260' });
  }
  await deleteNamespace(ns);
}, minutes(10));

test('a corrupted backup object: the restore stops in the init container restore naming it, and no server starts', async () => {
  const name = /backup: (\S+) done/.exec(await takeBackup())![1];
  // one byte changed in the stored object (its checksum object untouched), as bit rot or a bad copy would
  await sidecarS3(NS, `${NAME}-1`, `set -e; s3 BACKUP copyto "$(s3_dir BACKUP)${name}" /tmp/${name}; printf X | dd of=/tmp/${name} bs=1 seek=1000000 conv=notrunc 2>/dev/null; ` +
    `s3 BACKUP copyto /tmp/${name} "$(s3_dir BACKUP)${name}"; rm -f /tmp/${name}`);
  const ns = `${NS}-corrupt`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, PASSWORDS);
  await apply(ns, database(ns, restored()));
  let log = '';
  await waitFor(ns, 'the restore container of the first member failing on the corrupted backup', minutes(3), async () => {
    log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore']).catch(() => '');
    if (!/is corrupted/.test(log)) log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore', '--previous']).catch(() => '');
    return /is corrupted/.test(log);
  });
  console.log(`backup-mysql: corrupted restore: ${log.split('\n').find((l) => l.includes('is corrupted'))}`);
  expect(log).toContain(`the backup s3://${store.endpoint}/${BUCKET}/${NS}/${NAME}/${name} is corrupted: its SHA-256 is`);
  expect(log).toContain('the set does not start instead');
  // no server started: the first member stops in restore, the replica waits in clone for it
  await expectNoServerStarted(ns, [0, 1].map((i) => `${NAME}-${i}`), 10_000);
  await deleteNamespace(ns);
  // the corrupted object out of the way of the later tests, which check every stored backup
  await sidecarS3(NS, `${NAME}-1`, `s3 BACKUP deletefile "$(s3_dir BACKUP)${name}.sha256"; s3 BACKUP deletefile "$(s3_dir BACKUP)${name}"`);
}, minutes(8));

test('the store unreachable: the backup fails loudly, its clone is removed, and the failure is recorded', async () => {
  const log = await kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'bash', '-c',
    `BACKUP_ENDPOINT=127.0.0.1:9 S3_RETRIES=1 S3_LOW_LEVEL_RETRIES=1 bash /opt/cdk8s-stateful/mysql-backup.sh now 2>&1; echo "exit=$?"`], { timeoutMs: minutes(3) });
  console.log(`backup-mysql: store unreachable: ${log.split('\n').find((l) => l.includes('FAILED'))}`);
  expect(log).toMatch(/backup: FAILED after \d+s: /);
  expect(log).not.toContain('exit=0');
  expect((await kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'ls', '-A', '/var/lib/mysql'])).split('\n')).not.toContain('.cdk8s-backup');
  const metrics = await kubectl(['-n', NS, 'exec', `${NAME}-1`, '-c', 'backup', '--', 'cat', '/var/lib/mysql/.cdk8s-backup-metrics/metrics']);
  expect(metrics).toMatch(/^cdk8s_backup_consecutive_failures\{repository="[^"]+"\} 1$/m);
  // the set kept serving
  await insert(300, 300);
}, minutes(4));

test('a backup while the replica\'s server is SIGKILLed: it fails loudly or completes, never a partial backup in the store; the next one succeeds', async () => {
  // about 100 MB of incompressible rows, so that the clone and the upload take a few seconds
  await sql(NS, 0, 'CREATE TABLE shop.blobs (id INT PRIMARY KEY, b VARBINARY(1024)); SET SESSION cte_max_recursion_depth = 100000; ' +
    `${insertBlobs(1, 50000)} ${insertBlobs(50001, 100000)}`);
  await waitFor(NS, 'the blobs on the replica', minutes(3), async () => (await sql(NS, 1, 'SELECT COUNT(*) FROM shop.blobs').catch(() => '')) === '100000');
  const outcome = await backupWhileCrashed(NS, `${NAME}-1`, 'mysql-backup.sh', '.tar', 'tar -tf - >/dev/null');
  console.log(`backup-mysql: backup with the replica's server SIGKILLed, ${outcome}`);
  await waitForReady(NS, NAME, 2, minutes(5));
  expect(await takeBackup()).toMatch(/backup: \S+\.tar done in \d+s/);
}, minutes(12));

test('backups every minute (the schedule applied again through the props), the store down for 5 minutes: the primary takes every write, DatabaseBackupFailed fires in Prometheus; the store back, the next scheduled backup succeeds and it resolves', async () => {
  const scheduled = Date.now();
  await apply(NS, database(NS, backedUp('* * * * *')));
  await waitForReady(NS, NAME, 2, minutes(8));
  await sql(NS, 0, 'CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE shop.outage (id INT PRIMARY KEY, v VARCHAR(40));');
  const acked: number[] = [];
  let next = 1;
  const write = async () => {
    const id = next++;
    await sql(NS, 0, `INSERT INTO shop.outage VALUES (${id}, 'row ${id}');`);
    acked.push(id);
  };
  const outcome = await storeDownOnSchedule({
    ns: NS, name: NAME, pods: PODS, prometheus, rules: backupRules(NS, NAME, backedUp('* * * * *'), 2), scheduled, downMs: minutes(5), write,
  });
  console.log(`backup-mysql: ${describeStoreDown(outcome)}`);
  // none lost: every acknowledged row on the primary and, once applied, on the replica
  for (const ordinal of [0, 1]) {
    await waitFor(NS, `every acknowledged row on member ${ordinal}`, minutes(1), async () =>
      (await sql(NS, ordinal, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.outage;')) === acked.join(','));
  }
}, minutes(25));
