import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { EngineBinding, EngineContext, EngineDefinition } from '../engine-definition';
import { checkVersion, engineBinder, identityEnv, runScript, scriptFiles, scriptProbes } from './private/preset-helpers';
import { ImageVersion } from './image-version';

/**
 * A version of the official `zookeeper` image (Docker Hub library image).
 * An enum-like class: a constant, or `of()` for any other tag from 3.5 on.
 */
export class ZooKeeperVersion extends ImageVersion {
  /** ZooKeeper 3.8.4. */
  public static readonly VER_3_8_4 = new ZooKeeperVersion('3.8.4');
  /** ZooKeeper 3.9.3. Superseded by {@link VER_3_9_5}. */
  public static readonly VER_3_9_3 = new ZooKeeperVersion('3.9.3');
  /** ZooKeeper 3.9.5. */
  public static readonly VER_3_9_5 = new ZooKeeperVersion('3.9.5');

  /** Any tag of the official image, e.g. `3.9.4`; pin a patch release. */
  public static of(version: string): ZooKeeperVersion {
    return new ZooKeeperVersion(version);
  }

  private constructor(version: string) {
    super('zookeeper', version);
  }
}

/** Options of {@link DatabaseEngine.zookeeper}. */
export interface ZooKeeperOptions {
  /**
   * The server version.
   * @default ZooKeeperVersion.VER_3_9_5
   */
  readonly version?: ZooKeeperVersion;
}

const CONFIG_PATH = '/conf';
const INIT_CONFIG_PATH = '/cdk8s-conf';

/** The ZooKeeper ensemble preset; see {@link DatabaseEngine.zookeeper}. */
export function zookeeperDefinition(options: ZooKeeperOptions = {}): EngineDefinition {
  const version = options.version ?? ZooKeeperVersion.VER_3_9_5;
  const image = version.image;
  return {
    name: 'zookeeper',
    image,
    ports: [
      { name: 'client', port: 2181 },
      { name: 'peer', port: 2888, peer: true },
      { name: 'election', port: 3888, peer: true },
    ],
    dataPath: '/data',
    runAsUser: 1000,
    readOnlyRootFilesystem: true,
    quorum: true,
    // readiness means "serving", which needs a quorum: members must start together
    parallelStart: true,
    defaultReplicas: 3,
    ...scriptProbes((kind) => runScript('zookeeper-probe.sh', kind), Duration.minutes(10)),
    binder: engineBinder((ctx: EngineContext): EngineBinding => {
      checkVersion(ctx, 'zookeeper', version.version, { major: 3, minor: 5 }, "client ports in 'server.N' lines and the 4lw whitelist");
      return {
        env: {
          // zkEnv.sh defaults to a 1000 MiB heap, more than the default 1 GiB memory limit leaves
          ZK_SERVER_HEAP: kplus.EnvValue.fromValue('512'),
        },
        scratchVolumes: ['conf', 'logs'],
        mounts: [
          { volume: 'conf', path: CONFIG_PATH, readOnly: true },
          { volume: 'logs', path: '/logs' },
        ],
        initContainers: [{
          name: 'config',
          image,
          command: runScript('zookeeper-config.sh'),
          env: {
            ...identityEnv(ctx),
            DATA_DIR: kplus.EnvValue.fromValue(ctx.dataPath),
            CONFIG_DIR: kplus.EnvValue.fromValue(INIT_CONFIG_PATH),
            IMAGE_CONF_DIR: kplus.EnvValue.fromValue(CONFIG_PATH),
          },
          mounts: [{ volume: 'conf', path: INIT_CONFIG_PATH }, { volume: ctx.dataVolume ?? 'data', path: ctx.dataPath }],
        }],
        files: scriptFiles('zookeeper-config.sh', 'zookeeper-probe.sh'),
      };
    }),
  };
}
