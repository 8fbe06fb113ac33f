#!/usr/bin/env node
// Generates imports/monitoring.coreos.com.ts (PodMonitor, PrometheusRule) from the Prometheus
// Operator's CRDs at a pinned release.
//
// The CRDs come from the Go module proxy (the operator's module ships them under
// example/prometheus-operator-crd/), downloaded with `go mod download` into the shared module
// cache ~/.cache/cdk8s-stateful/gomod; `cdk8s import` turns them into typed classes. Same release,
// same output, byte for byte.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const MODULE = 'github.com/prometheus-operator/prometheus-operator';
const VERSION = 'v0.80.1';
const CRDS = ['monitoring.coreos.com_podmonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
const root = path.join(__dirname, '..', '..');

function moduleDir() {
  const env = {
    ...process.env,
    GOFLAGS: '-mod=mod',
    GOMODCACHE: process.env.GOMODCACHE ?? path.join(os.homedir(), '.cache', 'cdk8s-stateful', 'gomod'),
  };
  const out = execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${VERSION}`], { env, cwd: os.tmpdir(), encoding: 'utf-8' });
  const info = JSON.parse(out);
  if (!info.Dir) throw new Error(`import-prometheus-operator: go mod download gave no directory: ${out}`);
  return info.Dir;
}

function main() {
  const crdDir = path.join(moduleDir(), 'example', 'prometheus-operator-crd');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'import-prom-op-'));
  try {
    const input = path.join(work, 'crds.yaml');
    fs.writeFileSync(input, CRDS.map((f) => fs.readFileSync(path.join(crdDir, f), 'utf-8')).join('\n---\n'));
    const cli = path.join(root, 'node_modules', '.bin', 'cdk8s');
    // run in the scratch directory: `cdk8s import` records what it imported in the cdk8s.yaml of its cwd
    execFileSync(cli, ['import', '--check-upgrade=false', '--language', 'typescript', '--output', work, input], { stdio: 'inherit', cwd: work });
    fs.copyFileSync(path.join(work, 'monitoring.coreos.com.ts'), path.join(root, 'imports', 'monitoring.coreos.com.ts'));
    // the CRD schemas themselves, for the unit tests that validate the emitted objects
    const schemas = CRDS.map((f) => fs.readFileSync(path.join(crdDir, f), 'utf-8'));
    fs.mkdirSync(path.join(root, 'test', 'schemas', 'prometheus-operator'), { recursive: true });
    CRDS.forEach((f, i) => fs.writeFileSync(path.join(root, 'test', 'schemas', 'prometheus-operator', f), schemas[i]));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
