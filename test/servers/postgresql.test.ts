// PostgreSQL 15 (Debian's packages) on 127.0.0.1-3, set up by postgres-replica.sh and
// postgres-initdb.sh as the preset's containers run them (the image's entrypoint stood in for by
// initdb with the same options), probed by postgres-probe.sh. Standbys stream through
// slots of their own, are Ready only while they stream, and a primary whose volume is lost comes
// back as a copy of the furthest standby, with every row.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc, requireBinary, scratch, secrets, until } from './util';

const BIN = '/usr/lib/postgresql/15/bin';
const PORT = '15432';
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const PASSWORDS = { 'root-password': "su'per \"pw\"", 'replication-password': "re'pl:ic\\a $pw", 'username': 'shop', 'password': "app 'pw'" };
let root = '';

afterAll(() => {
  // the servers, not only runuser: every postmaster started here
  for (const pidFile of fs.existsSync(root) ? fs.readdirSync(root).map((d) => path.join(root, d, 'pgdata', 'postmaster.pid')) : []) {
    if (fs.existsSync(pidFile)) try { process.kill(Number(fs.readFileSync(pidFile, 'utf-8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ }
  }
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('postgresql on loopback', () => {
  requireBinary('postgres', [BIN]);
  requireBinary('psql');
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf-8' }).stdout.trim());
  if (!(uid > 0)) throw new Error('the postgres system user is missing: run tools/scripts/install-servers.sh');
  root = scratch('postgres');
  fs.chmodSync(root, 0o755);
  const keysDir = secrets(root, PASSWORDS, uid);
  const members: (Proc | undefined)[] = [];
  const dir = (i: number, what: string) => path.join(root, `${what}-${i}`);
  const env = (i: number) => ({
    PATH: `${BIN}:${process.env.PATH}`, TMPDIR: '/tmp', POD_INDEX: String(i), START_ORDINAL: '0', PEERS: HOSTS.join(' '), HOSTNAME: `db-${i}`,
    POSTGRES_PORT: PORT, PGDATA: path.join(dir(i, 'data'), 'pgdata'), RUN_DIR: dir(i, 'run'), KEYS_DIR: keysDir,
    ROOT_KEY: 'root-password', REPLICATION_KEY: 'replication-password', USERNAME_KEY: 'username', PW_KEY: 'password',
    FOUNDED_FILE: path.join(root, `founded-${i}`), POLL_SECONDS: '1',
  });
  // what the init container founding (founding.sh) answered from the API server's Lease
  const founded = (i: number, state: 'found' | 'present') => fs.writeFileSync(env(i).FOUNDED_FILE, `${state}\n`, { mode: 0o644 });
  // as the postgres user, like the container (uid 999 there)
  const asPostgres = (script: string, i: number, extra: { [k: string]: string } = {}) => {
    const e = { ...env(i), ...extra };
    const res = spawnSync('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(e).map(([k, v]) => `${k}=${v}`), `SCRIPTS_DIR=${path.dirname(require.resolve('./util'))}/../../lib/database/engines/scripts`,
      'bash', path.join(__dirname, '..', '..', 'lib', 'database', 'engines', 'scripts', script), ...(extra.ARG ? [extra.ARG] : [])], { encoding: 'utf-8', timeout: 240_000 });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  };
  const prepare = (i: number) => {
    for (const what of ['data', 'run']) {
      fs.mkdirSync(dir(i, what), { recursive: true });
      fs.chownSync(dir(i, what), uid, uid);
    }
  };
  // the server as the container runs it: the preset's arguments, this member's address and socket
  const start = (i: number) => {
    members[i] = new Proc('runuser', ['-u', 'postgres', '--', `${BIN}/postgres`, '-D', env(i).PGDATA, '-c', 'hot_standby=on', '-c', 'wal_keep_size=256MB',
      '-c', 'max_slot_wal_keep_size=2097152kB', '-c', `listen_addresses=${HOSTS[i]}`, '-c', `port=${PORT}`, '-c', `unix_socket_directories=${dir(i, 'run')}`]);
  };
  const sql = (i: number, query: string, db = 'postgres') => {
    const res = spawnSync('runuser', ['-u', 'postgres', '--', 'psql', '-At', '-h', dir(i, 'run'), '-p', PORT, '-d', db, '-c', query], { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  const probe = (i: number) => asPostgres('postgres-probe.sh', i, { ARG: 'ready', POSTGRES_HOST: HOSTS[i] });

  test('a primary (initialized as the image does, then postgres-initdb.sh) and two standbys streaming through their own slots', async () => {
    prepare(0);
    // the clone init container first: a new set (this member created the founding Lease), so the
    // primary is left to the entrypoint to initialize
    founded(0, 'found');
    expect(asPostgres('postgres-replica.sh', 0).stderr).toMatch(/this member founds the set[\s\S]*new primary/);
    // the image's entrypoint: initdb with the superuser password from the Secret's file, host connections by password
    const pwfile = path.join(keysDir, 'root-password');
    let res = spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/initdb`, '-D', env(0).PGDATA, '--username=postgres', `--pwfile=${pwfile}`,
      '--auth-local=trust', '--auth-host=scram-sha-256'], { encoding: 'utf-8' });
    expect(res.status).toBe(0);
    fs.appendFileSync(path.join(env(0).PGDATA, 'pg_hba.conf'), 'host all all all scram-sha-256\n');
    start(0);
    await until('primary up', () => (sql(0, 'SELECT 1') === '1' ? true : undefined));
    res = asPostgres('postgres-initdb.sh', 0, { PGHOST: dir(0, 'run'), PGPORT: PORT }) as any;
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.stringContaining("created the replication role 'replicator'") });
    expect(res.stderr).toMatch(/creating the application role and database 'shop'/);
    sql(0, 'SELECT pg_reload_conf()');
    // the application role logs in with its password, over TCP
    const app = spawnSync('psql', ['-At', '-h', HOSTS[0], '-p', PORT, '-U', 'shop', '-d', 'shop', '-c', 'SELECT current_user'], { env: { ...process.env, PGPASSWORD: PASSWORDS.password }, encoding: 'utf-8' });
    expect(app.stdout.trim()).toBe('shop');
    for (const i of [1, 2]) {
      prepare(i);
      const clone = asPostgres('postgres-replica.sh', i);
      expect({ status: clone.status, stderr: clone.stderr }).toEqual({ status: 0, stderr: expect.stringContaining(`through slot db_${i} once the server starts`) });
      start(i);
    }
    await until('standbys stream', () => (probe(1).status === 0 && probe(2).status === 0 ? true : undefined));
    expect(sql(0, 'SELECT slot_name, active FROM pg_replication_slots ORDER BY 1')).toBe('db_1|t\ndb_2|t');
    expect(sql(0, 'SHOW max_slot_wal_keep_size')).toBe('2GB');
  });

  test('the primary loses its volume: it comes back as a copy of the furthest standby, every row kept, the standbys stream again', async () => {
    sql(0, 'CREATE TABLE orders (id int PRIMARY KEY, item text)');
    sql(0, "INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 1000) g");
    const lsn = sql(0, 'SELECT pg_current_wal_lsn()');
    await until('standbys replayed', () => (sql(1, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'`) === 't' && sql(2, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'`) === 't' ? true : undefined));
    // the node goes: the postmaster dies at once (runuser does not pass a SIGKILL on)
    const postmaster = Number(fs.readFileSync(path.join(env(0).PGDATA, 'postmaster.pid'), 'utf-8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    members[0]!.kill();
    await members[0]!.exited();
    await until('the postmaster gone', () => { try { process.kill(postmaster, 0); return undefined; } catch { return true; } });
    fs.rmSync(dir(0, 'data'), { recursive: true, force: true });
    prepare(0);

    // standbys that cannot stream are not Ready
    await until('standby not ready', () => (probe(1).status === 1 ? true : undefined));
    expect(probe(1).stderr).toMatch(/this standby does not stream from the primary .* it would serve stale data/);

    founded(0, 'present');
    const res = asPostgres('postgres-replica.sh', 0);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.stringMatching(/holds data \(position \d+\)[\s\S]*the primary is a copy of 127\.0\.0\.[23]/) });
    start(0);
    await until('primary back', () => (sql(0, 'SELECT pg_is_in_recovery()') === 'f' ? true : undefined), 60).catch((e) => {
      throw new Error(`${e}\n--- the primary's log\n${members[0]!.log.split('\n').slice(-30).join('\n')}`);
    });
    expect(sql(0, 'SELECT count(*) FROM orders')).toBe('1000');
    // the standbys' readiness probes recreate their slots on the rebuilt primary; they stream again
    await until('standbys stream again', () => (probe(1).status === 0 && probe(2).status === 0 ? true : undefined), 120);
    sql(0, "INSERT INTO orders VALUES (1001, 'after the recovery')");
    const after = sql(0, 'SELECT pg_current_wal_lsn()');
    await until('standby 2 replays the new row', () => (sql(2, `SELECT pg_last_wal_replay_lsn() >= '${after}'`) === 't' ? true : undefined));
    expect(sql(2, 'SELECT item FROM orders WHERE id = 1001')).toBe('after the recovery');
  });
});
