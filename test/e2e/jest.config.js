// Jest config of the real-node suite (test/e2e/), run by tools/cluster/test.sh with CLUSTER_SUITE=e2e
// (`npm run test:e2e`) against the control plane and real node that script starts. The unit run
// (`npm test`, config in package.json) ignores test/e2e/.
const path = require('path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }] },
  // one node, 2 cores: four engine files at a time (E2E_WORKERS), each in its own namespace, torn
  // down after it. The databases mostly wait (elections, timers, outages held for minutes: three
  // files each hold a member's node away for 5 minutes), so the other files fill that time. No
  // fault acts on the whole node (nodeLoss keeps one pod out through the API server, not by
  // cordoning), and the sets request little CPU (helpers.ts NODE_SIZED), so four sets of 5 fit.
  maxWorkers: Number(process.env.E2E_WORKERS ?? 4),
  // longest files first (durations.json), so that the workers end together
  testSequencer: '<rootDir>/test/e2e/sequencer.js',
  // databases start, replicate and recover in minutes; each test sets its own limit
  testTimeout: 600000,
  slowTestThreshold: 120,
  verbose: true,
};
