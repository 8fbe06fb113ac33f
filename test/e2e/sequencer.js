// Test sequencer of the real-node suite: the longest files first, so that with several files at a
// time the last one to start is a short one and the run ends when the workers do (longest
// processing time first). The order comes from durations.json, seconds measured on the 2-core
// node (a clean clone has no Jest cache to sort by; without one Jest orders by file size, which
// says nothing about how long a database takes). A file missing from the table goes first, as if
// it were the longest, and is named so that its time gets recorded.
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;
const durations = require('./durations.json');

class LongestFirst extends Sequencer {
  sort(tests) {
    const seconds = (test) => durations[path.basename(test.path)];
    const unknown = tests.filter((test) => seconds(test) === undefined).map((test) => path.basename(test.path));
    if (unknown.length > 0) {
      process.stderr.write(`test/e2e/sequencer.js: no duration recorded for ${unknown.join(', ')}: run first; add it to test/e2e/durations.json\n`);
    }
    const key = (test) => seconds(test) ?? Number.POSITIVE_INFINITY;
    return [...tests].sort((a, b) => key(b) - key(a) || (a.path < b.path ? -1 : 1));
  }
}

module.exports = LongestFirst;
