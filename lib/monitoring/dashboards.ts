import type { MetricsEngine } from './exporters';

/*
 * A Grafana dashboard per engine: time-series panels over the members' series, one row of
 * health (up, ready, role), one of replication, one of load, one of the volumes. Written as the
 * dashboard JSON model the Grafana sidecar loads from a ConfigMap. Internal.
 */

interface Panel {
  readonly title: string;
  /** PromQL with `$sel` for the members' selector and `$claims` for the volume claims'. */
  readonly expr: string;
  readonly legend: string;
  readonly unit: string;
}

const COMMON_HEAD: Panel[] = [
  { title: 'Scrape up', expr: 'up$sel', legend: '{{pod}}', unit: 'none' },
];

const COMMON_TAIL: Panel[] = [
  { title: 'Volume used', expr: '100 * kubelet_volume_stats_used_bytes$claims / kubelet_volume_stats_capacity_bytes$claims', legend: '{{persistentvolumeclaim}}', unit: 'percent' },
  { title: 'CPU of the exporter (ZooKeeper: of the server)', expr: 'rate(process_cpu_seconds_total$sel[5m])', legend: '{{pod}}', unit: 'short' },
  { title: 'Memory of the exporter (ZooKeeper: of the server)', expr: 'process_resident_memory_bytes$sel', legend: '{{pod}}', unit: 'bytes' },
];

const ENGINE_PANELS: { readonly [engine in MetricsEngine]: Panel[] } = {
  'postgresql': [
    { title: 'Database up', expr: 'pg_up$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Standby (1) or primary (0)', expr: 'pg_replication_is_replica$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Replication lag', expr: 'pg_replication_lag_seconds$sel', legend: '{{pod}}', unit: 's' },
    { title: 'Replication slot active', expr: 'pg_replication_slot_slot_is_active$sel', legend: '{{pod}} {{slot_name}}', unit: 'none' },
    { title: 'Connections', expr: 'sum by (pod) (pg_stat_database_numbackends$sel)', legend: '{{pod}}', unit: 'short' },
    { title: 'Commits per second', expr: 'sum by (pod) (rate(pg_stat_database_xact_commit$sel[5m]))', legend: '{{pod}}', unit: 'ops' },
  ],
  'mysql': [
    { title: 'Database up', expr: 'mysql_up$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Read-only (replica)', expr: 'mysql_global_variables_read_only$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Replication lag', expr: 'mysql_slave_status_seconds_behind_source$sel or mysql_slave_status_seconds_behind_master$sel', legend: '{{pod}}', unit: 's' },
    { title: 'Connections', expr: 'mysql_global_status_threads_connected$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'Queries per second', expr: 'rate(mysql_global_status_queries$sel[5m])', legend: '{{pod}}', unit: 'ops' },
  ],
  'mariadb-galera': [
    { title: 'Database up', expr: 'mysql_up$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Cluster size seen', expr: 'mysql_global_status_wsrep_cluster_size$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'In Primary component', expr: 'mysql_global_status_wsrep_cluster_status$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Flow control paused', expr: 'rate(mysql_global_status_wsrep_flow_control_paused_ns$sel[5m]) / 1e9', legend: '{{pod}}', unit: 'percentunit' },
    { title: 'Receive queue', expr: 'mysql_global_status_wsrep_local_recv_queue$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'Queries per second', expr: 'rate(mysql_global_status_queries$sel[5m])', legend: '{{pod}}', unit: 'ops' },
  ],
  'redis': [
    { title: 'Database up', expr: 'redis_up$sel', legend: '{{pod}}', unit: 'none' },
    { title: 'Role', expr: 'redis_instance_info$sel', legend: '{{pod}} {{role}}', unit: 'none' },
    { title: 'Replicas connected to the primary', expr: 'redis_connected_slaves$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'Replication lag', expr: 'redis_connected_slave_lag_seconds$sel', legend: '{{pod}} {{slave_ip}}', unit: 's' },
    { title: 'Memory used', expr: 'redis_memory_used_bytes$sel', legend: '{{pod}}', unit: 'bytes' },
    { title: 'Commands per second', expr: 'rate(redis_commands_processed_total$sel[5m])', legend: '{{pod}}', unit: 'ops' },
  ],
  'zookeeper': [
    { title: 'Leaders', expr: 'count(leader_uptime$sel)', legend: 'leaders', unit: 'short' },
    { title: 'Quorum size', expr: 'quorum_size$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'Elections', expr: 'increase(election_time_count$sel[15m])', legend: '{{pod}}', unit: 'short' },
    { title: 'Outstanding requests', expr: 'outstanding_requests$sel', legend: '{{pod}}', unit: 'short' },
    { title: 'Average latency', expr: 'avg_latency$sel', legend: '{{pod}}', unit: 'ms' },
    { title: 'Znodes', expr: 'znode_count$sel', legend: '{{pod}}', unit: 'short' },
  ],
};

/** The last outcome of backups whose series are PREFIX_* (FAILURES: the gauge of failed attempts since the last success); WHAT names one. */
function lastBackupPanels(prefix: string, failures: string, what: string): Panel[] {
  return [
    { title: `Age of the last successful ${what}`, expr: `time() - max(${prefix}_last_success_timestamp_seconds$sel > 0)`, legend: 'age', unit: 's' },
    { title: `Last ${what}: duration`, expr: `max(${prefix}_last_duration_seconds$sel)`, legend: 'duration', unit: 's' },
    { title: `Last ${what}: size in the repository`, expr: `max(${prefix}_last_size_bytes$sel)`, legend: 'size', unit: 'bytes' },
    { title: 'Failed backups since the last success', expr: `max(${prefix}_${failures}$sel)`, legend: 'failures', unit: 'short' },
  ];
}

/** PostgreSQL with `backup`: the sidecar's table (the same on every member) and the primary's archiver. */
const BACKUP_PANELS: Panel[] = [
  ...lastBackupPanels('pgbackrest_backup', 'failures', 'full backup'),
  { title: 'WAL segments archived per minute', expr: '60 * rate(pg_stat_archiver_archived_count$sel[5m])', legend: '{{pod}}', unit: 'short' },
  { title: 'Failed WAL archive attempts per minute', expr: '60 * rate(pg_stat_archiver_failed_count$sel[5m])', legend: '{{pod}}', unit: 'short' },
  { title: 'Age of the last archived WAL segment', expr: 'pg_stat_archiver_last_archive_age$sel', legend: '{{pod}}', unit: 's' },
];

/** A backup sidecar that serves its outcome itself (backup-metrics.sh, any engine): the member that takes the scheduled backups. */
const SIDECAR_BACKUP_PANELS: Panel[] = [
  ...lastBackupPanels('cdk8s_backup', 'consecutive_failures', 'backup'),
  { title: 'Failed backup attempts per hour', expr: 'sum(3600 * rate(cdk8s_backup_failures_total$sel[1h]))', legend: 'failures', unit: 'short' },
];

/** The backup panels of a dashboard: PostgreSQL's exporter (`exporter`) or a sidecar's own series (`sidecar`). */
export type BackupPanels = 'exporter' | 'sidecar';

/** The dashboard of a database, as JSON text (stable: same database, same bytes); `backups` adds the engine's backup panels. */
export function dashboardJson(engine: MetricsEngine, namespace: string, name: string, claimTemplates: string[], backups?: BackupPanels): string {
  const sel = `{namespace="${namespace}",pod=~"${name}-[0-9]+"}`;
  const claims = `{namespace="${namespace}",persistentvolumeclaim=~"(${claimTemplates.join('|')})-${name}-[0-9]+"}`;
  const backupPanels = { exporter: BACKUP_PANELS, sidecar: SIDECAR_BACKUP_PANELS };
  const panels = [...COMMON_HEAD, ...ENGINE_PANELS[engine], ...(backups ? backupPanels[backups] : []), ...COMMON_TAIL];
  const dashboard = {
    title: `${namespace}/${name} (${engine})`,
    uid: `cdk8s-${namespace}-${name}`.slice(0, 40),
    tags: ['cdk8s-stateful', engine],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
    panels: panels.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: [{ refId: 'A', expr: p.expr.split('$sel').join(sel).split('$claims').join(claims), legendFormat: p.legend }],
    })),
  };
  return JSON.stringify(dashboard, undefined, 2) + '\n';
}
