// PostgreSQL primary + 2 streaming replicas on the real node: the preset at the version the test
// image carries (PostgreSQL 18, tools/images/versions.json), applied with kubectl; health as PostgreSQL
// reports it (pg_stat_replication on the primary), a row read through the `-read` Service and on
// each replica by its pod DNS name; failure scenarios, each checking every acknowledged write.
import { DatabaseEngine, PostgresVersion } from '../../lib';
import {
  claimVolume, clientExec, deletePods, exec, imageRef, imageTag, loseVolume, minutes, password, podHost, rowLedger, recordPodDeletions, scale, serviceHost,
  setEnv, setUpPreset, startWriter, waitFor, waitForReady,
} from './helpers';
import { faultScenarios, workloadOptions } from './fault-scenarios';
import { slowStart } from './faults';
import { withWorkload } from './workload';
import { postgresWorkload } from './workloads';

const NS = 'e2e-postgresql';
const NAME = 'pg';
const member = (i: number) => `${NAME}-${i}`;

const SUPERUSER_PASSWORD = password();
const APP_PASSWORD = password();
/** Acknowledged writes a lost primary volume may take with it (asynchronous streaming; measured, docs/engines.md). */
const LOST_VOLUME_MAX_LOSS = 5;

/** Runs SQL with psql in the client pod against HOST as the superuser. */
async function sql(host: string, statement: string): Promise<string> {
  const out = await clientExec(NS, `PGPASSWORD="$pw" psql -h ${host} -U postgres -d postgres -At -v ON_ERROR_STOP=1 -f -`, SUPERUSER_PASSWORD, statement);
  return out.trim();
}

const { write, expectAllRows } = rowLedger(NS, NAME, 't', sql);
/** The primary streams to REPLICAS - 1 replicas. */
async function expectStreaming(replicas: number): Promise<void> {
  await waitFor(NS, `${replicas - 1} streaming replicas in pg_stat_replication`, minutes(3), async () =>
    (await sql(podHost(NS, NAME, 0), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) === String(replicas - 1));
  for (let i = 1; i < replicas; i++) expect(await sql(podHost(NS, NAME, i), 'SELECT pg_is_in_recovery()')).toBe('t');
  expect(await sql(podHost(NS, NAME, 0), 'SELECT pg_is_in_recovery()')).toBe('f');
}

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.postgresql({ version: PostgresVersion.of(imageTag('postgres')) }),
  secret: { 'root-password': SUPERUSER_PASSWORD, 'replication-password': password(), 'username': 'app', 'password': APP_PASSWORD },
  image: imageRef('postgres'),
  readyWithin: minutes(10),
});

test('primary + 2 replicas: two streaming rows in pg_stat_replication', async () => {
  await expectStreaming(3);
});

test('each standby streams through its own replication slot, whose WAL is capped; /dev/shm is a memory volume over 64 MiB', async () => {
  await waitFor(NS, 'both slots active', minutes(1), async () =>
    (await sql(podHost(NS, NAME, 0), "SELECT slot_name || ':' || active FROM pg_replication_slots ORDER BY 1")) === 'pg_1:true\npg_2:true');
  expect(await sql(podHost(NS, NAME, 0), 'SHOW max_slot_wal_keep_size')).toBe('2GB');
  for (let i = 0; i < 3; i++) {
    const [fs, kib] = (await exec(NS, member(i), 'main', "df -k /dev/shm | awk 'NR == 2 { print $1, $2 }'")).trim().split(' ');
    expect({ member: i, fs, over64Mib: Number(kib) > 64 * 1024 }).toEqual({ member: i, fs: 'tmpfs', over64Mib: true });
  }
});

test('the application role and database from the Secret\'s username and password keys', async () => {
  const out = await clientExec(NS, `PGPASSWORD="$pw" psql -h ${serviceHost(NS, NAME)} -U app -d app -At -c 'SELECT current_user, current_database()'`, APP_PASSWORD);
  expect(out.trim()).toBe('app|app');
});

test('a row written on the primary (client Service) is read through the -read Service and on each replica', async () => {
  await sql(serviceHost(NS, NAME), 'CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v TEXT)');
  await write();
  // the -read Service spreads connections over every member: ask it several times
  for (let n = 0; n < 6; n++) {
    await waitFor(NS, 'the row through the -read Service', minutes(1), async () =>
      (await sql(serviceHost(NS, `${NAME}-read`), 'SELECT v FROM t WHERE id = 1')) === 'row-1');
  }
  await expectAllRows(3);
});

test('delete the primary pod: it comes back on the same claim with its data, the replicas stream again', async () => {
  const volume = await claimVolume(NS, `data-${member(0)}`);
  await deletePods(NS, [member(0)]);
  await waitForReady(NS, NAME, 3);
  expect(await claimVolume(NS, `data-${member(0)}`)).toBe(volume);
  await expectStreaming(3);
  await write();
  await expectAllRows(3);
}, minutes(10));

faultScenarios({ ns: NS, name: NAME, workload: postgresWorkload(), secret: SUPERUSER_PASSWORD, target: 0, healthy: () => expectStreaming(3) });

// Asynchronous streaming: a commit the primary acknowledged but had not yet streamed to a standby is
// lost with the primary's volume. The workload writes all along; the scenario measures the loss.
test('lose the primary\'s volume (pod 0 and its claim) with writes in flight: it comes back as a copy of a replica; the loss is measured', async () => {
  await write();
  const r = await withWorkload(postgresWorkload(), workloadOptions(NS, NAME, SUPERUSER_PASSWORD), async () => {
    await loseVolume(NS, member(0), `data-${member(0)}`);
    await waitForReady(NS, NAME, 3, minutes(10));
  });
  await expectStreaming(3);
  await expectAllRows(3);
  expect(r.twoWriters).toEqual([]);
  expect(r.acknowledged).toBeGreaterThan(5);
  expect(r.lost.length).toBeLessThanOrEqual(LOST_VOLUME_MAX_LOSS);
  await write();
  await expectAllRows(3);
}, minutes(14));

test('rolling update (env change): members replaced highest ordinal first, no acknowledged write lost', async () => {
  // the primary is down while ordinal 0 restarts: writes then fail, and only acknowledged ones count
  const writer = startWriter(write);
  const { deleted } = await recordPodDeletions(NS, NAME, async () => {
    await setEnv(NS, NAME, 'main', { E2E_ROLL: '1' });
    await waitForReady(NS, NAME, 3, minutes(10));
  });
  await writer.stop();
  expect(deleted).toEqual([member(2), member(1), member(0)]);
  await expectStreaming(3);
  await expectAllRows(3);
}, minutes(12));

test('scale 3 -> 5 -> 3: new replicas clone the primary and stream; back to 2 replicas', async () => {
  await scale(NS, NAME, 5);
  await waitForReady(NS, NAME, 5, minutes(10));
  await expectStreaming(5);
  await write();
  await expectAllRows(5);
  await scale(NS, NAME, 3);
  await waitForReady(NS, NAME, 3);
  await expectStreaming(3);
  await expectAllRows(3);
}, minutes(15));

test('full outage (every pod deleted at once): primary and replicas come back with every acknowledged row', async () => {
  await deletePods(NS, [0, 1, 2].map(member), { force: true });
  await waitForReady(NS, NAME, 3, minutes(8));
  await expectStreaming(3);
  await write();
  await expectAllRows(3);
}, minutes(12));

// After a full outage the primary comes back on an empty volume while both replicas, which hold the
// data, refuse connections for 2 minutes (every process of their pods held stopped as it appears:
// their addresses are published, nothing listens), longer than any timer of the scripts. A member
// that refuses connections may be starting, loading or crash-looping, never "empty": the set's
// founding Lease says it was founded, so the empty primary waits and then copies the most advanced.
test('full outage, the primary\'s volume lost, both replicas refusing connections for 2 minutes: the empty primary starts no new cluster; every acknowledged row is kept', async () => {
  await write();
  await expectAllRows(3);
  // held 3 minutes from now: the new pods must first appear (slower on a busy node), and then
  // refuse connections for at least 2 minutes
  const held = [1, 2].map((i) => slowStart(NS, member(i), 180));
  await deletePods(NS, [member(1), member(2)], { force: true });
  await loseVolume(NS, member(0), `data-${member(0)}`);
  // the fault is the one meant: both replicas' addresses answer, and refuse the connection
  const refused = async (i: number) => /Connection refused/.test(await clientExec(NS,
    `timeout 3 bash -c 'exec 3<>/dev/tcp/${podHost(NS, NAME, i)}/5432' 2>&1 || true`, SUPERUSER_PASSWORD));
  const refusedAfter = Date.now();
  await waitFor(NS, 'both replicas refusing connections', minutes(2.5), async () => (await refused(1)) && (await refused(2)));
  console.log(`postgresql: both replicas refused connections ${((Date.now() - refusedAfter) / 1000).toFixed(1)} s after the fault; held until 180 s`);
  await Promise.all(held);
  await waitForReady(NS, NAME, 3, minutes(8));
  await expectStreaming(3);
  await expectAllRows(3);
  await write();
  await expectAllRows(3);
}, minutes(16));
