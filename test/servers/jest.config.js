// Jest config of the real-server suite (test/servers/): the engine scripts run against real
// database servers on loopback addresses (127.0.0.x), no cluster, no container. Run by
// `npm run test:servers` after tools/scripts/install-servers.sh; the unit run (`npm test`) ignores it.
const path = require('path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/servers/**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // servers on fixed loopback addresses: one file at a time
  maxWorkers: 1,
  testTimeout: 300000,
  globalSetup: '<rootDir>/test/tmpdir.js',
  globalTeardown: '<rootDir>/test/tmpdir-teardown.js',
  verbose: true,
};
