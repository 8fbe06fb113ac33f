import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine-definition';
import type { ApiClientOptions } from './api-client';
import { withFounding } from './private/founding';
import { checkVersion, engineBinder, engineFail, configLines, identityEnv, integerOption, requireCredentials, runScript, scriptFiles, scriptProbes, sizeOptionKib } from './private/preset-helpers';
import { ImageVersion } from './image-version';
import { PGBACKREST_MANAGED, PgBackRestBinding, PostgresBackupOptions, PostgresRestoreOptions, pgBackRestBinding, withBackupPort } from './postgresql-backup';
import { PatroniOptions, patroniBinding, patroniDefinition, patroniImage, patroniSettings } from './postgresql-patroni';

/**
 * A version of the official `postgres` image (Docker Hub library image, Debian based).
 * An enum-like class: a constant, or `of()` for any other tag from 13 on.
 */
export class PostgresVersion extends ImageVersion {
  /** PostgreSQL 16.6. */
  public static readonly VER_16_6 = new PostgresVersion('16.6');
  /** PostgreSQL 17.2. Superseded by {@link VER_17_10}. */
  public static readonly VER_17_2 = new PostgresVersion('17.2');
  /** PostgreSQL 17.10. */
  public static readonly VER_17_10 = new PostgresVersion('17.10');
  /** PostgreSQL 18.4. */
  public static readonly VER_18_4 = new PostgresVersion('18.4');

  /** Any tag of the official image, e.g. `18.5`; pin a minor release. Alpine variants lack bash: use the Debian ones. */
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
   * @default PostgresVersion.VER_18_4
   */
  readonly version?: PostgresVersion;
  /**
   * `shared_buffers`, at least 128 KiB; a quarter of the memory limit is the usual start.
   * @default - the server's default (128 MiB)
   */
  readonly sharedBuffers?: Size;
  /**
   * `max_connections`, 1 to 262143.
   * @default - the server's default (100)
   */
  readonly maxConnections?: number;
  /**
   * The most WAL the primary keeps for a standby's replication slot
   * (`max_slot_wal_keep_size`): a standby that falls further behind, or a removed one, loses its
   * slot instead of filling the primary's volume, and must be cloned again.
   * @default Size.gibibytes(2)
   */
  readonly maxSlotWalKeepSize?: Size;
  /**
   * More server settings, by their PostgreSQL name, passed as `-c name=value`, e.g.
   * `{ work_mem: '16MB' }`. The settings the preset manages (replication, hot standby, WAL
   * retention) are refused.
   * @default - none
   */
  readonly config?: { [name: string]: string };
  /**
   * Automatic failover: Patroni, with the Kubernetes API as its store, elects the primary (its
   * leader lock is a ConfigMap of the set's namespace), promotes a replica when the primary is
   * lost, and labels each pod with its role, which the client Service `<name>` (the primary) and
   * `<name>-read` (the streaming replicas) select. Needs an image with Patroni (`image`), and
   * gives the pods a ServiceAccount token with a Role of what Patroni does in the namespace.
   * A set deployed without it is not switched in place: see docs/engines.md for the migration.
   * @default - no failover: the first ordinal is the primary, the others stream from it
   */
  readonly patroni?: PatroniOptions;
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
   * Backups to S3-compatible storage with pgBackRest: the server archives every WAL segment
   * asynchronously (a bounded queue: a store that is down never stops the primary), and the
   * sidecar `backup` takes full backups on a cron schedule. Together they allow a restore to any
   * moment since the oldest kept backup (`restoreFrom`). Needs an image with pgBackRest
   * (`backup.image`; with `patroni`, its image, with Patroni and pgBackRest both). With `patroni`
   * the member Patroni promotes archives, and the sidecar of the member labelled primary takes
   * the backups. See docs/engines.md, Backups.
   * @default - no backups, no WAL archiving
   */
  readonly backup?: PostgresBackupOptions;
  /**
   * Create this set from a backup: its first member, finding no data in any member, restores the
   * repository's latest backup and replays the archived WAL, to its end or to `pointInTime`,
   * then the set runs normally (the replicas copy the restored primary). The credentials Secret
   * must hold the passwords of the backed-up set: the restored data keeps its roles. A set that
   * has data ignores it. With `patroni`, the member that takes Patroni's initialize key restores
   * (Patroni's custom bootstrap), the others copy it once it leads.
   * @default - a new, empty database
   */
  readonly restoreFrom?: PostgresRestoreOptions;
}

const PORT = 5432;
const RUN_PATH = '/var/run/postgresql';
const MANAGED = ['hot_standby', 'wal_keep_size', 'max_slot_wal_keep_size', 'primary_conninfo', 'primary_slot_name', 'wal_level', 'port',
  'data_directory', 'hba_file', 'listen_addresses', 'unix_socket_directories', 'shared_buffers', 'max_connections'];

/** The PostgreSQL primary/streaming replicas preset; see {@link DatabaseEngine.postgresql}. */
export function postgresqlDefinition(options: PostgresqlOptions = {}): EngineDefinition {
  return options.patroni ? patroniPostgresql(options, options.patroni) : streamingPostgresql(options);
}

/** The settings of the options, checked, as `name=value` lines. */
function settingLines(ctx: EngineContext, options: PostgresqlOptions, version: PostgresVersion, alsoManaged: string[] = []): string[] {
  checkVersion(ctx, 'postgresql', version.version, { major: 13, minor: 0 }, 'wal_keep_size, max_slot_wal_keep_size and standby.signal');
  const slotCap = sizeOptionKib(ctx, 'postgresql', 'maxSlotWalKeepSize', options.maxSlotWalKeepSize, 1024) ?? 2 * 1024 * 1024;
  const sharedBuffers = sizeOptionKib(ctx, 'postgresql', 'sharedBuffers', options.sharedBuffers, 128);
  const settings = configLines(ctx, 'postgresql', {
    shared_buffers: sharedBuffers === undefined ? undefined : `${sharedBuffers}kB`,
    max_connections: integerOption(ctx, 'postgresql', 'maxConnections', options.maxConnections, 1, 262_143),
  }, options.config, { name: /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/, managed: [...MANAGED, ...alsoManaged], line: (n, v) => `${n}=${v}` });
  return [`max_slot_wal_keep_size=${slotCap}kB`, ...settings];
}

/** With Patroni: it elects the primary, the Services follow its role label. */
function patroniPostgresql(options: PostgresqlOptions, patroni: PatroniOptions): EngineDefinition {
  return {
    name: 'postgresql',
    image: typeof patroni.image === 'string' ? patroni.image : '',
    dataPath: '/var/lib/postgresql/data',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    // Patroni's initialize key decides which member initializes a new cluster: no ordering needed
    parallelStart: true,
    defaultReplicas: 3,
    ...patroniDefinition(),
    // backups reading a replica: the leader's pgBackRest reaches the replicas' TLS servers
    ports: withBackupPort(patroniDefinition().ports, options.backup),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      const image = patroniImage(ctx, patroni);
      const pgdata = `${ctx.dataPath}/pgdata`;
      const backups = patroniBackups(ctx, options, image, pgdata);
      // the socket directory is the run volume; the archive settings are each member's own
      // parameters: whichever member Patroni promotes archives with them
      const settings = patroniSettings(['wal_keep_size=256MB', `unix_socket_directories=${RUN_PATH}`,
        ...settingLines(ctx, options, options.version ?? PostgresVersion.VER_18_4, backups ? PGBACKREST_MANAGED : []), ...backups?.settings ?? []]);
      const binding = patroniBinding(ctx, patroni, settings, pgdata, RUN_PATH);
      if (!backups) return binding;
      return {
        ...binding,
        env: { ...binding.env, ...backups.env },
        files: { ...binding.files, ...scriptFiles(...backups.files, ...(options.restoreFrom ? ['patroni-restore.sh'] : [])) },
        sidecars: backups.sidecars,
        egress: backups.egress,
        backupMetrics: backups.backupMetrics,
        annotations: backups.annotations,
      };
    }),
  };
}

/**
 * `backup` and `restoreFrom` with Patroni, checked: the streaming preset's pgBackRest pieces, run
 * by Patroni's image (it needs pgBackRest too), the sidecar backing up the member Patroni leads with.
 */
function patroniBackups(ctx: EngineContext, options: PostgresqlOptions, image: string, pgdata: string): PgBackRestBinding | undefined {
  if (options.backup === undefined && options.restoreFrom === undefined) return undefined;
  for (const [what, given] of [['backup.image', options.backup?.image], ['restoreFrom.image', options.restoreFrom?.image]]) {
    if (given !== undefined && given !== image) {
      const fix = what === 'backup.image'
        ? "build one image with PostgreSQL, Patroni and pgBackRest (docs/engines.md, 'Backups with Patroni') and pass it as both patroni.image and backup.image."
        : "leave restoreFrom.image out: the restore runs patroni.image, which needs pgBackRest too (docs/engines.md, 'Backups with Patroni').";
      engineFail(ctx, 'postgresql', `${what} ${JSON.stringify(given)} differs from patroni.image ${JSON.stringify(image)}: with patroni one image runs every container, ` +
        `the server archiving and restoring with pgBackRest and Patroni leading it. Fix: ${fix}`);
    }
  }
  // the restore runs Patroni's image (with backup, backup.image is that image: checked above, or refused there when missing)
  const restore = options.restoreFrom && { ...options.restoreFrom, image: options.backup ? options.backup.image : image };
  return pgBackRestBinding(ctx, options.backup, restore, { pgdata, run: RUN_PATH }, { patroni: true });
}

/** Without Patroni: the first ordinal is the primary. */
function streamingPostgresql(options: PostgresqlOptions): EngineDefinition {
  const version = options.version ?? PostgresVersion.VER_18_4;
  // with backups or a restore, every container runs an image with pgBackRest
  const image = options.restoreFrom?.image ?? options.backup?.image ?? version.image;
  return {
    name: 'postgresql',
    image,
    // backups reading a replica: the primary's pgBackRest reaches the replicas' TLS servers
    ports: withBackupPort([{ name: 'postgresql', port: PORT }], options.backup),
    dataPath: '/var/lib/postgresql/data',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    // a primary that lost its volume learns from the running standbys that it must copy them
    parallelStart: true,
    defaultReplicas: 3,
    command: runScript('postgres-start.sh'),
    // ready: accepts connections over TCP, and a standby streams; live: the postmaster answers at
    // all, also while it rejects connections to replay WAL after a crash (see postgres-probe.sh)
    ...scriptProbes((kind) => runScript('postgres-probe.sh', kind)),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      const [slotCap, ...settings] = settingLines(ctx, options, version, options.backup || options.restoreFrom ? PGBACKREST_MANAGED : []);
      const secrets = requireCredentials(ctx, 'postgresql', 'the image needs a superuser password and the replicas a replication password');
      // a subdirectory: initdb refuses a mount point that holds lost+found
      const pgdata = kplus.EnvValue.fromValue(`${ctx.dataPath}/pgdata`);
      const backups = pgBackRestBinding(ctx, options.backup, options.restoreFrom, { pgdata: `${ctx.dataPath}/pgdata`, run: RUN_PATH });
      return withFounding(ctx, 'postgresql', options.apiClient, {
        primaryOrdinal: ctx.startOrdinal,
        // WAL kept for standbys: through each one's replication slot (created by the standby), up
        // to the cap; the image's entrypoint prepends `postgres`
        args: ['-c', 'hot_standby=on', '-c', 'wal_keep_size=256MB', '-c', slotCap, ...[...backups.settings, ...settings].flatMap((s) => ['-c', s])],
        env: {
          ...identityEnv(ctx),
          PGDATA: pgdata,
          RUN_DIR: kplus.EnvValue.fromValue(RUN_PATH),
          // postgres-start.sh points the entrypoint's POSTGRES_PASSWORD_FILE at the ROOT_KEY file;
          // postgres-initdb.sh (run by the entrypoint on a new primary) reads the replication key,
          // and the application user's keys when the Secret has them
          ...secrets.root,
          ...secrets.replication,
          ...secrets.username,
          ...secrets.password,
          ...backups.env,
        },
        scratchVolumes: ['run'],
        // parallel queries share memory through /dev/shm, which a container gets only 64 MiB of
        memoryVolumes: ['shm'],
        mounts: [
          { volume: 'run', path: RUN_PATH },
          { volume: 'shm', path: '/dev/shm' },
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
            ...secrets.replication,
            ...backups.env,
          },
          mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }, { volume: 'run', path: RUN_PATH }],
        }],
        sidecars: backups.sidecars,
        egress: backups.egress,
        backupMetrics: backups.backupMetrics,
        annotations: backups.annotations,
        files: scriptFiles('postgres-start.sh', 'postgres-replica.sh', 'postgres-initdb.sh', 'postgres-probe.sh', ...backups.files),
      }, { engineInit: 'clone', dataMarkers: [`${ctx.dataPath}/pgdata/PG_VERSION`] });
    }),
  };
}
