import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine';
import { HealthProbe } from '../probe';
import { checkVersion, engineBinder, identityEnv, requireCredentials, runScript, scriptFiles } from './common';
import { ImageVersion } from './image-version';

/**
 * A version of the official `postgres` image (Docker Hub library image, Debian based).
 * An enum-like class: a constant, or `of()` for any other tag from 13 on.
 */
export class PostgresVersion extends ImageVersion {
  /** PostgreSQL 16.6. */
  public static readonly VER_16_6 = new PostgresVersion('16.6');
  /** PostgreSQL 17.2. */
  public static readonly VER_17_2 = new PostgresVersion('17.2');

  /** Any tag of the official image, e.g. `17.4`; pin a minor release. Alpine variants lack bash: use the Debian ones. */
  public static of(version: string): PostgresVersion {
    return new PostgresVersion(version);
  }

  private constructor(version: string) {
    super('postgres', version);
  }
}

/** Options of {@link DatabaseEngine.postgresql}. */
export interface PostgresqlOptions {
  /**
   * The server version.
   * @default PostgresVersion.VER_17_2
   */
  readonly version?: PostgresVersion;
}

const PORT = 5432;
const RUN_PATH = '/var/run/postgresql';

/** The PostgreSQL primary/streaming replicas preset; see {@link DatabaseEngine.postgresql}. */
export function postgresqlDefinition(options: PostgresqlOptions = {}): EngineDefinition {
  const version = options.version ?? PostgresVersion.VER_17_2;
  const image = version.image;
  return {
    name: 'postgresql',
    image,
    ports: [{ name: 'postgresql', port: PORT }],
    dataPath: '/var/lib/postgresql/data',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    defaultReplicas: 3,
    // WAL the primary keeps for replicas that fall behind (no replication slots: a slot of a
    // removed replica would keep WAL forever); the image's entrypoint prepends `postgres`
    args: ['-c', 'wal_keep_size=1GB', '-c', 'hot_standby=on'],
    // ready: accepts connections over TCP; live: the postmaster answers at all, also while it
    // rejects connections to replay WAL after a crash (see postgres-probe.sh)
    readinessProbe: HealthProbe.command(runScript('postgres-probe.sh', 'ready'), { initialDelay: Duration.seconds(5) }),
    livenessProbe: HealthProbe.command(runScript('postgres-probe.sh', 'live'), { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'postgresql', version.version, { major: 13, minor: 0 }, 'wal_keep_size and standby.signal');
      const secrets = requireCredentials(ctx, 'postgresql', 'the image needs a superuser password and the replicas a replication password');
      // a subdirectory: initdb refuses a mount point that holds lost+found
      const pgdata = kplus.EnvValue.fromValue(`${ctx.dataPath}/pgdata`);
      return {
        primaryOrdinal: ctx.startOrdinal,
        env: {
          PGDATA: pgdata,
          // the image's entrypoint reads the superuser password from the Secret's file
          POSTGRES_PASSWORD_FILE: secrets.rootPassword,
          // postgres-initdb.sh (run by the entrypoint on the primary) reads this one
          POSTGRES_REPLICATION_PASSWORD_FILE: secrets.replicationPassword,
        },
        scratchVolumes: ['run'],
        mounts: [
          { volume: 'run', path: RUN_PATH },
          // run once by the entrypoint when it initializes the primary
          { volume: 'scripts', path: '/docker-entrypoint-initdb.d/10-replication-role.sh', subPath: 'postgres-initdb.sh', readOnly: true },
        ],
        initContainers: [{
          name: 'clone',
          image,
          command: runScript('postgres-replica.sh'),
          env: {
            ...identityEnv(ctx),
            PGDATA: pgdata,
            RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH),
            POSTGRES_REPLICATION_PASSWORD_FILE: secrets.replicationPassword,
          },
          mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }, { volume: 'run', path: RUN_PATH }],
        }],
        files: scriptFiles('postgres-replica.sh', 'postgres-initdb.sh', 'postgres-probe.sh'),
      };
    }),
  };
}
