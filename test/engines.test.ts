import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseEngine, MariaDbVersion, MysqlVersion, PodManagementPolicy, PostgresVersion, RedisVersion, StatefulConfigError,
  StatefulDatabase, StatefulDatabaseProps, ZooKeeperVersion,
} from '../lib';
import { chart, find, schemaErrors, synth } from './util';

const SCRIPTS = path.join(__dirname, '..', 'lib', 'database', 'engines', 'scripts');

function build(engine: DatabaseEngine, props: Partial<StatefulDatabaseProps> = {}, credentials = true) {
  const c = chart('data');
  const secret = kplus.Secret.fromSecretName(c, 'creds', 'db-credentials');
  const db = new StatefulDatabase(c, 'db', { engine, ...(credentials ? { credentials: { secret } } : {}), ...props });
  const m = synth(c);
  const sts = find(m, 'StatefulSet');
  return { db, m, sts, pod: sts.spec.template.spec };
}

const env = (container: any, name: string) => container.env?.find((e: any) => e.name === name);
const secretRef = (key: string) => ({ valueFrom: { secretKeyRef: { name: 'db-credentials', key } } });

const presets: [string, () => DatabaseEngine, string, number][] = [
  ['mysql', () => DatabaseEngine.mysql(), 'mysql:8.4.3', 999],
  ['mariadbGalera', () => DatabaseEngine.mariadbGalera(), 'mariadb:11.4.4', 999],
  ['postgresql', () => DatabaseEngine.postgresql(), 'postgres:17.2', 999],
  ['redis', () => DatabaseEngine.redis(), 'redis:7.4.1', 999],
  ['zookeeper', () => DatabaseEngine.zookeeper(), 'zookeeper:3.9.3', 1000],
];

describe('engine presets', () => {
  test.each(presets)('%s: pinned official image, non-root user, restricted pod, valid 1.27 objects', (_, engine, image, uid) => {
    const { m, pod } = build(engine());
    expect(pod.containers[0].image).toBe(image);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.image).toBe(image);
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: uid, runAsGroup: uid,
        capabilities: { drop: ['ALL'] },
      });
      // every writable path is a volume: the root filesystem is read-only
      expect(c.volumeMounts.find((v: any) => v.mountPath === '/tmp')).toEqual({ name: 'tmp', mountPath: '/tmp' });
    }
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } });
    for (const o of m) expect(schemaErrors(o)).toEqual([]);
  });

  test.each(presets)('%s: scripts come from the package, and every script a container runs is shipped', (_, engine) => {
    const { m, pod } = build(engine());
    const files = find(m, 'ConfigMap', 'db-scripts').data;
    for (const [name, text] of Object.entries(files)) expect(text).toBe(fs.readFileSync(path.join(SCRIPTS, name), 'utf-8'));
    const referenced = JSON.stringify(pod).match(/\/opt\/cdk8s-stateful\/[a-z-]+\.sh/g) ?? [];
    for (const ref of referenced) expect(Object.keys(files)).toContain(path.basename(ref));
    expect(Object.keys(files)).toContain('common.sh');
  });

  test.each(presets)('%s: init containers read the ordinal from the pod-index label and the peers from the headless Service', (_, engine) => {
    for (const [replicas, startOrdinal] of [[1, 0], [3, 0], [5, 0], [3, 7]]) {
      const { db, pod } = build(engine(), { replicas, startOrdinal });
      const init = pod.initContainers.find((c: any) => env(c, 'PEERS'));
      expect(env(init, 'POD_INDEX')).toEqual({ name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } });
      expect(env(init, 'PEERS').value).toBe(db.peerAddresses.join(' '));
      expect(env(init, 'PEERS').value.split(' ')).toEqual(
        Array.from({ length: replicas }, (__, i) => `db-${startOrdinal + i}.db-headless.data.svc.cluster.local`));
      expect(env(init, 'START_ORDINAL').value).toBe(String(startOrdinal));
    }
  });

  test('every shipped script is valid bash (and clean under shellcheck when it is installed)', () => {
    const scripts = fs.readdirSync(SCRIPTS).filter((f) => f.endsWith('.sh')).map((f) => path.join(SCRIPTS, f));
    for (const s of scripts) expect({ s, status: spawnSync('bash', ['-n', s]).status }).toEqual({ s, status: 0 });
    const shellcheck = spawnSync('shellcheck', ['--version']);
    if (shellcheck.status === 0) {
      const res = spawnSync('shellcheck', ['-x', ...scripts], { cwd: SCRIPTS, encoding: 'utf-8' });
      expect(res.stdout).toBe('');
    }
  });
});

describe('DatabaseEngine.mysql', () => {
  test('primary/replicas: the client Service selects the primary, <name>-read every member', () => {
    const { db, m, pod } = build(DatabaseEngine.mysql());
    expect(m.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/db-headless', 'ConfigMap/db-scripts', 'StatefulSet/db', 'Service/db', 'Service/db-read', 'NetworkPolicy/db', 'PodDisruptionBudget/db',
    ]);
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'statefulset.kubernetes.io/pod-name': 'db-0' });
    expect(find(m, 'Service', 'db-read').spec).toEqual({
      type: 'ClusterIP', selector: { 'app.kubernetes.io/instance': 'db' }, ports: [{ name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' }],
    });
    expect(db.readService).toBeDefined();
    expect(db.replicas).toBe(3);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['config', 'clone']);
    const main = pod.containers[0];
    expect(env(main, 'MYSQL_ROOT_PASSWORD')).toEqual({ name: 'MYSQL_ROOT_PASSWORD', ...secretRef('root-password') });
    expect(env(main, 'MYSQL_REPLICATION_PASSWORD')).toEqual({ name: 'MYSQL_REPLICATION_PASSWORD', ...secretRef('replication-password') });
    expect(main.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/mysql/conf.d', readOnly: true });
    expect(main.volumeMounts).toContainEqual({ name: 'run', mountPath: '/var/run/mysqld' });
    expect(pod.initContainers[1].volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/mysql' });
    expect(env(pod.initContainers[1], 'DATA_DIR').value).toBe('/var/lib/mysql/data');
  });

  test('a start ordinal moves the primary; a renamed claim is what the clone container mounts', () => {
    const { m, pod } = build(DatabaseEngine.mysql({ version: MysqlVersion.VER_8_0_40 }), { startOrdinal: 3, storage: { name: 'mysql', mountPath: '/srv/mysql' } });
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-3');
    expect(pod.containers[0].image).toBe('mysql:8.0.40');
    expect(pod.initContainers[1].volumeMounts[0]).toEqual({ name: 'mysql', mountPath: '/srv/mysql' });
    expect(env(pod.initContainers[0], 'DATA_DIR').value).toBe('/srv/mysql/data');
  });

  test('fails without credentials, naming the database and the fix', () => {
    expect(() => build(DatabaseEngine.mysql(), {}, false)).toThrow(StatefulConfigError);
    expect(() => build(DatabaseEngine.mysql(), {}, false)).toThrow(
      /^DatabaseEngine.mysql 'test\/db': the database has no credentials: the image needs a root password and the replicas a replication password. Fix: pass credentials: \{ secret/);
  });

  test('fails for versions without the clone plugin and for non-version tags', () => {
    expect(() => build(DatabaseEngine.mysql({ version: MysqlVersion.of('5.7.44') }))).toThrow(
      "DatabaseEngine.mysql 'test/db': version 5.7.44 is older than 8.0.26, which the preset needs (the clone plugin, CHANGE REPLICATION SOURCE and skip_replica_start). Fix: use 8.0.26 or newer, or DatabaseEngine.custom() for an older image.");
    expect(() => build(DatabaseEngine.mysql({ version: MysqlVersion.of('8.0.20') }))).toThrow(/older than 8.0.26/);
    expect(() => build(DatabaseEngine.mysql({ version: MysqlVersion.of('lts') }))).toThrow(/version must be an image tag such as '8.0.26'/);
    expect(build(DatabaseEngine.mysql({ version: MysqlVersion.of('9.1.0') })).pod.containers[0].image).toBe('mysql:9.1.0');
    expect(() => build(DatabaseEngine.redis({ version: RedisVersion.of('7.4.1-alpine') }))).toThrow(
      "DatabaseEngine.redis 'test/db': version 7.4.1-alpine is an Alpine variant, which has no bash; the preset's init scripts and probes run with bash. Fix: use the Debian/Ubuntu-based tag, e.g. '7.4.1'.");
  });
});

describe('DatabaseEngine.mariadbGalera', () => {
  test('3 members, OrderedReady, quorum PDB, peer ports on the headless Service only', () => {
    const { db, m, sts, pod } = build(DatabaseEngine.mariadbGalera());
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(find(m, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => [p.name, p.port])).toEqual([['mysql', 3306], ['sst', 4444], ['gcomm', 4567], ['ist', 4568]]);
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([3306]);
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db' });
    expect(db.readService).toBeUndefined();
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['install', 'bootstrap']);
    expect(pod.initContainers[0].volumeMounts[0]).toEqual({ name: 'workdir', mountPath: '/work-dir' });
    expect(pod.initContainers[1].volumeMounts[0]).toEqual({ name: 'config', mountPath: '/etc/mysql/conf.d' });
    expect(pod.containers[0].command).toEqual(['bash', '/work-dir/galera-start.sh']);
    expect(env(pod.containers[0], 'MARIADB_ROOT_PASSWORD')).toEqual({ name: 'MARIADB_ROOT_PASSWORD', ...secretRef('root-password') });
    expect(env(pod.containers[0], 'GALERA_FORCE_BOOTSTRAP')).toBeUndefined();
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['config', 'workdir', 'run', 'tmp', 'scripts']);
  });

  test('forceBootstrap and a version', () => {
    const { pod } = build(DatabaseEngine.mariadbGalera({ forceBootstrap: true, version: MariaDbVersion.VER_10_11_10 }));
    expect(env(pod.containers[0], 'GALERA_FORCE_BOOTSTRAP').value).toBe('1');
    expect(pod.containers[0].image).toBe('mariadb:10.11.10');
    expect(() => build(DatabaseEngine.mariadbGalera({ version: MariaDbVersion.of('10.4.34') }))).toThrow(/older than 10.6/);
  });
});

describe('DatabaseEngine.postgresql', () => {
  test('primary/standbys: pg_basebackup init container, replication password from the Secret', () => {
    const { m, pod } = build(DatabaseEngine.postgresql({ version: PostgresVersion.VER_16_6 }));
    expect(pod.containers[0].image).toBe('postgres:16.6');
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
    expect(find(m, 'Service', 'db-read').spec.ports[0].port).toBe(5432);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['clone']);
    expect(env(pod.initContainers[0], 'POSTGRES_REPLICATION_PASSWORD')).toEqual({ name: 'POSTGRES_REPLICATION_PASSWORD', ...secretRef('replication-password') });
    expect(env(pod.containers[0], 'POSTGRES_PASSWORD')).toEqual({ name: 'POSTGRES_PASSWORD', ...secretRef('root-password') });
    expect(env(pod.containers[0], 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
    expect(pod.containers[0].readinessProbe.exec.command[0]).toBe('pg_isready');
  });

  test('custom Secret keys are honoured', () => {
    const c = chart('data');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'pg');
    new StatefulDatabase(c, 'db', { engine: DatabaseEngine.postgresql(), credentials: { secret, rootPasswordKey: 'su', replicationPasswordKey: 'repl' } });
    const pod = find(synth(c), 'StatefulSet').spec.template.spec;
    expect(env(pod.containers[0], 'POSTGRES_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'su' });
    expect(env(pod.initContainers[0], 'POSTGRES_REPLICATION_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'repl' });
  });
});

describe('DatabaseEngine.redis', () => {
  test('config generated at runtime into an emptyDir; the password only as Secret references', () => {
    const { m, pod } = build(DatabaseEngine.redis({ version: RedisVersion.VER_7_2_6 }));
    expect(pod.containers[0].args).toEqual(['redis-server', '/etc/redis/redis.conf']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/redis', readOnly: true });
    expect(pod.volumes.find((v: any) => v.name === 'config')).toEqual({ name: 'config', emptyDir: {} });
    expect(env(pod.initContainers[0], 'REDIS_PASSWORD')).toEqual({ name: 'REDIS_PASSWORD', ...secretRef('password') });
    expect(env(pod.containers[0], 'REDISCLI_AUTH')).toEqual({ name: 'REDISCLI_AUTH', ...secretRef('password') });
    expect(find(m, 'ConfigMap').data['redis-config.sh']).not.toMatch(/requirepass [^"\\]/);
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
  });

  test('fails without credentials: no unauthenticated Redis', () => {
    expect(() => build(DatabaseEngine.redis(), {}, false)).toThrow(/DatabaseEngine.redis 'test\/db': the database has no credentials: without requirepass/);
  });
});

describe('DatabaseEngine.zookeeper', () => {
  test('client port on the client Service, peer/election on the headless one; Parallel start; no credentials needed', () => {
    const { m, sts, pod } = build(DatabaseEngine.zookeeper({ version: ZooKeeperVersion.VER_3_8_4 }), {}, false);
    expect(pod.containers[0].image).toBe('zookeeper:3.8.4');
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([2181]);
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => p.port)).toEqual([2181, 2888, 3888]);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'conf', mountPath: '/conf', readOnly: true });
    expect(pod.initContainers[0].volumeMounts.slice(0, 2)).toEqual([{ name: 'conf', mountPath: '/cdk8s-conf' }, { name: 'data', mountPath: '/data' }]);
  });

  test('podManagementPolicy given by the user wins over the engine default', () => {
    const { sts } = build(DatabaseEngine.zookeeper(), { podManagementPolicy: PodManagementPolicy.ORDERED_READY });
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
  });
});

describe('quorum engines', () => {
  const quorum: [string, () => DatabaseEngine][] = [['mariadbGalera', () => DatabaseEngine.mariadbGalera()], ['zookeeper', () => DatabaseEngine.zookeeper()]];

  test.each(quorum)('%s: the PDB keeps a majority: maxUnavailable floor((n-1)/2), at least 1', (_, engine) => {
    const pdb = (replicas: number) => find(build(engine(), { replicas }).m, 'PodDisruptionBudget').spec.maxUnavailable;
    expect([1, 2, 3, 4, 5, 6, 7].map(pdb)).toEqual([1, 1, 1, 1, 2, 2, 3]);
  });

  test.each(quorum)('%s: an even replica count is a synth-time warning, in db.warnings and node metadata', (_, engine) => {
    for (const replicas of [2, 4, 6]) {
      const { db } = build(engine(), { replicas });
      expect(db.warnings).toEqual([
        `StatefulDatabase 'test/db': ${replicas} members form a quorum of ${replicas / 2 + 1}: they survive no more failures than ${replicas - 1} would, ` +
        `and a network split in half stops both sides. Fix: use an odd replica count, e.g. ${replicas + 1}.`,
      ]);
      expect(db.node.metadata.filter((e) => e.type === 'warning').map((e) => e.data)).toEqual(db.warnings);
    }
    for (const replicas of [0, 1, 3, 5]) expect(build(engine(), { replicas }).db.warnings).toEqual([]);
  });

  test('single-writer engines do not warn about even counts', () => {
    expect(build(DatabaseEngine.mysql(), { replicas: 2 }).db.warnings).toEqual([]);
    expect(build(DatabaseEngine.redis(), { replicas: 4 }).db.warnings).toEqual([]);
  });

  test('a larger maxUnavailable than the quorum allows fails', () => {
    expect(() => build(DatabaseEngine.zookeeper(), { replicas: 5, maxUnavailable: 3 })).toThrow(/would let a drain break the quorum of 5 members/);
  });
});
