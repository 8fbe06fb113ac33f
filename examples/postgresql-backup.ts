// PostgreSQL that backs up to S3-compatible storage with pgBackRest: every WAL segment archived
// asynchronously (at most 2 GiB wait for the store while it is down, the primary never stops for
// it), a full backup every night at 02:30 UTC, the last 7 kept: any moment of the last week can be
// restored (`restoreFrom`). The primary starts each backup and pgBackRest reads the files of a
// healthy replica (pgBackRest's TLS server on port 8432 between the members), the primary's when
// none is (its log says which). The image is the official postgres image plus pgBackRest
// (docs/engines.md, "Backups"). The backups are watched: the exporter reports the last backup's
// time, duration and size and the WAL archiver, and the dashboard shows them; with the Prometheus
// Operator, `prometheusOperator: true` adds the alerts when a backup is late (none for 48 hours)
// or failed, or WAL archiving fails or stalls.
//
//   kubectl -n orders-backup create secret generic orders-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=replication-password="$(openssl rand -base64 24)" \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=... \
//     --from-literal=monitoring-username=monitoring --from-literal=monitoring-password="$(openssl rand -hex 24)"
//
// and, once the primary runs, the monitoring account (docs/engines.md, Metrics):
//
//   CREATE ROLE monitoring LOGIN PASSWORD '<monitoring-password>'; GRANT pg_monitor TO monitoring;
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, PostgresVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class PostgresqlBackup extends Chart {
  constructor(scope: Construct, id = 'postgresql-backup') {
    super(scope, id, { namespace: 'orders-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'orders', {
      engine: DatabaseEngine.postgresql({
        version: PostgresVersion.VER_18_4,
        backup: {
          image: 'registry.example.com/postgres-pgbackrest:18.4-2.60.0',
          repository: { bucket: 'db-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/orders-backup/orders', pathStyle: false },
          schedule: '30 2 * * *',
          retainFullBackups: 7,
          archiveQueueMax: Size.gibibytes(2),
        },
      }),
      credentials: { secret: kplus.Secret.fromSecretName(this, 'Credentials', 'orders-credentials') },
      storage: { size: Size.gibibytes(20) },
      // scrape annotations (applying this needs no Prometheus Operator CRD) and a dashboard
      metrics: {},
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new PostgresqlBackup(app);
  app.synth();
}
