import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../../imports/k8s';
import { kube } from '../../render';
import { ResolvedResources } from './container-resources';
import { DatabaseSpec, ResolvedClaim, ResolvedContainer, ResolvedPod, ResolvedPort, ResolvedVolume } from './database-spec';

/*
 * The one place a StatefulDatabase's objects are rendered, from the plain values of a resolved
 * DatabaseSpec, the way cdk8s-plus builds a workload from a pod template and its companions.
 * Nothing here validates or throws: resolveSpec has done that. Internal: not exported from the package.
 */

/** The StatefulSet around the pod template. */
export function statefulSet(scope: Construct, spec: DatabaseSpec): ApiObject {
  const { identity, workload } = spec;
  const strategy = workload.updateStrategy;
  return kube(k8s.KubeStatefulSet, scope, 'Resource', {
    metadata: { name: identity.name, labels: identity.podLabels, annotations: spec.binding.annotations },
    spec: {
      serviceName: identity.headlessServiceName,
      replicas: identity.replicas,
      ordinals: identity.startOrdinal !== 0 ? { start: identity.startOrdinal } : undefined,
      selector: { matchLabels: identity.selectorLabels },
      podManagementPolicy: workload.podManagementPolicy,
      updateStrategy: strategy.type === 'RollingUpdate' ? { type: strategy.type, rollingUpdate: { partition: strategy.partition } } : { type: strategy.type },
      persistentVolumeClaimRetentionPolicy: workload.claimRetention,
      template: podTemplate(spec),
      volumeClaimTemplates: spec.claims.claims.map(claimTemplate),
    },
  });
}

/** The pod template: containers, volumes, security, placement. */
function podTemplate(spec: DatabaseSpec): k8s.PodTemplateSpec {
  const { identity, pod, containers } = spec;
  const user = identity.engine.runAsUser;
  const security = containerSecurity(user, identity.engine.readOnlyRootFilesystem);
  return {
    metadata: { labels: identity.podLabels, annotations: identity.podAnnotations },
    spec: {
      restartPolicy: 'Always',
      serviceAccountName: pod.serviceAccountName,
      // no API token in the pod: a database has no business with the API server, unless its
      // engine keeps its leader lock there (its own account, with a Role of exactly that)
      automountServiceAccountToken: pod.automountToken,
      enableServiceLinks: false,
      priorityClassName: pod.priorityClassName,
      terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
      imagePullSecrets: pod.imagePullSecrets?.map((name) => ({ name })),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: user,
        runAsGroup: user,
        fsGroup: user,
        fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      },
      nodeSelector: pod.nodeSelector,
      tolerations: pod.tolerations,
      affinity: affinity(pod.antiAffinity, identity.selectorLabels),
      // spread over zones when the cluster has them, without ever blocking scheduling
      topologySpreadConstraints: [{
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: identity.selectorLabels },
      }],
      initContainers: containers.initContainers.length > 0 ? containers.initContainers.map((c) => container(c, security)) : undefined,
      containers: [containers.main, ...containers.sidecars].map((c) => container(c, security)),
      volumes: containers.volumes.map(volume),
    },
  };
}

/** The restricted Pod Security profile, as the engine's user. */
function containerSecurity(user: number, readOnlyRootFilesystem: boolean): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    capabilities: { drop: ['ALL'] },
  };
}

function container(c: ResolvedContainer, securityContext: k8s.SecurityContext): k8s.Container {
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    command: c.command,
    args: c.args,
    ports: c.ports?.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    env: c.env?.map((e) => ({ name: e.name, value: e.value, valueFrom: e.valueFrom as k8s.EnvVarSource | undefined })),
    volumeMounts: c.mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath })),
    readinessProbe: c.readinessProbe?._toKube(),
    livenessProbe: c.livenessProbe?._toKube(),
    startupProbe: c.startupProbe?._toKube(),
    lifecycle: c.preStop !== undefined ? { preStop: { exec: { command: c.preStop } } } : undefined,
    securityContext,
    resources: resources(c.resources),
  };
}

/** A container's `resources`. */
function resources(r: ResolvedResources): k8s.ResourceRequirements {
  const q = (v: string) => k8s.Quantity.fromString(v);
  return {
    requests: { 'cpu': q(r.cpu.request), 'memory': q(r.memory.request), 'ephemeral-storage': q(r.ephemeralStorage.request) },
    limits: { 'cpu': q(r.cpu.limit), 'memory': q(r.memory.limit), 'ephemeral-storage': q(r.ephemeralStorage.limit) },
  };
}

function volume(v: ResolvedVolume): k8s.Volume {
  if (v.configMap !== undefined) return { name: v.name, configMap: { name: v.configMap, defaultMode: 0o555 } };
  // 0440: readable by the pod's group (fsGroup), never world-readable
  if (v.secret !== undefined) return { name: v.name, secret: { secretName: v.secret, defaultMode: 0o440 } };
  // memory-backed: the kubelet sizes it to the pod's memory limit, and it counts against it
  if (v.emptyDir?.memory) return { name: v.name, emptyDir: { medium: 'Memory' } };
  const sizeLimit = v.emptyDir?.sizeLimit;
  return { name: v.name, emptyDir: { sizeLimit: sizeLimit === undefined ? undefined : k8s.Quantity.fromString(sizeLimit) } };
}

function claimTemplate(c: ResolvedClaim): k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name: c.name },
    spec: {
      accessModes: c.accessModes,
      storageClassName: c.storageClassName,
      selector: c.selector ? { matchLabels: c.selector } : undefined,
      resources: { requests: { storage: k8s.Quantity.fromString(c.size) } },
    },
  };
}

function affinity(mode: ResolvedPod['antiAffinity'], labels: { [key: string]: string }): k8s.Affinity | undefined {
  const term = { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' };
  if (mode === 'required') return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  if (mode === 'preferred') return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
  return undefined;
}

/** The ConfigMap of the engine's scripts, if it has any. */
export function scriptsConfigMap(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  const cm = spec.containers.scriptsConfigMap;
  return cm && kube(k8s.KubeConfigMap, scope, 'Scripts', { metadata: { name: cm.name }, data: cm.files });
}

function servicePorts(ports: ResolvedPort[]): k8s.ServicePort[] {
  return ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.targetPort), protocol: p.protocol }));
}

/** The client Service `<name>`, and for a single writer the read Service `<name>-read`. */
export function clientServices(scope: Construct, spec: DatabaseSpec): { client?: ApiObject; read?: ApiObject } {
  const svc = spec.services.clientService;
  if (!svc) return {};
  const ports = servicePorts(svc.ports);
  const client = kube(k8s.KubeService, scope, 'Client', {
    metadata: { name: spec.identity.name, annotations: svc.annotations },
    spec: { type: svc.type, selector: svc.selector, ports },
  });
  // the read Service stays inside the cluster: the type and annotations (a load balancer's) are the client Service's
  const read = svc.readServiceName === undefined ? undefined : kube(k8s.KubeService, scope, 'Read', {
    metadata: { name: svc.readServiceName },
    spec: { type: 'ClusterIP', selector: svc.readSelector, ports },
  });
  return { client, read };
}

/** The PodDisruptionBudget, unless turned off. */
export function disruptionBudget(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  const budget = spec.services.budget;
  return budget && kube(k8s.KubePodDisruptionBudget, scope, 'Budget', {
    metadata: { name: spec.identity.name },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(budget.maxUnavailable),
      selector: { matchLabels: spec.identity.selectorLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/**
 * The ServiceAccount the database creates, if asked or its engine uses the API server: no token
 * mounted by default (only the database's own pods opt in, when its engine needs it).
 */
export function serviceAccount(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  const name = spec.workload.createServiceAccount;
  return name === undefined ? undefined : kube(k8s.KubeServiceAccount, scope, 'ServiceAccount', {
    metadata: { name },
    automountServiceAccountToken: false,
  });
}

/** The Role of the engine's API access and its RoleBinding to the pods' account, in its namespace. */
export function accessRole(scope: Construct, spec: DatabaseSpec): ApiObject | undefined {
  const role = spec.workload.role;
  if (role === undefined) return undefined;
  const resource = kube(k8s.KubeRole, scope, 'Role', {
    metadata: { name: role.name },
    rules: role.rules.map((r) => ({ apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames, verbs: r.verbs })),
  });
  kube(k8s.KubeRoleBinding, scope, 'RoleBinding', {
    metadata: { name: role.name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
    subjects: [{ kind: 'ServiceAccount', name: role.subject, namespace: spec.identity.namespaceName }],
  });
  return resource;
}
