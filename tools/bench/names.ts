// Names shared by the library workload and the baselines. Imports nothing, so that the baseline
// children load neither the library nor (for the YAML floor) cdk8s.

/** The namespace of the databases. */
export const NAMESPACE = 'bench';
/** The id of the one chart (and so the output file `bench.k8s.yaml`). */
export const CHART_ID = 'bench';

/** The name of database i: its StatefulSet, client Service and PodDisruptionBudget. */
export function dbName(i: number): string {
  return `db-${i}`;
}
