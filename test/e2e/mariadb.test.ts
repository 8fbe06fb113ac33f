// A single MariaDB server with its credentials from a Secret (the shape of examples/mariadb.ts,
// a custom engine on the mariadb image at the version the test image carries): the image's
// entrypoint creates the user from the *_FILE variables, and logging in with the Secret's
// password works (a wrong one is refused). Deleting the pod keeps the data.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseEngine, HealthProbe, StatefulDatabase } from '../../lib';
import {
  claimVolume, deletePods, imageTag, kubectl, minutes, password, run, serviceHost, setUpEngine, waitFor, waitForReady,
} from './helpers';

const NS = 'e2e-mariadb';
const NAME = 'mariadb';
const POD = `${NAME}-0`;
const APP_PASSWORD = password();

/** mariadb client in the pod against the client Service as USER with PASSWORD (given on stdin, never in argv). */
function login(user: string, pass: string, statement: string) {
  return run(process.env.KUBECTL ?? 'kubectl', ['-n', NS, 'exec', '-i', POD, '-c', 'main', '--', 'sh', '-c',
    `read -r pw; MYSQL_PWD="$pw" mariadb -h ${serviceHost(NS, NAME)} -u ${user} -N -B app -e "${statement}"`], { input: `${pass}\n` });
}

setUpEngine(NS, {
  name: NAME,
  replicas: 1,
  secret: { name: 'mariadb-credentials', data: { 'root-password': password(), 'username': 'app', 'password': APP_PASSWORD } },
  define: (chart) => {
    const dir = StatefulDatabase.CREDENTIALS_PATH;
    new StatefulDatabase(chart, 'mariadb', {
      name: NAME,
      engine: DatabaseEngine.custom({
        name: 'mariadb',
        image: `mariadb:${imageTag('mariadb')}`,
        ports: [{ name: 'mysql', port: 3306 }],
        dataPath: '/var/lib/mysql',
        runAsUser: 999,
        command: ['bash', '-c', `export MARIADB_ROOT_PASSWORD_FILE=${dir}/root-password MARIADB_USER_FILE=${dir}/username MARIADB_PASSWORD_FILE=${dir}/password; exec docker-entrypoint.sh mariadbd`],
        readinessProbe: HealthProbe.command(['healthcheck.sh', '--connect', '--innodb_initialized']),
        livenessProbe: HealthProbe.command(['healthcheck.sh', '--connect']),
      }),
      credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', 'mariadb-credentials') },
      env: { MARIADB_DATABASE: kplus.EnvValue.fromValue('app') },
      storage: { size: Size.gibibytes(1) },
      scratchVolumes: [{ name: 'run' }],
      mounts: [{ volume: 'run', path: '/run/mysqld' }],
    });
  },
  readyWithin: minutes(6),
});

test('the Secret\'s user logs in with the Secret\'s password; a wrong password is refused', async () => {
  const ok = await login('app', APP_PASSWORD, 'SELECT CURRENT_USER()');
  expect({ code: ok.code, out: ok.stdout.trim() }).toEqual({ code: 0, out: 'app@%' });
  const wrong = await login('app', `${APP_PASSWORD}x`, 'SELECT 1');
  expect(wrong.code).not.toBe(0);
  expect(wrong.stderr).toMatch(/Access denied/);
});

test('the password is in no manifest: the pod spec only names the Secret', async () => {
  const pod = await kubectl(['-n', NS, 'get', 'pod', POD, '-o', 'json']);
  expect(pod).not.toContain(APP_PASSWORD);
});

test('delete the pod: it comes back on the same claim and the data is still there', async () => {
  expect((await login('app', APP_PASSWORD, 'CREATE TABLE t (v TEXT); INSERT INTO t VALUES (\'kept\')')).code).toBe(0);
  const volume = await claimVolume(NS, `data-${POD}`);
  await deletePods(NS, [POD]);
  await waitForReady(NS, NAME, 1);
  expect(await claimVolume(NS, `data-${POD}`)).toBe(volume);
  // the Service's endpoints follow the new pod's address a moment after it is Ready: retry while
  // the client cannot connect (any other error is the answer)
  let read = await login('app', APP_PASSWORD, 'SELECT v FROM t');
  await waitFor(NS, 'the client Service to reach the new pod', minutes(1),
    async () => !/Can't connect|Lost connection/.test((read = await login('app', APP_PASSWORD, 'SELECT v FROM t')).stderr));
  expect({ code: read.code, out: read.stdout.trim(), error: read.stderr.trim() }).toEqual({ code: 0, out: 'kept', error: '' });
}, minutes(6));

test('fsGroup applies to the local volume as on any cluster: the data directory belongs to group 999', async () => {
  // the provisioner creates the volume's directory as root:root 0755; the kubelet gives it to the fsGroup
  const out = await kubectl(['-n', NS, 'exec', POD, '-c', 'main', '--', 'stat', '-c', '%g %A', '/var/lib/mysql']);
  expect(out.trim()).toMatch(/^999 drwxrws/);
});
