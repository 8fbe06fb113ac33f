import type { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { S3Repository } from '../backup';
import type { EngineBackupMetrics, EngineContext, EngineEgress, InitContainer, SidecarContainer } from '../engine-definition';
import { ObjectBackupKind, objectBackupSettings, objectBackupSidecar } from './private/object-backup';
import { identityEnv, runScript } from './private/preset-helpers';

/*
 * Backups of the MySQL preset (a primary and asynchronous replicas) to S3-compatible storage, and a
 * new set restored from one (DatabaseEngine.mysql({ backup, restoreFrom })): the sidecar `backup`
 * of the member with the highest ordinal has its own server clone itself (`CLONE LOCAL DATA
 * DIRECTORY`, the clone plugin the replicas are seeded with) into a directory of the data volume,
 * and streams it as a tar through a SHA-256 to rclone (mysql-backup.sh); the first member of a new
 * set starts from the latest or a named one (the init container `restore`, mysql-restore.sh), and
 * the replicas clone it as usual. The sidecar records each attempt for Prometheus (backup-metrics.sh).
 */

/** Physical backups of a MySQL set to S3-compatible storage; see `MysqlOptions.backup`. */
export interface MysqlBackupOptions {
  /**
   * A pinned image with MySQL (the set's version) and rclone: the official `mysql` image with
   * rclone added (docs/engines.md, MySQL backups). Every container of the set runs it.
   */
  readonly image: string;
  /** Where the backups go: one object per backup (a tar of a data directory), named by its UTC time, and its checksum. */
  readonly repository: S3Repository;
  /**
   * When backups are taken: a cron schedule in UTC (minute hour day-of-month month
   * day-of-week), e.g. `'30 2 * * *'` for 02:30 every day.
   */
  readonly schedule: string;
  /**
   * How many backups the repository keeps, 1 to 1000: after each backup, those older than the
   * newest `retainBackups` are deleted.
   * @default 7
   */
  readonly retainBackups?: number;
  /**
   * Archive the binary log for restores to a point in time (`restoreFrom.pointInTime`): the
   * sidecar of the member that takes the backups switches its server's binary log (`FLUSH BINARY
   * LOGS`, when anything was logged since the last switch) and uploads every closed file, checked
   * by length and SHA-256, at this interval, 10 seconds to 1 hour: a restore to a point in time may
   * miss at most about this much of the last moments before a loss of the member. The archive is kept
   * back to the oldest backup kept. A failed upload leaves the files on the volume and is tried
   * again; the server never waits for the store.
   * @default - no binary log archive: restores reach a backup's moment only
   */
  readonly binlogArchiveInterval?: Duration;
  /**
   * Requests and limits of the sidecar `backup`, field by field over the defaults. It waits most
   * of the time; while a backup runs, tar reads the clone and rclone buffers the upload's parts.
   * @default - cpu 20m/1, memory 96Mi/512Mi, ephemeral storage 16Mi/256Mi
   */
  readonly resources?: kplus.ContainerResources;
}

/** A MySQL set created from a backup; see `MysqlOptions.restoreFrom`. */
export interface MysqlRestoreOptions {
  /** The repository of the set to restore (its `backup.repository`); its keys are read from this set's credentials Secret. */
  readonly repository: S3Repository;
  /**
   * A pinned image with MySQL and rclone.
   * @default - `backup.image`; one of the two is required
   */
  readonly image?: string;
  /**
   * The backup to restore, by its object name in the repository, e.g. `'20260301T023000Z.tar'`.
   * @default - the latest complete backup (one whose checksum object exists)
   */
  readonly backup?: string;
  /**
   * Recover up to this moment (an ISO 8601 timestamp with its zone, e.g.
   * `'2026-03-01T12:00:00Z'`), to the second: the newest backup that had ended before it, then the
   * archived binary log replayed from that backup up to the first event stamped at or after it
   * (`mysqlbinlog --stop-datetime`), before the server takes clients. The repository's set must
   * have archived its binary log (`backup.binlogArchiveInterval`) from that backup on; a gap in
   * the archive, or an archive that does not reach the moment yet, stops the restore naming it.
   * Not with `backup`.
   * @default - the backup's own moment
   */
  readonly pointInTime?: string;
}

/** What `backup` and `restoreFrom` add to the MySQL preset's pods. */
export interface MysqlBackupBinding {
  /** The image every container runs (with rclone), or undefined for the preset's own. */
  readonly image?: string;
  /** The init container `restore` (with `restoreFrom`), to run before `clone`. */
  readonly initContainers: InitContainer[];
  /** The sidecar `backup`, with `backup`. */
  readonly sidecars: SidecarContainer[];
  /** The scripts the pods need beyond the preset's. */
  readonly files: string[];
  /** The repositories the members reach, for the NetworkPolicy. */
  readonly egress: EngineEgress[];
  /** With `backup`: the schedule for the backup alerts, and the sidecar's metrics port. */
  readonly backupMetrics?: EngineBackupMetrics;
  /** The StatefulSet's annotations, with `backup`: how many backups are kept, when, where. */
  readonly annotations?: { [key: string]: string };
}

const MYSQL_BACKUPS: ObjectBackupKind = {
  engine: 'mysql',
  noun: 'backup',
  objectName: /^\d{8}T\d{6}Z\.tar$/,
  objectExample: '20260301T023000Z.tar',
  // the official image's references, which have no rclone
  officialImage: /^(docker\.io\/)?(library\/)?mysql(:|@|$)/,
  officialName: 'mysql',
  software: 'MySQL',
  docs: 'MySQL backups',
  exampleImage: 'registry.example.com/mysql-rclone:9.7.4',
  binlog: true,
};

/** The pod's paths and keys the backup and restore scripts use. */
export interface MysqlBackupPaths {
  /** The data directory (a subdirectory of the claim) and the server's socket directory. */
  readonly dataDir: kplus.EnvValue;
  readonly runPath: string;
  /** The Secret's keys: the root password (the restore) and the replication password (the backup, an account with BACKUP_ADMIN). */
  readonly keys: { [name: string]: kplus.EnvValue };
}

/** What `backup` and `restoreFrom` add to the MySQL preset, checked. */
export function mysqlBackupBinding(ctx: EngineContext, backup: MysqlBackupOptions | undefined,
  restore: MysqlRestoreOptions | undefined, paths: MysqlBackupPaths): MysqlBackupBinding {
  const settings = objectBackupSettings(ctx, MYSQL_BACKUPS, backup, restore);
  const { image, egress } = settings;
  const data = { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath };
  const run = kplus.EnvValue.fromValue(paths.runPath);
  const initContainers: InitContainer[] = restore ? [{
    name: 'restore',
    image: image!,
    // a throwaway server on the restored directory drops the replication settings it carried
    runsServer: true,
    command: runScript('mysql-restore.sh'),
    env: { ...identityEnv(ctx), ...paths.keys, DATA_DIR: paths.dataDir, RUN_DIR: run, ...settings.restoreEnv },
    mounts: [data, { volume: 'run', path: paths.runPath }],
  }] : [];
  const restoreFiles = restore ? ['mysql-restore.sh', 's3-repository.sh', 'rclone-s3.sh', 'binlog-archive.sh'] : [];
  if (!backup || !settings.backupEnv) return { image, initContainers, sidecars: [], files: restoreFiles, egress };
  const { sidecar, files, backupMetrics } = objectBackupSidecar(ctx, settings, backup.resources, {
    script: 'mysql-backup.sh',
    env: { ...paths.keys, DATA_DIR: paths.dataDir },
    // the volume the server clones itself into, which the sidecar streams and removes; with the
    // binary log archive, the server's socket (FLUSH BINARY LOGS as root)
    mounts: [data, ...(settings.binlogArchiveSeconds !== undefined ? [{ volume: 'run', path: paths.runPath }] : [])],
  }, restoreFiles);
  return { image, initContainers, sidecars: [sidecar], files, egress, backupMetrics, annotations: settings.annotations };
}
