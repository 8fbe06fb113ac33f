// The change guard (lib/plan, docs/plan.md) against a real Kubernetes 1.34 API server: every change
// it refuses for the API server's sake is refused by the API server when applied without the
// guard (422 Invalid, or 403 Forbidden from the PersistentVolumeClaimResize admission plugin);
// every change it lets through applies cleanly; and a storage increase on an expandable class
// expands every existing claim on apply and changes nothing else.
//
// The claims are provisioned by the suite's StandInProvisioner (provisioner.ts). Expansion needs
// an external resizer too, which the test cluster does not run: `standInResizer` below plays its
// controller part, honestly: it acts only on a claim kube-controller-manager's expand controller
// has handed over (its expand controller's ExternalExpanding event, "waiting for an external
// controller to expand this PVC", which it records for CSI volumes), then grows the volume's
// capacity and records the new capacity in the claim's status, as external-resizer does for a
// driver without node expansion. Growing a file system on a node is not exercised here.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Size } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ChangeApprovals, ChangeGuard, DatabaseEngine, NfsPersistentVolumePool, StatefulDatabase, StorageClass } from '../../lib';
import { closeConnections, get, kubectl, kubectlOk, request, sleep, waitFor } from './kube';
import { StandInProvisioner } from './provisioner';

const NS = 'plan';
const DRIVER = 'stand-in.csi.cdk8s-stateful.test';
const provisioner = new StandInProvisioner();
const engine = DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });

/** One version of the test app: a database on an expandable class, one on a fixed class, one on an NFS pool. */
interface Shape {
  readonly size?: number;
  readonly fixedSize?: number;
  readonly replicas?: number;
  readonly headless?: string;
  readonly parallel?: boolean;
  readonly otherClass?: boolean;
  readonly provisioner?: string;
  readonly reclaim?: 'Delete';
  readonly immediate?: boolean;
  readonly nfsServer?: string;
  readonly image?: string;
  readonly whenScaled?: 'Delete';
  readonly changeApprovals?: ChangeApprovals;
}

function build(chart: Chart, s: Shape): void {
  const grow = new StorageClass(chart, 'grow', {
    name: 'plan-grow', provisioner: s.provisioner ?? DRIVER, allowVolumeExpansion: true,
    reclaimPolicy: s.reclaim as any, volumeBindingMode: s.immediate ? 'Immediate' as any : undefined,
  });
  const fixed = new StorageClass(chart, 'fixed', { name: 'plan-fixed', provisioner: DRIVER, allowVolumeExpansion: false });
  new StorageClass(chart, 'other', { name: 'plan-other', provisioner: DRIVER });
  new StatefulDatabase(chart, 'db', {
    engine: s.image ? DatabaseEngine.custom({ image: s.image, ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 }) : engine,
    replicas: s.replicas ?? 3, headlessServiceName: s.headless,
    podManagementPolicy: s.parallel ? 'Parallel' as any : undefined,
    storage: { storageClass: s.otherClass ? StorageClass.fromStorageClassName('plan-other') : grow, size: Size.gibibytes(s.size ?? 1) },
    claimRetentionWhenScaled: s.whenScaled as any,
    changeApprovals: s.changeApprovals,
  });
  new StatefulDatabase(chart, 'fixed-db', { name: 'fixed', engine, replicas: 1, storage: { storageClass: fixed, size: Size.gibibytes(s.fixedSize ?? 1) } });
  const pool = new NfsPersistentVolumePool(chart, 'pool', { name: 'plan-nfs', server: s.nfsServer ?? '10.0.0.1', basePath: '/exports', volumes: 1, capacity: Size.gibibytes(1) });
  new StatefulDatabase(chart, 'web', { engine, replicas: 1, storage: { pool, size: Size.gibibytes(1) } });
}

const DEPLOYED = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-cluster-'));

/** Synthesizes `shape` into `dir`, the guard attached and comparing with what `dir` holds (or not attached). */
function synth(dir: string, shape: Shape, guard = true): any[] {
  const app = new App({ outdir: dir });
  if (guard) ChangeGuard.attach(app);
  build(new Chart(app, 'plan', { namespace: NS, disableResourceNameHashes: true }), shape);
  app.synth();
  return parseAllDocuments(fs.readFileSync(path.join(dir, 'plan.k8s.yaml'), 'utf-8')).map((d) => d.toJS());
}

/** The guard's refusal of `shape` against what is deployed (the test fails if there is none). */
function refusal(shape: Shape): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-next-'));
  fs.copyFileSync(path.join(DEPLOYED, 'plan.k8s.yaml'), path.join(dir, 'plan.k8s.yaml'));
  try {
    synth(dir, shape);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`the guard accepted ${JSON.stringify(shape)}`);
}

const PLURAL: { [kind: string]: string } = {
  StatefulSet: '/apis/apps/v1/namespaces/plan/statefulsets', Service: '/api/v1/namespaces/plan/services',
  PersistentVolumeClaim: '/api/v1/namespaces/plan/persistentvolumeclaims', PersistentVolume: '/api/v1/persistentvolumes',
  StorageClass: '/apis/storage.k8s.io/v1/storageclasses', PodDisruptionBudget: '/apis/policy/v1/namespaces/plan/poddisruptionbudgets',
  NetworkPolicy: '/apis/networking.k8s.io/v1/namespaces/plan/networkpolicies',
};
const pathOf = (o: any) => `${PLURAL[o.kind]}/${o.metadata.name}`;

/** Server-side apply of one object; the HTTP status and the API server's message. */
async function apply(o: any): Promise<{ status: number; message: string }> {
  const r = await request('PATCH', `${pathOf(o)}?fieldManager=plan-test&force=true`, o, 'application/apply-patch+yaml');
  return { status: r.status, message: r.body?.message ?? '' };
}

const find = (objects: any[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};

async function claimsBound(names: string[]): Promise<void> {
  await waitFor(`claims ${names.join(', ')} Bound`, async () => {
    for (const n of names) if ((await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${n}`).catch(() => undefined))?.status?.phase !== 'Bound') return false;
    return true;
  }, 180_000);
}

/** kube-controller-manager hands a CSI claim's expansion to the driver's external resizer; this plays it. */
async function standInResizer(claims: string[]): Promise<void> {
  for (const name of claims) {
    await waitFor(`${name} handed to the external resizer`, async () => {
      const events = await get(`/api/v1/namespaces/${NS}/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name},reason=ExternalExpanding`)}`);
      return events.items.length > 0;
    }, 120_000);
    const pvc = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`);
    const pvSource = (await get(`/api/v1/persistentvolumes/${pvc.spec.volumeName}`)).spec.csi;
    if (pvSource?.driver !== DRIVER) throw new Error(`${name}: not a volume of ${DRIVER}`);
    const size = pvc.spec.resources.requests.storage;
    const pv = await request('PATCH', `/api/v1/persistentvolumes/${pvc.spec.volumeName}`, { spec: { capacity: { storage: size } } }, 'application/merge-patch+json');
    if (pv.status !== 200) throw new Error(`resizing PV ${pvc.spec.volumeName}: HTTP ${pv.status} ${JSON.stringify(pv.body)}`);
    const st = await request('PATCH', `/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}/status`,
      { status: { capacity: { storage: size }, conditions: null, allocatedResourceStatuses: null } }, 'application/merge-patch+json');
    if (st.status !== 200) throw new Error(`claim ${name} status: HTTP ${st.status} ${JSON.stringify(st.body)}`);
  }
}

/** resourceVersion of every object of `objects` in the cluster, by kind/name. */
async function versions(objects: any[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of objects) out.set(`${o.kind}/${o.metadata.name}`, (await get(pathOf(o))).metadata.resourceVersion);
  return out;
}

/** What a user wrote of every object of `objects`, as the cluster holds it (no status, no bookkeeping), by kind/name. */
async function specs(objects: any[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of objects) {
    const { status, metadata, ...rest } = await get(pathOf(o));
    const { resourceVersion, managedFields, ...meta } = metadata;
    out.set(`${o.kind}/${o.metadata.name}`, JSON.stringify({ ...rest, metadata: meta }));
  }
  return out;
}

beforeAll(async () => {
  await waitFor('API server /readyz', async () => (await request('GET', '/readyz')).status === 200, 30_000);
  for (const n of (await get('/api/v1/nodes')).items) {
    if (n.status.allocatable?.['ephemeral-storage']) continue;
    await request('PATCH', `/api/v1/nodes/${n.metadata.name}/status`,
      { status: { capacity: { 'ephemeral-storage': '100Gi' }, allocatable: { 'ephemeral-storage': '100Gi' } } }, 'application/merge-patch+json');
  }
  await kubectl(['create', 'namespace', NS]);
  await provisioner.start();
  synth(DEPLOYED, {});
  await kubectlOk(['apply', '--validate=strict', '-f', DEPLOYED]);
  await claimsBound(['data-db-0', 'data-db-1', 'data-db-2', 'data-fixed-0', 'data-web-0']);
}, 300_000);

afterAll(async () => {
  provisioner.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
  await kubectl(['delete', 'pv', 'plan-nfs-0', '--wait=false']);
  await kubectl(['delete', 'storageclass', 'plan-grow', 'plan-fixed', 'plan-other', '--wait=false']);
  closeConnections();
  fs.rmSync(DEPLOYED, { recursive: true, force: true });
});

describe('what the guard refuses, the API server refuses', () => {
  const cases: [string, Shape, string, string, number, RegExp][] = [
    ['serviceName', { headless: 'peers' }, 'StatefulSet', 'db', 422, /spec: Forbidden: updates to statefulset spec for fields other than/],
    ['podManagementPolicy', { parallel: true }, 'StatefulSet', 'db', 422, /spec: Forbidden: updates to statefulset spec/],
    ['a claim template\'s class', { otherClass: true }, 'StatefulSet', 'db', 422, /spec: Forbidden: updates to statefulset spec/],
    ['a class\'s provisioner', { provisioner: 'other.csi.example.com' }, 'StorageClass', 'plan-grow', 422, /provisioner: Forbidden: updates to provisioner are forbidden/],
    ['a class\'s reclaimPolicy', { reclaim: 'Delete' }, 'StorageClass', 'plan-grow', 422, /reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden/],
    ['a class\'s volumeBindingMode', { immediate: true }, 'StorageClass', 'plan-grow', 422, /volumeBindingMode: Invalid value: "Immediate": field is immutable/],
    ['an NFS volume\'s server', { nfsServer: '10.0.0.2' }, 'PersistentVolume', 'plan-nfs-0', 422, /spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation/],
  ];
  test.each(cases)('%s: the guard refuses, the API server answers %s without it', async (_, shape, kind, name, status, message) => {
    expect(refusal(shape)).toMatch(/refuses to change/);
    const raw = synth(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-raw-')), shape, false);
    const r = await apply(find(raw, kind, name));
    expect({ status: r.status, message: r.message }).toEqual({ status, message: expect.stringMatching(message) });
  });

  test('a claim template\'s size, up or down: 422 without the guard (which keeps the template and carries the claims)', async () => {
    for (const size of ['2Gi', '512Mi']) {
      const raw = synth(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-raw-')), {}, false);
      const sts = find(raw, 'StatefulSet', 'db');
      sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage = size;
      const r = await apply(sts);
      expect({ size, status: r.status, message: r.message }).toEqual({ size, status: 422, message: expect.stringMatching(/spec: Forbidden: updates to statefulset spec/) });
    }
    expect(refusal({ size: 0.5 })).toMatch(/a claim never shrinks/);
  });

  const claim = (name: string, className: string | undefined, storage: string, selector?: any) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: NS },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: className, selector, resources: { requests: { storage } } },
  });

  test('a claim never shrinks: 422', async () => {
    const r = await apply(claim('data-db-0', 'plan-grow', '512Mi'));
    expect(r).toEqual({ status: 422, message: expect.stringMatching(/spec.resources.requests.storage: Forbidden: field can not be less than status.capacity/) });
  });

  test('a larger claim on a class without allowVolumeExpansion: 403 from the PersistentVolumeClaimResize admission plugin', async () => {
    expect(refusal({ fixedSize: 2 })).toMatch(/StorageClass 'plan-fixed' does not set allowVolumeExpansion/);
    const r = await apply(claim('data-fixed-0', 'plan-fixed', '2Gi'));
    expect(r).toEqual({ status: 403, message: expect.stringMatching(/only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize/) });
  });

  test('a larger claim on a static NFS volume: 403', async () => {
    const bound = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/data-web-0`);
    const r = await apply(claim('data-web-0', bound.spec.storageClassName, '2Gi', bound.spec.selector));
    expect(r).toEqual({ status: 403, message: expect.stringMatching(/only dynamically provisioned pvc can be resized/) });
  });
});

describe('what the guard allows applies cleanly', () => {
  test('replicas and a patch release', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-ok-'));
    fs.copyFileSync(path.join(DEPLOYED, 'plan.k8s.yaml'), path.join(dir, 'plan.k8s.yaml'));
    const out = synth(dir, { replicas: 4, image: 'postgres:16.8' });
    for (const o of out) expect({ object: `${o.kind}/${o.metadata.name}`, ...(await apply({ ...o, metadata: { ...o.metadata, managedFields: undefined } })) }).toEqual({ object: `${o.kind}/${o.metadata.name}`, status: 200, message: '' });
    // back to what is deployed
    for (const o of synth(dir, {}, false)) await apply(o);
  });

  test('with orphanDelete: delete --cascade=orphan, then apply; the pods and claims stay and are adopted', async () => {
    const pods = async () => (await get(`/api/v1/namespaces/${NS}/pods?labelSelector=app.kubernetes.io/instance%3Ddb`)).items
      .map((p: any) => `${p.metadata.name} ${p.metadata.uid}`).sort();
    await waitFor('3 pods of db', async () => (await pods()).length === 3, 120_000);
    const before = await pods();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-orphan-'));
    fs.copyFileSync(path.join(DEPLOYED, 'plan.k8s.yaml'), path.join(dir, 'plan.k8s.yaml'));
    synth(dir, { headless: 'peers', changeApprovals: { orphanDelete: true } });
    await kubectlOk(['-n', NS, 'delete', 'statefulset', 'db', '--cascade=orphan']);
    await kubectlOk(['apply', '-f', dir]);
    const sts = await waitFor('the new set owns its pods', async () => {
      const s = await get(`/apis/apps/v1/namespaces/${NS}/statefulsets/db`);
      const ps = (await get(`/api/v1/namespaces/${NS}/pods?labelSelector=app.kubernetes.io/instance%3Ddb`)).items;
      return ps.length === 3 && ps.every((p: any) => p.metadata.ownerReferences?.[0]?.uid === s.metadata.uid) ? s : undefined;
    }, 120_000);
    expect(sts.spec.serviceName).toBe('peers');
    expect((await pods()).filter((p: string) => before.includes(p)).length).toBeGreaterThan(0);
    for (const n of ['data-db-0', 'data-db-1', 'data-db-2']) expect((await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${n}`)).status.phase).toBe('Bound');
    // and back, the same way
    await kubectlOk(['-n', NS, 'delete', 'statefulset', 'db', '--cascade=orphan']);
    await kubectlOk(['-n', NS, 'delete', 'service', 'peers']);
    await kubectlOk(['apply', '-f', DEPLOYED]);
  });
});

describe('storage growth through GitOps', () => {
  test('kubectl apply of the output expands every existing claim and changes nothing else', async () => {
    const before = parseAllDocuments(fs.readFileSync(path.join(DEPLOYED, 'plan.k8s.yaml'), 'utf-8')).map((d) => d.toJS());
    await sleep(2000); // let the controllers settle after the previous tests
    const specsBefore = await specs(before);
    const stsBefore = await get(`/apis/apps/v1/namespaces/${NS}/statefulsets/db`);
    const out = synth(DEPLOYED, { size: 2 });
    const claims = out.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
    expect(claims).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    await kubectlOk(['apply', '-f', DEPLOYED]);
    for (const n of claims) expect((await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${n}`)).spec.resources.requests.storage).toBe('2Gi');
    await standInResizer(claims);
    for (const n of claims) {
      const c = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${n}`);
      expect({ n, phase: c.status.phase, capacity: c.status.capacity.storage }).toEqual({ n, phase: 'Bound', capacity: '2Gi' });
      expect((await get(`/api/v1/persistentvolumes/${c.spec.volumeName}`)).spec.capacity.storage).toBe('2Gi');
    }
    // nothing else changed: the set (same generation, template still 1Gi), Services, classes, volumes, budget, policy
    const stsAfter = await get(`/apis/apps/v1/namespaces/${NS}/statefulsets/db`);
    expect(stsAfter.metadata.generation).toBe(stsBefore.metadata.generation);
    expect(stsAfter.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const specsAfter = await specs(before);
    const changed = [...specsBefore.keys()].filter((k) => specsBefore.get(k) !== specsAfter.get(k));
    expect(changed).toEqual([]);
    // a second apply of the same output is a no-op for the claims
    const rvClaims = await versions(out.filter((o) => o.kind === 'PersistentVolumeClaim'));
    await kubectlOk(['apply', '-f', DEPLOYED]);
    expect(await versions(out.filter((o) => o.kind === 'PersistentVolumeClaim'))).toEqual(rvClaims);
  });
});

describe('what the guard refuses for the data\'s sake loses data without it', () => {
  test('claim retention switched to Delete: the API server takes it, and the next scale-down deletes a claim', async () => {
    expect(refusal({ whenScaled: 'Delete' })).toMatch(/persistentVolumeClaimRetentionPolicy.whenScaled from 'Retain' to 'Delete'/);
    const raw = synth(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-plan-raw-')), { size: 2, whenScaled: 'Delete' }, false);
    const sts = find(raw, 'StatefulSet', 'db');
    sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '1Gi'; // as deployed (the template is immutable)
    expect(await apply(sts)).toEqual({ status: 200, message: '' });
    const claim = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/data-db-2`);
    await kubectlOk(['-n', NS, 'scale', 'statefulset', 'db', '--replicas=2']);
    await waitFor('claim data-db-2 deleted by the StatefulSet controller', async () =>
      (await request('GET', `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-db-2`)).status === 404, 120_000);
    // its volume is released: with the class's Retain the disk survives, with Delete it would be destroyed
    const pv = await waitFor('the volume Released', async () => {
      const v = await get(`/api/v1/persistentvolumes/${claim.spec.volumeName}`);
      return v.status.phase === 'Released' ? v : undefined;
    }, 120_000);
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
  });
});
