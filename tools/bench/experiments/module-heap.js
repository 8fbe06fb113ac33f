// One-off experiment behind a number in tools/bench/README.md (run from the repository root after `npm run bench`
// has written tools/bench/.tmp/template.json):
//   node --expose-gc tools/bench/experiments/module-heap.js without|with-lib   raw cdk8s at N = 1000, with and
//   without the library and cdk8s-plus-27 loaded: heap before, CPU and wall of the synth.
const loadLib = process.argv[2] === 'with-lib';
if (loadLib) { require('../../../out/lib'); require('cdk8s-plus-27'); }
const { rawCdk8sApp, readTemplate } = require('../../../out/tools/bench/baselines');
const { dbName } = require('../../../out/tools/bench/names');
const t = readTemplate('tools/bench/.tmp/template.json');
rawCdk8sApp(t, 20, 'tools/bench/.tmp/mh-' + process.argv[2], dbName).synth();
global.gc();
const heap = process.memoryUsage().heapUsed / 2 ** 20;
const c0 = process.cpuUsage(); const t0 = performance.now();
rawCdk8sApp(t, 1000, 'tools/bench/.tmp/mh-' + process.argv[2], dbName).synth();
const c = process.cpuUsage(c0);
console.log(process.argv[2], 'heap before', heap.toFixed(1), 'MB; CPU', ((c.user + c.system) / 1000).toFixed(0), 'wall', (performance.now() - t0).toFixed(0));
