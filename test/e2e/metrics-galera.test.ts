// Metrics on the real node, MariaDB Galera: 3 members with `metrics` (the mysqld_exporter sidecar
// from the test image of Debian's prometheus-mysqld-exporter) on the monitoring account
// docs/engines.md tells users to create, scraped by a real Prometheus on the host (./prometheus.ts)
// that evaluates the set's synthesized PrometheusRule. The key series must exist; a member
// partitioned from the two others must leave the Primary component and raise GaleraNonPrimary
// and GaleraClusterSizeLow, which resolve once it rejoins.
import { DatabaseEngine, MariaDbVersion } from '../../lib';
import { clientExec, imageRef, imageTag, minutes, password, podHost, waitFor } from './helpers';
import { partition } from './faults';
import { setUpMonitored } from './monitored-set';
import { HostPrometheus, measureExporters } from './prometheus';

const NS = 'e2e-metrics-galera';
const NAME = 'galera';
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const ROOT_PASSWORD = password();
const MONITORING_PASSWORD = password();
const prometheus = new HostPrometheus(19091);

const rules = setUpMonitored({
  ns: NS,
  name: NAME,
  engine: DatabaseEngine.mariadbGalera({ version: MariaDbVersion.of(imageTag('mariadb')) }),
  exporterImage: imageRef('mysqld-exporter'),
  secret: { 'root-password': ROOT_PASSWORD, 'monitoring-username': 'monitoring', 'monitoring-password': MONITORING_PASSWORD },
  client: { image: imageRef('mariadb'), uid: 999 },
});

const query = (q: string) => prometheus.query(q);
let usage: Awaited<ReturnType<typeof measureExporters>>;

beforeAll(async () => {
  // the monitoring account as docs/engines.md gives it, created once; Galera carries it to every member
  await clientExec(NS, `MYSQL_PWD="$pw" mariadb -h ${podHost(NS, NAME, 0)} -uroot`, ROOT_PASSWORD,
    `CREATE USER 'monitoring'@'127.0.0.1' IDENTIFIED BY '${MONITORING_PASSWORD}' WITH MAX_USER_CONNECTIONS 3;\n` +
    "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitoring'@'127.0.0.1';\n" +
    "GRANT SELECT ON performance_schema.* TO 'monitoring'@'127.0.0.1';\n");
  await prometheus.start(NS, PODS, 9104, rules());
  usage = await measureExporters(NS, PODS);
}, minutes(3));
afterAll(() => prometheus.stop('prometheus-galera'));

test('Prometheus scrapes every exporter: MariaDB up, a Primary component of 3 seen by each member', async () => {
  await waitFor(NS, 'the three exporters scraped, MariaDB up on each', minutes(2), async () =>
    (await query(`mysql_up{namespace="${NS}"} == 1`)).length === 3);
  const seen = async (metric: string) => (await query(`${metric}{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort();
  expect(await seen('mysql_global_status_wsrep_cluster_size')).toEqual(PODS.map((p) => [p, '3']));
  expect(await seen('mysql_global_status_wsrep_cluster_status')).toEqual(PODS.map((p) => [p, '1']));
  for (const name of ['DatabaseMemberDown', 'GaleraClusterSizeLow', 'GaleraNonPrimary']) {
    expect({ name, alerts: await prometheus.alerts(name, NAME) }).toEqual({ name, alerts: [] });
  }
}, minutes(4));

test('a member partitioned from the two others: GaleraNonPrimary for it and GaleraClusterSizeLow fire, and resolve once it rejoins', async () => {
  const { heal } = await partition(NS, PODS[2], { peers: [PODS[0], PODS[1]] });
  let nonPrimary: { states: Set<string>; pods: string[] };
  let small: { pods: string[] };
  try {
    nonPrimary = await prometheus.untilFiring(NS, 'GaleraNonPrimary', NAME, minutes(4));
    small = await prometheus.untilFiring(NS, 'GaleraClusterSizeLow', NAME, minutes(2));
  } finally {
    await heal();
  }
  expect(nonPrimary.pods).toEqual([PODS[2]]);
  expect(nonPrimary.states).toEqual(new Set(['pending', 'firing']));
  expect(small.pods).toContain(PODS[2]);
  await prometheus.untilResolved(NS, 'GaleraNonPrimary', NAME, minutes(5));
  await prometheus.untilResolved(NS, 'GaleraClusterSizeLow', NAME, minutes(3));
}, minutes(15));

test('the exporters\' own use, measured from their cgroups over the run, fits their limits', async () => {
  expect(await usage.report('exporter-usage-galera')).toHaveLength(3);
}, minutes(2));
