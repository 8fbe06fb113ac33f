import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { kube } from '../render';
import { DatabaseSpec } from './spec';

/**
 * The parts of a StatefulDatabase, each rendering one object from a checked {@link DatabaseSpec},
 * the way cdk8s-plus builds a workload from a pod template and its companions. None of them
 * validates or throws: `resolveSpec` has done that. Internal: not exported from the package.
 */

/** The pod template: containers, volumes, security, placement. */
export function podTemplate(spec: DatabaseSpec): k8s.PodTemplateSpec {
  const { engine, pod } = spec;
  return {
    metadata: { labels: spec.podLabels, annotations: spec.podAnnotations },
    spec: {
      restartPolicy: 'Always',
      serviceAccountName: pod.serviceAccountName,
      // no API token in the pod: a database has no business with the API server
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      priorityClassName: pod.priorityClassName,
      terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
      imagePullSecrets: pod.imagePullSecrets,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: engine.runAsUser,
        runAsGroup: engine.runAsUser,
        fsGroup: engine.runAsUser,
        fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      },
      nodeSelector: pod.nodeSelector,
      tolerations: pod.tolerations,
      affinity: pod.affinity,
      // spread over zones when the cluster has them, without ever blocking scheduling
      topologySpreadConstraints: [{
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: spec.selectorLabels },
      }],
      initContainers: spec.initContainers.length > 0 ? spec.initContainers : undefined,
      containers: [spec.main],
      volumes: spec.volumes,
    },
  };
}

/** The StatefulSet around the pod template. */
export function statefulSet(scope: Construct, spec: DatabaseSpec): ApiObject {
  return kube(k8s.KubeStatefulSet, scope, 'Resource', {
    metadata: { name: spec.name, labels: spec.podLabels },
    spec: {
      serviceName: spec.headlessServiceName,
      replicas: spec.replicas,
      ordinals: spec.startOrdinal !== 0 ? { start: spec.startOrdinal } : undefined,
      selector: { matchLabels: spec.selectorLabels },
      podManagementPolicy: spec.podManagementPolicy,
      updateStrategy: spec.updateStrategy,
      persistentVolumeClaimRetentionPolicy: spec.claimRetention,
      template: podTemplate(spec),
      volumeClaimTemplates: spec.claims,
    },
  });
}

/** The ConfigMap of the engine's scripts, if it has any. */
export function scriptsConfigMap(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  const cm = spec.scriptsConfigMap;
  return cm && kube(k8s.KubeConfigMap, scope, 'Scripts', { metadata: { name: cm.name }, data: cm.files });
}

/** The client Service `<name>`, and for a single writer the read Service `<name>-read`. */
export function clientServices(scope: Construct, spec: DatabaseSpec): { client?: ApiObject; read?: ApiObject } {
  const svc = spec.clientService;
  if (!svc) return {};
  const client = kube(k8s.KubeService, scope, 'Client', {
    metadata: { name: spec.name, annotations: svc.annotations },
    spec: { type: svc.type, selector: svc.selector, ports: svc.ports },
  });
  // the read Service stays inside the cluster: the type and annotations (a load balancer's) are the client Service's
  const read = svc.readService && kube(k8s.KubeService, scope, 'Read', {
    metadata: { name: svc.readService.name },
    spec: { type: 'ClusterIP', selector: spec.selectorLabels, ports: svc.ports },
  });
  return { client, read };
}

/** The PodDisruptionBudget, unless turned off. */
export function disruptionBudget(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  return spec.budget && kube(k8s.KubePodDisruptionBudget, scope, 'Budget', {
    metadata: { name: spec.name },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(spec.budget.maxUnavailable),
      selector: { matchLabels: spec.selectorLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/** The ServiceAccount the database creates, if asked: no token mounted anywhere. */
export function serviceAccount(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  return spec.createServiceAccount === undefined ? undefined : kube(k8s.KubeServiceAccount, scope, 'ServiceAccount', {
    metadata: { name: spec.createServiceAccount },
    automountServiceAccountToken: false,
  });
}
