import { ApiObject, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube } from '../render';
import { Connections } from '../network/connections';
import { HeadlessService, renderServicePorts } from '../network/headless-service';
import { AccessMode } from '../storage/common';
import { IPersistentVolumePool } from '../storage/nfs-pool';
import { IStorageClass } from '../storage/storage-class';
import { show } from '../errors';
import { addWarning } from '../checks/app';
import { SECRET_NAME, findLiteralCredential } from '../checks/credentials';
import { Check } from '../validate';
import { ChangeApprovals, ChangeGuard } from '../plan';
import { DatabaseCredentials, DatabaseEngine, DatabasePort, EngineBinding, InitContainer, NamedVolumeMount } from './engine';
import { HealthProbe } from './probe';
import { renderResources, resolveResources } from './resources';

/** A per-replica claim template (`volumeClaimTemplates`). */
export interface VolumeClaimOptions {
  /**
   * The template name; each pod's claim is `<name>-<set>-<ordinal>`.
   * @default 'data' (required for extra claims)
   */
  readonly name?: string;
  /**
   * Where the claim is mounted in the database container.
   * @default - the engine's data path (required for extra claims)
   */
  readonly mountPath?: string;
  /**
   * The storage each replica requests.
   * @default Size.gibibytes(10)
   */
  readonly size?: Size;
  /**
   * Dynamic provisioning from this class. Give `storageClass` or `pool`, not both.
   * @default - the cluster's default class, unless `pool` is given
   */
  readonly storageClass?: IStorageClass;
  /**
   * Bind to the volumes of a statically provisioned pool (its class and labels are selected,
   * and the pool proves at synth time that every ordinal finds a volume).
   * @default - dynamic provisioning
   */
  readonly pool?: IPersistentVolumePool;
  /**
   * @default [AccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: AccessMode[];
}

/** An `emptyDir` volume the pod's containers share. */
export interface ScratchVolume {
  /** The volume name. */
  readonly name: string;
  /**
   * The most it may hold.
   * @default - no limit but the node's
   */
  readonly sizeLimit?: Size;
}

/** What happens to the claims when the set is deleted or scaled down. */
export enum ClaimRetention {
  /** The claims and their data stay. */
  RETAIN = 'Retain',
  /** DATA LOSS: the claims are deleted, and with them the volumes whose reclaim policy is Delete. */
  DELETE = 'Delete',
}

/** How pod anti-affinity spreads replicas over nodes. */
export enum AntiAffinity {
  /** Prefer distinct nodes, but schedule anyway when there are too few. */
  PREFERRED = 'preferred',
  /** Never two replicas on one node: pods stay Pending when nodes run out. */
  REQUIRED = 'required',
  /** No anti-affinity. */
  NONE = 'none',
}

/** Options of a rolling update. */
export interface RollingUpdateOptions {
  /**
   * Only ordinals ≥ partition are updated: a canary of the highest ordinals.
   * @default 0
   */
  readonly partition?: number;
}

/**
 * How template changes reach the pods.
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#update-strategies
 */
export class UpdateStrategy {
  /** Replace pods from the highest ordinal down, one at a time, each waiting for the last to be Ready. */
  public static rollingUpdate(options: RollingUpdateOptions = {}): UpdateStrategy {
    return new UpdateStrategy({ type: 'RollingUpdate', rollingUpdate: { partition: options.partition ?? 0 } });
  }

  /** Pods change only when you delete them. */
  public static onDelete(): UpdateStrategy {
    return new UpdateStrategy({ type: 'OnDelete' });
  }

  private constructor(private readonly spec: k8s.StatefulSetUpdateStrategy) {}

  /** The partition, for a rolling update. */
  public get partition(): number | undefined {
    return this.spec.rollingUpdate?.partition;
  }

  /** @internal */
  public _toKube(): k8s.StatefulSetUpdateStrategy {
    return this.spec;
  }
}

/** Props for {@link StatefulDatabase}. */
export interface StatefulDatabaseProps {
  /** What runs: `DatabaseEngine.custom({...})` or a preset. */
  readonly engine: DatabaseEngine;
  /**
   * The StatefulSet's name; pods are `<name>-0 …`, the client Service is `<name>`.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * @default - the engine's default (1 for custom engines)
   */
  readonly replicas?: number;
  /**
   * The first ordinal (`spec.ordinals.start`).
   * @default 0
   */
  readonly startOrdinal?: number;
  /**
   * The data claim template.
   * @default - `data`, 10Gi ReadWriteOnce on the default class, at the engine's data path
   */
  readonly storage?: VolumeClaimOptions;
  /**
   * More claim templates, e.g. an archive on a slow class. Each needs a name and a mount path.
   * @default - none
   */
  readonly extraVolumeClaims?: VolumeClaimOptions[];
  /**
   * `emptyDir` volumes shared by the init containers and the database container.
   * @default - none (besides `tmp` at /tmp)
   */
  readonly scratchVolumes?: ScratchVolume[];
  /**
   * Mounts of scratch volumes in the database container.
   * @default - none
   */
  readonly mounts?: NamedVolumeMount[];
  /**
   * Init containers, run in order after the engine's, before the database starts.
   * @default - none
   */
  readonly initContainers?: InitContainer[];
  /**
   * Environment of the database container. Credentials must come from a Secret.
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };
  /**
   * Credentials from an existing Secret.
   * @default - none
   */
  readonly credentials?: DatabaseCredentials;
  /**
   * Requests and limits of the database container.
   * @default - cpu 250m/1, memory 512Mi/1Gi, ephemeral storage 64Mi/1Gi
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * @default - the engine's probe
   */
  readonly readinessProbe?: HealthProbe;
  /**
   * @default - the engine's probe
   */
  readonly livenessProbe?: HealthProbe;
  /**
   * How pods are created and deleted (cdk8s-plus's enum): `ORDERED_READY` starts pod n+1 only
   * when pod n is Running and Ready and scales down from the top; `PARALLEL` starts and stops
   * them all at once (updates still go one at a time).
   * @default - kplus.PodManagementPolicy.ORDERED_READY, or PARALLEL for engines whose members must start together
   */
  readonly podManagementPolicy?: kplus.PodManagementPolicy;
  /**
   * @default UpdateStrategy.rollingUpdate()
   */
  readonly updateStrategy?: UpdateStrategy;
  /**
   * What happens to the claims when the set is deleted.
   * @default ClaimRetention.RETAIN - the claims and their data outlive the set
   */
  readonly claimRetentionWhenDeleted?: ClaimRetention;
  /**
   * What happens to the claims of removed ordinals on scale-down.
   * @default ClaimRetention.RETAIN - scaling back up reattaches the same data
   */
  readonly claimRetentionWhenScaled?: ClaimRetention;
  /**
   * Pods a voluntary disruption (a drain) may take down at once.
   * @default - 1, or for quorum engines floor((replicas-1)/2), at least 1
   */
  readonly maxUnavailable?: number;
  /**
   * @default AntiAffinity.PREFERRED
   */
  readonly antiAffinity?: AntiAffinity;
  /**
   * The headless Service's name.
   * @default `<name>-headless`
   */
  readonly headlessServiceName?: string;
  /**
   * Create the ordinary client Service `<name>` beside the headless one.
   * @default true
   */
  readonly clientService?: boolean;
  /**
   * The cluster's DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Isolate the members with a NetworkPolicy: peers talk on every port, clients only on the
   * client ports once allowed (`db.connections.allowFrom(...)`).
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * How long a pod gets to shut down cleanly.
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Changes to the deployed set that synth otherwise refuses (docs/plan.md).
   * @default - none: immutable fields, major versions and a switch to Delete are refused
   */
  readonly changeApprovals?: ChangeApprovals;
}

const SCRIPTS_PATH = '/opt/cdk8s-stateful';

/** See {@link StatefulDatabase.CREDENTIALS_PATH}. */
const CREDENTIALS_PATH = '/run/secrets/db';

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
 * It is a cdk8s-plus pod selector and network-policy peer (its members, in its namespace):
 * `deployment.connections.allowTo(db)`, `new kplus.NetworkPolicy(chart, 'np', { selector: db })`.
 */
export class StatefulDatabase extends Construct implements kplus.IPodSelector, kplus.INetworkPolicyPeer {
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
  /** The PodDisruptionBudget. */
  public readonly podDisruptionBudget: ApiObject;
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

  constructor(scope: Construct, id: string, props: StatefulDatabaseProps) {
    super(scope, id);
    const check = new Check(this, 'StatefulDatabase');
    check.record('props', props);
    const engine = props.engine;
    if (!(engine instanceof DatabaseEngine)) {
      check.fail(`engine must be a DatabaseEngine, got ${typeof engine}. Fix: e.g. engine: DatabaseEngine.custom({ image, ports }).`);
    }
    // pod names `<name>-<ordinal>` are hostnames and get the controller-revision-hash label: 52 leaves room
    this.name = check.dnsLabel('name', props.name ?? id, 52, props.name === undefined);
    this.replicas = check.integer('replicas', props.replicas ?? engine.defaultReplicas, 0, 1000, 'use 1 or more replicas (0 only to pause the set)');
    this.startOrdinal = check.integer('startOrdinal', props.startOrdinal ?? 0, 0, 1_000_000, 'use 0 unless you migrate ordinals');
    this.namespaceName = Chart.of(this).namespace ?? 'default';
    check.pinnedImage('engine image', engine.image);
    check.integer('engine runAsUser', engine.runAsUser, 1, 2147483647,
      "run as a non-root user: the restricted Pod Security profile refuses UID 0 (for an image that needs root, build a non-root variant)");
    this.selectorLabels = { 'app.kubernetes.io/instance': this.name };
    const podLabels = { ...this.selectorLabels, 'app.kubernetes.io/name': engine.name, 'app.kubernetes.io/managed-by': 'cdk8s-stateful' };

    // ports: client ones on both Services, peer ones on the headless Service only
    if (check.list('engine ports', engine.ports).length === 0) check.fail('the engine has no ports. Fix: give the engine at least one port.');
    const servicePorts = engine.ports.map((p) => ({ name: p.name, port: p.servicePort ?? p.port, targetPort: p.port, protocol: kplus.Protocol.TCP }));
    const clientPorts = servicePorts.filter((_, i) => !engine.ports[i].peer);

    this.headlessService = new HeadlessService(this, 'Headless', {
      name: props.headlessServiceName ?? `${this.name}-headless`,
      selector: this.selectorLabels,
      ports: servicePorts,
      statefulSetName: this.name,
      clusterDomain: props.clusterDomain,
    });

    // claim templates
    const dataClaim = { name: 'data', mountPath: engine.dataPath, ...check.record('storage', props.storage ?? {}) };
    const claims = [dataClaim, ...check.list('extraVolumeClaims', props.extraVolumeClaims)].map((c, i) => this.claimTemplate(check, c, i));
    this.claimTemplateNames = claims.map((c) => c.metadata!.name!);

    const binding: EngineBinding = engine.bind({
      name: this.name,
      replicas: this.replicas,
      startOrdinal: this.startOrdinal,
      peerAddresses: this.peerAddresses,
      headlessServiceName: this.headlessService.serviceName,
      dataPath: dataClaim.mountPath,
      dataVolume: this.claimTemplateNames[0],
      credentials: props.credentials,
      credentialsPath: props.credentials ? CREDENTIALS_PATH : undefined,
      scope: this,
    });
    if (engine.quorum && this.replicas > 0 && this.replicas % 2 === 0) {
      this.warn(`${this.replicas} members form a quorum of ${this.replicas / 2 + 1}: they survive no more failures than ${this.replicas - 1} would, ` +
        `and a network split in half stops both sides. Fix: use an odd replica count, e.g. ${this.replicas + 1}.`);
    }
    (binding.warnings ?? []).forEach((w) => this.warn(w));

    // volumes: claims, scratch volumes, /tmp, scripts
    const scratch: ScratchVolume[] = [
      ...check.list('scratchVolumes', props.scratchVolumes),
      ...(binding.scratchVolumes ?? []).map((name) => ({ name })),
      { name: 'tmp' },
    ];
    const volumes: k8s.Volume[] = scratch.map((v) => ({
      name: check.dnsLabel('scratch volume name', v.name),
      emptyDir: { sizeLimit: v.sizeLimit !== undefined && check.sizeKib(`sizeLimit of '${v.name}'`, v.sizeLimit) ? k8s.Quantity.fromString(v.sizeLimit.asString()) : undefined },
    }));
    if (binding.files && Object.keys(binding.files).length > 0) {
      this.scripts = kube(k8s.KubeConfigMap, this, 'Scripts', {
        metadata: { name: `${this.name}-scripts` },
        data: binding.files,
      });
      volumes.push({ name: 'scripts', configMap: { name: `${this.name}-scripts`, defaultMode: 0o555 } });
    }
    if (props.credentials) {
      check.record('credentials', props.credentials);
      // 0440: readable by the pod's group (fsGroup), never world-readable
      volumes.push({ name: 'credentials', secret: { secretName: props.credentials.secret.name, defaultMode: 0o440 } });
    }
    const volumeNames = [...volumes.map((v) => v.name), ...this.claimTemplateNames];
    const duplicateVolume = volumeNames.find((n, i) => volumeNames.indexOf(n) !== i);
    if (duplicateVolume) check.fail(`volume name '${duplicateVolume}' is used twice. Fix: give every claim template and scratch volume its own name.`);

    const withDefaults = (mounts: NamedVolumeMount[]): NamedVolumeMount[] => [
      ...mounts,
      { volume: 'tmp', path: '/tmp' },
      ...(this.scripts ? [{ volume: 'scripts', path: SCRIPTS_PATH, readOnly: true }] : []),
      ...(props.credentials ? [{ volume: 'credentials', path: CREDENTIALS_PATH, readOnly: true }] : []),
    ];
    const renderMounts = (container: string, mounts: NamedVolumeMount[]): k8s.VolumeMount[] => {
      const paths = new Set<string>();
      return check.list(`mounts of container '${container}'`, mounts).map((m) => {
        if (!volumeNames.includes(m.volume)) {
          check.fail(`container '${container}' mounts volume '${m.volume}', which does not exist (volumes: ${volumeNames.join(', ')}). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.`);
        }
        check.absolutePath(`mount path of '${m.volume}' in container '${container}'`, m.path);
        if (paths.has(m.path)) check.fail(`container '${container}' mounts two volumes at '${m.path}'. Fix: give each mount its own path.`);
        paths.add(m.path);
        return { name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath };
      });
    };

    const security: k8s.SecurityContext = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: engine.readOnlyRootFilesystem,
      runAsNonRoot: true,
      runAsUser: engine.runAsUser,
      runAsGroup: engine.runAsUser,
      capabilities: { drop: ['ALL'] },
    };
    const resources = renderResources(resolveResources(check, 'resources', props.resources));

    const initContainers = [...(binding.initContainers ?? []), ...check.list('initContainers', props.initContainers)].map((c): k8s.Container => ({
      name: c.name,
      image: check.pinnedImage(`image of init container '${c.name}'`, c.image),
      imagePullPolicy: 'IfNotPresent',
      command: c.command,
      args: c.args,
      env: renderEnv(check, `init container '${c.name}'`, c.env),
      volumeMounts: renderMounts(c.name, withDefaults(check.list(`mounts of init container '${c.name}'`, c.mounts))),
      securityContext: security,
      resources: renderResources(resolveResources(check, `resources of init container '${c.name}'`, c.resources)),
    }));
    initContainers.forEach((c) => {
      scanCommand(check, `the command of init container '${c.name}'`, c.command);
      scanCommand(check, `the args of init container '${c.name}'`, c.args);
    });
    const containerNames = ['main', ...initContainers.map((c) => c.name)];
    containerNames.forEach((n) => check.dnsLabel('container name', n));
    const dupContainer = containerNames.find((n, i) => containerNames.indexOf(n) !== i);
    if (dupContainer) check.fail(`container name '${dupContainer}' is used twice. Fix: give each init container a distinct name other than 'main'.`);

    const mainMounts = [
      ...claims.map((c, i) => ({ volume: c.metadata!.name!, path: i === 0 ? dataClaim.mountPath : props.extraVolumeClaims![i - 1].mountPath! })),
      ...(binding.mounts ?? []),
      ...check.list('mounts', props.mounts),
    ];
    const clientPort = clientPorts[0]?.targetPort ?? servicePorts[0].targetPort;
    const readiness = props.readinessProbe ?? engine.readinessProbe ?? HealthProbe.tcp(clientPort);
    // No default liveness probe: one that repeats the readiness check restarts a database that is
    // merely busy, and cascades under load (kube-score: pod-probes-identical).
    const liveness = props.livenessProbe ?? engine.livenessProbe;
    validateProbe(check, 'readinessProbe', readiness, engine.ports);
    if (liveness) validateProbe(check, 'livenessProbe', liveness, engine.ports);
    scanCommand(check, 'the command of the database container', binding.command ?? engine.command);
    scanCommand(check, 'the args of the database container', binding.args ?? engine.args);

    const main: k8s.Container = {
      name: 'main',
      image: engine.image,
      imagePullPolicy: 'IfNotPresent',
      command: binding.command ?? engine.command,
      args: binding.args ?? engine.args,
      ports: engine.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
      env: renderEnv(check, 'the database container', { ...binding.env, ...props.env }),
      volumeMounts: renderMounts('main', withDefaults(mainMounts)),
      readinessProbe: readiness._toKube(),
      livenessProbe: liveness?._toKube(),
      securityContext: security,
      resources,
    };

    const retention = (what: string, value: ClaimRetention | undefined): ClaimRetention => {
      const v = value ?? ClaimRetention.RETAIN;
      if (!Object.values(ClaimRetention).includes(v)) check.fail(`${what} must be Retain or Delete, got ${show(v)}. Fix: use ClaimRetention.RETAIN.`);
      return v;
    };
    const podManagementPolicy = props.podManagementPolicy ?? (engine.parallelStart ? kplus.PodManagementPolicy.PARALLEL : kplus.PodManagementPolicy.ORDERED_READY);
    if (!Object.values(kplus.PodManagementPolicy).includes(podManagementPolicy)) {
      check.fail(`podManagementPolicy must be OrderedReady or Parallel, got ${show(podManagementPolicy)}. Fix: use PodManagementPolicy.ORDERED_READY.`);
    }
    const updateStrategy = props.updateStrategy ?? UpdateStrategy.rollingUpdate();
    if (updateStrategy.partition !== undefined) {
      // a partition above the highest ordinal updates nobody, silently
      const highest = Math.max(0, this.startOrdinal + this.replicas - 1);
      check.integer('updateStrategy partition', updateStrategy.partition, 0, highest, `use a partition from 0 (update all) up to the highest ordinal, ${highest}`);
    }

    this.resource = kube(k8s.KubeStatefulSet, this, 'Resource', {
      metadata: { name: this.name, labels: podLabels },
      spec: {
        serviceName: this.headlessService.serviceName,
        replicas: this.replicas,
        ordinals: this.startOrdinal !== 0 ? { start: this.startOrdinal } : undefined,
        selector: { matchLabels: this.selectorLabels },
        podManagementPolicy,
        updateStrategy: updateStrategy._toKube(),
        persistentVolumeClaimRetentionPolicy: {
          whenDeleted: retention('claimRetentionWhenDeleted', props.claimRetentionWhenDeleted),
          whenScaled: retention('claimRetentionWhenScaled', props.claimRetentionWhenScaled),
        },
        template: {
          metadata: { labels: podLabels },
          spec: {
            restartPolicy: 'Always',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: check.seconds('terminationGracePeriod', props.terminationGracePeriod ?? Duration.seconds(30), 86400),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: engine.runAsUser,
              runAsGroup: engine.runAsUser,
              fsGroup: engine.runAsUser,
              fsGroupChangePolicy: 'OnRootMismatch',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            affinity: renderAntiAffinity(check, props.antiAffinity ?? AntiAffinity.PREFERRED, this.selectorLabels),
            // spread over zones when the cluster has them, without ever blocking scheduling
            topologySpreadConstraints: [{
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: this.selectorLabels },
            }],
            initContainers: initContainers.length > 0 ? initContainers : undefined,
            containers: [main],
            volumes,
          },
        },
        volumeClaimTemplates: claims,
      },
    });
    ChangeGuard.of(this)._watchDatabase(this, this.resource, engine, props.changeApprovals);

    if (props.clientService ?? true) {
      if (clientPorts.length === 0) check.fail('clientService is on but every port is a peer port. Fix: mark a client port peer: false, or set clientService: false.');
      const ports = renderServicePorts(check, clientPorts);
      const primary = binding.primaryOrdinal;
      this.clientService = kube(k8s.KubeService, this, 'Client', {
        metadata: { name: this.name },
        spec: {
          type: 'ClusterIP',
          // the StatefulSet controller labels every pod with its name: a single writer is selectable
          selector: primary === undefined ? this.selectorLabels : { ...this.selectorLabels, 'statefulset.kubernetes.io/pod-name': `${this.name}-${primary}` },
          ports,
        },
      });
      if (primary !== undefined) {
        this.readService = kube(k8s.KubeService, this, 'Read', {
          metadata: { name: `${this.name}-read` },
          spec: { type: 'ClusterIP', selector: this.selectorLabels, ports },
        });
      }
    }

    if (props.networkPolicy ?? true) {
      const tcp = (ports: { targetPort: number }[]) => ports.map((p) => ({ port: p.targetPort }));
      this.connections = new Connections(this, 'Connections', {
        name: this.name,
        selector: this.selectorLabels,
        clientPorts: tcp(clientPorts),
        peerPorts: tcp(servicePorts),
      });
    }

    const quorumSafe = engine.quorum ? Math.max(1, Math.floor((this.replicas - 1) / 2)) : 1;
    const maxUnavailable = check.integer('maxUnavailable', props.maxUnavailable ?? quorumSafe, 1, Math.max(1, this.replicas),
      'allow at least 1 disruption (0 blocks every node drain) and at most the replica count');
    if (engine.quorum && this.replicas >= 3 && maxUnavailable > quorumSafe) {
      check.fail(`maxUnavailable ${maxUnavailable} would let a drain break the quorum of ${this.replicas} members (at most ${quorumSafe} may be down). Fix: omit maxUnavailable, or set it to ${quorumSafe} or less.`);
    }
    this.podDisruptionBudget = kube(k8s.KubePodDisruptionBudget, this, 'Budget', {
      metadata: { name: this.name },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(maxUnavailable),
        selector: { matchLabels: this.selectorLabels },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  /** The members for cdk8s-plus: their selector labels, in the database's namespace when the chart has one. */
  public toPodSelectorConfig(): kplus.PodSelectorConfig {
    const namespace = Chart.of(this).namespace;
    return {
      labelSelector: kplus.LabelSelector.of({ labels: this.selectorLabels }),
      namespaces: namespace !== undefined ? { names: [namespace] } : undefined,
    };
  }

  /** The members as a cdk8s-plus network-policy peer. */
  public toNetworkPolicyPeerConfig(): kplus.NetworkPolicyPeerConfig {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** The database itself: it selects its members. */
  public toPodSelector(): kplus.IPodSelector | undefined {
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
      new Check(this, 'StatefulDatabase').fail(`podDnsName got ordinal ${show(ordinal)}, but the set's ordinals are ${range}. Fix: ${fix}.`);
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
      new Check(this, 'StatefulDatabase').fail(
        `claimNames got template ${show(template)}, which the set does not have (its claim templates: ${this.claimTemplateNames.join(', ')}). Fix: use one of them.`);
    }
    return Array.from({ length: this.replicas }, (_, i) => `${template}-${this.name}-${this.startOrdinal + i}`);
  }

  private claimTemplate(check: Check, c: VolumeClaimOptions, index: number): k8s.KubePersistentVolumeClaimProps {
    const where = index === 0 ? 'storage' : `extraVolumeClaims[${index - 1}]`;
    if (index > 0 && (!c.name || !c.mountPath)) {
      check.fail(`${where} needs a name and a mountPath, got ${JSON.stringify({ name: c.name, mountPath: c.mountPath })}. Fix: e.g. { name: 'archive', mountPath: '/archive', storageClass: slow }.`);
    }
    const name = check.dnsLabel(`${where} name`, c.name!);
    check.absolutePath(`${where} mountPath`, c.mountPath!);
    // claim names `<template>-<set>-<ordinal>` must stay DNS subdomains
    check.dnsSubdomain(`${where} claim name`, `${name}-${this.name}-${this.startOrdinal + Math.max(0, this.replicas - 1)}`);
    if (c.pool && c.storageClass) {
      check.fail(`${where} gives both pool and storageClass. Fix: keep one: a pool for static volumes, a class for dynamic provisioning.`);
    }
    const size = c.size ?? Size.gibibytes(10);
    check.sizeKib(`${where} size`, size);
    const accessModes = check.accessModes(c.accessModes ?? [AccessMode.READ_WRITE_ONCE]);
    const storageClassName = c.pool?.storageClassName ?? c.storageClass?.storageClassName;
    if (storageClassName !== undefined) check.dnsSubdomain(`${where} storageClassName`, storageClassName);
    const minimum = c.storageClass?.minimumVolumeSize;
    if (minimum && check.sizeKib(`${where} size`, size) < minimum.toKibibytes()) {
      check.fail(`${where} size ${size.asString()} is below the ${minimum.asString()} that class '${storageClassName}' provisions at least ` +
        `(AWS st1/sc1 volumes start at 125 GiB): the claim would stay Pending. Fix: request at least ${minimum.asString()}, or use another class.`);
    }
    if (c.pool) {
      c.pool.addClaims({
        owner: this,
        claimTemplateName: name,
        statefulSetName: this.name,
        namespaceName: this.namespaceName,
        startOrdinal: this.startOrdinal,
        replicas: this.replicas,
        request: size,
        accessModes,
        storageClassName: c.pool.storageClassName,
        selector: c.pool.selectorLabels,
      });
    }
    return {
      metadata: { name },
      spec: {
        accessModes,
        storageClassName,
        selector: c.pool ? { matchLabels: c.pool.selectorLabels } : undefined,
        resources: { requests: { storage: k8s.Quantity.fromString(size.asString()) } },
      },
    };
  }
}

function renderEnv(check: Check, where: string, env: { [name: string]: kplus.EnvValue } | undefined): k8s.EnvVar[] | undefined {
  if (env === undefined || Object.keys(check.record(`env of ${where}`, env)).length === 0) return undefined;
  return Object.keys(env).sort().map((name) => {
    const value = env[name];
    // what EnvValue promises, not its class: an EnvValue of another cdk8s-plus (e.g. -33) is welcome
    if (value === null || typeof value !== 'object' || (value.value === undefined && value.valueFrom === undefined)) {
      check.fail(`${where} sets '${name}' to ${JSON.stringify(value)}, which is not an EnvValue. Fix: use EnvValue.fromValue('…'), or for a credential a *_FILE variable under StatefulDatabase.CREDENTIALS_PATH.`);
    }
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
      check.fail(`${where} has an invalid environment variable name '${name}'. Fix: use letters, digits, '_', '-' and '.', not starting with a digit.`);
    }
    // `X_FILE=/path` names a file, as the official images read secrets: not a credential itself
    const isFileReference = /_FILE$/.test(name) && typeof value.value === 'string' && value.value.startsWith('/');
    if (value.value !== undefined && SECRET_NAME.test(name) && !isFileReference) {
      check.fail(
        `${where} sets '${name}' to a literal value: a credential would be written into the YAML in plain text. ` +
          "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
          `pass credentials: { secret } and read the file: e.g. ${name}_FILE=${CREDENTIALS_PATH}/<key>.`,
      );
    }
    const found = value.value === undefined ? undefined : findLiteralCredential([value.value]);
    if (found) literalCredential(check, `${where} sets '${name}' to`, found);
    return { name, value: value.value, valueFrom: value.valueFrom };
  });
}

/** Refuses a literal credential found in a command line or a value. */
function literalCredential(check: Check, where: string, found: string): never {
  return check.fail(
    `${where} ${found}: a credential would be written into the YAML in plain text. ` +
      "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
      `pass credentials: { secret } and read the file at run time: e.g. "$(cat ${CREDENTIALS_PATH}/<key>)" in a shell command.`,
  );
}

/** Refuses literal credentials in a container's command and args, or a probe's command. */
function scanCommand(check: Check, where: string, words: string[] | undefined): void {
  const found = words === undefined ? undefined : findLiteralCredential(words);
  if (found) literalCredential(check, `${where} has`, found);
}

function validateProbe(check: Check, kind: string, probe: HealthProbe, ports: DatabasePort[]): void {
  if (!(probe instanceof HealthProbe)) check.fail(`${kind} must be a HealthProbe, got ${JSON.stringify(probe)}. Fix: e.g. HealthProbe.tcp(5432).`);
  for (const [option, value] of Object.entries(probe.timings)) {
    if (value !== undefined) check.seconds(`${kind} ${option}`, value, 3600);
  }
  scanCommand(check, `the command of ${kind}`, probe.command);
  check.integer(`${kind} failureThreshold`, probe.failureThreshold, 1, 100, 'use 1 or more consecutive failures');
  if (probe.port !== undefined && !ports.some((p) => p.port === probe.port)) {
    check.fail(`${kind} targets port ${probe.port}, which the container does not expose (ports: ${ports.map((p) => p.port).join(', ')}). Fix: probe one of the engine's ports.`);
  }
}

function renderAntiAffinity(check: Check, mode: AntiAffinity, labels: { [key: string]: string }): k8s.Affinity | undefined {
  const term = { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' };
  switch (mode) {
    case AntiAffinity.NONE:
      return undefined;
    case AntiAffinity.REQUIRED:
      return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
    case AntiAffinity.PREFERRED:
      return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
    default:
      return check.fail(`antiAffinity must be preferred, required or none, got ${show(mode)}. Fix: use AntiAffinity.PREFERRED.`);
  }
}
