// PostgreSQL backups on the real node: a primary and a replica with `backup` to a real S3-compatible
// store (versitygw, test/e2e/s3-store.ts) through pgBackRest. Batch A, a full backup, batch B, the
// time noted, batch C, WAL archived; two new sets in new namespaces with `restoreFrom`: the whole
// archive holds A+B+C, the point in time between B and C exactly A+B. Then the store down while
// writes go on: the primary keeps serving, the backlog is archived once the store is back.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, PostgresVersion, S3Repository, StatefulDatabase } from '../../lib';
import {
  apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, NODE_SIZED, password, requireRealNode, sleep, synth, waitFor,
  waitForReady,
} from './helpers';
import { createS3Store, S3Store, startS3Store, stopS3Store } from './s3-store';

const NS = 'e2e-backup-pg';
const NAME = 'pg';
const BUCKET = 'backups';
const IMAGE = imageRef('postgres-pgbackrest');
const VERSION = PostgresVersion.of(imageTag('postgres-pgbackrest').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const PASSWORDS = { 'root-password': password(), 'replication-password': password() };
let store: S3Store;

/** The set's repository in the store (restores read it too). */
const repository = (): S3Repository => ({ bucket: BUCKET, endpoint: store.endpoint, region: 'us-east-1', path: `/${NS}/${NAME}`, caCertificateKey: 's3-ca.crt' });

/** Creates namespace NS with the credentials Secret: the set's passwords, the store's keys and CA. */
async function namespaceWithSecret(ns: string): Promise<void> {
  await deleteNamespace(ns);
  await createNamespace(ns);
  await createSecret(ns, `${NAME}-credentials`, {
    ...PASSWORDS, 's3-access-key-id': KEYS.accessKeyId, 's3-secret-access-key': KEYS.secretAccessKey, 's3-ca.crt': store.caCertificate,
  });
}

/** The StatefulDatabase of these tests in NS, with ENGINE and REPLICAS members. */
function database(ns: string, engine: DatabaseEngine, replicas: number): string {
  return synth(ns, (chart) => new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine,
    replicas,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
  }));
}

/** Runs SQL through the primary's socket (the superuser, trusted locally) in NS. */
async function sql(ns: string, statement: string): Promise<string> {
  return (await exec(ns, `${NAME}-0`, 'main', 'psql -h /var/run/postgresql -U postgres -d postgres -At -v ON_ERROR_STOP=1 -f -', statement)).trim();
}

/** Inserts rows FROM..TO of batch BATCH, each committed on its own. */
async function writeBatch(batch: string, from: number, to: number): Promise<void> {
  const rows = Array.from({ length: to - from + 1 }, (_, i) => `INSERT INTO t VALUES (${from + i}, '${batch}');`).join('\n');
  await sql(NS, rows);
}

/** Switches to a new WAL segment and waits until the archiver has stored it. */
async function archiveAll(ns: string, timeoutMs = minutes(3)): Promise<string> {
  const segment = await sql(ns, 'SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(ns, `WAL segment ${segment} archived`, timeoutMs, async () =>
    (await sql(ns, `SELECT coalesce(last_archived_wal >= '${segment}', false) FROM pg_stat_archiver`)) === 't');
  return segment;
}

/** The rows of the restored set in NS, as `batch:count` per batch. */
async function batches(ns: string): Promise<string> {
  return sql(ns, "SELECT string_agg(b || ':' || n, ' ' ORDER BY b) FROM (SELECT v AS b, count(*) AS n FROM t GROUP BY v) s");
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, {
    ...PASSWORDS, 's3-access-key-id': KEYS.accessKeyId, 's3-secret-access-key': KEYS.secretAccessKey, 's3-ca.crt': store.caCertificate,
  });
  await apply(NS, database(NS, DatabaseEngine.postgresql({
    version: VERSION,
    // every 5 minutes: the suite outlasts one, the last test finds the scheduled backup
    backup: { image: IMAGE, repository: repository(), schedule: '*/5 * * * *' },
  }), 2));
  await waitForReady(NS, NAME, 2, minutes(8));
}, minutes(14));
afterAll(async () => {
  for (const ns of [NS, `${NS}-whole`, `${NS}-pitr`]) await deleteNamespace(ns);
}, minutes(15));

let pointInTime = '';

test('WAL is archived to the store; a full backup of batch A; batch B, the time, batch C, all archived', async () => {
  await sql(NS, 'CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
  await writeBatch('a', 1, 50);
  await archiveAll(NS);
  const started = Date.now();
  // the schedule (every 5 minutes) may be taking its own backup at this moment: pgBackRest's lock
  // refuses a second one (error 050), so wait for it to end and ask again
  let out = '';
  for (let attempt = 1; ; attempt++) {
    try {
      out = await exec(NS, `${NAME}-0`, 'backup', 'bash /opt/cdk8s-stateful/postgres-backup.sh now 2>&1', undefined, minutes(5));
      break;
    } catch (e) {
      if (attempt >= 4 || !/unable to acquire lock/.test(String(e))) throw e;
      await sleep(20_000);
    }
  }
  console.log(`backup-postgresql: full backup in ${((Date.now() - started) / 1000).toFixed(1)}s: ${out.split('\n').filter((l) => l.includes('full backup done')).join('')}`);
  expect(out).toMatch(/full backup done in \d+s, \d+ bytes in the repository/);
  const info = await exec(NS, `${NAME}-0`, 'backup', 'pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db info');
  expect(info).toMatch(/full backup: \d{8}-\d{6}F/);
  await writeBatch('b', 51, 80);
  await new Promise((r) => setTimeout(r, 1500));
  pointInTime = await sql(NS, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  await new Promise((r) => setTimeout(r, 1500));
  await writeBatch('c', 81, 100);
  await archiveAll(NS);
  expect(await batches(NS)).toBe('a:50 b:30 c:20');
  // the replica streams as without backups
  expect((await exec(NS, `${NAME}-1`, 'main', 'psql -h /var/run/postgresql -U postgres -Atc "SELECT count(*) FROM t"')).trim()).toBe('100');
}, minutes(10));

test('restore into new namespaces: the whole archive has A+B+C; the point in time between B and C has exactly A+B', async () => {
  expect(pointInTime).not.toBe('');
  const restore = async (suffix: string, target?: string) => {
    const ns = `${NS}-${suffix}`;
    await namespaceWithSecret(ns);
    const started = Date.now();
    await apply(ns, database(ns, DatabaseEngine.postgresql({
      version: VERSION,
      restoreFrom: { image: IMAGE, repository: repository(), pointInTime: target },
    }), 1));
    await waitForReady(ns, NAME, 1, minutes(8));
    await waitFor(ns, 'the restored primary promoted', minutes(3), async () => (await sql(ns, 'SELECT pg_is_in_recovery()')) === 'f');
    console.log(`backup-postgresql: restore ${suffix}${target ? ` to ${target}` : ''}: Ready and promoted ${((Date.now() - started) / 1000).toFixed(1)}s after apply`);
    return ns;
  };
  const [whole, pitr] = await Promise.all([restore('whole'), restore('pitr', pointInTime)]);
  expect(await batches(whole)).toBe('a:50 b:30 c:20');
  expect(await batches(pitr)).toBe('a:50 b:30');
  // the restored set takes writes
  await sql(pitr, "INSERT INTO t VALUES (1000, 'after-restore')");
  expect(await sql(pitr, 'SELECT count(*) FROM t')).toBe('81');
}, minutes(14));

test('the store down: the primary keeps taking writes; once it is back the backlog is archived', async () => {
  await stopS3Store(NS);
  const before = Number(await sql(NS, 'SELECT failed_count FROM pg_stat_archiver'));
  // writes and segment switches while the store is away
  for (let i = 0; i < 5; i++) {
    await sql(NS, `INSERT INTO t SELECT g, 'd' FROM generate_series(${200 + i * 100}, ${299 + i * 100}) g; SELECT pg_switch_wal();`);
  }
  await waitFor(NS, 'the archiver reporting failures', minutes(2), async () => Number(await sql(NS, 'SELECT failed_count FROM pg_stat_archiver')) > before);
  expect(await sql(NS, "SELECT count(*) FROM t WHERE v = 'd'")).toBe('500');
  const pending = await sql(NS, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
  await startS3Store(NS);
  const started = Date.now();
  await archiveAll(NS, minutes(5));
  console.log(`backup-postgresql: backlog up to ${pending} archived ${((Date.now() - started) / 1000).toFixed(1)}s after the store came back`);
}, minutes(10));

test('the schedule took a full backup on its own (sidecar log and backup-status)', async () => {
  await waitFor(NS, 'a scheduled backup in the sidecar log', minutes(6), async () =>
    /full backup done in \d+s/.test(await kubectl(['-n', NS, 'logs', `${NAME}-0`, '-c', 'backup'])));
  const status = await exec(NS, `${NAME}-0`, 'backup', 'cat /var/run/postgresql/backup-status');
  expect(status).toMatch(/^last_success=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
  expect(status).toMatch(/^size_bytes=\d+$/m);
}, minutes(8));
