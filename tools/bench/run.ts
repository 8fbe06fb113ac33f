// `npm run bench` (and `npm run bench:smoke`): see tools/bench/README.md.
//
//   node out/tools/bench/run.js [--smoke] [--strict] [--out <results.json>]
//
// 1. builds the baselines' template from the library's own output and checks, on the parsed YAML
//    documents, that the library, the chart-per-database layout and both baselines write the same
//    documents (the bench fails otherwise);
// 2. times N databases per variant, each measurement in a child process of its own (peak RSS is
//    the measurement's), after a warm-up, interleaving the variants, medians over the runs;
// 3. times the synth-time checks alone on large inputs and fits their growth exponent;
// 4. times the README's `npx cdk8s synth` of the examples app end to end (and its parts);
// 5. prints the tables, the targets met or missed, and writes the results.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { isDeepStrictEqual } from 'util';
import { Template, cdk8sYaml, rawCdk8sApp, splitTemplate, yamlFloor, TOKEN } from './baselines';
import { Series, nLogNExponent } from './checks';
import type { Measurement, Variant } from './child';
import { libraryApp } from './fixture';
import { dbName } from './names';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TMP = path.join(ROOT, 'tools', 'bench', '.tmp');
const TEMPLATE = path.join(TMP, 'template.json');
const CHILD = path.join(__dirname, 'child.js');
const CHECKS = path.join(__dirname, 'checks.js');

/** The targets (tools/bench/README.md, "Targets"). */
const TARGET_RATIO_TO_RAW = 1.0; // library with the deployed manifests present ≤ 1.0× raw cdk8s at N = 1000, wall and CPU
const TARGET_RSS_TO_RAW = 1.2; // library's peak RSS ≤ 1.2× raw cdk8s's at N = 5000
const TARGET_SCALING = 1.1; // µs per database at N = 5000 ≤ 1.1× that at N = 500
const TARGET_CLI_MS = 1000; // `npx cdk8s synth` of the examples, median
const TARGET_BASELINE = 1.05; // synth with the deployed manifests present ≤ 1.05× synth without, N = 1000
/** Slack over the n·log n exponent allowed to the measured one (timing noise on a shared machine). */
const EXPONENT_SLACK = 0.2;

interface Plan {
  readonly smoke: boolean;
  readonly ns: number[];
  readonly runs: (n: number) => number;
  /** N for the one-Chart-per-database trap, and runs each. */
  readonly trap: [number, number][];
  readonly cliRuns: number;
  readonly verifyN: number;
  /** N and runs for synth with a baseline present (the comparison with the deployed manifests). */
  readonly baseline: [number, number];
}

const BASE_VARIANTS: Variant[] = ['library', 'raw-cdk8s', 'yaml-floor'];

function plan(smoke: boolean): Plan {
  return smoke
    ? { smoke, ns: [10], runs: () => 1, trap: [[10, 1]], cliRuns: 1, verifyN: 10, baseline: [10, 1] }
    : { smoke, ns: [1, 10, 100, 500, 1000, 5000], runs: (n) => (n >= 5000 ? 3 : 5), trap: [[100, 3], [500, 2]], cliRuns: 5, verifyN: 10, baseline: [1000, 5] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

// ---------------------------------------------------------------------------------------------
// 1. template and equivalence

/** The library's documents for one database named TOKEN, split into shared and per database. */
function makeTemplate(): Template {
  const app = libraryApp(1, path.join(TMP, 'template-out'), 'one-chart', () => TOKEN);
  return splitTemplate(app.charts.flatMap((c) => c.toJson()));
}

/** The documents of the `.k8s.yaml` files of a directory, in the given file order. */
function readDocs(dir: string, files: string[]): any[] {
  const YAML = cdk8sYaml();
  return files.flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf-8'), { version: '1.1' })
      .map((d) => d.toJS())
      .filter((d) => d !== null && d !== undefined));
}

/** Where two lists of documents differ first, or undefined when they are equal. */
function firstDifference(expected: any[], actual: any[]): string | undefined {
  const id = (d: any) => `${d?.kind}/${d?.metadata?.namespace ?? '-'}/${d?.metadata?.name}`;
  if (expected.length !== actual.length) return `${actual.length} documents instead of ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!isDeepStrictEqual(expected[i], actual[i])) {
      return `document ${i} differs: expected ${id(expected[i])}: ${JSON.stringify(expected[i]).slice(0, 400)}\n  got ${id(actual[i])}: ${JSON.stringify(actual[i]).slice(0, 400)}`;
    }
  }
  return undefined;
}

interface Verification {
  readonly n: number;
  readonly documents: number;
  readonly sameDocuments: { [variant: string]: boolean };
  readonly byteIdenticalToYamlFloor: { [variant: string]: boolean };
  readonly failures: string[];
}

/** Synthesizes N databases with every variant and compares the parsed documents. */
function verify(template: Template, n: number): Verification {
  const dir = (v: string) => path.join(TMP, `verify-${v}`);
  for (const v of ['library', 'library-chart-per-db', 'raw-cdk8s', 'yaml-floor']) fs.rmSync(dir(v), { recursive: true, force: true });

  const lib = libraryApp(n, dir('library'));
  lib.synth();
  const trap = libraryApp(n, dir('library-chart-per-db'), 'chart-per-db');
  trap.synth();
  rawCdk8sApp(template, n, dir('raw-cdk8s'), dbName).synth();
  yamlFloor(template, n, dir('yaml-floor'), dbName).synth();

  const one = ['bench.k8s.yaml'];
  const expected = readDocs(dir('library'), one);
  const outputs: { [v: string]: any[] } = {
    // the trap's files in chart order: the documents come out in the same order as from one chart
    'library-chart-per-db': readDocs(dir('library-chart-per-db'), trap.charts.map((c) => `${c.node.id}.k8s.yaml`)),
    'raw-cdk8s': readDocs(dir('raw-cdk8s'), one),
    'yaml-floor': readDocs(dir('yaml-floor'), one),
  };
  const failures: string[] = [];
  const sameDocuments: { [v: string]: boolean } = {};
  for (const [v, docs] of Object.entries(outputs)) {
    const diff = firstDifference(expected, docs);
    sameDocuments[v] = diff === undefined;
    if (diff) failures.push(`${v} does not write the library's documents at N=${n}: ${diff}`);
  }
  const floorText = fs.readFileSync(path.join(dir('yaml-floor'), 'bench.k8s.yaml'), 'utf-8');
  const byteIdenticalToYamlFloor = {
    'library': fs.readFileSync(path.join(dir('library'), 'bench.k8s.yaml'), 'utf-8') === floorText,
    'raw-cdk8s': fs.readFileSync(path.join(dir('raw-cdk8s'), 'bench.k8s.yaml'), 'utf-8') === floorText,
  };
  if (expected.length !== template.shared.length + n * template.perDb.length) {
    failures.push(`the library wrote ${expected.length} documents for ${n} databases, the template predicts ${template.shared.length + n * template.perDb.length}`);
  }
  return { n, documents: expected.length, sameDocuments, byteIdenticalToYamlFloor, failures };
}

// ---------------------------------------------------------------------------------------------
// 2. measurements, one child process each

interface ChildMeasurement extends Measurement {
  readonly cpuMs: number;
}

function measure(variant: Variant, n: number, tag: string): ChildMeasurement {
  const outdir = path.join(TMP, `out-${variant}-${n}-${tag}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, variant, String(n), outdir, TEMPLATE], {
    cwd: ROOT, encoding: 'utf-8', timeout: 300_000, maxBuffer: 16 * 2 ** 20,
  });
  fs.rmSync(outdir, { recursive: true, force: true });
  if (r.status !== 0) {
    throw new Error(`child ${variant} N=${n} failed (${r.error?.message ?? `exit ${r.status} ${r.signal ?? ''}`}):\n${r.stderr}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface Summary {
  readonly variant: Variant;
  readonly n: number;
  readonly runs: number;
  readonly ms: number;
  readonly msRuns: number[];
  readonly buildMs: number;
  readonly synthMs: number;
  readonly cpuMs: number;
  readonly usPerDb: number;
  readonly peakRssMb: number;
  readonly loadedRssMb: number;
  readonly bytes: number;
}

function summarize(ms: ChildMeasurement[]): Summary {
  const m = (f: (x: ChildMeasurement) => number) => median(ms.map(f));
  const n = ms[0].n;
  return {
    variant: ms[0].variant,
    n,
    runs: ms.length,
    ms: m((x) => x.ms),
    msRuns: ms.map((x) => Math.round(x.ms * 10) / 10),
    buildMs: m((x) => x.buildMs),
    synthMs: m((x) => x.synthMs),
    cpuMs: m((x) => x.cpuMs),
    usPerDb: (m((x) => x.ms) * 1000) / Math.max(n, 1),
    peakRssMb: m((x) => x.peakRssMb),
    loadedRssMb: m((x) => x.loadedRssMb),
    bytes: ms[0].bytes,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. checks; 4. the CLI

interface ChecksResult {
  readonly sizes: number[];
  readonly poolSizes: number[];
  readonly series: Series[];
}

function runChecks(smoke: boolean): ChecksResult {
  const r = spawnSync(process.execPath, ['--expose-gc', CHECKS, ...(smoke ? ['--smoke'] : [])], {
    cwd: ROOT, encoding: 'utf-8', timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`checks failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface Timed {
  readonly ms: number;
  readonly stdout: string;
}

function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const t0 = performance.now();
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf-8', env: { ...process.env, ...env }, timeout: 60_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

interface CliResult {
  readonly command: string;
  readonly medianMs: number;
  readonly runsMs: number[];
  readonly files: string[];
  readonly parts: { [what: string]: { medianMs: number; runsMs: number[] } };
}

function timeCli(runs: number, parts: boolean): CliResult {
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const env = { CDK8S_CHECK_UPGRADE: 'false' };
  const cliOut = (i: number) => path.join(TMP, `cli-synth-${i}`);
  const synth = (i: number) => timeCommand(npx, ['cdk8s', 'synth', '--output', cliOut(i)], env);
  if (runs > 1) synth(-1); // warm-up: the file cache, npx's own cache
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) runsMs.push(synth(i).ms);
  const files = fs.readdirSync(cliOut(0)).sort();
  for (let i = -1; i < runs; i++) fs.rmSync(cliOut(i), { recursive: true, force: true });
  if (files.length === 0) throw new Error('npx cdk8s synth wrote no files');

  const breakdown: CliResult['parts'] = {};
  if (parts) {
    const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
    const app = path.join(ROOT, 'out', 'examples', 'main.js');
    const appOut = path.join(TMP, 'cli-app');
    const what: [string, () => Timed][] = [
      ['node -e 0 (node start-up)', () => timeCommand(process.execPath, ['-e', '0'])],
      ['npx --version (npx start-up)', () => timeCommand(npx, ['--version'])],
      ['cdk8s --version (the CLI start-up, no npx)', () => timeCommand(process.execPath, [cli, '--version'], env)],
      ['cdk8s synth (no npx)', () => timeCommand(process.execPath, [cli, 'synth', '--output', appOut], env)],
      ['node out/examples/main.js (the app alone)', () => timeCommand(process.execPath, [app], { CDK8S_OUTDIR: appOut })],
      ['  of which: require(examples, lib, cdk8s, cdk8s-plus-27) in-process', () => examplesPart('requireMs')],
      ['  of which: examplesApp().synth() in-process', () => examplesPart('synthMs')],
    ];
    for (const [name, fn] of what) {
      fn();
      const ms = Array.from({ length: 3 }, () => fn().ms);
      breakdown[name] = { medianMs: median(ms), runsMs: ms.map((x) => Math.round(x)) };
    }
    fs.rmSync(appOut, { recursive: true, force: true });
  }
  return { command: 'CDK8S_CHECK_UPGRADE=false npx cdk8s synth --output <tmp>', medianMs: median(runsMs), runsMs: runsMs.map((x) => Math.round(x)), files, parts: breakdown };
}

/** The examples app's require and synth times, measured inside a child. */
function examplesPart(which: 'requireMs' | 'synthMs'): Timed {
  const out = path.join(TMP, 'examples-part');
  const r = spawnSync(process.execPath, [CHILD, 'examples', '0', out], { cwd: ROOT, encoding: 'utf-8', timeout: 60_000 });
  fs.rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`examples child failed:\n${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ms: m[which], stdout: '' };
}

// ---------------------------------------------------------------------------------------------
// 5. report

const fmt = (x: number, digits = 0) => x.toFixed(digits);
const pad = (s: string, w: number) => s.padStart(w);

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : pad(c, widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function gitState(): string {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf-8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'imports'], { cwd: ROOT, encoding: 'utf-8' }).stdout.trim();
  return `${rev}${dirty ? ' + uncommitted changes in lib/' : ''}`;
}

function main(): void {
  const argv = process.argv.slice(2);
  const smoke = argv.includes('--smoke');
  const strict = argv.includes('--strict');
  const outArg = argv.indexOf('--out');
  const resultsFile = outArg >= 0 ? path.resolve(argv[outArg + 1]) : smoke ? path.join(TMP, 'results.smoke.json') : path.join(ROOT, 'tools', 'bench', 'results.json');
  const detailsFile = resultsFile.replace(/\.json$/, '') + '.details.json';
  const p = plan(smoke);
  const started = performance.now();
  const loadBefore = os.loadavg();
  fs.mkdirSync(TMP, { recursive: true });

  // 1. template and equivalence
  const template = makeTemplate();
  fs.writeFileSync(TEMPLATE, JSON.stringify(template));
  log(`template: ${template.shared.length} shared documents, ${template.perDb.length} per database (${template.perDb.map((d) => d.kind).join(', ')})`);
  const verification = verify(template, p.verifyN);
  if (verification.failures.length > 0) {
    for (const f of verification.failures) log(`FAIL ${f}`);
    process.exitCode = 1;
    return;
  }
  log(`same documents at N=${p.verifyN} (${verification.documents} documents): library = chart-per-db = raw cdk8s = YAML floor; ` +
    `byte-identical to the YAML floor: library ${verification.byteIdenticalToYamlFloor.library}, raw ${verification.byteIdenticalToYamlFloor['raw-cdk8s']}`);

  if (argv.includes('--baseline-only')) {
    // only the target for synth with the deployed manifests present: `node out/tools/bench/run.js --baseline-only`
    const b = measureBaseline(p);
    console.log(`synth with the deployed manifests present / without, N=${b.n}, ${b.runs} interleaved triples (with, without, raw cdk8s): wall ${fmt(b.ratio, 3)}× ` +
      `(${fmt(b.with_baseline_ms)} ms against ${fmt(b.without_baseline_ms)} ms; runs ${b.with_baseline_runs_ms.join(', ')} against ${b.without_baseline_runs_ms.join(', ')}), ` +
      `CPU ${fmt(b.cpu_ratio, 3)}× (${fmt(b.with_baseline_cpu_ms)} ms against ${fmt(b.without_baseline_cpu_ms)} ms); target ≤ ${TARGET_BASELINE}× ${b.ratio <= TARGET_BASELINE ? 'MET' : 'MISSED'}; ` +
      `against raw cdk8s: wall ${fmt(b.to_raw, 3)}×, CPU ${fmt(b.to_raw_cpu, 3)}× (load average ${os.loadavg()[0].toFixed(1)})`);
    return;
  }

  // 2. measurements
  if (!smoke) for (const v of [...BASE_VARIANTS, 'library-chart-per-db' as Variant]) measure(v, 10, 'warmup');
  const results = new Map<string, ChildMeasurement[]>();
  const add = (m: ChildMeasurement) => {
    const key = `${m.variant}:${m.n}`;
    results.set(key, [...(results.get(key) ?? []), m]);
  };
  for (const n of p.ns) {
    for (let run = 0; run < p.runs(n); run++) {
      // interleaved, so that load from elsewhere on the machine hits every variant alike
      const order = run % 2 === 0 ? BASE_VARIANTS : [...BASE_VARIANTS].reverse();
      for (const v of order) {
        const m = measure(v, n, String(run));
        add(m);
        log(`N=${n} ${v} run ${run + 1}/${p.runs(n)}: ${fmt(m.ms)} ms, peak RSS ${fmt(m.peakRssMb)} MB`);
      }
    }
  }
  for (const [n, runs] of p.trap) {
    for (let run = 0; run < runs; run++) {
      const m = measure('library-chart-per-db', n, String(run));
      add(m);
      log(`N=${n} library-chart-per-db run ${run + 1}/${runs}: ${fmt(m.ms)} ms`);
    }
  }
  const baselineRecord = measureBaseline(p);
  log('timing the reader of the deployed manifests ...');
  const reader = measureReader(p.baseline[0], smoke ? 1 : 5);
  const summary = (v: Variant, n: number) => (results.has(`${v}:${n}`) ? summarize(results.get(`${v}:${n}`)!) : undefined);

  // 3. checks; 4. CLI
  log('timing the synth-time checks ...');
  const checks = runChecks(smoke);
  log('timing npx cdk8s synth of the examples ...');
  const cli = timeCli(p.cliRuns, !smoke);

  // 5. report
  const rows: string[][] = [];
  const records: any[] = [];
  for (const n of p.ns) {
    const [lib, raw, yaml] = BASE_VARIANTS.map((v) => summary(v, n)!);
    const trap = summary('library-chart-per-db', n);
    for (const s of [lib, raw, yaml, ...(trap ? [trap] : [])]) {
      rows.push([String(n), s.variant === 'raw-cdk8s' ? 'raw cdk8s (a)' : s.variant === 'yaml-floor' ? 'YAML floor (b)' : s.variant,
        fmt(s.ms, 1), fmt(s.usPerDb), fmt(s.peakRssMb, 1), fmt(s.ms / raw.ms, 2), fmt(s.ms / yaml.ms, 2), fmt(s.cpuMs / raw.cpuMs, 2)]);
    }
    records.push({
      n,
      library_ms: +fmt(lib.ms, 2),
      raw_cdk8s_ms: +fmt(raw.ms, 2),
      yaml_floor_ms: +fmt(yaml.ms, 2),
      library_rss_mb: +fmt(lib.peakRssMb, 1),
      raw_cdk8s_rss_mb: +fmt(raw.peakRssMb, 1),
      yaml_floor_rss_mb: +fmt(yaml.peakRssMb, 1),
      library_us_per_db: +fmt(lib.usPerDb, 1),
      library_to_raw: +fmt(lib.ms / raw.ms, 3),
      library_to_yaml_floor: +fmt(lib.ms / yaml.ms, 3),
      library_to_raw_cpu: +fmt(lib.cpuMs / raw.cpuMs, 3),
      library_cpu_ms: +fmt(lib.cpuMs, 2),
      raw_cdk8s_cpu_ms: +fmt(raw.cpuMs, 2),
      yaml_floor_cpu_ms: +fmt(yaml.cpuMs, 2),
      library_cpu_us_per_db: +fmt((lib.cpuMs * 1000) / Math.max(n, 1), 1),
      library_min_ms: +fmt(Math.min(...lib.msRuns), 2),
      raw_cdk8s_min_ms: +fmt(Math.min(...raw.msRuns), 2),
      library_build_ms: +fmt(lib.buildMs, 2),
      library_synth_ms: +fmt(lib.synthMs, 2),
      raw_cdk8s_build_ms: +fmt(raw.buildMs, 2),
      raw_cdk8s_synth_ms: +fmt(raw.synthMs, 2),
      runs: lib.runs,
      library_runs_ms: lib.msRuns,
      raw_cdk8s_runs_ms: raw.msRuns,
      yaml_floor_runs_ms: yaml.msRuns,
      bytes: lib.bytes,
      ...(trap ? { library_chart_per_db_ms: +fmt(trap.ms, 2), library_chart_per_db_rss_mb: +fmt(trap.peakRssMb, 1), library_chart_per_db_runs_ms: trap.msRuns } : {}),
    });
  }
  console.log('\nSynthesis of N StatefulDatabases (medians; ×(a) = / raw cdk8s, ×(b) = / YAML floor; cpu×(a) = process CPU time / raw cdk8s)\n');
  console.log(table(['N', 'variant', 'wall ms', 'µs/db', 'peak RSS MB', '×(a)', '×(b)', 'cpu×(a)'], rows));

  const trapRows = p.trap.map(([n]) => {
    const one = summary('library', n) ?? measureOnce('library', n, add, summary);
    const per = summary('library-chart-per-db', n)!;
    return { n, oneChartMs: one.ms, chartPerDbMs: per.ms, oneChartUsPerDb: one.usPerDb, chartPerDbUsPerDb: per.usPerDb, slowdown: per.ms / one.ms };
  });
  console.log('\nThe one-Chart-per-database trap (cdk8s validates and resolves the whole app again for each Chart)\n');
  console.log(table(['N', 'layout', 'wall ms', 'µs/db', '× one Chart'], trapRows.flatMap((t) => [
    [String(t.n), 'one Chart', fmt(t.oneChartMs, 1), fmt(t.oneChartUsPerDb), '1.00'],
    [String(t.n), 'Chart per database', fmt(t.chartPerDbMs, 1), fmt(t.chartPerDbUsPerDb), fmt(t.slowdown, 2)],
  ])));

  const allowed = nLogNExponent(checks.sizes[0], checks.sizes[checks.sizes.length - 1]) + EXPONENT_SLACK;
  console.log(`\nSynth-time checks alone (best of several calls, ms; growth exponent fitted on log-log; n·log n over this range ≈ ${fmt(allowed - EXPONENT_SLACK, 2)}, allowed ≤ ${fmt(allowed, 2)})\n`);
  for (const s of checks.series) {
    console.log(`${s.name}: exponent ${fmt(s.exponent, 2)}  ${s.points.map((pt) => `n=${pt.n}: ${fmt(pt.ms, pt.ms < 10 ? 2 : 0)} ms`).join(', ')}`);
  }

  console.log(`\n${cli.command}: median ${fmt(cli.medianMs)} ms over ${cli.runsMs.length} runs (${cli.runsMs.join(', ')}), ${cli.files.length} files`);
  for (const [what, t] of Object.entries(cli.parts)) console.log(`  ${what}: median ${fmt(t.medianMs)} ms (${t.runsMs.join(', ')})`);

  // targets
  const targets: { name: string; value: number | undefined; limit: number; met: boolean | undefined; unit: string; note?: string }[] = [];
  const t = (name: string, value: number | undefined, limit: number, unit: string, note?: string) =>
    targets.push({ name, value, limit, met: value === undefined ? undefined : value <= limit, unit, note });
  const at = (n: number) => records.find((r) => r.n === n);
  t(`library with the deployed manifests present / raw cdk8s at N=${baselineRecord.n} (wall)`, smoke ? undefined : baselineRecord.to_raw, TARGET_RATIO_TO_RAW, '×',
    `without them ${fmt(baselineRecord.without_baseline_ms / baselineRecord.raw_cdk8s_ms, 2)}×`);
  t(`library with the deployed manifests present / raw cdk8s at N=${baselineRecord.n} (CPU)`, smoke ? undefined : baselineRecord.to_raw_cpu, TARGET_RATIO_TO_RAW, '×',
    `without them ${fmt(baselineRecord.without_baseline_cpu_ms / baselineRecord.raw_cdk8s_cpu_ms, 2)}×`);
  t('peak RSS library / raw cdk8s at N=5000', at(5000) ? at(5000).library_rss_mb / at(5000).raw_cdk8s_rss_mb : undefined, TARGET_RSS_TO_RAW, '×',
    at(5000) && `${at(5000).library_rss_mb} MB against ${at(5000).raw_cdk8s_rss_mb} MB`);
  t('µs per database, N=5000 / N=500 (wall)', at(5000) && at(500) ? at(5000).library_us_per_db / at(500).library_us_per_db : undefined, TARGET_SCALING, '×',
    at(5000) && at(500) && `CPU time ${fmt(at(5000).library_cpu_us_per_db / at(500).library_cpu_us_per_db, 2)}×`);
  t('npx cdk8s synth of the examples, median', cli.medianMs, TARGET_CLI_MS, 'ms');
  t(`synth with the deployed manifests present / without, N=${baselineRecord.n} (wall)`, smoke ? undefined : baselineRecord.ratio, TARGET_BASELINE, '×',
    `${fmt(baselineRecord.with_baseline_ms)} ms against ${fmt(baselineRecord.without_baseline_ms)} ms`);
  t(`synth with the deployed manifests present / without, N=${baselineRecord.n} (CPU)`, smoke ? undefined : baselineRecord.cpu_ratio, TARGET_BASELINE, '×',
    `${fmt(baselineRecord.with_baseline_cpu_ms)} ms against ${fmt(baselineRecord.without_baseline_cpu_ms)} ms`);
  console.log(`\nReading the deployed manifests of N=${reader.n} (${reader.guardedObjects} guarded objects of ${reader.allObjects}; best of ${reader.rounds}): ` +
    `the library's reader ${fmt(reader.ownReaderMs)} ms, the \`yaml\` package on the same path ${fmt(reader.yamlPackageMs)} ms ` +
    `(${fmt(reader.yamlPackageMs / reader.ownReaderMs, 1)}×), the \`yaml\` package parsing every document ${fmt(reader.yamlPackageAllDocumentsMs)} ms; ` +
    `the same objects: ${reader.sameObjects}; the library's synth of that app without them: ${fmt(baselineRecord.without_baseline_ms)} ms`);
  if (!reader.sameObjects) process.exitCode = 1;
  // the smoke run's sizes are too small (and too few) for a meaningful exponent
  for (const s of checks.series.filter((x) => x.name.startsWith('unboundClaims'))) t(`growth exponent of ${s.name}`, smoke ? undefined : s.exponent, allowed, '');
  console.log('\nTargets\n');
  for (const x of targets) {
    const status = x.met === undefined ? 'n/a ' : x.met ? 'MET ' : 'MISS';
    const value = x.value === undefined ? (smoke ? 'not judged with --smoke' : 'not measured') : `${fmt(x.value, x.unit === 'ms' ? 0 : 2)}${x.unit}`;
    console.log(`${status} ${x.name}: ${value} (target ≤ ${fmt(x.limit, x.unit === 'ms' ? 0 : 2)}${x.unit})${x.note ? `; ${x.note}` : ''}`);
  }
  const pool = checks.series.filter((x) => x.name.startsWith('NfsPersistentVolumePool'));
  for (const s of pool) {
    if (s.exponent > allowed) console.log(`NOTE ${s.name} grows with exponent ${fmt(s.exponent, 2)}: faster than n·log n (see tools/bench/README.md)`);
  }

  const loadAfter = os.loadavg();
  const details = {
    date: new Date().toISOString(),
    smoke,
    git: gitState(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
    loadavgAfter: loadAfter.map((x) => +x.toFixed(2)),
    totalSeconds: +((performance.now() - started) / 1000).toFixed(1),
    workload: 'per database: StatefulSet (3 replicas; data claims on its own 3-volume NFS pool, wal on StorageClass fast, archive on slow), headless and client Services, PodDisruptionBudget, NetworkPolicy if the library emits one; shared: StorageClasses',
    template: { shared: template.shared.map((d) => d.kind), perDatabase: template.perDb.map((d) => d.kind) },
    verification,
    records,
    trap: trapRows,
    baseline: baselineRecord,
    reader,
    checks,
    cli,
    targets,
  };
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify(records, null, 2) + '\n');
  fs.writeFileSync(detailsFile, JSON.stringify(details, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(ROOT, resultsFile)} and ${path.relative(ROOT, detailsFile)} in ${details.totalSeconds} s (load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after, ${os.cpus().length} CPUs)`);
  if (strict && targets.some((x) => x.met === false)) process.exitCode = 1;
}

/**
 * Synth with the deployed manifests in the output directory against synth without, and against raw
 * cdk8s, interleaved triples.
 */
function measureBaseline(p: Plan) {
  const variants: Variant[] = ['library-baseline', 'library', 'raw-cdk8s'];
  const runs: { [v: string]: ChildMeasurement[] } = Object.fromEntries(variants.map((v) => [v, []]));
  for (let run = 0; run < p.baseline[1]; run++) {
    for (const v of run % 2 === 0 ? variants : [...variants].reverse()) {
      const m = measure(v, p.baseline[0], `triple-${run}`);
      runs[v].push(m);
      log(`N=${p.baseline[0]} ${v} (with/without the deployed manifests, raw) run ${run + 1}/${p.baseline[1]}: ${fmt(m.ms)} ms, CPU ${fmt(m.cpuMs)} ms`);
    }
  }
  const [withBaseline, withoutBaseline, raw] = variants.map((v) => summarize(runs[v]));
  if (withBaseline.bytes !== withoutBaseline.bytes) throw new Error(`synth with a baseline wrote ${withBaseline.bytes} bytes, without ${withoutBaseline.bytes}`);
  return {
    n: p.baseline[0], runs: p.baseline[1],
    with_baseline_ms: +fmt(withBaseline.ms, 2), without_baseline_ms: +fmt(withoutBaseline.ms, 2), ratio: +fmt(withBaseline.ms / withoutBaseline.ms, 3),
    with_baseline_cpu_ms: +fmt(withBaseline.cpuMs, 2), without_baseline_cpu_ms: +fmt(withoutBaseline.cpuMs, 2), cpu_ratio: +fmt(withBaseline.cpuMs / withoutBaseline.cpuMs, 3),
    raw_cdk8s_ms: +fmt(raw.ms, 2), raw_cdk8s_cpu_ms: +fmt(raw.cpuMs, 2),
    to_raw: +fmt(withBaseline.ms / raw.ms, 3), to_raw_cpu: +fmt(withBaseline.cpuMs / raw.cpuMs, 3),
    with_baseline_runs_ms: withBaseline.msRuns, without_baseline_runs_ms: withoutBaseline.msRuns, raw_cdk8s_runs_ms: raw.msRuns,
    with_baseline_rss_mb: +fmt(withBaseline.peakRssMb, 1), without_baseline_rss_mb: +fmt(withoutBaseline.peakRssMb, 1), raw_cdk8s_rss_mb: +fmt(raw.peakRssMb, 1),
  };
}

/** The library's reader of the deployed manifests against the `yaml` package (tools/bench/yaml-reader.ts), on the N-database app. */
function measureReader(n: number, rounds: number) {
  const dir = path.join(TMP, `reader-${n}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const write = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, 'fixture'))}).libraryApp(${n}, ${JSON.stringify(dir)}).synth()`], {
    cwd: ROOT, encoding: 'utf-8', env: { ...process.env, CDK8S_STATEFUL_BASELINE: 'off' }, timeout: 300_000,
  });
  if (write.status !== 0) throw new Error(`writing the N=${n} app failed:\n${write.stderr}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'yaml-reader.js'), dir, String(rounds)], { cwd: ROOT, encoding: 'utf-8', timeout: 300_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`yaml-reader failed:\n${r.stderr}`);
  return { n, rounds, ...JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

function measureOnce(v: Variant, n: number, add: (m: ChildMeasurement) => void, summary: (v: Variant, n: number) => Summary | undefined): Summary {
  add(measure(v, n, 'extra'));
  return summary(v, n)!;
}

try {
  main();
} catch (e) {
  log(`bench failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
}
