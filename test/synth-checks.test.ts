import { App, Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DatabaseEngine, HealthProbe, NfsPersistentVolumePool, StatefulConfigError, StatefulDatabase, StorageClassFast, StorageProvider, SynthChecks } from '../lib';
import { findLiteralCredential } from '../lib/database/private/credential-scan';
import { quantityValue } from '../lib/database/private/container-resources';
import { app, chart, find, synth } from './util';

const engine = DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });
const quorum = DatabaseEngine.of({ name: 'zk', image: 'zookeeper:3.9.3', quorum: true,
  ports: [{ name: 'client', port: 2181 }, { name: 'peer', port: 2888, peer: true }] });

/** Runs `fn` with stderr captured; returns what it wrote. */
function stderrOf(fn: () => void): string {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: any) => { text += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = original;
  }
  return text;
}

describe('warnings', () => {
  test('an even quorum is printed once on stderr during synth, with the construct path, however often charts are synthesized', () => {
    const a = app();
    const c1 = new Chart(a, 'one', { disableResourceNameHashes: true });
    const c2 = new Chart(a, 'two', { disableResourceNameHashes: true });
    const zk = new StatefulDatabase(c1, 'zk', { engine: quorum, replicas: 4 });
    new StatefulDatabase(c2, 'db', { engine });
    const construction = stderrOf(() => undefined);
    expect(construction).toBe('');
    const printed = stderrOf(() => { Testing.synth(c1); Testing.synth(c2); Testing.synth(c1); });
    expect(printed).toBe(`[warning] StatefulDatabase 'one/zk': ${zk.warnings[0].split(': ').slice(1).join(': ')}\n`);
    expect(printed).toMatch(/4 members form a quorum of 3/);
  });

  test('npx cdk8s synth path: App.synth prints each warning once', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-warn-'));
    try {
      const a = new App({ outdir });
      const c = new Chart(a, 'c', { disableResourceNameHashes: true });
      new StatefulDatabase(c, 'zk', { engine: quorum, replicas: 2 });
      const printed = stderrOf(() => a.synth());
      expect(printed.split('\n').filter((l) => l !== '')).toEqual([expect.stringMatching(/^\[warning\] StatefulDatabase 'c\/zk': 2 members form a quorum of 2/)]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('the real `cdk8s synth` CLI prints the warning once on stderr; in strict mode it fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-cli-'));
    const root = path.join(__dirname, '..');
    try {
      // the app uses the compiled library (npm test compiles before jest runs)
      fs.writeFileSync(path.join(dir, 'app.js'), [
        "const { App, Chart } = require('cdk8s');",
        `const lib = require(${JSON.stringify(path.join(root, 'out', 'lib'))});`,
        'const app = new App();',
        "const c = new Chart(app, 'zk', { namespace: 'zk', disableResourceNameHashes: true });",
        "new lib.StatefulDatabase(c, 'zk', { engine: lib.DatabaseEngine.zookeeper(), replicas: 4 });",
        'app.synth();',
      ].join('\n'));
      fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node app.js\n');
      const cli = path.join(root, 'node_modules', '.bin', 'cdk8s');
      const run = (env: NodeJS.ProcessEnv) => spawnSync(cli, ['synth', '--check-upgrade=false'], {
        cwd: dir, encoding: 'utf-8', env: { ...process.env, NODE_PATH: path.join(root, 'node_modules'), ...env },
      });
      const plain = run({ CDK8S_STATEFUL_STRICT: '' });
      expect(plain.status).toBe(0);
      expect(plain.stderr.match(/\[warning\] StatefulDatabase 'zk\/zk': 4 members form a quorum of 3/g)).toHaveLength(1);
      expect(fs.existsSync(path.join(dir, 'dist', 'zk.k8s.yaml'))).toBe(true);
      const strict = run({ CDK8S_STATEFUL_STRICT: 'true' });
      expect(strict.status).not.toBe(0);
      expect(strict.stderr).toMatch(/StatefulConfigError: StatefulDatabase 'zk\/zk': 4 members form a quorum of 3.*refused in strict mode/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('no warning, nothing printed', () => {
    const c = chart();
    new StatefulDatabase(c, 'zk', { engine: quorum, replicas: 3 });
    expect(stderrOf(() => synth(c))).toBe('');
  });

  test('strict mode from the environment turns the warning into the library error', () => {
    const c = chart();
    new StatefulDatabase(c, 'zk', { engine: quorum, replicas: 4 });
    process.env.CDK8S_STATEFUL_STRICT = 'true';
    try {
      expect(() => synth(c)).toThrow(StatefulConfigError);
      expect(() => synth(c)).toThrow(/^StatefulDatabase 'test\/zk': 4 members form a quorum of 3.*refused in strict mode/);
    } finally {
      delete process.env.CDK8S_STATEFUL_STRICT;
    }
    expect(SynthChecks.isStrict(c)).toBe(false);
    stderrOf(() => expect(() => synth(c)).not.toThrow());
  });
});

describe('duplicates across the App', () => {
  test('one name in two namespaces, and distinct names in one, are fine', () => {
    const a = app();
    const x = new Chart(a, 'x', { namespace: 'x', disableResourceNameHashes: true });
    const y = new Chart(a, 'y', { namespace: 'y', disableResourceNameHashes: true });
    new StatefulDatabase(x, 'orders', { engine });
    new StatefulDatabase(y, 'orders', { engine });
    new StatefulDatabase(y, 'orders-b', { engine });
    expect(() => Testing.synth(x)).not.toThrow();
  });

  test('cluster-scoped objects collide across namespaces; the error names both paths', () => {
    const a = app();
    const x = new Chart(a, 'x', { namespace: 'x', disableResourceNameHashes: true });
    const y = new Chart(a, 'y', { namespace: 'y', disableResourceNameHashes: true });
    new StorageClassFast(x, 'fast', { provider: StorageProvider.gce() });
    new NfsPersistentVolumePool(y, 'fast', { server: 'nfs', basePath: '/e', name: 'fast', volumes: 1 });
    new StorageClassFast(y, 'ssd', { provider: StorageProvider.gce(), name: 'fast' });
    expect(() => Testing.synth(x)).toThrow("StorageClass 'y/ssd/Resource': StorageClass 'fast' is also written by 'x/fast/Resource'");
  });

  test('an object of the user\'s own (not the library\'s) is compared too', () => {
    const c = chart('ns');
    new StatefulDatabase(c, 'db', { engine });
    new kplus.ConfigMap(c, 'cm', { metadata: { name: 'db-scripts' } });
    new kplus.Service(c, 'svc', { metadata: { name: 'db' }, ports: [{ port: 80 }] });
    expect(() => synth(c)).toThrow(/^Service 'test\/svc\/Resource': Service 'db' in namespace 'ns' is also written by 'test\/db\/Client'/);
  });
});

describe('resources', () => {
  const resourcesOf = (props: any) => {
    const c = chart();
    new StatefulDatabase(c, 'db', { engine, ...props });
    return find(synth(c), 'StatefulSet').spec.template.spec;
  };

  test('giving one field keeps the defaults of the others', () => {
    const spec = resourcesOf({ resources: { cpu: { request: kplus.Cpu.millis(500) } } });
    expect(spec.containers[0].resources).toEqual({
      requests: { 'cpu': '500m', 'memory': '512Mi', 'ephemeral-storage': '64Mi' },
      limits: { 'cpu': '1', 'memory': '1Gi', 'ephemeral-storage': '1Gi' },
    });
  });

  test('init containers get their own resources, not the database container\'s', () => {
    const spec = resourcesOf({
      resources: { memory: { request: Size.gibibytes(4), limit: Size.gibibytes(8) } },
      initContainers: [
        { name: 'plain', image: 'busybox:1.36.1' },
        { name: 'sized', image: 'busybox:1.36.1', resources: { memory: { limit: Size.mebibytes(768) } } },
      ],
    });
    expect(spec.containers[0].resources.limits.memory).toBe('8Gi');
    expect(spec.initContainers.map((c: any) => [c.name, c.resources.requests.memory, c.resources.limits.memory]))
      .toEqual([['plain', '512Mi', '1Gi'], ['sized', '512Mi', '768Mi']]);
  });

  test('a request equal to its limit is fine; quantities compare by value', () => {
    expect(() => resourcesOf({ resources: { cpu: { request: kplus.Cpu.units(1), limit: kplus.Cpu.millis(1000) } } })).not.toThrow();
    expect([quantityValue('250m'), quantityValue('1'), quantityValue('1Gi'), quantityValue('1G'), quantityValue('x')])
      .toEqual([0.25, 1, 2 ** 30, 1e9, NaN]);
  });
});

describe('literal credential scan', () => {
  test.each([
    ['a reference to the mounted Secret', ['sh', '-c', 'redis-cli -a "$(cat /run/secrets/db/password)" ping']],
    ['a variable', ['mysqladmin', '-uroot', '-p$MYSQL_PWD', 'ping']],
    ['a URL without a password', ['curl', 'https://user@example.com/x']],
    ['a port flag of redis-cli', ['redis-cli', '-p', '6379', 'ping']],
    ['a password file flag', ['pg_basebackup', '--password-file', '/run/secrets/db/password']],
    ['a boolean --auth flag', ['mongod', '--auth', '--bind_ip_all']],
    ['an authentication method', ['initdb', '--auth=scram-sha-256', '-D', '/data']],
    ['a *_FILE assignment', ['env', 'POSTGRES_PASSWORD_FILE=/run/secrets/db/password', 'postgres']],
    ['a bypass flag', ['tool', '--bypass', 'yes']],
  ])('passes %s', (_, words) => {
    expect(findLiteralCredential(words)).toBeUndefined();
  });

  test.each([
    ['--requirepass hunter2', ['redis-server', '--requirepass', 'hunter2'], "the password flag '--requirepass'"],
    ['--token=abc', ['kubectl', '--token=abc', 'get', 'pods'], "the password flag '--token'"],
    ['a URL with a password inside a script', ['sh', '-c', 'psql "postgres://app:hunter2@db/app"'], 'a URL with a password'],
    ['a Redis directive', ['sh', '-c', 'echo "requirepass hunter2" >> /etc/redis.conf'], "the Redis directive 'requirepass'"],
    ['MYSQL_PWD=', ['sh', '-c', 'MYSQL_PWD=hunter2 mysql -e "select 1"'], "the assignment 'MYSQL_PWD='"],
  ])('finds %s', (_, words, found) => {
    expect(findLiteralCredential(words)).toContain(found);
  });

  test('the presets pass: their commands, args and probes read the Secret at run time', () => {
    const c = chart();
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'creds');
    for (const [name, e] of Object.entries({ mysql: DatabaseEngine.mysql(), galera: DatabaseEngine.mariadbGalera(),
      pg: DatabaseEngine.postgresql(), redis: DatabaseEngine.redis(), zk: DatabaseEngine.zookeeper() })) {
      expect(() => new StatefulDatabase(c, name, { engine: e, credentials: { secret } })).not.toThrow();
    }
    expect(() => new StatefulDatabase(c, 'probe', { engine,
      readinessProbe: HealthProbe.command(['sh', '-c', 'PGPASSWORD="$(cat /run/secrets/db/password)" pg_isready']) })).not.toThrow();
  });
});
