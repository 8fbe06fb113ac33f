import type { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { S3Repository } from '../backup';
import type { EngineBackupMetrics, EngineContext, EngineEgress, InitContainer, SidecarContainer } from '../engine-definition';
import { ObjectBackupKind, objectBackupSettings, objectBackupSidecar } from './private/object-backup';
import { identityEnv, runScript } from './private/preset-helpers';

/*
 * Backups of the MariaDB Galera preset to S3-compatible storage, and a new set restored from one
 * (DatabaseEngine.mariadbGalera({ backup, restoreFrom })): the sidecar `backup` of the member with
 * the highest ordinal streams a physical backup of its own server on a cron schedule
 * (mariadb-backup.sh: `mariadb-backup --backup --galera-info --stream=mbstream`, a SHA-256, rclone),
 * and the first member of a new set starts from the latest or a named one (the init container
 * `restore`, mariadb-restore.sh), which the others then join by SST.
 */

/** Physical backups of a MariaDB Galera set to S3-compatible storage; see `MariaDbGaleraOptions.backup`. */
export interface MariaDbGaleraBackupOptions {
  /**
   * A pinned image with MariaDB (the set's version: `mariadb-backup` must be the server's own
   * version), Galera and rclone: the official `mariadb` image with Debian's `rclone` package
   * (docs/engines.md gives the Dockerfile). Every container of the set runs it.
   */
  readonly image: string;
  /** Where the backups go: one object per backup, named by its UTC time, and its checksum. */
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
   * Archive the binary log for restores to a point in time (`restoreFrom.pointInTime`): every
   * member logs every transaction of the cluster (`log_bin`, `log_slave_updates`,
   * `wsrep_gtid_mode`), and the sidecar of the member that takes the backups switches its binary
   * log (`FLUSH BINARY LOGS`, when anything was logged since the last switch) and uploads every
   * closed file, checked by length and SHA-256, at this interval, 10 seconds to 1 hour. The archive
   * is kept back to the oldest backup kept. A failed upload leaves the files on the volume and is
   * tried again; the server never waits for the store. Turning it on restarts the members (their
   * configuration changes).
   * @default - no binary log: restores reach a backup's moment only
   */
  readonly binlogArchiveInterval?: Duration;
  /**
   * Requests and limits of the sidecar `backup`, field by field over the defaults. It waits most
   * of the time; while a backup runs, mariadb-backup reads the data directory and rclone buffers
   * the upload's parts.
   * @default - cpu 20m/1, memory 64Mi/512Mi, ephemeral storage 16Mi/256Mi
   */
  readonly resources?: kplus.ContainerResources;
}

/** A MariaDB Galera set created from a backup; see `MariaDbGaleraOptions.restoreFrom`. */
export interface MariaDbGaleraRestoreOptions {
  /** The repository of the set to restore (its `backup.repository`); its keys are read from this set's credentials Secret. */
  readonly repository: S3Repository;
  /**
   * A pinned image with MariaDB, Galera and rclone.
   * @default - `backup.image`; one of the two is required
   */
  readonly image?: string;
  /**
   * The backup to restore, by its object name in the repository, e.g. `'20260301T023000Z.mbstream'`.
   * @default - the latest complete backup (one whose checksum object exists)
   */
  readonly backup?: string;
  /**
   * Recover up to this moment (an ISO 8601 timestamp with its zone, e.g.
   * `'2026-03-01T12:00:00Z'`), to the second: the newest backup that had ended before it, then the
   * archived binary log replayed from that backup's position up to the first event stamped at or
   * after it (`mariadb-binlog --stop-datetime`), on a server without networking, before the member
   * bootstraps the new cluster. The repository's set must have archived its binary log
   * (`backup.binlogArchiveInterval`) from that backup on; a gap in the archive, or an archive that
   * does not reach the moment yet, stops the restore naming it. Not with `backup`.
   * @default - the backup's own moment
   */
  readonly pointInTime?: string;
}

/** What `backup` and `restoreFrom` add to the Galera preset's pods. */
export interface GaleraBackupBinding {
  /** The image every container runs (with rclone), or undefined for the preset's own. */
  readonly image?: string;
  /** The init container `restore` (with `restoreFrom`), to run before `recover`. */
  readonly initContainers: InitContainer[];
  /** The sidecar `backup`, with `backup`. */
  readonly sidecars: SidecarContainer[];
  /** The scripts the pods need beyond the preset's. */
  readonly files: string[];
  /** The repositories the members reach, for the NetworkPolicy. */
  readonly egress: EngineEgress[];
  /** The StatefulSet's annotations, with `backup`: how many backups are kept, when, where. */
  readonly annotations?: { [key: string]: string };
  /** With `backup`: the sidecar serves its backups' outcome (the backup alerts and panels). */
  readonly backupMetrics?: EngineBackupMetrics;
  /** With `backup.binlogArchiveInterval`: every member logs its binary log (galera-bootstrap.sh's BINLOG). */
  readonly binlog: boolean;
}

const GALERA_BACKUPS: ObjectBackupKind = {
  engine: 'mariadbGalera',
  noun: 'backup',
  objectName: /^\d{8}T\d{6}Z\.mbstream$/,
  objectExample: '20260301T023000Z.mbstream',
  // the official image's references, which have no rclone
  officialImage: /^(docker\.io\/)?(library\/)?mariadb(:|@|$)/,
  officialName: 'mariadb',
  software: 'MariaDB',
  docs: 'MariaDB Galera backups',
  exampleImage: 'registry.example.com/mariadb-rclone:11.8.3',
  binlog: true,
};

/** The pod's paths the backup and restore scripts use. */
export interface GaleraBackupPaths {
  /** The data directory (a subdirectory of the claim) and the server's socket directory and config directory. */
  readonly dataDir: kplus.EnvValue;
  readonly runPath: string;
  readonly configPath: string;
  /** The Secret's root password key (a restore to a point in time replays the binary log as root). */
  readonly rootKey: { [name: string]: kplus.EnvValue };
}

/** What `backup` and `restoreFrom` add to the Galera preset, checked. */
export function galeraBackupBinding(ctx: EngineContext, backup: MariaDbGaleraBackupOptions | undefined,
  restore: MariaDbGaleraRestoreOptions | undefined, paths: GaleraBackupPaths): GaleraBackupBinding {
  const settings = objectBackupSettings(ctx, GALERA_BACKUPS, backup, restore);
  const { image, egress } = settings;
  const data = { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath };
  const initContainers: InitContainer[] = restore ? [{
    name: 'restore',
    image: image!,
    // mariadb-backup --prepare applies the redo log like a server's crash recovery
    runsServer: true,
    command: runScript('mariadb-restore.sh'),
    env: { ...identityEnv(ctx), DATA_DIR: paths.dataDir, ...(settings.pointInTime ? paths.rootKey : {}), ...settings.restoreEnv },
    mounts: [data],
  }] : [];
  const restoreFiles = restore ? ['mariadb-restore.sh', 's3-repository.sh', 'rclone-s3.sh', 'binlog-archive.sh'] : [];
  if (!backup || !settings.backupEnv) return { image, initContainers, sidecars: [], files: restoreFiles, egress, binlog: false };
  const binlog = settings.binlogArchiveSeconds !== undefined;
  const { sidecar, files, backupMetrics } = objectBackupSidecar(ctx, settings, backup.resources, {
    script: 'mariadb-backup.sh',
    env: { DATA_DIR: paths.dataDir, RUN_DIR: kplus.EnvValue.fromValue(paths.runPath) },
    // the data directory it reads, the server's socket, and its configuration (mariadb-backup
    // reads the InnoDB settings the server runs with)
    mounts: [data, { volume: 'run', path: paths.runPath }, { volume: 'config', path: paths.configPath, readOnly: true }],
  }, restoreFiles);
  return { image, initContainers, sidecars: [sidecar], files, egress, annotations: settings.annotations, backupMetrics, binlog };
}
