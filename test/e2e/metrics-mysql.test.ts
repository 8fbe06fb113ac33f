// Metrics on the real node, MySQL (primary + 2 replicas, GTID replication): `metrics` adds the
// mysqld_exporter sidecar (the test image of Debian's prometheus-mysqld-exporter) on the
// monitoring account docs/engines.md tells users to create, scraped by a real Prometheus on the
// host (./prometheus.ts) that evaluates the set's synthesized PrometheusRule. The key series must
// exist (MySQL up, both replication threads of each replica, read_only by role); a replica
// partitioned from its primary must raise DatabaseReplicationBroken for itself alone once its IO
// thread gives the source up, and the alert must resolve once it reconnects. The exporters' CPU
// and memory are measured from their cgroups.
import { DatabaseEngine, MysqlVersion } from '../../lib';
import { clientExec, imageRef, imageTag, minutes, password, podHost, waitFor } from './helpers';
import { partition } from './faults';
import { setUpMonitored } from './monitored-set';
import { HostPrometheus, measureExporters } from './prometheus';

const NS = 'e2e-metrics-mysql';
const NAME = 'mysql';
const PODS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const ROOT_PASSWORD = password();
const MONITORING_PASSWORD = password();
const prometheus = new HostPrometheus(19095);
const query = (q: string) => prometheus.query(q);

const rules = setUpMonitored({
  ns: NS,
  name: NAME,
  engine: DatabaseEngine.mysql({ version: MysqlVersion.of(imageTag('mysql')) }),
  exporterImage: imageRef('mysqld-exporter'),
  secret: { 'root-password': ROOT_PASSWORD, 'replication-password': password(), 'monitoring-username': 'monitoring', 'monitoring-password': MONITORING_PASSWORD },
  client: { image: imageRef('mysql'), uid: 999 },
});

let usage: Awaited<ReturnType<typeof measureExporters>>;
beforeAll(async () => {
  // the monitoring account as docs/engines.md gives it for MySQL, created on the primary; replication carries it
  const client = `mysql --defaults-extra-file=<(printf "[client]\\nuser=root\\npassword=%s\\n" "$pw") -h ${podHost(NS, NAME, 0)} --connect-timeout=5`;
  await clientExec(NS, `export pw; exec bash -c '${client}'`, ROOT_PASSWORD,
    `CREATE USER 'monitoring'@'127.0.0.1' IDENTIFIED BY '${MONITORING_PASSWORD}' WITH MAX_USER_CONNECTIONS 3;\n` +
    "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'monitoring'@'127.0.0.1';\n" +
    "GRANT SELECT ON performance_schema.* TO 'monitoring'@'127.0.0.1';\n");
  await prometheus.start(NS, PODS, 9104, rules());
  usage = await measureExporters(NS, PODS);
}, minutes(3));
afterAll(() => prometheus.stop('prometheus-mysql'));

/** [pod, value] of METRIC for each member that has it, sorted. */
const seen = async (metric: string) => (await query(`${metric}{namespace="${NS}"}`)).map((r) => [r.metric.pod, r.value[1]]).sort();

test('Prometheus scrapes every exporter: MySQL up, both replication threads of each replica, read_only by role', async () => {
  await waitFor(NS, 'the three exporters scraped, MySQL up on each, both replicas seen', minutes(2), async () =>
    (await query(`mysql_up{namespace="${NS}"} == 1`)).length === 3 && (await query(`mysql_slave_status_replica_io_running{namespace="${NS}"}`)).length === 2);
  expect(await seen('mysql_slave_status_replica_io_running')).toEqual([[PODS[1], '1'], [PODS[2], '1']]);
  expect(await seen('mysql_slave_status_replica_sql_running')).toEqual([[PODS[1], '1'], [PODS[2], '1']]);
  expect((await seen('mysql_slave_status_seconds_behind_source')).map(([pod]) => pod)).toEqual([PODS[1], PODS[2]]);
  expect(await seen('mysql_global_variables_read_only')).toEqual([[PODS[0], '0'], [PODS[1], '1'], [PODS[2], '1']]);
  for (const name of ['DatabaseMemberDown', 'DatabaseReplicationBroken', 'DatabaseReplicationLagging']) {
    expect({ name, alerts: await prometheus.alerts(name, NAME) }).toEqual({ name, alerts: [] });
  }
}, minutes(4));

test('a replica partitioned from its primary: DatabaseReplicationBroken for it alone goes pending, then firing, and resolves once healed', async () => {
  const { heal } = await partition(NS, PODS[2], { peers: [PODS[0]] });
  let broken: { states: Set<string>; pods: string[] };
  try {
    // the IO thread gives the source up after replica_net_timeout (60 s); the alert waits replicationFor (20 s)
    broken = await prometheus.untilFiring(NS, 'DatabaseReplicationBroken', NAME, minutes(4));
    expect(await seen('mysql_slave_status_replica_io_running')).toEqual([[PODS[1], '1'], [PODS[2], '0']]);
  } finally {
    await heal();
  }
  expect(broken.pods).toEqual([PODS[2]]);
  expect(broken.states).toEqual(new Set(['pending', 'firing']));
  // SOURCE_CONNECT_RETRY 10 s
  await prometheus.untilResolved(NS, 'DatabaseReplicationBroken', NAME, minutes(3));
  expect(await seen('mysql_slave_status_replica_io_running')).toEqual([[PODS[1], '1'], [PODS[2], '1']]);
}, minutes(9));

test('the exporters\' own use, measured from their cgroups over the run, fits their limits', async () => {
  expect(await usage.report('exporter-usage-mysql')).toHaveLength(3);
}, minutes(2));
