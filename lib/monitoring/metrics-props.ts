import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/** Who scrapes the metrics port: the only peer the metrics NetworkPolicy lets in, on that port only. */
export interface MetricsScraper {
  /**
   * Labels of the scraper pods' namespace.
   * @default { 'kubernetes.io/metadata.name': 'monitoring' }
   */
  readonly namespaceLabels?: { [key: string]: string };
  /**
   * Labels of the scraper pods.
   * @default { 'app.kubernetes.io/name': 'prometheus' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * An address range instead of pods, e.g. a Prometheus outside the cluster or on the host network.
   * @default - the scraper pods by label
   */
  readonly cidr?: string;
}

/** The thresholds of the alerts in the PrometheusRule (docs/engines.md, Metrics, lists them). */
export interface MetricsAlertThresholds {
  /**
   * How long a member may be down or not ready before the alert fires.
   * @default Duration.minutes(5)
   */
  readonly memberDownFor?: Duration;
  /**
   * The replication lag above which a replica is lagging (PostgreSQL, MySQL, Redis).
   * @default Duration.seconds(30)
   */
  readonly replicationLag?: Duration;
  /**
   * How long replication may be broken or lagging before the alert fires.
   * @default Duration.minutes(5)
   */
  readonly replicationFor?: Duration;
  /**
   * How far back a role change (a failover, a leader election) raises the failover alert.
   * @default Duration.minutes(15)
   */
  readonly failoverWindow?: Duration;
  /**
   * Percent of a volume used above which the volume alert fires, 1 to 99.
   * @default 80
   */
  readonly volumeUsedPercent?: number;
  /**
   * The volume alert also fires when the trend of the last 6 hours fills a volume within this time.
   * @default Duration.hours(4)
   */
  readonly volumeFullWithin?: Duration;
  /**
   * The age of the last successful full backup above which the backup alert fires (PostgreSQL
   * with `backup`; before the first success, the time since backups began).
   * @default - twice the longest time between two runs of `backup.schedule`
   */
  readonly backupAge?: Duration;
  /**
   * How long the primary may go without archiving a WAL segment before the archiving alerts fire:
   * `PostgresWalArchivingFailing` when its archive command failed within that time,
   * `PostgresWalArchivingStalled` (5 minutes later) when rows are written but no attempt failed
   * (PostgreSQL with `backup`). A threshold close to the time between the archiver's retries of
   * a failed segment may let the failing alert come and go while the store is down. For MySQL and
   * MariaDB Galera with `backup.binlogArchiveInterval`: how far behind the binary log archive may
   * fall before `DatabaseBinlogArchiveLate` fires.
   * @default - three times `backup.archiveTimeout` (`backup.binlogArchiveInterval`), at least 10 minutes
   */
  readonly walArchiveAge?: Duration;
}

/** A backup CronJob whose last success the backup alert watches (through kube-state-metrics). */
export interface MetricsBackupJob {
  /** The CronJob's name, in the database's namespace. */
  readonly cronJobName: string;
  /** How often it runs: the alert fires when its last success is older than twice this. */
  readonly interval: Duration;
}

/**
 * Metrics of a {@link StatefulDatabase}: an exporter sidecar (ZooKeeper: its built-in Prometheus
 * provider), the scrape target, alerts and a dashboard.
 */
export interface DatabaseMetricsOptions {
  /**
   * The exporter image (a pinned tag or digest). Not for ZooKeeper, which serves its own metrics.
   * @default - the upstream exporter for the engine: quay.io/prometheuscommunity/postgres-exporter,
   *   prom/mysqld-exporter (MySQL and MariaDB Galera), oliver006/redis_exporter
   */
  readonly exporterImage?: string;
  /**
   * Requests and limits of the exporter container, field by field over the defaults.
   * @default - cpu 10m/200m, memory 32Mi/128Mi, ephemeral storage 8Mi/64Mi
   */
  readonly exporterResources?: kplus.ContainerResources;
  /**
   * Key of the monitoring account's name in the database's credentials Secret (PostgreSQL, MySQL,
   * MariaDB). The account is yours to create, with the least privileges (docs/engines.md).
   * @default 'monitoring-username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the monitoring account's password in the credentials Secret (PostgreSQL, MySQL, MariaDB).
   * @default 'monitoring-password'
   */
  readonly passwordKey?: string;
  /**
   * Who may scrape the metrics port, through a NetworkPolicy of its own (`<name>-metrics`), when
   * the database has its NetworkPolicy.
   * @default - pods `app.kubernetes.io/name: prometheus` in namespace `monitoring`
   */
  readonly scraper?: MetricsScraper;
  /**
   * Emit the Prometheus Operator's PodMonitor and PrometheusRule. Both need the operator's CRDs in
   * the cluster: without them `kubectl apply` fails on these two objects.
   * @default false
   */
  readonly prometheusOperator?: boolean;
  /**
   * Labels on the PodMonitor and the PrometheusRule, those your Prometheus selects on
   * (`podMonitorSelector`, `ruleSelector`), e.g. `{ release: 'kube-prometheus-stack' }`.
   * @default - none
   */
  readonly prometheusLabels?: { [key: string]: string };
  /**
   * The `prometheus.io/scrape`, `/port` and `/path` annotations on the pods, for a Prometheus that
   * discovers pods by annotation.
   * @default - true without `prometheusOperator`, false with it (one scrape per target)
   */
  readonly scrapeAnnotations?: boolean;
  /** Thresholds of the alerts. @default - each threshold's default */
  readonly alertThresholds?: MetricsAlertThresholds;
  /**
   * A backup CronJob to alert on when its last success is older than twice its interval.
   * @default - no backup alert
   */
  readonly backup?: MetricsBackupJob;
  /**
   * Emit the engine's Grafana dashboard in a ConfigMap `<name>-dashboard`.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Labels of the dashboard ConfigMap, those the Grafana sidecar watches.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: { [key: string]: string };
}
