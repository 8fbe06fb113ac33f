// MariaDB with Galera 4 (Debian's packages) on 127.0.0.1-3: each member in a mount namespace of its
// own, where its directories sit at the pod's paths (/var/lib/mysql, /etc/mysql/conf.d,
// /run/mysqld), running the preset's install, bootstrap and recover scripts, then galera-start.sh
// as the database container does (the image's entrypoint stood in for by galera-entrypoint.sh).
// The `decide` init container needs an API server: its decision is written here as the Lease would
// give it (galera-decide.sh runs against a real API server in test/cluster/galera-decide.test.ts).
// A new cluster forms; after every member's container crashed at once, and after two of three
// crashed together (a lone survivor), the members form one Primary component again by themselves,
// with every committed row; a member whose volume is lost rejoins as a copy.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Proc, requireBinary, SCRIPTS, scratch, secrets, until } from './util';

// members 3 and 4 are those a scale-up adds: they are not in PEERS (the synthesized members)
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const PEERS = HOSTS.slice(0, 3);
const ROOT_PW = "r00t 'pw'";
let root = '';
const members: (Proc | undefined)[] = [];

afterAll(() => {
  if (root && process.env.KEEP_SERVER_DIRS) members.forEach((m, i) => fs.writeFileSync(path.join(root, `member-${i}.final.log`), m?.log ?? ''));
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
    PATH: `${path.join(__dirname)}:${process.env.PATH}`, TMPDIR: '/tmp', POD_INDEX: String(i), START_ORDINAL: '0', PEERS: PEERS.join(' '),
    DATA_DIR: '/var/lib/mysql/data', RUN_DIR: '/run/mysqld', KEYS_DIR: keysDir, ROOT_KEY: 'root-password', STATE_BIND: HOSTS[i],
    MARIADB_MYSQL_LOCALHOST_USER: '1', MARIADB_MYSQL_LOCALHOST_GRANTS: 'RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR',
    ENTRYPOINT: 'galera-entrypoint.sh', CLUSTER_NAME: 'db', CONFIG_DIR: '/etc/mysql/conf.d', WORK_DIR: dir(i, 'work'), INITDB_DIR: dir(i, 'initdb'), GCACHE_SIZE: '64M',
    SCRIPTS_DIR_SRC: SCRIPTS, WATCH_SECONDS: '2', PRIMARY_GRACE: '6',
  });
  // a shell in the member's mount namespace, as the mysql user
  const inPod = (i: number, command: string) => {
    const binds = mounts.map(([what, at]) => `mount --bind '${dir(i, what)}' '${at}'`).join(' && ');
    const e = Object.entries(env(i)).map(([k, v]) => `${k}='${v}'`).join(' ');
    return ['unshare', '-m', '--propagation', 'private', 'bash', '-c', `${binds} && exec runuser -u mysql -- env ${e} bash -c '${command.replace(/'/g, "'\\''")}'`];
  };
  const initContainers = (i: number) => {
    for (const script of ['galera-install.sh', 'galera-bootstrap.sh', 'galera-recover.sh']) {
      const [cmd, ...args] = inPod(i, `SCRIPTS_DIR="$SCRIPTS_DIR_SRC" bash "$SCRIPTS_DIR_SRC/${script}"`);
      const res = spawnSync(cmd, args, { encoding: 'utf-8' });
      expect({ script, status: res.status, stderr: res.status === 0 ? '' : res.stderr }).toEqual({ script, status: 0, stderr: '' });
    }
    // members share the loopback interface: each binds its own addresses
    fs.writeFileSync(path.join(dir(i, 'conf'), 'zz-loopback.cnf'), ['[mariadb]', `bind-address=${HOSTS[i]}`, `wsrep_node_address=${HOSTS[i]}`,
      `wsrep_sst_receive_address=${HOSTS[i]}:4444`, `socket=/run/mysqld/mysqld.sock`,
      `wsrep_provider_options="pc.recovery=TRUE;pc.wait_prim=FALSE;gcache.size=64M;gmcast.listen_addr=tcp://${HOSTS[i]}:4567;ist.recv_addr=${HOSTS[i]}:4568"`,
      // the SST script's socat listens on every address of port 4444 unless told one: two joiners
      // on one host would take each other's port (a pod has its own)
      '[sst]', `sockopt="bind=${HOSTS[i]}"`, ''].join('\n'));
  };
  // the kubelet's restartPolicy Always: the container starts again when it exits (after a failed
  // state transfer, say); a kill stops the whole pod, every process of it
  const start = (i: number) => {
    const [cmd, ...args] = inPod(i, `exec bash ${dir(i, 'work')}/galera-start.sh`);
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    members[i] = new Proc('bash', ['-c', `while :; do ${quoted}; echo "--- container exited: $?"; sleep 2; done`]);
  };
  /** What `decide` wrote: `bootstrap` or `join`. */
  const decide = (i: number, decision: 'bootstrap' | 'join') => {
    fs.writeFileSync(dir(i, 'run') + '/galera-decision', `${decision}\n`);
    fs.chownSync(dir(i, 'run') + '/galera-decision', uid, uid);
  };
  const position = (i: number) => fs.readFileSync(dir(i, 'run') + '/galera-position', 'utf-8').trim().split(' ');
  /** SIGKILL to every process of the members' containers in one go; the kubelet (the loop) restarts them. */
  const crashContainers = (...which: number[]) => {
    const sids = which.map((i) => members[i]!.child.pid!);
    spawnSync('bash', ['-c', `{ ${sids.map((sid) => `pgrep -s ${sid} | grep -vx ${sid};`).join(' ')} } | xargs -r kill -9`], { encoding: 'utf-8' });
  };
  const status = (i: number, name: string) => sql(i, `SHOW GLOBAL STATUS LIKE '${name}'`).split('\t')[1];
  const killPod = async (i: number) => {
    const pid = members[i]!.child.pid!;
    members[i]!.kill();
    await members[i]!.exited();
    // what the pod's processes left (the pod's network and mounts go with it in Kubernetes)
    spawnSync('bash', ['-c', `pkill -9 -s ${pid} || true`]);
  };
  /**
   * The pods of MEMBERS deleted together, as a StatefulSet scaled down with Parallel pod management
   * deletes them: no restart, SIGTERM to each server in the same instant, then the pod is gone.
   */
  const terminatePods = async (...which: number[]) => {
    for (const i of which) process.kill(members[i]!.child.pid!, 'SIGKILL'); // the restart loop only
    const pids = which.map((i) => spawnSync('pgrep', ['-s', String(members[i]!.child.pid), '-x', 'mariadbd'], { encoding: 'utf-8' }).stdout.trim());
    expect(pids.map((p) => /^\d+$/.test(p))).toEqual(which.map(() => true));
    spawnSync('kill', ['-TERM', ...pids]);
    await wait('the servers stopped on SIGTERM', () => (pids.every((p) => !fs.existsSync(`/proc/${p}`)) ? true : undefined), 60);
    await Promise.all(which.map((i) => killPod(i)));
  };
  const sql = (i: number, query: string) => {
    const [cmd, ...args] = inPod(i, `mariadb --protocol=socket -umysql -N -B -e "${query.replace(/"/g, '\\"')}"`);
    const res = spawnSync(cmd, args, { encoding: 'utf-8', timeout: 20_000 });
    if (res.status !== 0) throw new Error(res.stderr || `no answer within 20 s (${res.signal})`);
    return res.stdout.trim();
  };
  const rootSql = (i: number, query: string) => {
    const res = spawnSync('mariadb', ['-h', HOSTS[i], '-uroot', `-p${ROOT_PW}`, '-N', '-B', '-e', query], { encoding: 'utf-8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  const ready = (i: number) => {
    const [cmd, ...args] = inPod(i, `bash ${dir(i, 'work')}/galera-probe.sh ready`);
    return spawnSync(cmd, args, { encoding: 'utf-8', timeout: 20_000 }).status === 0;
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

  test('a new cluster: the Lease\'s holder bootstraps; the others, told to join once it is Ready, join it by mariabackup SST', async () => {
    for (const i of [0, 1, 2]) { prepare(i); initContainers(i); }
    // recover: an empty volume is no position and no data
    for (const i of [0, 1, 2]) expect(position(i)).toEqual(['00000000-0000-0000-0000-000000000000', '-1', '0', '0']);
    decide(0, 'bootstrap');
    start(0);
    await wait('member 0 Synced', () => (ready(0) ? true : undefined), 120);
    // `decide` tells the others to join once a member is Ready
    for (const i of [1, 2]) { decide(i, 'join'); start(i); }
    await wait('3 members Synced', () => allReady(), 240);
    expect(sql(0, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'")).toBe('wsrep_cluster_size\t3');
    expect(members[0]!.log).toMatch(/bootstrap Lease: bootstrapping the cluster/);
    expect(members[1]!.log).toMatch(/joining the cluster/);
    // (two joiners at once can make one's SST fail: "Error while getting data from donor node";
    // its container restarts and the next SST succeeds, as the kubelet does)
    rootSql(0, 'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40))');
    for (let k = 1; k <= 100; k++) rootSql(k % 3, `INSERT INTO shop.orders VALUES (${k}, 'item ${k}')`);
    expect(rootSql(2, 'SELECT COUNT(*) FROM shop.orders')).toBe('100');
  });

  test('every member\'s container crashed at once (no init container runs again): one Primary component of 3 again by itself, every committed row', async () => {
    crashContainers(0, 1, 2);
    await wait('3 members restarted', () => ([0, 1, 2].every((i) => /--- container exited/.test(members[i]!.log)) ? true : undefined), 30);
    await wait('3 members Synced again', () => allReady(), 300);
    for (const i of [0, 1, 2]) {
      expect(status(i, 'wsrep_cluster_status')).toBe('Primary');
      expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe('100');
    }
    for (const i of [0, 1, 2]) expect(members[i]!.log.split('--- container exited').pop()).not.toMatch(/bootstrapping the cluster/);
  });

  test('a lone survivor: two members crash together, member 0 is non-Primary; they come back and the three are one Primary component by themselves', async () => {
    // their restart loops held, as the kubelet's back-off holds a crashed container, until member 0
    // has seen that it is alone (a loaded machine restarted them before it could, and the premise
    // was never reached)
    const loops = [1, 2].map((i) => members[i]!.child.pid!);
    loops.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    try {
      crashContainers(1, 2);
      await wait('member 0 non-Primary', () => (status(0, 'wsrep_cluster_status') === 'non-Primary' ? true : undefined), 60);
    } finally {
      loops.forEach((pid) => process.kill(pid, 'SIGCONT'));
    }
    await wait('3 members Synced again', () => allReady(), 180);
    rootSql(0, "INSERT INTO shop.orders VALUES (101, 'after the survivor')");
    for (const i of [0, 1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe('101');
  });

  test('every pod replaced: recover finds each member\'s committed position in InnoDB after the crash (data, the last committed seqno)', async () => {
    await Promise.all([0, 1, 2].map((i) => killPod(i)));
    for (const i of [0, 1, 2]) initContainers(i);
    const positions = [0, 1, 2].map(position);
    for (const p of positions) {
      expect(p[3]).toBe('1');
      expect(Number(p[1])).toBeGreaterThanOrEqual(100);
    }
    // the Lease elects the highest position; here all are equal: ordinal 0
    decide(0, 'bootstrap'); decide(1, 'join'); decide(2, 'join');
    for (const i of [0, 1, 2]) start(i);
    await wait('3 members Synced', () => allReady(), 240);
    const rows = rootSql(0, 'SELECT COUNT(*) FROM shop.orders');
    expect(Number(rows)).toBeGreaterThanOrEqual(100);
    for (const i of [1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe(rows);
  });

  test('the first member loses its volume: it joins the others and receives their data, never the other way round', async () => {
    await killPod(0);
    fs.rmSync(dir(0, 'data'), { recursive: true, force: true });
    prepare(0);
    initContainers(0);
    expect(position(0)[3]).toBe('0');
    decide(0, 'join');
    rootSql(1, "INSERT INTO shop.orders VALUES (1000, 'while 0 was away')");
    const rows = rootSql(1, 'SELECT COUNT(*) FROM shop.orders');
    start(0);
    await wait('member 0 Synced', () => (ready(0) ? true : undefined), 240);
    for (const i of [0, 1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe(rows);
    // SST logs reach the container log, not syslog
    expect(members[0]!.log).not.toMatch(/Logging all stderr of SST\/mariadb-backup to syslog/);
  });
  /**
   * The kubelet's probes on MEMBERS, faster than the pod's (every 5 s): until a member's startup
   * probe (galera-probe.sh start) has passed once, only that one runs, as a joiner may take long;
   * then the liveness probe, and a restart after 3 failures: galera-probe.sh live fails when the
   * member's group connection closed, and the restart rejoins it. Called from the waits below.
   */
  const liveness = { failures: HOSTS.map(() => 0), started: HOSTS.map(() => false), last: 0, restarted: [] as number[] };
  const probe = (i: number, kind: 'start' | 'live') => {
    const [cmd, ...args] = inPod(i, `bash ${dir(i, 'work')}/galera-probe.sh ${kind}`);
    return spawnSync(cmd, args, { encoding: 'utf-8', timeout: 10_000 }).status === 0;
  };
  const probeLiveness = (which: number[]) => {
    if (Date.now() - liveness.last < 5000) return;
    liveness.last = Date.now();
    for (const i of which) {
      if (!liveness.started[i]) {
        liveness.started[i] = probe(i, 'start');
        continue;
      }
      liveness.failures[i] = probe(i, 'live') ? 0 : liveness.failures[i] + 1;
      if (liveness.failures[i] >= 3) {
        liveness.failures[i] = 0;
        liveness.started[i] = false;
        liveness.restarted.push(i);
        crashContainers(i);
      }
    }
  };

  // A StatefulSet with Parallel pod management scaled from 3 to 5 starts members 3 and 4 at the
  // same moment, and scaled back stops them at the same moment. Measured here (MariaDB 10.11,
  // Galera 4): two members changing at once (both joiners' state transfers failing and restarting
  // together, or both leaving together) can make a member that stays fail to install the next view
  // ("failed to form singleton view after exceeding max_install_timeouts 3, giving up"): its group
  // connection closes and it stays out (wsrep_connected OFF) until restarted; the others may lose
  // their majority. What the preset must do: the liveness probe restarts that member, it rejoins,
  // and the three form one Primary component of 3 by themselves (pc.recovery or the watcher's
  // pc.bootstrap), with every committed row.
  test('scale 3 -> 5 -> 3, three rounds: two new members join together and stop together (SIGTERM); the three that remain are one Primary component of 3 again by themselves, every committed row', async () => {
    const report: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const restartedBefore = liveness.restarted.length;
      const exits = () => [3, 4].map((i) => (members[i]?.log.match(/--- container exited/g) ?? []).length);
      const exitsBefore = exits();
      for (const i of [3, 4]) {
        if (round === 1) prepare(i);
        initContainers(i);
        decide(i, 'join');
        liveness.started[i] = false;
        start(i);
      }
      // every member probed, the joiners too (a joiner left out of the group after its state
      // transfer stays out until its liveness probe restarts it, as the others would)
      await wait(`round ${round}: 5 members Synced`, () => { probeLiveness([0, 1, 2, 3, 4]); return allReady(5); }, 300);
      rootSql(3, `INSERT INTO shop.orders VALUES (${2000 + round}, 'through member 3, round ${round}')`);
      const joinRestarts = exits().map((n, k) => n - exitsBefore[k]);
      await terminatePods(3, 4);
      const left = Date.now();
      // what the three report every second for 20 s after the two left
      const seen: string[] = [];
      for (let t = 0; t < 20; t++) {
        probeLiveness([0, 1, 2]);
        seen.push([0, 1, 2].map((i) => { try { return status(i, 'wsrep_cluster_status'); } catch { return 'no answer'; } }).join(' '));
        await new Promise((r) => setTimeout(r, 1000));
      }
      await wait(`round ${round}: the three Synced in one Primary component of 3`, () => {
        probeLiveness([0, 1, 2]);
        return allReady(3) && [0, 1, 2].every((i) => status(i, 'wsrep_cluster_size') === '3' && status(i, 'wsrep_cluster_status') === 'Primary') ? true : undefined;
      }, 240);
      rootSql(0, `INSERT INTO shop.orders VALUES (${2100 + round}, 'after round ${round}')`);
      const rows = rootSql(0, 'SELECT COUNT(*) FROM shop.orders');
      for (const i of [1, 2]) expect(rootSql(i, 'SELECT COUNT(*) FROM shop.orders')).toBe(rows);
      expect(rootSql(1, `SELECT item FROM shop.orders WHERE id = ${2000 + round}`)).toBe(`through member 3, round ${round}`);
      const notPrimary = seen.filter((line) => line !== 'Primary Primary Primary').length;
      report.push(`round ${round}: Primary of 3 again ${((Date.now() - left) / 1000).toFixed(0)} s after the two left; ${notPrimary} of 20 samples not all Primary; liveness restarts: ${JSON.stringify(liveness.restarted.slice(restartedBefore))}; restarts of members 3 and 4 while joining: ${joinRestarts.join(', ')}`);
    }
    // what each round took: the numbers docs/engines.md quotes
    console.log(`galera 3 -> 5 -> 3 on loopback\n${report.join('\n')}`);
    expect(report).toHaveLength(3);
  }, 1_500_000);
});
