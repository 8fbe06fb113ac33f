import * as kplus from 'cdk8s-plus-27';
import type { S3Repository } from '../backup';
import type { EngineBackupMetrics, EngineContext, EngineEgress, SidecarContainer } from '../engine-definition';
import { ObjectBackupKind, objectBackupSettings, objectBackupSidecar } from './private/object-backup';

/*
 * Backups of the ZooKeeper preset to S3-compatible storage, and a new ensemble restored from one
 * (DatabaseEngine.zookeeper({ backup, restoreFrom })): the sidecar `backup` of one member (a
 * serving follower when there is one) copies its newest snapshot and every transaction log from
 * that snapshot's zxid on, as one tar, on a cron schedule (zookeeper-backup.sh, with the shared
 * object-backup.sh), and the founding member of a new ensemble starts from the latest or a named
 * one (the init container `config`, zookeeper-restore.sh), which the other members join.
 */

/** Snapshots with their transaction logs of a ZooKeeper ensemble to S3-compatible storage; see `ZooKeeperOptions.backup`. */
export interface ZooKeeperBackupOptions {
  /**
   * A pinned image with ZooKeeper (the ensemble's version) and rclone: the official `zookeeper`
   * image with rclone added (docs/engines.md gives the Dockerfile). Every container of the
   * ensemble runs it.
   */
  readonly image: string;
  /**
   * Where the backups go: one object per backup, `<UTC time>-zxid-<snapshot zxid>.tar`, and its
   * checksum.
   */
  readonly repository: S3Repository;
  /**
   * When backups are taken: a cron schedule in UTC (minute hour day-of-month month
   * day-of-week), e.g. `'0 * * * *'` for every hour.
   */
  readonly schedule: string;
  /**
   * How many backups the repository keeps, 1 to 1000: after each backup, those older than the
   * newest `retainBackups` are deleted.
   * @default 7
   */
  readonly retainBackups?: number;
  /**
   * Requests and limits of the sidecar `backup`, field by field over the defaults. It waits most
   * of the time, serving its metrics (`rclone serve http`); while a backup runs, it copies the
   * member's files on its volume and rclone buffers the upload's parts.
   * @default - cpu 20m/1, memory 96Mi/512Mi, ephemeral storage 16Mi/256Mi
   */
  readonly resources?: kplus.ContainerResources;
}

/** A ZooKeeper ensemble created from a backup; see `ZooKeeperOptions.restoreFrom`. */
export interface ZooKeeperRestoreOptions {
  /** The repository of the ensemble to restore (its `backup.repository`); its keys are read from this set's credentials Secret. */
  readonly repository: S3Repository;
  /**
   * A pinned image with ZooKeeper and rclone.
   * @default - `backup.image`; one of the two is required
   */
  readonly image?: string;
  /**
   * The backup to restore, by its object name in the repository, e.g.
   * `'20260301T023000Z-zxid-100000a2f.tar'`.
   * @default - the latest complete backup (one whose checksum object exists)
   */
  readonly backup?: string;
}

/** What `backup` and `restoreFrom` add to the ZooKeeper preset's pods. */
export interface ZooKeeperBackupBinding {
  /** Environment of the init container `config` (the restore, by the founding member). */
  readonly restoreEnv: { [name: string]: kplus.EnvValue };
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
}

const ZOOKEEPER_BACKUPS: ObjectBackupKind = {
  engine: 'zookeeper',
  noun: 'backup',
  objectName: /^\d{8}T\d{6}Z-zxid-[0-9a-f]{1,16}\.tar$/,
  objectExample: '20260301T023000Z-zxid-100000a2f.tar',
  // the official image's references, which have no rclone
  officialImage: /^(docker\.io\/)?(library\/)?zookeeper(:|@|$)/,
  officialName: 'zookeeper',
  software: 'ZooKeeper',
  docs: 'ZooKeeper backups',
  exampleImage: 'registry.example.com/zookeeper-rclone:3.9.5',
};

/** The backup and restore scripts' own files (the restore runs in the init container `config`). */
const RESTORE_FILES = ['zookeeper-restore.sh', 'zookeeper-files.sh', 's3-repository.sh', 'rclone-s3.sh'];

/** What `backup` and `restoreFrom` add to the ZooKeeper preset, checked. */
export function zookeeperBackupBinding(ctx: EngineContext, backup: ZooKeeperBackupOptions | undefined,
  restore: ZooKeeperRestoreOptions | undefined): ZooKeeperBackupBinding {
  const settings = objectBackupSettings(ctx, ZOOKEEPER_BACKUPS, backup, restore);
  const { restoreEnv, egress } = settings;
  const restoreFiles = restore ? RESTORE_FILES : [];
  if (!backup || !settings.backupEnv) return { restoreEnv, sidecars: [], files: restoreFiles, egress };
  const { sidecar, files, backupMetrics } = objectBackupSidecar(ctx, settings, backup.resources, {
    script: 'zookeeper-backup.sh',
    env: { DATA_DIR: kplus.EnvValue.fromValue(ctx.dataPath) },
    // the snapshots and logs it copies, the copy, and the metrics record
    mounts: [{ volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
  }, ['zookeeper-files.sh', ...restoreFiles]);
  // the ensemble's membership lives in ZooKeeper: no member list in the pod template (PEERS would
  // change it, and roll every member, on each resize); the sidecar reads the live config
  const { PEERS: _peers, ...env } = sidecar.env ?? {};
  return { restoreEnv, sidecars: [{ ...sidecar, env }], files, egress, annotations: settings.annotations, backupMetrics };
}
