// The examples app: every scenario as its own chart, synthesized into dist/ by `cdk8s synth`.
import { App, YamlOutputType } from 'cdk8s';
import { GaleraCluster } from './galera';
import { MariaDb } from './mariadb';
import { SpringbootWeb } from './springboot-web';
import { StorageTiers } from './storage-tiers';
import { WebOnNfsPool } from './web-nfs-pool';
import { ZooKeeperEnsemble } from './zookeeper';

/** Builds the examples app; `outdir` defaults to dist/. */
export function examplesApp(outdir = 'dist'): App {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new WebOnNfsPool(app);
  new GaleraCluster(app);
  new SpringbootWeb(app);
  new MariaDb(app);
  new ZooKeeperEnsemble(app);
  new StorageTiers(app);
  return app;
}

if (require.main === module) {
  examplesApp(process.env.CDK8S_OUTDIR ?? 'dist').synth();
}
