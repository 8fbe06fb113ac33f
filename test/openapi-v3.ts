import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { schemaPath } from './util';

/**
 * The newest Kubernetes the repository has an OpenAPI spec of: the v3 documents of the groups the
 * library writes, copied from the `k8s.io/kubernetes` module's `api/openapi-spec/v3` (see
 * test/schemas/README.md), so a fresh clone needs no module cache.
 */
export const NEWEST_KUBERNETES = 'v1.34.10';

const validators = new Map<string, ValidateFunction>();

/** The directory of the v3 documents of `version`. */
export function openApiV3Dir(version = NEWEST_KUBERNETES): string {
  return schemaPath(version, 'openapi-v3');
}

/**
 * Validates a manifest against the OpenAPI v3 documents of `version` with Ajv, strictly: unknown
 * fields are errors (as `kubectl --validate=strict` makes them). Returns the errors, empty when valid.
 */
export function openApiV3Errors(manifest: any, version = NEWEST_KUBERNETES): string[] {
  if (validators.size === 0) {
    const dir = openApiV3Dir(version);
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const { components } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf-8'));
      for (const def of Object.values<any>(components.schemas)) {
        if (def.properties && def.additionalProperties === undefined) def.additionalProperties = false;
      }
      ajv.addSchema({ $id: file, components });
      for (const [name, def] of Object.entries<any>(components.schemas)) {
        for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
          const key = `${gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version}/${gvk.kind}`;
          // meta types (DeleteOptions, WatchEvent) list every group: keep the first document's
          if (!validators.has(key)) validators.set(key, ajv.compile({ $ref: `${file}#/components/schemas/${name}` }));
        }
      }
    }
  }
  const validate = validators.get(`${manifest.apiVersion}/${manifest.kind}`);
  if (!validate) return [`no ${version} schema for ${manifest.apiVersion} ${manifest.kind}`];
  if (validate(manifest)) return [];
  return (validate.errors ?? []).map((e) => `${manifest.kind}/${manifest.metadata?.name}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}
