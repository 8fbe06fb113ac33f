import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext, InitContainer } from '../../engine-definition';
import type { ApiClientOptions } from '../api-client';
import { SCRIPTS_PATH, scriptFiles } from './engine-scripts';
import { engineFail, pinnedApiClientImage } from './preset-helpers';

/*
 * Whether a replicated set was ever founded, recorded once in a Lease the API server arbitrates
 * (`<name>-founded`), for the presets whose first member starts a new data set when its volume is
 * empty (PostgreSQL and MySQL with streaming replicas, Redis with replicas). An empty first member
 * founds the set only when it creates that Lease; once the Lease exists it copies a member with
 * data and waits for one, however long the others refuse connections or stay silent. The init
 * container `founding` (scripts/founding.sh, on the API client image) decides; the engine's own
 * init script reads the answer from FOUNDED_FILE.
 */

const FOUNDING_PATH = '/var/run/cdk8s-founding';
/** The file at the root of each data volume that names the volume (a random id made once). */
export const VOLUME_ID_FILE = '.cdk8s-stateful-volume-id';

/** The Lease that records that the set was founded. */
export function foundingLease(name: string): string {
  return `${name}-founded`;
}

/** Read the founding Lease and create it: nothing else (`create` cannot be limited by name). */
function foundingRules(name: string): ApiRule[] {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'], resourceNames: [foundingLease(name)] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ];
}

/**
 * BINDING with the founding decision, for a set of more than one member: the init container
 * `founding` first, its answer mounted into the engine's init container ENGINE_INIT (env
 * FOUNDED_FILE), and the Role to read and create the Lease. DATA_MARKERS: paths (in the data
 * volume, mounted at the data path) of which any exists once the member holds data.
 */
export function withFounding(ctx: EngineContext, engine: string, options: ApiClientOptions | undefined, binding: EngineBinding,
  founding: { engineInit: string; dataMarkers: string[] }): EngineBinding {
  if (ctx.replicas <= 1) return binding;
  const client = options ?? {};
  const value = kplus.EnvValue.fromValue;
  const mount = { volume: 'founding', path: FOUNDING_PATH };
  const decide: InitContainer = {
    name: 'founding',
    image: pinnedApiClientImage((message) => engineFail(ctx, engine, message), 'apiClient.apiClientImage', client.apiClientImage),
    command: ['sh', `${SCRIPTS_PATH}/founding.sh`],
    env: {
      SET_NAME: value(ctx.name),
      POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
      FOUNDING_ORDINAL: value(String(ctx.startOrdinal)),
      FOUNDED_FILE: value(`${FOUNDING_PATH}/founded`),
      VOLUME_ID_FILE: value(`${ctx.dataPath}/${VOLUME_ID_FILE}`),
      DATA_MARKERS: value(founding.dataMarkers.join(' ')),
    },
    mounts: [mount, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
    resources: {
      cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.millis(500) },
    },
  };
  const initContainers = (binding.initContainers ?? []).map((c) => (c.name !== founding.engineInit ? c : {
    ...c,
    env: { ...c.env, SET_NAME: value(ctx.name), FOUNDED_FILE: value(`${FOUNDING_PATH}/founded`) },
    mounts: [...(c.mounts ?? []), { ...mount, readOnly: true }],
  }));
  return {
    ...binding,
    initContainers: [decide, ...initContainers],
    scratchVolumes: [...(binding.scratchVolumes ?? []), 'founding'],
    files: { ...binding.files, ...scriptFiles('founding.sh', 'kube-api.sh') },
    apiAccess: { rules: foundingRules(ctx.name), apiServerCidrs: client.apiServerCidrs, apiServerPorts: client.apiServerPorts },
  };
}
