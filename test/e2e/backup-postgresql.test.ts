// PostgreSQL backups on the real node: a primary and a replica with `backup` to a real S3-compatible
// store (versitygw, test/e2e/s3-store.ts) through pgBackRest. Batch A, a full backup (the primary
// starts it, the data files read from the replica), batch B, the time noted, batch C, WAL
// archived; two new sets in new namespaces with `restoreFrom`: the whole archive holds A+B+C,
// the point in time between B and C exactly A+B. Then the store down while writes go on: the
// primary keeps serving, the backlog is archived once the store is back. The backups' state is in
// the sidecar's table, read with a pg_monitor account as the exporter does.
// The backed-up set has `metrics` (the postgres_exporter sidecar from the test image of Debian's
// prometheus-postgres-exporter, on the monitoring account docs/engines.md tells users to create),
// scraped by a real Prometheus on the host (./prometheus.ts) that evaluates the set's synthesized
// PrometheusRule: the server's, archiver's and backups' series are there, and with the store down
// for 5 minutes PostgresWalArchivingFailing and PostgresBackupFailed fire, then resolve once it is
// back. The exporters' CPU and memory are measured from their cgroups. A backup while the primary
// is SIGKILLed fails loudly and lists nothing; a restore from a damaged copy of the repository stops
// with pgBackRest's reason and never starts an empty server.
import * as fs from 'fs';
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, DatabaseMetricsOptions, PostgresVersion, S3Repository, StatefulDatabase } from '../../lib';
import {
  apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, NODE_SIZED, password, requireRealNode, run, sleep, synth, waitFor,
  waitForReady,
} from './helpers';
import { crash, throttle, volumeDirectory } from './faults';
import { AlertWatch, HostPrometheus, measureExporters, ruleFileOf } from './prometheus';
import { createS3Store, S3Store, startS3Store, stopS3Store, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-pg';
const NAME = 'pg';
const BUCKET = 'backups';
const IMAGE = imageRef('postgres-pgbackrest');
const VERSION = PostgresVersion.of(imageTag('postgres-pgbackrest').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const PASSWORDS = { 'root-password': password(), 'replication-password': password() };
const MONITORING_PASSWORD = password();
const PODS = [0, 1].map((i) => `${NAME}-${i}`);
// 19090 and 19091 are the metrics-redis and metrics-galera files' (the suite runs files side by side)
const prometheus = new HostPrometheus(19092);
const ARCHIVE_ALERTS = ['PostgresWalArchivingFailing', 'PostgresWalArchivingStalled'];
const BACKUP_ALERTS = ['PostgresBackupLate', 'PostgresBackupFailed'];
let store: S3Store;
let usage: Awaited<ReturnType<typeof measureExporters>>;

/** The set's repository in the store (restores read it too). */
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** Creates namespace NS with the credentials Secret: the set's passwords, the store's keys and CA. */
async function namespaceWithSecret(ns: string): Promise<void> {
  await deleteNamespace(ns);
  await createNamespace(ns);
  await createSecret(ns, `${NAME}-credentials`, {
    ...PASSWORDS, ...storeSecretEntries(store),
  });
}

/** The StatefulDatabase of these tests in NS, with ENGINE and REPLICAS members (and METRICS). */
function database(ns: string, engine: DatabaseEngine, replicas: number, metrics?: DatabaseMetricsOptions): string {
  return synth(ns, (chart) => defineDatabase(chart, engine, replicas, metrics));
}

function defineDatabase(chart: Chart, engine: DatabaseEngine, replicas: number, metrics?: DatabaseMetricsOptions): StatefulDatabase {
  return new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine,
    replicas,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
    metrics,
  });
}

/**
 * The backed-up set as applied (`operator: false`: the node has no Prometheus Operator CRD), or
 * with its PrometheusRule: backups every 5 minutes (the suite outlasts one, the last test finds the
 * scheduled backup) and the archiving alerts after 1 minute without an archived segment (the
 * least `walArchiveAge` takes), so that they fire within the 5 minutes the store is down.
 */
function backedUp(operator: boolean): string {
  return database(NS, DatabaseEngine.postgresql({
    version: VERSION,
    backup: { image: IMAGE, repository: repository(), schedule: '*/5 * * * *' },
  }), 2, {
    exporterImage: imageRef('postgres-exporter'),
    prometheusOperator: operator,
    alertThresholds: { walArchiveAge: Duration.minutes(1) },
  });
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

/**
 * One full backup at once, as the drill in docs/engines.md takes it, with REDIRECT on its output;
 * returns its output. The schedule (every 5 minutes) may be taking its own backup at this moment:
 * pgBackRest's lock refuses a second one (error 050), so wait for it to end and ask again.
 */
async function backupNow(redirect: string, env = ''): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exec(NS, `${NAME}-0`, 'backup', `${env}bash /opt/cdk8s-stateful/postgres-backup.sh now ${redirect}`, undefined, minutes(8));
    } catch (e) {
      const said = redirect.startsWith('>') ? await exec(NS, `${NAME}-0`, 'backup', `cat ${redirect.replace(/^>\s*(\S+).*$/, '$1')}`) : String(e);
      if (attempt >= 4 || !/unable to acquire lock/.test(said)) throw e;
      await sleep(20_000);
    }
  }
}

/** The labels of the full backups the repository lists (`pgbackrest info`), e.g. 20261206-101500F. */
async function fullBackups(): Promise<string[]> {
  const info = await exec(NS, `${NAME}-0`, 'backup', 'pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db info');
  return [...info.matchAll(/full backup: (\d{8}-\d{6}F)/g)].map((m) => m[1]);
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, {
    ...PASSWORDS, ...storeSecretEntries(store),
    'monitoring-username': 'monitoring', 'monitoring-password': MONITORING_PASSWORD,
  });
  await apply(NS, backedUp(false));
  await waitForReady(NS, NAME, 2, minutes(8));
  // the monitoring account as docs/engines.md gives it, created once on the primary; it replicates
  await sql(NS, `CREATE ROLE monitoring LOGIN PASSWORD '${MONITORING_PASSWORD}';\nGRANT pg_monitor TO monitoring;`);
  await prometheus.start(NS, PODS, 9187, ruleFileOf(backedUp(true)));
  usage = await measureExporters(NS, PODS);
}, minutes(16));
afterAll(async () => {
  await prometheus.stop('prometheus-backup-postgresql');
  for (const ns of [NS, `${NS}-whole`, `${NS}-pitr`, `${NS}-damaged`]) await deleteNamespace(ns);
}, minutes(15));

let pointInTime = '';

test('WAL is archived to the store; a full backup of batch A, the files read from the replica; batch B, the time, batch C, all archived', async () => {
  await sql(NS, 'CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
  await writeBatch('a', 1, 50);
  await archiveAll(NS);
  const started = Date.now();
  const out = await backupNow('2>&1', 'PGBACKREST_LOG_LEVEL_CONSOLE=detail ');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  expect(out).toMatch(/full backup done in \d+s, \d+ bytes in the repository/);
  // 2 members: the primary's sidecar chose the replica from its pg_stat_replication; pgBackRest
  // names the host of each file it read remotely: the data files came from the replica, the few
  // the primary alone holds right (pg_control, its config files) from the primary's directory
  expect(out).toMatch(/reading the files from the replica pg-1 \(pg_stat_replication: async, streaming, \d+ bytes behind\)/);
  expect(out).toMatch(/replay on the standby reached/);
  const copied = out.split('\n').filter((l) => / DETAIL: backup file /.test(l));
  const fromReplica = copied.filter((l) => l.includes(` backup file ${NAME}-1.`)).length;
  const fromPrimary = copied.filter((l) => / backup file \/var\/lib\/postgresql\//.test(l)).length;
  console.log(`backup-postgresql: full backup in ${seconds}s, ${fromReplica} files read from ${NAME}-1, ${fromPrimary} from the primary, ${copied.length} in all: ${out.split('\n').filter((l) => l.includes('full backup done')).join('')}`);
  expect(fromReplica + fromPrimary).toBe(copied.length);
  expect(fromReplica).toBeGreaterThan(10 * fromPrimary);
  expect(copied.filter((l) => / backup file \/var\/lib\/postgresql\/data\/pgdata\/base\//.test(l))).toEqual([]);
  expect((await fullBackups()).length).toBeGreaterThan(0);
  // the backup's state, as the exporter's pg_monitor account reads it (docs/engines.md, Backup
  // state), on the replica too: the sidecar's table replicates
  const state = 'SELECT failures, last_size_bytes > 0, last_duration_seconds >= 0, last_success > now() - interval \'10 minutes\', since <= last_success FROM cdk8s_stateful.backup_status';
  await waitFor(NS, 'the backup state on the replica', minutes(1), async () =>
    (await exec(NS, `${NAME}-1`, 'main', 'psql -h /var/run/postgresql -U monitoring -d postgres -At -f -', state)).trim() === '0|t|t|t|t');
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

test('Prometheus scrapes both exporters: the server, the archiver and the backup state as in the table; the archiving and late-backup alerts quiet', async () => {
  const query = (q: string) => prometheus.query(q);
  const byPod = async (metric: string) => (await query(`${metric}{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort();
  await waitFor(NS, 'both exporters scraped, PostgreSQL up on each', minutes(2), async () =>
    (await query(`pg_up{namespace="${NS}"} == 1`)).length === 2 && (await query(`up{namespace="${NS}"} == 1`)).length === 2);
  expect(await byPod('pg_replication_is_replica')).toEqual([[PODS[0], '0'], [PODS[1], '1']]);
  // the sidecar's table, on both members (it replicates), as the primary holds it now (a scheduled
  // backup may land meanwhile: compared afresh until they agree)
  let row = '';
  await waitFor(NS, 'the backup series of both members matching the table', minutes(1), async () => {
    row = await sql(NS, 'SELECT extract(epoch FROM last_success)::bigint, failures, repository FROM cdk8s_stateful.backup_status');
    const [success, failures, repository] = row.split('|');
    const series = await query(`pgbackrest_backup_last_success_timestamp_seconds{namespace="${NS}"}`);
    return JSON.stringify(await byPod('pgbackrest_backup_failures')) === JSON.stringify(PODS.map((p) => [p, failures])) &&
      JSON.stringify(series.map((r) => [r.metric.pod, r.metric.repository, r.value[1]]).sort()) === JSON.stringify(PODS.map((p) => [p, repository, success]));
  });
  for (const metric of ['pgbackrest_backup_last_size_bytes', 'pgbackrest_backup_since_timestamp_seconds']) {
    expect({ metric, positive: (await query(`${metric}{namespace="${NS}"} > 0`)).length }).toEqual({ metric, positive: 2 });
  }
  expect((await query(`pgbackrest_backup_last_duration_seconds{namespace="${NS}"} >= 0`)).length).toBe(2);
  // the primary's archiver: segments archived, the last one recently
  expect((await query(`pg_stat_archiver_archived_count{namespace="${NS}",pod="${PODS[0]}"} > 0`)).length).toBe(1);
  expect((await query(`pg_stat_archiver_failed_count{namespace="${NS}",pod="${PODS[0]}"}`)).length).toBe(1);
  expect((await query(`pg_stat_archiver_last_archive_age{namespace="${NS}",pod="${PODS[0]}"} < 300`)).length).toBe(1);
  console.log(`backup-postgresql: exporter series: backup row ${row}; archiver on ${PODS[0]}: ` +
    `${(await query(`pg_stat_archiver_archived_count{namespace="${NS}",pod="${PODS[0]}"}`))[0].value[1]} archived, ` +
    `${(await query(`pg_stat_archiver_failed_count{namespace="${NS}",pod="${PODS[0]}"}`))[0].value[1]} failed`);
  // quiet on a healthy set (PostgresBackupFailed follows the table's failures: a scheduled backup
  // that met the manual one's lock counts as failed, rightly)
  for (const name of [...ARCHIVE_ALERTS, 'PostgresBackupLate']) {
    expect({ name, alerts: await prometheus.alerts(name, NAME) }).toEqual({ name, alerts: [] });
  }
}, minutes(4));

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

test('the store down for 5 minutes while rows are written: the primary takes them all, PostgresWalArchivingFailing and PostgresBackupFailed fire; once it is back the backlog is archived and the archiving alert resolves', async () => {
  await stopS3Store(NS);
  const down = Date.now();
  const before = Number(await sql(NS, 'SELECT failed_count FROM pg_stat_archiver'));
  // writes and segment switches while the store is away, a batch of 100 rows every 20 s
  let batchesWritten = 0;
  let lastWrite = 0;
  const write = async () => {
    const from = 200 + batchesWritten * 100;
    await sql(NS, `INSERT INTO t SELECT g, 'd' FROM generate_series(${from}, ${from + 99}) g; SELECT pg_switch_wal();`);
    batchesWritten++;
    lastWrite = Date.now();
  };
  // every state each alert was seen in, and when it first fired (seconds after the store went down)
  const alerts = new AlertWatch(prometheus, NAME, [...ARCHIVE_ALERTS, ...BACKUP_ALERTS], down);
  await write();
  await waitFor(NS, 'the archiver reporting failures', minutes(2), async () => Number(await sql(NS, 'SELECT failed_count FROM pg_stat_archiver')) > before);
  // the store stays down 5 minutes, and until both alerts fire (the scheduled backup, every 5 minutes, fails once)
  await alerts.hold(NS, 'the store down', {
    fire: ['PostgresWalArchivingFailing', 'PostgresBackupFailed'], atLeastMs: minutes(5), timeoutMs: minutes(9),
    tick: async () => { if (Date.now() - lastWrite >= 20_000) await write(); },
  });
  expect(await sql(NS, "SELECT count(*) FROM t WHERE v = 'd'")).toBe(String(batchesWritten * 100));
  const pending = await sql(NS, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
  await startS3Store(NS);
  const back = Date.now();
  await archiveAll(NS, minutes(5));
  const archivedAfter = (Date.now() - back) / 1000;
  await prometheus.untilResolved(NS, 'PostgresWalArchivingFailing', NAME, minutes(3));
  console.log(`backup-postgresql: store down ${((back - down) / 1000).toFixed(0)} s, ${batchesWritten * 100} rows written meanwhile; ${alerts.summary('the store went down')}; ` +
    `backlog up to ${pending} archived ${archivedAfter.toFixed(1)} s after the store came back, PostgresWalArchivingFailing resolved ${((Date.now() - back) / 1000).toFixed(1)} s after`);
  // the archiver failed rather than hung: the stalled alert never fired
  expect(alerts.fired('PostgresWalArchivingStalled')).toBe(false);
}, minutes(20));

test('the schedule took a full backup on its own (sidecar log and backup-status); PostgresBackupFailed resolved', async () => {
  // the next scheduled backup after the store came back succeeds
  await prometheus.untilResolved(NS, 'PostgresBackupFailed', NAME, minutes(7));
  await waitFor(NS, 'a scheduled backup in the sidecar log', minutes(6), async () =>
    /full backup done in \d+s/.test(await kubectl(['-n', NS, 'logs', `${NAME}-0`, '-c', 'backup'])));
  const status = await exec(NS, `${NAME}-0`, 'backup', 'cat /var/run/postgresql/backup-status');
  expect(status).toMatch(/^last_success=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
  expect(status).toMatch(/^size_bytes=\d+$/m);
  const row = await exec(NS, `${NAME}-0`, 'main', 'psql -h /var/run/postgresql -U monitoring -d postgres -At -f -',
    'SELECT extract(epoch FROM last_success)::bigint, last_size_bytes::bigint FROM cdk8s_stateful.backup_status');
  const last = /^last_success=(.*)$/m.exec(status)![1];
  // the same backup in the file and the table (a scheduled attempt while the store was down may have failed since)
  expect(row.trim()).toBe(`${Date.parse(last) / 1000}|${/^size_bytes=(\d+)$/m.exec(status)![1]}`);
}, minutes(14));

test('a backup while the primary is SIGKILLed fails loudly (the reason in its output, a failure in backup-status, no backup listed for it); the next one succeeds', async () => {
  const log = '/var/run/postgresql/e2e-backup-crashed.log';
  const before = await fullBackups();
  // the backup sidecar held to 5% of a core: the copy (about 4 s unthrottled) lasts long enough to strike during it
  const slow = await throttle(NS, `${NAME}-0`, 'backup', 5);
  const started = new Date();
  let outcome: Promise<string>;
  try {
    // the primary's files (BACKUP_MEMBER=primary for this backup): a backup reading the replica
    // would be taken again from the primary once it failed, the primary back by then
    outcome = backupNow(`> ${log} 2>&1`, 'BACKUP_MEMBER=primary ').then(() => 'succeeded', () => 'failed');
    await waitFor(NS, 'pgBackRest copying (backup start archive logged)', minutes(3), async () =>
      /backup start archive/.test(await exec(NS, `${NAME}-0`, 'backup', `cat ${log} 2>/dev/null || true`)));
    await crash(NS, `${NAME}-0`);
  } finally {
    await slow.release();
  }
  expect(await outcome).toBe('failed');
  const out = await exec(NS, `${NAME}-0`, 'backup', `cat ${log}`);
  console.log(`backup-postgresql: the backup with its primary crashed: ${out.split('\n').filter((l) => /ERROR|FAILED/.test(l)).join(' / ')}`);
  expect(out).toMatch(/backup: FAILED after \d+s/);
  expect(out).toMatch(/ERROR: \[\d+\]/);
  const status = await exec(NS, `${NAME}-0`, 'backup', 'cat /var/run/postgresql/backup-status');
  const failures = [...status.matchAll(/^last_failure=(.*)$/gm)].map((m) => Date.parse(m[1]));
  expect(failures.some((t) => t >= started.getTime() - 1000)).toBe(true);
  // no backup listed that started while the crashed one ran (a scheduled one may have landed before)
  const label = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const during = (await fullBackups()).filter((b) => !before.includes(b) && b.slice(0, 15) >= label(started));
  expect(during).toEqual([]);
  await waitForReady(NS, NAME, 2, minutes(5));
  expect(await backupNow('2>&1')).toMatch(/full backup done in \d+s/);
  expect((await fullBackups()).length).toBeGreaterThan(0);
}, minutes(20));

test('a restore from a corrupted backup stops with pgBackRest\'s reason and the repository named; the set never starts empty', async () => {
  // a copy of the repository with one file of its newest backup damaged (the original stays whole)
  const store = await volumeDirectory(NS, 's3');
  const original = `${store}/${BUCKET}/${NS}/${NAME}`;
  const damaged = `${original}-damaged`;
  await run('rm', ['-rf', damaged]);
  expect((await run('cp', ['-a', original, damaged])).code).toBe(0);
  const newest = (await fullBackups()).sort().pop()!;
  const files = (await run('find', [`${damaged}/backup/db/${newest}/pg_data/base`, '-type', 'f', '-size', '+8k'])).stdout.trim().split('\n').filter(Boolean).sort();
  expect(files.length).toBeGreaterThan(0);
  const victim = files[0];
  const size = fs.statSync(victim).size;
  const fd = fs.openSync(victim, 'r+');
  fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor(size / 2));
  fs.closeSync(fd);
  const ns = `${NS}-damaged`;
  await namespaceWithSecret(ns);
  await apply(ns, database(ns, DatabaseEngine.postgresql({
    version: VERSION,
    restoreFrom: { image: IMAGE, repository: { ...repository(), path: `/${NS}/${NAME}-damaged` } },
  }), 1));
  let said = '';
  await waitFor(ns, 'the restore failed with its reason', minutes(6), async () => {
    const r = await run('kubectl', ['-n', ns, 'logs', `${NAME}-0`, '-c', 'clone']);
    const previous = await run('kubectl', ['-n', ns, 'logs', `${NAME}-0`, '-c', 'clone', '--previous']);
    said = `${previous.stdout}\n${r.stdout}`;
    return /the restore from .* failed/.test(said);
  });
  console.log(`backup-postgresql: restore from a damaged backup (${victim.slice(damaged.length)}): ${said.split('\n').filter((l) => /ERROR|failed/.test(l)).join(' / ')}`);
  // zstd's frame checksum or pgBackRest's own checksum of the file, whichever meets the damage first
  expect(said).toMatch(/ERROR: \[\d+\]: .*(corrupt|checksum)/i);
  expect(said).toMatch(new RegExp(`the restore from ${BUCKET}/${NS}/${NAME}-damaged failed`));
  // the server never ran: the pod is not Ready and its main container never started
  const pod = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', `${NAME}-0`, '-o', 'json']));
  const main = pod.status.containerStatuses?.find((c: any) => c.name === 'main');
  expect(main?.state?.running).toBeUndefined();
  expect(main?.lastState?.terminated).toBeUndefined();
  await deleteNamespace(ns);
  await run('rm', ['-rf', damaged]);
}, minutes(12));

test('the exporters\' own use, measured from their cgroups over the run, fits their limits', async () => {
  expect(await usage.report('exporter-usage-backup-postgresql')).toHaveLength(2);
}, minutes(2));
