// Redis primary + 2 replicas on the real node: the preset at the version the test image carries
// (Redis 8.0, tools/images/versions.json), applied with kubectl; health as Redis reports it (INFO
// replication: connected_slaves:2), a key written on the primary read on each replica by its pod
// DNS name; failure scenarios, each checking every acknowledged write.
import {
  claimVolume, clientExec, deletePods, loseVolume, memoryLimitMib, minutes, password, podHost, recordPodDeletions, scale, serviceHost,
  serviceEndpoints, setEnv, sleep, startWriter, waitFor, waitForReady,
} from './helpers';
import { setUpRedisSet } from './redis-set';
import { expectClean, FAULT_SECONDS, faultScenarios, workloadOptions } from './fault-scenarios';
import { diskFull, nodeLoss, slowStart } from './faults';
import { withWorkload } from './workload';
import { redisWorkload } from './workloads';

const NS = 'e2e-redis';
const NAME = 'redis';
const member = (i: number) => `${NAME}-${i}`;

const PASSWORD = password();
/** Acknowledged writes a lost primary volume may take with it (asynchronous replication; measured, docs/engines.md). */
const LOST_VOLUME_MAX_LOSS = 5;

const { cli, info, write, expectAllKeys, expectReplicas } = setUpRedisSet(NS, NAME, PASSWORD);

test('primary + 2 replicas: connected_slaves:2, both links up', async () => {
  await expectReplicas(3);
});

test('a key written on the primary (client Service) is replicated to both replicas', async () => {
  await write();
  await expectAllKeys(3);
});

test('maxmemory is 45% of the container\'s memory limit, policy noeviction (room for the fork of a sync)', async () => {
  for (let i = 0; i < 3; i++) {
    const limit = await memoryLimitMib(NS, member(i));
    const got = (await cli(podHost(NS, NAME, i), "CONFIG GET 'maxmemory*'")).split('\n');
    const config = Object.fromEntries(got.flatMap((_, n) => (n % 2 === 0 ? [[got[n], got[n + 1]]] : [])));
    expect({ member: i, maxmemory: config.maxmemory, policy: config['maxmemory-policy'] })
      .toEqual({ member: i, maxmemory: String(Math.floor(limit * 45 / 100) * 1024 * 1024), policy: 'noeviction' });
  }
});

test('a replica whose link to its primary is down is not Ready and leaves the -read Service until the link is back', async () => {
  const read = `${NAME}-read`;
  await waitFor(NS, 'every member behind the -read Service', minutes(1), async () => (await serviceEndpoints(NS, read)).length === 3);
  // cut redis-2 off: a wrong primary password, and its replication connection dropped
  await cli(podHost(NS, NAME, 2), 'CONFIG SET masterauth wrong-password');
  await cli(podHost(NS, NAME, 2), 'CLIENT KILL TYPE master');
  await waitFor(NS, `${member(2)} out of the -read Service`, minutes(2), async () =>
    JSON.stringify(await serviceEndpoints(NS, read)) === JSON.stringify([member(0), member(1)]));
  expect(await info(podHost(NS, NAME, 2), 'master_link_status')).toBe('down');
  await clientExec(NS, `REDISCLI_AUTH="$pw" redis-cli -h ${podHost(NS, NAME, 2)} CONFIG SET masterauth "$pw"`, PASSWORD);
  await waitFor(NS, `${member(2)} back in the -read Service`, minutes(2), async () => (await serviceEndpoints(NS, read)).length === 3);
  await expectReplicas(3);
}, minutes(6));

test('delete one replica pod: it comes back on the same claim with its data and replicates again', async () => {
  const volume = await claimVolume(NS, `data-${member(1)}`);
  await deletePods(NS, [member(1)]);
  await write();
  await waitForReady(NS, NAME, 3);
  expect(await claimVolume(NS, `data-${member(1)}`)).toBe(volume);
  await expectReplicas(3);
  await expectAllKeys(3);
}, minutes(8));

test('delete the primary pod: it comes back on the same claim with every acknowledged key', async () => {
  await write();
  await deletePods(NS, [member(0)]);
  await waitForReady(NS, NAME, 3);
  await expectReplicas(3);
  await expectAllKeys(3);
}, minutes(8));

faultScenarios({ ns: NS, name: NAME, workload: redisWorkload(), secret: PASSWORD, target: 0, healthy: () => expectReplicas(3) });

// Asynchronous replication: a write the primary acknowledged but had not yet sent to a replica is
// lost with the primary's volume. The workload writes all along; the scenario measures the loss.
// The node of the primary is lost with its local volume and stays away for 2 minutes (nodeLoss):
// writes fail meanwhile (no primary); it then comes back on a new, empty volume.
test('lose the primary\'s node (pod 0 and its volume, away for 2 minutes) with writes in flight: it comes back as a copy of the replicas; the loss is measured', async () => {
  await write();
  const r = await withWorkload(redisWorkload(), workloadOptions(NS, NAME, PASSWORD), async () => {
    await nodeLoss(NS, member(0), `data-${member(0)}`, 120);
    await waitForReady(NS, NAME, 3, minutes(8));
  });
  await expectReplicas(3);
  await expectAllKeys(3);
  expect(r.twoWriters).toEqual([]);
  expect(r.acknowledged).toBeGreaterThan(5);
  expect(r.lost.length).toBeLessThanOrEqual(LOST_VOLUME_MAX_LOSS);
  await write();
  await expectAllKeys(3);
}, minutes(14));

test('rolling update (env change): members replaced highest ordinal first, no acknowledged write lost', async () => {
  const writer = startWriter(write);
  const { deleted } = await recordPodDeletions(NS, NAME, async () => {
    await setEnv(NS, NAME, 'main', { E2E_ROLL: '1' });
    await waitForReady(NS, NAME, 3, minutes(8));
  });
  await writer.stop();
  expect(deleted).toEqual([member(2), member(1), member(0)]);
  await expectReplicas(3);
  await expectAllKeys(3);
}, minutes(10));

test('scale 3 -> 5 -> 3: the new replicas sync from the primary; back to 2 replicas', async () => {
  await scale(NS, NAME, 5);
  await waitForReady(NS, NAME, 5, minutes(8));
  await expectReplicas(5);
  await expectAllKeys(5);
  await scale(NS, NAME, 3);
  await waitForReady(NS, NAME, 3);
  await expectReplicas(3);
  await expectAllKeys(3);
}, minutes(12));

test('full outage (every pod deleted at once): the set comes back with every acknowledged key', async () => {
  await write();
  await deletePods(NS, [0, 1, 2].map(member), { force: true });
  await waitForReady(NS, NAME, 3, minutes(8));
  await expectReplicas(3);
  await expectAllKeys(3);
}, minutes(10));

// The primary's volume fills up (a file takes every free block of a small tmpfs put under the
// volume first) while the workload writes: Redis refuses writes once it cannot append to its AOF,
// so nothing it acknowledged is only in a file it could not write; once space is freed, it writes
// again by itself.
test('the primary\'s volume fills up with writes in flight: writes are refused while it is full, no acknowledged write is lost, writes resume once space is freed', async () => {
  // the volume onto the tmpfs first (the pod restarts on it), before the recorded history
  await (await diskFull(NS, member(0), `data-${member(0)}`)).free();
  await waitForReady(NS, NAME, 3, minutes(6));
  await expectReplicas(3);
  const r = await withWorkload(redisWorkload(), workloadOptions(NS, NAME, PASSWORD), async () => {
    const full = await diskFull(NS, member(0), `data-${member(0)}`);
    try {
      // the fault bites: a write is refused with the AOF's error
      await waitFor(NS, 'a write refused while the disk is full', minutes(1), async () =>
        /MISCONF|AOF|space/i.test(await cli(serviceHost(NS, NAME), 'SET e2e:disk-full x')));
      await sleep(FAULT_SECONDS * 1000);
    } finally {
      await full.free();
    }
  });
  await waitForReady(NS, NAME, 3, minutes(6));
  await expectReplicas(3);
  expectClean(r);
  await write();
  await expectAllKeys(3);
}, minutes(14));

// After a full outage the primary comes back on an empty volume while both replicas, which hold
// the data, are stalled for 2 minutes (every process of their pods stopped as it appears, longer
// than any timer of the scripts): their servers accept connections but answer nothing, so the
// empty primary cannot learn what they hold and waits (the set's founding Lease says it was
// founded); once they run, it copies the most advanced.
test('full outage, the primary\'s volume lost, both replicas stalled for 2 minutes: the empty primary starts no new data set; every acknowledged key is kept', async () => {
  await write();
  await expectAllKeys(3);
  const held = [1, 2].map((i) => slowStart(NS, member(i), 120));
  await deletePods(NS, [member(1), member(2)], { force: true });
  await loseVolume(NS, member(0), `data-${member(0)}`);
  await Promise.all(held);
  await waitForReady(NS, NAME, 3, minutes(8));
  await expectAllKeys(3);
}, minutes(16));
