// Scenario 7: a MariaDB Galera cluster that is watched: an exporter beside every member, scraped
// by the cluster's Prometheus, a dashboard for Grafana, and (with the Prometheus Operator) alerts.
//
//   kubectl -n orders create secret generic orders-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=monitoring-username=monitoring \
//     --from-literal=monitoring-password="$(openssl rand -base64 24)"
//
// and, once the cluster runs, the monitoring account, on any member (docs/engines.md, Metrics):
//
//   CREATE USER 'monitoring'@'127.0.0.1' IDENTIFIED BY '<monitoring-password>' WITH MAX_USER_CONNECTIONS 3;
//   GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitoring'@'127.0.0.1';
//   GRANT SELECT ON performance_schema.* TO 'monitoring'@'127.0.0.1';
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, MariaDbVersion, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class MonitoredGalera extends Chart {
  constructor(scope: Construct, id = 'monitored-galera') {
    super(scope, id, { namespace: 'orders', disableResourceNameHashes: true });
    restrictedNamespace(this);

    const secret = kplus.Secret.fromSecretName(this, 'Credentials', 'orders-credentials');
    new StatefulDatabase(this, 'orders', {
      engine: DatabaseEngine.mariadbGalera({ version: MariaDbVersion.VER_11_4_4 }),
      replicas: 3,
      credentials: { secret },
      storage: { size: Size.gibibytes(20) },
      // scrape annotations (applying this needs no Prometheus Operator CRD), the exporter open to
      // the Prometheus pods of namespace `monitoring` only, a dashboard for the Grafana sidecar.
      // With the operator installed, `prometheusOperator: true` adds a PodMonitor and the alerts.
      metrics: {
        scraper: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new MonitoredGalera(app);
  app.synth();
}
