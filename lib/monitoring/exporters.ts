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
  const file = (key: string) => `"$(cat ${account.credentialsPath}/${key})"`;
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
      return {
        port: 9121,
        exporter: {
          image,
          command: ['/bin/sh', '-c', `REDIS_PASSWORD=${file(account.redisPasswordKey)} exec /redis_exporter "$@"`, 'redis_exporter'],
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
