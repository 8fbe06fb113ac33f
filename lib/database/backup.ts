/*
 * Backups to S3-compatible storage: the engine-neutral shape of where backups go (S3Repository),
 * when they are taken (a cron schedule) and which member they read (BackupMember), and the
 * synth-time checks of them. The engine presets that back up (PostgreSQL with pgBackRest) turn
 * them into their tool's settings.
 */
import * as kplus from 'cdk8s-plus-27';

/**
 * An S3-compatible bucket that holds a set's backups. The access keys are keys of the database's
 * credentials Secret (mounted read-only at `StatefulDatabase.CREDENTIALS_PATH`), never values.
 */
export interface S3Repository {
  /** The bucket, e.g. `backups`. It must exist. */
  readonly bucket: string;
  /**
   * The S3 endpoint's host name (and `:port` if not 443), without a scheme: backups go over
   * HTTPS only, e.g. `s3.eu-west-1.amazonaws.com` or `minio.storage.svc:9000`.
   */
  readonly endpoint: string;
  /** The region the endpoint signs requests for, e.g. `eu-west-1` (`us-east-1` for most self-hosted stores). */
  readonly region: string;
  /**
   * The repository's directory in the bucket, one per set (two sets in one directory would mix
   * their backups), e.g. `/prod/orders`.
   */
  readonly path: string;
  /**
   * Key of the credentials Secret holding the access key id.
   * @default 's3-access-key-id'
   */
  readonly accessKeyIdKey?: string;
  /**
   * Key of the credentials Secret holding the secret access key.
   * @default 's3-secret-access-key'
   */
  readonly secretAccessKeyKey?: string;
  /**
   * Key of the credentials Secret holding the PEM certificate of the authority that signed the
   * endpoint's certificate, for a store with a private CA. The certificate is always verified.
   * @default - the image's system CAs
   */
  readonly caCertificateKey?: string;
  /**
   * Address the bucket as `https://<endpoint>/<bucket>` (path style, what most self-hosted stores
   * need) rather than `https://<bucket>.<endpoint>` (virtual-host style, AWS's default).
   * @default true
   */
  readonly pathStyle?: boolean;
  /**
   * The store's addresses, where the database's NetworkPolicy lets the members reach the
   * endpoint's port (e.g. `['10.96.0.0/12']` for a store inside the cluster). A store's DNS name
   * cannot be matched by a NetworkPolicy: without this, any address on that port.
   * @default ['0.0.0.0/0'] - any address, on the endpoint's port only
   */
  readonly egressCidrs?: string[];
}

/** Which member a scheduled backup reads its data from. */
export enum BackupMember {
  /** The primary: always the most recent data. */
  PRIMARY = 'primary',
  /**
   * A replica, so that the backup's reads spare the primary. Not every preset offers it: those
   * that do not refuse it at synth.
   */
  REPLICA = 'replica',
}

/** The checked values of an S3Repository, with defaults applied. */
export interface ResolvedS3Repository {
  readonly bucket: string;
  readonly endpoint: string;
  readonly region: string;
  readonly path: string;
  readonly accessKeyIdKey: string;
  readonly secretAccessKeyKey: string;
  readonly caCertificateKey?: string;
  readonly pathStyle: boolean;
  readonly egressCidrs: string[];
  /** The endpoint's port (443 unless it names one). */
  readonly port: number;
}

/**
 * The annotation of a StatefulSet whose members archive their WAL and take scheduled full
 * backups: how many full backups the repository keeps, e.g. `'2'`. A point-in-time restore
 * reaches back to the oldest of them. The change guard reads it to refuse turning backups off or
 * keeping fewer (`changeApprovals.backupReduction`).
 */
export const RETAIN_FULL_BACKUPS_ANNOTATION = 'cdk8s-stateful.dev/retain-full-backups';

/**
 * The annotation of a StatefulSet that backs up: where its repository is,
 * `s3://<endpoint>/<bucket><path>`. The change guard reads it to refuse moving the backups to
 * another repository, which starts empty (`changeApprovals.backupReduction`).
 */
export const BACKUP_REPOSITORY_ANNOTATION = 'cdk8s-stateful.dev/backup-repository';

/**
 * The annotation of a StatefulSet that backs up: its full backups' cron schedule, e.g.
 * `30 2 * * *`. With the number kept, it bounds how far back a restore reaches; the change guard
 * refuses a schedule that shortens that (`changeApprovals.backupReduction`).
 */
export const BACKUP_SCHEDULE_ANNOTATION = 'cdk8s-stateful.dev/backup-schedule';

/**
 * The annotation of a StatefulSet whose backup sidecar archives the binary log (MySQL, MariaDB
 * Galera with `backup.binlogArchiveInterval`): the interval in seconds, e.g. `'60'`. The change
 * guard reads it to refuse turning the archive off (`changeApprovals.backupReduction`): restores to
 * a point in time would end at the apply.
 */
export const BINLOG_ARCHIVE_ANNOTATION = 'cdk8s-stateful.dev/binlog-archive-interval';

/** The repository as the annotation states it: `s3://<endpoint>/<bucket><path>`. */
export function repositoryUrl(repo: ResolvedS3Repository): string {
  return `s3://${repo.endpoint}/${repo.bucket}${repo.path}`;
}

/** A synth-time failure: `what` is the option's name in the error, the message says the fix. */
export type BackupFail = (message: string) => never;

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HOST_PORT = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;
const REGION = /^[a-z0-9][a-z0-9-]*$/;
const REPO_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/** An S3Repository checked: every field has the shape S3 and the Secret need. */
export function resolveS3Repository(fail: BackupFail, what: string, repo: S3Repository | undefined): ResolvedS3Repository {
  if (repo === null || typeof repo !== 'object') {
    fail(`${what} must be an S3Repository, got ${JSON.stringify(repo)}. Fix: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/prod/orders' }.`);
  }
  const text = (field: keyof S3Repository, pattern: RegExp, rule: string, example: string): string => {
    const value = repo[field];
    if (typeof value !== 'string' || !pattern.test(value)) {
      fail(`${what}.${field} must be ${rule}, got ${JSON.stringify(value)}. Fix: e.g. '${example}'.`);
    }
    return value;
  };
  const key = (field: 'accessKeyIdKey' | 'secretAccessKeyKey' | 'caCertificateKey', fallback?: string): string | undefined => {
    const value = repo[field] ?? fallback;
    if (value !== undefined && (typeof value !== 'string' || !SECRET_KEY.test(value) || value.startsWith('..'))) {
      fail(`${what}.${field} must be a key of the credentials Secret (letters, digits, '-', '_' and '.'), got ${JSON.stringify(value)}. ` +
        `Fix: name the key as it is in the Secret, e.g. '${fallback ?? 's3-ca.crt'}'.`);
    }
    return value;
  };
  const endpoint = text('endpoint', /.*/, 'a host name', 's3.example.com');
  if (/^[a-z]+:\/\//i.test(endpoint) || !HOST_PORT.test(endpoint)) {
    fail(`${what}.endpoint got ${JSON.stringify(endpoint)}: give the host name and optional port only (backups go over HTTPS). Fix: e.g. 's3.example.com' or 'store.backup.svc:7070'.`);
  }
  const port = endpoint.includes(':') ? Number(endpoint.split(':')[1]) : 443;
  if (!(port >= 1 && port <= 65535)) fail(`${what}.endpoint got ${JSON.stringify(endpoint)}, whose port is not 1 to 65535. Fix: e.g. 'store.backup.svc:7070'.`);
  const egressCidrs = repo.egressCidrs ?? ['0.0.0.0/0'];
  if (!Array.isArray(egressCidrs) || egressCidrs.length === 0) {
    fail(`${what}.egressCidrs must list at least one address range, got ${JSON.stringify(egressCidrs)}. Fix: leave it out (any address), or e.g. ['10.96.0.0/12'].`);
  }
  if (repo.pathStyle !== undefined && typeof repo.pathStyle !== 'boolean') {
    fail(`${what}.pathStyle must be true or false, got ${JSON.stringify(repo.pathStyle)}. Fix: leave it out (path style) or pass false (virtual-host style).`);
  }
  return {
    bucket: text('bucket', BUCKET, "a bucket name (3 to 63 lower-case letters, digits, '.' and '-')", 'backups'),
    endpoint,
    region: text('region', REGION, "a region name (lower-case letters, digits and '-')", 'us-east-1'),
    path: text('path', REPO_PATH, "an absolute path of names (letters, digits, '.', '_' and '-')", '/prod/orders'),
    accessKeyIdKey: key('accessKeyIdKey', 's3-access-key-id')!,
    secretAccessKeyKey: key('secretAccessKeyKey', 's3-secret-access-key')!,
    caCertificateKey: key('caCertificateKey'),
    pathStyle: repo.pathStyle ?? true,
    egressCidrs,
    port,
  };
}

/**
 * The repository's environment under PREFIX (`BACKUP` or `RESTORE`), as the members' scripts read
 * it: `<PREFIX>_BUCKET`, `_ENDPOINT`, `_REGION`, `_PATH`, `_URI_STYLE` (`path` or `host`), and the
 * paths of the credentials Secret's files that hold the keys (`_S3_ACCESS_KEY_ID_FILE`,
 * `_S3_ACCESS_KEY_FILE`, `_CA_FILE`): never a key itself. WHAT names the option in the error when
 * the database has no Secret mounted at CREDENTIALS_PATH.
 */
export function repositoryEnv(fail: BackupFail, what: string, prefix: string, repo: ResolvedS3Repository,
  credentialsPath: string | undefined): { [name: string]: kplus.EnvValue } {
  if (typeof credentialsPath !== 'string') {
    fail(`${what} needs the S3 keys from the credentials Secret, but the database has none. ` +
      "Fix: pass credentials: { secret } holding 's3-access-key-id' and 's3-secret-access-key' (or the keys the repository names).");
  }
  const v = kplus.EnvValue.fromValue;
  return {
    [`${prefix}_BUCKET`]: v(repo.bucket),
    [`${prefix}_ENDPOINT`]: v(repo.endpoint),
    [`${prefix}_REGION`]: v(repo.region),
    [`${prefix}_PATH`]: v(repo.path),
    [`${prefix}_URI_STYLE`]: v(repo.pathStyle ? 'path' : 'host'),
    [`${prefix}_S3_ACCESS_KEY_ID_FILE`]: v(`${credentialsPath}/${repo.accessKeyIdKey}`),
    [`${prefix}_S3_ACCESS_KEY_FILE`]: v(`${credentialsPath}/${repo.secretAccessKeyKey}`),
    ...(repo.caCertificateKey !== undefined ? { [`${prefix}_CA_FILE`]: v(`${credentialsPath}/${repo.caCertificateKey}`) } : {}),
  };
}

/** Whether two repositories are the same directory of the same bucket. */
export function sameRepository(a: ResolvedS3Repository, b: ResolvedS3Repository): boolean {
  return a.endpoint === b.endpoint && a.bucket === b.bucket && a.path.replace(/\/+$/, '') === b.path.replace(/\/+$/, '');
}

/** The fields of a cron schedule: name, lowest and highest value. */
const CRON_FIELDS: Array<[string, number, number]> = [['minute', 0, 59], ['hour', 0, 23], ['day of month', 1, 31], ['month', 1, 12], ['day of week', 0, 7]];

/**
 * A cron schedule checked: five fields (minute, hour, day of month, month, day of week), each
 * `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n`, or a comma list of those, in range.
 * Names (`MON`, `JAN`) and macros (`@daily`) are refused: the members' scheduler reads numbers.
 */
export function checkCronSchedule(fail: BackupFail, what: string, schedule: string): string {
  const example = "'30 2 * * *' (02:30 every day) or '0 */6 * * *' (every 6 hours)";
  if (typeof schedule !== 'string') fail(`${what} must be a cron schedule, got ${JSON.stringify(schedule)}. Fix: e.g. ${example}.`);
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    fail(`${what} got ${JSON.stringify(schedule)}, which has ${fields.length} field(s); a cron schedule has 5 (minute hour day-of-month month day-of-week). Fix: e.g. ${example}.`);
  }
  fields.forEach((field, i) => {
    const [name, min, max] = CRON_FIELDS[i];
    for (const part of field.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      const bad = (why: string) => fail(`${what} got ${JSON.stringify(schedule)}: its ${name} field '${field}' ${why}. Fix: numbers ${min}-${max}, '*', ranges 'a-b' and steps '/n', e.g. ${example}.`);
      if (!m) bad('is not a number, range, step or *');
      const lo = m![2] === undefined ? min : Number(m![2]);
      // `a/n` is a..max by n, as cron reads it
      const hi = m![3] !== undefined ? Number(m![3]) : m![2] === undefined || m![4] !== undefined ? max : lo;
      if (lo < min || hi > max || lo > hi) bad(`is outside ${min}-${max} or an empty range`);
      if (m![4] !== undefined && Number(m![4]) < 1) bad('has a step of 0');
    }
  });
  return fields.join(' ');
}

/**
 * A point in time checked: an ISO 8601 timestamp with its zone (`2026-03-01T12:00:00Z`,
 * `2026-03-01T13:00:00.250+01:00`, up to microseconds), returned as pgBackRest and PostgreSQL
 * read it: a space for the `T`, `+00` for `Z` (`2026-03-01 12:00:00+00`).
 */
export function checkTimestamp(fail: BackupFail, what: string, value: string): string {
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;
  const m = typeof value === 'string' ? iso.exec(value) : null;
  const [year, month, day, hour, minute, second] = (m ?? []).slice(1, 7).map(Number);
  // a real calendar day (no 30 February), hours, minutes and an offset in range
  const day0 = new Date(Date.UTC(year, month - 1, day));
  const valid = m !== null && day0.getUTCMonth() === month - 1 && day0.getUTCDate() === day && hour <= 23 && minute <= 59 && second <= 59 &&
    (m[9] === undefined || (Number(m[9]) <= 14 && Number(m[10]) <= 59));
  if (!valid) {
    fail(`${what} got ${JSON.stringify(value)}, which is not a real date and time as an ISO 8601 timestamp with its zone. Fix: e.g. '2026-03-01T12:00:00Z' (UTC) or '2026-03-01T13:00:00+01:00'.`);
  }
  return value.replace('T', ' ').replace(/Z$/, '+00');
}

/** The values a checked cron field selects, e.g. `*\/15` of minutes: 0, 15, 30, 45 (day of week 7 read as 0). */
function cronFieldValues(field: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part)!;
    const lo = m[2] === undefined ? min : Number(m[2]);
    const hi = m[3] !== undefined ? Number(m[3]) : m[2] === undefined || m[4] !== undefined ? max : lo;
    for (let v = lo; v <= hi; v += Number(m[4] ?? 1)) values.add(max === 7 && v === 7 ? 0 : v);
  }
  return values;
}

/**
 * The longest time between two runs of a checked cron schedule, in seconds (see cronGapsSeconds).
 * A schedule that never runs (`0 0 30 2 *`) fails.
 */
export function cronLongestGapSeconds(fail: BackupFail, what: string, schedule: string): number {
  return cronGapsSeconds(fail, what, schedule).longest;
}

/**
 * The shortest and the longest time between two runs of a checked cron schedule, in seconds, over
 * eight years of UTC days from 2024 (every leap-day case but 2100's), read as the members'
 * scheduler reads it: when both the day of month and the day of week are restricted, either one
 * matching is enough. A schedule that never runs (`0 0 30 2 *`) fails.
 */
export function cronGapsSeconds(fail: BackupFail, what: string, schedule: string): { shortest: number; longest: number } {
  const f = schedule.trim().split(/\s+/);
  const [minutes, hours, days, months, weekdays] = f.map((field, i) => cronFieldValues(field, CRON_FIELDS[i][1], CRON_FIELDS[i][2]));
  const times = [...hours].sort((a, b) => a - b).flatMap((h) => [...minutes].sort((a, b) => a - b).map((m) => h * 60 + m));
  let longest = 0;
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) {
    longest = Math.max(longest, times[i] - times[i - 1]);
    shortest = Math.min(shortest, times[i] - times[i - 1]);
  }
  const either = f[2] !== '*' && f[4] !== '*';
  const start = Date.UTC(2024, 0, 1) / 60000;
  let last: number | undefined;
  for (let day = 0; day < 8 * 366; day++) {
    const date = new Date((start + day * 1440) * 60000);
    const dom = days.has(date.getUTCDate());
    const dow = weekdays.has(date.getUTCDay());
    if (!months.has(date.getUTCMonth() + 1) || !(either ? dom || dow : dom && dow)) continue;
    const first = start + day * 1440 + times[0];
    if (last !== undefined) {
      longest = Math.max(longest, first - last);
      shortest = Math.min(shortest, first - last);
    }
    last = start + day * 1440 + times[times.length - 1];
  }
  if (last === undefined) {
    fail(`${what} got ${JSON.stringify(schedule)}, which never runs (no such day). Fix: e.g. '30 2 * * *' (02:30 every day).`);
  }
  return { shortest: shortest * 60, longest: longest * 60 };
}
