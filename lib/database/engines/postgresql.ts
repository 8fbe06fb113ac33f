import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine';
import { HealthProbe } from '../probe';
import { checkVersion, fromSecret, identityEnv, requireCredentials, runScript, scriptFiles } from './common';

/**
 * A version of the official `postgres` image (Docker Hub library image, Debian based).
 * An enum-like class: a constant, or `of()` for any other tag from 13 on.
 */
export class PostgresVersion {
  /** PostgreSQL 16.6. */
  public static readonly VER_16_6 = new PostgresVersion('16.6');
  /** PostgreSQL 17.2. */
  public static readonly VER_17_2 = new PostgresVersion('17.2');

  /** Any tag of the official image, e.g. `17.4`; pin a minor release. Alpine variants lack bash: use the Debian ones. */
  public static of(version: string): PostgresVersion {
    return new PostgresVersion(version);
  }

  private constructor(
    /** The image tag. */
    public readonly version: string,
  ) {}

  /** The image, `postgres:<version>`. */
  public get image(): string {
    return `postgres:${this.version}`;
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
  const isReady = ['pg_isready', '--host=127.0.0.1', `--port=${PORT}`, '--timeout=3'];
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
    readinessProbe: HealthProbe.command(isReady, { initialDelay: Duration.seconds(5) }),
    livenessProbe: HealthProbe.command(isReady, { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
    bind: (ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'postgresql', version.version, { major: 13, minor: 0 }, 'wal_keep_size and standby.signal');
      const credentials = requireCredentials(ctx, 'postgresql', 'the image needs a superuser password and the replicas a replication password');
      // a subdirectory: initdb refuses a mount point that holds lost+found
      const pgdata = kplus.EnvValue.fromValue(`${ctx.dataPath}/pgdata`);
      const replicationPassword = fromSecret(credentials, credentials.replicationPasswordKey ?? 'replication-password');
      return {
        primaryOrdinal: ctx.startOrdinal,
        env: {
          PGDATA: pgdata,
          POSTGRES_PASSWORD: fromSecret(credentials, credentials.rootPasswordKey ?? 'root-password'),
          POSTGRES_REPLICATION_PASSWORD: replicationPassword,
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
            POSTGRES_REPLICATION_PASSWORD: replicationPassword,
          },
          mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }, { volume: 'run', path: RUN_PATH }],
        }],
        files: scriptFiles('postgres-replica.sh', 'postgres-initdb.sh'),
      };
    },
  };
}
