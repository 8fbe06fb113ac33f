// Scenario 7: PostgreSQL that fails over. Patroni elects the primary with the Kubernetes API as its
// store; the writer Service `orders` follows it, `orders-read` selects the streaming replicas.
// The image is the official postgres image plus Patroni (docs/engines.md, "PostgreSQL with Patroni").
//
//   kubectl -n orders-ha create secret generic orders-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=replication-password="$(openssl rand -base64 24)" \
//     --from-literal=username=app --from-literal=password="$(openssl rand -base64 24)"
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, PostgresDurability, PostgresVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class PostgresqlHa extends Chart {
  constructor(scope: Construct, id = 'postgresql-ha') {
    super(scope, id, { namespace: 'orders-ha', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'orders', {
      engine: DatabaseEngine.postgresql({
        version: PostgresVersion.VER_18_4,
        sharedBuffers: Size.mebibytes(256),
        patroni: {
          image: 'registry.example.com/postgres-patroni:18.4-4.1.5',
          // no acknowledged write is lost in a failover (the default, said here to be seen)
          durability: PostgresDurability.SYNCHRONOUS,
          // the API server's endpoint (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes)
          apiServerCidrs: ['10.0.0.10/32'],
          apiServerPorts: [6443],
        },
      }),
      credentials: { secret: kplus.Secret.fromSecretName(this, 'Credentials', 'orders-credentials') },
      storage: { size: Size.gibibytes(50) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new PostgresqlHa(app);
  app.synth();
}
