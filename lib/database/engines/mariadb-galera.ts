import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine';
import { HealthProbe } from '../probe';
import { checkVersion, engineBinder, identityEnv, requireCredentials, runScript, scriptFiles } from './common';
import { ImageVersion } from './image-version';

/**
 * A version of the official `mariadb` image (Docker Hub library image, with Galera 4 and
 * mariadb-backup). An enum-like class: a constant, or `of()` for any other tag from 10.6 on.
 */
export class MariaDbVersion extends ImageVersion {
  /** MariaDB 10.11.10, a long-term-support release. */
  public static readonly VER_10_11_10 = new MariaDbVersion('10.11.10');
  /** MariaDB 11.4.4, a long-term-support release. */
  public static readonly VER_11_4_4 = new MariaDbVersion('11.4.4');

  /** Any tag of the official image, e.g. `11.4.5`; pin a patch release. */
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
   * @default MariaDbVersion.VER_11_4_4
   */
  readonly version?: MariaDbVersion;
  /**
   * Recovery after a full-cluster crash: let the first ordinal bootstrap a new cluster from its
   * data although its grastate.dat says `safe_to_bootstrap: 0`. It still joins instead whenever
   * another member is reachable. Transactions that only other members committed are lost when
   * they rejoin. Set it, apply, wait for the cluster, then remove it.
   * @see docs/engines.md, "Bootstrapping again after a full outage"
   * @default false
   */
  readonly forceBootstrap?: boolean;
}

const CONFIG_PATH = '/etc/mysql/conf.d';
const WORK_PATH = '/work-dir';

/** The MariaDB Galera preset; see {@link DatabaseEngine.mariadbGalera}. */
export function mariadbGaleraDefinition(options: MariaDbGaleraOptions = {}): EngineDefinition {
  const version = options.version ?? MariaDbVersion.VER_11_4_4;
  const image = version.image;
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
    defaultReplicas: 3,
    // installed into the work dir by the `install` init container
    command: ['bash', `${WORK_PATH}/galera-start.sh`],
    readinessProbe: HealthProbe.command(['bash', `${WORK_PATH}/galera-probe.sh`, 'ready'], { initialDelay: Duration.seconds(10) }),
    livenessProbe: HealthProbe.command(['bash', `${WORK_PATH}/galera-probe.sh`, 'live'], { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'mariadbGalera', version.version, { major: 10, minor: 6 },
        'Galera 4, the BINLOG MONITOR privilege and the entrypoint\'s MARIADB_MYSQL_LOCALHOST_USER');
      const secrets = requireCredentials(ctx, 'mariadbGalera', 'the image needs a root password to initialize the first member');
      // a subdirectory of the claim: a state transfer empties the data directory, and a fresh ext4
      // volume's root holds a lost+found that the database user cannot remove
      const dataDir = kplus.EnvValue.fromValue(`${ctx.dataPath}/data`);
      return {
        env: {
          ...identityEnv(ctx),
          DATA_DIR: dataDir,
          // the entrypoint reads the root password from the Secret's file to initialize a member;
          // nothing else needs it: state transfers and probes authenticate through the socket
          MARIADB_ROOT_PASSWORD_FILE: secrets.rootPassword,
          // mysql@localhost, authenticated by the unix socket: the SST (mariabackup) and probe account
          MARIADB_MYSQL_LOCALHOST_USER: kplus.EnvValue.fromValue('1'),
          MARIADB_MYSQL_LOCALHOST_GRANTS: kplus.EnvValue.fromValue('RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR'),
          ...(options.forceBootstrap ? { GALERA_FORCE_BOOTSTRAP: kplus.EnvValue.fromValue('1') } : {}),
        },
        scratchVolumes: ['config', 'workdir', 'run'],
        mounts: [
          { volume: 'config', path: CONFIG_PATH, readOnly: true },
          { volume: 'workdir', path: WORK_PATH, readOnly: true },
          { volume: 'run', path: '/run/mysqld' },
        ],
        initContainers: [
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
            },
            mounts: [{ volume: 'config', path: CONFIG_PATH }],
          },
        ],
        files: scriptFiles('galera-install.sh', 'galera-bootstrap.sh', 'galera-start.sh', 'galera-probe.sh'),
      };
    }),
  };
}
