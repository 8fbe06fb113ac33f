import * as kplus from 'cdk8s-plus-27';
import { BackupMember, S3Repository } from '../backup';
import { BACKUP_METRICS_PORT, BACKUP_METRICS_SCRIPT, backupMetricsEnv, sidecarBackupMetrics } from '../backup-metrics';
import type { EngineBackupMetrics, EngineContext, EngineEgress, SidecarContainer } from '../engine-definition';
import { backupSidecarResources, ObjectBackupKind, objectBackupSettings } from './private/object-backup';
import { engineFail, identityEnv, runScript } from './private/preset-helpers';

/*
 * Backups of the Redis preset (pinned primary or Sentinel) to S3-compatible storage, and a new set
 * restored from one (DatabaseEngine.redis({ backup, restoreFrom })): the sidecar `backup` takes an
 * RDB snapshot of a member on a cron schedule (redis-backup.sh: `redis-cli --rdb`,
 * `redis-check-rdb`, a SHA-256, rclone), and the first member of a new set starts from the latest
 * or a named one (redis-restore.sh with rclone-s3.sh: in the init container `config`, or with
 * Sentinel the init container `restore`). The sidecar records each attempt's
 * outcome and serves it to Prometheus (backup-metrics.sh, on the port `backup-metrics`).
 */

/** RDB snapshots of a Redis set to S3-compatible storage; see `RedisOptions.backup`. */
export interface RedisBackupOptions {
  /**
   * A pinned image with Redis (the set's version) and rclone: the official `redis` image with
   * Debian's `rclone` package (docs/engines.md gives the Dockerfile). Every container of the set
   * runs it: `redis-check-rdb` must read the RDB version the server writes.
   */
  readonly image: string;
  /** Where the snapshots go: one object per snapshot, named by its UTC time, and its checksum. */
  readonly repository: S3Repository;
  /**
   * When snapshots are taken: a cron schedule in UTC (minute hour day-of-month month
   * day-of-week), e.g. `'0 * * * *'` for every hour.
   */
  readonly schedule: string;
  /**
   * How many snapshots the repository keeps, 1 to 1000: after each snapshot, those older than
   * the newest `retainBackups` are deleted.
   * @default 7
   */
  readonly retainBackups?: number;
  /**
   * Which member the snapshot is read from. `REPLICA`: the first replica whose link to the
   * primary is up, so that the fork of the snapshot spares the primary; the primary when no
   * replica is healthy. `PRIMARY`: always the primary (the most recent data).
   * @default BackupMember.REPLICA
   */
  readonly member?: BackupMember;
  /**
   * Requests and limits of the sidecar `backup`, field by field over the defaults. It waits most
   * of the time, serving its metrics (`rclone serve http`, about 45 MiB resident); while a
   * snapshot runs, rclone buffers the upload's parts.
   * @default - cpu 20m/1, memory 96Mi/512Mi, ephemeral storage 16Mi/256Mi
   */
  readonly resources?: kplus.ContainerResources;
}

/** A Redis set created from a snapshot; see `RedisOptions.restoreFrom`. */
export interface RedisRestoreOptions {
  /** The repository of the set to restore (its `backup.repository`); its keys are read from this set's credentials Secret. */
  readonly repository: S3Repository;
  /**
   * A pinned image with Redis and rclone.
   * @default - `backup.image`; one of the two is required
   */
  readonly image?: string;
  /**
   * The snapshot to restore, by its object name in the repository, e.g. `'20260301T023000Z.rdb'`.
   * @default - the latest complete snapshot (one whose checksum object exists)
   */
  readonly backup?: string;
}

/** What `backup` and `restoreFrom` add to the Redis preset's pods. */
export interface RedisBackupBinding {
  /** The image every container runs (with rclone), or undefined for the preset's own. */
  readonly image?: string;
  /** Environment of the init container that restores: `config`, or `restore` with Sentinel. */
  readonly restoreEnv: { [name: string]: kplus.EnvValue };
  /** The sidecar `backup`, with `backup`. */
  readonly sidecars: SidecarContainer[];
  /** The scripts the pods need beyond the preset's. */
  readonly files: string[];
  /** The repositories the members reach, for the NetworkPolicy. */
  readonly egress: EngineEgress[];
  /** With `backup`: the schedule for the backup alerts, and the sidecar's metrics port. */
  readonly backupMetrics?: EngineBackupMetrics;
  /** The StatefulSet's annotations, with `backup`: how many snapshots are kept, when, where. */
  readonly annotations?: { [key: string]: string };
}

/** Redis snapshots as the shared object-per-backup checks name them. */
const REDIS_SNAPSHOTS: ObjectBackupKind = {
  engine: 'redis',
  noun: 'snapshot',
  objectName: /^\d{8}T\d{6}Z\.rdb$/,
  objectExample: '20260301T023000Z.rdb',
  // the official image's references, which have no rclone
  officialImage: /^(docker\.io\/)?(library\/)?redis(:|@|$)/,
  officialName: 'redis',
  software: 'Redis',
  docs: 'Redis backups',
  exampleImage: 'registry.example.com/redis-rclone:8.2.1',
};

/** What `backup` and `restoreFrom` add to the Redis preset, checked; SENTINEL: the sidecar's environment with Sentinel (its port, the set's name). */
export function redisBackupBinding(ctx: EngineContext, backup: RedisBackupOptions | undefined, restore: RedisRestoreOptions | undefined,
  secrets: { [name: string]: kplus.EnvValue }, sentinel: { [name: string]: string } = {}): RedisBackupBinding {
  const settings = objectBackupSettings(ctx, REDIS_SNAPSHOTS, backup, restore);
  const { image, restoreEnv, egress } = settings;
  // the restore (redis-restore.sh) runs in the init container config, or restore with Sentinel
  const restoreFiles = restore ? ['redis-restore.sh', 's3-repository.sh', 'rclone-s3.sh'] : [];
  if (!backup || !settings.backupEnv) return { image, restoreEnv, sidecars: [], files: restoreFiles, egress };
  const env = {
    ...identityEnv(ctx),
    ...secrets,
    ...settings.backupEnv,
    BACKUP_MEMBER: kplus.EnvValue.fromValue(backupMember(ctx, backup.member)),
    RETAIN_BACKUPS: kplus.EnvValue.fromValue(settings.retain!),
    // the snapshot waits for its checks on the data volume, never in the pod's ephemeral storage
    SPOOL_DIR: kplus.EnvValue.fromValue(`${ctx.dataPath}/.cdk8s-backup`),
    ...backupMetricsEnv(ctx.dataPath),
    // with Sentinel: the local Sentinel names the master and its replicas
    ...Object.fromEntries(Object.entries(sentinel).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
  };
  const sidecar: SidecarContainer = {
    name: 'backup',
    image: image!,
    command: runScript('redis-backup.sh'),
    env,
    // rclone serve http (the backup metrics) stays resident: 45 MiB measured
    resources: backupSidecarResources(backup.resources, 96),
    mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
    metricsPort: BACKUP_METRICS_PORT,
  };
  return {
    image,
    restoreEnv,
    sidecars: [sidecar],
    files: [...new Set(['cron.sh', 'redis-backup.sh', 's3-repository.sh', 'rclone-s3.sh', BACKUP_METRICS_SCRIPT, ...restoreFiles])],
    egress,
    backupMetrics: sidecarBackupMetrics(settings.scheduleGapSeconds!),
    annotations: settings.annotations,
  };
}

/** `backup.member`, checked. */
function backupMember(ctx: EngineContext, member: BackupMember | undefined): string {
  const value = member ?? BackupMember.REPLICA;
  if (value !== BackupMember.REPLICA && value !== BackupMember.PRIMARY) {
    engineFail(ctx, 'redis', `backup.member got ${JSON.stringify(member)}. Fix: BackupMember.REPLICA (the default) or BackupMember.PRIMARY.`);
  }
  return value;
}
