import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, HealthProbe, PostgresVersion, StatefulDatabase } from '../lib';
import { withRegistry } from '../lib/database/private/resolve-containers';
import { chart, find, schemaErrors, synth } from './util';

const engine = DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });

/** The manifests of one database, each checked against the Kubernetes 1.27 schema. */
function render(props: any, build?: (db: StatefulDatabase) => void): any[] {
  const c = chart('shop');
  const db = new StatefulDatabase(c, 'db', { engine, ...props });
  build?.(db);
  const manifests = synth(c);
  for (const m of manifests) expect(schemaErrors(m)).toEqual([]);
  return manifests;
}
const podSpec = (manifests: any[]) => find(manifests, 'StatefulSet').spec.template.spec;

describe('pod placement and identity', () => {
  test('nodeSelector, tolerations, priorityClassName, an existing service account, image pull secrets', () => {
    const c = chart('shop');
    const pull = kplus.Secret.fromSecretName(c, 'pull', 'registry-login');
    const db = new StatefulDatabase(c, 'db', {
      engine,
      nodeSelector: { 'node-role/db': 'true' },
      tolerations: [
        { key: 'dedicated', value: 'db', effect: kplus.TaintEffect.NO_SCHEDULE },
        { key: 'node.kubernetes.io/unreachable', effect: kplus.TaintEffect.NO_EXECUTE, evictAfter: Duration.minutes(5) },
        {},
      ],
      priorityClassName: 'databases',
      serviceAccountName: 'orders-identity',
      imagePullSecrets: [pull],
    });
    const manifests = synth(c);
    manifests.forEach((m) => expect(schemaErrors(m)).toEqual([]));
    const spec = podSpec(manifests);
    expect(spec.nodeSelector).toEqual({ 'node-role/db': 'true' });
    expect(spec.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { operator: 'Exists' },
    ]);
    expect(spec.priorityClassName).toBe('databases');
    expect(spec.serviceAccountName).toBe('orders-identity');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.imagePullSecrets).toEqual([{ name: 'registry-login' }]);
    expect(db.serviceAccount).toBeUndefined();
    expect(manifests.some((m) => m.kind === 'ServiceAccount')).toBe(false);
  });

  test('an existing service account with an engine that uses the API: its Role is bound to that account, none is created', () => {
    const c = chart('shop');
    new StatefulDatabase(c, 'db', {
      engine: DatabaseEngine.postgresql(),
      replicas: 3,
      credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'db-credentials') },
      serviceAccountName: 'orders-identity',
    });
    const manifests = synth(c);
    manifests.forEach((m) => expect(schemaErrors(m)).toEqual([]));
    expect(manifests.some((m) => m.kind === 'ServiceAccount')).toBe(false);
    const spec = podSpec(manifests);
    expect(spec.serviceAccountName).toBe('orders-identity');
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(find(manifests, 'Role', 'db').rules.map((r: any) => r.verbs)).toEqual([['get'], ['create']]);
    expect(find(manifests, 'RoleBinding', 'db')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'db' },
      subjects: [{ kind: 'ServiceAccount', name: 'orders-identity', namespace: 'shop' }],
    });
  });

  test('createServiceAccount: a ServiceAccount <name> without a token, used by the pods', () => {
    const manifests = render({ createServiceAccount: true });
    expect(find(manifests, 'ServiceAccount', 'db')).toEqual({
      apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'db', namespace: 'shop' }, automountServiceAccountToken: false,
    });
    expect(podSpec(manifests).serviceAccountName).toBe('db');
  });

  test('by default: none of them is written', () => {
    const spec = podSpec(render({}));
    for (const key of ['nodeSelector', 'tolerations', 'priorityClassName', 'serviceAccountName', 'imagePullSecrets']) {
      expect(spec[key]).toBeUndefined();
    }
  });
});

describe('images from a mirror', () => {
  test.each([
    ['postgres:17.2', 'mirror.example.com', 'mirror.example.com/library/postgres:17.2'],
    ['bitnami/redis:7.4.1', 'harbor.local/dockerhub', 'harbor.local/dockerhub/bitnami/redis:7.4.1'],
    ['quay.io/org/img@sha256:abc', 'mirror:5000', 'mirror:5000/org/img@sha256:abc'],
    ['localhost/img:1', 'mirror', 'mirror/img:1'],
  ])('%s from %s is %s', (image, registry, expected) => {
    expect(withRegistry(image, registry)).toBe(expected);
  });

  test('a preset: the database and the engine\'s init containers come from the mirror, the user\'s init containers as written', () => {
    const c = chart('shop');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'creds');
    new StatefulDatabase(c, 'pg', {
      engine: DatabaseEngine.postgresql({ version: PostgresVersion.VER_17_2 }),
      replicas: 2,
      credentials: { secret },
      imageRegistry: 'mirror.example.com/hub',
      initContainers: [{ name: 'mine', image: 'busybox:1.36.1' }],
    });
    const spec = podSpec(synth(c));
    expect(spec.containers[0].image).toBe('mirror.example.com/hub/library/postgres:17.2');
    const inits = spec.initContainers.map((i: any) => [i.name, i.image]);
    expect(inits[inits.length - 1]).toEqual(['mine', 'busybox:1.36.1']);
    for (const [name, image] of inits.slice(0, -1)) expect({ name, image }).toEqual({ name, image: expect.stringMatching(/^mirror\.example\.com\/hub\//) });
  });
});

describe('labels, annotations, Services, probes, budget, DNS egress', () => {
  test('extra pod labels and annotations; the selector is unchanged', () => {
    const manifests = render({ podLabels: { team: 'payments' }, podAnnotations: { 'prometheus.io/scrape': 'true' } });
    const sts = find(manifests, 'StatefulSet');
    expect(sts.spec.template.metadata).toEqual({
      labels: { 'team': 'payments', 'app.kubernetes.io/instance': 'db', 'app.kubernetes.io/name': 'custom', 'app.kubernetes.io/managed-by': 'cdk8s-stateful' },
      annotations: { 'prometheus.io/scrape': 'true' },
    });
    expect(sts.metadata.labels.team).toBe('payments');
    expect(sts.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': 'db' } });
  });

  test('a LoadBalancer client Service with annotations; the read Service stays ClusterIP', () => {
    const c = chart('shop');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'creds');
    const db = new StatefulDatabase(c, 'pg', {
      engine: DatabaseEngine.postgresql(), credentials: { secret },
      clientServiceType: kplus.ServiceType.LOAD_BALANCER,
      clientServiceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' },
    });
    db.connections!.allowFromCidr('10.0.0.0/8');
    const manifests = synth(c);
    manifests.forEach((m) => expect(schemaErrors(m)).toEqual([]));
    const client = find(manifests, 'Service', 'pg');
    expect(client.spec.type).toBe('LoadBalancer');
    expect(client.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' });
    expect(find(manifests, 'Service', 'pg-read').spec.type).toBe('ClusterIP');
    expect(find(manifests, 'Service', 'pg-read').metadata.annotations).toBeUndefined();
    expect(find(manifests, 'NetworkPolicy').spec.ingress[1]).toEqual({ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 5432, protocol: 'TCP' }] });
  });

  test('a startup probe', () => {
    const spec = podSpec(render({ startupProbe: HealthProbe.tcp(5432, { period: Duration.seconds(10), failureThreshold: 60 }) }));
    expect(spec.containers[0].startupProbe).toEqual({ tcpSocket: { port: 5432 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 60 });
  });

  test('podDisruptionBudget: false writes none', () => {
    let db!: StatefulDatabase;
    const manifests = render({ podDisruptionBudget: false }, (d) => { db = d; });
    expect(manifests.some((m) => m.kind === 'PodDisruptionBudget')).toBe(false);
    expect(db.podDisruptionBudget).toBeUndefined();
  });

  test('the DNS egress target: default kube-dns, other labels and port, or a node-local cache address', () => {
    const dnsRule = (props: any) => find(render(props), 'NetworkPolicy').spec.egress[1];
    expect(dnsRule({})).toEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
    });
    expect(dnsRule({ dnsEgress: { namespaceLabels: { 'kubernetes.io/metadata.name': 'openshift-dns' }, podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' }, port: 5353 } })).toEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openshift-dns' } }, podSelector: { matchLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } } }],
      ports: [{ port: 5353, protocol: 'UDP' }, { port: 5353, protocol: 'TCP' }],
    });
    expect(dnsRule({ dnsEgress: { cidr: '169.254.20.10/32' } }).to).toEqual([{ ipBlock: { cidr: '169.254.20.10/32' } }]);
  });

  test('clients from every namespace: the selector the API server stores ({}), not { matchLabels: {} }', () => {
    const policy = find(render({}, (db) => {
      db.connections!.allowFromLabels({ app: 'api' }, {});
      const scope = db.node.scope!;
      db.connections!.allowFrom(kplus.Pods.all(scope, 'every-pod', { namespaces: kplus.Namespaces.all(scope, 'every-ns') }));
    }), 'NetworkPolicy');
    expect(policy.spec.ingress[1].from).toEqual([
      { podSelector: { matchLabels: { app: 'api' } }, namespaceSelector: {} },
      { podSelector: {}, namespaceSelector: {} },
    ]);
  });
});
