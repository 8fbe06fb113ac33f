import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition, InitContainer } from '../engine-definition';
import type { ApiClientOptions } from './api-client';
import { withFounding } from './private/founding';
import { checkVersion, engineBinder, configLines, engineFail, identityEnv, memoryLimitEnv, requireCredentials, runScript, scriptFiles, scriptProbes, sizeOptionKib } from './private/preset-helpers';
import { ImageVersion } from './image-version';
import { RedisBackupOptions, RedisRestoreOptions, redisBackupBinding } from './redis-backup';
import { dataMarkers, RedisSentinelOptions, SENTINEL_PORT, sentinelAccess, sentinelContainers, sentinelServerEnv, sentinelSettings } from './redis-sentinel';

/**
 * A version of the official `redis` image (Docker Hub library image, Debian based).
 * An enum-like class: a constant, or `of()` for any other tag from 7.0 on.
 */
export class RedisVersion extends ImageVersion {
  /** Redis 7.2.6. */
  public static readonly VER_7_2_6 = new RedisVersion('7.2.6');
  /** Redis 7.4.1. Superseded by {@link VER_7_4_5}. */
  public static readonly VER_7_4_1 = new RedisVersion('7.4.1');
  /** Redis 7.4.5. */
  public static readonly VER_7_4_5 = new RedisVersion('7.4.5');
  /** Redis 8.2.1 (RSALv2, SSPLv1 or AGPLv3). */
  public static readonly VER_8_2_1 = new RedisVersion('8.2.1');

  /** Any tag of the official image, e.g. `8.2.2`; pin a patch release. Alpine variants lack bash: use the Debian ones. */
  public static of(version: string): RedisVersion {
    return new RedisVersion(version);
  }

  private constructor(version: string) {
    super('redis', version);
  }
}

/** What Redis does when `maxmemory` is reached. */
export enum RedisMaxmemoryPolicy {
  /** Refuse writes that need more memory: no key is ever dropped. */
  NOEVICTION = 'noeviction',
  /** Drop the least recently used keys, any of them (a cache). */
  ALLKEYS_LRU = 'allkeys-lru',
  /** Drop the least frequently used keys, any of them (a cache). */
  ALLKEYS_LFU = 'allkeys-lfu',
  /** Drop the least recently used keys that have an expiry. */
  VOLATILE_LRU = 'volatile-lru',
  /** Drop the least frequently used keys that have an expiry. */
  VOLATILE_LFU = 'volatile-lfu',
  /** Drop the keys that expire soonest. */
  VOLATILE_TTL = 'volatile-ttl',
}

/** Options of {@link DatabaseEngine.redis}. */
export interface RedisOptions {
  /**
   * The server version.
   * @default RedisVersion.VER_8_2_1
   */
  readonly version?: RedisVersion;
  /**
   * `maxmemory`: the most the data set may use, at least 1 MiB. Keep it under half the memory
   * limit: a full sync or an AOF rewrite forks the server, and the fork's copied pages count
   * against the same limit.
   * @default - 45% of the container's memory limit, read at start (downward API)
   */
  readonly maxmemory?: Size;
  /**
   * What happens when `maxmemory` is reached.
   * @default RedisMaxmemoryPolicy.NOEVICTION - writes fail; no key is dropped
   */
  readonly maxmemoryPolicy?: RedisMaxmemoryPolicy;
  /**
   * More settings for redis.conf, by their Redis name, e.g. `{ 'hz': '20' }`. The settings the
   * preset manages (port, bind, dir, persistence, passwords, replication, maxmemory) are refused.
   * @default - none
   */
  readonly config?: { [name: string]: string };
  /**
   * Sentinel decides which member is the master and fails over when it is lost: a Sentinel
   * beside each member, the members start as the Sentinels say, and the client Service follows
   * the current master (a role label each pod keeps). Needs at least 3 members.
   * @default - no failover: the first ordinal is the primary
   */
  readonly sentinel?: RedisSentinelOptions;
  /**
   * How the members reach the Kubernetes API. A set of more than one member records, once, that
   * it was founded (the Lease `<name>-founded`): a first member whose volume is empty starts a
   * new data set only if it creates that Lease, and otherwise copies a member with data, waiting
   * for one however long the others refuse connections. Its pods get a ServiceAccount token with
   * a Role that can read that Lease and create Leases, nothing else.
   * @default - the default image, any API server address on ports 443 and 6443
   */
  readonly apiClient?: ApiClientOptions;
  /**
   * RDB snapshots to S3-compatible storage: the sidecar `backup` of the primary's pod (with
   * `sentinel`: of the master's pod, as the Sentinels name it) takes a snapshot of a healthy
   * replica (or of the primary) on a cron schedule with `redis-cli --rdb`, checks it with
   * `redis-check-rdb` and uploads it with rclone, then its SHA-256; the newest `retainBackups` are
   * kept. A snapshot holds the data as of the moment it was taken: writes after it are not in it
   * (no point-in-time recovery). Needs an image with rclone (`backup.image`). See docs/engines.md,
   * Redis backups.
   * @default - no backups
   */
  readonly backup?: RedisBackupOptions;
  /**
   * Create this set from a snapshot: its first member, when its volume is empty and it founds the
   * set (it created the Lease `<name>-founded`; a single member: whenever its volume is empty;
   * with `sentinel`: the API server has no such Lease yet), downloads the latest snapshot (or
   * `restoreFrom.backup`), checks its SHA-256 and `redis-check-rdb`, and starts from it as the
   * primary (the master); the replicas copy it as in any new set. A snapshot that fails a check
   * stops the init container (`config`, or `restore` with `sentinel`) with a message naming the
   * object: the set never starts empty instead. A member with data, or of a set founded already,
   * never restores.
   * @default - a new, empty data set
   */
  readonly restoreFrom?: RedisRestoreOptions;
}

const PORT = 6379;
const CONFIG_PATH = '/etc/redis';
const MANAGED = ['port', 'bind', 'dir', 'appendonly', 'requirepass', 'masterauth', 'masteruser', 'replicaof', 'slaveof', 'replica-read-only',
  'maxmemory', 'maxmemory-policy', 'include', 'rename-command', 'unixsocket', 'daemonize', 'aclfile'];

/** The Redis primary/replicas preset; see {@link DatabaseEngine.redis}. */
export function redisDefinition(options: RedisOptions = {}): EngineDefinition {
  const version = options.version ?? RedisVersion.VER_8_2_1;
  // with snapshots or a restore, every container runs the image with rclone
  const image = options.restoreFrom?.image ?? options.backup?.image ?? version.image;
  const sentinel = options.sentinel;
  return {
    name: 'redis',
    image,
    ports: [{ name: 'redis', port: PORT }, ...(sentinel !== undefined ? [{ name: 'sentinel', port: SENTINEL_PORT }] : [])],
    dataPath: '/data',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    // a primary that lost its volume learns from the running replicas that it must copy them
    parallelStart: true,
    defaultReplicas: 3,
    // with Sentinel, every start of the server first asks the Sentinels which member is the master
    ...(sentinel !== undefined ? { command: runScript('redis-sentinel-start.sh') } : { args: ['redis-server', `${CONFIG_PATH}/redis.conf`] }),
    // ready: an authenticated PING answers PONG and a replica is linked to its primary; live: the
    // server answers a PING at all, without the password, so that a rotated Secret never gets a
    // running server killed
    ...scriptProbes((kind) => runScript('redis-probe.sh', kind)),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'redis', version.version, { major: 7, minor: 0 }, "the 'bind * -::*' syntax and replicaof a host name");
      const secrets = requireCredentials(ctx, 'redis', 'without requirepass any pod that reaches the Service can read and write every key');
      const maxmemory = sizeOptionKib(ctx, 'redis', 'maxmemory', options.maxmemory, 1024);
      const policy = options.maxmemoryPolicy ?? RedisMaxmemoryPolicy.NOEVICTION;
      if (!Object.values(RedisMaxmemoryPolicy).includes(policy)) {
        engineFail(ctx, 'redis', `maxmemoryPolicy must be a RedisMaxmemoryPolicy, got ${JSON.stringify(policy)}. Fix: e.g. RedisMaxmemoryPolicy.NOEVICTION.`);
      }
      const extra = configLines(ctx, 'redis', {}, options.config, { name: /^[a-z][a-z0-9-]*$/, managed: MANAGED, line: (n, v) => `${n} ${v}` });
      const serverEnv = {
        ...memoryLimitEnv(),
        DATA_DIR: kplus.EnvValue.fromValue(ctx.dataPath),
        CONFIG_DIR: kplus.EnvValue.fromValue(CONFIG_PATH),
        ...(maxmemory !== undefined ? { MAXMEMORY: kplus.EnvValue.fromValue(`${maxmemory}kb`) } : {}),
        MAXMEMORY_POLICY: kplus.EnvValue.fromValue(policy),
      };
      const engineConf: { [name: string]: string } = extra.length > 0 ? { 'engine.conf': extra.join('\n') + '\n' } : {};
      if (sentinel !== undefined) {
        const settings = sentinelSettings(ctx, sentinel);
        // the master's pod takes the snapshots, of a replica the Sentinels report
        const backups = redisBackupBinding(ctx, options.backup, options.restoreFrom, secrets.password, { SENTINEL_PORT: String(SENTINEL_PORT), SET_NAME: ctx.name });
        const containers = sentinelContainers(ctx, settings, image, CONFIG_PATH, secrets.password, options.restoreFrom !== undefined);
        return {
          env: { ...identityEnv(ctx), ...serverEnv, ...secrets.password, ...sentinelServerEnv(ctx, settings) },
          // redis.conf and sentinel.conf hold the password: memory-backed, never on the node's disk;
          // writable: the start script writes redis.conf at every start, Sentinel rewrites its own
          memoryVolumes: ['config'],
          mounts: [{ volume: 'config', path: CONFIG_PATH }],
          initContainers: [...containers.initContainers, ...sentinelRestore(ctx, options.restoreFrom, image, { ...serverEnv, ...secrets.password, ...backups.restoreEnv })],
          sidecars: [...containers.sidecars, ...backups.sidecars],
          ...sentinelAccess(sentinel),
          egress: backups.egress,
          annotations: backups.annotations,
          backupMetrics: backups.backupMetrics,
          files: {
            ...scriptFiles('redis-sentinel-start.sh', 'redis-monitoring-user.sh', 'redis-sentinel.sh', 'redis-role-keeper.sh', 'kube-api.sh', 'redis-probe.sh', ...backups.files),
            ...engineConf,
          },
        };
      }
      return pinnedPrimaryBinding(ctx, options, image, serverEnv, secrets.password, engineConf);
    }),
  };
}

/**
 * With Sentinel and `restoreFrom`: the init container `restore`, after `founded`: the first member
 * of a set never founded, its volume empty, starts from the snapshot (redis-restore.sh).
 */
function sentinelRestore(ctx: EngineContext, restore: RedisRestoreOptions | undefined, image: string, env: { [name: string]: kplus.EnvValue }): InitContainer[] {
  if (restore === undefined) return [];
  return [{
    name: 'restore',
    image,
    // a temporary server loads the snapshot: it needs the database's memory
    runsServer: true,
    command: runScript('redis-restore.sh', 'sentinel'),
    env: { ...identityEnv(ctx), ...env, SET_NAME: kplus.EnvValue.fromValue(ctx.name), FOUNDED_FILE: kplus.EnvValue.fromValue(`${CONFIG_PATH}/founded`) },
    mounts: [{ volume: 'config', path: CONFIG_PATH }, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
  }];
}

/** Without Sentinel: the first ordinal is the primary; its pod takes the snapshots, a new one may start from one. */
function pinnedPrimaryBinding(ctx: EngineContext, options: RedisOptions, image: string, serverEnv: { [name: string]: kplus.EnvValue },
  password: { [name: string]: kplus.EnvValue }, engineConf: { [name: string]: string }): EngineBinding {
  const backups = redisBackupBinding(ctx, options.backup, options.restoreFrom, password);
  return withFounding(ctx, 'redis', options.apiClient, {
    primaryOrdinal: ctx.startOrdinal,
    // the readiness probe authenticates with the password from the Secret's file
    env: { ...password },
    // redis.conf holds the password: memory-backed, never on the node's disk
    memoryVolumes: ['config'],
    mounts: [{ volume: 'config', path: CONFIG_PATH, readOnly: true }],
    initContainers: [{
      name: 'config',
      image,
      // an empty primary copies a peer's data with a temporary server: it needs the database's memory
      runsServer: true,
      command: runScript('redis-config.sh'),
      env: { ...identityEnv(ctx), ...serverEnv, ...password, ...backups.restoreEnv },
      // writable: a primary that lost its data copies a replica into it before it starts
      mounts: [{ volume: 'config', path: CONFIG_PATH }, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
    }],
    sidecars: backups.sidecars,
    egress: backups.egress,
    backupMetrics: backups.backupMetrics,
    annotations: backups.annotations,
    files: {
      ...scriptFiles('redis-config.sh', 'redis-monitoring-user.sh', 'redis-probe.sh', ...backups.files),
      ...engineConf,
    },
  }, { engineInit: 'config', dataMarkers: dataMarkers(ctx) });
}
