// PostgreSQL with Patroni and backups on the real node: 3 members (tools/images/postgres-patroni-pgbackrest:
// PostgreSQL 18, Patroni 4 and pgBackRest) archiving through pgBackRest to a real S3-compatible store
// (versitygw, ./s3-store.ts). Batch A, a full backup in the sidecar of the member Patroni leads with
// (a replica's sidecar refuses) reading the files of the asynchronous replica of Patroni's view
// (pgBackRest's own log names the host of every file it copied), the time noted, batch B, all archived. Then the primary SIGKILLed
// and held down past the leader lock's ttl: a replica is promoted, archives on its new timeline
// (its history file in the repository) and batch C is archived from it. Two new sets restored in new
// namespaces through Patroni's bootstrap method from the backup taken before the failover: the point
// in time between A and B holds exactly A (its second member copied from the restored leader), the
// whole archive A+B+C, replayed across the timeline switch. Then a full backup in the promoted
// member's sidecar; the old primary, back as a replica, refuses one. Last, the archive of that primary
// stalled (its archiver and pgBackRest held with SIGSTOP) while rows go in with segment switches, the
// primary SIGKILLed with writes in flight: the promoted member pushes the segments the lost one had
// not archived, and a restore to a moment after the failover has every acknowledged row.
import { DatabaseEngine, PostgresVersion, S3Repository } from '../../lib';
import { backupSet } from './backup-set';
import * as fs from 'fs';
import { containerPid, processesOf, slowStart } from './faults';
import { apply, createNamespace, createSecret, deleteNamespace, exec, imageRef, imageTag, kubectl, minutes, password, requireRealNode, sleep, waitFor, waitForReady } from './helpers';
import { roleLabels } from './role-label';
import { createS3Store, namespaceWithStoreSecret, S3Store, storeRepository, storeSecretEntries } from './s3-store';

const NS = 'e2e-backup-patroni';
const NAME = 'pg';
const BUCKET = 'backups';
const IMAGE = imageRef('postgres-patroni-pgbackrest');
const VERSION = PostgresVersion.of(imageTag('postgres-patroni-pgbackrest').split('-')[0]);
const KEYS = { accessKeyId: `e2e${password().slice(0, 12)}`, secretAccessKey: password() };
const PASSWORDS = { 'root-password': password(), 'replication-password': password() };
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${i}`);
/** Longer than the leader lock's ttl (15 s): a replica is promoted while the primary is away. */
const AWAY_SECONDS = 30;
/**
 * How long the primary whose archive stalled is kept away: longer than the promoted member's
 * sidecar takes to close the gap (it looks at the start of every minute), so that only it can push
 * the missing segments (the old primary, back, might archive them itself: seen once at 30 s).
 */
const GAP_AWAY_SECONDS = 100;
let store: S3Store;

const { roles, primary, newPrimary } = roleLabels(NS, NAME);
const repository = (): S3Repository => storeRepository(store, BUCKET, `/${NS}/${NAME}`);

/** Runs SQL as the superuser through POD's socket in NS. */
async function sql(ns: string, pod: string, statement: string): Promise<string> {
  return (await exec(ns, pod, 'main', 'psql -h /var/run/postgresql -U postgres -d postgres -At -v ON_ERROR_STOP=1 -f -', statement)).trim();
}

/** Inserts rows FROM..TO of batch BATCH on POD, each committed on its own. */
async function writeBatch(pod: string, batch: string, from: number, to: number): Promise<void> {
  await sql(NS, pod, Array.from({ length: to - from + 1 }, (_, i) => `INSERT INTO t VALUES (${from + i}, '${batch}');`).join('\n'));
}

/** Switches POD (the primary) to a new WAL segment and waits until its archiver has stored it; returns the segment. */
async function archiveAll(pod: string): Promise<string> {
  const segment = await sql(NS, pod, 'SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(NS, `WAL segment ${segment} archived by ${pod}`, minutes(3), async () =>
    (await sql(NS, pod, `SELECT coalesce(last_archived_wal >= '${segment}', false) FROM pg_stat_archiver`)) === 't');
  return segment;
}

/** The rows of POD in NS as `batch:count` per batch. */
async function batches(ns: string, pod: string): Promise<string> {
  return sql(ns, pod, "SELECT string_agg(b || ':' || n, ' ' ORDER BY b) FROM (SELECT v AS b, count(*) AS n FROM t GROUP BY v) s");
}

/** `postgres-backup.sh now` in POD's sidecar: its log (with DETAIL, pgBackRest's line for every file it copied, naming a remote host). */
function backupNow(pod: string, detail = false): Promise<string> {
  const env = detail ? 'PGBACKREST_LOG_LEVEL_CONSOLE=detail ' : '';
  return exec(NS, pod, 'backup', `${env}bash /opt/cdk8s-stateful/postgres-backup.sh now 2>&1`, undefined, minutes(6));
}

/** pgBackRest's command CMD on the backup repository, in POD's sidecar. */
function pgbackrest(pod: string, cmd: string): Promise<string> {
  return exec(NS, pod, 'backup', `pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db ${cmd}`);
}

beforeAll(async () => {
  await requireRealNode();
  await deleteNamespace(NS);
  await createNamespace(NS);
  store = await createS3Store(NS, BUCKET, KEYS);
  await createSecret(NS, `${NAME}-credentials`, { ...PASSWORDS, ...storeSecretEntries(store) });
  // the schedule never fires during the file: the backups here are the drill's, `now`
  await apply(NS, backupSet(NS, NAME, DatabaseEngine.postgresql({
    version: VERSION,
    patroni: { image: IMAGE },
    backup: { image: IMAGE, repository: repository(), schedule: '0 0 1 1 *' },
  }), 3));
  await waitForReady(NS, NAME, 3, minutes(10));
}, minutes(14));
afterAll(async () => {
  for (const ns of [NS, `${NS}-pitr`, `${NS}-whole`, `${NS}-gap`]) await deleteNamespace(ns);
}, minutes(10));

let pointInTime = '';
let firstLeader = '';

/** A restore of the repository to TARGET in a new namespace NS-SUFFIX (one member): its leader once promoted. */
async function restoreInto(suffix: string, replicas: number, target?: string): Promise<{ ns: string; leader: string }> {
  const ns = `${NS}-${suffix}`;
  await namespaceWithStoreSecret(ns, `${NAME}-credentials`, store, PASSWORDS);
  const started = Date.now();
  await apply(ns, backupSet(ns, NAME, DatabaseEngine.postgresql({
    version: VERSION,
    patroni: { image: IMAGE },
    restoreFrom: { repository: repository(), pointInTime: target },
  }), replicas));
  await waitForReady(ns, NAME, replicas, minutes(8));
  const leader = await roleLabels(ns, NAME).primary();
  await waitFor(ns, 'the restored leader promoted', minutes(3), async () => (await sql(ns, leader, 'SELECT pg_is_in_recovery()')) === 'f');
  console.log(`backup-patroni: restore ${suffix}${target ? ` to ${target}` : ''}: ${replicas} Ready, leader promoted ${((Date.now() - started) / 1000).toFixed(1)}s after apply`);
  return { ns, leader };
}

test('the primary archives through pgBackRest; a full backup of batch A where Patroni leads (a replica refuses), the files read from the asynchronous replica; the time; batch B archived', async () => {
  firstLeader = await primary();
  await sql(NS, firstLeader, 'CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
  await writeBatch(firstLeader, 'a', 1, 50);
  // the leader's sidecar creates the stanza within a minute of leading: archiving waits for it
  await archiveAll(firstLeader);
  const replica = MEMBERS.find((m) => m !== firstLeader)!;
  await expect(backupNow(replica)).rejects.toThrow(/this member does not lead/);
  const started = Date.now();
  const out = await backupNow(firstLeader, true);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  expect(out).toMatch(/full backup done in \d+s, \d+ bytes in the repository/);
  // the sidecar chose the asynchronous replica of Patroni's view (the synchronous standby is spared too)
  const chosen = /reading the files from the replica (\S+) \(Patroni: replica, streaming/.exec(out)?.[1];
  const roleOf = await roles();
  expect(chosen && chosen !== firstLeader && roleOf[chosen] === 'replica').toBe(true);
  expect(out).toMatch(/replay on the standby reached/);
  // pgBackRest names the host of each file it read remotely: the data files came from the replica,
  // the few the primary alone holds right (pg_control, its config files) from the primary's directory
  const copied = out.split('\n').filter((l) => / DETAIL: backup file /.test(l));
  const fromReplica = copied.filter((l) => l.includes(` backup file ${chosen}.`)).length;
  const fromPrimary = copied.filter((l) => / backup file \/var\/lib\/postgresql\//.test(l)).length;
  console.log(`backup-patroni: full backup started on ${firstLeader} in ${seconds}s, ${fromReplica} files read from ${chosen}, ${fromPrimary} from the primary, ${copied.length} in all`);
  expect(fromReplica + fromPrimary).toBe(copied.length);
  expect(fromReplica).toBeGreaterThan(10 * fromPrimary);
  expect(copied.filter((l) => / backup file \/var\/lib\/postgresql\/data\/pgdata\/base\//.test(l))).toEqual([]);
  await sleep(1500);
  pointInTime = await sql(NS, firstLeader, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  await sleep(1500);
  await writeBatch(firstLeader, 'b', 51, 80);
  await archiveAll(firstLeader);
  expect(await batches(NS, firstLeader)).toBe('a:50 b:30');
}, minutes(8));

let promoted = '';

test(`the primary SIGKILLed and kept down ${AWAY_SECONDS} s: the promoted replica archives on its new timeline (history file included), batch C archived from it`, async () => {
  const old = firstLeader;
  const held = slowStart(NS, old, AWAY_SECONDS);
  await sleep(300);
  process.kill(await containerPid(NS, old), 'SIGKILL');
  promoted = await newPrimary(old);
  await held;
  await waitFor(NS, `${promoted} out of recovery`, minutes(1), async () => (await sql(NS, promoted, 'SELECT pg_is_in_recovery()')) === 'f');
  // the timeline WAL is written on now (the checkpoint's may lag behind a fast promotion)
  const tl = await sql(NS, promoted, 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)');
  expect(parseInt(tl, 16)).toBeGreaterThan(1);
  await writeBatch(promoted, 'c', 81, 100);
  const segment = await archiveAll(promoted);
  expect(segment.startsWith(tl)).toBe(true);
  const listed = await pgbackrest(promoted, 'repo-ls archive/db --recurse');
  expect(listed).toContain(`${tl}.history`);
  expect(listed).toMatch(new RegExp(`${segment}-[0-9a-f]{40}`));
  expect(await batches(NS, promoted)).toBe('a:50 b:30 c:20');
  console.log(`backup-patroni: ${old} killed, ${promoted} promoted on timeline ${parseInt(tl, 16)}, archived ${segment}`);
}, minutes(8));

test('new sets restored through Patroni\'s bootstrap from the backup before the failover: the point in time between A and B has exactly A on both members; the whole archive A+B+C, across the timeline switch', async () => {
  expect(pointInTime).not.toBe('');
  const [pitr, whole] = await Promise.all([restoreInto('pitr', 2, pointInTime), restoreInto('whole', 1)]);
  expect(await batches(pitr.ns, pitr.leader)).toBe('a:50');
  expect(await batches(whole.ns, whole.leader)).toBe('a:50 b:30 c:20');
  // the restored set takes writes, and its other member copied the leader and streams from it
  await sql(pitr.ns, pitr.leader, "INSERT INTO t VALUES (1000, 'after-restore')");
  const other = [0, 1].map((i) => `${NAME}-${i}`).find((m) => m !== pitr.leader)!;
  await waitFor(pitr.ns, `the rows on ${other}`, minutes(1), async () => (await sql(pitr.ns, other, 'SELECT count(*) FROM t')) === '51');
}, minutes(14));

test('a full backup after the failover runs in the sidecar of the promoted member; the old primary, back as a replica, refuses one', async () => {
  expect(promoted).not.toBe('');
  const out = await backupNow(promoted);
  expect(out).toMatch(/full backup done in \d+s/);
  expect((await pgbackrest(promoted, 'info')).match(/full backup: \d{8}-\d{6}F/g)?.length).toBe(2);
  await waitForReady(NS, NAME, 3, minutes(6));
  expect((await roles())[firstLeader]).toBe('replica');
  await expect(backupNow(firstLeader)).rejects.toThrow(/this member does not lead/);
}, minutes(10));

test('the primary\'s archive stalled (its archiver and pgBackRest SIGSTOPped) while rows go in with segment switches, the primary SIGKILLed with writes in flight: the promoted member pushes the segments the lost one had not archived; a restore to a moment after the failover has every acknowledged row', async () => {
  const leader = await primary();
  const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf-8').replace(/\0/g, ' '); } catch { return ''; } };
  const stalled = processesOf(await containerPid(NS, leader)).filter((pid) => /archiver|pgbackrest/.test(cmdline(pid)));
  expect(stalled.length).toBeGreaterThan(0);
  stalled.forEach((pid) => process.kill(pid, 'SIGSTOP'));
  const lastArchived = await sql(NS, leader, 'SELECT last_archived_wal FROM pg_stat_archiver');
  // the segment written now: filled by the rows below, never archived by this member
  const missing = await sql(NS, leader, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
  // rows of batch d, each committed on its own, a segment switch every 10: acknowledged when psql returned
  const acked: number[] = [];
  let writing = true;
  const writer = (async () => {
    for (let id = 2001; writing; id++) {
      try {
        await sql(NS, leader, `INSERT INTO t VALUES (${id}, 'd');${id % 10 === 0 ? ' SELECT pg_switch_wal();' : ''}`);
        acked.push(id);
      } catch {
        return;
      }
    }
  })();
  await waitFor(NS, '35 rows of d with 3 segment switches', minutes(2), async () => acked.length >= 35);
  // the gap is real: nothing archived since the stall, that segment not in the repository
  expect(await sql(NS, leader, 'SELECT last_archived_wal FROM pg_stat_archiver')).toBe(lastArchived);
  expect(await pgbackrest(leader, 'repo-ls archive/db --recurse')).not.toContain(`/${missing}-`);
  const held = slowStart(NS, leader, GAP_AWAY_SECONDS);
  await sleep(300);
  process.kill(await containerPid(NS, leader), 'SIGKILL');
  const killedAt = Date.now();
  const promoted2 = await newPrimary(leader);
  writing = false;
  await writer;
  await held;
  console.log(`backup-patroni: ${leader} killed with its archive stalled at ${lastArchived}, ${acked.length} rows of d acknowledged, ${promoted2} promoted`);
  await waitFor(NS, `${missing} pushed by ${promoted2}`, minutes(3), async () => (await pgbackrest(promoted2, 'repo-ls archive/db --recurse')).includes(`/${missing}-`));
  console.log(`backup-patroni: ${missing} in the repository ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the kill`);
  const pushedLog = (await kubectl(['-n', NS, 'logs', promoted2, '-c', 'backup'])).split('\n').filter((l) => /the archive lacked/.test(l));
  console.log(`backup-patroni: ${pushedLog.join(' | ')}`);
  expect(pushedLog.length).toBeGreaterThan(0);
  await waitFor(NS, `${promoted2} out of recovery`, minutes(1), async () => (await sql(NS, promoted2, 'SELECT pg_is_in_recovery()')) === 'f');
  await writeBatch(promoted2, 'e', 3001, 3010);
  await sleep(1500);
  const target = await sql(NS, promoted2, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  await sleep(1500);
  await writeBatch(promoted2, 'f', 3011, 3020);
  await archiveAll(promoted2);
  const gap = await restoreInto('gap', 1, target);
  const rows = await sql(gap.ns, gap.leader, "SELECT string_agg(id::text, ' ' ORDER BY id) FROM t WHERE v = 'd'");
  const restored = new Set(rows.split(' ').map(Number));
  expect(acked.filter((id) => !restored.has(id))).toEqual([]);
  expect(await sql(gap.ns, gap.leader, "SELECT string_agg(v || ':' || n, ' ' ORDER BY v) FROM (SELECT v, count(*) AS n FROM t WHERE v <> 'd' GROUP BY v) s")).toBe('a:50 b:30 c:20 e:10');
  console.log(`backup-patroni: restored to ${target}: ${restored.size} rows of d (${acked.length} acknowledged), a, b, c, e whole, no f`);
}, minutes(12));
