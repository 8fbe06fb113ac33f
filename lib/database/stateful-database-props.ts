import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import * as k8s from '../../imports/k8s';
import type { DatabaseMetricsOptions } from '../monitoring/metrics-props';
import { AccessMode } from '../storage/common';
import { IPersistentVolumePool } from '../storage/nfs-pool';
import { IStorageClass } from '../storage/storage-class';
import { DatabaseEngine } from './engine';
import { DatabaseCredentials, InitContainer, NamedVolumeMount } from './engine-definition';
import { HealthProbe } from './probe';

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
   * Requests and limits of the database container, field by field over the defaults
   * (`cpu: { request }` keeps the default CPU limit and memory); a request above its limit fails.
   * @default - cpu 250m/1, memory 512Mi/1Gi, ephemeral storage 64Mi/1Gi
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Requests and limits of the preset's init containers that only prepare files (config writers),
   * field by field over the defaults. The init containers that run the server (copies, recovery)
   * get `resources`; your own `initContainers` keep their own `resources`.
   * @default - cpu 250m/1, memory 512Mi/1Gi, ephemeral storage 64Mi/1Gi
   */
  readonly initContainerResources?: kplus.ContainerResources;
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
   * A startup probe: liveness and readiness wait until it succeeds once, so a slow first start
   * (crash recovery, a large SST) is not killed by the liveness probe.
   * @default - the engine's probe (the presets size theirs for recovery), else none
   */
  readonly startupProbe?: HealthProbe;
  /**
   * Only nodes with these labels run the pods, e.g. `{ 'node-role/db': 'true' }`.
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Taints the pods tolerate, e.g. nodes tainted for databases only.
   * @default - none
   */
  readonly tolerations?: PodToleration[];
  /**
   * The PriorityClass of the pods, so a database is not the first to be preempted.
   * @default - the cluster's default priority
   */
  readonly priorityClassName?: string;
  /**
   * An existing ServiceAccount for the pods (e.g. one bound to a cloud identity). The API token is
   * not mounted (`automountServiceAccountToken: false`), unless the engine uses the Kubernetes API
   * (Patroni, Sentinel, Group Replication, a replicated set's founding Lease): then the engine's
   * Role is bound to this account instead of one the database creates.
   * @default - the namespace's `default` account, unless `createServiceAccount`
   */
  readonly serviceAccountName?: string;
  /**
   * Create a ServiceAccount `<name>` for the pods, with no token mounted.
   * @default false
   */
  readonly createServiceAccount?: boolean;
  /**
   * Secrets of type `kubernetes.io/dockerconfigjson` to pull the images with: cdk8s-plus
   * `ISecret`s of any line, read as {@link DatabaseCredentials.secret} is.
   * @default - none
   */
  readonly imagePullSecrets?: IConstruct[];
  /**
   * Pull the engine's images (the database, the engine's init containers and sidecars) from this registry
   * instead, keeping the repository and tag: `postgres:17.2` becomes
   * `<registry>/library/postgres:17.2`. For mirrors and air-gapped clusters; the images of your
   * own init containers are used as you wrote them.
   * @default - the images' own registries (Docker Hub for the presets)
   */
  readonly imageRegistry?: string;
  /**
   * Extra labels on the pods and the StatefulSet. The library's own keys
   * (`app.kubernetes.io/instance`, `/name`, `/managed-by`) cannot be changed.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Annotations on the pods, e.g. for a metrics scraper or a backup tool.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * The client Service's type: `LOAD_BALANCER` or `NODE_PORT` for clients outside the cluster.
   * With the NetworkPolicy on, let them in with `db.connections.allowFromCidr(...)`. The read
   * Service of a single-writer engine stays `ClusterIP`.
   * @default kplus.ServiceType.CLUSTER_IP
   */
  readonly clientServiceType?: kplus.ServiceType;
  /**
   * Annotations on the client Service, e.g. a cloud load balancer's.
   * @default - none
   */
  readonly clientServiceAnnotations?: { [key: string]: string };
  /**
   * Create the PodDisruptionBudget. Turn it off only when the cluster manages disruptions
   * otherwise: without it a node drain may take every member down at once.
   * @default true
   */
  readonly podDisruptionBudget?: boolean;
  /**
   * Where the NetworkPolicy lets the members resolve names.
   * @default - pods `k8s-app: kube-dns` in namespace `kube-system`, port 53
   */
  readonly dnsEgress?: DnsEgressOptions;
  /**
   * Changes to the deployed set that synth otherwise refuses (docs/plan.md).
   * @default - none: immutable fields, major versions and a switch to Delete are refused
   */
  readonly changeApprovals?: ChangeApprovals;
  /**
   * Metrics: an exporter sidecar authenticated as a monitoring account from the credentials
   * Secret (ZooKeeper: its built-in Prometheus provider), scrape annotations or a PodMonitor, a
   * PrometheusRule and a Grafana dashboard (docs/engines.md, Metrics). Off by default: the
   * monitoring account is yours to create first, and the PodMonitor and PrometheusRule need the
   * Prometheus Operator's CRDs.
   * @default - no metrics
   */
  readonly metrics?: DatabaseMetricsOptions;
}

/** A taint the pods tolerate. */
export interface PodToleration {
  /**
   * The taint's key.
   * @default - every key (with no value: tolerate every taint)
   */
  readonly key?: string;
  /**
   * The taint's value; without one, any value of the key is tolerated.
   * @default - any value
   */
  readonly value?: string;
  /**
   * The taint's effect.
   * @default - every effect
   */
  readonly effect?: kplus.TaintEffect;
  /**
   * For a `NO_EXECUTE` taint: how long the pod stays on the node once it is tainted.
   * @default - forever
   */
  readonly evictAfter?: Duration;
}

/** Where the members resolve names: the DNS pods, or a node-local cache's address. */
export interface DnsEgressOptions {
  /**
   * Labels of the DNS pods' namespace.
   * @default { 'kubernetes.io/metadata.name': 'kube-system' }
   */
  readonly namespaceLabels?: { [key: string]: string };
  /**
   * Labels of the DNS pods.
   * @default { 'k8s-app': 'kube-dns' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * The port the DNS pods listen on (UDP and TCP), e.g. 5353 on OpenShift.
   * @default 53
   */
  readonly port?: number;
  /**
   * An address range instead of pods, e.g. `169.254.20.10/32` for NodeLocal DNSCache.
   * @default - the DNS pods by label
   */
  readonly cidr?: string;
}

/**
 * Changes to a deployed database that synth refuses unless the props say they are intended.
 * Each approval is for one change: remove it once the change is applied.
 */
export interface ChangeApprovals {
  /**
   * A field of the StatefulSet that the API server never lets change (claim templates, selector,
   * `serviceName`, `podManagementPolicy`) changes, and you will replace the set without touching
   * its pods: `kubectl -n <namespace> delete statefulset <name> --cascade=orphan` right before the
   * apply. Pods and claims keep running and the new set adopts them; claims that exist keep their
   * old class and access modes (only new ordinals get the new template).
   * @default false
   */
  readonly orphanDelete?: boolean;
  /**
   * The engine's release series changes (PostgreSQL 16 to 17, MariaDB 10.11 to 11.4), and you
   * have made the data directory fit the new server (PostgreSQL: `pg_upgrade` or a dump and
   * restore; MariaDB and MySQL: a backup first, the server upgrades the tables on start).
   * Without it, PostgreSQL refuses to start on the old data and others upgrade it irreversibly.
   * @default false
   */
  readonly majorVersionUpgrade?: boolean;
  /**
   * DATA LOSS acknowledged: switching `claimRetentionWhenDeleted` or `claimRetentionWhenScaled`
   * to `Delete` on a running set makes the StatefulSet controller delete claims (and, with a
   * `Delete` reclaim policy, the volumes and their data) on deletion or scale-down.
   * @default false
   */
  readonly claimDeletion?: boolean;
  /**
   * DATA LOSS acknowledged: a running set's backups end (`backup` removed: the server archives no
   * more WAL and no full backup is taken, so nothing written after the apply can be restored), or
   * `backup.retainFullBackups` is lowered (after the next full backup, pgBackRest deletes the
   * older full backups and their WAL: a point-in-time restore no longer reaches back as far).
   * Turning backups on or keeping more full backups needs no approval.
   * @default false
   */
  readonly backupReduction?: boolean;
}
