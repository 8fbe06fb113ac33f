// lib/database/engines/scripts/galera-decide.sh (the Galera `decide` init container) against the
// suite's real API server: several members run it at once, as a ServiceAccount with exactly the
// preset's Role (the set's Leases: create, get, patch; pods: get), each with the position its
// `recover` init container would have written. The API server arbitrates the Lease: at most one
// member is told to bootstrap, the most advanced; an empty member never leads over one with data;
// an unrecoverable position holds the election back; the others join once a member is Ready.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createPausePod, kubectlOk, REPO, serviceAccountFiles } from './kube';

const NS = 'galera-decide';
const SCRIPTS = path.join(REPO, 'lib', 'database', 'engines', 'scripts');
const UUID = '6b2f0000-0000-0000-0000-000000000000';
const EMPTY = '00000000-0000-0000-0000-000000000000 -1 0 0';
let saDir: string;
let api: string;
const running: ChildProcess[] = [];

interface Member { readonly done: Promise<string>; readonly dir: string; log: string }

/** Runs galera-decide.sh for ordinal I of set SET (3 members) with POSITION; resolves with its decision. */
function decide(set: string, i: number, position: string, env: { [name: string]: string } = {}): Member {
  const dir = fs.mkdtempSync(path.join(saDir, `${set}-${i}-`));
  fs.writeFileSync(path.join(dir, 'galera-position'), `${position}\n`);
  const child = spawn('sh', [path.join(SCRIPTS, 'galera-decide.sh')], {
    env: {
      PATH: process.env.PATH, SCRIPTS_DIR: SCRIPTS, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: path.join(dir, 'body'), RUN_DIR: dir,
      SET_NAME: set, POD_INDEX: String(i), START_ORDINAL: '0', PEERS: `${set}-0 ${set}-1 ${set}-2`, POLL_SECONDS: '1', ...env,
    },
  });
  running.push(child);
  const m: Member = { dir, log: '', done: new Promise((resolve, reject) => {
    // killed by the test: no decision
    child.on('exit', (code, signal) => (code === 0 ? resolve(fs.readFileSync(path.join(dir, 'galera-decision'), 'utf8').trim())
      : signal ? resolve(`killed (${signal})`) : reject(new Error(`exit ${code}: ${m.log}`))));
  }) };
  child.stderr.on('data', (d) => { m.log += d; });
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function lease(set: string): Promise<any> {
  return JSON.parse((await kubectlOk(['-n', NS, 'get', 'lease', `${set}-galera`, '-o', 'json'])).stdout);
}
/** Waits until the set's Lease names a holder; the holder. */
async function holder(set: string, seconds = 30): Promise<string> {
  for (let t = 0; t < seconds; t++) {
    const got = await kubectlOk(['-n', NS, 'get', 'lease', `${set}-galera`, '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => ({ stdout: '' }));
    if (got.stdout.trim()) return got.stdout.trim();
    await sleep(1000);
  }
  throw new Error(`no holder in ${set}-galera after ${seconds}s`);
}
/** Pod NAME, Ready as the kubelet reports a Synced member. */
async function readyPod(name: string): Promise<void> {
  await createPausePod(NS, name);
  await kubectlOk(['-n', NS, 'patch', 'pod', name, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True' }] } })]);
}
const settled = (m: Member, ms: number) => Promise.race([m.done, sleep(ms).then(() => 'still deciding')]);

beforeAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
  await kubectlOk(['create', 'namespace', NS]);
  await kubectlOk(['-n', NS, 'create', 'serviceaccount', 'member']);
  // the preset's Role (mariadb-galera.ts GALERA_RULES)
  await kubectlOk(['-n', NS, 'create', 'role', 'leases', '--verb=create,get,patch', '--resource=leases.coordination.k8s.io']);
  await kubectlOk(['-n', NS, 'create', 'role', 'pods', '--verb=get', '--resource=pods']);
  for (const role of ['leases', 'pods']) await kubectlOk(['-n', NS, 'create', 'rolebinding', role, `--role=${role}`, `--serviceaccount=${NS}:member`]);
  ({ dir: saDir, api } = await serviceAccountFiles(NS, 'member'));
});

afterAll(async () => {
  running.forEach((c) => c.kill('SIGKILL'));
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  if (saDir) fs.rmSync(saDir, { recursive: true, force: true });
});

test('after a full outage the members report at once: only the most advanced bootstraps; the others join once it is Ready; the round closes', async () => {
  const m = [decide('a', 0, `${UUID} 5 0 1`), decide('a', 1, `${UUID} 9 0 1`), decide('a', 2, EMPTY)];
  expect(await holder('a')).toBe('1');
  expect(await m[1].done).toBe('bootstrap');
  // nobody else bootstraps, whatever they read meanwhile
  expect(await settled(m[0], 4000)).toBe('still deciding');
  expect(await settled(m[2], 10)).toBe('still deciding');
  await readyPod('a-1');
  expect(await Promise.all([m[0].done, m[2].done])).toEqual(['join', 'join']);
  const after = await lease('a');
  expect(after.spec.holderIdentity).toBeUndefined();
  expect(after.metadata.annotations).toEqual({ 'galera.cdk8s.io/round': '2' });
  // a member of a later start finds a Ready member: joins at once
  expect(await decide('a', 2, EMPTY).done).toBe('join');
});

test('a new cluster (every member empty): the lowest ordinal bootstraps', async () => {
  const m = [decide('b', 2, EMPTY), decide('b', 1, EMPTY), decide('b', 0, EMPTY)];
  expect(await holder('b')).toBe('0');
  expect(await m[2].done).toBe('bootstrap');
});

test('an empty member never leads over one with data; an unrecoverable position (data at -1) holds the election back, as a missing member does', async () => {
  const m = [decide('c', 0, EMPTY, { ELECT_AFTER: '3' }), decide('c', 1, `${UUID} -1 0 1`, { ELECT_AFTER: '3' }), decide('c', 2, `${UUID} 4 0 1`, { ELECT_AFTER: '3' })];
  expect(await settled(m[0], 8000)).toBe('still deciding');
  expect((await lease('c')).spec.holderIdentity ?? '').toBe('');
  expect(m[0].log).toMatch(/3 of 3 members reported \(1 with a position, 1 unrecoverable\); no member bootstraps yet/);
  // forceBootstrap elects among the members with a position after the delay
  running.forEach((c) => c.kill('SIGKILL'));
  expect(await decide('c', 2, `${UUID} 4 0 1`, { ELECT_AFTER: '1', GALERA_FORCE_BOOTSTRAP: '1' }).done).toBe('bootstrap');
});

test('a member gone for good: a majority with positions elects its most advanced after ELECT_AFTER; a member that left last cleanly leads at once', async () => {
  const m = [decide('d', 0, `${UUID} 7 0 1`, { ELECT_AFTER: '4' }), decide('d', 1, `${UUID} 6 0 1`, { ELECT_AFTER: '4' })];
  expect(await settled(m[0], 2000)).toBe('still deciding');
  expect(await m[0].done).toBe('bootstrap');
  expect(m[0].log + m[1].log).toMatch(/2 of 3 members reported a position for \d+s: electing among them/);
  const e = [decide('e', 0, `${UUID} 3 0 1`), decide('e', 2, `${UUID} 3 1 1`)];
  expect(await holder('e', 10)).toBe('2');
  expect(await e[1].done).toBe('bootstrap');
});
