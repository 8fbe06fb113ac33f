// Redis 7 (Debian's redis-server) on 127.0.0.1-3, configured by redis-config.sh as the preset's
// init container does, probed by redis-probe.sh. The primary's volume is lost while
// replicas hold the data: the data survives and the primary comes back as a copy of them; a
// replica cut off from its primary is not Ready; maxmemory follows the memory limit.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc, requireBinary, runScript, SCRIPTS, scratch, secrets, until } from './util';

const PASSWORD = 'red "is" pass $word';
const PORT = String(16379);
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
let root = '';

afterAll(() => {
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function cli(host: string, ...args: string[]): string {
  const res = spawnSync('redis-cli', ['--no-auth-warning', '-h', host, '-p', PORT, ...args], { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8' });
  return (res.stdout ?? '').trim();
}
const info = (host: string, field: string) => cli(host, 'info', 'replication').split('\n').find((l) => l.startsWith(`${field}:`))?.split(':')[1]?.trim();

describe('redis on loopback', () => {
  requireBinary('redis-server');
  requireBinary('redis-cli');
  root = scratch('redis');
  const keysDir = secrets(root, { password: PASSWORD });
  const members: (Proc | undefined)[] = [];
  const env = (i: number) => ({
    POD_INDEX: String(i), START_ORDINAL: '0', PEERS: HOSTS.join(' '), REDIS_PORT: PORT, SYNC_PORT: String(16380),
    DATA_DIR: path.join(root, `data-${i}`), CONFIG_DIR: path.join(root, `conf-${i}`), KEYS_DIR: keysDir, PW_KEY: 'password',
    MEMORY_LIMIT_BYTES: String(1024 ** 3), MAXMEMORY_POLICY: 'noeviction', FOUNDED_FILE: path.join(root, `founded-${i}`), POLL_SECONDS: '1',
  });
  // what the init container founding (founding.sh) answered from the API server's Lease
  const founded = (i: number, state: 'found' | 'present') => fs.writeFileSync(env(i).FOUNDED_FILE, `${state}\n`);
  const config = (i: number) => {
    fs.mkdirSync(path.join(root, `data-${i}`), { recursive: true });
    const res = runScript('redis-config.sh', env(i));
    expect({ status: res.status, stderr: res.stderr, stdout: res.status === 0 ? "" : res.stdout }).toEqual({ status: 0, stderr: expect.stringContaining("wrote"), stdout: "" });
    return res;
  };
  // the server as the container runs it; the loopback address instead of every interface
  const start = (i: number) => { members[i] = new Proc('redis-server', [path.join(root, `conf-${i}`, 'redis.conf'), '--bind', HOSTS[i]]); };
  const probe = (i: number, kind: string) => runScript('redis-probe.sh', { ...env(i), REDIS_HOST: HOSTS[i], ARG: kind });

  test('a new set: replicas start empty, the primary that founds the set initializes at once; maxmemory is 45% of the limit', async () => {
    config(1); start(1);
    config(2); start(2);
    founded(0, 'found');
    const res = config(0);
    expect(res.stderr).toMatch(/this member founds the set/);
    // from now on the set was founded (the Lease exists): an empty primary copies, never starts empty
    founded(0, 'present');
    start(0);
    await until('replicas linked', () => (info(HOSTS[1], 'master_link_status') === 'up' && info(HOSTS[2], 'master_link_status') === 'up' ? true : undefined));
    expect(cli(HOSTS[0], 'config', 'get', 'maxmemory')).toBe(`maxmemory\n${Math.floor(1024 * 0.45) * 1024 * 1024}`);
    expect(cli(HOSTS[0], 'config', 'get', 'maxmemory-policy')).toBe('maxmemory-policy\nnoeviction');
    expect(probe(1, 'ready').status).toBe(0);
  });

  test('the primary loses its volume: it copies the most advanced replica, and every member keeps the data', async () => {
    for (let k = 0; k < 200; k++) cli(HOSTS[0], 'set', `key:${k}`, `value ${k}`);
    expect(cli(HOSTS[0], 'wait', '2', '5000')).toBe('2');
    const offset = Number(info(HOSTS[0], 'master_repl_offset'));
    await until('replicas caught up', () => (Number(info(HOSTS[1], 'master_repl_offset')) >= offset && Number(info(HOSTS[2], 'master_repl_offset')) >= offset ? true : undefined));
    members[0]!.kill();
    await members[0]!.exited();
    fs.rmSync(path.join(root, 'data-0'), { recursive: true, force: true });

    // a replica cut off from its primary serves stale data: not Ready
    await until('link down', () => (info(HOSTS[1], 'master_link_status') === 'down' ? true : undefined));
    const stale = probe(1, 'ready');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/link to its primary is 'down': it would serve stale data/);

    const res = config(0);
    expect(res.stderr).toMatch(/holds data \(position \d+\)/);
    expect(res.stderr).toMatch(/copied 127\.0\.0\.[23]/);
    start(0);
    await until('primary serves', () => (cli(HOSTS[0], 'dbsize') === '200' ? true : undefined));
    expect(cli(HOSTS[0], 'get', 'key:199')).toBe('value 199');
    expect(cli(HOSTS[0], 'info', 'replication')).toMatch(/role:master/);
    await until('replicas follow the primary again', () => (info(HOSTS[1], 'master_link_status') === 'up' && info(HOSTS[2], 'master_link_status') === 'up' ? true : undefined));
    for (const host of HOSTS) expect(cli(host, 'dbsize')).toBe('200');
    expect(probe(1, 'ready').status).toBe(0);
    // a write after the recovery reaches the replicas
    cli(HOSTS[0], 'set', 'after', 'recovery');
    expect(cli(HOSTS[0], 'wait', '2', '5000')).toBe('2');
    expect(cli(HOSTS[2], 'get', 'after')).toBe('recovery');
  });

  /** Loses the primary's volume: its server killed, its data directory emptied. */
  const losePrimaryVolume = async () => {
    members[0]!.kill();
    await members[0]!.exited();
    fs.rmSync(path.join(root, 'data-0'), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'data-0'));
  };
  const bothReplicasLinked = () => (info(HOSTS[1], 'master_link_status') === 'up' && info(HOSTS[2], 'master_link_status') === 'up' ? true : undefined);

  /** The empty primary copies a replica and serves KEYS keys; both replicas follow it again. */
  const copiesAndServes = async (keys: string) => {
    const res = config(0);
    expect(res.stderr).toMatch(/copied 127\.0\.0\.[23]/);
    start(0);
    await until('primary serves', () => (cli(HOSTS[0], 'dbsize') === keys ? true : undefined));
    await until('replicas follow the primary again', bothReplicasLinked);
    for (const host of HOSTS) expect(cli(host, 'dbsize')).toBe(keys);
  };

  test('the copy is interrupted half-way (its init container killed): the next start copies again and never starts empty', async () => {
    const keys = cli(HOSTS[0], 'dbsize');
    await losePrimaryVolume();
    // the init container, killed (with its temporary server) as soon as that server copies
    const copying = new Proc('bash', [path.join(SCRIPTS, 'redis-config.sh')], { SCRIPTS_DIR: SCRIPTS, ...env(0) });
    const syncPort = ['--no-auth-warning', '-h', '127.0.0.1', '-p', '16380'];
    await until('the temporary server up', () => (spawnSync('redis-cli', [...syncPort, 'ping'], { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8' }).stdout.trim() === 'PONG' ? true : undefined));
    copying.kill();
    await copying.exited();
    await copiesAndServes(keys);
  });

  test('replicas still loading their data (slower than any timer) count as holding data: the empty primary waits and copies', async () => {
    const pipe = Array.from({ length: 5000 }, (_, k) => `SET load:${k} ${k}\r\n`).join('');
    spawnSync('redis-cli', ['--no-auth-warning', '-h', HOSTS[0], '-p', PORT, '--pipe'], { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, input: pipe, encoding: 'utf-8' });
    expect(cli(HOSTS[0], 'wait', '2', '5000')).toBe('2');
    const keys = cli(HOSTS[0], 'dbsize');
    await losePrimaryVolume();
    // both replicas restart and load their data slowly (3 ms a key: about 15 s)
    for (const i of [1, 2]) {
      members[i]!.kill();
      await members[i]!.exited();
      members[i] = new Proc('redis-server', [path.join(root, `conf-${i}`, 'redis.conf'), '--bind', HOSTS[i], '--key-load-delay', '3000']);
    }
    await until('replicas loading', () => (/loading:1/.test(cli(HOSTS[1], 'info', 'persistence')) ? true : undefined));
    await copiesAndServes(keys);
  });
});
