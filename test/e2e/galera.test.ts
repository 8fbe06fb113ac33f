// MariaDB Galera (3 members) on the real node: the preset at the version the test image carries
// (MariaDB 11.8 with Galera 4, tools/images/versions.json), applied with kubectl; the engine's own view
// of health through pod DNS names and the client Service; failure scenarios, each checking that
// every acknowledged write is still there.
import { DatabaseEngine, MariaDbVersion } from '../../lib';
import {
  claimVolume, clientExec, deletePods, imageRef, imageTag, kubectl, loseVolume, minutes, password, podHost, recordPodDeletions, scale,
  serviceHost, setEnv, setUpPreset, sleep, startWriter, waitFor, waitForReady,
} from './helpers';
import { expectClean, FAULT_SECONDS, faultScenarios, workloadOptions } from './fault-scenarios';
import { pause } from './faults';
import { crashTogether, exhaustConnections, restartCounts, shrinkWhileSilent } from './galera-faults';
import { withWorkload } from './workload';
import { mysqlProtocolWorkload } from './workloads';

const NS = 'e2e-galera';
const NAME = 'galera';
const member = (i: number) => `${NAME}-${i}`;

const ROOT_PASSWORD = password();
/** Low enough for the client pod to exhaust with one client process per connection. */
const MAX_CONNECTIONS = 40;

/** Runs SQL with the mariadb client in the client pod against HOST as root. */
async function sql(host: string, statement: string): Promise<string> {
  return (await clientExec(NS, `MYSQL_PWD="$pw" mariadb -h ${host} -uroot -N -B`, ROOT_PASSWORD, statement)).trim();
}
const status = async (host: string, variable: string) => (await sql(host, `SHOW GLOBAL STATUS LIKE '${variable}'`)).split('\t')[1];

/** Rows the database acknowledged (INSERT returned success); every scenario checks all are kept. */
const acked: number[] = [];
let nextId = 1;
async function write(host = serviceHost(NS, NAME)): Promise<void> {
  const id = nextId++;
  await sql(host, `INSERT INTO e2e.t (id, v) VALUES (${id}, 'row-${id}')`);
  acked.push(id);
}
async function expectAllRows(replicas: number): Promise<void> {
  for (let i = 0; i < replicas; i++) {
    const ids = (await sql(podHost(NS, NAME, i), 'SELECT id FROM e2e.t ORDER BY id')).split('\n').filter(Boolean).map(Number);
    expect({ member: i, missing: acked.filter((id) => !ids.includes(id)) }).toEqual({ member: i, missing: [] });
  }
}
async function expectCluster(size: number): Promise<void> {
  for (let i = 0; i < size; i++) {
    const host = podHost(NS, NAME, i);
    expect({ member: i, size: await status(host, 'wsrep_cluster_size'), state: await status(host, 'wsrep_cluster_status') })
      .toEqual({ member: i, size: String(size), state: 'Primary' });
  }
}

/** Waits until every member is in a Primary component of SIZE again (after a test that leaves a member rejoining). */
async function waitForCluster(size: number, within = minutes(3)): Promise<void> {
  await waitFor(NS, `every member in a Primary component of ${size}`, within, async () => {
    for (let i = 0; i < size; i++) {
      const host = podHost(NS, NAME, i);
      if (await status(host, 'wsrep_cluster_size').catch(() => '') !== String(size)) return false;
      if (await status(host, 'wsrep_cluster_status').catch(() => '') !== 'Primary') return false;
    }
    return true;
  });
}

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.mariadbGalera({ version: MariaDbVersion.of(imageTag('mariadb')), apiClientImage: imageRef('curl'), maxConnections: MAX_CONNECTIONS }),
  secret: { 'root-password': ROOT_PASSWORD },
  image: imageRef('mariadb'),
  readyWithin: minutes(12),
});

// the table every scenario writes to (here, so that a scenario also runs alone, with -t)
beforeAll(async () => {
  await sql(podHost(NS, NAME, 0), 'CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.t (id INT PRIMARY KEY, v VARCHAR(64))');
}, minutes(2));

test('3 members form one Primary component: wsrep_cluster_size=3 on each; the write-set cache is 1 GiB', async () => {
  await expectCluster(3);
  expect(await sql(podHost(NS, NAME, 0), "SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'")).toMatch(/gcache\.size = (1048576K|1024M|1G);/);
});

test('a row written through the client Service is read on every member (pod DNS names)', async () => {
  await sql(serviceHost(NS, NAME), 'CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.t (id INT PRIMARY KEY, v VARCHAR(64))');
  await write();
  await write(podHost(NS, NAME, 2));
  await expectAllRows(3);
});

test('delete one member pod: it comes back on the same claim with its data and rejoins', async () => {
  const volume = await claimVolume(NS, `data-${member(1)}`);
  await deletePods(NS, [member(1)]);
  await write(podHost(NS, NAME, 0)); // the others keep quorum meanwhile
  await waitForReady(NS, NAME, 3);
  expect(await claimVolume(NS, `data-${member(1)}`)).toBe(volume);
  await expectCluster(3);
  await write(podHost(NS, NAME, 1));
  await expectAllRows(3);
}, minutes(10));

const WORKLOAD = mysqlProtocolWorkload({ client: 'mariadb', galeraMembers: 3 });
faultScenarios({ ns: NS, name: NAME, workload: WORKLOAD, secret: ROOT_PASSWORD, target: 0, healthy: () => expectCluster(3), readsNotLinearizable: true });

// Measured (6 Dec 2026): in the pause scenario a read through the client Service returned a value
// overwritten 6 s earlier (written before the pause, replaced by two later acknowledged writes),
// right after galera-0 resumed: with wsrep_sync_wait=0 (the server's default, which the preset
// keeps) a member answers a read from what it has applied so far, before the write-sets it missed
// while stalled. Here a read is sent to galera-0 while it is stopped, so it is answered the moment
// it resumes, after a newer write was acknowledged by the others.
test.failing('KNOWN FAILURE: a member that resumes after a stall answers reads with data overwritten while it was stopped (wsrep_sync_wait=0: reads are not linearizable)', async () => {
  await sql(podHost(NS, NAME, 1), 'CREATE TABLE IF NOT EXISTS e2e.stale (k INT PRIMARY KEY, v INT); REPLACE INTO e2e.stale VALUES (1, 1)');
  await waitFor(NS, 'galera-0 reads 1', minutes(1), async () => (await sql(podHost(NS, NAME, 0), 'SELECT v FROM e2e.stale WHERE k = 1')) === '1');
  const paused = pause(NS, member(0), FAULT_SECONDS);
  await sleep(1000);
  const read = sql(podHost(NS, NAME, 0), 'SELECT v FROM e2e.stale WHERE k = 1'); // waits for galera-0
  await sql(podHost(NS, NAME, 1), 'REPLACE INTO e2e.stale VALUES (1, 2)'); // acknowledged before galera-0 resumes
  await paused;
  // only a stale answer fails this test (the known failure); a refused read would pass it, and
  // test.failing then turns red: a different behaviour to look at
  const got = await read.catch((err) => `refused: ${String(err).split('\n')[0]}`);
  process.stdout.write(`galera-0 answered the read with '${got}' after resuming (latest acknowledged value: 2)\n`);
  expect(got.startsWith('refused') ? '2' : got).toBe('2');
}, minutes(4));


test('lose the first member\'s volume (pod 0 and its claim) with writes in flight: it rejoins, filled from the others; no acknowledged write lost', async () => {
  await waitForCluster(3); // the test before leaves galera-0 rejoining after its pause
  await write();
  const r = await withWorkload(WORKLOAD, workloadOptions(NS, NAME, ROOT_PASSWORD), async () => {
    await loseVolume(NS, member(0), `data-${member(0)}`);
    await waitForReady(NS, NAME, 3, minutes(10));
  });
  // its state transfer (mariabackup) logged to the container, not to a syslog the pod lacks
  const log = await kubectl(['-n', NS, 'logs', member(0), '-c', 'main']);
  expect(log).not.toMatch(/to syslog/);
  expect(log).toMatch(/completed OK!/);
  await expectCluster(3);
  await expectAllRows(3);
  expectClean(r, { readsNotLinearizable: true });
  await write(podHost(NS, NAME, 0));
  await expectAllRows(3);
}, minutes(14));

test('rolling update (env change): members replaced highest ordinal first, quorum kept, writes go on', async () => {
  const writer = startWriter(() => write()); // through the client Service
  const { deleted } = await recordPodDeletions(NS, NAME, async () => {
    await setEnv(NS, NAME, 'main', { E2E_ROLL: '1' });
    await waitForReady(NS, NAME, 3, minutes(12));
  });
  // quorum kept: every write the client Service delivered reached a Primary member. A connection
  // refused is a member that stopped while the Service still listed it (endpoints follow a pod's
  // deletion a moment late; seen once in 7 runs): that write was never acknowledged, nothing is lost.
  const failures = await writer.stop();
  expect(failures.filter((f) => !/Can't connect to server on /.test(f))).toEqual([]);
  expect(failures.length).toBeLessThanOrEqual(2);
  expect(deleted).toEqual([member(2), member(1), member(0)]);
  await expectCluster(3);
  await expectAllRows(3);
}, minutes(15));

test('scale 3 -> 5 -> 3: the new members join with the data, the cluster shrinks back to 3', async () => {
  await scale(NS, NAME, 5);
  await waitForReady(NS, NAME, 5, minutes(12));
  await expectCluster(5);
  await write(podHost(NS, NAME, 4));
  await expectAllRows(5);
  await scale(NS, NAME, 3);
  // two members leaving at once can make one that stays fail the view change and drop out (see
  // the next test): the liveness probe restarts it and the three form one Primary component again
  const shrunk = Date.now();
  await waitForCluster(3, minutes(8));
  await waitForReady(NS, NAME, 3);
  console.log(`galera 5 -> 3: every member in a Primary component of 3 ${((Date.now() - shrunk) / 1000).toFixed(0)} s after the scale-down`);
  await expectCluster(3);
  await write();
  await expectAllRows(3);
}, minutes(20));

// What a scale-down can leave behind: the set shrinks from 5 to 3 while galera-0 drops out too.
// Here galera-3 and galera-4 go silent (SIGSTOP, so that they neither leave cleanly nor come back:
// a container the kubelet restarts before its pod goes lets pc.recovery re-merge all 5) and galera-0
// crashes. galera-1 and galera-2 are 2 of the 5 members of their last Primary component:
// non-Primary; galera-0 comes back and joins them. The three are every member of the set, all
// connected, and must make their component Primary by themselves (the start script's watcher,
// pc.bootstrap). Measured with the earlier watcher on MariaDB 11.8: they stayed non-Primary; the
// server refused pc.bootstrap through wsrep_provider_options ("cannot be changed while the
// wsrep-provider plugin is loaded").
test('scale 3 -> 5, then back to 3 while galera-3 and galera-4 are silent (SIGSTOP) and galera-0 crashes (SIGKILL): the three that remain are one Primary component of 3 again by themselves, no acknowledged write lost', async () => {
  await scale(NS, NAME, 5);
  await waitForReady(NS, NAME, 5, minutes(12));
  await write(podHost(NS, NAME, 4));
  await shrinkWhileSilent(NS, NAME, [member(3), member(4)], [member(0)], 3);
  const shrunk = Date.now();
  await waitForCluster(3, minutes(6));
  console.log(`galera 5 -> 3, two silent, galera-0 crashed: every member in a Primary component of 3 ${((Date.now() - shrunk) / 1000).toFixed(0)} s after`);
  await waitForReady(NS, NAME, 3, minutes(6));
  const logs = await Promise.all([0, 1, 2].map((i) => kubectl(['-n', NS, 'logs', member(i), '-c', 'main'])));
  expect(logs.some((log) => /making it Primary \(pc\.bootstrap\)/.test(log))).toBe(true);
  expect(logs.join('\n')).not.toMatch(/pc\.bootstrap failed/);
  await expectCluster(3);
  await write();
  await expectAllRows(3);
}, minutes(20));

// A client holds every connection slot of galera-0 for longer than the liveness budget (6 x 10 s):
// the member is alive and must not be restarted for it (a restart of every member would turn a
// connection leak into a full outage).
test('connections exhausted on a member (max_connections held for 90 s): it is not restarted, the cluster stays whole', async () => {
  const before = await restartCounts(NS, [0, 1, 2].map(member));
  const started = Date.now();
  const refused = await exhaustConnections(NS, podHost(NS, NAME, 0), ROOT_PASSWORD, MAX_CONNECTIONS, 90);
  expect(refused).toMatch(/ERROR 1040|Too many connections/);
  // the connections lasted their 90 s: a restart of galera-0 would have cut them (measured before
  // the fix: they ended after about 60 s, the liveness budget, and galera-0 refused connections)
  expect(Date.now() - started).toBeGreaterThanOrEqual(90_000);
  expect(await restartCounts(NS, [0, 1, 2].map(member))).toEqual(before);
  await expectCluster(3);
}, minutes(5));

/** PODS crash in the same instant with writes in flight; the set must be whole again by itself, nothing lost. */
async function crashTogetherWithWrites(pods: string[], readyWithin: number): Promise<void> {
  await write();
  const r = await withWorkload(WORKLOAD, workloadOptions(NS, NAME, ROOT_PASSWORD), async () => {
    await crashTogether(NS, pods);
    await waitForReady(NS, NAME, 3, readyWithin);
  });
  await expectCluster(3);
  await expectAllRows(3);
  expectClean(r, { readsNotLinearizable: true });
}

// Two members crash in the same instant: galera-0 is left alone, non-Primary (1 of 3). When the
// two come back they must form one Primary component with it, by themselves.
test('a lone survivor: the two other members crash together (SIGKILL, writes in flight): one Primary component of 3 again by itself, no acknowledged write lost',
  () => crashTogetherWithWrites([member(1), member(2)], minutes(6)), minutes(12));

// Every member crashes in the same instant (a power cut): no pod is replaced, only the containers
// restart, so no init container runs again.
test('every member crashed in the same instant (SIGKILL, writes in flight): one Primary component of 3 again by itself, no acknowledged write lost',
  () => crashTogetherWithWrites([0, 1, 2].map(member), minutes(8)), minutes(12));

// Last: a full outage. Every pod is replaced at once (Parallel): each member's `recover` init
// container reads its last committed position (grastate.dat, or InnoDB after a crash), `decide`
// records it in the set's Lease, and the member the Lease elects bootstraps; the others join it.
// Measured before the fix (29 Nov 2026): the set stayed down (galera-0 aborted with
// safe_to_bootstrap: 0, or two members bootstrapped and one was left non-primary).
test('full outage (every pod deleted at once, no member shutting down cleanly): the cluster comes back by itself with every committed row', async () => {
  await write();
  // every server held stopped while its pod goes: none writes its position on the way down, so
  // each new pod's `recover` must find it in InnoDB after a crash
  const stopped = [0, 1, 2].map((i) => pause(NS, member(i), 20));
  await sleep(1000);
  await deletePods(NS, [0, 1, 2].map(member), { force: true });
  await Promise.all(stopped);
  await waitForReady(NS, NAME, 3, minutes(6));
  // exactly one member bootstrapped, and no member's own position was ahead of it
  const logs = await Promise.all([0, 1, 2].map((i) => kubectl(['-n', NS, 'logs', member(i), '-c', 'main'])));
  const recovered = await Promise.all([0, 1, 2].map((i) => kubectl(['-n', NS, 'logs', member(i), '-c', 'recover'])));
  const positions = recovered.map((log) => /own position: [-0-9a-f]+:(-?\d+), safe_to_bootstrap (\d)/.exec(log));
  expect(positions.map((m) => m !== null)).toEqual([true, true, true]);
  // each position recovered from InnoDB, none left unknown (-1)
  expect(recovered.map((log) => /recovered position [-0-9a-f]+:\d+ from InnoDB/.test(log))).toEqual([true, true, true]);
  expect(positions.map((m) => Number(m![1]) >= 0)).toEqual([true, true, true]);
  const leaders = logs.flatMap((log, i) => log.includes('bootstrapping the cluster') ? [i] : []);
  expect(leaders).toHaveLength(1);
  const rank = (m: RegExpExecArray | null) => (m ? Number(m[2]) * 1e12 + Number(m[1]) : -Infinity); // safe_to_bootstrap first, then seqno
  expect(Math.max(...positions.map(rank))).toBe(rank(positions[leaders[0]]));
  await expectCluster(3);
  await expectAllRows(3);
  await write();
  await expectAllRows(3);
}, minutes(8));
