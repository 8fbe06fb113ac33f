/*
 * Where each engine's metrics come from: an upstream exporter as a sidecar that reaches the
 * database on loopback, or (ZooKeeper) the server's own Prometheus provider. Plain values only;
 * database-metrics.ts renders them. Internal: not exported from the package.
 */

/** The engines that have metrics, by their `app.kubernetes.io/name`. */
export type MetricsEngine = 'postgresql' | 'mysql' | 'mariadb-galera' | 'redis' | 'zookeeper';

/** An environment variable of the exporter: a value, or a key of the credentials Secret. */
export interface ExporterEnv {
  readonly name: string;
  readonly value?: string;
  readonly secretKey?: string;
}

/** How an engine's members serve their metrics. */
export interface MetricsSource {
  /** The port Prometheus scrapes (named `metrics`). */
  readonly port: number;
  /** The sidecar, unless the server serves its metrics itself. */
  readonly exporter?: {
    readonly image: string;
    readonly args: string[];
    readonly env: ExporterEnv[];
    /** Whether it reads the credentials Secret's files (mounted read-only). */
    readonly mountsCredentials: boolean;
  };
  /** Server settings that turn the built-in metrics on (ZooKeeper's zoo.cfg lines). */
  readonly serverConfig?: string[];
}

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
  /** The Redis preset's only account: the key of its `requirepass` password. */
  readonly redisPasswordKey: string;
  readonly credentialsPath: string;
}

/** The metrics source of an engine preset. */
export function metricsSource(engine: MetricsEngine, account: ExporterAccount): MetricsSource {
  const image = account.image ?? EXPORTER_IMAGES[engine];
  switch (engine) {
    case 'postgresql':
      // postgres_exporter reads the account from files: the password never enters the environment
      return {
        port: 9187,
        exporter: {
          image,
          args: ['--web.listen-address=:9187'],
          env: [
            { name: 'DATA_SOURCE_URI', value: '127.0.0.1:5432/postgres?sslmode=disable' },
            { name: 'DATA_SOURCE_USER_FILE', value: `${account.credentialsPath}/${account.usernameKey}` },
            { name: 'DATA_SOURCE_PASS_FILE', value: `${account.credentialsPath}/${account.passwordKey}` },
          ],
          mountsCredentials: true,
        },
      };
    case 'mysql':
    case 'mariadb-galera':
      // mysqld_exporter takes the password only from its environment (or a my.cnf)
      return {
        port: 9104,
        exporter: {
          image,
          args: ['--web.listen-address=:9104', '--mysqld.address=127.0.0.1:3306', '--mysqld.username=$(MONITORING_USERNAME)'],
          env: [
            { name: 'MONITORING_USERNAME', secretKey: account.usernameKey },
            { name: 'MYSQLD_EXPORTER_PASSWORD', secretKey: account.passwordKey },
          ],
          mountsCredentials: false,
        },
      };
    case 'redis':
      return {
        port: 9121,
        exporter: {
          image,
          args: [],
          env: [
            { name: 'REDIS_ADDR', value: 'redis://127.0.0.1:6379' },
            { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: ':9121' },
            { name: 'REDIS_PASSWORD', secretKey: account.redisPasswordKey },
          ],
          mountsCredentials: false,
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
