// The workload (workload.ts) for each engine: how its client adds to the set, writes and reads a
// register, asks a member for its role, and lists the set; and how to read its exit codes. The
// sh functions run in the client pod (the engine's own image), with $pw and $SVC set.
import { Op, Outcome } from './history';
import { WorkloadEngine } from './workload';

/** rc 124 is `timeout`'s: the request may have been sent, so the outcome is unknown. */
function outcomeBy(definiteFailure: RegExp, okOutput?: RegExp) {
  return (kind: Op['kind'], rc: number, out: string): Outcome => {
    if (rc === 124) return 'info';
    if (rc === 0 && (kind === 'read' || !okOutput || okOutput.test(out.trim()))) return 'ok';
    return definiteFailure.test(out) ? 'fail' : 'info';
  };
}

/** Redis through the client Service (the primary); a member accepts writes when it is a master. */
export function redisWorkload(): WorkloadEngine {
  return {
    functions: `
r() { h=$1; shift; REDISCLI_AUTH="$pw" timeout 5 redis-cli --no-auth-warning -h "$h" "$@"; }
op_add() { r "$SVC" SET "h:s:$1" 1; }
op_write() { r "$SVC" SET "h:k:$1" "$2"; }
op_read() { r "$SVC" GET "h:k:$1"; }
role() { r "$1" INFO replication | grep '^role:'; }
elements() { REDISCLI_AUTH="$pw" timeout 60 redis-cli --no-auth-warning -h "$1" --scan --pattern "h:s:$2*" | sed 's/^h:s://'; }
`,
    // redis-cli exits 0 on an error reply: a write is acknowledged only by OK
    outcome: outcomeBy(/Could not connect|Connection refused|Name or service not known|Temporary failure in name resolution|^(\(error\) )?(READONLY|NOREPLICAS|MASTERDOWN|LOADING|ERR|WRONGPASS|NOAUTH|OOM|MISCONF)/m, /^OK$/),
    writer: (raw) => ({ writable: /role:master/.test(raw) }),
  };
}

/** PostgreSQL through the client Service (the primary); a member accepts writes when it is not in recovery. */
export function postgresWorkload(): WorkloadEngine {
  const psql = 'PGPASSWORD="$pw" PGCONNECT_TIMEOUT=3 psql -h "$h" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1';
  return {
    functions: `
p() { h=$1; shift; ${psql.replace('psql', 'timeout 5 psql')} "$@"; }
op_add() { p "$SVC" -c "INSERT INTO h_set (e) VALUES ('$1')"; }
op_write() { p "$SVC" -c "INSERT INTO h_reg (k, v) VALUES ('$1', '$2') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"; }
op_read() { p "$SVC" -c "SELECT v FROM h_reg WHERE k = '$1'"; }
role() { p "$1" -c 'SELECT pg_is_in_recovery()'; }
elements() { h=$1; ${psql.replace('psql', 'timeout 60 psql')} -c "SELECT e FROM h_set WHERE e LIKE '$2%'"; }
`,
    setup: 'p "$SVC" -c "CREATE TABLE IF NOT EXISTS h_set (e text PRIMARY KEY); CREATE TABLE IF NOT EXISTS h_reg (k text PRIMARY KEY, v text)" || true',
    outcome: outcomeBy(/could not connect|Connection refused|could not translate host name|the database system is (starting up|shutting down|not yet accepting)|read-only transaction|timeout expired|password authentication failed/),
    writer: (raw) => ({ writable: raw.trim() === 'f' }),
  };
}

/**
 * The MySQL protocol (MariaDB Galera, and MySQL: CLIENT `mysql`) through the client Service. With
 * GALERA_MEMBERS, every member of a primary component accepts writes: such members form one group,
 * and a member in a primary component of at most half the members counts as a group of its own
 * (two primary components).
 */
export function mysqlProtocolWorkload(opts: { client: 'mariadb' | 'mysql'; galeraMembers?: number }): WorkloadEngine {
  const n = opts.galeraMembers;
  const role = n
    ? "m \"$1\" -e \"SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_cluster_size','wsrep_cluster_status','wsrep_ready') ORDER BY 1\""
    : 'm "$1" -e "SELECT @@global.read_only, @@global.super_read_only"';
  return {
    functions: `
m() { h=$1; shift; MYSQL_PWD="$pw" timeout 5 ${opts.client} -h "$h" -uroot --connect-timeout=3 -N -B "$@"; }
op_add() { m "$SVC" -e "INSERT INTO e2e.h_set (e) VALUES ('$1')"; }
op_write() { m "$SVC" -e "INSERT INTO e2e.h_reg (k, v) VALUES ('$1', '$2') ON DUPLICATE KEY UPDATE v = VALUES(v)"; }
op_read() { m "$SVC" -e "SELECT v FROM e2e.h_reg WHERE k = '$1'"; }
role() { ${role}; }
elements() { MYSQL_PWD="$pw" timeout 60 ${opts.client} -h "$1" -uroot -N -B -e "SELECT e FROM e2e.h_set WHERE e LIKE '$2%'"; }
`,
    setup: 'm "$SVC" -e "CREATE DATABASE IF NOT EXISTS e2e; CREATE TABLE IF NOT EXISTS e2e.h_set (e VARCHAR(64) PRIMARY KEY); CREATE TABLE IF NOT EXISTS e2e.h_reg (k VARCHAR(64) PRIMARY KEY, v VARCHAR(64))" || true',
    // ERROR 1047 (WSREP has not yet prepared node) and a certification conflict (1213) are
    // refusals; a lost connection or a timeout is unknown
    outcome: outcomeBy(/Can't connect|Unknown (MySQL|MariaDB) server host|ERROR 1047|WSREP has not yet prepared|ERROR 1213|Deadlock found|Access denied|ERROR 1290|--read-only/),
    writer: (raw, member) => {
      if (!n) return { writable: /^0\s+0\b/.test(raw.trim()) };
      const size = Number(/wsrep_cluster_size\s+(\d+)/i.exec(raw)?.[1] ?? '0');
      const writable = /wsrep_cluster_status\s+Primary/i.test(raw) && /wsrep_ready\s+ON/i.test(raw);
      return { writable, group: size * 2 > n ? 'primary component' : member };
    },
  };
}

/**
 * ZooKeeper through the client Service (any member: followers forward writes to the leader), with
 * zkCli.sh (one JVM an operation). The set is the znodes /h-s-*, a register the data of /h-k-KEY,
 * created by its first write. A member accepts writes when it leads the newest epoch. zkCli prints
 * its log on stdout (an ERROR line "Exiting JVM with code N" even on success): `z` keeps only what
 * the command itself printed, and the outcome is read from that (`set` prints nothing on success).
 */
export function zookeeperWorkload(): WorkloadEngine {
  return {
    functions: `
z() {
  h=$1; shift
  out=$(ZOO_LOG_DIR=/tmp CLIENT_JVMFLAGS=-Xmx64m timeout 30 zkCli.sh -server "$h:2181" "$@" 2>&1); rc=$?
  printf '%s\\n' "$out" | grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2} |^Connecting to |^WATCHER::|^WatchedEvent |^[[:space:]]*$'
  return $rc
}
op_add() { z "$SVC" create "/h-s-$1" 1; }
op_write() {
  out=$(z "$SVC" set "/h-k-$1" "$2"); rc=$?
  case "$out" in *"Node does not exist"*) z "$SVC" create "/h-k-$1" "$2"; return $? ;; esac
  printf '%s\\n' "$out"; return $rc
}
op_read() {
  out=$(z "$SVC" get "/h-k-$1"); rc=$?
  case "$out" in *"Node does not exist"*) return 0 ;; esac
  v=$(printf '%s\\n' "$out" | grep -E '^r[0-9]+-[0-9]+-[0-9]+$' | tail -n 1)
  [ -n "$v" ] || { printf 'no value (exit %s): %s\\n' "$rc" "$out"; return 1; }
  printf '%s\\n' "$v"
}
flw() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/2181"; printf "$1" >&3; cat <&3' "$1" "$2"; }
role() { { flw "$1" srvr; flw "$1" conf; } | grep -E '^(Zxid: |Mode: |version=)'; }
elements() { z "$1" ls / | grep '^\\[' | tr ',' '\\n' | tr -d '[] ' | grep "^h-s-$2" | sed 's/^h-s-//'; }
`,
    outcome: (kind, rc, out) => {
      if (rc === 124) return 'info';
      const said = out.trim();
      if (kind === 'read') return rc === 0 ? 'ok' : 'fail';
      if (kind === 'add' && /^Created \/h-s-/m.test(said)) return 'ok';
      if (kind === 'write' && ((rc === 0 && said === '') || /^Created \/h-k-/m.test(said))) return 'ok';
      // refused by the server: it did not happen; anything else (a lost connection) may have
      return /Node already exists|Node does not exist/.test(said) ? 'fail' : 'info';
    },
    writer: (raw) => {
      // the epoch is the zxid's high 32 bits (a deposed leader still says `leader` until it
      // notices), of the ensemble whose dynamic config version `conf` reports
      const zxid = /Zxid: 0x([0-9a-f]+)/.exec(raw)?.[1];
      const lineage = /version=([0-9a-f]+)/.exec(raw)?.[1];
      return { writable: /Mode: (leader|standalone)/.test(raw), epoch: zxid ? parseInt(zxid.slice(0, -8) || '0', 16) : undefined, lineage };
    },
  };
}
