import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import * as os from 'os';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { IConstruct } from 'constructs';
import { StatefulConfigError } from '../lib';

/** A fresh chart in `namespace` (or none). */
export function chart(namespace?: string): Chart {
  return new Chart(app(), 'test', { namespace, disableResourceNameHashes: true });
}

/** An app for tests; unlike Testing.app() it makes no temporary directory (nothing here writes files). */
export function app(): App {
  return new App({ outdir: path.join(os.tmpdir(), 'cdk8s-stateful-tests-never-written') });
}

/** The manifests of a chart, after validation. */
export function synth(c: Chart): any[] {
  return Testing.synth(c);
}

/** The one manifest of `kind` (and `name`, if given). */
export function find(manifests: any[], kind: string, name?: string): any {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` '${name}'` : ''}, found ${found.length}`);
  return found[0];
}

/**
 * The validation errors of the app the construct is in, as cdk8s reports them at synth: the
 * messages validations return, and the message of the library's error a validation throws.
 */
export function validationErrors(scope: IConstruct): string[] {
  return scope.node.root.node.findAll().flatMap((c) => {
    try {
      return c.node.validate();
    } catch (e) {
      if (!(e instanceof StatefulConfigError)) throw e;
      return [e.message];
    }
  });
}

/** The rendered JSON of an API object. */
export function json(obj: ApiObject): any {
  return obj.toJson();
}

/** The official 1.27 definitions, kept in the repository (`test/schemas/`); works from `test/` and from `out/test/`. */
const SCHEMA = schemaPath('v1.27.0', '_definitions.json');

/** A file under the repository's `test/schemas/` directory, found by walking up from here. */
export function schemaPath(...parts: string[]): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'test', 'schemas', ...parts);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`test/schemas/${parts.join('/')} not found above ${__dirname}: it is part of the repository`);
  }
}

let validators: Map<string, ValidateFunction> | undefined;

/**
 * Validates a manifest against the official Kubernetes 1.27 OpenAPI definitions with Ajv, strictly:
 * unknown fields are errors (as `kubectl --validate=strict` makes them), and int-or-string is
 * what the API server accepts. Returns the errors, empty when valid.
 */
export function schemaErrors(manifest: any): string[] {
  if (!validators) {
    const { definitions } = JSON.parse(fs.readFileSync(SCHEMA, 'utf-8'));
    for (const def of Object.values<any>(definitions)) {
      if (def.properties && def.additionalProperties === undefined) def.additionalProperties = false;
    }
    definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: 'k8s', definitions });
    validators = new Map();
    for (const [name, def] of Object.entries<any>(definitions)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
        const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
        validators.set(`${apiVersion}/${gvk.kind}`, ajv.compile({ $ref: `k8s#/definitions/${name}` }));
      }
    }
  }
  const validate = validators.get(`${manifest.apiVersion}/${manifest.kind}`);
  if (!validate) return [`no schema for ${manifest.apiVersion} ${manifest.kind}`];
  if (validate(manifest)) return [];
  return (validate.errors ?? []).map((e) => `${manifest.kind}/${manifest.metadata?.name}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
