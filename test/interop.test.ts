// cdk8s-plus interop: the library accepts what cdk8s-plus's public interfaces promise (no
// `instanceof` on another package's classes), so values from cdk8s-plus-33, which `cdk8s init`
// scaffolds today, work beside the -27 the library is built on; and a StatefulDatabase is a
// cdk8s-plus pod selector and network-policy peer.
import * as kplus from 'cdk8s-plus-27';
import * as kplus33 from 'cdk8s-plus-33';
import { DatabaseEngine, EngineBinding, EngineContext, IEngineBinder, StatefulDatabase } from '../lib';
import { chart, find, schemaErrors, synth } from './util';

const engine = DatabaseEngine.custom({ image: 'postgres:17.2', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });

describe('values from cdk8s-plus-33', () => {
  test('EnvValue and Secret from -33 synthesize like -27 ones', () => {
    const render = (plus: typeof kplus | typeof kplus33) => {
      const c = chart('shop');
      new StatefulDatabase(c, 'db', {
        engine,
        credentials: { secret: plus.Secret.fromSecretName(c, 'creds', 'db-credentials') },
        env: {
          MODE: plus.EnvValue.fromValue('primary'),
          POD: plus.EnvValue.fromFieldRef(plus.EnvFieldPaths.POD_NAME),
          POSTGRES_PASSWORD_FILE: plus.EnvValue.fromValue(`${StatefulDatabase.CREDENTIALS_PATH}/password`),
        },
      });
      return synth(c);
    };
    const with33 = render(kplus33);
    expect(with33).toEqual(render(kplus));
    const sts = find(with33, 'StatefulSet', 'db');
    expect(sts.spec.template.spec.containers[0].env).toEqual([
      { name: 'MODE', value: 'primary' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/db/password' },
    ]);
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'credentials', secret: { secretName: 'db-credentials', defaultMode: 0o440 } });
  });
});

describe('a StatefulDatabase in cdk8s-plus network policies', () => {
  test('deployment.connections.allowTo(db): egress from the deployment, ingress to the members', () => {
    const c = chart('shop');
    const db = new StatefulDatabase(c, 'orders', { engine });
    const api = new kplus.Deployment(c, 'api', { containers: [{ image: 'nginxinc/nginx-unprivileged:1.27.3', portNumber: 8080 }] });
    api.connections.allowTo(db, { ports: [kplus.NetworkPolicyPort.tcp(5432)] });
    const manifests = synth(c);
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'orders');
    const members = { matchLabels: { 'app.kubernetes.io/instance': 'orders' } };
    const inShop = { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } };
    expect(policies.map((p) => p.spec)).toEqual(expect.arrayContaining([
      expect.objectContaining({ egress: [{ to: [{ podSelector: members, namespaceSelector: inShop }], ports: [{ port: 5432, protocol: 'TCP' }] }] }),
      expect.objectContaining({ podSelector: members, ingress: [expect.objectContaining({ ports: [{ port: 5432, protocol: 'TCP' }] })] }),
    ]));
    for (const p of policies) expect(schemaErrors(p)).toEqual([]);
  });

  test('new kplus.NetworkPolicy(chart, np, { selector: db }) selects the members', () => {
    const c = chart('shop');
    const db = new StatefulDatabase(c, 'orders', { engine });
    new kplus.NetworkPolicy(c, 'np', { selector: db });
    const np = synth(c).find((m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'orders');
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': 'orders' } });
    expect(schemaErrors(np)).toEqual([]);
  });
});

describe('no instanceof on another package\'s classes', () => {
  // a second copy of cdk8s, or another cdk8s-plus, makes `x instanceof Theirs` false for a valid x
  test('lib/ never tests a cdk8s, cdk8s-plus or constructs class with instanceof', () => {
    const fs = require('fs') as typeof import('fs');
    const path = require('path') as typeof import('path');
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    const offences: string[] = [];
    for (const file of files(path.join(__dirname, '..', 'lib'))) {
      const text = fs.readFileSync(file, 'utf-8');
      const foreign = new Set<string>();
      for (const m of text.matchAll(/import\s+(?:\*\s+as\s+(\w+)|\{([^}]*)\})\s+from\s+'(cdk8s(?:-plus-\d+)?|constructs)'/g)) {
        if (m[1]) foreign.add(`${m[1]}.`);
        for (const name of (m[2] ?? '').split(',')) if (name.trim()) foreign.add(name.trim().split(/\s+as\s+/).pop()!);
      }
      for (const m of text.matchAll(/instanceof\s+([\w.]+)/g)) {
        const target = m[1];
        if ([...foreign].some((f) => (f.endsWith('.') ? target.startsWith(f) : target === f))) offences.push(`${path.relative(process.cwd(), file)}: instanceof ${target}`);
      }
    }
    expect(offences).toEqual([]);
  });
});

describe('an engine of your own', () => {
  test('its IEngineBinder gets the database\'s shape and adds env and init containers', () => {
    class Binder implements IEngineBinder {
      public contexts: EngineContext[] = [];
      bind(context: EngineContext): EngineBinding {
        this.contexts.push(context);
        return {
          env: { PEERS: kplus.EnvValue.fromValue(context.peerAddresses.join(',')) },
          initContainers: [{ name: 'prepare', image: 'busybox:1.36.1', command: ['true'] }],
        };
      }
    }
    const binder = new Binder();
    const c = chart('shop');
    new StatefulDatabase(c, 'kv', {
      engine: DatabaseEngine.of({ name: 'kv', image: 'redis:7.4.1', ports: [{ name: 'kv', port: 6379 }], binder }),
      replicas: 2,
      credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'kv-credentials') },
    });
    expect(binder.contexts.map((ctx) => [ctx.name, ctx.replicas, ctx.credentialsPath])).toEqual([['kv', 2, '/run/secrets/db']]);
    const pod = find(synth(c), 'StatefulSet', 'kv').spec.template.spec;
    expect(pod.initContainers.map((i: any) => i.name)).toEqual(['prepare']);
    expect(pod.containers[0].env).toContainEqual({ name: 'PEERS', value: 'kv-0.kv-headless.shop.svc.cluster.local,kv-1.kv-headless.shop.svc.cluster.local' });
  });
});
