#!/usr/bin/env node
// Generates imports/k8s.ts from the Kubernetes 1.27 OpenAPI definitions, offline.
//
// `cdk8s import k8s@1.27.0` downloads exactly this file from GitHub; we feed the same importer
// (cdk8s-cli's ImportKubernetesApi) the copy kept beside the repository, so the output is what
// the CLI would write, byte for byte, with no network. The schema is kept in the repository
// (test/schemas/v<version>/_definitions.json).
const path = require('path');
const fs = require('fs');
// cdk8s-cli's package "exports" hides its internals, so resolve them by file path.
const cli = path.dirname(require.resolve('cdk8s-cli/package.json'));
const util = require(path.join(cli, 'lib', 'util'));
const { ImportKubernetesApi } = require(path.join(cli, 'lib', 'import', 'k8s'));

const K8S_VERSION = '1.27.0';
const schema = path.resolve(
  process.env.K8S_SCHEMA ?? path.join(__dirname, '..', '..', 'test', 'schemas', `v${K8S_VERSION}`, '_definitions.json'),
);

async function main() {
  if (!fs.existsSync(schema)) {
    throw new Error(`import-k8s: schema not found at ${schema}; set K8S_SCHEMA to the _definitions.json of Kubernetes v${K8S_VERSION}`);
  }
  const download = util.download;
  // Serve the CLI's download of the upstream schema from the local copy; anything else is refused.
  util.download = async (url) => {
    if (!url.endsWith(`/v${K8S_VERSION}/_definitions.json`)) {
      throw new Error(`import-k8s: unexpected download of ${url}`);
    }
    return download(schema);
  };
  const importer = new ImportKubernetesApi({ apiVersion: K8S_VERSION });
  await importer.import({ outdir: path.join(__dirname, '..', '..', 'imports'), targetLanguage: 'typescript' });
}

main().catch((e) => {
  console.error(e.message ?? e);
  process.exit(1);
});
