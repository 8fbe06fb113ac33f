// The fault scenarios every replicated preset runs (crash, pause, partition of the member that
// takes the writes, with writes in flight and the history checked afterwards), as jest tests. An
// engine file calls `faultScenarios` once after its set is up (setUpPreset). MySQL: call it with
// `mysqlProtocolWorkload({ client: 'mysql' })` (workloads.ts) -- the hook for the MySQL file.
import { crash, partitionFor, pause } from './faults';
import { minutes, podHost, serviceHost, waitForReady } from './helpers';
import { CheckedHistory, MIN_ACKNOWLEDGED, withWorkload, WorkloadEngine, WorkloadOptions } from './workload';

export interface FaultSuite {
  readonly ns: string;
  /** The StatefulSet (3 members) and its client Service. */
  readonly name: string;
  readonly workload: WorkloadEngine;
  /** The password the workload's functions get as $pw. */
  readonly secret: string;
  /**
   * The ordinal of the member that takes the writes (the primary; any member for Galera), or a
   * function that finds it when the fault strikes (ZooKeeper's leader is elected).
   */
  readonly target: number | (() => Promise<number>);
  /** Asserts the set is whole again (replicas streaming, cluster size...), after the fault. */
  readonly healthy: () => Promise<void>;
  readonly readyWithin?: number;
  /**
   * Set when reads through the client Service are known not to be linearizable (the engine's file
   * has a test.failing that shows it deterministically, or the engine promises less: ZooKeeper's
   * members answer reads from their own state, sequentially consistent): the scenarios then assert every other
   * property and print the linearizability result without asserting it, so a stale read that may
   * or may not happen in a given run makes no test flaky.
   */
  readonly readsNotLinearizable?: boolean;
  /**
   * Fewer acknowledged writes a scenario must see than the default 6, for a slow client (ZooKeeper's
   * zkCli starts a JVM for every operation: about 5 writes in a scenario).
   */
  readonly minAcknowledged?: number;
  /** A scenario known to fail: its name -> what happens and why (recorded as test.failing). */
  readonly knownFailures?: { readonly [scenario in 'crash' | 'pause' | 'partition']?: string };
}

/** The workload's options for a 3-member set NAME in NS. */
export function workloadOptions(ns: string, name: string, secret: string): WorkloadOptions {
  const members = Object.fromEntries([0, 1, 2].map((i) => [`${name}-${i}`, podHost(ns, name, i)]));
  return { ns, service: serviceHost(ns, name), members, secret };
}

/** The history is clean: writes were acknowledged, none lost, registers linearizable, one writer at a time. */
export function expectClean(r: CheckedHistory, opts: { readsNotLinearizable?: boolean; minAcknowledged?: number } = {}): void {
  const linearizable = opts.readsNotLinearizable ? true : r.notLinearizable ?? true;
  expect({ lost: r.lost, linearizable, twoWriters: r.twoWriters }).toEqual({ lost: [], linearizable: true, twoWriters: [] });
  expect(r.acknowledged).toBeGreaterThanOrEqual(opts.minAcknowledged ?? MIN_ACKNOWLEDGED);
  expect(r.rounds).toBeGreaterThan(3);
}

/** Pause and partition last this long: longer than a client's 5 s timeout, shorter than any liveness budget. */
export const FAULT_SECONDS = 8;

export function faultScenarios(s: FaultSuite): void {
  const named = typeof s.target === 'number' ? `${s.name}-${s.target}` : `the leader of ${s.name}`;
  const ordinal = async () => (typeof s.target === 'number' ? s.target : s.target());
  const target = async () => `${s.name}-${await ordinal()}`;
  const peers = async () => {
    const t = await ordinal();
    return [0, 1, 2].filter((i) => i !== t).map((i) => `${s.name}-${i}`);
  };
  const o = () => workloadOptions(s.ns, s.name, s.secret);
  const scenario = (key: 'crash' | 'pause' | 'partition', title: string, fault: () => Promise<void>) => {
    const body = async () => {
      const r = await withWorkload(s.workload, o(), fault, { minAcknowledged: s.minAcknowledged });
      await waitForReady(s.ns, s.name, 3, s.readyWithin ?? minutes(6));
      await s.healthy();
      expectClean(r, s);
    };
    const known = s.knownFailures?.[key];
    if (known) test.failing(`KNOWN FAILURE: ${known}`, body, minutes(12));
    else test(title, body, minutes(12));
  };
  scenario('crash', `crash ${named} (SIGKILL from the host) with writes in flight: no acknowledged write lost, reads linearizable, one writer at a time`,
    async () => {
      await crash(s.ns, await target());
      await waitForReady(s.ns, s.name, 3, s.readyWithin ?? minutes(6));
    });
  scenario('pause', `pause ${named} (SIGSTOP ${FAULT_SECONDS} s, SIGCONT) with writes in flight: no acknowledged write lost, reads linearizable, one writer at a time`,
    async () => pause(s.ns, await target(), FAULT_SECONDS));
  scenario('partition', `partition ${named} from its peers and the API server for ${FAULT_SECONDS} s with writes in flight: no acknowledged write lost, reads linearizable, one writer at a time`,
    async () => {
      await partitionFor(s.ns, await target(), { peers: await peers(), apiServer: true }, FAULT_SECONDS);
      await waitForReady(s.ns, s.name, 3, s.readyWithin ?? minutes(6));
    });
}
