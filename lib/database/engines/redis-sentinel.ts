import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext, InitContainer, SidecarContainer } from '../engine-definition';
import { SCRIPTS_PATH } from './private/engine-scripts';
import { DEFAULT_API_CLIENT_IMAGE, engineFail, identityEnv } from './private/preset-helpers';

/*
 * The Redis preset with Sentinel deciding which member is the master
 * (DatabaseEngine.redis({ sentinel })): a Sentinel beside each data member, the members starting
 * as the Sentinels say (redis-sentinel-start.sh), and a keeper in the API client image that
 * mirrors each member's role into its pod label, which the Services select.
 */

/** Options of Sentinel; see `RedisOptions.sentinel`. */
export interface RedisSentinelOptions {
  /**
   * The API client image (a POSIX shell and curl) of the containers that talk to the Kubernetes
   * API: the one that reads whether the set was founded, and the role keeper that labels the pod.
   * @default 'docker.io/curlimages/curl:8.14.1'
   */
  readonly apiClientImage?: string;
  /**
   * How long the master must fail to answer before the Sentinels agree it is down and promote a
   * replica (Sentinel's `down-after-milliseconds`). Shorter fails over sooner; too short fails
   * over on a pause of the master (a slow fork, a stalled disk).
   * @default Duration.seconds(5)
   */
  readonly downAfter?: Duration;
  /**
   * Sentinel's `failover-timeout`: how long a failover may take before another Sentinel tries
   * again (twice this), and how long the replicas have to follow the new master.
   * @default Duration.seconds(10)
   */
  readonly failoverTimeout?: Duration;
  /**
   * `min-replicas-to-write`: the master refuses writes (NOREPLICAS) unless this many replicas
   * acknowledged its stream within `minReplicasMaxLag`. With at least 1, a master cut off from its
   * replicas stops taking writes before the Sentinels promote another: it cannot go on
   * acknowledging writes that the failover will drop. 0 turns this off.
   * @default 1
   */
  readonly minReplicasToWrite?: number;
  /**
   * `min-replicas-max-lag`, in whole seconds: how recent a replica's acknowledgement must be for
   * it to count. It must be shorter than `downAfter`.
   * @default Duration.seconds(2)
   */
  readonly minReplicasMaxLag?: Duration;
  /**
   * Where the NetworkPolicy lets the members reach the API server (the addresses of the
   * `kubernetes` Service's endpoints).
   * @default ['0.0.0.0/0'] - any address, on `apiServerPorts` only
   */
  readonly apiServerCidrs?: string[];
  /**
   * The API server endpoints' ports.
   * @default [443, 6443]
   */
  readonly apiServerPorts?: number[];
}

/** Sentinel's port, on every member. */
export const SENTINEL_PORT = 26379;
/** The label the role keeper sets on each pod with its server's role, and its values. */
export const REDIS_ROLE_LABEL = { key: 'cdk8s-stateful.dev/role', primary: 'primary', replica: 'replica' };
/** The default API client image (tools/images/curl builds the same for the tests). */
export const API_CLIENT_IMAGE = DEFAULT_API_CLIENT_IMAGE;

/** The keeper labels its own pod and records, once, that the set was founded (a Lease). */
const KEEPER_RULES: ApiRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create'] },
];

/** The checked timings and durability settings of Sentinel mode. */
export interface SentinelSettings {
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagSeconds: number;
  readonly apiClientImage: string;
}

/** Milliseconds of a Duration option, or a synth-time error naming it. */
function millis(ctx: EngineContext, option: string, value: Duration | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  let ms = NaN;
  try {
    ms = value.toMilliseconds();
  } catch {
    // not a Duration: reported below
  }
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    engineFail(ctx, 'redis', `sentinel.${option} must be a Duration from ${min / 1000} s to ${max / 1000} s, got ${Number.isNaN(ms) ? JSON.stringify(value) : `${ms} ms`}. ` +
      `Fix: e.g. ${option}: Duration.seconds(${fallback / 1000}).`);
  }
  return ms;
}

/** The Sentinel options, checked against the set's shape. */
export function sentinelSettings(ctx: EngineContext, options: RedisSentinelOptions): SentinelSettings {
  if (typeof options !== 'object' || options === null) {
    engineFail(ctx, 'redis', `sentinel must be an object of RedisSentinelOptions, got ${JSON.stringify(options)}. Fix: e.g. sentinel: {}.`);
  }
  if (ctx.replicas < 3) {
    engineFail(ctx, 'redis', `sentinel needs at least 3 members, got replicas: ${ctx.replicas}: the Sentinels must be a majority to promote a replica, ` +
      'and with 2 members one lost stops every failover. Fix: replicas: 3 or more, or drop sentinel (the first member is then the primary, without failover).');
  }
  const downAfterMs = millis(ctx, 'downAfter', options.downAfter, 5000, 1000, 600_000);
  const failoverTimeoutMs = millis(ctx, 'failoverTimeout', options.failoverTimeout, 10_000, 1000, 3_600_000);
  const lagMs = millis(ctx, 'minReplicasMaxLag', options.minReplicasMaxLag, 2000, 1000, 600_000);
  if (lagMs % 1000 !== 0 || lagMs >= downAfterMs) {
    engineFail(ctx, 'redis', `sentinel.minReplicasMaxLag must be whole seconds shorter than downAfter (${downAfterMs} ms), got ${lagMs} ms: ` +
      'a master cut off from its replicas must stop taking writes before the Sentinels promote another. Fix: e.g. minReplicasMaxLag: Duration.seconds(2).');
  }
  const minReplicasToWrite = options.minReplicasToWrite ?? 1;
  if (typeof minReplicasToWrite !== 'number' || !Number.isInteger(minReplicasToWrite) || minReplicasToWrite < 0 || minReplicasToWrite > ctx.replicas - 1) {
    engineFail(ctx, 'redis', `sentinel.minReplicasToWrite must be a whole number from 0 to ${ctx.replicas - 1} (the replicas of ${ctx.replicas} members), ` +
      `got ${JSON.stringify(minReplicasToWrite)}. Fix: e.g. minReplicasToWrite: 1.`);
  }
  const apiClientImage = options.apiClientImage ?? API_CLIENT_IMAGE;
  if (typeof apiClientImage !== 'string' || apiClientImage === '') {
    engineFail(ctx, 'redis', `sentinel.apiClientImage must be an image with a POSIX shell and curl, got ${JSON.stringify(apiClientImage)}. Fix: e.g. '${API_CLIENT_IMAGE}'.`);
  }
  return { quorum: Math.floor(ctx.replicas / 2) + 1, downAfterMs, failoverTimeoutMs, minReplicasToWrite, minReplicasMaxLagSeconds: lagMs / 1000, apiClientImage };
}

/** The environment the data member's start script reads beside the preset's own. */
export function sentinelServerEnv(ctx: EngineContext, s: SentinelSettings): { [name: string]: kplus.EnvValue } {
  const value = kplus.EnvValue.fromValue;
  return {
    SET_NAME: value(ctx.name),
    MIN_REPLICAS_TO_WRITE: value(String(s.minReplicasToWrite)),
    MIN_REPLICAS_MAX_LAG: value(String(s.minReplicasMaxLagSeconds)),
  };
}

/** The paths of which any exists once a member holds data. */
export function dataMarkers(ctx: EngineContext): string[] {
  return ['appendonlydir', 'appendonly.aof', 'dump.rdb'].map((f) => `${ctx.dataPath}/${f}`);
}

/**
 * The init container that reads whether the set was ever founded (RESTORE: on the member that may
 * restore, until the API server answers), and the Sentinel and keeper sidecars.
 */
export function sentinelContainers(ctx: EngineContext, s: SentinelSettings, redisImage: string, configPath: string,
  password: { [name: string]: kplus.EnvValue }, restore = false): { initContainers: InitContainer[]; sidecars: SidecarContainer[] } {
  const value = kplus.EnvValue.fromValue;
  const keeper = (mode: string) => ['sh', `${SCRIPTS_PATH}/redis-role-keeper.sh`, mode];
  const config = { volume: 'config', path: configPath };
  const keeperEnv = { SET_NAME: value(ctx.name), CONFIG_DIR: value(configPath) };
  return {
    initContainers: [{
      name: 'founded',
      image: s.apiClientImage,
      command: keeper('founded'),
      // the member that may restore needs a definite answer: it asks until the API server gives one
      env: { ...keeperEnv, ...(restore ? { ...identityEnv(ctx), RESTORE_DATA_MARKERS: value(dataMarkers(ctx).join(' ')) } : {}) },
      mounts: restore ? [config, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath, readOnly: true }] : [config],
    }],
    sidecars: [
      {
        name: 'sentinel',
        image: redisImage,
        command: ['bash', `${SCRIPTS_PATH}/redis-sentinel.sh`],
        env: {
          ...identityEnv(ctx),
          ...password,
          SET_NAME: value(ctx.name),
          QUORUM: value(String(s.quorum)),
          DOWN_AFTER_MS: value(String(s.downAfterMs)),
          FAILOVER_TIMEOUT_MS: value(String(s.failoverTimeoutMs)),
          CONFIG_DIR: value(configPath),
          DATA_DIR: value(ctx.dataPath),
        },
        // the data volume keeps a copy of what Sentinel learned (no password), for after a full outage
        mounts: [config, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
        ports: [SENTINEL_PORT],
      },
      {
        name: 'role',
        image: s.apiClientImage,
        command: keeper('keep'),
        env: { ...keeperEnv, ROLE_LABEL: value(REDIS_ROLE_LABEL.key), POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME) },
        mounts: [config],
      },
    ],
  };
}

/** The role label and the API access of the keeper. */
export function sentinelAccess(options: RedisSentinelOptions): Pick<EngineBinding, 'roleLabel' | 'apiAccess'> {
  return {
    roleLabel: REDIS_ROLE_LABEL,
    apiAccess: { rules: KEEPER_RULES, apiServerCidrs: options.apiServerCidrs, apiServerPorts: options.apiServerPorts },
  };
}
