// The synth-time checks alone, on large inputs, and how their cost grows:
//   node --expose-gc out/tools/bench/checks.js [--smoke]
// 1. the binding proof `unboundClaims` (lib/storage/volume-binder.ts), n volumes and n claims:
//    - "free": unreserved volumes of mixed capacities, claims of mixed requests (the sort and
//      binary-search path, some claims left unbound);
//    - "reserved": every volume reserved (`claimRef`) for one claim (the lookup path);
// 2. a whole NfsPersistentVolumePool of v volumes (at most 10,000) with claim templates of 1,000
//    replicas: its constructor, and its validation as `cdk8s synth` runs it (`node.validate()`).
// Prints one JSON line: per series, the best (and median) time per size and the growth exponent
// fitted on the best times.
import { Chart, Size, Testing } from 'cdk8s';
import { performance } from 'perf_hooks';
import { AccessMode, NfsPersistentVolumePool } from '../../lib';
import { BindableClaim, BindableVolume, unboundClaims } from '../../lib/storage/volume-binder';

/** A point of a series. */
export interface Point {
  readonly n: number;
  /** The best time: on a shared machine, noise only ever adds time. */
  readonly ms: number;
  readonly medianMs: number;
  readonly calls: number;
}

/** A series and the slope of log(time) over log(n). */
export interface Series {
  readonly name: string;
  readonly points: Point[];
  readonly exponent: number;
}

/** The least-squares slope of log(ms) against log(n). */
export function growthExponent(points: Point[]): number {
  const xs = points.map((p) => Math.log(p.n));
  const ys = points.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** The exponent n·log n shows over [lo, hi]: what "no faster than n log n" allows. */
export function nLogNExponent(lo: number, hi: number): number {
  return 1 + Math.log(Math.log(hi) / Math.log(lo)) / Math.log(hi / lo);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Best and median time of the function `setup()` returns, over `reps` calls (fewer when they take
 * over 2 s in all), more while they take under 300 ms in all (at most 25). Each call gets fresh input, moved to the old generation first (when run
 * with --expose-gc) so that a scavenge of the input is not timed.
 */
function time(setup: () => () => void, reps: number): { ms: number; medianMs: number; calls: number } {
  const times: number[] = [];
  let spent = 0;
  // enough calls: `reps` (or any that took 2 s in all), and 300 ms in all (or 25 calls)
  while (!((times.length >= reps || spent > 2000) && (spent >= 300 || times.length >= 25))) {
    const fn = setup();
    (globalThis as any).gc?.();
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    spent += dt;
  }
  return { ms: Math.min(...times), medianMs: median(times), calls: times.length };
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIB = 1024 * 1024;
const MODES = ['ReadWriteOnce'];
const SELECTOR = { 'stateful.cdk8s.io/pool': 'big' };

function freeInput(n: number): [BindableVolume[], BindableClaim[]] {
  const rnd = random(n);
  const sizes = [1, 2, 5, 10, 20, 50];
  const pick = () => sizes[Math.floor(rnd() * sizes.length)] * GIB;
  const volumes = Array.from({ length: n }, (_, i) => ({
    name: `big-${i}`, capacityKib: pick(), accessModes: MODES, storageClassName: 'big', labels: SELECTOR,
  }));
  const claims = Array.from({ length: n }, (_, i) => ({
    key: `bench/data-db-${Math.floor(i / 1000)}-${i % 1000}`, requestKib: pick(), accessModes: MODES, storageClassName: 'big', selector: SELECTOR,
  }));
  return [volumes, claims];
}

function reservedInput(n: number): [BindableVolume[], BindableClaim[]] {
  const key = (i: number) => `bench/data-db-${Math.floor(i / 1000)}-${i % 1000}`;
  const volumes = Array.from({ length: n }, (_, i) => ({
    name: `big-${i}`, capacityKib: 10 * GIB, accessModes: MODES, storageClassName: 'big', labels: SELECTOR, reservedFor: key(i),
  }));
  const claims = Array.from({ length: n }, (_, i) => ({
    key: key(i), requestKib: 10 * GIB, accessModes: MODES, storageClassName: 'big', selector: SELECTOR,
  }));
  return [volumes, claims];
}

/** A pool of v volumes, its claims registered (templates of 1,000 replicas), ready to validate. */
function pool(v: number): NfsPersistentVolumePool {
  const chart = new Chart(Testing.app(), 'checks', { namespace: 'bench', disableResourceNameHashes: true });
  const p = new NfsPersistentVolumePool(chart, 'big', { server: '10.0.0.10', basePath: '/exports', volumes: v, capacity: Size.gibibytes(10) });
  for (let start = 0, set = 0; start < v; start += 1000, set++) {
    p.addClaims({
      owner: p, claimTemplateName: 'data', statefulSetName: `db-${set}`, namespaceName: 'bench', startOrdinal: 0,
      replicas: Math.min(1000, v - start), request: Size.gibibytes(10), accessModes: [AccessMode.READ_WRITE_ONCE],
      storageClassName: p.storageClassName, selector: p.selectorLabels,
    });
  }
  return p;
}

function main(): void {
  const smoke = process.argv.includes('--smoke');
  const sizes = smoke ? [1000, 2000, 4000] : [1000, 2000, 5000, 10000, 20000];
  const poolSizes = smoke ? [500, 1000] : [1000, 2000, 5000, 10000];
  const reps = smoke ? 1 : 3;
  const series: Series[] = [];
  const run = (name: string, ns: number[], setup: (n: number) => () => void) => {
    time(() => setup(ns[0]), 3); // warm-up: JIT the code paths on the smallest input
    const points = ns.map((n) => ({ n, ...time(() => setup(n), reps) }));
    series.push({ name, points, exponent: growthExponent(points) });
  };

  run('unboundClaims free (n volumes, n claims)', sizes, (n) => {
    const [v, c] = freeInput(n);
    return () => unboundClaims(v, c);
  });
  run('unboundClaims reserved (n volumes, n claims)', sizes, (n) => {
    const [v, c] = reservedInput(n);
    return () => unboundClaims(v, c);
  });
  const unreserved = (n: number) => {
    const [v, c] = freeInput(n);
    return [v, c.slice(0, Math.ceil(n / 10))] as const;
  };
  run('unboundClaims n volumes, n/10 claims', sizes, (n) => {
    const [v, c] = unreserved(n);
    return () => unboundClaims(v, c);
  });
  // the pools the constructor series builds are then validated (building one takes seconds)
  const pools = new Map<number, NfsPersistentVolumePool>();
  run('NfsPersistentVolumePool constructor (v volumes)', poolSizes, (v) => () => pools.set(v, pool(v)));
  run('NfsPersistentVolumePool validate (v volumes, v claims)', poolSizes, (v) => {
    const p = pools.get(v) ?? pools.set(v, pool(v)).get(v)!;
    return () => p.node.validate();
  });
  process.stdout.write(JSON.stringify({ sizes, poolSizes, series }) + '\n');
}

if (require.main === module) main();
