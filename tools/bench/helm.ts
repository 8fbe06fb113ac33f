// Side by side with Helm (`npm run bench:helm`, see tools/bench/README.md):
//   node out/tools/bench/helm.js [--runs <k=5>] [--ns 1,10,100] [--no-python]
// The README's quickstart database (PostgreSQL preset) N times:
//   - Helm: the chart tools/bench/helm/stateful-postgresql, `helm template db-<i> … -n shop`, one release
//     per database (a process each, as releases are rendered), helm built by tools/bench/helm/build.sh;
//   - cdk8s, TypeScript: `node out/tools/bench/helm/quickstart-n.js N <dir>`, one process for N databases;
//   - cdk8s, Python through jsii: tools/bench/helm/quickstart_n.py, the same app, with the wheel of
//     `npm run package` in the virtualenv tools/scripts/python-check.sh uses.
// First the outputs are checked to be the same objects (parsed, by kind/namespace/name; Python's
// YAML byte-identical to TypeScript's); then every tool is timed end to end, the tools interleaved,
// best of the runs (load from elsewhere on the machine only ever adds time; medians are in the
// results too). Start-up is a run with nothing to render (N = 0; `helm version` for Helm); the cost
// per database is (T(N_max) − T(N_min)) / (N_max − N_min).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { isDeepStrictEqual } from 'util';
import { cdk8sYaml } from './baselines';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TMP = path.join(ROOT, 'tools', 'bench', '.tmp', 'helm');
const CHART_SRC = path.join(ROOT, 'tools', 'bench', 'helm', 'stateful-postgresql');
const TS_APP = path.join(__dirname, 'helm', 'quickstart-n.js');
const PY_APP = path.join(ROOT, 'tools', 'bench', 'helm', 'quickstart_n.py');
const NAMESPACE = 'shop';

type Tool = 'helm' | 'cdk8s-ts' | 'cdk8s-python';

interface Tools {
  readonly helm: string;
  readonly chart: string;
  readonly python?: string;
}

function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(command, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf-8', env: { ...process.env, ...opts.env }, maxBuffer: 2 ** 28, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return r.stdout;
}

const lastLine = (s: string) => s.trim().split('\n').pop()!;

/** Renders N databases with a tool into `dir`. */
function render(tools: Tools, tool: Tool, n: number, dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  if (tool === 'helm') {
    for (let i = 0; i < n; i++) {
      const yaml = run(tools.helm, ['template', `db-${i}`, tools.chart, '--namespace', NAMESPACE, '--set', `createStorageClass=${i === 0}`]);
      fs.writeFileSync(path.join(dir, `db-${i}.yaml`), yaml);
    }
  } else if (tool === 'cdk8s-ts') {
    run(process.execPath, [TS_APP, String(n), dir]);
  } else {
    run(path.join(tools.python!, 'bin', 'python'), [PY_APP, String(n), dir]);
  }
}

/** The objects in a directory's YAML files, by kind/namespace/name. */
function objects(dir: string): Map<string, any> {
  const YAML = cdk8sYaml();
  const out = new Map<string, any>();
  for (const f of fs.readdirSync(dir).sort()) {
    for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf-8'), { version: '1.1' })) {
      const o = d.toJS();
      if (o) out.set(`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o);
    }
  }
  return out;
}

/** The chart, with the engine scripts (the library's own, as its ConfigMap holds them) in files/. */
function prepareChart(): string {
  const dir = path.join(TMP, 'one');
  render({ helm: '', chart: '' }, 'cdk8s-ts', 1, dir);
  const configMap = [...objects(dir).values()].find((o) => o.kind === 'ConfigMap');
  const chart = path.join(TMP, 'chart');
  fs.rmSync(chart, { recursive: true, force: true });
  fs.cpSync(CHART_SRC, chart, { recursive: true });
  fs.mkdirSync(path.join(chart, 'files'));
  for (const [name, text] of Object.entries(configMap.data)) fs.writeFileSync(path.join(chart, 'files', name), text as string);
  return chart;
}

function pythonVenv(): string {
  const dir = path.join(ROOT, 'out', 'package', 'python');
  const wheel = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith('-py3-none-any.whl')) : undefined;
  if (!wheel) throw new Error(`no wheel in ${path.relative(ROOT, dir)}: run 'npm run package' first (or pass --no-python)`);
  return lastLine(run('bash', ['-c', '. tools/scripts/lang-check.sh && python_venv "$0"', path.join(dir, wheel)]));
}

/** The tools write the same objects for N databases; Python's YAML is byte-identical to TypeScript's. */
function checkSame(tools: Tools, n: number): string[] {
  const dir = (t: Tool) => path.join(TMP, `same-${t}`);
  const used: Tool[] = ['cdk8s-ts', 'helm', ...(tools.python ? ['cdk8s-python' as Tool] : [])];
  for (const t of used) render(tools, t, n, dir(t));
  const failures: string[] = [];
  const ts = objects(dir('cdk8s-ts'));
  const helm = objects(dir('helm'));
  if (ts.size !== 1 + 7 * n) failures.push(`cdk8s wrote ${ts.size} objects for ${n} databases, expected ${1 + 7 * n}`);
  for (const key of new Set([...ts.keys(), ...helm.keys()])) {
    if (!isDeepStrictEqual(ts.get(key), helm.get(key))) {
      failures.push(`${key} differs: cdk8s ${JSON.stringify(ts.get(key))?.slice(0, 300)}\n  helm ${JSON.stringify(helm.get(key))?.slice(0, 300)}`);
    }
  }
  if (tools.python) {
    const read = (t: Tool) => fs.readdirSync(dir(t)).sort().map((f) => fs.readFileSync(path.join(dir(t), f), 'utf-8')).join('\n');
    if (read('cdk8s-python') !== read('cdk8s-ts')) failures.push('the Python app does not write the TypeScript app\'s bytes');
  }
  return failures;
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const runs = Number(opt('--runs') ?? 5);
  const ns = (opt('--ns') ?? '1,10,100').split(',').map(Number);
  fs.mkdirSync(TMP, { recursive: true });
  const helm = lastLine(run('bash', [path.join(ROOT, 'tools', 'bench', 'helm', 'build.sh')]));
  const tools: Tools = { helm, chart: prepareChart(), python: argv.includes('--no-python') ? undefined : pythonVenv() };
  const failures = checkSame(tools, 3);
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL ${f}`);
    process.exitCode = 1;
    return;
  }
  // built with -s -w, the binary does not know its patch version: the cache directory does
  const helmVersion = path.basename(path.dirname(path.dirname(helm)));
  console.error(`same objects for 3 databases: cdk8s (TypeScript${tools.python ? ', Python byte-identical' : ''}) = helm ${helmVersion}`);

  const used: Tool[] = ['helm', 'cdk8s-ts', ...(tools.python ? ['cdk8s-python' as Tool] : [])];
  const times = new Map<string, number[]>();
  const add = (key: string, ms: number) => times.set(key, [...(times.get(key) ?? []), ms]);
  const out = path.join(TMP, 'out');
  for (const t of used) render(tools, t, 1, out); // warm the file cache
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? used : [...used].reverse();
    for (const t of order) {
      add(`${t}:start`, timed(() => (t === 'helm' ? run(helm, ['version', '--short']) : render(tools, t, 0, out))));
      for (const n of ns) {
        const ms = timed(() => render(tools, t, n, out));
        add(`${t}:${n}`, ms);
        console.error(`run ${r + 1}/${runs} ${t} N=${n}: ${ms.toFixed(0)} ms`);
      }
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
  const [lo, hi] = [Math.min(...ns), Math.max(...ns)];
  const rows = used.map((t) => {
    const b = (k: string | number) => Math.min(...times.get(`${t}:${k}`)!);
    const m = (k: string | number) => median(times.get(`${t}:${k}`)!);
    return {
      tool: t,
      startMs: b('start'),
      ms: Object.fromEntries(ns.map((n) => [n, b(n)])),
      perDbMs: (b(hi) - b(lo)) / (hi - lo),
      medianStartMs: m('start'),
      medianMs: Object.fromEntries(ns.map((n) => [n, m(n)])),
    };
  });
  console.log(`\nN quickstart databases (PostgreSQL preset, 7 objects each, 1 shared StorageClass); best of ${runs} runs, wall ms\n`);
  console.log(['tool', 'start-up', ...ns.map((n) => `N=${n}`), 'per database'].join(' | '));
  for (const r of rows) {
    console.log([r.tool, r.startMs.toFixed(0), ...ns.map((n) => r.ms[n].toFixed(0)), r.perDbMs.toFixed(1)].join(' | '));
  }
  const results = { date: new Date().toISOString(), loadavg: os.loadavg(), helm: helmVersion, runs, ns, rows, runsMs: Object.fromEntries(times) };
  fs.writeFileSync(path.join(ROOT, 'tools', 'bench', 'results.helm.json'), JSON.stringify(results, null, 2) + '\n');
}

try {
  main();
} catch (e) {
  console.error(`bench:helm failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
}
