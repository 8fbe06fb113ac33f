import * as kplus from 'cdk8s-plus-27';
import type { ApiRule, EngineBinding, EngineContext } from '../engine-definition';
import { HealthProbe } from '../probe';
import { engineFail, requireCredentials, scriptFiles, runScript } from './private/preset-helpers';

/*
 * The PostgreSQL preset with Patroni deciding who leads (DatabaseEngine.postgresql({ patroni })):
 * Patroni keeps its leader lock in ConfigMaps of the set's namespace (the Kubernetes API as its
 * store), labels each pod with its role, and the Services follow the labels. Bash only writes
 * patroni.yml (patroni-start.sh) and creates the application role once (patroni-bootstrap.sh).
 */

/** How much a PostgreSQL set with Patroni may lose in a failover. */
export enum PostgresDurability {
  /**
   * A commit returns once a synchronous standby has it too (Patroni's `synchronous_mode`), and
   * only that standby may be promoted: a failover loses no acknowledged write. A commit waits one
   * round trip to the standby; with no standby left the primary goes on alone (not strict).
   */
  SYNCHRONOUS = 'synchronous',
  /**
   * Standbys stream asynchronously: commits do not wait for them, and a failover may lose the
   * writes the promoted standby had not received yet (at most `maximum_lag_on_failover`, 1 MiB of
   * WAL; a standby further behind is not promoted).
   */
  ASYNCHRONOUS = 'asynchronous',
}

/** Options of Patroni; see `PostgresqlOptions.patroni`. */
export interface PatroniOptions {
  /**
   * A pinned image with PostgreSQL (of `version`'s major) and Patroni 4, e.g. the official
   * `postgres` image with Debian's `patroni` package (docs/engines.md gives the Dockerfile). The
   * official image alone has no Patroni and is refused.
   */
  readonly image: string;
  /**
   * Whether a failover may lose acknowledged writes.
   * @default PostgresDurability.SYNCHRONOUS
   */
  readonly durability?: PostgresDurability;
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

/** Patroni's REST API: probes, the members' health checks of each other, patronictl. */
export const PATRONI_PORT = 8008;
/** The label Patroni sets on each pod with its role, and its values. */
export const PATRONI_ROLE_LABEL = { key: 'cdk8s-stateful.dev/role', primary: 'primary', replica: 'replica' };

/**
 * What Patroni does with the API server in its namespace: its leader lock, configuration,
 * synchronous-standby and failover keys are ConfigMaps `<name>-leader`, `-config`, `-sync`,
 * `-failover` (created, read, watched, patched; deleted by `patronictl remove`); it reads the
 * member pods and patches its own with its role label and state.
 */
const PATRONI_RULES: ApiRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
];

/** Repositories of the official image, which has no Patroni. */
const OFFICIAL = /^((docker\.io|index\.docker\.io)\/)?(library\/)?postgres[:@]/;

/** The image, checked: pinned by StatefulDatabase, refused here when it is the official one. */
export function patroniImage(ctx: EngineContext, options: PatroniOptions): string {
  const image = options.image;
  if (typeof image !== 'string' || image === '' || OFFICIAL.test(image)) {
    const got = typeof image === 'string' && image !== '' ? `the official image '${image}', which has no Patroni` : `no image (${JSON.stringify(image)})`;
    engineFail(ctx, 'postgresql', `patroni got ${got}. Fix: build an image with PostgreSQL and Patroni 4 (FROM postgres:<version>, then apt-get install patroni; ` +
      "docs/engines.md, 'PostgreSQL with Patroni'), push it, and pass it pinned: patroni: { image: 'registry.example.com/postgres-patroni:18.4-4.1.5' }.");
  }
  return image;
}

/** The parts of the engine definition that differ with Patroni: ports, command, probes. */
export function patroniDefinition() {
  return {
    ports: [{ name: 'postgresql', port: 5432 }, { name: 'patroni', port: PATRONI_PORT, peer: true }],
    command: runScript('patroni-start.sh'),
    // ready: the leader, or a replica that streams and does not lag; live: Patroni's loop runs
    readinessProbe: HealthProbe.http('/readiness', PATRONI_PORT),
    livenessProbe: HealthProbe.http('/liveness', PATRONI_PORT, { failureThreshold: 6 }),
    // a new member's base backup runs beside the loop: /liveness answers while it copies
    startupProbe: HealthProbe.http('/liveness', PATRONI_PORT, { failureThreshold: 60 }),
  };
}

/** The settings of the set, split as Patroni takes them: in its cluster-wide configuration, or each member's own. */
export interface PatroniSettings {
  /** Bootstrap `dcs` parameters: those Patroni keeps equal on every member (max_connections, WAL retention). */
  readonly cluster: { [name: string]: string };
  /** Each member's `postgresql.parameters`. */
  readonly local: { [name: string]: string };
}

/** Parameters Patroni only takes from its cluster-wide configuration. */
const CLUSTER_WIDE = new Set(['max_connections', 'max_locks_per_transaction', 'max_prepared_transactions', 'max_worker_processes',
  'max_wal_senders', 'max_replication_slots', 'track_commit_timestamp', 'wal_keep_size', 'max_slot_wal_keep_size']);

/** Splits `name=value` settings into cluster-wide and member parameters. */
export function patroniSettings(lines: string[]): PatroniSettings {
  const cluster: { [name: string]: string } = {};
  const local: { [name: string]: string } = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    const name = line.slice(0, at);
    (CLUSTER_WIDE.has(name) ? cluster : local)[name] = line.slice(at + 1);
  }
  return { cluster, local };
}

/** The binding with Patroni: its environment, volumes, files, role label and API access. */
export function patroniBinding(ctx: EngineContext, options: PatroniOptions, settings: PatroniSettings, pgdata: string, runPath: string): EngineBinding {
  const durability = options.durability ?? PostgresDurability.SYNCHRONOUS;
  if (durability !== PostgresDurability.SYNCHRONOUS && durability !== PostgresDurability.ASYNCHRONOUS) {
    engineFail(ctx, 'postgresql', `patroni durability must be synchronous or asynchronous, got ${JSON.stringify(durability)}. Fix: use PostgresDurability.SYNCHRONOUS.`);
  }
  const secrets = requireCredentials(ctx, 'postgresql', 'Patroni needs a superuser password and the replicas a replication password');
  const value = kplus.EnvValue.fromValue;
  return {
    env: {
      SCOPE: value(ctx.name),
      NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
      POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
      PGDATA: value(pgdata),
      RUN_DIR: value(runPath),
      // patronictl in the pod finds the configuration patroni-start.sh wrote
      PATRONICTL_CONFIG_FILE: value(`${runPath}/patroni.yml`),
      ROLE_LABEL: value(PATRONI_ROLE_LABEL.key),
      // the members Patroni lists: the set's pods (its scope label), and the ConfigMaps it labels so
      SCOPE_LABEL: value('app.kubernetes.io/instance'),
      SYNCHRONOUS: value(durability === PostgresDurability.SYNCHRONOUS ? 'true' : 'false'),
      // JSON, which YAML takes as it is
      CLUSTER_PARAMETERS: value(JSON.stringify(settings.cluster)),
      MEMBER_PARAMETERS: value(JSON.stringify(settings.local)),
      ...secrets.root,
      ...secrets.replication,
      ...secrets.username,
      ...secrets.password,
    },
    scratchVolumes: ['run'],
    memoryVolumes: ['shm'],
    mounts: [{ volume: 'run', path: runPath }, { volume: 'shm', path: '/dev/shm' }],
    files: scriptFiles('patroni-start.sh', 'patroni-bootstrap.sh'),
    roleLabel: PATRONI_ROLE_LABEL,
    apiAccess: { rules: PATRONI_RULES, apiServerCidrs: options.apiServerCidrs, apiServerPorts: options.apiServerPorts },
  };
}
