import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AccessMode, AntiAffinity, ClaimRetention, DatabaseEngine, MysqlVersion, HeadlessService, HealthProbe,
  NfsPersistentVolumePool, ReclaimPolicy, StatefulDatabase, StorageClass, StorageClassFast,
  StorageClassSlow, StorageProvider, SynthChecks, UpdateStrategy,
} from '../lib';
import { app, chart } from './util';
import { appOf, outdir } from './plan-util';

/** One invalid configuration: it builds an app that must fail with `error`. */
export interface BadInput {
  readonly what: string;
  readonly build: () => void;
}

const engine = DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 });
const quorum = DatabaseEngine.of({ name: 'zk', image: 'zookeeper:3.9.3', quorum: true, ports: [{ name: 'client', port: 2181 }, { name: 'peer', port: 2888, peer: true }] });
const db = (props: any = {}, namespace?: string) => new StatefulDatabase(chart(namespace), 'db', { engine, ...props });
const pool = (props: any = {}) => new NfsPersistentVolumePool(chart(), 'pool', { server: 'nfs.local', basePath: '/exports', ...props });
/** A preset database with credentials and these `metrics`. */
const monitored = (engine: DatabaseEngine, metrics: any, props: any = {}) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'db-credentials') }, metrics, ...props });
};
/** Synthesizes the chart as `cdk8s synth` does (validating the whole App): app-wide errors surface here. */
const synthOf = (c: Chart) => Testing.synth(c);
const dbOnPool = (poolProps: any, dbProps: any) => {
  const c = chart('ns');
  const p = new NfsPersistentVolumePool(c, 'pool', { server: 'nfs.local', basePath: '/exports', capacity: Size.gibibytes(1), ...poolProps });
  new StatefulDatabase(c, 'db', { engine, ...dbProps, storage: { pool: p, size: Size.gibibytes(1), ...dbProps.storage } });
  synthOf(c);
};
/** Two charts of one App, `a` and `b`, in namespaces `ns-a` and `ns-b` (or both in `ns`). */
const twoCharts = (sameNamespace = false): [Chart, Chart] => {
  const a = app();
  return [
    new Chart(a, 'a', { namespace: sameNamespace ? 'ns' : 'ns-a', disableResourceNameHashes: true }),
    new Chart(a, 'b', { namespace: sameNamespace ? 'ns' : 'ns-b', disableResourceNameHashes: true }),
  ];
};
const svc = (props: any = {}) => new HeadlessService(chart(), 'h', { selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }], statefulSetName: 'db', ...props });
const custom = (options: any) => db({ engine: DatabaseEngine.custom({ image: 'postgres:16.6', ports: [{ name: 'pg', port: 5432 }], ...options }) });

/** A database deployed with `before` (synthesized into a fresh directory), then synthesized again with `after`. */
const redeploy = (before: any, after: any) => {
  const dir = outdir();
  const build = (props: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', { engine, ...props }));
  build(before).synth();
  build(after).synthYaml();
};
const zookeeper = DatabaseEngine.zookeeper();
const PATRONI_IMAGE = 'registry.example.com/postgres-patroni:18.4-4.1.5';
/** A PostgreSQL set with Patroni options PATRONI (and more props), with credentials. */
const mysqlDb = (options: any) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.mysql(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'mysql') } });
};
const MYSQL_IMAGE = 'registry.example.com/mysql-rclone:9.7.4-1.75.2';
const mysqlBackup = (backup: any = {}) => ({ image: MYSQL_IMAGE, repository: S3_REPO, schedule: '30 2 * * *', ...backup });
/** A MySQL set deployed with the engine options BEFORE, then synthesized again with AFTER. */
const redeployMysql = (before: any, after: any) => {
  const dir = outdir();
  const build = (options: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', {
    engine: DatabaseEngine.mysql(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'mysql') },
  }));
  build(before).synth();
  build(after).synthYaml();
};
const galeraDb = (options: any, props: any = {}) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.mariadbGalera(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'galera') }, ...props });
};
const zkDb = (options: any, credentials = true) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.zookeeper(options), ...(credentials ? { credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'zk') } } : {}) });
};
const ZK_IMAGE = 'registry.example.com/zookeeper-rclone:3.9.5-1.60.1';
const zkBackup = (backup: any = {}) => ({ image: ZK_IMAGE, repository: S3_REPO, schedule: '0 * * * *', ...backup });
/** A ZooKeeper ensemble deployed with the engine options BEFORE, then synthesized again with AFTER. */
const redeployZk = (before: any, after: any) => {
  const dir = outdir();
  const build = (options: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', {
    engine: DatabaseEngine.zookeeper(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'zk') },
  }));
  build(before).synth();
  build(after).synthYaml();
};
const patroniDb = (patroni: any, props: any = {}) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.postgresql({ patroni }), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'pg') }, ...props });
};
/** A MySQL set with Group Replication options GROUP (and more MySQL options), with credentials. */
const mysqlGroupDb = (group: any, options: any = {}) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.mysql({ ...options, groupReplication: group }), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'my') } });
};
const PGBACKREST_IMAGE = 'registry.example.com/postgres-pgbackrest:18.6-2.60.0';
const S3_REPO = { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/prod/pg' };
/** A valid `backup` of a PostgreSQL set. */
const S3_BACKUP = { image: PGBACKREST_IMAGE, repository: S3_REPO, schedule: '30 2 * * *' };
/** A PostgreSQL set with credentials and `backup` (a valid one, with BACKUP's fields over it), and more engine OPTIONS. */
const backupDb = (backup: any, options: any = {}, props: any = {}) => {
  const c = chart();
  const engine = DatabaseEngine.postgresql({ backup: { ...S3_BACKUP, ...backup }, ...options });
  new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'pg') }, ...props });
};
/** A PostgreSQL set with credentials restored from RESTORE. */
const restoredDb = (restore: any) => {
  const c = chart();
  const engine = DatabaseEngine.postgresql({ restoreFrom: { image: PGBACKREST_IMAGE, repository: S3_REPO, ...restore } });
  new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'pg') } });
};
/** A Redis set with Sentinel options SENTINEL (and more props), with credentials. */
const sentinelDb = (sentinel: any, props: any = {}) => {
  const c = chart();
  new StatefulDatabase(c, 'db', { engine: DatabaseEngine.redis({ sentinel }), replicas: 3, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'redis') }, ...props });
};
const RCLONE_IMAGE = 'registry.example.com/redis-rclone:8.2.1-1.60.1';
/** A Redis set with credentials and `backup` (a valid one, with BACKUP's fields over it), and more engine OPTIONS. */
const redisBackupDb = (backup: any, options: any = {}, props: any = {}) => {
  const c = chart();
  const engine = DatabaseEngine.redis({ backup: { image: RCLONE_IMAGE, repository: S3_REPO, schedule: '0 * * * *', ...backup }, ...options });
  new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'redis') }, ...props });
};
/** A Redis set with credentials restored from RESTORE. */
const redisRestoredDb = (restore: any, props: any = {}, options: any = {}) => {
  const c = chart();
  const engine = DatabaseEngine.redis({ restoreFrom: { image: RCLONE_IMAGE, repository: S3_REPO, ...restore }, ...options });
  new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'redis') }, ...props });
};
/** A Redis set deployed with the engine options BEFORE, then synthesized again with AFTER. */
const redeployRedis = (before: any, after: any) => {
  const dir = outdir();
  const build = (options: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', {
    engine: DatabaseEngine.redis(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'redis') },
  }));
  build(before).synth();
  build(after).synthYaml();
};
const GALERA_IMAGE = 'registry.example.com/mariadb-rclone:11.8.3-1.60.1';
const galeraBackup = (backup: any = {}) => ({ image: GALERA_IMAGE, repository: S3_REPO, schedule: '30 2 * * *', ...backup });
/** A Galera set deployed with the engine options BEFORE, then synthesized again with AFTER. */
const redeployGalera = (before: any, after: any) => {
  const dir = outdir();
  const build = (options: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', {
    engine: DatabaseEngine.mariadbGalera(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'galera') },
  }));
  build(before).synth();
  build(after).synthYaml();
};
/** A PostgreSQL set deployed with the engine options BEFORE, then synthesized again with AFTER. */
const redeployPostgres = (before: any, after: any) => {
  const dir = outdir();
  const build = (options: any) => appOf(dir, (c) => new StatefulDatabase(c, 'db', {
    engine: DatabaseEngine.postgresql(options), credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'pg') },
  }));
  build(before).synth();
  build(after).synthYaml();
};

export const BAD_INPUTS: BadInput[] = [
  // names
  { what: 'a set name with capitals', build: () => db({ name: 'Orders' }) },
  { what: 'a set name with an underscore', build: () => db({ name: 'orders_db' }) },
  { what: 'a set name longer than 52 characters', build: () => db({ name: 'a'.repeat(53) }) },
  { what: 'a set name ending in a dash', build: () => db({ name: 'orders-' }) },
  { what: 'an empty set name', build: () => db({ name: '' }) },
  { what: 'a headless Service name with a dot', build: () => db({ headlessServiceName: 'db.peers' }) },
  { what: 'a claim template name with capitals', build: () => db({ storage: { name: 'Data' } }) },
  { what: 'a claim template name longer than 63 characters', build: () => db({ storage: { name: 'b'.repeat(64) } }) },
  { what: 'a port name longer than 15 characters', build: () => custom({ ports: [{ name: 'postgres-primary', port: 5432 }] }) },
  { what: 'an init container name with capitals', build: () => db({ initContainers: [{ name: 'Init', image: 'busybox:1.36.1' }] }) },
  { what: 'an init container named main', build: () => db({ initContainers: [{ name: 'main', image: 'busybox:1.36.1' }] }) },
  { what: 'two init containers with one name', build: () => db({ initContainers: [{ name: 'a', image: 'busybox:1.36.1' }, { name: 'a', image: 'busybox:1.36.1' }] }) },
  { what: 'a StorageClass name with capitals', build: () => new StorageClassFast(chart(), 'Fast', { provider: StorageProvider.gce() }) },
  { what: 'a pool name with an underscore', build: () => pool({ name: 'nfs_pool' }) },
  { what: 'an environment variable name with a space', build: () => db({ env: { 'MY VAR': kplus.EnvValue.fromValue('x') } }) },
  { what: 'a cluster domain with an underscore', build: () => db({ clusterDomain: 'cluster_local' }) },
  { what: 'a label key with a space', build: () => pool({ labels: { 'my label': 'x' } }) },
  // sizes
  { what: 'a claim size of zero', build: () => db({ storage: { size: Size.gibibytes(0) } }) },
  { what: 'a claim size of half a KiB', build: () => db({ storage: { size: Size.kibibytes(0.5) } }) },
  { what: 'a claim size that is not a Size', build: () => db({ storage: { size: '10Gi' } }) },
  { what: 'a pool capacity of zero', build: () => pool({ capacity: Size.mebibytes(0) }) },
  { what: 'a scratch volume limit of zero', build: () => db({ scratchVolumes: [{ name: 'cache', sizeLimit: Size.mebibytes(0) }] }) },
  // replicas and ordinals
  { what: 'negative replicas', build: () => db({ replicas: -1 }) },
  { what: 'fractional replicas', build: () => db({ replicas: 2.5 }) },
  { what: 'replicas as a string', build: () => db({ replicas: '3' }) },
  { what: 'more than 1000 replicas', build: () => db({ replicas: 1001 }) },
  { what: 'a negative start ordinal', build: () => db({ startOrdinal: -1 }) },
  { what: 'a negative partition', build: () => db({ updateStrategy: UpdateStrategy.rollingUpdate({ partition: -1 }) }) },
  // ports
  { what: 'port 0', build: () => custom({ ports: [{ name: 'pg', port: 0 }] }) },
  { what: 'port 65536', build: () => custom({ ports: [{ name: 'pg', port: 65536 }] }) },
  { what: 'a fractional port', build: () => custom({ ports: [{ name: 'pg', port: 5432.5 }] }) },
  { what: 'two ports with one number', build: () => custom({ ports: [{ name: 'a', port: 5432 }, { name: 'b', port: 5432 }] }) },
  { what: 'two ports with one name', build: () => custom({ ports: [{ name: 'pg', port: 5432 }, { name: 'pg', port: 5433 }] }) },
  { what: 'an engine without ports', build: () => custom({ ports: [] }) },
  { what: 'only peer ports with a client Service', build: () => custom({ ports: [{ name: 'peer', port: 2888, peer: true }] }) },
  { what: 'a headless Service without ports', build: () => svc({ ports: [] }) },
  { what: 'a probe on a port the container does not expose', build: () => db({ livenessProbe: HealthProbe.tcp(3306) }) },
  // pools too small or mismatched
  { what: 'a pool with fewer volumes than replicas', build: () => dbOnPool({ volumes: 2 }, { replicas: 3 }) },
  { what: 'a claim larger than the pool volumes', build: () => dbOnPool({ volumes: 1 }, { replicas: 1, storage: { size: Size.gibibytes(5) } }) },
  { what: 'a claim asking ReadWriteMany of a ReadWriteOnce pool', build: () => dbOnPool({ volumes: 1, reserveVolumes: false }, { replicas: 1, storage: { accessModes: [AccessMode.READ_WRITE_MANY] } }) },
  { what: 'a pool shared by two sets with too few volumes', build: () => {
    const c = chart('ns');
    const p = new NfsPersistentVolumePool(c, 'pool', { server: 'nfs.local', basePath: '/exports', volumes: 3, capacity: Size.gibibytes(1) });
    new StatefulDatabase(c, 'a', { engine, replicas: 2, storage: { pool: p, size: Size.gibibytes(1) } });
    new StatefulDatabase(c, 'b', { engine, replicas: 2, storage: { pool: p, size: Size.gibibytes(1) } });
    synthOf(c);
  } },
  { what: 'a pool of zero volumes', build: () => pool({ volumes: 0 }) },
  { what: 'storage on a pool and a class at once', build: () => {
    const c = chart();
    const p = new NfsPersistentVolumePool(c, 'pool', { server: 'nfs.local', basePath: '/exports' });
    new StatefulDatabase(c, 'db', { engine, storage: { pool: p, storageClass: StorageClass.fromStorageClassName('fast') } });
  } },
  // access modes
  { what: 'an empty access mode list', build: () => db({ storage: { accessModes: [] } }) },
  { what: 'an unknown access mode', build: () => db({ storage: { accessModes: ['ReadWriteAll'] } }) },
  { what: 'ReadWriteOncePod on NFS', build: () => pool({ accessModes: [AccessMode.READ_WRITE_ONCE_POD] }) },
  // deprecated or unsafe policies
  { what: 'a Recycle pool', build: () => pool({ reclaimPolicy: 'Recycle' }) },
  { what: 'a Delete pool', build: () => pool({ reclaimPolicy: ReclaimPolicy.DELETE }) },
  { what: 'an unknown reclaim policy on a StorageClass', build: () => new StorageClass(chart(), 'x', { provisioner: 'p', reclaimPolicy: 'Archive' as any }) },
  { what: 'an unknown claim retention', build: () => db({ claimRetentionWhenScaled: 'Keep' as ClaimRetention }) },
  { what: 'an unknown pod management policy', build: () => db({ podManagementPolicy: 'Sequential' as kplus.PodManagementPolicy }) },
  { what: 'an unknown anti-affinity', build: () => db({ antiAffinity: 'soft' as AntiAffinity }) },
  { what: 'maxUnavailable 0, which blocks every drain', build: () => db({ replicas: 3, maxUnavailable: 0 }) },
  { what: 'maxUnavailable above the replica count', build: () => db({ replicas: 3, maxUnavailable: 4 }) },
  { what: 'maxUnavailable that breaks quorum', build: () => db({ engine: quorum, replicas: 5, maxUnavailable: 3 }) },
  { what: 'two volumes at one path in the NFS export', build: () => pool({ basePath: undefined, paths: ['/exports/a', '/exports/a'] }) },
  { what: 'paths and basePath together', build: () => pool({ paths: ['/exports/a'] }) },
  // volumes not declared, mounts
  { what: 'an init container mounting an undeclared volume', build: () => db({ initContainers: [{ name: 'init', image: 'busybox:1.36.1', mounts: [{ volume: 'config', path: '/config' }] }] }) },
  { what: 'the database mounting an undeclared volume', build: () => db({ mounts: [{ volume: 'cache', path: '/cache' }] }) },
  { what: 'two mounts at one path', build: () => db({ scratchVolumes: [{ name: 'a' }, { name: 'b' }], mounts: [{ volume: 'a', path: '/x' }, { volume: 'b', path: '/x' }] }) },
  { what: 'a relative mount path', build: () => db({ storage: { mountPath: 'data' } }) },
  { what: 'a mount path with ..', build: () => db({ scratchVolumes: [{ name: 'a' }], mounts: [{ volume: 'a', path: '/var/../etc' }] }) },
  { what: 'a scratch volume named like the data claim', build: () => db({ scratchVolumes: [{ name: 'data' }] }) },
  { what: 'an extra claim without a mount path', build: () => db({ extraVolumeClaims: [{ name: 'archive' }] }) },
  { what: 'an extra claim named like the data claim', build: () => db({ extraVolumeClaims: [{ name: 'data', mountPath: '/archive' }] }) },
  // images
  { what: 'an image without a tag', build: () => custom({ image: 'postgres' }) },
  { what: 'an image tagged latest', build: () => custom({ image: 'postgres:latest' }) },
  { what: 'an image with a registry port but no tag', build: () => custom({ image: 'registry.local:5000/postgres' }) },
  { what: 'an init container image without a tag', build: () => db({ initContainers: [{ name: 'init', image: 'busybox' }] }) },
  { what: 'an empty image', build: () => custom({ image: '' }) },
  { what: 'an engine that runs as root', build: () => custom({ runAsUser: 0 }) },
  // credentials
  { what: 'a literal password', build: () => db({ env: { POSTGRES_PASSWORD: kplus.EnvValue.fromValue('hunter2') } }) },
  { what: 'a literal API token in an init container', build: () => db({ initContainers: [{ name: 'init', image: 'busybox:1.36.1', env: { API_TOKEN: kplus.EnvValue.fromValue('t0k3n') } }] }) },
  { what: 'an env value that is not an EnvValue', build: () => db({ env: { MODE: 'primary' } }) },
  // NFS server and paths
  { what: 'an NFS server with a space', build: () => pool({ server: 'nfs server' }) },
  { what: 'a missing NFS server', build: () => pool({ server: undefined }) },
  { what: 'a relative NFS base path', build: () => pool({ basePath: 'exports' }) },
  { what: 'a missing NFS base path', build: () => pool({ basePath: undefined }) },
  // misc
  { what: 'a probe that is not a HealthProbe', build: () => db({ readinessProbe: { tcpSocket: { port: 5432 } } }) },
  { what: 'an empty headless Service selector', build: () => svc({ selector: {} }) },
  { what: 'an empty StorageClass provisioner', build: () => new StorageClass(chart(), 'x', { provisioner: '' }) },
  { what: 'an engine that is not a DatabaseEngine', build: () => db({ engine: { image: 'postgres:16.6' } }) },
  { what: 'a grace period that is not whole seconds', build: () => db({ terminationGracePeriod: Duration.millis(1500) }) },
  { what: 'a probe timeout that is not whole seconds', build: () => db({ readinessProbe: HealthProbe.tcp(5432, { timeout: Duration.millis(500) }) }) },
  { what: 'a probe failure threshold of 0', build: () => db({ livenessProbe: HealthProbe.tcp(5432, { failureThreshold: 0 }) }) },
  // duplicates across the App
  { what: 'a headless Service named like the database', build: () => synthOf(db({ headlessServiceName: 'db' }).node.scope as Chart) },
  { what: 'two databases with one name in one namespace', build: () => {
    const c = chart('shop');
    new StatefulDatabase(c, 'orders', { engine });
    new StatefulDatabase(c, 'orders-2', { engine, name: 'orders' });
    synthOf(c);
  } },
  { what: 'two databases with one name in two charts of one namespace', build: () => {
    const [a, b] = twoCharts(true);
    new StatefulDatabase(a, 'orders', { engine });
    new StatefulDatabase(b, 'orders', { engine });
    synthOf(a);
  } },
  { what: 'one pool id in two charts', build: () => {
    const [a, b] = twoCharts();
    for (const c of [a, b]) new NfsPersistentVolumePool(c, 'nfs', { server: 'nfs.local', basePath: `/exports/${c.node.id}`, volumes: 2 });
    synthOf(b);
  } },
  { what: 'a fast class for AWS in one chart and for GCE in another', build: () => {
    const [a, b] = twoCharts();
    new StorageClassFast(a, 'fast', { provider: StorageProvider.aws() });
    new StorageClassFast(b, 'fast', { provider: StorageProvider.gce() });
    synthOf(a);
  } },
  // resources
  { what: 'a CPU request above its limit', build: () => db({ resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.millis(500) } } }) },
  { what: 'an init container that runs the server, with resources of its own', build: () => db({ initContainers: [{ name: 'copy', image: 'busybox:1.36.1', runsServer: true,
    resources: { memory: { limit: Size.gibibytes(1) } } }] }) },
  { what: 'an init container memory request above its limit', build: () => db({ initContainers: [{ name: 'init', image: 'busybox:1.36.1',
    resources: { memory: { request: Size.mebibytes(256), limit: Size.mebibytes(128) } } }] }) },
  { what: 'a CPU request as a string', build: () => db({ resources: { cpu: { request: '500m' } } }) },
  // literal credentials outside env names
  { what: 'a password flag in the engine args', build: () => custom({ args: ['--requirepass', 'hunter2'] }) },
  { what: 'a password flag with = in the engine command', build: () => custom({ command: ['postgres', '--password=hunter2'] }) },
  { what: 'a URL with a password in an env value', build: () => db({ env: { DATABASE_URL: kplus.EnvValue.fromValue('postgres://app:hunter2@db:5432/app') } }) },
  { what: 'redis-cli -a in a probe', build: () => custom({ ports: [{ name: 'redis', port: 6379 }], readinessProbe: HealthProbe.command(['redis-cli', '-a', 'hunter2', 'ping']) }) },
  { what: 'mysql -p<password> in a shell probe', build: () => db({ readinessProbe: HealthProbe.command(['sh', '-c', 'mysqladmin -uroot -phunter2 ping']) }) },
  { what: 'a password assignment in an init container script', build: () => db({ initContainers: [{ name: 'init', image: 'postgres:16.6',
    command: ['sh', '-c', 'PGPASSWORD=hunter2 psql -h db -c "select 1"'] }] }) },
  // storage classes
  { what: 'a referenced class name that is not a DNS subdomain', build: () => db({ storage: { storageClass: StorageClass.fromStorageClassName('Premium_SSD') } }) },
  { what: 'a claim under 125 GiB on an AWS st1 class', build: () => {
    const c = chart();
    new StatefulDatabase(c, 'db', { engine, storage: { storageClass: new StorageClassSlow(c, 'slow', { provider: StorageProvider.aws() }), size: Size.gibibytes(100) } });
  } },
  { what: 'a claim under 125 GiB on an EBS sc1 class', build: () => {
    const c = chart();
    const cold = new StorageClass(c, 'cold', { provisioner: 'ebs.csi.aws.com', parameters: { type: 'sc1' } });
    new StatefulDatabase(c, 'db', { engine, extraVolumeClaims: [{ name: 'archive', mountPath: '/archive', storageClass: cold, size: Size.gibibytes(10) }] });
  } },
  // ordinals and templates asked for
  { what: 'podDnsName of an ordinal below startOrdinal', build: () => db({ startOrdinal: 1, replicas: 3 }).podDnsName(0) },
  { what: 'podDnsName of a negative ordinal', build: () => db({ replicas: 3 }).podDnsName(-3) },
  { what: 'podDnsName of an ordinal past the last replica', build: () => db({ replicas: 3 }).podDnsName(3) },
  { what: 'podDnsName of a set with 0 replicas', build: () => db({ replicas: 0 }).podDnsName(0) },
  { what: 'claimNames of an unknown template', build: () => db({ replicas: 2 }).claimNames('logs') },
  { what: 'a headless Service pod name of a negative ordinal', build: () => svc().podDnsName(-1) },
  { what: 'a partition beyond the highest ordinal', build: () => db({ replicas: 3, updateStrategy: UpdateStrategy.rollingUpdate({ partition: 3 }) }) },
  // names from construct ids, NaN
  { what: 'a database named by a mixed-case construct id', build: () => new StatefulDatabase(chart(), 'OrdersDB', { engine }) },
  { what: 'a pool named by a capitalised construct id with an underscore', build: () => new NfsPersistentVolumePool(chart(), 'Web_Pool', { server: 'nfs.local', basePath: '/exports' }) },
  { what: 'NaN replicas', build: () => db({ replicas: NaN }) },
  // pod placement, identity, Services, budget, DNS
  { what: 'a pod label that would change the selector', build: () => db({ podLabels: { 'app.kubernetes.io/instance': 'other' } }) },
  { what: 'a pod annotation with a space in its key', build: () => db({ podAnnotations: { 'my note': 'x' } }) },
  { what: 'a nodeSelector value with a space', build: () => db({ nodeSelector: { disk: 'fast ssd' } }) },
  { what: 'a toleration value without a key', build: () => db({ tolerations: [{ value: 'db' }] }) },
  { what: 'a toleration evictAfter without NoExecute', build: () => db({ tolerations: [{ key: 'dedicated', effect: kplus.TaintEffect.NO_SCHEDULE, evictAfter: Duration.minutes(1) }] }) },
  { what: 'an unknown toleration effect', build: () => db({ tolerations: [{ key: 'dedicated', effect: 'Never' }] }) },
  { what: 'a priority class name with capitals', build: () => db({ priorityClassName: 'HighPriority' }) },
  { what: 'a service account given and created', build: () => db({ serviceAccountName: 'sa', createServiceAccount: true }) },
  { what: 'an image registry with a scheme', build: () => db({ imageRegistry: 'https://mirror.example.com' }) },
  { what: 'an ExternalName client Service', build: () => db({ clientServiceType: kplus.ServiceType.EXTERNAL_NAME }) },
  { what: 'a client Service type without a client Service', build: () => db({ clientService: false, clientServiceType: kplus.ServiceType.LOAD_BALANCER }) },
  { what: 'maxUnavailable with the budget off', build: () => db({ podDisruptionBudget: false, maxUnavailable: 1 }) },
  { what: 'a startup probe on a port the container does not expose', build: () => db({ startupProbe: HealthProbe.tcp(8080) }) },
  { what: 'a DNS egress cidr and labels together', build: () => db({ dnsEgress: { cidr: '169.254.20.10/32', podLabels: { 'k8s-app': 'node-local-dns' } } }) },
  { what: 'a DNS egress cidr that is not one', build: () => db({ dnsEgress: { cidr: '169.254.20.10' } }) },
  { what: 'a DNS egress port of 0', build: () => db({ dnsEgress: { port: 0 } }) },
  { what: 'clients from an address range that is not a CIDR', build: () => db().connections!.allowFromCidr('10.0.0.0/33') },
  { what: 'clients that are a Service, not a workload', build: () => {
    const d = db();
    d.connections!.allowFrom(d.headlessService);
  } },
  { what: 'clients whose selector is plain labels, not a cdk8s-plus LabelSelector', build: () => {
    const d = db();
    d.connections!.allowFrom({ node: d.node, toPodSelectorConfig: () => ({ labelSelector: { app: 'api' } }) } as any);
  } },
  { what: 'a ConfigMap as the credentials Secret', build: () => {
    const c = chart();
    new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.ConfigMap.fromConfigMapName(c, 'config', 'db-config') } });
  } },
  { what: 'a credentials Secret name with capitals', build: () => {
    const c = chart();
    new StatefulDatabase(c, 'db', { engine, credentials: { secret: kplus.Secret.fromSecretName(c, 'creds', 'DB_Credentials') } });
  } },
  { what: 'a Deployment as an image pull Secret', build: () => {
    const c = chart();
    new StatefulDatabase(c, 'db', { engine, imagePullSecrets: [new kplus.Deployment(c, 'api', { containers: [{ image: 'example/api:1.0.0' }] })] });
  } },
  // metrics (docs/engines.md, Metrics)
  { what: 'metrics on a custom engine', build: () => db({ metrics: {} }) },
  { what: 'an exporter image for ZooKeeper', build: () => monitored(DatabaseEngine.zookeeper(), { exporterImage: 'example/zk-exporter:1.0.0' }) },
  { what: 'an exporter image without a tag', build: () => monitored(DatabaseEngine.redis(), { exporterImage: 'oliver006/redis_exporter' }) },
  { what: 'a monitoring password key with a slash', build: () => monitored(DatabaseEngine.postgresql(), { passwordKey: 'monitoring/password' }) },
  { what: 'the Redis admin password as the monitoring password', build: () => monitored(DatabaseEngine.redis(), { passwordKey: 'password' }) },
  { what: 'a scraper by address range and labels at once', build: () => monitored(DatabaseEngine.redis(), { scraper: { cidr: '10.0.0.0/8', podLabels: { app: 'prometheus' } } }) },
  { what: 'a scraper address range that is no CIDR', build: () => monitored(DatabaseEngine.redis(), { scraper: { cidr: '10.0.0.0' } }) },
  { what: 'a volume alert at 100 percent', build: () => monitored(DatabaseEngine.mysql(), { alertThresholds: { volumeUsedPercent: 100 } }) },
  { what: 'a replication lag threshold of zero', build: () => monitored(DatabaseEngine.mysql(), { alertThresholds: { replicationLag: Duration.seconds(0) } }) },
  { what: 'a failover window shorter than a minute', build: () => monitored(DatabaseEngine.redis(), { alertThresholds: { failoverWindow: Duration.seconds(30) } }) },
  { what: 'a backup CronJob name with capitals', build: () => monitored(DatabaseEngine.postgresql(), { backup: { cronJobName: 'Nightly', interval: Duration.days(1) } }) },
  { what: 'a Prometheus label with a space', build: () => monitored(DatabaseEngine.postgresql(), { prometheusOperator: true, prometheusLabels: { release: 'kube prometheus' } }) },
  { what: 'a scrape annotation also in podAnnotations', build: () => monitored(DatabaseEngine.redis(), {}, { podAnnotations: { 'prometheus.io/scrape': 'false' } }) },
  { what: 'an exporter memory request above its limit', build: () => monitored(DatabaseEngine.redis(), { exporterResources: { memory: { request: Size.mebibytes(256), limit: Size.mebibytes(128) } } }) },
  // strict mode
  { what: 'an even quorum in strict mode', build: () => {
    const c = chart();
    SynthChecks.strict(c);
    new StatefulDatabase(c, 'zk', { engine: quorum, replicas: 4 });
    synthOf(c);
  } },
  // changes to what is deployed (docs/plan.md)
  { what: 'a new headless Service name for a deployed set', build: () => redeploy({}, { headlessServiceName: 'peers' }) },
  { what: 'a smaller claim on a deployed set', build: () => redeploy({ storage: { size: Size.gibibytes(10) } }, { storage: { size: Size.gibibytes(5) } }) },
  { what: 'a larger claim on a class the app does not own', build: () => redeploy({ storage: { storageClass: StorageClass.fromStorageClassName('gp2') } }, { storage: { storageClass: StorageClass.fromStorageClassName('gp2'), size: Size.gibibytes(20) } }) },
  { what: 'a ZooKeeper ensemble shrunk from 5 to 2 members at once', build: () => redeploy({ engine: zookeeper, replicas: 5 }, { engine: zookeeper, replicas: 2 }) },
  { what: 'a ZooKeeper ensemble shrunk from 2 members to 1', build: () => redeploy({ engine: zookeeper, replicas: 2 }, { engine: zookeeper, replicas: 1 }) },
  { what: 'a PostgreSQL major upgrade without the upgrade prop', build: () => redeploy({}, { engine: DatabaseEngine.custom({ image: 'postgres:17.2', ports: [{ name: 'pg', port: 5432 }], runAsUser: 999 }) }) },
  { what: 'claim retention switched to Delete on a deployed set', build: () => redeploy({}, { claimRetentionWhenDeleted: ClaimRetention.DELETE }) },
  { what: 'a deployed streaming PostgreSQL set switched to Patroni', build: () => redeployPostgres({}, { patroni: { image: PATRONI_IMAGE } }) },
  { what: 'a deployed Patroni PostgreSQL set switched back to streaming', build: () => redeployPostgres({ patroni: { image: PATRONI_IMAGE } }, {}) },
  { what: 'backups turned off on a deployed set', build: () => redeployPostgres({ backup: S3_BACKUP }, {}) },
  { what: 'fewer full backups kept on a deployed set', build: () => redeployPostgres({ backup: { ...S3_BACKUP, retainFullBackups: 7 } }, { backup: { ...S3_BACKUP, retainFullBackups: 2 } }) },
  // PostgreSQL with Patroni
  { what: 'Patroni with the official postgres image', build: () => patroniDb({ image: 'postgres:18.4' }) },
  { what: 'Patroni with the official image by its full name', build: () => patroniDb({ image: 'docker.io/library/postgres:18.4' }) },
  { what: 'Patroni without an image', build: () => patroniDb({}) },
  { what: 'Patroni with an unpinned image', build: () => patroniDb({ image: 'registry.example.com/postgres-patroni' }) },
  { what: 'Patroni with an unknown durability', build: () => patroniDb({ image: PATRONI_IMAGE, durability: 'eventual' }) },
  { what: 'Patroni with an API server CIDR that is not one', build: () => patroniDb({ image: PATRONI_IMAGE, apiServerCidrs: ['10.0.0.1'] }) },
  { what: 'Patroni with no API server port', build: () => patroniDb({ image: PATRONI_IMAGE, apiServerPorts: [] }) },
  { what: 'Patroni with an API server port out of range', build: () => patroniDb({ image: PATRONI_IMAGE, apiServerPorts: [70000] }) },
  { what: 'Patroni without credentials', build: () => db({ engine: DatabaseEngine.postgresql({ patroni: { image: PATRONI_IMAGE } }) }) },
  // MySQL with Group Replication
  { what: 'MySQL Group Replication with an unpinned API client image', build: () => mysqlGroupDb({ apiClientImage: 'curlimages/curl' }) },
  { what: 'MySQL Group Replication with an allowlist entry that is not a CIDR', build: () => mysqlGroupDb({ ipAllowlist: ['10.244.0.0'] }) },
  { what: 'MySQL Group Replication with an empty allowlist', build: () => mysqlGroupDb({ ipAllowlist: [] }) },
  { what: 'MySQL Group Replication with a negative expel timeout', build: () => mysqlGroupDb({ memberExpelTimeoutSeconds: -1 }) },
  { what: 'MySQL Group Replication with the group seeds in config', build: () => mysqlGroupDb({}, { config: { group_replication_group_seeds: 'a:33061' } }) },
  { what: 'MySQL Group Replication on MySQL 8.0.26', build: () => mysqlGroupDb({}, { version: MysqlVersion.of('8.0.26') }) },
  { what: 'MySQL Group Replication as null', build: () => mysqlGroupDb(null) },
  // PostgreSQL backups and restores (pgBackRest)
  { what: 'a backup schedule with six fields', build: () => backupDb({ schedule: '0 30 2 * * *' }) },
  { what: 'a backup schedule at minute 60', build: () => backupDb({ schedule: '60 * * * *' }) },
  { what: 'a backup schedule with a day name', build: () => backupDb({ schedule: '0 2 * * MON' }) },
  { what: 'a backup schedule macro', build: () => backupDb({ schedule: '@daily' }) },
  { what: 'a backup schedule with a step of 0', build: () => backupDb({ schedule: '*/0 * * * *' }) },
  { what: 'a backup schedule that never runs', build: () => backupDb({ schedule: '0 2 30 2 *' }) },
  { what: 'a backup age alert without backups', build: () => monitored(DatabaseEngine.postgresql(), { alertThresholds: { backupAge: Duration.days(2) } }) },
  { what: 'a backup age alert under 10 minutes', build: () => backupDb({}, {}, { metrics: { prometheusOperator: true, alertThresholds: { backupAge: Duration.minutes(5) } } }) },
  { what: 'a backup without a pgBackRest image', build: () => backupDb({ image: undefined }) },
  { what: 'a backup with an unpinned image', build: () => backupDb({ image: 'registry.example.com/postgres-pgbackrest' }) },
  { what: 'a backup endpoint with a scheme', build: () => backupDb({ repository: { ...S3_REPO, endpoint: 'https://s3.example.com' } }) },
  { what: 'a backup bucket with capitals', build: () => backupDb({ repository: { ...S3_REPO, bucket: 'Backups' } }) },
  { what: 'a backup repository path without a leading slash', build: () => backupDb({ repository: { ...S3_REPO, path: 'prod/pg' } }) },
  { what: 'a backup repository without a region', build: () => backupDb({ repository: { ...S3_REPO, region: undefined } }) },
  { what: 'a backup access key name with a slash', build: () => backupDb({ repository: { ...S3_REPO, accessKeyIdKey: 's3/key' } }) },
  { what: 'backups read from an unknown member', build: () => backupDb({ member: 'standby' }) },
  { what: 'a backup retention of no full backup', build: () => backupDb({ retainFullBackups: 0 }) },
  { what: 'an archive queue under 16 MiB', build: () => backupDb({ archiveQueueMax: Size.mebibytes(8) }) },
  { what: 'an archive timeout of 5 seconds', build: () => backupDb({ archiveTimeout: Duration.seconds(5) }) },
  { what: 'archive_command in the config of a set with backups', build: () => backupDb({}, { config: { archive_command: '/bin/true' } }) },
  { what: 'backups with Patroni in another image than Patroni\'s', build: () => backupDb({}, { patroni: { image: PATRONI_IMAGE } }) },
  { what: 'a Patroni restore in another image than Patroni\'s', build: () => backupDb({ image: PATRONI_IMAGE }, { patroni: { image: PATRONI_IMAGE }, restoreFrom: { repository: { ...S3_REPO, path: '/old/pg' }, image: PGBACKREST_IMAGE } }) },
  { what: 'Patroni backups from an unknown member', build: () => backupDb({ image: PATRONI_IMAGE, member: 'standby' }, { patroni: { image: PATRONI_IMAGE } }) },
  { what: 'backups without credentials', build: () => db({ engine: DatabaseEngine.postgresql({ backup: { image: PGBACKREST_IMAGE, repository: S3_REPO, schedule: '30 2 * * *' } }) }) },
  { what: 'a restore to a point in time without a zone', build: () => restoredDb({ pointInTime: '2026-03-01 12:00:00' }) },
  { what: 'a restore to a date that does not exist', build: () => restoredDb({ pointInTime: '2026-02-30T12:00:00Z' }) },
  { what: 'a restore without a pgBackRest image', build: () => restoredDb({ image: undefined }) },
  { what: 'a restore whose backups go to the repository it comes from', build: () => backupDb({}, { restoreFrom: { repository: S3_REPO } }) },
  { what: 'a restore with another image than the backups', build: () => backupDb({}, { restoreFrom: { repository: { ...S3_REPO, path: '/old/pg' }, image: 'registry.example.com/other:1.0' } }) },
  { what: 'Redis snapshots without an rclone image', build: () => redisBackupDb({ image: undefined }) },
  { what: 'Redis snapshots with the official redis image', build: () => redisBackupDb({ image: 'redis:8.2.1' }) },
  { what: 'Redis snapshots with an unpinned image', build: () => redisBackupDb({ image: 'registry.example.com/redis-rclone:latest' }) },
  { what: 'a Redis snapshot schedule with a day name', build: () => redisBackupDb({ schedule: '0 2 * * MON' }) },
  { what: 'a Redis snapshot schedule that never runs', build: () => redisBackupDb({ schedule: '0 2 31 4 *' }) },
  { what: 'Redis snapshots keeping none', build: () => redisBackupDb({ retainBackups: 0 }) },
  { what: 'Redis snapshots keeping 1001', build: () => redisBackupDb({ retainBackups: 1001 }) },
  { what: 'Redis snapshots keeping a fraction', build: () => redisBackupDb({ retainBackups: 2.5 }) },
  { what: 'Redis snapshots read from an unknown member', build: () => redisBackupDb({ member: 'secondary' }) },
  { what: 'a Redis snapshot endpoint with a scheme', build: () => redisBackupDb({ repository: { ...S3_REPO, endpoint: 'https://s3.example.com' } }) },
  { what: 'Redis snapshots without credentials', build: () => db({ engine: DatabaseEngine.redis({ backup: { image: RCLONE_IMAGE, repository: S3_REPO, schedule: '0 * * * *' } }) }) },
  { what: 'a WAL archive alert on Redis snapshots', build: () => redisBackupDb({}, {}, { metrics: { alertThresholds: { walArchiveAge: Duration.minutes(30) } } }) },
  { what: 'a Redis restore without an rclone image', build: () => redisRestoredDb({ image: undefined }) },
  { what: 'a Redis restore of a snapshot named by a path', build: () => redisRestoredDb({ backup: 'backups/20260301T023000Z.rdb' }) },
  { what: 'a Redis restore whose snapshots go to the repository it comes from', build: () => redisBackupDb({}, { restoreFrom: { repository: S3_REPO } }) },
  { what: 'a Redis restore with another image than the snapshots', build: () => redisBackupDb({}, { restoreFrom: { repository: { ...S3_REPO, path: '/old/redis' }, image: 'registry.example.com/other:1.0' } }) },
  { what: 'fewer Redis snapshots kept on a deployed set', build: () => redeployRedis({ backup: { image: RCLONE_IMAGE, repository: S3_REPO, schedule: '0 * * * *', retainBackups: 48 } }, { backup: { image: RCLONE_IMAGE, repository: S3_REPO, schedule: '0 * * * *', retainBackups: 24 } }) },
  { what: 'Redis snapshots turned off on a deployed set', build: () => redeployRedis({ backup: { image: RCLONE_IMAGE, repository: S3_REPO, schedule: '0 * * * *' } }, {}) },
  { what: 'restoreFrom added to a deployed Redis set', build: () => redeployRedis({}, { restoreFrom: { image: RCLONE_IMAGE, repository: S3_REPO } }) },
  // MariaDB Galera
  { what: 'Galera with wsrepSyncWait out of range', build: () => galeraDb({ wsrepSyncWait: 16 }) },
  { what: 'Galera with an unpinned API client image', build: () => galeraDb({ apiClientImage: 'curlimages/curl' }) },
  { what: 'Galera with the durability setting in config', build: () => galeraDb({ config: { innodb_flush_log_at_trx_commit: '2' } }) },
  { what: 'Galera backups without an rclone image', build: () => galeraDb({ backup: galeraBackup({ image: undefined }) }) },
  { what: 'Galera backups with the official mariadb image', build: () => galeraDb({ backup: galeraBackup({ image: 'docker.io/library/mariadb:11.8.3' }) }) },
  { what: 'a Galera backup schedule with six fields', build: () => galeraDb({ backup: galeraBackup({ schedule: '0 30 2 * * *' }) }) },
  { what: 'Galera backups keeping none', build: () => galeraDb({ backup: galeraBackup({ retainBackups: 0 }) }) },
  { what: 'a Galera backup repository path without a slash', build: () => galeraDb({ backup: galeraBackup({ repository: { ...S3_REPO, path: 'prod/galera' } }) }) },
  { what: 'a Galera restore of an RDB snapshot', build: () => galeraDb({ restoreFrom: { image: GALERA_IMAGE, repository: S3_REPO, backup: '20260301T023000Z.rdb' } }) },
  { what: 'a Galera restore whose backups go to the repository it comes from', build: () => galeraDb({ backup: galeraBackup(), restoreFrom: { repository: S3_REPO } }) },
  { what: 'a Galera restore with another image than the backups', build: () => galeraDb({ backup: galeraBackup(), restoreFrom: { repository: { ...S3_REPO, path: '/old/galera' }, image: 'registry.example.com/other:1.0' } }) },
  { what: 'fewer Galera backups kept on a deployed set', build: () => redeployGalera({ backup: galeraBackup({ retainBackups: 14 }) }, { backup: galeraBackup({ retainBackups: 7 }) }) },
  { what: 'ZooKeeper backups without an rclone image', build: () => zkDb({ backup: zkBackup({ image: undefined }) }) },
  { what: 'ZooKeeper backups with the official zookeeper image', build: () => zkDb({ backup: zkBackup({ image: 'zookeeper:3.9.5' }) }) },
  { what: 'ZooKeeper backups without a credentials Secret', build: () => zkDb({ backup: zkBackup() }, false) },
  { what: 'ZooKeeper backups keeping none', build: () => zkDb({ backup: zkBackup({ retainBackups: 0 }) }) },
  { what: 'a ZooKeeper restore of a backup named without its zxid', build: () => zkDb({ restoreFrom: { image: ZK_IMAGE, repository: S3_REPO, backup: '20260301T023000Z.tar' } }) },
  { what: 'ZooKeeper backups turned off on a deployed ensemble', build: () => redeployZk({ backup: zkBackup() }, {}) },
  { what: 'a ZooKeeper restore whose backups go to the repository it comes from', build: () => zkDb({ backup: zkBackup(), restoreFrom: { repository: S3_REPO } }) },
  { what: 'Galera backups turned off on a deployed set', build: () => redeployGalera({ backup: galeraBackup() }, {}) },
  { what: 'restoreFrom added to a deployed Galera set', build: () => redeployGalera({}, { restoreFrom: { image: GALERA_IMAGE, repository: S3_REPO } }) },
  { what: 'MySQL backups with the official mysql image', build: () => mysqlDb({ backup: mysqlBackup({ image: 'mysql:9.7.4' }) }) },
  { what: 'MySQL backups with an unpinned image', build: () => mysqlDb({ backup: mysqlBackup({ image: 'registry.example.com/mysql-rclone:latest' }) }) },
  { what: 'a MySQL backup schedule out of range', build: () => mysqlDb({ backup: mysqlBackup({ schedule: '61 2 * * *' }) }) },
  { what: 'MySQL backups keeping 1001', build: () => mysqlDb({ backup: mysqlBackup({ retainBackups: 1001 }) }) },
  { what: 'a MySQL restore of a mariadb-backup stream', build: () => mysqlDb({ restoreFrom: { image: MYSQL_IMAGE, repository: S3_REPO, backup: '20260301T023000Z.mbstream' } }) },
  { what: 'a MySQL restore without an rclone image', build: () => mysqlDb({ restoreFrom: { repository: S3_REPO } }) },
  { what: 'MySQL backups with Group Replication', build: () => mysqlDb({ groupReplication: {}, backup: mysqlBackup() }) },
  { what: 'restoreFrom added to a deployed MySQL set', build: () => redeployMysql({}, { restoreFrom: { image: MYSQL_IMAGE, repository: S3_REPO } }) },
  { what: 'MySQL backups turned off on a deployed set', build: () => redeployMysql({ backup: mysqlBackup() }, {}) },
  { what: 'the MySQL binary log archive turned off on a deployed set', build: () => redeployMysql({ backup: mysqlBackup({ binlogArchiveInterval: Duration.minutes(1) }) }, { backup: mysqlBackup() }) },
  { what: 'a MySQL restore with Group Replication', build: () => mysqlDb({ groupReplication: {}, restoreFrom: { image: MYSQL_IMAGE, repository: S3_REPO } }) },
  { what: 'a MySQL binary log archive every 5 seconds', build: () => mysqlDb({ backup: mysqlBackup({ binlogArchiveInterval: Duration.seconds(5) }) }) },
  { what: 'a MySQL binary log archive every 2 hours', build: () => mysqlDb({ backup: mysqlBackup({ binlogArchiveInterval: Duration.hours(2) }) }) },
  { what: 'a MySQL binary log archive interval as a number', build: () => mysqlDb({ backup: mysqlBackup({ binlogArchiveInterval: 60 }) }) },
  { what: 'a MySQL restore to a point in time without a zone', build: () => mysqlDb({ restoreFrom: { image: MYSQL_IMAGE, repository: S3_REPO, pointInTime: '2026-03-01 12:00:00' } }) },
  { what: 'a MySQL restore to a point in time and a named backup', build: () => mysqlDb({ restoreFrom: { image: MYSQL_IMAGE, repository: S3_REPO, pointInTime: '2026-03-01T12:00:00Z', backup: '20260301T023000Z.tar' } }) },
  { what: 'a Redis restore to a point in time', build: () => redisRestoredDb({ pointInTime: '2026-03-01T12:00:00Z' }) },
  { what: 'Redis Sentinel with 2 members', build: () => sentinelDb({}, { replicas: 2 }) },
  { what: 'Redis Sentinel with a replica lag as long as down-after', build: () => sentinelDb({ downAfter: Duration.seconds(3), minReplicasMaxLag: Duration.seconds(3) }) },
  { what: 'Redis Sentinel with a replica lag in milliseconds', build: () => sentinelDb({ minReplicasMaxLag: Duration.millis(1500) }) },
  { what: 'Redis Sentinel writing only with more replicas than there are', build: () => sentinelDb({ minReplicasToWrite: 3 }) },
  { what: 'Redis Sentinel with down-after under a second', build: () => sentinelDb({ downAfter: Duration.millis(500) }) },
  { what: 'Redis Sentinel with down-after as a number', build: () => sentinelDb({ downAfter: 5000 }) },
  { what: 'Redis Sentinel with an unpinned API client image', build: () => sentinelDb({ apiClientImage: 'curlimages/curl' }) },
];
