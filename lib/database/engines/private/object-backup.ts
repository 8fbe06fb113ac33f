import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  BACKUP_REPOSITORY_ANNOTATION, BACKUP_SCHEDULE_ANNOTATION, BINLOG_ARCHIVE_ANNOTATION, RETAIN_FULL_BACKUPS_ANNOTATION, checkCronSchedule, checkTimestamp, cronLongestGapSeconds,
  repositoryEnv, repositoryUrl, ResolvedS3Repository, resolveS3Repository, S3Repository, sameRepository,
} from '../../backup';
import { BACKUP_METRICS_PORT, BACKUP_METRICS_SCRIPT, backupMetricsEnv, sidecarBackupMetrics } from '../../backup-metrics';
import type { EngineBackupMetrics, EngineContext, EngineEgress, SidecarContainer } from '../../engine-definition';
import { engineFail, identityEnv, integerOption, runScript } from './preset-helpers';

/*
 * Backups as one object per backup plus its checksum object, uploaded by a sidecar with rclone on
 * a cron schedule and restored by an init container (the Redis preset's RDB snapshots, the
 * MariaDB Galera preset's mariadb-backup streams): the checks of the typed props and the
 * environment, egress and annotations they give, shared by the presets.
 */

/** How a preset names its backups, for the messages. */
export interface ObjectBackupKind {
  /** The engine, as `DatabaseEngine.<engine>` names it in errors, e.g. `redis`. */
  readonly engine: string;
  /** What one backup is called, e.g. `snapshot`. */
  readonly noun: string;
  /** The name of a backup object, e.g. `/^\d{8}T\d{6}Z\.rdb$/`, and an example of one. */
  readonly objectName: RegExp;
  readonly objectExample: string;
  /** The official image's references, which lack rclone, and the image's name, e.g. `redis`. */
  readonly officialImage: RegExp;
  readonly officialName: string;
  /** What the image holds besides rclone, e.g. `Redis`; the docs section and an example image, for the fix. */
  readonly software: string;
  readonly docs: string;
  readonly exampleImage: string;
  /**
   * Whether the engine archives its binary log (`backup.binlogArchiveInterval`) and restores to a
   * point in time (`restoreFrom.pointInTime`): MySQL and MariaDB.
   */
  readonly binlog?: boolean;
}

/** The props of a backup the helpers read. */
export interface ObjectBackupProps {
  readonly image: string;
  readonly repository: S3Repository;
  readonly schedule: string;
  readonly retainBackups?: number;
  readonly binlogArchiveInterval?: Duration;
}

/** The props of a restore the helpers read. */
export interface ObjectRestoreProps {
  readonly repository: S3Repository;
  readonly image?: string;
  readonly backup?: string;
  readonly pointInTime?: string;
}

/** The checked settings of `backup` and `restoreFrom`. */
export interface ObjectBackupSettings {
  /** The image every container runs (with rclone), or undefined for the preset's own. */
  readonly image?: string;
  /** Environment of the container that restores: the repository, the backup named. */
  readonly restoreEnv: { [name: string]: kplus.EnvValue };
  /** With `backup`: the sidecar's repository and schedule (BACKUP_*), and how many backups are kept. */
  readonly backupEnv?: { [name: string]: kplus.EnvValue };
  readonly retain?: string;
  /** With `backup`: the longest gap between two scheduled backups, in seconds. */
  readonly scheduleGapSeconds?: number;
  /** With `backup.binlogArchiveInterval`: how often the binary log is switched and archived, in seconds. */
  readonly binlogArchiveSeconds?: number;
  /** With `restoreFrom.pointInTime`: the restore replays the binary log (the restore container needs the root password). */
  readonly pointInTime: boolean;
  /** The repositories the members reach, for the NetworkPolicy. */
  readonly egress: EngineEgress[];
  /** The StatefulSet's annotations, with `backup`: how many backups are kept, when, where. */
  readonly annotations?: { [key: string]: string };
}

/** The image of `backup` and `restoreFrom`, checked: pinned, not the official one, the same when both are given. */
function backupImage(ctx: EngineContext, kind: ObjectBackupKind, backup?: ObjectBackupProps, restore?: ObjectRestoreProps): string | undefined {
  if (!backup && !restore) return undefined;
  const what = restore?.image !== undefined || !backup ? 'restoreFrom.image' : 'backup.image';
  const image = restore?.image ?? backup?.image;
  const fail: (message: string) => never = (message) => engineFail(ctx, kind.engine, message);
  const fix = `Fix: an image with ${kind.software} and rclone (docs/engines.md, ${kind.docs}), e.g. image: '${kind.exampleImage}'.`;
  if (typeof image !== 'string' || image === '') {
    fail(`${what} got ${JSON.stringify(image)}: ${kind.noun}s and restores upload and download with rclone, which the official ${kind.officialName} image lacks. ${fix}`);
  }
  if (kind.officialImage.test(image)) {
    fail(`${what} got ${JSON.stringify(image)}, the official ${kind.officialName} image, which has no rclone. ${fix}`);
  }
  if (!/^[^\s]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(image) || /:latest$/.test(image)) {
    fail(`${what} must be a pinned image (a tag other than 'latest', or a digest), got ${JSON.stringify(image)}: every member must run the same build. ${fix}`);
  }
  if (backup && restore?.image !== undefined && restore.image !== backup.image) {
    fail(`restoreFrom.image ${JSON.stringify(restore.image)} differs from backup.image ${JSON.stringify(backup.image)}: one image runs every container. Fix: leave restoreFrom.image out.`);
  }
  return image;
}

/** `backup` and `restoreFrom` of an object-per-backup preset, checked. */
export function objectBackupSettings(ctx: EngineContext, kind: ObjectBackupKind, backup: ObjectBackupProps | undefined,
  restore: ObjectRestoreProps | undefined): ObjectBackupSettings {
  const image = backupImage(ctx, kind, backup, restore);
  const fail: (message: string) => never = (message) => engineFail(ctx, kind.engine, message);
  const credentialsPath = ctx.credentials ? ctx.credentialsPath : undefined;
  const backupRepo = backup && resolveS3Repository(fail, 'backup.repository', backup.repository);
  const restoreRepo = restore && resolveS3Repository(fail, 'restoreFrom.repository', restore.repository);
  if (backupRepo && restoreRepo && sameRepository(backupRepo, restoreRepo)) {
    fail(`backup.repository and restoreFrom.repository are the same directory (${backupRepo.bucket}${backupRepo.path}): the restored set would mix its ${kind.noun}s with those it came from. ` +
      `Fix: give the new set's backup its own path, e.g. '${backupRepo.path}-restored'.`);
  }
  if (restore?.backup !== undefined && (typeof restore.backup !== 'string' || !kind.objectName.test(restore.backup))) {
    fail(`restoreFrom.backup must name a ${kind.noun} object of the repository (its UTC time, as the sidecar names it), got ${JSON.stringify(restore.backup)}. ` +
      `Fix: e.g. '${kind.objectExample}' (list them with 'rclone lsf'), or leave it out for the latest.`);
  }
  const target = restoreTarget(ctx, kind, restore);
  const restoreEnv = restoreRepo
    ? {
      ...repositoryEnv(fail, 'restoreFrom.repository', 'RESTORE', restoreRepo, credentialsPath),
      ...(restore?.backup !== undefined ? { RESTORE_BACKUP: kplus.EnvValue.fromValue(restore.backup) } : {}),
      ...(target !== undefined ? { RESTORE_TARGET: kplus.EnvValue.fromValue(target) } : {}),
    }
    : {};
  const pointInTime = target !== undefined;
  const egress = [[backupRepo, 'backup.repository'], [restoreRepo, 'restoreFrom.repository']]
    .filter((r): r is [ResolvedS3Repository, string] => r[0] !== undefined)
    .map(([r, what]) => ({ what, cidrs: r.egressCidrs, ports: [r.port] }));
  if (!backup || !backupRepo) return { image, restoreEnv, egress, pointInTime };
  const schedule = checkCronSchedule(fail, 'backup.schedule', backup.schedule);
  const scheduleGapSeconds = cronLongestGapSeconds(fail, 'backup.schedule', schedule);
  const retain = integerOption(ctx, kind.engine, 'backup.retainBackups', backup.retainBackups, 1, 1000) ?? '7';
  const binlogArchiveSeconds = binlogInterval(ctx, kind, backup.binlogArchiveInterval);
  return {
    image,
    restoreEnv,
    pointInTime,
    backupEnv: {
      ...repositoryEnv(fail, 'backup.repository', 'BACKUP', backupRepo, credentialsPath),
      BACKUP_SCHEDULE: kplus.EnvValue.fromValue(schedule),
      ...(binlogArchiveSeconds !== undefined ? { BINLOG_ARCHIVE_INTERVAL: kplus.EnvValue.fromValue(String(binlogArchiveSeconds)) } : {}),
    },
    retain,
    scheduleGapSeconds,
    binlogArchiveSeconds,
    egress,
    // what the set promises, where the change guard reads it
    annotations: {
      [BACKUP_REPOSITORY_ANNOTATION]: repositoryUrl(backupRepo),
      [BACKUP_SCHEDULE_ANNOTATION]: schedule,
      [RETAIN_FULL_BACKUPS_ANNOTATION]: retain,
      ...(binlogArchiveSeconds !== undefined ? { [BINLOG_ARCHIVE_ANNOTATION]: String(binlogArchiveSeconds) } : {}),
    },
  };
}

/**
 * `restoreFrom.pointInTime`, checked (an ISO 8601 timestamp with its zone, as PostgreSQL's), as the
 * restore script reads it: UTC, `YYYY-MM-DD HH:MM:SS`, its fraction of a second dropped (the binary
 * log stamps its events to the second). Refused with `restoreFrom.backup` (the target picks the backup).
 */
function restoreTarget(ctx: EngineContext, kind: ObjectBackupKind, restore: ObjectRestoreProps | undefined): string | undefined {
  if (restore?.pointInTime === undefined) return undefined;
  const fail: (message: string) => never = (message) => engineFail(ctx, kind.engine, message);
  if (!kind.binlog) fail(`restoreFrom.pointInTime is set, got ${JSON.stringify(restore.pointInTime)}, but ${kind.noun}s of this preset restore to their own moment only. Fix: leave pointInTime out.`);
  checkTimestamp(fail, 'restoreFrom.pointInTime', restore.pointInTime);
  if (restore.backup !== undefined) {
    fail(`restoreFrom.pointInTime (${JSON.stringify(restore.pointInTime)}) and restoreFrom.backup (${JSON.stringify(restore.backup)}) are both set: a restore to a point in time starts from the newest backup that had ended before it. ` +
      'Fix: leave restoreFrom.backup out.');
  }
  // whole seconds: the fraction (up to microseconds, which Date does not read) dropped first
  const utc = new Date(Date.parse(restore.pointInTime.replace(/\.\d+/, '')));
  return utc.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** `backup.binlogArchiveInterval` in seconds, checked: a whole number from 10 to 3600. */
function binlogInterval(ctx: EngineContext, kind: ObjectBackupKind, interval: Duration | undefined): number | undefined {
  if (interval === undefined) return undefined;
  const fail: (message: string) => never = (message) => engineFail(ctx, kind.engine, message);
  if (!kind.binlog) fail(`backup.binlogArchiveInterval is set, but this preset has no binary log. Fix: leave it out.`);
  let seconds = NaN;
  // what a Duration offers, not its class: another copy of cdk8s may have made it
  const d = interval as { toSeconds?: unknown };
  try {
    seconds = typeof d?.toSeconds === 'function' ? Number((d.toSeconds as () => number).call(d)) : NaN;
  } catch {
    seconds = NaN; // a fraction of a second
  }
  if (!Number.isInteger(seconds) || seconds < 10 || seconds > 3600) {
    const got = Number.isFinite(seconds) ? `${seconds} seconds` : `${JSON.stringify(interval)} (not a Duration)`;
    fail(`backup.binlogArchiveInterval must be a whole number of seconds from 10 to 3600, got ${got}: it bounds what a restore to a point in time can miss. Fix: e.g. Duration.minutes(1).`);
  }
  return seconds;
}

/**
 * A backup sidecar's requests and limits: idle between backups (MEMORY_REQUEST_MIB resident), room
 * for rclone's upload buffers while one runs.
 */
export function backupSidecarResources(own: kplus.ContainerResources | undefined, memoryRequestMib = 64): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.units(1), ...own?.cpu },
    memory: { request: Size.mebibytes(memoryRequestMib), limit: Size.mebibytes(512), ...own?.memory },
    ephemeralStorage: { request: Size.mebibytes(16), limit: Size.mebibytes(256), ...own?.ephemeralStorage },
  };
}

/** The sidecar `backup` of a preset whose script sources object-backup.sh, and what the binding gets with it. */
export interface ObjectBackupSidecar {
  readonly sidecar: SidecarContainer;
  /** The scripts the sidecar runs and sources, then RESTORE_FILES, once each. */
  readonly files: string[];
  readonly backupMetrics: EngineBackupMetrics;
}

/**
 * The sidecar `backup` that runs SCRIPT on the schedule of SETTINGS (checked `backup` props):
 * the member's identity, then ENV (the engine's own), the repository, retention and the metrics
 * record; the requests of RESOURCES over the defaults (rclone serve http, the backup metrics,
 * stays resident); MOUNTS; the metrics port.
 */
export function objectBackupSidecar(ctx: EngineContext, settings: ObjectBackupSettings, resources: kplus.ContainerResources | undefined,
  sidecar: { script: string; env: { [name: string]: kplus.EnvValue }; mounts: SidecarContainer['mounts'] }, restoreFiles: string[]): ObjectBackupSidecar {
  return {
    sidecar: {
      name: 'backup',
      image: settings.image!,
      command: runScript(sidecar.script),
      env: {
        ...identityEnv(ctx),
        ...sidecar.env,
        ...settings.backupEnv,
        RETAIN_BACKUPS: kplus.EnvValue.fromValue(settings.retain!),
        ...backupMetricsEnv(ctx.dataPath),
      },
      resources: backupSidecarResources(resources, 96),
      mounts: sidecar.mounts,
      metricsPort: BACKUP_METRICS_PORT,
    },
    files: [...new Set(['cron.sh', sidecar.script, 'object-backup.sh', 's3-repository.sh', 'rclone-s3.sh', BACKUP_METRICS_SCRIPT,
      ...(settings.binlogArchiveSeconds !== undefined ? ['binlog-archive.sh'] : []), ...restoreFiles])],
    backupMetrics: { ...sidecarBackupMetrics(settings.scheduleGapSeconds!), archiveTimeoutSeconds: settings.binlogArchiveSeconds },
  };
}
