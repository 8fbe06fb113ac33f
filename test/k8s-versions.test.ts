// The supported Kubernetes range (README, "Kubernetes versions"): every example validates against
// the oldest supported schema (1.27, test/examples.test.ts) and, here, against the newest one the
// repository has (1.34 OpenAPI v3, copied verbatim from the k8s.io/kubernetes module).
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { examplesApp } from '../examples/main';
import { quickstartApp } from '../examples/quickstart';
import { NEWEST_KUBERNETES, openApiV3Dir, openApiV3Errors } from './openapi-v3';

function synthObjects(build: (dir: string) => { synth(): void }): any[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-k8s-'));
  try {
    build(dir).synth();
    return fs.readdirSync(dir).sort().flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf-8')).map((d) => d.toJS()));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe(`Kubernetes ${NEWEST_KUBERNETES} (newest OpenAPI v3 in test/schemas/)`, () => {
  test('the copied documents are the module\'s, byte for byte (SHA256SUMS)', () => {
    const dir = openApiV3Dir();
    const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf-8').trim().split('\n').map((l) => l.split(/\s+/));
    expect(sums.map(([, f]) => f).sort()).toEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort());
    for (const [sum, file] of sums) {
      expect({ file, sum: createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex') }).toEqual({ file, sum });
    }
  });

  const examples = synthObjects((dir) => examplesApp(dir));
  const quickstart = synthObjects((dir) => quickstartApp(dir));

  test('every example object validates', () => {
    expect(examples.length).toBeGreaterThan(30);
    expect(examples.flatMap((m) => openApiV3Errors(m))).toEqual([]);
  });

  test('the quickstart validates', () => {
    expect(quickstart.map((m) => m.kind)).toContain('StatefulSet');
    expect(quickstart.flatMap((m) => openApiV3Errors(m))).toEqual([]);
  });

  test('the validator refuses what the API server would: unknown fields, wrong types, missing required fields', () => {
    const sts = structuredClone(examples.find((m) => m.kind === 'StatefulSet'));
    sts.spec.podManagmentPolicy = 'Parallel';
    sts.spec.replicas = '3';
    delete sts.spec.template.spec.containers[0].name;
    const errors = openApiV3Errors(sts).join('\n');
    expect(errors).toContain('must NOT have additional properties {"additionalProperty":"podManagmentPolicy"}');
    expect(errors).toContain('/spec/replicas must be integer');
    expect(errors).toContain("must have required property 'name'");
  });
});
