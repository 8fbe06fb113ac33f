// Writes the alerting rules of one database per preset as Prometheus rule files
// (<dir>/<engine>.rules.yaml), for `promtool test rules` (tools/scripts/promtool-rules.sh): the rules
// the PrometheusRule of each holds, synthesized by the library, not copied.
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { stringify } from 'yaml';
import { DatabaseEngine, StatefulDatabase } from '../../lib';

/** The databases of the rule tests (the file is named after the first): namespace `ns`, 3 members each, default thresholds. */
export const RULE_DATABASES: Array<[string, string, () => DatabaseEngine]> = [
  ['postgresql', 'pg', () => DatabaseEngine.postgresql()],
  // backups every 6 hours: the backup alert after 12h, the archiving one after 10m (archiveTimeout 1m)
  ['postgresql-backup', 'pgb', () => DatabaseEngine.postgresql({
    backup: {
      image: 'registry.example.com/postgres-pgbackrest:18.4',
      repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/ns/pgb' },
      schedule: '0 */6 * * *',
    },
  })],
  ['mysql', 'my', () => DatabaseEngine.mysql()],
  ['mariadb-galera', 'gal', () => DatabaseEngine.mariadbGalera()],
  ['redis', 'rd', () => DatabaseEngine.redis()],
  // snapshots every 6 hours, served by the backup sidecar itself: the backup alert after 12h
  ['redis-backup', 'rdb', () => DatabaseEngine.redis({
    backup: {
      image: 'registry.example.com/redis-rclone:8.2.1',
      repository: { bucket: 'backups', endpoint: 's3.example.com', region: 'us-east-1', path: '/ns/rdb' },
      schedule: '0 */6 * * *',
    },
  })],
  ['zookeeper', 'zk', () => DatabaseEngine.zookeeper()],
];

/** The rule file of each database, by engine. */
export function ruleFiles(): { [engine: string]: string } {
  const files: { [engine: string]: string } = {};
  for (const [engine, name, make] of RULE_DATABASES) {
    const chart = new Chart(Testing.app(), name, { namespace: 'ns' });
    const secret = kplus.Secret.fromSecretName(chart, 'creds', `${name}-credentials`);
    new StatefulDatabase(chart, name, {
      engine: make(),
      replicas: 3,
      credentials: { secret },
      metrics: { prometheusOperator: true, backup: { cronJobName: `${name}-backup`, interval: Duration.hours(1) } },
    });
    const rule = Testing.synth(chart).find((m) => m.kind === 'PrometheusRule');
    files[engine] = stringify({ groups: rule.spec.groups });
  }
  return files;
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node out/test/rules/synth-rules.js <directory>');
  fs.mkdirSync(dir, { recursive: true });
  for (const [engine, text] of Object.entries(ruleFiles())) fs.writeFileSync(path.join(dir, `${engine}.rules.yaml`), text);
}
