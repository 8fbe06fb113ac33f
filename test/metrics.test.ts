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
    for (const [, engine] of ENGINES) {
      const manifests = database(engine());
      expect(containers(manifests).map((c) => c.name)).toEqual(['main']);
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

  test.each(ENGINES.filter(([, , sidecar]) => sidecar !== undefined))('%s: the exporter runs restricted, with a monitoring account and never the root password', (name, engine) => {
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
    expect(text).toContain(`${StatefulDatabase.CREDENTIALS_PATH}/${name === 'redis' ? 'password' : 'monitoring-password'}`);
    expect(exporter.volumeMounts).toEqual([{ name: 'credentials', mountPath: StatefulDatabase.CREDENTIALS_PATH, readOnly: true }]);
    expect(main.name).toBe('main');
  });

  test('zookeeper: the built-in Prometheus provider in zoo.cfg, on port 7000 of the server', () => {
    const manifests = database(DatabaseEngine.zookeeper(), {});
    expect(find(manifests, 'ConfigMap', 'db-scripts').data['engine.conf']).toBe(
      'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\nmetricsProvider.exportJvmInfo=true\n');
    expect(containers(manifests).map((c) => c.name)).toEqual(['main']);
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
