// PostgreSQL with Patroni on the real node: 3 members, the Kubernetes API as Patroni's store
// (leader lock in a ConfigMap), synchronous durability (the default). The test image
// (tools/images/postgres-patroni: Debian's PostgreSQL 18 and Patroni 4). Health as Patroni and
// PostgreSQL report it: one pod labelled primary, two labelled replica and streaming, the writer
// Service on the primary and the -read Service on the replicas. Each fault scenario runs the
// workload (workload.ts) and checks the history: every acknowledged write on every member, reads
// linearizable, never two writable members; it prints the longest time without an acknowledged
// write (the failover time as clients see it) and asserts it is at most FAILOVER_BUDGET_MS.
import { DatabaseEngine, PostgresVersion } from '../../lib';
import { crash, partition, partitionFor, restartDelayMs } from './faults';
import { workloadOptions } from './fault-scenarios';
import {
  clientExec, exec, imageRef, imageTag, kubectl, minutes, password, podHost, serviceEndpoints, serviceHost, setUpPreset,
  waitFor, waitForReady,
} from './helpers';
import { ElectedSet, expectCleanFailover as expectFailoverWithin, primaryKeptDown, primaryNodeLost, roleLabels } from './role-label';
import { CheckedHistory, withWorkload } from './workload';
import { postgresWorkload } from './workloads';

const NS = 'e2e-patroni';
const NAME = 'pg';
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const SUPERUSER_PASSWORD = password();
const APP_PASSWORD = password();
/** The failover time the docs promise: the last acknowledged write on the old primary to the first on the new. */
const FAILOVER_BUDGET_MS = 30_000;
/** Longer than the leader lock's ttl (20 s): it expires while the primary is away. */
const AWAY_SECONDS = 45;

async function sql(host: string, statement: string): Promise<string> {
  const out = await clientExec(NS, `PGPASSWORD="$pw" PGCONNECT_TIMEOUT=5 psql -h ${host} -U postgres -d postgres -At -v ON_ERROR_STOP=1 -f -`, SUPERUSER_PASSWORD, statement);
  return out.trim();
}

const { roles, primary, newPrimary } = roleLabels(NS, NAME);

const host = (pod: string) => podHost(NS, NAME, Number(pod.slice(NAME.length + 1)));

/**
 * Whole again: one primary (not in recovery) with two streaming replicas, one of them synchronous;
 * the writer Service routes to the primary only, the -read Service to the two replicas.
 */
async function expectHealthy(): Promise<string> {
  let leader = '';
  await waitFor(NS, 'one primary, two replicas streaming (one synchronous), the Services on them', minutes(4), async () => {
    leader = await primary();
    const replicas = MEMBERS.filter((m) => m !== leader).sort();
    const r = await roles();
    if (replicas.some((m) => r[m] !== 'replica')) return false;
    if ((await sql(host(leader), 'SELECT pg_is_in_recovery()')) !== 'f') return false;
    const streaming = await sql(host(leader), "SELECT application_name || ':' || sync_state FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1");
    const rows = streaming.split('\n').filter(Boolean);
    if (rows.length !== 2 || !rows.some((row) => /:(sync|quorum)$/.test(row))) return false;
    return JSON.stringify(await serviceEndpoints(NS, NAME)) === JSON.stringify([leader]) &&
      JSON.stringify(await serviceEndpoints(NS, `${NAME}-read`)) === JSON.stringify(replicas);
  });
  return leader;
}

/** The scenario's history is clean, within the failover budget. */
const expectCleanFailover = (r: CheckedHistory, what: string) => expectFailoverWithin(r, what, FAILOVER_BUDGET_MS);

const opts = () => workloadOptions(NS, NAME, SUPERUSER_PASSWORD);
const elected: ElectedSet = { ns: NS, name: NAME, workload: postgresWorkload, options: opts, healthy: expectHealthy };

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.postgresql({
    version: PostgresVersion.of(imageTag('postgres')),
    patroni: { image: imageRef('postgres-patroni') },
  }),
  secret: { 'root-password': SUPERUSER_PASSWORD, 'replication-password': password(), 'username': 'app', 'password': APP_PASSWORD },
  image: imageRef('postgres-patroni'),
  readyWithin: minutes(10),
});

test('3 members: one primary, two streaming replicas (one synchronous); the writer Service on the primary, -read on the replicas', async () => {
  await expectHealthy();
  // Patroni names the synchronous standby in a later cycle than the one that sees it stream
  let roles: string[] = [];
  await waitFor(NS, 'Patroni: a Leader, a Replica and a Sync Standby', minutes(2), async () => {
    roles = JSON.parse(await exec(NS, await primary(), 'main', 'patronictl list -f json')).map((m: any) => m.Role).sort();
    return JSON.stringify(roles) === JSON.stringify(['Leader', 'Replica', 'Sync Standby']);
  });
  expect(roles).toEqual(['Leader', 'Replica', 'Sync Standby']);
}, minutes(6));

test('the application role and database from the Secret, a row through the writer Service read on every member', async () => {
  const out = await clientExec(NS, `PGPASSWORD="$pw" psql -h ${serviceHost(NS, NAME)} -U app -d app -At -c 'SELECT current_user, current_database()'`, APP_PASSWORD);
  expect(out.trim()).toBe('app|app');
  await sql(serviceHost(NS, NAME), "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one') ON CONFLICT DO NOTHING");
  for (const m of MEMBERS) {
    await waitFor(NS, `the row on ${m}`, minutes(1), async () => (await sql(host(m), 'SELECT v FROM t WHERE id = 1')) === 'one');
  }
});

test('the leader lock is a ConfigMap; only the database pods have an API token, and the Role allows only what Patroni uses', async () => {
  const maps = (await kubectl(['-n', NS, 'get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
  expect(maps).toEqual(expect.arrayContaining([`${NAME}-leader`, `${NAME}-config`]));
  const leader = await kubectl(['-n', NS, 'get', 'configmap', `${NAME}-leader`, '-o', 'jsonpath={.metadata.annotations.leader}']);
  expect(leader.trim()).toBe(await primary());
  for (const m of MEMBERS) await exec(NS, m, 'main', 'test -s /var/run/secrets/kubernetes.io/serviceaccount/token');
  await expect(exec(NS, 'client', 'client', 'test -e /var/run/secrets/kubernetes.io/serviceaccount/token')).rejects.toThrow();
  // `kubectl auth can-i` exits 1 on "no"
  const can = async (verb: string, resource: string, ns = NS) =>
    /^yes$/m.test(await kubectl(['auth', 'can-i', verb, resource, '-n', ns, `--as=system:serviceaccount:${NS}:${NAME}`]).catch((e) => String(e)));
  expect(await can('patch', 'configmaps')).toBe(true);
  expect(await can('patch', 'pods')).toBe(true);
  expect(await can('get', 'secrets')).toBe(false);
  expect(await can('delete', 'pods')).toBe(false);
  expect(await can('patch', 'configmaps', 'default')).toBe(false);
});

test(`primary crashed (SIGKILL from the host) and kept down ${AWAY_SECONDS} s, writes in flight: a replica is promoted, the writer Service follows, the old primary rejoins as a replica; no acknowledged write lost`, async () => {
  // held stopped as it restarts, so it stays down past the leader lock's ttl
  const { r } = await primaryKeptDown(elected, AWAY_SECONDS);
  expectCleanFailover(r, 'primary crashed and kept down');
}, minutes(12));

test('primary crashed (SIGKILL), restarted at once by the kubelet, writes in flight: one primary, no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const r = await withWorkload(postgresWorkload(), opts(), async () => {
    await crash(NS, old);
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  await expectHealthy();
  expectCleanFailover(r, 'primary crashed, restarted at once');
}, minutes(12));

test('switchover with patronictl, writes in flight: the chosen replica leads, the old primary follows; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  // in synchronous mode Patroni switches over only to the synchronous standby
  const members = JSON.parse(await exec(NS, old, 'main', 'patronictl list -f json'));
  const candidate = members.find((m: any) => m.Role === 'Sync Standby').Member;
  const r = await withWorkload(postgresWorkload(), opts(), async () => {
    const out = await exec(NS, old, 'main', `patronictl switchover --leader ${old} --candidate ${candidate} --force`);
    expect(out).toMatch(new RegExp(`Successfully switched over to "?${candidate}"?`));
    await newPrimary(old);
  }, { settleMs: 10_000 });
  expect(await expectHealthy()).toBe(candidate);
  expectCleanFailover(r, 'switchover');
}, minutes(12));

test('primary partitioned from its peers and the API server until a replica leads, writes in flight: it demotes itself, and rejoins once healed; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const peers = MEMBERS.filter((m) => m !== old);
  let promoted = '';
  const r = await withWorkload(postgresWorkload(), opts(), async () => {
    const { heal } = await partition(NS, old, { peers, apiServer: true });
    try {
      // the old primary cannot reach the API server to drop its own role label: its stale label
      // counts for nothing while it is cut off, and it is not Ready, so the writer Service skips it
      await waitFor(NS, `one member other than ${old} labelled primary, the writer Service on it alone`, minutes(2), async () => {
        const others = Object.entries(await roles()).filter(([p, role]) => p !== old && role === 'primary').map(([p]) => p);
        if (others.length !== 1) return false;
        promoted = others[0];
        return JSON.stringify(await serviceEndpoints(NS, NAME)) === JSON.stringify([promoted]);
      });
      // the old primary, cut off, is no longer writable: it demoted itself (asked over its socket, from the host side)
      await waitFor(NS, `${old} in recovery while cut off`, minutes(1), async () =>
        (await exec(NS, old, 'main', "psql -h /var/run/postgresql -U postgres -At -c 'SELECT pg_is_in_recovery()'")).trim() === 't');
    } finally {
      await heal();
    }
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  expect(await expectHealthy()).toBe(promoted);
  expectCleanFailover(r, 'primary partitioned');
}, minutes(12));

test('API server unreachable from every member for 2 minutes (failsafe mode), writes in flight: the primary stays, no demotion, no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const r = await withWorkload(postgresWorkload(), opts(), async () => {
    await Promise.all(MEMBERS.map((m) => partitionFor(NS, m, { apiServer: true }, 120)));
  }, { settleMs: 10_000 });
  expect(await expectHealthy()).toBe(old);
  expectCleanFailover(r, 'API server unreachable 2 min');
  // no demotion: the primary never stopped taking writes for longer than a client's timeout
  expect(r.longestWriteGapMs).toBeLessThan(10_000);
}, minutes(12));

test('every member crashed at once (SIGKILL), writes in flight: one primary again, no acknowledged write lost', async () => {
  await expectHealthy();
  const r = await withWorkload(postgresWorkload(), opts(), async () => {
    await Promise.all(MEMBERS.map((m) => crash(NS, m)));
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  await expectHealthy();
  // Members crashed by the scenarios before this one restart after the kubelet's back-off (10 s,
  // 20 s): that wait is the kubelet's, so the budget starts once the last member runs again.
  const backOff = Math.max(...await Promise.all(MEMBERS.map((m) => restartDelayMs(NS, m))));
  process.stdout.write(`every member crashed: the kubelet restarted the last member after ${(backOff / 1000).toFixed(0)} s\n`);
  expectFailoverWithin(r, 'every member crashed', FAILOVER_BUDGET_MS + backOff);
}, minutes(12));

test('the primary\'s node lost (pod and volume gone for 5 minutes), writes in flight: a replica leads, writes go on, the member comes back as a replica', async () => {
  const { r } = await primaryNodeLost(elected, 300);
  expectCleanFailover(r, 'primary node lost');
}, minutes(20));
