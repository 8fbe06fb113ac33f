import { isDeepStrictEqual } from 'util';
import { BACKUP_REPOSITORY_ANNOTATION, BACKUP_SCHEDULE_ANNOTATION, BINLOG_ARCHIVE_ANNOTATION, cronGapsSeconds, RETAIN_FULL_BACKUPS_ANNOTATION } from '../database/backup';
import { show } from '../errors';
import type { ChangeApprovals } from '../database/stateful-database-props';
import { objectLabel, quantityBytes } from './baseline';

/** What the guard knows about a database beyond its manifests. @internal */
export interface DatabaseContext {
  /** `StatefulDatabase 'app/chart/db'`. */
  readonly owner: string;
  readonly quorum: boolean;
  /** The engine's `app.kubernetes.io/name`, e.g. `zookeeper`. */
  readonly engine: string;
  readonly approvals: ChangeApprovals;
}

/** Options of the guard that name objects (`Kind/name` or `Kind/namespace/name`). @internal */
export interface GuardContext {
  /** Objects the user deletes before the apply (immutable fields of classes, volumes, claims). */
  readonly recreate: Set<string>;
  /** Objects whose switch to a reclaim policy of `Delete` is acknowledged. */
  readonly dataLossAcknowledged: Set<string>;
  /** Classes outside the app known to allow expansion. */
  readonly expandableClasses: Set<string>;
  /** The StorageClasses of the new output and the baseline, by name (new first). */
  readonly classes: Map<string, any>;
}

/** One change the guard found, refused or with the steps it takes. @internal */
export interface Finding {
  /** `objectKey` of the object. */
  readonly object: string;
  /** Who owns it, as errors name it: `StatefulDatabase 'app/chart/db'`. */
  readonly owner: string;
  /** The field, e.g. `spec.serviceName`. */
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
  /** refused: synth fails; manual: allowed, with steps before the apply; automatic: the output does it. */
  readonly verdict: 'refused' | 'manual' | 'automatic';
  /** Why the API server or the data would not survive it (refused), or what happens. */
  readonly why: string;
  /** What to do instead (refused), or the manual steps in order. */
  readonly steps: string[];
  /** Claims the output emits to expand them, for `automatic` storage growth. */
  readonly expand?: { readonly template: number; readonly size: string; readonly pinned: string };
}

/** The message of a finding: object, field, old and new values, why, and the fix (or the steps). @internal */
export function describeFinding(f: Finding): string {
  const change = `${objectLabel(f.object)} ${f.field} from ${show(f.from)} to ${show(f.to)}`;
  if (f.verdict === 'refused') return `refuses to change ${change}: ${f.why} Fix: ${f.steps.join(' ')}`;
  return `changes ${change}: ${f.why}${f.steps.length > 0 ? ` Before the apply: ${f.steps.join(' ')}` : ''}`;
}

const STS_MUTABLE = new Set(['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit']);
const PV_NOT_SOURCE = new Set(['accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'volumeAttributesClassName']);
const SC_IMMUTABLE = ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode'];
const PVC_IMMUTABLE = ['accessModes', 'storageClassName', 'selector', 'volumeName', 'volumeMode', 'dataSource', 'dataSourceRef'];

/** The findings of one object that exists in both the baseline and the new output. @internal */
export function compareObject(key: string, before: any, after: any, guard: GuardContext, db?: DatabaseContext): Finding[] {
  switch (after.kind) {
    case 'StatefulSet': return compareStatefulSet(key, before, after, guard, db);
    case 'PersistentVolumeClaim': return compareClaim(key, before, after, guard);
    case 'PersistentVolume': return comparePersistentVolume(key, before, after, guard);
    case 'StorageClass': return compareStorageClass(key, before, after, guard);
    default: return [];
  }
}

function ownerOf(key: string): string {
  return objectLabel(key);
}

function nameParts(key: string): { kind: string; namespace: string; name: string } {
  const [kind, namespace, name] = key.split('/');
  return { kind, namespace, name };
}

function compareStatefulSet(key: string, before: any, after: any, guard: GuardContext, db?: DatabaseContext): Finding[] {
  const out: Finding[] = [];
  const owner = db?.owner ?? ownerOf(key);
  const { namespace, name } = nameParts(key);
  const a = before.spec ?? {};
  const b = after.spec ?? {};
  const orphan = db?.approvals.orphanDelete === true;
  const orphanSteps = [
    `run \`kubectl -n ${namespace} delete statefulset ${name} --cascade=orphan\` right before the apply (pods and claims keep running, the new set adopts them),`,
    'then apply.',
  ];
  const immutable = (field: string, from: unknown, to: unknown, extra = '') => out.push({
    object: key, owner, field, from, to,
    verdict: orphan ? 'manual' : 'refused',
    why: `the API server refuses it${orphan ? ' in place' : ''} (422 Unprocessable Entity: a StatefulSet's spec may change only in replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds).${extra}`,
    steps: orphan ? orphanSteps : [
      `keep ${show(from)}, or replace the set without touching its pods: set changeApprovals: { orphanDelete: true } on the database,`,
      ...orphanSteps,
    ],
  });

  for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (STS_MUTABLE.has(field) || field === 'volumeClaimTemplates') continue;
    if (!isDeepStrictEqual(a[field], b[field])) immutable(`spec.${field}`, a[field], b[field]);
  }

  // claim templates: everything but the size is immutable; the size follows the storage rules
  const oldTemplates: any[] = a.volumeClaimTemplates ?? [];
  const newTemplates: any[] = b.volumeClaimTemplates ?? [];
  const names = (ts: any[]) => ts.map((t) => t?.metadata?.name);
  if (!isDeepStrictEqual(names(oldTemplates), names(newTemplates))) {
    immutable('spec.volumeClaimTemplates', names(oldTemplates), names(newTemplates),
      ' Claims of a removed template stay; an added template gives new claims only to pods created after the set is replaced.');
  } else {
    newTemplates.forEach((t, i) => {
      const o = oldTemplates[i];
      const withoutSize = (x: any) => ({ ...x, spec: { ...x.spec, resources: { ...x.spec?.resources, requests: { ...x.spec?.resources?.requests, storage: undefined } } } });
      const ow = withoutSize(o);
      const nw = withoutSize(t);
      for (const part of [...new Set([...Object.keys(ow.spec), ...Object.keys(nw.spec)])].sort()) {
        if (!isDeepStrictEqual(ow.spec[part], nw.spec[part])) {
          immutable(`spec.volumeClaimTemplates[${t.metadata.name}].spec.${part}`, ow.spec[part], nw.spec[part],
            ' Existing claims keep their old value even after the set is replaced: only claims created afterwards follow the new template.');
        }
      }
      if (!isDeepStrictEqual(ow.metadata, nw.metadata)) immutable(`spec.volumeClaimTemplates[${t.metadata.name}].metadata`, ow.metadata, nw.metadata);
      const size = storageChange(key, owner, `spec.volumeClaimTemplates[${t.metadata.name}].spec.resources.requests.storage`,
        o, t, guard, `claims ${t.metadata.name}-${name}-<ordinal>`);
      // the template keeps the deployed size (immutable); the output carries the claims instead
      if (size) out.push(size.expand ? { ...size, expand: { ...size.expand, template: i } } : size);
    });
  }

  if (db) {
    out.push(...quorumChange(key, db, a.replicas ?? 1, b.replicas ?? 1));
    out.push(...versionChange(key, db, mainImage(before), mainImage(after)));
    out.push(...backupRules(key, db, before, after));
    if (db.engine === 'postgresql') {
      out.push(...leaderElectionChange(key, db, postgresLeader(before), postgresLeader(after)));
      out.push(...primaryMove(key, db, before, after));
    }
    for (const when of ['whenDeleted', 'whenScaled']) {
      const from = a.persistentVolumeClaimRetentionPolicy?.[when] ?? 'Retain';
      const to = b.persistentVolumeClaimRetentionPolicy?.[when] ?? 'Retain';
      if (from !== 'Delete' && to === 'Delete') {
        const ack = db.approvals.claimDeletion === true;
        out.push({
          object: key, owner, field: `spec.persistentVolumeClaimRetentionPolicy.${when}`, from, to,
          verdict: ack ? 'manual' : 'refused',
          why: `the StatefulSet controller will then delete the claims ${when === 'whenDeleted' ? 'when the set is deleted' : 'of removed ordinals on scale-down'}, and with a Delete reclaim policy the volumes and their data.`,
          steps: ack ? ['data loss acknowledged (changeApprovals.claimDeletion): back up first.'] :
            ['keep Retain, or, if losing those claims is intended, say so: set changeApprovals: { claimDeletion: true } on the database.'],
        });
      }
    }
  }
  return out;
}

/** A storage request change of a claim or claim template. */
function storageChange(key: string, owner: string, field: string, before: any, after: any, guard: GuardContext, claims: string): Finding | undefined {
  const from = before?.spec?.resources?.requests?.storage;
  const to = after?.spec?.resources?.requests?.storage;
  const fromBytes = quantityBytes(from);
  const toBytes = quantityBytes(to);
  if (fromBytes === undefined || toBytes === undefined || fromBytes === toBytes) return undefined;
  const base = { object: key, owner, field, from, to };
  if (toBytes < fromBytes) {
    return {
      ...base, verdict: 'refused',
      why: 'a claim never shrinks (the API server refuses it with 422: the request may not be less than the previous value, and a claim template may not change at all).',
      steps: [`keep ${show(from)}. To really use less, move the data to a claim template of a new name (a new set, or orphanDelete) and copy it over.`],
    };
  }
  const className: string | undefined = after?.spec?.storageClassName;
  const refuse = (why: string, fix: string): Finding => ({ ...base, verdict: 'refused', why, steps: [fix] });
  if (after?.spec?.selector || after?.spec?.volumeName) {
    return refuse('the claims bind statically provisioned volumes (a pool), which no resizer expands: the API server refuses the larger request (403 Forbidden: only dynamically provisioned claims can be resized).',
      `keep ${show(from)}; give the volumes more room on the server instead (NFS does not enforce the request).`);
  }
  const sc = className === undefined ? undefined : guard.classes.get(className);
  if (sc && sc.allowVolumeExpansion !== true) {
    return refuse(`StorageClass '${className}' does not set allowVolumeExpansion: the API server refuses the larger request (403 Forbidden).`,
      `keep ${show(from)}, or allow expansion on the class first (allowVolumeExpansion: true can be changed on an existing class; apply that, then this).`);
  }
  if (!sc && !(className !== undefined && guard.expandableClasses.has(className))) {
    return refuse(`${className === undefined ? 'the cluster\'s default class' : `StorageClass '${className}'`} is not part of this app, so synth cannot tell whether it allows expansion; the API server refuses the larger request (403 Forbidden) if it does not.`,
      className === undefined ? `keep ${show(from)}, or name the class of the claims.` :
        `keep ${show(from)}, or, if the class allows expansion, say so: ChangeGuard.attach(app, { expandableClasses: ['${className}'] }).`);
  }
  return {
    ...base, verdict: 'automatic',
    why: `StorageClass '${className}' allows expansion: the output carries the ${claims} with the new request, so applying it expands every existing claim (the CSI resizer grows the volume, the file system grows online or at the next pod start).`,
    steps: [],
    expand: { template: -1, size: String(to), pinned: String(from) },
  };
}

/**
 * The largest membership change one apply may make, for a quorum engine, from `from` members
 * towards `to`: joiners start in parallel and join the live quorum (Galera: a state transfer from a
 * member of the Primary component; ZooKeeper: a non-voting follower until the quorum adds it with
 * `reconfig`), so growth is free; what stays must be a majority of the old members, or a member that
 * fails mid-change (ZooKeeper: the members still in the config until the leader removes them) takes
 * the quorum with it. 0: no step keeps a majority.
 */
function membershipStep(from: number, to: number): number {
  if (to < from) return from - (Math.floor(from / 2) + 1);
  return Infinity;
}

function quorumChange(key: string, db: DatabaseContext, from: number, to: number): Finding[] {
  if (!db.quorum || from === to || from === 0 || to === 0) return [];
  const zookeeper = db.engine === 'zookeeper';
  const path: number[] = [from];
  while (path[path.length - 1] !== to) {
    const at = path[path.length - 1];
    // Galera and the others leave one at a time (a member that leaves cleanly stops counting)
    const step = zookeeper ? membershipStep(at, to) : Math.max(1, membershipStep(at, to));
    if (step < 1) return [zookeeperTooSmall(key, db, from, to, at)];
    path.push(to > at ? Math.min(to, at + step) : Math.max(to, at - step));
  }
  if (path.length === 2) return [];
  const { namespace, name } = nameParts(key);
  return [{
    object: key, owner: db.owner, field: 'spec.replicas', from, to, verdict: 'refused',
    why: `the members that stay (${to} of ${from}) are not a majority of the ${zookeeper ? 'ensemble' : 'cluster'} they leave: a member that fails mid-change takes the quorum with it, and the rest stop ${zookeeper ? 'serving' : 'as non-primary'}.`,
    steps: [
      `change replicas in steps: ${path.join(' → ')}; after each apply wait until every member is Ready ` +
        `(\`kubectl -n ${namespace} rollout status statefulset ${name}\`) before the next.`,
    ],
  }];
}

/** A ZooKeeper scale-down that no step can make by itself: from 2 members, one is not a majority. */
function zookeeperTooSmall(key: string, db: DatabaseContext, from: number, to: number, at: number): Finding {
  return {
    object: key, owner: db.owner, field: 'spec.replicas', from, to, verdict: 'refused',
    why: `a ZooKeeper ensemble of ${at} members cannot drop to ${at - 1} by itself: the member that stays is not a majority, so no leader is left to remove the one that goes.`,
    steps: [`keep at least ${at} members, or first remove the member with \`reconfig -remove\` as a superuser (docs/engines.md, ZooKeeper), then change replicas.`],
  };
}

/** The release series of an image tag that a data directory is tied to: PostgreSQL's major, X.Y for the others. */
/** The release series of an image's tag; a PostgreSQL set's image (the official one, or one with Patroni) by its major from 10 on. */
function series(image: string, postgresEngine: boolean): { repository: string; series: string } | undefined {
  const m = /^(.*?):([0-9]+)(?:\.([0-9]+))?/.exec(image.split('@')[0]);
  if (!m) return undefined;
  const repository = m[1];
  const postgresLike = (postgresEngine || /(^|\/)postgres(ql)?$/.test(repository)) && Number(m[2]) >= 10;
  return { repository, series: postgresLike || m[3] === undefined ? m[2] : `${m[2]}.${m[3]}` };
}

function versionChange(key: string, db: DatabaseContext, from: string | undefined, to: string | undefined): Finding[] {
  if (!from || !to || from === to) return [];
  const a = series(from, db.engine === 'postgresql');
  const b = series(to, db.engine === 'postgresql');
  if (!a || !b || a.repository !== b.repository || a.series === b.series) return [];
  const ack = db.approvals.majorVersionUpgrade === true;
  const postgres = db.engine === 'postgresql' || /postgres/.test(a.repository);
  return [{
    object: key, owner: db.owner, field: 'spec.template.spec.containers[main].image', from, to,
    verdict: ack ? 'manual' : 'refused',
    why: postgres
      ? `PostgreSQL ${b.series} does not start on a data directory of PostgreSQL ${a.series} ("database files are incompatible with server"): every member would crash-loop on its old data.`
      : `the ${a.repository} ${b.series} server upgrades the data directory of ${a.series} in place on its first start, which the old version cannot read again: a failed rollout cannot be rolled back.`,
    steps: ack
      ? [postgres ? 'the data directory must already be upgraded (pg_upgrade, or dump and restore into new claims).' : 'take a backup before the apply; the rollout upgrades one member at a time.']
      : [`keep ${show(from)}, or, once ${postgres ? 'the data is migrated (pg_upgrade, or dump and restore)' : 'a backup exists'}, set changeApprovals: { majorVersionUpgrade: true } on the database.`],
  }];
}

/** How many full backups a set keeps, by its annotation; undefined when it archives and backs up nothing. */
function retainedFullBackups(sts: any): number | undefined {
  const value = sts?.metadata?.annotations?.[RETAIN_FULL_BACKUPS_ANNOTATION];
  return value === undefined ? undefined : Number(value);
}

/**
 * The engines whose backups are whole copies, one object each, without a log archive (Redis's
 * snapshots, MariaDB Galera's mariadb-backup streams): what one is called and the sidecar's script.
 */
function objectBackups(engine: string): { noun: string; script: string } | undefined {
  if (engine === 'redis') return { noun: 'snapshot', script: 'redis-backup.sh' };
  if (engine === 'mariadb-galera') return { noun: 'backup', script: 'mariadb-backup.sh' };
  if (engine === 'mysql') return { noun: 'backup', script: 'mysql-backup.sh' };
  if (engine === 'zookeeper') return { noun: 'backup', script: 'zookeeper-backup.sh' };
  return undefined;
}

/** Backups turned off, or fewer full backups kept: restore points are lost (turning on or keeping more is free). */
function backupChange(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const from = retainedFullBackups(before);
  const to = retainedFullBackups(after);
  if (from === undefined || (to !== undefined && to >= from)) return [];
  const ack = db.approvals.backupReduction === true;
  const approve = 'set changeApprovals: { backupReduction: true } on the database.';
  const objects = objectBackups(db.engine);
  if (to === undefined) {
    return [{
      object: key, owner: db.owner, field: objects ? `backup (scheduled ${objects.noun}s)` : 'backup (WAL archiving, scheduled full backups)', from: 'on', to: 'off',
      verdict: ack ? 'manual' : 'refused',
      why: objects
        ? `from the apply on, no ${objects.noun} is taken: nothing written after the apply can be restored.`
        : 'from the apply on, the server archives no WAL and no full backup is taken: nothing written after the apply can be restored, and point-in-time recovery ends at the apply.',
      steps: ack ? ['end of backups acknowledged (changeApprovals.backupReduction): the repository keeps the backups it holds, no longer expired; delete them yourself once they are not needed.']
        : [`keep backup, or, if ending backups is intended, ${approve}`],
    }];
  }
  return [{
    object: key, owner: db.owner, field: objects ? 'backup.retainBackups' : 'backup.retainFullBackups', from, to,
    verdict: ack ? 'manual' : 'refused',
    why: objects
      ? `after the next ${objects.noun}, all but the newest ${to} are deleted from the repository: the restore points before them no longer exist.`
      : `after the next full backup, pgBackRest expires all but the newest ${to} and the WAL older than the oldest one kept: the restore points before it no longer exist, and point-in-time recovery reaches back ${to} full backups instead of ${from}.`,
    steps: ack ? ['shorter window acknowledged (changeApprovals.backupReduction): copy the repository elsewhere before the next full backup if its older restore points are still needed.']
      : [`keep ${from}, or, if the shorter window is intended, ${approve}`],
  }];
}

/**
 * How far back a restore reaches at least, in seconds, by a StatefulSet's annotations: right after
 * a full backup expires the oldest, the oldest kept is `retain - 1` scheduled runs back, each at
 * least the schedule's shortest gap. Undefined without backups or with a schedule it cannot read.
 */
function restoreWindowSeconds(sts: any): { seconds: number; schedule: string } | undefined {
  const retain = retainedFullBackups(sts);
  const schedule = sts?.metadata?.annotations?.[BACKUP_SCHEDULE_ANNOTATION];
  if (retain === undefined || typeof schedule !== 'string') return undefined;
  try {
    const gaps = cronGapsSeconds((message) => { throw new Error(message); }, 'schedule', schedule);
    return { seconds: (retain - 1) * gaps.shortest, schedule };
  } catch {
    return undefined;
  }
}

/** A duration in seconds as people read a backup window: days, or hours, or minutes. */
function span(seconds: number): string {
  const [unit, size] = seconds >= 86400 ? ['day', 86400] : seconds >= 3600 ? ['hour', 3600] : ['minute', 60];
  const n = Math.round((seconds / size) * 10) / 10;
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Full backups scheduled more often, as many kept: the oldest restore point comes closer. */
function backupScheduleChange(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const from = restoreWindowSeconds(before);
  const to = restoreWindowSeconds(after);
  if (from === undefined || to === undefined || from.schedule === to.schedule || to.seconds >= from.seconds) return [];
  if ((retainedFullBackups(after) ?? 0) < (retainedFullBackups(before) ?? 0)) return []; // said by backupChange
  const ack = db.approvals.backupReduction === true;
  const objects = objectBackups(db.engine);
  return [{
    object: key, owner: db.owner, field: 'backup.schedule', from: from.schedule, to: to.schedule,
    verdict: ack ? 'manual' : 'refused',
    why: objects
      ? `${objects.noun}s come more often while as many are kept: after the next ones, the older ${objects.noun}s are deleted sooner, and a restore reaches back at least ${span(to.seconds)} instead of ${span(from.seconds)}.`
      : `full backups come more often while as many are kept: after the next ones, pgBackRest expires the older backups and their WAL sooner, and point-in-time recovery reaches back at least ${span(to.seconds)} instead of ${span(from.seconds)}.`,
    steps: ack ? ['shorter window acknowledged (changeApprovals.backupReduction): copy the repository elsewhere before the next full backups if its older restore points are still needed.']
      : [`keep ${show(from.schedule)}, or keep more full backups (backup.retainFullBackups) so the window stays, or, if the shorter window is intended, set changeApprovals: { backupReduction: true } on the database.`],
  }];
}

/** The backups moved to another repository: it starts empty, and the old one is no longer looked after. */
function backupRepositoryChange(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const from = before?.metadata?.annotations?.[BACKUP_REPOSITORY_ANNOTATION];
  const to = after?.metadata?.annotations?.[BACKUP_REPOSITORY_ANNOTATION];
  if (from === undefined || to === undefined || from === to) return [];
  const ack = db.approvals.backupReduction === true;
  const objects = objectBackups(db.engine);
  return [{
    object: key, owner: db.owner, field: 'backup.repository', from, to,
    verdict: ack ? 'manual' : 'refused',
    why: objects
      ? `the new repository holds no ${objects.noun}: until the first one there completes nothing is restorable from it; the old repository keeps what it holds, but this set no longer expires it.`
      : 'the new repository holds no backup: until its first full backup completes nothing written is restorable from it, and point-in-time recovery through it reaches back only to that backup; ' +
        'the old repository keeps what it holds, but this set no longer archives to it or expires it.',
    steps: ack ? [`move acknowledged (changeApprovals.backupReduction): take a ${objects?.noun ?? 'full backup'} into the new repository right after the apply (${objects?.script ?? 'postgres-backup.sh'} now in the backup sidecar); restore older points from the old repository (restoreFrom).`]
      : [`keep ${show(from)}, or, if the move is intended, set changeApprovals: { backupReduction: true } on the database.`],
  }];
}

/**
 * The binary log archive (MySQL, MariaDB Galera) turned off while backups go on: restores to a
 * point in time end at the apply (backups turned off altogether: said by backupChange).
 */
function binlogArchiveChange(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const from = before?.metadata?.annotations?.[BINLOG_ARCHIVE_ANNOTATION];
  if (from === undefined || after?.metadata?.annotations?.[BINLOG_ARCHIVE_ANNOTATION] !== undefined || retainedFullBackups(after) === undefined) return [];
  const ack = db.approvals.backupReduction === true;
  return [{
    object: key, owner: db.owner, field: 'backup.binlogArchiveInterval', from: `${from}s`, to: 'off',
    verdict: ack ? 'manual' : 'refused',
    why: 'from the apply on, the binary log is no longer archived: a restore reaches only the backups\' own moments, and restores to a point in time end at the apply.',
    steps: ack ? ['end of the binary log archive acknowledged (changeApprovals.backupReduction): the repository keeps the archive it holds, no longer expired; delete binlog/ yourself once it is not needed.']
      : ['keep backup.binlogArchiveInterval, or, if ending the archive is intended, set changeApprovals: { backupReduction: true } on the database.'],
  }];
}

/** The backup rules: backups off or fewer kept, moved, scheduled with a shorter window, the binary log archive off; a restore added to a deployed set. */
function backupRules(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  return [
    ...backupChange(key, db, before, after),
    ...binlogArchiveChange(key, db, before, after),
    ...backupRepositoryChange(key, db, before, after),
    ...backupScheduleChange(key, db, before, after),
    ...restoreFromAdded(key, db, before, after),
  ];
}

/** The repository a set's first member restores from (`restoreFrom`: an init container's RESTORE_* env), as `s3://endpoint/bucket/path`. */
function restoreSource(sts: any): string | undefined {
  for (const c of sts?.spec?.template?.spec?.initContainers ?? []) {
    const env = new Map<string, unknown>((c?.env ?? []).map((e: any) => [e?.name, e?.value]));
    if (env.has('RESTORE_BUCKET')) return `s3://${env.get('RESTORE_ENDPOINT')}/${env.get('RESTORE_BUCKET')}${env.get('RESTORE_PATH') ?? ''}`;
  }
  return undefined;
}

/** `restoreFrom` added to a deployed set: its members hold data (or are creating it) and never restore over it. */
function restoreFromAdded(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const to = restoreSource(after);
  if (to === undefined || restoreSource(before) !== undefined) return [];
  return [{
    object: key, owner: db.owner, field: 'restoreFrom', from: 'none', to,
    verdict: 'refused',
    why: 'the set is deployed: its members hold data or are creating it, and a member restores only into a new set whose volume is empty, so the restore would never run.',
    steps: ['leave restoreFrom out of the deployed set; to restore, create a new set (another name or namespace) with restoreFrom and move the clients to it (docs/engines.md, the restore drill).'],
  }];
}

/** Who decides a PostgreSQL set's primary, by what its pods run: Patroni, or the first ordinal (the streaming layout). */
function postgresLeader(sts: any): 'Patroni' | 'the first ordinal' | undefined {
  const pod = sts?.spec?.template?.spec ?? {};
  const main = (pod.containers ?? []).find((c: any) => c?.name === 'main');
  if ((main?.command ?? []).some((a: unknown) => typeof a === 'string' && a.endsWith('/patroni-start.sh'))) return 'Patroni';
  if ((pod.initContainers ?? []).some((c: any) => c?.name === 'clone')) return 'the first ordinal';
  return undefined;
}

function leaderElectionChange(key: string, db: DatabaseContext, from: string | undefined, to: string | undefined): Finding[] {
  if (!from || !to || from === to) return [];
  return [{
    object: key, owner: db.owner, field: 'spec.template.spec.containers[main].command', from: `primary decided by ${from}`, to: `primary decided by ${to}`,
    verdict: 'refused',
    why: to === 'Patroni'
      ? 'Patroni did not initialize these data directories and holds no initialize key for them: the first member to take its leader lock, a replica as likely as the primary, would lead, and the others would follow a history they may not share.'
      : 'the streaming layout makes the first ordinal the primary, whichever member Patroni promoted last: the set would follow a member that may lag behind, and the others would carry a timeline it never saw.',
    steps: ['keep the layout the set was created with, and move the data into a new set of the other layout (docs/engines.md, "Moving a PostgreSQL set to Patroni": a new set under another name, pg_dump | pg_restore or logical replication, then the clients).'],
  }];
}

/** A new image of a Patroni set: the rollout restarts the primary too, and Patroni moves it. */
function primaryMove(key: string, db: DatabaseContext, before: any, after: any): Finding[] {
  const from = mainImage(before);
  const to = mainImage(after);
  if (postgresLeader(before) !== 'Patroni' || postgresLeader(after) !== 'Patroni' || !from || !to || from === to) return [];
  const { namespace, name } = nameParts(key);
  return [{
    object: key, owner: db.owner, field: 'spec.template.spec.containers[main].image', from, to,
    verdict: 'manual',
    why: 'the rolling update restarts every member, the primary among them: Patroni then moves the primary to a replica, and writes pause for a few seconds.',
    steps: [`to choose when the primary moves, run \`kubectl -n ${namespace} exec ${name}-0 -- patronictl switchover --force\` after the replicas are updated, or before the apply;`,
      `afterwards \`kubectl -n ${namespace} exec ${name}-0 -- patronictl list\` shows one Leader and streaming replicas.`],
  }];
}

/** The image of the container named `main` (or the first container) of a StatefulSet. @internal */
export function mainImage(sts: any): string | undefined {
  const containers: any[] = sts?.spec?.template?.spec?.containers ?? [];
  return (containers.find((c) => c?.name === 'main') ?? containers[0])?.image;
}

function isListed(set: Set<string>, key: string): boolean {
  const { kind, namespace, name } = nameParts(key);
  return set.has(namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`);
}

function recreateSteps(key: string, from: unknown): string[] {
  const { kind, namespace, name } = nameParts(key);
  const ns = namespace ? `-n ${namespace} ` : '';
  const listed = namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
  return [`keep ${show(from)}, or replace the object: list it in ChangeGuard.attach(app, { recreate: ['${listed}'] }),`,
    `run \`kubectl ${ns}delete ${kind.toLowerCase()} ${name}\` right before the apply, then apply.`];
}

function compareStorageClass(key: string, before: any, after: any, guard: GuardContext): Finding[] {
  const recreate = isListed(guard.recreate, key);
  return SC_IMMUTABLE.filter((f) => !isDeepStrictEqual(before[f], after[f])).map((f): Finding => ({
    object: key, owner: ownerOf(key), field: f, from: before[f], to: after[f],
    verdict: recreate ? 'manual' : 'refused',
    why: 'the API server refuses it (422: a StorageClass\'s provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable). Deleting the class does not touch the volumes it provisioned; they keep their own reclaim policy.' +
      (f === 'reclaimPolicy' && after[f] === 'Delete' ? ' DATA LOSS: volumes provisioned from then on are destroyed with their claims.' : ''),
    steps: recreate ? recreateSteps(key, before[f]).slice(1) : recreateSteps(key, before[f]),
  }));
}

function comparePersistentVolume(key: string, before: any, after: any, guard: GuardContext): Finding[] {
  const out: Finding[] = [];
  const a = before.spec ?? {};
  const b = after.spec ?? {};
  const recreate = isListed(guard.recreate, key);
  for (const f of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if ((PV_NOT_SOURCE.has(f) && f !== 'volumeMode') || isDeepStrictEqual(a[f], b[f])) continue;
    out.push({
      object: key, owner: ownerOf(key), field: `spec.${f}`, from: a[f], to: b[f],
      verdict: recreate ? 'manual' : 'refused',
      why: `the API server refuses it (422: a PersistentVolume's volume source is immutable). A bound volume points at the data of its claim: an NFS server or path change would also hand that claim another directory.`,
      steps: recreate ? recreateSteps(key, a[f]).slice(1) : recreateSteps(key, a[f]),
    });
  }
  const from = a.persistentVolumeReclaimPolicy ?? 'Retain';
  const to = b.persistentVolumeReclaimPolicy ?? 'Retain';
  if (from !== 'Delete' && to === 'Delete') {
    const ack = isListed(guard.dataLossAcknowledged, key);
    const { kind, name } = nameParts(key);
    out.push({
      object: key, owner: ownerOf(key), field: 'spec.persistentVolumeReclaimPolicy', from, to,
      verdict: ack ? 'manual' : 'refused',
      why: 'the volume and its data are then destroyed when its claim is deleted.',
      steps: ack ? ['data loss acknowledged: back up first.'] :
        [`keep ${show(from)}, or, if that is intended, say so: ChangeGuard.attach(app, { dataLossAcknowledged: ['${kind}/${name}'] }).`],
    });
  }
  return out;
}

function compareClaim(key: string, before: any, after: any, guard: GuardContext): Finding[] {
  const out: Finding[] = [];
  const a = before.spec ?? {};
  const b = after.spec ?? {};
  const recreate = isListed(guard.recreate, key);
  for (const f of PVC_IMMUTABLE) {
    if (isDeepStrictEqual(a[f], b[f])) continue;
    out.push({
      object: key, owner: ownerOf(key), field: `spec.${f}`, from: a[f], to: b[f],
      verdict: recreate ? 'manual' : 'refused',
      why: 'the API server refuses it (422: a claim\'s spec is immutable after creation but for its storage request). DATA LOSS if the claim is deleted to recreate it and its volume\'s reclaim policy is Delete.',
      steps: recreate ? recreateSteps(key, a[f]).slice(1) : recreateSteps(key, a[f]),
    });
  }
  const size = storageChange(key, ownerOf(key), 'spec.resources.requests.storage', before, after, guard, 'claim');
  if (size) out.push(size.verdict === 'automatic' ? { ...size, why: `the claim's request grows; StorageClass '${b.storageClassName}' allows expansion.`, expand: undefined } : size);
  return out;
}
