// redis-role-keeper.sh (the Redis Sentinel preset's API side) against the suite's real API server:
// run by sh with curl, as the ServiceAccount and Role the preset synthesizes (applied as they are),
// on a pod of the set: whether the set was founded, the founding Lease created once before the
// first primary label, the pod's role label following the role file the Sentinel container writes.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { createPausePod, kubectlOk, REPO, serviceAccountFiles } from './kube';

const NS = 'redis-role-keeper';
const SCRIPTS = path.join(REPO, 'lib', 'database', 'engines', 'scripts');
let saDir = '';
let configDir = '';
let api = '';

/** The environment of the keeper's containers, as the pod gives it (the token files, the pod's name). */
const env = () => ({ PATH: process.env.PATH, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: path.join(saDir, 'body'), SCRIPTS_DIR: SCRIPTS,
  CONFIG_DIR: configDir, SET_NAME: 'cache', POD_NAME: 'cache-0', ROLE_LABEL: 'cdk8s-stateful.dev/role', FOUNDED_TRIES: '2' });
const founded = () => {
  const r = spawnSync('sh', [path.join(SCRIPTS, 'redis-role-keeper.sh'), 'founded'], { env: env(), encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  return fs.readFileSync(path.join(configDir, 'founded'), 'utf8').trim();
};
const label = async () => (await kubectlOk(['-n', NS, 'get', 'pod', 'cache-0', '-o', "jsonpath={.metadata.labels['cdk8s-stateful\\.dev/role']}"])).stdout.trim();
async function until(what: string, check: () => Promise<boolean>, seconds = 30): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
  await kubectlOk(['create', 'namespace', NS]);
  // the account, Role and binding exactly as the preset synthesizes them
  const chart = new Chart(Testing.app(), 'keeper', { namespace: NS });
  new StatefulDatabase(chart, 'cache', {
    name: 'cache', replicas: 3, engine: DatabaseEngine.redis({ sentinel: {} }), storage: { size: Size.gibibytes(1) },
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'creds', 'cache-credentials') },
  });
  const objects = chart.toJson().filter((o: any) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
  expect(objects.map((o: any) => o.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
  await kubectlOk(['-n', NS, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  await createPausePod(NS, 'cache-0');
  ({ dir: saDir, api } = await serviceAccountFiles(NS, 'cache'));
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-config-'));
});

afterAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  for (const d of [saDir, configDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('a new set: not founded; the keeper creates the Lease before it labels the master primary, then follows the role both ways', async () => {
  expect(founded()).toBe('absent');
  fs.writeFileSync(path.join(configDir, 'role'), 'replica\n');
  const keeper = spawn('sh', [path.join(SCRIPTS, 'redis-role-keeper.sh'), 'keep'], { env: env() });
  let log = '';
  keeper.stderr.on('data', (d) => (log += d));
  try {
    await until('labelled replica', async () => (await label()) === 'replica');
    expect(spawnSync('kubectl', ['-n', NS, 'get', 'lease', 'cache-founded'], { encoding: 'utf8' }).status).not.toBe(0);
    fs.writeFileSync(path.join(configDir, 'role'), 'master\n');
    await until('labelled primary', async () => (await label()) === 'primary');
    const lease = JSON.parse((await kubectlOk(['-n', NS, 'get', 'lease', 'cache-founded', '-o', 'json'])).stdout);
    expect(lease.spec.holderIdentity).toBe('cache-0');
    expect(fs.readFileSync(path.join(configDir, 'founded'), 'utf8').trim()).toBe('present');
    fs.writeFileSync(path.join(configDir, 'role'), 'unknown\n');
    await until('labelled replica again', async () => (await label()) === 'replica');
  } finally {
    keeper.kill('SIGKILL');
  }
  expect(log).toMatch(/recorded that the set was founded \(Lease cache-founded, HTTP 201\)/);
  // every later start of any member learns that the set was founded
  expect(founded()).toBe('present');
});

test('with restoreFrom and no answer from the API server, the member that may restore (the first, its volume empty) keeps asking; another ordinal, or one with data, gives up', () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-data-'));
  const markers = ['appendonlydir', 'appendonly.aof', 'dump.rdb'].map((f) => path.join(data, f)).join(' ');
  /** `founded` of member ORDINAL with restoreFrom, against API (the suite's, or a closed port): its exit status (null: still asking when stopped) and its answer. */
  const run = (ordinal: number, url: string) => {
    fs.rmSync(path.join(configDir, 'founded'), { force: true });
    const r = spawnSync('sh', [path.join(SCRIPTS, 'redis-role-keeper.sh'), 'founded'],
      { env: { ...env(), KUBE_API: url, POD_INDEX: String(ordinal), START_ORDINAL: '0', RESTORE_DATA_MARKERS: markers }, encoding: 'utf8', timeout: 10_000 });
    return { status: r.status, founded: fs.existsSync(path.join(configDir, 'founded')) ? fs.readFileSync(path.join(configDir, 'founded'), 'utf8').trim() : 'none' };
  };
  const closed = 'https://127.0.0.1:1';
  try {
    // FOUNDED_TRIES 2 (about 2 s), stopped after 10 s: the first member with an empty volume was still asking, and wrote nothing
    expect(run(0, closed)).toEqual({ status: null, founded: 'none' });
    expect(run(1, closed)).toEqual({ status: 0, founded: 'unknown' });
    fs.mkdirSync(path.join(data, 'appendonlydir'));
    expect(run(0, closed)).toEqual({ status: 0, founded: 'unknown' });
    fs.rmdirSync(path.join(data, 'appendonlydir'));
    // the API server answering: the set was founded (the test above), so the empty first member does not restore
    expect(run(0, api)).toEqual({ status: 0, founded: 'present' });
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
}, 60_000);

test('the preset\'s Role reaches no further than its own namespace\'s pods and Leases', () => {
  const sh = (script: string) => spawnSync('sh', ['-c', `. "${SCRIPTS}/kube-api.sh"; ${script}`], { env: env(), encoding: 'utf8', timeout: 30_000 }).stdout;
  expect(sh('kube_request DELETE "/api/v1/namespaces/$(kube_namespace)/pods/cache-0"')).toBe('403');
  expect(sh('kube_request GET "/api/v1/namespaces/$(kube_namespace)/secrets"')).toBe('403');
  expect(sh('kube_request GET /api/v1/namespaces/default/pods/x')).toBe('403');
  expect(sh('kube_request DELETE "$(kube_lease_path cache-founded)"')).toBe('403');
});
