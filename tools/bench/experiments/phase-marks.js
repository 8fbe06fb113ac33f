// Preload for one bench child: marks the phases of the timed synth in --trace-gc's output (heap used
// and heap size at each), so the collections can be read phase by phase. From the repository root:
//   node --expose-gc --trace-gc -r ./tools/bench/experiments/phase-marks.js out/tools/bench/child.js library 5000 <dir> <template>
// Only the app of N >= 1000 is marked (not the warm-up). With MARK_GC=1 a full GC at each mark gives the live heap;
// with MARK_SNAPSHOT=<file> and MARK_AT=<start of a mark's text> a heap snapshot there, for heap-summary.js.
const cdk8s = require('cdk8s');
const fs = require('fs');
let on = false;
const mark = (what) => {
  if (!on) return;
  const m = process.memoryUsage();
  let live = '';
  if (process.env.MARK_GC) { global.gc(); live = `, live ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`; }
  if (process.env.MARK_SNAPSHOT && what.startsWith(process.env.MARK_AT ?? '-')) require('v8').writeHeapSnapshot(process.env.MARK_SNAPSHOT);
  console.log(`#### ${what}: heap used ${(m.heapUsed / 1e6).toFixed(1)} MB of ${(m.heapTotal / 1e6).toFixed(1)}${live}, rss ${(m.rss / 2 ** 20).toFixed(1)}, peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);
};
const synth = cdk8s.App.prototype.synth;
cdk8s.App.prototype.synth = function () {
  on = this.node.findAll().length > 5000;
  mark('synth starts (app built)');
  try { return synth.call(this); } finally { mark('synth done'); on = false; }
};
const synthChart = cdk8s.App._synthChart;
let firstToJson = false;
cdk8s.App._synthChart = function (chart) { mark('_synthChart (validated once)'); firstToJson = true; const r = synthChart.call(this, chart); mark('chart rendered'); return r; };
const toJson = cdk8s.ApiObject.prototype.toJson;
cdk8s.ApiObject.prototype.toJson = function () { if (firstToJson) { firstToJson = false; mark('validated twice, first toJson'); } return toJson.call(this); };
const write = fs.writeFileSync;
fs.writeFileSync = function (file, data, ...rest) { if (typeof data === 'string' && data.length > 1e6) mark('stringified, write'); return write.call(this, file, data, ...rest); };
