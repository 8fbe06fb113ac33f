// What the cluster suite needs to know about one synthesized example, read from its YAML only
// (the suite never imports the library: it tests what `cdk8s synth` wrote).
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { REPO } from './kube';

/** The directory of synthesized examples: $CLUSTER_DIST, default dist/. */
export const DIST = path.resolve(REPO, process.env.CLUSTER_DIST ?? 'dist');

/** Every `*.k8s.yaml` in DIST, sorted. */
export function exampleFiles(): string[] {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} does not exist: run \`npm run synth\` (or set CLUSTER_DIST)`);
  return fs.readdirSync(DIST).filter((f) => f.endsWith('.k8s.yaml')).sort().map((f) => path.join(DIST, f));
}

export interface ClaimTemplate {
  /** The template's name, the `<template>` of `<template>-<set>-<n>`. */
  readonly name: string;
  /** spec.storageClassName, or undefined: the cluster's default class. */
  readonly storageClassName?: string;
  /** The request, e.g. `10Gi`. */
  readonly request: string;
  readonly accessModes: string[];
}

export interface StatefulSetInfo {
  readonly name: string;
  readonly replicas: number;
  readonly podManagementPolicy: 'OrderedReady' | 'Parallel';
  readonly claimTemplates: ClaimTemplate[];
  /** The pod template's selector labels. */
  readonly selector: { [k: string]: string };
  readonly doc: any;
}

export interface SecretNeeded {
  readonly name: string;
  /** The keys the containers read (from `*_FILE` env values under the Secret's mount path). */
  readonly keys: string[];
}

export interface Example {
  /** e.g. `web-nfs-pool`. */
  readonly id: string;
  readonly file: string;
  readonly docs: any[];
  readonly namespace: string;
  readonly namespaceDoc: any;
  /** StorageClass and PersistentVolume objects: applied (after the Namespace) before the rest. */
  readonly clusterStorage: any[];
  /** Everything that is neither the Namespace nor cluster storage. */
  readonly rest: any[];
  readonly storageClasses: any[];
  readonly persistentVolumes: any[];
  readonly statefulSets: StatefulSetInfo[];
  readonly secrets: SecretNeeded[];
}

/** Reads and classifies one synthesized example. */
export function loadExample(file: string): Example {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJSON();
  }).filter((d) => d);
  const namespaces = docs.filter((d) => d.kind === 'Namespace');
  if (namespaces.length !== 1) throw new Error(`${file}: expected one Namespace object, found ${namespaces.length}`);
  const namespaceDoc = namespaces[0];
  const storageClasses = docs.filter((d) => d.kind === 'StorageClass');
  const persistentVolumes = docs.filter((d) => d.kind === 'PersistentVolume');
  const rest = docs.filter((d) => !['Namespace', 'StorageClass', 'PersistentVolume'].includes(d.kind));
  const statefulSets: StatefulSetInfo[] = docs.filter((d) => d.kind === 'StatefulSet').map((s) => ({
    name: s.metadata.name,
    replicas: s.spec.replicas ?? 1,
    podManagementPolicy: s.spec.podManagementPolicy ?? 'OrderedReady',
    selector: s.spec.selector.matchLabels,
    claimTemplates: (s.spec.volumeClaimTemplates ?? []).map((t: any) => ({
      name: t.metadata.name,
      storageClassName: t.spec.storageClassName,
      request: t.spec.resources.requests.storage,
      accessModes: t.spec.accessModes,
    })),
    doc: s,
  }));
  if (statefulSets.length === 0) throw new Error(`${file}: no StatefulSet`);
  return {
    id: path.basename(file, '.k8s.yaml'),
    file,
    docs,
    namespace: namespaceDoc.metadata.name,
    namespaceDoc,
    clusterStorage: [...storageClasses, ...persistentVolumes],
    rest,
    storageClasses,
    persistentVolumes,
    statefulSets,
    secrets: secretsNeeded(docs),
  };
}

/**
 * The Secrets the pod templates mount, and the keys their containers read: a container that gets
 * `X_FILE=<mount>/<key>` reads key `<key>` of the Secret mounted at `<mount>`.
 */
function secretsNeeded(docs: any[]): SecretNeeded[] {
  const out = new Map<string, Set<string>>();
  for (const d of docs) {
    const spec = d.kind === 'StatefulSet' ? d.spec.template.spec : undefined;
    if (!spec) continue;
    for (const v of spec.volumes ?? []) {
      if (!v.secret) continue;
      const keys = out.get(v.secret.secretName) ?? new Set<string>();
      out.set(v.secret.secretName, keys);
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        for (const m of c.volumeMounts ?? []) {
          if (m.name !== v.name) continue;
          const prefix = m.mountPath.replace(/\/+$/, '') + '/';
          for (const e of c.env ?? []) {
            if (typeof e.value === 'string' && e.value.startsWith(prefix)) keys.add(e.value.slice(prefix.length));
          }
        }
      }
    }
  }
  return [...out.entries()].map(([name, keys]) => ({ name, keys: [...keys].sort() }));
}

/** Objects as one multi-document YAML stream, for `kubectl apply -f -`. */
export function toYaml(objects: any[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** The claim names a StatefulSet makes: `<template>-<set>-<n>`. */
export function claimName(t: ClaimTemplate, s: { name: string }, ordinal: number): string {
  return `${t.name}-${s.name}-${ordinal}`;
}
