import type { MetricsEngine } from './exporters';

/*
 * The alerting rules of a database, as the PrometheusRule's `spec.groups` (the same document a
 * rule file for `promtool` holds). Every alert has a runbook line in docs/engines.md, Metrics.
 * Internal: not exported from the package.
 */

/** What the rules need to know of the database, with the thresholds resolved to seconds. */
export interface AlertContext {
  readonly engine: MetricsEngine;
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  readonly claimTemplates: string[];
  readonly memberDownForSeconds: number;
  readonly replicationLagSeconds: number;
  readonly replicationForSeconds: number;
  readonly failoverWindowSeconds: number;
  readonly volumeUsedPercent: number;
  readonly volumeFullWithinSeconds: number;
  readonly backup?: { readonly cronJobName: string; readonly intervalSeconds: number };
  /**
   * The engine's own backups: the alerts' thresholds; `sidecar` when the backup sidecar serves
   * their outcome itself (the `cdk8s_backup_*` series), else the engine's exporter does
   * (PostgreSQL, with its WAL archiving).
   */
  readonly engineBackup?: { readonly lateAfterSeconds: number; readonly archiveStalledAfterSeconds?: number; readonly sidecar: boolean };
}

/** One alerting rule. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
}

/** A rule group. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertRule[];
}

/** A Prometheus duration: `4h`, `5m` or `30s`. */
export function promDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** The selector of the members' series, as the scrape labels them (`namespace`, `pod`). */
function members(ctx: AlertContext, extra = ''): string {
  return `{namespace="${ctx.namespace}",pod=~"${ctx.name}-[0-9]+"${extra}}`;
}

type Severity = 'critical' | 'warning';

function rule(ctx: AlertContext, alert: string, severity: Severity, expr: string, forSeconds: number, summary: string): AlertRule {
  return {
    alert,
    expr,
    for: forSeconds > 0 ? promDuration(forSeconds) : undefined,
    labels: { severity, namespace: ctx.namespace, database: ctx.name },
    annotations: {
      summary,
      runbook: `docs/engines.md#alerts-and-runbooks (${alert})`,
    },
  };
}

/** The exporter's own "the database answers" gauge, per engine. */
const DATABASE_UP: { readonly [engine in MetricsEngine]: string | undefined } = {
  'postgresql': 'pg_up',
  'mysql': 'mysql_up',
  'mariadb-galera': 'mysql_up',
  'redis': 'redis_up',
  'zookeeper': undefined,
};

/** Member down (its target or its database), and fewer Ready members than replicas. */
function memberRules(ctx: AlertContext): AlertRule[] {
  const up = DATABASE_UP[ctx.engine];
  const down = up ? `${up}${members(ctx)} == 0 or up${members(ctx)} == 0` : `up${members(ctx)} == 0`;
  const set = `{namespace="${ctx.namespace}",statefulset="${ctx.name}"}`;
  return [
    rule(ctx, 'DatabaseMemberDown', 'critical', down, ctx.memberDownForSeconds,
      `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} does not answer its metrics scrape or its database is down.`),
    rule(ctx, 'DatabaseMembersNotReady', 'warning',
      `kube_statefulset_status_replicas_ready${set} < kube_statefulset_replicas${set}`, ctx.memberDownForSeconds,
      `${ctx.namespace}/${ctx.name} has {{ $value }} Ready members, fewer than its replicas.`),
  ];
}

/** Replication broken and lagging, per single-writer engine. */
function replicationRules(ctx: AlertContext): AlertRule[] {
  const lag = ctx.replicationLagSeconds;
  const f = ctx.replicationForSeconds;
  const broken = (expr: string) => rule(ctx, 'DatabaseReplicationBroken', 'critical', expr, f,
    `Replication of ${ctx.namespace}/${ctx.name} is broken on {{ $labels.pod }}.`);
  const lagging = (expr: string) => rule(ctx, 'DatabaseReplicationLagging', 'warning', expr, f,
    `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} is {{ $value }}s behind its primary.`);
  const m = members(ctx);
  switch (ctx.engine) {
    case 'postgresql':
      return [broken(`pg_replication_slot_slot_is_active${m} == 0`), lagging(`pg_replication_lag_seconds${m} > ${lag}`)];
    case 'mysql':
      return [
        broken(`(mysql_slave_status_replica_io_running${m} or mysql_slave_status_slave_io_running${m}) == 0` +
          ` or (mysql_slave_status_replica_sql_running${m} or mysql_slave_status_slave_sql_running${m}) == 0`),
        lagging(`(mysql_slave_status_seconds_behind_source${m} or mysql_slave_status_seconds_behind_master${m}) > ${lag}`),
      ];
    case 'redis':
      return [
        broken(`redis_master_link_up${m} == 0 or (redis_connected_slaves${m} and on (namespace, pod) ` +
          `redis_instance_info${members(ctx, ',role="master"')}) < ${ctx.replicas - 1}`),
        lagging(`redis_connected_slave_lag_seconds${m} > ${lag}`),
      ];
    default:
      return [];
  }
}

/** Galera: the component is smaller than the set, or a member is outside the Primary component. */
function galeraRules(ctx: AlertContext): AlertRule[] {
  const m = members(ctx);
  return [
    rule(ctx, 'GaleraClusterSizeLow', 'warning', `mysql_global_status_wsrep_cluster_size${m} < ${ctx.replicas}`, ctx.replicationForSeconds,
      `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} sees a cluster of {{ $value }} members, fewer than ${ctx.replicas}.`),
    rule(ctx, 'GaleraNonPrimary', 'critical', `mysql_global_status_wsrep_cluster_status${m} == 0`, 60,
      `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} is outside the Primary component: it refuses queries.`),
  ];
}

/** ZooKeeper: not exactly one member serving as the leader. */
function zookeeperRules(ctx: AlertContext): AlertRule[] {
  return [
    rule(ctx, 'ZooKeeperLeaderCount', 'critical', `(count(leader_uptime${members(ctx)}) or vector(0)) != 1`, 60,
      `${ctx.namespace}/${ctx.name} has {{ $value }} leaders instead of exactly one.`),
  ];
}

/** A member changed role (a failover, a promotion) or an election happened within the window. */
function failoverRules(ctx: AlertContext): AlertRule[] {
  const w = promDuration(ctx.failoverWindowSeconds);
  const m = members(ctx);
  const exprs: { readonly [engine in MetricsEngine]: string | undefined } = {
    'postgresql': `changes(pg_replication_is_replica${m}[${w}]) > 0`,
    'mysql': `changes(mysql_global_variables_read_only${m}[${w}]) > 0`,
    'redis': `count by (namespace, pod) (group by (namespace, pod, role) (count_over_time(redis_instance_info${m}[${w}]))) > 1`,
    'zookeeper': `increase(election_time_count${m}[${w}]) > 0`,
    'mariadb-galera': undefined,
  };
  const expr = exprs[ctx.engine];
  return expr ? [rule(ctx, 'DatabaseFailover', 'warning', expr, 0,
    `A member of ${ctx.namespace}/${ctx.name} changed role within the last ${w}: check that the set is whole again.`)] : [];
}

/** Volumes of the set above the threshold, or filling up within the horizon. */
function volumeRules(ctx: AlertContext): AlertRule[] {
  const claims = `{namespace="${ctx.namespace}",persistentvolumeclaim=~"(${ctx.claimTemplates.join('|')})-${ctx.name}-[0-9]+"}`;
  return [
    rule(ctx, 'DatabaseVolumeFilling', 'warning',
      `100 * kubelet_volume_stats_used_bytes${claims} / kubelet_volume_stats_capacity_bytes${claims} > ${ctx.volumeUsedPercent}`, 300,
      `{{ $labels.persistentvolumeclaim }} of ${ctx.namespace}/${ctx.name} is {{ $value | humanize }}% full.`),
    rule(ctx, 'DatabaseVolumeFullSoon', 'critical',
      `predict_linear(kubelet_volume_stats_available_bytes${claims}[6h], ${ctx.volumeFullWithinSeconds}) < 0`, 900,
      `{{ $labels.persistentvolumeclaim }} of ${ctx.namespace}/${ctx.name} fills up within ${promDuration(ctx.volumeFullWithinSeconds)} at the rate of the last 6 hours.`),
  ];
}

/** The backup CronJob's last success is older than twice its interval. */
function backupRules(ctx: AlertContext): AlertRule[] {
  const b = ctx.backup;
  if (!b) return [];
  return [rule(ctx, 'DatabaseBackupTooOld', 'critical',
    `time() - kube_cronjob_status_last_successful_time{namespace="${ctx.namespace}",cronjob="${b.cronJobName}"} > ${2 * b.intervalSeconds}`, 0,
    `The last successful backup of ${ctx.namespace}/${ctx.name} (CronJob ${b.cronJobName}) is older than ${promDuration(2 * b.intervalSeconds)}.`)];
}

/**
 * PostgreSQL with `backup`: the series of the backup sidecar's table (exporters.ts, the same on
 * every member, since the table replicates) and the primary's pg_stat_archiver. Late: no
 * successful full backup (before the first, since backups began) for longer than the threshold.
 * Failed: the last attempt failed. Archiving failing: the archive command failed within the
 * archiving threshold and nothing was archived for longer than it. Archiving stalled:
 * the primary archived nothing for longer than that threshold while rows were written (with
 * writes, archive_timeout switches segments) and no attempt failed: the archiver hangs.
 */
function engineBackupRules(ctx: AlertContext): AlertRule[] {
  const b = ctx.engineBackup;
  if (!b || b.sidecar || b.archiveStalledAfterSeconds === undefined || ctx.engine !== 'postgresql') return [];
  const m = members(ctx);
  const late = promDuration(b.lateAfterSeconds);
  const stalled = promDuration(b.archiveStalledAfterSeconds);
  const written = ['inserted', 'updated', 'deleted'].map((w) => `rate(pg_stat_database_tup_${w}${m}[5m])`).join(' + ');
  // failures within the threshold and no archive for longer: they came after the last archive
  const failing = `increase(pg_stat_archiver_failed_count${m}[${stalled}]) > 0`;
  const unarchived = `pg_stat_archiver_last_archive_age${m} > ${b.archiveStalledAfterSeconds}`;
  return [
    rule(ctx, 'PostgresBackupLate', 'critical',
      `time() - max by (namespace) (pgbackrest_backup_last_success_timestamp_seconds${m} > 0 or pgbackrest_backup_since_timestamp_seconds${m}) > ${b.lateAfterSeconds}`, 0,
      `${ctx.namespace}/${ctx.name} has had no successful full backup for more than ${late}.`),
    rule(ctx, 'PostgresBackupFailed', 'warning', `max by (namespace) (pgbackrest_backup_failures${m}) > 0`, 0,
      `The last {{ $value }} full backup(s) of ${ctx.namespace}/${ctx.name} failed.`),
    rule(ctx, 'PostgresWalArchivingFailing', 'critical',
      `${failing} and on (namespace, pod) ${unarchived}`, 0,
      `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} fails to archive its WAL: point-in-time recovery stops at the last archived segment.`),
    rule(ctx, 'PostgresWalArchivingStalled', 'critical',
      `${unarchived} and on (namespace, pod) pg_replication_is_replica${m} == 0` +
      ` and on (namespace, pod) sum by (namespace, pod) (${written}) > 0 unless on (namespace, pod) ${failing}`, 300,
      `{{ $labels.pod }} of ${ctx.namespace}/${ctx.name} takes writes but archived no WAL for more than ${stalled}.`),
  ];
}

/**
 * A backup sidecar that serves its outcome itself (backup-metrics.sh, any engine): the series of
 * the member that takes the scheduled backups (the others serve none). Late: no successful backup
 * (before the first, since backups began) for longer than the threshold. Failed: the last attempt
 * failed, until one succeeds. With a binary log archive, late: nothing archived for longer than its
 * threshold (before the first, since backups began).
 */
function sidecarBackupRules(ctx: AlertContext): AlertRule[] {
  const b = ctx.engineBackup;
  if (!b?.sidecar) return [];
  const m = members(ctx);
  return [
    rule(ctx, 'DatabaseBackupLate', 'critical',
      `time() - max by (namespace) (cdk8s_backup_last_success_timestamp_seconds${m} > 0 or cdk8s_backup_since_timestamp_seconds${m}) > ${b.lateAfterSeconds}`, 0,
      `${ctx.namespace}/${ctx.name} has had no successful backup for more than ${promDuration(b.lateAfterSeconds)}.`),
    rule(ctx, 'DatabaseBackupFailed', 'warning', `max by (namespace) (cdk8s_backup_consecutive_failures${m}) > 0`, 0,
      `The last {{ $value }} backup attempt(s) of ${ctx.namespace}/${ctx.name} failed.`),
    // the binary log archive (MySQL, MariaDB): nothing archived for longer than the threshold
    ...(b.archiveStalledAfterSeconds === undefined ? [] : [rule(ctx, 'DatabaseBinlogArchiveLate', 'critical',
      `time() - max by (namespace) (cdk8s_binlog_archived_until_timestamp_seconds${m} > 0 or cdk8s_backup_since_timestamp_seconds${m}) > ${b.archiveStalledAfterSeconds}`, 0,
      `The binary log archive of ${ctx.namespace}/${ctx.name} is more than ${promDuration(b.archiveStalledAfterSeconds)} behind: a restore to a point in time cannot reach the last moments.`)]),
  ];
}

/** Every rule of the database, in one group named after it. */
export function alertGroups(ctx: AlertContext): RuleGroup[] {
  return [{
    name: `${ctx.namespace}.${ctx.name}`,
    rules: [
      ...memberRules(ctx),
      ...replicationRules(ctx),
      ...(ctx.engine === 'mariadb-galera' ? galeraRules(ctx) : []),
      ...(ctx.engine === 'zookeeper' ? zookeeperRules(ctx) : []),
      ...failoverRules(ctx),
      ...volumeRules(ctx),
      ...backupRules(ctx),
      ...engineBackupRules(ctx),
      ...sidecarBackupRules(ctx),
    ],
  }];
}
