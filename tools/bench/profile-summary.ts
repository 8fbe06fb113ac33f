// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time and
// the most inclusive time (time with the function anywhere on the stack), with their file.
//   node out/tools/bench/profile-summary.js <file.cpuprofile> [top=25] [filter-substring]
//   node out/tools/bench/profile-summary.js <file.cpuprofile> --categories
// --categories splits the samples into the phases of a synthesis (first matching rule wins).
import * as fs from 'fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive milliseconds per function, most expensive first. */
export function summarize(profile: Profile): { name: string; selfMs: number; totalMs: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
    return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id)!;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = parent.has(n.id) ? byId.get(parent.get(n.id)!) : undefined) {
      const k = key(n);
      if (!seen.has(k)) {
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
    }
  });
  return [...total.keys()].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name)! }));
}

/** Rules that put a sample in a phase, tried in order; a rule matches a frame of the sample's stack. */
const CATEGORIES: [string, (f: ProfileNode['callFrame'], frames: ProfileNode['callFrame'][]) => boolean][] = [
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['YAML serialization (cdk8s Yaml.stringify)', (f) => f.url.includes('/yaml/dist/')],
  ['L1 conversion (imports/k8s toJson_*)', (f) => f.url.includes('imports/k8s') && f.functionName.startsWith('toJson_')],
  ['cdk8s rendering (ApiObject.toJson: resolve, sanitize, patches)', (f) => f.url.includes('cdk8s/lib/api-object') && f.functionName === 'toJson'],
  ['change guard (out/lib/plan: baseline read, comparison)', (f) => f.url.includes('/out/lib/plan/')],
  ['validation (cdk8s validate and dependencies, the library\'s checks)', (f) => f.url.includes('cdk8s/lib/') && ['validate', 'resolveDependencies', 'buildDependencies', 'chartToKube', 'DependencyGraph', 'get charts'].includes(f.functionName)],
  // a require() below the main module's own load
  ['module loading', (_, frames) => frames.filter((x) => x.functionName === 'Module._load').length >= 2],
  ['library constructors (out/lib)', (f) => f.url.includes('/out/lib/')],
  ['bench fixture / baselines (building inputs)', (f) => f.url.includes('/out/tools/bench/')],
];

/** Milliseconds per phase. */
export function categorize(profile: Profile): { [category: string]: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out: { [category: string]: number } = {};
  profile.samples.forEach((id, i) => {
    const frames: ProfileNode['callFrame'][] = [];
    for (let n: ProfileNode | undefined = byId.get(id); n; n = parent.has(n.id) ? byId.get(parent.get(n.id)!) : undefined) frames.push(n.callFrame);
    const leaf = frames[0]?.functionName;
    const hit = leaf === '(idle)' || leaf === '(program)' ? `${leaf}` : CATEGORIES.find(([, rule]) => frames.some((f) => rule(f, frames)))?.[0] ?? 'other';
    out[hit] = (out[hit] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return out;
}

if (require.main === module) {
  const [file, topArg, filter] = process.argv.slice(2);
  const profile = JSON.parse(fs.readFileSync(file, 'utf-8'));
  if (topArg === '--categories') {
    const cats = Object.entries(categorize(profile)).sort((a, b) => b[1] - a[1]);
    const total = cats.reduce((a, [, ms]) => a + ms, 0);
    for (const [name, ms] of cats) console.log(`${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`);
    process.exit(0);
  }
  const rows = summarize(profile);
  const top = Number(topArg ?? 25);
  const show = (title: string, sorted: typeof rows) => {
    console.log(`\n${title}`);
    for (const r of sorted.filter((x) => !filter || x.name.includes(filter)).slice(0, top)) {
      console.log(`${r.totalMs.toFixed(0).padStart(8)} ms total ${r.selfMs.toFixed(0).padStart(7)} ms self  ${r.name}`);
    }
  };
  show('by self time', [...rows].sort((a, b) => b.selfMs - a.selfMs));
  show('by inclusive time', [...rows].sort((a, b) => b.totalMs - a.totalMs));
}
