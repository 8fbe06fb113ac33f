import { isDeepStrictEqual } from 'util';
import { objectKey, objectLabel } from './baseline';
import { Finding, describeFinding, mainImage } from './change-rules';

/** What the plan report is made of. @internal */
export interface ReportInput {
  /** How the baseline is named in the report (a path as the user gave it), or undefined for none. */
  readonly baselineName?: string;
  /** The deployed manifests. */
  readonly baseline: any[];
  /** The manifests synth would write; undefined when synth refused. */
  readonly next?: any[];
  /** The guard's findings. */
  readonly findings: Finding[];
}

/** Pods drawn per StatefulSet in the picture; larger sets show the first ones and a count. */
const PODS_DRAWN = 5;

/**
 * The Markdown plan for a pull request: per database what changes, the manual steps in order and
 * what is at risk, then a Mermaid picture of the topology (pods, claims, volumes, classes, peers,
 * Services, the PodDisruptionBudget and who may connect). Deterministic: same input, same text.
 * @internal
 */
export function renderReport(input: ReportInput): string {
  const before = byKey(input.baseline);
  const after = input.next ? byKey(input.next) : undefined;
  const shown = after ?? before;
  const refused = input.findings.filter((f) => f.verdict === 'refused');
  const out: string[] = ['# cdk8s-stateful plan', ''];
  out.push(input.baselineName === undefined
    ? 'No deployed manifests to compare with: everything below is new.'
    : `Compared with the deployed manifests in \`${input.baselineName}\`.`);
  out.push('');
  if (refused.length > 0) {
    out.push(`**Refused: ${refused.length} change${refused.length > 1 ? 's' : ''}.** Synth fails until each is undone or approved; the picture shows what is deployed.`, '');
    refused.forEach((f, i) => out.push(`${i + 1}. ${f.owner}: ${escape(describeFinding(f))}`));
    out.push('');
  }

  const sets = [...new Set([...before.keys(), ...(after?.keys() ?? [])])].filter((k) => k.startsWith('StatefulSet/')).sort();
  if (sets.length === 0) out.push('No StatefulSets.', '');
  for (const key of sets) out.push(...database(key, before, after, input.findings));

  const others = otherChanges(before, after, sets);
  if (others.length > 0) out.push('## Other objects', '', ...others, '');

  out.push('## Topology', '', '```mermaid', ...topology(shown), '```', '');
  return out.join('\n');
}

function byKey(objects: any[]): Map<string, any> {
  const map = new Map<string, any>();
  for (const o of objects) if (o && typeof o === 'object' && o.kind) map.set(objectKey(o), o);
  return map;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The related objects of a set: headless and client Services, the PDB and the NetworkPolicy. */
function related(sts: any, objects: Map<string, any>): { [what: string]: any } {
  const ns = sts.metadata.namespace ?? 'default';
  const name = sts.metadata.name;
  const get = (kind: string, n: string) => objects.get(`${kind}/${ns}/${n}`);
  return {
    headless: get('Service', sts.spec.serviceName), client: get('Service', name), read: get('Service', `${name}-read`),
    pdb: get('PodDisruptionBudget', name), policy: get('NetworkPolicy', name),
  };
}

/** The rows of the change table: what, deployed, next. */
function facts(sts: any | undefined, objects: Map<string, any>): Map<string, string> {
  const rows = new Map<string, string>();
  if (!sts) return rows;
  const s = sts.spec ?? {};
  const r = related(sts, objects);
  const start = s.ordinals?.start ?? 0;
  const replicas = s.replicas ?? 1;
  rows.set('replicas', `${replicas}${start ? ` (ordinals from ${start})` : ''}`);
  rows.set('image', `\`${mainImage(sts)}\``);
  for (const t of s.volumeClaimTemplates ?? []) {
    const claims = [...objects.values()].filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.startsWith(`${t.metadata.name}-${sts.metadata.name}-`));
    const size = claims.length > 0 ? claims[0].spec.resources.requests.storage : t.spec.resources?.requests?.storage;
    rows.set(`storage \`${t.metadata.name}\``, `${size}, ${t.spec.storageClassName ?? 'default class'}, ${(t.spec.accessModes ?? []).join(', ')}` +
      (claims.length > 0 ? ` (claims carried, template ${t.spec.resources?.requests?.storage})` : ''));
  }
  rows.set('peers', `${replicas} via \`${s.serviceName}\`${r.headless ? ` (${ports(r.headless)})` : ''}`);
  const containers: any[] = s.template?.spec?.containers ?? [];
  const main = containers.find((c) => c.name === 'main') ?? containers[0];
  rows.set('container ports', (main?.ports ?? []).map((p: any) => `${p.name ?? ''} ${p.containerPort}`.trim()).join(', ') || 'none');
  if (r.client) rows.set('client Service', `\`${r.client.metadata.name}\` ${ports(r.client)}${r.client.spec?.selector?.['statefulset.kubernetes.io/pod-name'] ? ` → ${r.client.spec.selector['statefulset.kubernetes.io/pod-name']} only` : ''}`);
  rows.set('pod management', s.podManagementPolicy ?? 'OrderedReady');
  rows.set('update strategy', s.updateStrategy ? `${s.updateStrategy.type}${s.updateStrategy.rollingUpdate?.partition ? ` (partition ${s.updateStrategy.rollingUpdate.partition})` : ''}` : 'RollingUpdate');
  const retention = s.persistentVolumeClaimRetentionPolicy ?? {};
  rows.set('claim retention', `deleted: ${retention.whenDeleted ?? 'Retain'}, scaled: ${retention.whenScaled ?? 'Retain'}`);
  if (r.pdb) rows.set('disruption budget', r.pdb.spec.maxUnavailable !== undefined ? `maxUnavailable ${r.pdb.spec.maxUnavailable}` : `minAvailable ${r.pdb.spec.minAvailable}`);
  if (r.policy) rows.set('who may connect', clients(r.policy, sts).join('; ') || 'members only');
  return rows;
}

function ports(svc: any): string {
  return (svc.spec?.ports ?? []).map((p: any) => `${p.name ? `${p.name} ` : ''}${p.port}`).join(', ');
}

/** The NetworkPolicy's ingress peers other than the members themselves, as text. */
function clients(policy: any, sts: any): string[] {
  const own = sts.spec?.selector?.matchLabels;
  const out: string[] = [];
  for (const rule of policy.spec?.ingress ?? []) {
    const portText = (rule.ports ?? []).map((p: any) => p.port).join(', ');
    for (const peer of rule.from ?? [{}]) {
      if (peer.podSelector && isDeepStrictEqual(peer.podSelector.matchLabels, own) && !peer.namespaceSelector) continue;
      out.push(`${peerText(peer)} on ${portText || 'every port'}`);
    }
  }
  return out;
}

function peerText(peer: any): string {
  if (peer.ipBlock) return `addresses ${peer.ipBlock.cidr}`;
  const labels = (sel: any) => Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || 'any';
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`namespaces ${labels(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`pods ${labels(peer.podSelector)}`);
  return parts.join(' / ') || 'anyone';
}

function database(key: string, before: Map<string, any>, after: Map<string, any> | undefined, findings: Finding[]): string[] {
  const old = before.get(key);
  const cur = after?.get(key);
  const status = !old ? 'new' : after && !cur ? 'REMOVED' : after === undefined ? 'refused' : 'changed';
  const out = [`## ${objectLabel(key)}`, ''];
  const a = facts(old, before);
  const b = after ? facts(cur, after) : new Map<string, string>();
  const rows = [...new Set([...a.keys(), ...b.keys()])];
  const changed = rows.filter((r) => after && a.get(r) !== b.get(r));
  if (status === 'REMOVED') {
    out.push('**At risk: the StatefulSet is no longer in the output.** A GitOps tool that prunes deletes it and its pods; its claims stay (retention permitting). If intended, delete it by hand; otherwise restore it.', '');
  } else if (status === 'changed' && changed.length === 0) {
    out.push('No change.', '');
  }
  out.push('| | deployed | next |', '| --- | --- | --- |');
  for (const r of rows) {
    const from = a.get(r) ?? '–';
    const to = after ? (b.get(r) ?? '–') : '(refused)';
    out.push(`| ${changed.includes(r) ? `**${r}**` : r} | ${escape(from)} | ${from === to ? 'unchanged' : escape(to)} |`);
  }
  out.push('');
  // the set's own findings, and those of its claims `<template>-<set>-<ordinal>`
  const sts = cur ?? old;
  const [, ns, name] = key.split('/');
  const claimPrefixes = (sts?.spec?.volumeClaimTemplates ?? []).map((t: any) => `PersistentVolumeClaim/${ns}/${t.metadata?.name}-${name}-`);
  const own = findings.filter((f) => f.object === key || claimPrefixes.some((p: string) => f.object.startsWith(p)));
  const manual = own.filter((f) => f.verdict === 'manual');
  const automatic = own.filter((f) => f.verdict === 'automatic');
  const refused = own.filter((f) => f.verdict === 'refused');
  if (refused.length > 0) {
    out.push('**Refused**', '');
    refused.forEach((f) => out.push(`- ${escape(f.field)}: ${escape(f.why)} Fix: ${escape(f.steps.join(' '))}`));
    out.push('');
  }
  if (manual.length > 0 || automatic.length > 0) {
    out.push('**Steps, in order**', '');
    let n = 1;
    // the apply is a step of its own below
    for (const f of manual) out.push(`${n++}. ${escape(f.field)}: ${escape(f.steps.join(' ').replace(/,? then apply\.$/, '.'))}`);
    out.push(`${n++}. Apply the output (\`kubectl apply -f\`, or let the GitOps tool sync).`);
    for (const f of automatic) out.push(`${n++}. ${escape(f.field)} grows from ${f.from} to ${f.to} by the apply: ${escape(f.why)}`);
    out.push('');
  }
  const risks = own.filter((f) => /DATA LOSS|data loss|lost|destroyed/.test(f.why + f.steps.join(' ')));
  if (risks.length > 0) {
    out.push('**At risk**', '');
    risks.forEach((f) => out.push(`- ${escape(f.field)}: ${escape(f.why)}`));
    out.push('');
  }
  return out;
}

function otherChanges(before: Map<string, any>, after: Map<string, any> | undefined, sets: string[]): string[] {
  if (!after) return [];
  const out: string[] = [];
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((k) => !sets.includes(k)).sort();
  for (const k of keys) {
    const a = before.get(k);
    const b = after.get(k);
    if (a && !b) {
      const risky = /^(PersistentVolumeClaim|PersistentVolume)\//.test(k);
      out.push(`- ${objectLabel(k)}: removed from the output${risky ? ' — **at risk**: a pruning GitOps tool deletes it, and the data with it if its reclaim policy is Delete' : ''}`);
    } else if (!a && b) {
      out.push(`- ${objectLabel(k)}: new`);
    } else if (!isDeepStrictEqual(a, b)) {
      out.push(`- ${objectLabel(k)}: changed`);
    }
  }
  return out;
}

/** Mermaid ids: letters, digits and underscores. */
function id(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9]/g, '_');
}

function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

/** The topology as a Mermaid flowchart. */
function topology(objects: Map<string, any>): string[] {
  const out = ['flowchart LR'];
  const volumes = [...objects.values()].filter((o) => o.kind === 'PersistentVolume');
  const classes = new Set<string>();
  const sets = [...objects.values()].filter((o) => o.kind === 'StatefulSet').sort((x, y) => objectKey(x) < objectKey(y) ? -1 : 1);
  for (const sts of sets) {
    const ns = sts.metadata.namespace ?? 'default';
    const name = sts.metadata.name;
    const s = sts.spec ?? {};
    const start = s.ordinals?.start ?? 0;
    const replicas = s.replicas ?? 1;
    const r = related(sts, objects);
    const set = id('sts', ns, name);
    out.push(`  subgraph ${set}[${label(`StatefulSet ${ns}/${name} · ${mainImage(sts)}`)}]`);
    const drawn = Math.min(replicas, PODS_DRAWN);
    for (let i = 0; i < drawn; i++) {
      const ordinal = start + i;
      const pod = id('pod', ns, `${name}-${ordinal}`);
      out.push(`    ${pod}([${label(`pod ${name}-${ordinal}`)}])`);
      for (const t of s.volumeClaimTemplates ?? []) {
        const claimName = `${t.metadata.name}-${name}-${ordinal}`;
        const carried = objects.get(`PersistentVolumeClaim/${ns}/${claimName}`);
        const size = carried?.spec?.resources?.requests?.storage ?? t.spec.resources?.requests?.storage;
        const claim = id('pvc', ns, claimName);
        out.push(`    ${claim}[(${label(`${claimName} ${size}`)})]`);
        out.push(`    ${pod} --> ${claim}`);
      }
    }
    if (replicas > drawn) out.push(`    ${id('more', ns, name)}[${label(`… ${replicas - drawn} more pods`)}]`);
    if (replicas === 0) out.push(`    ${id('none', ns, name)}[${label('0 replicas')}]`);
    out.push('  end');
    // claims to the volumes reserved for them, or to their class
    for (let i = 0; i < drawn; i++) {
      for (const t of s.volumeClaimTemplates ?? []) {
        const claimName = `${t.metadata.name}-${name}-${start + i}`;
        const claim = id('pvc', ns, claimName);
        const pv = volumes.find((v) => v.spec?.claimRef?.name === claimName && (v.spec.claimRef.namespace ?? 'default') === ns);
        if (pv) {
          const nfs = pv.spec.nfs ? ` nfs ${pv.spec.nfs.server}:${pv.spec.nfs.path}` : '';
          out.push(`  ${claim} --> ${id('pv', pv.metadata.name)}[/${label(`PV ${pv.metadata.name}${nfs}`)}/]`);
        } else {
          const cls = t.spec.storageClassName ?? 'default class';
          classes.add(cls);
          out.push(`  ${claim} -.-> ${id('sc', cls)}`);
        }
      }
    }
    if (r.headless) out.push(`  ${id('svc', ns, r.headless.metadata.name)}{{${label(`headless ${r.headless.metadata.name}: peers on ${ports(r.headless)}`)}}} -.- ${set}`);
    for (const svc of [r.client, r.read].filter((x) => x)) {
      const only = svc.spec?.selector?.['statefulset.kubernetes.io/pod-name'];
      const target = only ? id('pod', ns, only) : set;
      out.push(`  ${id('svc', ns, svc.metadata.name)}{{${label(`Service ${svc.metadata.name} ${ports(svc)}`)}}} --> ${target}`);
    }
    if (r.pdb) {
      const budget = r.pdb.spec.maxUnavailable !== undefined ? `maxUnavailable ${r.pdb.spec.maxUnavailable}` : `minAvailable ${r.pdb.spec.minAvailable}`;
      out.push(`  ${id('pdb', ns, name)}>${label(`PDB ${r.pdb.metadata.name}: ${budget}`)}] -.- ${set}`);
    }
    if (r.policy) {
      const allowed = clients(r.policy, sts);
      const entry = r.client ? id('svc', ns, r.client.metadata.name) : set;
      if (allowed.length === 0) out.push(`  ${id('np', ns, name)}[${label('NetworkPolicy: members only')}] -.- ${set}`);
      allowed.forEach((text, i) => out.push(`  ${id('client', ns, name, String(i))}[${label(text)}] --> ${entry}`));
    }
  }
  for (const cls of [...classes].sort()) {
    const sc = objects.get(`StorageClass//${cls}`);
    const text = sc ? `class ${cls}: ${sc.provisioner}${sc.allowVolumeExpansion ? ', expandable' : ''}, ${sc.reclaimPolicy ?? 'Delete'}` : `class ${cls} (not in this app)`;
    out.push(`  ${id('sc', cls)}[${label(text)}]`);
  }
  return out;
}
