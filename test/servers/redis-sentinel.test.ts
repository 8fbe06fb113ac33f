// Redis with Sentinel on 127.0.0.1-3 (Debian's redis-server, which is also Sentinel): each member
// runs redis-sentinel-start.sh (the database container's command) and redis-sentinel.sh (the
// sentinel container) as the pods do, with a short down-after. The role keeper's side (the Lease)
// is stood in for by the `founded` file the init container writes; test/cluster/kube-api.test.ts
// runs kube-api.sh against a real API server, and test/e2e/redis-sentinel.test.ts the whole pod.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc, requireBinary, SCRIPTS, scratch, secrets, until } from './util';

const PASSWORD = 'sent "in" el $pw';
const PORT = '16479';
const SENTINEL_PORT = '26479';
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
let root = '';

afterAll(() => {
  Proc.killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function cli(host: string, port: string, ...args: string[]): string {
  const res = spawnSync('redis-cli', ['--no-auth-warning', '-h', host, '-p', port, ...args], { env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD }, encoding: 'utf-8', timeout: 10_000 });
  return (res.stdout ?? '').trim();
}
const role = (i: number) => cli(HOSTS[i], PORT, 'info', 'replication').split('\n').find((l) => l.startsWith('role:'))?.split(':')[1]?.trim();
const sentinelMaster = (i: number) => cli(HOSTS[i], SENTINEL_PORT, 'sentinel', 'get-master-addr-by-name', 'set').split('\n')[0];

describe('redis with Sentinel on loopback', () => {
  requireBinary('redis-server');
  requireBinary('redis-cli');
  root = scratch('redis-sentinel');
  const keysDir = secrets(root, { password: PASSWORD });
  const servers: (Proc | undefined)[] = [];
  const sentinels: (Proc | undefined)[] = [];
  const dir = (kind: string, i: number) => path.join(root, `${kind}-${i}`);
  const env = (i: number) => ({
    SCRIPTS_DIR: SCRIPTS, POD_INDEX: String(i), START_ORDINAL: '0', PEERS: HOSTS.join(' '), REDIS_PORT: PORT, SENTINEL_PORT,
    DATA_DIR: dir('data', i), CONFIG_DIR: dir('conf', i), KEYS_DIR: keysDir, PW_KEY: 'password', SET_NAME: 'set', QUORUM: '2',
    BIND_ADDRESS: HOSTS[i], DOWN_AFTER_MS: '2000', FAILOVER_TIMEOUT_MS: '6000', MIN_REPLICAS_TO_WRITE: '1', MIN_REPLICAS_MAX_LAG: '1', POLL_SECONDS: '1', FOLLOW_SECONDS: '3',
  });
  /** A pod's start: the `founded` init container's answer, then the server and the Sentinel. */
  const startPod = (i: number, founded: 'absent' | 'present') => {
    fs.mkdirSync(dir('data', i), { recursive: true });
    fs.mkdirSync(dir('conf', i), { recursive: true });
    fs.writeFileSync(path.join(dir('conf', i), 'founded'), `${founded}\n`);
    startServer(i);
    sentinels[i] = new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel.sh')], env(i));
  };
  /** The server container (re)started: the start script, which execs redis-server. */
  const startServer = (i: number) => {
    servers[i] = new Proc('bash', [path.join(SCRIPTS, 'redis-sentinel-start.sh')], env(i));
  };
  /** The pod gone: its processes killed, its emptyDir with it. */
  const losePod = (i: number) => {
    servers[i]?.kill();
    sentinels[i]?.kill();
    fs.rmSync(dir('conf', i), { recursive: true, force: true });
  };
  const masterOf = async (expected: number, what: string) => until(what, () => (
    role(expected) === 'master' && [0, 1, 2].every((i) => i === expected || role(i) === 'slave') &&
      [0, 1, 2].every((i) => sentinels[i] === undefined || sentinelMaster(i) === HOSTS[expected]) ? true : undefined), 60);
  const anyOtherMaster = (old: number) => until('a replica promoted', () => [0, 1, 2].find((i) => i !== old && role(i) === 'master'), 60);

  test('a new set: the first member founds it, the others replicate; the Sentinels know every member by name; the role file and the state copy are written', async () => {
    [0, 1, 2].forEach((i) => startPod(i, 'absent'));
    await masterOf(0, 'member 0 master, the Sentinels agreeing');
    // writes are taken once a replica acknowledges the stream (min-replicas-to-write 1)
    await until('a write taken', () => (cli(HOSTS[0], PORT, 'set', 'k1', 'v1') === 'OK' ? true : undefined), 30);
    expect(cli(HOSTS[0], PORT, 'wait', '2', '5000')).toBe('2');
    await until('role files', () => (['master', 'replica', 'replica'].every((r, i) => fs.readFileSync(path.join(dir('conf', i), 'role'), 'utf8').trim() === r) ? true : undefined));
    await until('state copies', () => ([0, 1, 2].every((i) => /^sentinel monitor set 127\.0\.0\.1 16479 2$/m.test(fs.readFileSync(path.join(dir('data', i), '.cdk8s-sentinel-state'), 'utf8'))) ? true : undefined));
    expect(fs.readFileSync(path.join(dir('data', 0), '.cdk8s-sentinel-state'), 'utf8')).not.toContain(PASSWORD);
    expect(cli(HOSTS[0], PORT, 'config', 'get', 'min-replicas-to-write')).toBe('min-replicas-to-write\n1');
  });

  test('a Sentinel stalled (paused 4 s, longer than its script waits for an answer): the sentinel container\'s script keeps running and keeps the role file current', async () => {
    const sid = String(sentinels[2]!.child.pid);
    const pid = spawnSync('pgrep', ['-s', sid, '-x', 'redis-server'], { encoding: 'utf-8' }).stdout.trim();
    expect(pid).toMatch(/^[0-9]+$/);
    process.kill(Number(pid), 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 4000));
    } finally {
      process.kill(Number(pid), 'SIGCONT');
    }
    const resumed = Date.now();
    await until('the role file rewritten after the Sentinel resumed', () => (fs.statSync(path.join(dir('conf', 2), 'role')).mtimeMs > resumed + 1000 ? true : undefined), 20);
    expect(sentinels[2]!.child.exitCode).toBeNull();
    expect(sentinels[2]!.child.signalCode).toBeNull();
    expect(fs.readFileSync(path.join(dir('conf', 2), 'role'), 'utf8').trim()).toBe('replica');
  });

  test('the master killed and kept down: the Sentinels promote a replica with every acknowledged key; the old master restarts as its replica', async () => {
    servers[0]!.kill();
    const promoted = await anyOtherMaster(0);
    expect(cli(HOSTS[promoted], PORT, 'get', 'k1')).toBe('v1');
    startServer(0);
    await masterOf(promoted, 'the old master a replica of the new one');
    expect(servers[0]!.log).toContain(`starting 127.0.0.1 as a replica of ${HOSTS[promoted]}`);
    // writes are taken again once a replica streams from it with a lag under a second
    await until('a write taken by the new master', () => (cli(HOSTS[promoted], PORT, 'set', 'k2', 'v2') === 'OK' ? true : undefined), 30);
    // both replicas have it once the old master's full sync is done
    await until('both replicas acknowledge', () => (cli(HOSTS[promoted], PORT, 'wait', '2', '1000') === '2' ? true : undefined), 30);
  });

  test('a master cut off from its replicas refuses writes (min-replicas-to-write) before the Sentinels could promote another', async () => {
    const m = [0, 1, 2].find((i) => role(i) === 'master')!;
    const replicas = [0, 1, 2].filter((i) => i !== m);
    // the replicas stop acknowledging: paused, as a partition looks from the master
    const paused = replicas.map((i) => servers[i]!.child.pid!);
    paused.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    try {
      const refused = await until('the master refuses writes', () => (/NOREPLICAS/.test(cli(HOSTS[m], PORT, 'set', 'k3', 'v3')) ? true : undefined), 10);
      expect(refused).toBe(true);
    } finally {
      paused.forEach((pid) => process.kill(pid, 'SIGCONT'));
    }
    await until('writes again', () => (cli(HOSTS[m], PORT, 'set', 'k3', 'v3') === 'OK' ? true : undefined), 20);
  });

  test('every pod gone at once (their Sentinel configs with them): the state copies on the volumes name the master; the set comes back as it was', async () => {
    const m = [0, 1, 2].find((i) => role(i) === 'master')!;
    [0, 1, 2].forEach(losePod);
    await until('every server gone', () => ([0, 1, 2].every((i) => role(i) === undefined) ? true : undefined), 20);
    [0, 1, 2].forEach((i) => startPod(i, 'present'));
    await masterOf(m, 'the same master back');
    expect(cli(HOSTS[m], PORT, 'get', 'k2')).toBe('v2');
  });

  test('the master\'s volume lost: its start waits while the Sentinels name it, never starts empty; once they promote a replica it follows and copies the data', async () => {
    const m = [0, 1, 2].find((i) => role(i) === 'master')!;
    losePod(m);
    fs.rmSync(dir('data', m), { recursive: true, force: true });
    startPod(m, 'present');
    await until('the empty member waits', () => (servers[m]!.log.includes('its data directory is empty: waiting') ? true : undefined), 20);
    const promoted = await anyOtherMaster(m);
    await masterOf(promoted, 'the empty member a replica of the promoted one');
    await until('the data copied', () => (cli(HOSTS[m], PORT, 'get', 'k2') === 'v2' ? true : undefined), 30);
  });

  test('a replica left following another member than the Sentinels\' master is pointed back at it', async () => {
    const m = [0, 1, 2].find((i) => role(i) === 'master')!;
    const [r, other] = [0, 1, 2].filter((i) => i !== m);
    expect(cli(HOSTS[r], PORT, 'replicaof', HOSTS[other], PORT)).toBe('OK');
    const masterHost = (i: number) => cli(HOSTS[i], PORT, 'info', 'replication').split('\n').find((l) => l.startsWith('master_host:'))?.split(':')[1]?.trim();
    await until('the replica back on the master', () => (masterHost(r) === HOSTS[m] ? true : undefined), 30);
    // by the sentinel container's check, or by Sentinel itself (+fix-slave-config) when one of
    // them noticed first: either way one of the two logged it
    const ours = sentinels[r]!.log.includes(`the local replica follows ${HOSTS[other]}, but the Sentinels name ${HOSTS[m]} the master: pointing it at ${HOSTS[m]}`);
    const sentinelsOwn = sentinels.some((p) => p?.log.includes(`+fix-slave-config slave ${HOSTS[r]}:${PORT}`));
    expect({ ours, sentinelsOwn }).not.toEqual({ ours: false, sentinelsOwn: false });
  });

  test('a member without data that no Sentinel answers, in a set that was founded: it waits, and starts no server', async () => {
    [0, 1, 2].forEach(losePod);
    await until('every server gone', () => ([0, 1, 2].every((i) => role(i) === undefined) ? true : undefined), 20);
    fs.rmSync(dir('data', 0), { recursive: true, force: true });
    fs.mkdirSync(dir('data', 0), { recursive: true });
    fs.mkdirSync(dir('conf', 0), { recursive: true });
    fs.writeFileSync(path.join(dir('conf', 0), 'founded'), 'present\n');
    startServer(0);
    await until('it says it waits', () => (servers[0]!.log.includes('no Sentinel answers and this member has no data: waiting') ? true : undefined), 20);
    await new Promise((r) => setTimeout(r, 3000));
    expect(role(0)).toBeUndefined();
    expect(fs.existsSync(path.join(dir('conf', 0), 'redis.conf'))).toBe(false);
  });
});
