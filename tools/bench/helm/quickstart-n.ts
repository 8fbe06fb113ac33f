// The README's quickstart database N times, for the side-by-side with Helm (tools/bench/helm.ts):
//   node out/tools/bench/helm/quickstart-n.js <N> <outdir>
// One Chart in namespace `shop`, the shared `fast` StorageClass, and databases db-0 … db-<N-1>,
// each the quickstart's PostgreSQL with its own credentials Secret `<name>-credentials`.
// tools/bench/helm/quickstart_n.py is the same app in Python; tools/bench/helm/stateful-postgresql is the chart.
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, PostgresVersion, StatefulDatabase, StorageClassFast, StorageProvider } from '../../../lib';

/** N quickstart databases in one Chart; nothing is synthesized yet. */
export function quickstartDatabases(n: number, outdir: string): App {
  const app = new App({ outdir });
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  const fast = new StorageClassFast(chart, 'fast', { provider: StorageProvider.aws() });
  for (let i = 0; i < n; i++) {
    const name = `db-${i}`;
    const secret = kplus.Secret.fromSecretName(chart, `${name}-credentials`, `${name}-credentials`);
    const db = new StatefulDatabase(chart, name, {
      engine: DatabaseEngine.postgresql({ version: PostgresVersion.VER_17_2 }),
      replicas: 3,
      credentials: { secret },
      storage: { storageClass: fast, size: Size.gibibytes(50) },
    });
    db.connections?.allowFromLabels({ app: 'checkout' });
  }
  return app;
}

if (require.main === module) {
  const [n, outdir] = process.argv.slice(2);
  quickstartDatabases(Number(n), outdir).synth();
}
