import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { HealthProbe } from './probe';

/*
 * The engine contract: what a DatabaseEngine is made of (EngineDefinition) and how it meets the
 * database it runs in (IEngineBinder, EngineContext, EngineBinding). The presets (engines/) build
 * on it; DatabaseEngine (engine.ts) offers them. Nothing here imports a preset.
 */

/** A port of the database container. */
export interface DatabasePort {
  /** The port's name (at most 15 characters), e.g. `mysql`, `sst`. */
  readonly name: string;
  /** The container port. */
  readonly port: number;
  /**
   * The port on the Services.
   * @default - same as `port`
   */
  readonly servicePort?: number;
  /**
   * A peer-to-peer port (replication, group communication, election): exposed on the headless
   * Service only, not on the client Service.
   * @default false
   */
  readonly peer?: boolean;
}

/**
 * A volume mount of a container, by volume name (cdk8s-plus's `VolumeMount` takes a `Volume`
 * object instead: here volumes are the database's claim templates and scratch volumes, known by name).
 */
export interface NamedVolumeMount {
  /** The volume: a claim template, a scratch volume, or `tmp`. */
  readonly volume: string;
  /** Where to mount it. */
  readonly path: string;
  /**
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Mount only this sub-path of the volume.
   * @default - the whole volume
   */
  readonly subPath?: string;
}

/** An init container: runs to completion, in order, before the database starts. */
export interface InitContainer {
  /** The container name, e.g. `install`, `bootstrap`. */
  readonly name: string;
  /** A pinned image. */
  readonly image: string;
  /**
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * @default - the image's cmd
   */
  readonly args?: string[];
  /**
   * Environment variables. Never a password: pass `credentials` on the database and point a
   * `*_FILE` variable at `StatefulDatabase.CREDENTIALS_PATH/<key>`.
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };
  /**
   * Volumes it mounts, by name; they must exist on the database.
   * @default - none (only `/tmp`)
   */
  readonly mounts?: NamedVolumeMount[];
  /**
   * Requests and limits of this init container, field by field over the defaults (not the
   * database container's).
   * @default - cpu 250m/1, memory 512Mi/1Gi, ephemeral storage 64Mi/1Gi; for a preset's init
   * container, the database's `initContainerResources`
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * This init container runs the database server (a throwaway server that copies or recovers the
   * data): it gets the database container's requests and limits, since it needs what the server
   * needs (a copy of a large dataset is OOM-killed under a small default limit). `resources` must
   * not be given with it.
   * @default false
   */
  readonly runsServer?: boolean;
}

/**
 * A container that runs beside the database container for the pod's whole life: a failover
 * monitor, a keeper of the pod's role label. It runs as the database's user, under the same
 * restricted security context.
 */
export interface SidecarContainer {
  /** The container name, e.g. `sentinel`. */
  readonly name: string;
  /** A pinned image. */
  readonly image: string;
  /**
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Environment variables. Never a password: read it from `StatefulDatabase.CREDENTIALS_PATH/<key>`.
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };
  /**
   * Volumes it mounts, by name; they must exist on the database.
   * @default - none (only `/tmp`)
   */
  readonly mounts?: NamedVolumeMount[];
  /**
   * The engine's ports this container serves (they are then declared on it, not on the database
   * container); each must be one of the engine definition's `ports`.
   * @default - none
   */
  readonly ports?: number[];
  /**
   * Requests and limits, field by field over the defaults.
   * @default - cpu 50m/500m, memory 32Mi/128Mi, ephemeral storage 16Mi/256Mi
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Restarts the container when it fails.
   * @default - none
   */
  readonly livenessProbe?: HealthProbe;
  /**
   * A port on which this container serves Prometheus metrics of its own (a backup sidecar's
   * outcome), not one of the engine's ports: declared on the container under its name, on no
   * Service.
   * @default - none
   */
  readonly metricsPort?: DatabasePort;
}

/** Options of {@link DatabaseEngine.custom}. */
export interface CustomEngineOptions {
  /** A pinned image, e.g. `nginxinc/nginx-unprivileged:1.27.3`. */
  readonly image: string;
  /** The container's ports; the first non-peer port is the client port. */
  readonly ports: DatabasePort[];
  /**
   * A short name for the `app.kubernetes.io/name` label.
   * @default 'custom'
   */
  readonly name?: string;
  /**
   * Where the data claim is mounted by default.
   * @default '/data'
   */
  readonly dataPath?: string;
  /**
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * @default - the image's cmd
   */
  readonly args?: string[];
  /**
   * The non-root user the containers run as (and the group and fsGroup).
   * @default 10001
   */
  readonly runAsUser?: number;
  /**
   * Whether the image runs with a read-only root filesystem; every writable path must then be
   * a volume (`/tmp` always is).
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * @default - a TCP probe of the client port
   */
  readonly readinessProbe?: HealthProbe;
  /**
   * @default - none: a liveness probe that repeats the readiness check restarts a busy database
   */
  readonly livenessProbe?: HealthProbe;
  /**
   * Holds liveness off until it passes: sized for the longest start the engine may need
   * (initialization, crash recovery, a state transfer), so that liveness can stay strict.
   * @default - none
   */
  readonly startupProbe?: HealthProbe;
  /**
   * The replica count when the database does not say.
   * @default 1
   */
  readonly defaultReplicas?: number;
}

/** What an engine knows about the database it is bound to. */
export interface EngineContext {
  /** The StatefulSet's name. */
  readonly name: string;
  /** Replica count. */
  readonly replicas: number;
  /** The first ordinal. */
  readonly startOrdinal: number;
  /** Every member's DNS name, in ordinal order. */
  readonly peerAddresses: string[];
  /** The headless Service's name. */
  readonly headlessServiceName: string;
  /** The data claim's mount path. */
  readonly dataPath: string;
  /**
   * The data claim template's name, for init containers that mount it.
   * @default 'data'
   */
  readonly dataVolume?: string;
  /** The credentials, if the database has any. */
  readonly credentials?: DatabaseCredentials;
  /**
   * Where the credentials Secret is mounted in every container (`<path>/<key>`), if there is one.
   * Read passwords from there (e.g. `MARIADB_ROOT_PASSWORD_FILE`), not from the environment.
   * @default - no credentials
   */
  readonly credentialsPath?: string;
  /**
   * The database being bound, so that an engine's errors name it.
   * @default - errors name the engine only
   */
  readonly scope?: IConstruct;
}

/** What an engine adds to the pod it is bound to. */
export interface EngineBinding {
  /** Environment of the database container. */
  readonly env?: { [name: string]: kplus.EnvValue };
  /** Init containers, run before the user's. */
  readonly initContainers?: InitContainer[];
  /** `emptyDir` volumes the engine's containers share. */
  readonly scratchVolumes?: string[];
  /**
   * Memory-backed `emptyDir` volumes (`medium: Memory`, e.g. for `/dev/shm`): the kubelet sizes
   * them to the pod's memory limit, and what they hold counts against it.
   * @default - none
   */
  readonly memoryVolumes?: string[];
  /** Mounts of the database container beside the data claim. */
  readonly mounts?: NamedVolumeMount[];
  /** Files of a ConfigMap mounted at `/opt/cdk8s-stateful` in every container (scripts). */
  readonly files?: { [name: string]: string };
  /** Overrides the engine's command. */
  readonly command?: string[];
  /** Overrides the engine's args. */
  readonly args?: string[];
  /**
   * A command the kubelet runs in the database container before it stops it (a `preStop` hook),
   * while the pod's network still works, e.g. to leave replication cleanly. It counts against the
   * pod's termination grace period.
   * @default - none
   */
  readonly preStop?: string[];
  /**
   * Containers that run beside the database container for the pod's whole life (a backup
   * scheduler, a failover monitor, a keeper of the pod's role label; see {@link SidecarContainer}).
   * Each restarts on its own when it exits.
   * @default - none
   */
  readonly sidecars?: SidecarContainer[];
  /**
   * A single writer: the ordinal of the primary. The client Service `<name>` then selects only
   * that pod (by its `statefulset.kubernetes.io/pod-name` label), and a read Service
   * `<name>-read` selects every member.
   * @default - every member takes writes; the client Service selects them all
   */
  readonly primaryOrdinal?: number;
  /**
   * A single writer elected at run time: the engine labels each pod with its role, and the client
   * Service `<name>` selects the pod labelled `primary`, the read Service `<name>-read` those
   * labelled `replica` (instead of `primaryOrdinal`'s fixed pod).
   * @default - no role label
   */
  readonly roleLabel?: RoleLabel;
  /**
   * What the members do with the Kubernetes API in their own namespace (a leader lock, their
   * role label). The database then creates a ServiceAccount `<name>` with a Role of exactly these
   * rules and its RoleBinding, mounts the account's token into its pods (no other pod gets
   * one), and its NetworkPolicy lets the members reach the API server.
   * @default - no API access: no token in the pods
   */
  readonly apiAccess?: ApiAccess;
  /**
   * Other services the members reach beyond their peers, the DNS and the API server (a backup
   * store): the NetworkPolicy lets them out to these addresses on these TCP ports.
   * @default - none
   */
  readonly egress?: EngineEgress[];
  /**
   * The engine's own scheduled backups, for `metrics`: their exporter reports the backups' state
   * and the PrometheusRule alerts when one fails or is late, or WAL archiving fails (the
   * PostgreSQL preset with `backup`).
   * @default - none: no backup alerts from the engine
   */
  readonly backupMetrics?: EngineBackupMetrics;
  /**
   * Annotations of the StatefulSet: what the set promises beyond its pod template, stated for
   * tools that read the manifests (e.g. `cdk8s-stateful.dev/retain-full-backups`, which the
   * change guard compares).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * Synth-time warnings about this shape of database (see `StatefulDatabase.warnings`).
   * @default - none
   */
  readonly warnings?: string[];
}

/** A service outside the set the members reach (see `EngineBinding.egress`). */
export interface EngineEgress {
  /** What it is, for error messages, e.g. `backup.repository`. */
  readonly what: string;
  /** Its addresses, e.g. `['10.0.0.0/8']`, or `['0.0.0.0/0']` for anywhere. */
  readonly cidrs: string[];
  /** Its TCP ports. */
  readonly ports: number[];
}

/** The schedule of an engine's own backups, as the backup alerts need it (see `EngineBinding.backupMetrics`). */
export interface EngineBackupMetrics {
  /** The longest time between two scheduled full backups, in seconds. */
  readonly scheduleGapSeconds: number;
  /**
   * The longest a written WAL segment waits before it is archived (`archive_timeout`), in seconds:
   * PostgreSQL, whose exporter reports its backups and archiving; or the interval of a binary log
   * archive (MySQL, MariaDB Galera), which the backup sidecar reports.
   * @default - no WAL archiving
   */
  readonly archiveTimeoutSeconds?: number;
  /**
   * The port on which the backup sidecar serves its outcome itself (the `cdk8s_backup_*` series of
   * the shared script backup-metrics.sh), the sidecar's `metricsPort`: `metrics` scrapes it and
   * lets the scraper in.
   * @default - none: the engine's exporter reports the backups (PostgreSQL)
   */
  readonly port?: DatabasePort;
}

/** The label an engine sets on each pod with the member's role (see `EngineBinding.roleLabel`). */
export interface RoleLabel {
  /** The label key, e.g. `role`. */
  readonly key: string;
  /** The value on the primary. */
  readonly primary: string;
  /** The value on a replica that serves reads. */
  readonly replica: string;
}

/** A rule of the Role the members get (the fields of an RBAC `PolicyRule`). */
export interface ApiRule {
  /** API groups, `''` for the core group. */
  readonly apiGroups: string[];
  /** Resources, e.g. `configmaps`. */
  readonly resources: string[];
  /** Verbs, e.g. `get`, `patch`. */
  readonly verbs: string[];
  /**
   * The objects the rule is limited to, by name (`create` cannot be limited this way: the API
   * server does not know the name before the object exists).
   * @default - every object of these resources in the namespace
   */
  readonly resourceNames?: string[];
}

/** Kubernetes API access of the members (see `EngineBinding.apiAccess`). */
export interface ApiAccess {
  /** The Role's rules, in the database's namespace only. */
  readonly rules: ApiRule[];
  /**
   * Where the NetworkPolicy lets the members reach the API server: the addresses of its
   * endpoints (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`),
   * since network plugins match egress after the `kubernetes` Service address is translated.
   * @default ['0.0.0.0/0'] - any address, on `apiServerPorts` only
   */
  readonly apiServerCidrs?: string[];
  /**
   * The API server's ports as its endpoints serve them (6443 for kubeadm, 443 on many managed clusters).
   * @default [443, 6443]
   */
  readonly apiServerPorts?: number[];
}

/** Credentials from an existing Secret; the library never writes a password into YAML. */
export interface DatabaseCredentials {
  /**
   * The Secret: a cdk8s-plus `ISecret` of any line (cdk8s-plus-27, -33, ...), e.g.
   * `Secret.fromSecretName(chart, 'creds', 'mariadb-credentials')`. The library reads its `name`
   * and `kind`; another resource fails at synth. Typed `IConstruct` so that every line's Secret is
   * accepted in every language (Java, C# and Go match interfaces by name or exact signature).
   */
  readonly secret: IConstruct;
  /**
   * Key of the admin (root) password.
   * @default 'root-password'
   */
  readonly rootPasswordKey?: string;
  /**
   * Key of the application user's name.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the application user's password.
   * @default 'password'
   */
  readonly passwordKey?: string;
  /**
   * Key of the replication password.
   * @default 'replication-password'
   */
  readonly replicationPasswordKey?: string;
}

/** The definition behind a {@link DatabaseEngine}. */
export interface EngineDefinition extends CustomEngineOptions {
  /** Whether members form a quorum (Galera, ZooKeeper): the PDB then keeps a majority up. */
  readonly quorum?: boolean;
  /**
   * Whether members must start together (no member is Ready before a quorum is): the default
   * pod management policy becomes Parallel instead of OrderedReady.
   * @default false
   */
  readonly parallelStart?: boolean;
  /**
   * Contributes env, init containers and files once the database's shape is known.
   * @default - nothing beyond the definition
   */
  readonly binder?: IEngineBinder;
}

/**
 * What an engine adds to the pod once the database's shape (name, replicas, peers, credentials)
 * is known. Implement it for an engine of your own and pass it as `EngineDefinition.binder`.
 */
export interface IEngineBinder {
  /** Returns what the engine adds to a database of this shape; throws on a shape it cannot run. */
  bind(context: EngineContext): EngineBinding;
}

