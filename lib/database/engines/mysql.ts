import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine';
import { HealthProbe } from '../probe';
import { checkVersion, engineBinder, identityEnv, requireCredentials, runScript, scriptFiles } from './common';
import { ImageVersion } from './image-version';

/**
 * A version of the official `mysql` image (Docker Hub library image, Oracle Linux based).
 * An enum-like class: a constant, or `of()` for any other tag from 8.0.26 on.
 */
export class MysqlVersion extends ImageVersion {
  /** MySQL 8.0.40 (the 8.0 line ends in April 2026). */
  public static readonly VER_8_0_40 = new MysqlVersion('8.0.40');
  /** MySQL 8.4.3, a long-term-support release. */
  public static readonly VER_8_4_3 = new MysqlVersion('8.4.3');

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
   * @default MysqlVersion.VER_8_4_3
   */
  readonly version?: MysqlVersion;
}

const PORT = 3306;
const CONFIG_PATH = '/etc/mysql/conf.d';
const RUN_PATH = '/var/run/mysqld';

/** The MySQL primary/replicas preset; see {@link DatabaseEngine.mysql}. */
export function mysqlDefinition(options: MysqlOptions = {}): EngineDefinition {
  const version = options.version ?? MysqlVersion.VER_8_4_3;
  const image = version.image;
  return {
    name: 'mysql',
    image,
    ports: [{ name: 'mysql', port: PORT }],
    dataPath: '/var/lib/mysql',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    defaultReplicas: 3,
    readinessProbe: HealthProbe.command(runScript('mysql-probe.sh', 'ready'), { initialDelay: Duration.seconds(5) }),
    livenessProbe: HealthProbe.command(runScript('mysql-probe.sh', 'live'), { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'mysql', version.version, { major: 8, minor: 0, patch: 26 },
        'the clone plugin, CHANGE REPLICATION SOURCE and skip_replica_start');
      const secrets = requireCredentials(ctx, 'mysql', 'the image needs a root password and the replicas a replication password');
      const dataVolume = ctx.dataVolume ?? 'data';
      // a subdirectory: `mysqld --initialize` refuses a directory with anything in it, and a
      // fresh ext4 volume holds lost+found
      const dataDir = `${ctx.dataPath}/data`;
      // the preset's scripts read the passwords from the Secret's files (read_secret in common.sh).
      // Not through MYSQL_ROOT_PASSWORD_FILE: the image's entrypoint unsets it (and exports the
      // password instead) before it runs mysql-initdb.sh
      const passwordFiles = {
        ROOT_PASSWORD_FILE: secrets.rootPassword,
        MYSQL_REPLICATION_PASSWORD_FILE: secrets.replicationPassword,
      };
      return {
        primaryOrdinal: ctx.startOrdinal,
        env: {
          // the image's entrypoint reads the root password from this file to initialize the primary
          MYSQL_ROOT_PASSWORD_FILE: secrets.rootPassword,
          ...passwordFiles,
        },
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
            env: { ...identityEnv(ctx), DATA_DIR: kplus.EnvValue.fromValue(dataDir), CONFIG_DIR: kplus.EnvValue.fromValue(CONFIG_PATH) },
            mounts: [{ volume: 'config', path: CONFIG_PATH }],
          },
          {
            name: 'clone',
            image,
            command: runScript('mysql-clone.sh'),
            env: { ...identityEnv(ctx), ...passwordFiles, DATA_DIR: kplus.EnvValue.fromValue(dataDir), RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH) },
            mounts: [{ volume: dataVolume, path: ctx.dataPath }, { volume: 'run', path: RUN_PATH }],
          },
        ],
        files: scriptFiles('mysql-config.sh', 'mysql-clone.sh', 'mysql-initdb.sh', 'mysql-probe.sh'),
      };
    }),
  };
}
