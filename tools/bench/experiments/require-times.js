// One-off experiment behind a number in tools/bench/README.md ("The CLI and the library"), from the
// repository root after `npx tsc`:
//   node tools/bench/experiments/require-times.js     (run it 5 times: single runs move a lot)
// How long requiring each of the examples' modules takes, in the order node loads them, and the
// guard's look-up of what git's HEAD holds in dist/ (what runs when the CLI has emptied dist/).
const { performance } = require('perf_hooks');
const root = require('path').join(__dirname, '..', '..', '..');
const times = [];
let t = performance.now();
const lap = (name) => { const now = performance.now(); times.push(`${name} ${(now - t).toFixed(0)}`); t = now; };
require('cdk8s'); lap('cdk8s');
require('cdk8s-plus-27'); lap('cdk8s-plus-27');
require(`${root}/out/imports/k8s`); lap('imports/k8s');
require(`${root}/out/lib`); lap('rest of lib');
require(`${root}/out/examples/main`); lap('examples');
const { committedManifests } = require(`${root}/out/lib/plan/baseline`);
t = performance.now();
const files = committedManifests(`${root}/dist`);
lap(`committedManifests(dist) ${files ? files.length : 0} files`);
console.log(times.join(', '));
