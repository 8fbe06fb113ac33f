// Preload for one bench child: the live heap at the moment synth writes its file (after a full GC), and
// with LIVE_SNAPSHOT=<file> a heap snapshot there, for heap-summary.js. From the repository root:
//   node --expose-gc -r ./tools/bench/experiments/live-at-write.js out/tools/bench/child.js library 5000 <dir> <template>
// (the warm-up's write is skipped: only writes of more than 1 MB count). The child's timing and RSS are meaningless then.
const fs = require('fs');
const v8 = require('v8');
const write = fs.writeFileSync;
fs.writeFileSync = function (file, data, ...rest) {
  if (typeof data === 'string' && data.length > 1e6) {
    const before = process.memoryUsage().heapUsed;
    global.gc();
    console.error(`at write of ${data.length} chars: heap ${(before / 1e6).toFixed(1)} MB, live after full GC ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
    if (process.env.LIVE_SNAPSHOT) v8.writeHeapSnapshot(process.env.LIVE_SNAPSHOT);
  }
  return write.call(this, file, data, ...rest);
};
