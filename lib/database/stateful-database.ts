import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { show } from '../errors';
import { DatabaseMetrics, metricsPodAnnotations } from '../monitoring/database-metrics';
import { Connections } from '../network/connections';
import { IPodSelectorLike, NetworkPolicyPeerConfigLike, PodSelectorConfigLike } from '../network/peer';
import { HeadlessService } from '../network/headless-service';
import { PropValidator } from '../prop-validator';
import { addWarning } from '../synth-checks';
import { DatabaseEngine } from './engine';
import { accessRole, clientServices, disruptionBudget, scriptsConfigMap, serviceAccount, statefulSet } from './private/render-database';
import { CREDENTIALS_PATH } from './private/resolve-env';
import { resolveSpec } from './private/resolve-spec';
import { ChangeApprovals, StatefulDatabaseProps } from './stateful-database-props';

/**
 * A StatefulSet with everything a stateful service needs: per-replica claims, a headless Service
 * for stable pod DNS names, a client Service, ordered init containers, probes, resources,
 * credentials from a Secret, a PodDisruptionBudget, anti-affinity and a restricted security
 * context. Nothing it emits deletes data unless you ask in so many words.
 *
 * ```ts
 * const db = new StatefulDatabase(chart, 'web', {
 *   engine: DatabaseEngine.custom({ image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 8080 }] }),
 *   replicas: 2,
 *   storage: { name: 'www', pool, mountPath: '/usr/share/nginx/html', size: Size.gibibytes(1) },
 * });
 * db.podDnsName(0); // web-0.web-headless.default.svc.cluster.local
 * ```
 *
 * It is a pod selector and network-policy peer of every cdk8s-plus line (its members, in its
 * namespace): `deployment.connections.allowTo(db)` and `new kplus.NetworkPolicy(chart, 'np', { selector: db })`
 * with the `kplus` of cdk8s-plus-27, -33 or a later line of the same shape, in TypeScript,
 * JavaScript and Python. (Java, C# and Go type a peer by one line's interface, which the library
 * cannot implement for every line: there open the database with `db.connections.allowFrom(workload)`.)
 */
export class StatefulDatabase extends Construct implements IPodSelectorLike {
  /**
   * Where the credentials Secret is mounted, read-only, in every container: `<path>/<key>`.
   * The official images read their passwords from such files (`MARIADB_ROOT_PASSWORD_FILE`,
   * `POSTGRES_PASSWORD_FILE`, ...), which keeps them out of the environment, where they would leak
   * into process listings and crash reports.
   */
  public static readonly CREDENTIALS_PATH: string = CREDENTIALS_PATH;

  /** The StatefulSet's name. */
  public readonly name: string;
  /** Replica count. */
  public readonly replicas: number;
  /** The first ordinal. */
  public readonly startOrdinal: number;
  /** The headless Service peers use. */
  public readonly headlessService: HeadlessService;
  /** The client Service, unless disabled; with a single-writer engine it selects the primary only. */
  public readonly clientService?: ApiObject;
  /** The read Service `<name>-read` over every member, for single-writer engines (MySQL, PostgreSQL, Redis). */
  public readonly readService?: ApiObject;
  /** Synth-time warnings (also node metadata of type `warning`), e.g. an even-sized quorum. */
  public readonly warnings: string[] = [];
  /** The PodDisruptionBudget, unless `podDisruptionBudget: false`. */
  public readonly podDisruptionBudget?: ApiObject;
  /** The ServiceAccount, with `createServiceAccount`. */
  public readonly serviceAccount?: ApiObject;
  /** The Role of what the engine does with the Kubernetes API (bound to `serviceAccount`), for an engine that uses it. */
  public readonly apiRole?: ApiObject;
  /** The ConfigMap of engine scripts, if the engine has any. */
  public readonly scripts?: ApiObject;
  /** The L1 StatefulSet; also reachable as `ApiObject.of(this)`. */
  public readonly resource: ApiObject;
  /** The labels that select the pods. */
  public readonly selectorLabels: { [key: string]: string };
  /** Names of the claim templates, data first. */
  public readonly claimTemplateNames: string[];
  /** The namespace (the chart's, or `default`). */
  public readonly namespaceName: string;
  /** Who may connect: `db.connections.allowFrom(workload)`. Undefined with `networkPolicy: false`. */
  public readonly connections?: Connections;
  /** The engine the members run. */
  public readonly engine: DatabaseEngine;
  /** The changes to the deployed set this database approves (`changeApprovals`), for the {@link ChangeGuard}. */
  public readonly changeApprovals: ChangeApprovals;
  /** The metrics (exporter, scrape target, alerts, dashboard), with `metrics`. */
  public readonly metrics?: DatabaseMetrics;

  constructor(scope: Construct, id: string, props: StatefulDatabaseProps) {
    super(scope, id);
    // every check in one place (private/resolve-*.ts); what follows only renders what it returns
    const spec = resolveSpec(this, id, withScrapeAnnotations(this, props));
    const { identity } = spec;
    this.name = identity.name;
    this.replicas = identity.replicas;
    this.startOrdinal = identity.startOrdinal;
    this.namespaceName = identity.namespaceName;
    this.selectorLabels = identity.selectorLabels;
    this.engine = identity.engine;
    this.changeApprovals = { ...props.changeApprovals };
    this.claimTemplateNames = spec.claims.claims.map((c) => c.name);
    spec.warnings.forEach((w) => this.warn(w));
    spec.claims.poolClaims.forEach(({ pool, claims }) => pool.addClaims(claims));

    this.headlessService = new HeadlessService(this, 'Headless', {
      name: identity.headlessServiceName,
      selector: identity.selectorLabels,
      ports: identity.servicePorts.map((p) => ({ ...p, protocol: p.protocol as kplus.Protocol })),
      statefulSetName: identity.name,
      clusterDomain: identity.clusterDomain,
    });
    this.scripts = scriptsConfigMap(this, spec);
    this.serviceAccount = serviceAccount(this, spec);
    this.apiRole = accessRole(this, spec);
    this.resource = statefulSet(this, spec);
    const services = clientServices(this, spec);
    this.clientService = services.client;
    this.readService = services.read;
    const policy = spec.services.networkPolicy;
    if (policy) {
      this.connections = new Connections(this, 'Connections', {
        name: identity.name,
        selector: identity.selectorLabels,
        clientPorts: identity.clientPorts.map((p) => ({ port: p.targetPort })),
        peerPorts: identity.servicePorts.map((p) => ({ port: p.targetPort })),
        dns: policy.dns,
        apiServer: policy.apiServer,
        egress: policy.egress,
      });
    }
    this.podDisruptionBudget = disruptionBudget(this, spec);
    this.metrics = props.metrics && new DatabaseMetrics(this, 'Metrics', {
      name: identity.name,
      namespaceName: identity.namespaceName,
      engineName: identity.engine.name,
      replicas: identity.replicas,
      selectorLabels: identity.selectorLabels,
      claimTemplates: this.claimTemplateNames,
      credentialsPath: CREDENTIALS_PATH,
      redisPasswordKey: props.credentials?.passwordKey ?? 'password',
      networkPolicy: policy !== undefined,
      statefulSet: this.resource,
      scripts: this.scripts,
      engineConfig: spec.containers.scriptsConfigMap?.files['engine.conf'],
      backupMetrics: spec.binding.backupMetrics,
    }, props.metrics);
  }

  /**
   * The members for cdk8s-plus: their selector labels, in the database's namespace when the chart
   * has one. Every cdk8s-plus line reads it (see {@link PodSelectorConfigLike}).
   */
  public toPodSelectorConfig(): PodSelectorConfigLike {
    const namespace = Chart.of(this).namespace;
    return {
      labelSelector: kplus.LabelSelector.of({ labels: this.selectorLabels }),
      namespaces: namespace !== undefined ? { names: [namespace] } : undefined,
    };
  }

  /** The members as a network-policy peer of any cdk8s-plus line. */
  public toNetworkPolicyPeerConfig(): NetworkPolicyPeerConfigLike {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** The database itself: it selects its members. */
  public toPodSelector(): IPodSelectorLike | undefined {
    return this;
  }

  /**
   * Records a synth-time warning: in `warnings`, as node metadata of type `warning`, printed once
   * on stderr at synth, and an error in strict mode (`SynthChecks.strict(app)`).
   */
  private warn(message: string): void {
    this.warnings.push(addWarning(this, 'StatefulDatabase', message));
  }

  /**
   * The DNS name of the pod with this ordinal: `<set>-<n>.<headless>.<namespace>.svc.<clusterDomain>`.
   * An ordinal outside `startOrdinal … startOrdinal + replicas - 1` names a pod that never exists
   * and fails.
   */
  public podDnsName(ordinal: number): string {
    const last = this.startOrdinal + this.replicas - 1;
    if (typeof ordinal !== 'number' || !Number.isInteger(ordinal) || ordinal < this.startOrdinal || ordinal > last) {
      const range = this.replicas === 0 ? 'none: it has 0 replicas' : `${this.startOrdinal} to ${last}`;
      const fix = this.replicas === 0 ? 'give the set replicas first' : `ask for an ordinal of the set, e.g. podDnsName(${this.startOrdinal})`;
      new PropValidator(this, 'StatefulDatabase').fail(`podDnsName got ordinal ${show(ordinal)}, but the set's ordinals are ${range}. Fix: ${fix}.`);
    }
    return this.headlessService.podDnsName(ordinal);
  }

  /** Every member's DNS name, in ordinal order: the one source for peer lists. */
  public get peerAddresses(): string[] {
    return Array.from({ length: this.replicas }, (_, i) => this.headlessService.podDnsName(this.startOrdinal + i));
  }

  /** The claim names of a template (one of `claimTemplateNames`) for every ordinal: `<template>-<set>-<n>`. */
  public claimNames(template?: string): string[] {
    template ??= this.claimTemplateNames[0];
    if (!this.claimTemplateNames.includes(template)) {
      new PropValidator(this, 'StatefulDatabase').fail(
        `claimNames got template ${show(template)}, which the set does not have (its claim templates: ${this.claimTemplateNames.join(', ')}). Fix: use one of them.`);
    }
    return Array.from({ length: this.replicas }, (_, i) => `${template}-${this.name}-${this.startOrdinal + i}`);
  }

}

/** The props with the scrape annotations of `metrics` added to the pod annotations (a clash fails). */
function withScrapeAnnotations(scope: Construct, props: StatefulDatabaseProps): StatefulDatabaseProps {
  // without an engine, resolveSpec reports that first
  if (props.metrics === undefined || typeof props.engine?.name !== 'string') return props;
  const check = new PropValidator(scope, 'StatefulDatabase');
  const scrape = metricsPodAnnotations(check, props.engine.name, props.metrics);
  if (Object.keys(scrape).length === 0) return props;
  const clash = Object.keys(scrape).find((k) => props.podAnnotations?.[k] !== undefined);
  if (clash) check.fail(`podAnnotations sets '${clash}', which metrics sets for its scrape annotations. Fix: leave it out of podAnnotations, or pass metrics: { scrapeAnnotations: false }.`);
  return { ...props, podAnnotations: { ...props.podAnnotations, ...scrape } };
}
