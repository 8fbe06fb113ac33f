// MySQL, a primary and two replicas, that backs up to S3-compatible storage: every night at 02:30
// UTC the member with the highest ordinal (orders-db-2, a replica) has its server clone itself
// with the clone plugin into a directory of its volume (a consistent data directory, ready to
// start), and streams it as a tar to the bucket with rclone; the stored object's length and
// SHA-256 are checked before its checksum object is written, the local copy is removed, and the
// last 14 are kept. The same sidecar archives that member's binary log every minute (closed files,
// checked like the backups), back to the oldest backup kept, so that a restore can reach any moment
// since then. The image is the official mysql image plus rclone (docs/engines.md, "MySQL
// backups"). Restore into a new set with `restoreFrom: { repository }` (the same repository, the
// same root and replication passwords), to a moment with `pointInTime: '2026-03-01T12:00:00Z'`:
// docs/engines.md, the restore drill.
//
//   kubectl -n mysql-backup create secret generic orders-db-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=replication-password="$(openssl rand -base64 24)" \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=...
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, MysqlVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class MysqlBackup extends Chart {
  constructor(scope: Construct, id = 'mysql-backup') {
    super(scope, id, { namespace: 'mysql-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'orders-db', {
      engine: DatabaseEngine.mysql({
        version: MysqlVersion.VER_9_7_4,
        backup: {
          image: 'registry.example.com/mysql-rclone:9.7.4-1.75.2',
          repository: { bucket: 'db-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/mysql-backup/orders-db', pathStyle: false },
          schedule: '30 2 * * *',
          retainBackups: 14,
          binlogArchiveInterval: Duration.minutes(1),
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
  new MysqlBackup(app);
  app.synth();
}
