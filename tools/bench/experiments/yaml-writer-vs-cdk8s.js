// One-off experiment behind a number in tools/bench/README.md (run from the repository root after `npm run bench`):
//   node --expose-gc tools/bench/experiments/yaml-writer-vs-cdk8s.js mine|cdk8s
// writes the N = 5000 bench app's documents with the library's YAML writer or cdk8s's, in one process,
// the built app alive: ms, peak RSS before and after, heap.
const { Yaml } = require('cdk8s');
const writer = require('../../../out/lib/plan/yaml-writer');
const { libraryApp } = require('../../../out/tools/bench/fixture');
const app = libraryApp(5000, 'tools/bench/.tmp/experiments');
const docs = Object.values(app.charts[0].toJson());
global.gc();
const before = process.resourceUsage().maxRSS / 1024;
const t = Date.now();
const text = process.argv[2] === 'mine' ? writer.stringifyDocuments(...docs) : Yaml.stringify(...docs);
console.log(process.argv[2], 'ms', Date.now() - t, 'peak RSS MB before', Math.round(before), 'after', Math.round(process.resourceUsage().maxRSS / 1024),
  'heap MB', Math.round(process.memoryUsage().heapUsed / 1e6), 'characters', text.length);
