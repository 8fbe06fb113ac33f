// The set every metrics file deploys: 3 members of a preset with `metrics` (the exporter image of
// the test images, if the engine has a sidecar), alert thresholds short enough that pending becomes
// firing within minutes, and the rule file of its PrometheusRule for the host Prometheus.
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { minutes, setUpEngine, synth, NODE_SIZED } from './helpers';
import { ruleFileOf } from './prometheus';

export interface MonitoredSet {
  readonly ns: string;
  readonly name: string;
  readonly engine: DatabaseEngine;
  /** The exporter sidecar's image (none: the server serves its metrics itself). */
  readonly exporterImage?: string;
  /** The credentials Secret `<name>-credentials`, created first with these keys. */
  readonly secret?: { readonly [key: string]: string };
  /** The client pod, for files that run database clients. */
  readonly client?: { readonly image: string; readonly uid: number };
}

/** The set as applied (`operator: false`: the node has no Prometheus Operator CRD), or with its PodMonitor and PrometheusRule. */
function defineMonitored(set: MonitoredSet, chart: Chart, operator: boolean): StatefulDatabase {
  return new StatefulDatabase(chart, set.name, {
    name: set.name,
    engine: set.engine,
    replicas: 3,
    credentials: set.secret ? { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${set.name}-credentials`) } : undefined,
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
    metrics: {
      exporterImage: set.exporterImage,
      prometheusOperator: operator,
      alertThresholds: { memberDownFor: Duration.seconds(20), replicationFor: Duration.seconds(20) },
    },
  });
}

/** `setUpEngine` for the set (Ready within 10 minutes); returns the rule file of its PrometheusRule. */
export function setUpMonitored(set: MonitoredSet): () => string {
  setUpEngine(set.ns, {
    name: set.name,
    replicas: 3,
    secret: set.secret ? { name: `${set.name}-credentials`, data: { ...set.secret } } : undefined,
    define: (chart) => defineMonitored(set, chart, false),
    client: set.client,
    readyWithin: minutes(10),
  });
  return () => ruleFileOf(synth(set.ns, (chart) => defineMonitored(set, chart, true)));
}
