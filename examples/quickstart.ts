// The README's quickstart as an app of its own (not part of dist/): examples/python/quickstart.py
// is the same app in Python, and CI checks that both write byte-identical YAML.
//
//   kubectl -n shop create secret generic orders-credentials \
//     --from-literal=root-password=… --from-literal=replication-password=…
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ChangeGuard, DatabaseEngine, PostgresVersion, StatefulDatabase, StorageClassFast, StorageProvider } from '../lib';

/** Builds the quickstart app; `outdir` defaults to `CDK8S_OUTDIR`, else dist-quickstart/. */
export function quickstartApp(outdir = process.env.CDK8S_OUTDIR ?? 'dist-quickstart'): App {
  const app = new App({ outdir });
  ChangeGuard.attach(app); // synth compares with what is deployed before it overwrites it
  const chart = new Chart(app, 'orders', { namespace: 'shop' });

  const fast = new StorageClassFast(chart, 'fast', { provider: StorageProvider.aws() });
  const secret = kplus.Secret.fromSecretName(chart, 'Credentials', 'orders-credentials');

  const db = new StatefulDatabase(chart, 'orders', {
    engine: DatabaseEngine.postgresql({ version: PostgresVersion.VER_17_2 }),
    replicas: 3,
    credentials: { secret },
    storage: { storageClass: fast, size: Size.gibibytes(50) },
  });
  // clients allowed on 5432 (the checkout Deployment's pods, by its own selector), nobody else
  const checkout = new kplus.Deployment(chart, 'checkout', { containers: [{ image: 'example/checkout:1.0.0', portNumber: 8080 }] });
  db.connections?.allowFrom(checkout);
  return app;
}

if (require.main === module) {
  quickstartApp().synth();
}
