// PostgreSQL with Patroni in asynchronous mode on the real node: what a failover can lose when
// commits do not wait for a standby, measured. 3 members; the primary is crashed (SIGKILL from
// the host) with writes in flight and kept down past the leader lock's ttl, so that a standby is
// promoted; the history checker then counts the acknowledged writes no member has (the loss that
// docs/engines.md states), and checks the rest as in the synchronous suite: never two writable
// members, and the old primary comes back as a replica of the new timeline (pg_rewind or a copy).
import { DatabaseEngine, PostgresDurability, PostgresVersion } from '../../lib';
import { containerPid, slowStart } from './faults';
import { workloadOptions } from './fault-scenarios';
import { imageRef, imageTag, kubectl, minutes, password, setUpPreset, sleep, waitFor, waitForReady } from './helpers';
import { withWorkload } from './workload';
import { postgresWorkload } from './workloads';

const NS = 'e2e-patroni-async';
const NAME = 'pg';
const ROLE = 'cdk8s-stateful.dev/role';
const SUPERUSER_PASSWORD = password();
/** Longer than the leader lock's ttl (20 s): a standby is promoted while the primary is away. */
const AWAY_SECONDS = 40;
/**
 * The most acknowledged writes one asynchronous failover may lose in this scenario: the writes of
 * the last moments before the crash that no standby had received. The measured count is printed;
 * the bound only catches a regression to "everything since some old point".
 */
const MAX_LOSS = 20;

async function primary(): Promise<string | undefined> {
  const pods = JSON.parse(await kubectl(['-n', NS, 'get', 'pods', '-l', `${ROLE}=primary`, '-o', 'json']));
  return pods.items.length === 1 ? pods.items[0].metadata.name : undefined;
}

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.postgresql({
    version: PostgresVersion.of(imageTag('postgres')),
    patroni: { image: imageRef('postgres-patroni'), durability: PostgresDurability.ASYNCHRONOUS },
  }),
  secret: { 'root-password': SUPERUSER_PASSWORD, 'replication-password': password(), 'username': 'app', 'password': password() },
  image: imageRef('postgres-patroni'),
  readyWithin: minutes(10),
});

test(`asynchronous: primary crashed (SIGKILL) and kept down ${AWAY_SECONDS} s, writes in flight: a standby is promoted; the acknowledged writes lost are counted (at most ${MAX_LOSS}), never two writers, the old primary rejoins as a replica`, async () => {
  let old: string | undefined;
  await waitFor(NS, 'one pod labelled primary', minutes(3), async () => (old = await primary()) !== undefined);
  let promoted: string | undefined;
  const r = await withWorkload(postgresWorkload(), workloadOptions(NS, NAME, SUPERUSER_PASSWORD), async () => {
    const held = slowStart(NS, old as string, AWAY_SECONDS);
    await sleep(300);
    process.kill(await containerPid(NS, old as string), 'SIGKILL');
    await waitFor(NS, `a member other than ${old} labelled primary`, minutes(2), async () => {
      promoted = await primary();
      return promoted !== undefined && promoted !== old;
    });
    await held;
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  process.stdout.write(`asynchronous failover: ${r.lost.length} of ${r.acknowledged} acknowledged writes lost; longest time without an acknowledged write ${(r.longestWriteGapMs / 1000).toFixed(1)} s\n`);
  expect(promoted).not.toBe(old);
  expect(r.twoWriters).toEqual([]);
  expect(r.acknowledged).toBeGreaterThan(6);
  expect(r.lost.length).toBeLessThanOrEqual(MAX_LOSS);
  await waitFor(NS, `${old} labelled replica`, minutes(2), async () =>
    JSON.parse(await kubectl(['-n', NS, 'get', 'pod', old as string, '-o', 'jsonpath={.metadata.labels}']))[ROLE] === 'replica');
}, minutes(12));
