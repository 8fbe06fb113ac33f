// Scenario 3: a Spring Boot app in namespace `dev`, its data on a named (GlusterFS-style) class.
import { App, Chart, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, HealthProbe, StatefulDatabase, StorageClass, VolumeBindingMode } from '../lib';
import { restrictedNamespace } from './namespace';

export class SpringbootWeb extends Chart {
  constructor(scope: Construct, id = 'springboot-web') {
    super(scope, id, { namespace: 'dev', disableResourceNameHashes: true });
    restrictedNamespace(this);

    const glusterfs = new StorageClass(this, 'glusterfs', {
      provisioner: 'gluster.org/glusterfs-simple',
      parameters: { brickrootPaths: 'gluster-0:/bricks/mooc' },
      volumeBindingMode: VolumeBindingMode.IMMEDIATE,
    });

    new StatefulDatabase(this, 'springboot-web', {
      engine: DatabaseEngine.custom({
        name: 'springboot-web',
        image: 'ghcr.io/example/springboot-web:1.0.0',
        ports: [{ name: 'http', port: 8080, servicePort: 80 }],
      }),
      replicas: 2,
      livenessProbe: HealthProbe.tcp(8080, {
        initialDelay: Duration.seconds(20),
        period: Duration.seconds(10),
        timeout: Duration.seconds(5),
      }),
      readinessProbe: HealthProbe.http('/hello?name=test', 8080),
      // a JVM can take a while to start: up to 150 s before liveness and readiness take over
      startupProbe: HealthProbe.http('/hello?name=test', 8080, { period: Duration.seconds(5), failureThreshold: 30 }),
      // an identity of its own (no API token mounted), and where a Prometheus finds the metrics
      createServiceAccount: true,
      podAnnotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/actuator/prometheus' },
      storage: { name: 'data', storageClass: glusterfs, size: Size.gibibytes(1), mountPath: '/mooc-data' },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new SpringbootWeb(app);
  app.synth();
}
