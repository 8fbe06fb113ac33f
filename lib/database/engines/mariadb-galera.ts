import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition, InitContainer } from '../engine-definition';
import { checkVersion, engineBinder, engineFail, identityEnv, mysqlConfigLines, requireCredentials, runScript, scriptFiles, scriptProbes, sizeOptionKib } from './private/preset-helpers';
import { ImageVersion } from './image-version';

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
   * Recovery after a full outage when a member is gone for good: the members that are up elect
   * the most advanced among themselves and bootstrap the cluster from it, instead of waiting for
   * every member to publish its state. Transactions that only the missing members committed are
   * lost. Set it, apply, wait for the cluster, then remove it.
   * @see docs/engines.md, "MariaDB Galera"
   * @default false
   */
  readonly forceBootstrap?: boolean;
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
}

const CONFIG_PATH = '/etc/mysql/conf.d';
const WORK_PATH = '/work-dir';
const RUN_PATH = '/run/mysqld';
const STATE_PORT = 4569;

/** Settings galera-bootstrap.sh writes: the map of `config` must not override them. */
const MANAGED = ['datadir', 'bind-address', 'bind_address', 'binlog_format', 'default_storage_engine', 'innodb_autoinc_lock_mode',
  'wsrep_on', 'wsrep_provider', 'wsrep_cluster_name', 'wsrep_cluster_address', 'wsrep_node_name', 'wsrep_sst_method', 'wsrep_sst_auth',
  'wsrep_provider_options', 'innodb_buffer_pool_size', 'max_connections'];

/** The MariaDB Galera preset; see {@link DatabaseEngine.mariadbGalera}. */
export function mariadbGaleraDefinition(options: MariaDbGaleraOptions = {}): EngineDefinition {
  const version = options.version ?? MariaDbVersion.VER_11_8_3;
  const image = version.image;
  return {
    name: 'mariadb-galera',
    image,
    ports: [
      { name: 'mysql', port: 3306 },
      { name: 'sst', port: 4444, peer: true },
      { name: 'gcomm', port: 4567, peer: true },
      { name: 'ist', port: 4568, peer: true },
      // galera-start.sh publishes this member's last committed position there while the members
      // agree which of them bootstraps the cluster
      { name: 'state', port: STATE_PORT, peer: true },
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
    // the startup probe does not ask for the cluster connection (see galera-probe.sh)
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
  const extra = mysqlConfigLines(ctx, 'mariadbGalera', options, MANAGED);
  // a subdirectory of the claim: a state transfer empties the data directory, and a fresh ext4
  // volume's root holds a lost+found that the database user cannot remove
  const dataDir = kplus.EnvValue.fromValue(`${ctx.dataPath}/data`);
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
      STATE_PORT: kplus.EnvValue.fromValue(String(STATE_PORT)),
      ...(options.forceBootstrap ? { GALERA_FORCE_BOOTSTRAP: kplus.EnvValue.fromValue('1') } : {}),
    },
    scratchVolumes: ['config', 'workdir', 'run'],
    mounts: [
      { volume: 'config', path: CONFIG_PATH, readOnly: true },
      { volume: 'workdir', path: WORK_PATH, readOnly: true },
      { volume: 'run', path: RUN_PATH },
      // run by the entrypoint at the end of a first initialization: marks it finished
      { volume: 'scripts', path: '/docker-entrypoint-initdb.d/90-cdk8s-initialized.sh', subPath: 'galera-initdb.sh', readOnly: true },
    ],
    initContainers: galeraInitContainers(ctx, image, dataDir, gcache),
    files: {
      ...scriptFiles('galera-install.sh', 'galera-bootstrap.sh', 'galera-start.sh', 'galera-state.sh', 'galera-probe.sh', 'galera-initdb.sh'),
      ...(extra.length > 0 ? { 'engine.conf': extra.join('\n') + '\n' } : {}),
    },
  };
}

/** `install` copies the start and probe scripts into the work dir; `bootstrap` writes the config. */
function galeraInitContainers(ctx: EngineContext, image: string, dataDir: kplus.EnvValue, gcache: number): InitContainer[] {
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
      },
      mounts: [{ volume: 'config', path: CONFIG_PATH }],
    },
  ];
}
