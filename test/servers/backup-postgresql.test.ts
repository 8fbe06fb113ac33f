// PostgreSQL 15 backups with Debian's pgBackRest to a real S3-compatible store (versitygw, built by
// tools/s3-server/build.sh) over HTTPS on loopback, driven by the preset's scripts as its
// containers run them: the server with the preset's archive settings, the sidecar's
// `postgres-backup.sh now`, the clone container's restore (`postgres-replica.sh` with restoreFrom).
// Batch A, a full backup, batch B, a moment, batch C: the whole archive restores A+B+C, the moment
// exactly A+B; with the store down the server keeps taking writes and archives the backlog later.
// The backups' state as metrics: Debian's postgres_exporter (the default image's version), run with
// the synthesized `metrics` container and its query file, on the pg_monitor account
// docs/engines.md tells users to create, reports the last backup and the WAL archiver, and the
// failures while the store is down.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { chart, find, synth } from '../util';
import { Proc, requireBinary, scratch, SCRIPTS, secrets, until } from './util';
import { certificates, versitygw } from './s3-store';

const BIN = '/usr/lib/postgresql/15/bin';
const PORT = '15442';
const S3_PORT = '17072';
const EXPORTER_PORT = 29188;
const MONITORING = { user: 'monitoring', password: 'Mon1tor2pw' };
const KEYS = { accessKeyId: 'serverstestkey', secretAccessKey: 'servers-test-secret-1' };
let root = '';
const servers: Proc[] = [];

afterAll(() => {
  for (const pidFile of fs.existsSync(root) ? fs.readdirSync(root).map((d) => path.join(root, d, 'pgdata', 'postmaster.pid')) : []) {
    if (fs.existsSync(pidFile)) try { process.kill(Number(fs.readFileSync(pidFile, 'utf-8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ }
  }
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The preset's containers with `backup` and with `restoreFrom`, synthesized: their env and the server's args. */
function preset() {
  const repository = { bucket: 'backups', endpoint: `localhost:${S3_PORT}`, region: 'us-east-1', path: '/servers/db', caCertificateKey: 's3-ca.crt' };
  const manifests = (engine: DatabaseEngine) => {
    const c = chart('data');
    new StatefulDatabase(c, 'db', { engine, replicas: 1, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'creds') }, storage: { size: Size.gibibytes(1) }, metrics: { prometheusOperator: true } });
    return synth(c);
  };
  const spec = (engine: DatabaseEngine) => find(manifests(engine), 'StatefulSet').spec.template.spec;
  const image = 'registry.example.com/postgres-pgbackrest:15-2.45';
  const backedManifests = manifests(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *', archiveQueueMax: Size.mebibytes(256) } }));
  const backed = find(backedManifests, 'StatefulSet').spec.template.spec;
  const values = (container: any) => Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value as string]));
  const sidecar = backed.containers.find((c: any) => c.name === 'backup');
  const args: string[] = backed.containers[0].args;
  const settings = args.filter((a, i) => args[i - 1] === '-c' && a.startsWith('archive_'));
  return {
    manifests: backedManifests,
    exporter: backed.containers.find((c: any) => c.name === 'metrics'),
    exporterFiles: find(backedManifests, 'ConfigMap', 'db-scripts').data as { [file: string]: string },
    backupEnv: values(sidecar),
    settings,
    restoreEnv: (target?: string) => values(spec(DatabaseEngine.postgresql({ restoreFrom: { image, repository, pointInTime: target } })).initContainers[0]),
  };
}

describe('postgresql backups with pgBackRest to versitygw on loopback', () => {
  requireBinary('postgres', [BIN]);
  requireBinary('pgbackrest');
  const gateway = versitygw();
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf-8' }).stdout.trim());
  if (!(uid > 0)) throw new Error('the postgres system user is missing: run tools/scripts/install-servers.sh');
  root = scratch('pgbackrest');
  fs.chmodSync(root, 0o755);
  const tls = path.join(root, 'tls');
  fs.mkdirSync(tls);
  certificates(tls);
  const keysDir = secrets(root, {
    'root-password': 'unused', 'replication-password': 'unused',
    's3-access-key-id': KEYS.accessKeyId, 's3-secret-access-key': KEYS.secretAccessKey, 's3-ca.crt': fs.readFileSync(path.join(tls, 'ca.crt'), 'utf-8'),
    'monitoring-username': MONITORING.user, 'monitoring-password': MONITORING.password,
  }, uid);
  const store = path.join(root, 'store');
  fs.mkdirSync(path.join(store, 'backups'), { recursive: true });
  const p = preset();
  /** Paths of the pod moved under DIR: the run directory, the data path, the Secret's files. */
  const moved = (env: { [k: string]: string }, dir: string) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k,
    v.replace('/run/secrets/db', keysDir).replace('/var/run/postgresql', path.join(dir, 'run')).replace('/var/lib/postgresql/data', dir)]));
  const member = (name: string) => {
    const dir = path.join(root, name);
    for (const d of [dir, path.join(dir, 'run')]) {
      fs.mkdirSync(d, { recursive: true });
      fs.chownSync(d, uid, uid);
    }
    return { dir, pgdata: path.join(dir, 'pgdata'), run: path.join(dir, 'run') };
  };
  // asynchronous: the servers' logs are pipes to this process, which must keep reading them while a script runs
  const asPostgres = (script: string, env: { [k: string]: string }, arg?: string) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const proc = new Proc('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries({ PATH: `${BIN}:${process.env.PATH}`, TMPDIR: '/tmp', SCRIPTS_DIR: SCRIPTS, ...env }).map(([k, v]) => `${k}=${v}`),
      'bash', path.join(SCRIPTS, script), ...(arg ? [arg] : [])]);
    const timer = setTimeout(() => proc.kill(), 240_000);
    void proc.exited().then((status) => {
      clearTimeout(timer);
      resolve({ status, stderr: proc.log });
    });
  });
  const start = (m: { pgdata: string; run: string }, settings: string[] = [], listen = '') => {
    servers.push(new Proc('runuser', ['-u', 'postgres', '--', `${BIN}/postgres`, '-D', m.pgdata, '-c', `listen_addresses=${listen}`, '-c', `port=${PORT}`,
      '-c', `unix_socket_directories=${m.run}`, ...settings.flatMap((s) => ['-c', s.replace('/var/run/postgresql', m.run)])]));
  };
  const sql = (m: { run: string }, query: string) => {
    const res = spawnSync('runuser', ['-u', 'postgres', '--', 'psql', '-At', '-h', m.run, '-p', PORT, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  const startStore = () => new Proc(gateway, ['--port', `127.0.0.1:${S3_PORT}`, '--cert', path.join(tls, 'tls.crt'), '--key', path.join(tls, 'tls.key'), 'posix', store],
    { ROOT_ACCESS_KEY_ID: KEYS.accessKeyId, ROOT_SECRET_ACCESS_KEY: KEYS.secretAccessKey });
  let gw = startStore();
  const primary = member('primary');
  const backupEnv = { ...moved(p.backupEnv, primary.dir), PGDATA: primary.pgdata, RUN_DIR: primary.run, POSTGRES_PORT: PORT, HOSTNAME: 'db-0' };
  const archiveAll = async (timeout = 120) => {
    const segment = sql(primary, 'SELECT pg_walfile_name(pg_switch_wal())');
    await until(`${segment} archived`, () => (sql(primary, `SELECT coalesce(last_archived_wal >= '${segment}', false) FROM pg_stat_archiver`) === 't' ? true : undefined), timeout);
  };
  let pointInTime = '';
  // the synthesized exporter container on the host: the Secret's mount, its files and the ports moved
  let exporter: Proc | undefined;
  const startExporter = () => {
    const files = path.join(root, 'exporter-files');
    fs.mkdirSync(files, { recursive: true });
    for (const [file, text] of Object.entries(p.exporterFiles)) fs.writeFileSync(path.join(files, file), text);
    const bin = execFileSync('bash', [path.join(__dirname, '..', '..', 'tools', 'scripts', 'install-prometheus.sh'), 'prometheus-postgres-exporter'], { encoding: 'utf-8' }).trim().split('\n').pop()!;
    const move = (v: string) => v.replace('/run/secrets/db', keysDir).replace('/opt/cdk8s-stateful', files)
      .replace('127.0.0.1:5432', `127.0.0.1:${PORT}`).replace('=:9187', `=127.0.0.1:${EXPORTER_PORT}`);
    exporter = new Proc(path.join(bin, 'prometheus-postgres-exporter'), p.exporter.args.map(move),
      Object.fromEntries(p.exporter.env.map((e: any) => [e.name, move(e.value)])));
  };
  /** The first scrape that reports the database up, within 30 s. */
  const scrapeUntilUp = async () => {
    for (let i = 0; i < 30; i++) {
      const series = await scrape().catch(() => undefined);
      if (series && series('pg_up') === 1) return series;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`the exporter never reported pg_up 1; its log:\n${exporter?.log}`);
  };
  /** One scrape: the value of a series by its name (the only series of that name here), and the text. */
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${EXPORTER_PORT}/metrics`);
    if (!res.ok) throw new Error(`scrape: HTTP ${res.status}`);
    const text = await res.text();
    const series = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
      if (line === undefined) throw new Error(`no series ${name} in the scrape; the exporter's log:\n${exporter?.log}`);
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    return Object.assign(series, { text });
  };

  test('the server archives through pgBackRest asynchronously; a full backup of batch A; batches B and C archived', async () => {
    expect(p.settings).toEqual(['archive_mode=on', 'archive_command=pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db archive-push %p', 'archive_timeout=60']);
    expect(spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/initdb`, '-D', primary.pgdata, '--username=postgres', '--auth-local=trust'], { encoding: 'utf-8' }).status).toBe(0);
    start(primary, p.settings, '127.0.0.1');
    await until('primary up', () => (sql(primary, 'SELECT 1') === '1' ? true : undefined));
    // docs/engines.md, Metrics: the monitoring account users create
    sql(primary, `CREATE ROLE ${MONITORING.user} LOGIN PASSWORD '${MONITORING.password}'; GRANT pg_monitor TO ${MONITORING.user}`);
    sql(primary, 'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, \'a\' FROM generate_series(1, 50) g');
    const backup = await asPostgres('postgres-backup.sh', backupEnv, 'now');
    console.log(`servers backup-postgresql: ${backup.stderr.split('\n').find((l) => l.includes('full backup done')) ?? 'no backup line'}`);
    expect(backup.stderr).toMatch(/full backup done in \d+s, \d+ bytes in the repository/);
    expect(backup.status).toBe(0);
    expect(backup.stderr).not.toContain('could not record the backup status');
    await archiveAll();
    sql(primary, 'INSERT INTO t SELECT g, \'b\' FROM generate_series(51, 80) g');
    await new Promise((r) => setTimeout(r, 1200));
    pointInTime = sql(primary, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
    await new Promise((r) => setTimeout(r, 1200));
    sql(primary, 'INSERT INTO t SELECT g, \'c\' FROM generate_series(81, 100) g');
    await archiveAll();
    const status = fs.readFileSync(path.join(primary.run, 'backup-status'), 'utf-8');
    expect(status).toMatch(/^last_success=.*\nduration_seconds=\d+\nsize_bytes=\d+\n$/);
    const file = Object.fromEntries(status.trim().split('\n').map((l) => l.split('=')));
    // the same backup as metrics, on the pg_monitor account, with nothing but the synthesized container's settings
    expect(p.exporter.args).toContain('--extend.query-path=/opt/cdk8s-stateful/postgres-exporter-queries.yaml');
    startExporter();
    const series = await scrapeUntilUp();
    expect(series.text).toMatch(new RegExp(`^pgbackrest_backup_last_success_timestamp_seconds\\{.*repository="localhost:${S3_PORT}/backups/servers/db"`, 'm'));
    console.log(`servers backup-postgresql: metrics after the backup: last success ${series('pgbackrest_backup_last_success_timestamp_seconds')}, ` +
      `${series('pgbackrest_backup_last_duration_seconds')} s, ${series('pgbackrest_backup_last_size_bytes')} bytes; ` +
      `archived ${series('pg_stat_archiver_archived_count')}, failed ${series('pg_stat_archiver_failed_count')}, last archived ${series('pg_stat_archiver_last_archive_age')} s ago`);
    expect(series('pg_up')).toBe(1);
    expect(series('pgbackrest_backup_last_success_timestamp_seconds')).toBe(Date.parse(file.last_success) / 1000);
    expect(series('pgbackrest_backup_last_duration_seconds')).toBe(Number(file.duration_seconds));
    expect(series('pgbackrest_backup_last_size_bytes')).toBe(Number(file.size_bytes));
    expect(series('pgbackrest_backup_failures')).toBe(0);
    expect(series('pgbackrest_backup_since_timestamp_seconds')).toBeLessThanOrEqual(Date.parse(file.last_success) / 1000);
    expect(Number.isNaN(series('pgbackrest_backup_last_failure_timestamp_seconds'))).toBe(true);
    expect(series('pg_stat_archiver_archived_count')).toBeGreaterThanOrEqual(3);
    expect(series('pg_stat_archiver_failed_count')).toBe(0);
    expect(series('pg_stat_archiver_last_archive_age')).toBeLessThan(60);
    // every series the backup alerts and panels read is one this exporter serves
    const read = JSON.stringify([find(p.manifests, 'PrometheusRule', 'db').spec, find(p.manifests, 'ConfigMap', 'db-dashboard').data]);
    const names = new Set(read.match(/\b(pgbackrest_backup|pg_stat_archiver|pg_stat_database_tup|pg_replication_is)_[a-z_]+/g));
    expect(names.size).toBeGreaterThanOrEqual(10);
    for (const name of [...names, 'pg_stat_database_tup_inserted', 'pg_stat_database_tup_updated', 'pg_stat_database_tup_deleted', 'pg_replication_is_replica']) {
      expect({ name, served: new RegExp(`^${name}[{ ]`, 'm').test(series.text) }).toEqual({ name, served: true });
    }
    expect(exporter!.log).not.toMatch(/permission denied|error running query|password authentication failed/i);
  });

  const restore = async (name: string, target?: string) => {
    const m = member(name);
    const started = Date.now();
    const env = { ...moved(p.restoreEnv(target), m.dir), PGDATA: m.pgdata, RUN_DIR: m.run, POD_INDEX: '0', START_ORDINAL: '0', PEERS: 'db-0', HOSTNAME: 'db-0', KEYS_DIR: keysDir };
    const res = await asPostgres('postgres-replica.sh', env);
    expect(res.stderr).toMatch(/restored; the server replays the archived WAL/);
    expect(res.status).toBe(0);
    const conf = fs.readFileSync(path.join(m.pgdata, 'postgresql.auto.conf'), 'utf-8');
    expect(conf).toContain(`restore_command = 'pgbackrest --config=${m.run}/pgbackrest-restore.conf --stanza=db archive-get %f "%p"'`);
    start(m);
    await until(`${name} promoted`, () => (sql(m, 'SELECT pg_is_in_recovery()') === 'f' ? true : undefined), 120);
    console.log(`servers backup-postgresql: restore ${name}: restored, replayed and promoted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return sql(m, "SELECT string_agg(v || ':' || n, ' ' ORDER BY v) FROM (SELECT v, count(*) n FROM t GROUP BY v) s");
  };

  test('restored whole: A+B+C; restored to the moment between B and C: exactly A+B', async () => {
    expect(pointInTime).not.toBe('');
    // one server at a time on the port: each restore is checked, then stopped
    expect(await restore('whole')).toBe('a:50 b:30 c:20');
    servers.pop()!.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await restore('pitr', pointInTime)).toBe('a:50 b:30');
    servers.pop()!.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 2000));
  });

  test('a corrupted backup: the restore stops with pgBackRest\'s message and the reason; no server starts on a half-restored directory', async () => {
    // the largest file of the backup, one byte changed in the store's directory
    const files = spawnSync('find', [path.join(store, 'backups', 'servers', 'db', 'backup'), '-type', 'f', '-path', '*/pg_data/*', '-size', '+8k'], { encoding: 'utf-8' }).stdout.trim().split('\n');
    expect(files.length).toBeGreaterThan(0);
    const victim = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    const bytes = fs.readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(victim, bytes);
    const m = member('corrupt');
    const env = { ...moved(p.restoreEnv(), m.dir), PGDATA: m.pgdata, RUN_DIR: m.run, POD_INDEX: '0', START_ORDINAL: '0', PEERS: 'db-0', HOSTNAME: 'db-0', KEYS_DIR: keysDir };
    const res = await asPostgres('postgres-replica.sh', env);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/ERROR: \[\d+\]/);
    expect(res.stderr).toMatch(/the restore from backups\/servers\/db failed \(see pgBackRest's message above\): the set does not start empty instead/);
    expect(fs.existsSync(path.join(m.pgdata, 'PG_VERSION'))).toBe(false);
  });

  test('the store down: the server keeps taking writes and switching segments; the backlog is archived once it is back', async () => {
    gw.kill();
    await gw.exited();
    const failedBefore = Number(sql(primary, 'SELECT failed_count FROM pg_stat_archiver'));
    for (let i = 0; i < 4; i++) sql(primary, `INSERT INTO t SELECT g, 'd' FROM generate_series(${200 + 100 * i}, ${299 + 100 * i}) g; SELECT pg_switch_wal()`);
    expect(sql(primary, "SELECT count(*) FROM t WHERE v = 'd'")).toBe('400');
    await until('the archiver reporting the store down', () => (Number(sql(primary, 'SELECT failed_count FROM pg_stat_archiver')) > failedBefore ? true : undefined), 120);
    // the failures as metrics: the archiver's count, and a backup that failed
    const before = await scrape();
    const failed = await asPostgres('postgres-backup.sh', backupEnv, 'now');
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/backup: FAILED after \d+s/);
    expect(failed.stderr).not.toContain('could not record the backup status');
    console.log(`servers backup-postgresql: with the store down, ${/backup: FAILED after \d+s/.exec(failed.stderr)![0]}`);
    const down = await scrape();
    console.log(`servers backup-postgresql: metrics with the store down: archiver failed ${down('pg_stat_archiver_failed_count')} (was ${failedBefore}), ` +
      `last archived ${down('pg_stat_archiver_last_archive_age')} s ago; backup failures ${down(`pgbackrest_backup_failures`)}`);
    expect(down('pg_stat_archiver_failed_count')).toBeGreaterThan(failedBefore);
    expect(down(`pgbackrest_backup_failures`)).toBe(1);
    expect(down(`pgbackrest_backup_last_failure_timestamp_seconds`)).toBeGreaterThan(Date.now() / 1000 - 300);
    expect(down(`pgbackrest_backup_last_success_timestamp_seconds`)).toBe(before(`pgbackrest_backup_last_success_timestamp_seconds`));
    gw = startStore();
    const back = Date.now();
    await archiveAll(240);
    console.log(`servers backup-postgresql: backlog archived ${((Date.now() - back) / 1000).toFixed(1)} s after the store came back`);
    // the next backup succeeds: the failures are cleared
    expect((await asPostgres('postgres-backup.sh', backupEnv, 'now')).status).toBe(0);
    const healed = await scrape();
    expect(healed(`pgbackrest_backup_failures`)).toBe(0);
    expect(healed(`pgbackrest_backup_last_success_timestamp_seconds`)).toBeGreaterThan(before(`pgbackrest_backup_last_success_timestamp_seconds`));
    expect(healed('pg_stat_archiver_last_archive_age')).toBeLessThan(60);
  });
});
