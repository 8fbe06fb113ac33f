// MariaDB 10.11 with Galera 4 (Debian's packages) on 127.0.0.1-3: each member in a mount namespace
// of its own, where its directories sit at the pod's paths (/var/lib/mysql, /etc/mysql/conf.d,
// /run/mysqld), running the preset's install and bootstrap scripts, then
// galera-start.sh as the database container does (the image's entrypoint stood in for by
// galera-entrypoint.sh). A new cluster forms; after every member is killed at once the
// cluster comes back by itself with every committed row, led by the most advanced member; a member
// whose volume is lost rejoins as a copy.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc, requireBinary, SCRIPTS, scratch, secrets, until } from './util';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const ROOT_PW = "r00t 'pw'";
let root = '';
const members: (Proc | undefined)[] = [];

afterAll(() => {
  Proc.killAll();
  if (root && !process.env.KEEP_SERVER_DIRS) fs.rmSync(root, { recursive: true, force: true });
});

describe('mariadb galera on loopback', () => {
  requireBinary('mariadbd', ['/usr/sbin']);
  requireBinary('socat');
  requireBinary('unshare');
  const uid = Number(spawnSync('id', ['-u', 'mysql'], { encoding: 'utf-8' }).stdout.trim());
  root = scratch('galera');
  fs.chmodSync(root, 0o755);
  const keysDir = secrets(root, { 'root-password': ROOT_PW }, uid);
  const dir = (i: number, what: string) => path.join(root, `m${i}`, what);
  const mounts: [string, string][] = [['data', '/var/lib/mysql'], ['conf', '/etc/mysql/conf.d'], ['run', '/run/mysqld'], ['empty', '/etc/mysql/mariadb.conf.d']];
  const prepare = (i: number) => {
    for (const what of [...mounts.map(([w]) => w), 'work', 'initdb']) {
      fs.mkdirSync(dir(i, what), { recursive: true });
      fs.chownSync(dir(i, what), uid, uid);
    }
    fs.copyFileSync(path.join(SCRIPTS, 'galera-initdb.sh'), path.join(dir(i, 'initdb'), '90-cdk8s-initialized.sh'));
  };
  const env = (i: number) => ({
    PATH: `${path.join(__dirname)}:${process.env.PATH}`, TMPDIR: '/tmp', POD_INDEX: String(i), START_ORDINAL: '0', PEERS: HOSTS.join(' '),
    DATA_DIR: '/var/lib/mysql/data', RUN_DIR: '/run/mysqld', KEYS_DIR: keysDir, ROOT_KEY: 'root-password', STATE_BIND: HOSTS[i],
    MARIADB_MYSQL_LOCALHOST_USER: '1', MARIADB_MYSQL_LOCALHOST_GRANTS: 'RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR',
    ENTRYPOINT: 'galera-entrypoint.sh', CLUSTER_NAME: 'db', CONFIG_DIR: '/etc/mysql/conf.d', WORK_DIR: dir(i, 'work'), INITDB_DIR: dir(i, 'initdb'), GCACHE_SIZE: '64M',
    SCRIPTS_DIR_SRC: SCRIPTS, POLL_SECONDS: '1',
  });
  // a shell in the member's mount namespace, as the mysql user
  const inPod = (i: number, command: string) => {
    const binds = mounts.map(([what, at]) => `mount --bind '${dir(i, what)}' '${at}'`).join(' && ');
    const e = Object.entries(env(i)).map(([k, v]) => `${k}='${v}'`).join(' ');
    return ['unshare', '-m', '--propagation', 'private', 'bash', '-c', `${binds} && exec runuser -u mysql -- env ${e} bash -c '${command.replace(/'/g, "'\\''")}'`];
  };
  const initContainers = (i: number) => {
    for (const script of ['galera-install.sh', 'galera-bootstrap.sh']) {
      const [cmd, ...args] = inPod(i, `SCRIPTS_DIR="$SCRIPTS_DIR_SRC" bash "$SCRIPTS_DIR_SRC/${script}"`);
      const res = spawnSync(cmd, args, { encoding: 'utf-8' });
      expect({ script, status: res.status, stderr: res.status === 0 ? '' : res.stderr }).toEqual({ script, status: 0, stderr: '' });
    }
    // members share the loopback interface: each binds its own address
    fs.writeFileSync(path.join(dir(i, 'conf'), 'zz-loopback.cnf'), ['[mariadb]', `bind-address=${HOSTS[i]}`, `wsrep_node_address=${HOSTS[i]}`,
      `wsrep_sst_receive_address=${HOSTS[i]}:4444`, `socket=/run/mysqld/mysqld.sock`,
      `wsrep_provider_options="pc.recovery=FALSE;gcache.size=64M;gmcast.listen_addr=tcp://${HOSTS[i]}:4567;ist.recv_addr=${HOSTS[i]}:4568"`, ''].join('\n'));
  };
  // the kubelet's restartPolicy Always: the container starts again when it exits (after a failed
  // state transfer, say); a kill stops the whole pod, every process of it
  const start = (i: number) => {
    const [cmd, ...args] = inPod(i, `exec bash ${dir(i, 'work')}/galera-start.sh`);
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    members[i] = new Proc('bash', ['-c', `while :; do ${quoted}; echo "--- container exited: $?"; sleep 2; done`]);
  };
  const killPod = async (i: number) => {
    const pid = members[i]!.child.pid!;
    members[i]!.kill();
    await members[i]!.exited();
    // what the pod's processes left (the pod's network and mounts go with it in Kubernetes)
    spawnSync('bash', ['-c', `pkill -9 -s ${pid} || true`]);
  };
  const sql = (i: number, query: string) => {
    const [cmd, ...args] = inPod(i, `mariadb --protocol=socket -umysql -N -B -e "${query.replace(/"/g, '\\"')}"`);
    const res = spawnSync(cmd, args, { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  const rootSql = (i: number, query: string) => {
    const res = spawnSync('mariadb', ['-h', HOSTS[i], '-uroot', `-p${ROOT_PW}`, '-N', '-B', '-e', query], { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  const ready = (i: number) => {
    const [cmd, ...args] = inPod(i, `bash ${dir(i, 'work')}/galera-probe.sh ready`);
    return spawnSync(cmd, args, { encoding: 'utf-8' }).status === 0;
  };
  /** Waits, and on failure shows the members' logs (the container logs). */
  const wait = async (what: string, check: () => true | undefined, seconds: number) => {
    try {
      await until(what, check, seconds);
    } catch (e) {
      members.forEach((m, i) => fs.writeFileSync(path.join(root, `member-${i}.log`), m?.log ?? ''));
      throw new Error(`${e}\n${members.map((m, i) => `--- member ${i}\n${(m?.log ?? '').split('\n').slice(-25).join('\n')}`).join('\n')}`);
    }
  };
  const allReady = (n = 3) => (HOSTS.slice(0, n).every((_, i) => ready(i)) ? true : undefined);

  test('a new cluster: the members start together, the lowest ordinal bootstraps, the others join by mariabackup SST', async () => {
    for (const i of [0, 1, 2]) { prepare(i); initContainers(i); }
    for (const i of [0, 1, 2]) start(i);
    await wait('3 members Synced', () => allReady(), 240);
    expect(sql(0, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'")).toBe('wsrep_cluster_size\t3');
    expect(members[0]!.log).toMatch(/most advanced .*bootstrapping the cluster/);
    expect(members[1]!.log).toMatch(/is Synced: joining the cluster/);
    rootSql(0, 'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40))');
    for (let k = 1; k <= 100; k++) rootSql(k % 3, `INSERT INTO shop.orders VALUES (${k}, 'item ${k}')`);
    expect(rootSql(2, 'SELECT COUNT(*) FROM shop.orders')).toBe('100');
  });

  test('every member killed at once: the cluster comes back by itself with every committed row, the most advanced member leading', async () => {
    // member 2 goes first; 0 and 1 commit more without it, so they are ahead of it
    await killPod(2);
    for (let k = 101; k <= 150; k++) rootSql(k % 2, `INSERT INTO shop.orders VALUES (${k}, 'item ${k}')`);
    await Promise.all([killPod(0), killPod(1)]);
    for (const i of [0, 1, 2]) start(i);
    await wait('3 members Synced again', () => allReady(), 300);
    for (const i of [0, 1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe('150');
    const leader = [0, 1, 2].find((i) => /bootstrapping the cluster/.test(members[i]!.log));
    expect([0, 1]).toContain(leader);
    expect(members[2]!.log).toMatch(/waiting for ordinal [01] .*the most advanced member|is Synced: joining/);
  });

  test('the first member loses its volume: it joins the others and receives their data, never the other way round', async () => {
    await killPod(0);
    fs.rmSync(dir(0, 'data'), { recursive: true, force: true });
    prepare(0);
    rootSql(1, "INSERT INTO shop.orders VALUES (151, 'while 0 was away')");
    start(0);
    await wait('member 0 Synced', () => (ready(0) ? true : undefined), 240);
    expect(members[0]!.log).toMatch(/is Synced: joining the cluster/);
    for (const i of [0, 1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe('151');
    // SST logs reach the container log, not syslog
    expect(members[0]!.log).not.toMatch(/Logging all stderr of SST\/mariadb-backup to syslog/);
  });
});
