// Redis 7 snapshots with Debian's redis-tools and rclone to a real S3-compatible store (versitygw,
// built by tools/s3-server/build.sh) over HTTPS with a private CA on loopback, driven by the
// preset's scripts with the environment their containers get (synthesized): the sidecar's
// `redis-backup.sh now` and the restore of `redis-config.sh` with restoreFrom. Keys a:*, a snapshot
// of the replica, keys b:*: a new set restored from it holds every a:* key and no b:* key, and its
// replica copies it. The newest snapshots are kept; a named older one restores; a corrupted object
// stops the restore naming it; with the store down, or the replica killed mid-stream, the snapshot
// fails loudly and nothing new is in the store. Each attempt's outcome is in the sidecar's metrics
// file (backup-metrics.sh), which the scheduler serves over HTTP as Prometheus reads it.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { chart, find, synth } from '../util';
import { Proc, requireBinary, scratch, SCRIPTS, secrets, until } from './util';
import { certificates, versitygw } from './s3-store';

const PASSWORD = 'backup "pass" $word';
const PORT = '16479';
const SYNC_PORT = '16480';
const S3_PORT = '17073';
const KEYS = { accessKeyId: 'serverstestkey', secretAccessKey: 'servers-test-secret-2' };
const HOSTS = ['127.0.0.1', '127.0.0.2'];
const METRICS_PORT = '17188';
let root = '';

afterAll(() => {
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The env (values only) of the sidecar `backup` and of the init container `config` with restoreFrom, as synthesized. */
function preset(backupName?: string) {
  const repository = { bucket: 'backups', endpoint: `localhost:${S3_PORT}`, region: 'us-east-1', path: '/servers/cache', caCertificateKey: 's3-ca.crt' };
  const image = 'registry.example.com/redis-rclone:7.0-1.60.1';
  const spec = (engine: DatabaseEngine) => {
    const c = chart('data');
    new StatefulDatabase(c, 'db', { engine, replicas: 2, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'creds') }, storage: { size: Size.gibibytes(1) } });
    return find(synth(c), 'StatefulSet').spec.template.spec;
  };
  const values = (container: any) => Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value as string]));
  const backed = spec(DatabaseEngine.redis({ backup: { image, repository, schedule: '0 * * * *', retainBackups: 2 } }));
  const restored = spec(DatabaseEngine.redis({ restoreFrom: { image, repository, backup: backupName } }));
  return {
    backupEnv: values(backed.containers.find((c: any) => c.name === 'backup')),
    restoreEnv: values(restored.initContainers.find((c: any) => c.name === 'config')),
  };
}

describe('redis snapshots with rclone to versitygw on loopback', () => {
  requireBinary('redis-server');
  requireBinary('redis-check-rdb');
  requireBinary('rclone');
  const gateway = versitygw();
  root = scratch('redis-backup');
  const tls = path.join(root, 'tls');
  fs.mkdirSync(tls);
  certificates(tls);
  const keysDir = secrets(root, {
    password: PASSWORD, 's3-access-key-id': KEYS.accessKeyId, 's3-secret-access-key': KEYS.secretAccessKey, 's3-ca.crt': fs.readFileSync(path.join(tls, 'ca.crt'), 'utf-8'),
  });
  const store = path.join(root, 'store');
  const objects = () => fs.readdirSync(path.join(store, 'backups', 'servers', 'cache')).filter((f) => !f.startsWith('.')).sort();
  fs.mkdirSync(path.join(store, 'backups'), { recursive: true });
  const startStore = () => new Proc(gateway, ['--port', `127.0.0.1:${S3_PORT}`, '--cert', path.join(tls, 'tls.crt'), '--key', path.join(tls, 'tls.key'), 'posix', store],
    { ROOT_ACCESS_KEY_ID: KEYS.accessKeyId, ROOT_SECRET_ACCESS_KEY: KEYS.secretAccessKey });
  let gw = startStore();
  /** The pod's paths moved under the set's directory SET, member I. */
  const moved = (env: { [k: string]: string }, set: string, i: number) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k,
    v.replace('/run/secrets/db', keysDir).replace(/^\/data/, path.join(root, set, `data-${i}`))]));
  const memberEnv = (set: string, i: number, hosts: string[]) => ({
    POD_INDEX: String(i), START_ORDINAL: '0', PEERS: hosts.join(' '), REDIS_PORT: PORT, SYNC_PORT, KEYS_DIR: keysDir, PW_KEY: 'password',
    DATA_DIR: path.join(root, set, `data-${i}`), CONFIG_DIR: path.join(root, set, `conf-${i}`), FOUNDED_FILE: path.join(root, set, `founded-${i}`),
    MEMORY_LIMIT_BYTES: String(1024 ** 3), POLL_SECONDS: '1', S3_RETRIES: '1', S3_LOW_LEVEL_RETRIES: '1',
  });
  const servers: { [key: string]: Proc } = {};
  const start = (set: string, i: number, host: string) => {
    servers[`${set}-${i}`] = new Proc('redis-server', [path.join(root, set, `conf-${i}`, 'redis.conf'), '--bind', host]);
  };
  const cli = (host: string, ...args: string[]) => spawnSync('redis-cli', ['--no-auth-warning', '-h', host, '-p', PORT, ...args],
    { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8' }).stdout.trim();
  const count = (host: string, pattern: string) => Number(cli(host, 'eval', "return #redis.call('KEYS', ARGV[1])", '0', pattern));
  /** SCRIPT run to its end as a process group (asynchronous: the servers' logs are pipes to this process, which must keep reading them). */
  const script = (name: string, env: { [k: string]: string }, arg?: string) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const proc = new Proc('bash', [path.join(SCRIPTS, name), ...(arg ? [arg] : [])], { SCRIPTS_DIR: SCRIPTS, ...env });
    const timer = setTimeout(() => proc.kill(), 240_000);
    void proc.exited().then((status) => {
      clearTimeout(timer);
      resolve({ status, stderr: proc.log });
    });
  });
  /** redis-config.sh of member I of SET (founded as FOUNDED); its result. */
  const config = (set: string, i: number, hosts: string[], founded: string, extra: { [k: string]: string } = {}) => {
    fs.mkdirSync(path.join(root, set, `data-${i}`), { recursive: true });
    fs.writeFileSync(path.join(root, set, `founded-${i}`), `${founded}\n`);
    return script('redis-config.sh', { ...memberEnv(set, i, hosts), ...extra });
  };
  // the backed-up set: its members on 127.0.0.1 (primary) and 127.0.0.2
  const backupEnv = { ...Object.fromEntries(Object.entries(moved(preset().backupEnv, 'src', 0)).filter(([k]) => /^(BACKUP_|RETAIN_|SPOOL_)/.test(k))), ...memberEnv('src', 0, HOSTS) };
  // asynchronous: the servers' logs are pipes to this process, which must keep reading them while a script runs
  const snapshot = async () => {
    const r = await script('redis-backup.sh', backupEnv, 'now');
    return { status: r.status, log: r.stderr };
  };
  /** The sidecar's metrics record (backup-metrics.sh) of member I of the backed-up set: each series' value by name (without `cdk8s_backup_`). */
  const metricsFile = (i = 0) => path.join(root, 'src', `data-${i}`, '.cdk8s-backup-metrics', 'metrics');
  const metrics = (i = 0) => Object.fromEntries(fs.readFileSync(metricsFile(i), 'utf-8').split('\n')
    .map((l) => /^cdk8s_backup_(\w+)\{repository="([^"]*)"\} (\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null)
    .flatMap((m) => [[m[1], Number(m[3])], ['repository', m[2]]]));
  /** The restore's own env of the synthesized config container (RESTORE_*), the Secret's files moved. */
  const restoreEnv = (set: string, backupName?: string) =>
    Object.fromEntries(Object.entries(moved(preset(backupName).restoreEnv, set, 0)).filter(([k]) => k.startsWith('RESTORE_')));

  test('a snapshot of the replica holds the keys written before it; the newest 2 are kept', async () => {
    for (const i of [0, 1]) {
      expect((await config('src', i, HOSTS, i === 0 ? 'found' : 'absent')).status).toBe(0);
      start('src', i, HOSTS[i]);
    }
    await until('the replica linked', () => (/master_link_status:up/.test(cli(HOSTS[1], 'info', 'replication')) ? true : undefined));
    expect(cli(HOSTS[0], 'eval', "for i = 1, 300 do redis.call('SET', 'a:' .. i, 'v' .. i) end return 300", '0')).toBe('300');
    expect(cli(HOSTS[0], 'wait', '1', '5000')).toBe('1');
    const names: string[] = [];
    let lastLog = '';
    for (let n = 0; n < 3; n++) {
      const r = await snapshot();
      console.log(`servers backup-redis: ${r.log.split('\n').find((l) => l.includes('done in')) ?? r.log}`);
      expect(r.status).toBe(0);
      expect(r.log).toMatch(/snapshot \d{8}T\d{6}Z\.rdb done in \d+s: \d+ bytes, 300 keys, from 127\.0\.0\.2, sha256 [0-9a-f]{64}/);
      names.push(/snapshot (\S+) done/.exec(r.log)![1]);
      lastLog = r.log;
      // one snapshot a second at most: names are UTC seconds
      await new Promise((res) => setTimeout(res, 1100));
    }
    expect(objects()).toEqual(names.slice(1).flatMap((n) => [n, `${n}.sha256`]));
    const [name] = names.slice(-1);
    // the last snapshot's outcome in the metrics record: its end, its stored size, its duration as logged
    const record = metrics();
    const stored = fs.statSync(path.join(store, 'backups', 'servers', 'cache', name)).size;
    const nameTime = Date.parse(name.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.rdb$/, '$1-$2-$3T$4:$5:$6Z')) / 1000;
    console.log(`servers backup-redis: metrics record after 3 snapshots: ${JSON.stringify(record)}`);
    expect(record).toMatchObject({ repository: `s3://localhost:${S3_PORT}/backups/servers/cache/`, last_size_bytes: stored, consecutive_failures: 0, failures_total: 0 });
    expect(record.last_success_timestamp_seconds).toBeGreaterThanOrEqual(nameTime);
    expect(record.last_success_timestamp_seconds).toBeLessThanOrEqual(Date.now() / 1000);
    expect(record.since_timestamp_seconds).toBeLessThanOrEqual(record.last_success_timestamp_seconds);
    expect(Number.isNaN(record.last_failure_timestamp_seconds)).toBe(true);
    expect(record.last_duration_seconds).toBe(Number(/done in (\d+)s/.exec(lastLog)![1]));
    const sum = fs.readFileSync(path.join(store, 'backups', 'servers', 'cache', `${name}.sha256`), 'utf-8');
    const actual = spawnSync('sha256sum', [path.join(store, 'backups', 'servers', 'cache', name)], { encoding: 'utf-8' }).stdout.split(' ')[0];
    expect(sum).toBe(`${actual}  ${name}\n`);
    expect(fs.existsSync(path.join(root, 'src', 'data-0', '.cdk8s-backup'))).toBe(false);
    expect(cli(HOSTS[0], 'eval', "for i = 1, 50 do redis.call('SET', 'b:' .. i, 'v' .. i) end return 50", '0')).toBe('50');
  }, 120_000);

  test('restore into a new set: the first member founds it from the latest snapshot, every a:* key and no b:*; its replica copies it', async () => {
    const hosts = ['127.0.0.3', '127.0.0.4'];
    const started = Date.now();
    const res = await config('new', 0, hosts, 'found', restoreEnv('new'));
    expect(res.stderr).toMatch(/restored the snapshot \d{8}T\d{6}Z\.rdb: 300 keys loaded/);
    expect(res.status).toBe(0);
    console.log(`servers backup-redis: restore (download, checks, append-only file) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect(fs.readdirSync(path.join(root, 'new', 'data-0'))).toEqual(['appendonlydir']);
    start('new', 0, hosts[0]);
    expect((await config('new', 1, hosts, 'absent', restoreEnv('new'))).status).toBe(0);
    start('new', 1, hosts[1]);
    await until('the restored set serves, its replica linked', () => (/master_link_status:up/.test(cli(hosts[1], 'info', 'replication')) ? true : undefined));
    for (const host of hosts) expect({ host, a: count(host, 'a:*'), b: count(host, 'b:*') }).toEqual({ host, a: 300, b: 0 });
    expect(cli(hosts[0], 'get', 'a:300')).toBe('v300');
    for (const i of [0, 1]) servers[`new-${i}`].kill();
  }, 120_000);

  test('restoreFrom.backup restores the snapshot it names; a single member restores whenever its volume is empty', async () => {
    const [older] = objects().filter((o) => o.endsWith('.rdb'));
    const res = await config('named', 0, ['127.0.0.5'], 'absent', restoreEnv('named', older));
    expect(res.stderr).toContain(`a new set from the snapshot s3://localhost:${S3_PORT}/backups/servers/cache/${older}`);
    expect(res.status).toBe(0);
  }, 60_000);

  test('a corrupted snapshot object stops the restore naming it; no data is left that would start', async () => {
    const name = objects().filter((o) => o.endsWith('.rdb')).pop()!;
    const file = path.join(store, 'backups', 'servers', 'cache', name);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const res = await config('corrupt', 0, ['127.0.0.6', '127.0.0.7'], 'found', restoreEnv('corrupt'));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`the snapshot s3://localhost:${S3_PORT}/backups/servers/cache/${name} is corrupted: its SHA-256 is`);
    expect(res.stderr).toContain('the set does not start empty instead');
    expect(fs.existsSync(path.join(root, 'corrupt', 'conf-0', 'redis.conf'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'corrupt', 'data-0')).filter((f) => !f.startsWith('.'))).toEqual([]);
    bytes[100] ^= 0xff;
    fs.writeFileSync(file, bytes);
  }, 60_000);

  test('the store down: the snapshot fails loudly, nothing new in the store', async () => {
    const before = objects();
    const recorded = metrics();
    gw.kill();
    await gw.exited();
    const r = await snapshot();
    expect(r.status).not.toBe(0);
    expect(r.log).toMatch(/backup: FAILED after \d+s: .*No snapshot was recorded/);
    // the failure counted; the last success as it was
    const record = metrics();
    expect(record).toMatchObject({
      consecutive_failures: recorded.consecutive_failures + 1, failures_total: recorded.failures_total + 1,
      last_success_timestamp_seconds: recorded.last_success_timestamp_seconds, last_size_bytes: recorded.last_size_bytes,
      since_timestamp_seconds: recorded.since_timestamp_seconds,
    });
    expect(record.last_failure_timestamp_seconds).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 120);
    gw = startStore();
    await until('the store back', () => (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${S3_PORT}`]).status === 0 ? true : undefined));
    expect(objects()).toEqual(before);
    expect(fs.existsSync(path.join(root, 'src', 'data-0', '.cdk8s-backup'))).toBe(false);
  }, 120_000);

  test('the replica SIGKILLed mid-stream: the snapshot fails loudly, nothing new in the store', async () => {
    const before = objects();
    // 2 MB more (10 KB values that do not compress: the stream is flushed every few keys), written slowly by the replica
    // (10 ms a key: about 2 s for the 200 big keys)
    expect(cli(HOSTS[0], 'eval', "local t = {} for i = 1, 10240 do t[i] = string.char(math.random(0, 255)) end local v = table.concat(t) for i = 1, 200 do redis.call('SET', 'big:' .. i, i .. v) end return 200", '0')).toBe('200');
    expect(cli(HOSTS[0], 'wait', '1', '5000')).toBe('1');
    expect(cli(HOSTS[1], 'config', 'set', 'rdb-key-save-delay', '10000')).toBe('OK');
    const running = snapshot();
    const spool = path.join(root, 'src', 'data-0', '.cdk8s-backup');
    await until('the snapshot streaming', () => (fs.existsSync(spool) && fs.readdirSync(spool).some((f) => f.endsWith('.rdb') && fs.statSync(path.join(spool, f)).size > 0) ? true : undefined));
    servers['src-1'].kill();
    const r = await running;
    console.log(`servers backup-redis: with the replica killed mid-stream: ${r.log.split('\n').find((l) => l.includes('FAILED')) ?? r.log}`);
    expect(r.status).not.toBe(0);
    expect(r.log).toMatch(/backup: FAILED after \d+s: redis-cli --rdb from 127\.0\.0\.2 did not complete/);
    expect(objects()).toEqual(before);
    expect(fs.existsSync(spool)).toBe(false);
  }, 120_000);

  test('the scheduler serves the record over HTTP as Prometheus text (promtool accepts it); a member that takes no scheduled snapshots serves no series', async () => {
    const promtool = path.join(execFileSync('bash', [path.join(__dirname, '..', '..', 'tools', 'scripts', 'install-prometheus.sh'), 'promtool'], { encoding: 'utf-8' }).trim().split('\n').pop()!, 'promtool');
    for (const i of [0, 1]) {
      const env = { ...backupEnv, ...memberEnv('src', i, HOSTS), BACKUP_METRICS_DIR: path.dirname(metricsFile(i)), BACKUP_METRICS_PORT: METRICS_PORT, BACKUP_SCHEDULE: '0 0 1 1 *' };
      const scheduler = new Proc('bash', [path.join(SCRIPTS, 'redis-backup.sh')], { SCRIPTS_DIR: SCRIPTS, ...env });
      try {
        let res: Response | undefined;
        for (const end = Date.now() + 30_000; !res && Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
          res = await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`).catch(() => undefined);
        }
        if (!res) throw new Error(`member ${i}'s metrics not served on port ${METRICS_PORT} within 30 s:\n${scheduler.log}`);
        const body = await res.text();
        expect({ i, status: res.status, type: res.headers.get('content-type') }).toEqual({ i, status: 200, type: 'text/plain; charset=utf-8' });
        expect(body).toBe(fs.readFileSync(metricsFile(i), 'utf-8'));
        const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf-8' });
        expect({ i, status: lint.status, out: lint.stdout + lint.stderr }).toEqual({ i, status: 0, out: '' });
        if (i === 0) {
          expect(body).toMatch(/^cdk8s_backup_last_success_timestamp_seconds\{repository="s3:\/\/localhost:\d+\/backups\/servers\/cache\/"\} \d+$/m);
          expect(body).toMatch(/^# TYPE cdk8s_backup_failures_total counter$/m);
        } else {
          expect(body).not.toMatch(/^cdk8s_backup_/m);
        }
      } finally {
        scheduler.kill();
        await scheduler.exited();
      }
    }
  }, 120_000);

  // Redis with Sentinel (the preset's start and sentinel scripts, as test/servers/redis-sentinel.test.ts runs them): the master's sidecar
  const SENTINEL_HOSTS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
  const SENTINEL_PORT = '26479';
  const sentinelProcs: Proc[] = [];
  const sentinelServers: Proc[] = [];
  const sentinelEnv = (i: number) => ({
    ...memberEnv('sen', i, SENTINEL_HOSTS), SCRIPTS_DIR: SCRIPTS, SENTINEL_PORT, SET_NAME: 'sen', QUORUM: '2', BIND_ADDRESS: SENTINEL_HOSTS[i],
    DOWN_AFTER_MS: '2000', FAILOVER_TIMEOUT_MS: '6000', MIN_REPLICAS_TO_WRITE: '1', MIN_REPLICAS_MAX_LAG: '1', FOLLOW_SECONDS: '3',
  });
  /** The sidecar's env of member I of the Sentinel set: its own repository path, its record on its own volume. */
  const sentinelBackupEnv = (i: number) => ({
    ...backupEnv, ...sentinelEnv(i), BACKUP_PATH: '/servers/sentinel', BACKUP_METRICS_DIR: path.join(root, 'sen', `data-${i}`, '.cdk8s-backup-metrics'),
    SPOOL_DIR: path.join(root, 'sen', `data-${i}`, '.cdk8s-backup'), BACKUP_METRICS_PORT: METRICS_PORT, BACKUP_SCHEDULE: '0 0 1 1 *',
  });
  const sentinelRecord = (i: number) => fs.readFileSync(path.join(root, 'sen', `data-${i}`, '.cdk8s-backup-metrics', 'metrics'), 'utf-8');
  const sentinelMaster = (i: number) => spawnSync('redis-cli', ['--no-auth-warning', '-h', SENTINEL_HOSTS[i], '-p', SENTINEL_PORT, 'sentinel', 'get-master-addr-by-name', 'sen'],
    { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8', timeout: 10_000 }).stdout.split('\n')[0];
  const linked = (host: string) => /master_link_status:up/.test(cli(host, 'info', 'replication'));

  test('with Sentinel: the master\'s sidecar snapshots a replica the Sentinels report; after a failover the new master\'s takes over, its record from the repository\'s newest snapshot', async () => {
    for (const i of [0, 1, 2]) {
      for (const d of ['data', 'conf']) fs.mkdirSync(path.join(root, 'sen', `${d}-${i}`), { recursive: true });
      fs.writeFileSync(path.join(root, 'sen', `founded-${i}`), 'absent\n');
      sentinelServers[i] = new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel-start.sh')], sentinelEnv(i));
      sentinelProcs[i] = new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel.sh')], sentinelEnv(i));
    }
    await until('member 0 master, both replicas linked, the Sentinels agreeing', () => (linked(SENTINEL_HOSTS[1]) && linked(SENTINEL_HOSTS[2]) &&
      [0, 1, 2].every((i) => sentinelMaster(i) === SENTINEL_HOSTS[0]) ? true : undefined), 90);
    await until('a write taken', () => (cli(SENTINEL_HOSTS[0], 'set', 's:0', 'v') === 'OK' ? true : undefined), 30);
    expect(cli(SENTINEL_HOSTS[0], 'eval', "for i = 1, 100 do redis.call('SET', 's:' .. i, 'v' .. i) end return 100", '0')).toBe('100');
    expect(cli(SENTINEL_HOSTS[0], 'wait', '2', '5000')).toBe('2');
    // the Sentinels must know both replicas as linked before they report them
    await until('the Sentinels report both replicas', () => ((spawnSync('redis-cli', ['--no-auth-warning', '-h', SENTINEL_HOSTS[0], '-p', SENTINEL_PORT, 'sentinel', 'replicas', 'sen'],
      { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8' }).stdout.match(/^master-link-status\nok$/mg) ?? []).length === 2 ? true : undefined), 30);
    const first = await script('redis-backup.sh', sentinelBackupEnv(0), 'now');
    console.log(`servers backup-redis: with Sentinel: ${first.stderr.split('\n').find((l) => l.includes('done in')) ?? first.stderr}`);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/snapshot \d{8}T\d{6}Z\.rdb done in \d+s: \d+ bytes, 101 keys, from 127\.0\.0\.1[23], sha256/);
    const name = /snapshot (\S+) done/.exec(first.stderr)![1];
    const size = Number(/done in \d+s: (\d+) bytes/.exec(first.stderr)![1]);
    // the master's server killed: the Sentinels promote a replica
    sentinelServers[0].kill();
    await until('a replica promoted, the Sentinels agreeing', () => {
      const m = sentinelMaster(1);
      return m !== SENTINEL_HOSTS[0] && [1, 2].every((i) => sentinelMaster(i) === m) ? m : undefined;
    }, 60);
    const promoted = SENTINEL_HOSTS.indexOf(sentinelMaster(1));
    // each member's scheduler: the new master's takes the snapshots and starts its record from the repository's newest, the old master's serves no series
    for (const [i, takes] of [[promoted, true], [0, false]] as Array<[number, boolean]>) {
      const scheduler = new Proc('bash', [path.join(SCRIPTS, 'redis-backup.sh')], sentinelBackupEnv(i));
      try {
        await until(`member ${i}'s scheduler deciding`, () => (/takes the snapshots|does not take the scheduled snapshots/.test(scheduler.log) &&
          fs.existsSync(path.join(root, 'sen', `data-${i}`, '.cdk8s-backup-metrics', 'metrics')) && (!takes || /cdk8s_backup_last_size_bytes\{[^}]*\} \d/.test(sentinelRecord(i))) ? true : undefined), 60);
        expect({ i, takes: scheduler.log.includes(`member ${i} takes the snapshots`) }).toEqual({ i, takes });
        if (takes) {
          const nameTime = Date.parse(name.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.rdb$/, '$1-$2-$3T$4:$5:$6Z')) / 1000;
          expect(sentinelRecord(i)).toContain(`cdk8s_backup_last_success_timestamp_seconds{repository="s3://localhost:${S3_PORT}/backups/servers/sentinel/"} ${nameTime}\n`);
          expect(sentinelRecord(i)).toContain(`cdk8s_backup_last_size_bytes{repository="s3://localhost:${S3_PORT}/backups/servers/sentinel/"} ${size}\n`);
        } else {
          expect(sentinelRecord(i)).not.toMatch(/^cdk8s_backup_/m);
        }
      } finally {
        scheduler.kill();
        await scheduler.exited();
      }
    }
    // the new master's snapshot reads the replica left (member 0 is down)
    const other = [1, 2].find((i) => i !== promoted)!;
    await until('the other replica linked to the new master', () => (linked(SENTINEL_HOSTS[other]) ? true : undefined), 60);
    const second = await script('redis-backup.sh', sentinelBackupEnv(promoted), 'now');
    console.log(`servers backup-redis: with Sentinel, after the failover: ${second.stderr.split('\n').find((l) => l.includes('done in') || l.includes('FAILED')) ?? second.stderr}`);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`keys, from ${SENTINEL_HOSTS[other]}, sha256`);
    [...sentinelServers, ...sentinelProcs].forEach((p) => p.kill());
  }, 240_000);

  // a new Sentinel set from those snapshots: the init container `restore` (redis-restore.sh sentinel) of each member, then its server and Sentinel
  const RESTORED_HOSTS = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
  /** The RESTORE_* env of the synthesized init container `restore` of a Sentinel set, the Secret's files moved. */
  const sentinelRestoreEnv = (set: string) => {
    const repository = { bucket: 'backups', endpoint: `localhost:${S3_PORT}`, region: 'us-east-1', path: '/servers/sentinel', caCertificateKey: 's3-ca.crt' };
    const c = chart('data');
    new StatefulDatabase(c, 'db', { engine: DatabaseEngine.redis({ sentinel: {}, restoreFrom: { image: 'registry.example.com/redis-rclone:7.0-1.60.1', repository } }),
      replicas: 3, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'creds') }, storage: { size: Size.gibibytes(1) } });
    const restore = find(synth(c), 'StatefulSet').spec.template.spec.initContainers.find((x: any) => x.name === 'restore');
    const env = Object.fromEntries((restore.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value as string]));
    return Object.fromEntries(Object.entries(moved(env, set, 0)).filter(([k]) => k.startsWith('RESTORE_')));
  };
  /** redis-restore.sh sentinel of member I of SET (on HOSTS), its Lease read as FOUNDED; its result. */
  const sentinelRestore = (set: string, i: number, hosts: string[], founded: string) => {
    for (const d of ['data', 'conf']) fs.mkdirSync(path.join(root, set, `${d}-${i}`), { recursive: true });
    fs.writeFileSync(path.join(root, set, `founded-${i}`), `${founded}\n`);
    return script('redis-restore.sh', { ...memberEnv(set, i, hosts), SET_NAME: set, ...sentinelRestoreEnv(set) }, 'sentinel');
  };
  const dataFiles = (set: string, i: number) => fs.readdirSync(path.join(root, set, `data-${i}`)).filter((f) => !f.startsWith('.cdk8s-sentinel')).sort();

  test('with Sentinel, restore into a new set: only the first member of a never-founded set restores and is the master; the others replicate it; a member with data or of a founded set never restores', async () => {
    const started = Date.now();
    const results = [];
    for (const i of [0, 1, 2]) results.push(await sentinelRestore('rsen', i, RESTORED_HOSTS, 'absent'));
    console.log(`servers backup-redis: Sentinel restore of the first member in ${((Date.now() - started) / 1000).toFixed(1)}s: ${results[0].stderr.split('\n').find((l) => l.includes('restored the snapshot'))}`);
    expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(results[0].stderr).toMatch(/it founds the set from the snapshot/);
    expect(results[0].stderr).toMatch(/restored the snapshot \d{8}T\d{6}Z\.rdb: 101 keys loaded/);
    expect(dataFiles('rsen', 0)).toEqual(['appendonlydir']);
    for (const i of [1, 2]) {
      expect(results[i].stderr).toContain(`member ${i} does not restore`);
      expect(results[i].stderr).not.toContain('a new set from the snapshot');
      expect(dataFiles('rsen', i)).toEqual([]);
    }
    // the servers and Sentinels as their containers start them: member 0 the master, the others its replicas
    const env = (i: number) => ({ ...sentinelEnv(i), ...memberEnv('rsen', i, RESTORED_HOSTS), SET_NAME: 'rsen', BIND_ADDRESS: RESTORED_HOSTS[i] });
    const procs = [0, 1, 2].flatMap((i) => [new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel-start.sh')], env(i)), new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel.sh')], env(i))]);
    try {
      const master = (i: number) => spawnSync('redis-cli', ['--no-auth-warning', '-h', RESTORED_HOSTS[i], '-p', SENTINEL_PORT, 'sentinel', 'get-master-addr-by-name', 'rsen'],
        { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8', timeout: 10_000 }).stdout.split('\n')[0];
      await until('member 0 the master, both replicas linked, the Sentinels agreeing', () => (linked(RESTORED_HOSTS[1]) && linked(RESTORED_HOSTS[2]) &&
        [0, 1, 2].every((i) => master(i) === RESTORED_HOSTS[0]) ? true : undefined), 90);
      console.log(`servers backup-redis: the restored Sentinel set serving, its replicas linked, ${((Date.now() - started) / 1000).toFixed(1)}s after the restores began`);
      for (const host of RESTORED_HOSTS) expect({ host, keys: cli(host, 'dbsize'), last: cli(host, 'get', 's:100') }).toEqual({ host, keys: '101', last: 'v100' });
      expect(/^role:(\w+)/m.exec(cli(RESTORED_HOSTS[0], 'info', 'replication'))?.[1]).toBe('master');
      // the founder restarted with its data: no restore, its data as it was
      const again = await sentinelRestore('rsen', 0, RESTORED_HOSTS, 'absent');
      expect(again.status).toBe(0);
      expect(again.stderr).toContain('this member holds data: no restore');
      expect(again.stderr).not.toContain('a new set from the snapshot');
      expect(dataFiles('rsen', 0)).toContain('appendonlydir');
      expect(dataFiles('rsen', 0)).not.toContain('.cdk8s-restore');
    } finally {
      procs.forEach((p) => p.kill());
    }
    // the first member's volume empty in a set founded already: it never restores (it copies the master the Sentinels name)
    const founded = await sentinelRestore('rsen-founded', 0, ['127.0.0.24', '127.0.0.25', '127.0.0.26'], 'present');
    expect(founded.status).toBe(0);
    expect(founded.stderr).toContain('the set was founded already');
    expect(founded.stderr).not.toContain('a new set from the snapshot');
    expect(dataFiles('rsen-founded', 0)).toEqual([]);
    // no answer about the Lease: no guess
    const unknown = await sentinelRestore('rsen-unknown', 0, ['127.0.0.27', '127.0.0.28', '127.0.0.29'], 'unknown');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("cannot tell whether the set was founded");
    expect(dataFiles('rsen-unknown', 0)).toEqual([]);
  }, 240_000);

  test('with Sentinel, a corrupted snapshot stops the restore naming it; no data is left that would start', async () => {
    const dir = path.join(store, 'backups', 'servers', 'sentinel');
    const name = fs.readdirSync(dir).filter((o) => o.endsWith('.rdb')).sort().pop()!;
    const file = path.join(dir, name);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 0xff;
    fs.writeFileSync(file, bytes);
    try {
      const res = await sentinelRestore('rsen-corrupt', 0, ['127.0.0.31', '127.0.0.32', '127.0.0.33'], 'absent');
      console.log(`servers backup-redis: Sentinel restore of a corrupted snapshot: ${res.stderr.split('\n').find((l) => l.includes('is corrupted'))}`);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`the snapshot s3://localhost:${S3_PORT}/backups/servers/sentinel/${name} is corrupted: its SHA-256 is`);
      expect(res.stderr).toContain('the set does not start empty instead');
      expect(dataFiles('rsen-corrupt', 0).filter((f) => !f.startsWith('.'))).toEqual([]);
    } finally {
      bytes[100] ^= 0xff;
      fs.writeFileSync(file, bytes);
    }
  }, 60_000);
});
