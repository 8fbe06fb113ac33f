// Metrics on the real node, Redis: a primary + 2 replicas with `metrics` (the redis_exporter
// sidecar from the test image of Debian's prometheus-redis-exporter, on the ACL user the preset
// creates from the Secret's monitoring keys, never the admin password), scraped by a real
// Prometheus on the host (./prometheus.ts) that evaluates the PrometheusRule the library
// synthesizes for the same set. The key series must exist; a fault (a replica partitioned from
// its primary, a member's server stopped) must take its alert to firing, and the alert must
// resolve once the fault heals. The exporters' CPU and memory are measured from their cgroups.
import { createHash } from 'crypto';
import { DatabaseEngine, RedisVersion } from '../../lib';
import { exec, imageRef, imageTag, minutes, password, waitFor } from './helpers';
import { partition, pause } from './faults';
import { setUpMonitored } from './monitored-set';
import { HostPrometheus, measureExporters } from './prometheus';

const NS = 'e2e-metrics';
const NAME = 'redis';
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const PASSWORD = password();
const MONITORING_PASSWORD = password();
/** What a scrape of redis_exporter sends (lib/database/engines/scripts/redis-monitoring-user.sh). */
const MONITORING_COMMANDS = ['+ping', '+info', '+config|get', '+client|setname', '+slowlog|get', '+slowlog|len', '+latency|latest', '+latency|histogram'];
const prometheus = new HostPrometheus(19090);

const rules = setUpMonitored({
  ns: NS,
  name: NAME,
  engine: DatabaseEngine.redis({ version: RedisVersion.of(imageTag('redis')) }),
  exporterImage: imageRef('redis-exporter'),
  secret: { 'password': PASSWORD, 'monitoring-username': 'monitoring', 'monitoring-password': MONITORING_PASSWORD },
});

let usage: Awaited<ReturnType<typeof measureExporters>>;
beforeAll(async () => {
  await prometheus.start(NS, PODS, 9121, rules());
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

/** redis-cli ARGS in POD's server container, as the admin or as the monitoring user (the password on stdin, never argv). */
async function redisCli(pod: string, as: 'admin' | 'monitoring', args: string): Promise<string> {
  const user = as === 'monitoring' ? '--user monitoring ' : '';
  return (await exec(NS, pod, 'main', `read -r pw; REDISCLI_AUTH="$pw" redis-cli --no-auth-warning ${user}${args}`,
    `${as === 'admin' ? PASSWORD : MONITORING_PASSWORD}\n`)).trim();
}

test('each exporter runs as the monitoring user, which the preset made with no key and no command that writes', async () => {
  await redisCli(PODS[0], 'admin', 'SET metrics-e2e secret');
  const hash = createHash('sha256').update(MONITORING_PASSWORD).digest('hex');
  for (const pod of PODS) {
    // the exporter's process (it connects for each scrape only) holds the monitoring user, and redis_up is 1 with it
    expect(await exec(NS, pod, 'metrics', "tr '\\0' '\\n' </proc/1/environ | grep '^REDIS_USER='")).toBe('REDIS_USER=monitoring\n');
    // as Redis holds it: on, the password's SHA-256 only, no key or channel pattern, -@all and the scrape's commands
    const rules = (await redisCli(pod, 'admin', 'ACL LIST')).split('\n').find((l) => l.startsWith('user monitoring '))?.trim().split(' ') ?? [];
    expect({ pod, on: rules.includes('on'), password: rules.filter((r) => /^[#>]/.test(r)), patterns: rules.filter((r) => /^[~%&]/.test(r)) })
      .toEqual({ pod, on: true, password: [`#${hash}`], patterns: [] });
    expect({ pod, commands: rules.filter((r) => /^[-+]/.test(r)).sort() }).toEqual({ pod, commands: [...MONITORING_COMMANDS, '-@all'].sort() });
    // every command of the scrapes so far ran: the ACL refused the monitoring user nothing (ACL LOG
    // records each refusal with its user; the unauthenticated liveness PING is no ACL refusal)
    const log = (await redisCli(pod, 'admin', 'ACL LOG')).split('\n').map((l) => l.trim());
    expect({ pod, refusedMonitoring: log.filter((l, i) => l === 'monitoring' && log[i - 1] === 'username').length }).toEqual({ pod, refusedMonitoring: 0 });
    const stats = (await redisCli(pod, 'admin', 'INFO commandstats')).split('\n');
    expect(stats.some((l) => l.startsWith('cmdstat_config|get:'))).toBe(true);
    expect(await redisCli(pod, 'monitoring', 'INFO replication')).toMatch(/^role:(master|slave)/m);
    for (const denied of ['GET metrics-e2e', 'KEYS metrics-e2e', 'CONFIG SET maxmemory 1', 'FLUSHALL', 'REPLICAOF NO ONE']) {
      expect({ pod, denied, reply: await redisCli(pod, 'monitoring', denied) }).toEqual({ pod, denied, reply: expect.stringMatching(/^NOPERM/) });
    }
  }
  expect(await redisCli(PODS[1], 'admin', 'GET metrics-e2e')).toBe('secret');
}, minutes(3));

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
