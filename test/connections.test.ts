import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulConfigError, StatefulDatabase } from '../lib';
import { chart, find, synth } from './util';

const engine = DatabaseEngine.custom({
  image: 'mariadb:11.4.4',
  ports: [{ name: 'mysql', port: 3306 }, { name: 'gcomm', port: 4567, peer: true }],
  runAsUser: 999,
});

describe('Connections (NetworkPolicy)', () => {
  test('defaults: members talk on every port, nobody else gets in, egress to peers and DNS only', () => {
    const c = chart('db');
    new StatefulDatabase(c, 'galera', { engine });
    const policy = find(synth(c), 'NetworkPolicy', 'galera');
    const members = { podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'galera' } } };
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'galera' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [members], ports: [{ port: 3306, protocol: 'TCP' }, { port: 4567, protocol: 'TCP' }] }],
      egress: [
        { to: [members], ports: [{ port: 3306, protocol: 'TCP' }, { port: 4567, protocol: 'TCP' }] },
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
        },
      ],
    });
  });

  test('allowFrom a cdk8s-plus workload opens the client port only, to that workload', () => {
    const c = chart('db');
    const db = new StatefulDatabase(c, 'galera', { engine });
    const api = new kplus.Deployment(c, 'api', { containers: [{ image: 'example/api:1.0.0' }] });
    db.connections!.allowFrom(api);
    const ingress = find(synth(c), 'NetworkPolicy').spec.ingress;
    expect(ingress[1].ports).toEqual([{ port: 3306, protocol: 'TCP' }]);
    expect(ingress[1].from[0].podSelector.matchLabels).toEqual(api.toPodSelectorConfig().labelSelector._toKube().matchLabels);
  });

  test('allowFromLabels, optionally from other namespaces', () => {
    const c = chart('db');
    const db = new StatefulDatabase(c, 'galera', { engine });
    db.connections!.allowFromLabels({ app: 'shop' }, { 'kubernetes.io/metadata.name': 'shop' });
    expect(find(synth(c), 'NetworkPolicy').spec.ingress[1]).toEqual({
      from: [{ podSelector: { matchLabels: { app: 'shop' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }],
      ports: [{ port: 3306, protocol: 'TCP' }],
    });
  });

  test('networkPolicy: false emits none', () => {
    const c = chart();
    const db = new StatefulDatabase(c, 'galera', { engine, networkPolicy: false });
    expect(synth(c).filter((m) => m.kind === 'NetworkPolicy')).toEqual([]);
    expect(db.connections).toBeUndefined();
  });

  test('fails when allowFromLabels would open the port to every pod', () => {
    const c = chart();
    const db = new StatefulDatabase(c, 'galera', { engine });
    expect(() => db.connections!.allowFromLabels({})).toThrow(new StatefulConfigError(db.connections!, 'Connections',
      'allowFromLabels got no pod labels: that would open the client ports to every pod of the namespace. Fix: give the labels of the client pods.'));
  });
});
