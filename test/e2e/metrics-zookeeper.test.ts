// Metrics on the real node, ZooKeeper: 3 members with `metrics` (the server's own Prometheus
// provider on port 7000, turned on in zoo.cfg by the preset), scraped by a real Prometheus on the
// host (./prometheus.ts) that evaluates the set's synthesized PrometheusRule. The key series must
// exist (one leader, a quorum of 3, two synced followers); an ensemble partitioned so that no two
// members reach each other has no leader and must raise ZooKeeperLeaderCount while every member
// still answers its scrape; a stopped member must raise DatabaseMemberDown for itself alone. Each
// alert resolves once the fault heals. The provider has no container of its own: its cost is read
// from Prometheus's own scrape series and the server container's cgroup.
import { DatabaseEngine, ZooKeeperVersion } from '../../lib';
import { exec, imageTag, minutes, waitFor } from './helpers';
import { partition, pause } from './faults';
import { setUpMonitored } from './monitored-set';
import { containerUsage, HostPrometheus, SCRAPE_SECONDS } from './prometheus';

const NS = 'e2e-metrics-zookeeper';
const NAME = 'zk';
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const prometheus = new HostPrometheus(19094);
const query = (q: string) => prometheus.query(q);

const rules = setUpMonitored({ ns: NS, name: NAME, engine: DatabaseEngine.zookeeper({ version: ZooKeeperVersion.of(imageTag('zookeeper')) }) });

let started: Map<string, { cpuNs: number; at: number }>;
beforeAll(async () => {
  await prometheus.start(NS, PODS, 7000, rules());
  started = new Map();
  for (const pod of PODS) started.set(pod, { cpuNs: (await containerUsage(NS, pod, 'main')).cpuNs, at: Date.now() });
}, minutes(2));
afterAll(() => prometheus.stop('prometheus-zookeeper'));

/** The members that report `leader_uptime` (only a serving leader does), sorted. */
async function leaders(): Promise<string[]> {
  return (await query(`leader_uptime{namespace="${NS}"}`)).map((r) => r.metric.pod).sort();
}

/** The mode ZooKeeper itself reports (`srvr` on the member's client port, from inside its pod). */
async function mode(pod: string): Promise<string | undefined> {
  const reply = await exec(NS, pod, 'main', "bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; cat <&3'");
  return /^Mode: (\w+)/m.exec(reply)?.[1];
}

async function expectQuiet(names: string[]): Promise<void> {
  for (const name of names) expect({ name, alerts: await prometheus.alerts(name, NAME) }).toEqual({ name, alerts: [] });
}

test('Prometheus scrapes every member: one leader (the one srvr names), a quorum of 3, two synced followers', async () => {
  await waitFor(NS, 'the three members scraped, one leader with two synced followers', minutes(2), async () =>
    (await query(`up{namespace="${NS}"} == 1`)).length === 3 && (await leaders()).length === 1 &&
    (await query(`synced_followers{namespace="${NS}"} == 2`)).length === 1);
  const [leader] = await leaders();
  expect(await mode(leader)).toBe('leader');
  const seen = async (metric: string) => (await query(`${metric}{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort();
  expect(await seen('quorum_size')).toEqual(PODS.map((p) => [p, '3']));
  expect(await seen('learners')).toEqual([[leader, '2']]);
  // pending while no leader was scraped yet (the ensemble's first seconds): quiet at the next evaluations
  await waitFor(NS, 'no member-down or leader-count alert', minutes(1), async () =>
    (await prometheus.alerts('DatabaseMemberDown', NAME)).length === 0 && (await prometheus.alerts('ZooKeeperLeaderCount', NAME)).length === 0);
}, minutes(3));

test('no two members reach each other: no leader, ZooKeeperLeaderCount goes pending then firing while every member answers, and resolves once healed', async () => {
  const cuts = [await partition(NS, PODS[0], { peers: [PODS[1], PODS[2]] }), await partition(NS, PODS[1], { peers: [PODS[2]] })];
  let seen: { states: Set<string> };
  let scraped: number;
  try {
    // the leader gives up after syncLimit ticks (4 s); the alert waits 1m
    seen = await prometheus.untilFiring(NS, 'ZooKeeperLeaderCount', NAME, minutes(3));
    scraped = (await query(`up{namespace="${NS}"} == 1`)).length;
    expect(await leaders()).toEqual([]);
  } finally {
    for (const cut of cuts) await cut.heal();
  }
  expect(seen.states).toEqual(new Set(['pending', 'firing']));
  expect(scraped).toBe(3);
  await expectQuiet(['DatabaseMemberDown']);
  // an election after the heal (members back off their notifications up to 60 s while alone)
  await prometheus.untilResolved(NS, 'ZooKeeperLeaderCount', NAME, minutes(3));
  expect(await leaders()).toHaveLength(1);
}, minutes(8));

test('a follower whose server is stopped: DatabaseMemberDown fires for it alone, the quorum keeps its leader, and it resolves once the follower runs again', async () => {
  const [leader] = await leaders();
  const follower = PODS.find((p) => p !== leader)!;
  const stopped = pause(NS, follower, 45); // less than the liveness probe's 60 s; the alert waits 20 s
  let seen: { pods: string[] };
  try {
    seen = await prometheus.untilFiring(NS, 'DatabaseMemberDown', NAME, minutes(1));
    expect(await leaders()).toEqual([leader]);
  } finally {
    await stopped;
  }
  expect(seen.pods).toEqual([follower]);
  await prometheus.untilResolved(NS, 'DatabaseMemberDown', NAME, minutes(2));
  await expectQuiet(['ZooKeeperLeaderCount']);
}, minutes(5));

test('the provider\'s cost: scrape time and size from Prometheus, the server container\'s CPU and memory over the run', async () => {
  const window = `${Math.max(60, Math.round((Date.now() - started.get(PODS[0])!.at) / 1000))}s`;
  // the median: the scrapes of a stopped or cut-off member time out, and the run has both
  const duration = await query(`quantile_over_time(0.5, scrape_duration_seconds{namespace="${NS}"}[${window}])`);
  const samples = await query(`scrape_samples_scraped{namespace="${NS}"}`);
  const rows: string[] = [];
  for (const pod of PODS) {
    const ms = 1000 * Number(duration.find((r) => r.metric.pod === pod)?.value[1]);
    const n = Number(samples.find((r) => r.metric.pod === pod)?.value[1]);
    const s = started.get(pod)!;
    const now = await containerUsage(NS, pod, 'main');
    const millicores = (now.cpuNs - s.cpuNs) / 1e6 / ((Date.now() - s.at) / 1000);
    rows.push(`${pod}: scrape ${ms.toFixed(1)} ms median, ${n} samples; server container (ZooKeeper with its provider) ` +
      `cpu ${millicores.toFixed(1)}m average, memory ${(now.memory / 2 ** 20).toFixed(0)} MiB now, ${(now.maxMemory / 2 ** 20).toFixed(0)} MiB at most`);
    // a scrape every SCRAPE_SECONDS must stay far below its interval, and carry the series
    expect(ms).toBeLessThan(500);
    expect(n).toBeGreaterThan(100);
  }
  console.log(`ZooKeeper provider, scraped every ${SCRAPE_SECONDS} s over ${window}:\n${rows.join('\n')}`);
}, minutes(2));
