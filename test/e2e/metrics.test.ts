// Metrics on the real node: a Redis primary + 2 replicas with `metrics` (the redis_exporter
// sidecar from the test image of Debian's prometheus-redis-exporter), scraped by a real
// Prometheus (Debian trixie's, run on the host: pod addresses are reachable from it) that loads
// the PrometheusRule the library synthesizes for the same set. The key series must exist; a fault
// (a replica partitioned from its primary, a member's server stopped) must take its alert to
// firing, and the alert must resolve once the fault heals. The exporters' CPU and memory are
// measured from their cgroups meanwhile.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { DatabaseEngine, DatabaseMetricsOptions, RedisVersion, StatefulDatabase } from '../../lib';
import { REPO, imageRef, imageTag, kubectl, minutes, password, setUpEngine, sleep, synth, waitFor } from './helpers';
import { containerPid, partition, pause } from './faults';

const NS = 'e2e-metrics';
const NAME = 'redis';
const PASSWORD = password();
const PROMETHEUS_ADDRESS = '127.0.0.1:19090';
const SCRAPE_SECONDS = 5;

/** The database as the test applies it; `operator` adds the PrometheusRule the test reads its rules from. */
function defineDatabase(chart: Chart, operator: boolean): StatefulDatabase {
  const metrics: DatabaseMetricsOptions = {
    exporterImage: imageRef('redis-exporter'),
    prometheusOperator: operator,
    // short, so that the test sees pending become firing within minutes
    alertThresholds: { memberDownFor: Duration.seconds(20), replicationFor: Duration.seconds(20) },
  };
  return new StatefulDatabase(chart, NAME, {
    name: NAME,
    engine: DatabaseEngine.redis({ version: RedisVersion.of(imageTag('redis')) }),
    replicas: 3,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${NAME}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    metrics,
  });
}

setUpEngine(NS, {
  name: NAME,
  replicas: 3,
  secret: { name: `${NAME}-credentials`, data: { password: PASSWORD } },
  // without the Prometheus Operator's CRDs: the node's API server has none
  define: (chart) => defineDatabase(chart, false),
  readyWithin: minutes(8),
});

/** The rule groups of the set's PrometheusRule, as a Prometheus rule file. */
function ruleFile(): string {
  const docs = parseAllDocuments(synth(NS, (chart) => defineDatabase(chart, true))).map((d) => d.toJS());
  const rule = docs.find((d) => d?.kind === 'PrometheusRule');
  if (!rule) throw new Error('the synthesized set has no PrometheusRule');
  return JSON.stringify({ groups: rule.spec.groups });
}

let prometheus: ChildProcess | undefined;
let prometheusLog = '';

async function podIp(pod: string): Promise<string> {
  return (await kubectl(['-n', NS, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
}

/** Starts Debian's Prometheus on the host, scraping the three exporters, with the set's rules. */
async function startPrometheus(): Promise<void> {
  const bin = execFileSync('bash', [path.join(REPO, 'scripts', 'install-prometheus.sh'), 'prometheus'], { encoding: 'utf-8' }).trim().split('\n').pop()!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-prometheus-'));
  fs.writeFileSync(path.join(dir, 'rules.json'), ruleFile());
  const targets = await Promise.all([0, 1, 2].map(async (i) => ({ targets: [`${await podIp(`${NAME}-${i}`)}:9121`], labels: { namespace: NS, pod: `${NAME}-${i}` } })));
  fs.writeFileSync(path.join(dir, 'prometheus.json'), JSON.stringify({
    global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
    rule_files: [path.join(dir, 'rules.json')],
    scrape_configs: [{ job_name: 'redis-exporter', static_configs: targets }],
  }));
  prometheus = spawn(path.join(bin, 'prometheus'), [
    `--config.file=${path.join(dir, 'prometheus.json')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=${PROMETHEUS_ADDRESS}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => { prometheusLog = (prometheusLog + b.toString()).slice(-20000); };
  prometheus.stdout?.on('data', keep);
  prometheus.stderr?.on('data', keep);
  await waitFor(NS, 'Prometheus ready', minutes(1), async () => (await fetch(`http://${PROMETHEUS_ADDRESS}/-/ready`).catch(() => undefined))?.ok === true);
}

async function query(promql: string): Promise<Array<{ metric: { [k: string]: string }; value: [number, string] }>> {
  const res = await fetch(`http://${PROMETHEUS_ADDRESS}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json() as any;
  if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** The set's alerts by state, as Prometheus holds them now. */
async function alerts(name: string): Promise<Array<{ state: string; labels: { [k: string]: string } }>> {
  const body = await (await fetch(`http://${PROMETHEUS_ADDRESS}/api/v1/alerts`)).json() as any;
  return body.data.alerts.filter((a: any) => a.labels.alertname === name && a.labels.database === NAME);
}

/** The exporter container's cgroup (v1): CPU time used so far (ns) and the most memory it used (bytes). */
async function exporterUsage(pod: string): Promise<{ cpuNs: number; maxMemory: number; memory: number }> {
  const pid = await containerPid(NS, pod, 'metrics');
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf-8').split('\n');
  const of = (ctrl: string) => {
    const line = lines.find((l) => l.split(':')[1]?.split(',').includes(ctrl));
    if (!line) throw new Error(`${pod}/metrics: no ${ctrl} cgroup (is this cgroup v1?)`);
    return line.split(':')[2];
  };
  const read = (file: string) => Number(fs.readFileSync(file, 'utf-8').trim());
  return {
    cpuNs: read(`/sys/fs/cgroup/cpuacct/${of('cpuacct')}/cpuacct.usage`),
    maxMemory: read(`/sys/fs/cgroup/memory/${of('memory')}/memory.max_usage_in_bytes`),
    memory: read(`/sys/fs/cgroup/memory/${of('memory')}/memory.usage_in_bytes`),
  };
}

const usageAtStart = new Map<string, { cpuNs: number; at: number }>();

beforeAll(async () => {
  await startPrometheus();
  for (const i of [0, 1, 2]) usageAtStart.set(`${NAME}-${i}`, { cpuNs: (await exporterUsage(`${NAME}-${i}`)).cpuNs, at: Date.now() });
}, minutes(3));

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await sleep(1000);
  if (process.env.CLUSTER_DIR) fs.writeFileSync(path.join(process.env.CLUSTER_DIR, 'e2e', 'prometheus.log'), prometheusLog);
});

test('Prometheus scrapes every exporter: the key series of a primary and two linked replicas', async () => {
  await waitFor(NS, 'the three exporters scraped, Redis up on each', minutes(2), async () =>
    (await query(`redis_up{namespace="${NS}"} == 1`)).length === 3 && (await query(`up{namespace="${NS}"} == 1`)).length === 3);
  await waitFor(NS, 'replication series', minutes(1), async () => (await query(`redis_master_link_up{namespace="${NS}"}`)).length === 2);
  const roles = (await query(`redis_instance_info{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.metric.role]).sort();
  expect(roles).toEqual([[`${NAME}-0`, 'master'], [`${NAME}-1`, 'slave'], [`${NAME}-2`, 'slave']]);
  expect((await query(`redis_connected_slaves{namespace="${NS}",pod="${NAME}-0"}`)).map((r) => r.value[1])).toEqual(['2']);
  expect((await query(`redis_master_link_up{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort())
    .toEqual([[`${NAME}-1`, '1'], [`${NAME}-2`, '1']]);
  // quiet on a healthy set
  for (const name of ['DatabaseMemberDown', 'DatabaseReplicationBroken', 'DatabaseReplicationLagging']) expect({ name, alerts: await alerts(name) }).toEqual({ name, alerts: [] });
}, minutes(4));

test('a replica partitioned from its primary: DatabaseReplicationBroken goes pending, then firing, and resolves once healed', async () => {
  const { heal } = await partition(NS, `${NAME}-2`, { peers: [`${NAME}-0`] });
  const states = new Set<string>();
  try {
    // Redis notices a dead link after repl-timeout (60 s); the alert waits replicationFor (20 s)
    await waitFor(NS, 'DatabaseReplicationBroken firing', minutes(4), async () => {
      (await alerts('DatabaseReplicationBroken')).forEach((a) => states.add(a.state));
      return states.has('firing');
    });
  } finally {
    await heal();
  }
  expect(states).toEqual(new Set(['pending', 'firing']));
  await waitFor(NS, 'DatabaseReplicationBroken resolved', minutes(4), async () => (await alerts('DatabaseReplicationBroken')).length === 0);
}, minutes(10));

test('a member whose server is stopped: DatabaseMemberDown fires for it alone, and resolves once it runs again', async () => {
  const stopped = pause(NS, `${NAME}-1`, 90);
  const seen: string[] = [];
  try {
    await waitFor(NS, 'DatabaseMemberDown firing', minutes(2), async () => {
      const firing = (await alerts('DatabaseMemberDown')).filter((a) => a.state === 'firing');
      seen.splice(0, seen.length, ...firing.map((a) => a.labels.pod));
      return firing.length > 0;
    });
  } finally {
    await stopped;
  }
  expect(seen).toEqual([`${NAME}-1`]);
  await waitFor(NS, 'DatabaseMemberDown resolved', minutes(3), async () => (await alerts('DatabaseMemberDown')).length === 0);
}, minutes(8));

test('the exporters\' own use, measured from their cgroups over the run, fits their requests and limits', async () => {
  const rows: string[] = [];
  for (const i of [0, 1, 2]) {
    const pod = `${NAME}-${i}`;
    const start = usageAtStart.get(pod)!;
    const now = await exporterUsage(pod);
    const millicores = (now.cpuNs - start.cpuNs) / 1e6 / ((Date.now() - start.at) / 1000);
    rows.push(`${pod}/metrics: cpu ${millicores.toFixed(2)}m average over ${((Date.now() - start.at) / 1000).toFixed(0)} s, memory ${(now.memory / 2 ** 20).toFixed(1)} MiB now, ${(now.maxMemory / 2 ** 20).toFixed(1)} MiB at most`);
    // the limits (200m, 128Mi) must leave room; the requests (10m, 32Mi) are what it needs at rest
    expect(millicores).toBeLessThan(200);
    expect(now.maxMemory).toBeLessThan(128 * 2 ** 20);
  }
  // the measurement is the result: printed for docs/engines.md, kept beside the run's logs
  console.log(`exporter use, scraped every ${SCRAPE_SECONDS} s:\n${rows.join('\n')}`);
  if (process.env.CLUSTER_DIR) fs.writeFileSync(path.join(process.env.CLUSTER_DIR, 'e2e', 'exporter-usage.txt'), rows.join('\n') + '\n');
}, minutes(2));
