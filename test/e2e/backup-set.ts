// What the e2e files of the sidecar backups (MariaDB Galera, MySQL, ZooKeeper) share: the set they
// back up, a backup taken now in a member's sidecar, one taken while that member's server is
// SIGKILLed, the rows they write, and the store down while the schedule runs and the set takes
// writes, watched by a real Prometheus on the set's backup alerts.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { crash } from './faults';
import { kubectl, minutes, NODE_SIZED, sleep, startWriter, synth, waitFor } from './helpers';
import { AlertWatch, HostPrometheus, ruleFileOf } from './prometheus';
import { sidecarS3, startS3Store, stopS3Store } from './s3-store';

/**
 * The manifests of set NAME of REPLICAS members of ENGINE in NS, its credentials in the Secret
 * `<NAME>-credentials`; with METRICS, its PodMonitor and PrometheusRule too.
 */
export function backupSet(ns: string, name: string, engine: DatabaseEngine, replicas: number, metrics?: { prometheusOperator: boolean }): string {
  return synth(ns, (chart) => new StatefulDatabase(chart, name, {
    name,
    engine,
    replicas,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${name}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
    metrics,
  }));
}

/**
 * The rules of that set's PrometheusRule (the set synthesized with `metrics`), as a rule file: the
 * applied set needs no exporter for them, its backup sidecars serve the backup series themselves.
 */
export function backupRules(ns: string, name: string, engine: DatabaseEngine, replicas: number): string {
  return ruleFileOf(backupSet(ns, name, engine, replicas, { prometheusOperator: true }));
}

/** `<SCRIPT> now` in the sidecar `backup` of POD in NS: its log. */
export function backupNow(ns: string, pod: string, script: string): Promise<string> {
  return kubectl(['-n', ns, 'exec', pod, '-c', 'backup', '--', 'bash', '-c', `bash /opt/cdk8s-stateful/${script} now 2>&1`], { timeoutMs: minutes(4) });
}

/** The statement that writes rows FROM..TO of shop.orders (`item <id>`). */
export function insertOrders(from: number, to: number): string {
  const rows = Array.from({ length: to - from + 1 }, (_, k) => `(${from + k}, 'item ${from + k}')`).join(',');
  return `INSERT INTO shop.orders VALUES ${rows};`;
}

/** The statement that writes rows FROM..TO of shop.blobs, 1 KiB of random bytes each (incompressible). */
export function insertBlobs(from: number, to: number): string {
  return `INSERT INTO shop.blobs WITH RECURSIVE s (n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM s WHERE n < ${to}) SELECT n, RANDOM_BYTES(1024) FROM s;`;
}

/** The backup sidecars' work directory (object-backup.sh WORK), on the data volume. */
const WORK = '/var/lib/mysql/.cdk8s-backup';

/**
 * A backup (`SCRIPT now` in POD's sidecar) while POD's server is SIGKILLed: the kill is sent as
 * soon as the backup's work directory appears (or at once, if the backup had ended by then). The
 * backup must end `done in` with status 0, or `backup: FAILED` with another; every backup of
 * SUFFIX the repository then holds must be whole (its SHA-256 that of its checksum object, and
 * CHECK, a command reading the object on stdin in the sidecar, accepts it); a failed one leaves no
 * object behind. Returns the outcome, for the log.
 */
export async function backupWhileCrashed(ns: string, pod: string, script: string, suffix: string, check: string): Promise<string> {
  const s3 = (call: string) => sidecarS3(ns, pod, call);
  const names = async () => (await s3('s3_objects BACKUP')).trim().split('\n').filter(Boolean).map((l) => l.split(' ')[1]);
  const before = await names();
  let settled = false;
  const running = kubectl(['-n', ns, 'exec', pod, '-c', 'backup', '--', 'bash', '-c', `bash /opt/cdk8s-stateful/${script} now 2>&1; echo "exit=$?"`],
    { timeoutMs: minutes(5) }).finally(() => { settled = true; });
  await waitFor(ns, 'the backup under way', minutes(1), async () => settled ||
    (await kubectl(['-n', ns, 'exec', pod, '-c', 'backup', '--', 'bash', '-c', `[ -d ${WORK} ] && echo yes || echo no`])).trim() === 'yes');
  const killedDuring = !settled;
  await crash(ns, pod);
  const log = await running;
  const ok = /exit=0$/m.test(log);
  const outcome = `${killedDuring ? 'killed during the backup' : 'killed after it had ended'}: ` +
    (ok ? log.split('\n').find((l) => l.includes('done in')) : log.split('\n').find((l) => l.includes('FAILED')));
  expect(/backup: \S+ done in/.test(log) || /backup: FAILED/.test(log)).toBe(true);
  expect(ok).toBe(/done in/.test(log));
  const stored = (await s3(`s3_snapshots BACKUP ${suffix}`)).trim().split('\n').filter(Boolean);
  for (const name of stored) {
    const verdict = await s3(`set -e; d="$(s3_dir BACKUP)"; s3 BACKUP copyto --ignore-checksum "\${d}${name}" /tmp/whole; ` +
      `want="$(s3 BACKUP cat "\${d}${name}.sha256" | cut -d' ' -f1)"; got="$(sha256sum </tmp/whole | cut -d' ' -f1)"; ` +
      `if [ "$got" = "$want" ] && (${check}) </tmp/whole; then echo whole; else echo broken; fi; rm -f /tmp/whole`);
    expect({ name, verdict: verdict.trim().split('\n').pop() }).toEqual({ name, verdict: 'whole' });
  }
  if (!ok) expect((await names()).filter((o) => !before.includes(o))).toEqual([]);
  return outcome;
}

/**
 * After a restore that must stop (a corrupted backup): PODS of NS, looked at after WAIT ms, never
 * started their server (the container `main` neither runs nor ran).
 */
export async function expectNoServerStarted(ns: string, pods: string[], waitMs: number): Promise<void> {
  await sleep(waitMs);
  for (const name of pods) {
    const pod = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', name, '-o', 'json']));
    const main = (pod.status.containerStatuses ?? []).find((c: { name: string }) => c.name === 'main');
    expect({ pod: name, started: main?.state?.running !== undefined || main?.lastState?.terminated !== undefined }).toEqual({ pod: name, started: false });
  }
}


/** The port the backup sidecars serve their series on (backup-metrics.sh, `backup-metrics`). */
const BACKUP_METRICS_PORT = 9188;

/** The alerts on a backup sidecar's series (lib/monitoring/alerts.ts). */
const ALERTS = ['DatabaseBackupFailed', 'DatabaseBackupLate'];

/** The `backup:` lines the sidecars of PODS in NS logged since SINCE (ms), e.g. `... backup: <name> done in 2s: ...`. */
export async function backupLogSince(ns: string, pods: string[], since: number): Promise<string[]> {
  const lines: string[] = [];
  for (const pod of pods) {
    const out = await kubectl(['-n', ns, 'logs', pod, '-c', 'backup', `--since-time=${new Date(since).toISOString()}`]);
    lines.push(...out.split('\n').filter((l) => l.includes('backup: ')).map((l) => `${pod}: ${l}`));
  }
  return lines;
}

/** What the store-down scenario of a sidecar engine measured. */
export interface StoreDownOutcome {
  /** How long the store was down (stopped to serving again), and how many writes the set acknowledged meanwhile. */
  readonly downSeconds: number;
  readonly writes: number;
  /** The scheduled attempts that failed while the store was down (their `FAILED` lines). */
  readonly failed: string[];
  /** Seconds after the store went down when each alert fired; the alerts seen, for the log. */
  readonly firedAfter: { [alert: string]: number };
  readonly alerts: string;
  /** The first scheduled backup that succeeded once it was back, and when (seconds after it came back). */
  readonly recovered: string;
  readonly recoveredAfter: number;
  /** Seconds after the store came back when each alert had resolved. */
  readonly resolvedAfter: { [alert: string]: number };
}

/**
 * The store of set NAME (in NS, members PODS) down while the schedule runs (the set applied with a
 * schedule that fires within the window, SCHEDULED the time it was applied at): a real Prometheus
 * (PROMETHEUS, started here) scrapes the sidecars' backup series and evaluates RULES. First a
 * scheduled backup succeeds with the alerts quiet; then the store is stopped for at least DOWN ms
 * and until DatabaseBackupFailed and DatabaseBackupLate fire (with backups every minute the late
 * one's threshold is 2 minutes, twice the schedule's gap: DOWN must be longer), while WRITE (one
 * write through the set, resolving once it is acknowledged) runs every 5 s: every write must
 * succeed. The store back, the next scheduled backup must succeed and both alerts resolve. The
 * caller checks that every write is on every member.
 */
export async function storeDownOnSchedule(s: {
  ns: string; name: string; pods: string[]; prometheus: HostPrometheus; rules: string; scheduled: number; downMs: number; write: () => Promise<void>;
}): Promise<StoreDownOutcome> {
  const { ns, name, pods, prometheus } = s;
  const done = /backup: \S+ done in \d+s/;
  await prometheus.start(ns, pods, BACKUP_METRICS_PORT, s.rules);
  await waitFor(ns, 'a scheduled backup done, every sidecar scraped, no backup alert', minutes(4), async () =>
    (await backupLogSince(ns, pods, s.scheduled)).some((l) => done.test(l)) &&
    (await prometheus.query(`up{namespace="${ns}"} == 1`)).length === pods.length &&
    (await prometheus.alerts('DatabaseBackupFailed', name)).length === 0 && (await prometheus.alerts('DatabaseBackupLate', name)).length === 0);
  await stopS3Store(ns);
  const down = Date.now();
  const alerts = new AlertWatch(prometheus, name, ALERTS, down);
  let writes = 0;
  const writer = startWriter(async () => { await s.write(); writes++; }, 5000);
  let back = 0;
  let writesWhileDown = 0;
  try {
    await alerts.hold(ns, 'the store down', { fire: ALERTS, atLeastMs: s.downMs, timeoutMs: s.downMs + minutes(4) });
  } finally {
    writesWhileDown = writes;
    await startS3Store(ns);
    back = Date.now();
  }
  const failed = (await backupLogSince(ns, pods, down)).filter((l) => /backup: FAILED after \d+s/.test(l));
  let recovered = '';
  try {
    await waitFor(ns, 'a scheduled backup done after the store came back', minutes(4), async () => {
      recovered = (await backupLogSince(ns, pods, back)).find((l) => done.test(l)) ?? '';
      return recovered !== '';
    });
  } finally {
    expect(await writer.stop()).toEqual([]);
  }
  const recoveredAfter = (Date.now() - back) / 1000;
  const resolvedAfter: { [alert: string]: number } = {};
  for (const alert of ALERTS) {
    await prometheus.untilResolved(ns, alert, name, minutes(2));
    resolvedAfter[alert] = (Date.now() - back) / 1000;
  }
  expect(failed.length).toBeGreaterThan(0);
  return {
    downSeconds: (back - down) / 1000, writes: writesWhileDown, failed, alerts: alerts.summary('the store went down'),
    firedAfter: Object.fromEntries(ALERTS.map((a) => [a, alerts.firedAfter(a)])), recovered, recoveredAfter, resolvedAfter,
  };
}

/** The outcome as one line for the log. */
export function describeStoreDown(o: StoreDownOutcome): string {
  return `store down ${o.downSeconds.toFixed(0)} s, ${o.writes} writes acknowledged meanwhile; ${o.failed.length} scheduled attempts failed ` +
    `(${o.failed[0]?.replace(/^.*backup: /, '')}); ${o.alerts}; the store back, the next scheduled backup done after ${o.recoveredAfter.toFixed(0)} s ` +
    `(${o.recovered.replace(/^.*backup: /, '')}); ${Object.entries(o.resolvedAfter).map(([a, t]) => `${a} resolved ${t.toFixed(0)} s`).join(', ')} after it came back`;
}
