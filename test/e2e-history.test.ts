// The fault scenarios' checkers (test/e2e/history.ts) against known-good and known-bad histories:
// a checker that never fails would make every fault scenario pass.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkLinearizable, checkSet, checkSinglePrimary, Op, summarize } from './e2e/history';
import { parseRecords, workloadScript, WorkloadEngine } from './e2e/workload';
import { mysqlProtocolWorkload, postgresWorkload, redisWorkload } from './e2e/workloads';

/** An operation: [process, kind, key, value, invoke, complete, outcome]. */
function op(process: number, kind: Op['kind'], key: string, value: string | undefined, invoke: number, complete?: number, outcome: Op['outcome'] = 'ok'): Op {
  return { process, kind, key, value, invoke, complete, outcome };
}

describe('linearizability of single-key registers', () => {
  test('sequential writes and reads that see the latest write: linearizable', () => {
    const h = [op(0, 'write', 'a', '1', 0, 1), op(0, 'read', 'a', '1', 2, 3), op(1, 'write', 'a', '2', 4, 5), op(1, 'read', 'a', '2', 6, 7)];
    expect(checkLinearizable(h)).toEqual({ ok: true, checked: { a: 4 } });
  });

  test('a read of a key never written reads nothing', () => {
    expect(checkLinearizable([op(0, 'read', 'a', undefined, 0, 1)]).ok).toBe(true);
    expect(checkLinearizable([op(0, 'read', 'a', '1', 0, 1)]).ok).toBe(false);
  });

  test('a read concurrent with a write may see either value', () => {
    const before = [op(0, 'write', 'a', '1', 0, 1), op(0, 'write', 'a', '2', 2, 6), op(1, 'read', 'a', '1', 3, 4)];
    const after = [op(0, 'write', 'a', '1', 0, 1), op(0, 'write', 'a', '2', 2, 6), op(1, 'read', 'a', '2', 3, 4)];
    expect(checkLinearizable(before).ok).toBe(true);
    expect(checkLinearizable(after).ok).toBe(true);
  });

  test('KNOWN BAD: a stale read (the old value read after the new write was acknowledged)', () => {
    const h = [op(0, 'write', 'a', '1', 0, 1), op(0, 'write', 'a', '2', 2, 3), op(1, 'read', 'a', '1', 4, 5)];
    const r = checkLinearizable(h);
    expect(r.ok).toBe(false);
    expect(r.key).toBe('a');
    expect(r.ops).toHaveLength(3);
  });

  test('KNOWN BAD: a lost write (an acknowledged write that a later read does not see)', () => {
    expect(checkLinearizable([op(0, 'write', 'a', '1', 0, 1), op(1, 'read', 'a', undefined, 2, 3)]).ok).toBe(false);
  });

  test('KNOWN BAD: two readers disagree on the order of two concurrent writes', () => {
    // w1 and w2 overlap; reader 2 sees 1 then 2, reader 3 sees 2 then 1, all after both writes ended
    const h = [
      op(0, 'write', 'a', '1', 0, 10), op(1, 'write', 'a', '2', 0, 10),
      op(2, 'read', 'a', '1', 11, 12), op(2, 'read', 'a', '2', 13, 14),
      op(3, 'read', 'a', '2', 11, 12), op(3, 'read', 'a', '1', 13, 14),
    ];
    expect(checkLinearizable(h).ok).toBe(false);
  });

  test('a write of unknown outcome may take effect late, or never', () => {
    const late = [op(0, 'write', 'a', '1', 0, 1), op(1, 'write', 'a', '2', 2, undefined, 'info'), op(2, 'read', 'a', '1', 10, 11), op(2, 'read', 'a', '2', 50, 51)];
    const never = [op(0, 'write', 'a', '1', 0, 1), op(1, 'write', 'a', '2', 2, 3, 'info'), op(2, 'read', 'a', '1', 10, 11)];
    expect(checkLinearizable(late).ok).toBe(true);
    expect(checkLinearizable(never).ok).toBe(true);
  });

  test('KNOWN BAD: a write of unknown outcome seen, then undone with no other write', () => {
    const h = [op(0, 'write', 'a', '1', 0, 1), op(1, 'write', 'a', '2', 2, 3, 'info'), op(2, 'read', 'a', '2', 10, 11), op(2, 'read', 'a', '1', 12, 13)];
    expect(checkLinearizable(h).ok).toBe(false);
  });

  test('KNOWN BAD: a failed write is read (failed means it did not happen)', () => {
    const h = [op(0, 'write', 'a', '1', 0, 1), op(1, 'write', 'a', '2', 2, 3, 'fail'), op(2, 'read', 'a', '2', 10, 11)];
    expect(checkLinearizable(h).ok).toBe(false);
  });

  test('reads of unknown outcome and set adds are ignored; keys are checked one by one', () => {
    const h = [
      op(0, 'write', 'a', '1', 0, 1), op(1, 'read', 'a', '7', 2, 3, 'info'), op(0, 'add', 's', '9', 4, 5),
      op(0, 'write', 'b', '1', 6, 7), op(1, 'read', 'b', '1', 8, 9), op(1, 'read', 'a', '1', 10, 11),
    ];
    expect(checkLinearizable(h)).toEqual({ ok: true, checked: { a: 2, b: 2 } });
    const bad = [...h, op(2, 'read', 'b', undefined, 20, 21)];
    expect(checkLinearizable(bad)).toMatchObject({ ok: false, key: 'b' });
  });

  test('a long concurrent history (3 clients, 600 operations) is decided in well under a second', () => {
    // three clients, overlapping operations; each read returns the value of the last write that
    // completed before it started, or of a write still running (both legal)
    const h: Op[] = [];
    let last = '0';
    for (let i = 0; i < 200; i++) {
      const t = i * 10;
      h.push(op(0, 'write', 'k', String(i + 1), t, t + 8));
      h.push(op(1, 'read', 'k', i % 2 === 0 ? last : String(i + 1), t + 1, t + 7));
      h.push(op(2, 'read', 'k', String(i + 1), t + 9, t + 9.5));
      last = String(i + 1);
    }
    h.unshift(op(0, 'write', 'k', '0', -5, -4));
    const start = Date.now();
    expect(checkLinearizable(h).ok).toBe(true);
    h.push(op(2, 'read', 'k', '150', 5000, 5001)); // stale at the very end
    expect(checkLinearizable(h).ok).toBe(false);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('set: every acknowledged add on every member', () => {
  const h = [op(0, 'add', 's', '1', 0, 1), op(0, 'add', 's', '2', 2, 3), op(1, 'add', 's', '3', 2, 3, 'info'), op(1, 'add', 's', '4', 4, 5, 'fail')];

  test('nothing lost: unknown and failed adds may be there or not', () => {
    expect(checkSet(h, { m0: ['1', '2', '3'], m1: ['1', '2', '4'] })).toEqual({ acknowledged: 2, unknown: 1, lost: { m0: [], m1: [] }, lostAnywhere: [] });
  });

  test('KNOWN BAD: an acknowledged add missing on one member', () => {
    expect(checkSet(h, { m0: ['1', '2'], m1: ['1'] })).toEqual({ acknowledged: 2, unknown: 1, lost: { m0: [], m1: ['2'] }, lostAnywhere: ['2'] });
  });
});

describe('single primary: at no sampled moment two members accept writes', () => {
  test('one writable member per round: fine', () => {
    const s = [
      { round: 1, member: 'a', writable: true }, { round: 1, member: 'b', writable: false },
      { round: 2, member: 'a', writable: false }, { round: 2, member: 'b', writable: true },
    ];
    expect(checkSinglePrimary(s)).toEqual({ rounds: 2, violations: [] });
  });

  test('KNOWN BAD: two writable members in one round', () => {
    const s = [{ round: 1, member: 'a', writable: true }, { round: 1, member: 'b', writable: true }, { round: 2, member: 'a', writable: true }];
    expect(checkSinglePrimary(s)).toEqual({ rounds: 2, violations: [{ round: 1, groups: ['a', 'b'] }] });
  });

  test('two writable answers one after the other (the first answered before the second was asked) are a handover; overlapping ones are two writers', () => {
    const handover = [{ round: 1, member: 'a', writable: true, asked: 0, answered: 10 }, { round: 1, member: 'b', writable: true, asked: 11, answered: 20 }];
    expect(checkSinglePrimary(handover).violations).toEqual([]);
    const overlapping = [{ round: 1, member: 'a', writable: true, asked: 0, answered: 12 }, { round: 1, member: 'b', writable: true, asked: 11, answered: 20 }];
    expect(checkSinglePrimary(overlapping).violations).toEqual([{ round: 1, groups: ['a', 'b'] }]);
  });

  test('a leader of a superseded epoch beside a newer one of its lineage is not a second writer; two of one epoch, or of two lineages, are', () => {
    const deposed = [{ round: 1, member: 'a', writable: true, epoch: 3, lineage: 'x' }, { round: 1, member: 'b', writable: true, epoch: 4, lineage: 'x' }];
    expect(checkSinglePrimary(deposed).violations).toEqual([]);
    const same = [{ round: 1, member: 'a', writable: true, epoch: 4, lineage: 'x' }, { round: 1, member: 'b', writable: true, epoch: 4, lineage: 'x' }];
    expect(checkSinglePrimary(same).violations).toEqual([{ round: 1, groups: ['a', 'b'] }]);
    const twoLineages = [{ round: 1, member: 'a', writable: true, epoch: 1, lineage: 'y' }, { round: 1, member: 'b', writable: true, epoch: 4, lineage: 'x' }];
    expect(checkSinglePrimary(twoLineages).violations).toEqual([{ round: 1, groups: ['a', 'b'] }]);
    const unknown = [{ round: 1, member: 'a', writable: true }, { round: 1, member: 'b', writable: true, epoch: 4, lineage: 'x' }];
    expect(checkSinglePrimary(unknown).violations).toEqual([{ round: 1, groups: ['a', 'b'] }]);
  });

  test('members of one group (a primary component) may all accept writes; two groups may not', () => {
    const one = [{ round: 1, member: 'a', writable: true, group: 'g' }, { round: 1, member: 'b', writable: true, group: 'g' }];
    expect(checkSinglePrimary(one).violations).toEqual([]);
    const two = [...one, { round: 1, member: 'c', writable: true, group: 'c' }];
    expect(checkSinglePrimary(two).violations).toEqual([{ round: 1, groups: ['c', 'g'] }]);
  });
});

test('summarize counts operations by kind and outcome, and quotes what the client said for the first of each that did not succeed', () => {
  expect(summarize([op(0, 'add', 's', '1', 0, 1), op(0, 'add', 's', '2', 0, 1, 'info'), op(0, 'read', 'a', '1', 0, 1)]))
    .toBe('add info: 1, add ok: 1, read ok: 1 (add info: (no output))');
});

describe('the workload\'s records (the client pod\'s files) become a history', () => {
  const redis = redisWorkload();
  const text = [
    'I\t0\t1000000000\tadd\ts\tr1-0-1', 'D\t0\t1002000000\t0\tOK',
    'I\t1\t1001000000\twrite\tr1-k1\tr1-1-1', 'D\t1\t1003000000\t0\tREADONLY You can\'t write against a read only replica.',
    'I\t0\t1004000000\tread\tr1-k1\t', 'D\t0\t1005000000\t0\tr1-1-0',
    'I\t1\t1004000000\tadd\ts\tr1-1-2', 'D\t1\t1009000000\t124\t',
    'I\t0\t1006000000\tread\tr1-k1\t', 'D\t0\t1007000000\t0\t',
    'I\t1\t1010000000\tadd\ts\tr1-1-3', 'D\t1\t1011000000\t1\tCould not connect to Redis at x:6379: Connection refused',
    'I\t0\t1012000000\twrite\tr1-k2\tr1-0-5', // never completed
    'S\t1\tredis-0\t1013000000\t1014000000\trole:master', 'S\t1\tredis-1\t1013000000\t1015000000\trole:slave',
    'S\t2\tredis-0\t1016000000\t1017000000\t', 'S\t2\tredis-1\t1016000000\t1016500000\trole:master',
  ].join('\n');
  const { history, samples } = parseRecords(text, redis);

  test('outcomes: OK acknowledged, an error reply or a refused connection failed, a timeout or no completion unknown', () => {
    expect(history.map((o) => [o.process, o.kind, o.key, o.value ?? null, o.outcome])).toEqual([
      [0, 'add', 's', 'r1-0-1', 'ok'],
      [1, 'write', 'r1-k1', 'r1-1-1', 'fail'],
      [0, 'read', 'r1-k1', 'r1-1-0', 'ok'],
      [1, 'add', 's', 'r1-1-2', 'info'],
      [0, 'read', 'r1-k1', null, 'ok'],
      [1, 'add', 's', 'r1-1-3', 'fail'],
      [0, 'write', 'r1-k2', 'r1-0-5', 'info'],
    ]);
    expect(history[0]).toMatchObject({ invoke: 1000, complete: 1002 });
    expect(history[6].complete).toBeUndefined();
  });

  test('role samples: a Redis master accepts writes', () => {
    expect(samples).toEqual([
      { round: 1, member: 'redis-0', asked: 1013, answered: 1014, writable: true }, { round: 1, member: 'redis-1', asked: 1013, answered: 1015, writable: false },
      { round: 2, member: 'redis-0', asked: 1016, answered: 1017, writable: false }, { round: 2, member: 'redis-1', asked: 1016, answered: 1016.5, writable: true },
    ]);
  });

  test('Galera: members of a majority primary component share a group; a minority primary is a group of its own', () => {
    const galera = mysqlProtocolWorkload({ client: 'mariadb', galeraMembers: 3 });
    expect(galera.writer('wsrep_cluster_size 2 wsrep_cluster_status Primary wsrep_ready ON', 'g-0')).toEqual({ writable: true, group: 'primary component' });
    expect(galera.writer('wsrep_cluster_size 1 wsrep_cluster_status Primary wsrep_ready ON', 'g-2')).toEqual({ writable: true, group: 'g-2' });
    expect(galera.writer('wsrep_cluster_size 1 wsrep_cluster_status non-Primary wsrep_ready OFF', 'g-2').writable).toBe(false);
    expect(galera.outcome('add', 1, 'ERROR 1047 (08S01) at line 1: WSREP has not yet prepared node for application use')).toBe('fail');
    expect(galera.outcome('add', 1, 'ERROR 2013 (HY000): Lost connection to server during query')).toBe('info');
    expect(postgresWorkload().outcome('write', 2, 'psql: error: connection to server ... failed: Connection refused')).toBe('fail');
    expect(postgresWorkload().outcome('write', 2, 'server closed the connection unexpectedly')).toBe('info');
  });
});

test('the workload program runs its clients and sampler, records every operation and stops on the stop file (a stand-in register in files)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workload-'));
  // a stand-in database: each register a file, replaced atomically (mv), the set a directory
  const files: WorkloadEngine = {
    functions: `
op_add() { [ "$pw" = secret ] && touch "$D/set.$1" && echo OK; }
op_write() { printf '%s\\n' "$2" >"$D/tmp.$1.$$" && mv "$D/tmp.$1.$$" "$D/reg.$1" && echo OK; }
op_read() { cat "$D/reg.$1" 2>/dev/null || true; }
role() { [ "$1" = host-0 ] && echo primary || echo replica; }
elements() { ls "$D" | sed -n "s/^set\\.//p" | grep "^$2"; }
`,
    outcome: (_kind, rc, out) => (rc === 0 && (out.trim() === 'OK' || _kind === 'read') ? 'ok' : 'fail'),
    writer: (raw) => ({ writable: raw.trim() === 'primary' }),
  };
  const o = { ns: 'unit', service: 'svc', members: { m0: 'host-0', m1: 'host-1' }, secret: 'secret', clients: 3 };
  const child = spawn('sh', ['-c', `read -r pw; ${workloadScript(files, o, 'r7', path.join(dir, 'w'))}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end('secret\n');
  await new Promise((r) => setTimeout(r, 2500));
  fs.writeFileSync(path.join(dir, 'w', 'stop'), '');
  await new Promise((r) => child.on('close', r));
  const text = fs.readdirSync(path.join(dir, 'w')).filter((f) => /^(h\.\d|s)$/.test(f)).map((f) => fs.readFileSync(path.join(dir, 'w', f), 'utf8')).join('');
  const { history, samples } = parseRecords(text, files);
  const held = fs.readdirSync(path.join(dir, 'w')).flatMap((f) => (f.startsWith('set.') ? [f.slice(4)] : []));
  fs.rmSync(dir, { recursive: true, force: true });
  expect(new Set(history.map((op) => op.process))).toEqual(new Set([0, 1, 2]));
  expect(new Set(history.map((op) => op.kind))).toEqual(new Set(['add', 'write', 'read']));
  expect(history.every((op) => op.outcome === 'ok' && op.complete !== undefined && op.complete >= op.invoke)).toBe(true);
  expect(history.filter((op) => op.kind === 'read' && op.value !== undefined).length).toBeGreaterThan(0);
  expect(checkSet(history, { m0: held }).lostAnywhere).toEqual([]);
  expect(checkLinearizable(history).ok).toBe(true);
  expect(checkSinglePrimary(samples).violations).toEqual([]);
  expect(samples.filter((s) => s.member === 'm0').every((s) => s.writable)).toBe(true);
  // a register that loses a write is caught: drop the last acknowledged write's effect
  const lastWrite = [...history].reverse().find((op) => op.kind === 'write')!;
  const stale = { process: 9, kind: 'read' as const, key: lastWrite.key, value: 'r7-9-9', invoke: lastWrite.complete! + 1e6, complete: lastWrite.complete! + 1e6 + 1, outcome: 'ok' as const };
  expect(checkLinearizable([...history, stale]).ok).toBe(false);
}, 20_000);
