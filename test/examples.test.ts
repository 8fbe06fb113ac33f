import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { examplesApp } from '../examples/main';
import { schemaErrors } from './util';

const DIST = path.join(__dirname, '..', 'dist');

/** Synthesizes the examples into `dir`, compared with dist/ as `npm run synth` compares them (docs/plan.md). */
function synthTo(dir: string): Map<string, string> {
  const app = examplesApp(dir, { baselineDir: DIST });
  app.synth();
  return new Map(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf-8')]));
}

describe('examples', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-'));
  const fresh = synthTo(path.join(tmp, 'a'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('dist/ equals a fresh synth of the examples (run `npm run synth` and commit dist/)', () => {
    const committed = new Map(fs.readdirSync(DIST).sort().map((f) => [f, fs.readFileSync(path.join(DIST, f), 'utf-8')]));
    expect([...committed.keys()]).toEqual([...fresh.keys()]);
    for (const [file, text] of fresh) expect({ file, text: committed.get(file) }).toEqual({ file, text });
  });

  test('the same app synthesizes byte-identical YAML twice', () => {
    const again = synthTo(path.join(tmp, 'b'));
    expect([...again.entries()]).toEqual([...fresh.entries()]);
  });

  test('one chart per scenario of domain.md, PostgreSQL with Patroni, PostgreSQL with backups (also with Patroni), Redis with backups, MariaDB Galera with backups, MySQL with backups and ZooKeeper with backups', () => {
    expect([...fresh.keys()]).toEqual([
      'galera.k8s.yaml', 'mariadb-galera-backup.k8s.yaml', 'mariadb.k8s.yaml', 'monitored-galera.k8s.yaml', 'mysql-backup.k8s.yaml', 'postgresql-backup.k8s.yaml', 'postgresql-ha-backup.k8s.yaml', 'postgresql-ha.k8s.yaml', 'redis-backup.k8s.yaml', 'springboot-web.k8s.yaml',
      'storage-tiers.k8s.yaml', 'web-nfs-pool.k8s.yaml', 'zookeeper-backup.k8s.yaml', 'zookeeper.k8s.yaml',
    ]);
  });

  const manifests = [...fresh.entries()].flatMap(([file, text]) =>
    parseAllDocuments(text).map((d) => [file, d.toJS()] as [string, any]));

  test.each(manifests.map(([file, m]) => [`${file} ${m.kind}/${m.metadata.name}`, m]))(
    '%s is valid against the Kubernetes 1.27 schema', (_, m) => {
      expect(schemaErrors(m)).toEqual([]);
    });

  test('the schema check can fail: an unknown field and a wrong type are reported', () => {
    const sts = manifests.map(([, m]) => m).find((m) => m.kind === 'StatefulSet');
    const broken = JSON.parse(JSON.stringify(sts));
    broken.spec.replicas = 'three';
    broken.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const errors = schemaErrors(broken);
    expect(errors.join('\n')).toMatch(/\/spec\/replicas must be integer/);
    expect(errors.join('\n')).toMatch(/must NOT have additional properties.*imagePullPolicyy/);
  });

  test('cluster-scoped objects carry no namespace, namespaced ones carry their chart\'s', () => {
    for (const [file, m] of manifests) {
      const clusterScoped = ['Namespace', 'PersistentVolume', 'StorageClass'].includes(m.kind);
      expect({ file, kind: m.kind, namespace: m.metadata.namespace !== undefined }).toEqual({ file, kind: m.kind, namespace: !clusterScoped });
    }
  });
});
