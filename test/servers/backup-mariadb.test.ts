// MariaDB Galera backups with mariadb-backup and rclone to a real S3-compatible store (versitygw,
// built by tools/s3-server/build.sh) over HTTPS with a private CA on loopback, driven by the
// preset's scripts with the environment their containers get (synthesized). Each member runs in a
// mount namespace of its own, its directories at the pod's paths, as test/servers/galera.test.ts
// runs them; the `decide` init container's decision is written here as the Lease would give it.
// A set of two (127.0.0.1-2): rows 1-200, a backup by the sidecar of the highest ordinal
// (`mariadb-backup.sh now`), rows 201-250. A new set (127.0.0.3-4): its first member restores
// (mariadb-restore.sh) and bootstraps, the second joins it by SST: both hold rows 1-200 and none
// after. A corrupted object stops the restore naming it, and no data directory appears; with the
// store down the backup fails loudly and the set keeps taking writes; the server SIGKILLed
// mid-stream fails the backup loudly, and nothing of it counts.
// The members log their binary log (backup.binlogArchiveInterval): rows 300-309, a moment T, rows
// 310-320, the archive (`mariadb-backup.sh binlog`); a member restored to T (restoreFrom.pointInTime:
// the backup, then the archived binary log replayed up to T) holds every row written before T and
// none after; an archive with a gap, or one short of the moment, stops the restore naming it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { chart, find, synth } from '../util';
import { Proc, requireBinary, SCRIPTS, scratch, secrets, until } from './util';
import { loopbackStore } from './s3-store';

// addresses of their own: no other file's servers answer on them
const HOSTS = ['127.0.3.1', '127.0.3.2', '127.0.3.3', '127.0.3.4', '127.0.3.5'];
const ROOT_PW = "r00t 'pw'";
const S3_PORT = '17074';
const KEYS = { accessKeyId: 'serverstestkey', secretAccessKey: 'servers-test-secret-3' };
const REPO_DIR = ['backups', 'servers', 'galera'];
let root = '';
const members: (Proc | undefined)[] = [];

afterAll(() => {
  Proc.killAll();
  if (root && !process.env.KEEP_SERVER_DIRS) fs.rmSync(root, { recursive: true, force: true });
});

/** The env (values only) of the sidecar `backup` and of the init container `restore`, as synthesized. */
function preset(backupName?: string, pointInTime?: string) {
  const repository = { bucket: 'backups', endpoint: `localhost:${S3_PORT}`, region: 'us-east-1', path: '/servers/galera', caCertificateKey: 's3-ca.crt' };
  const image = 'registry.example.com/mariadb-rclone:10.11-1.60.1';
  const spec = (engine: DatabaseEngine) => {
    const c = chart('data');
    new StatefulDatabase(c, 'db', { engine, replicas: 2, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'creds') }, storage: { size: Size.gibibytes(1) } });
    return find(synth(c), 'StatefulSet').spec.template.spec;
  };
  const values = (container: any) => Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value as string]));
  const backed = spec(DatabaseEngine.mariadbGalera({ backup: { image, repository, schedule: '30 2 * * *', retainBackups: 2, binlogArchiveInterval: Duration.seconds(10) } }));
  const restored = spec(DatabaseEngine.mariadbGalera({ restoreFrom: { image, repository, backup: backupName, pointInTime } }));
  return {
    backupEnv: values(backed.containers.find((c: any) => c.name === 'backup')),
    restoreEnv: values(restored.initContainers.find((c: any) => c.name === 'restore')),
    binlog: values(backed.initContainers.find((c: any) => c.name === 'bootstrap')).BINLOG,
    restoreBefore: restored.initContainers.map((c: any) => c.name).join(' '),
  };
}

describe('mariadb galera backups with mariadb-backup and rclone to versitygw on loopback', () => {
  requireBinary('mariadbd', ['/usr/sbin']);
  requireBinary('mariadb-backup');
  requireBinary('mbstream');
  requireBinary('rclone');
  requireBinary('unshare');
  const uid = Number(spawnSync('id', ['-u', 'mysql'], { encoding: 'utf-8' }).stdout.trim());
  root = scratch('galera-backup');
  fs.chmodSync(root, 0o755);
  const { store, caPem, start: startStore } = loopbackStore(root, S3_PORT, KEYS);
  const keysDir = secrets(root, { 'root-password': ROOT_PW, 's3-access-key-id': KEYS.accessKeyId, 's3-secret-access-key': KEYS.secretAccessKey, 's3-ca.crt': caPem }, uid);
  const repo = path.join(store, ...REPO_DIR);
  const objects = () => (fs.existsSync(repo) ? fs.readdirSync(repo).filter((f) => !f.startsWith('.')).sort() : []);
  let gw = startStore();

  const dir = (i: number, what: string) => path.join(root, `m${i}`, what);
  const mounts: [string, string][] = [['data', '/var/lib/mysql'], ['conf', '/etc/mysql/conf.d'], ['run', '/run/mysqld'], ['empty', '/etc/mysql/mariadb.conf.d']];
  /** Member I's env: the set's first ordinal FIRST, its members PEERS (the sets are 0-1 and 2-3). */
  const env = (i: number) => {
    const first = i < 2 ? 0 : 2;
    return {
      PATH: `${__dirname}:${process.env.PATH}`, TMPDIR: '/tmp', POD_INDEX: String(i), START_ORDINAL: String(first), PEERS: HOSTS.slice(first, first + 2).join(' '),
      DATA_DIR: '/var/lib/mysql/data', RUN_DIR: '/run/mysqld', KEYS_DIR: keysDir, ROOT_KEY: 'root-password', MARIADB_MYSQL_LOCALHOST_USER: '1',
      MARIADB_MYSQL_LOCALHOST_GRANTS: 'RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR', ENTRYPOINT: 'galera-entrypoint.sh', CLUSTER_NAME: 'db',
      CONFIG_DIR: '/etc/mysql/conf.d', WORK_DIR: dir(i, 'work'), INITDB_DIR: dir(i, 'initdb'), GCACHE_SIZE: '64M', SCRIPTS_DIR: SCRIPTS,
      WATCH_SECONDS: '2', PRIMARY_GRACE: '6', S3_RETRIES: '1', S3_LOW_LEVEL_RETRIES: '1', BINLOG: synthesized.binlog,
    };
  };
  const prepare = (i: number) => {
    for (const what of [...mounts.map(([w]) => w), 'work', 'initdb']) {
      fs.mkdirSync(dir(i, what), { recursive: true });
      fs.chownSync(dir(i, what), uid, uid);
    }
    fs.copyFileSync(path.join(SCRIPTS, 'galera-initdb.sh'), path.join(dir(i, 'initdb'), '90-cdk8s-initialized.sh'));
  };
  /** A shell in member I's mount namespace, as the mysql user, with the container's env and EXTRA. */
  const inPod = (i: number, command: string, extra: { [k: string]: string } = {}) => {
    const binds = mounts.map(([what, at]) => `mount --bind '${dir(i, what)}' '${at}'`).join(' && ');
    const e = Object.entries({ ...env(i), ...extra }).map(([k, v]) => `${k}='${v.replace(/'/g, "'\\''")}'`).join(' ');
    return ['unshare', '-m', '--propagation', 'private', 'bash', '-c', `${binds} && exec runuser -u mysql -- env ${e} bash -c '${command.replace(/'/g, "'\\''")}'`];
  };
  /** A script in member I's namespace run to its end, asynchronously (the servers' logs are pipes to this process). */
  const script = (i: number, name: string, extra: { [k: string]: string } = {}, arg = '') => new Promise<{ status: number | null; log: string }>((resolve) => {
    const [cmd, ...args] = inPod(i, `bash "$SCRIPTS_DIR/${name}" ${arg}`, extra);
    const proc = new Proc(cmd, args);
    const timer = setTimeout(() => proc.kill(), 240_000);
    void proc.exited().then((status) => {
      clearTimeout(timer);
      resolve({ status, log: proc.log });
    });
  });
  const initContainers = async (i: number) => {
    for (const name of ['galera-install.sh', 'galera-bootstrap.sh', 'galera-recover.sh']) {
      const r = await script(i, name);
      expect({ name, status: r.status, log: r.status === 0 ? '' : r.log }).toEqual({ name, status: 0, log: '' });
    }
    fs.writeFileSync(path.join(dir(i, 'conf'), 'zz-loopback.cnf'), ['[mariadb]', `bind-address=${HOSTS[i]}`, `wsrep_node_address=${HOSTS[i]}`,
      `wsrep_sst_receive_address=${HOSTS[i]}:4444`, 'socket=/run/mysqld/mysqld.sock',
      `wsrep_provider_options="pc.recovery=TRUE;pc.wait_prim=FALSE;gcache.size=64M;gmcast.listen_addr=tcp://${HOSTS[i]}:4567;ist.recv_addr=${HOSTS[i]}:4568"`, ''].join('\n'));
  };
  /** The database container, restarted when it exits (restartPolicy Always), after `decide` wrote DECISION. */
  const start = (i: number, decision: 'bootstrap' | 'join') => {
    fs.writeFileSync(dir(i, 'run') + '/galera-decision', `${decision}\n`);
    fs.chownSync(dir(i, 'run') + '/galera-decision', uid, uid);
    const quoted = inPod(i, `exec bash ${dir(i, 'work')}/galera-start.sh`).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    members[i] = new Proc('bash', ['-c', `while :; do ${quoted}; echo "--- container exited: $?"; sleep 2; done`]);
  };
  const sql = (i: number, query: string) => {
    const res = spawnSync('mariadb', ['-h', HOSTS[i], '-uroot', `-p${ROOT_PW}`, '-N', '-B', '-e', query], { encoding: 'utf-8', timeout: 20_000 });
    if (res.status !== 0) throw new Error(res.stderr || `no answer (${res.signal})`);
    return res.stdout.trim();
  };
  const synced = (i: number) => {
    try {
      return sql(i, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'").endsWith('Synced') ? true : undefined;
    } catch {
      return undefined;
    }
  };
  const insert = (i: number, from: number, to: number) => {
    const rows = Array.from({ length: to - from + 1 }, (_, k) => `(${from + k}, 'item ${from + k}')`).join(',');
    sql(i, `INSERT INTO shop.orders VALUES ${rows}`);
  };
  // read after every write-set this member has received is applied (a read on another member than the write's)
  const rows = (i: number) => sql(i, 'SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders');
  const synthesized = preset();
  const backupEnv = Object.fromEntries(Object.entries(synthesized.backupEnv).filter(([k]) => /^(BACKUP_|RETAIN_|BINLOG_)/.test(k))
    .map(([k, v]) => [k, v.replace('/run/secrets/db', keysDir)]));
  /** Series cdk8s_backup_NAME of member 1's backup record (on its volume, where the sidecar serves it from). */
  const recorded = (name: string) => {
    const text = fs.readFileSync(dir(1, 'data') + '/.cdk8s-backup-metrics/metrics', 'utf-8');
    const line = text.split('\n').find((l) => l.startsWith(`cdk8s_backup_${name}{`));
    if (!line) throw new Error(`no series cdk8s_backup_${name} in the record:\n${text}`);
    return Number(line.split(' ').pop());
  };
  const restoreEnv = (backupName?: string, pointInTime?: string) => Object.fromEntries(Object.entries(preset(backupName, pointInTime).restoreEnv).filter(([k]) => k.startsWith('RESTORE_'))
    .map(([k, v]) => [k, v.replace('/run/secrets/db', keysDir)]));
  const backup = () => script(1, 'mariadb-backup.sh', backupEnv, 'now');

  test('the restore runs before the position is read; a set of two backs up from its highest ordinal, every row written before it', async () => {
    expect(synthesized.restoreBefore).toBe('install bootstrap restore recover decide');
    for (const i of [0, 1]) { prepare(i); await initContainers(i); }
    start(0, 'bootstrap');
    await until('member 0 Synced', () => synced(0), 120);
    start(1, 'join');
    await until('member 1 Synced (SST)', () => synced(1), 180);
    sql(0, 'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40))');
    insert(0, 1, 100);
    insert(1, 101, 200);
    const started = Date.now();
    const r = await backup();
    console.log(`servers backup-mariadb: backup in ${((Date.now() - started) / 1000).toFixed(1)}s: ${r.log.split('\n').find((l) => l.includes('done in')) ?? r.log}`);
    expect(r.status).toBe(0);
    expect(r.log).toMatch(/backup: \d{8}T\d{6}Z\.mbstream done in \d+s: \d+ bytes from member 1, Galera position [-0-9a-f]{36}:\d+, binary log binlog\.\d+ \d+, sha256 [0-9a-f]{64}/);
    // the server desyncs its member from the group's flow control and pauses its provider for the
    // backup's DDL block, then resumes: the other member keeps committing
    const server = members[1]!.log.split('\n').filter((l) => /WSREP: (Desyncing and pausing|Server desynched|Provider resumed)/.test(l));
    console.log(`servers backup-mariadb: member 1's server during the backup: ${server.join(' | ')}`);
    expect(server.map((l) => /WSREP: (.*)$/.exec(l)![1])).toEqual(['Desyncing and pausing the provider', 'Server desynched from group during BACKUP STAGE BLOCK_DDL.', 'Provider resumed.']);
    const name = /backup: (\S+) done/.exec(r.log)![1];
    // with its binary log record: where a replay to a point in time starts
    expect(objects()).toEqual([name, `${name}.binlog`, `${name}.sha256`]);
    expect(fs.readFileSync(path.join(repo, `${name}.binlog`), 'utf-8')).toMatch(/^lineage=\d{8}T\d{6}Z-[0-9a-f]{8}\nfile=binlog\.\d{6}\nposition=\d+\nended=\d+\n$/);
    const actual = spawnSync('sha256sum', [path.join(repo, name)], { encoding: 'utf-8' }).stdout.split(' ')[0];
    expect(fs.readFileSync(path.join(repo, `${name}.sha256`), 'utf-8')).toBe(`${actual}  ${name}\n`);
    // the outcome as the sidecar serves it to Prometheus (backup-metrics.sh)
    expect(recorded('last_size_bytes')).toBe(fs.statSync(path.join(repo, name)).size);
    expect(recorded('consecutive_failures')).toBe(0);
    expect(Math.abs(recorded('last_success_timestamp_seconds') - Date.now() / 1000)).toBeLessThan(60);
    expect(fs.existsSync(dir(1, 'data') + '/.cdk8s-backup')).toBe(false);
    insert(0, 201, 250);
    expect(rows(1)).toBe('250\t1\t250');
  }, 600_000);

  test('restore into a new set: the first member restores and bootstraps, the second joins it by SST: rows 1-200, none after', async () => {
    for (const i of [2, 3]) prepare(i);
    const started = Date.now();
    const r = await script(2, 'mariadb-restore.sh', restoreEnv());
    console.log(`servers backup-mariadb: restore (download, checksum, mbstream, prepare) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect({ status: r.status, log: r.log }).toEqual({ status: 0, log: expect.stringMatching(/restored \S+\.mbstream into \/var\/lib\/mysql\/data at Galera position [-0-9a-f]+:\d+/) });
    // the other member does not restore
    const other = await script(3, 'mariadb-restore.sh', restoreEnv());
    expect(other.status).toBe(0);
    expect(other.log).toContain('member 3 does not restore');
    expect(fs.existsSync(dir(3, 'data') + '/data')).toBe(false);
    for (const i of [2, 3]) await initContainers(i);
    // recover reads the restored position: data, a seqno; the empty member has none
    const position = fs.readFileSync(dir(2, 'run') + '/galera-position', 'utf-8').trim().split(' ');
    expect(position[3]).toBe('1');
    expect(Number(position[1])).toBeGreaterThan(0);
    expect(fs.readFileSync(dir(3, 'run') + '/galera-position', 'utf-8').trim().split(' ')[3]).toBe('0');
    start(2, 'bootstrap');
    await until('the restored member Synced', () => synced(2), 120);
    start(3, 'join');
    await until('the second member Synced (SST from the restored one)', () => synced(3), 180);
    for (const i of [2, 3]) expect({ i, rows: rows(i) }).toEqual({ i, rows: '200\t1\t200' });
    insert(3, 1000, 1000);
    expect(rows(2)).toBe('201\t1\t1000');
  }, 600_000);

  /** The rows member I's data directory holds, read by a server without networking or Galera on it (a restore's outcome). */
  const storedRows = (i: number) => {
    const check = [
      'mariadbd --no-defaults --datadir=/var/lib/mysql/data --socket=/run/mysqld/check.sock --pid-file=/run/mysqld/check.pid --skip-networking --wsrep-on=OFF >/run/mysqld/check.log 2>&1 &',
      'for _ in $(seq 60); do mariadb-admin --no-defaults --socket=/run/mysqld/check.sock ping >/dev/null 2>&1 && break; sleep 1; done',
      'mariadb --no-defaults --socket=/run/mysqld/check.sock -uroot -p"$RP" -N -B -e "SELECT COUNT(*), MIN(id), MAX(id) FROM shop.orders"',
      'mariadb-admin --no-defaults --socket=/run/mysqld/check.sock -uroot -p"$RP" shutdown; wait'].join('\n');
    const [cmd, ...args] = inPod(i, check, { RP: ROOT_PW });
    const res = spawnSync(cmd, args, { encoding: 'utf-8', timeout: 120_000 });
    return res.stdout.trim();
  };
  /** Member 4 emptied, then restored from the repository to POINT_IN_TIME. */
  const restoreTo = async (pointInTime: string) => {
    fs.rmSync(dir(4, 'data'), { recursive: true, force: true });
    prepare(4);
    return script(4, 'mariadb-restore.sh', { ...restoreEnv(undefined, pointInTime), START_ORDINAL: '4' });
  };
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

  test('a restore to a point in time: the backup, then the archived binary log up to that second, every row written before it and none after; a gap or an archive short of the moment stops it', async () => {
    try {
      await pointInTime();
    } finally {
      // the rows of this test out of the way of the later ones
      fs.rmSync(dir(4, 'data'), { recursive: true, force: true });
      sql(0, 'DELETE FROM shop.orders WHERE id >= 300');
    }
  }, 300_000);

  const pointInTime = async () => {
    insert(0, 300, 309);
    // a whole second at least 1 s after the last row before it, and 1.5 s before the first after it
    const target = Math.floor(Date.now() / 1000) + 2;
    await new Promise((r) => setTimeout(r, target * 1000 + 1500 - Date.now()));
    insert(0, 310, 319);
    let started = Date.now();
    const archived = await script(1, 'mariadb-backup.sh', backupEnv, 'binlog');
    console.log(`servers backup-mariadb: archive attempt in ${((Date.now() - started) / 1000).toFixed(1)}s: ${archived.log.split('\n').filter((l) => l.includes('binlog:')).join(' | ')}`);
    expect({ status: archived.status, log: archived.status === 0 ? '' : archived.log }).toEqual({ status: 0, log: '' });
    expect(archived.log).toMatch(/binlog: archived binlog\.\d{6} \(\S+\)/);
    // one more file, so that the archive holds two after the backup's
    insert(0, 320, 320);
    expect((await script(1, 'mariadb-backup.sh', backupEnv, 'binlog')).status).toBe(0);
    // nothing logged since: no switch, nothing uploaded
    const idle = await script(1, 'mariadb-backup.sh', backupEnv, 'binlog');
    expect(idle.status).toBe(0);
    expect(idle.log).not.toMatch(/archived binlog/);
    // every archived file sealed with its SHA-256, in one lineage; the series of the record
    const [lineage, ...others] = fs.readdirSync(path.join(repo, 'binlog'));
    expect(others).toEqual([]);
    const archive = path.join(repo, 'binlog', lineage);
    const files = fs.readdirSync(archive).filter((f) => !f.endsWith('.sha256') && !f.startsWith('.')).sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const sum = spawnSync('sha256sum', [path.join(archive, f)], { encoding: 'utf-8' }).stdout.split(' ')[0];
      expect({ f, sealed: fs.readFileSync(path.join(archive, `${f}.sha256`), 'utf-8') }).toEqual({ f, sealed: `${sum}  ${f}\n` });
    }
    const metrics = fs.readFileSync(dir(1, 'data') + '/.cdk8s-backup-metrics/metrics', 'utf-8');
    expect(Number(/^cdk8s_binlog_archived_until_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(target);
    expect(metrics).toMatch(/^cdk8s_binlog_archive_pending_files\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^cdk8s_backup_last_success_timestamp_seconds\{/m);

    // a gap: the backup's first file missing from the archive
    const record = fs.readFileSync(path.join(repo, objects().find((o) => o.endsWith('.binlog'))!), 'utf-8');
    const first = /^file=(\S+)$/m.exec(record)![1];
    const seal = path.join(archive, `${first}.sha256`);
    const sealed = fs.readFileSync(seal);
    fs.rmSync(seal);
    const gap = await restoreTo(iso(target)).finally(() => fs.writeFileSync(seal, sealed));
    console.log(`servers backup-mariadb: with a gap: ${gap.log.split('\n').find((l) => l.includes('ERROR')) ?? gap.log}`);
    expect(gap.status).toBe(1);
    expect(gap.log).toMatch(new RegExp(`has a gap: ${first.replace('.', '\\.')} is missing, binlog\\.\\d+ follows`));
    expect(fs.existsSync(dir(4, 'data') + '/data')).toBe(false);
    // a moment the archive does not reach yet
    const ahead = await restoreTo(iso(Math.floor(Date.now() / 1000) + 3600));
    expect(ahead.status).toBe(1);
    expect(ahead.log).toMatch(/archive .* ends with binlog\.\d+, its last event at .* \(UTC\), before the target .*this container tries again/);
    expect(fs.existsSync(dir(4, 'data') + '/data')).toBe(false);

    started = Date.now();
    const r = await restoreTo(iso(target));
    console.log(`servers backup-mariadb: restore to ${iso(target)} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${r.log.split('\n').filter((l) => /replay/.test(l)).join(' | ')}`);
    expect({ status: r.status, log: r.status === 0 ? '' : r.log }).toEqual({ status: 0, log: '' });
    expect(r.log).toMatch(/restored \S+\.mbstream into \/var\/lib\/mysql\/data at Galera position [-0-9a-f]+:\d+, its binary log replayed up to /);
    // rows 1-250 and 300-309, none of 310-320
    expect(storedRows(4)).toBe('260\t1\t309');
  };

  test('a corrupted backup object stops the restore naming it; no data directory appears', async () => {
    const name = objects().find((o) => o.endsWith('.mbstream'))!;
    const file = path.join(repo, name);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    prepare(4);
    const r = await script(4, 'mariadb-restore.sh', { ...restoreEnv(), START_ORDINAL: '4' });
    console.log(`servers backup-mariadb: corrupted: ${r.log.split('\n').find((l) => l.includes('ERROR')) ?? r.log}`);
    expect(r.status).toBe(1);
    expect(r.log).toContain(`the backup s3://localhost:${S3_PORT}/${REPO_DIR.join('/')}/${name} is corrupted: its SHA-256 is`);
    expect(r.log).toContain('the set does not start instead');
    expect(fs.existsSync(dir(4, 'data') + '/data')).toBe(false);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
  }, 120_000);

  test('the store down: the backup fails loudly, nothing new in the store, the set keeps taking writes', async () => {
    const before = objects();
    gw.kill();
    await gw.exited();
    const r = await backup();
    expect(r.status).not.toBe(0);
    expect(r.log).toMatch(/backup: FAILED after \d+s: .*No backup was recorded/);
    expect(recorded('consecutive_failures')).toBeGreaterThanOrEqual(1);
    insert(1, 251, 260);
    expect(rows(0)).toBe('260\t1\t260');
    // the binary log archive fails too: counted, its files wait on the volume, the server goes on
    const series = (name: string) => Number(new RegExp(`^cdk8s_binlog_${name}\\{[^}]*\\} (\\S+)$`, 'm')
      .exec(fs.readFileSync(dir(1, 'data') + '/.cdk8s-backup-metrics/metrics', 'utf-8'))![1]);
    const failuresBefore = series('archive_failures_total');
    const down = await script(1, 'mariadb-backup.sh', backupEnv, 'binlog');
    console.log(`servers backup-mariadb: archive with the store down: ${down.log.split('\n').find((l) => l.includes('FAILED')) ?? down.log}`);
    expect(down.status).not.toBe(0);
    expect(down.log).toMatch(/binlog: archiving FAILED: .*The files stay on the volume/);
    expect(series('archive_failures_total')).toBe(failuresBefore + 1);
    expect(series('archive_pending_files')).toBeGreaterThanOrEqual(1);
    expect(rows(1)).toBe('260\t1\t260');
    gw = startStore();
    await until('the store back', () => (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${S3_PORT}`]).status === 0 ? true : undefined));
    expect(objects()).toEqual(before);
    // the backlog goes up once the store answers
    const back = await script(1, 'mariadb-backup.sh', backupEnv, 'binlog');
    expect(back.status).toBe(0);
    expect(back.log).toMatch(/binlog: archived binlog\.\d+/);
    expect(series('archive_pending_files')).toBe(0);
  }, 180_000);

  test('the server SIGKILLed mid-stream: the backup fails loudly, its partial upload is deleted, nothing counts; the member rejoins', async () => {
    const before = objects();
    // the upload held to 1 MiB/s (rclone reads RCLONE_BWLIMIT), so that the kill lands mid-stream
    const running = script(1, 'mariadb-backup.sh', { ...backupEnv, RCLONE_BWLIMIT: '1M' }, 'now');
    await until('the stream started', () => (objects().length > before.length || fs.existsSync(dir(1, 'data') + '/.cdk8s-backup/sum.fifo') ? true : undefined), 30);
    await new Promise((r) => setTimeout(r, 3000));
    const pid = spawnSync('pgrep', ['-s', String(members[1]!.child.pid), '-x', 'mariadbd'], { encoding: 'utf-8' }).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    process.kill(Number(pid), 'SIGKILL');
    const r = await running;
    console.log(`servers backup-mariadb: with the server killed mid-stream: ${r.log.split('\n').find((l) => l.includes('FAILED')) ?? r.log}`);
    expect(r.status).not.toBe(0);
    expect(r.log).toMatch(/backup: FAILED after \d+s: (mariadb-backup or the upload did not complete|this member's server restarted during the backup)/);
    expect(objects()).toEqual(before);
    expect(recorded('consecutive_failures')).toBeGreaterThanOrEqual(1);
    // the kubelet's restart: the member rejoins and the next backup is whole
    await until('member 1 Synced again', () => synced(1), 180);
    const again = await backup();
    expect(again.status).toBe(0);
    expect(objects().filter((o) => o.endsWith('.sha256'))).toHaveLength(2);
  }, 300_000);
});
