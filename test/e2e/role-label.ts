// The pods' role label as the real-node files of elected-primary sets read it (Patroni, MySQL
// Group Replication: the engine labels each pod primary or replica, the Services follow), and the
// failover check they share: a clean history within the failover budget.
import { expectClean } from './fault-scenarios';
import { kubectl, minutes, waitFor } from './helpers';
import { CheckedHistory } from './workload';

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
