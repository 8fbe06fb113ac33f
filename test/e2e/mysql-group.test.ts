// MySQL with Group Replication on the real node: 3 members of the MySQL test image
// (tools/images/mysql), the API client image (tools/images/curl) for the Lease and the role label.
// Health as the group reports it (performance_schema.replication_group_members: three ONLINE, one
// PRIMARY), the pods' role labels and the Services' endpoints. Each fault scenario runs the
// workload (workload.ts) and checks the history: every acknowledged write on every member, reads
// linearizable, never two writable primaries; it prints the longest time without an acknowledged
// write (the failover time as clients see it) and asserts it is at most FAILOVER_BUDGET_MS.
import { DatabaseEngine, MysqlVersion } from '../../lib';
import { crash, partition } from './faults';
import { expectClean, workloadOptions } from './fault-scenarios';
import {
  clientExec, exec, imageRef, imageTag, kubectl, loseVolume, minutes, password, podHost, serviceEndpoints, setUpPreset, waitFor, waitForReady,
} from './helpers';
import { ElectedSet, expectCleanFailover, primaryKeptDown, primaryNodeLost, roleLabels } from './role-label';
import { withWorkload, WorkloadEngine } from './workload';
import { mysqlProtocolWorkload } from './workloads';

const NS = 'e2e-mysql-group';
const NAME = 'mysql';
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${i}`);
const ROOT_PASSWORD = password();
/** The failover time the docs promise: the last acknowledged write on the old primary to the first on the new. */
const FAILOVER_BUDGET_MS = 30_000;

/** The local server's super_read_only, asked on its socket in the pod's `group` container (for a member cut off from the client pod's view). */
const LOCAL_READ_ONLY = `bash -c 'mysql --defaults-extra-file=<(printf "[client]\\nuser=root\\npassword=%s\\n" "$(cat /run/secrets/db/root-password)") -N -B -e "SELECT @@global.super_read_only"'`;

const host = (pod: string) => podHost(NS, NAME, Number(pod.slice(NAME.length + 1)));

/** Runs SQL with the mysql client in the client pod against HOST as root (the password through a pipe). */
async function sql(target: string, statement: string): Promise<string> {
  const client = `mysql --defaults-extra-file=<(printf "[client]\\nuser=root\\npassword=%s\\n" "$pw") -h ${target} --connect-timeout=5 -N -B`;
  return (await clientExec(NS, `export pw; exec bash -c '${client}'`, ROOT_PASSWORD, statement)).trim();
}

/**
 * The MySQL workload, with a member counted writable as Group Replication lets it commit: not
 * super-read-only, and by its own member state: OFFLINE (the plugin is not running: nothing else
 * guards it), or ONLINE seeing a majority of the group ONLINE (a primary cut off from the majority
 * keeps super_read_only off until it leaves the group, but every commit needs the majority).
 * RECOVERING and ERROR members refuse every commit ("Transaction cannot be executed while Group
 * Replication is recovering", the plugin's before-commit hook), which matters because a clone
 * turns super_read_only off on its recipient while it is RECOVERING, just before the restart.
 */
function groupWorkload(): WorkloadEngine {
  const base = mysqlProtocolWorkload({ client: 'mysql' });
  return {
    ...base,
    functions: `${base.functions}
role() { m "$1" -e "SELECT @@global.super_read_only, IFNULL((SELECT MAX(MEMBER_STATE) FROM performance_schema.replication_group_members WHERE MEMBER_ID = @@server_uuid), 'OFFLINE'), (SELECT IFNULL(SUM(MEMBER_STATE = 'ONLINE'), 0) FROM performance_schema.replication_group_members), (SELECT COUNT(*) FROM performance_schema.replication_group_members), IFNULL((SELECT MAX(VIEW_ID) FROM performance_schema.replication_group_member_stats WHERE MEMBER_ID = @@server_uuid), '-')"; }
`,
    writer: (raw) => {
      const [readOnly, state, online, total, view] = raw.trim().split(/\s+/);
      if (readOnly !== '0') return { writable: false };
      if (state === 'OFFLINE') return { writable: true };
      // the view it is in (`<group's start>:<counter>`): a primary cut off keeps the view a
      // majority has since replaced without it
      const v = /^(\d+):(\d+)$/.exec(view ?? '');
      return { writable: state === 'ONLINE' && Number(online) * 2 > Number(total), ...(v ? { lineage: v[1], epoch: Number(v[2]) } : {}) };
    },
  };
}

const { roles, newPrimary } = roleLabels(NS, NAME);

/** The group as MEMBER sees it: "host:STATE:ROLE" a line, sorted. */
async function groupView(member: string): Promise<string[]> {
  const out = await sql(host(member), "SELECT CONCAT(SUBSTRING_INDEX(MEMBER_HOST, '.', 1), ':', MEMBER_STATE, ':', MEMBER_ROLE) FROM performance_schema.replication_group_members ORDER BY 1");
  return out.split('\n').filter(Boolean);
}

/**
 * Whole again: each member sees the three ONLINE with one PRIMARY, the pod labelled primary is
 * that member, the others labelled replica; the writer Service routes to the primary alone, the
 * -read Service to the two secondaries; the primary is writable, the secondaries super-read-only.
 */
async function expectHealthy(): Promise<string> {
  let leader = '';
  await waitFor(NS, 'three members ONLINE, one PRIMARY, labels and Services on them', minutes(5), async () => {
    const views = await Promise.all(MEMBERS.map((m) => groupView(m).catch(() => [] as string[])));
    const view = views[0];
    if (view.length !== 3 || views.some((v) => JSON.stringify(v) !== JSON.stringify(view)) || !view.every((l) => /:ONLINE:/.test(l))) return false;
    const primaries = view.filter((l) => l.endsWith(':PRIMARY')).map((l) => l.split(':')[0]);
    if (primaries.length !== 1) return false;
    leader = primaries[0];
    const r = await roles();
    if (MEMBERS.some((m) => r[m] !== (m === leader ? 'primary' : 'replica'))) return false;
    return JSON.stringify(await serviceEndpoints(NS, NAME)) === JSON.stringify([leader]) &&
      JSON.stringify(await serviceEndpoints(NS, `${NAME}-read`)) === JSON.stringify(MEMBERS.filter((m) => m !== leader));
  });
  expect(await sql(host(leader), 'SELECT @@global.super_read_only')).toBe('0');
  for (const m of MEMBERS.filter((x) => x !== leader)) expect(await sql(host(m), 'SELECT @@global.super_read_only')).toBe('1');
  return leader;
}

const opts = () => workloadOptions(NS, NAME, ROOT_PASSWORD);
const elected: ElectedSet = { ns: NS, name: NAME, workload: groupWorkload, options: opts, healthy: expectHealthy };

setUpPreset(NS, {
  name: NAME,
  engine: DatabaseEngine.mysql({ version: MysqlVersion.of(imageTag('mysql')), groupReplication: { apiClientImage: imageRef('curl') } }),
  secret: { 'root-password': ROOT_PASSWORD, 'replication-password': password() },
  image: imageRef('mysql'),
  readyWithin: minutes(10),
});

test('3 members: one group, one PRIMARY, bootstrapped by the Lease holder; the writer Service on the primary, -read on the secondaries', async () => {
  const leader = await expectHealthy();
  // the Lease records who bootstrapped: its creator, "<pod> bootstrapped"
  const lease = (await kubectl(['-n', NS, 'get', 'lease', `${NAME}-group`, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
  expect(lease).toMatch(new RegExp(`^${NAME}-[0-2] bootstrapped$`));
  const holder = lease.split(' ')[0];
  // exactly one member bootstrapped: the Lease's holder, and no other decision file was written
  for (const m of MEMBERS) {
    const files = (await exec(NS, m, 'group', 'ls /var/run/cdk8s-group')).split('\n');
    expect(files.includes('bootstrap.consumed')).toBe(m === holder);
  }
  // the recovery password is nowhere in the data directory's replication tables
  for (const m of MEMBERS) {
    expect(await sql(host(m), "SELECT COUNT(*) FROM mysql.slave_master_info WHERE User_password <> ''")).toBe('0');
  }
  await sql(host(leader), "CREATE DATABASE IF NOT EXISTS app; CREATE TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'one')");
  for (const m of MEMBERS) await waitFor(NS, `the row on ${m}`, minutes(1), async () => (await sql(host(m), 'SELECT v FROM app.t WHERE id = 1')) === 'one');
  await expect(sql(host(MEMBERS.find((m) => m !== leader)!), "INSERT INTO app.t VALUES (2, 'on a secondary')")).rejects.toThrow(/super-read-only|read-only/);
}, minutes(8));

test('the primary crashed (SIGKILL from the host) with writes in flight: the group elects another, the writer Service follows, the old primary rejoins; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  let promoted = '';
  const r = await withWorkload(groupWorkload(), opts(), async () => {
    await crash(NS, old);
    promoted = await newPrimary(old);
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  expect(promoted).not.toBe(old);
  expect(await expectHealthy()).toBe(promoted);
  expect((await roles())[old]).toBe('replica');
  expectCleanFailover(r, 'primary crashed', FAILOVER_BUDGET_MS);
}, minutes(12));

test('the primary crashed (SIGKILL) and slow to start again (held stopped 45 s as it restarts), writes in flight: the group elects another meanwhile; the old primary rejoins as a secondary; no acknowledged write lost', async () => {
  const { r } = await primaryKeptDown(elected, 45);
  expectCleanFailover(r, 'primary crashed, slow to start', FAILOVER_BUDGET_MS);
}, minutes(12));

test('the primary\'s node lost (pod and volume gone for 5 minutes) with writes in flight: the group elects another and takes writes; the member returns empty and joins by cloning; no acknowledged write lost', async () => {
  const { r, old } = await primaryNodeLost(elected, 300);
  expect(await sql(host(old), 'SELECT STATE FROM performance_schema.clone_status')).toBe('Completed');
  expectCleanFailover(r, 'primary node lost', FAILOVER_BUDGET_MS);
}, minutes(20));

test('the primary partitioned from its peers and the API server with writes in flight, until the majority elected another and the old one turned read-only, then healed: it rejoins; no acknowledged write lost', async () => {
  const old = await expectHealthy();
  const peers = MEMBERS.filter((m) => m !== old);
  let promoted = '';
  const r = await withWorkload(groupWorkload(), opts(), async () => {
    const { heal } = await partition(NS, old, { peers, apiServer: true });
    try {
      // the cut-off member cannot reach the API server to drop its label: it leaves the writer
      // Service by failing readiness (no majority in its view)
      await waitFor(NS, `one member other than ${old} labelled primary, the writer Service on it alone`, minutes(2), async () => {
        const others = Object.entries(await roles()).filter(([p, role]) => p !== old && role === 'primary').map(([p]) => p);
        if (others.length !== 1) return false;
        promoted = others[0];
        return JSON.stringify(await serviceEndpoints(NS, NAME)) === JSON.stringify([promoted]);
      });
      // the old primary, cut off, is not a writer: it left the group (super-read-only) after the
      // unreachable-majority timeout (asked on its socket, from the host side)
      await waitFor(NS, `${old} super-read-only while cut off`, minutes(1), async () =>
        (await exec(NS, old, 'group', LOCAL_READ_ONLY)).trim() === '1');
    } finally {
      await heal();
    }
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  expect(await expectHealthy()).toBe(promoted);
  expectCleanFailover(r, 'primary partitioned', FAILOVER_BUDGET_MS);
}, minutes(12));

test('every member crashed at once (SIGKILL) with writes in flight: the group is rebooted from the most advanced member; no acknowledged write lost', async () => {
  await expectHealthy();
  const r = await withWorkload(groupWorkload(), opts(), async () => {
    await Promise.all(MEMBERS.map((m) => crash(NS, m)));
    await waitForReady(NS, NAME, 3, minutes(6));
  }, { settleMs: 10_000 });
  await expectHealthy();
  // rebooted by one member under the Lease, which says so
  const lease = (await kubectl(['-n', NS, 'get', 'lease', `${NAME}-group`, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
  expect(lease).toMatch(new RegExp(`^${NAME}-[0-2] reboot `));
  expectClean(r);
  process.stdout.write(`every member crashed: longest time without an acknowledged write ${(r.longestWriteGapMs / 1000).toFixed(1)} s\n`);
}, minutes(12));

test('a secondary\'s volume lost (pod and claim deleted) with writes in flight: it comes back empty and joins by cloning a member; no acknowledged write lost', async () => {
  const leader = await expectHealthy();
  const victim = MEMBERS.find((m) => m !== leader)!;
  const r = await withWorkload(groupWorkload(), opts(), async () => {
    await loseVolume(NS, victim, `data-${victim}`);
    await waitForReady(NS, NAME, 3, minutes(8));
  }, { settleMs: 10_000 });
  await expectHealthy();
  expect(await sql(host(victim), 'SELECT STATE FROM performance_schema.clone_status')).toBe('Completed');
  expectCleanFailover(r, 'secondary volume lost', FAILOVER_BUDGET_MS);
}, minutes(14));
