import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext, EngineDefinition, InitContainer } from '../engine-definition';
import { checkVersion, engineBinder, engineFail, identityEnv, mysqlConfigLines, pinnedApiClientImage, requireCredentials, runScript, scriptFiles, scriptProbes, sizeOptionKib } from './private/preset-helpers';
import { ImageVersion } from './image-version';
import { galeraBackupBinding, MariaDbGaleraBackupOptions, MariaDbGaleraRestoreOptions } from './mariadb-galera-backup';

/**
 * A version of the official `mariadb` image (Docker Hub library image, with Galera 4 and
 * mariadb-backup). An enum-like class: a constant, or `of()` for any other tag from 10.6 on.
 */
export class MariaDbVersion extends ImageVersion {
  /** MariaDB 10.11.10, a long-term-support release (the version the real-node suite runs). */
  public static readonly VER_10_11_10 = new MariaDbVersion('10.11.10');
  /** MariaDB 11.4.4, a long-term-support release. Superseded by {@link VER_11_4_8}. */
  public static readonly VER_11_4_4 = new MariaDbVersion('11.4.4');
  /** MariaDB 11.4.8, a long-term-support release. */
  public static readonly VER_11_4_8 = new MariaDbVersion('11.4.8');
  /** MariaDB 11.8.3, the newest long-term-support release. */
  public static readonly VER_11_8_3 = new MariaDbVersion('11.8.3');

  /** Any tag of the official image, e.g. `11.8.4`; pin a patch release. */
  public static of(version: string): MariaDbVersion {
    return new MariaDbVersion(version);
  }

  private constructor(version: string) {
    super('mariadb', version);
  }
}

/** Options of {@link DatabaseEngine.mariadbGalera}. */
export interface MariaDbGaleraOptions {
  /**
   * The server version.
   * @default MariaDbVersion.VER_11_8_3
   */
  readonly version?: MariaDbVersion;
  /**
   * Recovery after a full outage when a majority of the members is gone for good: the members
   * that reported their position to the set's bootstrap Lease elect the most advanced among
   * themselves after the election delay, even when they are fewer than a majority. Transactions
   * that only the missing members committed are lost. Changing it is a rolling update, which a
   * member that cannot start never gets: the Lease's holder can be set instead (docs/engines.md,
   * "MariaDB Galera").
   * @see docs/engines.md, "MariaDB Galera"
   * @default false
   */
  readonly forceBootstrap?: boolean;
  /**
   * The API client image of the `decide` init container, which records the member's position in
   * the set's bootstrap Lease and takes the decision who bootstraps the cluster: a POSIX shell and
   * curl, pinned.
   * @default 'docker.io/curlimages/curl:8.14.1'
   */
  readonly apiClientImage?: string;
  /**
   * `wsrep_sync_wait`, 0 to 15: the statements that first wait until the member has applied every
   * write-set the cluster committed before they started (1 reads, 2 UPDATE and DELETE, 4 INSERT
   * and REPLACE, 8 SHOW; add them up). 1 gives read-your-writes across members, at the cost of a
   * cluster round trip per read.
   * @default - the server's default, 0: a member answers from what it has applied so far
   */
  readonly wsrepSyncWait?: number;
  /**
   * Where the NetworkPolicy lets the `decide` init container reach the API server (see
   * `ApiAccess.apiServerCidrs`).
   * @default ['0.0.0.0/0']
   */
  readonly apiServerCidrs?: string[];
  /**
   * The API server's ports (see `ApiAccess.apiServerPorts`).
   * @default [443, 6443]
   */
  readonly apiServerPorts?: number[];
  /**
   * The Galera write-set cache (`gcache.size`) on each member's volume: a member that was away
   * catches up by IST, from the cache, as long as the writes it missed fit in it; beyond, it needs
   * a full state transfer (SST) of the whole data set.
   * @default Size.gibibytes(1)
   */
  readonly gcacheSize?: Size;
  /**
   * `innodb_buffer_pool_size`, at least 5 MiB; keep it well under the memory limit.
   * @default - the server's default (128 MiB)
   */
  readonly innodbBufferPoolSize?: Size;
  /**
   * `max_connections`, 1 to 100000.
   * @default - the server's default (151)
   */
  readonly maxConnections?: number;
  /**
   * More server settings for the `[mariadb]` section of the config file, by their server name,
   * e.g. `{ long_query_time: '2' }`. The settings the preset manages (the Galera and data
   * directory ones) are refused.
   * @default - none
   */
  readonly config?: { [name: string]: string };
  /**
   * Physical backups to S3-compatible storage: the sidecar `backup` of the member with the
   * highest ordinal streams a backup of its own server, when it is Synced, on a cron schedule
   * (`mariadb-backup --backup --galera-info --stream=mbstream`, the Galera position recorded in
   * it) to the repository with rclone, checks the stored object's length and SHA-256, and only
   * then uploads its checksum object; the newest `retainBackups` are kept. A backup holds the
   * data as of the moment it was taken; with `backup.binlogArchiveInterval` the members log their
   * binary log and the same sidecar archives it, so that `restoreFrom.pointInTime` can reach any
   * moment it covers. Needs an image with rclone (`backup.image`). See docs/engines.md, MariaDB Galera backups.
   * @default - no backups
   */
  readonly backup?: MariaDbGaleraBackupOptions;
  /**
   * Create this set from a backup: its first member, when its volume holds no data directory,
   * downloads the latest complete backup (or `restoreFrom.backup`), checks its SHA-256, extracts
   * and prepares it (the init container `restore`), and bootstraps the new cluster from it; the
   * other members join it by SST. A backup that fails a check stops the init container with a
   * message naming the object: no member starts. A member that holds data ignores it. The
   * restored data keeps the backed-up set's accounts: the credentials Secret must hold its root
   * password.
   * @default - a new, empty data set
   */
  readonly restoreFrom?: MariaDbGaleraRestoreOptions;
}

const CONFIG_PATH = '/etc/mysql/conf.d';
const WORK_PATH = '/work-dir';
const RUN_PATH = '/run/mysqld';

/**
 * The `decide` init container's Role: the set's bootstrap Lease (it creates it the first time) and
 * reading the members' pods (a Ready member means a Primary component runs).
 */
const GALERA_RULES: ApiRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
];

/** Settings galera-bootstrap.sh writes: the map of `config` must not override them. */
const MANAGED = ['innodb_flush_log_at_trx_commit', 'sync_binlog', 'wsrep_sync_wait', 'datadir', 'bind-address', 'bind_address', 'binlog_format', 'default_storage_engine', 'innodb_autoinc_lock_mode',
  'wsrep_on', 'wsrep_provider', 'wsrep_cluster_name', 'wsrep_cluster_address', 'wsrep_node_name', 'wsrep_sst_method', 'wsrep_sst_auth',
  'wsrep_provider_options', 'innodb_buffer_pool_size', 'max_connections'];

/** Settings galera-bootstrap.sh writes too with the binary log archive (`backup.binlogArchiveInterval`). */
const BINLOG_MANAGED = ['log_bin', 'log-bin', 'log_slave_updates', 'log-slave-updates', 'server_id', 'server-id', 'wsrep_gtid_mode', 'wsrep_gtid_domain_id',
  'gtid_domain_id', 'binlog_expire_logs_seconds', 'expire_logs_days'];

/** The MariaDB Galera preset; see {@link DatabaseEngine.mariadbGalera}. */
export function mariadbGaleraDefinition(options: MariaDbGaleraOptions = {}): EngineDefinition {
  const version = options.version ?? MariaDbVersion.VER_11_8_3;
  // with backups or a restore, every container runs the image with rclone
  const image = options.restoreFrom?.image ?? options.backup?.image ?? version.image;
  return {
    name: 'mariadb-galera',
    image,
    ports: [
      { name: 'mysql', port: 3306 },
      { name: 'sst', port: 4444, peer: true },
      { name: 'gcomm', port: 4567, peer: true },
      { name: 'ist', port: 4568, peer: true },
    ],
    dataPath: '/var/lib/mysql',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    quorum: true,
    // after a full outage every member must publish its state before one bootstraps
    parallelStart: true,
    defaultReplicas: 3,
    // installed into the work dir by the `install` init container
    command: ['bash', `${WORK_PATH}/galera-start.sh`],
    // the startup probe does not ask for the cluster connection (see galera-probe.sh); the
    // recovery and the decision who bootstraps run before, in init containers
    ...scriptProbes((kind) => ['bash', `${WORK_PATH}/galera-probe.sh`, kind], Duration.minutes(30), 'start'),
    binder: engineBinder((ctx) => bindGalera(ctx, options, image, version)),
  };
}

/** What a Galera cluster of this shape adds to the pod. */
function bindGalera(ctx: EngineContext, options: MariaDbGaleraOptions, image: string, version: MariaDbVersion): EngineBinding {
  checkVersion(ctx, 'mariadbGalera', version.version, { major: 10, minor: 6 },
    'Galera 4, the BINLOG MONITOR privilege and the entrypoint\'s MARIADB_MYSQL_LOCALHOST_USER');
  const secrets = requireCredentials(ctx, 'mariadbGalera', 'the image needs a root password to initialize the first member');
  const gcache = sizeOptionKib(ctx, 'mariadbGalera', 'gcacheSize', options.gcacheSize, 16 * 1024) ?? 1024 * 1024;
  if (options.forceBootstrap !== undefined && typeof options.forceBootstrap !== 'boolean') {
    engineFail(ctx, 'mariadbGalera', `forceBootstrap must be true or false, got ${JSON.stringify(options.forceBootstrap)}. Fix: omit it unless a member is gone for good.`);
  }
  const apiClientImage = pinnedApiClientImage((message) => engineFail(ctx, 'mariadbGalera', message), 'apiClientImage', options.apiClientImage);
  const syncWait = syncWaitOf(ctx, options.wsrepSyncWait);
  // a subdirectory of the claim: a state transfer empties the data directory, and a fresh ext4
  // volume's root holds a lost+found that the database user cannot remove
  const dataDir = kplus.EnvValue.fromValue(`${ctx.dataPath}/data`);
  const backups = galeraBackupBinding(ctx, options.backup, options.restoreFrom, { dataDir, runPath: RUN_PATH, configPath: CONFIG_PATH, rootKey: secrets.root });
  const managed = backups.binlog ? [...MANAGED, ...BINLOG_MANAGED] : MANAGED;
  const extra = [...(syncWait === undefined ? [] : [`wsrep_sync_wait=${syncWait}`]), ...mysqlConfigLines(ctx, 'mariadbGalera', options, managed)];
  return {
    env: {
      ...identityEnv(ctx),
      DATA_DIR: dataDir,
      RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH),
      // galera-start.sh points the entrypoint's MARIADB_ROOT_PASSWORD_FILE at this key's file,
      // to initialize a member; state transfers and probes authenticate through the socket
      ...secrets.root,
      // mysql@localhost, authenticated by the unix socket: the SST (mariabackup) and probe account
      MARIADB_MYSQL_LOCALHOST_USER: kplus.EnvValue.fromValue('1'),
      MARIADB_MYSQL_LOCALHOST_GRANTS: kplus.EnvValue.fromValue('RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR'),
    },
    scratchVolumes: ['config', 'workdir', 'run'],
    mounts: [
      { volume: 'config', path: CONFIG_PATH, readOnly: true },
      { volume: 'workdir', path: WORK_PATH, readOnly: true },
      { volume: 'run', path: RUN_PATH },
      // run by the entrypoint at the end of a first initialization: marks it finished
      { volume: 'scripts', path: '/docker-entrypoint-initdb.d/90-cdk8s-initialized.sh', subPath: 'galera-initdb.sh', readOnly: true },
    ],
    initContainers: [
      ...galeraInitContainers(ctx, image, dataDir, gcache, backups.binlog),
      // a new set's first member restores before its position is read
      ...backups.initContainers,
      ...galeraDecision(ctx, image, apiClientImage, dataDir, options.forceBootstrap === true),
    ],
    files: {
      ...scriptFiles('galera-install.sh', 'galera-bootstrap.sh', 'galera-start.sh', 'galera-recover.sh', 'galera-decide.sh', 'kube-api.sh', 'galera-probe.sh', 'galera-initdb.sh', ...backups.files),
      ...(extra.length > 0 ? { 'engine.conf': extra.join('\n') + '\n' } : {}),
    },
    // the `decide` init container records the member's position in the set's bootstrap Lease
    apiAccess: { rules: GALERA_RULES, apiServerCidrs: options.apiServerCidrs, apiServerPorts: options.apiServerPorts },
    sidecars: backups.sidecars,
    egress: backups.egress,
    annotations: backups.annotations,
    backupMetrics: backups.backupMetrics,
  };
}

/** `wsrepSyncWait`, checked: a bit mask of 0 to 15. */
function syncWaitOf(ctx: EngineContext, value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 15) {
    engineFail(ctx, 'mariadbGalera', `wsrepSyncWait must be a whole number from 0 to 15 (1 reads, 2 UPDATE and DELETE, 4 INSERT and REPLACE, 8 SHOW, added up), got ${Number.isNaN(value) ? 'NaN' : JSON.stringify(value)}. Fix: wsrepSyncWait: 1 for reads that see every write committed before them.`);
  }
  return String(value);
}

/**
 * `recover` (the database image, with the data volume) finds the member's last committed
 * position; `decide` (the API client image) records it in the set's bootstrap Lease and decides
 * whether this member bootstraps the cluster or joins it (galera-decide.sh).
 */
function galeraDecision(ctx: EngineContext, image: string, apiClientImage: string, dataDir: kplus.EnvValue, force: boolean): InitContainer[] {
  const run = { volume: 'run', path: RUN_PATH };
  return [
    {
      name: 'recover',
      image,
      runsServer: true,
      command: runScript('galera-recover.sh'),
      env: { DATA_DIR: dataDir, RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH) },
      // the server's own configuration (galera.cnf: the wsrep provider): InnoDB's crash recovery
      // refuses to run with fewer engines than the server had ("Fewer engines are enabled now")
      mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }, run, { volume: 'config', path: CONFIG_PATH }],
    },
    {
      name: 'decide',
      image: apiClientImage,
      command: ['sh', ...runScript('galera-decide.sh').slice(1)],
      env: {
        ...identityEnv(ctx),
        RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH),
        SET_NAME: kplus.EnvValue.fromValue(ctx.name),
        LEASE_NAME: kplus.EnvValue.fromValue(`${ctx.name}-galera`),
        ...(force ? { GALERA_FORCE_BOOTSTRAP: kplus.EnvValue.fromValue('1') } : {}),
      },
      mounts: [run],
    },
  ];
}

/** `install` copies the start and probe scripts into the work dir; `bootstrap` writes the config (with BINLOG, the binary log's settings). */
function galeraInitContainers(ctx: EngineContext, image: string, dataDir: kplus.EnvValue, gcache: number, binlog: boolean): InitContainer[] {
  return [
    {
      name: 'install',
      image,
      command: runScript('galera-install.sh'),
      env: { WORK_DIR: kplus.EnvValue.fromValue(WORK_PATH) },
      mounts: [{ volume: 'workdir', path: WORK_PATH }],
    },
    {
      name: 'bootstrap',
      image,
      command: runScript('galera-bootstrap.sh'),
      env: {
        ...identityEnv(ctx),
        DATA_DIR: dataDir,
        CONFIG_DIR: kplus.EnvValue.fromValue(CONFIG_PATH),
        CLUSTER_NAME: kplus.EnvValue.fromValue(ctx.name),
        GCACHE_SIZE: kplus.EnvValue.fromValue(`${gcache}K`),
        ...(binlog ? { BINLOG: kplus.EnvValue.fromValue('on') } : {}),
      },
      mounts: [{ volume: 'config', path: CONFIG_PATH }],
    },
  ];
}
