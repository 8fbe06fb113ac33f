// The benchmark's workload: N StatefulDatabases built with the library, in the documented layout
// (one Chart for all of them) or in the one-Chart-per-database layout whose synth grows
// quadratically (cdk8s validates and resolves the whole app again for every Chart).
import { App, Chart, Size, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseEngine,
  HealthProbe,
  IStorageClass,
  NfsPersistentVolumePool,
  StatefulDatabase,
  StorageClassFast,
  StorageClassSlow,
  StorageProvider,
  ChangeGuard,
} from '../../lib';
import { CHART_ID, NAMESPACE, dbName } from './names';

export { CHART_ID, NAMESPACE, dbName };

/** What the databases share: the engine, a Secret reference and the StorageClasses. */
interface Shared {
  readonly engine: DatabaseEngine;
  readonly secret: kplus.ISecret;
  readonly fast: IStorageClass;
  readonly slow: IStorageClass;
}

/** The shared StorageClasses (and engine), created once per app. */
function shared(chart: Chart): Shared {
  const provider = StorageProvider.aws();
  const fast = new StorageClassFast(chart, 'fast', { provider });
  const slow = new StorageClassSlow(chart, 'slow', { provider });
  new StorageClassFast(chart, 'fast-noatime', { provider, mountOptions: ['noatime'] });
  const secret = kplus.Secret.fromSecretName(chart, 'Credentials', 'bench-credentials');
  const engine = DatabaseEngine.custom({
    name: 'postgresql',
    image: 'postgres:16.6',
    ports: [{ name: 'postgresql', port: 5432 }],
    dataPath: '/var/lib/postgresql/data',
    runAsUser: 999,
    readinessProbe: HealthProbe.command(['pg_isready', '-U', 'postgres']),
  });
  return { engine, secret, fast, slow };
}

/**
 * One database: a 3-volume NFS pool that its 3 replicas' data claims bind to, a WAL claim on the
 * fast class and an archive claim on the slow one; the StatefulSet comes with its headless and
 * client Services and its PodDisruptionBudget.
 */
export function addDatabase(chart: Chart, s: Shared, name: string): StatefulDatabase {
  const pool = new NfsPersistentVolumePool(chart, `${name}-pool`, {
    name: `${name}-pool`,
    server: '10.0.0.10',
    basePath: '/exports',
    volumes: 3,
    capacity: Size.gibibytes(10),
  });
  return new StatefulDatabase(chart, name, {
    engine: s.engine,
    replicas: 3,
    storage: { pool, size: Size.gibibytes(10) },
    extraVolumeClaims: [
      { name: 'wal', mountPath: '/var/lib/postgresql/wal', storageClass: s.fast, size: Size.gibibytes(5) },
      { name: 'archive', mountPath: '/archive', storageClass: s.slow, size: Size.gibibytes(125) },
    ],
    scratchVolumes: [{ name: 'run' }],
    mounts: [{ volume: 'run', path: '/var/run/postgresql' }],
    env: {
      PGDATA: kplus.EnvValue.fromValue('/var/lib/postgresql/data/pgdata'),
      POSTGRES_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: s.secret, key: 'password' }),
    },
  });
}

/** How the databases are laid out in charts. */
export type Layout = 'one-chart' | 'chart-per-db';

/**
 * Builds the app as the README does (the change guard attached right after the App): N databases
 * named `names(i)`. Nothing is synthesized yet.
 */
export function libraryApp(n: number, outdir: string, layout: Layout = 'one-chart', names: (i: number) => string = dbName): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  ChangeGuard.attach(app);
  if (layout === 'one-chart') {
    const chart = new Chart(app, CHART_ID, { namespace: NAMESPACE, disableResourceNameHashes: true });
    const s = shared(chart);
    for (let i = 0; i < n; i++) addDatabase(chart, s, names(i));
  } else {
    // the trap: a Chart per database (the shared classes in a chart of their own)
    const s = shared(new Chart(app, 'shared', { namespace: NAMESPACE, disableResourceNameHashes: true }));
    for (let i = 0; i < n; i++) {
      const chart = new Chart(app, names(i), { namespace: NAMESPACE, disableResourceNameHashes: true });
      addDatabase(chart, s, names(i));
    }
  }
  return app;
}
