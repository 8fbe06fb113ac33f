// Redis (a primary and two replicas) that backs up to S3-compatible storage: every hour an RDB
// snapshot of a replica (the primary when no replica is healthy), checked with redis-check-rdb and
// uploaded with rclone with its SHA-256, the last 48 kept. A snapshot holds the data as of the
// moment it was taken: what is written after it is not in it (no point-in-time recovery for
// Redis). The image is the official redis image plus rclone (docs/engines.md, "Redis backups").
// Restore into a new set with `restoreFrom: { repository }`: `sessions-restored` below is one, with
// Sentinel (automatic failover): its first member, finding the set never founded (no Lease
// sessions-restored-founded), restores the latest snapshot and starts as the master; the other two
// replicate it. It backs up to a path of its own.
//
//   kubectl -n sessions-backup create secret generic sessions-credentials \
//     --from-literal=password="$(openssl rand -base64 24)" \
//     --from-literal=s3-access-key-id=... --from-literal=s3-secret-access-key=...
//   (and sessions-restored-credentials the same way: a password of its own, the same store keys)
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, RedisVersion, S3Repository, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

/** Where the snapshots of `sessions` go, and where `sessions-restored` comes from. */
const SESSIONS_REPOSITORY: S3Repository = { bucket: 'db-backups', endpoint: 's3.eu-west-1.amazonaws.com', region: 'eu-west-1', path: '/sessions-backup/sessions', pathStyle: false };

export class RedisBackup extends Chart {
  constructor(scope: Construct, id = 'redis-backup') {
    super(scope, id, { namespace: 'sessions-backup', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'sessions', {
      engine: DatabaseEngine.redis({
        version: RedisVersion.VER_8_2_1,
        backup: {
          image: 'registry.example.com/redis-rclone:8.2.1-1.60.1',
          repository: SESSIONS_REPOSITORY,
          schedule: '0 * * * *',
          retainBackups: 48,
        },
      }),
      credentials: { secret: kplus.Secret.fromSecretName(this, 'Credentials', 'sessions-credentials') },
      storage: { size: Size.gibibytes(10) },
    });

    new StatefulDatabase(this, 'sessions-restored', {
      engine: DatabaseEngine.redis({
        version: RedisVersion.VER_8_2_1,
        sentinel: {},
        restoreFrom: { repository: SESSIONS_REPOSITORY },
        backup: {
          image: 'registry.example.com/redis-rclone:8.2.1-1.60.1',
          repository: { ...SESSIONS_REPOSITORY, path: '/sessions-backup/sessions-restored' },
          schedule: '30 * * * *',
          retainBackups: 48,
        },
      }),
      replicas: 3,
      credentials: { secret: kplus.Secret.fromSecretName(this, 'RestoredCredentials', 'sessions-restored-credentials') },
      storage: { size: Size.gibibytes(10) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new RedisBackup(app);
  app.synth();
}
