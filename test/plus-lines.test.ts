// Every cdk8s-plus line's objects where the library takes a workload, a pod selector, a network
// peer or a Secret: cdk8s-plus-27 (the library's own) and -33 (what `cdk8s init` scaffolds),
// whose classes TypeScript keeps apart (LabelSelector has private fields). The selectors are
// compared with the labels the synthesized workloads carry, not with what the library computed.
// The bug was one of types (at run time every line's objects always had the shape): `npm test`
// runs tsc over test/ before jest, and the typed calls below fail it when a shape does not fit.
import * as kplus27 from 'cdk8s-plus-27';
import * as kplus33 from 'cdk8s-plus-33';
import { DatabaseEngine, IPodSelectorLike, StatefulDatabase } from '../lib';
import { chart, find, schemaErrors, synth } from './util';

const engine = DatabaseEngine.custom({ image: 'postgres:17.2', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });
const image = 'nginxinc/nginx-unprivileged:1.27.3';
const members = { matchLabels: { 'app.kubernetes.io/instance': 'orders' } };
const inShop = { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } };

/** The pod labels a synthesized workload's template carries. */
const templateLabels = (manifests: any[], kind: string, name: string) => find(manifests, kind, name).spec.template.metadata.labels;

/** The client rule of the database's own policy: who may reach the client ports. */
const clientsOf = (manifests: any[]) => find(manifests, 'NetworkPolicy', 'orders').spec.ingress[1];

describe.each([
  ['cdk8s-plus-27', kplus27],
  ['cdk8s-plus-33', kplus33],
] as Array<[string, typeof kplus27 | typeof kplus33]>)('objects of %s', (_line, kplus) => {
  const setup = () => {
    const c = chart('shop');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'orders-credentials');
    const db = new StatefulDatabase(c, 'orders', { engine, credentials: { secret }, imagePullSecrets: [kplus.Secret.fromSecretName(c, 'pull', 'registry-login')] });
    const api = new kplus.Deployment(c, 'api', { containers: [{ image, portNumber: 8080 }] });
    const worker = new kplus.StatefulSet(c, 'worker', { containers: [{ image, portNumber: 8080 }] });
    return { c, db, api, worker };
  };

  test('their workloads are IPodSelectorLike, and the database a peer and pod selector of both lines', () => {
    // typed assignments: a shape that does not fit fails tsc in `npm test`
    const { db, api, worker } = setup();
    const selectors: IPodSelectorLike[] = [api, worker, db];
    const peers: [kplus27.INetworkPolicyPeer, kplus33.INetworkPolicyPeer] = [db, db];
    const podSelectors: [kplus27.IPodSelector, kplus33.IPodSelector] = [db, db];
    expect(selectors.map((s) => s.toPodSelectorConfig().labelSelector._toKube().matchLabels)).toEqual([
      api.matchLabels,
      worker.matchLabels,
      members.matchLabels,
    ]);
    expect(peers.map((p) => p.toPodSelector())).toEqual([db, db]);
    expect(podSelectors.map((p) => p.toPodSelectorConfig().namespaces)).toEqual([{ names: ['shop'] }, { names: ['shop'] }]);
  });

  test('db.connections.allowFrom(Deployment | StatefulSet) lets in exactly the pods they run', () => {
    const { c, db, api, worker } = setup();
    db.connections!.allowFrom(api);
    db.connections!.allowFrom(worker);
    const manifests = synth(c);
    const from = clientsOf(manifests).from;
    expect(from).toEqual([
      { podSelector: { matchLabels: expect.any(Object) }, namespaceSelector: inShop },
      { podSelector: { matchLabels: expect.any(Object) }, namespaceSelector: inShop },
    ]);
    // each selector matches its workload's pods and not the other's
    const [apiPods, workerPods] = [templateLabels(manifests, 'Deployment', api.name), templateLabels(manifests, 'StatefulSet', worker.name)];
    const matches = (selector: any, labels: any) => Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
    expect([matches(from[0].podSelector, apiPods), matches(from[0].podSelector, workerPods)]).toEqual([true, false]);
    expect([matches(from[1].podSelector, workerPods), matches(from[1].podSelector, apiPods)]).toEqual([true, false]);
    expect(clientsOf(manifests).ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
  });

  test('db.connections.allowFrom(Pods.select in a namespace) keeps its labels and namespace', () => {
    const { c, db } = setup();
    // one line's Pods and Namespaces together: typed as -33's, as the union of both modules' types cannot be
    const k = kplus as typeof kplus33;
    db.connections!.allowFrom(k.Pods.select(c, 'reporting', {
      labels: { app: 'reporting' }, namespaces: k.Namespaces.select(c, 'analytics', { names: ['analytics'] }),
    }));
    expect(clientsOf(synth(c)).from).toEqual([
      { podSelector: { matchLabels: { app: 'reporting' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'analytics' } } },
    ]);
  });

  test('allowTo(db), allowFrom(db) and NetworkPolicy({ selector: db }) of the line select the database\'s pods', () => {
    const { c, db, api, worker } = setup();
    api.connections.allowTo(db); // api -> db
    worker.connections.allowFrom(db); // db -> worker
    new kplus.NetworkPolicy(c, 'np', { selector: db });
    const manifests = synth(c);
    expect(templateLabels(manifests, 'StatefulSet', 'orders')).toEqual(expect.objectContaining(members.matchLabels));
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'orders');
    const dbAsPeer = { podSelector: members, namespaceSelector: inShop };
    const egressTo = policies.flatMap((p) => p.spec.egress ?? []).flatMap((r: any) => r.to);
    const ingressFrom = policies.flatMap((p) => p.spec.ingress ?? []).flatMap((r: any) => r.from);
    expect(egressTo).toContainEqual(dbAsPeer); // api's egress to the database, and the database's to worker
    expect(ingressFrom).toContainEqual(dbAsPeer); // worker's ingress from the database
    const selectingDb = policies.filter((p) => JSON.stringify(p.spec.podSelector) === JSON.stringify(members));
    expect(selectingDb.map((p) => p.metadata.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^allowingress/), expect.stringMatching(/^allowegress/), expect.stringMatching(/np/)]));
    for (const p of policies) expect(schemaErrors(p)).toEqual([]);
  });

  test('Secrets: the credentials volume and imagePullSecrets name them', () => {
    const { c } = setup();
    const pod = find(synth(c), 'StatefulSet', 'orders').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'credentials', secret: { secretName: 'orders-credentials', defaultMode: 0o440 } });
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-login' }]);
  });

  test('a database is a pod selector for another database\'s policy', () => {
    const { c, db } = setup();
    const cache = new StatefulDatabase(c, 'cache', { engine });
    cache.connections!.allowFrom(db);
    expect(find(synth(c), 'NetworkPolicy', 'cache').spec.ingress[1].from).toEqual([{ podSelector: members, namespaceSelector: inShop }]);
  });
});

test('both lines render the same policy for the same app', () => {
  const render = (kplus: typeof kplus27 | typeof kplus33) => {
    const c = chart('shop');
    const db = new StatefulDatabase(c, 'orders', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'orders-credentials') } });
    db.connections!.allowFrom(kplus.Pods.select(c, 'api', { labels: { app: 'api' } }));
    return synth(c).filter((m) => m.metadata.name === 'orders');
  };
  expect(render(kplus33)).toEqual(render(kplus27));
});
