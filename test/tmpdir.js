// Jest globalSetup/globalTeardown of every suite: the run gets a temporary directory of its own as
// TMPDIR (workers and the processes tests spawn inherit it), removed when the run ends, so no
// test leaves its scratch directories behind in /tmp.
const fs = require('fs');
const os = require('os');
const path = require('path');

const KEY = 'CDK8S_STATEFUL_TEST_TMPDIR';

module.exports = async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-jest-'));
  process.env[KEY] = dir;
  process.env.TMPDIR = dir;
};

module.exports.teardown = async function teardown() {
  const dir = process.env[KEY];
  if (dir && path.basename(dir).startsWith('cdk8s-stateful-jest-')) fs.rmSync(dir, { recursive: true, force: true });
};
