// Jest config of the cluster suite (test/cluster/), run by tools/cluster/test.sh (`npm run test:cluster`)
// against the control plane that script starts. The unit run (`npm test`, config in package.json)
// ignores test/cluster/.
const path = require('path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/cluster/tsconfig.json' }] },
  // one cluster, shared nodes and cluster-scoped objects: never run files in parallel
  maxWorkers: 1,
  // API-level waits (scheduling, binding, rollouts) take seconds; leave room on a loaded runner
  testTimeout: 600000,
  slowTestThreshold: 60,
  globalSetup: '<rootDir>/test/tmpdir.js',
  globalTeardown: '<rootDir>/test/tmpdir-teardown.js',
  verbose: true,
};
