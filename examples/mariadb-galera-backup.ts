// MariaDB Galera (three members) that backs up to S3-compatible storage: every night at 02:30 UTC
// the member with the highest ordinal (orders-db-2), when Synced, streams a physical backup of its
// data directory (mariadb-backup, with its Galera position) to the bucket with rclone; the stored
// object's length and SHA-256 are checked before its checksum object is written, and the last 14
// are kept. A backup holds the data as of the moment it was taken: what is written after it is not
// in it (no point-in-time recovery for Galera). The image is the official mariadb image plus rclone
// (docs/engines.md, "MariaDB Galera backups"). Restore into a new set with
// `restoreFrom: { repository }` (the same repository, the same root password): docs/engines.md,
// the restore drill.
//
//   kubectl -n galera-backup create secret generic orders-db-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=...
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, MariaDbVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class MariaDbGaleraBackup extends Chart {
  constructor(scope: Construct, id = 'mariadb-galera-backup') {
    super(scope, id, { namespace: 'galera-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'orders-db', {
      engine: DatabaseEngine.mariadbGalera({
        version: MariaDbVersion.VER_11_8_3,
        backup: {
          image: 'registry.example.com/mariadb-rclone:11.8.3-1.60.1',
          repository: { bucket: 'db-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/galera-backup/orders-db', pathStyle: false },
          schedule: '30 2 * * *',
          retainBackups: 14,
        },
      }),
      replicas: 3,
      credentials: { secret: kplus.Secret.fromSecretName(this, 'Credentials', 'orders-db-credentials') },
      storage: { size: Size.gibibytes(20) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new MariaDbGaleraBackup(app);
  app.synth();
}
