// Scenario 5: a ZooKeeper ensemble whose members know their peers and ids from their ordinals.
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DatabaseEngine, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class ZooKeeperEnsemble extends Chart {
  constructor(scope: Construct, id = 'zookeeper') {
    super(scope, id, { namespace: 'zookeeper', disableResourceNameHashes: true });
    restrictedNamespace(this);

    new StatefulDatabase(this, 'zk', {
      engine: DatabaseEngine.of({
        name: 'zookeeper',
        image: 'zookeeper:3.9.3',
        dataPath: '/data',
        runAsUser: 1000,
        quorum: true,
        defaultReplicas: 3,
        ports: [
          { name: 'client', port: 2181 },
          { name: 'peer', port: 2888, peer: true },
          { name: 'election', port: 3888, peer: true },
        ],
        bind: (ctx) => ({
          env: {
            ZOO_SERVERS: kplus.EnvValue.fromValue(
              ctx.peerAddresses.map((host, i) => `server.${ctx.startOrdinal + i + 1}=${host}:2888:3888;2181`).join(' '),
            ),
          },
          initContainers: [{
            name: 'myid',
            image: 'busybox:1.36.1',
            command: ['sh', '-c', 'echo $(( ${HOSTNAME##*-} + 1 )) > /data/myid'],
            mounts: [{ volume: 'data', path: '/data' }],
          }],
        }),
      }),
      storage: { size: Size.gibibytes(5) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new ZooKeeperEnsemble(app);
  app.synth();
}
