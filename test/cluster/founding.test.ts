// founding.sh (the init container `founding` of the PostgreSQL, MySQL and Redis presets with
// replicas) against the suite's real API server: run by sh with curl, as the ServiceAccount and
// Role the preset synthesizes (applied as they are). Whether the set was founded is the Lease
// `<set>-founded`, created once by the API server's arbitration, held by the founding volume's id.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { kubectlOk, REPO, serviceAccountFiles } from './kube';

const NS = 'founding';
const SCRIPTS = path.join(REPO, 'lib', 'database', 'engines', 'scripts');
const LEASE = 'shop-founded';
let saDir = '';
let api = '';
const dirs: string[] = [];

/** A member's data volume: a fresh directory, with data (the marker file) or without. */
function volume(withData: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'founding-volume-'));
  dirs.push(dir);
  if (withData) fs.writeFileSync(path.join(dir, 'PG_VERSION'), '18\n');
  return dir;
}

/** The container's environment for member ORDINAL on VOLUME (the token files, the pod's name). */
const env = (ordinal: number, vol: string) => ({
  PATH: process.env.PATH, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: path.join(vol, 'body'), SCRIPTS_DIR: SCRIPTS,
  SET_NAME: 'shop', POD_NAME: `shop-${ordinal}`, FOUNDING_ORDINAL: '0', FOUNDED_FILE: path.join(vol, 'founded'),
  VOLUME_ID_FILE: path.join(vol, '.cdk8s-stateful-volume-id'), DATA_MARKERS: `${vol}/PG_VERSION ${vol}/other`,
});

/** Runs founding.sh as member ORDINAL on VOLUME: its answer, and its log. */
function found(ordinal: number, vol: string): { answer: string; log: string } {
  fs.rmSync(path.join(vol, 'founded'), { force: true });
  const r = spawnSync('sh', [path.join(SCRIPTS, 'founding.sh')], { env: env(ordinal, vol), encoding: 'utf8', timeout: 60_000 });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  return { answer: fs.readFileSync(path.join(vol, 'founded'), 'utf8').trim(), log: r.stderr };
}

/** founding.sh as member ORDINAL on VOLUME, started now and running beside others: its answer. */
function foundConcurrently(ordinal: number, vol: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [path.join(SCRIPTS, 'founding.sh')], { env: env(ordinal, vol), stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(fs.readFileSync(path.join(vol, 'founded'), 'utf8').trim()) : reject(new Error(`founding.sh exited ${code}`))));
  });
}

const volumeId = (vol: string) => fs.readFileSync(path.join(vol, '.cdk8s-stateful-volume-id'), 'utf8').trim();
const holder = async () => JSON.parse((await kubectlOk(['-n', NS, 'get', 'lease', LEASE, '-o', 'json'])).stdout).spec.holderIdentity;
const deleteLease = () => kubectlOk(['-n', NS, 'delete', 'lease', LEASE, '--ignore-not-found']);

beforeAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
  await kubectlOk(['create', 'namespace', NS]);
  // the account, Role and binding exactly as the preset synthesizes them
  const chart = new Chart(Testing.app(), 'founding', { namespace: NS });
  new StatefulDatabase(chart, 'shop', {
    name: 'shop', replicas: 3, engine: DatabaseEngine.postgresql(), storage: { size: Size.gibibytes(1) },
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'creds', 'shop-credentials') },
  });
  const objects = chart.toJson().filter((o: any) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
  expect(objects.map((o: any) => o.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
  await kubectlOk(['-n', NS, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  ({ dir: saDir, api } = await serviceAccountFiles(NS, 'shop'));
});

afterAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  for (const d of [saDir, ...dirs]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('a new set: the first member creates the Lease with its volume\'s id and founds it; a restart from that volume still founds it', async () => {
  await deleteLease();
  const replica = volume(false);
  expect(found(1, replica).answer).toBe('absent');
  const first = volume(false);
  const { answer, log } = found(0, first);
  expect(answer).toBe('found');
  expect(log).toMatch(/created Lease shop-founded: shop-0 founds the set/);
  expect(await holder()).toBe(volumeId(first));
  // its founding did not get as far as data (the container restarted): the same volume founds it again
  expect(found(0, first).answer).toBe('found');
});

test('the first member back with an empty, new volume: the set was founded, so it must copy', async () => {
  await deleteLease();
  expect(found(0, volume(true)).answer).toBe('found');
  const { answer, log } = found(0, volume(false));
  expect(answer).toBe('present');
  expect(log).toMatch(/an empty member copies a member with data, never starts a new data set/);
});

test('a set from before the Lease: a replica holding data records it, and an empty first member then copies', async () => {
  await deleteLease();
  const replica = volume(true);
  found(2, replica);
  expect(await holder()).toBe(volumeId(replica));
  expect(found(0, volume(false)).answer).toBe('present');
});

test('of three first members racing with empty volumes, exactly one founds the set', async () => {
  await deleteLease();
  const answers = await Promise.all([0, 0, 0].map(() => foundConcurrently(0, volume(false))));
  expect(answers.filter((a) => a === 'found')).toHaveLength(1);
});

test('the Role reaches no further: no other Lease read, no Lease changed or deleted, no pod or Secret', () => {
  const sh = (script: string) => spawnSync('sh', ['-c', `. "${SCRIPTS}/kube-api.sh"; ${script}`], {
    env: { PATH: process.env.PATH, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: path.join(saDir, 'body') }, encoding: 'utf8', timeout: 30_000,
  }).stdout;
  expect(sh('kube_request GET "$(kube_lease_path other)"')).toBe('403');
  expect(sh(`kube_request DELETE "$(kube_lease_path ${LEASE})"`)).toBe('403');
  expect(sh(`kube_lease_take ${LEASE} someone 1`)).toBe('403');
  expect(sh('kube_request GET "/api/v1/namespaces/$(kube_namespace)/pods"')).toBe('403');
  expect(sh('kube_request GET "/api/v1/namespaces/$(kube_namespace)/secrets"')).toBe('403');
});
