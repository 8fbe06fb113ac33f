// Scenario 1: nginx web servers whose document roots live on a statically provisioned NFS pool.
import { App, Chart, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { AccessMode, ChangeGuard, DatabaseEngine, HealthProbe, NfsPersistentVolumePool, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class WebOnNfsPool extends Chart {
  constructor(scope: Construct, id = 'web-nfs-pool') {
    super(scope, id, { namespace: 'web', disableResourceNameHashes: true });
    restrictedNamespace(this);

    // Two 1Gi volumes, /data/k8s/www-0 and /data/k8s/www-1 on the NFS server.
    const pool = new NfsPersistentVolumePool(this, 'Pool', {
      name: 'www',
      server: '192.168.205.128',
      basePath: '/data/k8s',
      volumes: 2,
      capacity: Size.gibibytes(1),
      accessModes: [AccessMode.READ_WRITE_ONCE],
      labels: { storage: 'pv' },
    });

    new StatefulDatabase(this, 'web', {
      // the unprivileged build of the official nginx image: it runs as a non-root user on 8080
      engine: DatabaseEngine.custom({
        name: 'nginx',
        image: 'nginxinc/nginx-unprivileged:1.27.3',
        ports: [{ name: 'web', port: 8080, servicePort: 80 }],
        runAsUser: 101,
        readinessProbe: HealthProbe.http('/', 8080),
        livenessProbe: HealthProbe.tcp(8080),
      }),
      replicas: 2,
      headlessServiceName: 'nginx',
      storage: { name: 'www', pool, size: Size.gibibytes(1), mountPath: '/usr/share/nginx/html' },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new WebOnNfsPool(app);
  app.synth();
}
