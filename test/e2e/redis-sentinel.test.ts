// Redis with Sentinel on the real node: 3 members of the preset (the test image's Redis), a
// Sentinel beside each, the client Service following the master's role label. Each fault strikes
// the member that is the master when it strikes, with the workload (workload.ts) writing through
// the client Service; afterwards the history is checked: every acknowledged write on every member,
// never two members that accept writes at once, and the failover time as the clients saw it (the
// longest time without an acknowledged write), printed for docs/engines.md.
//
// A write counts as acknowledged when the master answered OK and `WAIT 1` then said a replica has
// it: what a failover keeps (the Sentinels promote the most advanced replica). A plain SET that
// only the master holds may be lost in a failover (asynchronous replication): those are `info`
// here, neither promised nor refused. Members accept writes when they are a master with at least
// min-replicas-to-write replicas (INFO replication: min_slaves_good_slaves), as Redis decides.
import { DatabaseEngine, RedisVersion } from '../../lib';
import { expectClean } from './fault-scenarios';
import { crash, partitionFor } from './faults';
import { clientExec, deletePods, imageRef, imageTag, minutes, password, podHost, serviceEndpoints, serviceHost, setUpPreset, waitFor, waitForReady } from './helpers';
import { Op, Outcome } from './history';
import { ElectedSet, primaryKeptDown, primaryNodeLost } from './role-label';
import { CheckedHistory, withWorkload, WorkloadEngine } from './workload';
import { workloadOptions } from './fault-scenarios';

const NS = 'e2e-redis-sentinel';
const NAME = 'redis';
const PASSWORD = password();
const member = (i: number) => `${NAME}-${i}`;
/** The failover time the preset promises (docs/engines.md), as the clients see it. */
const FAILOVER_MAX_MS = 30_000;

/** Redis with Sentinel: writes acknowledged once a replica has them (WAIT 1). */
function sentinelWorkload(): WorkloadEngine {
  return {
    functions: `
r() { h=$1; shift; REDISCLI_AUTH="$pw" timeout 5 redis-cli --no-auth-warning -h "$h" "$@"; }
w() { printf '%s\\nWAIT 1 2000\\n' "$1" | REDISCLI_AUTH="$pw" timeout 5 redis-cli --no-auth-warning -h "$SVC"; }
op_add() { w "SET h:s:$1 1"; }
op_write() { w "SET h:k:$1 $2"; }
op_read() { r "$SVC" GET "h:k:$1"; }
role() { r "$1" INFO replication | grep -E '^(role|min_slaves_good_slaves):' | tr -d '\\r' | tr '\\n' ' '; }
elements() { REDISCLI_AUTH="$pw" timeout 60 redis-cli --no-auth-warning -h "$1" --scan --pattern "h:s:$2*" | sed 's/^h:s://'; }
`,
    outcome: (kind: Op['kind'], rc: number, out: string): Outcome => {
      if (rc === 124) return 'info';
      const text = out.trim();
      if (kind === 'read') return rc === 0 ? 'ok' : 'info';
      // OK, then WAIT's count of the replicas that have it
      if (rc === 0 && /^OK\s+[1-9]\d*$/.test(text)) return 'ok';
      if (/^(\(error\) )?(READONLY|NOREPLICAS|MASTERDOWN|LOADING|ERR|WRONGPASS|NOAUTH|OOM|MISCONF)/.test(text) ||
        /Could not connect|Connection refused|Name or service not known|Temporary failure in name resolution/.test(text)) return 'fail';
      return 'info';
    },
    writer: (raw) => {
      const good = /min_slaves_good_slaves:(\d+)/.exec(raw);
      return { writable: /role:master/.test(raw) && (good === null || Number(good[1]) >= 1) };
    },
  };
}

/** Runs redis-cli ARGS in the client pod against HOST (port PORT), with the password. */
async function cli(host: string, args: string, port = 6379): Promise<string> {
  return (await clientExec(NS, `REDISCLI_AUTH="$pw" timeout 10 redis-cli --no-auth-warning -h ${host} -p ${port} ${args}`, PASSWORD)).trim();
}
const info = async (i: number, field: string) =>
  (await cli(podHost(NS, NAME, i), 'INFO replication').catch(() => '')).split(/\r?\n/).find((l) => l.startsWith(`${field}:`))?.split(':')[1];

/** The ordinal of the only member that is a master; fails unless exactly one is. */
async function master(): Promise<number> {
  const masters: number[] = [];
  for (const i of [0, 1, 2]) if ((await info(i, 'role')) === 'master') masters.push(i);
  if (masters.length !== 1) throw new Error(`expected one master, got ${JSON.stringify(masters)}`);
  return masters[0];
}

/** One master with both replicas linked, every Sentinel naming it, the Services following the labels. */
async function expectHealthy(): Promise<number> {
  let m = -1;
  await waitFor(NS, 'one master, two linked replicas, the Sentinels and the Services agreeing', minutes(3), async () => {
    try {
      m = await master();
    } catch {
      return false;
    }
    const others = [0, 1, 2].filter((i) => i !== m);
    for (const i of others) if ((await info(i, 'master_link_status')) !== 'up') return false;
    for (const i of [0, 1, 2]) {
      const named = (await cli(podHost(NS, NAME, i), `SENTINEL get-master-addr-by-name ${NAME}`, 26379).catch(() => '')).split('\n')[0];
      if (named !== podHost(NS, NAME, m)) return false;
      // and knows both replicas (Sentinel learns them from the master's INFO, every 10 s)
      const replicas = await cli(podHost(NS, NAME, i), `SENTINEL replicas ${NAME}`, 26379).catch(() => '');
      if (!others.every((r) => replicas.includes(podHost(NS, NAME, r)))) return false;
    }
    return JSON.stringify(await serviceEndpoints(NS, NAME)) === JSON.stringify([member(m)]) &&
      JSON.stringify(await serviceEndpoints(NS, `${NAME}-read`)) === JSON.stringify(others.map(member));
  });
  return m;
}

/** The history's findings, the failover time printed; no acknowledged write lost, never two writable masters. */
function expectFailoverClean(what: string, r: CheckedHistory, opts: { readsNotLinearizable?: boolean } = {}): void {
  process.stdout.write(`redis-sentinel ${what}: failover time (longest without an acknowledged write) ${(r.longestWriteGapMs / 1000).toFixed(1)} s\n`);
  expectClean(r, opts);
  expect(r.longestWriteGapMs).toBeLessThanOrEqual(FAILOVER_MAX_MS);
}

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.redis({ version: RedisVersion.of(imageTag('redis')), sentinel: { apiClientImage: imageRef('curl') } }),
  secret: { password: PASSWORD },
  image: imageRef('redis'),
  readyWithin: minutes(8),
});

const o = () => workloadOptions(NS, NAME, PASSWORD);
const elected: ElectedSet = { ns: NS, name: NAME, workload: sentinelWorkload, options: o, healthy: async () => member(await expectHealthy()) };

test('a new set: member 0 founds it; the Sentinels name it by its DNS name; the client Service selects it, -read the replicas', async () => {
  expect(await expectHealthy()).toBe(0);
  expect(await cli(serviceHost(NS, NAME), 'SET e2e:first v')).toBe('OK');
  await waitFor(NS, 'the key on both replicas', minutes(1), async () =>
    (await cli(podHost(NS, NAME, 1), 'GET e2e:first')) === 'v' && (await cli(podHost(NS, NAME, 2), 'GET e2e:first')) === 'v');
  // the Sentinels know each other and the replicas by name
  const sentinels = await cli(podHost(NS, NAME, 1), `SENTINEL sentinels ${NAME}`, 26379);
  expect(sentinels).toContain(podHost(NS, NAME, 0));
  expect(sentinels).toContain(podHost(NS, NAME, 2));
}, minutes(5));

test('the master crashes twice (SIGKILL, again as it restarts: the kubelet holds it back) with writes in flight: the Sentinels promote a replica; no acknowledged write lost, one writer at a time', async () => {
  const old = await expectHealthy();
  const r = await withWorkload(sentinelWorkload(), o(), async () => {
    await crash(NS, member(old));
    await crash(NS, member(old));
    await waitFor(NS, 'a replica promoted', minutes(2), async () => (await master().catch(() => old)) !== old);
  });
  await waitForReady(NS, NAME, 3, minutes(6));
  const now = await expectHealthy();
  expect(now).not.toBe(old);
  expect(await info(old, 'role')).toBe('slave');
  // reads around a failover are not linearizable (docs/engines.md): a stale read was seen here once
  expectFailoverClean('master crashed', r, { readsNotLinearizable: true });
}, minutes(12));

test('the master partitioned from its peers and the API server for 20 s (longer than down-after) with writes in flight: it stops taking writes, a replica is promoted, the old master follows it once healed; no acknowledged write lost, one writer at a time', async () => {
  const old = await expectHealthy();
  const peers = [0, 1, 2].filter((i) => i !== old).map(member);
  const r = await withWorkload(sentinelWorkload(), o(), async () => {
    await partitionFor(NS, member(old), { peers, apiServer: true }, 20);
  }, { settleMs: 15_000 });
  await waitForReady(NS, NAME, 3, minutes(6));
  const now = await expectHealthy();
  expect(now).not.toBe(old);
  // reads through the Service may reach the cut-off master until it is demoted: stale, not linearizable
  expectFailoverClean('master partitioned', r, { readsNotLinearizable: true });
}, minutes(12));

test('every member crashed at once (SIGKILL) with writes in flight: they come back as the Sentinels know them; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const r = await withWorkload(sentinelWorkload(), o(), async () => {
    await Promise.all([0, 1, 2].map((i) => crash(NS, member(i))));
  });
  await waitForReady(NS, NAME, 3, minutes(6));
  // the master back, or a replica promoted if the kubelet held the master back longer than down-after
  process.stdout.write(`redis-sentinel every member crashed: master before ${old}, after ${await expectHealthy()}\n`);
  // when a replica was promoted, reads around that failover are not linearizable (docs/engines.md,
  // Sentinel: seen in CI, the master 0 held back, 2 promoted); writes are checked in full
  expectFailoverClean('every member crashed', r, { readsNotLinearizable: true });
}, minutes(12));

test('every pod deleted at once (their Sentinels\' config gone with them): the Sentinels\' state on the volumes names the master; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const r = await withWorkload(sentinelWorkload(), o(), async () => {
    await deletePods(NS, [0, 1, 2].map(member), { force: true });
    await waitForReady(NS, NAME, 3, minutes(6));
  });
  // the master named by the state copies, or a replica promoted if it came back later than down-after
  process.stdout.write(`redis-sentinel every pod deleted: master before ${old}, after ${await expectHealthy()}; ${r.summary}\n`);
  expect({ lost: r.lost, twoWriters: r.twoWriters }).toEqual({ lost: [], twoWriters: [] });
  expect(r.acknowledged).toBeGreaterThanOrEqual(6);
}, minutes(12));

test('the master crashed (SIGKILL) and slow to start again (held stopped 45 s as it restarts, its Sentinel too) with writes in flight: a replica is promoted; the old master follows it once it runs; no acknowledged write lost', async () => {
  const { r } = await primaryKeptDown(elected, 45);
  expectFailoverClean('master crashed, slow to start', r);
}, minutes(12));

test('the master\'s node lost (its pod and volume gone for 5 minutes) with writes in flight: a replica is promoted; the member returns empty and copies the new master; no acknowledged write lost', async () => {
  const { r } = await primaryNodeLost(elected, 300);
  // reads through the Service are not linearizable around a failover (docs/engines.md, Sentinel):
  // one run of this scenario saw a read older than an earlier one; writes are checked in full
  expectFailoverClean('master node lost', r, { readsNotLinearizable: true });
}, minutes(20));
