import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { show } from '../../errors';
import { renderServicePorts } from '../../network/headless-service';
import { PropValidator } from '../../prop-validator';
import { DatabaseEngine } from '../engine';
import type { StatefulDatabaseProps } from '../stateful-database-props';
import { DatabaseIdentity, ResolvedPort } from './database-spec';

/** Labels the library sets on every pod: extra pod labels may not change them. */
const OWN_LABELS = ['app.kubernetes.io/instance', 'app.kubernetes.io/name', 'app.kubernetes.io/managed-by'];

/** The database's name, size, engine, labels, ports and member names. */
export function resolveIdentity(check: PropValidator, scope: IConstruct, id: string, props: StatefulDatabaseProps): DatabaseIdentity {
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
  const labels = resolveLabels(check, props, name, engine);
  const ports = resolvePorts(check, engine);
  const headlessServiceName = check.dnsLabel('headlessServiceName', props.headlessServiceName ?? `${name}-headless`);
  const clusterDomain = check.dnsSubdomain('clusterDomain', props.clusterDomain ?? 'cluster.local');
  const peerAddresses = Array.from({ length: replicas }, (_, i) => `${name}-${startOrdinal + i}.${headlessServiceName}.${namespaceName}.svc.${clusterDomain}`);
  return {
    scope, name, replicas, startOrdinal, namespaceName, engine, registry, ...labels, ...ports,
    headlessServiceName, clusterDomain, peerAddresses,
  };
}

/** The selector labels, the pods' labels (the user's, then the library's own) and annotations. */
function resolveLabels(check: PropValidator, props: StatefulDatabaseProps, name: string, engine: DatabaseEngine) {
  const selectorLabels = { 'app.kubernetes.io/instance': name };
  const extraLabels = check.labels('podLabels', props.podLabels ?? {});
  const clash = Object.keys(extraLabels).find((k) => OWN_LABELS.includes(k));
  if (clash) check.fail(`podLabels sets '${clash}', which the library sets itself (it selects the pods). Fix: use a label key of your own.`);
  const podLabels = { ...extraLabels, ...selectorLabels, 'app.kubernetes.io/name': engine.name, 'app.kubernetes.io/managed-by': 'cdk8s-stateful' };
  const podAnnotations = props.podAnnotations === undefined ? undefined : annotations(check, 'podAnnotations', props.podAnnotations);
  return { selectorLabels, podLabels, podAnnotations };
}

/** Every port on the headless Service; the client (non-peer) ones on the client Service too. */
function resolvePorts(check: PropValidator, engine: DatabaseEngine): { servicePorts: ResolvedPort[]; clientPorts: ResolvedPort[] } {
  if (check.list('engine ports', engine.ports).length === 0) check.fail('the engine has no ports. Fix: give the engine at least one port.');
  const servicePorts = engine.ports.map((p) => ({ name: p.name, port: p.servicePort ?? p.port, targetPort: p.port, protocol: kplus.Protocol.TCP as string }));
  renderServicePorts(check, servicePorts as Array<ResolvedPort & { protocol: kplus.Protocol }>); // checks names and numbers
  const clientPorts = servicePorts.filter((_, i) => !engine.ports[i].peer);
  return { servicePorts, clientPorts };
}

/** Annotation keys as label keys; values any string. */
export function annotations(check: PropValidator, what: string, value: { [key: string]: string }): { [key: string]: string } {
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
function imageRegistry(check: PropValidator, value: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/.test(value)) {
    check.fail(`imageRegistry must be a registry host with an optional port and path, without scheme or tag, got ${show(value)}. ` +
      "Fix: e.g. 'mirror.example.com' or 'harbor.example.com/dockerhub'.");
  }
  return value;
}
