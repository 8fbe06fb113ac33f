// One measurement in a fresh process, so that peak RSS is this measurement's own:
//   node out/tools/bench/child.js <variant> <n> <outdir> [templateFile]
// Loads what the variant needs, warms up on a small app, then times one synthesis of N
// databases, from app construction to the files on disk, and prints one JSON line.
import * as fs from 'fs';
import * as inspector from 'inspector';
import * as path from 'path';
import * as v8 from 'v8';
import { performance } from 'perf_hooks';
import { dbName } from './names';

/** What is measured. */
export type Variant = 'library' | 'library-chart-per-db' | 'library-baseline' | 'raw-cdk8s' | 'yaml-floor';

/** What a child reports. */
export interface Measurement {
  readonly variant: Variant;
  readonly n: number;
  /** App construction through synth to files on disk. */
  readonly ms: number;
  /** Of which: building the app (constructs, or plain objects for the YAML floor). */
  readonly buildMs: number;
  /** Of which: `app.synth()` (or serializing and writing, for the YAML floor). */
  readonly synthMs: number;
  /** Process CPU time (user + system, all threads) over the same span. */
  readonly cpuMs: number;
  /** Peak resident set size of the whole process (modules, warm-up and measurement). */
  readonly peakRssMb: number;
  /** Resident set size once the modules are loaded, before the warm-up. */
  readonly loadedRssMb: number;
  /** Bytes written. */
  readonly bytes: number;
}

const WARMUP_N = 20;

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

function main(): void {
  const [variant, nArg, outdir, templateFile] = process.argv.slice(2) as [Variant | 'examples', string, string, string | undefined];
  if (variant === 'examples') return examples(outdir);
  const n = Number(nArg);
  if (!Number.isInteger(n) || n < 0 || !outdir) throw new Error(`usage: child.js <variant> <n> <outdir> [template], got ${process.argv.slice(2).join(' ')}`);

  // load everything the variant needs before any timing
  let build: (count: number, dir: string) => { synth(): void };
  // library-baseline: the output directory already holds this app's manifests (written untimed,
  // with the comparison off), so synth compares every guarded object with them (lib/plan)
  const withBaseline = variant === 'library-baseline';
  if (variant === 'library' || variant === 'library-chart-per-db' || withBaseline) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { libraryApp } = require('./fixture') as typeof import('./fixture');
    const layout = variant === 'library-chart-per-db' ? 'chart-per-db' : 'one-chart';
    build = (count, dir) => {
      const app = libraryApp(count, dir, layout);
      return { synth: () => app.synth() };
    };
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const b = require('./baselines') as typeof import('./baselines');
    if (!templateFile) throw new Error('the baselines need the template file');
    const template = b.readTemplate(templateFile);
    if (variant === 'raw-cdk8s') {
      require('cdk8s');
      build = (count, dir) => b.rawCdk8sApp(template, count, dir, dbName);
    } else if (variant === 'yaml-floor') {
      b.cdk8sYaml();
      build = (count, dir) => b.yamlFloor(template, count, dir, dbName);
    } else {
      throw new Error(`unknown variant '${variant}'`);
    }
  }
  const loadedRssMb = process.memoryUsage().rss / 2 ** 20;

  // warm-up: the same code paths on a small app, then a clean heap
  const warmDir = `${outdir}-warmup`;
  const baseline = (count: number, dir: string) => {
    process.env.CDK8S_STATEFUL_BASELINE = 'off';
    build(count, dir).synth();
    delete process.env.CDK8S_STATEFUL_BASELINE;
  };
  if (withBaseline) baseline(Math.min(WARMUP_N, Math.max(n, 1)), warmDir);
  build(Math.min(WARMUP_N, Math.max(n, 1)), warmDir).synth();
  fs.rmSync(warmDir, { recursive: true, force: true });
  if (withBaseline) baseline(n, outdir);
  (globalThis as any).gc?.();

  const profiler = cpuProfiler(process.env.BENCH_CPU_PROFILE);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const app = build(n, outdir);
  const t1 = performance.now();
  const snapshot = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapshot) v8.writeHeapSnapshot(snapshot); // the built app, before synth (the timing is meaningless then)
  app.synth();
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  profiler.stop();

  const m: Measurement = {
    variant,
    n,
    ms: t2 - t0,
    buildMs: t1 - t0,
    synthMs: t2 - t1,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    loadedRssMb,
    bytes: dirBytes(outdir),
  };
  process.stdout.write(JSON.stringify(m) + '\n');
}

/**
 * With `BENCH_CPU_PROFILE=<file>`, a V8 CPU profile of the timed span only (not the module loading,
 * the warm-up or the baseline's untimed write), for `profile-summary.js`; otherwise nothing.
 */
function cpuProfiler(file: string | undefined): { stop(): void } {
  if (!file) return { stop: () => undefined };
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object): any => {
    let result: any;
    let error: Error | null = null;
    // same-thread sessions answer synchronously
    session.post(method, params, (e, r) => { error = e; result = r; });
    if (error) throw error;
    return result;
  };
  post('Profiler.enable');
  post('Profiler.setSamplingInterval', { interval: 500 });
  post('Profiler.start');
  return {
    stop: () => {
      const { profile } = post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** The examples app: how long loading it (and the library, cdk8s, cdk8s-plus-27) takes, and its synth. */
function examples(outdir: string): void {
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { examplesApp } = require('../../examples/main') as typeof import('../../examples/main');
  const t1 = performance.now();
  examplesApp(outdir).synth();
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ requireMs: t1 - t0, synthMs: t2 - t1 }) + '\n');
}

main();
