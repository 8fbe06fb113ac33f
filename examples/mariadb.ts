// Scenario 4: a MariaDB server whose passwords come from a Secret, never from YAML.
//
//   kubectl -n mariadb create secret generic mariadb-credentials \
//     --from-literal=root-password="$(openssl rand -base64 24)" \
//     --from-literal=username=app --from-literal=password="$(openssl rand -base64 24)"
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ChangeGuard, DatabaseEngine, HealthProbe, StatefulDatabase } from '../lib';
import { restrictedNamespace } from './namespace';

export class MariaDb extends Chart {
  constructor(scope: Construct, id = 'mariadb') {
    super(scope, id, { namespace: 'mariadb', disableResourceNameHashes: true });
    restrictedNamespace(this);

    // mounted read-only at /run/secrets/db/<key>; the image reads each *_FILE at start. The
    // command exports them: a pod spec variable named *PASSWORD* is flagged by static checkers
    // (Polaris' sensitiveContainerEnvVar) even when it only holds a path
    const secret = kplus.Secret.fromSecretName(this, 'Credentials', 'mariadb-credentials');
    const dir = StatefulDatabase.CREDENTIALS_PATH;

    new StatefulDatabase(this, 'mariadb', {
      engine: DatabaseEngine.custom({
        name: 'mariadb',
        image: 'mariadb:11.4.4',
        ports: [{ name: 'mysql', port: 3306 }],
        dataPath: '/var/lib/mysql',
        runAsUser: 999,
        command: ['bash', '-c', `export MARIADB_ROOT_PASSWORD_FILE=${dir}/root-password MARIADB_USER_FILE=${dir}/username MARIADB_PASSWORD_FILE=${dir}/password; exec docker-entrypoint.sh mariadbd`],
        readinessProbe: HealthProbe.command(['healthcheck.sh', '--connect', '--innodb_initialized']),
        livenessProbe: HealthProbe.command(['healthcheck.sh', '--connect']),
      }),
      credentials: { secret },
      env: {
        MARIADB_DATABASE: kplus.EnvValue.fromValue('app'),
      },
      storage: { size: Size.gibibytes(20) },
      // the server's socket and pid file: the root filesystem stays read-only
      scratchVolumes: [{ name: 'run' }],
      mounts: [{ volume: 'run', path: '/run/mysqld' }],
    });
  }
}

if (require.main === module) {
  const app = new App();
  ChangeGuard.attach(app); // compares with what is deployed before synth overwrites it (docs/plan.md)
  new MariaDb(app);
  app.synth();
}
