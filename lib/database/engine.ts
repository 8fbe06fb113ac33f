import { MariaDbGaleraOptions, mariadbGaleraDefinition } from './engines/mariadb-galera';
import { MysqlOptions, mysqlDefinition } from './engines/mysql';
import { PostgresqlOptions, postgresqlDefinition } from './engines/postgresql';
import { RedisOptions, redisDefinition } from './engines/redis';
import { ZooKeeperOptions, zookeeperDefinition } from './engines/zookeeper';
import { CustomEngineOptions, DatabasePort, EngineBinding, EngineContext, EngineDefinition } from './engine-definition';
import { HealthProbe } from './probe';

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
   * A ZooKeeper ensemble (official `zookeeper` image) with dynamic membership: the member list is
   * ZooKeeper's own dynamic config on each member's volume; changing `replicas` adds members
   * (each joins without a vote, syncs, and is added with `reconfig`) or removes them, one at a
   * time. `myid` is the ordinal + 1. The client port 2181 is on the client Service, 2888/3888 on
   * the headless one. Quorum PDB, 3 members by default, started in parallel (a member is Ready
   * only inside a quorum).
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
