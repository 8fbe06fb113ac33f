// Operation histories of the real-node suite's fault scenarios, and the checkers run on them once
// the fault has healed (Jepsen-style). Pure functions, no cluster: unit-tested in
// test/e2e-history.test.ts (`npm test`) against known-good and known-bad histories.
//
// A workload records every operation it invokes, and how it ended:
//   ok    the database acknowledged it;
//   fail  it certainly did not happen (the connection was refused, the server said no);
//   info  unknown: it timed out or the connection broke after the request was sent, so it may or
//         may not have happened.
// Checkers:
//   checkSet           every acknowledged `add` is present on every member;
//   checkLinearizable  the single-key reads and writes are linearizable (registers, one per key);
//   checkSinglePrimary at no sampled moment do two members (or groups) accept writes (answers
//                      whose ask-to-answer spans overlap).

export type Outcome = 'ok' | 'fail' | 'info';

/** One operation: `add` puts an element in the set; `write` and `read` work on register KEY. */
export interface Op {
  /** The client (worker) that ran it; a client runs one operation at a time. */
  readonly process: number;
  readonly kind: 'add' | 'write' | 'read';
  readonly key: string;
  /** add: the element; write: the value written; read: the value read (undefined = none). */
  readonly value?: string;
  /** When it was invoked and when it completed, in ms (any common origin). */
  readonly invoke: number;
  /** Undefined when it never completed (the client was stopped): counted as `info`. */
  readonly complete?: number;
  readonly outcome: Outcome;
  /** What the client printed, for a failure message. */
  readonly detail?: string;
}

/** Counts of a history's operations, by kind and outcome (for reports and the docs). */
export function summarize(history: readonly Op[]): string {
  const counts = new Map<string, number>();
  for (const op of history) counts.set(`${op.kind} ${op.outcome}`, (counts.get(`${op.kind} ${op.outcome}`) ?? 0) + 1);
  const summary = [...counts.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
  // what the client said when an operation did not succeed: the first of each kind and outcome
  const seen = new Set<string>();
  const said = history.filter((op) => op.outcome !== 'ok' && !seen.has(`${op.kind} ${op.outcome}`) && seen.add(`${op.kind} ${op.outcome}`))
    .map((op) => `${op.kind} ${op.outcome}: ${(op.detail ?? '').trim().slice(0, 160) || '(no output)'}`);
  return said.length ? `${summary} (${said.join('; ')})` : summary;
}

export interface SetResult {
  /** Acknowledged adds. */
  readonly acknowledged: number;
  /** Adds whose outcome is unknown (present or not, both are right). */
  readonly unknown: number;
  /** Per member, the acknowledged elements it lacks (empty lists when nothing was lost). */
  readonly lost: { readonly [member: string]: string[] };
  /** Acknowledged elements missing from at least one member. */
  readonly lostAnywhere: string[];
}

/**
 * The set checker: every acknowledged `add` must be in each member's final contents (MEMBERS maps
 * a member's name to the elements it holds, read after the fault healed).
 */
/**
 * The longest time the clients went without an acknowledged write (an add or a register write):
 * from one acknowledgement to the next, in ms. Around a failover it is the failover time as the
 * clients see it: the last write the old primary acknowledged to the first the new one did.
 */
export function longestWriteGap(history: readonly Op[]): number {
  const acks = history.filter((op) => op.kind !== 'read' && op.outcome === 'ok' && op.complete !== undefined)
    .map((op) => op.complete as number).sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < acks.length; i++) longest = Math.max(longest, acks[i] - acks[i - 1]);
  return longest;
}

export function checkSet(history: readonly Op[], members: { readonly [member: string]: Iterable<string> }): SetResult {
  const adds = history.filter((op) => op.kind === 'add');
  const acked = adds.filter((op) => op.outcome === 'ok').map((op) => op.value as string);
  const lost: { [member: string]: string[] } = {};
  const anywhere = new Set<string>();
  for (const [member, contents] of Object.entries(members)) {
    const held = new Set(contents);
    lost[member] = acked.filter((e) => !held.has(e));
    lost[member].forEach((e) => anywhere.add(e));
  }
  return { acknowledged: acked.length, unknown: adds.filter((op) => op.outcome === 'info').length, lost, lostAnywhere: [...anywhere].sort() };
}

export interface LinearizabilityResult {
  readonly ok: boolean;
  /** Per key, the number of operations checked. */
  readonly checked: { readonly [key: string]: number };
  /** The first key found not linearizable, with its operations, when `ok` is false. */
  readonly key?: string;
  readonly ops?: readonly Op[];
}

/**
 * The linearizability checker for registers (one per key; a read of a key never written reads
 * undefined). Failed operations are dropped (they did not happen), as are reads of unknown
 * outcome (they tell nothing); a write of unknown outcome may take effect at any time after its
 * invocation, or never. Each key is checked on its own (registers compose: P-compositionality),
 * with the Wing & Gong search as Lowe improved it (a cache of the linearized sets already seen
 * with the same register value), which is what Porcupine does.
 */
export function checkLinearizable(history: readonly Op[]): LinearizabilityResult {
  const byKey = new Map<string, Op[]>();
  for (const op of history) {
    if (op.kind === 'add' || op.outcome === 'fail') continue;
    if (op.kind === 'read' && op.outcome !== 'ok') continue;
    byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  }
  const checked: { [key: string]: number } = {};
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key) as Op[];
    checked[key] = ops.length;
    if (!linearizableRegister(ops)) return { ok: false, checked, key, ops };
  }
  return { ok: true, checked };
}

interface Entry {
  readonly call: boolean;
  readonly id: number;
  readonly time: number;
  match?: Entry;
  prev?: Entry;
  next?: Entry;
}

/** Events in time order, calls before returns at the same instant (they count as concurrent). */
function eventList(ops: readonly Op[]): Entry {
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    const complete = op.outcome === 'ok' && op.complete !== undefined ? op.complete : Infinity;
    const call: Entry = { call: true, id, time: op.invoke };
    const ret: Entry = { call: false, id, time: complete };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? a.id - b.id : a.call ? -1 : 1));
  const head: Entry = { call: false, id: -1, time: -Infinity };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** One register's operations (no failed ones, no unknown reads): is there a linearization? */
function linearizableRegister(ops: readonly Op[]): boolean {
  const head = eventList(ops);
  const linearized = new Array<boolean>(ops.length).fill(false);
  const seen = new Set<string>();
  const stack: { entry: Entry; state: string | undefined }[] = [];
  let state: string | undefined = undefined;
  let entry = head.next;
  while (head.next) {
    if (!entry) return false; // cannot happen: a return event always ends the list
    if (entry.call) {
      const op = ops[entry.id];
      const legal = op.kind === 'write' || op.value === state;
      if (legal) {
        const next: string | undefined = op.kind === 'write' ? op.value : state;
        linearized[entry.id] = true;
        const key = `${linearized.map((b) => (b ? '1' : '0')).join('')}|${next ?? '\u0000'}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.id] = false;
      }
      entry = entry.next;
    } else {
      // an operation returned before it could be linearized: undo the last choice
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      linearized[top.entry.id] = false;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return true;
}

/** One sample of one member's role: does it accept writes, and in which group (see below)? */
export interface RoleSample {
  /** Samples taken in the same round (all members asked at once) share it. */
  readonly round: number;
  readonly member: string;
  /** When the member was asked and when it answered, in ms: its answer holds for some moment between. */
  readonly asked?: number;
  readonly answered?: number;
  readonly writable: boolean;
  /**
   * Members that accept writes together (a Galera primary component) share a group; by default
   * each writable member is its own group, so two of them make two primaries.
   */
  readonly group?: string;
  /**
   * The epoch a writable member leads in, where a consensus protocol numbers its leaders or views
   * (ZooKeeper's: the high 32 bits of the zxid; Group Replication's: the view's counter), and the
   * LINEAGE the numbers belong to (the ensemble's config version; the group's view id prefix). A
   * writable member whose epoch is below that of another writable member of the same lineage, in
   * the same round, is superseded: a quorum installed the newer epoch without it, so it can commit
   * nothing, and it is not counted as a writer (it steps down once it notices). Members of different
   * lineages (a second ensemble or group formed beside the first) are never compared: two of
   * those are two writers.
   */
  readonly epoch?: number;
  readonly lineage?: string;
}

/** The writable samples of one round that no newer epoch of their lineage supersedes. */
function currentWriters(all: readonly RoleSample[]): RoleSample[] {
  const writers = all.filter((s) => s.writable);
  return writers.filter((s) => s.epoch === undefined || s.lineage === undefined ||
    !writers.some((o) => o.lineage === s.lineage && o.epoch !== undefined && o.epoch > (s.epoch as number)));
}

/** Whether the answers of A and B may hold at one moment: their ask-to-answer spans overlap (or a span is unknown). */
function mayCoincide(a: RoleSample, b: RoleSample): boolean {
  if (a.asked === undefined || a.answered === undefined || b.asked === undefined || b.answered === undefined) return true;
  return a.asked <= b.answered && b.asked <= a.answered;
}

/**
 * Rounds in which more than one group accepted writes at what may be one moment, with the groups.
 * Two writable answers whose spans do not overlap (one member answered before the other was
 * asked) are a handover between them, not two writers; nor is a leader of a superseded epoch (see
 * RoleSample.epoch) beside the newer one.
 */
export function checkSinglePrimary(samples: readonly RoleSample[]): { readonly rounds: number; readonly violations: { round: number; groups: string[] }[] } {
  const rounds = new Map<number, RoleSample[]>();
  for (const s of samples) rounds.set(s.round, [...(rounds.get(s.round) ?? []), s]);
  const violations: { round: number; groups: string[] }[] = [];
  for (const [round, all] of rounds) {
    const writers = currentWriters(all);
    const groups = new Set<string>();
    writers.forEach((a, i) => writers.slice(i + 1).forEach((b) => {
      const [ga, gb] = [a.group ?? a.member, b.group ?? b.member];
      if (ga !== gb && mayCoincide(a, b)) [ga, gb].forEach((g) => groups.add(g));
    }));
    if (groups.size > 1) violations.push({ round, groups: [...groups].sort() });
  }
  return { rounds: rounds.size, violations };
}
