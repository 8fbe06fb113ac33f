import { createHash } from 'crypto';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext, InitContainer } from '../engine-definition';
import { HealthProbe } from '../probe';
import { engineFail, identityEnv, pinnedApiClientImage, runScript, scriptFiles, scriptProbes } from './private/preset-helpers';

/*
 * The MySQL preset with Group Replication deciding who takes the writes
 * (DatabaseEngine.mysql({ groupReplication })): a single-primary group over XCom, bootstrapped
 * once by the member that created the group's Lease, each pod labelled with its member's role by
 * two small sidecars (mysql-group.sh on the MySQL image reads the local member's state;
 * mysql-group-api.sh on the API client image writes the label), the Services following the label.
 */

/** Options of Group Replication; see `MysqlOptions.groupReplication`. */
export interface MysqlGroupReplicationOptions {
  /**
   * A pinned image with a POSIX `sh` and `curl`, for the containers that talk to the Kubernetes
   * API (the group's Lease, the pod's role label): the MySQL image has no HTTP client.
   * @default 'docker.io/curlimages/curl:8.14.1'
   */
  readonly apiClientImage?: string;
  /**
   * The addresses (CIDRs) allowed to open group communication connections to a member
   * (`group_replication_ip_allowlist`): the cluster's pod network. The NetworkPolicy lets only the
   * set's own pods reach the group port anyway.
   * @default ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] - the private IPv4 ranges, and the loopback address
   */
  readonly ipAllowlist?: string[];
  /**
   * Seconds a member suspected of being gone (silent for 5 s) may stay in the group before the
   * others expel it (`group_replication_member_expel_timeout`). With 0, clients saw no
   * acknowledged write for 9.4 s when the primary was killed (docs/engines.md); with 1, the group
   * took 16 s after the suspicion to expel a killed primary in a test on loopback. A member
   * expelled by mistake (stalled over 5 s) rejoins by itself. 0 to 3600.
   * @default 0
   */
  readonly memberExpelTimeoutSeconds?: number;
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

/** The group communication port (`group_replication_local_address`). */
export const GROUP_PORT = 33061;
/** The label the `label` sidecar sets on each pod with its member's role, and its values. */
export const MYSQL_GROUP_ROLE_LABEL = { key: 'cdk8s-stateful.dev/role', primary: 'primary', replica: 'replica' };
const DEFAULT_ALLOWLIST = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
const GROUP_PATH = '/var/run/cdk8s-group';

/**
 * What the members do with the API server: create and read the group's Lease (the bootstrap
 * decision; update for an operator's or a later reboot's change of holder), read and label their
 * own pods.
 */
const GROUP_RULES: ApiRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
];

/** The group's name (a UUID every member shares), derived from the set's name: the same app gives the same YAML. */
export function groupName(name: string): string {
  const h = createHash('sha256').update(`cdk8s-stateful/mysql-group/${name}`).digest('hex');
  // a version-4-shaped, RFC 4122 variant UUID
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The group's options, checked: the image pinned, the allowlist CIDRs, the expel timeout. */
function checkOptions(ctx: EngineContext, options: MysqlGroupReplicationOptions) {
  const fail = (message: string): never => engineFail(ctx, 'mysql', message);
  if (typeof options !== 'object' || options === null) {
    fail(`groupReplication must be an object, got ${JSON.stringify(options)}. Fix: groupReplication: {} for the defaults.`);
  }
  const image = pinnedApiClientImage(fail, 'groupReplication apiClientImage', options.apiClientImage);
  const allowlist = options.ipAllowlist ?? DEFAULT_ALLOWLIST;
  const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
  if (!Array.isArray(allowlist) || allowlist.length === 0) {
    fail(`groupReplication ipAllowlist must list the pod network's CIDRs, got ${JSON.stringify(allowlist)}. Fix: e.g. ['10.244.0.0/16'], or leave it out for the private ranges.`);
  }
  for (const entry of allowlist) {
    const m = typeof entry === 'string' ? cidr.exec(entry) : null;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      fail(`groupReplication ipAllowlist has ${JSON.stringify(entry)}, which is not an IPv4 CIDR. Fix: e.g. '10.244.0.0/16'.`);
    }
  }
  const expel = options.memberExpelTimeoutSeconds ?? 0;
  if (!Number.isInteger(expel) || expel < 0 || expel > 3600) {
    fail(`groupReplication memberExpelTimeoutSeconds must be a whole number from 0 to 3600, got ${JSON.stringify(expel)}. Fix: leave it out for 0 (expel once suspected).`);
  }
  return { image, allowlist: [...allowlist, '127.0.0.1/8'].join(','), expel };
}

/** The parts of the MySQL definition that differ in a group: the group port. */
export function groupPorts() {
  return [{ name: 'mysql', port: 3306 }, { name: 'group', port: GROUP_PORT, peer: true }];
}

/** The readiness, liveness and startup probes of a group member. */
export function groupProbes() {
  const probe = (kind: string) => runScript('mysql-group.sh', kind);
  return {
    // live: the server answers on its socket (startup: within InnoDB crash recovery or a clone)
    ...scriptProbes(probe),
    // ready: ONLINE in a group with a majority; the role label says which Service takes it. Every
    // 2 s, out at the first failure: a primary cut off from the majority (which it sees 5 s after
    // the cut, when the others expel it) leaves the Services within about 2 s of the election
    readinessProbe: HealthProbe.command(probe('ready'), { period: Duration.seconds(2), failureThreshold: 1 }),
  };
}

/** Small requests and limits for the sidecars (a shell loop, a client call a second). */
const SIDECAR_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(20), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
};

/** The binding of a group member: config, Lease decision, role sidecars, Role and role label. */
export function groupBinding(ctx: EngineContext, options: MysqlGroupReplicationOptions, image: string,
  keys: { [name: string]: kplus.EnvValue }, dataDir: kplus.EnvValue, paths: { run: string; config: string }, extraConfig: string[]): EngineBinding {
  const runPath = paths.run;
  const configPath = paths.config;
  const checked = checkOptions(ctx, options);
  const value = kplus.EnvValue.fromValue;
  const groupEnv = { ...identityEnv(ctx), GROUP_DIR: value(GROUP_PATH) };
  const groupMount = { volume: 'group', path: GROUP_PATH };
  const api = (name: string, command: string, extra: { [name: string]: kplus.EnvValue }): InitContainer => ({
    name,
    image: checked.image,
    command: ['sh', `/opt/cdk8s-stateful/mysql-group-api.sh`, command],
    env: { GROUP_DIR: value(GROUP_PATH), ...extra },
    mounts: [groupMount],
    resources: SIDECAR_RESOURCES,
  });
  return {
    env: { ...identityEnv(ctx), ...keys, DATA_DIR: dataDir },
    preStop: runScript('mysql-group.sh', 'leave'),
    scratchVolumes: ['config', 'run', 'group'],
    mounts: [
      { volume: 'config', path: configPath, readOnly: true },
      { volume: 'run', path: runPath },
      { volume: 'scripts', path: '/docker-entrypoint-initdb.d/10-group-account.sh', subPath: 'mysql-group-initdb.sh', readOnly: true },
    ],
    initContainers: [
      {
        name: 'config',
        image,
        command: runScript('mysql-group.sh', 'config'),
        env: {
          ...groupEnv,
          DATA_DIR: dataDir,
          CONFIG_DIR: value(configPath),
          GROUP_NAME: value(groupName(ctx.name)),
          GROUP_PORT: value(String(GROUP_PORT)),
          GROUP_ALLOWLIST: value(checked.allowlist),
          MEMBER_EXPEL_TIMEOUT: value(String(checked.expel)),
        },
        mounts: [{ volume: 'config', path: configPath }],
      },
      api('lease', 'lease', { GROUP_LEASE: value(`${ctx.name}-group`) }),
    ],
    sidecars: [
      {
        name: 'group',
        image,
        command: runScript('mysql-group.sh', 'member'),
        env: { ...groupEnv, ...keys },
        mounts: [groupMount, { volume: 'run', path: runPath }],
        resources: SIDECAR_RESOURCES,
      },
      api('label', 'label', { ROLE_LABEL: value(MYSQL_GROUP_ROLE_LABEL.key), GROUP_LEASE: value(`${ctx.name}-group`) }),
    ],
    files: {
      ...scriptFiles('mysql-start.sh', 'mysql-group.sh', 'mysql-group-initdb.sh', 'mysql-group-api.sh', 'kube-api.sh'),
      ...(extraConfig.length > 0 ? { 'engine.conf': extraConfig.join('\n') + '\n' } : {}),
    },
    roleLabel: MYSQL_GROUP_ROLE_LABEL,
    apiAccess: { rules: GROUP_RULES, apiServerCidrs: options.apiServerCidrs, apiServerPorts: options.apiServerPorts },
  };
}
