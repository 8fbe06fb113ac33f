// Faults of the Galera scenarios that the shared helpers (faults.ts) do not have: several members
// crashed in the same instant, and a member's connections exhausted by a client.
import { containerPid, processesOf } from './faults';
import { clientExec, kubectl, minutes, scale, waitFor } from './helpers';

async function restarts(ns: string, pod: string): Promise<number> {
  const out = await kubectl(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[?(@.name=="main")].restartCount}']);
  return Number(out.trim() || '0');
}

/** The `main` container's restart count of each of PODS. */
export async function restartCounts(ns: string, pods: string[]): Promise<number[]> {
  return Promise.all(pods.map((pod) => restarts(ns, pod)));
}

/** SIGKILL to the `main` container of every one of PODS in one loop (their PIDs read first). */
async function killTogether(ns: string, pods: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the Galera faults need root: they signal the containers from the host');
  const pids = await Promise.all(pods.map((pod) => containerPid(ns, pod)));
  for (const pid of pids) process.kill(pid, 'SIGKILL');
}

/**
 * StatefulSet NAME shrunk to REPLICAS while the members that go (GOING) are silent and CRASHED
 * crash, all in the same instant: every process of the going members' `main` containers is
 * stopped (SIGSTOP: they cannot leave the group cleanly, and cannot come back before their pods
 * are gone after the grace period), the crashed members' `main` containers get SIGKILL.
 */
export async function shrinkWhileSilent(ns: string, name: string, going: string[], crashed: string[], replicas: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the Galera faults need root: they signal the containers from the host');
  const stopped = (await Promise.all(going.map((pod) => containerPid(ns, pod)))).flatMap((pid) => processesOf(pid));
  const killed = await Promise.all(crashed.map((pod) => containerPid(ns, pod)));
  for (const pid of stopped) process.kill(pid, 'SIGSTOP');
  for (const pid of killed) process.kill(pid, 'SIGKILL');
  await scale(ns, name, replicas);
}

/**
 * SIGKILL to the `main` container of every one of PODS in the same instant (their PIDs are read
 * first, then signalled in one loop); resolves once the kubelet has seen each die.
 */
export async function crashTogether(ns: string, pods: string[]): Promise<void> {
  const before = await restartCounts(ns, pods);
  await killTogether(ns, pods);
  await waitFor(ns, `${pods.join(', ')} restarted after SIGKILL`, minutes(2),
    async () => (await restartCounts(ns, pods)).every((n, i) => n > before[i]));
}

/**
 * Holds COUNT connections of an account without privileges open on HOST for SECONDS (each runs
 * SELECT SLEEP), from the client pod, with the root password in $pw to create the account.
 * Resolves when they end, with the error one more connection got while they were open.
 */
export async function exhaustConnections(ns: string, host: string, rootPassword: string, count: number, seconds: number): Promise<string> {
  const script = `
MYSQL_PWD="$pw" mariadb -h ${host} -uroot -e "CREATE USER IF NOT EXISTS 'hog'@'%' IDENTIFIED BY 'hog-pw'"
for i in $(seq ${count}); do MYSQL_PWD=hog-pw mariadb -h ${host} -uhog -e 'SELECT SLEEP(${seconds})' >/dev/null 2>&1 & done
sleep 10
MYSQL_PWD=hog-pw mariadb -h ${host} -uhog -e 'SELECT 1' 2>&1 || true
wait`;
  return (await clientExec(ns, script, rootPassword, '', (seconds + 60) * 1000)).trim();
}
