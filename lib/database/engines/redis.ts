import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine';
import { HealthProbe } from '../probe';
import { checkVersion, engineBinder, identityEnv, requireCredentials, runScript, scriptFiles } from './common';
import { ImageVersion } from './image-version';

/**
 * A version of the official `redis` image (Docker Hub library image, Debian based).
 * An enum-like class: a constant, or `of()` for any other tag from 7.0 on.
 */
export class RedisVersion extends ImageVersion {
  /** Redis 7.2.6. */
  public static readonly VER_7_2_6 = new RedisVersion('7.2.6');
  /** Redis 7.4.1. */
  public static readonly VER_7_4_1 = new RedisVersion('7.4.1');

  /** Any tag of the official image, e.g. `7.4.2`; pin a patch release. Alpine variants lack bash: use the Debian ones. */
  public static of(version: string): RedisVersion {
    return new RedisVersion(version);
  }

  private constructor(version: string) {
    super('redis', version);
  }
}

/** Options of {@link DatabaseEngine.redis}. */
export interface RedisOptions {
  /**
   * The server version.
   * @default RedisVersion.VER_7_4_1
   */
  readonly version?: RedisVersion;
}

const PORT = 6379;
const CONFIG_PATH = '/etc/redis';

/** The Redis primary/replicas preset; see {@link DatabaseEngine.redis}. */
export function redisDefinition(options: RedisOptions = {}): EngineDefinition {
  const version = options.version ?? RedisVersion.VER_7_4_1;
  const image = version.image;
  return {
    name: 'redis',
    image,
    ports: [{ name: 'redis', port: PORT }],
    dataPath: '/data',
    runAsUser: 999,
    readOnlyRootFilesystem: true,
    defaultReplicas: 3,
    args: ['redis-server', `${CONFIG_PATH}/redis.conf`],
    // ready: an authenticated PING answers PONG (not LOADING); live: the server answers a PING at
    // all, without the password, so that a rotated Secret never gets a running server killed
    readinessProbe: HealthProbe.command(runScript('redis-probe.sh', 'ready'), { initialDelay: Duration.seconds(5) }),
    livenessProbe: HealthProbe.command(runScript('redis-probe.sh', 'live'), { initialDelay: Duration.seconds(30), failureThreshold: 6 }),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'redis', version.version, { major: 7, minor: 0 }, "the 'bind * -::*' syntax and replicaof a host name");
      const secrets = requireCredentials(ctx, 'redis', 'without requirepass any pod that reaches the Service can read and write every key');
      return {
        primaryOrdinal: ctx.startOrdinal,
        // the readiness probe authenticates with the password from the Secret's file
        env: { REDIS_PASSWORD_FILE: secrets.password },
        scratchVolumes: ['config'],
        mounts: [{ volume: 'config', path: CONFIG_PATH, readOnly: true }],
        initContainers: [{
          name: 'config',
          image,
          command: runScript('redis-config.sh'),
          env: {
            ...identityEnv(ctx),
            DATA_DIR: kplus.EnvValue.fromValue(ctx.dataPath),
            CONFIG_DIR: kplus.EnvValue.fromValue(CONFIG_PATH),
            REDIS_PASSWORD_FILE: secrets.password,
          },
          mounts: [{ volume: 'config', path: CONFIG_PATH }, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath, readOnly: true }],
        }],
        files: scriptFiles('redis-config.sh', 'redis-probe.sh'),
      };
    }),
  };
}
