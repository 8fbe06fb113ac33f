// The two baselines, which write the same documents as the library without it:
//  (a) raw cdk8s: the same objects as plain-JSON `ApiObject`s in one Chart, synthesized by cdk8s;
//  (b) the YAML floor: the same plain objects serialized as cdk8s serializes them (its own `yaml`
//      package, its options), written to one file. No cdk8s library can be cheaper than (b).
// Both start from a template: the library's own output for one database named TOKEN.
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { CHART_ID } from './names';

/** The stand-in name of the template database; a DNS label that occurs nowhere else. */
export const TOKEN = 'zqtokenzq';

/** The library's documents for one database, split into those shared by all and those per database. */
export interface Template {
  /** Documents that do not mention the database (the StorageClasses), in output order. */
  readonly shared: any[];
  /** The documents of database TOKEN, in output order. */
  readonly perDb: any[];
}

/** Splits the library's documents for one database named TOKEN into a template. */
export function splitTemplate(docs: any[]): Template {
  const mentions = docs.map((d) => JSON.stringify(d).includes(TOKEN));
  const firstPerDb = mentions.indexOf(true);
  if (firstPerDb < 0 || mentions.slice(firstPerDb).includes(false)) {
    throw new Error('bench template: the shared documents must all come before the database\'s own');
  }
  return { shared: docs.slice(0, firstPerDb), perDb: docs.slice(firstPerDb) };
}

/** A copy of a template document with TOKEN replaced by `name` in every string. */
export function instantiate(value: any, name: string): any {
  if (typeof value === 'string') return value.includes(TOKEN) ? value.split(TOKEN).join(name) : value;
  if (Array.isArray(value)) return value.map((v) => instantiate(v, name));
  if (value !== null && typeof value === 'object') {
    const out: any = {};
    for (const k of Object.keys(value)) out[k] = instantiate(value[k], name);
    return out;
  }
  return value;
}

/** The documents of N databases, in the library's output order. */
export function documents(t: Template, n: number, names: (i: number) => string): any[] {
  const docs = [...t.shared.map((d) => instantiate(d, TOKEN))];
  for (let i = 0; i < n; i++) {
    const name = names(i);
    for (const d of t.perDb) docs.push(instantiate(d, name));
  }
  return docs;
}

/** An app built, not yet synthesized; `synth()` writes the files. */
export interface Built {
  synth(): void;
}

/**
 * (a) Raw cdk8s: an app whose one Chart holds the same objects as plain
 * `new ApiObject(chart, id, json)`. The chart has no namespace: each document carries its own, as
 * the library wrote it (and cluster-scoped ones none), so no JSON patch is needed.
 */
export function rawCdk8sApp(t: Template, n: number, outdir: string, names: (i: number) => string): Built {
  // required here, so that the YAML-floor child never loads cdk8s (the children load it before timing)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { App, ApiObject, Chart, YamlOutputType } = require('cdk8s') as typeof import('cdk8s');
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, CHART_ID, { disableResourceNameHashes: true });
  t.shared.forEach((d, j) => new ApiObject(chart, `shared-${j}`, instantiate(d, TOKEN)));
  for (let i = 0; i < n; i++) {
    const name = names(i);
    t.perDb.forEach((d, j) => new ApiObject(chart, `${name}-${j}`, instantiate(d, name)));
  }
  return app;
}

/** The `yaml` package cdk8s itself depends on (node_modules/cdk8s/node_modules/yaml), not ours. */
export function cdk8sYaml(): typeof import('yaml') {
  return createRequire(require.resolve('cdk8s'))('yaml');
}

/**
 * (b) The YAML floor: the same plain documents (built by `yamlFloor`), serialized by `synth()`
 * exactly as cdk8s's `Yaml.stringify` does (node_modules/cdk8s/lib/yaml.js:
 * `YAML.stringify(doc, { keepUndefined: true, lineWidth: 0, version: '1.1' })` per document,
 * joined by `---\n`) and written as its `Yaml.save` writes them, to `<outdir>/bench.k8s.yaml`.
 */
export function yamlFloor(t: Template, n: number, outdir: string, names: (i: number) => string): Built {
  const YAML = cdk8sYaml();
  const docs = documents(t, n, names);
  return {
    synth: () => {
      const text = docs.map((d) => YAML.stringify(d, { keepUndefined: true, lineWidth: 0, version: '1.1' })).join('---\n');
      fs.mkdirSync(outdir, { recursive: true });
      fs.writeFileSync(path.join(outdir, `${CHART_ID}.k8s.yaml`), text, { encoding: 'utf8' });
    },
  };
}

/** Reads a template written by the parent. */
export function readTemplate(file: string): Template {
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}
