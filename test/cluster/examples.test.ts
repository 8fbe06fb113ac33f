// The synthesized examples (dist/*.k8s.yaml, or $CLUSTER_DIST) on a real Kubernetes 1.34 control
// plane with kwok nodes (docs/contributing/cluster.md). Run with `npm run test:cluster`, which starts and stops
// the cluster. One describe block per example, run in order, each in its own namespace; the tests
// of a block build on each other (apply, then roll, scale, delete, evict, delete the set).
//
// Ordering is asserted from the pod watch events the API server delivers (PodRecorder), never
// from timestamps. Dynamic classes are served by StandInProvisioner (provisioner.ts), the
// suite's stand-in for the CSI / external provisioners a real cluster would run.
import { randomBytes } from 'crypto';
import {
  closeConnections, get, getOrUndefined, kubectl, kubectlOk, podReady, request, sleep, waitFor,
} from './kube';
import { claimName, DIST, Example, exampleFiles, loadExample, StatefulSetInfo, toYaml } from './manifests';
import { PROVISIONED_BY_ANNOTATION, PROVISIONER_ANNOTATION, SELECTED_NODE_ANNOTATION, StandInProvisioner, ZONE_LABEL } from './provisioner';
import { PodRecorder } from './recorder';

/**
 * The cluster's default StorageClass, a fixture of the suite: examples that name no class
 * (mariadb, zookeeper) ask for "the cluster's default class", and a real cluster has one. Its
 * provisioner is the stand-in's own name; WaitForFirstConsumer, like most cloud defaults.
 */
const DEFAULT_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'stand-in.csi.cdk8s-stateful.test',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};

const NODE_EPHEMERAL_STORAGE = '100Gi';
/** CLUSTER_TEST_TRACE=1 prints the pod watch record of every ordering assertion. */
const TRACE = process.env.CLUSTER_TEST_TRACE === '1';
const trace = (what: string, rec: PodRecorder) => { if (TRACE) console.log(`${what}\n${rec.dump()}`); };
const ROLLOUT_ANNOTATION = 'cluster-test.cdk8s-stateful/rollout';
const provisioner = new StandInProvisioner();
let nodes: string[] = [];

const files = exampleFiles();
const examples: Example[] = files.map(loadExample);

beforeAll(async () => {
  await waitFor('API server /readyz', async () => (await request('GET', '/readyz')).status === 200, 30_000);
  const nodeList = await get('/api/v1/nodes');
  nodes = nodeList.items
    .filter((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True') && !n.spec.unschedulable)
    .map((n: any) => n.metadata.name);
  if (nodes.length === 0) throw new Error('no Ready, schedulable node');
  // A kubelet reports the node's ephemeral-storage; the fake nodes up.sh creates report only
  // cpu/memory/pods, so pods that request ephemeral-storage (every example) would never fit.
  for (const n of nodeList.items) {
    if (n.status.allocatable?.['ephemeral-storage']) continue;
    const r = await request('PATCH', `/api/v1/nodes/${n.metadata.name}/status`,
      { status: { capacity: { 'ephemeral-storage': NODE_EPHEMERAL_STORAGE }, allocatable: { 'ephemeral-storage': NODE_EPHEMERAL_STORAGE } } },
      'application/merge-patch+json');
    if (r.status !== 200) throw new Error(`patching ${n.metadata.name} status: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }
  await kubectlOk(['apply', '--validate=strict', '-f', '-'], toYaml([DEFAULT_CLASS]));
  await provisioner.start();
}, 60_000);

afterAll(async () => {
  provisioner.stop();
  await kubectl(['delete', 'storageclass', DEFAULT_CLASS.metadata.name, '--ignore-not-found', '--wait=false']);
  closeConnections();
});

test(`covers every example in ${DIST}`, () => {
  expect(files.length).toBeGreaterThan(0);
  // every example is its own namespace, so they cannot collide
  expect(new Set(examples.map((e) => e.namespace)).size).toBe(examples.length);
});

// ---------------------------------------------------------------------------------------------
// helpers

const stsPath = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${name}`;
const podPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`;
const pvcPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`;
const pvPath = (name: string) => `/api/v1/persistentvolumes/${name}`;
const selectorQuery = (labels: { [k: string]: string }) =>
  `labelSelector=${encodeURIComponent(Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','))}`;

async function podsOf(ns: string, s: StatefulSetInfo): Promise<any[]> {
  return (await get(`/api/v1/namespaces/${ns}/pods?${selectorQuery(s.selector)}`)).items;
}

async function describeSet(ns: string, s: StatefulSetInfo): Promise<string> {
  const sts = await getOrUndefined(stsPath(ns, s.name));
  const pods = await podsOf(ns, s);
  const pvcs = (await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items;
  return [
    `statefulset status: ${JSON.stringify(sts?.status)}`,
    ...pods.map((p) => `pod ${p.metadata.name} ${p.status.phase} ready=${podReady(p)} node=${p.spec.nodeName ?? '-'} ` +
      `${(p.status.conditions ?? []).filter((c: any) => c.status !== 'True').map((c: any) => `${c.type}:${c.reason}:${c.message}`).join(' ')}`),
    ...pvcs.map((c: any) => `pvc ${c.metadata.name} ${c.status.phase} -> ${c.spec.volumeName ?? '-'} ann=${JSON.stringify(c.metadata.annotations ?? {})}`),
    `provisioner errors: ${JSON.stringify(provisioner.errors)}`,
  ].join('\n');
}

/**
 * Waits until the set has converged at `replicas`: the controller has seen the latest spec,
 * currentRevision == updateRevision, every replica updated and Ready, and exactly the pods
 * <set>-0..replicas-1 exist, all Ready and none terminating.
 */
async function waitConverged(ns: string, s: StatefulSetInfo, replicas: number, timeoutMs = 120_000): Promise<any> {
  return waitFor(`statefulset ${ns}/${s.name} converged at ${replicas} Ready replicas`, async () => {
    const sts = await get(stsPath(ns, s.name));
    const st = sts.status ?? {};
    if (st.observedGeneration !== sts.metadata.generation) return false;
    if ((st.replicas ?? 0) !== replicas || (st.readyReplicas ?? 0) !== replicas || (st.updatedReplicas ?? 0) !== replicas) return false;
    if (st.currentRevision !== st.updateRevision) return false;
    const pods = await podsOf(ns, s);
    const names = pods.map((p) => p.metadata.name).sort();
    const want = Array.from({ length: replicas }, (_, n) => `${s.name}-${n}`).sort();
    if (JSON.stringify(names) !== JSON.stringify(want)) return false;
    if (!pods.every((p) => podReady(p) && !p.metadata.deletionTimestamp)) return false;
    return sts;
  }, timeoutMs, () => describeSet(ns, s));
}

interface BoundClaim {
  readonly uid: string;
  readonly volume: string;
}

/** Every claim of the set for ordinals 0..replicas-1, asserted Bound both ways; name → uid/volume. */
async function boundClaims(ns: string, s: StatefulSetInfo, replicas: number): Promise<Map<string, BoundClaim>> {
  const out = new Map<string, BoundClaim>();
  for (let n = 0; n < replicas; n++) {
    for (const t of s.claimTemplates) {
      const name = claimName(t, s, n);
      const pvc = await get(pvcPath(ns, name));
      expect({ claim: name, phase: pvc.status.phase, deleting: !!pvc.metadata.deletionTimestamp })
        .toEqual({ claim: name, phase: 'Bound', deleting: false });
      const pv = await get(pvPath(pvc.spec.volumeName));
      expect({ volume: pv.metadata.name, phase: pv.status.phase, claimRef: pickRef(pv.spec.claimRef) })
        .toEqual({ volume: pvc.spec.volumeName, phase: 'Bound', claimRef: { namespace: ns, name, uid: pvc.metadata.uid } });
      out.set(name, { uid: pvc.metadata.uid, volume: pvc.spec.volumeName });
    }
  }
  return out;
}

const pickRef = (r: any) => r && { namespace: r.namespace, name: r.name, uid: r.uid };

/** Asserts every pod <set>-n mounts exactly the claims <template>-<set>-n. */
async function assertPodsUseTheirClaims(ns: string, s: StatefulSetInfo, replicas: number): Promise<void> {
  for (let n = 0; n < replicas; n++) {
    const pod = await get(podPath(ns, `${s.name}-${n}`));
    const used = (pod.spec.volumes ?? []).filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName).sort();
    expect({ pod: pod.metadata.name, claims: used }).toEqual({ pod: pod.metadata.name, claims: s.claimTemplates.map((t) => claimName(t, s, n)).sort() });
  }
}

/** For OrderedReady: pod n is first ADDED only after pod n-1 was reported Ready (and after n-1 was ADDED). */
function assertOrderedCreation(rec: PodRecorder, s: StatefulSetInfo, from: number, to: number): void {
  for (let n = from; n < to; n++) {
    const added = rec.first((e) => e.type === 'ADDED' && e.name === `${s.name}-${n}`);
    expect({ pod: `${s.name}-${n}`, added: added !== undefined }).toEqual({ pod: `${s.name}-${n}`, added: true });
    if (n === from) continue;
    const prevAdded = rec.first((e) => e.type === 'ADDED' && e.name === `${s.name}-${n - 1}`);
    const prevReady = rec.first((e) => e.name === `${s.name}-${n - 1}` && e.ready && e.seq > (prevAdded?.seq ?? -1));
    if (!prevAdded || !prevReady || prevReady.seq > added!.seq) {
      throw new Error(`${s.name}-${n} was ADDED (event ${added!.seq}) before ${s.name}-${n - 1} was Ready ` +
        `(event ${prevReady?.seq ?? 'never'}); OrderedReady was not honoured. Watch record:\n${rec.dump()}`);
    }
  }
}

/** Asserts pods were deleted from the highest ordinal down (DELETED events of the given uids). */
function deletionOrder(rec: PodRecorder, uids: Set<string>): string[] {
  return rec.all((e) => e.type === 'DELETED' && uids.has(e.uid)).map((e) => e.name);
}

const ordinalsDown = (s: StatefulSetInfo, replicas: number) => Array.from({ length: replicas }, (_, i) => `${s.name}-${replicas - 1 - i}`);

/**
 * Cordons (or uncordons) every node, what `kubectl cordon` does (spec.unschedulable), with the
 * patches sent at once: uncordoned one by one, the first free node would take every pending pod.
 */
async function cordonAll(on: boolean): Promise<void> {
  const rs = await Promise.all(nodes.map((n) =>
    request('PATCH', `/api/v1/nodes/${n}`, { spec: { unschedulable: on ? true : null } }, 'application/merge-patch+json')));
  rs.forEach((r, i) => { if (r.status !== 200) throw new Error(`${on ? 'cordon' : 'uncordon'} ${nodes[i]}: HTTP ${r.status}`); });
}

async function scale(ns: string, s: StatefulSetInfo, replicas: number): Promise<void> {
  await kubectlOk(['-n', ns, 'scale', `statefulset/${s.name}`, `--replicas=${replicas}`]);
}

/** The PodDisruptionBudget of the example whose selector is the set's. */
function pdbFor(ex: Example, s: StatefulSetInfo): any {
  return ex.docs.find((d) => d.kind === 'PodDisruptionBudget' &&
    JSON.stringify(d.spec.selector?.matchLabels) === JSON.stringify(s.selector));
}

function evict(ns: string, pod: string, dryRun = false) {
  return request('POST', `${podPath(ns, pod)}/eviction`, {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns },
    ...(dryRun ? { deleteOptions: { dryRun: ['All'] } } : {}),
  });
}

/** The StorageClass a claim template ends up with: its own, or the cluster default. */
function classOf(ex: Example, className: string | undefined): any {
  if (!className) return DEFAULT_CLASS;
  return ex.storageClasses.find((c) => c.metadata.name === className);
}

// ---------------------------------------------------------------------------------------------

describe.each(examples.map((e) => [e.id, e] as [string, Example]))('%s', (_id, ex) => {
  const ns = ex.namespace;
  let applied = false;

  afterAll(async () => {
    await cordonAll(false).catch(() => undefined);
    await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    const pvs = (await get('/api/v1/persistentvolumes')).items
      .filter((pv: any) => pv.spec.claimRef?.namespace === ns || ex.persistentVolumes.some((d) => d.metadata.name === pv.metadata.name))
      .map((pv: any) => pv.metadata.name);
    if (pvs.length) await kubectl(['delete', 'persistentvolume', ...pvs, '--ignore-not-found', '--wait=false']);
    const scs = ex.storageClasses.map((c) => c.metadata.name);
    if (scs.length) await kubectl(['delete', 'storageclass', ...scs, '--ignore-not-found', '--wait=false']);
    // the next example may define a StorageClass of the same name (fast): wait until this one's
    // namespace, claims and volumes are gone, so examples never see each other's objects
    await waitFor(`namespace ${ns} and its volumes deleted`, async () => {
      if (await getOrUndefined(`/api/v1/namespaces/${ns}`)) return false;
      const left = (await get('/api/v1/persistentvolumes')).items.filter((pv: any) => pvs.includes(pv.metadata.name));
      return left.length === 0;
    }, 90_000);
  }, 120_000);

  test('strict server-side dry-run is accepted with no warnings', async () => {
    // a dry-run of namespaced objects needs their namespace: create it for real first
    const nsRun = await kubectlOk(['apply', '--validate=strict', '-f', '-'], toYaml([ex.namespaceDoc]));
    expect(nsRun.stderr).not.toMatch(/warning/i);
    await waitFor(`serviceaccount default in ${ns}`, () => getOrUndefined(`/api/v1/namespaces/${ns}/serviceaccounts/default`));
    const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', ex.file]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).not.toMatch(/Warning:/);
    // one "(server dry run)" line per object
    expect(r.stdout.trim().split('\n').filter((l) => l.endsWith('(server dry run)'))).toHaveLength(ex.docs.length);
  });

  test('PodSecurity admission rejects a root pod with an inline nfs volume in the namespace', async () => {
    const live = await get(`/api/v1/namespaces/${ns}`);
    expect(live.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const bad = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pss-probe', namespace: ns },
      spec: {
        containers: [{
          name: 'root', image: 'busybox:1.36', command: ['sleep', '3600'],
          securityContext: { runAsUser: 0 }, volumeMounts: [{ name: 'share', mountPath: '/share' }],
        }],
        volumes: [{ name: 'share', nfs: { server: 'nfs.example.invalid', path: '/exports' } }],
      },
    };
    const r = await kubectl(['create', '-f', '-'], toYaml([bad]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (Forbidden)');
    expect(r.stderr).toContain('violates PodSecurity "restricted:latest"');
    expect(r.stderr).toMatch(/restricted volume types \(volume "share" uses restricted volume type "nfs"\)/);
    expect(r.stderr).toMatch(/runAsUser=0/);
    expect(await getOrUndefined(podPath(ns, 'pss-probe'))).toBeUndefined();
  });

  test('applies for real: storage first, then the rest; pods start in the order podManagementPolicy says and all become Ready', async () => {
    for (const sec of ex.secrets) {
      const args = ['-n', ns, 'create', 'secret', 'generic', sec.name];
      for (const k of sec.keys) args.push(`--from-literal=${k}=${randomBytes(18).toString('base64')}`);
      await kubectlOk(args);
    }
    if (ex.clusterStorage.length) {
      const r = await kubectlOk(['apply', '--validate=strict', '-f', '-'], toYaml(ex.clusterStorage));
      expect(r.stderr).not.toMatch(/warning/i);
    }
    const parallel = ex.statefulSets.filter((s) => s.podManagementPolicy === 'Parallel');
    // Parallel: with every node cordoned no pod can be scheduled (let alone become Ready), so
    // seeing all of them created proves the controller did not wait for readiness.
    if (parallel.length) await cordonAll(true);
    const rec = await PodRecorder.start(ns);
    try {
      const r = await kubectlOk(['apply', '--validate=strict', '-f', '-'], toYaml(ex.rest));
      expect(r.stderr).not.toMatch(/warning/i);
      applied = true;
      for (const s of parallel) {
        await waitFor(`all ${s.replicas} pods of ${s.name} created while nodes are cordoned`, async () =>
          ordinalsDown(s, s.replicas).every((p) => rec.first((e) => e.type === 'ADDED' && e.name === p)), 60_000,
        async () => rec.dump());
        expect(rec.all((e) => e.ready || !!e.node)).toEqual([]);
        expect((await podsOf(ns, s)).map((p) => p.metadata.name).sort()).toEqual(ordinalsDown(s, s.replicas).sort());
        // control: the ordinal-order check the OrderedReady examples pass fails on this record
        if (s.replicas > 1) expect(() => assertOrderedCreation(rec, s, 0, s.replicas)).toThrow(/OrderedReady was not honoured/);
      }
    } finally {
      if (parallel.length) await cordonAll(false);
    }
    try {
      for (const s of ex.statefulSets) {
        const sts = await waitConverged(ns, s, s.replicas);
        expect(sts.spec.podManagementPolicy).toBe(s.podManagementPolicy);
        if (s.podManagementPolicy === 'OrderedReady') assertOrderedCreation(rec, s, 0, s.replicas);
        await assertPodsUseTheirClaims(ns, s, s.replicas);
      }
    } finally {
      rec.stop();
      trace(`${ns}: applied`, rec);
    }
  });

  test('each claim <template>-<set>-<n> is created and Bound to its volume', async () => {
    expect(applied).toBe(true);
    // pool classes: claims of the example's static volumes, in reservation order
    const poolNext = new Map<string, number>();
    for (const s of ex.statefulSets) {
      await boundClaims(ns, s, s.replicas); // every claim Bound, both ways
      // (templates outer, ordinals inner: the order in which a pool reserves its volumes)
      for (const t of s.claimTemplates) {
        for (let n = 0; n < s.replicas; n++) {
          const name = claimName(t, s, n);
          const pvc = await get(pvcPath(ns, name));
          const pv = await get(pvPath(pvc.spec.volumeName));
          const sc = classOf(ex, t.storageClassName);
          expect(pvc.spec.storageClassName).toBe(t.storageClassName ?? DEFAULT_CLASS.metadata.name);
          const pool = ex.persistentVolumes.filter((v) => v.spec.storageClassName === pvc.spec.storageClassName);
          if (pool.length) {
            // a static pool: its volume i (the name ends in -i) is reserved for its i-th claim, which
            // is ordinal i when one claim template uses the pool (web-nfs-pool: www-web-n -> www-n)
            const i = poolNext.get(pvc.spec.storageClassName) ?? 0;
            poolNext.set(pvc.spec.storageClassName, i + 1);
            const reserved = pool.find((v) => v.metadata.name.endsWith(`-${i}`));
            expect({ claim: name, volume: pvc.spec.volumeName }).toEqual({ claim: name, volume: reserved?.metadata.name });
            expect({ volume: pv.metadata.name, claimRef: pickRef(pv.spec.claimRef) })
              .toEqual({ volume: reserved?.metadata.name, claimRef: { namespace: ns, name, uid: pvc.metadata.uid } });
          } else {
            // a dynamic class: provisioned by the stand-in after the PV controller handed it over
            expect(sc).toBeDefined();
            const pod = await get(podPath(ns, `${s.name}-${n}`));
            expect(pvc.metadata.annotations[PROVISIONER_ANNOTATION]).toBe(sc.provisioner);
            expect(pv.metadata.name).toBe(`pvc-${pvc.metadata.uid}`);
            expect(pv.metadata.annotations[PROVISIONED_BY_ANNOTATION]).toBe(sc.provisioner);
            expect(pv.spec.csi?.driver ?? 'glusterfs').toBe(pv.spec.csi ? sc.provisioner : 'glusterfs');
            expect(pv.spec.capacity.storage).toBe(t.request);
            expect(pv.spec.accessModes).toEqual(t.accessModes);
            expect(pv.spec.storageClassName).toBe(sc.metadata.name);
            expect(pv.spec.persistentVolumeReclaimPolicy).toBe(sc.reclaimPolicy ?? 'Delete');
            if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
              // the volume was made where the scheduler put the first consumer, and pins it there
              expect(pvc.metadata.annotations[SELECTED_NODE_ANNOTATION]).toBe(pod.spec.nodeName);
              const node = await get(`/api/v1/nodes/${pod.spec.nodeName}`);
              expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0])
                .toEqual({ key: ZONE_LABEL, operator: 'In', values: [node.metadata.labels[ZONE_LABEL]] });
            } else {
              expect(pv.spec.nodeAffinity).toBeUndefined();
            }
          }
        }
      }
    }
    expect(provisioner.errors).toEqual([]);
  });

  test('a template change rolls from the highest ordinal to the lowest and the set converges', async () => {
    expect(applied).toBe(true);
    for (const s of ex.statefulSets) {
      const before = await get(stsPath(ns, s.name));
      const claimsBefore = await boundClaims(ns, s, s.replicas);
      const oldPods = await podsOf(ns, s);
      const oldUids = new Set<string>(oldPods.map((p) => p.metadata.uid));
      const rec = await PodRecorder.start(ns);
      let after: any;
      try {
        await kubectlOk(['-n', ns, 'patch', 'statefulset', s.name, '--type=merge', '-p',
          JSON.stringify({ spec: { template: { metadata: { annotations: { [ROLLOUT_ANNOTATION]: new Date().toISOString() } } } } })]);
        await waitFor(`${s.name}: a new update revision`, async () => (await get(stsPath(ns, s.name))).status.updateRevision !== before.status.updateRevision);
        after = await waitConverged(ns, s, s.replicas);
      } finally {
        rec.stop();
      }
      trace(`${ns}: rolling update of ${s.name}`, rec);
      expect(after.status.updateRevision).not.toBe(before.status.updateRevision);
      expect(after.status.currentRevision).toBe(after.status.updateRevision);
      // every old pod was replaced, highest ordinal first
      expect(deletionOrder(rec, oldUids)).toEqual(ordinalsDown(s, s.replicas));
      for (let n = s.replicas - 1; n >= 0; n--) {
        const name = `${s.name}-${n}`;
        const deleted = rec.first((e) => e.type === 'DELETED' && e.name === name && oldUids.has(e.uid))!;
        const added = rec.first((e) => e.type === 'ADDED' && e.name === name && !oldUids.has(e.uid));
        const ready = rec.first((e) => e.name === name && !oldUids.has(e.uid) && e.ready);
        const why = `\nwatch record:\n${rec.dump()}`;
        if (!added || added.seq < deleted.seq) throw new Error(`${name}: no replacement ADDED after its deletion${why}`);
        if (!ready) throw new Error(`${name}: replacement never Ready${why}`);
        expect(added.revision).toBe(after.status.updateRevision);
        if (n > 0) {
          // the next lower ordinal is only touched once this one is back and Ready
          const nextStart = rec.first((e) => e.name === `${s.name}-${n - 1}` && oldUids.has(e.uid) && (e.deleting || e.type === 'DELETED'))!;
          if (nextStart.seq < ready.seq) throw new Error(`${s.name}-${n - 1} was deleted before ${name} was updated and Ready${why}`);
        }
      }
      for (const p of await podsOf(ns, s)) expect(p.metadata.labels['controller-revision-hash']).toBe(after.status.updateRevision);
      // same claims, same volumes
      expect(await boundClaims(ns, s, s.replicas)).toEqual(claimsBefore);
      await assertPodsUseTheirClaims(ns, s, s.replicas);
    }
  });

  test('scaling down keeps the claims; scaling back up reattaches the same claims and volumes', async () => {
    expect(applied).toBe(true);
    for (const s of ex.statefulSets) {
      const pvcCount = (await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items.length;
      const provisionedBefore = provisioner.provisioned.size;
      const before = await boundClaims(ns, s, s.replicas);
      const oldUids = new Set<string>((await podsOf(ns, s)).map((p) => p.metadata.uid));
      const down = await PodRecorder.start(ns);
      try {
        await scale(ns, s, 0);
        await waitConverged(ns, s, 0);
      } finally {
        down.stop();
      }
      trace(`${ns}: ${s.name} scaled to 0`, down);
      if (s.podManagementPolicy === 'OrderedReady') expect(deletionOrder(down, oldUids)).toEqual(ordinalsDown(s, s.replicas));
      else expect(deletionOrder(down, oldUids).sort()).toEqual(ordinalsDown(s, s.replicas).sort());
      // no pod, every claim still there and Bound to the same volume
      expect(await podsOf(ns, s)).toEqual([]);
      expect(await boundClaims(ns, s, s.replicas)).toEqual(before);

      const up = await PodRecorder.start(ns);
      try {
        await scale(ns, s, s.replicas);
        await waitConverged(ns, s, s.replicas);
      } finally {
        up.stop();
      }
      trace(`${ns}: ${s.name} scaled to ${s.replicas}`, up);
      if (s.podManagementPolicy === 'OrderedReady') assertOrderedCreation(up, s, 0, s.replicas);
      expect(await boundClaims(ns, s, s.replicas)).toEqual(before);
      await assertPodsUseTheirClaims(ns, s, s.replicas);
      expect((await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items).toHaveLength(pvcCount);
      expect(provisioner.provisioned.size).toBe(provisionedBefore);
    }
  });

  test('a deleted pod comes back with the same name and the same claims', async () => {
    expect(applied).toBe(true);
    for (const s of ex.statefulSets) {
      const name = `${s.name}-0`;
      const before = await boundClaims(ns, s, s.replicas);
      const old = await get(podPath(ns, name));
      const rec = await PodRecorder.start(ns);
      let pod: any;
      try {
        // --wait=false: the replacement of the same name comes back at once, which can leave
        // kubectl's own wait-for-deletion hanging; the wait below checks the uid instead
        await kubectlOk(['-n', ns, 'delete', 'pod', name, '--wait=false']);
        pod = await waitFor(`${name} recreated and Ready`, async () => {
          const p = await getOrUndefined(podPath(ns, name));
          return p && p.metadata.uid !== old.metadata.uid && podReady(p) ? p : undefined;
        }, 90_000, () => describeSet(ns, s));
        await waitConverged(ns, s, s.replicas);
      } finally {
        rec.stop();
      }
      const deleted = rec.first((e) => e.type === 'DELETED' && e.uid === old.metadata.uid);
      const added = rec.first((e) => e.type === 'ADDED' && e.name === name && e.uid !== old.metadata.uid);
      expect(deleted).toBeDefined();
      expect(added).toBeDefined();
      expect(added!.seq).toBeGreaterThan(deleted!.seq);
      expect(await boundClaims(ns, s, s.replicas)).toEqual(before);
      await assertPodsUseTheirClaims(ns, s, s.replicas);
      // a zonal volume pins the replacement to its zone
      const node = await get(`/api/v1/nodes/${pod.spec.nodeName}`);
      for (const t of s.claimTemplates) {
        const pv = await get(pvPath(before.get(claimName(t, s, 0))!.volume));
        const zone = pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.find((m: any) => m.key === ZONE_LABEL)?.values?.[0];
        if (zone) expect(node.metadata.labels[ZONE_LABEL]).toBe(zone);
      }
    }
  });

  test('an eviction that would break the PodDisruptionBudget is refused with HTTP 429', async () => {
    expect(applied).toBe(true);
    for (const s of ex.statefulSets) {
      const pdb = pdbFor(ex, s);
      expect(pdb).toBeDefined();
      const pdbPath = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${pdb.metadata.name}`;
      // one replica under maxUnavailable 1 may always be evicted: run this with two
      const replicas = Math.max(2, s.replicas);
      if (replicas !== s.replicas) {
        await scale(ns, s, replicas);
        await waitConverged(ns, s, replicas);
      }
      const pdbStatus = (want: (st: any) => boolean) => waitFor(`PDB ${pdb.metadata.name} status`, async () => {
        const p = await get(pdbPath);
        return p.status && p.status.observedGeneration === p.metadata.generation && want(p.status) ? p.status : undefined;
      }, 60_000, async () => JSON.stringify((await get(pdbPath)).status));
      await pdbStatus((st) => st.expectedPods === replicas && st.currentHealthy === replicas && st.disruptionsAllowed >= 1);
      const target = `${s.name}-0`;
      // control: while the budget allows it, the same eviction (dry-run) is accepted
      const allowed = await evict(ns, target, true);
      expect({ status: allowed.status, body: allowed.status === 201 ? 'ok' : allowed.body }).toEqual({ status: 201, body: 'ok' });

      const victim = `${s.name}-${replicas - 1}`;
      const targetUid = (await get(podPath(ns, target))).metadata.uid;
      try {
        // no node takes the replacement of a deleted pod, so it stays Pending and unready
        await cordonAll(true);
        const oldVictim = await get(podPath(ns, victim));
        await kubectlOk(['-n', ns, 'delete', 'pod', victim, '--wait=false']);
        await waitFor(`${victim} recreated and Pending (unschedulable)`, async () => {
          const p = await getOrUndefined(podPath(ns, victim));
          return p && p.metadata.uid !== oldVictim.metadata.uid &&
            (p.status.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False');
        }, 60_000, () => describeSet(ns, s));
        const st = await pdbStatus((x) => x.disruptionsAllowed === 0 && x.currentHealthy === replicas - 1);
        expect(st.expectedPods).toBe(replicas);

        const refused = await evict(ns, target);
        expect(refused.status).toBe(429);
        expect(refused.body.reason).toBe('TooManyRequests');
        expect(refused.body.message).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
        expect(refused.body.details.causes).toContainEqual({
          reason: 'DisruptionBudget',
          message: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently`,
        });
        const still = await get(podPath(ns, target));
        expect({ uid: still.metadata.uid, deleting: !!still.metadata.deletionTimestamp }).toEqual({ uid: targetUid, deleting: false });
      } finally {
        await cordonAll(false);
      }
      await waitConverged(ns, s, replicas);
      if (replicas !== s.replicas) {
        await scale(ns, s, s.replicas);
        await waitConverged(ns, s, s.replicas);
      }
      await pdbStatus((x) => x.currentHealthy === s.replicas && x.expectedPods === s.replicas);
    }
  });

  test('deleting the StatefulSet leaves every claim and volume in place', async () => {
    expect(applied).toBe(true);
    for (const s of ex.statefulSets) {
      // every claim the set ever made (the eviction test may have added ordinal 1)
      const pvcs = (await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items
        // `<template>-<set>-<ordinal>` exactly: another set's name may start with this one's
        .filter((c: any) => s.claimTemplates.some((t) => new RegExp(`^${t.name}-${s.name}-[0-9]+$`).test(c.metadata.name)));
      const ordinals = new Set<number>(pvcs.map((c: any) => Number(c.metadata.name.split('-').pop())));
      const before = await boundClaims(ns, s, Math.max(...ordinals) + 1);
      expect(before.size).toBe(pvcs.length);
      const sts = await get(stsPath(ns, s.name));
      // foreground: the set is gone only after its dependents (pods, and claims it owned) are
      await kubectlOk(['-n', ns, 'delete', 'statefulset', s.name, '--cascade=foreground', '--timeout=90s']);
      await waitFor(`${s.name} deleted`, async () => !(await getOrUndefined(stsPath(ns, s.name))));
      await waitFor(`pods of ${s.name} gone`, async () => (await podsOf(ns, s)).length === 0);
      // and nothing is lost a little later either (garbage collection is asynchronous)
      for (let i = 0; i < 10; i++) {
        const after = await boundClaims(ns, s, Math.max(...ordinals) + 1);
        expect(after).toEqual(before);
        for (const c of (await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items) {
          expect((c.metadata.ownerReferences ?? []).filter((o: any) => o.uid === sts.metadata.uid)).toEqual([]);
        }
        await sleep(300);
      }
    }
  });
});
