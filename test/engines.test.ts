import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import {
  BackupMember, DatabaseEngine, MariaDbVersion, MysqlVersion, PostgresDurability, PostgresVersion, RedisMaxmemoryPolicy, RedisVersion, StatefulConfigError,
  StatefulDatabase, StatefulDatabaseProps, ZooKeeperVersion,
} from '../lib';
import { chart, find, schemaErrors, synth } from './util';
import { Duration, Size } from 'cdk8s';

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
/** A `*_KEY` variable naming a key of the mounted credentials Secret (a file of KEYS_DIR). */
const secretKey = (name: string, key: string) => ({ name, value: key });
const containers = (pod: any): any[] => [...(pod.initContainers ?? []), ...pod.containers];
/** The init containers on the engine's image (without `founding`, on the API client image). */
const engineInits = (pod: any): any[] => pod.initContainers.filter((c: any) => c.name !== 'founding');
const API_CLIENT_IMAGE = 'docker.io/curlimages/curl:8.14.1';

const presets: [string, () => DatabaseEngine, string, number][] = [
  ['mysql', () => DatabaseEngine.mysql(), 'mysql:9.7.4', 999],
  ['mariadbGalera', () => DatabaseEngine.mariadbGalera(), 'mariadb:11.8.3', 999],
  ['postgresql', () => DatabaseEngine.postgresql(), 'postgres:18.4', 999],
  ['redis', () => DatabaseEngine.redis(), 'redis:8.2.1', 999],
  ['zookeeper', () => DatabaseEngine.zookeeper(), 'zookeeper:3.9.5', 1000],
];

/** The Secret keys each preset reads, by default (the table in docs/engines.md). */
const secretKeys: { [preset: string]: string[] } = {
  mysql: ['replication-password', 'root-password'],
  mariadbGalera: ['root-password'],
  postgresql: ['password', 'replication-password', 'root-password', 'username'],
  redis: ['password'],
  zookeeper: [],
};

/** The Secret keys the pod's `*_KEY` variables name (files of KEYS_DIR, the Secret's mount). */
function keysRead(pod: any): string[] {
  const keys = new Set<string>();
  for (const c of containers(pod)) {
    const vars = (c.env ?? []).filter((e: any) => /_KEY$/.test(e.name));
    if (vars.length > 0) expect(c.env).toContainEqual({ name: 'KEYS_DIR', value: StatefulDatabase.CREDENTIALS_PATH });
    for (const e of vars) keys.add(e.value);
  }
  return [...keys].sort();
}

/** The handler of a probe (what it runs), without its timings. */
const handler = (probe: any) => JSON.stringify({ exec: probe.exec, tcpSocket: probe.tcpSocket, httpGet: probe.httpGet, grpc: probe.grpc });

describe('engine presets', () => {
  test.each(presets)('%s: pinned official image, non-root user, restricted pod, valid 1.27 objects', (_, engine, image, uid) => {
    const { m, pod } = build(engine());
    expect(pod.containers[0].image).toBe(image);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.image).toBe(['founding', 'decide', 'members'].includes(c.name) ? API_CLIENT_IMAGE : image);
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

  // ZooKeeper's members keep the membership in ZooKeeper: no member list in the pod (scripts.test.ts)
  test.each(presets.filter(([name]) => name !== 'zookeeper'))('%s: init containers read the ordinal from the pod-index label and the peers from the headless Service', (_, engine) => {
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

  test.each(presets)('%s: passwords only as files of the mounted Secret: no secretKeyRef, *_KEY variables naming its keys', (preset, engine) => {
    const { m, pod } = build(engine());
    expect(StatefulDatabase.CREDENTIALS_PATH).toBe('/run/secrets/db');
    expect(JSON.stringify(m)).not.toContain('secretKeyRef');
    for (const c of containers(pod)) {
      for (const e of c.env ?? []) {
        // a literal, or the pod index / memory limit through the downward API: nothing from a Secret
        const from = e.name === 'MEMORY_LIMIT_BYTES' ? ['resourceFieldRef'] : ['fieldRef'];
        expect({ container: c.name, env: e.name, from: Object.keys(e.valueFrom ?? {}) }).toEqual({ container: c.name, env: e.name, from: e.valueFrom ? from : [] });
        // no variable is named like a password (Polaris' sensitiveContainerEnvVar flags the name
        // whatever the value): the key names a file of the Secret's mount
        expect({ container: c.name, env: e.name }).toEqual({ container: c.name, env: expect.not.stringMatching(/PASSWORD|PASSWD|SECRET|TOKEN|BEARER|CREDENTIAL/i) });
        if (/_KEY$/.test(e.name)) expect(e.value).toMatch(/^[-._a-zA-Z0-9]+$/);
      }
    }
    expect(keysRead(pod)).toEqual(secretKeys[preset]);
  });

  test.each(presets)('%s: the credentials Secret is mounted read-only at /run/secrets/db in every container, init containers too', (_, engine) => {
    const { pod } = build(engine());
    expect(pod.volumes).toContainEqual({ name: 'credentials', secret: { secretName: 'db-credentials', defaultMode: 0o440 } });
    for (const c of containers(pod)) {
      expect({ container: c.name, mounts: c.volumeMounts }).toEqual({
        container: c.name, mounts: expect.arrayContaining([{ name: 'credentials', mountPath: '/run/secrets/db', readOnly: true }]),
      });
    }
  });

  test.each(presets)('%s: renamed Secret keys are the files read; a key that is no Secret key fails at synth time', (preset, engine) => {
    const c = chart('data');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'db-credentials');
    const renamed = { rootPasswordKey: 'admin.pw', usernameKey: 'user', passwordKey: 'app_pw', replicationPasswordKey: 'repl-pw' };
    new StatefulDatabase(c, 'db', { engine: engine(), credentials: { secret, ...renamed } });
    const pod = find(synth(c), 'StatefulSet').spec.template.spec;
    const byDefault: { [key: string]: string } = { 'root-password': 'admin.pw', 'username': 'user', 'password': 'app_pw', 'replication-password': 'repl-pw' };
    expect(keysRead(pod)).toEqual(secretKeys[preset].map((k) => byDefault[k]).sort());
    if (secretKeys[preset].includes('root-password')) {
      expect(() => build(engine(), { credentials: { secret: kplus.Secret.fromSecretName(chart('x'), 's', 'x'), rootPasswordKey: '../../etc/shadow' } })).toThrow(
        /credentials.rootPasswordKey must be a key of the Secret \(letters, digits, '-', '_' and '.'\), got "..\/..\/etc\/shadow": the preset reads the file \/run\/secrets\/db\/<key>. Fix: use the key as it is in the Secret, e.g. 'root-password'./);
    }
  });

  test.each(presets)('%s: readiness and liveness probes run different checks (kube-score pod-probes-identical)', (_, engine) => {
    const main = build(engine()).pod.containers[0];
    expect(main.readinessProbe).toBeDefined();
    expect(main.livenessProbe).toBeDefined();
    expect(handler(main.livenessProbe)).not.toBe(handler(main.readinessProbe));
    // liveness is the more patient of the two: it restarts the server, readiness only takes it out of the Services
    expect(main.livenessProbe.failureThreshold).toBeGreaterThan(main.readinessProbe.failureThreshold);
    // a startup probe holds liveness off through initialization, crash recovery or a state
    // transfer: at least 10 minutes (30 for the databases) before liveness may restart anything
    // the same check, except Galera's, whose liveness also asks for the cluster connection
    // (a member that left the group restarts), which a starting member may not have yet
    expect(handler(main.startupProbe)).toBe(handler(main.livenessProbe).replace(/galera-probe\.sh","live"/, 'galera-probe.sh","start"'));
    expect(main.startupProbe.periodSeconds * main.startupProbe.failureThreshold).toBeGreaterThanOrEqual(main.image.startsWith('zookeeper') ? 600 : 1800);
    expect(main.livenessProbe.initialDelaySeconds).toBeUndefined();
  });

  test('an engine bound without a mounted Secret (no credentialsPath) fails instead of pointing at nothing', () => {
    const c = chart('data');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'db-credentials');
    const ctx = { name: 'db', replicas: 1, startOrdinal: 0, peerAddresses: ['db-0'], headlessServiceName: 'db-headless', dataPath: '/data', credentials: { secret } };
    expect(() => DatabaseEngine.redis().bind(ctx)).toThrow(
      /^DatabaseEngine.redis: the credentials Secret is not mounted \(the engine context has no absolute credentialsPath, got undefined\); the preset reads its passwords from files there./);
    expect(DatabaseEngine.redis().bind({ ...ctx, credentialsPath: '/run/secrets/db' }).env).toEqual({
      KEYS_DIR: kplus.EnvValue.fromValue('/run/secrets/db'), PW_KEY: kplus.EnvValue.fromValue('password'),
    });
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
    const { db, m, sts, pod } = build(DatabaseEngine.mysql());
    expect(m.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/db-headless', 'ConfigMap/db-scripts', 'ServiceAccount/db', 'Role/db', 'RoleBinding/db', 'StatefulSet/db', 'Service/db', 'Service/db-read', 'NetworkPolicy/db', 'PodDisruptionBudget/db',
    ]);
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'statefulset.kubernetes.io/pod-name': 'db-0' });
    expect(find(m, 'Service', 'db-read').spec).toEqual({
      type: 'ClusterIP', selector: { 'app.kubernetes.io/instance': 'db' }, ports: [{ name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' }],
    });
    expect(db.readService).toBeDefined();
    expect(db.replicas).toBe(3);
    // members start together: a primary that lost its volume must find the replicas that hold data
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['founding', 'config', 'clone']);
    const main = pod.containers[0];
    // mysql-start.sh points the entrypoint's MYSQL_ROOT_PASSWORD_FILE at KEYS_DIR/ROOT_KEY
    expect(main.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-start.sh']);
    expect(env(main, 'ROOT_KEY')).toEqual(secretKey('ROOT_KEY', 'root-password'));
    expect(env(main, 'REPLICATION_KEY')).toEqual(secretKey('REPLICATION_KEY', 'replication-password'));
    expect(env(main, 'MYSQL_ROOT_PASSWORD_FILE')).toBeUndefined();
    const clone = engineInits(pod)[1];
    expect(env(clone, 'ROOT_KEY')).toEqual(secretKey('ROOT_KEY', 'root-password'));
    expect(env(clone, 'REPLICATION_KEY')).toEqual(secretKey('REPLICATION_KEY', 'replication-password'));
    expect(env(engineInits(pod)[0], 'ROOT_KEY')).toBeUndefined();
    expect(main.readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-probe.sh', 'ready']);
    expect(main.livenessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-probe.sh', 'live']);
    expect(main.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/mysql/conf.d', readOnly: true });
    expect(main.volumeMounts).toContainEqual({ name: 'run', mountPath: '/var/run/mysqld' });
    expect(engineInits(pod)[1].volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/mysql' });
    expect(env(engineInits(pod)[1], 'DATA_DIR').value).toBe('/var/lib/mysql/data');
  });

  test('engine settings: typed ones and a map, checked, in engine.conf', () => {
    const { m } = build(DatabaseEngine.mysql({ innodbBufferPoolSize: Size.mebibytes(256), maxConnections: 300, config: { long_query_time: '2' } }));
    expect(find(m, 'ConfigMap').data['engine.conf']).toBe('innodb_buffer_pool_size=262144K\nlong_query_time=2\nmax_connections=300\n');
    expect(() => build(DatabaseEngine.mysql({ maxConnections: 0 }))).toThrow(/maxConnections must be a whole number from 1 to 100000, got 0/);
    expect(() => build(DatabaseEngine.mysql({ innodbBufferPoolSize: Size.mebibytes(1) }))).toThrow(/innodbBufferPoolSize must be a Size of at least 5120 KiB/);
    expect(() => build(DatabaseEngine.mysql({ config: { 'server-id': '7' } }))).toThrow(/config sets 'server-id', which the preset manages itself/);
    expect(() => build(DatabaseEngine.mysql({ config: { 'bad name': '1' } }))).toThrow(/config has the setting name "bad name"/);
    expect(() => build(DatabaseEngine.mysql({ config: { sql_mode: 'a\n[client]' } }))).toThrow(/a value must be a non-empty single-line string/);
    expect(find(build(DatabaseEngine.mysql()).m, 'ConfigMap').data['engine.conf']).toBeUndefined();
  });

  test('a start ordinal moves the primary; a renamed claim is what the clone container mounts', () => {
    const { m, pod } = build(DatabaseEngine.mysql({ version: MysqlVersion.VER_8_0_40 }), { startOrdinal: 3, storage: { name: 'mysql', mountPath: '/srv/mysql' } });
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-3');
    expect(pod.containers[0].image).toBe('mysql:8.0.40');
    expect(engineInits(pod)[1].volumeMounts[0]).toEqual({ name: 'mysql', mountPath: '/srv/mysql' });
    expect(env(engineInits(pod)[0], 'DATA_DIR').value).toBe('/srv/mysql/data');
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
  test('3 members started in parallel, quorum PDB, peer ports on the headless Service only; recover and decide before the server', () => {
    const { db, m, sts, pod } = build(DatabaseEngine.mariadbGalera());
    expect(sts.spec.replicas).toBe(3);
    // after a full outage every member reports its position before one bootstraps
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(find(m, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => [p.name, p.port])).toEqual([['mysql', 3306], ['sst', 4444], ['gcomm', 4567], ['ist', 4568]]);
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([3306]);
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db' });
    expect(db.readService).toBeUndefined();
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['install', 'bootstrap', 'recover', 'decide']);
    expect(pod.initContainers[0].volumeMounts[0]).toEqual({ name: 'workdir', mountPath: '/work-dir' });
    expect(pod.initContainers[1].volumeMounts[0]).toEqual({ name: 'config', mountPath: '/etc/mysql/conf.d' });
    expect(env(pod.initContainers[1], 'GCACHE_SIZE').value).toBe('1048576K');
    // recover: the database image on the data volume, sized as the server; decide: the API client
    const [recover, decide] = pod.initContainers.slice(2);
    expect(recover.command).toEqual(['bash', '/opt/cdk8s-stateful/galera-recover.sh']);
    expect(recover.volumeMounts.slice(0, 2)).toEqual([{ name: 'data', mountPath: '/var/lib/mysql' }, { name: 'run', mountPath: '/run/mysqld' }]);
    expect(recover.resources).toEqual(pod.containers[0].resources);
    expect(decide.command).toEqual(['sh', '/opt/cdk8s-stateful/galera-decide.sh']);
    expect(decide.image).toBe(API_CLIENT_IMAGE);
    expect(env(decide, 'LEASE_NAME').value).toBe('db-galera');
    expect(env(decide, 'SET_NAME').value).toBe('db');
    expect(env(decide, 'GALERA_FORCE_BOOTSTRAP')).toBeUndefined();
    expect(decide.volumeMounts.map((v: any) => v.name)).not.toContain('data');
    const main = pod.containers[0];
    expect(main.command).toEqual(['bash', '/work-dir/galera-start.sh']);
    expect(env(main, 'ROOT_KEY')).toEqual(secretKey('ROOT_KEY', 'root-password'));
    expect(env(main, 'MARIADB_ROOT_PASSWORD_FILE')).toBeUndefined();
    expect(main.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/docker-entrypoint-initdb.d/90-cdk8s-initialized.sh', subPath: 'galera-initdb.sh', readOnly: true });
    // the init containers need no password: state transfers and probes use mysql@localhost over the socket
    for (const c of pod.initContainers) expect(c.env?.filter((e: any) => /KEY/.test(e.name)) ?? []).toEqual([]);
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['config', 'workdir', 'run', 'tmp', 'scripts', 'credentials']);
  });

  test('the members may read their pods and keep the set\'s bootstrap Lease, nothing else; the token is in their pods only', () => {
    const { m, pod } = build(DatabaseEngine.mariadbGalera());
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(m, 'Role').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
    expect(JSON.stringify(find(m, 'NetworkPolicy').spec.egress)).toContain('ipBlock');
  });

  test('forceBootstrap, gcacheSize, wsrepSyncWait, apiClientImage, engine settings and a version', () => {
    const { m, pod } = build(DatabaseEngine.mariadbGalera({
      forceBootstrap: true, version: MariaDbVersion.VER_10_11_10, gcacheSize: Size.gibibytes(4), maxConnections: 500, config: { long_query_time: '5' },
      wsrepSyncWait: 1, apiClientImage: 'registry.example.com/curl:8.14.1',
    }));
    const decide = pod.initContainers.find((c: any) => c.name === 'decide');
    expect(env(decide, 'GALERA_FORCE_BOOTSTRAP').value).toBe('1');
    expect(decide.image).toBe('registry.example.com/curl:8.14.1');
    expect(env(pod.initContainers[1], 'GCACHE_SIZE').value).toBe('4194304K');
    expect(find(m, 'ConfigMap').data['engine.conf']).toBe('wsrep_sync_wait=1\nlong_query_time=5\nmax_connections=500\n');
    expect(pod.containers[0].image).toBe('mariadb:10.11.10');
    expect(() => build(DatabaseEngine.mariadbGalera({ version: MariaDbVersion.of('10.4.34') }))).toThrow(/older than 10.6/);
    expect(() => build(DatabaseEngine.mariadbGalera({ gcacheSize: Size.mebibytes(1) }))).toThrow(/gcacheSize must be a Size of at least 16384 KiB/);
    expect(() => build(DatabaseEngine.mariadbGalera({ config: { wsrep_provider_options: 'x' } }))).toThrow(/which the preset manages itself/);
    // the durability settings are the preset's
    expect(() => build(DatabaseEngine.mariadbGalera({ config: { innodb_flush_log_at_trx_commit: '2' } }))).toThrow(/which the preset manages itself/);
    expect(() => build(DatabaseEngine.mariadbGalera({ config: { wsrep_sync_wait: '1' } }))).toThrow(/which the preset manages itself/);
    // a registry with a port, a digest
    expect(build(DatabaseEngine.mariadbGalera({ apiClientImage: 'registry.local:5000/curl:8.14.1' })).pod.initContainers[3].image).toBe('registry.local:5000/curl:8.14.1');
    expect(() => build(DatabaseEngine.mariadbGalera({ apiClientImage: 'registry.local:5000/curl' }))).toThrow(/apiClientImage must be a pinned image with sh and curl/);
  });
});

describe('DatabaseEngine.postgresql', () => {
  test('primary/standbys: pg_basebackup init container, passwords from the Secret\'s files, /dev/shm in memory', () => {
    const { m, sts, pod } = build(DatabaseEngine.postgresql({ version: PostgresVersion.VER_16_6 }));
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const main = pod.containers[0];
    expect(main.image).toBe('postgres:16.6');
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
    expect(find(m, 'Service', 'db-read').spec.ports[0].port).toBe(5432);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['founding', 'clone']);
    expect(env(engineInits(pod)[0], 'REPLICATION_KEY')).toEqual(secretKey('REPLICATION_KEY', 'replication-password'));
    expect(main.command).toEqual(['bash', '/opt/cdk8s-stateful/postgres-start.sh']);
    expect(main.args).toEqual(['-c', 'hot_standby=on', '-c', 'wal_keep_size=256MB', '-c', 'max_slot_wal_keep_size=2097152kB']);
    // postgres-start.sh exports POSTGRES_PASSWORD_FILE; postgres-initdb.sh reads the others
    for (const [name, key] of [['ROOT_KEY', 'root-password'], ['REPLICATION_KEY', 'replication-password'], ['USERNAME_KEY', 'username'], ['PW_KEY', 'password']]) {
      expect(env(main, name)).toEqual(secretKey(name, key));
    }
    expect(env(main, 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
    expect(main.readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/postgres-probe.sh', 'ready']);
    expect(main.livenessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/postgres-probe.sh', 'live']);
    expect(pod.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory' } });
    expect(main.volumeMounts).toContainEqual({ name: 'shm', mountPath: '/dev/shm' });
  });

  test('custom Secret keys are honoured; engine settings become -c arguments', () => {
    const c = chart('data');
    const secret = kplus.Secret.fromSecretName(c, 'creds', 'pg');
    new StatefulDatabase(c, 'db', {
      engine: DatabaseEngine.postgresql({ sharedBuffers: Size.mebibytes(256), maxConnections: 200, maxSlotWalKeepSize: Size.gibibytes(8), config: { work_mem: '16MB' } }),
      credentials: { secret, rootPasswordKey: 'su', replicationPasswordKey: 'repl' },
    });
    const pod = find(synth(c), 'StatefulSet').spec.template.spec;
    expect(env(pod.containers[0], 'ROOT_KEY').value).toBe('su');
    expect(env(engineInits(pod)[0], 'REPLICATION_KEY').value).toBe('repl');
    expect(pod.volumes).toContainEqual({ name: 'credentials', secret: { secretName: 'pg', defaultMode: 0o440 } });
    expect(pod.containers[0].args).toEqual(['-c', 'hot_standby=on', '-c', 'wal_keep_size=256MB', '-c', 'max_slot_wal_keep_size=8388608kB',
      '-c', 'max_connections=200', '-c', 'shared_buffers=262144kB', '-c', 'work_mem=16MB']);
    expect(() => build(DatabaseEngine.postgresql({ config: { hot_standby: 'off' } }))).toThrow(/config sets 'hot_standby', which the preset manages itself/);
    expect(() => build(DatabaseEngine.postgresql({ maxConnections: 1.5 }))).toThrow(/maxConnections must be a whole number from 1 to 262143, got 1.5/);
  });
});

describe('DatabaseEngine.postgresql with backup and restoreFrom (pgBackRest)', () => {
  const image = 'registry.example.com/postgres-pgbackrest:18.6-2.60.0';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/orders', egressCidrs: ['10.96.0.0/12'] };

  test('backup: every container runs the pgBackRest image, the sidecar `backup` beside the server reading a replica by default (pgBackRest\'s TLS port open between members only), the store reachable through the NetworkPolicy', () => {
    const { m, pod } = build(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '0 */6 * * *' } }));
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect([...pod.initContainers, ...pod.containers].map((c: any) => [c.name, c.image])).toEqual([['founding', API_CLIENT_IMAGE], ['clone', image], ['main', image], ['backup', image]]);
    const sidecar = pod.containers[1];
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/postgres-backup.sh']);
    expect(env(sidecar, 'BACKUP_SCHEDULE').value).toBe('0 */6 * * *');
    expect(env(sidecar, 'BACKUP_S3_ACCESS_KEY_ID_FILE').value).toBe('/run/secrets/db/s3-access-key-id');
    expect(env(sidecar, 'BACKUP_S3_ACCESS_KEY_FILE').value).toBe('/run/secrets/db/s3-secret-access-key');
    expect(sidecar.securityContext).toEqual(pod.containers[0].securityContext);
    expect(sidecar.volumeMounts.map((v: any) => v.mountPath)).toEqual(['/var/lib/postgresql/data', '/var/run/postgresql', '/tmp', '/opt/cdk8s-stateful', '/run/secrets/db']);
    const egress = find(m, 'NetworkPolicy', 'db').spec.egress;
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    // 3 members: the primary's sidecar reads a replica's files through the replicas' TLS servers,
    // their certificates from the replication password's file, never a value of the spec
    expect(env(sidecar, 'PRIMARY_BY')).toBeUndefined();
    expect([env(sidecar, 'BACKUP_MEMBER').value, env(sidecar, 'BACKUP_TLS_PORT').value, env(sidecar, 'SCOPE').value, env(sidecar, 'REPLICATION_KEY').value])
      .toEqual(['replica', '8432', 'db', 'replication-password']);
    const policy = find(m, 'NetworkPolicy', 'db').spec;
    const members = [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'db' } } }];
    expect(policy.ingress).toContainEqual({ from: members, ports: expect.arrayContaining([{ port: 8432, protocol: 'TCP' }]) });
    expect(egress).toContainEqual({ to: members, ports: expect.arrayContaining([{ port: 8432, protocol: 'TCP' }]) });
    expect(JSON.stringify(policy.ingress.filter((r: any) => JSON.stringify(r.from) !== JSON.stringify(members)))).not.toContain('8432');
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).not.toContain(8432);
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
  });

  test('backup of a single member: the primary\'s files by default, no TLS server; REPLICA may be asked for (the primary\'s files until a replica streams); PRIMARY: no port 8432', () => {
    const single = build(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '0 */6 * * *' } }), { replicas: 1 }).pod.containers[1];
    expect(env(single, 'BACKUP_MEMBER').value).toBe('primary');
    expect(env(single, 'BACKUP_TLS_PORT')).toBeUndefined();
    const asked = build(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '0 */6 * * *', member: BackupMember.REPLICA } }), { replicas: 1 }).pod.containers[1];
    expect([env(asked, 'BACKUP_MEMBER').value, env(asked, 'BACKUP_TLS_PORT').value]).toEqual(['replica', '8432']);
    const { m, pod } = build(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '0 */6 * * *', member: BackupMember.PRIMARY } }));
    expect(env(pod.containers[1], 'BACKUP_MEMBER').value).toBe('primary');
    expect(env(pod.containers[1], 'BACKUP_TLS_PORT')).toBeUndefined();
    expect(JSON.stringify([find(m, 'NetworkPolicy', 'db'), find(m, 'Service', 'db-headless'), pod.containers[0].ports])).not.toContain('8432');
  });

  test('restoreFrom: the image and the source repository for the clone container, no sidecar, no archiving', () => {
    const { pod } = build(DatabaseEngine.postgresql({ restoreFrom: { image, repository, pointInTime: '2026-03-01T13:00:00+01:00' } }));
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main']);
    expect(env(engineInits(pod)[0], 'RESTORE_TARGET').value).toBe('2026-03-01 13:00:00+01:00');
    expect(env(engineInits(pod)[0], 'RESTORE_PATH').value).toBe('/shop/orders');
    expect(pod.containers[0].args.join(' ')).not.toContain('archive');
  });
});

describe('DatabaseEngine.redis with backup and restoreFrom (RDB snapshots, rclone)', () => {
  const image = 'registry.example.com/redis-rclone:8.2.1-1.60.1';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/cache', caCertificateKey: 's3-ca.crt', egressCidrs: ['10.96.0.0/12'] };

  test('backup: every container runs the rclone image, the sidecar `backup` reads a replica by default, keys as Secret files, the store in the NetworkPolicy, the promise in annotations', () => {
    const { m, sts, pod } = build(DatabaseEngine.redis({ backup: { image, repository, schedule: '0 * * * *' } }));
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect([...pod.initContainers, ...pod.containers].map((c: any) => [c.name, c.image])).toEqual([['founding', API_CLIENT_IMAGE], ['config', image], ['main', image], ['backup', image]]);
    const sidecar = pod.containers[1];
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-backup.sh']);
    expect(Object.fromEntries(sidecar.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]))).toMatchObject({
      BACKUP_SCHEDULE: '0 * * * *', BACKUP_MEMBER: 'replica', RETAIN_BACKUPS: '7', SPOOL_DIR: '/data/.cdk8s-backup', PW_KEY: 'password', KEYS_DIR: '/run/secrets/db',
      BACKUP_BUCKET: 'backups', BACKUP_ENDPOINT: 'store.backup.svc:7070', BACKUP_PATH: '/shop/cache', BACKUP_URI_STYLE: 'path',
      BACKUP_S3_ACCESS_KEY_ID_FILE: '/run/secrets/db/s3-access-key-id', BACKUP_S3_ACCESS_KEY_FILE: '/run/secrets/db/s3-secret-access-key', BACKUP_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    // no key value anywhere in the pod spec
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
    expect(sidecar.securityContext).toEqual(pod.containers[0].securityContext);
    expect(sidecar.volumeMounts.map((v: any) => v.mountPath)).toEqual(['/data', '/tmp', '/opt/cdk8s-stateful', '/run/secrets/db']);
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['cron.sh', 'redis-backup.sh', 'rclone-s3.sh']));
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations).toMatchObject({
      'cdk8s-stateful.dev/backup-repository': 's3://store.backup.svc:7070/backups/shop/cache',
      'cdk8s-stateful.dev/backup-schedule': '0 * * * *',
      'cdk8s-stateful.dev/retain-full-backups': '7',
    });
    const primary = build(DatabaseEngine.redis({ backup: { image, repository, schedule: '0 * * * *', member: BackupMember.PRIMARY, retainBackups: 48 } })).pod.containers[1];
    expect([env(primary, 'BACKUP_MEMBER').value, env(primary, 'RETAIN_BACKUPS').value]).toEqual(['primary', '48']);
  });

  test('restoreFrom: the image and the source repository for the init container config, no sidecar, no annotation', () => {
    const { sts, pod } = build(DatabaseEngine.redis({ restoreFrom: { image, repository, backup: '20260301T023000Z.rdb' } }));
    expect(pod.containers.map((c: any) => [c.name, c.image])).toEqual([['main', image]]);
    const config = engineInits(pod)[0];
    expect(config.name).toBe('config');
    expect([env(config, 'RESTORE_PATH').value, env(config, 'RESTORE_BACKUP').value, env(config, 'RESTORE_CA_FILE').value]).toEqual(['/shop/cache', '20260301T023000Z.rdb', '/run/secrets/db/s3-ca.crt']);
    expect(sts.metadata.annotations?.['cdk8s-stateful.dev/backup-repository']).toBeUndefined();
    // without backup or restoreFrom: the official image, no S3 script
    const plain = build(DatabaseEngine.redis());
    expect(plain.pod.containers.map((c: any) => c.image)).toEqual(['redis:8.2.1']);
    expect(Object.keys(find(plain.m, 'ConfigMap', 'db-scripts').data)).not.toContain('rclone-s3.sh');
  });
});

describe('DatabaseEngine.mariadbGalera with backup and restoreFrom (mariadb-backup, rclone)', () => {
  const image = 'registry.example.com/mariadb-rclone:11.8.3-1.60.1';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/orders', caCertificateKey: 's3-ca.crt', egressCidrs: ['10.96.0.0/12'] };
  const values = (c: any) => Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  test('backup: every container on the rclone image, the sidecar `backup` beside the server with its data, socket and config, keys as Secret files, the store in the NetworkPolicy, the promise in annotations', () => {
    const { m, sts, pod } = build(DatabaseEngine.mariadbGalera({ backup: { image, repository, schedule: '30 2 * * *', retainBackups: 14 } }));
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect(containers(pod).map((c: any) => [c.name, c.image])).toEqual([
      ['install', image], ['bootstrap', image], ['recover', image], ['decide', API_CLIENT_IMAGE], ['main', image], ['backup', image]]);
    const sidecar = pod.containers[1];
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/mariadb-backup.sh']);
    expect(values(sidecar)).toMatchObject({
      BACKUP_SCHEDULE: '30 2 * * *', RETAIN_BACKUPS: '14', DATA_DIR: '/var/lib/mysql/data', RUN_DIR: '/run/mysqld',
      BACKUP_BUCKET: 'backups', BACKUP_ENDPOINT: 'store.backup.svc:7070', BACKUP_PATH: '/shop/orders', BACKUP_URI_STYLE: 'path',
      BACKUP_S3_ACCESS_KEY_ID_FILE: '/run/secrets/db/s3-access-key-id', BACKUP_S3_ACCESS_KEY_FILE: '/run/secrets/db/s3-secret-access-key', BACKUP_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
    expect(sidecar.securityContext).toEqual(pod.containers[0].securityContext);
    expect(sidecar.volumeMounts.map((v: any) => [v.mountPath, v.readOnly ?? false])).toEqual(expect.arrayContaining([
      ['/var/lib/mysql', false], ['/run/mysqld', false], ['/etc/mysql/conf.d', true], ['/run/secrets/db', true]]));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['cron.sh', 'mariadb-backup.sh', 'rclone-s3.sh', 's3-repository.sh']));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).not.toContain('mariadb-restore.sh');
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations).toMatchObject({
      'cdk8s-stateful.dev/backup-repository': 's3://store.backup.svc:7070/backups/shop/orders',
      'cdk8s-stateful.dev/backup-schedule': '30 2 * * *',
      'cdk8s-stateful.dev/retain-full-backups': '14',
    });
  });

  test('backup.binlogArchiveInterval: every member logs its binary log with the cluster\'s GTIDs; its settings are refused in config; restoreFrom.pointInTime: the restore replays it as root', () => {
    const { m, pod } = build(DatabaseEngine.mariadbGalera({ backup: { image, repository, schedule: '30 2 * * *', binlogArchiveInterval: Duration.minutes(1) } }));
    expect(values(pod.containers[1])).toMatchObject({ BINLOG_ARCHIVE_INTERVAL: '60' });
    expect(values(pod.initContainers.find((c: any) => c.name === 'bootstrap'))).toMatchObject({ BINLOG: 'on' });
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toContain('binlog-archive.sh');
    expect(() => build(DatabaseEngine.mariadbGalera({ backup: { image, repository, schedule: '30 2 * * *', binlogArchiveInterval: Duration.minutes(1) }, config: { log_bin: 'other' } })))
      .toThrow(/log_bin/);
    // without the archive: no binary log, and the settings are the user's
    const plain = build(DatabaseEngine.mariadbGalera({ backup: { image, repository, schedule: '30 2 * * *' }, config: { log_bin: 'mine' } }));
    expect(values(plain.pod.initContainers.find((c: any) => c.name === 'bootstrap')).BINLOG).toBeUndefined();
    const restored = build(DatabaseEngine.mariadbGalera({ restoreFrom: { image, repository, pointInTime: '2026-03-01T12:00:00Z' } }));
    expect(values(restored.pod.initContainers.find((c: any) => c.name === 'restore'))).toMatchObject({ RESTORE_TARGET: '2026-03-01 12:00:00', ROOT_KEY: 'root-password' });
  });

  test('restoreFrom: the init container restore between bootstrap and recover, with the data volume and the source repository; no sidecar, no annotation', () => {
    const { m, sts, pod } = build(DatabaseEngine.mariadbGalera({ restoreFrom: { image, repository, backup: '20260301T023000Z.mbstream' } }));
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['install', 'bootstrap', 'restore', 'recover', 'decide']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main']);
    const restore = pod.initContainers[2];
    expect(restore.command).toEqual(['bash', '/opt/cdk8s-stateful/mariadb-restore.sh']);
    expect(values(restore)).toMatchObject({ DATA_DIR: '/var/lib/mysql/data', RESTORE_PATH: '/shop/orders', RESTORE_BACKUP: '20260301T023000Z.mbstream', RESTORE_CA_FILE: '/run/secrets/db/s3-ca.crt' });
    expect(restore.volumeMounts.map((v: any) => v.mountPath)).toContain('/var/lib/mysql');
    // prepare applies the redo log as a server's recovery does: the server's requests and limits
    expect(restore.resources).toEqual(pod.containers[0].resources);
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['mariadb-restore.sh', 'rclone-s3.sh', 's3-repository.sh']));
    expect(sts.metadata.annotations?.['cdk8s-stateful.dev/backup-repository']).toBeUndefined();
    const plain = build(DatabaseEngine.mariadbGalera());
    expect(plain.pod.initContainers.map((c: any) => c.name)).toEqual(['install', 'bootstrap', 'recover', 'decide']);
    expect(Object.keys(find(plain.m, 'ConfigMap', 'db-scripts').data)).not.toContain('rclone-s3.sh');
  });
});

describe('DatabaseEngine.mysql with backup and restoreFrom (clone plugin, rclone)', () => {
  const image = 'registry.example.com/mysql-rclone:9.7.4-1.75.2';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/orders', caCertificateKey: 's3-ca.crt', egressCidrs: ['10.96.0.0/12'] };
  const values = (c: any) => Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  test('backup: every container on the rclone image, the sidecar `backup` with the data volume, the replication password as a Secret file, its metrics port, the store in the NetworkPolicy, the promise in annotations', () => {
    const { m, sts, pod } = build(DatabaseEngine.mysql({ backup: { image, repository, schedule: '30 2 * * *', retainBackups: 14 } }));
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect(containers(pod).map((c: any) => [c.name, c.image])).toEqual([
      ['founding', API_CLIENT_IMAGE], ['config', image], ['clone', image], ['main', image], ['backup', image]]);
    const sidecar = pod.containers[1];
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-backup.sh']);
    expect(values(sidecar)).toMatchObject({
      BACKUP_SCHEDULE: '30 2 * * *', RETAIN_BACKUPS: '14', DATA_DIR: '/var/lib/mysql/data', REPLICATION_KEY: 'replication-password',
      BACKUP_METRICS_PORT: '9188', BACKUP_METRICS_DIR: '/var/lib/mysql/.cdk8s-backup-metrics',
      BACKUP_BUCKET: 'backups', BACKUP_ENDPOINT: 'store.backup.svc:7070', BACKUP_PATH: '/shop/orders',
      BACKUP_S3_ACCESS_KEY_ID_FILE: '/run/secrets/db/s3-access-key-id', BACKUP_S3_ACCESS_KEY_FILE: '/run/secrets/db/s3-secret-access-key', BACKUP_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
    expect(sidecar.securityContext).toEqual(pod.containers[0].securityContext);
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    expect(sidecar.volumeMounts.map((v: any) => [v.mountPath, v.readOnly ?? false])).toEqual(expect.arrayContaining([['/var/lib/mysql', false], ['/run/secrets/db', true]]));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['cron.sh', 'mysql-backup.sh', 'rclone-s3.sh', 's3-repository.sh', 'backup-metrics.sh']));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).not.toContain('mysql-restore.sh');
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations).toMatchObject({
      'cdk8s-stateful.dev/backup-repository': 's3://store.backup.svc:7070/backups/shop/orders',
      'cdk8s-stateful.dev/backup-schedule': '30 2 * * *',
      'cdk8s-stateful.dev/retain-full-backups': '14',
    });
  });

  test('restoreFrom: the init container restore between config and clone, with the data volume, the socket directory, the root password file and the source repository; no sidecar, no annotation', () => {
    const { m, sts, pod } = build(DatabaseEngine.mysql({ restoreFrom: { image, repository, backup: '20260301T023000Z.tar' } }));
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['founding', 'config', 'restore', 'clone']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main']);
    const restore = pod.initContainers[2];
    expect(restore.command).toEqual(['bash', '/opt/cdk8s-stateful/mysql-restore.sh']);
    expect(values(restore)).toMatchObject({ DATA_DIR: '/var/lib/mysql/data', RUN_DIR: '/var/run/mysqld', ROOT_KEY: 'root-password', RESTORE_PATH: '/shop/orders', RESTORE_BACKUP: '20260301T023000Z.tar', RESTORE_CA_FILE: '/run/secrets/db/s3-ca.crt' });
    expect(restore.volumeMounts.map((v: any) => v.mountPath)).toEqual(expect.arrayContaining(['/var/lib/mysql', '/var/run/mysqld']));
    // a throwaway server starts on the restored directory: the server's requests and limits
    expect(restore.resources).toEqual(pod.containers[0].resources);
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['mysql-restore.sh', 'rclone-s3.sh', 's3-repository.sh']));
    expect(sts.metadata.annotations?.['cdk8s-stateful.dev/backup-repository']).toBeUndefined();
    const plain = build(DatabaseEngine.mysql());
    expect(plain.pod.initContainers.map((c: any) => c.name)).toEqual(['founding', 'config', 'clone']);
    expect(Object.keys(find(plain.m, 'ConfigMap', 'db-scripts').data)).not.toContain('rclone-s3.sh');
  });

  test('backup.binlogArchiveInterval: the sidecar archives the binary log as root through the socket; restoreFrom.pointInTime: the restore replays it up to that second (UTC)', () => {
    const { m, pod } = build(DatabaseEngine.mysql({ backup: { image, repository, schedule: '30 2 * * *', binlogArchiveInterval: Duration.seconds(30) } }));
    const sidecar = pod.containers[1];
    expect(values(sidecar)).toMatchObject({ BINLOG_ARCHIVE_INTERVAL: '30', ROOT_KEY: 'root-password' });
    expect(sidecar.volumeMounts.map((v: any) => v.mountPath)).toEqual(expect.arrayContaining(['/var/lib/mysql', '/var/run/mysqld']));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toContain('binlog-archive.sh');
    // without it: no archive, no socket
    const plain = build(DatabaseEngine.mysql({ backup: { image, repository, schedule: '30 2 * * *' } }));
    expect(values(plain.pod.containers[1]).BINLOG_ARCHIVE_INTERVAL).toBeUndefined();
    expect(plain.pod.containers[1].volumeMounts.map((v: any) => v.mountPath)).not.toContain('/var/run/mysqld');
    expect(Object.keys(find(plain.m, 'ConfigMap', 'db-scripts').data)).not.toContain('binlog-archive.sh');

    const restored = build(DatabaseEngine.mysql({ restoreFrom: { image, repository, pointInTime: '2026-03-01T13:00:05.750+01:00' } }));
    const restore = restored.pod.initContainers.find((c: any) => c.name === 'restore');
    expect(values(restore)).toMatchObject({ RESTORE_TARGET: '2026-03-01 12:00:05', ROOT_KEY: 'root-password' });
    expect(values(restore).RESTORE_BACKUP).toBeUndefined();
    expect(Object.keys(find(restored.m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['mysql-restore.sh', 'binlog-archive.sh']));
  });

  test('refused with groupReplication, naming both props', () => {
    expect(() => build(DatabaseEngine.mysql({ groupReplication: {}, backup: { image, repository, schedule: '30 2 * * *' } })))
      .toThrow(/backup is not available with groupReplication \(got both\).*Fix: leave groupReplication out/);
    expect(() => build(DatabaseEngine.mysql({ groupReplication: {}, backup: { image, repository, schedule: '30 2 * * *' }, restoreFrom: { repository: { ...repository, path: '/old' } } })))
      .toThrow(/backup and restoreFrom are not available with groupReplication/);
  });
});

describe('DatabaseEngine.zookeeper with backup and restoreFrom (snapshots with their transaction logs, rclone)', () => {
  const image = 'registry.example.com/zookeeper-rclone:3.9.5-1.60.1';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/coord/zk', caCertificateKey: 's3-ca.crt', egressCidrs: ['10.96.0.0/12'] };
  const values = (c: any) => Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  test('backup: every container but the API clients on the rclone image, the sidecar `backup` with the data volume and its metrics port, no member list, keys as Secret files, the store in the NetworkPolicy, the promise in annotations', () => {
    const { m, sts, pod } = build(DatabaseEngine.zookeeper({ backup: { image, repository, schedule: '0 * * * *', retainBackups: 24 } }));
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect(containers(pod).map((c: any) => [c.name, c.image])).toEqual([
      ['founding', API_CLIENT_IMAGE], ['config', image], ['main', image], ['members', API_CLIENT_IMAGE], ['backup', image]]);
    const sidecar = pod.containers.find((c: any) => c.name === 'backup');
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/zookeeper-backup.sh']);
    expect(values(sidecar)).toMatchObject({
      BACKUP_SCHEDULE: '0 * * * *', RETAIN_BACKUPS: '24', DATA_DIR: '/data',
      BACKUP_METRICS_PORT: '9188', BACKUP_METRICS_DIR: '/data/.cdk8s-backup-metrics',
      BACKUP_BUCKET: 'backups', BACKUP_ENDPOINT: 'store.backup.svc:7070', BACKUP_PATH: '/coord/zk',
      BACKUP_S3_ACCESS_KEY_ID_FILE: '/run/secrets/db/s3-access-key-id', BACKUP_S3_ACCESS_KEY_FILE: '/run/secrets/db/s3-secret-access-key', BACKUP_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    // the membership lives in ZooKeeper: a resize changes no pod template
    expect(containers(pod).flatMap((c: any) => (c.env ?? []).map((e: any) => e.name))).not.toContain('PEERS');
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
    expect(sidecar.securityContext).toEqual(pod.containers[0].securityContext);
    expect(sidecar.ports).toEqual([{ name: 'backup-metrics', containerPort: 9188, protocol: 'TCP' }]);
    expect(sidecar.volumeMounts.map((v: any) => [v.mountPath, v.readOnly ?? false])).toEqual(expect.arrayContaining([['/data', false], ['/run/secrets/db', true]]));
    const scripts = Object.keys(find(m, 'ConfigMap', 'db-scripts').data);
    expect(scripts).toEqual(expect.arrayContaining(['cron.sh', 'zookeeper-backup.sh', 'zookeeper-files.sh', 'object-backup.sh', 'rclone-s3.sh', 's3-repository.sh', 'backup-metrics.sh']));
    expect(scripts).not.toContain('zookeeper-restore.sh');
    expect(values(pod.initContainers.find((c: any) => c.name === 'config')).RESTORE_BUCKET).toBeUndefined();
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations).toMatchObject({
      'cdk8s-stateful.dev/backup-repository': 's3://store.backup.svc:7070/backups/coord/zk',
      'cdk8s-stateful.dev/backup-schedule': '0 * * * *',
      'cdk8s-stateful.dev/retain-full-backups': '24',
    });
  });

  test('restoreFrom: the init container config (where the founder is decided) restores, with the source repository and the backup named; no sidecar, no annotation', () => {
    const { m, sts, pod } = build(DatabaseEngine.zookeeper({ restoreFrom: { image, repository, backup: '20260301T023000Z-zxid-100000a2f.tar' } }));
    expect(pod.initContainers.map((c: any) => [c.name, c.image])).toEqual([['founding', API_CLIENT_IMAGE], ['config', image]]);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main', 'members']);
    const config = pod.initContainers[1];
    expect(values(config)).toMatchObject({
      DATA_DIR: '/data', FOUNDED_FILE: '/var/run/cdk8s-founding/founded', RESTORE_PATH: '/coord/zk', RESTORE_BACKUP: '20260301T023000Z-zxid-100000a2f.tar', RESTORE_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['zookeeper-restore.sh', 'zookeeper-files.sh', 'rclone-s3.sh', 's3-repository.sh']));
    expect(sts.metadata.annotations?.['cdk8s-stateful.dev/backup-repository']).toBeUndefined();
    const plain = build(DatabaseEngine.zookeeper(), {}, false);
    expect(plain.pod.initContainers.map((c: any) => [c.name, c.image])).toEqual([['founding', API_CLIENT_IMAGE], ['config', 'zookeeper:3.9.5']]);
    expect(Object.keys(find(plain.m, 'ConfigMap', 'db-scripts').data)).not.toContain('rclone-s3.sh');
  });

  test('a single member: no members sidecar, the backup sidecar alone; restoreFrom without founding (the only member founds)', () => {
    const { pod } = build(DatabaseEngine.zookeeper({ backup: { image, repository, schedule: '0 * * * *' }, restoreFrom: { repository: { ...repository, path: '/coord/old' } } }), { replicas: 1 });
    expect(containers(pod).map((c: any) => [c.name, c.image])).toEqual([['config', image], ['main', image], ['backup', image]]);
    expect(values(pod.initContainers[0])).toMatchObject({ RESTORE_PATH: '/coord/old' });
    expect(values(pod.initContainers[0]).BACKUP_PATH).toBeUndefined();
  });
});

describe('DatabaseEngine.postgresql with Patroni', () => {
  const image = 'registry.example.com/postgres-patroni:18.4-4.1.5';
  const patroni = (options: any = {}, props: Partial<StatefulDatabaseProps> = {}) =>
    build(DatabaseEngine.postgresql({ patroni: { image, ...options }, maxConnections: 300, config: { work_mem: '16MB' } }), props);

  test('Patroni runs the set: its image and REST API, its probes, no clone init container, settings split between cluster and member', () => {
    const { sts, pod } = patroni();
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const main = pod.containers[0];
    expect(main.image).toBe(image);
    expect(pod.initContainers).toBeUndefined();
    expect(main.command).toEqual(['bash', '/opt/cdk8s-stateful/patroni-start.sh']);
    expect(main.args).toBeUndefined();
    expect(main.ports).toEqual([{ name: 'postgresql', containerPort: 5432, protocol: 'TCP' }, { name: 'patroni', containerPort: 8008, protocol: 'TCP' }]);
    expect(handler(main.readinessProbe)).toBe(handler({ httpGet: { path: '/readiness', port: 8008 } }));
    expect(handler(main.livenessProbe)).toBe(handler({ httpGet: { path: '/liveness', port: 8008 } }));
    expect(JSON.parse(env(main, 'CLUSTER_PARAMETERS').value)).toEqual({ max_connections: '300', max_slot_wal_keep_size: '2097152kB', wal_keep_size: '256MB' });
    expect(JSON.parse(env(main, 'MEMBER_PARAMETERS').value)).toEqual({ unix_socket_directories: '/var/run/postgresql', work_mem: '16MB' });
    expect(env(main, 'SYNCHRONOUS').value).toBe('true');
    expect(env(main, 'NAMESPACE').valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(env(main, 'POD_IP').valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    for (const [name, key] of [['ROOT_KEY', 'root-password'], ['REPLICATION_KEY', 'replication-password'], ['USERNAME_KEY', 'username'], ['PW_KEY', 'password']]) {
      expect(env(main, name)).toEqual(secretKey(name, key));
    }
    expect(env(patroni({ durability: PostgresDurability.ASYNCHRONOUS }).pod.containers[0], 'SYNCHRONOUS').value).toBe('false');
  });

  test('the writer Service selects the pod labelled primary, -read those labelled replica; the REST API is a peer port only', () => {
    const { m } = patroni();
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'primary' });
    expect(find(m, 'Service', 'db-read').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'replica' });
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([5432]);
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => p.port)).toEqual([5432, 8008]);
  });

  test('a ServiceAccount with a token for these pods only, a Role of what Patroni uses in its namespace, the API server in the NetworkPolicy', () => {
    const { m, pod } = patroni({ apiServerCidrs: ['10.0.0.10/32'], apiServerPorts: [6443] });
    expect(pod.serviceAccountName).toBe('db');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(m, 'ServiceAccount', 'db').automountServiceAccountToken).toBe(false);
    const role = find(m, 'Role', 'db');
    expect(role.metadata.namespace).toBe('data');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
    ]);
    expect(find(m, 'RoleBinding', 'db')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'db' },
      subjects: [{ kind: 'ServiceAccount', name: 'db', namespace: 'data' }],
    });
    expect(m.filter((o: any) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
    const defaults = find(patroni().m, 'NetworkPolicy', 'db').spec.egress;
    expect(defaults).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] });
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
  });

  const founders = ['mysql', 'postgresql', 'redis', 'zookeeper'];
  // Galera's members keep their bootstrap Lease (its own test above)
  test.each(presets.filter(([name]) => name !== 'mariadbGalera'))('%s without Patroni: an API token only to read and create the founding Lease, with more than one member', (preset, engine) => {
    const { m, pod } = build(engine());
    const single = build(engine(), { replicas: 1 });
    expect(single.pod.automountServiceAccountToken).toBe(false);
    expect(single.m.filter((o: any) => /Role/.test(o.kind))).toEqual([]);
    expect(JSON.stringify(find(single.m, 'NetworkPolicy').spec.egress)).not.toContain('ipBlock');
    if (!founders.includes(preset)) {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(m.filter((o: any) => /Role/.test(o.kind))).toEqual([]);
      expect(JSON.stringify(find(m, 'NetworkPolicy').spec.egress)).not.toContain('ipBlock');
      return;
    }
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(m, 'Role', 'db').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['db-founded'], verbs: ['get'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      // ZooKeeper's sidecar `members` reads the set's replica count
      ...(preset === 'zookeeper' ? [{ apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['db'], verbs: ['get'] }] : []),
    ]);
    const founding = pod.initContainers[0];
    expect(founding.name).toBe('founding');
    expect(founding.command).toEqual(['sh', '/opt/cdk8s-stateful/founding.sh']);
    expect(env(founding, 'FOUNDED_FILE').value).toBe('/var/run/cdk8s-founding/founded');
    expect(env(founding, 'FOUNDING_ORDINAL').value).toBe('0');
    // the engine's init script reads the answer from the same file, mounted read-only
    const reader = engineInits(pod).find((c: any) => env(c, 'FOUNDED_FILE'));
    expect(env(reader, 'FOUNDED_FILE').value).toBe('/var/run/cdk8s-founding/founded');
    expect(reader.volumeMounts).toContainEqual({ name: 'founding', mountPath: '/var/run/cdk8s-founding', readOnly: true });
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] });
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
  });
});

describe('DatabaseEngine.postgresql with Patroni and backup or restoreFrom (pgBackRest)', () => {
  const image = 'registry.example.com/postgres-patroni-pgbackrest:18.6-4.1.5-2.60.0';
  const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/orders', egressCidrs: ['10.96.0.0/12'] };

  test('backup: archiving in every member\'s Patroni parameters, the sidecar `backup` asking Patroni who leads and reading a replica by default (pgBackRest\'s TLS port open between members only), the store reachable, the promise in annotations, the backup alerts', () => {
    const { m, sts, pod } = build(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '0 */6 * * *', archiveTimeout: Duration.minutes(2) } }),
      { metrics: { prometheusOperator: true } });
    expect(m.filter((o: any) => !o.apiVersion.startsWith('monitoring.coreos.com/')).flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect(containers(pod).map((c: any) => [c.name, c.image])).toEqual([['main', image], ['backup', image], ['metrics', expect.any(String)]]);
    const [main, sidecar] = pod.containers;
    expect(JSON.parse(env(main, 'MEMBER_PARAMETERS').value)).toMatchObject({
      archive_mode: 'on', archive_command: 'pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db archive-push %p', archive_timeout: '120',
    });
    expect(JSON.parse(env(main, 'CLUSTER_PARAMETERS').value)).not.toHaveProperty('archive_mode');
    expect(env(main, 'SPOOL_DIR').value).toBe('/var/lib/postgresql/data/pgbackrest-spool');
    expect(env(main, 'BACKUP_S3_ACCESS_KEY_FILE').value).toBe('/run/secrets/db/s3-secret-access-key');
    expect(sidecar.command).toEqual(['bash', '/opt/cdk8s-stateful/postgres-backup.sh']);
    expect([env(sidecar, 'PRIMARY_BY').value, env(sidecar, 'BACKUP_MEMBER').value, env(sidecar, 'BACKUP_SCHEDULE').value]).toEqual(['patroni', 'replica', '0 */6 * * *']);
    // the TLS certificates come from the replication password's file, never a value of the spec
    expect([env(sidecar, 'BACKUP_TLS_PORT').value, env(sidecar, 'SCOPE').value, env(sidecar, 'REPLICATION_KEY').value, env(sidecar, 'KEYS_DIR').value])
      .toEqual(['8432', 'db', 'replication-password', '/run/secrets/db']);
    const policy = find(m, 'NetworkPolicy', 'db').spec;
    const members = [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'db' } } }];
    expect(policy.ingress).toContainEqual({ from: members, ports: expect.arrayContaining([{ port: 8432, protocol: 'TCP' }]) });
    expect(policy.egress).toContainEqual({ to: members, ports: expect.arrayContaining([{ port: 8432, protocol: 'TCP' }]) });
    expect(JSON.stringify(policy.ingress.filter((r: any) => JSON.stringify(r.from) !== JSON.stringify(members)))).not.toContain('8432');
    expect(sidecar.securityContext).toEqual(main.securityContext);
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef/);
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['patroni-start.sh', 'pgbackrest.sh', 'postgres-backup.sh', 'cron.sh']));
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).not.toContain('patroni-restore.sh');
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations).toMatchObject({ 'cdk8s-stateful.dev/backup-schedule': '0 */6 * * *', 'cdk8s-stateful.dev/retain-full-backups': '2' });
    const alerts = find(m, 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    expect(alerts).toEqual(expect.arrayContaining(['PostgresBackupLate', 'PostgresBackupFailed', 'PostgresWalArchivingFailing', 'PostgresWalArchivingStalled']));
    // Patroni's Role is unchanged by backups
    expect(find(m, 'Role', 'db').rules.map((r: any) => r.resources[0])).toEqual(['configmaps', 'pods']);
  });

  test('backup with member PRIMARY: the primary\'s files, no TLS server, no port 8432', () => {
    const { m, pod } = build(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '0 */6 * * *', member: BackupMember.PRIMARY } }));
    const sidecar = pod.containers[1];
    expect(env(sidecar, 'BACKUP_MEMBER').value).toBe('primary');
    expect(sidecar.env.map((e: any) => e.name)).not.toContain('BACKUP_TLS_PORT');
    expect(JSON.stringify(find(m, 'NetworkPolicy', 'db'))).not.toContain('8432');
  });

  test('restoreFrom: Patroni\'s image, the source repository and target in the server\'s environment, the restore script shipped, no sidecar, no archiving', () => {
    const { pod, m } = build(DatabaseEngine.postgresql({ patroni: { image }, restoreFrom: { repository, pointInTime: '2026-03-01T13:00:00+01:00' } }));
    const main = pod.containers[0];
    expect(pod.containers.map((c: any) => [c.name, c.image])).toEqual([['main', image]]);
    expect(env(main, 'RESTORE_TARGET').value).toBe('2026-03-01 13:00:00+01:00');
    expect(env(main, 'RESTORE_PATH').value).toBe('/shop/orders');
    expect(JSON.parse(env(main, 'MEMBER_PARAMETERS').value)).not.toHaveProperty('archive_mode');
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['patroni-restore.sh', 'pgbackrest.sh']));
  });
});

describe('DatabaseEngine.redis', () => {
  test('config generated at runtime into a memory-backed emptyDir; the password only as the Secret\'s file; maxmemory from the limit', () => {
    const { m, sts, pod } = build(DatabaseEngine.redis({ version: RedisVersion.VER_7_2_6 }));
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(pod.containers[0].args).toEqual(['redis-server', '/etc/redis/redis.conf']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/redis', readOnly: true });
    expect(pod.volumes.find((v: any) => v.name === 'config')).toEqual({ name: 'config', emptyDir: { medium: 'Memory' } });
    expect(env(engineInits(pod)[0], 'PW_KEY')).toEqual(secretKey('PW_KEY', 'password'));
    expect(env(pod.containers[0], 'PW_KEY')).toEqual(secretKey('PW_KEY', 'password'));
    expect(env(pod.containers[0], 'REDISCLI_AUTH')).toBeUndefined();
    expect(env(engineInits(pod)[0], 'MEMORY_LIMIT_BYTES')).toEqual({ name: 'MEMORY_LIMIT_BYTES', valueFrom: { resourceFieldRef: { resource: 'limits.memory', containerName: 'main' } } });
    expect(env(engineInits(pod)[0], 'MAXMEMORY_POLICY').value).toBe('noeviction');
    expect(pod.containers[0].readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-probe.sh', 'ready']);
    expect(pod.containers[0].livenessProbe.exec.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-probe.sh', 'live']);
    expect(find(m, 'ConfigMap').data['redis-config.sh']).not.toMatch(/requirepass [^"\\]/);
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
  });

  test('maxmemory, its policy and more settings', () => {
    const { m, pod } = build(DatabaseEngine.redis({ maxmemory: Size.mebibytes(300), maxmemoryPolicy: RedisMaxmemoryPolicy.ALLKEYS_LRU, config: { hz: '20' } }));
    expect(env(engineInits(pod)[0], 'MAXMEMORY').value).toBe('307200kb');
    expect(env(engineInits(pod)[0], 'MAXMEMORY_POLICY').value).toBe('allkeys-lru');
    expect(find(m, 'ConfigMap').data['engine.conf']).toBe('hz 20\n');
    expect(() => build(DatabaseEngine.redis({ config: { requirepass: 'x' } }))).toThrow(/config sets 'requirepass', which the preset manages itself/);
    expect(() => build(DatabaseEngine.redis({ maxmemoryPolicy: 'evict-all' as any }))).toThrow(/maxmemoryPolicy must be a RedisMaxmemoryPolicy, got "evict-all"/);
  });

  test('fails without credentials: no unauthenticated Redis', () => {
    expect(() => build(DatabaseEngine.redis(), {}, false)).toThrow(/DatabaseEngine.redis 'test\/db': the database has no credentials: without requirepass/);
  });
});

describe('DatabaseEngine.redis with Sentinel', () => {
  const sentinel = (options: any = {}, props: Partial<StatefulDatabaseProps> = {}) =>
    build(DatabaseEngine.redis({ sentinel: options, config: { hz: '20' } }), { replicas: 3, ...props });
  const named = (pod: any, name: string) => [...(pod.initContainers ?? []), ...pod.containers].find((c: any) => c.name === name);

  test('each pod: the server started as the Sentinels say, a Sentinel from the same image, a role keeper in the API client image', () => {
    const { m, pod } = sentinel();
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main', 'sentinel', 'role']);
    expect(pod.initContainers.map((c: any) => [c.name, c.image, c.command])).toEqual([
      ['founded', 'docker.io/curlimages/curl:8.14.1', ['sh', '/opt/cdk8s-stateful/redis-role-keeper.sh', 'founded']],
    ]);
    const [main, sent, role] = pod.containers;
    expect(main.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-sentinel-start.sh']);
    expect(main.args).toBeUndefined();
    expect(main.ports).toEqual([{ name: 'redis', containerPort: 6379, protocol: 'TCP' }]);
    expect(main.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/redis' });
    expect(pod.volumes.find((v: any) => v.name === 'config')).toEqual({ name: 'config', emptyDir: { medium: 'Memory' } });
    expect([env(main, 'SET_NAME').value, env(main, 'MIN_REPLICAS_TO_WRITE').value, env(main, 'MIN_REPLICAS_MAX_LAG').value]).toEqual(['db', '1', '2']);
    expect(sent.image).toBe('redis:8.2.1');
    expect(sent.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-sentinel.sh']);
    expect(sent.ports).toEqual([{ name: 'sentinel', containerPort: 26379, protocol: 'TCP' }]);
    expect(sent.volumeMounts.slice(0, 2)).toEqual([{ name: 'config', mountPath: '/etc/redis' }, { name: 'data', mountPath: '/data' }]);
    expect(['QUORUM', 'DOWN_AFTER_MS', 'FAILOVER_TIMEOUT_MS'].map((n) => env(sent, n).value)).toEqual(['2', '5000', '10000']);
    expect(env(sent, 'PW_KEY')).toEqual(secretKey('PW_KEY', 'password'));
    expect(role.image).toBe('docker.io/curlimages/curl:8.14.1');
    expect(role.command).toEqual(['sh', '/opt/cdk8s-stateful/redis-role-keeper.sh', 'keep']);
    expect(env(role, 'ROLE_LABEL').value).toBe('cdk8s-stateful.dev/role');
    for (const c of pod.containers) expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(Object.keys(find(m, 'ConfigMap').data).sort()).toEqual(
      ['common.sh', 'engine.conf', 'kube-api.sh', 'redis-monitoring-user.sh', 'redis-probe.sh', 'redis-role-keeper.sh', 'redis-sentinel-start.sh', 'redis-sentinel.sh']);
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
  });

  test('the Services follow the role label: <name> the primary, -read the replicas; Sentinel\'s port for Sentinel-aware clients', () => {
    const { m } = sentinel();
    expect(find(m, 'Service', 'db').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'primary' });
    expect(find(m, 'Service', 'db-read').spec.selector).toEqual({ 'app.kubernetes.io/instance': 'db', 'cdk8s-stateful.dev/role': 'replica' });
    expect(find(m, 'Service', 'db-headless').spec.ports.map((p: any) => p.port)).toEqual([6379, 26379]);
    expect(find(m, 'Service', 'db').spec.ports.map((p: any) => p.port)).toEqual([6379, 26379]);
  });

  test('the keeper\'s Role: its own pod\'s label and the founding Lease, nothing else; the API server in the NetworkPolicy', () => {
    const { m, pod } = sentinel({ apiServerCidrs: ['10.0.0.10/32'], apiServerPorts: [6443] });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(m, 'Role', 'db').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create'] },
    ]);
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
  });

  test('quorum, timings and durability from the options; the API client image and registry override', () => {
    const { pod } = sentinel({ downAfter: Duration.seconds(8), failoverTimeout: Duration.seconds(30), minReplicasToWrite: 2, minReplicasMaxLag: Duration.seconds(4),
      apiClientImage: 'registry.example.com/curl:8.14.1' }, { replicas: 5 });
    const [main, sent, role] = pod.containers;
    expect(['QUORUM', 'DOWN_AFTER_MS', 'FAILOVER_TIMEOUT_MS'].map((n) => env(sent, n).value)).toEqual(['3', '8000', '30000']);
    expect([env(main, 'MIN_REPLICAS_TO_WRITE').value, env(main, 'MIN_REPLICAS_MAX_LAG').value]).toEqual(['2', '4']);
    expect(role.image).toBe('registry.example.com/curl:8.14.1');
    const mirrored = sentinel({}, { imageRegistry: 'mirror.example.com' } as any).pod;
    expect(mirrored.containers.map((c: any) => c.image)).toEqual(['mirror.example.com/library/redis:8.2.1', 'mirror.example.com/library/redis:8.2.1',
      'mirror.example.com/curlimages/curl:8.14.1']);
    expect(named(mirrored, 'founded').image).toBe('mirror.example.com/curlimages/curl:8.14.1');
  });

  test('restoreFrom: the init container restore after founded (which then reads the data volume: the member that may restore asks until the API server answers), on the rclone image, with the data volume, the founded file and the source repository', () => {
    const image = 'registry.example.com/redis-rclone:8.2.1-1.60.1';
    const repository = { bucket: 'backups', endpoint: 'store.backup.svc:7070', region: 'us-east-1', path: '/shop/cache', caCertificateKey: 's3-ca.crt', egressCidrs: ['10.96.0.0/12'] };
    const { m, sts, pod } = build(DatabaseEngine.redis({ sentinel: {}, restoreFrom: { image, repository, backup: '20260301T023000Z.rdb' } }), { replicas: 3 });
    expect(m.flatMap((o: any) => schemaErrors(o))).toEqual([]);
    expect([...pod.initContainers, ...pod.containers].map((c: any) => [c.name, c.image])).toEqual([
      ['founded', 'docker.io/curlimages/curl:8.14.1'], ['restore', image], ['main', image], ['sentinel', image], ['role', 'docker.io/curlimages/curl:8.14.1']]);
    const [founded, restore] = pod.initContainers;
    expect([env(founded, 'RESTORE_DATA_MARKERS').value, env(founded, 'START_ORDINAL').value]).toEqual(['/data/appendonlydir /data/appendonly.aof /data/dump.rdb', '0']);
    expect(founded.volumeMounts.slice(0, 2)).toEqual([{ name: 'config', mountPath: '/etc/redis' }, { name: 'data', mountPath: '/data', readOnly: true }]);
    expect(restore.command).toEqual(['bash', '/opt/cdk8s-stateful/redis-restore.sh', 'sentinel']);
    expect(restore.volumeMounts.slice(0, 2)).toEqual([{ name: 'config', mountPath: '/etc/redis' }, { name: 'data', mountPath: '/data' }]);
    expect(Object.fromEntries(restore.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]))).toMatchObject({
      FOUNDED_FILE: '/etc/redis/founded', SET_NAME: 'db', DATA_DIR: '/data', CONFIG_DIR: '/etc/redis', START_ORDINAL: '0',
      RESTORE_BUCKET: 'backups', RESTORE_PATH: '/shop/cache', RESTORE_BACKUP: '20260301T023000Z.rdb', RESTORE_CA_FILE: '/run/secrets/db/s3-ca.crt',
    });
    expect(env(restore, 'PW_KEY')).toEqual(secretKey('PW_KEY', 'password'));
    expect(restore.securityContext).toEqual(pod.containers[0].securityContext);
    // the temporary server that loads the snapshot gets the database's memory
    expect(restore.resources).toEqual(pod.containers[0].resources);
    expect(Object.keys(find(m, 'ConfigMap', 'db-scripts').data)).toEqual(expect.arrayContaining(['redis-restore.sh', 'rclone-s3.sh', 's3-repository.sh']));
    expect(find(m, 'NetworkPolicy', 'db').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ port: 7070, protocol: 'TCP' }] });
    expect(sts.metadata.annotations?.['cdk8s-stateful.dev/backup-repository']).toBeUndefined();
    // without restoreFrom: no restore container, and the founded container gives up on a silent API server, without the data volume
    const plain = sentinel().pod;
    expect(plain.initContainers.map((c: any) => c.name)).toEqual(['founded']);
    expect(plain.initContainers[0].env.map((e: any) => e.name)).not.toContain('RESTORE_DATA_MARKERS');
    expect(plain.initContainers[0].volumeMounts.map((v: any) => v.name)).not.toContain('data');
  });

  test('without sentinel the preset\'s output is what it was: no sidecar, no role label', () => {
    const { pod, m } = build(DatabaseEngine.redis(), { replicas: 3 });
    expect(pod.containers.map((c: any) => c.name)).toEqual(['main']);
    expect(find(m, 'Service', 'db').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('db-0');
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
    expect(engineInits(pod)[0].volumeMounts.slice(0, 2)).toEqual([{ name: 'conf', mountPath: '/cdk8s-conf' }, { name: 'data', mountPath: '/data' }]);
    expect(pod.volumes.map((v: any) => v.name)).not.toContain('credentials');
    expect(keysRead(pod)).toEqual([]);
  });

  test('podManagementPolicy given by the user wins over the engine default', () => {
    const { sts } = build(DatabaseEngine.zookeeper(), { podManagementPolicy: kplus.PodManagementPolicy.ORDERED_READY });
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
