import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { PodMonitor, PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/monitoring.coreos.com';
import type { EngineBackupMetrics } from '../database/engine-definition';
import { resolveResources, ResolvedResources } from '../database/private/container-resources';
import { show } from '../errors';
import { kube } from '../render';
import { PropValidator } from '../prop-validator';
import { AlertContext, alertGroups } from './alerts';
import { BackupPanels, dashboardJson } from './dashboards';
import { EXPORTER_FILES_PATH, MetricsSource, metricsSource } from './exporters';
import { DatabaseMetricsOptions } from './metrics-props';
import { backupAlertThresholds, ResolvedMetrics, resolveMetrics } from './resolve-metrics';

/** The exporter's requests and limits before the user's `exporterResources`. */
const EXPORTER_RESOURCES: ResolvedResources = {
  cpu: { request: '10m', limit: '200m' },
  memory: { request: '32Mi', limit: '128Mi' },
  ephemeralStorage: { request: '8Mi', limit: '64Mi' },
};
/** The user the exporter sidecars run as (`nobody`, as the upstream images do). */
const EXPORTER_USER = 65534;

/** What the metrics of a database are attached to. */
export interface MetricsTarget {
  /** The database's name (the StatefulSet's). */
  readonly name: string;
  /** Its namespace. */
  readonly namespaceName: string;
  /** The engine preset's name, e.g. `redis`. */
  readonly engineName: string;
  /** The number of members. */
  readonly replicas: number;
  /** The labels that select the database's pods. */
  readonly selectorLabels: { [key: string]: string };
  /** The names of the claim templates (the volume alerts watch them). */
  readonly claimTemplates: string[];
  /** Where the credentials Secret is mounted in the pods. */
  readonly credentialsPath: string;
  /** The key of the Redis preset's admin password (`requirepass`), which the monitoring user must not share. */
  readonly redisPasswordKey: string;
  /** Whether the database has a NetworkPolicy (the scraper then gets one of its own). */
  readonly networkPolicy: boolean;
  /** The StatefulSet the exporter sidecar joins. */
  readonly statefulSet: ApiObject;
  /** The scripts ConfigMap, when the engine has one. */
  readonly scripts?: ApiObject;
  /** The engine settings the scripts ConfigMap holds already (`engine.conf`). */
  readonly engineConfig?: string;
  /** The engine's own backups, when it takes them (their state is in the database). */
  readonly backupMetrics?: EngineBackupMetrics;
}

/**
 * The scrape annotations a database's pods get with `metrics`, checked: the StatefulDatabase adds
 * them to its pod annotations before it renders the pods.
 */
export function metricsPodAnnotations(check: PropValidator, engineName: string, options: DatabaseMetricsOptions | undefined): { [key: string]: string } {
  if (options === undefined) return {};
  const resolved = resolveMetrics(check, engineName, options);
  if (!resolved.scrapeAnnotations) return {};
  const source = metricsSource(resolved.engine, { usernameKey: '', passwordKey: '', credentialsPath: '' });
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(source.port), 'prometheus.io/path': '/metrics' };
}

/**
 * A database's metrics: the exporter sidecar (or ZooKeeper's built-in provider) on a port named
 * `metrics`, a NetworkPolicy that lets only the scraper reach it, the Prometheus Operator's
 * PodMonitor and PrometheusRule on request, and a Grafana dashboard ConfigMap.
 */
export class DatabaseMetrics extends Construct {
  /** The metrics port. */
  public readonly port: number;
  /** The port on which the backup sidecar serves its outcome, when it does (`backup-metrics`). */
  public readonly backupPort?: number;
  /** The PodMonitor, with `prometheusOperator`. */
  public readonly podMonitor?: ApiObject;
  /** The PrometheusRule, with `prometheusOperator`. */
  public readonly prometheusRule?: ApiObject;
  /** The dashboard ConfigMap, unless `dashboard: false`. */
  public readonly dashboard?: ApiObject;
  /** The NetworkPolicy that lets the scraper in, when the database has its NetworkPolicy. */
  public readonly networkPolicy?: ApiObject;

  constructor(scope: Construct, id: string, target: MetricsTarget, options: DatabaseMetricsOptions) {
    super(scope, id);
    const check = new PropValidator(scope, 'StatefulDatabase');
    const m = resolveMetrics(check, target.engineName, options);
    if (m.engine === 'redis') checkRedisAccount(check, m, target.redisPasswordKey);
    const resources = resolveResources(check, 'metrics.exporterResources', options.exporterResources, EXPORTER_RESOURCES);
    const source = metricsSource(m.engine, {
      image: m.exporterImage,
      usernameKey: m.usernameKey,
      passwordKey: m.passwordKey,
      credentialsPath: target.credentialsPath,
      backupState: target.backupMetrics !== undefined && target.backupMetrics.port === undefined,
    });
    const engineBackup = backupAlertThresholds(check, target.backupMetrics, options);
    this.port = source.port;
    addToPods(target, source, resources);
    const backupPort = target.backupMetrics?.port;
    this.backupPort = backupPort?.port;
    if (target.networkPolicy) this.networkPolicy = scrapePolicy(this, target, m, [source.port, ...(backupPort ? [backupPort.port] : [])]);
    if (m.prometheusOperator) {
      this.podMonitor = podMonitor(this, target, m, backupPort?.name);
      this.prometheusRule = prometheusRule(this, target, m, engineBackup);
    }
    if (m.dashboardLabels) this.dashboard = dashboardConfigMap(this, target, m);
  }
}

/** Redis: the exporter's ACL user is its own, never the admin's `requirepass` password. */
function checkRedisAccount(check: PropValidator, m: ResolvedMetrics, adminKey: string): void {
  for (const [what, key] of [['usernameKey', m.usernameKey], ['passwordKey', m.passwordKey]]) {
    if (key === adminKey) {
      check.fail(`metrics.${what} is ${show(key)}, the key of the Redis admin password (requirepass): the exporter must not hold it. ` +
        "Fix: give the monitoring user keys of its own, e.g. 'monitoring-username' and 'monitoring-password' (the defaults), and add them to the Secret.");
    }
  }
}

/** The sidecar (or ZooKeeper's settings and port) added to the StatefulSet's pods. */
function addToPods(target: MetricsTarget, source: MetricsSource, resources: ResolvedResources): void {
  const port = { name: 'metrics', containerPort: source.port, protocol: 'TCP' };
  if (source.serverConfig) {
    target.statefulSet.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/ports/-', port));
    const lines = [...(target.engineConfig ? [target.engineConfig.replace(/\n$/, '')] : []), ...source.serverConfig];
    target.scripts?.addJsonPatch(JsonPatch.add('/data/engine.conf', lines.join('\n') + '\n'));
  }
  // the engine's and the exporter's files join the scripts ConfigMap; the exporter's are mounted
  // read-only in its container
  for (const [file, text] of Object.entries({ ...source.scriptFiles, ...source.files })) {
    target.scripts?.addJsonPatch(JsonPatch.add(`/data/${file}`, text));
  }
  const exporter = source.exporter;
  if (!exporter) return;
  const files = Object.entries(source.files ?? {});
  target.statefulSet.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/-', {
    name: 'metrics',
    image: exporter.image,
    imagePullPolicy: 'IfNotPresent',
    command: exporter.command,
    args: exporter.args.length > 0 ? exporter.args : undefined,
    env: exporter.env.length > 0 ? exporter.env : undefined,
    ports: [port],
    // no readiness probe: a slow scrape must never take the member out of its Services
    livenessProbe: { tcpSocket: { port: source.port }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
    // the account's files, read-only; the pod's fsGroup lets the exporter's user read them
    volumeMounts: [{ name: 'credentials', mountPath: target.credentialsPath, readOnly: true },
      ...(files.length > 0 && target.scripts ? [{ name: 'scripts', mountPath: EXPORTER_FILES_PATH, readOnly: true }] : [])],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: EXPORTER_USER,
      runAsGroup: EXPORTER_USER,
      capabilities: { drop: ['ALL'] },
    },
    resources: {
      requests: { 'cpu': resources.cpu.request, 'memory': resources.memory.request, 'ephemeral-storage': resources.ephemeralStorage.request },
      limits: { 'cpu': resources.cpu.limit, 'memory': resources.memory.limit, 'ephemeral-storage': resources.ephemeralStorage.limit },
    },
  }));
}

/** Ingress from the scraper to the metrics ports (the exporter's, the backup sidecar's), nothing else (NetworkPolicies add up). */
function scrapePolicy(scope: Construct, target: MetricsTarget, m: ResolvedMetrics, ports: number[]): ApiObject {
  const s = m.scraper;
  const peer: k8s.NetworkPolicyPeer = s.cidr !== undefined ? { ipBlock: { cidr: s.cidr } } : {
    podSelector: { matchLabels: s.podLabels && Object.keys(s.podLabels).length > 0 ? s.podLabels : undefined },
    namespaceSelector: s.namespaceLabels ? { matchLabels: Object.keys(s.namespaceLabels).length > 0 ? s.namespaceLabels : undefined } : undefined,
  };
  return kube(k8s.KubeNetworkPolicy, scope, 'NetworkPolicy', {
    metadata: { name: `${target.name}-metrics` },
    spec: {
      podSelector: { matchLabels: target.selectorLabels },
      policyTypes: ['Ingress'],
      ingress: [{ from: [peer], ports: ports.map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })) }],
    },
  });
}

/** The PodMonitor: the exporter's port, and the backup sidecar's (BACKUPPORT, by name) when it serves one. */
function podMonitor(scope: Construct, target: MetricsTarget, m: ResolvedMetrics, backupPort: string | undefined): ApiObject {
  return new PodMonitor(scope, 'PodMonitor', {
    metadata: { name: target.name, labels: Object.keys(m.prometheusLabels).length > 0 ? m.prometheusLabels : undefined },
    spec: {
      selector: { matchLabels: target.selectorLabels },
      podMetricsEndpoints: ['metrics', ...(backupPort ? [backupPort] : [])].map((port) => ({ port, path: '/metrics', interval: '30s' })),
    },
  });
}

function prometheusRule(scope: Construct, target: MetricsTarget, m: ResolvedMetrics, engineBackup: AlertContext['engineBackup']): ApiObject {
  const groups = alertGroups({ ...m.thresholds, engineBackup, engine: m.engine, namespace: target.namespaceName, name: target.name, replicas: target.replicas, claimTemplates: target.claimTemplates });
  return new PrometheusRule(scope, 'PrometheusRule', {
    metadata: { name: target.name, labels: Object.keys(m.prometheusLabels).length > 0 ? m.prometheusLabels : undefined },
    spec: {
      groups: groups.map((g) => ({
        name: g.name,
        rules: g.rules.map((r) => ({ ...r, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr) })),
      })),
    },
  });
}

/** Which backup panels the dashboard gets: the sidecar's own series, the exporter's (PostgreSQL), or none. */
function backupPanels(target: MetricsTarget): BackupPanels | undefined {
  if (!target.backupMetrics) return undefined;
  return target.backupMetrics.port ? 'sidecar' : 'exporter';
}

function dashboardConfigMap(scope: Construct, target: MetricsTarget, m: ResolvedMetrics): ApiObject {
  return kube(k8s.KubeConfigMap, scope, 'Dashboard', {
    metadata: { name: `${target.name}-dashboard`, labels: m.dashboardLabels },
    data: { [`${target.namespaceName}-${target.name}.json`]: dashboardJson(m.engine, target.namespaceName, target.name, target.claimTemplates, backupPanels(target)) },
  });
}
