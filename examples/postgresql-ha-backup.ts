// PostgreSQL that fails over and backs up: Patroni elects the primary (as in postgresql-ha), and
// pgBackRest archives every WAL segment asynchronously from whichever member leads and takes a
// full backup every night at 02:30 UTC, started there and reading the files of a replica Patroni
// sees healthy (the primary's when none is; pgBackRest's TLS server between the members, its
// certificates derived from the replication password), the last 7 kept, to S3-compatible storage: any
// moment of the last week can be restored into a new set (`restoreFrom`, through Patroni's
// bootstrap). One image runs every container: the official postgres image plus Patroni and
// pgBackRest (docs/engines.md, "Backups with Patroni").
//
//   kubectl -n orders-ha-backup create secret generic orders-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=replication-password="$(openssl rand -base64 24)" \
//     --from-literal=username=app --from-literal=password="$(openssl rand -base64 24)" \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=...
//
// A backup now, in the pod Patroni leads with (its log names the member whose files it read):
//
//   kubectl -n orders-ha-backup exec "$(kubectl -n orders-ha-backup get pod -l cdk8s-stateful.dev/role=primary -o name)" \
//     -c backup -- bash /opt/cdk8s-stateful/postgres-backup.sh now
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, PostgresVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

/** PostgreSQL 18.4, Patroni 4.1.5 and pgBackRest 2.60.0, pinned. */
const IMAGE = 'registry.example.com/postgres-patroni-pgbackrest:18.4-4.1.5-2.60.0';

export class PostgresqlHaBackup extends Chart {
  constructor(scope: Construct, id = 'postgresql-ha-backup') {
    super(scope, id, { namespace: 'orders-ha-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'orders', {
      engine: DatabaseEngine.postgresql({
        version: PostgresVersion.VER_18_4,
        patroni: {
          image: IMAGE,
          // the API server's endpoint (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes)
          apiServerCidrs: ['10.0.0.10/32'],
          apiServerPorts: [6443],
        },
        backup: {
          image: IMAGE,
          repository: { bucket: 'db-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/orders-ha-backup/orders', pathStyle: false },
          schedule: '30 2 * * *',
          retainFullBackups: 7,
          archiveQueueMax: Size.gibibytes(2),
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
  new PostgresqlHaBackup(app);
  app.synth();
}
