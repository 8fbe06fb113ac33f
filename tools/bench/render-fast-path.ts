// What-if for a proposed change in lib/render.ts (tools/bench/README.md, "Proposed optimizations"): the
// library's ApiObjects rendered by `sanitizeValue` alone, skipping cdk8s's `resolve()` walk, when
// the props are plain data (objects, arrays, primitives: nothing a resolver would replace), there
// are no JSON patches and the App has only cdk8s's built-in resolvers; otherwise cdk8s's own
// `toJson()`. Times the N-database app with and without it (and raw cdk8s) in one process, rounds
// interleaved, best of the rounds (wall and process CPU time), and checks that both write the same bytes.
//   node --expose-gc out/tools/bench/render-fast-path.js [N=1000] [rounds=5]
// It needs tools/bench/.tmp/template.json (written by `npm run bench`).
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { ApiObject, App } from 'cdk8s';
import { rawCdk8sApp, readTemplate } from './baselines';
import { libraryApp } from './fixture';
import { dbName } from './names';

const BAIL = Symbol('not plain data');
const BUILT_IN_RESOLVERS = ['LazyResolver', 'ImplicitTokenResolver', 'NumberStringUnionResolver'];

/** `sanitizeValue(resolve(value), { sortKeys })` of cdk8s for plain data, or BAIL for anything a resolver could replace. */
function sanitizePlain(value: any, sortKeys: boolean): any {
  if (value === null || value === undefined) return undefined;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return value;
  if (type !== 'object') return BAIL;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = sanitizePlain(value[i], sortKeys);
      if (v === BAIL) return BAIL;
      out[i] = v;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return BAIL;
  const keys = Object.keys(value);
  if (sortKeys) keys.sort();
  const out: { [key: string]: unknown } = {};
  for (const key of keys) {
    const v = sanitizePlain(value[key], sortKeys);
    if (v === BAIL) return BAIL;
    if (v != null) out[key] = v;
  }
  return out;
}

const cdk8sToJson = ApiObject.prototype.toJson;

function fastToJson(this: ApiObject): any {
  const resolvers = App.of(this).resolvers;
  if ((this as any).patches.length > 0 || resolvers.length !== BUILT_IN_RESOLVERS.length ||
      resolvers.some((r, i) => r.constructor.name !== BUILT_IN_RESOLVERS[i])) return cdk8sToJson.call(this);
  const sortKeys = !process.env.CDK8S_DISABLE_SORT;
  const json = sanitizePlain({ ...(this as any).props, metadata: this.metadata.toJson() }, sortKeys);
  if (json === BAIL) return cdk8sToJson.call(this);
  const result: { [key: string]: unknown } = {};
  for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(json)]) if (k in json) result[k] = json[k];
  return result;
}

/** Wall and process CPU milliseconds of building and synthesizing an app. */
function timed(make: () => { synth(): void }): [number, number] {
  (globalThis as any).gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  make().synth();
  const cpu = process.cpuUsage(cpu0);
  return [performance.now() - t0, (cpu.user + cpu.system) / 1000];
}

function main(): void {
  const n = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 5);
  const tmp = path.join(__dirname, '..', '..', '..', 'tools', 'bench', '.tmp');
  const template = readTemplate(path.join(tmp, 'template.json'));
  const out = (v: string) => path.join(tmp, `fast-path-${v}`);
  const variants: [string, () => { synth(): void }, boolean][] = [
    ['library, cdk8s toJson', () => libraryApp(n, out('cdk8s')), false],
    ['library, plain-data fast path', () => libraryApp(n, out('fast')), true],
    ['raw cdk8s', () => rawCdk8sApp(template, n, out('raw'), dbName), false],
  ];
  const best = new Map<string, [number, number]>();
  for (let r = 0; r <= rounds; r++) {
    for (const [name, make, fast] of r % 2 ? variants : [...variants].reverse()) {
      for (const v of ['cdk8s', 'fast', 'raw']) fs.rmSync(out(v), { recursive: true, force: true });
      ApiObject.prototype.toJson = fast ? fastToJson : cdk8sToJson;
      const [ms, cpuMs] = timed(make);
      ApiObject.prototype.toJson = cdk8sToJson;
      const [bestMs, bestCpu] = best.get(name) ?? [Infinity, Infinity];
      if (r > 0) best.set(name, [Math.min(bestMs, ms), Math.min(bestCpu, cpuMs)]); // round 0 warms up
      if (r === rounds && fast) {
        const read = (v: string) => fs.readFileSync(path.join(out(v), 'bench.k8s.yaml'), 'utf-8');
        variants[0][1]().synth();
        if (read('fast') !== read('cdk8s')) throw new Error('the fast path writes other bytes');
      }
    }
  }
  const [raw, rawCpu] = best.get('raw cdk8s')!;
  for (const [name, [ms, cpu]] of best) {
    console.log(`${name.padEnd(32)} wall ${ms.toFixed(0).padStart(6)} ms ${(ms / raw).toFixed(2)}× raw   CPU ${cpu.toFixed(0).padStart(6)} ms ${(cpu / rawCpu).toFixed(2)}× raw`);
  }
  console.log(`N=${n}, best of ${rounds} rounds; the same bytes with and without the fast path`);
}

main();
