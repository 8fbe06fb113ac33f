// Peak RSS of the library against raw cdk8s at one N, without the full bench (run from the repository
// root after `npx tsc`):
//   node tools/bench/experiments/rss-ratio.js [n=5000] [runs=3] [library|raw|both=both]
// The same children as `npm run bench` (out/tools/bench/child.js, --expose-gc, warm-up, one timed
// synth), interleaved library / raw; prints every run's peak RSS and the ratio of the medians.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TMP = path.join(ROOT, 'tools', 'bench', '.tmp', 'experiments', 'rss-ratio');
const TEMPLATE = path.join(TMP, 'template.json');
const CHILD = path.join(ROOT, 'out', 'tools', 'bench', 'child.js');
const n = Number(process.argv[2] ?? 5000);
const runs = Number(process.argv[3] ?? 3);
const which = process.argv[4] ?? 'both';

fs.mkdirSync(TMP, { recursive: true });
const { libraryApp } = require(path.join(ROOT, 'out', 'tools', 'bench', 'fixture'));
const { splitTemplate } = require(path.join(ROOT, 'out', 'tools', 'bench', 'baselines'));
const TOKEN = 'zqtokenzq';
const app = libraryApp(1, path.join(TMP, 'template-out'), 'one-chart', () => TOKEN);
fs.writeFileSync(TEMPLATE, JSON.stringify(splitTemplate(app.charts.flatMap((c) => c.toJson()))));

function child(variant) {
  const outdir = path.join(TMP, `out-${variant}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, variant, String(n), outdir, TEMPLATE], {
    cwd: ROOT, encoding: 'utf-8', timeout: 600_000, maxBuffer: 16 * 2 ** 20,
  });
  fs.rmSync(outdir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`${variant} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rss = { library: [], 'raw-cdk8s': [] };
const variants = which === 'library' ? ['library'] : which === 'raw' ? ['raw-cdk8s'] : ['library', 'raw-cdk8s'];
for (let i = 0; i < runs; i++) {
  for (const v of i % 2 ? [...variants].reverse() : variants) {
    const m = child(v);
    rss[v].push(Math.round(m.peakRssMb * 10) / 10);
    console.log(`${v} N=${n} run ${i + 1}: peak RSS ${m.peakRssMb.toFixed(1)} MB, ${Math.round(m.ms)} ms`);
  }
}
const lib = rss.library.length ? median(rss.library) : undefined;
const raw = rss['raw-cdk8s'].length ? median(rss['raw-cdk8s']) : undefined;
console.log(`N=${n}: library ${lib ?? '-'} MB (${rss.library.join(', ')}), raw cdk8s ${raw ?? '-'} MB (${rss['raw-cdk8s'].join(', ')})` +
  (lib && raw ? `, ratio ${(lib / raw).toFixed(3)}` : '') + `, load ${require('os').loadavg().map((x) => x.toFixed(1)).join(' ')}`);
