// A ZooKeeper ensemble of three that backs up to S3-compatible storage: every hour, the sidecar
// `backup` of the serving follower with the highest server id (the leader is spared) copies its
// newest snapshot with every transaction log from that snapshot's zxid on (ZooKeeper's snapshots
// are fuzzy: the logs replayed over it give one consistent state) and uploads them as one tar,
// `<UTC time>-zxid-<snapshot zxid>.tar`, with rclone; the stored object's length and SHA-256 are
// checked before its checksum object is written, and the last 48 are kept. The sidecar serves the
// outcome to Prometheus (port backup-metrics). The image is the official zookeeper image plus
// rclone (docs/engines.md, "ZooKeeper backups"). Restore into a new ensemble with
// `restoreFrom: { repository }`: its founding member starts from the backup, the others join it
// (docs/engines.md, the restore drill).
//
//   kubectl -n zookeeper-backup create secret generic coord-credentials \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=...
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, StatefulDatabase, ZooKeeperVersion } from '../lib';
import { restrictedNamespace } from './namespace';

export class ZooKeeperBackup extends Chart {
  constructor(scope: Construct, id = 'zookeeper-backup') {
    super(scope, id, { namespace: 'zookeeper-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'coord', {
      engine: DatabaseEngine.zookeeper({
        version: ZooKeeperVersion.VER_3_9_5,
        backup: {
          image: 'registry.example.com/zookeeper-rclone:3.9.5-1.60.1',
          repository: { bucket: 'coord-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/zookeeper-backup/coord', pathStyle: false },
          schedule: '0 * * * *',
          retainBackups: 48,
        },
      }),
      replicas: 3,
      // the store's keys only: ZooKeeper itself reads no password
      credentials: { secret: kplus.Secret.fromSecretName(this, 'Credentials', 'coord-credentials') },
      storage: { size: Size.gibibytes(5) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new ZooKeeperBackup(app);
  app.synth();
}
