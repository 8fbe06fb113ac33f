import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { MariaDbGaleraOptions, mariadbGaleraDefinition } from './engines/mariadb-galera';
import { MysqlOptions, mysqlDefinition } from './engines/mysql';
import { PostgresqlOptions, postgresqlDefinition } from './engines/postgresql';
import { RedisOptions, redisDefinition } from './engines/redis';
import { ZooKeeperOptions, zookeeperDefinition } from './engines/zookeeper';
import { HealthProbe } from './probe';

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
   * @default - cpu 250m/1, memory 512Mi/1Gi, ephemeral storage 64Mi/1Gi
   */
  readonly resources?: kplus.ContainerResources;
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
   * A single writer: the ordinal of the primary. The client Service `<name>` then selects only
   * that pod (by its `statefulset.kubernetes.io/pod-name` label), and a read Service
   * `<name>-read` selects every member.
   * @default - every member takes writes; the client Service selects them all
   */
  readonly primaryOrdinal?: number;
  /**
   * Synth-time warnings about this shape of database (see `StatefulDatabase.warnings`).
   * @default - none
   */
  readonly warnings?: string[];
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

/**
 * The software a {@link StatefulDatabase} runs: image, ports, data path, probes and how members
 * find each other. An enum-like class: use a preset, or `custom()` for any image.
 */
export class DatabaseEngine {
  /** Any image: you give the ports, the data path and the probes. */
  public static custom(options: CustomEngineOptions): DatabaseEngine {
    return new DatabaseEngine({ ...options });
  }

  /** A preset or extension built from a full definition. */
  public static of(definition: EngineDefinition): DatabaseEngine {
    return new DatabaseEngine(definition);
  }

  /**
   * MySQL (official `mysql` image), one primary and read-only replicas, the shape of the
   * Kubernetes "Run a Replicated Stateful Application" tutorial: ordinal 0 (the first) is the
   * primary, every other member a `super_read_only` replica with `server-id` 100 + ordinal and
   * GTID auto-positioning. A new replica clones its data from the previous member with the clone
   * plugin before it starts. Writes go to the client Service `<name>` (the primary only), reads to
   * `<name>-read` (every member). Needs `credentials` (root and replication passwords).
   * No automatic failover: see docs/engines.md.
   * @see https://kubernetes.io/docs/tasks/run-application/run-replicated-stateful-application/
   */
  public static mysql(options: MysqlOptions = {}): DatabaseEngine {
    return new DatabaseEngine(mysqlDefinition(options));
  }

  /**
   * A MariaDB Galera cluster (official `mariadb` image): every member takes reads and writes,
   * replication is synchronous. Ports 3306, and 4444 (SST), 4567 (group communication) and 4568
   * (IST) on the headless Service only. Init containers `install` and `bootstrap` write the
   * config with every member in `wsrep_cluster_address`; the first ordinal starts a new cluster
   * only when it has no cluster state or was the last to leave. Quorum PDB, 3 members by
   * default. Needs `credentials` (root password).
   */
  public static mariadbGalera(options: MariaDbGaleraOptions = {}): DatabaseEngine {
    return new DatabaseEngine(mariadbGaleraDefinition(options));
  }

  /**
   * PostgreSQL (official `postgres` image): the first ordinal is the primary, every other member
   * a hot standby that streams from it; a standby with an empty data directory takes a
   * `pg_basebackup` of the primary in an init container. Writes go to `<name>`, reads to
   * `<name>-read`. Needs `credentials` (superuser and replication passwords).
   * No automatic failover: see docs/engines.md.
   */
  public static postgresql(options: PostgresqlOptions = {}): DatabaseEngine {
    return new DatabaseEngine(postgresqlDefinition(options));
  }

  /**
   * Redis (official `redis` image): the first ordinal is the primary, every other member a
   * read-only `replicaof` it; `requirepass`/`masterauth` come from the Secret, written only into a
   * pod-private emptyDir at start. Writes go to `<name>`, reads to `<name>-read`. Needs
   * `credentials` (password). No Sentinel, no failover: see docs/engines.md.
   */
  public static redis(options: RedisOptions = {}): DatabaseEngine {
    return new DatabaseEngine(redisDefinition(options));
  }

  /**
   * A ZooKeeper ensemble (official `zookeeper` image): `myid` is the ordinal + 1, and every
   * member's zoo.cfg lists every member (`server.N=<pod>:2888:3888;2181`). The client port 2181 is
   * on the client Service, 2888/3888 on the headless one. Quorum PDB, 3 members by default,
   * started in parallel (a member is Ready only inside a quorum).
   */
  public static zookeeper(options: ZooKeeperOptions = {}): DatabaseEngine {
    return new DatabaseEngine(zookeeperDefinition(options));
  }

  private constructor(private readonly definition: EngineDefinition) {}

  /** The `app.kubernetes.io/name` of the pods. */
  public get name(): string {
    return this.definition.name ?? 'custom';
  }
  /** The image. */
  public get image(): string {
    return this.definition.image;
  }
  /** The container ports. */
  public get ports(): DatabasePort[] {
    return this.definition.ports;
  }
  /** Default mount path of the data claim. */
  public get dataPath(): string {
    return this.definition.dataPath ?? '/data';
  }
  /** The user the containers run as. */
  public get runAsUser(): number {
    return this.definition.runAsUser ?? 10001;
  }
  /** Whether the root filesystem is read-only. */
  public get readOnlyRootFilesystem(): boolean {
    return this.definition.readOnlyRootFilesystem ?? true;
  }
  /** Whether members form a quorum. */
  public get quorum(): boolean {
    return this.definition.quorum ?? false;
  }
  /** Whether members must start together (default pod management Parallel). */
  public get parallelStart(): boolean {
    return this.definition.parallelStart ?? false;
  }
  /** The replica count when the database does not say. */
  public get defaultReplicas(): number {
    return this.definition.defaultReplicas ?? 1;
  }
  /** The command, if the engine sets one. */
  public get command(): string[] | undefined {
    return this.definition.command;
  }
  /** The args, if the engine sets them. */
  public get args(): string[] | undefined {
    return this.definition.args;
  }
  /** The readiness probe, if the engine sets one. */
  public get readinessProbe(): HealthProbe | undefined {
    return this.definition.readinessProbe;
  }
  /** The liveness probe, if the engine sets one. */
  public get livenessProbe(): HealthProbe | undefined {
    return this.definition.livenessProbe;
  }

  /** The startup probe, if the engine sets one. */
  public get startupProbe(): HealthProbe | undefined {
    return this.definition.startupProbe;
  }

  /** What the engine adds to a database of this shape. */
  public bind(context: EngineContext): EngineBinding {
    return this.definition.binder?.bind(context) ?? {};
  }
}
