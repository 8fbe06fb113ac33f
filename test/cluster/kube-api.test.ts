// lib/database/engines/scripts/kube-api.sh, the members' API client, against the suite's real API
// server: run by sh with curl, as a ServiceAccount whose Role allows Leases and pod patches in its
// namespace only, the way an engine's containers use it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createPausePod, kubectlOk, REPO, serviceAccountFiles } from './kube';

const NS = 'kube-api-script';
const SCRIPT = path.join(REPO, 'lib', 'database', 'engines', 'scripts', 'kube-api.sh');
let saDir: string;
let api: string;

/** Runs SCRIPT_TEXT with kube-api.sh sourced, as the ServiceAccount; its stdout. */
function sh(scriptText: string, body = path.join(saDir, `body-${Math.random().toString(36).slice(2)}`)): string {
  const r = spawnSync('sh', ['-c', `. "${SCRIPT}"; ${scriptText}`], {
    env: { PATH: process.env.PATH, SA_DIR: saDir, KUBE_API: api, KUBE_BODY: body }, encoding: 'utf8', timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`sh exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true']);
  await kubectlOk(['create', 'namespace', NS]);
  await kubectlOk(['-n', NS, 'create', 'serviceaccount', 'member']);
  await kubectlOk(['-n', NS, 'create', 'role', 'member', '--verb=get,create,update', '--resource=leases']);
  await kubectlOk(['-n', NS, 'create', 'role', 'labeler', '--verb=get,patch', '--resource=pods']);
  for (const role of ['member', 'labeler']) {
    await kubectlOk(['-n', NS, 'create', 'rolebinding', role, `--role=${role}`, `--serviceaccount=${NS}:member`]);
  }
  await createPausePod(NS, 'db-0');
  ({ dir: saDir, api } = await serviceAccountFiles(NS, 'member'));
});

afterAll(async () => {
  await kubectlOk(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  if (saDir) fs.rmSync(saDir, { recursive: true, force: true });
});

test('of members creating the same Lease at once, exactly one gets it; the others are told it exists', async () => {
  const statuses = await Promise.all([0, 1, 2, 3].map((i) => new Promise<string>((resolve) => {
    setImmediate(() => resolve(sh(`kube_lease_create bootstrap db-${i}`)));
  })));
  expect(statuses.sort()).toEqual(['201', '409', '409', '409']);
  const holder = sh('kube_request GET "$(kube_lease_path bootstrap)" >/dev/null; kube_field holderIdentity');
  expect(holder).toMatch(/^db-[0-3]\n$/);
});

test('a Lease is taken only at the resourceVersion the taker read: a stale one gets 409 and changes nothing', async () => {
  const read = sh('kube_request GET "$(kube_lease_path bootstrap)" >/dev/null; kube_field resourceVersion').trim();
  expect(read).toMatch(/^\d+$/);
  expect(sh(`kube_lease_take bootstrap db-9 ${read}`)).toBe('200');
  expect(sh(`kube_lease_take bootstrap db-8 ${read}`)).toBe('409');
  expect(sh('kube_request GET "$(kube_lease_path bootstrap)" >/dev/null; kube_field holderIdentity')).toBe('db-9\n');
});

test('a pod label is set by a merge patch; what the Role does not allow is refused (403), an unreachable API server is 000', async () => {
  expect(sh('kube_label_pod db-0 example.com/role primary')).toBe('200');
  const labels = JSON.parse((await kubectlOk(['-n', NS, 'get', 'pod', 'db-0', '-o', 'jsonpath={.metadata.labels}'])).stdout);
  expect(labels['example.com/role']).toBe('primary');
  expect(sh('kube_request DELETE "/api/v1/namespaces/$(kube_namespace)/pods/db-0"')).toBe('403');
  expect(sh('kube_request GET /api/v1/namespaces/default/pods')).toBe('403');
  expect(sh('KUBE_API=https://127.0.0.1:1 kube_request GET /version 2>/dev/null')).toBe('000');
});
