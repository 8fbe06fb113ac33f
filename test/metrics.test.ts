import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { DatabaseEngine, StatefulDatabase } from '../lib';
import { DatabaseMetricsOptions } from '../lib/monitoring/metrics-props';
import { chart, find, schemaErrors, synth } from './util';

const CRD_DIR = path.join(__dirname, 'schemas', 'prometheus-operator');

/**
 * The Prometheus Operator's CRD schema of a kind, strict as `kubectl --validate=strict` is:
 * a field the schema does not name is an error (unless the schema keeps unknown fields).
 */
function crdValidator(file: string) {
  const crd = parseAllDocuments(fs.readFileSync(path.join(CRD_DIR, file), 'utf-8'))[0].toJS();
  const version = crd.spec.versions.find((v: any) => v.name === 'v1');
  const strict = (s: any): void => {
    if (s === null || typeof s !== 'object') return;
    // Go's inline flags, e.g. `(?i)`, are no JavaScript syntax: such a pattern is left to the API server
    if (typeof s.pattern === 'string' && s.pattern.includes('(?')) delete s.pattern;
    if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) s.additionalProperties = false;
    Object.values(s.properties ?? {}).forEach(strict);
    if (s.items) strict(s.items);
    if (typeof s.additionalProperties === 'object') strict(s.additionalProperties);
  };
  const schema = version.schema.openAPIV3Schema;
  strict(schema);
  // metadata is the API server's ObjectMeta, not described by the CRD
  schema.properties.metadata = { type: 'object' };
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  return (m: any): string[] => (validate(m) ? [] : (validate.errors ?? []).map((e) => `${m.kind}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}
const podMonitorErrors = crdValidator('monitoring.coreos.com_podmonitors.yaml');
const ruleErrors = crdValidator('monitoring.coreos.com_prometheusrules.yaml');

const ENGINES: Array<[string, () => DatabaseEngine, number | undefined, number]> = [
  ['postgresql', () => DatabaseEngine.postgresql(), 9187, 9187],
  ['mysql', () => DatabaseEngine.mysql(), 9104, 9104],
  ['mariadb-galera', () => DatabaseEngine.mariadbGalera(), 9104, 9104],
  ['redis', () => DatabaseEngine.redis(), 9121, 9121],
  ['zookeeper', () => DatabaseEngine.zookeeper(), undefined, 7000],
];

function database(engine: DatabaseEngine, metrics?: DatabaseMetricsOptions, extra: object = {}): any[] {
  const c = chart('shop');
  const secret = kplus.Secret.fromSecretName(c, 'creds', 'db-credentials');
  new StatefulDatabase(c, 'db', { engine, credentials: { secret }, metrics, ...extra });
  return synth(c);
}

const containers = (manifests: any[]): any[] => find(manifests, 'StatefulSet').spec.template.spec.containers;

describe('metrics', () => {
  test('off by default: no exporter, no scrape target, no monitoring objects', () => {
    for (const [name, engine] of ENGINES) {
      const manifests = database(engine());
      // ZooKeeper's own sidecar `members` (the set's replica count), with or without metrics
      expect(containers(manifests).map((c) => c.name)).toEqual(name === 'zookeeper' ? ['main', 'members'] : ['main']);
      expect(manifests.filter((m) => m.apiVersion === 'monitoring.coreos.com/v1' || m.metadata.name.endsWith('-metrics') || m.metadata.name.endsWith('-dashboard'))).toEqual([]);
      expect(find(manifests, 'StatefulSet').spec.template.metadata.annotations).toBeUndefined();
    }
  });

  test.each(ENGINES)('%s: the metrics port, scraped by annotation, open to the scraper only', (name, engine, sidecarPort, port) => {
    const manifests = database(engine(), {});
    const sts = find(manifests, 'StatefulSet');
    expect(schemaErrors(sts)).toEqual([]);
    expect(sts.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    const ports = containers(manifests).flatMap((c) => (c.ports ?? []).map((p: any) => [c.name, p.name, p.containerPort]));
    expect(ports).toContainEqual([sidecarPort === undefined ? 'main' : 'metrics', 'metrics', port]);
    const policy = find(manifests, 'NetworkPolicy', 'db-metrics');
    expect(schemaErrors(policy)).toEqual([]);
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ port, protocol: 'TCP' }],
      }],
    });
    expect(manifests.some((m) => m.apiVersion === 'monitoring.coreos.com/v1')).toBe(false);
    expect(name).toBeTruthy();
  });

  test.each(ENGINES.filter(([, , sidecar]) => sidecar !== undefined))('%s: the exporter runs restricted, with a monitoring account and never the root password', (_name, engine) => {
    const manifests = database(engine(), {});
    const [main, exporter] = containers(manifests);
    expect(exporter.name).toBe('metrics');
    expect(exporter.image).toMatch(/:v\d+\.\d+\.\d+$/);
    expect(exporter.securityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, capabilities: { drop: ['ALL'] },
    });
    expect(exporter.readinessProbe).toBeUndefined(); // a slow scrape never takes the member out of its Services
    expect(Object.keys(exporter.resources.requests).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    const text = JSON.stringify(exporter);
    expect(text).not.toContain('root-password');
    expect(text).not.toContain('secretKeyRef'); // read from the Secret's files: no secret in the pod spec
    expect(text).toContain(`${StatefulDatabase.CREDENTIALS_PATH}/monitoring-password`);
    expect(text).not.toContain(`${StatefulDatabase.CREDENTIALS_PATH}/password`); // Redis's admin password
    expect(exporter.volumeMounts).toEqual([{ name: 'credentials', mountPath: StatefulDatabase.CREDENTIALS_PATH, readOnly: true }]);
    expect(main.name).toBe('main');
  });

  test('redis: the scripts get the keys of the exporter\'s ACL user (key names only), the Redis server config none of its own', () => {
    const manifests = database(DatabaseEngine.redis(), { usernameKey: 'mon-user', passwordKey: 'mon-pw' });
    const scripts = find(manifests, 'ConfigMap', 'db-scripts');
    expect(scripts.data['monitoring-user.keys']).toBe('mon-user\nmon-pw\n');
    expect(scripts.data['engine.conf']).toBeUndefined();
    expect(JSON.stringify(containers(manifests).find((c) => c.name === 'metrics').command)).toContain('REDIS_USER=\\"$(cat /run/secrets/db/mon-user)\\"');
    expect(database(DatabaseEngine.redis(), undefined).find((m) => m.kind === 'ConfigMap' && m.data['monitoring-user.keys'] !== undefined)).toBeUndefined();
  });

  test('zookeeper: the built-in Prometheus provider in zoo.cfg, on port 7000 of the server', () => {
    const manifests = database(DatabaseEngine.zookeeper(), {});
    expect(find(manifests, 'ConfigMap', 'db-scripts').data['engine.conf']).toBe(
      'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\nmetricsProvider.exportJvmInfo=true\n');
    expect(containers(manifests).map((c) => c.name)).toEqual(['main', 'members']); // no exporter: the server exports
  });

  test('the monitoring keys, exporter image and resources are the user\'s to choose', () => {
    const manifests = database(DatabaseEngine.postgresql(), {
      usernameKey: 'mon-user', passwordKey: 'mon-pass', exporterImage: 'registry.local/pg-exporter:v1.0.0',
      exporterResources: { memory: { limit: Size.mebibytes(256) } },
    });
    const exporter = containers(manifests)[1];
    expect(exporter.image).toBe('registry.local/pg-exporter:v1.0.0');
    expect(exporter.env).toEqual([
      { name: 'DATA_SOURCE_URI', value: '127.0.0.1:5432/postgres?sslmode=disable' },
      { name: 'DATA_SOURCE_USER_FILE', value: `${StatefulDatabase.CREDENTIALS_PATH}/mon-user` },
      { name: 'DATA_SOURCE_PASS_FILE', value: `${StatefulDatabase.CREDENTIALS_PATH}/mon-pass` },
    ]);
    expect(exporter.resources.limits.memory).toBe('256Mi');
    expect(exporter.resources.requests.memory).toBe('32Mi');
    expect(exporter.volumeMounts).toEqual([{ name: 'credentials', mountPath: StatefulDatabase.CREDENTIALS_PATH, readOnly: true }]);
  });

  test.each(ENGINES)('%s: PodMonitor and PrometheusRule, valid against the operator\'s CRDs, instead of annotations', (name, engine) => {
    const manifests = database(engine(), { prometheusOperator: true, prometheusLabels: { release: 'kps' }, backup: { cronJobName: 'db-backup', interval: Duration.hours(6) } });
    const monitor = find(manifests, 'PodMonitor', 'db');
    const rule = find(manifests, 'PrometheusRule', 'db');
    expect(podMonitorErrors(monitor)).toEqual([]);
    expect(ruleErrors(rule)).toEqual([]);
    expect(monitor.metadata.labels).toEqual({ release: 'kps' });
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(find(manifests, 'StatefulSet').spec.template.metadata.annotations).toBeUndefined();
    const alerts = rule.spec.groups[0].rules.map((r: any) => r.alert);
    expect(alerts).toEqual(expect.arrayContaining(['DatabaseMemberDown', 'DatabaseMembersNotReady', 'DatabaseVolumeFilling', 'DatabaseVolumeFullSoon', 'DatabaseBackupTooOld']));
    const specific: { [engine: string]: string[] } = {
      'postgresql': ['DatabaseReplicationBroken', 'DatabaseReplicationLagging', 'DatabaseFailover'],
      'mysql': ['DatabaseReplicationBroken', 'DatabaseReplicationLagging', 'DatabaseFailover'],
      'redis': ['DatabaseReplicationBroken', 'DatabaseReplicationLagging', 'DatabaseFailover'],
      'mariadb-galera': ['GaleraClusterSizeLow', 'GaleraNonPrimary'],
      'zookeeper': ['ZooKeeperLeaderCount', 'DatabaseFailover'],
    };
    expect(alerts).toEqual(expect.arrayContaining(specific[name]));
    expect(rule.spec.groups[0].rules.find((r: any) => r.alert === 'DatabaseBackupTooOld').expr)
      .toBe('time() - kube_cronjob_status_last_successful_time{namespace="shop",cronjob="db-backup"} > 43200');
  });

  test('the CRD check can fail: an unknown field and a wrong type are reported', () => {
    const manifests = database(DatabaseEngine.redis(), { prometheusOperator: true });
    const monitor = find(manifests, 'PodMonitor', 'db');
    expect(podMonitorErrors({ ...monitor, spec: { ...monitor.spec, podMetricsEndpoint: [] } })).toHaveLength(1);
    const rule = find(manifests, 'PrometheusRule', 'db');
    expect(ruleErrors({ ...rule, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up', for: 5 }] }] } })).toHaveLength(1);
  });

  test('every alert has a runbook line in docs/engines.md', () => {
    const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'engines.md'), 'utf-8');
    const alerts = new Set<string>();
    for (const [, engine] of ENGINES) {
      const rule = find(database(engine(), { prometheusOperator: true, backup: { cronJobName: 'b', interval: Duration.hours(1) } }), 'PrometheusRule', 'db');
      rule.spec.groups[0].rules.forEach((r: any) => alerts.add(r.alert));
    }
    for (const alert of alerts) expect({ alert, runbook: docs.includes(`| \`${alert}\` |`) }).toEqual({ alert, runbook: true });
  });

  test('the dashboard: Grafana JSON in a ConfigMap with the sidecar\'s label, or the user\'s', () => {
    for (const [name, engine] of ENGINES) {
      const cm = find(database(engine(), {}), 'ConfigMap', 'db-dashboard');
      expect(cm.metadata.labels).toEqual({ grafana_dashboard: '1' });
      const dashboard = JSON.parse(cm.data['shop-db.json']);
      expect(dashboard.tags).toEqual(['cdk8s-stateful', name]);
      expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
      dashboard.panels.forEach((p: any) => expect(p.targets[0].expr).not.toContain('$sel'));
    }
    const custom = find(database(DatabaseEngine.redis(), { dashboardLabels: { dashboards: 'databases' } }), 'ConfigMap', 'db-dashboard');
    expect(custom.metadata.labels).toEqual({ dashboards: 'databases' });
    expect(database(DatabaseEngine.redis(), { dashboard: false }).filter((m) => m.metadata.name === 'db-dashboard')).toEqual([]);
  });

  test('a scraper by address range; no metrics policy without the database\'s NetworkPolicy', () => {
    const policy = find(database(DatabaseEngine.redis(), { scraper: { cidr: '10.1.0.0/16' } }), 'NetworkPolicy', 'db-metrics');
    expect(policy.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '10.1.0.0/16' } }], ports: [{ port: 9121, protocol: 'TCP' }] }]);
    expect(database(DatabaseEngine.redis(), {}, { networkPolicy: false }).filter((m) => m.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('metrics of PostgreSQL backups (pgBackRest)', () => {
  const backup = (schedule: string, archiveTimeout?: Duration) => DatabaseEngine.postgresql({
    backup: { image: 'registry.example.com/postgres-pgbackrest:18.6-2.60.0', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/db' }, schedule, archiveTimeout },
  });
  const rules = (manifests: any[]) => Object.fromEntries(find(manifests, 'PrometheusRule', 'db').spec.groups[0].rules.map((r: any) => [r.alert, r]));

  test('the exporter reads the backup sidecar\'s table through a query file of the scripts ConfigMap, mounted read-only', () => {
    const manifests = database(backup('30 2 * * *'), {});
    const exporter = containers(manifests).find((c) => c.name === 'metrics');
    expect(exporter.args).toEqual(['--web.listen-address=:9187', '--extend.query-path=/opt/cdk8s-stateful/postgres-exporter-queries.yaml']);
    expect(exporter.volumeMounts).toEqual([
      { name: 'credentials', mountPath: StatefulDatabase.CREDENTIALS_PATH, readOnly: true },
      { name: 'scripts', mountPath: '/opt/cdk8s-stateful', readOnly: true },
    ]);
    const queries = parseAllDocuments(find(manifests, 'ConfigMap', 'db-scripts').data['postgres-exporter-queries.yaml'])[0].toJS();
    expect(queries.pgbackrest_backup.query).toMatch(/ FROM cdk8s_stateful\.backup_status$/);
    expect(queries.pgbackrest_backup.metrics.map((m: any) => [Object.keys(m)[0], Object.values<any>(m)[0].usage])).toEqual([
      ['repository', 'LABEL'], ['since_timestamp_seconds', 'GAUGE'], ['last_success_timestamp_seconds', 'GAUGE'], ['last_duration_seconds', 'GAUGE'],
      ['last_size_bytes', 'GAUGE'], ['last_failure_timestamp_seconds', 'GAUGE'], ['failures', 'GAUGE'],
    ]);
    // every column the query reads is one the sidecar creates (postgres-backup.sh)
    const script = fs.readFileSync(path.join(__dirname, '..', 'lib', 'database', 'engines', 'scripts', 'postgres-backup.sh'), 'utf-8');
    for (const column of ['repository', 'since', 'last_success', 'last_duration_seconds', 'last_size_bytes', 'last_failure', 'failures']) {
      expect(queries.pgbackrest_backup.query).toContain(column);
      expect(script).toMatch(new RegExp(`^  ${column} [a-z]`, 'm'));
    }
    expect(script).toContain('GRANT SELECT ON cdk8s_stateful.backup_status TO pg_monitor;');
    const dashboard = JSON.parse(Object.values<string>(find(manifests, 'ConfigMap', 'db-dashboard').data)[0]);
    expect(dashboard.panels.map((p: any) => p.targets[0].expr)).toContain('time() - max(pgbackrest_backup_last_success_timestamp_seconds{namespace="shop",pod=~"db-[0-9]+"} > 0)');
    // without backups: no query file, no mount
    const plain = database(DatabaseEngine.postgresql(), {});
    expect(containers(plain)[1].args).toEqual(['--web.listen-address=:9187']);
    expect(find(plain, 'ConfigMap', 'db-scripts').data['postgres-exporter-queries.yaml']).toBeUndefined();
  });

  test.each([
    ['30 2 * * *', 86400],
    ['0 */6 * * *', 6 * 3600],
    ['0 2,3 * * *', 23 * 3600],
    ['15 4 * * 0', 7 * 86400],
    ['0 1 1 * *', 31 * 86400],
    ['*/10 8-17 * * 1-5', (24 + 24 + 14) * 3600 + 10 * 60], // Friday 17:50 to Monday 08:00
    ['0 0 29 2 *', (4 * 365 + 1) * 86400],
  ])('the backup alert fires after twice the longest gap of %s', (schedule, gap) => {
    const alert = rules(database(backup(schedule), { prometheusOperator: true })).PostgresBackupLate;
    expect(alert.expr).toBe('time() - max by (namespace) (pgbackrest_backup_last_success_timestamp_seconds{namespace="shop",pod=~"db-[0-9]+"} > 0' +
      ` or pgbackrest_backup_since_timestamp_seconds{namespace="shop",pod=~"db-[0-9]+"}) > ${2 * gap}`);
    expect(alert.labels.severity).toBe('critical');
  });

  test('the backup alerts, their thresholds from the schedule and archiveTimeout or from alertThresholds; none without backups', () => {
    const r = rules(database(backup('0 */6 * * *', Duration.minutes(10)), { prometheusOperator: true }));
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['PostgresBackupLate', 'PostgresBackupFailed', 'PostgresWalArchivingFailing', 'PostgresWalArchivingStalled']));
    expect(r.PostgresBackupLate.annotations.summary).toBe('shop/db has had no successful full backup for more than 12h.');
    expect(r.PostgresBackupFailed.expr).toBe('max by (namespace) (pgbackrest_backup_failures{namespace="shop",pod=~"db-[0-9]+"}) > 0');
    // three times archiveTimeout (10m): 30m; failing: failures within 30m and nothing archived for longer
    const failing = 'increase(pg_stat_archiver_failed_count{namespace="shop",pod=~"db-[0-9]+"}[30m]) > 0';
    expect(r.PostgresWalArchivingFailing.for).toBeUndefined();
    expect(r.PostgresWalArchivingFailing.expr).toBe(`${failing} and on (namespace, pod) pg_stat_archiver_last_archive_age{namespace="shop",pod=~"db-[0-9]+"} > 1800`);
    // stalled: the same age while rows are written, but no attempt failed
    expect(r.PostgresWalArchivingStalled.expr).toMatch(/^pg_stat_archiver_last_archive_age\{namespace="shop",pod=~"db-\[0-9\]\+"\} > 1800 and on \(namespace, pod\) pg_replication_is_replica\{.*\} == 0 and on \(namespace, pod\) sum by \(namespace, pod\) \(rate\(pg_stat_database_tup_inserted\{.*\}\[5m\]\) \+ rate\(pg_stat_database_tup_updated.* \+ rate\(pg_stat_database_tup_deleted.*\) > 0 unless on \(namespace, pod\) /);
    expect(r.PostgresWalArchivingStalled.expr.endsWith(` unless on (namespace, pod) ${failing}`)).toBe(true);
    // the default archiveTimeout (1m): at least 10m
    const defaults = rules(database(backup('0 */6 * * *'), { prometheusOperator: true }));
    expect(defaults.PostgresWalArchivingStalled.expr).toContain('> 600 and');
    expect(defaults.PostgresWalArchivingFailing.expr).toMatch(/\[10m\]\) > 0 and .* > 600$/);
    const set = rules(database(backup('0 */6 * * *'), { prometheusOperator: true, alertThresholds: { backupAge: Duration.hours(30), walArchiveAge: Duration.minutes(20) } }));
    expect(set.PostgresBackupLate.expr).toMatch(/\) > 108000$/);
    expect(set.PostgresWalArchivingStalled.expr).toContain('> 1200 and');
    expect(set.PostgresWalArchivingFailing.expr).toMatch(/\[20m\]\) > 0 and .* > 1200$/);
    expect(Object.keys(rules(database(DatabaseEngine.postgresql(), { prometheusOperator: true }))).filter((a) => a.startsWith('PostgresBackup') || a.startsWith('PostgresWal'))).toEqual([]);
  });
});

describe('metrics of Redis snapshots (served by the backup sidecar itself)', () => {
  const snapshots = (schedule: string) => DatabaseEngine.redis({
    backup: { image: 'registry.example.com/redis-rclone:8.2.1', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/db' }, schedule },
  });
  const rules = (manifests: any[]) => Object.fromEntries(find(manifests, 'PrometheusRule', 'db').spec.groups[0].rules.map((r: any) => [r.alert, r]));
  const sel = '{namespace="shop",pod=~"db-[0-9]+"}';

  test('the sidecar declares its metrics port (on no Service) and records on the data volume; the shared script is in the ConfigMap', () => {
    const manifests = database(snapshots('0 */6 * * *'));
    const sidecar = containers(manifests).find((c) => c.name === 'backup');
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    const env = Object.fromEntries(sidecar.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ BACKUP_METRICS_DIR: '/data/.cdk8s-backup-metrics', BACKUP_METRICS_PORT: '9188' });
    const servicePorts = manifests.filter((m) => m.kind === 'Service').flatMap((s) => s.spec.ports.map((p: any) => p.port));
    expect(servicePorts.length).toBeGreaterThan(0);
    expect(servicePorts).not.toContain(9188);
    const scripts = find(manifests, 'ConfigMap', 'db-scripts');
    expect(scripts.data['backup-metrics.sh']).toBe(fs.readFileSync(path.join(__dirname, '..', 'lib', 'database', 'engines', 'scripts', 'backup-metrics.sh'), 'utf-8'));
  });

  test('the scraper may reach both metrics ports; the PodMonitor scrapes both; the dashboard shows the snapshots', () => {
    const manifests = database(snapshots('0 */6 * * *'), { prometheusOperator: true });
    const policy = find(manifests, 'NetworkPolicy', 'db-metrics');
    expect(policy.spec.ingress[0].ports).toEqual([{ port: 9121, protocol: 'TCP' }, { port: 9188, protocol: 'TCP' }]);
    const monitor = find(manifests, 'PodMonitor', 'db');
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '30s' }, { port: 'backup-metrics', path: '/metrics', interval: '30s' }]);
    expect(podMonitorErrors(monitor)).toEqual([]);
    const dashboard = JSON.parse(Object.values<string>(find(manifests, 'ConfigMap', 'db-dashboard').data)[0]);
    const exprs = dashboard.panels.map((p: any) => p.targets[0].expr);
    expect(exprs).toContain(`time() - max(cdk8s_backup_last_success_timestamp_seconds${sel} > 0)`);
    expect(exprs).toContain(`max(cdk8s_backup_last_size_bytes${sel})`);
    expect(exprs.filter((e: string) => e.includes('pgbackrest'))).toEqual([]);
    // the exporter gets no backup query: Redis's exporter knows nothing of the snapshots
    expect(containers(manifests).find((c) => c.name === 'metrics').args).toBeUndefined();
  });

  test.each([
    ['0 */6 * * *', 6 * 3600],
    ['30 2 * * *', 86400],
    ['*/5 * * * *', 300],
  ])('the late alert fires after twice the longest gap of %s, or after backupAge', (schedule, gap) => {
    const r = rules(database(snapshots(schedule), { prometheusOperator: true }));
    expect(r.DatabaseBackupLate.expr).toBe(`time() - max by (namespace) (cdk8s_backup_last_success_timestamp_seconds${sel} > 0 or cdk8s_backup_since_timestamp_seconds${sel}) > ${2 * gap}`);
    expect(r.DatabaseBackupFailed.expr).toBe(`max by (namespace) (cdk8s_backup_consecutive_failures${sel}) > 0`);
    expect(Object.keys(r).filter((a) => a.startsWith('Postgres'))).toEqual([]);
    const set = rules(database(snapshots(schedule), { prometheusOperator: true, alertThresholds: { backupAge: Duration.hours(30) } }));
    expect(set.DatabaseBackupLate.expr).toMatch(/\) > 108000$/);
  });

  test('with Sentinel: the backup sidecar beside the Sentinel ones, told the local Sentinel\'s port and the set\'s name; the same alerts', () => {
    const engine = DatabaseEngine.redis({
      sentinel: {},
      backup: { image: 'registry.example.com/redis-rclone:8.2.1', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/db' }, schedule: '0 */6 * * *' },
    });
    const manifests = database(engine, { prometheusOperator: true }, { replicas: 3 });
    expect(containers(manifests).map((c) => c.name)).toEqual(['main', 'sentinel', 'role', 'backup', 'metrics']);
    const sidecar = containers(manifests).find((c) => c.name === 'backup');
    const env = Object.fromEntries(sidecar.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ SENTINEL_PORT: '26379', SET_NAME: 'db', BACKUP_SCHEDULE: '0 */6 * * *', BACKUP_METRICS_PORT: '9188' });
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    expect(Object.keys(rules(manifests))).toEqual(expect.arrayContaining(['DatabaseBackupLate', 'DatabaseBackupFailed']));
    // every container runs the image with rclone, the Sentinel's too
    expect(containers(manifests).find((c) => c.name === 'sentinel').image).toBe('registry.example.com/redis-rclone:8.2.1');
  });

  test('MariaDB Galera backups: the same sidecar record and port (outside the data directory), PodMonitor endpoint and alerts', () => {
    const engine = DatabaseEngine.mariadbGalera({
      backup: { image: 'registry.example.com/mariadb-rclone:11.8.3', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/db' }, schedule: '0 */6 * * *' },
    });
    const manifests = database(engine, { prometheusOperator: true }, { replicas: 3 });
    const sidecar = containers(manifests).find((c) => c.name === 'backup');
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    const env = Object.fromEntries(sidecar.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    // on the volume, beside the server's data directory (a directory inside it would be a database to the server)
    expect(env).toMatchObject({ DATA_DIR: '/var/lib/mysql/data', BACKUP_METRICS_DIR: '/var/lib/mysql/.cdk8s-backup-metrics', BACKUP_METRICS_PORT: '9188' });
    expect(find(manifests, 'PodMonitor', 'db').spec.podMetricsEndpoints.map((e: any) => e.port)).toEqual(['metrics', 'backup-metrics']);
    expect(find(manifests, 'NetworkPolicy', 'db-metrics').spec.ingress[0].ports.map((p: any) => p.port)).toEqual([9104, 9188]);
    const r = rules(manifests);
    expect(r.DatabaseBackupLate.expr).toBe(`time() - max by (namespace) (cdk8s_backup_last_success_timestamp_seconds${sel} > 0 or cdk8s_backup_since_timestamp_seconds${sel}) > ${2 * 6 * 3600}`);
    expect(r.DatabaseBackupFailed.expr).toBe(`max by (namespace) (cdk8s_backup_consecutive_failures${sel}) > 0`);
  });

  test('a binary log archive (MySQL, MariaDB Galera): DatabaseBinlogArchiveLate on its archived-until series, three times the interval (at least 10 minutes) or walArchiveAge', () => {
    const backup = { image: 'registry.example.com/mysql-rclone:9.7.4', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/db' }, schedule: '0 2 * * *' };
    const late = (engine: DatabaseEngine, options: any = {}) => rules(database(engine, { prometheusOperator: true, ...options }, { replicas: 3 })).DatabaseBinlogArchiveLate?.expr;
    expect(late(DatabaseEngine.mysql({ backup: { ...backup, binlogArchiveInterval: Duration.minutes(5) } })))
      .toBe(`time() - max by (namespace) (cdk8s_binlog_archived_until_timestamp_seconds${sel} > 0 or cdk8s_backup_since_timestamp_seconds${sel}) > 900`);
    expect(late(DatabaseEngine.mysql({ backup: { ...backup, binlogArchiveInterval: Duration.minutes(1) } }))).toMatch(/\) > 600$/);
    expect(late(DatabaseEngine.mariadbGalera({ backup: { ...backup, binlogArchiveInterval: Duration.minutes(1) } }), { alertThresholds: { walArchiveAge: Duration.minutes(30) } })).toMatch(/\) > 1800$/);
    // without the archive, no such alert
    expect(late(DatabaseEngine.mysql({ backup }))).toBeUndefined();
    const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'engines.md'), 'utf-8');
    expect(docs).toContain('| `DatabaseBinlogArchiveLate` |');
  });

  test('ZooKeeper backups: the sidecar record on the data volume and its port, a PodMonitor endpoint beside ZooKeeper\'s own, the same alerts', () => {
    const engine = DatabaseEngine.zookeeper({
      backup: { image: 'registry.example.com/zookeeper-rclone:3.9.5', repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/shop/zk' }, schedule: '0 * * * *' },
    });
    const manifests = database(engine, { prometheusOperator: true }, { replicas: 3 });
    const sidecar = containers(manifests).find((c) => c.name === 'backup');
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    const env = Object.fromEntries(sidecar.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ DATA_DIR: '/data', BACKUP_METRICS_DIR: '/data/.cdk8s-backup-metrics', BACKUP_METRICS_PORT: '9188' });
    expect(find(manifests, 'PodMonitor', 'db').spec.podMetricsEndpoints.map((e: any) => e.port)).toEqual(['metrics', 'backup-metrics']);
    expect(find(manifests, 'NetworkPolicy', 'db-metrics').spec.ingress[0].ports.map((p: any) => p.port)).toContain(9188);
    const r = rules(manifests);
    expect(r.DatabaseBackupLate.expr).toBe(`time() - max by (namespace) (cdk8s_backup_last_success_timestamp_seconds${sel} > 0 or cdk8s_backup_since_timestamp_seconds${sel}) > ${2 * 3600}`);
    expect(r.DatabaseBackupFailed.expr).toBe(`max by (namespace) (cdk8s_backup_consecutive_failures${sel}) > 0`);
  });

  test('no snapshots, no backup alerts; the runbook names both', () => {
    expect(Object.keys(rules(database(DatabaseEngine.redis(), { prometheusOperator: true }))).filter((a) => /Backup/.test(a))).toEqual([]);
    const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'engines.md'), 'utf-8');
    for (const alert of ['DatabaseBackupLate', 'DatabaseBackupFailed']) expect({ alert, runbook: docs.includes(`| \`${alert}\` |`) }).toEqual({ alert, runbook: true });
  });
});
