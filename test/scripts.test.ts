import * as crypto from 'crypto';
// The engine scripts, executed: each runs with bash in a temporary root with the environment its
// container gets in the synthesized manifest (paths moved under the root, the pod index or the
// hostname faked per ordinal) and the credentials Secret as the kubelet mounts it (one file per key
// at the credentials mount, under the root too), and the files it writes are asserted. The
// environment holds no password: a Secret reference in it fails the test. Database binaries are
// stubs on PATH that record how they were called; the network is real (fake members listen on
// 127.0.0.x), or, where a script only waits for a member to accept connections, a `timeout` stub
// that answers for /dev/tcp.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { BackupMember, DatabaseCredentials, DatabaseEngine, StatefulDatabase, StatefulDatabaseProps } from '../lib';
import { parse as parseYaml } from 'yaml';
import { chart, find, synth } from './util';

const SECRETS: { [key: string]: string } = {
  'root-password': 'r00t "pw" \\ $HOME `x`',
  'replication-password': "re'pl\\ic:a$tion \"pw\"",
  'password': 'red "is"\\ pass $word',
};

interface Pod {
  readonly db: StatefulDatabase;
  readonly spec: any;
  readonly files: { [name: string]: string };
}

function pod(engine: DatabaseEngine, props: Partial<StatefulDatabaseProps> = {}, name = 'db', keys: Partial<DatabaseCredentials> = {}): Pod {
  const c = chart('data');
  const secret = kplus.Secret.fromSecretName(c, 'creds', 'creds');
  const db = new StatefulDatabase(c, name, { engine, credentials: { secret, ...keys }, ...props });
  const m = synth(c);
  return { db, spec: find(m, 'StatefulSet').spec.template.spec, files: find(m, 'ConfigMap').data };
}

let roots: string[] = [];
afterEach(() => {
  roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true }));
  roots = [];
});

/**
 * A temporary root holding the pod's scripts at /opt/cdk8s-stateful, the credentials Secret's keys
 * at its mount (/run/secrets/db) and stub binaries in /stubs.
 */
function root(p: Pod, stubs: { [name: string]: string } = {}, secrets: { [key: string]: string } = SECRETS): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-scripts-'));
  roots.push(r);
  const scripts = path.join(r, 'opt', 'cdk8s-stateful');
  fs.mkdirSync(scripts, { recursive: true });
  for (const [file, text] of Object.entries(p.files)) fs.writeFileSync(path.join(scripts, file), text, { mode: 0o555 });
  writeSecret(r, p, secrets);
  fs.mkdirSync(path.join(r, 'stubs'));
  fs.mkdirSync(path.join(r, 'tmp'));
  for (const [bin, body] of Object.entries(stubs)) {
    fs.writeFileSync(path.join(r, 'stubs', bin), `#!/usr/bin/env bash\nLOG="${r}/calls.log"\n${body}\n`, { mode: 0o755 });
  }
  return r;
}

/**
 * Writes the Secret's keys where the pod mounts the credentials volume, laid out as the kubelet's
 * atomic writer does: the files live in a timestamped directory, `..data` links to it, and each key
 * is a symlink through `..data` (mode 0440, readable by the pod's fsGroup).
 */
function writeSecret(r: string, p: Pod, secrets: { [key: string]: string }) {
  const mount = p.spec.containers[0].volumeMounts.find((m: any) => m.name === 'credentials');
  expect(mount).toEqual({ name: 'credentials', mountPath: StatefulDatabase.CREDENTIALS_PATH, readOnly: true });
  const dir = path.join(r, mount.mountPath);
  const version = path.join(dir, '..2025_01_01_00_00_00.000000001');
  fs.mkdirSync(version, { recursive: true });
  for (const [key, value] of Object.entries(secrets)) {
    fs.writeFileSync(path.join(version, key), value, { mode: 0o440 });
    fs.symlinkSync(path.join('..data', key), path.join(dir, key));
  }
  fs.symlinkSync(path.basename(version), path.join(dir, '..data'));
}

/**
 * A `timeout` stub standing in for the network where a script only asks whether a member accepts
 * connections (bash's /dev/tcp): NET=open (default), refused, or unknown (no answer). Anything
 * else runs as with the real `timeout`.
 */
const netStub = {
  timeout: `if [[ "$*" == *"/dev/tcp/"* ]]; then
  case "\${NET:-open}" in
    open) exit 0 ;;
    refused) echo "bash: connect: Connection refused" >&2; exit 1 ;;
    *) exit 124 ;;
  esac
fi
shift; exec "$@"`,
};

/** Removes a key from the mounted Secret, as a Secret without that key is mounted. */
const removeSecret = (r: string, key: string) => fs.rmSync(path.join(r, StatefulDatabase.CREDENTIALS_PATH, key));

interface RunOptions {
  /** The pod's ordinal. */
  readonly ordinal: number;
  /** Give the ordinal through POD_INDEX (the downward API) or only through the hostname. @default true */
  readonly podIndex?: boolean;
  /** More environment, e.g. overrides. */
  readonly env?: { [name: string]: string };
  /** The main container's args appended to its command. */
  readonly args?: string[];
  /** Kill it after this many milliseconds (its status is then null). @default 20000 */
  readonly timeout?: number;
  /**
   * What the init container `founding` answered (FOUNDED_FILE), for a container that reads it:
   * `found` (this member founds the set), `present` (founded from another volume) or `absent`.
   * @default 'present'
   */
  readonly founded?: string;
}

/** The container's environment as the kubelet would give it, with paths under `r`. */
function containerEnv(p: Pod, container: any, r: string, o: RunOptions): { [name: string]: string } {
  const env: { [name: string]: string } = {
    PATH: `${r}/stubs:${process.env.PATH}`,
    HOME: r,
    TMPDIR: `${r}/tmp`,
    HOSTNAME: `${p.db.name}-${o.ordinal}`,
    SCRIPTS_DIR: `${r}/opt/cdk8s-stateful`,
  };
  for (const e of container.env ?? []) {
    // no Secret references: passwords are files (*_FILE=/run/secrets/db/<key>, moved under the root)
    if (e.value !== undefined) env[e.name] = e.value.startsWith('/') ? r + e.value : e.value;
    else if (e.valueFrom?.resourceFieldRef?.resource === 'limits.memory') env[e.name] = String(1024 * 1024 * 1024);
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']") {
      if (o.podIndex ?? true) env[e.name] = String(o.ordinal);
      else env.HOSTNAME = `${p.db.name}-${o.ordinal}`;
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = 'data';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = '10.250.0.7';
    else throw new Error(`unexpected env ${JSON.stringify(e)}`);
  }
  if (!(o.podIndex ?? true)) delete env.POD_INDEX;
  for (const [name, value] of Object.entries(env)) {
    for (const secret of Object.values(SECRETS)) expect({ name, value }).not.toEqual({ name, value: expect.stringContaining(secret) });
  }
  return { ...env, ...o.env };
}

/**
 * The environment the official images' entrypoints give the /docker-entrypoint-initdb.d scripts:
 * each of their `VAR_FILE` variables read into `VAR`, exported, and `VAR_FILE` unset (file_env).
 */
function underEntrypoint(env: { [name: string]: string }, vars: string[]): { [name: string]: string } {
  const out = { ...env };
  for (const v of vars) {
    const file = out[`${v}_FILE`];
    if (file === undefined) continue;
    out[v] = fs.readFileSync(file, 'utf-8').replace(/\n+$/, '');
    delete out[`${v}_FILE`];
  }
  return out;
}

/** Runs the main container's readiness or liveness probe command in the root. */
function runProbe(p: Pod, r: string, kind: 'readinessProbe' | 'livenessProbe', env: { [name: string]: string } = {}) {
  const main = p.spec.containers[0];
  const command = main[kind].exec.command.map((a: string) => (a.startsWith('/') ? r + a : a));
  const result = spawnSync(command[0], command.slice(1), { env: { ...containerEnv(p, main, r, { ordinal: 0 }), ...env }, encoding: 'utf-8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a container's command (init container by name, or `main`) in the root. */
function run(p: Pod, r: string, containerName: string, o: RunOptions) {
  const container = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((c: any) => c.name === containerName);
  if (!container) throw new Error(`no container ${containerName}`);
  const command = [...container.command, ...(o.args ?? [])].map((a: string) => (a.startsWith('/') ? r + a : a));
  // scripts find common.sh beside themselves; the main container of Galera runs them from the work dir
  const env = containerEnv(p, container, r, o);
  if (containerName === 'main') delete env.SCRIPTS_DIR;
  if (env.FOUNDED_FILE !== undefined) {
    fs.mkdirSync(path.dirname(env.FOUNDED_FILE), { recursive: true });
    fs.writeFileSync(env.FOUNDED_FILE, `${o.founded ?? 'present'}\n`);
  }
  const result = spawnSync(command[0], command.slice(1), { env, encoding: 'utf-8', timeout: o.timeout ?? 20_000, killSignal: 'SIGKILL' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const read = (r: string, file: string) => fs.readFileSync(path.join(r, file), 'utf-8');
const calls = (r: string) => (fs.existsSync(path.join(r, 'calls.log')) ? read(r, 'calls.log') : '');

/** Decodes a double-quoted redis.conf argument as Redis' sdssplitargs does. */
function redisUnquote(arg: string): string {
  expect(arg.startsWith('"') && arg.endsWith('"')).toBe(true);
  return arg.slice(1, -1).replace(/\\(.)/g, '$1');
}

describe('a missing key of the credentials Secret', () => {
  const mysqlStubs = { mysqld: 'echo "mysqld $*" >>"$LOG"', mysql: 'echo "mysql $*" >>"$LOG"', mysqladmin: 'echo "mysqladmin $*" >>"$LOG"' };
  const cases: [string, () => DatabaseEngine, string, number, string, string][] = [
    ['mysql clone (replication)', () => DatabaseEngine.mysql(), 'clone', 1, 'replication-password', 'REPLICATION_KEY'],
    ['mysql clone (root)', () => DatabaseEngine.mysql(), 'clone', 1, 'root-password', 'ROOT_KEY'],
    ['postgresql clone', () => DatabaseEngine.postgresql(), 'clone', 1, 'replication-password', 'REPLICATION_KEY'],
    ['redis config', () => DatabaseEngine.redis(), 'config', 0, 'password', 'PW_KEY'],
  ];

  test.each(cases)('%s: fails naming the variable, the file and the key, and changes nothing', (_, engine, container, ordinal, key, fileVar) => {
    const p = pod(engine());
    const r = root(p, { ...mysqlStubs, pg_basebackup: 'echo "pg_basebackup $*" >>"$LOG"' });
    removeSecret(r, key);
    const res = run(p, r, container, { ordinal });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`ERROR: ${fileVar} names ${r}${StatefulDatabase.CREDENTIALS_PATH}/${key}, which does not exist: the credentials Secret has no key '${key}'. Fix: add the key to the Secret`);
    expect(calls(r)).toBe('');
    for (const written of ['etc/redis/redis.conf', 'var/run/postgresql/.pgpass', 'var/lib/mysql/data.recipient']) expect(fs.existsSync(path.join(r, written))).toBe(false);
  });

  test.each([
    ['mysql-initdb.sh', 'replication-password', () => DatabaseEngine.mysql(), 'REPLICATION_KEY'],
    ['mysql-initdb.sh', 'root-password', () => DatabaseEngine.mysql(), 'ROOT_KEY'],
    ['postgres-initdb.sh', 'replication-password', () => DatabaseEngine.postgresql(), 'REPLICATION_KEY'],
  ])('%s without %s: fails before it touches the server', (script, key, engine, fileVar) => {
    const p = pod(engine());
    const r = root(p, { ...mysqlStubs, psql: 'echo "psql $*" >>"$LOG"' });
    removeSecret(r, key);
    const res = spawnSync('bash', [`${r}/opt/cdk8s-stateful/${script}`], { env: containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }), encoding: 'utf-8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`ERROR: ${fileVar} names ${r}${StatefulDatabase.CREDENTIALS_PATH}/${key}, which does not exist`);
    expect(calls(r)).toBe('');
  });

  test('the primary\'s clone container with data does not need the replication password', () => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, {}, {});
    fs.mkdirSync(`${r}/var/lib/postgresql/data/pgdata`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/postgresql/data/pgdata/PG_VERSION`, '18\n');
    expect(run(p, r, 'clone', { ordinal: 0 }).status).toBe(0);
    const m = pod(DatabaseEngine.mysql());
    const rm = root(m, {}, {});
    fs.mkdirSync(`${rm}/var/lib/mysql/data/mysql`, { recursive: true });
    expect(run(m, rm, 'clone', { ordinal: 0 }).status).toBe(0);
  });
});

describe('common.sh', () => {
  const p = pod(DatabaseEngine.zookeeper(), { replicas: 3, startOrdinal: 2 });
  const helper = (r: string, fn: string, env: { [name: string]: string }) => spawnSync('bash', ['-c', `. "${r}/opt/cdk8s-stateful/common.sh"; ${fn}`], {
    env: { PATH: process.env.PATH, ...env }, encoding: 'utf-8',
  });

  test('the ordinal comes from POD_INDEX, else from the hostname suffix', () => {
    const r = root(p);
    expect(helper(r, 'pod_ordinal', { POD_INDEX: '4', HOSTNAME: 'zk-9' }).stdout).toBe('4\n');
    expect(helper(r, 'pod_ordinal', { POD_INDEX: '', HOSTNAME: 'my-db-12' }).stdout).toBe('12\n');
    expect(helper(r, 'pod_ordinal', { HOSTNAME: 'my-db-3.my-db-headless' }).stdout).toBe('3\n');
    const bad = helper(r, 'pod_ordinal', { HOSTNAME: 'nohyphen' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/cannot tell this pod's ordinal/);
  });

  test('peer_address maps ordinals onto PEERS from the start ordinal', () => {
    const r = root(p);
    const env = { PEERS: 'a-2.h b-3.h c-4.h', START_ORDINAL: '2' };
    expect(helper(r, 'peer_address 2; peer_address 4; peer_count', env).stdout).toBe('a-2.h\nc-4.h\n3\n');
    expect(helper(r, 'peer_address 5', env).status).toBe(1);
    expect(helper(r, 'peer_address 1', env).status).toBe(1);
  });

  test('sql_quote escapes backslashes and single quotes', () => {
    const r = root(p);
    expect(helper(r, 'sql_quote "$V"', { V: "a'b\\c" }).stdout).toBe("a''b\\\\c");
  });

  describe('read_secret', () => {
    const secretPath = (r: string, key: string) => path.join(r, StatefulDatabase.CREDENTIALS_PATH, key);

    test('sets NAME from the file NAME_FILE names, through the kubelet\'s symlinks, without exporting it', () => {
      const r = root(p, {}, { 'pw': 'a "b" $c `d` \\e\n', 'two-lines': 'one\ntwo\n\n' });
      const env = { KEYS_DIR: path.join(r, StatefulDatabase.CREDENTIALS_PATH), PW_KEY: 'pw', TWO_KEY: 'two-lines' };
      expect(fs.lstatSync(secretPath(r, 'pw')).isSymbolicLink()).toBe(true);
      // trailing newlines go, as the images' entrypoints drop them; everything else stays
      const res = helper(r, 'read_secret PW PW_KEY; read_secret TWO TWO_KEY; printf "%s|%s|" "$PW" "$TWO"; printenv PW || printf "not exported"', env);
      expect(res.stderr).not.toMatch(/ERROR/);
      expect(res.stdout).toBe('a "b" $c `d` \\e|one\ntwo|not exported');
    });

    test('fails clearly when KEY_VAR is unset, the key is missing from the Secret, or its file is empty', () => {
      const r = root(p, {}, { empty: '' });
      const dir = path.join(r, StatefulDatabase.CREDENTIALS_PATH);
      const unset = helper(r, 'read_secret REDIS_PASSWORD PW_KEY; echo reached', {});
      expect(unset.status).toBe(1);
      expect(unset.stdout).toBe('');
      expect(unset.stderr).toMatch(/ERROR: PW_KEY or KEYS_DIR is not set: cannot find the password, which comes from a file of the credentials Secret. Fix: give the StatefulDatabase credentials: \{ secret \}./);
      const missing = helper(r, 'read_secret REDIS_PASSWORD PW_KEY; echo reached', { KEYS_DIR: dir, PW_KEY: 'password' });
      expect(missing.status).toBe(1);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toContain(`ERROR: PW_KEY names ${secretPath(r, 'password')}, which does not exist: the credentials Secret has no key 'password'. ` +
        "Fix: add the key to the Secret (kubectl create secret generic ... --from-literal=password=...), or name the key it has in DatabaseCredentials.");
      const empty = helper(r, 'read_secret REDIS_PASSWORD PW_KEY; echo reached', { KEYS_DIR: dir, PW_KEY: 'empty' });
      expect(empty.status).toBe(1);
      expect(empty.stderr).toMatch(/empty: the key 'empty' of the credentials Secret holds no password/);
    });

    test('fails clearly when the file is not readable', () => {
      const r = root(p, {}, { pw: 'x' });
      fs.chmodSync(path.join(r, StatefulDatabase.CREDENTIALS_PATH, fs.readlinkSync(path.join(r, StatefulDatabase.CREDENTIALS_PATH, '..data')), 'pw'), 0o000);
      // Root reads any file; a pod's user does not. As root, drop the two capabilities that
      // bypass file permissions, so the script meets the unreadable file as it would in a pod.
      const asPodUser = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search'] : [];
      const res = spawnSync(asPodUser[0] ?? 'bash', [...asPodUser.slice(1), ...(asPodUser.length ? ['bash'] : []),
        '-c', `. "${r}/opt/cdk8s-stateful/common.sh"; read_secret PW PW_KEY`], {
        env: { PATH: process.env.PATH, KEYS_DIR: path.join(r, StatefulDatabase.CREDENTIALS_PATH), PW_KEY: 'pw' }, encoding: 'utf-8',
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/cannot read as a file. Fix: keep the pod's fsGroup/);
    });
  });
});

describe('mysql', () => {
  const mysqlStubs = {
    // the server: --initialize-insecure creates a data dir; a server start just records its options
    mysqld: `echo "mysqld $*" >>"$LOG"
for a in "$@"; do case "$a" in --datadir=*) d="\${a#--datadir=}";; esac; done
if [[ " $* " == *" --initialize-insecure "* ]]; then mkdir -p "$d/mysql"; fi`,
    mysqladmin: 'echo "mysqladmin $*" >>"$LOG"',
    // the client: records the SQL; CLONE INSTANCE creates the clone directory with the donor's auto.cnf
    mysql: `sql="$(cat)"
for a in "$@"; do case "$a" in --defaults-extra-file=*) echo "option file: $(cat "\${a#--defaults-extra-file=}") from $(readlink -f "\${a#--defaults-extra-file=}" | sed 's/:.*//')" >>"$LOG";; esac; done
echo "mysql $* <<< $sql" >>"$LOG"
case "$*" in
  *replication_connection_status*) printf '%s\\n' \${REPL_STATUS:--} ;;
  *gtid_executed*) for a in "$@"; do case "$a" in -h*) h="\${a#-h}";; esac; done; v="GTID_\${h//[^a-zA-Z0-9]/_}"; [ -n "\${!v:-}" ] || exit 1; echo "\${!v}" ;;
esac
target="$(sed -n "s/.*DATA DIRECTORY = '\\(.*\\)'.*/\\1/p" <<<"$sql")"
if [ -n "$target" ]; then mkdir -p "$target/mysql"; echo donor-uuid >"$target/auto.cnf"; fi`,
  };

  test.each([
    [0, 'primary', 100], [1, 'replica', 101], [2, 'replica', 102],
  ])('config: ordinal %i is a %s with server-id %i', (ordinal, role, serverId) => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p);
    const res = run(p, r, 'config', { ordinal });
    expect(res.stderr).toMatch(/wrote/);
    expect(res.status).toBe(0);
    const cnf = read(r, 'etc/mysql/conf.d/cdk8s.cnf');
    expect(cnf).toContain(`server-id=${serverId}\n`);
    expect(cnf).toContain(`datadir=${r}/var/lib/mysql/data\n`);
    expect(cnf).toContain(`report_host=db-${ordinal}.db-headless.data.svc.cluster.local\n`);
    expect(cnf).toContain('gtid_mode=ON\n');
    expect(cnf).toContain('plugin-load-add=mysql_clone.so\n');
    expect(cnf).toContain('relay_log_recovery=ON\n');
    if (role === 'primary') {
      expect(cnf).toContain('read_only=OFF\n');
      expect(cnf).not.toContain('super_read_only');
    } else {
      expect(cnf).toContain('super_read_only=ON\n');
    }
  });

  test('config: the ordinal falls back to the hostname; a start ordinal of 5 makes 5 the primary', () => {
    const p = pod(DatabaseEngine.mysql(), { startOrdinal: 5 });
    const r = root(p);
    expect(run(p, r, 'config', { ordinal: 5, podIndex: false }).status).toBe(0);
    let cnf = read(r, 'etc/mysql/conf.d/cdk8s.cnf');
    expect(cnf).toContain('server-id=105\n');
    expect(cnf).not.toContain('super_read_only');
    expect(run(p, r, 'config', { ordinal: 7, podIndex: false }).status).toBe(0);
    cnf = read(r, 'etc/mysql/conf.d/cdk8s.cnf');
    expect(cnf).toContain('server-id=107\n');
    expect(cnf).toContain('super_read_only=ON\n');
    expect(cnf).toContain('report_host=db-7.db-headless.data.svc.cluster.local\n');
  });

  test('config: a member added by a scale-up (past the synthesized members) reports its own DNS name', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p);
    expect(run(p, r, 'config', { ordinal: 4 }).status).toBe(0);
    expect(read(r, 'etc/mysql/conf.d/cdk8s.cnf')).toContain('report_host=db-4.db-headless.data.svc.cluster.local\n');
  });

  /** Runs the database container's preStop hook as the kubelet would. */
  function preStop(p: Pod, r: string, ordinal: number, env: { [name: string]: string } = {}) {
    const main = p.spec.containers[0];
    const command = main.lifecycle.preStop.exec.command.map((a: string) => (a.startsWith('/') ? r + a : a));
    return spawnSync(command[0], command.slice(1), { env: { ...containerEnv(p, main, r, { ordinal }), PRESTOP_WAIT_SECONDS: '0', ...env }, encoding: 'utf-8', timeout: 20_000 });
  }

  test('preStop: a replica closes its replication connection before it stops; the primary has nothing to close', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, mysqlStubs);
    expect(preStop(p, r, 1).status).toBe(0);
    expect(calls(r)).toMatch(/mysql .*--protocol=socket .*-e STOP REPLICA IO_THREAD/);
    expect(calls(r)).toContain(`option file: [client]`);
    const r0 = root(p, mysqlStubs);
    expect(preStop(p, r0, 0).status).toBe(0);
    expect(calls(r0)).toBe('');
  });

  test('preStop: a server that does not answer never blocks the stop', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { ...mysqlStubs, mysql: 'exit 1' });
    const res = preStop(p, r, 2);
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/could not stop the replication connection before stopping/);
  });

  test('clone: the primary with no data that founds the set (it created the founding Lease) leaves initialization to the entrypoint, asking no one', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { ...mysqlStubs, ...netStub });
    const res = run(p, r, 'clone', { ordinal: 0, founded: 'found', env: { NET: 'refused', POLL_SECONDS: '1' } });
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/this member founds the set \(it created the Lease db-founded\): a new data set/);
    expect(res.stderr).toMatch(/new primary/);
    expect(calls(r)).toBe('');
  });

  test.each(['refused', 'unknown'])('clone: the primary with no data in a founded set waits while the members are %s (loading, crash-looping, partitioned: never "empty")', (net) => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { ...mysqlStubs, ...netStub });
    const res = run(p, r, 'clone', { ordinal: 0, env: { NET: net, POLL_SECONDS: '1' }, timeout: 4000 });
    expect(res.status).toBeNull();
    expect(res.stderr).toMatch(/waiting for a member with data to copy \(no answer from: db-1\.db-headless\.data\.svc\.cluster\.local db-2\.db-headless\.data\.svc\.cluster\.local; empty: none\)[\s\S]*never starts a new data set by itself/);
    expect(res.stderr).not.toMatch(/new primary/);
    expect(calls(r)).not.toMatch(/mysqld/);
  });

  // ordinal 4 of a set synthesized with 3 members (scaled with kubectl): no name for member 3, it clones the primary
  test.each([[1, 0], [2, 1], [4, 0]])('clone: replica %i clones member %i, then replicates from the primary', (ordinal, donor) => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { ...mysqlStubs, ...netStub });
    const res = run(p, r, 'clone', { ordinal });
    expect(res.stderr).toMatch(/cloned from/);
    expect(res.status).toBe(0);
    const log = calls(r);
    const donorHost = `db-${donor}.db-headless.data.svc.cluster.local`;
    const dataDir = `${r}/var/lib/mysql/data`;
    expect(log).toContain(`mysqld --no-defaults --initialize-insecure --datadir=${dataDir}.recipient`);
    expect(log).toContain(`SET GLOBAL clone_valid_donor_list = '${donorHost}:3306';`);
    // the password is escaped for a SQL literal
    expect(log).toContain(`CLONE INSTANCE FROM 'replicator'@'${donorHost}':3306 IDENTIFIED BY 're''pl\\\\ic:a$tion "pw"'`);
    expect(log).toContain(`DATA DIRECTORY = '${dataDir}.clone'`);
    expect(log).toContain(`--server-id=${100 + ordinal} --log-bin=binlog --relay-log=relay-bin`);
    // a donor that is itself a replica passes its replication settings on (without relay logs): reset first
    expect(log).toContain("RESET REPLICA ALL;\nCHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db-0.db-headless.data.svc.cluster.local', SOURCE_PORT = 3306");
    expect(log).toContain('SOURCE_AUTO_POSITION = 1');
    // the root password reaches the client through a pipe, escaped: never a file on disk
    expect(log).toContain('password="r00t \\"pw\\" \\\\ $HOME `x`" from /proc/');
    // the clone is in place, with a fresh server UUID to come; the scratch directories are gone
    expect(fs.existsSync(`${dataDir}/mysql`)).toBe(true);
    expect(fs.existsSync(`${dataDir}/auto.cnf`)).toBe(false);
    expect(fs.existsSync(`${dataDir}.recipient`)).toBe(false);
    expect(fs.existsSync(`${dataDir}.clone`)).toBe(false);
    expect(fs.readdirSync(`${r}/tmp`)).toEqual([]);
  });

  test('clone: a member with data is left alone; a data dir with stray files is refused', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, mysqlStubs);
    fs.mkdirSync(`${r}/var/lib/mysql/data/mysql`, { recursive: true });
    expect(run(p, r, 'clone', { ordinal: 2 }).status).toBe(0);
    expect(calls(r)).toBe('');
    fs.rmSync(`${r}/var/lib/mysql/data/mysql`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/mysql/data/stray`, '');
    const res = run(p, r, 'clone', { ordinal: 2 });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/holds files but no database/);
  });

  test('clone: an empty primary becomes a copy of the replica that executed the most transactions', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { ...mysqlStubs, ...netStub });
    const res = run(p, r, 'clone', { ordinal: 0, env: { PEERS: 'self 127.0.0.2 127.0.0.3', GTID_127_0_0_2: 'u1:1-5', GTID_127_0_0_3: 'u1:1-7:9-10,\\nu2:1-2' } });
    expect(res.stderr).toMatch(/127.0.0.3 holds data \(position 11\)/);
    expect(res.status).toBe(0);
    const log = calls(r);
    expect(log).toContain("CLONE INSTANCE FROM 'replicator'@'127.0.0.3':3306");
    expect(log).toContain('RESET REPLICA ALL;');
    expect(log).not.toContain('CHANGE REPLICATION SOURCE');
    // the replication account's password goes through a pipe too
    expect(log).toContain('option file: [client]\nuser=replicator\npassword="re\'pl\\\\ic:a$tion \\"pw\\"" from /proc/');
    expect(fs.existsSync(`${r}/var/lib/mysql/data/mysql`)).toBe(true);
  });

  test('initdb: creates the replication account with the escaped password', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, mysqlStubs);
    const main = p.spec.containers[0];
    const mount = main.volumeMounts.find((m: any) => m.mountPath.startsWith('/docker-entrypoint-initdb.d/'));
    expect(mount).toEqual({ name: 'scripts', subPath: 'mysql-initdb.sh', mountPath: '/docker-entrypoint-initdb.d/10-replication-account.sh', readOnly: true });
    // as the entrypoint runs it; the script reads the Secret's files through KEYS_DIR and the keys
    const env = underEntrypoint(containerEnv(p, main, r, { ordinal: 0 }), ['MYSQL_ROOT_HOST', 'MYSQL_DATABASE', 'MYSQL_USER', 'MYSQL_PASSWORD', 'MYSQL_ROOT_PASSWORD']);
    const res = spawnSync('bash', [`${r}/opt/cdk8s-stateful/mysql-initdb.sh`], { env, encoding: 'utf-8' });
    expect(res.status).toBe(0);
    expect(calls(r)).toContain("CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY 're''pl\\\\ic:a$tion \"pw\"';");
    expect(calls(r)).toContain('option file: [client]\nuser=root\npassword="r00t \\"pw\\" \\\\ $HOME `x`" from /proc/');
    expect(calls(r)).toContain("GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO 'replicator'@'%';");
    expect(fs.readdirSync(`${r}/tmp`)).toEqual([]);
  });

  test('probes: ready queries over TCP as root with the password through a pipe, and a replica\'s threads run; live pings the socket with no password', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, mysqlStubs);
    expect(runProbe(p, r, 'readinessProbe').status).toBe(0);
    const ready = calls(r);
    expect(ready).toContain('option file: [client]\nuser=root\npassword="r00t \\"pw\\" \\\\ $HOME `x`" from /proc/');
    expect(ready).toMatch(/mysql --defaults-extra-file=\/dev\/fd\/\d+ --protocol=tcp -h127.0.0.1 -P3306 --connect-timeout=3 -N -B -e SELECT SERVICE_STATE FROM performance_schema.replication_connection_status/);
    expect(fs.readdirSync(`${r}/tmp`)).toEqual([]);
    // a replica: both threads ON is ready; a stopped or connecting thread is not
    expect(runProbe(p, r, 'readinessProbe', { REPL_STATUS: 'ON - ON' }).status).toBe(0);
    const stopped = runProbe(p, r, 'readinessProbe', { REPL_STATUS: 'CONNECTING - ON' });
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toMatch(/replication threads are not both running \(IO: CONNECTING, SQL: ON\): it would serve stale data/);
    expect(runProbe(p, r, 'readinessProbe', { REPL_STATUS: 'ON - OFF' }).status).toBe(1);
    fs.rmSync(`${r}/calls.log`);
    // the root password is not needed to tell the server is alive
    removeSecret(r, 'root-password');
    expect(runProbe(p, r, 'livenessProbe').status).toBe(0);
    expect(calls(r)).toBe('mysqladmin --protocol=socket --connect-timeout=3 ping\n');
    const res = runProbe(p, r, 'readinessProbe');
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/ROOT_KEY names \S+\/run\/secrets\/db\/root-password, which does not exist: the credentials Secret has no key 'root-password'/);
  });

  test.each([["quo'te"], ['back\\slash']])('start: a root password with %s is refused before the first initialization, with the fix', (pw) => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { 'docker-entrypoint.sh': 'echo "entrypoint $* MYSQL_ROOT_PASSWORD_FILE=$MYSQL_ROOT_PASSWORD_FILE" >>"$LOG"' }, { ...SECRETS, 'root-password': pw });
    const res = run(p, r, 'main', { ordinal: 0, env: { SCRIPTS_DIR: `${r}/opt/cdk8s-stateful` } });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/contains a single quote or a backslash, which the image's first initialization writes into SQL unescaped .* Fix: put a password without ' and \\ in the Secret's key 'root-password'/);
    expect(calls(r)).toBe('');
    // with data, the password is the server's business: it starts
    fs.mkdirSync(`${r}/var/lib/mysql/data/mysql`, { recursive: true });
    expect(run(p, r, 'main', { ordinal: 0, env: { SCRIPTS_DIR: `${r}/opt/cdk8s-stateful` } }).status).toBe(0);
    expect(calls(r)).toBe(`entrypoint mysqld MYSQL_ROOT_PASSWORD_FILE=${r}/run/secrets/db/root-password\n`);
  });

  test('start: a plain password starts the entrypoint with MYSQL_ROOT_PASSWORD_FILE pointing at the Secret\'s file', () => {
    const p = pod(DatabaseEngine.mysql());
    const r = root(p, { 'docker-entrypoint.sh': 'echo "entrypoint $* MYSQL_ROOT_PASSWORD_FILE=$MYSQL_ROOT_PASSWORD_FILE" >>"$LOG"' }, { ...SECRETS, 'root-password': 'plain-Pw_1"$' });
    expect(run(p, r, 'main', { ordinal: 0, env: { SCRIPTS_DIR: `${r}/opt/cdk8s-stateful` } }).status).toBe(0);
    expect(calls(r)).toBe(`entrypoint mysqld MYSQL_ROOT_PASSWORD_FILE=${r}/run/secrets/db/root-password\n`);
  });
});

describe('mariadb galera', () => {

  test.each([1, 3, 5])('bootstrap: gcomm:// lists all %i members from the headless Service', (replicas) => {
    const p = pod(DatabaseEngine.mariadbGalera(), { replicas });
    const r = root(p);
    const res = run(p, r, 'bootstrap', { ordinal: replicas - 1 });
    expect(res.status).toBe(0);
    const cnf = read(r, 'etc/mysql/conf.d/galera.cnf');
    expect(cnf).toContain(`wsrep_cluster_address=gcomm://${p.db.peerAddresses.join(',')}\n`);
    expect(cnf).toContain(`wsrep_node_name=db-${replicas - 1}.db-headless.data.svc.cluster.local\n`);
    expect(cnf).toContain('wsrep_cluster_name=db\n');
    expect(cnf).toContain('wsrep_provider=/usr/lib/galera/libgalera_smm.so\n');
    expect(cnf).toContain('wsrep_sst_method=mariabackup\n');
    expect(cnf).toContain(`datadir=${r}/var/lib/mysql/data\n`);
    expect(cnf).toContain('binlog_format=ROW\n');
    expect(cnf).not.toContain(SECRETS['root-password']);
  });

  test('bootstrap: a start ordinal of 10 and the hostname fallback', () => {
    const p = pod(DatabaseEngine.mariadbGalera(), { startOrdinal: 10 });
    const r = root(p);
    expect(run(p, r, 'bootstrap', { ordinal: 11, podIndex: false }).status).toBe(0);
    const cnf = read(r, 'etc/mysql/conf.d/galera.cnf');
    expect(cnf).toContain('wsrep_cluster_address=gcomm://db-10.db-headless.data.svc.cluster.local,db-11.db-headless.data.svc.cluster.local,db-12.db-headless.data.svc.cluster.local\n');
    expect(cnf).toContain('wsrep_node_name=db-11.db-headless.data.svc.cluster.local\n');
  });

  const galeraStubs = {
    'docker-entrypoint.sh': 'echo "entrypoint $* MARIADB_ROOT_PASSWORD_FILE=$MARIADB_ROOT_PASSWORD_FILE" >>"$LOG"',
    // following SST logs: not here
    'tail': 'if [[ " $* " == *" -F "* ]]; then exit 0; fi; exec /usr/bin/tail "$@"',
    'mariadbd': 'echo "mariadbd $*" >>"$LOG"; [ -z "${RECOVERED-7}" ] || echo "[Note] WSREP: Recovered position: 6b2f0000-0000-0000-0000-000000000000:${RECOVERED-7}"',
    // the watcher beside the server: no server here
    'mariadb': 'exit 1',
  };
  const uuid = '6b2f0000-0000-0000-0000-000000000000';
  const grastate = (seqno: number, safe: number) => (r: string) => {
    fs.mkdirSync(`${r}/var/lib/mysql/data/mysql`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/mysql/data/grastate.dat`, `# GALERA saved state\nversion: 2.1\nuuid: ${uuid}\nseqno: ${seqno}\nsafe_to_bootstrap: ${safe}\n`);
    fs.writeFileSync(`${r}/var/lib/mysql/.cdk8s-initialized`, '');
  };

  /** Runs the `recover` init container on a volume PREPARE makes; its position file and log. */
  function recover(prepare: (r: string) => void, env: { [name: string]: string } = {}) {
    const p = pod(DatabaseEngine.mariadbGalera());
    const r = root(p, galeraStubs);
    prepare(r);
    const res = run(p, r, 'recover', { ordinal: 0, env });
    expect({ status: res.status, stderr: res.status === 0 ? '' : res.stderr }).toEqual({ status: 0, stderr: '' });
    return { r, stderr: res.stderr, log: calls(r), position: read(r, 'run/mysqld/galera-position') };
  }

  test('recover: an empty volume is no data; a clean stop gives grastate.dat\'s position; a crash InnoDB\'s; an unrecoverable one is data at -1, never empty', () => {
    expect(recover(() => undefined).position).toBe('00000000-0000-0000-0000-000000000000 -1 0 0\n');
    const clean = recover(grastate(12, 1));
    expect(clean.position).toBe(`${uuid} 12 1 1\n`);
    expect(clean.log).not.toContain('--wsrep-recover');
    const crashed = recover(grastate(-1, 0));
    expect(crashed.log).toContain('--wsrep-recover');
    expect(crashed.position).toBe(`${uuid} 7 0 1\n`);
    const lost = recover(grastate(-1, 0), { RECOVERED: '' });
    expect(lost.position).toBe(`${uuid} -1 0 1\n`);
    expect(lost.stderr).toMatch(/could not recover a position from InnoDB/);
  });

  test('recover: a first initialization that stopped half-way (system tables, no marker, no grastate.dat) is moved aside: no data', () => {
    const res = recover((r) => {
      fs.mkdirSync(`${r}/var/lib/mysql/data/mysql`, { recursive: true });
      fs.writeFileSync(`${r}/var/lib/mysql/data/mysql/user.frm`, '');
    });
    expect(res.stderr).toMatch(/its first initialization did not finish/);
    expect(fs.existsSync(`${res.r}/var/lib/mysql/data.failed-init/mysql/user.frm`)).toBe(true);
    expect(fs.existsSync(`${res.r}/var/lib/mysql/data`)).toBe(false);
    expect(res.position).toBe('00000000-0000-0000-0000-000000000000 -1 0 0\n');
    // the initdb script the entrypoint runs at the end of an initialization marks it finished
    const p = pod(DatabaseEngine.mariadbGalera());
    const r = root(p);
    fs.mkdirSync(`${r}/var/lib/mysql/data`, { recursive: true });
    const ok = spawnSync('bash', [`${r}/opt/cdk8s-stateful/galera-initdb.sh`], { env: containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }), encoding: 'utf-8' });
    expect(ok.status).toBe(0);
    expect(fs.existsSync(`${r}/var/lib/mysql/.cdk8s-initialized`)).toBe(true);
  });

  /** Runs install, then galera-start.sh as the database container runs it, with DECISION from `decide`. */
  function start(decision: string | undefined, prepare: (r: string) => void = () => undefined) {
    const p = pod(DatabaseEngine.mariadbGalera());
    const r = root(p, galeraStubs);
    expect(run(p, r, 'install', { ordinal: 0 }).status).toBe(0);
    expect(fs.readdirSync(`${r}/work-dir`).sort()).toEqual(['common.sh', 'galera-probe.sh', 'galera-recover.sh', 'galera-start.sh']);
    prepare(r);
    fs.mkdirSync(`${r}/run/mysqld`, { recursive: true });
    if (decision) fs.writeFileSync(`${r}/run/mysqld/galera-decision`, `${decision}\n`);
    const cenv: { [name: string]: string } = { ...containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }), WATCH_SECONDS: '1' };
    delete cenv.SCRIPTS_DIR;
    const again = () => {
      const res = spawnSync('bash', [`${r}/work-dir/galera-start.sh`], { env: cenv, encoding: 'utf-8', timeout: 15_000 });
      const args = calls(r).split('\n').filter((l) => l.startsWith('entrypoint')).pop() ?? '';
      return { status: res.status, stderr: res.stderr, args: args.replace(/ MARIADB_ROOT_PASSWORD_FILE=.*/, '').split(r).join(''), passwordFile: args.replace(/.* MARIADB_ROOT_PASSWORD_FILE=/, '') };
    };
    return { r, first: again(), again };
  }

  test('start: the Lease\'s holder bootstraps once; when only its container restarts it joins (never a second bootstrap)', () => {
    const { r, first, again } = start('bootstrap', grastate(-1, 0));
    expect(first.status).toBe(0);
    // after a crash: the position recovered from InnoDB (7), told to the server
    expect(first.args).toBe(`entrypoint mariadbd --datadir=/var/lib/mysql/data --wsrep-start-position=${uuid}:7 --wsrep-new-cluster`);
    expect(first.stderr).toMatch(/holds the set's bootstrap Lease: bootstrapping the cluster/);
    expect(read(r, 'var/lib/mysql/data/grastate.dat')).toContain('safe_to_bootstrap: 1\n');
    expect(fs.existsSync(`${r}/run/mysqld/galera-decision`)).toBe(false);
    expect(first.passwordFile).toBe(`${r}/run/secrets/db/root-password`);
    const restarted = again();
    expect(restarted.args).toBe(`entrypoint mariadbd --datadir=/var/lib/mysql/data --wsrep-start-position=${uuid}:7`);
    expect(restarted.stderr).toMatch(/joining the cluster/);
  });

  test('start: a member told to join (or with no decision) starts the server without --wsrep-new-cluster', () => {
    expect(start('join').first.args).toBe('entrypoint mariadbd --datadir=/var/lib/mysql/data');
    expect(start(undefined).first.args).toBe('entrypoint mariadbd --datadir=/var/lib/mysql/data');
  });

  test('probes: start and live pass on a server that answers; live fails once the member left the cluster; exhausted connections (ERROR 1040) are alive', () => {
    const p = pod(DatabaseEngine.mariadbGalera());
    const r = root(p, {
      'mariadb': 'if [ -n "${REFUSE:-}" ]; then echo "ERROR 1040 (HY000): Too many connections" >&2; exit 1; fi; case "$*" in *wsrep_connected*) echo "wsrep_connected	${WSREP_CONNECTED:-ON}" ;; *) echo "wsrep_local_state	${WSREP_STATE:-2}" ;; esac',
      'mariadb-admin': 'exit ${PING_STATUS:-1}',
    });
    const env = { ...containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }) };
    const probe = (kind: string, extra: { [k: string]: string } = {}) =>
      spawnSync('bash', [`${r}/opt/cdk8s-stateful/galera-probe.sh`, kind], { env: { ...env, ...extra }, encoding: 'utf-8' }).status;
    expect(probe('live')).toBe(1);
    expect(probe('start')).toBe(1);
    expect(probe('live', { PING_STATUS: '0' })).toBe(0);
    expect(probe('live', { PING_STATUS: '0', WSREP_CONNECTED: 'OFF' })).toBe(1);
    expect(probe('start', { PING_STATUS: '0', WSREP_CONNECTED: 'OFF' })).toBe(0);
    // mariadb-admin ping counts any answer of the server, ERROR 1040 included
    expect(probe('live', { PING_STATUS: '0', REFUSE: '1' })).toBe(0);
    expect(probe('ready', { REFUSE: '1' })).toBe(1);
    expect(probe('ready', { WSREP_STATE: '4' })).toBe(0);
    // a state transfer into this member: alive, not answering
    fs.mkdirSync(`${r}/var/lib/mysql/data`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/mysql/data/sst_in_progress`, '');
    expect(probe('start')).toBe(0);
  });

  test('bootstrap: SST logs stay out of syslog, the write-set cache is sized, engine settings are in [mariadb]', () => {
    const p = pod(DatabaseEngine.mariadbGalera({ config: { long_query_time: '3' } }));
    const r = root(p);
    expect(run(p, r, 'bootstrap', { ordinal: 0 }).status).toBe(0);
    const cnf = read(r, 'etc/mysql/conf.d/galera.cnf');
    expect(cnf).toContain('wsrep_provider_options="pc.recovery=TRUE;pc.wait_prim=FALSE;gcache.size=1048576K"\n');
    // every commit flushed before it is acknowledged
    expect(cnf).toContain('innodb_flush_log_at_trx_commit=1\nsync_binlog=1\n');
    expect(cnf).toContain('long_query_time=3\n[sst]\nsst-syslog=-1\nsst-log-archive=0\n');
  });
});

describe('postgresql', () => {
  const pgStubs = {
    pg_basebackup: `echo "pg_basebackup $* PGPASSFILE=$PGPASSFILE" >>"$LOG"
for a in "$@"; do case "$a" in --pgdata=*) d="\${a#--pgdata=}";; esac; done
mkdir -p "$d"; echo 17 >"$d/PG_VERSION"; echo "# Do not edit" >"$d/postgresql.auto.conf"`,
    psql: 'echo "psql $* <<< $(cat)" >>"$LOG"',
    ...netStub,
  };

  test('clone: an empty primary that founds the set (it created the founding Lease) does not clone: the entrypoint initializes it, asking no one', () => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, pgStubs);
    const res = run(p, r, 'clone', { ordinal: 0, founded: 'found', env: { NET: 'refused', POLL_SECONDS: '1' } });
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/new primary; the image's entrypoint initializes/);
    expect(calls(r)).toBe('');
  });

  test('clone: an empty primary of a founded set whose members refuse connections waits for one with data: never a new cluster', () => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, pgStubs);
    const res = run(p, r, 'clone', { ordinal: 0, env: { NET: 'refused', POLL_SECONDS: '1' }, timeout: 4000 });
    expect(res.status).toBeNull();
    expect(res.stderr).toMatch(/waiting for a member with data to copy \(no answer from: db-1\.db-headless\.data\.svc\.cluster\.local db-2\.db-headless\.data\.svc\.cluster\.local; empty: none\)[\s\S]*never starts a new data set by itself/);
    expect(res.stderr).not.toMatch(/new primary/);
    // it asks the others where their WAL goes, over a replication connection
    expect(calls(r)).toContain('psql --no-psqlrc -At host=db-1.db-headless.data.svc.cluster.local port=5432 user=replicator replication=true connect_timeout=3 -c IDENTIFY_SYSTEM');
    expect(calls(r)).not.toContain('pg_basebackup');
  });

  test('clone: an empty primary copies the standby whose WAL goes furthest, and starts from it as the primary', () => {
    const p = pod(DatabaseEngine.postgresql());
    const stubs = { ...pgStubs, psql: `echo "psql $*" >>"$LOG"; case "$*" in *host=127.0.0.2*IDENTIFY_SYSTEM*) echo "7001|1|0/3000060|" ;; *host=127.0.0.3*IDENTIFY_SYSTEM*) echo "7001|1|1/10|" ;; *) exit 1 ;; esac` };
    const r = root(p, stubs);
    const res = run(p, r, 'clone', { ordinal: 0, env: { PEERS: 'self 127.0.0.2 127.0.0.3', POLL_SECONDS: '1' } });
    expect(res.stderr).toMatch(/127.0.0.3 holds data \(position 4294967312\)/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(`pg_basebackup --host=127.0.0.3 --port=5432 --username=replicator --pgdata=${r}/var/lib/postgresql/data/pgdata.clone`);
    expect(fs.existsSync(`${r}/var/lib/postgresql/data/pgdata/standby.signal`)).toBe(false);
    expect(read(r, 'var/lib/postgresql/data/pgdata/PG_VERSION')).toBe('17\n');
  });

  test.each([1, 2])('clone: replica %i takes a pg_basebackup of the primary and becomes its standby', (ordinal) => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, pgStubs);
    const res = run(p, r, 'clone', { ordinal });
    expect(res.stderr).toContain(`created the replication slot db_${ordinal}`);
    expect(res.stderr).toMatch(/cloned/);
    expect(res.status).toBe(0);
    const primary = 'db-0.db-headless.data.svc.cluster.local';
    const pgdata = `${r}/var/lib/postgresql/data/pgdata`;
    const passfile = `${r}/var/run/postgresql/.pgpass`;
    expect(calls(r)).toContain(`pg_basebackup --host=${primary} --port=5432 --username=replicator --pgdata=${pgdata}.clone --wal-method=stream --checkpoint=fast --no-password --slot=db_${ordinal} PGPASSFILE=${passfile}\n`);
    // ':' and '\' are escaped in the password file, which only the owner may read
    expect(read(r, 'var/run/postgresql/.pgpass')).toBe(`*:5432:*:replicator:re'pl\\\\ic\\:a$tion "pw"\n`);
    expect(fs.statSync(passfile).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${pgdata}/standby.signal`)).toBe(true);
    expect(read(r, 'var/lib/postgresql/data/pgdata/postgresql.auto.conf')).toContain(
      `primary_conninfo = 'host=${primary} port=5432 user=replicator passfile=${passfile} application_name=db-${ordinal}'\nprimary_slot_name = 'db_${ordinal}'\n`);
    expect(fs.statSync(pgdata).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(`${pgdata}.clone`)).toBe(false);
  });

  test('clone: a replica with data only refreshes its password file', () => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, pgStubs);
    fs.mkdirSync(`${r}/var/lib/postgresql/data/pgdata`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/postgresql/data/pgdata/PG_VERSION`, '17\n');
    expect(run(p, r, 'clone', { ordinal: 1 }).status).toBe(0);
    expect(calls(r)).not.toContain('pg_basebackup');
    expect(calls(r)).toContain('-c CREATE_REPLICATION_SLOT db_1 PHYSICAL RESERVE_WAL');
    expect(read(r, 'var/run/postgresql/.pgpass')).toContain(':replicator:');
    expect(read(r, 'var/lib/postgresql/data/pgdata/postgresql.auto.conf')).toBe("primary_slot_name = 'db_1'\n");
  });

  test('initdb: creates the replication role through stdin and allows it in pg_hba.conf', () => {
    const p = pod(DatabaseEngine.postgresql());
    const r = root(p, pgStubs);
    const main = p.spec.containers[0];
    fs.mkdirSync(`${r}/var/lib/postgresql/data/pgdata`, { recursive: true });
    const env = underEntrypoint(containerEnv(p, main, r, { ordinal: 0 }), ['POSTGRES_PASSWORD', 'POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_INITDB_ARGS']);
    expect(env.POSTGRES_PASSWORD_FILE).toBeUndefined();
    const res = spawnSync('bash', [`${r}/opt/cdk8s-stateful/postgres-initdb.sh`], { env, encoding: 'utf-8' });
    expect(res.status).toBe(0);
    const log = calls(r);
    expect(log).toContain(`CREATE ROLE "replicator" WITH REPLICATION LOGIN PASSWORD 're''pl\\ic:a$tion "pw"';`);
    expect(log.split('<<<')[0]).not.toContain('pw');
    expect(read(r, 'var/lib/postgresql/data/pgdata/pg_hba.conf')).toBe('host replication replicator all scram-sha-256\n');
  });

  test('clone: a renamed replication key is the file read into .pgpass', () => {
    const p = pod(DatabaseEngine.postgresql(), {}, 'db', { replicationPasswordKey: 'repl' });
    const r = root(p, pgStubs, { repl: 'other:pw\n' });
    expect(run(p, r, 'clone', { ordinal: 1 }).status).toBe(0);
    expect(read(r, 'var/run/postgresql/.pgpass')).toBe('*:5432:*:replicator:other\\:pw\n');
  });

  describe('probes', () => {
    // pg_isready's status: 0 accepting, 1 rejecting (starting, recovering), 2 no response
    const stubs = {
      pg_isready: 'echo "pg_isready $*" >>"$LOG"; case "$*" in *--host=/*) exit "${SOCKET_STATUS:-0}" ;; *) exit "${TCP_STATUS:-0}" ;; esac',
      psql: 'echo "psql $*" >>"$LOG"; case "$*" in *CREATE_REPLICATION_SLOT*) exit 0 ;; esac; echo "${ROW:-f|none}"',
    };
    const probe = (kind: 'readinessProbe' | 'livenessProbe', socket: number, tcp: number, row?: string) => {
      const p = pod(DatabaseEngine.postgresql());
      const r = root(p, stubs);
      fs.mkdirSync(`${r}/var/run/postgresql`, { recursive: true });
      fs.writeFileSync(`${r}/var/run/postgresql/.pgpass`, '*:5432:*:replicator:x\n');
      return { ...runProbe(p, r, kind, { SOCKET_STATUS: String(socket), TCP_STATUS: String(tcp), ROW: row ?? 'f|none', HOSTNAME: 'db-1' }), calls: calls(r) };
    };

    test('ready: accepting connections over TCP, no password; a standby only while it streams', () => {
      const ok = probe('readinessProbe', 2, 0);
      expect(ok.status).toBe(0);
      expect(ok.calls).toContain('pg_isready --host=127.0.0.1 --port=5432 --timeout=3\n');
      expect(probe('readinessProbe', 0, 0, 't|streaming').status).toBe(0);
      const stale = probe('readinessProbe', 0, 0, 't|none');
      expect(stale.status).toBe(1);
      expect(stale.stderr).toMatch(/this standby does not stream from the primary \(WAL receiver: none\): it would serve stale data/);
      // it (re)creates its slot on the primary, which may have been rebuilt from a copy
      expect(stale.calls).toContain('-c CREATE_REPLICATION_SLOT db_1 PHYSICAL RESERVE_WAL');
      expect(probe('readinessProbe', 0, 1).status).toBe(1);
      expect(probe('readinessProbe', 0, 2).stderr).toMatch(/not accepting connections over TCP \(pg_isready exit 2/);
    });

    test('live: the postmaster answers on its socket or over TCP, even to reject connections while it recovers', () => {
      expect(probe('livenessProbe', 0, 2).status).toBe(0);
      expect(probe('livenessProbe', 1, 2).status).toBe(0);
      const tcp = probe('livenessProbe', 2, 1);
      expect(tcp.status).toBe(0);
      expect(tcp.calls).toMatch(/^pg_isready --host=\S*\/var\/run\/postgresql --port=5432 --timeout=3\npg_isready --host=127.0.0.1 --port=5432 --timeout=3\n$/);
      const dead = probe('livenessProbe', 2, 2);
      expect(dead.status).toBe(1);
      expect(dead.stderr).toMatch(/does not answer on \S*\/var\/run\/postgresql or 127.0.0.1:5432/);
    });
  });
});

describe('postgresql with Patroni', () => {
  const engine = () => DatabaseEngine.postgresql({ patroni: { image: 'registry.example.com/postgres-patroni:18.4-4.1.5' }, maxConnections: 200 });
  // patroni: keeps the configuration it was started with and its mode; postgres: the server binary the script looks for
  const stubs = { patroni: 'cp "$1" "$LOG.patroni.yml"; echo "patroni $* mode $(stat -c %a "$1")" >>"$LOG"', postgres: 'exit 0' };
  const start = (secrets = SECRETS) => {
    const p = pod(engine());
    const r = root(p, stubs, secrets);
    const res = run(p, r, 'main', { ordinal: 1, env: { PG_BIN_DIR: `${r}/stubs`, PG_MAJOR: '18' } });
    return { r, res, config: fs.existsSync(`${r}/calls.log.patroni.yml`) ? parseYaml(read(r, 'calls.log.patroni.yml')) : undefined };
  };

  test('patroni-start.sh writes patroni.yml (mode 0600, in the run volume) from the environment and the Secret\'s files, then execs patroni', () => {
    const { r, res, config } = start();
    expect(res.stderr).toMatch(/member db-1 of db in data/);
    expect(res.status).toBe(0);
    expect(calls(r)).toBe(`patroni ${r}/var/run/postgresql/patroni.yml mode 600\n`);
    // every password as the Secret holds it: quotes, backslashes, $ and backquotes survive YAML
    expect(config.postgresql.authentication).toEqual({
      superuser: { username: 'postgres', password: SECRETS['root-password'] },
      replication: { username: 'replicator', password: SECRETS['replication-password'] },
      rewind: { username: 'postgres', password: SECRETS['root-password'] },
    });
    expect(config.restapi).toEqual({ listen: '0.0.0.0:8008', connect_address: '10.250.0.7:8008', authentication: { username: 'patroni', password: SECRETS['root-password'] } });
    expect(config).toMatchObject({ scope: 'db', name: 'db-1' });
    expect(config.kubernetes).toMatchObject({
      namespace: 'data', use_endpoints: false, scope_label: 'app.kubernetes.io/instance', role_label: 'cdk8s-stateful.dev/role',
      leader_label_value: 'primary', follower_label_value: 'replica', pod_ip: '10.250.0.7',
    });
    expect(config.bootstrap.dcs).toEqual({
      ttl: 20, loop_wait: 5, retry_timeout: 5, maximum_lag_on_failover: 1048576, failsafe_mode: true, synchronous_mode: true,
      postgresql: { use_pg_rewind: true, use_slots: true, parameters: { max_connections: '200', max_slot_wal_keep_size: '2097152kB', wal_keep_size: '256MB' } },
    });
    expect(config.bootstrap.post_bootstrap).toBe(`${r}/opt/cdk8s-stateful/patroni-bootstrap.sh`);
    expect(config.postgresql).toMatchObject({
      data_dir: `${r}/var/lib/postgresql/data/pgdata`, bin_dir: `${r}/stubs`, connect_address: '10.250.0.7:5432',
      parameters: { unix_socket_directories: `/var/run/postgresql` },
      pg_hba: ['local all all trust', 'host replication replicator all scram-sha-256', 'host all all all scram-sha-256'],
    });
  });

  test('patroni-start.sh refuses a password with a line break, naming it', () => {
    const { res, config } = start({ ...SECRETS, 'replication-password': 'two\nlines' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/the replication password contains a line break/);
    expect(config).toBeUndefined();
  });

  test('patroni-start.sh refuses an image without Patroni or without the server, with the fix', () => {
    const p = pod(engine());
    const r = root(p, { postgres: 'exit 0' });
    const res = run(p, r, 'main', { ordinal: 0, env: { PG_BIN_DIR: `${r}/stubs`, PATH: `${r}/stubs:/usr/bin:/bin` } });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/the image has no patroni on PATH. Fix: build the image with Patroni/);
    const noServer = run(p, root(p, stubs), 'main', { ordinal: 0, env: { PG_MAJOR: '99' } });
    expect(noServer.stderr).toMatch(/no PostgreSQL server in \/usr\/lib\/postgresql\/99\/bin/);
  });

  test('patroni-bootstrap.sh creates the application role and database once, the password through stdin', () => {
    const p = pod(engine());
    const r = root(p, { psql: 'echo "psql $* <<< $(cat)" >>"$LOG"' }, { ...SECRETS, username: 'app' });
    const env = containerEnv(p, p.spec.containers[0], r, { ordinal: 0 });
    const res = spawnSync('bash', [`${r}/opt/cdk8s-stateful/patroni-bootstrap.sh`, 'postgres://postgres@%2Fvar%2Frun%2Fpostgresql:5432/postgres'], { env, encoding: 'utf-8' });
    expect(res.stderr).toMatch(/created the application role and database 'app'/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(`psql -v ON_ERROR_STOP=1 --no-psqlrc postgres://postgres@%2Fvar%2Frun%2Fpostgresql:5432/postgres <<< CREATE ROLE "app" WITH LOGIN PASSWORD 'red "is"\\ pass $word';`);
    expect(calls(r)).toContain('CREATE DATABASE "app" OWNER "app";');
  });
});

describe('redis', () => {
  const quiet = { NET: 'refused', POLL_SECONDS: '1' };
  const noRedis = { 'redis-cli': 'exit 1', ...netStub };

  test('config: the primary gets requirepass and masterauth from the Secret\'s file, no replicaof; maxmemory from the limit', () => {
    const p = pod(DatabaseEngine.redis());
    const r = root(p, noRedis);
    const res = run(p, r, 'config', { ordinal: 0, founded: 'found', env: quiet });
    expect(res.status).toBe(0);
    expect(calls(r)).toBe('');
    const conf = read(r, 'etc/redis/redis.conf');
    const lines = conf.split('\n');
    const arg = (key: string) => lines.find((l) => l.startsWith(`${key} `))!.slice(key.length + 1);
    expect(redisUnquote(arg('requirepass'))).toBe(SECRETS.password);
    expect(redisUnquote(arg('masterauth'))).toBe(SECRETS.password);
    expect(arg('dir')).toBe(`${r}/data`);
    expect(conf).toContain('appendonly yes\n');
    expect(conf).not.toContain('replicaof');
    // 45% of the 1 GiB limit, no eviction
    expect(conf).toContain('maxmemory 460mb\nmaxmemory-policy noeviction\n');
    expect(fs.statSync(`${r}/etc/redis/redis.conf`).mode & 0o777).toBe(0o600);
    // the password never reaches the ConfigMap
    expect(JSON.stringify(p.files)).not.toContain('pass $word');
  });

  test.each([1, 2])('config: ordinal %i is a read-only replica of ordinal 0', (ordinal) => {
    const p = pod(DatabaseEngine.redis());
    const r = root(p);
    expect(run(p, r, 'config', { ordinal, podIndex: false }).status).toBe(0);
    const conf = read(r, 'etc/redis/redis.conf');
    expect(conf).toContain('replicaof db-0.db-headless.data.svc.cluster.local 6379\n');
    expect(conf).toContain('replica-read-only yes\n');
    expect(conf).toContain('masterauth "red \\"is\\"\\\\ pass $word"\n');
  });

  test('config: a password with a line break is refused; a trailing newline (kubectl --from-file) is not part of it', () => {
    const p = pod(DatabaseEngine.redis());
    let r = root(p, {}, { password: 'two\nlines' });
    const res = run(p, r, 'config', { ordinal: 1 });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/line break/);
    expect(fs.existsSync(`${r}/etc/redis/redis.conf`)).toBe(false);
    r = root(p, {}, { password: 'pw\n' });
    expect(run(p, r, 'config', { ordinal: 1 }).status).toBe(0);
    expect(read(r, 'etc/redis/redis.conf')).toContain('masterauth "pw"\n');
  });

  test('config: an empty primary whose replicas are still loading their data (an error reply to DBSIZE, on which redis-cli exits 0) keeps waiting', () => {
    const p = pod(DatabaseEngine.redis());
    const loading = {
      ...netStub,
      'redis-cli': `case "$*" in
  *"info replication") printf 'role:slave\\nmaster_repl_offset:0\\n' ;;
  *"info persistence") printf 'loading:1\\n' ;;
  *dbsize) echo "LOADING Redis is loading the dataset in memory" ;;
esac`,
    };
    const r = root(p, loading);
    const res = run(p, r, 'config', { ordinal: 0, env: { NET: 'open', POLL_SECONDS: '1' }, timeout: 4000 });
    expect(res.status).toBeNull();
    expect(res.stderr).toMatch(/waiting for a member with data to copy \(no answer from: db-1\.db-headless\.data\.svc\.cluster\.local db-2\.db-headless\.data\.svc\.cluster\.local; empty: none\)[\s\S]*never starts a new data set by itself/);
    expect(fs.existsSync(path.join(r, 'etc/redis/redis.conf'))).toBe(false);
  });

  // A member that refuses connections may hold data (its server is starting, loading or
  // crash-looping): once the set was founded (the founding Lease exists), an empty primary waits
  // for a member with data, however long, and never starts a new data set by itself.
  test('config: an empty primary of a founded set whose peers refuse connections waits: no new data set', () => {
    const p = pod(DatabaseEngine.redis());
    const r = root(p, noRedis);
    const res = run(p, r, 'config', { ordinal: 0, env: quiet, timeout: 4000 });
    expect(res.status).toBeNull();
    expect(res.stderr).toMatch(/waiting for a member with data to copy/);
    expect(fs.existsSync(path.join(r, 'etc/redis/redis.conf'))).toBe(false);
  });

  test('config: a renamed password key is the file read', () => {
    const p = pod(DatabaseEngine.redis(), {}, 'db', { passwordKey: 'redis-pw' });
    const r = root(p, noRedis, { 'redis-pw': 'renamed' });
    expect(run(p, r, 'config', { ordinal: 0, founded: 'found', env: quiet }).status).toBe(0);
    expect(read(r, 'etc/redis/redis.conf')).toContain('requirepass "renamed"\n');
  });

  describe('probes', () => {
    // a server that answers $REPLY to an authenticated PING, NOAUTH (or $UNAUTH) to any other, and
    // nothing when $DOWN is set
    const stubs = {
      'redis-cli': `echo "redis-cli $* auth=\${REDISCLI_AUTH-unset}" >>"$LOG"
if [ -n "\${DOWN:-}" ]; then echo "Could not connect to Redis at 127.0.0.1:6379: Connection refused" >&2; exit 1; fi
if [ -n "\${REDISCLI_AUTH:-}" ]; then case "$*" in *"info replication") printf '%b\\n' "\${INFO:-role:master}" ;; *) echo "$REPLY" ;; esac; else echo "\${UNAUTH:-NOAUTH Authentication required.}"; fi`,
    };
    const probe = (kind: 'readinessProbe' | 'livenessProbe', env: { [name: string]: string }) => {
      const p = pod(DatabaseEngine.redis());
      const r = root(p, stubs);
      return { ...runProbe(p, r, kind, env), calls: calls(r), r };
    };

    test('ready: an authenticated PING answers PONG; the password reaches redis-cli in its environment only', () => {
      const ok = probe('readinessProbe', { REPLY: 'PONG' });
      expect(ok.status).toBe(0);
      expect(ok.calls).toContain(`redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 ping auth=${SECRETS.password}\n`);
      // a replica is ready only while linked to its primary
      expect(probe('readinessProbe', { REPLY: 'PONG', INFO: 'role:slave\nmaster_link_status:up' }).status).toBe(0);
      const down = probe('readinessProbe', { REPLY: 'PONG', INFO: 'role:slave\nmaster_link_status:down' });
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/this replica's link to its primary is 'down': it would serve stale data/);
      expect(probe('readinessProbe', { REPLY: 'LOADING Redis is loading the dataset in memory' }).stderr).toMatch(/PING answered 'LOADING/);
      expect(probe('readinessProbe', { REPLY: 'WRONGPASS invalid username-password pair' }).status).toBe(1);
      expect(probe('readinessProbe', { DOWN: '1' }).status).toBe(1);
    });

    test('ready: fails clearly without the password file', () => {
      const p = pod(DatabaseEngine.redis());
      const r = root(p, stubs);
      removeSecret(r, 'password');
      const res = runProbe(p, r, 'readinessProbe', { REPLY: 'PONG' });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/PW_KEY names \S+, which does not exist: the credentials Secret has no key 'password'/);
      expect(calls(r)).toBe('');
    });

    test('live: the server answers a PING at all, without the password (a rotated Secret must not get it killed)', () => {
      const noauth = probe('livenessProbe', { REDISCLI_AUTH: 'leaked', REPLY: 'PONG' });
      expect(noauth.status).toBe(0);
      expect(noauth.calls).toBe('redis-cli -h 127.0.0.1 -p 6379 ping auth=unset\n');
      expect(probe('livenessProbe', { UNAUTH: 'LOADING Redis is loading the dataset in memory' }).status).toBe(0);
      expect(probe('livenessProbe', { UNAUTH: '(error) BUSY Redis is busy running a script.' }).status).toBe(0);
      expect(probe('livenessProbe', { UNAUTH: 'PONG' }).status).toBe(0);
      const down = probe('livenessProbe', { DOWN: '1' });
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/no answer to PING: 'Could not connect to Redis/);
    });
  });
});

describe('zookeeper', () => {
  const zk = (replicas = 3, startOrdinal = 0) => pod(DatabaseEngine.zookeeper(), { replicas, startOrdinal }, 'zk');
  const domain = 'zk-headless.data.svc.cluster.local';
  /** The member's zoo.cfg on its volume and the dynamic config file it points to. */
  const configOf = (r: string) => {
    const cfg = read(r, 'data/conf/zoo.cfg');
    const dynamic = /^dynamicConfigFile=(.*)$/m.exec(cfg)?.[1] ?? '';
    return { cfg, dynamic, servers: fs.readFileSync(dynamic, 'utf-8').split('\n').filter(Boolean) };
  };
  const imageConf = (r: string) => {
    fs.mkdirSync(`${r}/conf`);
    fs.writeFileSync(`${r}/conf/logback.xml`, '<configuration/>');
    fs.writeFileSync(`${r}/conf/zoo.cfg`, 'from the image');
  };

  test.each([[1, 0, 0], [3, 0, 0], [3, 4, 4]])('config: %i members from ordinal %i, the founding member %i: an ensemble of itself alone, with reconfig', (replicas, startOrdinal, ordinal) => {
    const p = zk(replicas, startOrdinal);
    const r = root(p);
    imageConf(r);
    const res = run(p, r, 'config', { ordinal, founded: 'found' });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(read(r, 'data/myid')).toBe(`${ordinal + 1}\n`);
    const { cfg, dynamic, servers } = configOf(r);
    expect(dynamic).toBe(`${r}/data/conf/zoo.cfg.dynamic.cdk8s`);
    expect(servers).toEqual([`server.${ordinal + 1}=zk-${ordinal}.${domain}:2888:3888:participant;2181`]);
    expect(cfg).toContain(`dataDir=${r}/data\n`);
    expect(cfg).toContain(`dataLogDir=${r}/data/log\n`);
    expect(cfg).toContain('standaloneEnabled=false\nreconfigEnabled=true\n');
    expect(cfg).toContain('4lw.commands.whitelist=ruok,srvr,mntr,conf\n');
    expect(cfg).not.toMatch(/^server\.|^clientPort/m);
    expect(fs.readdirSync(`${r}/cdk8s-conf`).sort()).toEqual(['logback.xml']);
    expect(fs.existsSync(`${r}/data/log`)).toBe(true);
  });

  test('the pod template does not depend on the replica count: a resize changes no member (no roll)', () => {
    const template = (replicas: number) => JSON.stringify(zk(replicas).spec);
    expect(template(5)).toBe(template(3));
    expect(template(3)).not.toContain('PEERS');
  });

  test('config: a restart keeps the membership ZooKeeper wrote on the volume, whatever the app now says', () => {
    const p = zk(3);
    const r = root(p);
    expect(run(p, r, 'config', { ordinal: 0, founded: 'found' }).status).toBe(0);
    // ZooKeeper committed a reconfig: a new dynamic file, and zoo.cfg points to it
    const live = [0, 1, 2, 3, 4].map((i) => `server.${i + 1}=zk-${i}.${domain}:2888:3888:participant;0.0.0.0:2181`);
    fs.writeFileSync(`${r}/data/conf/zoo.cfg.dynamic.100000007`, live.join('\n') + '\n');
    fs.writeFileSync(`${r}/data/conf/zoo.cfg`, read(r, 'data/conf/zoo.cfg').replace(/dynamicConfigFile=.*/, `dynamicConfigFile=${r}/data/conf/zoo.cfg.dynamic.100000007`));
    const again = run(zk(5), r, 'config', { ordinal: 0, founded: 'present' });
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/server 1 restarts with its ensemble config .*zoo.cfg.dynamic.100000007 \(5 servers\)/);
    expect(configOf(r).servers).toEqual(live);
    expect(read(r, 'data/myid')).toBe('1\n');
  });

  test('config: an empty member of a founded set joins the live ensemble (zkCli config) without a vote; a replaced volume takes a new id', () => {
    const live = [0, 1, 2].map((i) => `server.${i + 1}=zk-${i}.${domain}:2888:3888:participant;0.0.0.0:2181`);
    // stands in for the live quorum's answer to `config`, through the headless Service
    const stubs = { 'zkCli.sh': `echo "zkCli $*" >>"$LOG"; printf '%s\\n' ${live.map((l) => `'${l}'`).join(' ')} version=100000003` };
    const p = zk(5);
    const r = root(p, stubs);
    const res = run(p, r, 'config', { ordinal: 3, founded: 'present' });
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(`-server ${domain}:2181 config`);
    expect(read(r, 'data/myid')).toBe('4\n');
    expect(configOf(r).servers).toEqual([...live, `server.4=zk-3.${domain}:2888:3888:participant;2181`]);
    // zk-1's volume was replaced: its old id 2 is still a voter, so it joins as 1002
    const r1 = root(p, stubs);
    expect(run(p, r1, 'config', { ordinal: 1, founded: 'present' }).status).toBe(0);
    expect(read(r1, 'data/myid')).toBe('1002\n');
    expect(configOf(r1).servers).toEqual([...live, `server.1002=zk-1.${domain}:2888:3888:participant;2181`]);
    // a joiner restarted before the quorum added it (ZooKeeper kept the leader's config, without it): joins again
    const r3 = root(p, stubs);
    fs.mkdirSync(`${r3}/data/conf`, { recursive: true });
    fs.writeFileSync(`${r3}/data/myid`, '4\n');
    fs.writeFileSync(`${r3}/data/conf/zoo.cfg.dynamic.100000003`, live.join('\n') + '\n');
    fs.writeFileSync(`${r3}/data/conf/zoo.cfg`, `dynamicConfigFile=${r3}/data/conf/zoo.cfg.dynamic.100000003\n`);
    expect(run(p, r3, 'config', { ordinal: 3, founded: 'present' }).status).toBe(0);
    expect(configOf(r3).servers).toEqual([...live, `server.4=zk-3.${domain}:2888:3888:participant;2181`]);
  });

  test('config: a member of a static ensemble (an earlier version of the preset) keeps its recorded list', () => {
    const p = zk(3);
    const r = root(p);
    const list = [0, 1, 2].map((i) => `server.${i + 1}=zk-${i}.${domain}:2888:3888;2181`);
    fs.mkdirSync(`${r}/data`, { recursive: true });
    fs.writeFileSync(`${r}/data/cdk8s-ensemble`, list.join('\n') + '\n');
    expect(run(p, r, 'config', { ordinal: 2, founded: 'present' }).status).toBe(0);
    expect(configOf(r).servers).toEqual(list);
    expect(read(r, 'data/myid')).toBe('3\n');
  });

  test('start: a superuser of this member only, its password in the memory volume, the server given only the digest', () => {
    const p = zk(3);
    const r = root(p, { 'zkServer.sh': 'echo "zkServer.sh $* $SERVER_JVMFLAGS" >>"$LOG"' });
    const main = p.spec.containers[0];
    expect(p.spec.volumes).toContainEqual({ name: 'admin', emptyDir: { medium: 'Memory' } });
    expect(main.volumeMounts).toContainEqual({ name: 'admin', mountPath: '/var/run/cdk8s-admin' });
    fs.mkdirSync(`${r}/var/run/cdk8s-admin`, { recursive: true });
    expect(run(p, r, 'main', { ordinal: 0, env: { MEMBERS_INTERVAL: '0.2' } }).status).toBe(0);
    const password = read(r, 'var/run/cdk8s-admin/password');
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    const digest = crypto.createHash('sha1').update(`cdk8s:${password}`).digest('base64');
    expect(calls(r)).toContain(`zkServer.sh start-foreground ${r}/data/conf/zoo.cfg `);
    expect(calls(r)).toContain(`-Dzookeeper.DigestAuthenticationProvider.superDigest=cdk8s:${digest}`);
    expect(calls(r)).not.toContain(password);
  });

  /** Runs the probe (asynchronously: the fake server must answer) against a server replying `reply`. */
  async function probe(kind: string, reply: string): Promise<number | null> {
    const server = net.createServer((s) => s.once('data', () => s.end(reply)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const p = pod(DatabaseEngine.zookeeper(), {}, 'zk');
      const r = root(p);
      const env = { ...containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }), CLIENT_PORT: String((server.address() as net.AddressInfo).port) };
      const child = spawn('bash', [`${r}/opt/cdk8s-stateful/zookeeper-probe.sh`, kind], { env, stdio: 'ignore' });
      return await new Promise((resolve) => child.on('exit', resolve));
    } finally {
      server.close();
    }
  }

  test('probe: ready only when serving (srvr reports a Mode), live on imok', async () => {
    expect(await probe('ready', 'Zookeeper version: 3.9.3\nLatency min/avg/max: 0/0/0\nMode: follower\nNode count: 5\n')).toBe(0);
    expect(await probe('ready', 'This ZooKeeper instance is not currently serving requests\n')).not.toBe(0);
    expect(await probe('live', 'imok')).toBe(0);
    expect(await probe('live', '')).not.toBe(0);
  });
});

/**
 * A pgbackrest stand-in: every call logged in $LOG; `restore` fills --pg1-path (RESTORE_FAILS=1
 * fails it), a full `backup` fails with BACKUP_FAILS=1 (one reading a standby also with
 * STANDBY_FAILS=1), `info` answers one backup's JSON, `repo-ls` lists REPO_LS.
 */
const PGBACKREST_STUB = `echo "pgbackrest $*" >>"$LOG"
for a in "$@"; do case "$a" in --pg1-path=*) d="\${a#--pg1-path=}";; esac; done
case "$*" in
  *restore) [ -z "\${RESTORE_FAILS:-}" ] || exit 1; echo 18 >"$d/PG_VERSION" ;;
  *--backup-standby*backup) [ -z "\${STANDBY_FAILS:-}\${BACKUP_FAILS:-}" ] || exit 1 ;;
  *--type=full*backup) [ -z "\${BACKUP_FAILS:-}" ] || exit 1 ;;
  *info) echo '[{"backup":[{"info":{"delta":9,"repository":{"delta":1234,"size":1234},"size":9}}]}]' ;;
  *repo-ls*) printf '%s\\n' \${REPO_LS:-} ;;
esac`;

describe('postgresql with pgBackRest', () => {
  const repository = { bucket: 'backups', endpoint: 's3.store.svc:7070', region: 'us-east-1', path: '/prod/db', caCertificateKey: 's3-ca.crt' };
  const image = 'registry.example.com/postgres-pgbackrest:18.6';
  const keys = { ...SECRETS, 's3-access-key-id': 'AKIDEXAMPLE', 's3-secret-access-key': 'wJalr/K7MDENG+bPxRfiCY', 's3-ca.crt': '-----BEGIN CERTIFICATE-----\n' };
  /** pgbackrest and pg_isready stubs: calls logged; `restore` fills --pg1-path; BACKUP_FAILS=1 makes `backup` fail. */
  const stubs = {
    pgbackrest: PGBACKREST_STUB,
    pg_isready: 'exit 0',
    ...netStub,
  };
  const helper = (r: string, fn: string) => spawnSync('bash', ['-c', `. "${r}/opt/cdk8s-stateful/common.sh"; . "${r}/opt/cdk8s-stateful/pgbackrest.sh"; . "${r}/opt/cdk8s-stateful/cron.sh"; ${fn}`], {
    env: { PATH: process.env.PATH }, encoding: 'utf-8',
  });

  test('cron_matches reads the five fields as cron does (steps, ranges, lists, either day field, Sunday as 7)', () => {
    const r = root(pod(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *' } })));
    const fires = (schedule: string, time: string) => helper(r, `cron_matches '${schedule}' '${time}'`).status === 0;
    expect(fires('30 2 * * *', '30 02 06 12 0')).toBe(true);
    expect(fires('30 2 * * *', '31 02 06 12 0')).toBe(false);
    expect(fires('*/15 * * * *', '45 13 01 01 3')).toBe(true);
    expect(fires('*/15 * * * *', '08 13 01 01 3')).toBe(false);
    expect(fires('5/20 * * * *', '45 00 01 01 3')).toBe(true);
    expect(fires('0 9-17/4 * * 1-5', '00 13 02 03 1')).toBe(true);
    expect(fires('0 9-17/4 * * 1-5', '00 15 02 03 1')).toBe(false);
    expect(fires('0 0 1,15 * *', '00 00 15 07 2')).toBe(true);
    // both day fields restricted: either one
    expect(fires('0 0 1 * 0', '00 00 09 08 0')).toBe(true);
    expect(fires('0 0 1 * 0', '00 00 01 08 4')).toBe(true);
    expect(fires('0 0 1 * 0', '00 00 02 08 4')).toBe(false);
    expect(fires('0 0 * * 7', '00 00 09 08 0')).toBe(true);
  });

  test('clone with restoreFrom: the empty primary restores to the point in time, its config holds the Secret\'s keys, the data moved into place', () => {
    const p = pod(DatabaseEngine.postgresql({ restoreFrom: { image, repository, pointInTime: '2026-03-01T12:00:00.250Z' } }), { replicas: 1 });
    const r = root(p, stubs, keys);
    const res = run(p, r, 'clone', { ordinal: 0 });
    expect(res.stderr).toMatch(/restored; the server replays the archived WAL up to 2026-03-01 12:00:00\.250\+00/);
    expect(res.status).toBe(0);
    const conf = `${r}/var/run/postgresql/pgbackrest-restore.conf`;
    expect(calls(r)).toContain(`pgbackrest --config=${conf} --stanza=db --pg1-path=${r}/var/lib/postgresql/data/pgdata.restore --type=time --target=2026-03-01 12:00:00.250+00 --target-action=promote`);
    expect(calls(r)).toContain(`--recovery-option=restore_command=pgbackrest --config=${conf} --stanza=db archive-get %f "%p" restore`);
    expect(read(r, 'var/lib/postgresql/data/pgdata/PG_VERSION')).toBe('18\n');
    const text = fs.readFileSync(conf, 'utf-8');
    expect(text).toContain('repo1-s3-key=AKIDEXAMPLE\nrepo1-s3-key-secret=wJalr/K7MDENG+bPxRfiCY\n');
    expect(text).toContain('repo1-s3-endpoint=s3.store.svc\nrepo1-storage-port=7070\n');
    expect(text).toMatch(/\nrepo1-path=\S*\/prod\/db\n/);
    expect(text).toContain(`repo1-storage-ca-file=${r}/run/secrets/db/s3-ca.crt\n`);
    expect(text).not.toContain('archive-async');
    expect(fs.statSync(conf).mode & 0o777).toBe(0o600);
  });

  test('clone with restoreFrom: a primary that has data is not restored again', () => {
    const p = pod(DatabaseEngine.postgresql({ restoreFrom: { image, repository } }), { replicas: 1 });
    const r = root(p, stubs, keys);
    fs.mkdirSync(`${r}/var/lib/postgresql/data/pgdata`, { recursive: true });
    fs.writeFileSync(`${r}/var/lib/postgresql/data/pgdata/PG_VERSION`, '18\n');
    expect(run(p, r, 'clone', { ordinal: 0 }).status).toBe(0);
    expect(calls(r)).not.toContain('restore');
  });

  test('backup sidecar `now`: the stanza, a full backup, its outcome in backup-status; a failed backup says so and fails', () => {
    const p = pod(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *', retainFullBackups: 3, archiveQueueMax: Size.mebibytes(512) } }));
    const r = root(p, stubs, keys);
    const ok = run(p, r, 'backup', { ordinal: 0, args: ['now'] });
    expect(ok.stderr).toMatch(/full backup done in \d+s, 1234 bytes in the repository/);
    expect(ok.status).toBe(0);
    expect(calls(r)).toMatch(/pgbackrest --stanza=db stanza-create\npgbackrest --stanza=db --type=full backup\n/);
    expect(read(r, 'var/run/postgresql/backup-status')).toMatch(/^last_success=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nduration_seconds=\d+\nsize_bytes=1234\n$/);
    const conf = read(r, 'var/run/postgresql/pgbackrest.conf');
    expect(conf).toContain(`archive-async=y\nspool-path=${r}/var/lib/postgresql/data/pgbackrest-spool\narchive-push-queue-max=524288KiB\nrepo1-retention-full=3\n`);
    const failed = run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { BACKUP_FAILS: '1' } });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/backup: FAILED after \d+s/);
    expect(read(r, 'var/run/postgresql/backup-status')).toMatch(/last_failure=/);
  });

  test('backup sidecar `now` of 2 members or more reads a healthy replica of the primary\'s pg_stat_replication (streaming, replay at most 16 MiB behind, least lag, then name); the primary\'s files when none is, when the server does not answer or when the replica\'s backup fails, each said in the log', () => {
    const p = pod(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *' } }));
    const sidecar = p.spec.containers.find((c: any) => c.name === 'backup');
    expect(sidecar.env).toEqual(expect.arrayContaining([{ name: 'BACKUP_MEMBER', value: 'replica' }, { name: 'BACKUP_TLS_PORT', value: '8432' }, { name: 'SCOPE', value: 'db' }]));
    // the primary's view: the rows the query answers (REPLICAS), or no answer (PSQL_FAILS=1)
    const r = root(p, {
      ...stubs,
      psql: `echo "psql $*" >>"$LOG"
case "$*" in *pg_stat_replication*) [ -z "\${PSQL_FAILS:-}" ] || exit 2; printf '%b' "\${REPLICAS:-}" ;; *) cat >/dev/null ;; esac`,
    }, keys);
    const tls = `${r}/var/run/postgresql/pgbackrest-tls`;
    const dns = (name: string) => sidecar.env.find((e: any) => e.name === 'PEERS').value.split(' ').find((d: string) => d.startsWith(`${name}.`));
    const standby = (name: string) => `pgbackrest --stanza=db --type=full --backup-standby=y --pg2-host=${dns(name)} --pg2-host-type=tls --pg2-host-port=8432 ` +
      `--pg2-host-ca-file=${tls}/ca.crt --pg2-host-cert-file=${tls}/member.crt --pg2-host-key-file=${tls}/member.key ` +
      `--pg2-path=${r}/var/lib/postgresql/data/pgdata --pg2-socket-path=${r}/var/run/postgresql --pg2-port=5432 backup\n`;
    const backup = (env: { [name: string]: string }) => {
      fs.rmSync(`${r}/calls.log`, { force: true });
      return run(p, r, 'backup', { ordinal: 0, args: ['now'], env });
    };
    // the server answers in order of lag, then name: the first that is a member of this set
    let res = backup({ REPLICAS: 'walreceiver-elsewhere|async|0\\ndb-2|async|4096\\ndb-1|async|8192\\n' });
    expect(res.stderr).toMatch(/reading the files from the replica db-2 \(pg_stat_replication: async, streaming, 4096 bytes behind\); the primary starts and stops the backup/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(standby('db-2'));
    // asked of the primary's own server: streaming standbys only, replay at most 16 MiB behind, least lag first, then the name
    const query = calls(r).replace(/\s+/g, ' ');
    expect(query).toMatch(/WHERE state = 'streaming' AND replay_lsn IS NOT NULL AND pg_wal_lsn_diff\(pg_current_wal_lsn\(\), replay_lsn\) <= 16777216 ORDER BY lag, application_name/);
    // none healthy (no row): the primary, said so
    res = backup({ REPLICAS: '' });
    expect(res.stderr).toMatch(/no replica is healthy \(pg_stat_replication: streaming, at most 16777216 bytes behind\): reading the files from the primary/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain('pgbackrest --stanza=db --type=full backup\n');
    expect(calls(r)).not.toContain('--backup-standby');
    // the server does not answer the query: the primary, said so
    res = backup({ PSQL_FAILS: '1' });
    expect(res.stderr).toMatch(/the replicas' state \(pg_stat_replication\) could not be read \(above\): reading the files from the primary/);
    expect(res.stderr).toMatch(/full backup done in/);
    // the backup from the replica fails: taken again from the primary at once
    res = backup({ REPLICAS: 'db-1|async|0\\n', STANDBY_FAILS: '1' });
    expect(res.stderr).toMatch(/the backup reading the replica db-1 failed \(above\): taken again from the primary/);
    expect(res.stderr).toMatch(/full backup done in/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(`${standby('db-1')}pgbackrest --stanza=db --type=full backup\n`);
  });

  test('backup sidecar of the streaming preset: every member serves its files over TLS (its certificate from the derived CA); only the first ordinal takes the scheduled backups', () => {
    const p = pod(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *' } }));
    const r = root(p, stubs, keys);
    const res = run(p, r, 'backup', { ordinal: 1, timeout: 4000 });
    expect(res.status).toBeNull(); // the scheduler runs until killed
    expect(res.stderr).toMatch(/member 1 does not take the scheduled backups \(BACKUP_MEMBER=replica\)/);
    expect(calls(r)).toContain(`pgbackrest --config=${r}/var/run/postgresql/pgbackrest-server.conf server`);
    const tls = `${r}/var/run/postgresql/pgbackrest-tls`;
    expect(spawnSync('openssl', ['verify', '-CAfile', `${tls}/ca.crt`, `${tls}/member.crt`], { encoding: 'utf-8' }).status).toBe(0);
    expect(read(r, 'var/run/postgresql/pgbackrest-server.conf')).toContain('\n[global:server]\ntls-server-address=0.0.0.0\ntls-server-port=8432\n');
  });

  test('start with backup: the server archives through pgBackRest asynchronously; its config is written before the entrypoint runs', () => {
    const p = pod(DatabaseEngine.postgresql({ backup: { image, repository, schedule: '30 2 * * *' } }));
    const main = p.spec.containers[0];
    expect(main.image).toBe(image);
    expect(main.args).toEqual(expect.arrayContaining(['archive_mode=on', 'archive_command=pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db archive-push %p', 'archive_timeout=60']));
    expect(p.spec.containers.map((c: any) => c.name)).toEqual(['main', 'backup']);
    const r = root(p, { ...stubs, 'docker-entrypoint.sh': 'echo "entrypoint $*" >>"$LOG"' }, keys);
    const res = run(p, r, 'main', { ordinal: 0, args: main.args });
    expect(res.status).toBe(0);
    expect(calls(r)).toContain('entrypoint postgres -c hot_standby=on');
    expect(read(r, 'var/run/postgresql/pgbackrest.conf')).toContain('repo1-s3-uri-style=path\n');
  });
});

describe('postgresql with Patroni and pgBackRest', () => {
  const image = 'registry.example.com/postgres-patroni-pgbackrest:18.6-4.1.5-2.60.0';
  const repository = { bucket: 'backups', endpoint: 's3.store.svc:7070', region: 'us-east-1', path: '/prod/db', caCertificateKey: 's3-ca.crt' };
  const restoreRepository = { ...repository, path: '/prod/old' };
  const keys = { ...SECRETS, 's3-access-key-id': 'AKIDEXAMPLE', 's3-secret-access-key': 'wJalr/K7MDENG+bPxRfiCY', 's3-ca.crt': '-----BEGIN CERTIFICATE-----\n' };
  const engine = (pointInTime?: string) => DatabaseEngine.postgresql({
    patroni: { image },
    backup: { image, repository, schedule: '30 2 * * *' },
    restoreFrom: { repository: restoreRepository, pointInTime },
  });
  /**
   * pgbackrest (calls logged, `restore` fills --pg1-path, RESTORE_FAILS=1 fails it); Patroni's REST
   * API as bash's /dev/tcp reaches it: PATRONI_STATUS for /primary (200: leads), PATRONI_CLUSTER
   * the JSON of /cluster (no member by default).
   */
  const stubs = {
    pgbackrest: PGBACKREST_STUB,
    pg_isready: 'exit 0',
    psql: 'echo "psql $*" >>"$LOG"; cat >/dev/null',
    timeout: `if [[ "$*" == *"/dev/tcp/"* && "$*" == *"GET /cluster"* ]]; then
  c="\${PATRONI_CLUSTER:-}"; [ -n "$c" ] || c='{"members": []}'
  printf 'HTTP/1.0 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n%s' "$c"; exit 0
fi
if [[ "$*" == *"/dev/tcp/"* ]]; then echo "HTTP/1.0 \${PATRONI_STATUS:-200} OK"; exit 0; fi
shift; exec "$@"`,
    patroni: 'cp "$1" "$LOG.patroni.yml"',
    postgres: 'exit 0',
  };

  test('patroni-start.sh: archiving through pgBackRest in every member\'s parameters, both config files (mode 0600), the restore as Patroni\'s bootstrap method keeping pgBackRest\'s recovery settings', () => {
    const p = pod(engine('2026-03-01T12:00:00Z'));
    expect(p.spec.containers.map((c: any) => [c.name, c.image])).toEqual([['main', image], ['backup', image]]);
    const r = root(p, stubs, keys);
    const res = run(p, r, 'main', { ordinal: 2, env: { PG_BIN_DIR: `${r}/stubs`, PG_MAJOR: '18' } });
    expect(res.status).toBe(0);
    const config = parseYaml(read(r, 'calls.log.patroni.yml'));
    expect(config.postgresql.parameters).toMatchObject({
      archive_mode: 'on', archive_command: 'pgbackrest --config=/var/run/postgresql/pgbackrest.conf --stanza=db archive-push %p', archive_timeout: '60',
    });
    expect(config.bootstrap.method).toBe('pgbackrest');
    expect(config.bootstrap.pgbackrest).toEqual({ command: `bash ${r}/opt/cdk8s-stateful/patroni-restore.sh`, no_params: true, keep_existing_recovery_conf: true });
    const backupConf = read(r, 'var/run/postgresql/pgbackrest.conf');
    expect(backupConf).toContain('archive-async=y\n');
    expect(backupConf).toMatch(/\nrepo1-path=\S*\/prod\/db\n/);
    expect(read(r, 'var/run/postgresql/pgbackrest-restore.conf')).toMatch(/\nrepo1-path=\S*\/prod\/old\n/);
    for (const f of ['pgbackrest.conf', 'pgbackrest-restore.conf']) expect(fs.statSync(`${r}/var/run/postgresql/${f}`).mode & 0o777).toBe(0o600);
  });

  test('patroni-start.sh without restoreFrom: initdb as before, no bootstrap method', () => {
    const p = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *' } }));
    const r = root(p, stubs, keys);
    expect(run(p, r, 'main', { ordinal: 0, env: { PG_BIN_DIR: `${r}/stubs`, PG_MAJOR: '18' } }).status).toBe(0);
    const config = parseYaml(read(r, 'calls.log.patroni.yml'));
    expect(config.bootstrap.method).toBeUndefined();
    expect(fs.existsSync(`${r}/var/run/postgresql/pgbackrest-restore.conf`)).toBe(false);
  });

  test('patroni-restore.sh restores into PGDATA as the streaming preset does (the backup before the target, restore_command, promote); a failed restore fails the bootstrap, saying why', () => {
    const p = pod(engine('2026-03-01T12:00:00Z'));
    const r = root(p, stubs, keys);
    const env = { ...containerEnv(p, p.spec.containers[0], r, { ordinal: 0 }) };
    const restore = (extra: { [k: string]: string } = {}) => spawnSync('bash', [`${r}/opt/cdk8s-stateful/patroni-restore.sh`], { env: { ...env, ...extra }, encoding: 'utf-8' });
    const failed = restore({ RESTORE_FAILS: '1' });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/the restore from backups\S*\/prod\/old failed .*never initializes an empty cluster instead/);
    const ok = restore();
    expect(ok.stderr).toMatch(/restored; the server replays the archived WAL up to 2026-03-01 12:00:00\+00/);
    expect(ok.status).toBe(0);
    const conf = `${r}/var/run/postgresql/pgbackrest-restore.conf`;
    expect(calls(r)).toContain(`pgbackrest --config=${conf} --stanza=db --pg1-path=${r}/var/lib/postgresql/data/pgdata --type=time --target=2026-03-01 12:00:00+00 --target-action=promote ` +
      `--recovery-option=restore_command=pgbackrest --config=${conf} --stanza=db archive-get %f "%p" restore`);
    expect(read(r, 'var/lib/postgresql/data/pgdata/PG_VERSION')).toBe('18\n');
  });

  test('patroni-bootstrap.sh after a restore creates no role: the restored data has its own', () => {
    const p = pod(engine());
    const r = root(p, { psql: 'echo "psql $* <<< $(cat)" >>"$LOG"' }, { ...keys, username: 'app' });
    const env = containerEnv(p, p.spec.containers[0], r, { ordinal: 0 });
    const res = spawnSync('bash', [`${r}/opt/cdk8s-stateful/patroni-bootstrap.sh`, 'postgres://postgres@localhost/postgres'], { env, encoding: 'utf-8' });
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/restored from a backup: its roles and databases are the backed-up set's, none created/);
    expect(calls(r)).toBe('');
  });

  test('backup sidecar `now` runs where Patroni leads, whatever the ordinal; a member that does not lead refuses, naming the role label', () => {
    const p = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *' } }));
    const sidecar = p.spec.containers.find((c: any) => c.name === 'backup');
    expect(sidecar.env).toEqual(expect.arrayContaining([{ name: 'PRIMARY_BY', value: 'patroni' }]));
    const r = root(p, stubs, keys);
    const replica = run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { PATRONI_STATUS: '503' } });
    expect(replica.status).not.toBe(0);
    expect(replica.stderr).toMatch(/this member does not lead .* Fix: run it in the pod labelled cdk8s-stateful.dev\/role=primary/);
    expect(calls(r)).not.toContain('backup');
    const leader = run(p, r, 'backup', { ordinal: 2, args: ['now'] });
    expect(leader.stderr).toMatch(/full backup done in \d+s, 1234 bytes in the repository/);
    expect(leader.status).toBe(0);
    expect(calls(r)).toMatch(/pgbackrest --stanza=db stanza-create\npgbackrest --stanza=db --type=full backup\n/);
  });
  /** A member of Patroni's GET /cluster. */
  const member = (name: string, role: string, state: string, lag?: number | string) => ({ name, role, state, host: '10.0.0.1', port: 5432, timeline: 1, ...(lag === undefined ? {} : { lag }) });
  const cluster = (...members: object[]) => JSON.stringify({ members: [member('db-0', 'leader', 'running'), ...members], scope: 'db' });

  test('backup sidecar `now` with Patroni reads a healthy replica of Patroni\'s view: the asynchronous one first, a lagging or starting one never; the primary when none is healthy or the replica fails, each said in the log', () => {
    const p = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *' } }));
    const sidecar = p.spec.containers.find((c: any) => c.name === 'backup');
    expect(sidecar.env).toEqual(expect.arrayContaining([{ name: 'BACKUP_MEMBER', value: 'replica' }, { name: 'BACKUP_TLS_PORT', value: '8432' }, { name: 'SCOPE', value: 'db' }]));
    const r = root(p, stubs, keys);
    const tls = `${r}/var/run/postgresql/pgbackrest-tls`;
    const standby = (dns: string) => `pgbackrest --stanza=db --type=full --backup-standby=y --pg2-host=${dns} --pg2-host-type=tls --pg2-host-port=8432 ` +
      `--pg2-host-ca-file=${tls}/ca.crt --pg2-host-cert-file=${tls}/member.crt --pg2-host-key-file=${tls}/member.key ` +
      `--pg2-path=${r}/var/lib/postgresql/data/pgdata --pg2-socket-path=${r}/var/run/postgresql --pg2-port=5432 backup\n`;
    const backup = (members: object[], env: { [name: string]: string } = {}) => {
      fs.rmSync(`${r}/calls.log`, { force: true });
      return run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { PATRONI_CLUSTER: cluster(...members), ...env } });
    };
    const dns = (name: string) => sidecar.env.find((e: any) => e.name === 'PEERS').value.split(' ').find((d: string) => d.startsWith(`${name}.`));
    // the asynchronous replica, although the synchronous standby lags less
    let res = backup([member('db-1', 'sync_standby', 'streaming', 0), member('db-2', 'replica', 'streaming', 4096)]);
    expect(res.stderr).toMatch(/reading the files from the replica db-2 \(Patroni: replica, streaming, 4096 bytes behind\); the primary starts and stops the backup/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(standby(dns('db-2')));
    // the asynchronous one starting, lagging past 16 MiB or of unknown lag: the synchronous standby
    for (const db2 of [member('db-2', 'replica', 'starting', 0), member('db-2', 'replica', 'streaming', 16 * 1024 * 1024 + 1), member('db-2', 'replica', 'streaming', 'unknown')]) {
      res = backup([member('db-1', 'sync_standby', 'streaming', 0), db2]);
      expect(res.stderr).toMatch(/from the replica db-1 \(Patroni: sync_standby/);
      expect(calls(r)).toContain(standby(dns('db-1')));
    }
    // none healthy: the primary, said so
    res = backup([member('db-1', 'replica', 'stopped'), member('db-2', 'replica', 'in archive recovery', 0)]);
    expect(res.stderr).toMatch(/no replica is healthy \(Patroni: streaming, at most 16777216 bytes behind\): reading the files from the primary/);
    expect(res.status).toBe(0);
    expect(calls(r)).toMatch(/stanza-create\npgbackrest --stanza=db --type=full backup\n/);
    // Patroni not answering /cluster as expected: the primary, said so
    res = backup([], { PATRONI_CLUSTER: 'not json' });
    expect(res.stderr).toMatch(/the replicas' state \(Patroni\) could not be read \(above\): reading the files from the primary/);
    expect(res.status).toBe(0);
    // the backup from the replica fails: taken again from the primary at once
    res = backup([member('db-2', 'replica', 'streaming', 0)], { STANDBY_FAILS: '1' });
    expect(res.stderr).toMatch(/the backup reading the replica db-2 failed \(above\): taken again from the primary/);
    expect(res.stderr).toMatch(/full backup done in/);
    expect(res.status).toBe(0);
    expect(calls(r)).toContain(`${standby(dns('db-2'))}pgbackrest --stanza=db --type=full backup\n`);
    // with member PRIMARY, Patroni's view is not asked: the primary's files
    const q = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *', member: BackupMember.PRIMARY } }));
    expect(q.spec.containers.find((c: any) => c.name === 'backup').env.map((e: any) => e.name)).not.toContain('BACKUP_TLS_PORT');
    const rq = root(q, stubs, keys);
    const prim = run(q, rq, 'backup', { ordinal: 0, args: ['now'], env: { PATRONI_CLUSTER: cluster(member('db-1', 'replica', 'streaming', 0)) } });
    expect(prim.status).toBe(0);
    expect(calls(rq)).toMatch(/stanza-create\npgbackrest --stanza=db --type=full backup\n/);
  });

  test('backup sidecar with Patroni, once it leads after a failover: the segments of earlier timelines before their switch points that the archive lacks are pushed, synchronously; none past a switch point, none already archived', () => {
    const p = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *' } }));
    const r = root(p, {
      ...stubs,
      psql: `echo "psql $*" >>"$LOG"
case "$*" in *pg_walfile_name*) echo 00000003 ;; *wal_segment_size*) echo 16777216 ;; *) cat >/dev/null ;; esac`,
    }, keys);
    const wal = `${r}/var/lib/postgresql/data/pgdata/pg_wal`;
    fs.mkdirSync(wal, { recursive: true });
    // timeline 1 switched to 2 inside segment 5, timeline 2 to 3 at the very start of segment 8
    fs.writeFileSync(`${wal}/00000003.history`, '1\t0/5000060\tno recovery target specified\n\n2\t0/8000000\tno recovery target specified\n');
    const segments = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005', '000000010000000000000006',
      '000000020000000000000005', '000000020000000000000006', '000000020000000000000007', '000000020000000000000008', '000000030000000000000008'];
    for (const s of segments) fs.writeFileSync(`${wal}/${s}`, 'wal');
    fs.writeFileSync(`${wal}/000000020000000000000004.partial`, 'wal');
    const listed = '18-1/0000000100000000/000000010000000000000003-0123456789abcdef0123456789abcdef01234567.zst';
    const res = run(p, r, 'backup', { ordinal: 0, env: { REPO_LS: listed }, timeout: 6000 });
    expect(res.status).toBeNull(); // the scheduler runs until killed
    const pushed = calls(r).split('\n').filter((l) => l.includes('archive-push')).map((l) => l.replace(/.*\//, ''));
    expect(calls(r)).toContain(`pgbackrest --stanza=db --no-archive-async archive-push ${wal}/000000010000000000000004\n`);
    expect(pushed).toEqual(['000000010000000000000004', '000000020000000000000005', '000000020000000000000006', '000000020000000000000007']);
    expect(res.stderr).toMatch(/the archive lacked 4 segment\(s\) of the timelines before 00000003, which this member received as a standby: 4 pushed/);
    expect(fs.existsSync(`${r}/var/run/postgresql/backup-gap-closed`)).toBe(true);
    // a push that fails: tried again at the next tick (the marker not set)
    fs.rmSync(`${r}/var/run/postgresql/backup-gap-closed`);
    fs.writeFileSync(`${r}/stubs/pgbackrest`, `#!/usr/bin/env bash\nLOG="${r}/calls.log"\ncase "$*" in *archive-push*) exit 1 ;; esac\n${PGBACKREST_STUB}\n`, { mode: 0o755 });
    const failed = run(p, r, 'backup', { ordinal: 0, env: { REPO_LS: listed }, timeout: 6000 });
    expect(failed.stderr).toMatch(/the archive lacked 4 segment\(s\) of the timelines before 00000003, which this member received as a standby: 0 pushed/);
    expect(failed.stderr).toMatch(/the archive's gap is not closed yet \(see above\); tried again in a minute/);
    expect(fs.existsSync(`${r}/var/run/postgresql/backup-gap-closed`)).toBe(false);
  });

  test('backup sidecar with Patroni serves its files over TLS: pgBackRest\'s server with its own config; the certificates of two members derived from one replication password verify each other, another password\'s do not', () => {
    const p = pod(DatabaseEngine.postgresql({ patroni: { image }, backup: { image, repository, schedule: '30 2 * * *' } }));
    const r = root(p, stubs, keys);
    const res = run(p, r, 'backup', { ordinal: 1, env: { PATRONI_STATUS: '503' }, timeout: 4000 });
    expect(res.status).toBeNull(); // the scheduler runs until killed
    expect(calls(r)).toContain(`pgbackrest --config=${r}/var/run/postgresql/pgbackrest-server.conf server`);
    const tls = `${r}/var/run/postgresql/pgbackrest-tls`;
    const conf = read(r, 'var/run/postgresql/pgbackrest-server.conf');
    expect(conf).toContain(`\n[global:server]\ntls-server-address=0.0.0.0\ntls-server-port=8432\ntls-server-cert-file=${tls}/member.crt\n` +
      `tls-server-key-file=${tls}/member.key\ntls-server-ca-file=${tls}/ca.crt\ntls-server-auth=pgbackrest=db\n`);
    expect(conf).toContain(`pg1-path=${r}/var/lib/postgresql/data/pgdata\n`);
    expect(fs.readdirSync(tls).sort()).toEqual(['ca.crt', 'member.crt', 'member.key']); // no CA key left
    for (const f of ['member.key', '../pgbackrest-server.conf']) expect(fs.statSync(`${tls}/${f}`).mode & 0o777).toBe(0o600);
    const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf-8' });
    const dns = p.spec.containers.find((c: any) => c.name === 'backup').env.find((e: any) => e.name === 'PEERS').value.split(' ')[1];
    expect(openssl('x509', '-in', `${tls}/member.crt`, '-noout', '-ext', 'subjectAltName').stdout).toContain(`DNS:${dns}`);
    // another member's files, and a stranger's (another password), made by the same function
    const make = (dir: string, password: string) => spawnSync('bash', ['-c', `. "${r}/opt/cdk8s-stateful/common.sh"; . "${r}/opt/cdk8s-stateful/pgbackrest.sh"; printf %s "$PW" | pgbackrest_tls "${r}/${dir}" db db-2.x`],
      { env: { PATH: process.env.PATH, PW: password }, encoding: 'utf-8' });
    expect(make('other', SECRETS['replication-password']).status).toBe(0);
    expect(make('stranger', 'another-password').status).toBe(0);
    expect(openssl('verify', '-CAfile', `${tls}/ca.crt`, `${r}/other/member.crt`).status).toBe(0);
    expect(openssl('verify', '-CAfile', `${r}/other/ca.crt`, `${tls}/member.crt`).status).toBe(0);
    expect(openssl('verify', '-CAfile', `${tls}/ca.crt`, `${r}/stranger/member.crt`).status).not.toBe(0);
    expect(openssl('verify', '-CAfile', `${r}/stranger/ca.crt`, `${tls}/member.crt`).status).not.toBe(0);
  });
});

describe('redis with backup and restoreFrom (stand-ins for redis-cli, redis-check-rdb and rclone)', () => {
  const image = 'registry.example.com/redis-rclone:8.2.1-1.60.1';
  const repository = { bucket: 'backups', endpoint: 's3.store.svc:7070', region: 'us-east-1', path: '/prod/cache', caCertificateKey: 's3-ca.crt' };
  const keys = { ...SECRETS, 's3-access-key-id': 'AKIDEXAMPLE', 's3-secret-access-key': 'wJalr/K7MDENG+bPxRfiCY', 's3-ca.crt': '-----BEGIN CERTIFICATE-----\n' };
  /**
   * redis-cli: the replica db-1 linked and idle; `--rdb FILE` writes RDB_CONTENT (default a good one).
   * redis-check-rdb: OK for a file that holds GOOD. rclone: a store in $STORE (one directory), its
   * key and secret required in its environment, never on its command line; every call logged.
   */
  const stubs = {
    'redis-cli': `case "$*" in
  *--rdb*) for a; do f="$a"; done; printf '%s' "\${RDB_CONTENT:-GOOD rdb}" >"$f"; echo "redis-cli --rdb from $4" >>"$LOG" ;;
  *"info memory"*) echo used_memory_dataset:1000 ;;
  *info*) printf 'role:slave\\nmaster_link_status:up\\nmaster_sync_in_progress:0\\nloading:0\\n' ;;
esac`,
    'redis-check-rdb': 'if grep -q GOOD "$1"; then echo "[offset 1] \\\\o/ RDB looks OK! \\\\o/"; echo "[info] 7 keys read"; else echo "--- RDB ERROR DETECTED ---"; exit 1; fi',
    rclone: `echo "rclone $*" >>"$LOG"
[ "$RCLONE_S3_ACCESS_KEY_ID" = AKIDEXAMPLE ] && [ "$RCLONE_S3_SECRET_ACCESS_KEY" = 'wJalr/K7MDENG+bPxRfiCY' ] || { echo "no keys in the environment" >&2; exit 3; }
[ -z "\${STORE_DOWN:-}" ] || { echo "connection refused" >&2; exit 1; }
mkdir -p "$STORE"
obj() { echo "$STORE/\${1##*/}"; }
args=()
while [ "$#" -gt 0 ]; do case "$1" in --ignore-checksum | --files-only) shift ;; --*) shift 2 ;; *) args+=("$1"); shift ;; esac; done
set -- "\${args[@]}"
case "$1" in
  lsf) for f in "$STORE"/*; do [ -e "$f" ] && echo "$(stat -c %s "$f") \${f##*/}"; done; true ;;
  copyto) case "$2" in :s3:*) [ -e "$(obj "$2")" ] && cp "$(obj "$2")" "$3" ;; *) cp "$2" "$(obj "$3")" ;; esac ;;
  rcat) cat >"$(obj "$2")" ;;
  deletefile) rm -f "$(obj "$2")" ;;
esac`,
  };
  const setUp = (engine: DatabaseEngine, replicas = 2) => {
    const p = pod(engine, { replicas });
    const r = root(p, stubs, keys);
    fs.mkdirSync(path.join(r, 'data'));
    return { p, r, store: path.join(r, 'store') };
  };
  const backupSet = () => setUp(DatabaseEngine.redis({ backup: { image, repository, schedule: '0 * * * *', retainBackups: 2 } }));

  test('a snapshot of the replica: checked, then the .rdb, then its .sha256; the keys only in rclone\'s environment; the newest 2 kept, a stray upload removed', () => {
    const { p, r, store } = backupSet();
    fs.mkdirSync(store);
    for (const old of ['20260101T000000Z.rdb', '20260101T000000Z.rdb.sha256', '20260102T000000Z.rdb', '20260102T000000Z.rdb.sha256', '20260102T120000Z.rdb']) fs.writeFileSync(path.join(store, old), 'x');
    const res = run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { STORE: store, BACKUP_PATH: '/prod/cache' } });
    expect(res.stderr).toMatch(/snapshot (\d{8}T\d{6}Z\.rdb) done in \d+s: 8 bytes, 7 keys, from db-1\.db-headless\.data\.svc\.cluster\.local, sha256 [0-9a-f]{64}/);
    expect(res.status).toBe(0);
    const name = /snapshot (\S+) done/.exec(res.stderr)![1];
    const log = calls(r);
    expect(log.indexOf(`copyto ${r}/data/.cdk8s-backup/${name}`)).toBeLessThan(log.indexOf(`rcat :s3:backups/prod/cache/${name}.sha256`));
    expect(log).toContain(`--ca-cert ${r}/run/secrets/db/s3-ca.crt`);
    expect(log).not.toMatch(/AKIDEXAMPLE|wJalr/);
    expect(fs.readdirSync(store).sort()).toEqual(['20260102T000000Z.rdb', '20260102T000000Z.rdb.sha256', name, `${name}.sha256`]);
    const sha = spawnSync('sha256sum', { input: 'GOOD rdb', encoding: 'utf-8' }).stdout.split(' ')[0];
    expect(read(r, `store/${name}.sha256`)).toBe(`${sha}  ${name}\n`);
    expect(fs.existsSync(path.join(r, 'data', '.cdk8s-backup'))).toBe(false);
  });

  test('a snapshot redis-check-rdb refuses, or a store that is down: FAILED, non-zero, nothing uploaded', () => {
    const { p, r, store } = backupSet();
    const bad = run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { STORE: store, RDB_CONTENT: 'truncated' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/backup: FAILED after \d+s: redis-check-rdb refused the snapshot from db-1\S* \(--- RDB ERROR DETECTED ---/);
    expect(calls(r)).not.toMatch(/copyto|rcat/);
    const down = run(p, r, 'backup', { ordinal: 0, args: ['now'], env: { STORE: store, STORE_DOWN: '1' } });
    expect(down.status).not.toBe(0);
    expect(down.stderr).toMatch(/backup: FAILED after \d+s: /);
    expect(fs.existsSync(store) ? fs.readdirSync(store) : []).toEqual([]);
  });

  test('restore: the first member that founds the set restores the latest complete snapshot; a checksum mismatch stops it naming the object', () => {
    const { p, r, store } = setUp(DatabaseEngine.redis({ restoreFrom: { image, repository } }));
    fs.mkdirSync(store);
    const put = (name: string, content: string, sum = content) => {
      fs.writeFileSync(path.join(store, name), content);
      fs.writeFileSync(path.join(store, `${name}.sha256`), `${spawnSync('sha256sum', { input: sum, encoding: 'utf-8' }).stdout.split(' ')[0]}  ${name}\n`);
    };
    put('20260101T000000Z.rdb', 'GOOD old');
    put('20260102T000000Z.rdb', 'GOOD new', 'GOOD other');
    // an upload without its checksum object is not a snapshot
    fs.writeFileSync(path.join(store, '20260103T000000Z.rdb'), 'GOOD partial');
    const res = run(p, r, 'config', { ordinal: 0, founded: 'found', env: { STORE: store, RESTORE_PATH: '/prod/cache' } });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('ERROR: redis: the snapshot s3://s3.store.svc:7070/backups/prod/cache/20260102T000000Z.rdb is corrupted: its SHA-256 is');
    expect(res.stderr).toContain('the set does not start empty instead');
    expect(fs.existsSync(path.join(r, 'etc/redis/redis.conf'))).toBe(false);
    // an empty repository: no snapshot to start from, and no empty set either
    const empty = setUp(DatabaseEngine.redis({ restoreFrom: { image, repository } }));
    const none = run(empty.p, empty.r, 'config', { ordinal: 0, founded: 'found', env: { STORE: empty.store, RESTORE_PATH: '/prod/cache' } });
    expect(none.stderr).toContain('holds no complete snapshot');
    expect(none.status).toBe(1);
  });
});

describe('zookeeper with backup and restoreFrom (a fake server for the four-letter words, a stand-in for rclone)', () => {
  const image = 'registry.example.com/zookeeper-rclone:3.9.5-1.60.1';
  const repository = { bucket: 'backups', endpoint: 's3.store.svc:7070', region: 'us-east-1', path: '/coord/zk', caCertificateKey: 's3-ca.crt' };
  const keys = { ...SECRETS, 's3-access-key-id': 'AKIDEXAMPLE', 's3-secret-access-key': 'wJalr/K7MDENG+bPxRfiCY', 's3-ca.crt': '-----BEGIN CERTIFICATE-----\n' };
  /** rclone: a store in $STORE (one directory), its keys required in its environment; every call logged. */
  const rclone = `echo "rclone $*" >>"$LOG"
[ "$RCLONE_S3_ACCESS_KEY_ID" = AKIDEXAMPLE ] || { echo "no keys in the environment" >&2; exit 3; }
mkdir -p "$STORE"
obj() { echo "$STORE/\${1##*/}"; }
args=()
while [ "$#" -gt 0 ]; do case "$1" in --files-only) shift ;; --*) shift 2 ;; *) args+=("$1"); shift ;; esac; done
set -- "\${args[@]}"
case "$1" in
  lsf) for f in "$STORE"/*; do [ -e "$f" ] && echo "$(stat -c %s "$f") \${f##*/}"; done; true ;;
  cat) cat "$(obj "$2")" ;;
  rcat) cat >"$(obj "$2")" ;;
  deletefile) rm -f "$(obj "$2")" ;;
esac`;
  /** A snapshot as ZooKeeper ends one it finished writing (the path "/" after the checksum), or cut short. */
  const snapshot = (body: string, complete = true) => Buffer.concat([Buffer.from(body), complete ? Buffer.from([0, 0, 0, 1, 0x2f]) : Buffer.alloc(0)]);
  const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

  /**
   * Runs CONTAINER of P in R asynchronously beside fake servers of an ensemble of three, server
   * N on 127.0.0.N (this member is 127.0.0.1), each answering srvr with its entry of MODES
   * (`none`: not serving) and conf with the config; killed after TIMEOUT ms if given.
   */
  async function runBeside(p: Pod, r: string, container: string, o: RunOptions, modes: string[], timeout?: number) {
    const conf = [1, 2, 3].map((id) => `server.${id}=127.0.0.${id}:2888:3888:participant;0.0.0.0:2181`).join('\n');
    const answer = (mode: string) => (word: string) => (word !== 'srvr' ? `${conf}\nversion=100000000\n`
      : mode === 'none' ? 'This ZooKeeper instance is not currently serving requests\n' : `Zookeeper version: 3.9.3\nMode: ${mode}\n`);
    const servers = modes.map((mode) => net.createServer((s) => s.once('data', (d) => s.end(answer(mode)(d.toString())))));
    await new Promise<void>((resolve) => servers[0].listen(0, '127.0.0.1', resolve));
    const port = (servers[0].address() as net.AddressInfo).port;
    for (const [k, server] of servers.entries()) {
      if (k > 0) await new Promise<void>((resolve) => server.listen(port, `127.0.0.${k + 1}`, resolve));
    }
    try {
      const c = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((x: any) => x.name === container);
      const env = { ...containerEnv(p, c, r, o), CLIENT_PORT: String(port) };
      const command = [...c.command, ...(o.args ?? [])].map((a: string) => (a.startsWith('/') ? r + a : a));
      const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      const timer = timeout === undefined ? undefined : setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeout);
      const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      if (timer) clearTimeout(timer);
      return { status, stderr };
    } finally {
      servers.forEach((server) => server.close());
    }
  }

  const setUp = () => {
    const p = pod(DatabaseEngine.zookeeper({ backup: { image, repository, schedule: '0 * * * *', retainBackups: 2 } }), {}, 'zk', {});
    const r = root(p, { rclone }, keys);
    const snaps = path.join(r, 'data/version-2');
    const logs = path.join(r, 'data/log/version-2');
    fs.mkdirSync(snaps, { recursive: true });
    fs.mkdirSync(logs, { recursive: true });
    fs.writeFileSync(path.join(r, 'data/myid'), '3\n');
    fs.writeFileSync(path.join(snaps, 'snapshot.100000000'), snapshot('older'));
    fs.writeFileSync(path.join(snaps, 'snapshot.100000005'), snapshot('the newest complete'));
    // being written: no end marker yet
    fs.writeFileSync(path.join(snaps, 'snapshot.100000020'), snapshot('half', false));
    fs.writeFileSync(path.join(snaps, 'currentEpoch'), '1');
    for (const [name, body] of [['log.100000001', 'txns 1-2'], ['log.100000003', 'txns 3-f'], ['log.100000010', 'txns 10-2f'], ['log.100000030', 'txns 30-'], ['log.200000001', 'the next epoch']]) {
      fs.writeFileSync(path.join(logs, name), body);
    }
    return { p, r, store: path.join(r, 'store') };
  };

  test('a backup: the newest complete snapshot and every log from its zxid on, one tar named by the zxid, then its .sha256; the newest 2 kept', async () => {
    const { p, r, store } = setUp();
    fs.mkdirSync(store);
    for (const old of ['20260101T000000Z-zxid-1.tar', '20260101T000000Z-zxid-1.tar.sha256', '20260102T000000Z-zxid-2.tar', '20260102T000000Z-zxid-2.tar.sha256']) fs.writeFileSync(path.join(store, old), 'x');
    const res = await runBeside(p, r, 'backup', { ordinal: 2, args: ['now'], env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } }, ['follower', 'leader', 'follower']);
    expect(res.stderr).toMatch(/backup: (\d{8}T\d{6}Z-zxid-100000005\.tar) done in \d+s: \d+ bytes from member 2 \(follower\), snapshot zxid 0x100000005 and 4 transaction logs, sha256 [0-9a-f]{64}/);
    expect(res.status).toBe(0);
    const name = /backup: (\S+) done/.exec(res.stderr)![1];
    expect(fs.readdirSync(store).sort()).toEqual(['20260102T000000Z-zxid-2.tar', '20260102T000000Z-zxid-2.tar.sha256', name, `${name}.sha256`]);
    const tar = fs.readFileSync(path.join(store, name));
    expect(read(r, `store/${name}.sha256`)).toBe(`${sha256(tar)}  ${name}\n`);
    const listing = spawnSync('tar', ['-t', '-f', path.join(store, name)], { encoding: 'utf-8' }).stdout.split('\n').filter((l) => !l.endsWith('/') && l);
    expect(listing.sort()).toEqual(['log/version-2/log.100000003', 'log/version-2/log.100000010', 'log/version-2/log.100000030', 'log/version-2/log.200000001', 'version-2/snapshot.100000005']);
    expect(calls(r)).not.toMatch(/AKIDEXAMPLE|wJalr/);
    expect(fs.existsSync(path.join(r, 'data/.cdk8s-backup'))).toBe(false);
    // the copy holds the live files as they were
    expect(read(r, 'data/version-2/snapshot.100000005')).toContain('the newest complete');
  });

  test('a member that does not serve, or whose logs after the snapshot are gone: FAILED, nothing uploaded', async () => {
    const { p, r, store } = setUp();
    const idle = await runBeside(p, r, 'backup', { ordinal: 2, args: ['now'], env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } }, ['none', 'leader', 'follower']);
    expect(idle.status).not.toBe(0);
    expect(idle.stderr).toMatch(/backup: FAILED after \d+s: this member's server is not answering, not serving/);
    fs.rmSync(path.join(r, 'data/log/version-2/log.100000003'));
    fs.rmSync(path.join(r, 'data/log/version-2/log.100000001'));
    const gap = await runBeside(p, r, 'backup', { ordinal: 2, args: ['now'], env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } }, ['leader', 'follower', 'follower']);
    expect(gap.status).not.toBe(0);
    expect(gap.stderr).toContain('the transaction logs from zxid 0x100000005 on could not be copied');
    expect(fs.existsSync(store) ? fs.readdirSync(store) : []).toEqual([]);
  });

  test('the store lost during the upload: the failure is recorded at once, not after the cleanup\'s calls to the store give up', async () => {
    const { p, r, store } = setUp();
    // the store stops answering once the upload fails: every later listing hangs (rclone's retries)
    const down = rclone
      .replace('lsf) for f', 'lsf) if [ -e "$STORE.down" ]; then sleep 30; exit 1; fi; for f')
      .replace('rcat) cat >"$(obj "$2")" ;;', 'rcat) cat >/dev/null; touch "$STORE.down"; exit 1 ;;');
    fs.writeFileSync(path.join(r, 'stubs/rclone'), `#!/usr/bin/env bash\nLOG="${r}/calls.log"\n${down}\n`, { mode: 0o755 });
    // killed while the cleanup waits on the store, as a pod stopped then would be
    const res = await runBeside(p, r, 'backup', { ordinal: 2, args: ['now'], env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } }, ['follower', 'leader', 'follower'], 4000);
    expect(res.stderr).toMatch(/backup: FAILED after \d+s: tar or the upload did not complete/);
    expect(read(r, 'data/.cdk8s-backup-metrics/metrics')).toMatch(/^cdk8s_backup_consecutive_failures\{repository="s3:\/\/s3\.store\.svc:7070\/backups\/coord\/zk\/"\} 1$/m);
  }, 30_000);

  test('the scheduled role: the serving follower with the highest id, the leader only when no follower serves', async () => {
    const { p, r } = setUp();
    /** The scheduler's first pass on server 1 (killed before its first minute): its log. */
    const role = async (modes: string[]) => (await runBeside(p, r, 'backup', { ordinal: 0, env: { STORE: path.join(r, 'store') } }, modes, 2000)).stderr;
    fs.writeFileSync(path.join(r, 'data/myid'), '1\n');
    expect(await role(['leader', 'follower', 'follower'])).toMatch(/member 0 does not take the scheduled backups \(the serving follower with the highest server id does/);
    expect(await role(['follower', 'leader', 'follower'])).toContain('does not take the scheduled backups');
    expect(await role(['follower', 'leader', 'none'])).toContain("backup: backups of this member at '0 * * * *' (UTC)");
    expect(await role(['leader', 'none', 'none'])).toContain('backup: backups of this member at');
    expect(await role(['none', 'leader', 'none'])).toContain('does not take the scheduled backups');
  }, 30_000);

  test('restore: the founding member starts from the latest complete backup; a corrupted one stops it naming the object, and no data appears', async () => {
    const { p: backed, r: source, store } = setUp();
    fs.mkdirSync(store);
    const taken = await runBeside(backed, source, 'backup', { ordinal: 2, args: ['now'], env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } }, ['follower', 'leader', 'follower']);
    expect(taken.status).toBe(0);
    const name = /backup: (\S+) done/.exec(taken.stderr)![1];
    const restoring = () => {
      const p = pod(DatabaseEngine.zookeeper({ restoreFrom: { image, repository } }), {}, 'zk');
      const r = root(p, { rclone }, keys);
      fs.mkdirSync(path.join(r, 'data'));
      return { p, r };
    };
    const { p, r } = restoring();
    const res = run(p, r, 'config', { ordinal: 1, founded: 'found', env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } });
    expect(res.stderr).toContain(`zookeeper: restored ${name} into ${r}/data: snapshot.100000005 and 4 transaction logs, sha256 `);
    expect(res.status).toBe(0);
    expect(fs.readdirSync(path.join(r, 'data/version-2'))).toEqual(['snapshot.100000005']);
    expect(fs.readdirSync(path.join(r, 'data/log/version-2')).sort()).toEqual(['log.100000003', 'log.100000010', 'log.100000030', 'log.200000001']);
    expect(read(r, 'data/.cdk8s-restored')).toBe(`${name}\n`);
    // then the founder's config, an ensemble of itself alone
    expect(read(r, 'data/myid')).toBe('2\n');
    // a restart after the restore: nothing downloaded again
    const again = run(p, r, 'config', { ordinal: 1, founded: 'found', env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } });
    expect(again.status).toBe(0);
    // a joiner never restores (it waits for a serving member: killed here)
    const joiner = restoring();
    run(joiner.p, joiner.r, 'config', { ordinal: 0, founded: 'present', env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' }, timeout: 3000 });
    expect(fs.existsSync(path.join(joiner.r, 'data/version-2'))).toBe(false);

    // one byte changed in the stored object
    const tar = fs.readFileSync(path.join(store, name));
    tar[Math.floor(tar.length / 2)] ^= 0xff;
    fs.writeFileSync(path.join(store, name), tar);
    const corrupt = restoring();
    const bad = run(corrupt.p, corrupt.r, 'config', { ordinal: 0, founded: 'found', env: { STORE: store, BACKUP_PATH: '/coord/zk', RESTORE_PATH: '/coord/zk' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`ERROR: zookeeper: the backup s3://s3.store.svc:7070/backups/coord/zk/${name} is corrupted: its SHA-256 is`);
    expect(bad.stderr).toContain('the ensemble does not start instead');
    expect(fs.existsSync(path.join(corrupt.r, 'data/version-2'))).toBe(false);
    expect(fs.existsSync(path.join(corrupt.r, 'data/conf/zoo.cfg'))).toBe(false);
  });
});
