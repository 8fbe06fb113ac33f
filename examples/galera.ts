// Scenario 2: a three-node MariaDB Galera cluster on the `fast` storage class.
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DatabaseEngine, StatefulDatabase, StorageClassFast, StorageProvider } from '../lib';
import { restrictedNamespace } from './namespace';

export class GaleraCluster extends Chart {
  constructor(scope: Construct, id = 'galera') {
    super(scope, id, { namespace: 'galera', disableResourceNameHashes: true });
    restrictedNamespace(this);

    const fast = new StorageClassFast(this, 'fast', { provider: StorageProvider.gce() });
    const secret = kplus.Secret.fromSecretName(this, 'Credentials', 'galera-credentials');

    new StatefulDatabase(this, 'mysql', {
      engine: DatabaseEngine.of({
        name: 'mariadb-galera',
        image: 'mariadb:11.4.4',
        dataPath: '/var/lib/mysql',
        runAsUser: 999,
        ports: [
          { name: 'mysql', port: 3306 },
          { name: 'sst', port: 4444, peer: true },
          { name: 'gcomm', port: 4567, peer: true },
          { name: 'ist', port: 4568, peer: true },
        ],
        quorum: true,
        defaultReplicas: 3,
        args: ['--defaults-extra-file=/etc/mysql/conf.d/galera.cnf'],
        bind: (ctx) => ({
          scratchVolumes: ['config', 'workdir', 'run'],
          mounts: [
            { volume: 'config', path: '/etc/mysql/conf.d' },
            { volume: 'workdir', path: '/work-dir' },
            { volume: 'run', path: '/run/mysqld' },
          ],
          initContainers: [
            {
              name: 'install',
              image: 'busybox:1.36.1',
              command: ['sh', '-c', 'printf "#!/bin/sh\\necho ready\\n" > /work-dir/peer-finder && chmod +x /work-dir/peer-finder'],
              mounts: [{ volume: 'workdir', path: '/work-dir' }],
            },
            {
              name: 'bootstrap',
              image: 'busybox:1.36.1',
              command: ['sh', '-c', [
                'ordinal=${HOSTNAME##*-}',
                '{ echo "[galera]"; echo "wsrep_on=ON"; echo "wsrep_provider=/usr/lib/galera/libgalera_smm.so";',
                `  echo "wsrep_cluster_address=gcomm://${ctx.peerAddresses.join(',')}";`,
                '  echo "wsrep_node_name=$HOSTNAME"; echo "binlog_format=ROW"; } > /etc/mysql/conf.d/galera.cnf',
              ].join('\n')],
              mounts: [{ volume: 'config', path: '/etc/mysql/conf.d' }],
            },
          ],
        }),
      }),
      env: { MARIADB_ROOT_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'root-password' }) },
      storage: { storageClass: fast, size: Size.gibibytes(10) },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new GaleraCluster(app);
  app.synth();
}
