// Scenario 5: a ZooKeeper ensemble whose members know their peers and ids from their ordinals.
import { App, Chart, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, StatefulDatabase, ZooKeeperVersion } from '../lib';
import { restrictedNamespace } from './namespace';

export class ZooKeeperEnsemble extends Chart {
  constructor(scope: Construct, id = 'zookeeper') {
    super(scope, id, { namespace: 'zookeeper', disableResourceNameHashes: true });
    restrictedNamespace(this);

    // myid = ordinal + 1, a server.N line for every member, client port 2181 on the client Service
    const zk = new StatefulDatabase(this, 'zk', {
      engine: DatabaseEngine.zookeeper({ version: ZooKeeperVersion.VER_3_9_3 }),
      replicas: 3,
      storage: { size: Size.gibibytes(5) },
    });
    // Kafka brokers in any namespace may reach the client port (an empty namespace selector:
    // every namespace), nothing else may
    zk.connections?.allowFromLabels({ 'app.kubernetes.io/name': 'kafka' }, {});
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new ZooKeeperEnsemble(app);
  app.synth();
}
