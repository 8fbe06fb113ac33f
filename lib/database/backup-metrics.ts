import * as kplus from 'cdk8s-plus-27';
import type { DatabasePort, EngineBackupMetrics } from './engine-definition';

/*
 * The Prometheus metrics of a backup sidecar that backs up with a script (Redis's): the script
 * records each attempt's outcome with backup-metrics.sh and serves the record on a port of the
 * sidecar's own. What a preset adds to its sidecar and its binding, the same for every engine.
 */

/** The port of the backup sidecar's metrics: its own, on no Service. */
export const BACKUP_METRICS_PORT: DatabasePort = { name: 'backup-metrics', port: 9188 };

/** The script the sidecar sources to record and serve its outcome. */
export const BACKUP_METRICS_SCRIPT = 'backup-metrics.sh';

/** The sidecar's environment: where the record is kept (on the data volume: it outlives the pod) and the port it is served on. */
export function backupMetricsEnv(dataPath: string): { [name: string]: kplus.EnvValue } {
  return {
    BACKUP_METRICS_DIR: kplus.EnvValue.fromValue(`${dataPath}/.cdk8s-backup-metrics`),
    BACKUP_METRICS_PORT: kplus.EnvValue.fromValue(String(BACKUP_METRICS_PORT.port)),
  };
}

/** The binding's `backupMetrics` of a sidecar that serves its own record, for backups every `scheduleGapSeconds` at most. */
export function sidecarBackupMetrics(scheduleGapSeconds: number): EngineBackupMetrics {
  return { scheduleGapSeconds, port: BACKUP_METRICS_PORT };
}
