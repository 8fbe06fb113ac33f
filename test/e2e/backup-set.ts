// What the e2e files of the sidecar backups (MariaDB Galera, MySQL) share: the set they back up,
// a backup taken now in a member's sidecar, and the rows they write.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, StatefulDatabase } from '../../lib';
import { kubectl, minutes, NODE_SIZED, synth } from './helpers';

/** The manifests of set NAME of REPLICAS members of ENGINE in NS, its credentials in the Secret `<NAME>-credentials`. */
export function backupSet(ns: string, name: string, engine: DatabaseEngine, replicas: number): string {
  return synth(ns, (chart) => new StatefulDatabase(chart, name, {
    name,
    engine,
    replicas,
    credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', `${name}-credentials`) },
    storage: { size: Size.gibibytes(1) },
    ...NODE_SIZED,
  }));
}

/** `<SCRIPT> now` in the sidecar `backup` of POD in NS: its log. */
export function backupNow(ns: string, pod: string, script: string): Promise<string> {
  return kubectl(['-n', ns, 'exec', pod, '-c', 'backup', '--', 'bash', '-c', `bash /opt/cdk8s-stateful/${script} now 2>&1`], { timeoutMs: minutes(4) });
}

/** The statement that writes rows FROM..TO of shop.orders (`item <id>`). */
export function insertOrders(from: number, to: number): string {
  const rows = Array.from({ length: to - from + 1 }, (_, k) => `(${from + k}, 'item ${from + k}')`).join(',');
  return `INSERT INTO shop.orders VALUES ${rows};`;
}
