// What the e2e files of the sidecar backups (MariaDB Galera, MySQL) share: the set they back up,
// a backup taken now in a member's sidecar, one taken while that member's server is SIGKILLed,
// and the rows they write.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { crash } from './faults';
import { kubectl, minutes, NODE_SIZED, sleep, synth, waitFor } from './helpers';
import { sidecarS3 } from './s3-store';

/** The manifests of set NAME of REPLICAS members of ENGINE in NS, its credentials in the Secret `<NAME>-credentials`. */
export function backupSet(ns: string, name: string, engine: DatabaseEngine, replicas: number): string {
  return synth(ns, (chart) => new StatefulDatabase(chart, name, {
    name,
    engine,
    replicas,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${name}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
  }));
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

