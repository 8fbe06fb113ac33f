import { Duration } from 'cdk8s';
import type { EngineBackupMetrics } from '../database/engine-definition';
import { show } from '../errors';
import { PropValidator } from '../prop-validator';
import { DatabaseMetricsOptions, MetricsScraper } from './metrics-props';
import { AlertContext, promDuration } from './alerts';
import { EXPORTER_IMAGES, MetricsEngine } from './exporters';

/*
 * Every check of the `metrics` prop, in one place: what follows only renders what it returns.
 * Internal: not exported from the package.
 */

const ENGINES: MetricsEngine[] = ['postgresql', 'mysql', 'mariadb-galera', 'redis', 'zookeeper'];
const WEEK = 7 * 24 * 3600;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** The scraper as NetworkPolicy peer: by labels, or an address range. */
export interface ResolvedScraper {
  readonly namespaceLabels?: { [key: string]: string };
  readonly podLabels?: { [key: string]: string };
  readonly cidr?: string;
}

/** The `metrics` prop, checked and defaulted. */
export interface ResolvedMetrics {
  readonly engine: MetricsEngine;
  readonly exporterImage?: string;
  readonly usernameKey: string;
  readonly passwordKey: string;
  readonly scraper: ResolvedScraper;
  readonly prometheusOperator: boolean;
  readonly prometheusLabels: { [key: string]: string };
  readonly scrapeAnnotations: boolean;
  readonly dashboardLabels?: { [key: string]: string };
  readonly thresholds: Omit<AlertContext, 'engine' | 'namespace' | 'name' | 'replicas' | 'claimTemplates' | 'engineBackup'>;
}

/** The engine's metrics support, or a clear error for an engine without it. */
function metricsEngine(check: PropValidator, engineName: string): MetricsEngine {
  if (!(ENGINES as string[]).includes(engineName)) {
    check.fail(`metrics has no exporter for engine ${show(engineName)}: metrics come with the presets ` +
      `(${ENGINES.join(', ')}). Fix: leave metrics out and run your engine's exporter yourself, or use a preset.`);
  }
  return engineName as MetricsEngine;
}

function secretKey(check: PropValidator, what: string, value: string | undefined, dflt: string): string {
  if (value === undefined) return dflt;
  if (typeof value !== 'string' || !SECRET_KEY.test(value) || value.length > 253) {
    check.fail(`metrics.${what} must be a Secret key (letters, digits, '-', '_' or '.'), got ${show(value)}. Fix: e.g. '${dflt}'.`);
  }
  return value;
}

function scraper(check: PropValidator, given: MetricsScraper | undefined): ResolvedScraper {
  if (given === undefined) return { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' } };
  check.record('metrics.scraper', given);
  if (given.cidr !== undefined) {
    if (given.podLabels !== undefined || given.namespaceLabels !== undefined) {
      check.fail('metrics.scraper has both cidr and labels: the scraper is either an address range or pods. Fix: give cidr, or podLabels and namespaceLabels.');
    }
    return { cidr: check.ipv4Cidr('metrics.scraper.cidr', given.cidr, "'10.0.0.0/8'") };
  }
  return {
    namespaceLabels: given.namespaceLabels === undefined ? undefined : check.labels('metrics.scraper.namespaceLabels', given.namespaceLabels),
    podLabels: check.labels('metrics.scraper.podLabels', given.podLabels ?? {}),
  };
}

function seconds(check: PropValidator, what: string, value: Duration | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const s = check.seconds(`metrics.${what}`, value, max);
  if (s < min) check.fail(`metrics.${what} must be at least ${promDuration(min)}, got ${promDuration(s)}. Fix: e.g. Duration.seconds(${dflt}), the default.`);
  return s;
}

function thresholds(check: PropValidator, options: DatabaseMetricsOptions): ResolvedMetrics['thresholds'] {
  const t = options.alertThresholds === undefined ? {} : check.record('metrics.alertThresholds', options.alertThresholds);
  const percent = t.volumeUsedPercent === undefined ? 80
    : check.integer('metrics.alertThresholds.volumeUsedPercent', t.volumeUsedPercent, 1, 99, 'use a percentage from 1 to 99, e.g. 80');
  const backup = options.backup === undefined ? undefined : {
    cronJobName: check.dnsSubdomain('metrics.backup.cronJobName', check.record('metrics.backup', options.backup).cronJobName),
    intervalSeconds: seconds(check, 'backup.interval', options.backup.interval, 86400, 60, 31 * 86400),
  };
  return {
    memberDownForSeconds: seconds(check, 'alertThresholds.memberDownFor', t.memberDownFor, 300, 0, WEEK),
    replicationLagSeconds: seconds(check, 'alertThresholds.replicationLag', t.replicationLag, 30, 1, WEEK),
    replicationForSeconds: seconds(check, 'alertThresholds.replicationFor', t.replicationFor, 300, 0, WEEK),
    failoverWindowSeconds: seconds(check, 'alertThresholds.failoverWindow', t.failoverWindow, 900, 60, WEEK),
    volumeUsedPercent: percent,
    volumeFullWithinSeconds: seconds(check, 'alertThresholds.volumeFullWithin', t.volumeFullWithin, 4 * 3600, 600, 30 * 86400),
    backup,
  };
}

/** Checks and defaults the `metrics` prop of a database whose engine is `engineName`. */
export function resolveMetrics(check: PropValidator, engineName: string, options: DatabaseMetricsOptions): ResolvedMetrics {
  check.record('metrics', options);
  const engine = metricsEngine(check, engineName);
  if (options.exporterImage !== undefined && EXPORTER_IMAGES[engine] === undefined) {
    check.fail(`metrics.exporterImage is set, got ${show(options.exporterImage)}, but ${engine} serves its own metrics (no exporter sidecar). Fix: leave exporterImage out.`);
  }
  const prometheusOperator = options.prometheusOperator ?? false;
  return {
    engine,
    exporterImage: options.exporterImage === undefined ? undefined : check.pinnedImage('metrics.exporterImage', options.exporterImage),
    usernameKey: secretKey(check, 'usernameKey', options.usernameKey, 'monitoring-username'),
    passwordKey: secretKey(check, 'passwordKey', options.passwordKey, 'monitoring-password'),
    scraper: scraper(check, options.scraper),
    prometheusOperator,
    prometheusLabels: options.prometheusLabels === undefined ? {} : check.labels('metrics.prometheusLabels', options.prometheusLabels),
    scrapeAnnotations: options.scrapeAnnotations ?? !prometheusOperator,
    dashboardLabels: options.dashboard === false ? undefined
      : check.labels('metrics.dashboardLabels', options.dashboardLabels ?? { grafana_dashboard: '1' }),
    thresholds: thresholds(check, options),
  };
}

/**
 * The thresholds of the alerts on the engine's own backups (PostgreSQL's or Redis's `backup`),
 * from its schedule unless `alertThresholds` sets them; undefined without such backups.
 */
export function backupAlertThresholds(check: PropValidator, backup: EngineBackupMetrics | undefined,
  options: DatabaseMetricsOptions): AlertContext['engineBackup'] {
  const t = options.alertThresholds ?? {};
  if (!backup) {
    const set = (['backupAge', 'walArchiveAge'] as const).find((k) => t[k] !== undefined);
    if (set) {
      check.fail(`metrics.alertThresholds.${set} is set, but the engine takes no backups of its own. Fix: leave it out, or give the engine its backups (e.g. DatabaseEngine.postgresql({ backup })).`);
    }
    return undefined;
  }
  const archive = backup.archiveTimeoutSeconds;
  if (archive === undefined && t.walArchiveAge !== undefined) {
    check.fail(`metrics.alertThresholds.walArchiveAge is set, got ${promDuration(seconds(check, 'alertThresholds.walArchiveAge', t.walArchiveAge, 600, 60, WEEK))}, but the engine archives no WAL (only PostgreSQL with backup does, and MySQL and MariaDB Galera with backup.binlogArchiveInterval, their binary log). Fix: leave walArchiveAge out.`);
  }
  return {
    lateAfterSeconds: seconds(check, 'alertThresholds.backupAge', t.backupAge, 2 * backup.scheduleGapSeconds, 600, 10 * 366 * 86400),
    archiveStalledAfterSeconds: archive === undefined ? undefined
      : seconds(check, 'alertThresholds.walArchiveAge', t.walArchiveAge, Math.max(600, 3 * archive), 60, WEEK),
    sidecar: backup.port !== undefined,
  };
}
