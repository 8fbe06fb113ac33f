// The pods' role label as the real-node files of elected-primary sets read it (Patroni, MySQL
// Group Replication: the engine labels each pod primary or replica, the Services follow), and the
// failover check they share: a clean history within the failover budget, and the scenarios that
// strike their primary the same way (kept down as it restarts; its node lost).
import { expectClean } from './fault-scenarios';
import { containerPid, nodeLoss, slowStart } from './faults';
import { kubectl, minutes, sleep, waitFor, waitForReady } from './helpers';
import { CheckedHistory, withWorkload, WorkloadEngine, WorkloadOptions } from './workload';

/** The label key the presets set. */
export const ROLE = 'cdk8s-stateful.dev/role';

/** The role label of set NAME in NS: every member's, the one primary, a new primary. */
export function roleLabels(ns: string, name: string) {
  /** The members by the role label on their pods. */
  const roles = async (): Promise<{ [pod: string]: string }> => {
    const pods = JSON.parse(await kubectl(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${name}`, '-o', 'json']));
    return Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, p.metadata.labels?.[ROLE] ?? '']));
  };
  /** The one pod labelled primary (throws unless exactly one is). */
  const primary = async (): Promise<string> => {
    const labelled = Object.entries(await roles()).filter(([, r]) => r === 'primary').map(([p]) => p);
    if (labelled.length !== 1) throw new Error(`expected one pod labelled ${ROLE}=primary, got ${JSON.stringify(labelled)}`);
    return labelled[0];
  };
  /** Waits until a pod other than OLD is labelled primary. */
  const newPrimary = async (old: string, within = minutes(2)): Promise<string> => {
    let leader = old;
    await waitFor(ns, `a member other than ${old} labelled primary`, within, async () => {
      leader = await primary().catch(() => old);
      return leader !== old;
    });
    return leader;
  };
  return { roles, primary, newPrimary };
}

/** The scenario's history is clean, and the clients never went longer than BUDGET_MS without an acknowledged write. */
export function expectCleanFailover(r: CheckedHistory, what: string, budgetMs: number): void {
  process.stdout.write(`failover ${what}: longest time without an acknowledged write ${(r.longestWriteGapMs / 1000).toFixed(1)} s\n`);
  expectClean(r);
  expect(r.longestWriteGapMs).toBeLessThanOrEqual(budgetMs);
}

/** A set whose engine elects its primary, as the failover scenarios below strike it. */
export interface ElectedSet {
  readonly ns: string;
  readonly name: string;
  /** The workload's engine and options (history recorded through the client Service). */
  readonly workload: () => WorkloadEngine;
  readonly options: () => WorkloadOptions;
  /** Waits until the set is whole (three members, one primary, labels and Services on them); returns the primary. */
  readonly healthy: () => Promise<string>;
}

/** What a primary scenario saw: the history, the primary struck and the one elected after it. */
export interface PrimaryStruck {
  readonly r: CheckedHistory;
  readonly old: string;
  readonly promoted: string;
}

/**
 * STRIKE hits the primary with writes in flight, then the set must elect another, be whole again
 * with it as primary, and the old primary must be back labelled replica.
 */
async function strikePrimary(set: ElectedSet, strike: (old: string, newPrimary: () => Promise<string>) => Promise<void>, readyWithin: number): Promise<PrimaryStruck> {
  const { roles, newPrimary } = roleLabels(set.ns, set.name);
  const old = await set.healthy();
  let promoted = '';
  const r = await withWorkload(set.workload(), set.options(), async () => {
    await strike(old, async () => (promoted = await newPrimary(old)));
    await waitForReady(set.ns, set.name, 3, readyWithin);
  }, { settleMs: 10_000 });
  expect(promoted).not.toBe(old);
  expect(await set.healthy()).toBe(promoted);
  expect((await roles())[old]).toBe('replica');
  return { r, old, promoted };
}

/** The primary crashed (SIGKILL from the host) and held stopped AWAY_SECONDS as it restarts (a member slow to start). */
export function primaryKeptDown(set: ElectedSet, awaySeconds: number): Promise<PrimaryStruck> {
  return strikePrimary(set, async (old, elected) => {
    const held = slowStart(set.ns, old, awaySeconds);
    await sleep(300);
    process.kill(await containerPid(set.ns, old), 'SIGKILL');
    await elected();
    await held;
  }, minutes(6));
}

/** The primary's node lost: its pod and volume gone for AWAY_SECONDS; it comes back empty. */
export function primaryNodeLost(set: ElectedSet, awaySeconds: number): Promise<PrimaryStruck> {
  return strikePrimary(set, async (old, elected) => {
    const lost = nodeLoss(set.ns, old, `data-${old}`, awaySeconds);
    await elected();
    await lost;
  }, minutes(8));
}
