// A Jepsen-style workload for the real-node suite's fault scenarios: clients in the client pod
// (helpers.ts createClientPod) add elements to a set and write and read single-key registers
// through the engine's client Service, and a sampler asks every member for its role once a round,
// while a fault (faults.ts) strikes. Every operation is recorded with its invocation and
// completion times (the pod's clock, the host's), in files inside the client pod, so nothing is
// lost when a kubectl exec stream breaks. After the fault heals, `checkHistory` runs the checkers
// of history.ts: every acknowledged add on every member, linearizable registers, never two
// writers at once.
import { spawn } from 'child_process';
import { CLIENT, exec, minutes, sleep, waitFor } from './helpers';
import { checkLinearizable, checkSet, checkSinglePrimary, longestWriteGap, Op, Outcome, RoleSample, summarize } from './history';

/** How one engine runs the workload's operations; the sh functions run in the client pod. */
export interface WorkloadEngine {
  /**
   * sh function definitions, with the password in $pw and the client Service's host in $SVC:
   * `op_add ELEMENT`, `op_write KEY VALUE`, `op_read KEY` (prints the value, or nothing when the
   * key has none), `role HOST` (prints what `writer` reads), `elements HOST PREFIX` (the set's
   * elements starting with PREFIX, one a line), each bounded by a timeout.
   */
  readonly functions: string;
  /** Run once before the workload (tables, for example), with $pw and $SVC. */
  readonly setup?: string;
  /**
   * The outcome of a completed operation from the client's exit code and output: `fail` only
   * when it certainly did not happen (refused before it was sent, or rejected).
   */
  readonly outcome: (kind: Op['kind'], rc: number, out: string) => Outcome;
  /** Does a member whose `role` printed RAW accept writes, and in which group? */
  readonly writer: (raw: string, member: string) => { writable: boolean; group?: string; epoch?: number; lineage?: string };
}

/** Values look like this (never empty), so a read can tell a value from an error message. */
const VALUE = /^r\d+-\d+-\d+$/;

export interface WorkloadOptions {
  readonly ns: string;
  /** The client Service's host. */
  readonly service: string;
  /** The members' pod DNS names, by member name (the sampler asks each for its role). */
  readonly members: { readonly [member: string]: string };
  readonly secret: string;
  readonly clients?: number;
  readonly keys?: number;
}

let runs = 0;

/** A running workload: `stop()` ends it and returns its history and role samples. */
export interface Workload {
  readonly run: string;
  /** The adds acknowledged so far (the record files read while the clients go on). */
  acknowledged(): Promise<number>;
  stop(): Promise<{ history: Op[]; samples: RoleSample[] }>;
}

/** The sh program the client pod runs: CLIENTS clients and the role sampler, records in DIR. */
export function workloadScript(engine: WorkloadEngine, o: WorkloadOptions, run: string, dir: string): string {
  const clients = o.clients ?? 2;
  const keys = o.keys ?? 3;
  const members = Object.entries(o.members).map(([m, host]) => `${m}=${host}`).join(' ');
  return `
set -u
SVC='${o.service}'; D='${dir}'; RUN='${run}'
rm -rf "$D"; mkdir -p "$D"
${engine.functions}
${engine.setup ?? ''}
line() { printf '%s' "$1" | tr '\\t\\n\\r' '   ' | cut -c1-300; }
client() {
  w=$1; i=0
  while [ ! -e "$D/stop" ]; do
    i=$((i + 1)); n=$(( (i * 7 + w * 3) % 10 )); key="$RUN-k$(( (i + w) % ${keys} ))"; val="$RUN-$w-$i"
    if [ $n -lt 3 ]; then kind=add; key=s; elif [ $n -lt 6 ]; then kind=write; else kind=read; val=; fi
    printf 'I\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$w" "$(date +%s%N)" "$kind" "$key" "$val" >>"$D/h.$w"
    case $kind in add) out=$(op_add "$RUN-$w-$i" 2>&1) ;; write) out=$(op_write "$key" "$val" 2>&1) ;; read) out=$(op_read "$key" 2>&1) ;; esac
    rc=$?
    printf 'D\\t%s\\t%s\\t%s\\t%s\\n' "$w" "$(date +%s%N)" "$rc" "$(line "$out")" >>"$D/h.$w"
    sleep 0.1
  done
}
sampler() {
  r=0
  while [ ! -e "$D/stop" ]; do
    r=$((r + 1))
    for mh in ${members}; do
      (
        s=$(date +%s%N); out=$(role "\${mh#*=}" 2>&1)
        printf 'S\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$r" "\${mh%%=*}" "$s" "$(date +%s%N)" "$(line "$out")" >"$D/s.$r.\${mh%%=*}"
      ) &
    done
    wait
    cat "$D"/s."$r".* >>"$D/s"; rm -f "$D"/s."$r".*
    sleep 1
  done
}
${Array.from({ length: clients }, (_, w) => `client ${w} &`).join('\n')}
sampler &
echo started
wait
`;
}

/** Starts the workload's clients and sampler in the client pod of NS; resolves once they run. */
export async function startWorkload(engine: WorkloadEngine, o: WorkloadOptions): Promise<Workload> {
  const run = `r${Date.now() % 1e7}${++runs}`;
  const dir = `/tmp/workload-${run}`;
  const kubectlBin = process.env.KUBECTL ?? 'kubectl';
  // attached: the password goes in on stdin, never on a command line or into a file
  const child = spawn(kubectlBin, ['-n', o.ns, 'exec', '-i', CLIENT, '-c', CLIENT, '--', 'sh', '-c', `read -r pw; ${workloadScript(engine, o, run, dir)}`],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdin.end(`${o.secret}\n`);
  const deadline = Date.now() + 60_000;
  while (!output.includes('started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the workload did not start in the client pod:\n${output}`);
    await sleep(200);
  }
  const records = async () => parseRecords(await exec(o.ns, CLIENT, CLIENT, `cat ${dir}/h.* ${dir}/s 2>/dev/null; true`, undefined, 60_000), engine);
  return {
    run,
    acknowledged: async () => acknowledgedAdds((await records()).history),
    stop: async () => {
      await exec(o.ns, CLIENT, CLIENT, `touch ${dir}/stop`);
      await Promise.race([exited, sleep(30_000)]);
      child.kill('SIGTERM');
      return records();
    },
  };
}

/** Parses the client pod's record files (I/D lines per client, S lines of the sampler). */
export function parseRecords(text: string, engine: WorkloadEngine): { history: Op[]; samples: RoleSample[] } {
  const history: Op[] = [];
  const samples: RoleSample[] = [];
  const open = new Map<string, { kind: Op['kind']; key: string; value: string; invoke: number }>();
  const ms = (ns: string) => Number(BigInt(ns) / 1000n) / 1000;
  const close = (w: string, complete?: number, rc?: number, out = '') => {
    const inv = open.get(w);
    if (!inv) return;
    open.delete(w);
    const outcome: Outcome = rc === undefined ? 'info' : engine.outcome(inv.kind, rc, out);
    let value: string | undefined = inv.kind === 'read' ? undefined : inv.value;
    let final = outcome;
    if (inv.kind === 'read' && outcome === 'ok') {
      const v = out.trim();
      if (v === '' || VALUE.test(v)) value = v || undefined;
      else final = 'info'; // not a value: the output is an error the engine did not classify
    }
    history.push({ process: Number(w), kind: inv.kind, key: inv.key, value, invoke: inv.invoke, complete, outcome: final, detail: out.slice(0, 200) });
  };
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'I') {
      close(f[1]); // a previous invocation with no completion line
      open.set(f[1], { kind: f[3] as Op['kind'], key: f[4], value: f[5] ?? '', invoke: ms(f[2]) });
    } else if (f[0] === 'D') {
      close(f[1], ms(f[2]), Number(f[3]), f.slice(4).join('\t'));
    } else if (f[0] === 'S') {
      samples.push({ round: Number(f[1]), member: f[2], asked: ms(f[3]), answered: ms(f[4]), ...engine.writer(f.slice(5).join('\t'), f[2]) });
    }
  }
  for (const w of [...open.keys()]) close(w);
  return { history, samples };
}

export interface CheckedHistory {
  readonly summary: string;
  /** Acknowledged adds missing from at least one member once the members converged (or gave up). */
  readonly lost: string[];
  /** Acknowledged adds, for the loss ratio. */
  readonly acknowledged: number;
  readonly linearizable: boolean;
  readonly notLinearizable?: string;
  readonly twoWriters: { round: number; groups: string[] }[];
  readonly rounds: number;
  /** The longest time without an acknowledged write, in ms (see `longestWriteGap`). */
  readonly longestWriteGapMs: number;
}

/**
 * Runs the checkers once the fault has healed: waits up to CONVERGE for every member to hold every
 * acknowledged add (replicas catching up), then reports what is still missing. Never throws on a
 * finding: the scenario asserts on the result (and says the numbers in its log).
 */
export async function checkHistory(o: WorkloadOptions, engine: WorkloadEngine, run: string, recorded: { history: Op[]; samples: RoleSample[] },
  converge = minutes(2)): Promise<CheckedHistory> {
  const contents = async () => {
    const out: { [member: string]: string[] } = {};
    for (const [member, host] of Object.entries(o.members)) {
      const text = await exec(o.ns, CLIENT, CLIENT, `read -r pw; ${engine.functions}\nelements '${host}' '${run}-'`, `${o.secret}\n`);
      out[member] = text.split('\n').map((l) => l.trim()).filter(Boolean);
    }
    return out;
  };
  let set: ReturnType<typeof checkSet> | undefined;
  await waitFor(o.ns, 'every member holds every acknowledged add', converge, async () => {
    set = checkSet(recorded.history, await contents());
    return set.lostAnywhere.length === 0;
  }).catch((err) => {
    if (!set) throw err; // no member's contents could be read: nothing was checked
  }); // else what is still missing is the finding
  const lin = checkLinearizable(recorded.history);
  const primaries = checkSinglePrimary(recorded.samples);
  const result: CheckedHistory = {
    summary: summarize(recorded.history),
    lost: set!.lostAnywhere,
    acknowledged: set!.acknowledged,
    linearizable: lin.ok,
    notLinearizable: lin.ok ? undefined : `key ${lin.key}: ${JSON.stringify(lin.ops?.map((op) => [op.process, op.kind, op.value ?? null, op.invoke, op.complete ?? null, op.outcome]))}`.slice(0, 4000),
    twoWriters: primaries.violations,
    rounds: primaries.rounds,
    longestWriteGapMs: longestWriteGap(recorded.history),
  };
  // the scenario's numbers, in the suite's output (docs/engines.md quotes them)
  process.stdout.write(`history ${o.ns} ${run}: ${result.summary}; acknowledged adds ${result.acknowledged}, lost ${result.lost.length}` +
    `${result.lost.length ? ` (${result.lost.join(' ')})` : ''}; linearizable ${result.linearizable}; role rounds ${result.rounds}, two writers in ${result.twoWriters.length}; ` +
    `longest time without an acknowledged write ${(result.longestWriteGapMs / 1000).toFixed(1)} s\n`);
  return result;
}

/**
 * The whole scenario: the workload runs for WARMUP, then FAULT strikes (and heals before it
 * resolves), then the workload runs for SETTLE more, and on until it has MIN_ACKNOWLEDGED adds
 * acknowledged in all (a slow client on a loaded node still gives the checkers enough to judge;
 * at most 3 more minutes), stops, and the checkers run.
 */
export async function withWorkload(engine: WorkloadEngine, o: WorkloadOptions, fault: () => Promise<void>,
  timing: { warmupMs?: number; settleMs?: number; convergeMs?: number; minAcknowledged?: number } = {}): Promise<CheckedHistory> {
  const workload = await startWorkload(engine, o);
  let recorded: { history: Op[]; samples: RoleSample[] } | undefined;
  try {
    await sleep(timing.warmupMs ?? 4000);
    await fault();
    await sleep(timing.settleMs ?? 5000);
    const until = Date.now() + minutes(3);
    while (Date.now() < until && (await workload.acknowledged()) < (timing.minAcknowledged ?? MIN_ACKNOWLEDGED)) await sleep(2000);
  } finally {
    recorded = await workload.stop();
  }
  return checkHistory(o, engine, workload.run, recorded, timing.convergeMs);
}

/** The acknowledged adds a scenario needs by default (`expectClean` asserts it). */
export const MIN_ACKNOWLEDGED = 6;

/** Acknowledged adds: the workload did write (a scenario with none proves nothing). */
export function acknowledgedAdds(history: readonly Op[]): number {
  return history.filter((op) => op.kind === 'add' && op.outcome === 'ok').length;
}
