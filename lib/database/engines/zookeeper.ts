import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext, EngineDefinition, SidecarContainer } from '../engine-definition';
import type { ApiClientOptions } from './api-client';
import { SCRIPTS_PATH } from './private/engine-scripts';
import { withFounding } from './private/founding';
import { checkVersion, engineBinder, engineFail, identityEnv, pinnedApiClientImage, runScript, scriptFiles, scriptProbes } from './private/preset-helpers';
import { ImageVersion } from './image-version';
import { ZooKeeperBackupOptions, ZooKeeperRestoreOptions, zookeeperBackupBinding } from './zookeeper-backup';

/**
 * A version of the official `zookeeper` image (Docker Hub library image).
 * An enum-like class: a constant, or `of()` for any other tag from 3.6 on.
 */
export class ZooKeeperVersion extends ImageVersion {
  /** ZooKeeper 3.8.4. */
  public static readonly VER_3_8_4 = new ZooKeeperVersion('3.8.4');
  /** ZooKeeper 3.9.3. Superseded by {@link VER_3_9_5}. */
  public static readonly VER_3_9_3 = new ZooKeeperVersion('3.9.3');
  /** ZooKeeper 3.9.5. */
  public static readonly VER_3_9_5 = new ZooKeeperVersion('3.9.5');

  /** Any tag of the official image, e.g. `3.9.4`; pin a patch release. */
  public static of(version: string): ZooKeeperVersion {
    return new ZooKeeperVersion(version);
  }

  private constructor(version: string) {
    super('zookeeper', version);
  }
}

/** Options of {@link DatabaseEngine.zookeeper}. */
export interface ZooKeeperOptions {
  /**
   * The server version (3.6 or later: the members change the ensemble with `reconfig`).
   * @default ZooKeeperVersion.VER_3_9_5
   */
  readonly version?: ZooKeeperVersion;
  /**
   * How the members reach the Kubernetes API. The set records, once, that it was founded (the
   * Lease `<name>-founded`): only the member that creates it starts a new ensemble; every other
   * member whose volume is empty joins the live ensemble without a vote and is added once it has
   * synced. The sidecar `members` reads the StatefulSet's replica count, so that the leader removes
   * the members a scale-down took away. The pods get a ServiceAccount token with a Role that can
   * read that Lease, create Leases and read this StatefulSet, nothing else.
   * @default - the default image, any API server address on ports 443 and 6443
   */
  readonly apiClient?: ApiClientOptions;
  /**
   * Backups to S3-compatible storage: on the cron schedule, the sidecar `backup` of one member (the
   * serving follower with the highest server id, the leader when no follower serves) copies its
   * newest snapshot and every transaction log from that snapshot's zxid on (the logs make the fuzzy
   * snapshot one consistent state when replayed) and uploads them as one tar named by the time and
   * the snapshot's zxid, then its SHA-256; the newest `retainBackups` are kept. The sidecar serves
   * the outcome to Prometheus (the backup alerts). Needs an image with rclone (`backup.image`) and
   * the keys in the credentials Secret. See docs/engines.md, ZooKeeper backups.
   * @default - no backups
   */
  readonly backup?: ZooKeeperBackupOptions;
  /**
   * Create the ensemble from a backup: the member whose volume founds the ensemble (the founding
   * Lease) downloads the latest backup (or `restoreFrom.backup`), checks its SHA-256 and that it
   * holds a complete snapshot, and starts from it; the other members join and sync from it. A
   * backup that fails a check stops that member with a message naming the object: no empty
   * ensemble starts. Applies only to an empty volume; a member with data never replaces it.
   * @default - a new, empty ensemble
   */
  readonly restoreFrom?: ZooKeeperRestoreOptions;
}

const CONFIG_PATH = '/conf';
const INIT_CONFIG_PATH = '/cdk8s-conf';
const MEMBERS_PATH = '/var/run/cdk8s-members';
const ADMIN_PATH = '/var/run/cdk8s-admin';

/** Small requests and limits for the sidecar (a shell loop and one API call every few seconds). */
const SIDECAR_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
  memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
};

/** Where the member itself is reached: `<pod>.<MEMBER_DOMAIN>`, the domain of the headless Service. */
function memberDomain(ctx: EngineContext): string {
  const first = ctx.peerAddresses[0];
  return first ? first.split('.').slice(1).join('.') : ctx.headlessServiceName;
}

/**
 * The environment of every ZooKeeper container: no member list (which would change the pod
 * template, and roll every member, on each resize): the ensemble's membership lives in ZooKeeper.
 */
function memberEnv(ctx: EngineContext): { [name: string]: kplus.EnvValue } {
  const { PEERS: _peers, ...identity } = identityEnv(ctx);
  const value = kplus.EnvValue.fromValue;
  return {
    ...identity,
    MEMBER_DOMAIN: value(memberDomain(ctx)),
    REPLICAS_FILE: value(`${MEMBERS_PATH}/replicas`),
    ADMIN_DIR: value(ADMIN_PATH),
  };
}

/** The Role's rule beside the founding Lease's: read this StatefulSet (its replica count). */
function replicasRule(ctx: EngineContext): ApiRule {
  return { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get'], resourceNames: [ctx.name] };
}

/** The sidecar `members`: the StatefulSet's replica count, kept in REPLICAS_FILE. */
function membersSidecar(ctx: EngineContext, options: ApiClientOptions): SidecarContainer {
  return {
    name: 'members',
    image: pinnedApiClientImage((message) => engineFail(ctx, 'zookeeper', message), 'apiClient.apiClientImage', options.apiClientImage),
    command: ['sh', `${SCRIPTS_PATH}/zookeeper-replicas.sh`],
    env: { SET_NAME: kplus.EnvValue.fromValue(ctx.name), REPLICAS_FILE: kplus.EnvValue.fromValue(`${MEMBERS_PATH}/replicas`) },
    mounts: [{ volume: 'members', path: MEMBERS_PATH }],
    resources: SIDECAR_RESOURCES,
  };
}

/** The ZooKeeper ensemble preset; see {@link DatabaseEngine.zookeeper}. */
export function zookeeperDefinition(options: ZooKeeperOptions = {}): EngineDefinition {
  const version = options.version ?? ZooKeeperVersion.VER_3_9_5;
  // with backups or a restore, every container runs the image with rclone (checked at bind time)
  const image = options.restoreFrom?.image ?? options.backup?.image ?? version.image;
  return {
    name: 'zookeeper',
    image,
    ports: [
      { name: 'client', port: 2181 },
      { name: 'peer', port: 2888, peer: true },
      { name: 'election', port: 3888, peer: true },
    ],
    dataPath: '/data',
    runAsUser: 1000,
    readOnlyRootFilesystem: true,
    quorum: true,
    // readiness means "serving", which needs a quorum: members must start together
    parallelStart: true,
    defaultReplicas: 3,
    ...scriptProbes((kind) => runScript('zookeeper-probe.sh', kind), Duration.minutes(10)),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'zookeeper', version.version, { major: 3, minor: 6 }, "'reconfig' with a dynamic config file and zkCli's -waitforconnection");
      const env = memberEnv(ctx);
      const value = kplus.EnvValue.fromValue;
      const client = options.apiClient ?? {};
      const backups = zookeeperBackupBinding(ctx, options.backup, options.restoreFrom);
      const bound = withFounding(ctx, 'zookeeper', client, {
        env: {
          ...env,
          // zkEnv.sh defaults to a 1000 MiB heap, more than the default 1 GiB memory limit leaves
          ZK_SERVER_HEAP: value('512'),
          DATA_DIR: value(ctx.dataPath),
        },
        command: runScript('zookeeper-start.sh'),
        scratchVolumes: ['conf', 'logs', 'members'],
        // the password of the member's own superuser, made at each start, never on disk
        memoryVolumes: ['admin'],
        mounts: [
          { volume: 'conf', path: CONFIG_PATH, readOnly: true },
          { volume: 'logs', path: '/logs' },
          { volume: 'members', path: MEMBERS_PATH, readOnly: true },
          { volume: 'admin', path: ADMIN_PATH },
        ],
        initContainers: [{
          name: 'config',
          image,
          command: runScript('zookeeper-config.sh'),
          env: {
            ...env,
            DATA_DIR: value(ctx.dataPath),
            CONFIG_DIR: value(INIT_CONFIG_PATH),
            IMAGE_CONF_DIR: value(CONFIG_PATH),
            ...backups.restoreEnv,
          },
          mounts: [{ volume: 'conf', path: INIT_CONFIG_PATH }, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
        }],
        // a single member has nobody to remove (and cannot drop below one)
        sidecars: [...(ctx.replicas > 1 ? [membersSidecar(ctx, client)] : []), ...backups.sidecars],
        files: scriptFiles('zookeeper-config.sh', 'zookeeper-start.sh', 'zookeeper-members.sh', 'zookeeper-replicas.sh', 'zookeeper-probe.sh', 'kube-api.sh',
          ...backups.files),
        egress: backups.egress,
        annotations: backups.annotations,
        backupMetrics: backups.backupMetrics,
      }, { engineInit: 'config', dataMarkers: [`${ctx.dataPath}/version-2`, `${ctx.dataPath}/conf/zoo.cfg`, `${ctx.dataPath}/cdk8s-ensemble`] });
      if (!bound.apiAccess) return bound;
      return { ...bound, apiAccess: { ...bound.apiAccess, rules: [...bound.apiAccess.rules, replicasRule(ctx)] } };
    }),
  };
}
