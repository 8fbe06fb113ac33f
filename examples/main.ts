// The examples app: every scenario as its own chart, synthesized into dist/ by `cdk8s synth`.
import { App, YamlOutputType } from 'cdk8s';
import { ChangeGuard, ChangeGuardOptions } from '../lib';
import { GaleraCluster } from './galera';
import { MariaDb } from './mariadb';
import { MariaDbGaleraBackup } from './mariadb-galera-backup';
import { MonitoredGalera } from './monitored-galera';
import { MysqlBackup } from './mysql-backup';
import { PostgresqlBackup } from './postgresql-backup';
import { PostgresqlHa } from './postgresql-ha';
import { PostgresqlHaBackup } from './postgresql-ha-backup';
import { RedisBackup } from './redis-backup';
import { SpringbootWeb } from './springboot-web';
import { StorageTiers } from './storage-tiers';
import { WebOnNfsPool } from './web-nfs-pool';
import { ZooKeeperEnsemble } from './zookeeper';
import { ZooKeeperBackup } from './zookeeper-backup';

/** Builds the examples app, guarded (docs/plan.md); `outdir` defaults to dist/, the baseline to `outdir`. */
export function examplesApp(outdir = 'dist', guard: ChangeGuardOptions = {}): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  ChangeGuard.attach(app, guard);
  new WebOnNfsPool(app);
  new GaleraCluster(app);
  new SpringbootWeb(app);
  new MariaDb(app);
  new ZooKeeperEnsemble(app);
  new StorageTiers(app);
  new MonitoredGalera(app);
  new PostgresqlHa(app);
  new PostgresqlBackup(app);
  new PostgresqlHaBackup(app);
  new RedisBackup(app);
  new MariaDbGaleraBackup(app);
  new MysqlBackup(app);
  new ZooKeeperBackup(app);
  return app;
}

if (require.main === module) {
  examplesApp(process.env.CDK8S_OUTDIR ?? 'dist').synth();
}
