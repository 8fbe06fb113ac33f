// GitOps idempotency (docs/contributing/cluster.md, "GitOps: apply is idempotent"): after a server-side apply
// of an example, `kubectl diff --server-side` of the same file shows no change, and applying it
// again bumps no object's generation. Argo CD and Flux apply the same files again and again: an
// object the API server stores in another form than the file says is applied anew every time
// (a new generation, a permanent OutOfSync). Checked for every object of every example in $CLUSTER_DIST,
// with a control that shows the check catches such an object.
import { closeConnections, get, getOrUndefined, kubectl, kubectlOk, request, sleep, waitFor } from './kube';
import { Example, exampleFiles, loadExample, toYaml } from './manifests';

const MANAGER = 'cdk8s-stateful-gitops';
const examples: Example[] = exampleFiles().map(loadExample);

/** The REST path of a manifest's object. */
function pathOf(doc: any): string {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : [undefined, doc.apiVersion];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const plural = doc.kind.toLowerCase().replace(/y$/, 'ie').replace(/s$/, 'se') + 's';
  const ns = doc.metadata.namespace ? `/namespaces/${doc.metadata.namespace}` : '';
  return `${base}${ns}/${plural}/${doc.metadata.name}`;
}

/**
 * Every object's generation (kinds without one: none) and the time our field manager last wrote
 * it, by path. A no-op apply changes neither; controllers writing status (a PV bound to its
 * claim) change the resourceVersion, not these.
 */
async function generations(docs: any[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of docs) {
    const live = await get(pathOf(d));
    const ours = (live.metadata.managedFields ?? []).find((f: any) => f.manager === MANAGER && f.operation === 'Apply');
    out.set(pathOf(d), `generation ${live.metadata.generation ?? '-'}, applied ${ours?.time ?? 'never'}`);
  }
  return out;
}

/** Server-side apply of a file, as a GitOps controller does. */
async function apply(file: string): Promise<void> {
  await kubectlOk(['apply', '--server-side', `--field-manager=${MANAGER}`, '-f', file]);
}

/** `kubectl diff --server-side`: its exit code (0 = no change, 1 = changes) and what it printed. */
async function diff(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await kubectl(['diff', '--server-side', `--field-manager=${MANAGER}`, '-f', file]);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

async function cleanup(namespace: string, clusterDocs: any[]): Promise<void> {
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  const pvs = (await get('/api/v1/persistentvolumes')).items
    .filter((pv: any) => pv.spec.claimRef?.namespace === namespace || clusterDocs.some((d) => d.kind === 'PersistentVolume' && d.metadata.name === pv.metadata.name))
    .map((pv: any) => pv.metadata.name);
  if (pvs.length) await kubectl(['delete', 'persistentvolume', ...pvs, '--ignore-not-found', '--wait=false']);
  const scs = clusterDocs.filter((d) => d.kind === 'StorageClass').map((d) => d.metadata.name);
  if (scs.length) await kubectl(['delete', 'storageclass', ...scs, '--ignore-not-found', '--wait=false']);
  await waitFor(`namespace ${namespace} and its volumes deleted`, async () => {
    if (await getOrUndefined(`/api/v1/namespaces/${namespace}`)) return false;
    return (await get('/api/v1/persistentvolumes')).items.every((pv: any) => !pvs.includes(pv.metadata.name));
  }, 120_000);
}

beforeAll(async () => {
  await waitFor('API server /readyz', async () => (await request('GET', '/readyz')).status === 200, 30_000);
}, 60_000);

afterAll(() => closeConnections());

test('the check can fail: a NetworkPolicy with namespaceSelector { matchLabels: {} } is applied anew every time', async () => {
  const ns = 'gitops-control';
  const policy = {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'control', namespace: ns },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: {} }, podSelector: { matchLabels: { app: 'client' } } }] }],
    },
  };
  const fs = await import('fs');
  const os = await import('os');
  const path = await import('path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-control-'));
  const file = path.join(dir, 'control.yaml');
  try {
    fs.writeFileSync(file, toYaml([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, policy]));
    await apply(file);
    const before = await generations([policy]);
    const d = await diff(file);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/-\s+generation: 1\n\+\s+generation: 2/);
    await sleep(1100);
    await apply(file);
    expect(await generations([policy])).not.toEqual(before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await cleanup(ns, []);
  }
}, 180_000);

describe.each(examples.map((e) => [e.id, e] as [string, Example]))('%s', (_id, ex) => {
  afterAll(() => cleanup(ex.namespace, ex.clusterStorage), 180_000);

  test('server-side apply, then diff shows no change and a second apply bumps no generation', async () => {
    // the namespace first: the file's namespaced objects need it
    await kubectlOk(['apply', '--server-side', `--field-manager=${MANAGER}`, '-f', '-'], toYaml([ex.namespaceDoc]));
    await waitFor(`serviceaccount default in ${ex.namespace}`, () => getOrUndefined(`/api/v1/namespaces/${ex.namespace}/serviceaccounts/default`));
    await apply(ex.file);
    const before = await generations(ex.docs);
    expect(before.size).toBe(ex.docs.length);

    const d = await diff(ex.file);
    expect({ code: d.code, stdout: d.stdout, stderr: d.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });

    await sleep(1100); // managedFields times have a resolution of one second
    await apply(ex.file);
    expect(await generations(ex.docs)).toEqual(before);
  }, 300_000);
});
