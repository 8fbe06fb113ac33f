import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine-definition';
import type { ApiClientOptions } from './api-client';
import { withFounding } from './private/founding';
import { checkVersion, engineBinder, engineFail, identityEnv, requireCredentials, runScript, mysqlConfigLines, scriptFiles, scriptProbes } from './private/preset-helpers';
import { ImageVersion } from './image-version';
import { mysqlBackupBinding, MysqlBackupOptions, MysqlRestoreOptions } from './mysql-backup';
import { groupBinding, groupPorts, groupProbes, MysqlGroupReplicationOptions } from './mysql-group';

/**
 * A version of the official `mysql` image (Docker Hub library image, Oracle Linux based).
 * An enum-like class: a constant, or `of()` for any other tag from 8.0.26 on.
 */
export class MysqlVersion extends ImageVersion {
  /** MySQL 8.0.40 (the 8.0 line ends in April 2026). */
  public static readonly VER_8_0_40 = new MysqlVersion('8.0.40');
  /** MySQL 8.4.3, a long-term-support release. Superseded by {@link VER_8_4_6}. */
  public static readonly VER_8_4_3 = new MysqlVersion('8.4.3');
  /** MySQL 8.4.6, a long-term-support release (the 8.4 line ends in April 2032). */
  public static readonly VER_8_4_6 = new MysqlVersion('8.4.6');
  /** MySQL 9.7.4, the long-term-support release (the version the real-node suite runs). */
  public static readonly VER_9_7_4 = new MysqlVersion('9.7.4');

  /** Any tag of the official image, e.g. `8.4.4`; pin a patch release. */
  public static of(version: string): MysqlVersion {
    return new MysqlVersion(version);
  }

  private constructor(version: string) {
    super('mysql', version);
  }
}

/** Options of {@link DatabaseEngine.mysql}. */
export interface MysqlOptions {
  /**
   * The server version.
   * @default MysqlVersion.VER_9_7_4
   */
  readonly version?: MysqlVersion;
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
   * More server settings for the `[mysqld]` section of the config file, by their server name,
   * e.g. `{ long_query_time: '2' }`. The settings the preset manages (identity, GTIDs, logs,
   * read-only) are refused.
   * @default - none
   */
  readonly config?: { [name: string]: string };
  /**
   * Group Replication instead of asynchronous replicas: a single-primary group that elects its
   * primary by its own consensus and fails over by itself. The group is bootstrapped once, by the
   * member that creates the Lease `<name>-group`; each pod is labelled with its member's role, and
   * the client Service `<name>` follows the primary, `<name>-read` the secondaries. The members get
   * a ServiceAccount with a Role limited to that Lease and their pods' labels. See docs/engines.md,
   * "MySQL with Group Replication".
   * @default - asynchronous replication from the first member, no failover
   */
  readonly groupReplication?: MysqlGroupReplicationOptions;
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
   * Physical backups to S3-compatible storage: the sidecar `backup` of the member with the highest
   * ordinal (a replica; the primary in a set of one) has its server clone itself with the clone
   * plugin (`CLONE LOCAL DATA DIRECTORY`) into a directory of its volume, streams that consistent
   * data directory as a tar to the repository with rclone on a cron schedule, its SHA-256 taken on
   * the way and checked by reading the object back, then uploads its checksum object and removes
   * the local copy; the newest `retainBackups` are kept. A backup is the state at the moment it was
   * taken; with `backup.binlogArchiveInterval` the same sidecar also archives that member's binary
   * log, so that `restoreFrom.pointInTime` can reach any moment it covers. Needs an image with
   * rclone (`backup.image`). Not with `groupReplication`. See docs/engines.md, MySQL backups.
   * @default - no backups
   */
  readonly backup?: MysqlBackupOptions;
  /**
   * Create this set from a backup: its first member, when its volume holds no data directory,
   * downloads the latest complete backup (or `restoreFrom.backup`), checks its SHA-256, extracts
   * it into a staging directory, drops the replication settings it carried (with
   * `restoreFrom.pointInTime`, replays the archived binary log up to that moment), and only then
   * moves it into place (the init container `restore`); the replicas then clone the first member. A
   * backup that fails a check stops the init container with a message naming it, and no server
   * starts. The restored data keeps the backed-up set's accounts: the credentials Secret must hold
   * its root and replication passwords. Not with `groupReplication`.
   * @default - a new, empty set
   */
  readonly restoreFrom?: MysqlRestoreOptions;
}

const PORT = 3306;
const CONFIG_PATH = '/etc/mysql/conf.d';
const RUN_PATH = '/var/run/mysqld';
const MANAGED = ['datadir', 'server-id', 'server_id', 'gtid_mode', 'gtid-mode', 'enforce_gtid_consistency', 'enforce-gtid-consistency', 'log_bin', 'log-bin',
  'relay_log', 'relay-log', 'relay_log_recovery', 'skip_replica_start', 'plugin-load-add', 'report_host', 'read_only', 'super_read_only',
  'innodb_buffer_pool_size', 'max_connections'];
/** Settings the group mode manages too. */
const GROUP_MANAGED = ['skip_networking', 'skip-networking', ...['group_name', 'start_on_boot', 'bootstrap_group', 'single_primary_mode',
  'communication_stack', 'local_address', 'group_seeds', 'ip_allowlist', 'ssl_mode', 'recovery_use_ssl', 'member_expel_timeout',
  'unreachable_majority_timeout', 'exit_state_action', 'autorejoin_tries', 'consistency', 'clone_threshold']
  .flatMap((n) => [`group_replication_${n}`, `loose-group_replication_${n}`])];

/** The MySQL primary/replicas preset; see {@link DatabaseEngine.mysql}. */
export function mysqlDefinition(options: MysqlOptions = {}): EngineDefinition {
  const version = options.version ?? MysqlVersion.VER_9_7_4;
  if (options.groupReplication !== undefined) return mysqlGroupDefinition(options, version, options.groupReplication);
  // with backups or a restore, every container runs the image with rclone
  const image = options.restoreFrom?.image ?? options.backup?.image ?? version.image;
  return {
    name: 'mysql',
    image,
    ports: [{ name: 'mysql', port: PORT }],
    dataPath: '/var/lib/mysql',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    // a primary that lost its volume learns from the running replicas that it must copy one
    parallelStart: true,
    defaultReplicas: 3,
    command: runScript('mysql-start.sh'),
    ...scriptProbes((kind) => runScript('mysql-probe.sh', kind)),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'mysql', version.version, { major: 8, minor: 0, patch: 26 },
        'the clone plugin, CHANGE REPLICATION SOURCE and skip_replica_start');
      const secrets = requireCredentials(ctx, 'mysql', 'the image needs a root password and the replicas a replication password');
      const extra = mysqlConfigLines(ctx, 'mysql', options, MANAGED);
      const dataVolume = ctx.dataVolume ?? 'data';
      // a subdirectory: `mysqld --initialize` refuses a directory with anything in it, and a
      // fresh ext4 volume holds lost+found
      const dataDir = kplus.EnvValue.fromValue(`${ctx.dataPath}/data`);
      // the preset's scripts read the passwords from the Secret's files (read_secret in common.sh);
      // mysql-start.sh points the entrypoint's MYSQL_ROOT_PASSWORD_FILE at the ROOT_KEY file
      const keys = { ...secrets.root, ...secrets.replication };
      const backups = mysqlBackupBinding(ctx, options.backup, options.restoreFrom, { dataDir, runPath: RUN_PATH, keys });
      return withFounding(ctx, 'mysql', options.apiClient, {
        primaryOrdinal: ctx.startOrdinal,
        env: { ...identityEnv(ctx), ...keys, DATA_DIR: dataDir },
        // a replica leaves replication while its network works (see mysql-prestop.sh)
        preStop: runScript('mysql-prestop.sh'),
        scratchVolumes: ['config', 'run'],
        mounts: [
          { volume: 'config', path: CONFIG_PATH, readOnly: true },
          { volume: 'run', path: RUN_PATH },
          // run once by the entrypoint when it initializes the primary
          { volume: 'scripts', path: '/docker-entrypoint-initdb.d/10-replication-account.sh', subPath: 'mysql-initdb.sh', readOnly: true },
        ],
        initContainers: [
          {
            name: 'config',
            image,
            command: runScript('mysql-config.sh'),
            env: { ...identityEnv(ctx), DATA_DIR: dataDir, CONFIG_DIR: kplus.EnvValue.fromValue(CONFIG_PATH) },
            mounts: [{ volume: 'config', path: CONFIG_PATH }],
          },
          // a new set's first member restores before the clone would look for a donor
          ...backups.initContainers,
          {
            name: 'clone',
            image,
            // a throwaway server clones a peer's data: it needs the database's memory
            runsServer: true,
            command: runScript('mysql-clone.sh'),
            env: { ...identityEnv(ctx), ...keys, DATA_DIR: dataDir, RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH) },
            mounts: [{ volume: dataVolume, path: ctx.dataPath }, { volume: 'run', path: RUN_PATH }],
          },
        ],
        files: {
          ...scriptFiles('mysql-start.sh', 'mysql-config.sh', 'mysql-clone.sh', 'mysql-initdb.sh', 'mysql-probe.sh', 'mysql-prestop.sh', ...backups.files),
          ...(extra.length > 0 ? { 'engine.conf': extra.join('\n') + '\n' } : {}),
        },
        sidecars: backups.sidecars,
        egress: backups.egress,
        backupMetrics: backups.backupMetrics,
        annotations: backups.annotations,
      }, { engineInit: 'clone', dataMarkers: [`${ctx.dataPath}/data/mysql`] });
    }),
  };
}

/** The MySQL preset with Group Replication; see `MysqlOptions.groupReplication`. */
function mysqlGroupDefinition(options: MysqlOptions, version: MysqlVersion, group: MysqlGroupReplicationOptions): EngineDefinition {
  const image = version.image;
  const refused = (['backup', 'restoreFrom'] as const).filter((prop) => options[prop] !== undefined);
  return {
    name: 'mysql',
    image,
    ports: groupPorts(),
    dataPath: '/var/lib/mysql',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    parallelStart: true,
    defaultReplicas: 3,
    quorum: true,
    command: runScript('mysql-start.sh'),
    ...groupProbes(),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'mysql', version.version, { major: 8, minor: 0, patch: 27 },
        'Group Replication with START GROUP_REPLICATION USER/PASSWORD, the clone threshold and the XCom stack');
      if (refused.length > 0) {
        engineFail(ctx, 'mysql', `${refused.join(' and ')} ${refused.length > 1 ? 'are' : 'is'} not available with groupReplication (got both): backups and restores are for the primary/replicas preset. ` +
          `Fix: leave groupReplication out for a set with ${refused.join(' and ')}, or leave ${refused.join(' and ')} out of the group.`);
      }
      const secrets = requireCredentials(ctx, 'mysql', 'the image needs a root password and the group a recovery password');
      const extra = mysqlConfigLines(ctx, 'mysql', options, [...MANAGED, ...GROUP_MANAGED]);
      const dataDir = kplus.EnvValue.fromValue(`${ctx.dataPath}/data`);
      return groupBinding(ctx, group, image, { ...secrets.root, ...secrets.replication }, dataDir, { run: RUN_PATH, config: CONFIG_PATH }, extra);
    }),
  };
}
