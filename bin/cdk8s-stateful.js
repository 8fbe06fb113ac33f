#!/usr/bin/env node
// `npx cdk8s-stateful plan`: see docs/plan.md. The command lives in the compiled library
// (lib/plan/cli.ts): a development build (out/lib) or the package's (out/jsii/lib).
const fs = require('fs');
const path = require('path');

const cli = ['../out/lib/plan/cli.js', '../out/jsii/lib/plan/cli.js'].map((p) => path.join(__dirname, p)).find((p) => fs.existsSync(p));
if (!cli) {
  process.stderr.write('cdk8s-stateful: the library is not compiled (run `npm run build`)\n');
  process.exit(2);
}
process.exitCode = require(cli).runCli(process.argv.slice(2));
