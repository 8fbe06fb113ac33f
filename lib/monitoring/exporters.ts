import { SCRIPTS_PATH } from '../database/engines/private/engine-scripts';

/*
 * Where each engine's metrics come from: an upstream exporter as a sidecar that reaches the
 * database on loopback, or (ZooKeeper) the server's own Prometheus provider. Plain values only;
 * database-metrics.ts renders them. Internal: not exported from the package.
 */

/** The engines that have metrics, by their `app.kubernetes.io/name`. */
export type MetricsEngine = 'postgresql' | 'mysql' | 'mariadb-galera' | 'redis' | 'zookeeper';

/** An environment variable of the exporter (never a secret: those are read from the Secret's files). */
export interface ExporterEnv {
  readonly name: string;
  readonly value: string;
}

/** How an engine's members serve their metrics. */
export interface MetricsSource {
  /** The port Prometheus scrapes (named `metrics`). */
  readonly port: number;
  /** The sidecar, unless the server serves its metrics itself. */
  readonly exporter?: {
    readonly image: string;
    /** A shell that reads the account from the Secret's files, then starts the exporter. */
    readonly command?: string[];
    readonly args: string[];
    readonly env: ExporterEnv[];
  };
  /** Server settings that turn the built-in metrics on (ZooKeeper's zoo.cfg lines). */
  readonly serverConfig?: string[];
  /** Files the exporter reads, added to the scripts ConfigMap and mounted in its container. */
  readonly files?: { readonly [name: string]: string };
  /**
   * Files added to the engine's scripts ConfigMap (never a secret value): Redis's
   * `monitoring-user.keys` names the Secret keys of the exporter's ACL user, which the preset's
   * scripts create at every start.
   */
  readonly scriptFiles?: { readonly [name: string]: string };
}

/** Where the exporter finds the files of `MetricsSource.files`: the scripts ConfigMap's mount, as in the engine's containers. */
export const EXPORTER_FILES_PATH = SCRIPTS_PATH;

/** The file of postgres_exporter's backup query. */
const PG_BACKUP_QUERIES = 'postgres-exporter-queries.yaml';

/*
 * The state of pgBackRest's full backups, for postgres_exporter: the backup sidecar records each
 * outcome in the table cdk8s_stateful.backup_status (postgres-backup.sh), which the monitoring
 * account reads through pg_monitor, so the exporter needs no other privilege, file or image. The
 * query gives, per repository, the series pgbackrest_backup_since_timestamp_seconds (when the
 * sidecar began backing up there), _last_success_timestamp_seconds (the end of the last successful
 * full backup; NaN before the first), _last_duration_seconds, _last_size_bytes (in the repository,
 * compressed), _last_failure_timestamp_seconds and _failures (failed attempts since the last
 * success). WAL archiving needs no query: the exporter's built-in pg_stat_archiver series
 * (_archived_count, _failed_count, _last_archive_age) cover it. The custom query file is
 * postgres_exporter's `--extend.query-path` (marked deprecated, still read by 0.17).
 */
const PG_BACKUP_QUERY_TEXT = [
  'pgbackrest_backup:',
  '  query: >-',
  '    SELECT repository, extract(epoch FROM since) AS since_timestamp_seconds,',
  '    extract(epoch FROM last_success) AS last_success_timestamp_seconds, last_duration_seconds, last_size_bytes,',
  '    extract(epoch FROM last_failure) AS last_failure_timestamp_seconds, failures',
  '    FROM cdk8s_stateful.backup_status',
  '  metrics:',
  ...([
    ['repository', 'LABEL', 'The repository: endpoint, bucket and path'],
    ['since_timestamp_seconds', 'GAUGE', 'When the backup sidecar began backing up to the repository'],
    ['last_success_timestamp_seconds', 'GAUGE', 'End of the last successful full backup'],
    ['last_duration_seconds', 'GAUGE', 'Duration of the last successful full backup'],
    ['last_size_bytes', 'GAUGE', 'Size in the repository of the last successful full backup'],
    ['last_failure_timestamp_seconds', 'GAUGE', 'Time of the last failed backup'],
    ['failures', 'GAUGE', 'Failed backups since the last successful one'],
  ].map(([column, usage, description]) => `    - ${column}: {usage: ${usage}, description: "${description}"}`)),
  '',
].join('\n');

/** The upstream exporter images the presets use (pinned; override with `exporterImage`). */
export const EXPORTER_IMAGES: { readonly [engine: string]: string } = {
  postgresql: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1',
  mysql: 'prom/mysqld-exporter:v0.17.2',
  'mariadb-galera': 'prom/mysqld-exporter:v0.17.2',
  redis: 'oliver006/redis_exporter:v1.74.0',
};

/** The port ZooKeeper's built-in provider listens on. */
export const ZOOKEEPER_METRICS_PORT = 7000;

/** What the exporter needs: the monitoring account's keys and where the Secret is mounted. */
export interface ExporterAccount {
  readonly image?: string;
  readonly usernameKey: string;
  readonly passwordKey: string;
  readonly credentialsPath: string;
  /** PostgreSQL: the engine's backups' state is in the database, for the exporter to report. */
  readonly backupState?: boolean;
}

/** The metrics source of an engine preset. */
export function metricsSource(engine: MetricsEngine, account: ExporterAccount): MetricsSource {
  const image = account.image ?? EXPORTER_IMAGES[engine];
  const file = (key: string) => `"$(cat ${account.credentialsPath}/${key})"`;
  switch (engine) {
    case 'postgresql':
      // postgres_exporter reads the account from files: the password never enters the environment
      return {
        port: 9187,
        files: account.backupState ? { [PG_BACKUP_QUERIES]: PG_BACKUP_QUERY_TEXT } : undefined,
        exporter: {
          image,
          args: ['--web.listen-address=:9187', ...(account.backupState ? [`--extend.query-path=${EXPORTER_FILES_PATH}/${PG_BACKUP_QUERIES}`] : [])],
          env: [
            { name: 'DATA_SOURCE_URI', value: '127.0.0.1:5432/postgres?sslmode=disable' },
            { name: 'DATA_SOURCE_USER_FILE', value: `${account.credentialsPath}/${account.usernameKey}` },
            { name: 'DATA_SOURCE_PASS_FILE', value: `${account.credentialsPath}/${account.passwordKey}` },
          ],
        },
      };
    case 'mysql':
    case 'mariadb-galera':
      // mysqld_exporter takes the password only from its environment (or a my.cnf): a shell of
      // the image puts it there from the Secret's file, so the pod spec names no secret value
      return {
        port: 9104,
        exporter: {
          image,
          command: ['/bin/sh', '-c', `MYSQLD_EXPORTER_PASSWORD=${file(account.passwordKey)} exec /bin/mysqld_exporter ` +
            `--mysqld.username=${file(account.usernameKey)} "$@"`, 'mysqld_exporter'],
          args: ['--web.listen-address=:9104', '--mysqld.address=127.0.0.1:3306'],
          env: [],
        },
      };
    case 'redis':
      // an ACL user of its own that the preset's scripts create from the same two keys (the
      // requirepass password is the admin's): the exporter reads the pair from the Secret's files
      return {
        port: 9121,
        scriptFiles: { 'monitoring-user.keys': `${account.usernameKey}\n${account.passwordKey}\n` },
        exporter: {
          image,
          command: ['/bin/sh', '-c', `REDIS_USER=${file(account.usernameKey)} REDIS_PASSWORD=${file(account.passwordKey)} exec /redis_exporter "$@"`, 'redis_exporter'],
          args: [],
          env: [
            { name: 'REDIS_ADDR', value: 'redis://127.0.0.1:6379' },
            { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: ':9121' },
          ],
        },
      };
    case 'zookeeper':
      return {
        port: ZOOKEEPER_METRICS_PORT,
        serverConfig: [
          'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
          `metricsProvider.httpPort=${ZOOKEEPER_METRICS_PORT}`,
          'metricsProvider.exportJvmInfo=true',
        ],
      };
  }
}
