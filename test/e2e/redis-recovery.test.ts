// Redis primary + 2 replicas on the real node (the preset without Sentinel, member 0 the primary),
// holding a data set large enough that copying and loading it take time: the two ways an empty
// primary could once start a new, empty data set that every replica then copied.
//   - The primary's copy of a replica is killed half-way (SIGKILL from the host to the copying
//     init container, while its temporary server receives or loads the data): the next run of the
//     init container must copy again, never start with what the cut copy left.
//   - After a full outage in which the primary lost its volume, the replicas load their data for
//     longer than any timer of the scripts (their servers starved of CPU: they answer, with
//     `loading:1`, but take minutes): the empty primary must wait for them, never start a new set.
// After each: every acknowledged key on every member, the bulk data set whole on every member,
// and never two members answering role:master at once.
// The bulk keys live in database 1, so that scanning database 0 for the acknowledged keys stays fast.
import * as fs from 'fs';
import * as path from 'path';
import { containerProcesses, crashInit, starve } from './faults';
import {
  claimVolume, clientExec, deletePods, kubectl, loseVolume, minutes, password, podHost, serviceHost, sleep, waitFor,
  waitForReady,
} from './helpers';
import { setUpRedisSet } from './redis-set';

const NS = 'e2e-redis-recovery';
const NAME = 'redis';
const PASSWORD = password();
const member = (i: number) => `${NAME}-${i}`;
const { cli, write, expectAllKeys, expectReplicas } = setUpRedisSet(NS, NAME, PASSWORD);

/**
 * Keys of the bulk data set (SET f:<i> 1, one command each in the replicas' append-only file,
 * about 55 MB, under the 64 MB at which Redis rewrites it): a replica replays them answering
 * queries every 1024 commands, so starved of CPU it loads for minutes and still answers.
 */
const BULK_KEYS = 1_600_000;
/**
 * How long the replicas load, at the least: over twice the scripts' longest timer (DISCOVERY_SECONDS,
 * 60, counted in rounds of asking that take longer than their 2 s while the replicas answer slowly:
 * the script before the fix, asking two 1.5M-key Redis 7.0 replicas sharing 1% of a core on this
 * machine's loopback, took them for empty after 123 s).
 */
const LOADING_SECONDS = 140;
/** The share of a core a starved replica gets while it loads. */
const LOADING_PERCENT = 1;
/** The share of a core the copying init container gets, so that its copy lasts long enough to be cut in the middle. */
const COPY_PERCENT = 5;
/** A temporary server holding this much holds part of the bulk data set (empty, it holds a few MiB; the whole set is about 100). */
const COPY_HALF_MIB = 30;

/** Writes the bulk data set through the client Service unless the primary holds it; waits until both replicas have everything. */
async function bulkDataSet(): Promise<void> {
  if ((await cli(podHost(NS, NAME, 0), '-n 1 DBSIZE')) !== String(BULK_KEYS)) {
    const resp = `{ printf '*2\\r\\n$6\\r\\nSELECT\\r\\n$1\\r\\n1\\r\\n'; seq 1 ${BULK_KEYS} | awk '{ k = "f:" $1; printf "*3\\r\\n$3\\r\\nSET\\r\\n$%d\\r\\n%s\\r\\n$1\\r\\n1\\r\\n", length(k), k }'; }`;
    const out = await clientExec(NS, `${resp} | REDISCLI_AUTH="$pw" redis-cli --no-auth-warning -h ${serviceHost(NS, NAME)} --pipe`, PASSWORD, '', minutes(3));
    expect(out).toContain(`errors: 0, replies: ${BULK_KEYS + 1}`);
  }
  await write();
  // every replica has acknowledged the primary's whole stream
  expect(await cli(podHost(NS, NAME, 0), 'WAIT 2 60000')).toBe('2');
}

/** Every member holds the whole bulk data set and every acknowledged key; member 0 the one master. */
async function expectWhole(): Promise<void> {
  await expectReplicas(3);
  await expectAllKeys(3);
  for (const i of [0, 1, 2]) expect({ member: i, keys: await cli(podHost(NS, NAME, i), '-n 1 DBSIZE') }).toEqual({ member: i, keys: String(BULK_KEYS) });
}

/** Asks every member, every 2 s until `stop()`, whether it is a master (3 s to answer). `stop()` gives each round's masters. */
function sampleMasters(): { stop: () => Promise<string[][]> } {
  const rounds: string[][] = [];
  let sampling = true;
  const role = (i: number) => clientExec(NS, `REDISCLI_AUTH="$pw" timeout 3 redis-cli --no-auth-warning -h ${podHost(NS, NAME, i)} INFO replication`, PASSWORD)
    .then((out) => /^role:master/m.test(out), () => false);
  const loop = (async () => {
    while (sampling) {
      const masters = await Promise.all([0, 1, 2].map(role));
      rounds.push([0, 1, 2].filter((i) => masters[i]).map(member));
      await sleep(2000);
    }
  })();
  return { stop: async () => { sampling = false; await loop; return rounds; } };
}

function expectOneMasterAtATime(rounds: string[][]): void {
  expect(rounds.length).toBeGreaterThan(5);
  expect(rounds.filter((masters) => masters.length > 1)).toEqual([]);
}

/** The state of CONTAINER of POD (an init container if INIT), as the kubelet reports it: running, waiting or terminated. */
async function containerState(pod: string, container: string, init = false): Promise<string> {
  const statuses = init ? 'initContainerStatuses' : 'containerStatuses';
  const state = await kubectl(['-n', NS, 'get', 'pod', pod, '-o', `jsonpath={.status.${statuses}[?(@.name=="${container}")].state}`]);
  return Object.keys(JSON.parse(state.trim() || '{}'))[0] ?? 'none';
}

/** The first file under DIR (two levels deep) whose name matches PATTERN, relative to DIR. */
function findFile(dir: string, pattern: RegExp, depth = 2): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && pattern.test(entry.name) && fs.statSync(path.join(dir, entry.name)).size > 0) return entry.name;
    if (entry.isDirectory() && depth > 1) {
      const found = findFile(path.join(dir, entry.name), pattern, depth - 1);
      if (found) return path.join(entry.name, found);
    }
  }
  return undefined;
}

/** The resident memory of the redis-server running in init container `config` of member 0, in MiB (0 without one). */
async function copyingServerMib(): Promise<number> {
  let kib = 0;
  for (const pid of await containerProcesses(NS, member(0), 'config')) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'redis-server') continue;
      kib += Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // it exited meanwhile
    }
  }
  return Math.floor(kib / 1024);
}

/**
 * Resolves once member 0's copy is half-way: its temporary server has received part of the
 * replica's snapshot (a file in the volume at DIR) or holds part of the data set in memory (loaded
 * from the stream). Says which.
 */
async function copyHalfWay(dir: string): Promise<string> {
  let seen = '';
  await waitFor(NS, `member 0's copy under way (a received snapshot in ${dir}, or its temporary server holding ${COPY_HALF_MIB} MiB)`, minutes(4), async () => {
    const file = findFile(dir, /^(temp-.*\.rdb|dump\.rdb)$/);
    const mib = await copyingServerMib();
    seen = file ? `received snapshot ${file}, temporary server ${mib} MiB` : `temporary server ${mib} MiB`;
    return file !== undefined || mib >= COPY_HALF_MIB;
  });
  return seen;
}

// First in the file: the replicas' data must still be in their append-only files as commands
// (a full sync, as the other scenario ends with, turns it into a snapshot, which a starved server
// loads without answering for seconds at a time).
test(`full outage, the primary's volume lost, both replicas loading their data for over ${LOADING_SECONDS} s (starved of CPU): the empty primary starts no new data set; every acknowledged key is kept`, async () => {
  await bulkDataSet();
  // the servers of the replicas' next pods, each starved from its start
  const starved = await Promise.all([1, 2].map((i) => starve(NS, member(i), 'main', LOADING_PERCENT)));
  const masters = sampleMasters();
  let rounds: string[][] = [];
  try {
    await Promise.all([loseVolume(NS, member(0), `data-${member(0)}`), deletePods(NS, [member(1), member(2)], { force: true })]);
    await waitFor(NS, 'both replicas\' servers started (and starved)', minutes(3), async () => starved.every((s) => s.starved() > 0));
    await sleep(LOADING_SECONDS * 1000);
    // the fault is what it says: both replicas still loading, answering
    for (const i of [1, 2]) {
      const persistence = await cli(podHost(NS, NAME, i), 'INFO persistence');
      expect({ member: i, loading: /^loading:(\d)/m.exec(persistence)?.[1] }).toEqual({ member: i, loading: '1' });
    }
    // the empty primary is still looking for the data, its server not started
    expect({ config: await containerState(member(0), 'config', true), main: await containerState(member(0), 'main') })
      .toEqual({ config: 'running', main: 'waiting' });
    await Promise.all(starved.map((s) => s.release()));
    await waitForReady(NS, NAME, 3, minutes(8));
  } finally {
    await Promise.all(starved.map((s) => s.release()));
    rounds = await masters.stop();
  }
  expectOneMasterAtATime(rounds);
  expect(await kubectl(['-n', NS, 'logs', member(0), '-c', 'config'])).toMatch(/redis: copied .*; starting as the primary/);
  await expectWhole();
}, minutes(16));

test('the primary\'s volume lost and its copy of a replica killed half-way (SIGKILL to the copying init container): it copies again and never starts empty; every acknowledged key is kept', async () => {
  await bulkDataSet();
  // the init container that copies runs a server holding the whole data set: it has the database container's resources
  const resources = async (kind: string, name: string) =>
    kubectl(['-n', NS, 'get', 'pod', member(0), '-o', `jsonpath={.spec.${kind}[?(@.name=="${name}")].resources}`]);
  expect(await resources('initContainers', 'config')).toBe(await resources('containers', 'main'));
  const starved = await starve(NS, member(0), 'config', COPY_PERCENT);
  const masters = sampleMasters();
  let rounds: string[][] = [];
  try {
    await loseVolume(NS, member(0), `data-${member(0)}`);
    const seen = await copyHalfWay((await kubectl(['get', 'pv', await claimVolume(NS, `data-${member(0)}`), '-o', 'jsonpath={.spec.local.path}'])).trim());
    await crashInit(NS, member(0), 'config');
    await starved.release();
    process.stdout.write(`redis-recovery: the copy killed half-way: ${seen}\n`);
    const cut = await kubectl(['-n', NS, 'logs', member(0), '-c', 'config', '--previous']);
    expect(cut).toMatch(/copying it before the primary starts/);
    expect(cut).not.toMatch(/redis: copied/);
    await waitForReady(NS, NAME, 3, minutes(8));
  } finally {
    await starved.release();
    rounds = await masters.stop();
  }
  expectOneMasterAtATime(rounds);
  expect(await kubectl(['-n', NS, 'logs', member(0), '-c', 'config'])).toMatch(/redis: copied .*; starting as the primary/);
  await expectWhole();
}, minutes(14));
