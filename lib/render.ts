import { ApiObject, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';

/**
 * The API's field names where the generated types spell them differently (`clusterIp` for
 * `clusterIP`), as the generated `toJson_*` converters map them. A unit test keeps this table
 * equal to what the converters in imports/k8s.ts do.
 * @internal
 */
export const FIELD_RENAMES: { readonly [tsName: string]: string } = {
  clusterIp: 'clusterIP', datasetUuid: 'datasetUUID', diskUri: 'diskURI', externalId: 'externalID',
  hostIp: 'hostIP', hostIpc: 'hostIPC', hostPid: 'hostPID', insecureSkipTlsVerify: 'insecureSkipTLSVerify',
  loadBalancerIp: 'loadBalancerIP', nodeId: 'nodeID', nonResourceUrLs: 'nonResourceURLs', pdId: 'pdID',
  podCidr: 'podCIDR', podCidRs: 'podCIDRs', providerId: 'providerID', setHostnameAsFqdn: 'setHostnameAsFQDN',
  storagePolicyId: 'storagePolicyID', targetCpuUtilizationPercentage: 'targetCPUUtilizationPercentage',
  targetWwNs: 'targetWWNs', volumeId: 'volumeID',
};

/**
 * Creates an API object from props typed by the generated L1 class, rendered once as plain JSON.
 *
 * The generated classes convert every object again at synth, with converters that rebuild each
 * level by object spread; for thousands of databases that doubles the memory of the documents and
 * the garbage collection with it (tools/bench/README.md). Here the typed props become plain JSON in one
 * linear pass: `IntOrString` and `Quantity` become their values, field names the API's.
 * @internal
 */
export function kube<P>(
  type: { readonly GVK: GroupVersionKind; manifest(props: P): any },
  scope: Construct,
  id: string,
  props: P,
): ApiObject {
  const typed = props as { metadata?: any; [key: string]: unknown };
  // built property by property: an object spread over the different GVK objects would give every
  // object a hidden class of its own (tools/bench/README.md)
  const json: { apiVersion: string; kind: string; [key: string]: unknown } = { apiVersion: type.GVK.apiVersion, kind: type.GVK.kind, metadata: typed.metadata };
  for (const key of Object.keys(typed)) {
    if (key !== 'metadata' && typed[key] !== undefined) json[FIELD_RENAMES[key] ?? key] = plain(typed[key]);
  }
  return new ApiObject(scope, id, json);
}

/**
 * Typed L1 values as plain JSON; for what a `Lazy` produces, which `kube()` cannot reach.
 * @internal
 */
export function plain(value: any): any {
  if (value instanceof k8s.IntOrString || value instanceof k8s.Quantity) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    return value; // primitives, and tokens such as Lazy, which cdk8s resolves at synth
  }
  const out: { [key: string]: unknown } = {};
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined) out[FIELD_RENAMES[key] ?? key] = plain(value[key]);
  }
  return out;
}
