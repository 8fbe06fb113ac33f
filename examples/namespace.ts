import { Chart, JsonPatch } from 'cdk8s';
import * as k8s from '../imports/k8s';

/**
 * The example's namespace, enforcing the Pod Security "restricted" profile, so that
 * `kubectl apply -f dist/` creates it before what goes in it.
 */
export function restrictedNamespace(chart: Chart): void {
  const ns = new k8s.KubeNamespace(chart, 'Namespace', {
    metadata: {
      name: chart.namespace,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  });
  // a Namespace is cluster-scoped: drop the namespace cdk8s gives every object of a namespaced chart
  ns.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}
