// Metrics on the real node, Redis: a primary + 2 replicas with `metrics` (the redis_exporter
// sidecar from the test image of Debian's prometheus-redis-exporter), scraped by a real
// Prometheus on the host (./prometheus.ts) that evaluates the PrometheusRule the library
// synthesizes for the same set. The key series must exist; a fault (a replica partitioned from
// its primary, a member's server stopped) must take its alert to firing, and the alert must
// resolve once the fault heals. The exporters' CPU and memory are measured from their cgroups.
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, RedisVersion, StatefulDatabase } from '../../lib';
import { imageRef, imageTag, minutes, password, setUpEngine, synth, waitFor, NODE_SIZED } from './helpers';
import { partition, pause } from './faults';
import { HostPrometheus, measureExporters, ruleFileOf } from './prometheus';

const NS = 'e2e-metrics';
const NAME = 'redis';
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const PASSWORD = password();
const prometheus = new HostPrometheus(19090);

/** The set as applied (`operator: false`: the node has no Prometheus Operator CRD), or with its PrometheusRule. */
function defineDatabase(chart: Chart, operator: boolean): StatefulDatabase {
  return new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine: DatabaseEngine.redis({ version: RedisVersion.of(imageTag('redis')) }),
    replicas: 3,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
    metrics: {
      exporterImage: imageRef('redis-exporter'),
      prometheusOperator: operator,
      // short, so that pending becomes firing within minutes
      alertThresholds: { memberDownFor: Duration.seconds(20), replicationFor: Duration.seconds(20) },
    },
  });
}

setUpEngine(NS, {
  name: NAME,
  replicas: 3,
  secret: { name: `${NAME}-credentials`, data: { password: PASSWORD } },
  define: (chart) => defineDatabase(chart, false),
  readyWithin: minutes(8),
});

let usage: Awaited<ReturnType<typeof measureExporters>>;
beforeAll(async () => {
  await prometheus.start(NS, PODS, 9121, ruleFileOf(synth(NS, (chart) => defineDatabase(chart, true))));
  usage = await measureExporters(NS, PODS);
}, minutes(3));
afterAll(() => prometheus.stop('prometheus-redis'));

test('Prometheus scrapes every exporter: the key series of a primary and two linked replicas', async () => {
  const query = (q: string) => prometheus.query(q);
  await waitFor(NS, 'the three exporters scraped, Redis up on each', minutes(2), async () =>
    (await query(`redis_up{namespace="${NS}"} == 1`)).length === 3 && (await query(`up{namespace="${NS}"} == 1`)).length === 3);
  await waitFor(NS, 'replication series', minutes(1), async () => (await query(`redis_master_link_up{namespace="${NS}"}`)).length === 2);
  const roles = (await query(`redis_instance_info{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.metric.role]).sort();
  expect(roles).toEqual([[PODS[0], 'master'], [PODS[1], 'slave'], [PODS[2], 'slave']]);
  expect((await query(`redis_connected_slaves{namespace="${NS}",pod="${PODS[0]}"}`)).map((r) => r.value[1])).toEqual(['2']);
  expect((await query(`redis_master_link_up{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort()).toEqual([[PODS[1], '1'], [PODS[2], '1']]);
  // quiet on a healthy set
  for (const name of ['DatabaseMemberDown', 'DatabaseReplicationBroken', 'DatabaseReplicationLagging']) {
    expect({ name, alerts: await prometheus.alerts(name, NAME) }).toEqual({ name, alerts: [] });
  }
}, minutes(4));

test('a replica partitioned from its primary: DatabaseReplicationBroken goes pending, then firing, and resolves once healed', async () => {
  const { heal } = await partition(NS, PODS[2], { peers: [PODS[0]] });
  let seen: { states: Set<string> };
  try {
    // Redis notices a dead link after repl-timeout (60 s); the alert waits replicationFor (20 s)
    seen = await prometheus.untilFiring(NS, 'DatabaseReplicationBroken', NAME, minutes(4));
  } finally {
    await heal();
  }
  expect(seen.states).toEqual(new Set(['pending', 'firing']));
  await prometheus.untilResolved(NS, 'DatabaseReplicationBroken', NAME, minutes(4));
}, minutes(10));

test('a member whose server is stopped: DatabaseMemberDown fires for it alone, and resolves once it runs again', async () => {
  const stopped = pause(NS, PODS[1], 90);
  let seen: { pods: string[] };
  try {
    seen = await prometheus.untilFiring(NS, 'DatabaseMemberDown', NAME, minutes(2));
  } finally {
    await stopped;
  }
  expect(seen.pods).toEqual([PODS[1]]);
  await prometheus.untilResolved(NS, 'DatabaseMemberDown', NAME, minutes(3));
}, minutes(8));

test('the exporters\' own use, measured from their cgroups over the run, fits their limits', async () => {
  expect(await usage.report('exporter-usage-redis')).toHaveLength(3);
}, minutes(2));
