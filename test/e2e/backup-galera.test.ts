// MariaDB Galera backups on the real node: three members with `backup` to a real S3-compatible
// store (versitygw over HTTPS with a private CA, test/e2e/s3-store.ts), every container on the test
// image with MariaDB and rclone. Rows 1-200, a backup (`mariadb-backup.sh now` in the sidecar of
// the highest ordinal), rows 201-250; a new set of three in a new namespace with `restoreFrom`:
// its first member restores and bootstraps, the others join it by SST, and each holds rows 1-200
// and none after. A backup object corrupted in the store: the restore stops in the init container
// `restore` naming it, and no member's server starts. The server of the member being backed up
// SIGKILLed mid-backup: the backup fails loudly or completes, every backup the store holds is
// whole, and the next one succeeds. Then backups every minute (the schedule applied again through
// the props) and the store down for 5 minutes while rows are written through every member: the
// scheduled backups fail, DatabaseBackupFailed fires in a real Prometheus on the host
// (./prometheus.ts) scraping the sidecars' series and evaluating the set's synthesized rules; the
// store back, the next scheduled backup succeeds and the alert resolves; every row is on every member.
// The members log their binary log, archived every 10 s (backup.binlogArchiveInterval): rows
// 251-260, a moment T, rows 261-270, the archive past them; a new set restored to T
// (restoreFrom.pointInTime: the backup, then the archived binary log replayed up to T before the
// first member bootstraps) holds rows 1-260 on every member and none after.
import { Duration } from 'cdk8s';
import { DatabaseEngine, MariaDbVersion, S3Repository } from '../../lib';
import { apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, password, requireRealNode, sleep, waitFor, waitForReady } from './helpers';
import { backupNow, backupRules, backupSet, backupWhileCrashed, describeStoreDown, expectNoServerStarted, insertBlobs, insertOrders, storeDownOnSchedule } from './backup-set';
import { HostPrometheus } from './prometheus';
import { createS3Store, namespaceWithStoreSecret, S3Store, sidecarS3, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-galera';
const NAME = 'gl';
const BUCKET = 'backups';
const IMAGE = imageRef('mariadb-rclone');
const VERSION = MariaDbVersion.of(imageTag('mariadb-rclone').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const ROOT_PASSWORD = password();
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
// 19090-19092 and 19094-19098 are other files' (the suite runs files side by side)
const prometheus = new HostPrometheus(19093);
let store: S3Store;

/** The set's repository in the store (the restore reads it too). */
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** The set of these tests in NS: 3 members of ENGINE. */
const database = (ns: string, engine: DatabaseEngine) => backupSet(ns, NAME, engine, 3);

/** The backed-up set's engine: backups at SCHEDULE (UTC), the newest 3 kept, the binary log archived every 10 s. */
const backedUp = (schedule: string) => DatabaseEngine.mariadbGalera({
  version: VERSION,
  apiClientImage: imageRef('curl'),
  backup: { image: IMAGE, repository: repository(), schedule, retainBackups: 3, binlogArchiveInterval: Duration.seconds(10) },
});

/** SQL as root on member ORDINAL of NS, from its own database container (the password from the Secret's file). */
async function sql(ns: string, ordinal: number, statement: string): Promise<string> {
  return (await exec(ns, `${NAME}-${ordinal}`, 'main', `MYSQL_PWD="$(cat /run/secrets/db/root-password)" mariadb --protocol=socket -uroot -N -B`, statement)).trim();
}

/** `mariadb-backup.sh now` in the sidecar of the highest ordinal: its log. */
const takeBackup = () => backupNow(NS, `${NAME}-2`, 'mariadb-backup.sh');

/** A call of the S3 functions in that sidecar (the BACKUP repository). */
const s3 = (call: string) => sidecarS3(NS, `${NAME}-2`, call);

/** A new namespace NS with the credentials Secret: the backed-up set's root password, the store's keys and CA. */
const namespaceWithSecret = (ns: string) => namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, { 'root-password': ROOT_PASSWORD });

/** Rows FROM..TO of shop.orders, written on member ORDINAL. */
async function insert(ordinal: number, from: number, to: number): Promise<void> {
  await sql(NS, ordinal, insertOrders(from, to));
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, { 'root-password': ROOT_PASSWORD, ...storeSecretEntries(store) });
  // a schedule that does not fire while the earlier tests run: their backups are taken at once
  await apply(NS, database(NS, backedUp('30 2 * * *')));
  await waitForReady(NS, NAME, 3, minutes(8));
}, minutes(10));
afterAll(async () => {
  await prometheus.stop('prometheus-backup-galera');
  for (const ns of [NS, `${NS}-restore`, `${NS}-pitr`, `${NS}-corrupt`]) await deleteNamespace(ns);
}, minutes(10));

test('a backup of the highest ordinal holds the rows written before it; a new set restored from it in a new namespace has them all, none after', async () => {
  await sql(NS, 0, 'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40));');
  await insert(0, 1, 100);
  await insert(1, 101, 200);
  const started = Date.now();
  const log = await takeBackup();
  console.log(`backup-galera: backup in ${((Date.now() - started) / 1000).toFixed(1)}s: ${log.split('\n').filter((l) => l.includes('done in')).join('')}`);
  expect(log).toMatch(/backup: \d{8}T\d{6}Z\.mbstream done in \d+s: \d+ bytes from member 2, Galera position [-0-9a-f]{36}:\d+, binary log binlog\.\d{6} \d+, sha256 [0-9a-f]{64}/);
  // the sidecar serves the outcome to Prometheus on its port (backup-metrics.sh): the backup's size
  // on the member that takes them, no series on another
  const served = (ordinal: number) => kubectl(['-n', NS, 'exec', `${NAME}-${ordinal}`, '-c', 'backup', '--', 'bash', '-c',
    'exec 3<>/dev/tcp/127.0.0.1/9188 && printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3']);
  const size = /done in \d+s: (\d+) bytes/.exec(log)![1];
  const metrics2 = await served(2);
  expect(metrics2).toMatch(/^HTTP\/1\.[01] 200/);
  expect(metrics2).toMatch(new RegExp(`^cdk8s_backup_last_size_bytes\\{repository="s3://[^"]+"\\} ${size}$`, 'm'));
  expect(metrics2).toMatch(/^cdk8s_backup_consecutive_failures\{[^}]*\} 0$/m);
  expect(await served(0)).not.toMatch(/^cdk8s_backup_/m);
  await insert(2, 201, 250);

  const ns = `${NS}-restore`;
  await namespaceWithSecret(ns);
  const applied = Date.now();
  await apply(ns, database(ns, DatabaseEngine.mariadbGalera({ version: VERSION, apiClientImage: imageRef('curl'), restoreFrom: { image: IMAGE, repository: repository() } })));
  await waitForReady(ns, NAME, 3, minutes(8));
  console.log(`backup-galera: restore into ${ns}: three members Ready ${((Date.now() - applied) / 1000).toFixed(1)}s after apply`);
  expect(await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore'])).toMatch(/restored \d{8}T\d{6}Z\.mbstream into \S+ at Galera position [-0-9a-f]+:\d+/);
  for (const ordinal of [0, 1, 2]) {
    expect({ ordinal, rows: await sql(ns, ordinal, 'SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders;') }).toEqual({ ordinal, rows: '200\t1\t200' });
  }
  // the restored set takes writes on every member
  await sql(ns, 1, "INSERT INTO shop.orders VALUES (1000, 'after restore');");
  await sleep(1000);
  expect(await sql(ns, 2, 'SELECT COUNT(*) FROM shop.orders;')).toBe('201');
  await deleteNamespace(ns);
}, minutes(14));

test('a restore to a point in time: the backup, then the archived binary log up to that moment: every row written before it, none after', async () => {
  // rows 1-250 are there (1-200 in the backup); 251-260 before the moment, 261-270 after it
  await insert(1, 251, 260);
  // a whole second at least 1 s after the last row before it, and 1.5 s before the first after it
  const target = Math.floor(Date.now() / 1000) + 2;
  await sleep(target * 1000 + 1500 - Date.now());
  await insert(0, 261, 270);
  const written = Date.now() / 1000;
  const archivedUntil = async () => Number(/^cdk8s_binlog_archived_until_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(
    await kubectl(['-n', NS, 'exec', `${NAME}-2`, '-c', 'backup', '--', 'cat', '/var/lib/mysql/.cdk8s-backup-metrics/metrics']))?.[1] ?? 0);
  await waitFor(NS, 'the binary log archived past the last row', minutes(1), async () => (await archivedUntil()) > written);
  console.log(`backup-galera: binary log archived ${(await archivedUntil() - written).toFixed(1)}s after the last row; ` +
    (await s3('s3 BACKUP lsf -R "$(s3_dir BACKUP)binlog/" | grep -c sha256')).trim() + ' archived files');

  const pointInTime = new Date(target * 1000).toISOString().replace('.000Z', 'Z');
  const ns = `${NS}-pitr`;
  await namespaceWithSecret(ns);
  const applied = Date.now();
  await apply(ns, database(ns, DatabaseEngine.mariadbGalera({ version: VERSION, apiClientImage: imageRef('curl'), restoreFrom: { image: IMAGE, repository: repository(), pointInTime } })));
  await waitForReady(ns, NAME, 3, minutes(8));
  console.log(`backup-galera: restore to ${pointInTime} into ${ns}: three members Ready ${((Date.now() - applied) / 1000).toFixed(1)}s after apply`);
  const log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore']);
  console.log(`backup-galera: ${log.split('\n').filter((l) => /replay/.test(l)).join(' | ')}`);
  expect(log).toMatch(/replayed \d+ archived binary log file\(s\) from position \d+ up to /);
  for (const ordinal of [0, 1, 2]) {
    expect({ ordinal, rows: await sql(ns, ordinal, 'SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders;') }).toEqual({ ordinal, rows: '260\t1\t260' });
  }
  await deleteNamespace(ns);
}, minutes(12));

test('a corrupted backup object: the restore stops in the init container restore naming it, and no member starts', async () => {
  const name = /backup: (\S+) done/.exec(await takeBackup())![1];
  // one byte changed in the stored object (its checksum object untouched), as bit rot or a bad copy would
  await s3(`set -e; s3 BACKUP copyto "$(s3_dir BACKUP)${name}" /tmp/${name}; printf X | dd of=/tmp/${name} bs=1 seek=1000000 conv=notrunc 2>/dev/null; ` +
    `s3 BACKUP copyto /tmp/${name} "$(s3_dir BACKUP)${name}"; rm -f /tmp/${name}`);
  const ns = `${NS}-corrupt`;
  await namespaceWithSecret(ns);
  await apply(ns, database(ns, DatabaseEngine.mariadbGalera({ version: VERSION, apiClientImage: imageRef('curl'), restoreFrom: { image: IMAGE, repository: repository() } })));
  let log = '';
  await waitFor(ns, 'the restore container of the first member failing on the corrupted backup', minutes(4), async () => {
    log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore']).catch(() => '');
    if (!/is corrupted/.test(log)) log = await kubectl(['-n', ns, 'logs', `${NAME}-0`, '-c', 'restore', '--previous']).catch(() => '');
    return /is corrupted/.test(log);
  });
  console.log(`backup-galera: corrupted restore: ${log.split('\n').find((l) => l.includes('is corrupted'))}`);
  expect(log).toContain(`the backup s3://${store.endpoint}/${BUCKET}/${NS}/${NAME}/${name} is corrupted: its SHA-256 is`);
  expect(log).toContain('the set does not start instead');
  // no member's server started: the first stops in restore, the others wait in decide for a member with data
  await expectNoServerStarted(ns, [0, 1, 2].map((i) => `${NAME}-${i}`), 15_000);
  await deleteNamespace(ns);
  await s3(`s3 BACKUP deletefile "$(s3_dir BACKUP)${name}.sha256"; s3 BACKUP deletefile "$(s3_dir BACKUP)${name}"`);
}, minutes(10));

test('a backup while the server it reads is SIGKILLed: it fails loudly or completes, never a partial backup in the store; the next one succeeds', async () => {
  // about 100 MB of incompressible rows, so that the stream takes a few seconds
  await sql(NS, 0, 'CREATE TABLE shop.blobs (id INT PRIMARY KEY, b VARBINARY(1024));');
  for (let from = 1; from <= 100000; from += 20000) await sql(NS, 0, `SET SESSION max_recursive_iterations = 100000; ${insertBlobs(from, from + 19999)}`);
  await waitFor(NS, 'the blobs on the member backed up', minutes(3), async () => (await sql(NS, 2, 'SELECT COUNT(*) FROM shop.blobs').catch(() => '')) === '100000');
  const outcome = await backupWhileCrashed(NS, `${NAME}-2`, 'mariadb-backup.sh', '.mbstream', 'x="$(mktemp -d)"; mbstream -x -C "$x"; s=$?; rm -rf "$x"; exit $s');
  console.log(`backup-galera: backup with its member's server SIGKILLed, ${outcome}`);
  await waitForReady(NS, NAME, 3, minutes(8));
  expect(await takeBackup()).toMatch(/backup: \S+\.mbstream done in \d+s/);
}, minutes(14));

test('backups every minute (the schedule applied again through the props), the store down for 5 minutes: every member takes every write, DatabaseBackupFailed fires in Prometheus; the store back, the next scheduled backup succeeds and it resolves', async () => {
  const scheduled = Date.now();
  await apply(NS, database(NS, backedUp('* * * * *')));
  await waitForReady(NS, NAME, 3, minutes(10));
  await sql(NS, 0, 'CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE shop.outage (id INT PRIMARY KEY, via INT);');
  // one row a write, through each member in turn
  const acked: number[] = [];
  let next = 1;
  const write = async () => {
    const id = next++;
    await sql(NS, id % 3, `INSERT INTO shop.outage VALUES (${id}, ${id % 3});`);
    acked.push(id);
  };
  const outcome = await storeDownOnSchedule({
    ns: NS, name: NAME, pods: PODS, prometheus, rules: backupRules(NS, NAME, backedUp('* * * * *'), 3), scheduled, downMs: minutes(5), write,
  });
  console.log(`backup-galera: ${describeStoreDown(outcome)}`);
  // none lost: every acknowledged row on every member
  for (const ordinal of [0, 1, 2]) {
    await waitFor(NS, `every acknowledged row on member ${ordinal}`, minutes(1), async () =>
      (await sql(NS, ordinal, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.outage;')) === acked.join(','));
  }
}, minutes(25));
