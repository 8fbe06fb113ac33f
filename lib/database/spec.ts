import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as k8s from '../../imports/k8s';
import { findLiteralCredential, SECRET_NAME } from '../checks/credentials';
import { show } from '../errors';
import { renderServicePorts } from '../network/headless-service';
import { AccessMode } from '../storage/common';
import { PoolClaims, IPersistentVolumePool } from '../storage/nfs-pool';
import { Check } from '../validate';
import { DatabaseEngine, DatabasePort, EngineBinding, NamedVolumeMount } from './engine';
import { HealthProbe } from './probe';
import { renderResources, resolveResources } from './resources';
import { secretName } from './secret';
import type {
  AntiAffinity as AntiAffinityType, PodToleration, ScratchVolume, StatefulDatabase, StatefulDatabaseProps, VolumeClaimOptions,
} from './stateful-database';

/**
 * Everything a {@link StatefulDatabase} renders, checked and defaulted in one place.
 *
 * `resolveSpec` is the database's whole validation: it reads the props, binds the engine and
 * throws a {@link StatefulConfigError} for anything wrong. The parts that render the objects
 * (parts.ts) only assemble what it returns and never throw. Internal: not exported from the package.
 */
export interface DatabaseSpec {
  readonly name: string;
  readonly replicas: number;
  readonly startOrdinal: number;
  readonly namespaceName: string;
  readonly engine: DatabaseEngine;
  readonly binding: EngineBinding;
  /** The labels that select the pods. */
  readonly selectorLabels: { [key: string]: string };
  /** The labels of the pods and the StatefulSet: the selector's, the standard ones and the user's. */
  readonly podLabels: { [key: string]: string };
  readonly podAnnotations?: { [key: string]: string };
  readonly headlessServiceName: string;
  readonly clusterDomain: string;
  readonly peerAddresses: string[];
  /** Every port, on the headless Service. */
  readonly servicePorts: Array<{ name: string; port: number; targetPort: number; protocol: kplus.Protocol }>;
  /** The client (non-peer) ports. */
  readonly clientPorts: Array<{ name: string; port: number; targetPort: number; protocol: kplus.Protocol }>;
  readonly claims: k8s.KubePersistentVolumeClaimProps[];
  readonly claimTemplateNames: string[];
  /** The claims to register on pools. */
  readonly poolClaims: Array<{ pool: IPersistentVolumePool; claims: PoolClaims }>;
  readonly warnings: string[];
  readonly scriptsConfigMap?: { name: string; files: { [name: string]: string } };
  readonly volumes: k8s.Volume[];
  readonly initContainers: k8s.Container[];
  readonly main: k8s.Container;
  readonly pod: {
    readonly terminationGracePeriodSeconds: number;
    readonly affinity?: k8s.Affinity;
    readonly nodeSelector?: { [key: string]: string };
    readonly tolerations?: k8s.Toleration[];
    readonly priorityClassName?: string;
    readonly serviceAccountName?: string;
    readonly imagePullSecrets?: k8s.LocalObjectReference[];
  };
  /** A ServiceAccount to create, by name. */
  readonly createServiceAccount?: string;
  readonly podManagementPolicy: string;
  readonly updateStrategy: k8s.StatefulSetUpdateStrategy;
  readonly claimRetention: { whenDeleted: string; whenScaled: string };
  readonly clientService?: {
    readonly type: string;
    readonly annotations?: { [key: string]: string };
    readonly ports: k8s.ServicePort[];
    readonly selector: { [key: string]: string };
    /** The read Service over every member, for a single-writer engine. */
    readonly readService?: { name: string };
  };
  readonly budget?: { readonly maxUnavailable: number };
  readonly networkPolicy?: {
    readonly dns: { namespaceLabels: { [key: string]: string }; podLabels: { [key: string]: string }; port: number; cidr?: string };
  };
}

const SCRIPTS_PATH = '/opt/cdk8s-stateful';
/** See `StatefulDatabase.CREDENTIALS_PATH`. */
export const CREDENTIALS_PATH = '/run/secrets/db';
/** Labels the library sets on every pod: extra pod labels may not change them. */
const OWN_LABELS = ['app.kubernetes.io/instance', 'app.kubernetes.io/name', 'app.kubernetes.io/managed-by'];

/** Checks and defaults every prop of a database; the one place a StatefulDatabase throws. */
export function resolveSpec(scope: StatefulDatabase, id: string, props: StatefulDatabaseProps): DatabaseSpec {
  const check = new Check(scope, 'StatefulDatabase');
  check.record('props', props);
  const engine = props.engine;
  if (!(engine instanceof DatabaseEngine)) {
    check.fail(`engine must be a DatabaseEngine, got ${typeof engine}. Fix: e.g. engine: DatabaseEngine.custom({ image, ports }).`);
  }
  // pod names `<name>-<ordinal>` are hostnames and get the controller-revision-hash label: 52 leaves room
  const name = check.dnsLabel('name', props.name ?? id, 52, props.name === undefined);
  const replicas = check.integer('replicas', props.replicas ?? engine.defaultReplicas, 0, 1000, 'use 1 or more replicas (0 only to pause the set)');
  const startOrdinal = check.integer('startOrdinal', props.startOrdinal ?? 0, 0, 1_000_000, 'use 0 unless you migrate ordinals');
  const namespaceName = Chart.of(scope).namespace ?? 'default';
  check.pinnedImage('engine image', engine.image);
  check.integer('engine runAsUser', engine.runAsUser, 1, 2147483647,
    "run as a non-root user: the restricted Pod Security profile refuses UID 0 (for an image that needs root, build a non-root variant)");
  const registry = props.imageRegistry === undefined ? undefined : imageRegistry(check, props.imageRegistry);
  const selectorLabels = { 'app.kubernetes.io/instance': name };
  const extraLabels = check.labels('podLabels', props.podLabels ?? {});
  const clash = Object.keys(extraLabels).find((k) => OWN_LABELS.includes(k));
  if (clash) check.fail(`podLabels sets '${clash}', which the library sets itself (it selects the pods). Fix: use a label key of your own.`);
  const podLabels = { ...extraLabels, ...selectorLabels, 'app.kubernetes.io/name': engine.name, 'app.kubernetes.io/managed-by': 'cdk8s-stateful' };
  const podAnnotations = props.podAnnotations === undefined ? undefined : annotations(check, 'podAnnotations', props.podAnnotations);

  // ports: client ones on both Services, peer ones on the headless Service only
  if (check.list('engine ports', engine.ports).length === 0) check.fail('the engine has no ports. Fix: give the engine at least one port.');
  const servicePorts = engine.ports.map((p) => ({ name: p.name, port: p.servicePort ?? p.port, targetPort: p.port, protocol: kplus.Protocol.TCP }));
  renderServicePorts(check, servicePorts);
  const clientPorts = servicePorts.filter((_, i) => !engine.ports[i].peer);
  const headlessServiceName = check.dnsLabel('headlessServiceName', props.headlessServiceName ?? `${name}-headless`);
  const clusterDomain = check.dnsSubdomain('clusterDomain', props.clusterDomain ?? 'cluster.local');
  const peerAddresses = Array.from({ length: replicas }, (_, i) => `${name}-${startOrdinal + i}.${headlessServiceName}.${namespaceName}.svc.${clusterDomain}`);

  // claim templates
  const dataClaim = { name: 'data', mountPath: engine.dataPath, ...check.record('storage', props.storage ?? {}) };
  const claimOptions = [dataClaim, ...check.list('extraVolumeClaims', props.extraVolumeClaims)];
  const poolClaims: DatabaseSpec['poolClaims'] = [];
  const claims = claimOptions.map((c, i) => claimTemplate(check, scope, { name, replicas, startOrdinal, namespaceName }, c, i, poolClaims));
  const claimTemplateNames = claims.map((c) => c.metadata!.name!);

  const binding: EngineBinding = engine.bind({
    name,
    replicas,
    startOrdinal,
    peerAddresses,
    headlessServiceName,
    dataPath: dataClaim.mountPath,
    dataVolume: claimTemplateNames[0],
    credentials: props.credentials,
    credentialsPath: props.credentials ? CREDENTIALS_PATH : undefined,
    scope,
  });
  const warnings: string[] = [];
  if (engine.quorum && replicas > 0 && replicas % 2 === 0) {
    warnings.push(`${replicas} members form a quorum of ${replicas / 2 + 1}: they survive no more failures than ${replicas - 1} would, ` +
      `and a network split in half stops both sides. Fix: use an odd replica count, e.g. ${replicas + 1}.`);
  }
  warnings.push(...(binding.warnings ?? []));

  // volumes: claims, scratch volumes, /tmp, scripts, credentials
  const scratch: ScratchVolume[] = [
    ...check.list('scratchVolumes', props.scratchVolumes),
    ...(binding.scratchVolumes ?? []).map((n) => ({ name: n })),
    { name: 'tmp' },
  ];
  const volumes: k8s.Volume[] = scratch.map((v) => ({
    name: check.dnsLabel('scratch volume name', v.name),
    emptyDir: { sizeLimit: v.sizeLimit !== undefined && check.sizeKib(`sizeLimit of '${v.name}'`, v.sizeLimit) ? k8s.Quantity.fromString(v.sizeLimit.asString()) : undefined },
  }));
  // memory-backed: the kubelet sizes it to the pod's memory limit, and it counts against it
  (binding.memoryVolumes ?? []).forEach((n) => volumes.push({ name: check.dnsLabel('memory volume name', n), emptyDir: { medium: 'Memory' } }));
  const scriptsConfigMap = binding.files && Object.keys(binding.files).length > 0 ? { name: `${name}-scripts`, files: binding.files } : undefined;
  if (scriptsConfigMap) volumes.push({ name: 'scripts', configMap: { name: scriptsConfigMap.name, defaultMode: 0o555 } });
  if (props.credentials) {
    check.record('credentials', props.credentials);
    // 0440: readable by the pod's group (fsGroup), never world-readable
    volumes.push({ name: 'credentials', secret: { secretName: secretName(check, 'credentials.secret', props.credentials.secret), defaultMode: 0o440 } });
  }
  const volumeNames = [...volumes.map((v) => v.name), ...claimTemplateNames];
  const duplicateVolume = volumeNames.find((n, i) => volumeNames.indexOf(n) !== i);
  if (duplicateVolume) check.fail(`volume name '${duplicateVolume}' is used twice. Fix: give every claim template and scratch volume its own name.`);

  const withDefaults = (mounts: NamedVolumeMount[]): NamedVolumeMount[] => [
    ...mounts,
    { volume: 'tmp', path: '/tmp' },
    ...(scriptsConfigMap ? [{ volume: 'scripts', path: SCRIPTS_PATH, readOnly: true }] : []),
    ...(props.credentials ? [{ volume: 'credentials', path: CREDENTIALS_PATH, readOnly: true }] : []),
  ];
  const mountsOf = (container: string, mounts: NamedVolumeMount[]): k8s.VolumeMount[] => {
    const paths = new Set<string>();
    return check.list(`mounts of container '${container}'`, mounts).map((m) => {
      if (!volumeNames.includes(m.volume)) {
        check.fail(`container '${container}' mounts volume '${m.volume}', which does not exist (volumes: ${volumeNames.join(', ')}). Fix: declare it in scratchVolumes or extraVolumeClaims, or mount an existing one.`);
      }
      check.absolutePath(`mount path of '${m.volume}' in container '${container}'`, m.path);
      if (paths.has(m.path)) check.fail(`container '${container}' mounts two volumes at '${m.path}'. Fix: give each mount its own path.`);
      paths.add(m.path);
      return { name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath };
    });
  };

  const security: k8s.SecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: engine.readOnlyRootFilesystem,
    runAsNonRoot: true,
    runAsUser: engine.runAsUser,
    runAsGroup: engine.runAsUser,
    capabilities: { drop: ['ALL'] },
  };
  const engineInits = binding.initContainers ?? [];
  const initContainers = [...engineInits, ...check.list('initContainers', props.initContainers)].map((c, i): k8s.Container => {
    const image = check.pinnedImage(`image of init container '${c.name}'`, c.image);
    scanCommand(check, `the command of init container '${c.name}'`, c.command);
    scanCommand(check, `the args of init container '${c.name}'`, c.args);
    return {
      name: c.name,
      // the registry override applies to what the engine brings, not to images the user wrote
      image: registry !== undefined && i < engineInits.length ? withRegistry(image, registry) : image,
      imagePullPolicy: 'IfNotPresent',
      command: c.command,
      args: c.args,
      env: renderEnv(check, `init container '${c.name}'`, c.env),
      volumeMounts: mountsOf(c.name, withDefaults(check.list(`mounts of init container '${c.name}'`, c.mounts))),
      securityContext: security,
      resources: renderResources(resolveResources(check, `resources of init container '${c.name}'`, c.resources)),
    };
  });
  const containerNames = ['main', ...initContainers.map((c) => c.name)];
  containerNames.forEach((n) => check.dnsLabel('container name', n));
  const dupContainer = containerNames.find((n, i) => containerNames.indexOf(n) !== i);
  if (dupContainer) check.fail(`container name '${dupContainer}' is used twice. Fix: give each init container a distinct name other than 'main'.`);

  const mainMounts = [
    ...claimOptions.map((c, i) => ({ volume: claimTemplateNames[i], path: c.mountPath! })),
    ...(binding.mounts ?? []),
    ...check.list('mounts', props.mounts),
  ];
  const clientPort = clientPorts[0]?.targetPort ?? servicePorts[0].targetPort;
  const readiness = props.readinessProbe ?? engine.readinessProbe ?? HealthProbe.tcp(clientPort);
  // No default liveness probe: one that repeats the readiness check restarts a database that is
  // merely busy, and cascades under load (kube-score: pod-probes-identical).
  const liveness = props.livenessProbe ?? engine.livenessProbe;
  const startup = props.startupProbe ?? engine.startupProbe;
  validateProbe(check, 'readinessProbe', readiness, engine.ports);
  if (liveness !== undefined) validateProbe(check, 'livenessProbe', liveness, engine.ports);
  if (startup !== undefined) validateProbe(check, 'startupProbe', startup, engine.ports);
  scanCommand(check, 'the command of the database container', binding.command ?? engine.command);
  scanCommand(check, 'the args of the database container', binding.args ?? engine.args);

  const main: k8s.Container = {
    name: 'main',
    image: registry !== undefined ? withRegistry(engine.image, registry) : engine.image,
    imagePullPolicy: 'IfNotPresent',
    command: binding.command ?? engine.command,
    args: binding.args ?? engine.args,
    ports: engine.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    env: renderEnv(check, 'the database container', { ...binding.env, ...props.env }),
    volumeMounts: mountsOf('main', withDefaults(mainMounts)),
    readinessProbe: readiness._toKube(),
    livenessProbe: liveness?._toKube(),
    startupProbe: startup?._toKube(),
    securityContext: security,
    resources: renderResources(resolveResources(check, 'resources', props.resources)),
  };

  const retention = (what: string, value: string | undefined): string => {
    const v = value ?? 'Retain';
    if (v !== 'Retain' && v !== 'Delete') check.fail(`${what} must be Retain or Delete, got ${show(v)}. Fix: use ClaimRetention.RETAIN.`);
    return v;
  };
  const podManagementPolicy = props.podManagementPolicy ?? (engine.parallelStart ? kplus.PodManagementPolicy.PARALLEL : kplus.PodManagementPolicy.ORDERED_READY);
  if (!Object.values(kplus.PodManagementPolicy).includes(podManagementPolicy)) {
    check.fail(`podManagementPolicy must be OrderedReady or Parallel, got ${show(podManagementPolicy)}. Fix: use PodManagementPolicy.ORDERED_READY.`);
  }
  const updateStrategy = props.updateStrategy;
  if (updateStrategy?.partition !== undefined) {
    // a partition above the highest ordinal updates nobody, silently
    const highest = Math.max(0, startOrdinal + replicas - 1);
    check.integer('updateStrategy partition', updateStrategy.partition, 0, highest, `use a partition from 0 (update all) up to the highest ordinal, ${highest}`);
  }

  const pod = resolvePod(check, props, name, selectorLabels);
  const clientService = resolveClientService(check, props, name, selectorLabels, clientPorts, binding.primaryOrdinal);
  const budget = resolveBudget(check, props, engine, replicas);
  const networkPolicy = (props.networkPolicy ?? true) ? { dns: resolveDns(check, props) } : undefined;
  return {
    name, replicas, startOrdinal, namespaceName, engine, binding, selectorLabels, podLabels, podAnnotations,
    headlessServiceName, clusterDomain, peerAddresses, servicePorts, clientPorts, claims, claimTemplateNames, poolClaims,
    warnings, scriptsConfigMap, volumes, initContainers, main, pod,
    createServiceAccount: props.createServiceAccount ? name : undefined,
    podManagementPolicy, updateStrategy: updateStrategy?._toKube() ?? { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    claimRetention: {
      whenDeleted: retention('claimRetentionWhenDeleted', props.claimRetentionWhenDeleted),
      whenScaled: retention('claimRetentionWhenScaled', props.claimRetentionWhenScaled),
    },
    clientService, budget, networkPolicy,
  };
}

/** The pod's placement and identity: grace period, anti-affinity, nodes, priority, account, pull secrets. */
function resolvePod(check: Check, props: StatefulDatabaseProps, name: string, selectorLabels: { [key: string]: string }): DatabaseSpec['pod'] {
  if (props.serviceAccountName !== undefined && props.createServiceAccount) {
    check.fail(`serviceAccountName ${show(props.serviceAccountName)} and createServiceAccount are both given. Fix: keep one: an existing account, or the one the database creates.`);
  }
  const serviceAccountName = props.createServiceAccount ? name
    : props.serviceAccountName === undefined ? undefined : check.dnsSubdomain('serviceAccountName', props.serviceAccountName);
  return {
    terminationGracePeriodSeconds: check.seconds('terminationGracePeriod', props.terminationGracePeriod ?? Duration.seconds(30), 86400),
    affinity: antiAffinity(check, props.antiAffinity ?? ('preferred' as AntiAffinityType), selectorLabels),
    nodeSelector: props.nodeSelector === undefined ? undefined : check.labels('nodeSelector', props.nodeSelector),
    tolerations: props.tolerations === undefined ? undefined : check.list('tolerations', props.tolerations).map((t, i) => toleration(check, i, t)),
    priorityClassName: props.priorityClassName === undefined ? undefined : check.dnsSubdomain('priorityClassName', props.priorityClassName),
    serviceAccountName,
    imagePullSecrets: props.imagePullSecrets === undefined ? undefined : check.list('imagePullSecrets', props.imagePullSecrets)
      .map((s, i) => ({ name: secretName(check, `imagePullSecrets[${i}]`, s) })),
  };
}

function resolveClientService(check: Check, props: StatefulDatabaseProps, name: string, selectorLabels: { [key: string]: string },
  clientPorts: DatabaseSpec['clientPorts'], primary: number | undefined): DatabaseSpec['clientService'] {
  if (!(props.clientService ?? true)) {
    if (props.clientServiceType !== undefined || props.clientServiceAnnotations !== undefined) {
      check.fail('clientServiceType or clientServiceAnnotations is given, but clientService is false. Fix: drop them, or turn the client Service on.');
    }
    return undefined;
  }
  if (clientPorts.length === 0) check.fail('clientService is on but every port is a peer port. Fix: mark a client port peer: false, or set clientService: false.');
  const type = props.clientServiceType ?? kplus.ServiceType.CLUSTER_IP;
  const allowed: string[] = [kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER];
  if (!allowed.includes(type)) {
    check.fail(`clientServiceType must be ClusterIP, NodePort or LoadBalancer, got ${show(type)}. Fix: e.g. ServiceType.LOAD_BALANCER for clients outside the cluster.`);
  }
  return {
    type,
    annotations: props.clientServiceAnnotations === undefined ? undefined : annotations(check, 'clientServiceAnnotations', props.clientServiceAnnotations),
    ports: renderServicePorts(check, clientPorts),
    // the StatefulSet controller labels every pod with its name: a single writer is selectable
    selector: primary === undefined ? selectorLabels : { ...selectorLabels, 'statefulset.kubernetes.io/pod-name': `${name}-${primary}` },
    readService: primary === undefined ? undefined : { name: `${name}-read` },
  };
}

function resolveBudget(check: Check, props: StatefulDatabaseProps, engine: DatabaseEngine, replicas: number): DatabaseSpec['budget'] {
  if (!(props.podDisruptionBudget ?? true)) {
    if (props.maxUnavailable !== undefined) check.fail('maxUnavailable is given, but podDisruptionBudget is false. Fix: drop maxUnavailable, or keep the budget.');
    return undefined;
  }
  const quorumSafe = engine.quorum ? Math.max(1, Math.floor((replicas - 1) / 2)) : 1;
  const maxUnavailable = check.integer('maxUnavailable', props.maxUnavailable ?? quorumSafe, 1, Math.max(1, replicas),
    'allow at least 1 disruption (0 blocks every node drain) and at most the replica count');
  if (engine.quorum && replicas >= 3 && maxUnavailable > quorumSafe) {
    check.fail(`maxUnavailable ${maxUnavailable} would let a drain break the quorum of ${replicas} members (at most ${quorumSafe} may be down). Fix: omit maxUnavailable, or set it to ${quorumSafe} or less.`);
  }
  return { maxUnavailable };
}

function resolveDns(check: Check, props: StatefulDatabaseProps): NonNullable<DatabaseSpec['networkPolicy']>['dns'] {
  const dns = check.record('dnsEgress', props.dnsEgress ?? {});
  const cidr = dns.cidr === undefined ? undefined : check.ipv4Cidr('dnsEgress cidr', dns.cidr, "'169.254.20.10/32'");
  if (cidr !== undefined && (dns.namespaceLabels !== undefined || dns.podLabels !== undefined)) {
    check.fail('dnsEgress gives a cidr and labels. Fix: keep one: the cidr of a node-local DNS cache, or the labels of the DNS pods.');
  }
  const namespaceLabels = check.labels('dnsEgress namespaceLabels', dns.namespaceLabels ?? { 'kubernetes.io/metadata.name': 'kube-system' });
  const podLabels = check.labels('dnsEgress podLabels', dns.podLabels ?? { 'k8s-app': 'kube-dns' });
  return { namespaceLabels, podLabels, port: check.port('dnsEgress port', dns.port ?? 53), cidr };
}

/** Annotation keys as label keys; values any string. */
function annotations(check: Check, what: string, value: { [key: string]: string }): { [key: string]: string } {
  const copy: { [key: string]: string } = {};
  for (const [key, v] of Object.entries(check.record(what, value))) {
    const [prefix, local] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(local) || local.length > 63 ||
      (prefix !== undefined && (prefix.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)))) {
      check.fail(`${what} has an invalid key ${show(key)} (keys are [prefix/]name: a DNS subdomain, '/', then at most 63 ` +
        "alphanumerics, '-', '_' or '.'). Fix: e.g. 'prometheus.io/scrape'.");
    }
    if (typeof v !== 'string') check.fail(`${what} sets ${show(key)} to ${show(v)}, which is not a string. Fix: quote it, e.g. '${String(v)}'.`);
    copy[key] = v;
  }
  return copy;
}

/** A registry host (and port, and path), without a scheme or tag. */
function imageRegistry(check: Check, value: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/.test(value)) {
    check.fail(`imageRegistry must be a registry host with an optional port and path, without scheme or tag, got ${show(value)}. ` +
      "Fix: e.g. 'mirror.example.com' or 'harbor.example.com/dockerhub'.");
  }
  return value;
}

/**
 * The image from another registry: `postgres:17.2` (Docker Hub's `library/postgres`) becomes
 * `<registry>/library/postgres:17.2`; `quay.io/x/y:1` becomes `<registry>/x/y:1`.
 */
export function withRegistry(image: string, registry: string): string {
  const parts = image.split('/');
  const hasRegistry = parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost');
  const repository = hasRegistry ? parts.slice(1) : parts.length === 1 ? ['library', ...parts] : parts;
  return `${registry}/${repository.join('/')}`;
}

function toleration(check: Check, index: number, t: PodToleration): k8s.Toleration {
  const what = `tolerations[${index}]`;
  check.record(what, t);
  if (t.key !== undefined) check.labels(`${what} key`, { [t.key]: '' });
  if (t.value !== undefined) {
    if (t.key === undefined) check.fail(`${what} gives a value without a key. Fix: give the taint's key too, or neither to tolerate every taint.`);
    check.labels(`${what} value`, { x: t.value });
  }
  const effects: string[] = Object.values(kplus.TaintEffect);
  if (t.effect !== undefined && !effects.includes(t.effect)) {
    check.fail(`${what} effect must be one of ${effects.join(', ')}, got ${show(t.effect)}. Fix: e.g. TaintEffect.NO_SCHEDULE.`);
  }
  let seconds: number | undefined;
  if (t.evictAfter !== undefined) {
    if (t.effect !== kplus.TaintEffect.NO_EXECUTE) {
      check.fail(`${what} gives evictAfter with effect ${show(t.effect)}: only NoExecute taints evict. Fix: set effect: TaintEffect.NO_EXECUTE, or drop evictAfter.`);
    }
    seconds = check.seconds(`${what} evictAfter`, t.evictAfter, 31_536_000);
  }
  return { key: t.key, operator: t.value === undefined ? 'Exists' : 'Equal', value: t.value, effect: t.effect, tolerationSeconds: seconds };
}

function claimTemplate(check: Check, owner: StatefulDatabase, set: { name: string; replicas: number; startOrdinal: number; namespaceName: string },
  c: VolumeClaimOptions, index: number, poolClaims: DatabaseSpec['poolClaims']): k8s.KubePersistentVolumeClaimProps {
  const where = index === 0 ? 'storage' : `extraVolumeClaims[${index - 1}]`;
  if (index > 0 && (!c.name || !c.mountPath)) {
    check.fail(`${where} needs a name and a mountPath, got ${JSON.stringify({ name: c.name, mountPath: c.mountPath })}. Fix: e.g. { name: 'archive', mountPath: '/archive', storageClass: slow }.`);
  }
  const name = check.dnsLabel(`${where} name`, c.name!);
  check.absolutePath(`${where} mountPath`, c.mountPath!);
  // claim names `<template>-<set>-<ordinal>` must stay DNS subdomains
  check.dnsSubdomain(`${where} claim name`, `${name}-${set.name}-${set.startOrdinal + Math.max(0, set.replicas - 1)}`);
  if (c.pool && c.storageClass) {
    check.fail(`${where} gives both pool and storageClass. Fix: keep one: a pool for static volumes, a class for dynamic provisioning.`);
  }
  const size = c.size ?? Size.gibibytes(10);
  check.sizeKib(`${where} size`, size);
  const accessModes = check.accessModes(c.accessModes ?? [AccessMode.READ_WRITE_ONCE]);
  const storageClassName = c.pool?.storageClassName ?? c.storageClass?.storageClassName;
  if (storageClassName !== undefined) check.dnsSubdomain(`${where} storageClassName`, storageClassName);
  const minimum = c.storageClass?.minimumVolumeSize;
  if (minimum && check.sizeKib(`${where} size`, size) < minimum.toKibibytes()) {
    check.fail(`${where} size ${size.asString()} is below the ${minimum.asString()} that class '${storageClassName}' provisions at least ` +
      `(AWS st1/sc1 volumes start at 125 GiB): the claim would stay Pending. Fix: request at least ${minimum.asString()}, or use another class.`);
  }
  if (c.pool) {
    poolClaims.push({ pool: c.pool, claims: {
      owner,
      claimTemplateName: name,
      statefulSetName: set.name,
      namespaceName: set.namespaceName,
      startOrdinal: set.startOrdinal,
      replicas: set.replicas,
      request: size,
      accessModes,
      storageClassName: c.pool.storageClassName,
      selector: c.pool.selectorLabels,
    } });
  }
  return {
    metadata: { name },
    spec: {
      accessModes,
      storageClassName,
      selector: c.pool ? { matchLabels: c.pool.selectorLabels } : undefined,
      resources: { requests: { storage: k8s.Quantity.fromString(size.asString()) } },
    },
  };
}

function renderEnv(check: Check, where: string, env: { [name: string]: kplus.EnvValue } | undefined): k8s.EnvVar[] | undefined {
  if (env === undefined || Object.keys(check.record(`env of ${where}`, env)).length === 0) return undefined;
  return Object.keys(env).sort().map((name) => {
    const value = env[name];
    // what EnvValue promises, not its class: an EnvValue of another cdk8s-plus (e.g. -33) is welcome
    if (value === null || typeof value !== 'object' || (value.value === undefined && value.valueFrom === undefined)) {
      check.fail(`${where} sets '${name}' to ${JSON.stringify(value)}, which is not an EnvValue. Fix: use EnvValue.fromValue('…'), or for a credential a *_FILE variable under StatefulDatabase.CREDENTIALS_PATH.`);
    }
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
      check.fail(`${where} has an invalid environment variable name '${name}'. Fix: use letters, digits, '_', '-' and '.', not starting with a digit.`);
    }
    // `X_FILE=/path` names a file, as the official images read secrets: not a credential itself
    const isFileReference = /_FILE$/.test(name) && typeof value.value === 'string' && value.value.startsWith('/');
    if (value.value !== undefined && SECRET_NAME.test(name) && !isFileReference) {
      check.fail(
        `${where} sets '${name}' to a literal value: a credential would be written into the YAML in plain text. ` +
          "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
          `pass credentials: { secret } and read the file: e.g. ${name}_FILE=${CREDENTIALS_PATH}/<key>.`,
      );
    }
    const found = value.value === undefined ? undefined : findLiteralCredential([value.value]);
    if (found) literalCredential(check, `${where} sets '${name}' to`, found);
    return { name, value: value.value, valueFrom: value.valueFrom };
  });
}

/** Refuses a literal credential found in a command line or a value. */
function literalCredential(check: Check, where: string, found: string): never {
  return check.fail(
    `${where} ${found}: a credential would be written into the YAML in plain text. ` +
      "Fix: keep it in a Secret (create it with 'kubectl create secret generic', a SealedSecret or an ExternalSecret), " +
      `pass credentials: { secret } and read the file at run time: e.g. "$(cat ${CREDENTIALS_PATH}/<key>)" in a shell command.`,
  );
}

/** Refuses literal credentials in a container's command and args, or a probe's command. */
function scanCommand(check: Check, where: string, words: string[] | undefined): void {
  const found = words === undefined ? undefined : findLiteralCredential(words);
  if (found) literalCredential(check, `${where} has`, found);
}

function validateProbe(check: Check, kind: string, probe: HealthProbe, ports: DatabasePort[]): void {
  if (!(probe instanceof HealthProbe)) check.fail(`${kind} must be a HealthProbe, got ${JSON.stringify(probe)}. Fix: e.g. HealthProbe.tcp(5432).`);
  for (const [option, value] of Object.entries(probe.timings)) {
    if (value !== undefined) check.seconds(`${kind} ${option}`, value, 3600);
  }
  scanCommand(check, `the command of ${kind}`, probe.execCommand);
  check.integer(`${kind} failureThreshold`, probe.failureThreshold, 1, 100, 'use 1 or more consecutive failures');
  if (probe.port !== undefined && !ports.some((p) => p.port === probe.port)) {
    check.fail(`${kind} targets port ${probe.port}, which the container does not expose (ports: ${ports.map((p) => p.port).join(', ')}). Fix: probe one of the engine's ports.`);
  }
}

function antiAffinity(check: Check, mode: AntiAffinityType, labels: { [key: string]: string }): k8s.Affinity | undefined {
  const term = { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' };
  switch (mode as string) {
    case 'none':
      return undefined;
    case 'required':
      return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
    case 'preferred':
      return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
    default:
      return check.fail(`antiAffinity must be preferred, required or none, got ${show(mode)}. Fix: use AntiAffinity.PREFERRED.`);
  }
}
