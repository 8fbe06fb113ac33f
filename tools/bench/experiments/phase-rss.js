// One-off experiment behind a number in tools/bench/README.md (run from the repository root after `npm run bench`
// has written tools/bench/.tmp/template.json):
//   node tools/bench/experiments/phase-rss.js library|raw
// Peak RSS and heap of the N = 5000 bench app once built, then after app.synth(), in one process.
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
const heap = () => Math.round(process.memoryUsage().heapUsed / 1e6);
const variant = process.argv[2];
const outdir = `tools/bench/.tmp/experiments/phase-rss-${variant}`;
let app;
if (variant === 'library') {
  app = require('../../../out/tools/bench/fixture').libraryApp(5000, outdir);
} else {
  const b = require('../../../out/tools/bench/baselines');
  app = b.rawCdk8sApp(b.readTemplate('tools/bench/.tmp/template.json'), 5000, outdir, require('../../../out/tools/bench/names').dbName);
}
const built = [rss(), heap()];
app.synth();
console.log(variant, 'built: peak RSS MB', built[0], 'heap MB', built[1], '| after synth: peak RSS MB', rss(), 'heap MB', heap());
