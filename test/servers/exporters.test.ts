// The metrics sidecars against real servers on loopback (Debian's PostgreSQL 15, MariaDB 10.11,
// Redis 7), run with exactly the command, arguments and environment the library synthesizes (only
// the Secret's mount, the exporter's binary and the ports moved), with the exporters Debian trixie
// packages (the versions of the default images). Each server gets the monitoring account
// docs/engines.md tells users to create, nothing more: the exporter must read the account from the
// Secret's files, reach its database (`*_up 1`) and scrape without a permission error. Their CPU
// per scrape and peak memory are measured for the sidecar's requests.
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { Proc, requireBinary, runScript, scratch, secrets, until } from './util';

const REPO = path.join(__dirname, '..', '..');
// letters and digits: postgres_exporter 0.17.1 builds a malformed connection string from a
// password with a quote, or with a space, a colon and a dollar sign (docs/engines.md, Metrics)
const KEYS = { 'monitoring-username': 'monitoring', 'monitoring-password': 'Mon1tor2pw', 'password': 'redis pw' };
const PG_BIN = '/usr/lib/postgresql/15/bin';
let root = '';

afterAll(() => {
  // the servers themselves, not only the runuser that started them
  for (const pidFile of root ? [path.join(root, 'pg', 'postmaster.pid'), path.join(root, 'mariadb', 'mysqld.pid')] : []) {
    if (fs.existsSync(pidFile)) try { process.kill(Number(fs.readFileSync(pidFile, 'utf-8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ }
  }
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The synthesized `metrics` container of a preset's database, and its scripts ConfigMap. */
function synthesized(engine: DatabaseEngine): { sidecar: any; scripts: any } {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'ns' });
  new StatefulDatabase(chart, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(chart, 'creds', 'db-credentials') }, metrics: {} });
  const manifests = Testing.synth(chart);
  const sts = manifests.find((m) => m.kind === 'StatefulSet');
  return {
    sidecar: sts.spec.template.spec.containers.find((c: any) => c.name === 'metrics'),
    scripts: manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'db-scripts'),
  };
}
const sidecar = (engine: DatabaseEngine) => synthesized(engine).sidecar;

/** Runs the sidecar on the host: its command (or the image's entrypoint) with paths and ports moved. */
function runSidecar(container: any, moves: Array<[string, string]>, entrypoint: string): Proc {
  const move = (s: string) => moves.reduce((acc, [from, to]) => acc.split(from).join(to), s);
  const argv: string[] = [...(container.command ?? [entrypoint]), ...(container.args ?? [])].map(move);
  const env = Object.fromEntries((container.env ?? []).map((e: any) => [e.name, move(e.value)]));
  return new Proc(argv[0], argv.slice(1), env);
}

/** Scrapes until the exporter reports its database up (`<up> 1`), for at most 30 s. */
async function scrapeUp(port: number, up: string, proc: Proc): Promise<string> {
  let text = '';
  for (let i = 0; i < 30; i++) {
    text = await scrape(port).catch(() => '');
    if (new RegExp(`^${up} 1$`, 'm').test(text)) return text;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${up} never 1 on :${port}; the exporter's log:\n${proc.log}`);
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`scrape of :${port}: HTTP ${res.status}`);
  return res.text();
}

/** CPU seconds (user + system) and peak resident memory (KiB) of a process. */
function usage(pid: number): { cpu: number; hwmKib: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8').split(') ')[1].split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf-8' }).trim());
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf-8'))!;
  return { cpu: (Number(stat[11]) + Number(stat[12])) / ticks, hwmKib: Number(hwm[1]) };
}

/** Scrapes N times, and returns the CPU per scrape (ms) and the peak memory (MiB), for the report. */
async function measure(proc: Proc, port: number, n = 20): Promise<string> {
  const pid = proc.child.pid!;
  const before = usage(pid);
  for (let i = 0; i < n; i++) await scrape(port);
  const after = usage(pid);
  return `${((after.cpu - before.cpu) * 1000 / n).toFixed(1)} ms CPU per scrape (${n} scrapes), peak RSS ${(after.hwmKib / 1024).toFixed(1)} MiB`;
}

const results: string[] = [];
afterAll(() => {
  // the measurements are results: printed for docs/engines.md
  console.log(`exporters on loopback:\n${results.join('\n')}`);
});

describe('metrics sidecars on loopback', () => {
  const bin = execFileSync('bash', [path.join(REPO, 'tools', 'scripts', 'install-prometheus.sh'),
    'prometheus-postgres-exporter', 'prometheus-mysqld-exporter', 'prometheus-redis-exporter'], { encoding: 'utf-8' }).trim().split('\n').pop()!;
  root = scratch('exporters');
  fs.chmodSync(root, 0o755);
  const keysDir = secrets(root, KEYS);
  const secretMove: [string, string] = [StatefulDatabase.CREDENTIALS_PATH, keysDir];

  test('postgres_exporter: the pg_monitor account from the Secret\'s files, pg_up 1, no permission error', async () => {
    requireBinary('postgres', [PG_BIN]);
    const data = path.join(root, 'pg');
    fs.mkdirSync(data);
    execFileSync('chown', ['postgres:postgres', data]);
    const asPostgres = (cmd: string, args: string[]) => spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf-8' });
    expect(asPostgres(`${PG_BIN}/initdb`, ['-D', data, '--auth-local=trust', '--auth-host=scram-sha-256']).status).toBe(0);
    new Proc('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', data, '-c', 'listen_addresses=127.0.0.1', '-c', 'port=25432', '-c', `unix_socket_directories=${data}`]);
    const psql = (sql: string) => asPostgres('psql', ['-h', data, '-p', '25432', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
    await until('postgres up', () => (psql('SELECT 1').status === 0 ? true : undefined));
    // docs/engines.md, Metrics: the account users create
    expect(psql(`CREATE ROLE monitoring LOGIN PASSWORD '${KEYS['monitoring-password'].replace(/'/g, "''")}'; GRANT pg_monitor TO monitoring;`).stderr).toBe('');
    const exporter = runSidecar(sidecar(DatabaseEngine.postgresql()), [secretMove, ['127.0.0.1:5432', '127.0.0.1:25432'], ['=:9187', '=127.0.0.1:29187']],
      path.join(bin, 'prometheus-postgres-exporter'));
    const metrics = await scrapeUp(29187, 'pg_up', exporter);
    expect(metrics).toMatch(/^pg_up 1$/m);
    expect(metrics).toMatch(/^pg_stat_database_numbackends\{/m);
    results.push(`postgres_exporter: ${await measure(exporter, 29187)}`);
    expect(exporter.log).not.toMatch(/permission denied|password authentication failed/i);
  });

  test('mysqld_exporter: MariaDB\'s monitoring account (PROCESS, REPLICATION CLIENT, SLAVE MONITOR, performance_schema) from the Secret\'s files, mysql_up 1, no scrape error', async () => {
    requireBinary('mariadbd', ['/usr/sbin']);
    const data = path.join(root, 'mariadb');
    fs.mkdirSync(data);
    execFileSync('chown', ['mysql:mysql', data]);
    const install = spawnSync('mariadb-install-db', ['--user=mysql', `--datadir=${data}`, '--auth-root-authentication-method=socket', '--skip-test-db'],
      { encoding: 'utf-8', env: { ...process.env, TMPDIR: '/tmp' } });
    expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr + install.stdout }).toEqual({ status: 0, stderr: '' });
    const socket = path.join(data, 'mysqld.sock');
    new Proc('/usr/sbin/mariadbd', ['--no-defaults', '--user=mysql', `--datadir=${data}`, `--socket=${socket}`, '--bind-address=127.0.0.1', '--port=23306',
      `--pid-file=${path.join(data, 'mysqld.pid')}`]);
    const sql = (q: string) => spawnSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e', q], { encoding: 'utf-8' });
    await until('mariadb up', () => (sql('SELECT 1').status === 0 ? true : undefined), 120);
    // docs/engines.md, Metrics: the account users create
    const pw = KEYS['monitoring-password'].replace(/'/g, "\\'");
    expect(sql(`CREATE USER 'monitoring'@'127.0.0.1' IDENTIFIED BY '${pw}' WITH MAX_USER_CONNECTIONS 3; ` +
      "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitoring'@'127.0.0.1'; GRANT SELECT ON performance_schema.* TO 'monitoring'@'127.0.0.1';").stderr).toBe('');
    const exporter = runSidecar(sidecar(DatabaseEngine.mariadbGalera()), [secretMove, ['127.0.0.1:3306', '127.0.0.1:23306'], ['=:9104', '=127.0.0.1:29104'],
      ['/bin/mysqld_exporter', path.join(bin, 'prometheus-mysqld-exporter')]], '');
    const metrics = await scrapeUp(29104, 'mysql_up', exporter);
    expect(metrics).toMatch(/^mysql_up 1$/m);
    expect(metrics).toMatch(/^mysql_global_status_threads_connected \d+$/m);
    expect(metrics).toMatch(/^mysql_global_variables_read_only 0$/m);
    results.push(`mysqld_exporter: ${await measure(exporter, 29104)}`);
    expect(exporter.log).not.toMatch(/Error from scraper|Access denied/i);
  });

  test('redis_exporter: its own ACL user, written into redis.conf by redis-config.sh from the Secret\'s files; redis_up 1, no command refused; the user reads no key and changes nothing', async () => {
    requireBinary('redis-server');
    requireBinary('redis-cli');
    const app = synthesized(DatabaseEngine.redis());
    // the scripts ConfigMap as the pod mounts it: the preset's scripts and monitoring-user.keys
    const scripts = path.join(root, 'redis-scripts');
    fs.mkdirSync(scripts);
    for (const [name, content] of Object.entries(app.scripts.data as { [name: string]: string })) fs.writeFileSync(path.join(scripts, name), content);
    expect(fs.readFileSync(path.join(scripts, 'monitoring-user.keys'), 'utf-8')).toBe('monitoring-username\nmonitoring-password\n');
    const data = path.join(root, 'redis-data');
    const conf = path.join(root, 'redis-conf');
    fs.mkdirSync(data);
    const config = runScript('redis-config.sh', {
      SCRIPTS_DIR: scripts, POD_INDEX: '0', START_ORDINAL: '0', PEERS: '127.0.0.1', REDIS_PORT: '26379', DATA_DIR: data, CONFIG_DIR: conf,
      KEYS_DIR: keysDir, PW_KEY: 'password', MEMORY_LIMIT_BYTES: String(2 ** 30),
    });
    expect({ status: config.status, stderr: config.status === 0 ? '' : config.stderr }).toEqual({ status: 0, stderr: '' });
    expect(config.stderr).not.toContain('no monitoring user');
    // a Secret without the monitoring keys: the server is configured all the same, without the user, and the log says why
    const bare = runScript('redis-config.sh', {
      SCRIPTS_DIR: scripts, POD_INDEX: '0', START_ORDINAL: '0', PEERS: '127.0.0.1', REDIS_PORT: '26379', DATA_DIR: data, CONFIG_DIR: path.join(root, 'redis-conf-bare'),
      KEYS_DIR: secrets(path.join(root, 'bare'), { password: KEYS.password }), PW_KEY: 'password', MEMORY_LIMIT_BYTES: String(2 ** 30),
    });
    expect(bare.status).toBe(0);
    expect(bare.stderr).toContain("no monitoring user: the credentials Secret lacks 'monitoring-username' or 'monitoring-password'");
    expect(fs.readFileSync(path.join(root, 'redis-conf-bare', 'redis.conf'), 'utf-8')).not.toMatch(/^user /m);
    const redisConf = fs.readFileSync(path.join(conf, 'redis.conf'), 'utf-8');
    const hash = createHash('sha256').update(KEYS['monitoring-password']).digest('hex');
    expect(redisConf).toContain(`\nuser monitoring reset on #${hash} resetkeys resetchannels -@all +ping +info +config|get +client|setname `);
    expect(redisConf).not.toContain(KEYS['monitoring-password']);
    new Proc('redis-server', [path.join(conf, 'redis.conf'), '--bind', '127.0.0.1']);
    const cli = (auth: string[], ...args: string[]) => spawnSync('redis-cli', ['--no-auth-warning', '-p', '26379', ...auth, ...args], { encoding: 'utf-8' }).stdout.trim();
    const admin = ['--pass', KEYS.password];
    const monitoring = ['--user', KEYS['monitoring-username'], '--pass', KEYS['monitoring-password']];
    await until('redis up', () => (cli(admin, 'ping') === 'PONG' ? true : undefined));
    expect(cli(admin, 'set', 'secret-key', 'secret value')).toBe('OK');
    cli(admin, 'config', 'resetstat');
    const exporter = runSidecar(app.sidecar, [secretMove, ['127.0.0.1:6379', '127.0.0.1:26379'], [':9121', '127.0.0.1:29121'],
      ['/redis_exporter', path.join(bin, 'prometheus-redis-exporter')]], '');
    const metrics = await scrapeUp(29121, 'redis_up', exporter);
    expect(metrics).toMatch(/^redis_up 1$/m);
    expect(metrics).toMatch(/^redis_connected_slaves 0$/m);
    expect(metrics).toMatch(/^redis_instance_info\{.*role="master".*\} 1$/m);
    expect(metrics).toMatch(/^redis_db_keys\{db="db0"\} 1$/m);
    // the scrapes' commands all ran: none refused by the user's ACL
    const stats = cli(admin, 'info', 'commandstats');
    expect(stats).toMatch(/^cmdstat_info:calls=[1-9]/m);
    expect(stats).toMatch(/^cmdstat_config\|get:calls=[1-9]/m);
    expect(stats).toMatch(/^cmdstat_slowlog\|get:calls=[1-9]/m);
    expect(stats).not.toMatch(/rejected_calls=[1-9]/);
    // the monitoring user: no key, nothing that writes or changes the server
    for (const denied of [['get', 'secret-key'], ['keys', '*'], ['scan', '0'], ['set', 'k', 'v'], ['config', 'set', 'maxmemory', '1'], ['flushall'], ['acl', 'list'], ['shutdown']]) {
      expect({ denied, reply: cli(monitoring, ...denied) }).toEqual({ denied, reply: expect.stringMatching(/^NOPERM/) });
    }
    expect(cli(monitoring, 'info', 'replication')).toMatch(/^role:master$/m);
    expect(cli(admin, 'get', 'secret-key')).toBe('secret value');
    results.push(`redis_exporter: ${await measure(exporter, 29121)}`);
  });
});
