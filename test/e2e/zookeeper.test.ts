// ZooKeeper (3 members) on the real node: the preset at the version the test image carries
// (ZooKeeper 3.9, tools/images/versions.json), applied with kubectl; health as ZooKeeper reports it
// (`srvr`: exactly one leader), a znode written through one member read through another by pod
// DNS names; failure scenarios, each checking every acknowledged write.
import { Chart, Size } from 'cdk8s';
import { DatabaseEngine, StatefulDatabase, ZooKeeperVersion } from '../../lib';
import {
  apply, claimVolume, CLIENT, deletePods, exec, imageRef, imageTag, loseVolume, minutes, podHost, recordPodDeletions, serviceHost, setEnv,
  setUpEngine, sleep, startWriter, synth, waitFor, waitForReady, NODE_SIZED } from './helpers';
import { faultScenarios } from './fault-scenarios';
import { pause } from './faults';
import { zookeeperWorkload } from './workloads';

const NS = 'e2e-zookeeper';
const NAME = 'zk';
const member = (i: number) => `${NAME}-${i}`;

/** The ensemble with REPLICAS members (the library's way to resize it: change replicas and apply). */
const ensemble = (replicas: number) => (chart: Chart) => new StatefulDatabase(chart, 'zk', {
  name: NAME,
  engine: DatabaseEngine.zookeeper({ version: ZooKeeperVersion.of(imageTag('zookeeper')) }),
  replicas,
  storage: { size: Size.gibibytes(1) },
  ...NODE_SIZED,
});
const deploy = (replicas: number) => apply(NS, synth(NS, ensemble(replicas)));

/** A four-letter word sent from the client pod to HOST's client port. */
function fourLetterWord(host: string, word: string): Promise<string> {
  return exec(NS, CLIENT, CLIENT, `bash -c 'exec 3<>/dev/tcp/${host}/2181; printf ${word} >&3; cat <&3'`);
}
const mode = async (i: number) => /^Mode: (\w+)/m.exec(await fourLetterWord(podHost(NS, NAME, i), 'srvr'))?.[1];

/** zkCli.sh in the client pod against HOST. */
function zkCli(host: string, command: string): Promise<string> {
  return exec(NS, CLIENT, CLIENT, `ZOO_LOG_DIR=/tmp CLIENT_JVMFLAGS=-Xmx64m zkCli.sh -server ${host}:2181 ${command} 2>&1`);
}

const acked: number[] = [];
let nextId = 1;
/** Creates znode /e2e-N through HOST (default: the client Service). */
async function write(host = serviceHost(NS, NAME)): Promise<void> {
  const id = nextId++;
  const out = await zkCli(host, `create /e2e-${id} v${id}`);
  if (!out.includes(`Created /e2e-${id}`)) throw new Error(`create /e2e-${id} through ${host}: ${out.slice(-500)}`);
  acked.push(id);
}
async function expectAllZnodes(replicas: number): Promise<void> {
  for (let i = 0; i < replicas; i++) {
    const out = await zkCli(podHost(NS, NAME, i), 'ls /');
    const ids = [...out.matchAll(/e2e-(\d+)/g)].map((m) => Number(m[1]));
    expect({ member: i, missing: acked.filter((id) => !ids.includes(id)) }).toEqual({ member: i, missing: [] });
  }
}
async function expectEnsemble(replicas: number): Promise<void> {
  const modes = [];
  for (let i = 0; i < replicas; i++) modes.push(await mode(i));
  expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
  expect(modes.filter((m) => m === 'follower')).toHaveLength(replicas - 1);
}

setUpEngine(NS, { name: NAME, replicas: 3, define: ensemble(3), client: { image: imageRef('zookeeper'), uid: 1000 }, readyWithin: minutes(8) });

test('3 members: exactly one leader, two followers', async () => {
  await expectEnsemble(3);
});

test('a znode written through one member is read through another', async () => {
  await write(podHost(NS, NAME, 0));
  const out = await zkCli(podHost(NS, NAME, 2), `get /e2e-${acked[0]}`);
  expect(out).toMatch(new RegExp(`^v${acked[0]}$`, 'm'));
  await write();
  await expectAllZnodes(3);
});

test('delete one member pod: it comes back on the same claim with its data and rejoins', async () => {
  const volume = await claimVolume(NS, `data-${member(1)}`);
  await deletePods(NS, [member(1)]);
  await write(podHost(NS, NAME, 0)); // two of three keep the quorum
  await waitForReady(NS, NAME, 3);
  expect(await claimVolume(NS, `data-${member(1)}`)).toBe(volume);
  await expectEnsemble(3);
  await expectAllZnodes(3);
}, minutes(8));

/** The ordinal of the member that leads now. */
async function leader(): Promise<number> {
  let found = -1;
  await waitFor(NS, 'one leader', minutes(2), async () => {
    const modes = await Promise.all([0, 1, 2].map((i) => mode(i).catch(() => undefined)));
    found = modes.indexOf('leader');
    return found >= 0 && modes.filter((m) => m === 'leader').length === 1;
  });
  return found;
}

// crash, pause and partition of the leader with writes in flight (through any member: followers
// forward them), the history checked after each; reads are sequentially consistent by design
faultScenarios({
  ns: NS, name: NAME, workload: zookeeperWorkload(), secret: '', target: leader, readsNotLinearizable: true, minAcknowledged: 3,
  healthy: () => expectEnsemble(3),
});

test('rolling update (env change): members replaced highest ordinal first, quorum kept, writes go on', async () => {
  const writer = startWriter(() => write(), 4000);
  const { deleted } = await recordPodDeletions(NS, NAME, async () => {
    await setEnv(NS, NAME, 'main', { E2E_ROLL: '1' });
    await waitForReady(NS, NAME, 3, minutes(8));
  });
  const failures = await writer.stop();
  expect(deleted).toEqual([member(2), member(1), member(0)]);
  // a leader change refuses writes for a moment; the quorum itself must hold
  expect(failures.length).toBeLessThanOrEqual(3);
  await expectEnsemble(3);
  await expectAllZnodes(3);
}, minutes(10));

/**
 * Samples every member's mode (`srvr`) until `stop()`, which resolves to the largest number of
 * leaders seen at one time and the samples that saw more than one. A member that does not answer
 * counts as no leader.
 */
function watchLeaders(replicas: number): { stop: () => Promise<{ most: number; split: string[][] }> } {
  let running = true;
  let most = 0;
  const split: string[][] = [];
  const done = (async () => {
    while (running) {
      const modes = await Promise.all([...Array(replicas).keys()].map((i) => mode(i).catch(() => undefined)));
      const leaders = modes.flatMap((m, i) => (m === 'leader' ? [member(i)] : []));
      most = Math.max(most, leaders.length);
      if (leaders.length > 1) split.push(leaders);
      await sleep(2000);
    }
  })();
  return { stop: async () => { running = false; await done; return { most, split }; } };
}

/** The live ensemble's voters, as a serving member answers zkCli `config`. */
async function voters(): Promise<string[]> {
  const out = await zkCli(serviceHost(NS, NAME), 'config');
  return [...out.matchAll(/^server\.(\d+)=.*:participant;/gm)].map((m) => m[1]).sort();
}

// Membership is dynamic: a new member joins the live ensemble without a vote, syncs, and the
// quorum adds it (`reconfig -add`); on a scale-down the leader removes the members that went.
// Changing replicas in the app and applying is all a user does; here 4 and then 5 are applied
// back to back (the second before the first is carried out), then 3. Before the preset used
// ZooKeeper's reconfig, the change guard refused 3 -> 5 and the members refused a list changed by
// two, and two quick one-step changes left old members on the 3-list while new ones formed a
// majority of the 5-list.
test('scale 3 -> 4 -> 5 (applied back to back) -> 3: the set adds and removes members itself, one leader throughout, no znode lost', async () => {
  const writer = startWriter(() => write(), 3000); // through the client Service, all along
  const leaders = watchLeaders(5);
  await deploy(4);
  await deploy(5);
  await waitForReady(NS, NAME, 5, minutes(6));
  await waitFor(NS, '5 voters', minutes(3), async () => (await voters()).length === 5);
  await write(podHost(NS, NAME, 4)); // through a new member
  await expectEnsemble(5);
  await deploy(3);
  await waitFor(NS, '3 voters', minutes(3), async () => (await voters()).join(',') === '1,2,3');
  await waitForReady(NS, NAME, 3, minutes(3));
  const failures = await writer.stop();
  expect(await leaders.stop()).toEqual({ most: 1, split: [] });
  // a leader change refuses writes for a moment; the quorum itself must hold
  expect(failures.length).toBeLessThanOrEqual(3);
  await expectEnsemble(3);
  await expectAllZnodes(3);
}, minutes(16));

/**
 * What ZooKeeper needs after a majority of its volumes was lost: the member with data, POD, leads an
 * ensemble of itself (the operator's step in docs/engines.md, ZooKeeper, lost volumes).
 */
async function resumeFrom(pod: string): Promise<void> {
  await exec(NS, pod, 'main', 'cur="$(sed -n "s/^dynamicConfigFile=//p" /data/conf/zoo.cfg)" && ' +
    'grep "^server\\.$(cat /data/myid)=" "$cur" >/data/conf/zoo.cfg.dynamic.recover && ' +
    'sed -i "s|^dynamicConfigFile=.*|dynamicConfigFile=/data/conf/zoo.cfg.dynamic.recover|" /data/conf/zoo.cfg');
  await deletePods(NS, [pod]);
}

// Two of three volumes lost while the member with data (zk-0) is stopped (SIGSTOP): the two empty
// members must not elect one of themselves, or zk-0 would sync from an empty leader and drop every
// znode. They join only a live quorum (there is none) and never vote; zk-0, resumed, finds no
// quorum either; the operator's step makes it lead, and the empty members join it with every znode.
// Before the preset joined empty members through reconfig, zk-1 and zk-2 elected a leader of their own.
test('a majority of volumes lost (zk-1, zk-2) while the member with data is stopped: no empty member ever leads; once zk-0 leads alone, every znode is back on all three', async () => {
  await write(podHost(NS, NAME, 0));
  const paused = pause(NS, member(0), 100);
  await Promise.all([1, 2].map((i) => loseVolume(NS, member(i), `data-${member(i)}`)));
  const emptyLeaders: string[] = [];
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    for (const i of [1, 2]) if ((await mode(i).catch(() => undefined)) === 'leader') emptyLeaders.push(member(i));
    await sleep(2000);
  }
  await paused;
  await sleep(20_000);
  const modes = await Promise.all([0, 1, 2].map((i) => mode(i).catch(() => undefined)));
  expect({ emptyLeaders, modes }).toEqual({ emptyLeaders: [], modes: [expect.not.stringMatching(/leader/), undefined, undefined] });
  await resumeFrom(member(0));
  await waitForReady(NS, NAME, 3, minutes(6));
  await waitFor(NS, '3 voters', minutes(3), async () => (await voters()).length === 3);
  await expectEnsemble(3);
  await expectAllZnodes(3);
}, minutes(12));

test('full outage (every pod deleted at once): the ensemble re-forms with every znode', async () => {
  await deletePods(NS, [0, 1, 2].map(member), { force: true });
  await waitForReady(NS, NAME, 3, minutes(6));
  await expectEnsemble(3);
  await expectAllZnodes(3);
}, minutes(8));
