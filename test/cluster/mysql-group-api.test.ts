// lib/database/engines/scripts/mysql-group-api.sh, the API side of MySQL with Group Replication,
// against the suite's real API server, run by sh with curl as a ServiceAccount with the preset's
// Role (leases get/create/update, pods get/patch): the bootstrap decision of members starting at
// once, the Lease's holder as a compare-and-swap (bootstrap by its creator only while pending, a
// reboot only once bootstrapped), and the role file mirrored onto the pod's label.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createPausePod, kubectlOk, REPO, serviceAccountFiles } from './kube';

const NS = 'mysql-group-api';
const SCRIPTS = path.join(REPO, 'lib', 'database', 'engines', 'scripts');
const LEASE = 'db-group';
const ROLE = 'cdk8s-stateful.dev/role';
let saDir: string;
let api: string;
const running: ChildProcess[] = [];

/** The environment of member POD's API containers, its GROUP_DIR a fresh directory. */
function memberEnv(pod: string): NodeJS.ProcessEnv {
  const groupDir = fs.mkdtempSync(path.join(saDir, `${pod}-`));
  return {
    PATH: process.env.PATH, HOSTNAME: pod, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: path.join(groupDir, '.body'),
    SCRIPTS_DIR: SCRIPTS, GROUP_DIR: groupDir, GROUP_LEASE: LEASE, ROLE_LABEL: ROLE,
  };
}

/** Runs `mysql-group-api.sh lease` as POD; resolves with its GROUP_DIR when it exits 0. */
function decide(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', [path.join(SCRIPTS, 'mysql-group-api.sh'), 'lease'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve(env.GROUP_DIR as string) : reject(new Error(`lease exited ${code}: ${err}`))));
  });
}

/** Starts `mysql-group-api.sh label` as the member of ENV (stopped after the tests). */
function label(env: NodeJS.ProcessEnv): void {
  running.push(spawn('sh', [path.join(SCRIPTS, 'mysql-group-api.sh'), 'label'], { env: { ...env, LABEL_INTERVAL: '0.2' }, stdio: 'ignore' }));
}

/** Asks the member's `label` sidecar for the Lease (KIND bootstrap or reboot), as the `group` sidecar does; its answer. */
async function take(env: NodeJS.ProcessEnv, kind: string): Promise<string> {
  const dir = env.GROUP_DIR as string;
  fs.writeFileSync(path.join(dir, 'lease.request'), `${kind}\n`);
  for (let i = 0; i < 100; i++) {
    for (const answer of ['granted', 'denied']) {
      if (fs.existsSync(path.join(dir, `lease.${answer}`))) {
        for (const f of ['lease.request', 'lease.granted', 'lease.denied']) fs.rmSync(path.join(dir, f), { force: true });
        return answer;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer to ${kind} in ${dir}`);
}

const holder = async () => (await kubectlOk(['-n', NS, 'get', 'lease', LEASE, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout.trim();

beforeAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
  await kubectlOk(['create', 'namespace', NS]);
  await kubectlOk(['-n', NS, 'create', 'serviceaccount', 'db']);
  // the preset's Role (lib/database/engines/mysql-group.ts)
  await kubectlOk(['-n', NS, 'create', 'role', 'leases', '--verb=get,create,update', '--resource=leases']);
  await kubectlOk(['-n', NS, 'create', 'role', 'pods', '--verb=get,patch', '--resource=pods']);
  for (const role of ['leases', 'pods']) await kubectlOk(['-n', NS, 'create', 'rolebinding', role, `--role=${role}`, `--serviceaccount=${NS}:db`]);
  for (const i of [0, 1, 2]) await createPausePod(NS, `db-${i}`);
  ({ dir: saDir, api } = await serviceAccountFiles(NS, 'db'));
});

afterAll(async () => {
  running.forEach((p) => p.kill('SIGTERM'));
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  if (saDir) fs.rmSync(saDir, { recursive: true, force: true });
});

test('three members deciding at once: exactly one is told to bootstrap; the Lease is pending on it; a reboot is refused until it bootstrapped; only it may bootstrap, once; then one reboot at a time', async () => {
  const envs = ['db-0', 'db-1', 'db-2'].map(memberEnv);
  const dirs = await Promise.all(envs.map(decide));
  const bootstrappers = dirs.map((d, i) => (fs.existsSync(path.join(d, 'bootstrap')) ? i : -1)).filter((i) => i >= 0);
  expect(bootstrappers).toHaveLength(1);
  const creator = bootstrappers[0];
  const others = [0, 1, 2].filter((i) => i !== creator);
  expect(await holder()).toBe(`db-${creator}`);
  envs.forEach(label);
  // pending: nobody reboots a group that was never bootstrapped; nobody but the creator bootstraps it
  expect(await take(envs[others[0]], 'reboot')).toBe('denied');
  expect(await take(envs[others[1]], 'bootstrap')).toBe('denied');
  expect(await take(envs[creator], 'bootstrap')).toBe('granted');
  expect(await holder()).toBe(`db-${creator} bootstrapped`);
  // bootstrapped once: never again
  expect(await take(envs[creator], 'bootstrap')).toBe('denied');
  // after a full outage, a reboot is granted; then another (a later outage) again
  expect(await take(envs[others[0]], 'reboot')).toBe('granted');
  expect(await holder()).toMatch(new RegExp(`^db-${others[0]} reboot \\d{4}-\\d\\d-\\d\\dT`));
  expect(await take(envs[others[1]], 'reboot')).toBe('granted');
  expect(await holder()).toMatch(new RegExp(`^db-${others[1]} reboot `));
  // a member that restarts decides again: the Lease exists, it joins
  const again = await decide(memberEnv(`db-${creator}`));
  expect(fs.existsSync(path.join(again, 'bootstrap'))).toBe(false);
});

test('the role file is mirrored onto the pod label, and follows it', async () => {
  const env = memberEnv('db-1');
  label(env);
  const labelOf = async () => (await kubectlOk(['-n', NS, 'get', 'pod', 'db-1', '-o', `jsonpath={.metadata.labels.cdk8s-stateful\\.dev/role}`])).stdout.trim();
  const waitLabel = async (want: string) => {
    for (let i = 0; i < 50 && (await labelOf()) !== want; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await labelOf()).toBe(want);
  };
  // no role file yet: none
  await waitLabel('none');
  for (const role of ['replica', 'primary', 'none']) {
    fs.writeFileSync(path.join(env.GROUP_DIR as string, 'role'), `${role}\n`);
    await waitLabel(role);
  }
});
