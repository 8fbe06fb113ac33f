// Where the library's synthesis time and memory go, next to raw cdk8s, phase by phase, in one
// process (best of several rounds, so that load from elsewhere on the machine matters less):
//   node --expose-gc out/tools/bench/attribution.js [N=1000] [rounds=5]
// It needs tools/bench/.tmp/template.json (written by `npm run bench`).
// Phases follow App.synth(): build the app; validate every construct (App.synth does it twice:
// once itself, once more in Chart.toJson); render every ApiObject (`toJson()`; for the library
// also split into cdk8s's generic rendering and the generated L1 `toJson_*` conversion of
// imports/k8s.ts); serialize the documents to YAML.
import * as path from 'path';
import { performance } from 'perf_hooks';
import { ApiObject, App } from 'cdk8s';
import { IConstruct } from 'constructs';
import { cdk8sYaml, rawCdk8sApp, readTemplate } from './baselines';
import { libraryApp } from './fixture';
import { dbName } from './names';

const gc = (): void => (globalThis as any).gc?.();

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

interface Phases {
  build: number;
  retainedMb: number;
  docsMb: number;
  validate: number;
  toJson: number;
  toJsonGeneric: number;
  yaml: number;
  constructs: number;
  apiObjects: number;
}

function phases(make: () => App): Phases {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const [app, build] = timed(make);
  gc();
  const retainedMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const all: IConstruct[] = app.node.findAll();
  const [, validate] = timed(() => all.forEach((c) => c.node.validate()));
  const objects = all.filter((c): c is ApiObject => c instanceof ApiObject);
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  const [docs, toJson] = timed(() => objects.map((o) => o.toJson()));
  gc();
  const docsMb = (process.memoryUsage().heapUsed - heap1) / 2 ** 20;
  const [, toJsonGeneric] = timed(() => objects.map((o) => ApiObject.prototype.toJson.call(o)));
  const YAML = cdk8sYaml();
  gc();
  const [, yaml] = timed(() => docs.map((d) => YAML.stringify(d, { keepUndefined: true, lineWidth: 0, version: '1.1' })).join('---\n'));
  return { build, retainedMb, docsMb, validate, toJson, toJsonGeneric, yaml, constructs: all.length, apiObjects: objects.length };
}

function best(rounds: Phases[]): Phases {
  const keys = Object.keys(rounds[0]) as (keyof Phases)[];
  return Object.fromEntries(keys.map((k) => [k, Math.min(...rounds.map((r) => r[k]))])) as unknown as Phases;
}

function main(): void {
  const n = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 5);
  const template = readTemplate(path.join(__dirname, '..', '..', '..', 'tools', 'bench', '.tmp', 'template.json'));
  const out = path.join(__dirname, '..', '..', '..', 'tools', 'bench', '.tmp', 'attribution');
  const lib: Phases[] = [];
  const raw: Phases[] = [];
  phases(() => libraryApp(Math.min(n, 50), out)); // warm-up
  phases(() => rawCdk8sApp(template, Math.min(n, 50), out, dbName) as App);
  for (let i = 0; i < rounds; i++) {
    lib.push(phases(() => libraryApp(n, out)));
    raw.push(phases(() => rawCdk8sApp(template, n, out, dbName) as App));
  }
  const l = best(lib);
  const r = best(raw);
  const row = (name: string, a: number, b: number, unit = 'ms') =>
    console.log(`${name.padEnd(52)} ${a.toFixed(1).padStart(9)} ${b.toFixed(1).padStart(9)} ${(a - b).toFixed(1).padStart(9)} ${unit}`);
  console.log(`N=${n}, best of ${rounds} rounds         ${'library'.padStart(24)} ${'raw cdk8s'.padStart(9)} ${'extra'.padStart(9)}`);
  row('constructs / ApiObjects', l.constructs, r.constructs, `(${l.apiObjects} / ${r.apiObjects} ApiObjects)`);
  row('build the app', l.build, r.build);
  row('heap retained by the built app', l.retainedMb, r.retainedMb, 'MB');
  row('heap retained by the rendered documents', l.docsMb, r.docsMb, 'MB');
  row('validate every construct (App.synth does it twice)', l.validate, r.validate);
  row('render: ApiObject toJson() of every object', l.toJson, r.toJson);
  row('  of which generic cdk8s (resolve, sanitize, patches)', l.toJsonGeneric, r.toJsonGeneric);
  row('  of which L1 toJson_* conversion (imports/k8s.ts)', l.toJson - l.toJsonGeneric, r.toJson - r.toJsonGeneric);
  row('YAML serialization', l.yaml, r.yaml);
  const total = (p: Phases) => p.build + 2 * p.validate + p.toJson + p.yaml;
  row('sum (build + 2 validate + render + YAML)', total(l), total(r));
  console.log(`ratio library / raw on that sum: ${(total(l) / total(r)).toFixed(2)}; excluding YAML: ${((total(l) - l.yaml) / (total(r) - r.yaml)).toFixed(2)}`);
}

main();
