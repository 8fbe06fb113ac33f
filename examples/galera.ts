// Scenario 2: a three-node MariaDB Galera cluster on the `fast` storage class.
//
//   kubectl -n galera create secret generic galera-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)"
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, MariaDbVersion, StatefulDatabase, StorageClassFast, StorageProvider } from '../lib';
import { restrictedNamespace } from './namespace';

export class GaleraCluster extends Chart {
  constructor(scope: Construct, id = 'galera') {
    super(scope, id, { namespace: 'galera', disableResourceNameHashes: true });
    restrictedNamespace(this);

    const fast = new StorageClassFast(this, 'fast', { provider: StorageProvider.gce() });
    const secret = kplus.Secret.fromSecretName(this, 'Credentials', 'galera-credentials');

    // every member in wsrep_cluster_address, the first bootstraps a new cluster only when it has no
    // cluster state; Galera ports on the headless Service; a PDB that keeps the quorum
    new StatefulDatabase(this, 'mysql', {
      engine: DatabaseEngine.mariadbGalera({ version: MariaDbVersion.VER_11_4_4 }),
      replicas: 3,
      credentials: { secret }, // root-password
      storage: { storageClass: fast, size: Size.gibibytes(10) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new GaleraCluster(app);
  app.synth();
}
