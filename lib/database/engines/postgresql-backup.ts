import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { BACKUP_REPOSITORY_ANNOTATION, BACKUP_SCHEDULE_ANNOTATION, BackupMember, RETAIN_FULL_BACKUPS_ANNOTATION, checkCronSchedule, checkTimestamp, cronLongestGapSeconds, repositoryEnv, repositoryUrl, ResolvedS3Repository, resolveS3Repository, S3Repository, sameRepository } from '../backup';
import type { DatabasePort, EngineBackupMetrics, EngineContext, EngineEgress, InitContainer } from '../engine-definition';
import { engineFail, identityEnv, integerOption, requireCredentials, runScript, sizeOptionKib } from './private/preset-helpers';

/*
 * Backups of the PostgreSQL preset (streaming, or with Patroni) with pgBackRest (DatabaseEngine.postgresql({ backup,
 * restoreFrom })): continuous, asynchronous WAL archiving from the server's archive_command with a
 * bounded queue, scheduled full backups by the sidecar `backup`, and a new set restored from a
 * repository, whole or to a point in time (the clone init container of the first member; with
 * Patroni, its custom bootstrap, patroni-restore.sh).
 */

/** Backups of a PostgreSQL set to S3-compatible storage with pgBackRest; see `PostgresqlOptions.backup`. */
export interface PostgresBackupOptions {
  /**
   * A pinned image with PostgreSQL (of `version`'s major) and pgBackRest: the official `postgres`
   * image with Debian's `pgbackrest` package (docs/engines.md gives the Dockerfile). Every
   * container of the set runs it, since the server itself archives its WAL with pgBackRest.
   */
  readonly image: string;
  /** Where the backups and the archived WAL go. */
  readonly repository: S3Repository;
  /**
   * When full backups are taken: a cron schedule in UTC (minute hour day-of-month month
   * day-of-week), e.g. `'30 2 * * *'` for 02:30 every day.
   */
  readonly schedule: string;
  /**
   * How many full backups the repository keeps (`repo1-retention-full`), 1 to 100. The WAL
   * archive reaches back to the oldest one kept: that is how far back a point-in-time restore
   * goes.
   * @default 2
   */
  readonly retainFullBackups?: number;
  /**
   * Which member's files the scheduled backups read. The primary takes the backups: the first
   * ordinal, or with `patroni` the member Patroni leads with (the sidecar of each member asks its
   * own Patroni, so the backups follow a failover). With `REPLICA` it reads the files of a replica
   * that is streaming and no more than 16 MiB behind (in Patroni's view, or without `patroni` in
   * the primary's `pg_stat_replication`), through pgBackRest's TLS server on port 8432 of every
   * member, so the primary's disk is spared; the primary's files when no replica is healthy or the
   * replica's backup fails (the log says which). `PRIMARY` always reads the primary's.
   * @default - BackupMember.REPLICA with `patroni` or with 2 members or more, BackupMember.PRIMARY for a single member without `patroni`
   */
  readonly member?: BackupMember;
  /**
   * The most WAL that may wait for the store (`archive-push-queue-max`), at least 16 MiB: while
   * the store is down, WAL piles up in the data volume until this much, then the oldest is dropped
   * from the archive (pgBackRest logs a warning, point-in-time recovery has a gap until the next
   * full backup) instead of filling the volume and stopping the server. Keep it well under the
   * data volume's free space.
   * @default Size.gibibytes(1)
   */
  readonly archiveQueueMax?: Size;
  /**
   * The longest a committed write waits before its WAL segment is archived
   * (`archive_timeout`): what a point-in-time restore may miss of the last moments when the
   * server is idle. 10 seconds to 1 hour.
   * @default Duration.minutes(1)
   */
  readonly archiveTimeout?: Duration;
  /**
   * Requests and limits of the sidecar `backup`, field by field over the defaults. It waits most
   * of the time: it requests little, and may use up to the limits while a backup runs (two
   * processes compressing with zstd).
   * @default - cpu 50m/1, memory 128Mi/1Gi, ephemeral storage 64Mi/1Gi
   */
  readonly resources?: kplus.ContainerResources;
}

/** A PostgreSQL set created from a backup; see `PostgresqlOptions.restoreFrom`. */
export interface PostgresRestoreOptions {
  /**
   * The repository of the set to restore (its `backup.repository`). Its keys are read from this
   * set's credentials Secret.
   */
  readonly repository: S3Repository;
  /**
   * Recover up to this moment (an ISO 8601 timestamp with its zone, e.g.
   * `'2026-03-01T12:00:00Z'`): the transactions committed up to it, none after. It must lie
   * after the end of a backup kept in the repository and within the archived WAL.
   * @default - everything the archive holds (the latest backup and all archived WAL after it)
   */
  readonly pointInTime?: string;
  /**
   * A pinned image with PostgreSQL and pgBackRest.
   * @default - `backup.image`; one of the two is required
   */
  readonly image?: string;
}

/** What backups and restores add to the streaming preset's pods. */
export interface PgBackRestBinding {
  /** The image every container runs (with pgBackRest), or undefined for the preset's own. */
  readonly image?: string;
  /** Server settings (`name=value`). */
  readonly settings: string[];
  /** Environment of the database container and the clone init container. */
  readonly env: { [name: string]: kplus.EnvValue };
  /** The sidecar `backup`, with `backup`. */
  readonly sidecars: InitContainer[];
  /** The scripts the pods need beyond the preset's. */
  readonly files: string[];
  /** The repositories the members reach, for the NetworkPolicy. */
  readonly egress: EngineEgress[];
  /** The backups' schedule for the backup alerts, with `backup`. */
  readonly backupMetrics?: EngineBackupMetrics;
  /** The StatefulSet's annotations: with `backup`, how many full backups are kept. */
  readonly annotations?: { [key: string]: string };
}

/** The server settings a preset with backups manages (refused in `config`). */
export const PGBACKREST_MANAGED = ['archive_mode', 'archive_command', 'archive_library', 'archive_timeout', 'restore_command',
  'recovery_target', 'recovery_target_time', 'recovery_target_xid', 'recovery_target_lsn', 'recovery_target_name', 'recovery_target_action'];

const DEFAULT_QUEUE_KIB = 1024 * 1024;

/** The image of `backup` and `restoreFrom`, checked: both the same when both are given. */
export function pgBackRestImage(ctx: EngineContext, backup?: PostgresBackupOptions, restore?: PostgresRestoreOptions): string | undefined {
  if (!backup && !restore) return undefined;
  const image = restore?.image ?? backup?.image;
  if (typeof image !== 'string' || image === '') {
    engineFail(ctx, 'postgresql', `${backup ? 'backup' : 'restoreFrom'}.image got ${JSON.stringify(image)}: backups and restores run pgBackRest, which the official postgres image lacks. ` +
      "Fix: an image with PostgreSQL and pgBackRest (docs/engines.md, Backups), e.g. image: 'registry.example.com/postgres-pgbackrest:18.6'.");
  }
  if (backup && restore?.image !== undefined && restore.image !== backup.image) {
    engineFail(ctx, 'postgresql', `restoreFrom.image ${JSON.stringify(restore.image)} differs from backup.image ${JSON.stringify(backup.image)}: one image runs every container. Fix: leave restoreFrom.image out.`);
  }
  return image;
}

/** What `backup` and `restoreFrom` add to the streaming preset, checked. */
export function pgBackRestBinding(ctx: EngineContext, backup: PostgresBackupOptions | undefined, restore: PostgresRestoreOptions | undefined,
  paths: { pgdata: string; run: string }, leader: { patroni?: boolean } = {}): PgBackRestBinding {
  const image = pgBackRestImage(ctx, backup, restore);
  const fail = (message: string): never => engineFail(ctx, 'postgresql', message);
  const backupRepo = backup && resolveS3Repository(fail, 'backup.repository', backup.repository);
  const restoreRepo = restore && resolveS3Repository(fail, 'restoreFrom.repository', restore.repository);
  if (backupRepo && restoreRepo && sameRepository(backupRepo, restoreRepo)) {
    fail(`backup.repository and restoreFrom.repository are the same directory (${backupRepo.bucket}${backupRepo.path}): the restored set would archive into the backups it came from. ` +
      "Fix: give the new set's backup its own path, e.g. '" + `${backupRepo.path}-restored'.`);
  }
  const env: { [name: string]: kplus.EnvValue } = {
    ...(restoreRepo ? pgRepositoryEnv(ctx, 'RESTORE', restoreRepo) : {}),
    ...(restore?.pointInTime !== undefined ? { RESTORE_TARGET: kplus.EnvValue.fromValue(checkTimestamp(fail, 'restoreFrom.pointInTime', restore.pointInTime)) } : {}),
    ...(backup && backupRepo ? backupEnv(ctx, backup, backupRepo) : {}),
  };
  const archiveTimeout = backup ? archiveTimeoutSeconds(ctx, backup) : 0;
  const settings = backup ? archiveSettings(archiveTimeout, paths.run) : [];
  const schedule = backup ? scheduleEnv(ctx, backup, leader.patroni === true) : {};
  const sidecars = backup ? [backupSidecar(ctx, image!, { ...env, ...schedule }, paths, backup.resources)] : [];
  const egress = [[backupRepo, 'backup.repository'], [restoreRepo, 'restoreFrom.repository']]
    .filter((r): r is [ResolvedS3Repository, string] => r[0] !== undefined)
    .map(([r, what]) => ({ what, cidrs: r.egressCidrs, ports: [r.port] }));
  // the sidecar records each backup's outcome where the exporter reads it (postgres-backup.sh)
  const backupMetrics = backup && {
    scheduleGapSeconds: cronLongestGapSeconds(fail, 'backup.schedule', checkCronSchedule(fail, 'backup.schedule', backup.schedule)),
    archiveTimeoutSeconds: archiveTimeout,
  };
  // what the set promises, where the change guard reads it: a StatefulSet's annotation
  const annotations = backup && backupRepo
    ? {
      [BACKUP_REPOSITORY_ANNOTATION]: repositoryUrl(backupRepo),
      [BACKUP_SCHEDULE_ANNOTATION]: checkCronSchedule(fail, 'backup.schedule', backup.schedule),
      [RETAIN_FULL_BACKUPS_ANNOTATION]: retainFullBackups(ctx, backup),
    }
    : undefined;
  return { image, settings, env, sidecars, files: ['s3-repository.sh', 'pgbackrest.sh', ...(backup ? ['cron.sh', 'postgres-backup.sh'] : [])], egress, backupMetrics, annotations };
}

/** The repository's env under PREFIX (see pgbackrest.sh): values, and its keys as the Secret's files. */
function pgRepositoryEnv(ctx: EngineContext, prefix: string, repo: ResolvedS3Repository): { [name: string]: kplus.EnvValue } {
  const what = `${prefix === 'BACKUP' ? 'backup' : 'restoreFrom'}.repository`;
  return repositoryEnv((message) => engineFail(ctx, 'postgresql', message), what, prefix, repo, ctx.credentials ? ctx.credentialsPath : undefined);
}

/** The backup repository's env, the queue bound, the retention, the spool directory. */
function backupEnv(ctx: EngineContext, backup: PostgresBackupOptions, repo: ResolvedS3Repository): { [name: string]: kplus.EnvValue } {
  const queueKib = sizeOptionKib(ctx, 'postgresql', 'backup.archiveQueueMax', backup.archiveQueueMax, 16 * 1024) ?? DEFAULT_QUEUE_KIB;
  const retain = retainFullBackups(ctx, backup);
  return {
    ...pgRepositoryEnv(ctx, 'BACKUP', repo),
    ARCHIVE_QUEUE_MAX: kplus.EnvValue.fromValue(`${queueKib}KiB`),
    RETAIN_FULL: kplus.EnvValue.fromValue(retain),
    // the WAL waiting for the store lives on the data volume: it survives a restart
    SPOOL_DIR: kplus.EnvValue.fromValue(`${ctx.dataPath}/pgbackrest-spool`),
  };
}

/** How many full backups the repository keeps (`repo1-retention-full`), checked. */
function retainFullBackups(ctx: EngineContext, backup: PostgresBackupOptions): string {
  return integerOption(ctx, 'postgresql', 'backup.retainFullBackups', backup.retainFullBackups, 1, 100) ?? '2';
}

/** `backup.archiveTimeout` in seconds, checked. */
function archiveTimeoutSeconds(ctx: EngineContext, backup: PostgresBackupOptions): number {
  let timeout = 60;
  if (backup.archiveTimeout !== undefined) {
    // what a Duration offers, not its class: another copy of cdk8s may have made it
    const d = backup.archiveTimeout as { toSeconds?: unknown };
    try {
      timeout = typeof d?.toSeconds === 'function' ? Number((d.toSeconds as () => number).call(d)) : NaN;
    } catch {
      timeout = NaN; // a fraction of a second
    }
    if (!Number.isInteger(timeout) || timeout < 10 || timeout > 3600) {
      const got = Number.isFinite(timeout) ? `${timeout} seconds` : JSON.stringify(backup.archiveTimeout);
      engineFail(ctx, 'postgresql', `backup.archiveTimeout must be a whole number of seconds from 10 to 3600, got ${got}. Fix: e.g. Duration.minutes(1).`);
    }
  }
  return timeout;
}

/** archive_mode, the asynchronous archive_command and archive_timeout. */
function archiveSettings(timeout: number, run: string): string[] {
  return ['archive_mode=on', `archive_command=pgbackrest --config=${run}/pgbackrest.conf --stanza=db archive-push %p`, `archive_timeout=${timeout}`];
}

/** The backup sidecar's requests and limits: idle between backups (a small request), room to compress while one runs. */
function backupResources(own: kplus.ContainerResources | undefined): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.units(1), ...own?.cpu },
    memory: { request: Size.mebibytes(128), limit: Size.gibibytes(1), ...own?.memory },
    ephemeralStorage: { request: Size.mebibytes(64), limit: Size.gibibytes(1), ...own?.ephemeralStorage },
  };
}

/** The sidecar that takes the scheduled backups (postgres-backup.sh), with the data and run volumes. */
function backupSidecar(ctx: EngineContext, image: string, env: { [name: string]: kplus.EnvValue }, paths: { pgdata: string; run: string },
  resources: kplus.ContainerResources | undefined): InitContainer {
  return {
    name: 'backup',
    resources: backupResources(resources),
    image,
    command: runScript('postgres-backup.sh'),
    env: {
      ...identityEnv(ctx),
      ...env,
      PGDATA: kplus.EnvValue.fromValue(paths.pgdata),
      RUN_DIR: kplus.EnvValue.fromValue(paths.run),
    },
    mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }, { volume: 'run', path: paths.run }],
  };
}

/** pgBackRest's TLS server in every member's sidecar, with backups reading a replica. */
export const PGBACKREST_TLS_PORT = 8432;

/**
 * Whether a set's backups may read a replica's files (unless `member` is PRIMARY): its members then
 * open PGBACKREST_TLS_PORT to each other (the definition's ports do not know the member count).
 */
export function backupReadsReplica(backup: PostgresBackupOptions | undefined): boolean {
  return backup !== undefined && (backup.member ?? BackupMember.REPLICA) === BackupMember.REPLICA;
}

/** The peer port of pgBackRest's TLS server, after PORTS, when the backups may read a replica. */
export function withBackupPort(ports: DatabasePort[], backup: PostgresBackupOptions | undefined): DatabasePort[] {
  return backupReadsReplica(backup) ? [...ports, { name: 'pgbackrest', port: PGBACKREST_TLS_PORT, peer: true }] : ports;
}

/** The schedule and member of `backup`, checked, as the sidecar's env. */
function scheduleEnv(ctx: EngineContext, backup: PostgresBackupOptions, patroni: boolean): { [name: string]: kplus.EnvValue } {
  const fail = (message: string): never => engineFail(ctx, 'postgresql', message);
  // a single member without Patroni has no replica to read (Patroni's may gain one by scaling)
  const member = backup.member ?? (patroni || ctx.replicas >= 2 ? BackupMember.REPLICA : BackupMember.PRIMARY);
  if (member !== BackupMember.PRIMARY && member !== BackupMember.REPLICA) {
    fail(`backup.member got ${JSON.stringify(member)}. Fix: BackupMember.REPLICA (a healthy replica's files) or BackupMember.PRIMARY, or leave it out.`);
  }
  const value = kplus.EnvValue.fromValue;
  return {
    BACKUP_SCHEDULE: value(checkCronSchedule(fail, 'backup.schedule', backup.schedule)),
    BACKUP_MEMBER: value(member),
    // with Patroni the primary is whichever member leads: the sidecar asks its own Patroni
    ...(patroni ? { PRIMARY_BY: value('patroni') } : {}),
    // reading a replica: every member serves its files to the primary over TLS, the CA derived from
    // the replication password (postgres-backup.sh, pgbackrest.sh)
    ...(member === BackupMember.REPLICA
      ? { SCOPE: value(ctx.name), BACKUP_TLS_PORT: value(String(PGBACKREST_TLS_PORT)), ...requireCredentials(ctx, 'postgresql', 'a backup reading a replica derives its TLS certificates from the replication password').replication }
      : {}),
  };
}
